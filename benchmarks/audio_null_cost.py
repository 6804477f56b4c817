"""The music null (``Matcher.calibrate``) probed on parts of the catalog: whether its
probabilities still hold, and its cost against catalog hours.

Usage: ``python benchmarks/audio_null_cost.py DEST --cache CACHE [--minutes 400] [--clips 300]
[--in-clips 150] [--probe-hours 1 0.5] [--hours 8 32 100]`` (DEST as written by
``benchmarks/fetch_music.py``: ``catalog/`` and ``negatives/``; CACHE the decoded 8 kHz
``.npy`` files, ``<package>__<file>.npy``, which ``benchmarks/audio_scale.py`` makes).

Calibration: one catalog of distinct real music (every catalog track of DEST up to
``--minutes``: about 4.3 hours, all there is), calibrated with its probes searching the
whole catalog less their own track (``probe_hours=None``, the reference) and parts of it
(each ``--probe-hours``; the probabilities then read for the whole catalog by the union
bound over parts), and once more with parts of 1 h as ``calibrate`` was before a probe that
found its passage in another track was searched again without it ("shared kept"). Every
query is answered once per null: the coarse candidates of a clip are computed once and
shared (a null changes probabilities only, not the search), then ``match(top_k=5)`` with
each null. Cells: clean out-of-catalog clips of 3 s and 1 s
(negatives: soundtracks not in the catalog) and white noise, share of clips reported at
p <= 1e-2 .. 1e-6; in-catalog clips (3 s clean, 3 s and 1 s in white noise at -15 dB):
top-1, share whose true track is reported at p <= 0.01, and TPR at the empirical FPR 1% of
out-of-catalog clips in the same noise (``benchmarks/audio_calibration.py``'s definitions).

Cost: catalogs of ``--hours`` built as ``benchmarks/audio_scale.py`` builds them (the
music repeated through random EQs and gains), in memory with their index, then
``calibrate()`` with its defaults, timed (wall) per catalog hour. The repeats make such a
null meaningless (a probe's part may hold copies of its own track), so only its cost is
measured there. There is no peer: no library in the environment calibrates an audio
catalog.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import glob
import hashlib
import os
import sys
import time

import numpy as np

from tsconv.audio import Matcher, degrade
from tsconv.audio import matcher as matcher_mod

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import Results  # noqa: E402
from audio_calibration import LEVELS, SR, _catalog, _decoded, _excerpt  # noqa: E402


class SharedSearch:
    """``m.candidates`` of a clip computed once and given to every null (``m.candidates`` is
    replaced on the instance; searches with keywords, as ``calibrate``'s, pass through)."""

    def __init__(self, m: Matcher) -> None:
        self.m, self.search, self.memo = m, m.candidates, {}
        m.candidates = self  # type: ignore[method-assign]

    def __call__(self, samples, sr, **kw):
        if kw:
            return self.search(samples, sr, **kw)
        key = (hashlib.sha256(np.ascontiguousarray(samples).tobytes()).hexdigest(), sr)
        if key not in self.memo:
            self.memo[key] = self.search(samples, sr)
        return dataclasses.replace(self.memo[key], music_null=self.m.music_null)

    def answers(self, clip: np.ndarray, nulls: dict, true: str | None = None) -> dict[str, tuple[float, bool, float]]:
        """Per null: (smallest p reported, top-1 is ``true``, smallest p of ``true``)."""
        out = {}
        for label, null in nulls.items():
            self.m._music_null = null
            r = self.m.match(clip, SR, top_k=5, max_false_alarm=1.0)
            out[label] = (min((x.false_alarm_probability for x in r), default=1.0), bool(r) and r[0].track == true,
                          min((x.false_alarm_probability for x in r if x.track == true), default=1.0))
        self.memo.clear()
        return out


@contextlib.contextmanager
def _shared_passages(probe_again: bool):
    """``calibrate`` as it is (True), or as it was before its probes were searched again
    without a track holding their passage too (False: the comparison of the record)."""
    kept = matcher_mod._SHARED_TRACKS
    matcher_mod._SHARED_TRACKS = kept if probe_again else 0
    try:
        yield
    finally:
        matcher_mod._SHARED_TRACKS = kept


def calibration(args: argparse.Namespace, res: Results) -> None:
    negs = [_decoded(f, args.cache) for f in sorted(glob.glob(os.path.join(args.dest, "negatives", "*", "*")))]
    negs = [x for x in negs if x.size > 4 * SR]
    cat = _catalog(args.dest, None, (), args.minutes, args.cache)
    m = Matcher()
    for name, x in cat:
        m.add(name, x, SR)
    m.candidates(np.random.default_rng(0).standard_normal(SR), SR)  # the index, built once
    hours = m.duration / 3600
    nulls, cost = {}, []
    runs = [(None, True)] + [(ph, True) for ph in args.probe_hours] + [(1.0, False)]
    for ph, probe_again in runs:
        label = ("whole catalog" if ph is None else f"parts of {ph:g} h") + ("" if probe_again else ", shared kept")
        t0 = time.perf_counter()
        with _shared_passages(probe_again):
            m.calibrate(probe_hours=ph)
        t = time.perf_counter() - t0
        null = nulls[label] = m.music_null
        floor = np.log10(np.nextafter(0.0, 1.0))  # below it, a probability underflows as a double
        at_floor = [f"{int(np.sum(rows[i] <= floor))} / {int(np.sum(rows[i] < -6))} of {rows.shape[1]}"
                    for rows in (null.log_p, null.log_p_exact) for i in range(len(null.durations))]
        cost.append([label, f"{null.lags / SR / 3600:.2f}", f"{t:.0f}", f"{t / hours:.1f}"] + at_floor)
        print(cost[-1], flush=True)
    res.table(["probes search", "hours per probe (mean)", "music null, s", "s per catalog hour"]
              + [f"{test} probes {d:g} s below 5e-324 / 1e-6" for test in ("search", "exact-score")
                 for d in nulls[next(iter(nulls))].durations], cost,
              f"calibration catalog: {len(cat)} distinct tracks, {hours:.2f} h")
    shared = SharedSearch(m)
    rng = np.random.default_rng(11)
    cells: dict[str, list] = {}
    for secs in (3.0, 1.0):
        cells[f"music, clean, {secs:g} s"] = [
            shared.answers(_excerpt(negs[int(rng.integers(len(negs)))], int(secs * SR), rng)[0], nulls)
            for _ in range(args.clips)]
    cells["white noise, 3 s"] = [shared.answers(degrade.colored_noise(3 * SR, "white", seed=rng), nulls)
                                 for _ in range(max(args.clips // 3, 100))]
    pos: dict[str, list] = {}
    for secs, snr in ((3.0, None), (3.0, -15.0), (1.0, -15.0)):
        name = f"{secs:g} s " + ("clean" if snr is None else f"white {snr:g} dB")
        pos[name] = []
        for _ in range(args.in_clips):
            ti = int(rng.integers(len(cat)))
            clip = _excerpt(cat[ti][1], int(secs * SR), rng)[0]
            pos[name].append(shared.answers(clip if snr is None else degrade.add_noise(clip, snr, "white", seed=rng),
                                            nulls, cat[ti][0]))
            if snr is not None:
                clip = _excerpt(negs[int(rng.integers(len(negs)))], int(secs * SR), rng)[0]
                cells.setdefault(f"music, white {snr:g} dB, {secs:g} s", []).append(
                    shared.answers(degrade.add_noise(clip, snr, "white", seed=rng), nulls))
        print(name, flush=True)
    rows, data = [], {}
    for cell, answers in cells.items():
        for label in nulls:
            p = np.array([a[label][0] for a in answers])
            shares = [float(np.mean(p <= lv)) for lv in LEVELS]
            data[f"{cell}|{label}"] = shares
            rows.append([cell, label, len(p)] + [f"{v:.1%}" for v in shares])
    res.table(["out-of-catalog clips", "music null", "clips"] + [f"p <= {lv:g}" for lv in LEVELS], rows,
              "share of out-of-catalog clips reported at p <= level (calibrated: the level itself)")
    rows = []
    for name, answers in pos.items():
        for label in nulls:
            p = np.array([a[label][0] for a in answers])
            ok = np.array([a[label][1] for a in answers])
            true = np.array([a[label][2] for a in answers])
            line = [name, label, len(p), f"{np.mean(ok):.1%}", f"{np.mean(true <= 0.01):.1%}"]
            neg_cell = f"music, {name.split(' s ')[1]}, {name.split(' s ')[0]} s"
            if neg_cell in cells:
                neg = np.sort([a[label][0] for a in cells[neg_cell]])
                thr = neg[int(np.floor(0.01 * neg.size))]
                line.append(f"{np.mean((p < thr) & ok):.1%}")
            else:
                line.append("")
            data[f"in {name}|{label}"] = line[3:]
            rows.append(line)
    res.table(["in-catalog clips", "music null", "clips", "top-1", "true track at p <= 0.01", "TPR at FPR 1%"], rows,
              "in-catalog clips (the same queries under each null)")
    res.data("calibration", data)


def cost(args: argparse.Namespace, res: Results) -> None:
    import audio_scale

    rows = []
    for h in args.hours:
        t0 = time.perf_counter()
        m = audio_scale.catalog(h, args.cache)
        m.candidates(np.random.default_rng(0).standard_normal(SR), SR)  # the index
        t_build = time.perf_counter() - t0
        hours = m.duration / 3600
        t0 = time.perf_counter()
        m.calibrate()
        t = time.perf_counter() - t0
        rows.append([f"{hours:.1f}", len(m), f"{t_build / hours:.1f}", f"{t:.0f}", f"{t / hours:.1f}",
                     f"{(t_build + t) / hours:.1f}"])
        print(rows[-1], flush=True)
        del m
    res.table(["catalog hours", "tracks", "catalog and index, s per hour", "music null, s", "music null, s per hour",
               "build with the music null, s per hour"], rows,
              "cost against catalog hours (calibrate() defaults: probes of 1 h parts; wall time)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dest", help="folder written by benchmarks/fetch_music.py (catalog/, negatives/)")
    ap.add_argument("--cache", required=True, help="folder of decoded 8 kHz .npy files (<package>__<file>.npy)")
    ap.add_argument("--minutes", type=float, default=400.0, help="calibration catalog minutes (default: all, 400)")
    ap.add_argument("--clips", type=int, default=300, help="out-of-catalog clips per cell (default 300)")
    ap.add_argument("--in-clips", type=int, default=150, help="in-catalog clips per cell (default 150)")
    ap.add_argument("--probe-hours", type=float, nargs="*", default=[1.0, 0.5])
    ap.add_argument("--hours", type=float, nargs="*", default=[8.0, 32.0, 100.0], help="catalogs of the cost section")
    args = ap.parse_args(argv)
    res = Results("audio_null", "Audio: the music null probed on parts of the catalog",
                  "Matcher.calibrate's probes searching parts of the catalog (probe_hours) against the whole catalog: "
                  "calibration on real out-of-catalog music and in-catalog sensitivity with the same queries under each "
                  "null, on every distinct catalog track there is (and the null as it was before probes that found their passage "
                  "in another track were searched again without it); then the null's cost against catalog hours (catalogs of "
                  "repeated music, cost only). There is no peer in this section: no other library in the environment "
                  "calibrates an audio catalog.")
    res.placeholders({args.dest: "DEST", "--cache": "CACHE"})
    if args.probe_hours is not None:
        calibration(args, res)
    if args.hours:
        cost(args, res)
    res.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
