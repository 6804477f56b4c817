"""Do the engine's machine-tuned tricks pay at the sizes users run? Each on and off, same run.

Every trick is timed with and without, beside the plain numpy/scipy call of the same work,
the repeats interleaved round-robin (the machine may be shared: only ratios within one run
mean much), and the ratio off / on printed (> 1: the trick pays):

* threads for a long recursion: ``apply(ema, x)`` on N = 1e7, default ``workers`` against
  ``workers=1`` (the plain ``lfilter``);
* threads for long FIR work: ``apply(gaussian(101), x)`` on N = 1e7, same comparison;
* the concurrent finite-value screen: ``apply(gaussian(5), x)`` on N = 1e5, 1e6 and 1e7,
  with the screen on a second thread for every size (``engine.CONCURRENT_SCREEN_MIN`` set
  low) and inline for every size; the engine uses it from ``CONCURRENT_SCREEN_MIN`` on;
* threads for ``ncc``: the 1-hour search of ``bench_xcorr.py`` (28.8M float32 samples, 3 s
  needle), default threads against ``workers=1``.

Usage::

    python benchmarks/bench_tricks.py [--repeats 11] [--quick]

``--quick`` uses N = 1e6 and a 5-minute haystack. The table is also written to
``benchmarks/results/tricks.json`` (rendered into ``docs/benchmarks.md`` by ``render.py``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import scipy.signal

import tsconv
from tsconv import engine

from _results import Results, add_out_option  # noqa: E402  (benchmarks/_results.py: the JSON for render.py)


def toggled(module: object, name: str, value: object, fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` run with ``module.name`` set to ``value`` (restored afterwards)."""

    def run() -> object:
        old = getattr(module, name)
        setattr(module, name, value)
        try:
            return fn()
        finally:
            setattr(module, name, old)

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--quick", action="store_true")
    add_out_option(ap)
    args = ap.parse_args()
    n = 10**6 if args.quick else 10**7
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    x6 = x[: 10**6]
    ema, g101, g5 = tsconv.ema(alpha=0.1), tsconv.gaussian(101, 101 / 6), tsconv.gaussian(5, 1.0)
    seconds = 300 if args.quick else 3600
    hay = scipy.signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(seconds * 8000).astype(np.float32)).astype(np.float32)
    needle = hay[1000 : 1000 + 24000] + np.float32(0.1) * rng.standard_normal(24000).astype(np.float32)
    # each trick: (tsconv with it, tsconv without it, the plain numpy/scipy call of the same work)
    b_ema, a_ema = ema.num.coef, ema.den.coef
    trials = {
        f"recursion threads (ema, N={n:.0e})": (
            lambda: tsconv.apply(ema, x), lambda: tsconv.apply(ema, x, workers=1),
            ("scipy.signal.lfilter", lambda: scipy.signal.lfilter(b_ema, a_ema, x)),
        ),
        f"FIR threads (gaussian 101, N={n:.0e})": (
            lambda: tsconv.apply(g101, x), lambda: tsconv.apply(g101, x, workers=1),
            ("scipy.signal.oaconvolve", lambda: scipy.signal.oaconvolve(x, g101.coef, mode="same")),
        ),
        **{
            f"concurrent screen (gaussian 5, N={v.size:.0e})": (
                toggled(engine, "CONCURRENT_SCREEN_MIN", 1 << 16, lambda v=v: tsconv.apply(g5, v)),
                toggled(engine, "CONCURRENT_SCREEN_MIN", 1 << 62, lambda v=v: tsconv.apply(g5, v)),
                ("numpy.convolve", lambda v=v: np.convolve(v, g5.coef, "same")),
            )
            for v in (x[: 10**5], x6, x)
        },
        f"ncc threads ({seconds} s haystack)": (
            lambda: tsconv.ncc(needle, hay), lambda: tsconv.ncc(needle, hay, workers=1),
            ("scipy.signal.oaconvolve (raw correlation)", lambda: scipy.signal.oaconvolve(hay, needle[::-1], mode="valid")),
        ),
    }
    times: dict[str, tuple[list[float], list[float], list[float]]] = {k: ([], [], []) for k in trials}
    for _ in range(args.repeats):
        for name, (on, off, (_, peer)) in trials.items():
            for fn, acc in zip((on, off, peer), times[name]):
                t0 = time.perf_counter()
                fn()
                acc.append(time.perf_counter() - t0)
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()}, medians of {args.repeats}")
    columns = ["trick", "tsconv, on (ms)", "tsconv, off (ms)", "off / on", "numpy/scipy peer", "peer (ms)"]
    print("| " + " | ".join(columns) + " |")
    print("|---|---:|---:|---:|---|---:|")
    rows = []
    for name, (on_t, off_t, peer_t) in times.items():
        a, b, c = (statistics.median(t) * 1e3 for t in (on_t, off_t, peer_t))
        row = [name, f"{a:.1f}", f"{b:.1f}", f"{b / a:.2f}", trials[name][2][0], f"{c:.1f}"]
        print("| " + " | ".join(row) + " |")
        rows.append(row)
    res = Results("tricks", "Machine-tuned tricks, on and off", f"""
        Each trick of the engine timed with and without it in the same run, beside the plain
        numpy/scipy call of the same work, the repeats interleaved round-robin (medians of
        {args.repeats}): threads for a long recursion (``apply(ema, x)``, default ``workers``
        against ``workers=1``, the plain recursion), threads for long FIR work
        (``gaussian(101)``), the finite-value screen on a second thread against inline, and
        threads for ``ncc`` (a 3 s needle in a {seconds} s haystack of float32 at 8 kHz; the
        peer computes the raw correlation only). "off / on" above 1: the trick pays.""")
    res.table(columns, rows)
    res.save(args.out)


if __name__ == "__main__":
    main()
