"""Regenerate the figures of docs/_static from the code that makes them.

Usage (from the repository root, with the ``plot`` extra installed)::

    python docs/make_figures.py

* ``forecast_airline.png``, ``airline_kernels.png``, ``decomposition_airline.png``,
  ``match_trace.png``: ``tsconv demo`` (``tsconv._demo.run_demo``, quick mode), copied;
* ``concepts_gaussian.png``, ``concepts_composed.png``: ``examples/convolution_concepts.py``;
* ``bench_*.png``: not here, ``python benchmarks/render.py`` (from the benchmark results).
"""

from __future__ import annotations

import contextlib
import io
import runpy
import shutil
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
FROM_DEMO = ["forecast_airline.png", "airline_kernels.png", "decomposition_airline.png", "match_trace.png"]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tsconv._demo import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        with contextlib.redirect_stdout(io.StringIO()):
            status = run_demo(tmp, quick=True)
        if status != 0:
            print("tsconv demo failed: figures not copied", file=sys.stderr)
            return 1
        for name in FROM_DEMO:
            shutil.copyfile(Path(tmp) / name, STATIC / name)
    concepts = runpy.run_path(str(ROOT / "examples" / "convolution_concepts.py"))
    with contextlib.redirect_stdout(io.StringIO()):
        concepts["main"](str(STATIC))
    print(f"wrote {', '.join(FROM_DEMO)}, concepts_gaussian.png, concepts_composed.png in {STATIC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
