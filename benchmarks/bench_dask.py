"""Scale-out benchmark of tsconv.dask (docs/benchmarks.md, section "Dask").

Three workloads, each with 1 and 2 workers of the local machine, timed in the same run:

1. series: a 1e9-point float32 series memory-mapped from /tmp (4 GB), filtered out of core by
   a 101-tap centred FIR kernel and by an AR(2) Transfer, the result written to a second
   memory-mapped file; peak RSS is sampled from /proc while it runs. The in-memory engine on a
   1e8-point slice is the single-core reference (a 1e9 in-memory run needs ~12 GB).
2. panel: 100k series x 200 points in a long Dask DataFrame, AR(2) fit + 12-step forecast
   with tsconv.dask.forecast, against the in-memory batch fit on the same data.
3. catalog: >= 10 hours of 8 kHz synthetic audio in a sharded catalog, 3 s clips matched with
   1 and 2 worker processes, against the single-machine Matcher.

Usage: python benchmarks/bench_dask.py [--quick] [--only series,panel,catalog]
(--quick: 1e8 points, 10k series, 1 hour of audio). The data files are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import threading
import time
from typing import Any

import dask
import dask.array as da
import numpy as np

import tsconv
import tsconv.dask as td


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
class RssSampler:
    """Peak resident set size of this process (VmRSS sampled from /proc every 20 ms)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self.base = self.now()
        self._t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.now())


class MemmapSlab:
    """A read-only array view of a raw float file: each slice maps only its own pages.

    ``np.memmap`` of the whole file would leave every page read so far in this process's
    RSS until the kernel reclaims it; mapping per block keeps the resident set to the
    blocks in flight, which is what "bounded memory" means on a real cluster too.
    """

    def __init__(self, path: str, n: int, dtype: Any, mode: str = "r") -> None:
        self.path, self.shape, self.dtype, self.ndim, self.mode = path, (n,), np.dtype(dtype), 1, mode

    def _range(self, key: Any) -> tuple[int, int]:
        if isinstance(key, tuple):
            (key,) = key
        start, stop, step = key.indices(self.shape[0])
        assert step == 1
        return start, stop

    def __getitem__(self, key: Any) -> np.ndarray:
        start, stop = self._range(key)
        m = np.memmap(self.path, dtype=self.dtype, mode="r", offset=start * self.dtype.itemsize, shape=(stop - start,))
        out = np.array(m)
        del m
        return out

    def __setitem__(self, key: Any, value: np.ndarray) -> None:
        start, stop = self._range(key)
        m = np.memmap(self.path, dtype=self.dtype, mode="r+", offset=start * self.dtype.itemsize, shape=(stop - start,))
        m[:] = value
        m.flush()
        del m


def median_time(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def machine() -> str:
    import pandas
    import scipy
    import statsmodels

    return (
        f"{platform.machine()} {os.cpu_count()} vCPU, Python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, pandas {pandas.__version__}, statsmodels {statsmodels.__version__}, "
        f"dask {dask.__version__}"
    )


# ---------------------------------------------------------------------------------------
# 1. out-of-core series
# ---------------------------------------------------------------------------------------
def bench_series(n: int, chunk: int, workdir: str) -> list[str]:
    free = shutil.disk_usage(workdir).free
    need = 2 * n * 4
    if free < need * 1.5:
        return [f"series: skipped, {free / 1e9:.1f} GB free in {workdir}, need {need / 1e9:.1f} GB"]
    src, dst = os.path.join(workdir, "series.f32"), os.path.join(workdir, "filtered.f32")
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    with open(src, "wb") as f:
        block = 1 << 24
        # an AR(1) walk per block (cheap to make, not white noise)
        for start in range(0, n, block):
            m = min(block, n - start)
            f.write(tsconv.apply(tsconv.Transfer([1.0], [1.0, -0.9]), rng.standard_normal(m, dtype=np.float32)).tobytes())
    with open(dst, "wb") as f:
        f.truncate(n * 4)
    print(f"  wrote {n:.0e} float32 points ({n * 4 / 1e9:.1f} GB) in {time.perf_counter() - t:.1f} s")
    x = da.from_array(MemmapSlab(src, n, np.float32), chunks=chunk, lock=False, asarray=True, meta=np.empty(0, np.float32))
    out = MemmapSlab(dst, n, np.float32, mode="r+")
    ops = {
        "FIR 101 taps": tsconv.Kernel(np.hanning(103)[1:-1] / np.hanning(103).sum(), origin=50),
        "AR(2) Transfer": tsconv.Transfer([1.0], [1.0, -1.2, 0.35]),
    }
    lines = [
        f"series: {n:.0e} float32 points memory-mapped from {workdir}, chunks of {chunk:.1e} points, result written "
        "to a second memory-mapped file; threaded scheduler",
        "",
        "| operator | in-memory 1 core (Mpts/s) | dask 1 worker (Mpts/s) | dask 2 workers (Mpts/s) | scaling efficiency 2 w | peak RSS 2 w (MB) | max abs diff vs in-memory |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    ref_n = min(n, 10**8)
    xs = np.fromfile(src, dtype=np.float32, count=ref_n)
    for name, op in ops.items():
        t_mem = median_time(lambda: tsconv.apply(op, xs), 3 if ref_n <= 10**8 else 1)
        ref = tsconv.apply(op, xs)
        rates = {}
        peak = 0
        for workers in (1, 2):
            y = td.apply(op, x)
            with RssSampler() as rss:
                t = time.perf_counter()
                da.store(y, out, lock=False, scheduler="threads", num_workers=workers)
                dt = time.perf_counter() - t
            rates[workers] = n / dt / 1e6
            if workers == 2:
                peak = rss.peak
            print(f"  {name}: {workers} worker(s) {dt:.1f} s, peak RSS {rss.peak / 1e6:.0f} MB (base {rss.base / 1e6:.0f} MB)")
        # check: the first ref_n outputs of a causal op (and of a centred FIR, but the last
        # h) equal the in-memory result on the prefix
        got = np.fromfile(dst, dtype=np.float32, count=ref_n)
        h = max(op.origin, 0) if isinstance(op, tsconv.Kernel) else 0
        ok = ~np.isnan(ref[: ref_n - h])
        diff = float(np.max(np.abs(got[: ref_n - h][ok] - ref[: ref_n - h][ok])))
        nan_ok = np.array_equal(np.isnan(got[: ref_n - h]), np.isnan(ref[: ref_n - h]))
        lines.append(
            f"| {name} | {ref_n / t_mem / 1e6:.0f} | {rates[1]:.0f} | {rates[2]:.0f} | {rates[2] / rates[1] / 2:.0%} | "
            f"{peak / 1e6:.0f} | {diff:.1e}{'' if nan_ok else ' (NaN MISMATCH)'} |"
        )
        del ref, got
    del xs
    os.remove(src)
    os.remove(dst)
    return lines


# ---------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1e8 points, 10k series, 1 hour of audio")
    ap.add_argument("--only", default="series,panel,catalog")
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    args = ap.parse_args()
    only = set(args.only.split(","))
    print(f"# bench_dask {time.strftime('%Y-%m-%d')} -- {machine()}")
    out: list[str] = []
    if "series" in only:
        n = 10**8 if args.quick else 10**9
        workdir = tempfile.mkdtemp(prefix="tsconv-bench-dask-", dir=args.workdir)
        try:
            out += bench_series(n, 1 << 24, workdir) + [""]
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(out))
    print(f"ru_maxrss of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB")


if __name__ == "__main__":
    main()
