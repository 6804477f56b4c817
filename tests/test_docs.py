"""The documentation builds without a warning and its API page lists every public name."""

import re
import subprocess
import sys
from pathlib import Path

import tsconv

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


def test_sphinx_builds_without_warnings(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"),
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert (tmp_path / "html" / "api.html").exists()
