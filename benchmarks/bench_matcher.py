"""Cost of a ``Matcher`` query against the catalog's duration (docs/benchmarks.md, "Matcher cost").

Catalogs of synthetic tracks (3 minutes at 8 kHz each, distinct seeded coloured noise with
slow random loudness envelopes: cheap to make by the hour; the accuracy on music is the
"Audio matcher" section's business) of growing duration; for each, the median wall time of ``Matcher.match`` on 3 s clips cut
from the catalog (gain, white noise at -10 dB SNR), timed in the same run as the plain raw
cross-correlation of the clip with every track by ``scipy.signal.correlate(method='fft')``
(no whitening, no normalization, no peak statistics): the plain way to try every lag of every
track at the full rate, where the matcher's first pass searches a decimated band. The build time per hour is reported too.

Usage::

    python benchmarks/bench_matcher.py [--hours 0.25,0.5,1,2] [--queries 7]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import scipy.signal

from tsconv.audio import Matcher
from _results import Results, add_out_option  # noqa: E402  (benchmarks/_results.py: the JSON for render.py)

SR = 8000
TRACK_S = 180.0


def make_track(seed: int) -> np.ndarray:
    """Coloured noise (AR(1), 0.95) under a slow random envelope, float32."""
    r = np.random.default_rng(1000 + seed)
    n = int(TRACK_S * SR)
    x = scipy.signal.lfilter([1.0], [1.0, -0.95], r.normal(size=n))
    env = np.interp(np.arange(n), np.linspace(0, n, 40), np.exp(r.normal(scale=0.7, size=40)))
    return (x * env / np.max(np.abs(x * env)) * 0.9).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", default="0.25,0.5,1,2")
    ap.add_argument("--queries", type=int, default=7)
    add_out_option(ap)
    args = ap.parse_args(argv)
    hours = [float(h) for h in args.hours.split(",")]
    rng = np.random.default_rng(0)
    tracks: dict[str, np.ndarray] = {}
    rows, data = [], []
    for h in hours:
        n_tracks = max(1, round(h * 3600 / TRACK_S))
        while len(tracks) < n_tracks:
            tracks[f"track{len(tracks):04d}"] = make_track(len(tracks))
        t0 = time.perf_counter()
        m = Matcher(sr=SR)
        for name, x in tracks.items():
            m.add(name, x, SR)
        build = time.perf_counter() - t0
        cat_h = m.duration / 3600
        t_match, t_scipy, hits = [], [], 0
        names = list(tracks)
        for q in range(args.queries):
            name = names[int(rng.integers(len(names)))]
            at = int(rng.integers(0, tracks[name].size - 3 * SR))
            clip = tracks[name][at : at + 3 * SR].astype(float) * 10 ** (rng.uniform(-1, 1))
            clip = clip + rng.normal(scale=np.std(clip) * 10 ** (10 / 20), size=clip.size)
            t = time.perf_counter()
            res = m.match(clip, SR, top_k=1)
            t_match.append(time.perf_counter() - t)
            hits += bool(res) and res[0].track == name and abs(res[0].offset * SR - at) <= 1
            t = time.perf_counter()
            for x in tracks.values():
                scipy.signal.correlate(x, clip, mode="valid", method="fft")
            t_scipy.append(time.perf_counter() - t)
        tm, ts = float(np.median(t_match)), float(np.median(t_scipy))
        print(f"{cat_h:.2f} h ({len(tracks)} tracks): match {tm:.3f} s, scipy correlate {ts:.3f} s, "
              f"build {build:.1f} s, top-1 + offset {hits}/{args.queries}", flush=True)
        rows.append([f"{cat_h:.2f}", str(len(tracks)), f"{tm:.3f}", f"{tm / cat_h:.3f}", f"{ts:.3f}", f"{ts / tm:.1f}",
                     f"{build / cat_h:.1f}", f"{hits}/{args.queries}"])
        data.append({"hours": cat_h, "tsconv": tm, "scipy": ts})
    res = Results("matcher", "Matcher cost against catalog duration", f"""
        Catalogs of synthetic tracks (seeded coloured noise under slow random envelopes,
        3 minutes at 8 kHz each) of growing duration;
        3 s clips cut from them with a random gain and white noise at -10 dB SNR. Median wall
        time of {args.queries} ``Matcher.match`` queries, beside the raw cross-correlation of the
        same clip with every track by ``scipy.signal.correlate(method='fft')`` in the same run
        (no whitening, normalization or statistics): the plain way to try every lag of every
        track at the full rate, where the matcher's first pass searches a decimated band.
        "scipy / tsconv" above 1 means the matcher is faster.""")
    res.table(["catalog hours", "tracks", "tsconv match s", "tsconv s per catalog hour", "scipy correlate s",
               "scipy / tsconv", "build s per hour", "right track and offset"], rows)
    res.data("cost", data)
    res.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
