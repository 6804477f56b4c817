"""Speed and memory of ``tsconv.apply`` against numpy, scipy and pandas (docs/benchmarks.md).

Grid: N in {1e4, 1e6, 1e7} x W in {5, 21, 101, 1001, 10001}, a centred Gaussian kernel of
W taps (std W/6) applied in mode 'same', timed in the same run as

* ``numpy.convolve(x, c, 'same')``, ``scipy.signal.convolve(x, c, 'same')`` (its own auto),
  ``scipy.signal.oaconvolve(x, c, 'same')`` -- the best of these is the target;
* ``pandas.Series.rolling(W, win_type='gaussian', center=True).mean(std=W/6)``;
* ``rolling(W).mean()`` vs ``apply(sma(W))`` and ``ewm(alpha).mean()`` vs the exact EMA
  Transfer on N = 1e7;
* ``Series.diff(s)`` vs ``apply(seasonal_difference(s))`` (a sparse kernel: two nonzero taps
  of ``s + 1``), with the largest difference of the two on data of magnitude 1e9.

A peer whose pilot run (on N/100 points) predicts more than ``--budget`` seconds (5) for one
call is skipped and marked as such. Medians of ``--repeats`` runs; the machine is shared, so
only ratios measured within one run mean much. Peak memory of ``apply`` at N = 1e7 is measured
in a fresh subprocess (tracemalloc for numpy's allocations, and the growth of the resident
set's high-water mark VmHWM over the resident set before the call, output included).

Usage::

    python benchmarks/bench_apply.py [--quick] [--repeats 5] [--budget 5]
    python benchmarks/bench_apply.py --calibrate   # fit the cost-model constants of engine.py

``--quick`` stops at N = 1e6 and uses 3 repeats.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy
import scipy.signal
import statsmodels

import tsconv
from tsconv import Kernel, Transfer, apply, choose_method
from _results import Results, add_out_option  # noqa: E402  (benchmarks/_results.py: the JSON for render.py)

NS = [10**4, 10**6, 10**7]
WS = [5, 21, 101, 1001, 10001]


def time_all(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each function, the repeats interleaved round-robin.

    Interleaving spreads the machine's load drift (other processes) over every
    candidate alike, so the ratios of one cell are fair even when absolute times drift.
    Microsecond calls are looped to amortize the timer; calls over a second run fewer
    repeats.
    """
    inner, times = {}, {name: [] for name in fns}
    firsts = {}
    for name, fn in fns.items():  # warm-up, and the loop count
        first = firsts[name] = _once(fn)
        # calls under 2 ms are looped (timer resolution); longer ones are timed one by one,
        # so that the median ignores the stalls a shared machine adds to some calls
        inner[name] = max(1, int(0.002 / max(first, 1e-7)))
        if first > 1.0:
            times[name].append(first)
    if max(firsts.values()) < 0.02:  # cheap cells: more repeats for a steadier median
        repeats = max(repeats, 31)
    for r in range(repeats):
        for name, fn in fns.items():
            if times[name] and times[name][0] > 1.0 and r >= max(repeats // 2, 1) - 1:
                continue
            times[name].append(_once(fn, inner[name]))
    return {name: float(np.median(t)) for name, t in times.items()}


def timeit(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of one function."""
    return time_all({"f": fn}, repeats)["f"]


def _once(fn: Callable[[], object], inner: int = 1) -> float:
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def predicted(fn_small: Callable[[], object], scale: float) -> float:
    """Seconds one full-size call would take, from one call on 1/scale of the data."""
    t0 = time.perf_counter()
    fn_small()
    return (time.perf_counter() - t0) * scale


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} vCPU ({cpu}), Python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, pandas {pd.__version__}, statsmodels {statsmodels.__version__}"
    )


def load() -> str:
    """The 1/5/15-minute load averages: the other processes sharing the cores."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def fmt(t: float | None) -> str:
    if t is None:
        return "skip"
    return f"{t * 1e3:.3g} ms" if t >= 1e-3 else f"{t * 1e6:.3g} us"


# ---------------------------------------------------------------------------------------
# the grid
# ---------------------------------------------------------------------------------------
def run_grid(ns: list[int], ws: list[int], repeats: int, budget: float) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for n in ns:
        x = rng.normal(size=n)
        s = pd.Series(x)
        small = x[: max(n // 100, 1000)]
        s_small = pd.Series(small)
        scale = n / small.size
        for w in ws:
            std = w / 6.0
            k = tsconv.gaussian(w, std)  # centred, normalized
            c = np.array(k.coef)
            mode = "same" if n >= w else "full"  # a series shorter than the kernel: compare 'full'
            peers: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
                "numpy.convolve": (lambda: np.convolve(x, c, mode), lambda: np.convolve(small, c, mode)),
                "scipy.convolve": (
                    lambda: scipy.signal.convolve(x, c, mode),
                    lambda: scipy.signal.convolve(small, c, mode),
                ),
                "oaconvolve": (lambda: scipy.signal.oaconvolve(x, c, mode), lambda: scipy.signal.oaconvolve(small, c, mode)),
                "pandas gaussian": (
                    lambda: s.rolling(w, win_type="gaussian", center=True).mean(std=std),
                    lambda: s_small.rolling(w, win_type="gaussian", center=True).mean(std=std),
                ),
            }
            row: dict = {"N": n, "W": w, "mode": mode, "chosen": choose_method(k, n if mode == "same" else n + w - 1)}
            todo: dict[str, Callable[[], object]] = {"tsconv": lambda: apply(k, x, mode=mode)}
            for name, (full, pilot) in peers.items():
                row[name] = None
                if name == "pandas gaussian" and mode != "same":
                    continue
                if name == "numpy.convolve" and w > 10000 and n > 10**4:
                    # the BLAS trap (docs/benchmarks.md, Apply): past 10,000 taps a direct sum
                    # runs 8-20x slower than its MAC count says (49 s measured at N=1e6 here)
                    continue
                guess = predicted(pilot, scale) if n > small.size else 0.0
                if guess <= budget:
                    todo[name] = full
            row.update(time_all(todo, repeats))
            # the answer is the same as the peers' (NaN edges aside)
            if n <= 10**6:
                ours = apply(k, x, mode=mode)
                ref = scipy.signal.oaconvolve(x, c, mode)
                ok = ~np.isnan(ours)
                assert np.allclose(ours[ok], ref[ok], atol=1e-10), (n, w)
            best = min(v for kname in ("numpy.convolve", "scipy.convolve", "oaconvolve") if (v := row[kname]) is not None)
            row["best"] = best
            row["ratio"] = row["tsconv"] / best
            pg = row["pandas gaussian"]
            row["vs pandas"] = pg / row["tsconv"] if pg else None
            rows.append(row)
            print(
                f"N={n:>8} W={w:>5} {mode:4} auto->{row['chosen']:6} tsconv {fmt(row['tsconv']):>9} | "
                f"np {fmt(row['numpy.convolve']):>9} sc {fmt(row['scipy.convolve']):>9} "
                f"oa {fmt(row['oaconvolve']):>9} pd {fmt(pg):>9} | auto/best {row['ratio']:.2f}"
                + (f" pandas/tsconv {row['vs pandas']:.1f}" if pg else ""),
                flush=True,
            )
    return rows


def run_rolling(ns: list[int], ws: list[int], repeats: int) -> list[dict]:
    rng = np.random.default_rng(1)
    rows = []
    for n in ns:
        x = rng.normal(size=n)
        s = pd.Series(x)
        for w in ws:
            if w > n:
                continue
            k = tsconv.sma(w)
            got = time_all({"tsconv": lambda: apply(k, x), "pandas": lambda: s.rolling(w).mean()}, repeats)
            t_ours, t_pd = got["tsconv"], got["pandas"]
            if n <= 10**6:
                ref = s.rolling(w).mean().to_numpy()
                assert np.allclose(apply(k, x), ref, equal_nan=True, atol=1e-9)
            rows.append({"N": n, "W": w, "tsconv": t_ours, "pandas": t_pd, "chosen": choose_method(k, n)})
            print(f"SMA N={n:>8} W={w:>5} apply(sma) {fmt(t_ours):>9} rolling.mean {fmt(t_pd):>9} ratio {t_ours / t_pd:.2f}", flush=True)
    return rows


def run_sdiff(ns: list[int], periods: list[int], repeats: int) -> list[dict]:
    """``apply(seasonal_difference(s))`` against ``Series.diff(s)``: times, the method auto
    chose and the largest difference of the two outputs on a random walk around 1e9."""
    rng = np.random.default_rng(3)
    rows = []
    for n in ns:
        x = 1e9 + rng.normal(size=n).cumsum()
        s = pd.Series(x)
        for period in periods:
            k = tsconv.seasonal_difference(period)
            got = time_all({"tsconv": lambda: apply(k, x), "pandas": lambda: s.diff(period)}, repeats)
            diff = float(np.nanmax(np.abs(apply(k, x) - s.diff(period).to_numpy())))
            rows.append({"N": n, "s": period, "tsconv": got["tsconv"], "pandas": got["pandas"],
                         "chosen": choose_method(k, n), "max_abs_diff": diff})
            print(f"SDIFF N={n:>8} s={period:>4} apply {fmt(got['tsconv']):>9} diff {fmt(got['pandas']):>9} "
                  f"max |diff| {diff:.1e}", flush=True)
    return rows


def run_ema(n: int, repeats: int) -> dict:
    x = np.random.default_rng(2).normal(size=n)
    s = pd.Series(x)
    a = 0.1
    tr = tsconv.ema(alpha=a) if hasattr(tsconv, "ema") else Transfer([a], [1.0, a - 1.0])
    # pandas adjust=False starts at x[0]: the same recursion applied to x - x[0], plus x[0]
    ours = apply(tr, x - x[0]) + x[0]
    ref = s.ewm(alpha=a, adjust=False).mean().to_numpy()
    assert np.allclose(ours, ref, atol=1e-10)
    row: dict = {"N": n}
    row.update(
        time_all(
            {
                "tsconv": lambda: apply(tr, x),
                "lfilter": lambda: scipy.signal.lfilter([a], [1.0, a - 1.0], x),
                "pandas adjust=False": lambda: s.ewm(alpha=a, adjust=False).mean(),
                "pandas adjust=True": lambda: s.ewm(alpha=a).mean(),
            },
            repeats,
        )
    )
    print("EMA " + ", ".join(f"{k} {fmt(v) if k != 'N' else v}" for k, v in row.items()), flush=True)
    return row


_MEM_CHILD = r"""
import json, sys, tracemalloc
import numpy as np
import tsconv

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

n, w, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
x = np.random.default_rng(0).normal(size=n)
op = tsconv.gaussian(w, w / 6.0) if kind == "fir" else tsconv.ema(alpha=0.1)
tsconv.apply(op, x[:100000])  # imports and caches outside the measurement
try:  # reset the resident-set high-water mark (Linux >= 4.0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    hwm_ok = True
except OSError:
    hwm_ok = False
rss0 = status("VmRSS")
tracemalloc.start()
y = tsconv.apply(op, x)
cur, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
growth = status("VmHWM") - rss0 if hwm_ok else -1
print(json.dumps({"input": x.nbytes, "traced_peak": peak, "rss_growth": growth, "output": y.nbytes}))
"""


def run_memory(n: int, ws: list[int]) -> list[dict]:
    rows = []
    for w, kind in [(w, "fir") for w in ws] + [(0, "ema")]:
        out = subprocess.run([sys.executable, "-c", _MEM_CHILD, str(n), str(w), kind], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        r.update(N=n, W=w, kind=kind)
        rows.append(r)
        print(
            f"memory N={n} {kind} W={w}: traced peak {r['traced_peak'] / r['input']:.2f}x input, "
            f"RSS growth {r['rss_growth'] / r['input']:.2f}x input",
            flush=True,
        )
    return rows


# ---------------------------------------------------------------------------------------
# calibration of the cost model
# ---------------------------------------------------------------------------------------
def calibrate(repeats: int) -> None:
    """Fit DIRECT_NS_PER_MAC, DIRECT_FLOOR_NS, FFT_NS_PER_POINT and FFT_OVERHEAD_S."""
    from tsconv import engine

    rng = np.random.default_rng(3)
    n = 10**6
    for dtype in (np.float64, np.float32):
        x = rng.normal(size=n).astype(dtype)
        print(f"--- {np.dtype(dtype).name}, N = {n}")
        per_mac, floor = [], []
        for m in (3, 5, 8, 11, 15, 21, 31, 45, 64, 101, 201, 401, 801):
            k = Kernel(rng.random(m), origin=m // 2)
            td = timeit(lambda: apply(k, x, method="direct"), repeats)
            tf = timeit(lambda: apply(k, x, method="fft"), repeats)
            f = engine._block_size(m, n)
            units = f * np.log2(f) / (f - m + 1)
            print(f"m={m:4}: direct {td / n * 1e9:6.2f} ns/sample ({td / n / m * 1e9:.3f} ns/MAC), fft {tf / n * 1e9:6.2f} ns/sample ({tf / n / units * 1e9:.3f} ns/point), F={f}")
            if engine.DIRECT_FLOOR_TAPS[0] <= m <= engine.DIRECT_FLOOR_TAPS[1]:
                floor.append(td / n * 1e9)
            else:
                per_mac.append(td / n / m * 1e9)
            per_mac_fft = tf / n / units * 1e9
            floor_fft = per_mac_fft
        small = rng.normal(size=2000).astype(dtype)
        k = Kernel(rng.random(64))
        overhead = timeit(lambda: apply(k, small, method="fft"), repeats) - 2000 * floor_fft * 1e-9 * 16
        print(
            f"suggested: DIRECT_NS_PER_MAC ~ {np.median(per_mac):.3f}, DIRECT_FLOOR_NS ~ {np.median(floor):.1f}, "
            f"FFT_NS_PER_POINT ~ {floor_fft:.2f} (last m), FFT_OVERHEAD_S ~ {max(overhead, 0) * 1e6:.0f} us"
        )


# ---------------------------------------------------------------------------------------
def markdown(grid: list[dict], rolling: list[dict], ema: dict | None, mem: list[dict]) -> str:
    lines = [
        "| N | W | auto -> | tsconv | numpy.convolve | scipy.convolve | oaconvolve | auto / best | pandas gaussian | pandas / tsconv |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in grid:
        vs = "" if r["vs pandas"] is None else f"{r['vs pandas']:.0f}x"
        lines.append(
            f"| {r['N']:.0e} | {r['W']} | {r['chosen']}{' (full)' if r['mode'] == 'full' else ''} | {fmt(r['tsconv'])} | "
            f"{fmt(r['numpy.convolve'])} | {fmt(r['scipy.convolve'])} | {fmt(r['oaconvolve'])} | **{r['ratio']:.2f}** | "
            f"{fmt(r['pandas gaussian'])} | {vs} |"
        )
    if rolling:
        lines += ["", "| N | W | apply(sma(W)) | rolling(W).mean() | tsconv / pandas |", "|---|---|---|---|---|"]
        for r in rolling:
            lines.append(f"| {r['N']:.0e} | {r['W']} | {fmt(r['tsconv'])} ({r['chosen']}) | {fmt(r['pandas'])} | {r['tsconv'] / r['pandas']:.2f} |")
    if ema:
        lines += [
            "",
            f"EMA on N = {ema['N']:.0e}: apply(ema) {fmt(ema['tsconv'])}, bare lfilter {fmt(ema['lfilter'])}, "
            f"pandas ewm(adjust=False) {fmt(ema['pandas adjust=False'])}, ewm(adjust=True) {fmt(ema['pandas adjust=True'])}: "
            f"pandas / tsconv = **{ema['pandas adjust=False'] / ema['tsconv']:.2f}x**",
        ]
    if mem:
        lines += ["", "| N | operator | traced peak / input | RSS growth / input |", "|---|---|---|---|"]
        for r in mem:
            name = f"gaussian W={r['W']}" if r["kind"] == "fir" else "exact EMA"
            lines.append(f"| {r['N']:.0e} | {name} | {r['traced_peak'] / r['input']:.2f} | {r['rss_growth'] / r['input']:.2f} |")
    return "\n".join(lines)


def save_results(grid: list[dict], rolling: list[dict], ema: dict | None, mem: list[dict], repeats: int, out: str | None = None,
                 sdiff: list[dict] | None = None) -> None:
    """The same tables as ``markdown``, as ``benchmarks/results/apply.json`` for render.py."""
    res = Results("apply", "apply engine", f"""
        A centred Gaussian kernel of W taps (std W/6) applied in mode 'same' to N float64
        points: ``tsconv.apply`` (method 'auto') against ``numpy.convolve``,
        ``scipy.signal.convolve`` (its own auto choice), ``scipy.signal.oaconvolve`` and
        ``pandas.Series.rolling(W, win_type='gaussian', center=True).mean(std=W/6)``; then
        ``apply(sma(W))`` against ``rolling(W).mean()`` and the exact EMA against
        ``ewm(...).mean()``. Median wall time of {repeats} interleaved repeats; a peer whose
        pilot predicts more than the budget is not timed ("skip"). "tsconv / best of numpy, scipy" is tsconv's
        time over the best of numpy and scipy: below 1 means tsconv is faster.""")
    res.table(["N", "W", "auto chose", "tsconv", "numpy.convolve", "scipy.convolve", "oaconvolve",
               "tsconv / best of numpy, scipy", "pandas gaussian", "pandas / tsconv"],
              [[f"{r['N']:.0e}", r["W"], r["chosen"] + (" (full)" if r["mode"] == "full" else ""), fmt(r["tsconv"]),
                fmt(r["numpy.convolve"]), fmt(r["scipy.convolve"]), fmt(r["oaconvolve"]), f"{r['ratio']:.2f}",
                fmt(r["pandas gaussian"]), "" if r["vs pandas"] is None else f"{r['vs pandas']:.0f}x"] for r in grid],
              "Gaussian smoothing, mode 'same'")
    if rolling:
        res.table(["N", "W", "apply(sma(W))", "method", "rolling(W).mean()", "tsconv / pandas"],
                  [[f"{r['N']:.0e}", r["W"], fmt(r["tsconv"]), r["chosen"], fmt(r["pandas"]),
                    f"{r['tsconv'] / r['pandas']:.2f}"] for r in rolling], "Simple moving average")
    if sdiff:
        res.table(["N", "s", "apply(seasonal_difference(s))", "method", "Series.diff(s)", "tsconv / pandas",
                   "max |tsconv - pandas| (data ~1e9)"],
                  [[f"{r['N']:.0e}", r["s"], fmt(r["tsconv"]), r["chosen"], fmt(r["pandas"]),
                    f"{r['tsconv'] / r['pandas']:.2f}", f"{r['max_abs_diff']:.1e}"] for r in sdiff],
                  "Seasonal difference (a sparse kernel: the direct sum reads its two nonzero taps)")
    if ema:
        res.table(["N", "apply(ema)", "bare lfilter", "ewm(adjust=False)", "ewm(adjust=True)", "ewm(adjust=False) / tsconv"],
                  [[f"{ema['N']:.0e}", fmt(ema["tsconv"]), fmt(ema["lfilter"]), fmt(ema["pandas adjust=False"]),
                    fmt(ema["pandas adjust=True"]), f"{ema['pandas adjust=False'] / ema['tsconv']:.2f}x"]],
                  "Exponential moving average")
    if mem:
        res.table(["N", "operator", "traced peak / input", "RSS growth / input"],
                  [[f"{r['N']:.0e}", f"gaussian W={r['W']}" if r["kind"] == "fir" else "exact EMA",
                    f"{r['traced_peak'] / r['input']:.2f}", f"{r['rss_growth'] / r['input']:.2f}"] for r in mem],
                  "Peak memory of apply, relative to the input")
    res.data("grid", [{k: r[k] for k in ("N", "W", "tsconv", "numpy.convolve", "scipy.convolve", "oaconvolve",
                                          "pandas gaussian")} for r in grid])
    res.save(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="N up to 1e6, 3 repeats")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--budget", type=float, default=5.0, help="skip a peer predicted slower than this (s)")
    p.add_argument("--calibrate", action="store_true", help="measure the cost-model constants and stop")
    p.add_argument("--only", default="grid,rolling,sdiff,ema,memory")
    add_out_option(p)
    p.add_argument("--ns", default=None, help="comma-separated series lengths for the grid (default 1e4,1e6,1e7)")
    p.add_argument("--ws", default=None, help="comma-separated kernel widths for the grid (default 5,21,101,1001,10001)")
    args = p.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    print(f"# {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {machine()}, load {load()}", flush=True)
    if args.calibrate:
        calibrate(repeats)
        return 0
    ns = NS[:2] if args.quick else NS
    if args.ns:
        ns = [int(float(v)) for v in args.ns.split(",")]
    ws = [int(v) for v in args.ws.split(",")] if args.ws else WS
    only = set(args.only.split(","))
    grid = run_grid(ns, ws, repeats, args.budget) if "grid" in only else []
    rolling = run_rolling(ns[1:], [5, 101, 1001], repeats) if "rolling" in only else []
    sdiff = run_sdiff(ns[1:], [12, 365], repeats) if "sdiff" in only else []
    ema = run_ema(ns[-1], repeats) if "ema" in only else None
    mem = run_memory(ns[-1], [5, 101, 10001]) if "memory" in only else []
    print(f"# load average at the end: {load()}")
    print()
    print(markdown(grid, rolling, ema, mem))
    save_results(grid, rolling, ema, mem, repeats, args.out, sdiff)
    return 0


if __name__ == "__main__":
    sys.exit(main())
