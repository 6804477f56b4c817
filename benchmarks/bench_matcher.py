"""Cost of a ``Matcher`` query against the catalog's duration (docs/benchmarks.md, "Matcher cost").

Catalogs of synthetic tracks (3 minutes at 8 kHz each, distinct seeded coloured noise with
slow random loudness envelopes: cheap to make by the hour; the accuracy on music is the
"Audio matcher" section's business) of growing duration; for each, the median wall time of ``Matcher.match`` on 3 s clips cut
from the catalog (gain, white noise at -10 dB SNR), timed in the same run as the plain raw
cross-correlation of the clip with every track by ``scipy.signal.correlate(method='fft')``
(no whitening, no normalization, no peak statistics): the plain way to try every lag of every
track at the full rate, where the matcher's first pass searches a decimated band. The build time per hour is reported too.

Then the search's floor on the ``--floor-hours`` catalog, one core (``Matcher(workers=1)``,
CPU time): a whole query (median), against the arithmetic every query must do at least once,
the block products and inverse FFTs of one pass over the catalog's kept block spectra (the
index's own ``correlate_batches``, its output not read), the inverse FFTs alone on the same
shapes, and one read of the kept spectra (the memory bandwidth they stream at). And the part
of a query a sharded catalog's client does over the shards' answers (``d`` in
docs/scaling.md): combining the candidates (``Candidates.combine``), fitting the pooled null
and picking the best places (``fitted().top``), per catalog hour, against the whole query.

Usage::

    python benchmarks/bench_matcher.py [--hours 0.25,0.5,1,2] [--queries 7] [--floor-hours 1]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import scipy.fft
import scipy.signal

from tsconv.audio import Candidates, Matcher
from tsconv.audio import matcher as matcher_mod
from _results import Results, add_out_option, median_times  # noqa: E402  (benchmarks/_results.py: the JSON for render.py)

SR = 8000
TRACK_S = 180.0


def make_track(seed: int) -> np.ndarray:
    """Coloured noise (AR(1), 0.95) under a slow random envelope, float32."""
    r = np.random.default_rng(1000 + seed)
    n = int(TRACK_S * SR)
    x = scipy.signal.lfilter([1.0], [1.0, -0.95], r.normal(size=n))
    env = np.interp(np.arange(n), np.linspace(0, n, 40), np.exp(r.normal(scale=0.7, size=40)))
    return (x * env / np.max(np.abs(x * env)) * 0.9).astype(np.float32)


def floor(tracks: dict[str, np.ndarray], queries: int, rng: np.random.Generator) -> tuple[list[str], dict]:
    """The search's floor on the catalog of ``tracks``, one core: CPU seconds per catalog hour
    of a whole query, of one pass of block products and inverse FFTs, of the inverse FFTs
    alone, and of one read of the kept block spectra."""
    m = Matcher(sr=SR, workers=1)
    for name, x in tracks.items():
        m.add(name, x, SR)
    names = list(tracks)
    clips = []
    for _ in range(queries):
        x = tracks[names[int(rng.integers(len(names)))]]
        at = int(rng.integers(0, x.size - 3 * SR))
        clips.append(x[at : at + 3 * SR].astype(float) + rng.normal(scale=np.std(x) * 10 ** 0.5, size=3 * SR))
    m.match(clips[0], SR)  # the index, built once
    t_query = float(np.median([median_times(lambda c=c: m.match(c, SR, top_k=1), 1)[1] for c in clips]))
    d = matcher_mod._DECIMATE  # the search's first pass
    keep = matcher_mod._NFFT // (2 * d) + 1
    needle = (rng.normal(size=(1, keep)) + 1j * rng.normal(size=(1, keep))).astype(np.complex64)
    indexes = [t.index for t in m._tracks]  # the kept block spectra (private: this floor is about them)

    def products_and_ffts() -> None:
        for ix in indexes:
            for _ in ix.correlate_batches(needle, workers=1, decimate=d):
                pass

    blocks = sum(ix.n_blocks for ix in indexes)
    prod = np.ones((1, 8, keep), dtype=np.complex64)
    n_out = matcher_mod._NFFT // d

    def ffts() -> None:
        for _ in range(-(-blocks // 8)):
            scipy.fft.irfft(prod, n=n_out, axis=-1)

    def stream() -> None:  # a column sum: every byte read once, little arithmetic
        for ix in indexes:
            np.add.reduce(ix.spectra[:, :keep].view(np.float32), axis=0)

    # the client's share of a sharded query: combine the shards' candidates, fit, pick
    found = [m.candidates(c, SR) for c in clips]
    t_client = float(np.median([median_times(lambda f=f: Candidates.combine([f]).fitted().top(10), 5)[1] for f in found]))
    hours = m.duration / 3600
    nbytes = sum(ix.spectra[:, :keep].nbytes for ix in indexes)
    t_pass, t_fft, t_read = (median_times(f, 5)[1] for f in (products_and_ffts, ffts, stream))
    row = [f"{hours:.2f}", f"{t_query / hours:.3f}", f"{t_pass / hours:.3f}", f"{t_fft / hours:.3f}",
           f"{nbytes / 1e6 / hours:.0f} MB in {t_read / hours:.4f} s ({nbytes / t_read / 1e9:.1f} GB/s)",
           f"{t_query / t_pass:.2f}", f"{t_client / hours:.4f} ({t_client / t_query:.1%})"]
    print("floor:", row, flush=True)
    return row, {"hours": hours, "query": t_query, "pass": t_pass, "ffts": t_fft, "read": t_read, "bytes": nbytes,
                 "client": t_client}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", default="0.25,0.5,1,2")
    ap.add_argument("--queries", type=int, default=7)
    ap.add_argument("--floor-hours", type=float, default=1.0, help="catalog of the floor section (0: skip it)")
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
    if args.floor_hours > 0:
        while len(tracks) < max(1, round(args.floor_hours * 3600 / TRACK_S)):
            tracks[f"track{len(tracks):04d}"] = make_track(len(tracks))
        part = dict(list(tracks.items())[: max(1, round(args.floor_hours * 3600 / TRACK_S))])
        row, fl = floor(part, args.queries, rng)
        res.table(["catalog hours", "query, CPU s per catalog hour", "one pass of block products and inverse FFTs",
                   "the inverse FFTs alone", "one read of the kept block spectra, per catalog hour", "query / pass",
                   "a sharded query's client share: combine, fit, top (share of the query)"], [row],
                  "The search's floor, one core (CPU seconds per catalog hour, medians): a whole query against one pass "
                  "over the kept block spectra, the arithmetic every query does at least once")
        res.data("floor", fl)
    res.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
