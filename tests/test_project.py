"""Project-level promises: CI runs the README's command, the public API is documented."""

from __future__ import annotations

import ast
import inspect
import os
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


# Packages whose private modules and members tsconv must not use: their layout changes
# without notice (scipy.fft._pocketfft was replaced on SciPy's main branch).
OTHERS = frozenset({"numpy", "scipy", "pandas", "statsmodels", "dask", "distributed", "soundfile", "matplotlib"})


def _private(dotted: str) -> bool:
    """Whether a dotted name ``pkg.a.b`` of another package has a private (``_x``) part."""
    parts = dotted.split(".")
    return parts[0] in OTHERS and any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts[1:])


def private_uses(source: str) -> list[str]:
    """Every import of, or attribute access into, a private part of another package."""
    tree = ast.parse(source)
    bound: dict[str, str] = {}  # local name -> the dotted module or object it stands for
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if _private(a.name):
                    found.append(f"import {a.name}")
                if a.asname:
                    bound[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if _private(full):
                    found.append(f"from {node.module} import {a.name}")
                bound[a.asname or a.name] = full
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain = [node.attr]
            root = node.value
            while isinstance(root, ast.Attribute):
                chain.append(root.attr)
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                dotted = ".".join([bound[root.id], *reversed(chain)])
                if _private(dotted):
                    found.append(dotted)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str) and _private(node.args[0].value):
                found.append(f"{name}({node.args[0].value!r})")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from scipy.fft._pocketfft.pypocketfft import r2c",
        "from scipy.signal._sosfilt import _sosfilt as f",
        "import scipy.signal._sosfilt",
        "from scipy.signal import _sosfilt",
        "import scipy.signal\nscipy.signal._arraytools.axis_slice",
        "import numpy as np\nnp.core._multiarray_umath",
        "from pandas import core\ncore._libs",
        "import importlib\nimportlib.import_module('statsmodels.tsa._stl')",
    ],
)
def test_private_use_checker_catches(source):
    assert private_uses(source), source


def test_private_use_checker_lets_public_names_pass():
    ok = "import numpy as np\nimport scipy.fft\nnp.__version__\nscipy.fft.rfft\nx = np.ones(3)\nx._private_of_ours\n"
    assert private_uses(ok) == []


def test_tsconv_uses_no_private_module_of_another_package():
    offenders = {
        str(path.relative_to(ROOT)): uses
        for path in sorted((ROOT / "tsconv").rglob("*.py"))
        if (uses := private_uses(path.read_text(encoding="utf-8")))
    }
    assert not offenders, offenders


def repository_files() -> list[Path]:
    """The text files of the repository (venvs, caches and build output pruned)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if not (d.startswith(".venv") or d in {".git", "build", "dist", "__pycache__", "_build"})]
        found += [Path(dirpath, f) for f in filenames if Path(f).suffix in {".py", ".md", ".toml", ".txt", ".cfg", ""}]
    return found


def test_nothing_refers_to_files_outside_the_repository():
    # design notes and performance logs kept next to the repository are not shipped
    outside = re.compile(r"\b(DESIGN|PERFORMANCE)\.md\b|\.\./shared/")
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in repository_files()
        if p.name != "test_project.py"
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if outside.search(line)
    ]
    assert not hits, hits
