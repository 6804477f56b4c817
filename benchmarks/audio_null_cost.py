"""Cost of the music null (Matcher.calibrate) per catalog hour: the whole index searched with
the probe's track excluded, against one leave-one-out subset catalog built and searched per track.

Usage: ``python benchmarks/audio_null_cost.py DEST [--minutes 30] [--cache DIR] [--per-track 8]``
(DEST as written by ``benchmarks/fetch_music.py``; the catalog is built as catalog A of
``benchmarks/audio_calibration.py``: colobot's hub tracks first, then other catalog tracks).
Both ways run in the same process on the same probes; the script prints their seconds per
catalog hour, the ratio, and the largest difference of the recorded log10 probabilities
(0: the same null).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from tsconv.audio import Matcher
from tsconv.audio._null import DURATIONS, fit_music_null

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audio_calibration import SR, _catalog  # noqa: E402


def subset_calibration(m: Matcher, per_track: int, seed: int):
    """The music null as it was computed before ``candidates(exclude=...)``: one subset per track."""
    names = m.tracks
    current: dict[int, Matcher] = {}

    def probe(ti: int, start: int, length: int) -> float:
        if ti not in current:
            current.clear()
            current[ti] = m.subset([n for k, n in enumerate(names) if k != ti])
        clip = m._probe_clip(ti, start, length)
        if float(np.ptp(clip)) == 0.0:
            return 1.0
        found = current[ti].candidates(clip, SR).fitted()
        return found.p_query(float(np.max(found.z))) if len(found) else 1.0

    return fit_music_null(probe, m.track_samples, SR, DURATIONS, per_track, seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dest")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--per-track", type=int, default=8)
    ap.add_argument("--cache")
    args = ap.parse_args(argv)
    cat = _catalog(args.dest, None, ("music002", "music004", "music013"), args.minutes, args.cache)
    m = Matcher()
    for name, x in cat:
        m.add(name, x, SR)
    hours = m.duration / 3600
    m.candidates(np.zeros(SR), SR)  # the whole catalog's index, built once (a query builds it anyway)
    t0 = time.process_time()
    w0 = time.perf_counter()
    m.calibrate(per_track=args.per_track)
    new_cpu, new_wall = time.process_time() - t0, time.perf_counter() - w0
    t0 = time.process_time()
    w0 = time.perf_counter()
    old = subset_calibration(m, args.per_track, 0)
    old_cpu, old_wall = time.process_time() - t0, time.perf_counter() - w0
    assert old is not None and m.music_null is not None
    diff = float(np.max(np.abs(old.log_p - m.music_null.log_p)))
    print(f"catalog: {len(cat)} tracks, {m.duration / 60:.1f} min; {args.per_track} probes per track and duration")
    print(f"exclude (whole index): {new_cpu / hours:.0f} s CPU, {new_wall / hours:.0f} s wall per catalog hour")
    print(f"subsets (one per track): {old_cpu / hours:.0f} s CPU, {old_wall / hours:.0f} s wall per catalog hour")
    print(f"ratio subsets / exclude: CPU {old_cpu / new_cpu:.2f}x, wall {old_wall / new_wall:.2f}x; "
          f"largest |log10 p| difference {diff:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
