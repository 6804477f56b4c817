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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tsconv.audio import Matcher, degrade
from tsconv.audio._synth import synth_track
from tsconv.audio.io import load


@dataclass
class Source:
    name: str
    x: np.ndarray  # at 8 kHz
    in_catalog: bool


@dataclass
class Report:
    rows: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def synthetic_sources(n_in: int, n_out: int, seconds: float, sr: int, seed: int) -> list[Source]:
    return [Source(f"synth{i:03d}", synth_track(seconds, sr, seed=seed * 1000 + i), i < n_in) for i in range(n_in + n_out)]


def real_sources(directory: str, minutes: float, sr: int, seed: int) -> list[Source]:
    files = []
    for dirpath, _, names in os.walk(directory):
        for fn in names:
            files.append(os.path.join(dirpath, fn))
    files.sort()
    rng = np.random.default_rng(seed)
    rng.shuffle(files)
    out = []
    total = 0.0
    for p in files:
        try:
            x, _ = load(p, sr=sr)
        except (ValueError, OSError):
            continue
        if x.size < 4 * sr:
            continue
        inside = total < minutes * 60
        if inside:
            total += x.size / sr
        out.append(Source(os.path.splitext(os.path.basename(p))[0], x.astype(np.float32), inside))
    return out


def make_clip(src: Source, seconds: float, sr: int, rng: np.random.Generator, *, snr: float | None, color: str = "white",
              eq: bool = True, speed: float = 1.0) -> tuple[np.ndarray, int]:
    n = int(round(seconds * sr * speed)) + 8
    # avoid near-silent excerpts (the opening or fade of a track): nothing can match silence
    for _ in range(20):
        off = int(rng.integers(0, src.x.size - n))
        clip = src.x[off : off + n].astype(np.float64)
        if np.sqrt(np.mean(clip**2)) > 0.05 * np.sqrt(np.mean(src.x.astype(np.float64) ** 2)):
            break
    if speed != 1.0:
        clip = degrade.speed(clip, speed)
    clip = clip[: int(round(seconds * sr))]
    if eq:
        clip = degrade.random_eq(clip, sr, 12.0, 3, seed=rng)
        clip = degrade.gain(clip, float(rng.uniform(-20, 20)))
    if snr is not None:
        clip = degrade.add_noise(clip, snr, color, seed=rng)
    return clip, off


def _cell(matcher: Matcher, sources: list[Source], rng: np.random.Generator, n: int, seconds: float, **kw: Any
          ) -> tuple[float, float, float, list[float]]:
    inside = [s for s in sources if s.in_catalog and s.x.size > seconds * 8000 * 1.1 + 100]
    weights = np.array([s.x.size for s in inside], dtype=float)
    weights /= weights.sum()
    correct = 0
    exact = 0
    times = []
    speed = kw.pop("speed", 1.0)
    speed_range = kw.pop("speed_range", 0.0)
    for _ in range(n):
        src = inside[int(rng.choice(len(inside), p=weights))]
        clip, off = make_clip(src, seconds, matcher.sr, rng, speed=speed, **kw)
        t0 = time.perf_counter()
        res = matcher.match(clip, matcher.sr, top_k=1, max_false_alarm=1.0, speed_range=speed_range)
        times.append(time.perf_counter() - t0)
        if res and res[0].track == src.name:
            correct += 1
            if abs(res[0].offset_samples - off) <= 1.0:
                exact += 1
    return correct / n, (exact / correct if correct else float("nan")), float(np.median(times)), times


def run_eval(matcher: Matcher, sources: list[Source], n: int, seed: int = 0, quick: bool = False,
             sections: tuple[str, ...] = ("snr", "open", "speed"), log=print) -> Report:  # type: ignore[no-untyped-def]
    rep = Report()
    hours = matcher.duration / 3600
    rng = np.random.default_rng(seed)
    all_times: list[float] = []
    if "snr" in sections:
        log(f"\n## top-1 accuracy (random EQ +-12 dB, gain +-20 dB), {n} queries per cell, catalog {matcher.duration / 60:.1f} min")
        log(f"{'clip':>5} {'noise':>6} {'SNR dB':>7} {'top-1':>7} {'offset+-1':>10} {'query s':>8}")
        for seconds in (3.0, 1.0):
            for color in ("white", "pink"):
                for snr in (-5.0, -10.0, -15.0, -20.0):
                    acc, ex, med, times = _cell(matcher, sources, rng, n, seconds, snr=snr, color=color)
                    all_times += times
                    row = dict(kind="snr", clip=seconds, noise=color, snr=snr, top1=acc, offset_ok=ex, query_s=med, n=n)
                    rep.rows.append(row)
                    log(f"{seconds:5.0f} {color:>6} {snr:7.0f} {acc:7.1%} {ex:10.1%} {med:8.3f}")
    if "open" in sections:
        outside = [s for s in sources if not s.in_catalog]
        inside = [s for s in sources if s.in_catalog]
        n_neg = max(n * 5, 1000) if not quick else max(n * 2, 100)
        log(f"\n## open set: 3 s clips at -15 dB white noise + EQ + gain; {n} in-catalog, {n_neg} out-of-catalog queries")
        pos, neg = [], []
        for _ in range(n):
            src = inside[int(rng.integers(len(inside)))]
            clip, off = make_clip(src, 3.0, matcher.sr, rng, snr=-15.0)
            t0 = time.perf_counter()
            res = matcher.match(clip, matcher.sr, top_k=1, max_false_alarm=1.0)
            all_times.append(time.perf_counter() - t0)
            ok = bool(res) and res[0].track == src.name
            pos.append((res[0].false_alarm_probability if res else 1.0, ok))
        for _ in range(n_neg):
            src = outside[int(rng.integers(len(outside)))] if outside else None
            if src is None:
                clip = degrade.colored_noise(3 * matcher.sr, "pink", seed=rng)
            else:
                clip, _ = make_clip(src, 3.0, matcher.sr, rng, snr=-15.0)
            res = matcher.match(clip, matcher.sr, top_k=1, max_false_alarm=1.0)
            neg.append(res[0].false_alarm_probability if res else 1.0)
        neg_arr = np.sort(np.array(neg))
        pos_p = np.array([p for p, _ in pos])
        pos_ok = np.array([ok for _, ok in pos])
        for fpr in (0.01, 0.001):
            k = int(np.floor(fpr * neg_arr.size))
            # threshold: largest p with at most fpr of the negatives strictly below it
            thr = neg_arr[k] if k < neg_arr.size else 1.0
            tpr = float(np.mean((pos_p < thr) & pos_ok))
            row = dict(kind="open", fpr=fpr, tpr=tpr, threshold_p=float(thr), n_pos=n, n_neg=int(neg_arr.size))
            rep.rows.append(row)
            log(f"FPR {fpr:.1%}: TPR {tpr:.1%} (threshold p < {thr:.3g}; {neg_arr.size} negatives)")
        for nominal in (0.01, 0.001):
            fp = float(np.mean(neg_arr <= nominal))
            tp = float(np.mean((pos_p <= nominal) & pos_ok))
            rep.rows.append(dict(kind="calibration", nominal=nominal, fpr=fp, tpr=tp))
            log(f"reported p <= {nominal}: FPR {fp:.2%} (nominal {nominal:.1%}), TPR {tp:.1%}")
    if "speed" in sections:
        ns = max(n // 2, 10) if quick else n
        log(f"\n## speed change, 3 s clips, EQ + gain, no noise, speed_range=0.012; {ns} queries per cell")
        for factor in (0.99, 0.995, 1.005, 1.01):
            acc, ex, med, _ = _cell(matcher, sources, rng, ns, 3.0, snr=None, speed=factor, speed_range=0.012)
            rep.rows.append(dict(kind="speed", speed=factor, top1=acc, query_s=med, n=ns))
            log(f"speed {factor:.3f}: top-1 {acc:.1%}, median query {med:.2f} s")
    if all_times:
        med = float(np.median(all_times))
        rep.info["query_s_per_hour"] = med / hours
        log(f"\nmedian query (no speed search): {med * 1000:.1f} ms for {hours * 60:.1f} min -> {med / hours:.3f} s per catalog hour")
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audio-dir", help="directory of real audio (default: synthetic music)")
    ap.add_argument("--minutes", type=float, default=60.0, help="catalog size in minutes (default 60)")
    ap.add_argument("--queries", type=int, default=200, help="queries per cell (default 200)")
    ap.add_argument("--quick", action="store_true", help="small catalog, 30 queries per cell")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--whitening", default="spectral", choices=["spectral", "lpc", "none"])
    ap.add_argument("--storage", default="float16", choices=["float16", "float32"])
    ap.add_argument("--sections", default="snr,open,speed")
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
    rep = run_eval(m, sources, n, args.seed, args.quick, tuple(args.sections.split(",")))
    rep.info.update(build_s_per_hour=build / hours, mb_per_hour=size / 1e6 / hours, load_s_per_hour=load_s / hours,
                    catalog_min=m.duration / 60, tracks=len(m), real=bool(args.audio_dir))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rep.rows, "info": rep.info}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
