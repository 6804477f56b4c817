"""Snippet search: ``tsconv.ncc`` against scipy and stumpy (docs/benchmarks.md, Cross-correlation).

The task of issue 5: a haystack of 1 hour at 8 kHz (28.8M float32 samples), a needle of 3 s
(24,000 samples) cut from it at a known offset with a little noise added. Timed in the same
run, the repeats interleaved round-robin (the machine is shared: only ratios within one run
mean much):

* ``tsconv.ncc(needle, haystack)``: full normalization (the Pearson correlation of every
  window), default threads (2 on this machine: the window statistics overlap the FFTs), and
  ``workers=1`` (everything in one thread);
* ``tsconv.ncc`` on a ``numpy.memmap`` of the haystack file, and on a generator reading the
  file in 1M-sample chunks (``numpy.fromfile``): the streaming paths;
* ``scipy.signal.correlate(haystack, needle, 'valid', method='fft')`` and
  ``scipy.signal.oaconvolve(haystack, needle[::-1], 'valid')``: the raw correlation only,
  no normalization (so they do less work than ``ncc``);
* ``stumpy.mass(needle, haystack, M_T, Sigma_T)`` when stumpy is installed, given the window
  means, standard deviations and flat-window flags from cumulative sums (its defaults compute
  them by brute force, which is infeasible at this size); it returns z-normalized distances, equivalent to
  the NCC by ``d^2 = 2 m (1 - r)``. The statistics are included in its time.

Peak memory beyond the inputs is measured for each candidate in a fresh subprocess: the
growth of the resident set (sampled every 0.5 ms by a thread) once the inputs are loaded, and the
peak of Python/numpy allocations (``tracemalloc``). For the memmap candidates the resident
set also counts the file pages the map touches (the input itself), so the tracemalloc column
is the one that shows the working set there.

Usage::

    python benchmarks/bench_xcorr.py [--quick] [--repeats 5] [--no-stumpy] [--no-memory]

``--quick`` uses a 5-minute haystack and 3 repeats.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import scipy
import scipy.signal
import statsmodels

import tsconv
from _results import Results, add_out_option  # noqa: E402  (benchmarks/_results.py: the JSON for render.py)

RATE = 8000
NEEDLE_S = 3.0
OFFSET_S = 1234.5678


def make_inputs(seconds: float, path: str | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Coloured noise haystack (float32) and a noisy 3 s needle cut at a known offset."""
    n = int(seconds * RATE)
    rng = np.random.default_rng(2026)
    hay = scipy.signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(n).astype(np.float32)).astype(np.float32)
    m = int(NEEDLE_S * RATE)
    at = int(min(OFFSET_S, seconds / 2) * RATE)
    needle = hay[at : at + m] * np.float32(0.7) + np.float32(0.2) * rng.standard_normal(m).astype(np.float32) + np.float32(3.0)
    needle = needle.astype(np.float32)
    if path is not None:
        hay.tofile(path)
        needle.tofile(path + ".needle")
    return hay, needle, at


def file_chunks(path: str, size: int = 1 << 20) -> Iterator[np.ndarray]:
    with open(path, "rb") as fh:
        while True:
            chunk = np.fromfile(fh, dtype=np.float32, count=size)
            if chunk.size == 0:
                return
            yield chunk


def stumpy_mass(needle: np.ndarray, hay: np.ndarray) -> np.ndarray:
    import stumpy

    m = needle.size
    h = hay.astype(np.float64)
    c1 = np.concatenate([[0.0], np.cumsum(h)])
    c2 = np.concatenate([[0.0], np.cumsum(h * h)])
    mean = (c1[m:] - c1[:-m]) / m
    std = np.sqrt(np.maximum((c2[m:] - c2[:-m]) / m - mean * mean, 0.0))
    # stumpy's own flat-window check is a brute-force rolling range (O(N m)): pass the flags
    return stumpy.mass(needle.astype(np.float64), h, M_T=mean, Σ_T=std, T_subseq_isconstant=std == 0.0)


def candidates(hay: np.ndarray, needle: np.ndarray, path: str, with_stumpy: bool) -> dict[str, Callable[[], object]]:
    fns: dict[str, Callable[[], object]] = {
        "tsconv.ncc": lambda: tsconv.ncc(needle, hay),
        "tsconv.ncc workers=1": lambda: tsconv.ncc(needle, hay, workers=1),
        "tsconv.ncc memmap": lambda: tsconv.ncc(needle, np.memmap(path, dtype=np.float32, mode="r")),
        "tsconv.ncc file chunks": lambda: tsconv.ncc(needle, file_chunks(path)),
        "scipy correlate fft (raw)": lambda: scipy.signal.correlate(hay, needle, mode="valid", method="fft"),
        "scipy oaconvolve (raw)": lambda: scipy.signal.oaconvolve(hay, needle[::-1], mode="valid"),
    }
    if with_stumpy:
        fns["stumpy.mass (+cumsum stats)"] = lambda: stumpy_mass(needle, hay)
    return fns


def time_all(fns: dict[str, Callable[[], object]], repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU time of each function, repeats interleaved round-robin.

    CPU time (``time.process_time``, all threads of the process) does not count waiting
    for a core, so its ratios are steadier on a shared machine; it counts both threads of
    a two-threaded call. Slow candidates (> 3 s) run twice.
    """
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(repeats):
        for name, fn in fns.items():
            if r > 1 and wall[name][0] > 3.0:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            print(f"  {name}: {wall[name][-1]:.3f} s wall, {cpu[name][-1]:.3f} s CPU", file=sys.stderr, flush=True)
    return ({k: float(np.median(v)) for k, v in wall.items()}, {k: float(np.median(v)) for k, v in cpu.items()})


def memory_child(name: str, seconds: float, path: str, with_stumpy: bool) -> None:
    """In a fresh process: load the inputs, then report the extra peak memory of one call."""
    hay = np.fromfile(path, dtype=np.float32)
    needle = np.fromfile(path + ".needle", dtype=np.float32)
    if with_stumpy and "stumpy" in name:  # compile numba's kernels outside the measurement
        stumpy_mass(needle[:1000], hay[:100_000])
    fn = candidates(hay, needle, path, with_stumpy)[name]
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * page

    # the resident set sampled every 0.5 ms by a thread (ru_maxrss is a high-water mark
    # that the input loading may already have set)
    base, peak_rss, running = rss(), [0], [True]

    def sample() -> None:
        while running[0]:
            peak_rss[0] = max(peak_rss[0], rss())
            time.sleep(0.0005)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    running[0] = False
    watcher.join()
    print(f"{max(peak_rss[0] - base, 0) / 1e6:.1f} {peak / 1e6:.1f}")


def measure_memory(name: str, seconds: float, path: str, with_stumpy: bool, budget: float) -> tuple[float, float] | None:
    """(extra RSS MB, tracemalloc peak MB) of one call in a fresh process; None past ``budget`` s."""
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", name, "--seconds", str(seconds), "--path", path] + ([] if with_stumpy else ["--no-stumpy"]),
            capture_output=True,
            text=True,
            check=True,
            timeout=budget,
        )
    except subprocess.TimeoutExpired:
        return None
    rss, traced = out.stdout.split()[-2:]
    return float(rss), float(traced)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-stumpy", action="store_true")
    add_out_option(ap)
    ap.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    ap.add_argument("--memory-budget", type=float, default=300.0, help="seconds allowed for each memory measurement")
    ap.add_argument("--seconds", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--path", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    with_stumpy = not args.no_stumpy
    if with_stumpy:
        try:
            import stumpy  # noqa: F401
        except ImportError:
            with_stumpy = False
    seconds = args.seconds or (300.0 if args.quick else 3600.0)
    if args.memory_child:
        memory_child(args.memory_child, seconds, args.path, with_stumpy)
        return
    repeats = 3 if args.quick else args.repeats

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "haystack.f32")
        hay, needle, at = make_inputs(seconds, path)
        print(f"# bench_xcorr  {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC  {platform.machine()}, {os.cpu_count()} CPUs")
        print(
            f"# numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}, "
            f"statsmodels {statsmodels.__version__}, tsconv {tsconv.__version__}"
            + (f", stumpy {__import__('stumpy').__version__}" if with_stumpy else ", stumpy not installed")
        )
        print(f"# haystack {hay.size:,} float32 samples ({seconds / 60:.0f} min at {RATE} Hz), needle {needle.size:,} (3 s), planted at {at:,}")

        # correctness first: the planted offset, float32 error vs float64 on a 1-minute slice,
        # and the streaming paths equal to the in-memory result bit for bit
        r = tsconv.ncc(needle, hay)
        best = tsconv.best_lag(r)
        piece = slice(at - 4 * RATE, at + 56 * RATE)
        r64 = tsconv.ncc(needle.astype(np.float64), hay[piece].astype(np.float64))
        err = float(np.abs(r[piece][: r64.size] - r64).max())
        same_mm = bool(np.array_equal(tsconv.ncc(needle, np.memmap(path, dtype=np.float32, mode="r")), r))
        same_ch = bool(np.array_equal(tsconv.ncc(needle, file_chunks(path)), r))
        raw = scipy.signal.correlate(hay[piece], needle, mode="valid", method="fft")
        print(
            f"# ncc best lag {best.lag:.3f} (planted {at}), value {best.value:.4f}, PSR {best.psr:.1f}, "
            f"P(false alarm) {tsconv.false_alarm_probability(best.value, needle.size, r.size):.1e}; "
            f"max |float32 - float64| {err:.1e}; memmap == array: {same_mm}; chunks == array: {same_ch}; "
            f"raw correlate peak at {int(np.argmax(raw)) + piece.start}"
        )
        del r, r64, raw

        fns = candidates(hay, needle, path, with_stumpy)
        if with_stumpy:  # numba compiles on the first call: not part of the timing
            stumpy_mass(needle[:1000], hay[:100_000])
        times, cpu = time_all(fns, repeats)
        ref, ref_cpu = times["scipy correlate fft (raw)"], cpu["scipy correlate fft (raw)"]
        res = Results("xcorr", "Cross-correlation (snippet search)", f"""
            A needle of 3 s (24,000 samples) cut from a haystack of {seconds / 60:.0f} min at
            {RATE} Hz ({hay.size:,} float32 samples), with a little noise. ``tsconv.ncc``
            (the Pearson correlation of every window, fully normalized) in memory, on a
            ``numpy.memmap`` and on a stream of 1M-sample chunks, against
            ``scipy.signal.correlate(method='fft')`` and ``scipy.signal.oaconvolve`` (the raw
            correlation only: less work than ``ncc``) and ``stumpy.mass`` (z-normalized
            distances, equivalent) when installed. Medians of {repeats} interleaved repeats;
            the speed-up is scipy correlate's time over the candidate's.""")
        res.text(f"Checks of the same run: best lag {best.lag:.3f} (planted {at}), value {best.value:.4f}; "
                 f"largest float32 - float64 difference {err:.1e}; memmap equal to the array: {same_mm}; "
                 f"chunks equal to the array: {same_ch}.")
        res.table(["candidate", "wall s", "speed-up vs scipy correlate", "CPU s", "CPU speed-up"],
                  [[name, f"{times[name]:.3f}", f"{ref / times[name]:.1f}x", f"{cpu[name]:.3f}",
                    f"{ref_cpu / cpu[name]:.1f}x"] for name in fns])
        res.save(args.out)
        print()
        print(f"| candidate | wall (s, median of {repeats}) | speed-up vs scipy correlate | CPU (s) | CPU speed-up |")
        print("|---|---:|---:|---:|---:|")
        for name in fns:
            print(f"| {name} | {times[name]:.3f} | {ref / times[name]:.1f}x | {cpu[name]:.3f} | {ref_cpu / cpu[name]:.1f}x |")
        print(flush=True)
        if args.no_memory:
            return
        print("| candidate | extra peak RSS (MB) | tracemalloc peak (MB) |")
        print("|---|---:|---:|")
        for name in fns:
            mem = measure_memory(name, seconds, path, with_stumpy, args.memory_budget)
            cells = f"{mem[0]:.0f} | {mem[1]:.0f}" if mem else f"not measured (over {args.memory_budget:.0f} s) | -"
            print(f"| {name} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
