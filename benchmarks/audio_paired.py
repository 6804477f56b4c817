"""Paired audio A/B: the same degraded clips matched by two tsconv checkouts.

A difference of a few points between two runs of ``eval_audio.py`` with 100-200 clips per
cell is within the noise of the draw; matching the SAME clips with both versions shows which
clips each version gets right that the other does not.

Usage::

    python benchmarks/audio_paired.py gen DEST CLIPS.npz [--clips 150] [--band]
    python benchmarks/audio_paired.py run TSCONV_DIR DEST CLIPS.npz OUT.npz
    python benchmarks/audio_paired.py cmp A.npz B.npz CLIPS.npz

``DEST`` is what ``benchmarks/fetch_music.py DEST`` wrote (its ``catalog`` folder: 60 minutes
drawn as ``eval_audio.py`` draws them, seed 0). ``gen`` makes the clips with this checkout's
``tsconv.audio._eval.make_clip``: EQ + gain + noise cells (3 s and 1 s; white -5 / -15 dB,
pink -15 dB; white -15 dB without EQ), or with ``--band`` the band-limited cells (300 Hz
high-pass, phone band + 0 dB, speaker + room + 10 dB). ``run`` builds the catalog with the
tsconv found in ``TSCONV_DIR`` (a checkout, e.g. ``git worktree add /tmp/ref <commit>``) and
matches every clip (``Matcher(whitening='spectral', storage='float16')``, ``match(top_k=1)``).
``cmp`` prints per cell top-1 and offsets within +-1 sample of both, and the clips only one
of them gets right.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

SR = 8000
CELLS = [(3, "white", -5, True), (3, "white", -15, True), (3, "pink", -15, True), (1, "white", -5, True),
         (1, "white", -15, True), (1, "pink", -15, True), (3, "white", -15, False), (1, "white", -15, False)]
BAND_CELLS = [(s, b, None, False) for s in (3, 1) for b in ("highpass300", "phone0dB", "speaker_room")]


def gen(dest: str, out: str, n: int, band: bool) -> None:
    from tsconv.audio._eval import make_clip, real_sources

    inside = [s for s in real_sources(os.path.join(dest, "catalog"), 60.0, SR, 0) if s.in_catalog]
    rng = np.random.default_rng(12345)
    cells = BAND_CELLS if band else CELLS
    clips, meta = [], []
    for ci, (sec, kind, snr, eq) in enumerate(cells):
        ok = [s for s in inside if s.x.size > sec * SR * 1.1 + 100]
        w = np.array([s.x.size for s in ok], float)
        w /= w.sum()
        for _ in range(n):
            s = ok[int(rng.choice(len(ok), p=w))]
            if snr is None:
                clip, off = make_clip(s, sec, SR, rng, snr=None, eq=False, band=kind)
            else:
                clip, off = make_clip(s, sec, SR, rng, snr=snr, color=kind, eq=eq)
            clips.append(clip.astype(np.float32))
            meta.append((ci, s.name, off))
    arr = np.zeros((len(clips), max(c.size for c in clips)), np.float32)
    for i, c in enumerate(clips):
        arr[i, : c.size] = c
    np.savez(out, clips=arr, lens=np.array([c.size for c in clips]), cell=np.array([m[0] for m in meta]),
             name=np.array([m[1] for m in meta]), off=np.array([m[2] for m in meta]), cells=np.array([str(c) for c in cells]))
    print(f"{len(clips)} clips -> {out}")


def run(dest: str, clips_path: str, out: str) -> None:
    from tsconv.audio import Matcher
    from tsconv.audio._eval import real_sources

    d = np.load(clips_path)
    m = Matcher(sr=SR, whitening="spectral", storage="float16")
    for s in real_sources(os.path.join(dest, "catalog"), 60.0, SR, 0):
        if s.in_catalog:
            m.add(s.name, s.x, SR)
    import tsconv

    print("tsconv", os.path.dirname(tsconv.__file__), flush=True)
    track, offset, score = [], [], []
    t0 = time.time()
    for i in range(len(d["lens"])):
        res = m.match(d["clips"][i, : d["lens"][i]].astype(np.float64), SR, top_k=1, max_false_alarm=1.0)
        track.append(res[0].track if res else "")
        offset.append(res[0].offset_samples if res else np.nan)
        score.append(res[0].score if res else np.nan)
    print(f"{len(track)} clips in {time.time() - t0:.0f} s")
    np.savez(out, track=np.array(track), offset=np.array(offset, float), score=np.array(score, float))


def cmp(a_path: str, b_path: str, clips_path: str) -> None:
    a, b, d = (np.load(p) for p in (a_path, b_path, clips_path))
    for ci, cell in enumerate(d["cells"]):
        sel = d["cell"] == ci
        name, off = d["name"][sel], d["off"][sel]
        right = [r["track"][sel] == name for r in (a, b)]
        exact = [ok & (np.abs(r["offset"][sel] - off) <= 1.0) for ok, r in zip(right, (a, b))]
        cols = [f"{cell} n={int(sel.sum())}"]
        for ok, ex in zip(right, exact):
            cols.append(f"top-1 {ok.mean():.1%} offset {ex.sum() / max(ok.sum(), 1):.1%}")
        cols.append(f"top-1 only A {int((right[0] & ~right[1]).sum())} only B {int((right[1] & ~right[0]).sum())}")
        cols.append(f"offset only A {int((exact[0] & ~exact[1]).sum())} only B {int((exact[1] & ~exact[0]).sum())}")
        print(" | ".join(cols))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dest")
    g.add_argument("out")
    g.add_argument("--clips", type=int, default=150, help="clips per cell")
    g.add_argument("--band", action="store_true", help="the band-limited cells")
    r = sub.add_parser("run")
    r.add_argument("tsconv_dir")
    r.add_argument("dest")
    r.add_argument("clips")
    r.add_argument("out")
    c = sub.add_parser("cmp")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("clips")
    args = ap.parse_args()
    if args.cmd == "gen":
        gen(args.dest, args.out, args.clips, args.band)
    elif args.cmd == "run":
        sys.path.insert(0, os.path.abspath(args.tsconv_dir))
        run(args.dest, args.clips, args.out)
    else:
        cmp(args.a, args.b, args.clips)


if __name__ == "__main__":
    main()
