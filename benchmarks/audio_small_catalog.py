"""False alarms of the audio matcher in tiny catalogs: pure-noise clips against one track.

Usage::

    python benchmarks/audio_small_catalog.py [--clips 200] [--tracks-s 1,6,20,60]

For each catalog (one synthetic track of the given length) the clips are white and pink
noise of 1, 2 and 3 s; each is matched with ``max_false_alarm=1.0`` and its smallest
reported false-alarm probability kept. A calibrated matcher gives p <= 0.01 for about 1%
of them and p <= 0.05 for about 5%. Printed: those shares, with their binomial 99%
interval under calibration, and the median query time. Below 1,000 chunk maxima the null
fit is topped up with surrogate clips (``docs/audio.md``, "Small catalogs"), which the
query time includes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.stats

from tsconv.audio import Matcher, degrade
from tsconv.audio._synth import synth_track

SR = 8000


def run(track_s: float, n: int) -> tuple[float, float, float, float]:
    m = Matcher()
    m.add("only", synth_track(track_s, SR, seed=7), SR)
    rng = np.random.default_rng(5)
    ps, times = [], []
    for i in range(n):
        y = degrade.colored_noise(int((1.0 + i % 3) * SR), ("white", "pink")[i % 2], seed=rng)
        t0 = time.perf_counter()
        res = m.match(y, SR, top_k=5, max_false_alarm=1.0)
        times.append(time.perf_counter() - t0)
        ps.append(min((r.false_alarm_probability for r in res), default=1.0))
    p = np.array(ps)
    return float(np.mean(p <= 0.01)), float(np.mean(p <= 0.05)), float(np.mean(p <= 0.5)), float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--tracks-s", default="1,6,20,60", help="track lengths in seconds, comma-separated")
    args = ap.parse_args()
    lo01, hi01 = (scipy.stats.binom.ppf(q, args.clips, 0.01) / args.clips for q in (0.005, 0.995))
    lo05, hi05 = (scipy.stats.binom.ppf(q, args.clips, 0.05) / args.clips for q in (0.005, 0.995))
    print(f"{args.clips} noise clips per catalog; calibrated 99% ranges: p<=0.01 {lo01:.1%}-{hi01:.1%}, "
          f"p<=0.05 {lo05:.1%}-{hi05:.1%}")
    print(f"{'track s':>8} {'p<=0.01':>8} {'p<=0.05':>8} {'p<=0.5':>8} {'query ms':>9}")
    for s in (float(v) for v in args.tracks_s.split(",")):
        a, b, c, t = run(s, args.clips)
        print(f"{s:8.0f} {a:8.1%} {b:8.1%} {c:8.1%} {1000 * t:9.1f}")


if __name__ == "__main__":
    main()
