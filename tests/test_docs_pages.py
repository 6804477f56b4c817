"""The forecasting walk-throughs of docs/quickstart.md, docs/pandas.md and
docs/estimation.md run as written (every ```python block, in order, one namespace per page)."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("page", ["quickstart.md", "pandas.md", "estimation.md"])
def test_page_python_blocks_run(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)
    assert blocks, f"{page} has no python block"
    namespace: dict = {}
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"{page}[block {i}]", "exec"), namespace)
    finally:
        plt.close("all")
