"""Matcher query cost of this checkout against an earlier one, query by query (docs/benchmarks.md).

Two worker processes, one per checkout (``BASE``, e.g. ``git worktree add /tmp/base 54ae9c1``,
and this one), each build the same catalog (``Matcher(sr=8000, whitening='spectral',
storage='float16')``, two threads per query, the default) and wait; the driver then hands
them the same clips one at a time, alternating which side goes first, and collects each
query's wall and CPU time. Pairing query by query keeps the comparison fair on a shared
machine whose speed drifts by 10-40% over minutes (runs of one version after the other did
not agree on the ratio to within 10% here). Reported: each side's median, and the median and
geometric mean of the per-query ratios this / base, for all clips and by clip length.

The clips (drawn once, seeded, by this checkout): 3 s and 1 s excerpts at random places of
random tracks, random gain (+-20 dB), clean or in white noise at -5, -10 or -15 dB SNR, the
cells ``eval_audio.py`` times. The catalog: ``--audio-dir`` (what ``fetch_music.py DEST``
wrote, its ``catalog`` folder; ``--minutes`` of it drawn as ``eval_audio.py`` draws them) or,
without it, synthetic tracks (``bench_matcher.py``'s) of ``--minutes``.

Usage::

    python benchmarks/query_cost_ab.py BASE [--audio-dir DEST/catalog] [--minutes 60] [--queries 80] [--rounds 2]
                                            [--step CHECKOUT ...]

``--step`` (repeatable) adds checkouts of commits between the base and this one, each a
worker matching the same clips in the same rotation: a second table gives every step's
ratios to the base, which says what each stretch of history did to the cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from _results import Results, add_out_option, git  # noqa: E402  (benchmarks/_results.py)

HERE = Path(__file__).resolve().parent
SR = 8000


def _worker(checkout: str, data: str) -> None:
    """Build the catalog of ``data`` with ``checkout``'s tsconv, then match clip ``i`` for
    every line ``i`` read, answering ``wall cpu`` in seconds."""
    sys.path.insert(0, checkout)
    import tsconv
    from tsconv.audio import Matcher

    assert Path(tsconv.__file__).resolve().is_relative_to(Path(checkout).resolve()), tsconv.__file__
    with np.load(data) as z:
        names = [str(n) for n in z["names"]]
        tracks = [z[f"track{i}"] for i in range(len(names))]
        clips = [z[f"clip{i}"] for i in range(int(z["n_clips"]))]
    m = Matcher(sr=SR, whitening="spectral", storage="float16")
    for name, x in zip(names, tracks):
        m.add(name, x, SR)
    for clip in clips[:2]:  # the index, the compiled kernels, the caches
        m.match(clip, SR)
    print(f"ready {m.duration / 3600:.6f}", flush=True)
    for line in sys.stdin:
        clip = clips[int(line)]
        t, c = time.perf_counter(), time.process_time()
        m.match(clip, SR)
        print(f"{time.perf_counter() - t:.6f} {time.process_time() - c:.6f}", flush=True)


def _draw(args: argparse.Namespace) -> tuple[list[str], list[np.ndarray], list[np.ndarray], list[float]]:
    """The catalog's tracks and the clips (two warm-up clips first), with each clip's length in s."""
    rng = np.random.default_rng(args.seed)
    if args.audio_dir:
        from tsconv.audio._eval import real_sources

        src = [s for s in real_sources(args.audio_dir, args.minutes, SR, args.seed) if s.in_catalog]
        names, tracks = [s.name for s in src], [np.asarray(s.x, np.float32) for s in src]
    else:
        sys.path.insert(0, str(HERE))
        from bench_matcher import TRACK_S, make_track

        n = max(1, round(args.minutes * 60 / TRACK_S))
        names, tracks = [f"track{i:04d}" for i in range(n)], [make_track(i) for i in range(n)]
    clips, lengths = [], []
    for q in range(args.queries + 2):
        seconds = (3.0, 1.0)[q % 2]
        k = int(rng.integers(len(tracks)))
        n = int(seconds * SR)
        at = int(rng.integers(0, tracks[k].size - n))
        clip = tracks[k][at : at + n].astype(np.float64) * 10 ** rng.uniform(-1, 1)
        snr = (None, -5.0, -10.0, -15.0)[(q // 2) % 4]
        if snr is not None:
            clip = clip + rng.normal(scale=np.std(clip) * 10 ** (-snr / 20), size=n)
        clips.append(clip)
        lengths.append(seconds)
    return names, tracks, clips, lengths


def _read(p: subprocess.Popen[str]) -> list[str]:
    assert p.stdout is not None
    line = p.stdout.readline()
    if not line:
        raise RuntimeError(f"a worker stopped (exit status {p.wait()})")
    return line.split()


def _ask(p: subprocess.Popen[str], i: int | None) -> list[str]:
    """Have worker ``p`` match clip ``i`` and return its answer; None: let it finish."""
    assert p.stdin is not None
    if i is None:
        p.stdin.close()
        p.wait()
        return []
    p.stdin.write(f"{i}\n")
    p.stdin.flush()
    return _read(p)


def _commit(checkout: str) -> str:
    return git(checkout, "rev-parse", "--short=10", "HEAD") or "unknown"


def check_checkout(ap: argparse.ArgumentParser, name: str, path: str | None) -> None:
    """``ap.error`` unless ``path`` is a checkout of tsconv (a folder holding tsconv/)."""
    if not path or not (Path(path) / "tsconv" / "__init__.py").is_file():
        ap.error(f"{name} must be a checkout holding tsconv/, got {path!r}")


def parse_ab(ap: argparse.ArgumentParser, argv: list[str] | None, worker: Callable[..., None],
             metavar: tuple[str, ...]) -> argparse.Namespace | None:
    """The arguments of an A/B script (``BASE`` checked, ``--out`` added), or None when this
    process was started as one of its workers (``--worker``; it has then done its work)."""
    ap.add_argument("--worker", nargs=len(metavar), metavar=metavar, help=argparse.SUPPRESS)
    add_out_option(ap)
    args = ap.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return None
    check_checkout(ap, "base", args.base)
    return args


def _subject(checkout: str) -> str:
    s = git(checkout, "log", "-1", "--format=%s") or ""
    return s if len(s) <= 90 else s[:89] + "..."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", nargs="?", help="a checkout of the earlier commit (git worktree add DIR COMMIT)")
    ap.add_argument("--step", action="append", default=[], metavar="CHECKOUT",
                    help="a checkout of a commit between BASE and this one, measured in the same run (repeatable)")
    ap.add_argument("--audio-dir", default=None)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--queries", type=int, default=80)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = parse_ab(ap, argv, _worker, ("CHECKOUT", "DATA"))
    if args is None:
        return 0
    for step in args.step:
        check_checkout(ap, "--step", step)
    if args.queries < 2 or args.rounds < 1:
        ap.error(f"need --queries >= 2 and --rounds >= 1, got {args.queries} and {args.rounds}")
    names, tracks, clips, lengths = _draw(args)
    sides = {"base": str(Path(args.base).resolve())} | {f"step{k}": str(Path(d).resolve()) for k, d in enumerate(args.step)}
    sides["this"] = str(HERE.parent)
    order = list(sides)
    wall: dict[str, list[float]] = {s: [] for s in sides}
    cpu: dict[str, list[float]] = {s: [] for s in sides}
    kind: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.npz")
        np.savez(data, names=np.array(names), n_clips=len(clips), **{f"track{i}": x for i, x in enumerate(tracks)},
                 **{f"clip{i}": c for i, c in enumerate(clips)})
        procs = {s: subprocess.Popen([sys.executable, __file__, "--worker", d, data], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True) for s, d in sides.items()}
        hours = {s: float(_read(p)[1]) for s, p in procs.items()}
        for r in range(args.rounds):
            for i in range(2, len(clips)):
                k = (i + r) % len(order)  # who goes first rotates
                for s in order[k:] + order[:k]:
                    w, c = (float(v) for v in _ask(procs[s], i))
                    wall[s].append(w)
                    cpu[s].append(c)
                kind.append(lengths[i])
        for p in procs.values():
            _ask(p, None)
    h = hours["this"]
    base_commit = _commit(args.base)
    rows, data_out = [], []
    for label, sel in (("all", np.ones(len(kind), bool)), ("3 s", np.array(kind) == 3.0), ("1 s", np.array(kind) == 1.0)):
        bw, tw = np.array(wall["base"])[sel], np.array(wall["this"])[sel]
        bc, tc = np.array(cpu["base"])[sel], np.array(cpu["this"])[sel]
        rw, rc = tw / bw, tc / bc
        row = [label, str(int(sel.sum())), f"{np.median(bw) * 1e3:.1f} ms", f"{np.median(tw) * 1e3:.1f} ms",
               f"{np.median(tw) / h:.3f} s", f"{np.median(rw):.3f}", f"{np.exp(np.mean(np.log(rw))):.3f}",
               f"{np.median(rc):.3f}"]
        rows.append(row)
        data_out.append(dict(clips=label, n=int(sel.sum()), wall_ratio=float(np.median(rw)), cpu_ratio=float(np.median(rc))))
        print(" | ".join(row), flush=True)
    res = Results("matcher_ab", "Matcher query cost against an earlier commit", f"""
        The same {args.queries} clips ({args.rounds} rounds) matched by {len(sides)} checkouts, query by query
        in one worker process each, taking turns at going first: the base, commit {base_commit},
        {'the commits of the steps table, ' if args.step else ''}and this one. {'Catalog: ' + f'{h * 60:.1f} min of real music (fetch_music.py catalog, drawn as eval_audio.py draws it)' if args.audio_dir else f'Catalog: {h * 60:.1f} min of synthetic tracks'};
        ``Matcher(sr=8000, whitening='spectral', storage='float16')``, two threads per query
        (the default); clips of 3 s and 1 s, random gain, clean or in white noise at -5, -10,
        -15 dB. Ratios are this / base, per query, then their median (and geometric mean).
        There is no peer in this section: the comparison is with tsconv itself at the base.""")
    res.placeholders({args.base: "BASE"} | ({"--audio-dir": "DEST/catalog"} if args.audio_dir else {})
                     | {d: f"STEP{k}" for k, d in enumerate(args.step)})
    res.table(["clips", "queries", "base median wall", "this median wall", "this, s per catalog hour",
               "wall ratio (median)", "wall ratio (geometric mean)", "CPU ratio (median)"], rows)
    res.data("ratios", data_out)
    res.record["base_commit"] = base_commit
    if args.step:
        steps = [s for s in order if s != "base"]
        res.table(["commit", "subject", "wall ratio (median)", "CPU ratio (median)"],
                  [[_commit(sides[s]), _subject(sides[s]),
                    f"{np.median(np.array(wall[s]) / np.array(wall['base'])):.3f}",
                    f"{np.median(np.array(cpu[s]) / np.array(cpu['base'])):.3f}"] for s in steps],
                  f"Each step against the base {base_commit}, all clips, same queries (this one last)")
    res.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
