"""The matcher's evaluation (shared by ``benchmarks/eval_audio.py`` and ``tsconv eval``).

Queries are exact excerpts of catalog sources at random integer offsets, degraded (seeded)
by :mod:`tsconv.audio.degrade`: random gain in +-20 dB, a random 3-band peaking EQ of
+-12 dB, Gaussian noise at a given SNR; out-of-catalog sources (or noise) give the
negatives of the open-set test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tsconv.audio import degrade
from tsconv.audio._synth import synth_track
from tsconv.audio.io import load
from tsconv.audio.matcher import Matcher

__all__ = ["Source", "Report", "synthetic_sources", "real_sources", "catalog_sources", "make_clip", "run_eval"]


class EvalInputError(ValueError):
    """The catalog or the sources cannot give the clips an evaluation needs."""


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


def catalog_sources(matcher: Matcher, audio_dir: str | None = None) -> list[Source]:
    """Re-decode the catalog's tracks from their source files (or from ``audio_dir``, by name)."""
    out = []
    for t in matcher._tracks:
        path = t.source
        if audio_dir is not None:
            cands = [os.path.join(audio_dir, f) for f in os.listdir(audio_dir) if os.path.splitext(f)[0] == t.name.split("/")[-1]]
            path = cands[0] if cands else path
        if not path or not os.path.exists(path):
            raise FileNotFoundError(f"the source audio of track {t.name!r} is not available (give --audio-dir)")
        x, _ = load(path, sr=matcher.sr)
        out.append(Source(t.name, x, True))
    return out


# the band section's channels: a 4th-order 300 Hz high-pass; the 300-3400 Hz phone band
# (4th-order edges) + white noise 0 dB; a speaker + room + noise chain (degrade.speaker_room)
_BANDS = (("highpass300", None), ("phone0dB", None), ("speaker_room", None))
_BAND_LABEL = {"highpass300": "high-pass 300 Hz, clean", "phone0dB": "phone 300-3400 Hz + white 0 dB",
               "speaker_room": "speaker + room + white 10 dB"}


def _band(clip: np.ndarray, name: str, sr: int, rng: np.random.Generator) -> np.ndarray:
    if name == "highpass300":
        return degrade.band_limit(clip, sr, 300.0)
    if name == "phone0dB":
        return degrade.add_noise(degrade.band_limit(clip, sr, 300.0, 3400.0), 0.0, "white", seed=rng)
    if name == "speaker_room":
        return degrade.speaker_room(clip, sr, 10.0, seed=rng)
    raise ValueError(f"band must be one of {[b for b, _ in _BANDS]}, got {name!r}")


def make_clip(src: Source, seconds: float, sr: int, rng: np.random.Generator, *, snr: float | None, color: degrade.NoiseColor = "white",
              eq: bool = True, gain: bool = True, speed: float = 1.0, band: str | None = None) -> tuple[np.ndarray, int]:
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
    if band is not None:
        clip = _band(clip, band, sr, rng)
    if eq:
        clip = degrade.random_eq(clip, sr, 12.0, 3, seed=rng)
    if gain:
        clip = degrade.gain(clip, float(rng.uniform(-20, 20)))
    if snr is not None:
        clip = degrade.add_noise(clip, snr, color, seed=rng)
    return clip, off


def _same_content(found: Source | None, lag: float, src: Source, off: int, n: int) -> bool:
    """Is the found place a sample-exact copy of the true one (a loop or repeat in the music)?

    Compared on first differences (a crude whitening: a one-sample misalignment of
    broadband content drops the correlation well below the 0.95 required).
    """
    k = int(round(lag))
    if found is None or k < 0 or k + n > found.x.size or off + n > src.x.size:
        return False
    a = np.diff(found.x[k : k + n].astype(np.float64))
    b = np.diff(src.x[off : off + n].astype(np.float64))
    den = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return bool(den > 0 and np.dot(a, b) / den >= 0.95)


def _cell(matcher: Matcher, sources: list[Source], rng: np.random.Generator, n: int, seconds: float, **kw: Any
          ) -> tuple[float, float, float, list[float], float, float]:
    """Top-1 accuracy and offset accuracy of ``n`` queries.

    Returns ``(top1, offset_ok, median_s, times, top1_repeat_aware, offset_ok_repeat_aware)``;
    the repeat-aware figures also accept a place in the catalog holding a sample-exact copy
    of the excerpt (music loops and repeats).
    """
    inside = [s for s in sources if s.in_catalog and s.x.size > seconds * 8000 * 1.1 + 100]
    if not inside:
        raise EvalInputError(f"no catalog track is longer than {seconds * 1.1:.1f} s: the {seconds:g} s clips "
                             "of the evaluation need one")
    by_name = {s.name: s for s in sources if s.in_catalog}
    weights = np.array([s.x.size for s in inside], dtype=float)
    weights /= weights.sum()
    correct = exact = correct_eq = exact_eq = 0
    times = []
    cpu = []
    speed = kw.pop("speed", 1.0)
    speed_range = kw.pop("speed_range", 0.0)
    m_clip = int(round(seconds * matcher.sr))
    for _ in range(n):
        src = inside[int(rng.choice(len(inside), p=weights))]
        clip, off = make_clip(src, seconds, matcher.sr, rng, speed=speed, **kw)
        t0, c0 = time.perf_counter(), time.process_time()
        res = matcher.match(clip, matcher.sr, top_k=1, max_false_alarm=1.0, speed_range=speed_range)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if not res:
            continue
        r = res[0]
        right_track = r.track == src.name
        right_offset = right_track and abs(r.offset_samples - off) <= 1.0
        copy = (not right_offset) and speed == 1.0 and _same_content(by_name.get(r.track), r.offset_samples, src, off, m_clip)
        correct += right_track
        exact += right_offset
        correct_eq += right_track or copy
        exact_eq += right_offset or copy
    _CPU.extend(cpu)
    return (correct / n, (exact / correct if correct else float("nan")), float(np.median(times)), times,
            correct_eq / n, (exact_eq / correct_eq if correct_eq else float("nan")))


_CPU: list[float] = []


def run_eval(matcher: Matcher, sources: list[Source], n: int, seed: int = 0, quick: bool = False,
             sections: tuple[str, ...] = ("snr", "offset", "open", "speed"), log: Callable[[str], Any] = print,
             n_speed: int | None = None) -> Report:
    rep = Report()
    hours = matcher.duration / 3600
    rng = np.random.default_rng(seed)
    all_times: list[float] = []
    if "snr" in sections:
        log(f"\n## top-1 accuracy (random EQ +-12 dB, gain +-20 dB), {n} queries per cell, catalog {matcher.duration / 60:.1f} min")
        log("(top-1 / offset: strict; r-a: repeat-aware, a sample-exact copy of the excerpt elsewhere also counts)")
        log(f"{'clip':>5} {'noise':>6} {'SNR dB':>7} {'top-1':>7} {'offset+-1':>10} {'top-1 r-a':>10} {'offset r-a':>11} {'query s':>8}")
        for seconds in (3.0, 1.0):
            for color in ("white", "pink"):
                for snr in (-5.0, -10.0, -15.0, -20.0):
                    acc, ex, med, times, acc2, ex2 = _cell(matcher, sources, rng, n, seconds, snr=snr, color=color)
                    all_times += times
                    row = dict(kind="snr", clip=seconds, noise=color, snr=snr, top1=acc, offset_ok=ex, top1_ra=acc2,
                               offset_ok_ra=ex2, query_s=med, n=n)
                    rep.rows.append(row)
                    log(f"{seconds:5.0f} {color:>6} {snr:7.0f} {acc:7.1%} {ex:10.1%} {acc2:10.1%} {ex2:11.1%} {med:8.3f}")
    if "offset" in sections:
        log(f"\n## offsets without EQ (a causal EQ delays the clip by its group delay): gain +-20 dB and white noise; {n} queries")
        log(f"{'clip':>5} {'SNR dB':>7} {'top-1':>7} {'offset+-1':>10} {'top-1 r-a':>10} {'offset r-a':>11}")
        for seconds, snr in ((3.0, -5.0), (3.0, -15.0), (1.0, -15.0)):
            if True:
                acc, ex, med, times, acc2, ex2 = _cell(matcher, sources, rng, n, seconds, snr=snr, color="white", eq=False)
                all_times += times
                rep.rows.append(dict(kind="offset", clip=seconds, snr=snr, top1=acc, offset_ok=ex, top1_ra=acc2, offset_ok_ra=ex2, n=n))
                log(f"{seconds:5.0f} {snr:7.0f} {acc:7.1%} {ex:10.1%} {acc2:10.1%} {ex2:11.1%}")
    if "open" in sections:
        outside = [s for s in sources if not s.in_catalog]
        inside = [s for s in sources if s.in_catalog]
        n_neg = max(n * 5, 1000) if not quick else max(n * 2, 10)
        log(f"\n## open set: 3 s clips at -15 dB white noise + EQ + gain; {n} in-catalog, {n_neg} out-of-catalog queries")
        pos, neg = [], []
        for _ in range(n):
            src = inside[int(rng.integers(len(inside)))]
            clip, off = make_clip(src, 3.0, matcher.sr, rng, snr=-15.0)
            t0 = time.perf_counter()
            res = matcher.match(clip, matcher.sr, top_k=5, max_false_alarm=1.0)
            all_times.append(time.perf_counter() - t0)
            ok = bool(res) and res[0].track == src.name
            # detection: the smallest false-alarm probability among the candidates
            pos.append((min((r.false_alarm_probability for r in res), default=1.0), ok))
        for _ in range(n_neg):
            other = outside[int(rng.integers(len(outside)))] if outside else None
            if other is None:
                clip = degrade.colored_noise(3 * matcher.sr, "pink", seed=rng)
            else:
                clip, _ = make_clip(other, 3.0, matcher.sr, rng, snr=-15.0)
            res = matcher.match(clip, matcher.sr, top_k=5, max_false_alarm=1.0)
            neg.append(min((r.false_alarm_probability for r in res), default=1.0))
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
        if outside:  # real music not in the catalog, clean: the case a calibrated p must hold on
            n_clean = max(n, 300) if not quick else max(n, 10)
            log(f"\n## calibration on clean out-of-catalog music: share of {n_clean} clips reported at p <= ...")
            log(f"{'clip':>5} {'1e-2':>7} {'1e-3':>7} {'1e-4':>7} {'1e-6':>7}")
            for seconds in (3.0, 1.0):
                ps = []
                for _ in range(n_clean):
                    other = outside[int(rng.integers(len(outside)))]
                    clip, _ = make_clip(other, seconds, matcher.sr, rng, snr=None, eq=False)
                    res = matcher.match(clip, matcher.sr, top_k=5, max_false_alarm=1.0)
                    ps.append(min((r.false_alarm_probability for r in res), default=1.0))
                arr = np.array(ps)
                shares = {lvl: float(np.mean(arr <= lvl)) for lvl in (1e-2, 1e-3, 1e-4, 1e-6)}
                rep.rows.append(dict(kind="music_calibration", clip=seconds, n=n_clean,
                                     **{f"share_p_{lvl:g}": v for lvl, v in shares.items()}))
                log(f"{seconds:5.0f} " + " ".join(f"{v:7.1%}" for v in shares.values()))
    if "band" in sections:
        log(f"\n## band-limited clips (no EQ, gain +-20 dB); {n} queries per cell")
        log(f"{'clip':>5} {'channel':>34} {'top-1':>7} {'query s':>8}")
        for name, band_kw in _BANDS:
            for seconds in (3.0, 1.0):
                acc, ex, med, times, _, _ = _cell(matcher, sources, rng, n, seconds, snr=None, eq=False, band=name)
                rep.rows.append(dict(kind="band", clip=seconds, channel=name, top1=acc, offset_ok=ex, query_s=med, n=n))
                log(f"{seconds:5.0f} {_BAND_LABEL[name]:>34} {acc:7.1%} {med:8.3f}")
    if "speed" in sections:
        ns = n_speed if n_speed is not None else (max(n // 2, 10) if quick else n)
        log(f"\n## speed change, 3 s clips, EQ + gain, no noise, speed_range=0.011; {ns} queries per cell")
        for factor in (0.99, 0.995, 1.005, 1.01):
            acc, ex, med, _, _, _ = _cell(matcher, sources, rng, ns, 3.0, snr=None, speed=factor, speed_range=0.011)
            rep.rows.append(dict(kind="speed", speed=factor, top1=acc, query_s=med, n=ns))
            log(f"speed {factor:.3f}: top-1 {acc:.1%}, median query {med:.2f} s")
    if all_times:
        med = float(np.median(all_times))
        rep.info["query_s_per_hour"] = med / hours
        cpu = float(np.median(_CPU)) if _CPU else float("nan")
        rep.info["query_cpu_s_per_hour"] = cpu / hours
        log(f"\nmedian query (no speed search): {med * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU (2 threads) "
            f"for {hours * 60:.1f} min -> {med / hours:.3f} s wall per catalog hour")
    return rep
