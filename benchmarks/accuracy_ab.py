"""Matcher accuracy of this checkout against an earlier one, clip by clip (docs/benchmarks.md).

The cells of ``eval_audio.py``'s accuracy tables (3 s and 1 s clips with a random 3-band EQ,
a gain and white or pink noise at -5 to -20 dB; then without the EQ) drawn once, by this
checkout, with a seed of their own (``--seed``, not the record's 0: fresh clips), and matched
by two checkouts (``BASE``, e.g. ``git worktree add /tmp/base 54ae9c1``, and this one), each
in a worker process that builds the same catalog (``Matcher(sr=8000, whitening='spectral',
storage='float16')``). Because both answer the same clips, a change in a cell is a change of
answers, not of draws. Reported per cell: top-1 (the right track) and the right offset
(within +-1 sample) of both, the right passage (within +-1 sample or at a place whose clean
excerpt correlates at least 0.9 with the true one's), and the clips whose offset one side got
and the other put at another place of the right track, with the correlation of the two
places' clean excerpts: music repeats itself (loops, refrains), and a clip in noise cannot
tell two near-identical passages apart. Totals: clips gained and lost, and a sign test of the two.

Usage::

    python benchmarks/accuracy_ab.py BASE --audio-dir DEST/catalog [--minutes 60] [--queries 200] [--seed 1]
                                          [--speed-queries 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _results import Results  # noqa: E402  (benchmarks/_results.py)
from query_cost_ab import _commit, parse_ab  # noqa: E402

HERE = Path(__file__).resolve().parent
SR = 8000
# eval_audio.py's cells: (clip seconds, noise colour, SNR dB, EQ, playback speed); the speed
# cells (no noise) are matched with speed_range=SPEED_RANGE, as eval_audio.py does
CELLS = ([(s, c, snr, True, 1.0) for s in (3.0, 1.0) for c in ("white", "pink") for snr in (-5.0, -10.0, -15.0, -20.0)]
         + [(3.0, "white", -5.0, False, 1.0), (3.0, "white", -15.0, False, 1.0), (1.0, "white", -15.0, False, 1.0)])
SPEED_CELLS = [(3.0, "none", None, True, f) for f in (0.99, 0.995, 1.005, 1.01)]
SPEED_RANGE = 0.011
NEAR = 0.9  # two places whose clean excerpts correlate this much are near-copies


def _worker(checkout: str, data: str, out: str) -> None:
    """Build the catalog with ``checkout``'s tsconv, match every clip, write ``[track, offset]`` rows."""
    sys.path.insert(0, checkout)
    import tsconv
    from tsconv.audio import Matcher

    assert Path(tsconv.__file__).resolve().is_relative_to(Path(checkout).resolve()), tsconv.__file__
    with np.load(data) as z:
        names = [str(n) for n in z["names"]]
        m = Matcher(sr=SR, whitening="spectral", storage="float16")
        for i, name in enumerate(names):
            m.add(name, z[f"track{i}"], SR)
        rows = []
        speed_range = z["speed_range"]
        for i in range(int(z["n_clips"])):
            res = m.match(z[f"clip{i}"], SR, top_k=1, max_false_alarm=1.0, speed_range=float(speed_range[i]))
            rows.append([names.index(res[0].track), float(res[0].offset_samples)] if res else [-1, float("nan")])
    tmp = out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(rows, fh)
    os.replace(tmp, out)


def _draw(args: argparse.Namespace, cells: list[tuple[float, str, float | None, bool, float]]
          ) -> tuple[list[str], list[np.ndarray], list[np.ndarray], list[tuple[int, int, int]]]:
    """The catalog's tracks and the clips, each with ``(cell, track, offset)``, drawn as eval_audio.py draws them."""
    from tsconv.audio._eval import make_clip, real_sources

    src = [s for s in real_sources(args.audio_dir, args.minutes, SR, 0) if s.in_catalog]
    rng = np.random.default_rng(args.seed)
    clips, truth = [], []
    for ci, (seconds, color, snr, eq, speed) in enumerate(cells):
        inside = [k for k, s in enumerate(src) if s.x.size > seconds * SR * 1.1 + 100]
        w = np.array([src[k].x.size for k in inside], float)
        for _ in range(args.queries if speed == 1.0 else args.speed_queries):
            k = inside[int(rng.choice(len(inside), p=w / w.sum()))]
            clip, off = make_clip(src[k], seconds, SR, rng, snr=snr, color="white" if color == "none" else color,
                                  eq=eq, speed=speed)
            clips.append(clip.astype(np.float32))
            truth.append((ci, k, int(off)))
    return [s.name for s in src], [s.x for s in src], clips, truth


def _corr(x: np.ndarray, a: int, b: int, n: int) -> float:
    """Pearson correlation of ``x[a:a+n]`` and ``x[b:b+n]`` (nan when ``b`` runs off the track)."""
    if b < 0 or b + n > x.size:
        return float("nan")
    u, v = x[a:a + n].astype(np.float64), x[b:b + n].astype(np.float64)
    u, v = u - u.mean(), v - v.mean()
    return float(u @ v / np.sqrt((u @ u) * (v @ v)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", nargs="?", help="a checkout of the earlier commit (git worktree add DIR COMMIT)")
    ap.add_argument("--audio-dir", default=None, help="fetch_music.py DEST's catalog folder")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--queries", type=int, default=200, help="clips per cell")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--speed-queries", type=int, default=0,
                    help="clips per speed cell (0.99, 0.995, 1.005, 1.01; top-1 with speed_range=0.011); 0: none")
    args = parse_ab(ap, argv, _worker, ("CHECKOUT", "DATA", "OUT"))
    if args is None:
        return 0
    if not args.audio_dir or not Path(args.audio_dir).is_dir():
        ap.error(f"--audio-dir must be a folder of music (fetch_music.py DEST/catalog), got {args.audio_dir!r}")
    if args.queries < 1:
        ap.error(f"--queries must be >= 1, got {args.queries}")
    if args.speed_queries < 0:
        ap.error(f"--speed-queries must be >= 0, got {args.speed_queries}")
    cells = CELLS + (SPEED_CELLS if args.speed_queries else [])
    names, tracks, clips, truth = _draw(args, cells)
    sides = {"base": str(Path(args.base).resolve()), "this": str(HERE.parent)}
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.npz")
        np.savez(data, names=np.array(names), n_clips=len(clips),
                 speed_range=np.array([SPEED_RANGE if cells[t[0]][4] != 1.0 else 0.0 for t in truth]),
                 **{f"track{i}": x for i, x in enumerate(tracks)},
                 **{f"clip{i}": c for i, c in enumerate(clips)})
        outs = {s: os.path.join(tmp, f"{s}.json") for s in sides}
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", d, data, outs[s]]) for s, d in sides.items()]
        for p in procs:
            if p.wait() != 0:
                raise RuntimeError(f"a worker stopped (exit status {p.returncode})")
        answers = {s: json.loads(Path(outs[s]).read_text()) for s in sides}
    from scipy.stats import binomtest

    track_ok = {s: np.array([a[0] == t[1] for a, t in zip(answers[s], truth)]) for s in sides}
    off_err = {s: np.array([a[1] - t[2] if a[0] == t[1] else np.nan for a, t in zip(answers[s], truth)]) for s in sides}
    place_ok = {s: track_ok[s] & (np.abs(np.nan_to_num(off_err[s], nan=np.inf)) <= 1.0) for s in sides}
    cell = np.array([t[0] for t in truth])
    normal = np.array([cells[t[0]][4] == 1.0 for t in truth])

    def place_corr(side: str) -> np.ndarray:
        """Per clip that ``side`` placed elsewhere in the right track: the correlation of the clean
        excerpts at its place and at the true one (nan for the other clips)."""
        out = np.full(len(truth), np.nan)
        for i in np.flatnonzero(normal & track_ok[side] & ~place_ok[side]):
            ci, k, off = truth[i]
            out[i] = _corr(tracks[k], off, int(round(off + off_err[side][i])), int(cells[ci][0] * SR))
        return out

    corr = {s: place_corr(s) for s in sides}
    passage_ok = {s: place_ok[s] | (np.nan_to_num(corr[s], nan=-1.0) >= NEAR) for s in sides}

    def moved(frm: str, to: str, sel: np.ndarray) -> tuple[int, list[float]]:
        """Clips ``frm`` placed right and ``to`` placed elsewhere in the right track: count, and correlations."""
        idx = np.flatnonzero(sel & place_ok[frm] & track_ok[to] & ~place_ok[to])
        return idx.size, [float(corr[to][i]) for i in idx]

    rows, data_out = [], []
    for ci, (seconds, color, snr, eq, speed) in enumerate(cells):
        sel = cell == ci
        n_lost, c_lost = moved("base", "this", sel)
        n_gain, c_gain = moved("this", "base", sel)
        near = sum(c >= NEAR for c in c_lost + c_gain)
        if speed != 1.0:  # the offset of a clip played at another speed is not the question here
            rows.append([f"{seconds:g} s at speed {speed:g}", color, "", "yes" if eq else "no",
                         int(track_ok["base"][sel].sum()), int(track_ok["this"][sel].sum()), "", "", "", "", "", ""])
            data_out.append(dict(seconds=seconds, speed=speed, n=int(sel.sum()),
                                 top1=[int(track_ok[s][sel].sum()) for s in sides]))
            print(" | ".join(str(v) for v in rows[-1]), flush=True)
            continue
        rows.append([f"{seconds:g} s", color, f"{snr:g} dB", "yes" if eq else "no",
                     int(track_ok["base"][sel].sum()), int(track_ok["this"][sel].sum()),
                     int(place_ok["base"][sel].sum()), int(place_ok["this"][sel].sum()),
                     int(passage_ok["base"][sel].sum()), int(passage_ok["this"][sel].sum()),
                     f"{n_lost} / {n_gain}", f"{near} of {n_lost + n_gain}"])
        data_out.append(dict(seconds=seconds, noise=color, snr=snr, eq=eq, n=int(sel.sum()),
                             top1=[int(track_ok[s][sel].sum()) for s in sides],
                             offset=[int(place_ok[s][sel].sum()) for s in sides],
                             passage=[int(passage_ok[s][sel].sum()) for s in sides], moved=[n_lost, n_gain]))
        print(" | ".join(str(v) for v in rows[-1]), flush=True)
    totals = []
    for label, ok, sel in (("top-1", track_ok, np.ones(len(truth), bool)), ("offset within +-1 sample", place_ok, normal),
                           (f"the right passage (+-1 sample or a near-copy, >= {NEAR})", passage_ok, normal)):
        ok = {s: v[sel] for s, v in ok.items()}
        gained = int(np.sum(ok["this"] & ~ok["base"]))
        lost = int(np.sum(ok["base"] & ~ok["this"]))
        p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
        totals.append([label, int(sel.sum()), int(ok["base"].sum()), int(ok["this"].sum()), gained, lost, f"{p:.2g}"])
        print(" | ".join(str(v) for v in totals[-1]), flush=True)
    base_commit = _commit(args.base)
    res = Results("accuracy_ab", "Matcher accuracy against an earlier commit", f"""
        The cells of the audio matcher's accuracy tables (`eval_audio.py`), {args.queries} fresh clips
        per cell (seed {args.seed}){f", {args.speed_queries} per speed cell (3 s clips played 1% or 0.5% fast or slow, EQ and gain, no noise, matched with speed_range={SPEED_RANGE}: top-1 only)" if args.speed_queries else ""}, matched by two checkouts: the base, commit {base_commit}, and this
        one, each building the same catalog of {sum(x.size for x in tracks) / SR / 60:.1f} min of real
        music (fetch_music.py catalog) with ``Matcher(sr=8000, whitening='spectral', storage='float16')``.
        The same clips on both sides: a difference is a change of answers, not of draws. "Moved" counts
        the clips one side placed within +-1 sample and the other at another place of the right track
        (base right and this one elsewhere / the reverse); of those, how many went to a place whose clean
        excerpt correlates at least {NEAR} with the true one: a repeat of the passage in the music, which
        a clip in noise cannot tell from the true place. "Passage" counts the clips placed within +-1 sample
        or at such a near-copy (the same passage of the music). There is no peer in this section: the
        comparison is with tsconv itself at the base.""")
    res.placeholders({args.base: "BASE", "--audio-dir": "DEST/catalog"})
    res.table(["clip", "noise", "SNR", "EQ", "top-1 base", "top-1 this", "offset base", "offset this",
               "passage base", "passage this", "moved (lost / gained)", "moved to a near-copy"], rows,
              f"Clips per cell: {args.queries}" + (f" ({args.speed_queries} per speed cell)" if args.speed_queries else ""))
    res.table(["", "clips", "base", "this", "gained", "lost", "sign test p"], totals, "All cells")
    res.data("cells", data_out)
    res.record["base_commit"] = base_commit
    res.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
