"""Project-level promises: CI runs the README's command, the public API is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import tsconv

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", section, flags=re.S)
    return [b.strip() for b in blocks]


def test_readme_quickstart_has_exactly_two_commands():
    cmds = quickstart_commands()
    assert len(cmds) == 2, cmds
    assert all("\n" not in c for c in cmds), "each Quickstart block is one command line"
    assert "tsconv demo" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_second_quickstart_command_verbatim():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in run.splitlines()]
    assert quickstart_commands()[1] in lines


PUBLIC = [name for name in tsconv.__all__ if not name.startswith("__")]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_has_a_docstring_with_examples(name):
    obj = getattr(tsconv, name)
    doc = inspect.getdoc(obj)
    assert doc, f"tsconv.{name} has no docstring"
    assert re.search(r"^Examples\n-{8}", doc, flags=re.M), f"tsconv.{name} has no Examples section"
    assert ">>> " in doc.split("Examples", 1)[1], f"tsconv.{name}'s Examples hold no doctest"


def test_readme_python_snippets_run():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    snippets = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert snippets
    for code in snippets:
        exec(compile(code, "README.md", "exec"), {})
