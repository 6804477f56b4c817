"""Evaluate the audio matcher: accuracy vs SNR, open-set detection, offsets, speed, cost.

Usage::

    python benchmarks/eval_audio.py [--quick] [--audio-dir DIR] [--minutes 60] [--queries 200]

Without ``--audio-dir`` the catalog is synthetic music-like audio
(:mod:`tsconv.audio._synth`, 20 tracks of 3 minutes plus 5 tracks kept out for the open-set
test). With ``--audio-dir`` every file libsndfile decodes under DIR is loaded at 8 kHz;
files are shuffled (seeded) and added to the catalog until it holds ``--minutes`` of
audio, the rest are out-of-catalog sources for the open-set test.

Every query is an exact excerpt of a track at a random integer offset, then (seeded)
a random gain in +-20 dB, a random 3-band peaking EQ of +-12 dB and Gaussian noise at
the given SNR (white or pink). Printed: top-1 accuracy per cell and the share of correct
identifications whose offset is within +-1 sample; open-set TPR at FPR 1% and 0.1% on
3 s clips at -15 dB; top-1 under speed changes; query time per catalog hour, build time
per hour and catalog size per hour. ``tsconv eval CATALOG`` runs the same queries on a
saved catalog (``run_eval``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

from tsconv.audio import Matcher
from tsconv.audio._eval import real_sources, run_eval, synthetic_sources


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audio-dir", help="directory of real audio (default: synthetic music)")
    ap.add_argument("--minutes", type=float, default=60.0, help="catalog size in minutes (default 60)")
    ap.add_argument("--queries", type=int, default=200, help="queries per cell (default 200)")
    ap.add_argument("--quick", action="store_true", help="small catalog, 30 queries per cell")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--whitening", default="spectral", choices=["spectral", "lpc", "none"])
    ap.add_argument("--storage", default="float16", choices=["float16", "float32"])
    ap.add_argument("--sections", default="snr,offset,open,speed")
    ap.add_argument("--speed-queries", type=int, default=None, help="queries per speed cell (default: --queries)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    sr = 8000
    minutes = 10.0 if args.quick and args.minutes == 60.0 else args.minutes
    n = 30 if args.quick and args.queries == 200 else args.queries
    t0 = time.perf_counter()
    if args.audio_dir:
        sources = real_sources(args.audio_dir, minutes, sr, args.seed)
    else:
        track_s = 180.0
        n_in = max(1, int(round(minutes * 60 / track_s)))
        sources = synthetic_sources(n_in, 5, track_s, sr, args.seed)
    print(f"decoded/generated {len(sources)} sources in {time.perf_counter() - t0:.1f} s")
    m = Matcher(sr=sr, whitening=args.whitening, storage=args.storage)
    t0 = time.perf_counter()
    for s in sources:
        if s.in_catalog:
            m.add(s.name, s.x, sr)
    build = time.perf_counter() - t0
    hours = m.duration / 3600
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cat.tsca")
        t0 = time.perf_counter()
        m.save(path)
        save_s = time.perf_counter() - t0
        size = os.path.getsize(path)
        t0 = time.perf_counter()
        m = Matcher.load(path)
        m._ensure_index()
        load_s = time.perf_counter() - t0
    import numpy
    import scipy

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}")
    print(f"catalog: {len(m)} tracks, {m.duration / 60:.1f} min ({'real audio' if args.audio_dir else 'synthetic'}), "
          f"whitening={args.whitening}, storage={args.storage}")
    print(f"build (whiten+level, excl. decoding): {build:.2f} s -> {build / hours:.2f} s per hour; save {save_s:.2f} s; "
          f"load+index {load_s:.2f} s -> {load_s / hours:.2f} s per hour")
    print(f"size on disk: {size / 1e6:.1f} MB -> {size / 1e6 / hours:.1f} MB per hour")
    rep = run_eval(m, sources, n, args.seed, args.quick, tuple(args.sections.split(",")), n_speed=args.speed_queries)
    rep.info.update(build_s_per_hour=build / hours, mb_per_hour=size / 1e6 / hours, load_s_per_hour=load_s / hours,
                    catalog_min=m.duration / 60, tracks=len(m), real=bool(args.audio_dir))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rep.rows, "info": rep.info}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
