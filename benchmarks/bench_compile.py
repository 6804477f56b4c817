"""The numba compilation of the likelihood engine: what a first fit costs.

Usage::

    python benchmarks/bench_compile.py [--repeats 3]

Each measurement runs in a fresh Python process, timed inside it (wall): a first fit in a
new environment (an empty ``NUMBA_CACHE_DIR``: every compiled function is compiled and
cached), a first fit in a new process with that cache (the machine code loaded from disk),
and the next fit in that process. The fit: the airline model of the airline passengers (``datasets.load("airline")``),
``fit_arima(log(y), (0, 1, 1), (0, 1, 1, 12))`` (CSS-ML). Also ``import tsconv`` alone,
and whether it imports numba. Medians over ``--repeats`` fresh caches. There is no peer in
this section: statsforecast compiles its own numba code at import (not comparable),
statsmodels compiles none.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import Results, add_out_option  # noqa: E402  (benchmarks/_results.py: the JSON for render.py)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import tsconv
from tsconv import datasets
t_import = time.perf_counter() - t0
numba_at_import = "numba" in sys.modules
y = np.log(datasets.load("airline"))
t = time.perf_counter()
tsconv.fit_arima(y, (0, 1, 1), (0, 1, 1, 12))
first = time.perf_counter() - t
t = time.perf_counter()
tsconv.fit_arima(y, (0, 1, 1), (0, 1, 1, 12))
print(json.dumps({"import": t_import, "numba_at_import": numba_at_import, "first": first,
                  "next": time.perf_counter() - t}))
"""


def child(cache: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    add_out_option(ap)
    args = ap.parse_args()
    cold, warm = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(child(cache))  # compiles and fills the cache
            warm.append(child(cache))  # loads it
    first_new_env = statistics.median(r["first"] for r in cold)
    first_new_proc = statistics.median(r["first"] for r in warm)
    next_fit = statistics.median(r["next"] for r in warm)
    imp = statistics.median(r["import"] for r in warm)
    numba = any(r["numba_at_import"] for r in cold + warm)
    print(f"first fit, new environment {first_new_env:.2f} s; first fit, new process {first_new_proc:.3f} s; "
          f"next fit {next_fit:.3f} s; import tsconv {imp:.3f} s (numba imported: {numba})")
    res = Results("compile", "Estimation: numba compilation of a first fit", __doc__.split("\n\n", 2)[2])
    res.table(["first fit, new environment (compiles)", "first fit, new process (cache loaded)", "next fit",
               "import tsconv", "numba imported by import tsconv"],
              [[f"{first_new_env:.2f} s", f"{first_new_proc:.3f} s", f"{next_fit:.3f} s", f"{imp:.3f} s", "yes" if numba else "no"]],
              f"airline model of the airline passengers (CSS-ML), fresh processes, wall time, medians of {args.repeats}")
    res.save(args.out)


if __name__ == "__main__":
    main()
