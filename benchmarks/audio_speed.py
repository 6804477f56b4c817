"""Clips played faster or slower: the speed search's top-1 and its cost against a normal query.

Usage::

    python benchmarks/fetch_music.py DEST          # once: real music from Debian packages
    python benchmarks/audio_speed.py DEST [--minutes 60] [--clips 100] [--speed-range 0.021] [--negatives 100]

The catalog is the first ``--minutes`` of ``DEST/catalog`` (the sources of
``benchmarks/eval_audio.py``). Each query is a 3 s excerpt of a catalog track (not quiet)
played at another speed (``tsconv.audio.degrade.speed``): half exactly 2% fast or slow, half
at a random speed within 2%; then a random 3-band peaking EQ (+-12 dB) and a gain (+-20 dB),
no noise. Each clip is matched with ``match(clip, sr, speed_range=...)`` and, for the cost
ratio, with a normal ``match`` (no speed search; it does not find such clips, it is timed).
A second set, ``--unaltered`` clips of 3 s at their true speed (the same EQ and gain; a
quarter each clean and with white noise at -10, -15 and -20 dB SNR), asks what the speed
search costs the clips a user of it meets as often: both ways of matching are scored there.
Then, with ``--negatives N``, the catalog gets its music null (``Matcher.calibrate()``) and the
clips played at another speed are matched again (the right track at p <= 0.01 with it), and
``N`` 3 s excerpts of out-of-catalog music (``DEST/negatives``: other soundtracks) played at a
random speed within 2%, with EQ and gain, are matched without and with the speed search: the
share reported at p <= 0.01 and 1e-3 (a calibrated p gives 1% and 0.1%).
Printed and recorded: top-1 (the right track), top-1 at its place (the reported offset within
one sample of the excerpt's start), the right track reported at p <= 0.01
(the default ``max_false_alarm``; no music null: the catalog is not calibrated), the median error of the estimated speed
of the right answers, and the median CPU time (both threads of ``Matcher(workers=2)``) and
wall time per query of both, with their ratio. There is no peer in this section: no library in the environment
searches an audio catalog over playback speeds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's tsconv

SR = 8000
SNRS = (None, -10.0, -15.0, -20.0)  # of the clips at their true speed


def _drawer(sources: list) -> Callable[[np.random.Generator], Any]:
    """A draw of one of ``sources`` long enough for a 3 s clip (played up to 10% slow),
    weighted by its length."""
    long = [s for s in sources if s.x.size > 3 * SR * 1.1 + 100]
    w = np.array([s.x.size for s in long], dtype=float)
    w /= w.sum()
    return lambda rng: long[int(rng.choice(len(long), p=w))]


def main() -> None:
    from _results import Results, add_out_option

    from tsconv.audio import Matcher
    from tsconv.audio._eval import make_clip, real_sources

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest", help="the folder benchmarks/fetch_music.py filled (catalog/ inside)")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--clips", type=int, default=100)
    ap.add_argument("--speed-range", type=float, default=0.021)
    ap.add_argument("--unaltered", type=int, default=120)
    ap.add_argument("--negatives", type=int, default=100,
                    help="out-of-catalog clips (DEST/negatives) matched after calibrate(); 0: none")
    ap.add_argument("--seed", type=int, default=7)
    add_out_option(ap)
    args = ap.parse_args()
    sources = [s for s in real_sources(os.path.join(args.dest, "catalog"), args.minutes, SR, args.seed) if s.in_catalog]
    m = Matcher(sr=SR)
    for s in sources:
        m.add(s.name, s.x, SR)
    inside = _drawer(sources)
    rng = np.random.default_rng(args.seed)
    clips = []
    for i in range(args.clips):
        src = inside(rng)
        speed = 1.0 + rng.choice([-1.0, 1.0]) * (0.02 if i % 2 == 0 else rng.uniform(0.0, 0.02))
        clip, off = make_clip(src, 3.0, SR, rng, snr=None, eq=True, speed=speed)
        clips.append((src.name, speed, clip, off))
    m.match(clips[0][2], SR)  # builds the search index
    rows = []
    for name, speed, clip, off in clips:  # interleaved: the two searches of a clip run back to back
        c0, t0 = time.process_time(), time.perf_counter()
        m.match(clip, SR, top_k=1, max_false_alarm=1.0)
        normal = (time.process_time() - c0, time.perf_counter() - t0)
        c0, t0 = time.process_time(), time.perf_counter()
        r = m.match(clip, SR, top_k=1, max_false_alarm=1.0, speed_range=args.speed_range)
        searched = (time.process_time() - c0, time.perf_counter() - t0)
        ok = bool(r) and r[0].track == name
        rows.append((ok, abs(r[0].speed - speed) if ok else np.nan, normal, searched,
                     ok and r[0].false_alarm_probability <= 0.01, ok and abs(r[0].offset_samples - off) <= 1.0))
    ok = np.array([r[0] for r in rows])
    detected = float(np.mean([r[4] for r in rows]))
    placed = float(np.mean([r[5] for r in rows]))
    err = np.array([r[1] for r in rows if r[0]])
    cpu_n, wall_n = np.median([r[2][0] for r in rows]), np.median([r[2][1] for r in rows])
    cpu_s, wall_s = np.median([r[3][0] for r in rows]), np.median([r[3][1] for r in rows])
    edge = ok[0::2].mean()
    inner = ok[1::2].mean()
    print(f"catalog {m.duration / 60:.1f} min, {len(m)} tracks; {len(clips)} clips of 3 s, speed_range={args.speed_range}")
    print(f"top-1 {ok.mean():.1%} (exactly +-2%: {edge:.1%}, within 2%: {inner:.1%}); at its place +-1 sample: {placed:.1%}; "
          f"right track at p <= 0.01: {detected:.1%}; "
          f"median speed error {np.median(err):.2e}")
    print(f"CPU per query: normal {cpu_n:.3f} s, speed search {cpu_s:.3f} s ({cpu_s / cpu_n:.1f}x); "
          f"wall {wall_n:.3f} s, {wall_s:.3f} s ({wall_s / wall_n:.1f}x)")
    plain_rows = []
    for i in range(args.unaltered):
        src = inside(rng)
        snr = SNRS[i % len(SNRS)]
        clip, _ = make_clip(src, 3.0, SR, rng, snr=snr, eq=True)
        row = [snr]
        for r_ in (0.0, args.speed_range):
            c0 = time.process_time()
            r = m.match(clip, SR, top_k=1, max_false_alarm=1.0, speed_range=r_)
            hit = bool(r) and r[0].track == src.name
            row += [hit, hit and r[0].false_alarm_probability <= 0.01, time.process_time() - c0]
        plain_rows.append(row)
    unaltered = []
    for snr in SNRS:
        label = "clean" if snr is None else f"white noise {snr:g} dB"
        sel = [r for r in plain_rows if r[0] == snr]
        if not sel:
            continue
        a = np.array([r[1:] for r in sel], dtype=float)
        unaltered.append([label, len(sel), f"{a[:, 0].mean():.1%} / {a[:, 3].mean():.1%}", f"{a[:, 1].mean():.1%} / {a[:, 4].mean():.1%}",
                          f"{np.median(a[:, 2]):.3f} / {np.median(a[:, 5]):.3f}", f"{np.median(a[:, 5]) / np.median(a[:, 2]):.1f}x"])
        print(f"unaltered, {label}: top-1 normal / speed search {unaltered[-1][2]}; at p <= 0.01 {unaltered[-1][3]}; "
              f"CPU {unaltered[-1][4]} s ({unaltered[-1][5]})")
    res = Results("audio_speed", "Audio: clips played faster or slower", __doc__.split("\n\n", 3)[3])
    res.placeholders({args.dest: "DEST"})
    res.table(["catalog", "clips", "speed_range", "top-1", "top-1 at exactly +-2%", "top-1 within 2%", "top-1 at its place +-1 sample",
               "right track at p <= 0.01", "median speed error",
               "CPU s per query: normal / speed search", "ratio (CPU)", "wall s per query: normal / speed search", "ratio (wall)"],
              [[f"{m.duration / 60:.1f} min", len(clips), f"{args.speed_range:g}", f"{ok.mean():.1%}", f"{edge:.1%}", f"{inner:.1%}",
                f"{placed:.1%}", f"{detected:.1%}", f"{np.median(err):.1e}", f"{cpu_n:.3f} / {cpu_s:.3f}", f"{cpu_s / cpu_n:.1f}x", f"{wall_n:.3f} / {wall_s:.3f}",
                f"{wall_s / wall_n:.1f}x"]],
              "Matcher(workers=2), default settings; medians over the clips")
    if unaltered:
        res.table(["clips at their true speed", "clips", "top-1: normal / speed search", "right track at p <= 0.01: normal / speed search",
                   "CPU s per query: normal / speed search", "ratio (CPU)"], unaltered,
                  f"the same matcher; speed search with speed_range={args.speed_range:g}")
    if args.negatives:
        # the music null (Matcher.calibrate), then the same clips played at another speed, and
        # out-of-catalog music played at a random speed within 2%: the false alarms of each search
        t0 = time.perf_counter()
        m.calibrate()
        t_cal = time.perf_counter() - t0
        hits = []
        for name, speed, clip, off in clips:
            r = m.match(clip, SR, top_k=1, max_false_alarm=1.0, speed_range=args.speed_range)
            hits.append(bool(r) and r[0].track == name and r[0].false_alarm_probability <= 0.01)
        others = _drawer(real_sources(os.path.join(args.dest, "negatives"), 0.0, SR, args.seed))
        neg = []
        for _ in range(args.negatives):
            src = others(rng)
            clip, _ = make_clip(src, 3.0, SR, rng, snr=None, eq=True, speed=1.0 + rng.uniform(-0.02, 0.02))
            row = []
            for r_ in (0.0, args.speed_range):
                r = m.match(clip, SR, top_k=1, max_false_alarm=1.0, speed_range=r_)
                row.append(min((mt.false_alarm_probability for mt in r), default=1.0))
            neg.append(row)
        neg_p = np.array(neg)
        shares = [f"{np.mean(neg_p[:, 0] <= lv):.1%} / {np.mean(neg_p[:, 1] <= lv):.1%}" for lv in (1e-2, 1e-3)]
        print(f"music null ({t_cal:.0f} s): clips at another speed, right track at p <= 0.01 {np.mean(hits):.1%}; "
              f"{len(neg)} out-of-catalog clips at p <= 0.01 / 1e-3, normal / speed search: {shares[0]}, {shares[1]}")
        res.table(["with the music null", "clips", "right track at p <= 0.01 (speed search)",
                   "reported at p <= 0.01: normal / speed search", "at p <= 1e-3: normal / speed search"],
                  [["the clips played at another speed (above)", len(clips), f"{np.mean(hits):.1%}", "", ""],
                   ["out-of-catalog music (DEST/negatives), 3 s, a random speed within 2%, EQ and gain", len(neg), "",
                    shares[0], shares[1]]],
                  f"the same catalog after calibrate() ({t_cal:.0f} s); speed search with speed_range={args.speed_range:g}")
    res.save(args.out)


if __name__ == "__main__":
    main()
