"""Clips whose file header states a wrong sample rate, on real music: found or misreported?

Usage::

    python benchmarks/fetch_music.py DEST          # once: real music from Debian packages
    python benchmarks/audio_wrong_rate.py DEST [--clips 60] [--minutes 45]

The catalog is the first ``--minutes`` of ``DEST/catalog`` (files in sorted order). Each
in-catalog clip (3 s, cut where the track is not quiet) is resampled to its "true" rate and
declared at a wrong one, in turn 44.1 kHz as 48 kHz, 48 as 44.1 kHz and 22.05 as 44.1 kHz,
then matched with ``match`` as it is (``check_rate=False``) and with ``check_rate=True``
(the default of ``match_file`` and ``tsconv match``). Negatives: as many clips of
``DEST/negatives`` (music not in the catalog) at their true 44.1 kHz, with both settings, to
count false matches the rate check adds and what it costs. Printed: the counts and the
median query times.
"""

from __future__ import annotations

import argparse
import glob
import os
import time
import warnings

import numpy as np

from tsconv.audio import Matcher, load
from tsconv.audio.io import resample_to

SR = 8000
WRONG = ((44100, 48000), (48000, 44100), (22050, 44100))  # (true rate, declared rate)


def _clip(rng: np.random.Generator, x: np.ndarray, n: int) -> tuple[int, np.ndarray]:
    while True:
        off = int(rng.integers(0, x.size - n))
        c = x[off : off + n].astype(np.float64)
        if np.std(c) > 0.3 * np.std(x):
            return off, c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("music", help="the folder benchmarks/fetch_music.py wrote")
    ap.add_argument("--clips", type=int, default=60)
    ap.add_argument("--minutes", type=float, default=45.0)
    args = ap.parse_args()
    m, tracks = Matcher(), []
    for f in sorted(glob.glob(os.path.join(args.music, "catalog", "*", "*"))):
        if m.duration >= 60 * args.minutes:
            break
        x, _ = load(f, sr=SR)
        m.add(os.path.relpath(f, args.music), x, SR)
        tracks.append(x)
    negatives = sorted(glob.glob(os.path.join(args.music, "negatives", "*", "*")))
    print(f"catalog {len(m)} tracks, {m.duration / 60:.1f} min; {args.clips} clips per set")
    rng = np.random.default_rng(0)
    right = {False: 0, True: 0}
    wrong = {False: 0, True: 0}
    for k in range(args.clips):
        i = int(rng.integers(len(tracks)))
        off, c = _clip(rng, tracks[i], 3 * SR)
        true, declared = WRONG[k % len(WRONG)]
        y = resample_to(c, SR, true)
        for check in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = m.match(y, declared, check_rate=check)
            if r and r[0].track == m.tracks[i] and abs(r[0].offset_samples - off) < 3:
                right[check] += 1
            elif r:
                wrong[check] += 1
                if check:
                    print(f"  elsewhere: {m.tracks[i]} at {off / SR:.1f} s, {true} Hz declared {declared}: "
                          f"{r[0].track} score {r[0].score:.2f} p {r[0].false_alarm_probability:.1e} speed {r[0].speed:.4f}")
    print(f"{'mislabelled clips':<28} {'right place':>12} {'elsewhere':>12}")
    for check in (False, True):
        print(f"{'check_rate=' + str(check):<28} {right[check]:>12} {wrong[check]:>12}")
    found = {False: 0, True: 0}
    times: dict[bool, list[float]] = {False: [], True: []}
    for k in range(args.clips):
        x, _ = load(negatives[k % len(negatives)], sr=SR)
        _, c = _clip(rng, x, 3 * SR)
        y = resample_to(c, SR, 44100)
        for check in (False, True):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = m.match(y, 44100, check_rate=check)
            times[check].append(time.perf_counter() - t0)
            found[check] += bool(r)
    print(f"{'out-of-catalog clips':<28} {'reported':>12} {'median s':>12}")
    for check in (False, True):
        print(f"{'check_rate=' + str(check):<28} {found[check]:>12} {np.median(times[check]):>12.3f}")


if __name__ == "__main__":
    main()
