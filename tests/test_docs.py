"""The documentation builds without a warning and its API page lists every public name."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import tsconv
import tsconv.audio

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_page_lists_every_public_name():
    text = (DOCS / "api.md").read_text()
    listed = set(re.findall(r"^   (\w+)$", text, flags=re.M))
    import tsconv.dask

    missing = (set(tsconv.__all__) | set(tsconv.dask.__all__)) - {"__version__"} - listed
    assert not missing, f"docs/api.md does not list {sorted(missing)}"


def test_every_page_is_in_the_toctree():
    index = (DOCS / "index.md").read_text()
    pages = {p.stem for p in DOCS.glob("*.md")} - {"index"}
    assert pages <= set(re.findall(r"^(\w+)$", index, flags=re.M)), pages - set(index.split())


def _sphinx(src, out, *extra):
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-n", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / "doctrees"), *extra, str(src), str(out / "html")],
        capture_output=True, text=True, timeout=900,
    )


def test_sphinx_strict_build(tmp_path):
    """STRICT SPHINX BUILD: ``sphinx -n -W`` (nitpicky: every cross-reference resolves;
    any warning is an error) of the whole site, API reference included."""
    proc = _sphinx(DOCS, tmp_path)
    assert proc.returncode == 0, proc.stderr[-6000:]
    html = tmp_path / "html" / "generated"
    arima = (html / "tsconv.ARIMA.html").read_text()
    matcher = (html / "tsconv.audio.Matcher.html").read_text()
    # every public member of ARIMA and Matcher is documented on its class page, with its
    # parameters (an anchor per member; forecast and match each have a Parameters section)
    for cls, page in ((tsconv.ARIMA, arima), (tsconv.audio.Matcher, matcher)):
        members = [m for m in vars(cls) if not m.startswith("_")]
        assert members
        for m in members:
            assert f'.{cls.__name__}.{m}"' in page, f"{cls.__name__}.{m} is not documented"
    assert "Parameters" in arima.split('ARIMA.forecast"', 1)[1]
    assert "Parameters" in matcher.split('Matcher.match"', 1)[1]
    # the formulas are rendered as math, not shown as raw LaTeX
    kernels = (tmp_path / "html" / "kernels.html").read_text()
    assert 'class="math' in kernels and "$$" not in kernels


def test_sphinx_strict_build_can_fail(tmp_path):
    """The strict build above fails on one unresolved reference (same conf.py, a one-page site)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text((DOCS / "conf.py").read_text())
    (src / "index.md").write_text("# Index\n\nSee {func}`tsconv.no_such_function`.\n")
    proc = _sphinx(src, tmp_path)
    assert proc.returncode != 0
    assert "tsconv.no_such_function" in proc.stderr


# --- every Python block of every page runs --------------------------------------------

_FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```", re.S | re.M)
_SETUP = re.compile(r"^<!-- test-setup\n(.*?)^-->", re.S | re.M)
_PAGES = sorted(DOCS.glob("*.md"))


def _blocks(page):
    """The page's Python code blocks, in order (``python`` fences), after its hidden setup.

    A page may start with an HTML comment ``<!-- test-setup ... -->`` (invisible in the built
    site) that makes the inputs its snippets talk about (a haystack, a file of audio).
    """
    text = page.read_text()
    setup = [m.group(1) for m in _SETUP.finditer(text)]
    return setup, [m.group(2) for m in _FENCE.finditer(text) if m.group(1) in ("python", "py", "{code-cell}")]


def test_every_fence_has_a_known_language():
    """No Python block escapes execution by an unusual fence: every fence is python (run),
    bash/text (shown), or a Sphinx directive."""
    for page in _PAGES:
        for m in _FENCE.finditer(page.read_text()):
            lang = m.group(1)
            assert lang in ("python", "bash", "text", "{toctree}", "{eval-rst}"), (page.name, lang)


@pytest.mark.parametrize("page", [p for p in _PAGES if _blocks(p)[1]], ids=lambda p: p.name)
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    setup, blocks = _blocks(page)
    cleanup: list = []
    ns: dict = {"__name__": f"docs.{page.stem}", "_monkeypatch": monkeypatch, "_cleanup": cleanup}
    try:
        for i, code in enumerate(setup):
            exec(compile(code, f"{page.name}:setup{i}", "exec"), ns)
        for i, code in enumerate(blocks):
            try:
                exec(compile(code, f"{page.name}:block{i + 1}", "exec"), ns)
            except Exception as exc:
                raise AssertionError(f"{page.name}, Python block {i + 1} fails:\n{code}") from exc
    finally:
        for f in cleanup:
            f()
        plt.close("all")


# --- docs/benchmarks.md is generated -----------------------------------------------------


def _render_module():
    import importlib.util

    path = DOCS.parent / "benchmarks" / "render.py"
    spec = importlib.util.spec_from_file_location("benchmarks_render", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmarks_page_is_what_render_writes_from_the_committed_results():
    """docs/benchmarks.md is never edited by hand: it equals benchmarks/render.py's output
    for the JSON in benchmarks/results (regenerate: python benchmarks/render.py)."""
    render = _render_module()
    records = render.load_results()
    assert {r["area"] for r in records} >= {"apply", "xcorr", "arima", "fit"}
    assert (DOCS / "benchmarks.md").read_text() == render.render_markdown(records)


def test_every_benchmark_record_says_how_and_where_it_was_measured():
    render = _render_module()
    for rec in render.load_results():
        assert rec["command"].startswith("python benchmarks/"), rec["area"]
        assert rec["versions"].get("numpy") and rec["commit"], rec["area"]
        assert rec["blocks"], rec["area"]
        # measured in this state: tsconv beside its peers in the first table, unless the
        # record says in its description that no library in the environment is a peer
        if rec.get("rerun", True) and "There is no peer in this section" not in rec["what"]:
            first = next(b for b in rec["blocks"] if "columns" in b)
            labels = " ".join(first["columns"] + [str(c) for r in first["rows"] for c in r])
            peers = ("numpy", "scipy", "statsmodels", "statsforecast", "pandas")
            assert "tsconv" in labels and any(p in labels for p in peers), rec["area"]
        elif not rec.get("rerun", True):
            assert rec["why_not_rerun"], rec["area"]

