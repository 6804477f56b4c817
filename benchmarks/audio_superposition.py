"""A coherent candidate stage measured: catalog parts summed into one track (superposition).

Usage: ``python benchmarks/audio_superposition.py DEST [--cache CACHE] [--clips N] [--k 1 2 4]``
where DEST is what ``benchmarks/fetch_music.py DEST`` writes (this script fetches nothing).

A catalog searched faster than linearly needs a first stage cheaper than the exhaustive
whitened cross-correlation that still finds the true place of a noisy clip. One coherent
candidate: sum ``K`` parts of the catalog into one track ``K`` times shorter, search that,
then score the ``K`` tracks exactly at the place found (cheap). The search of the sum costs
``1/K`` of the exhaustive one; the question is what the other parts' music, added to the
true part's, does to the search. The catalog is catalog B of
``benchmarks/audio_calibration.py`` (nexuiz-music, drascula-music, singularity-music, about
an hour) concatenated and cut into ``K`` equal parts; each part is levelled before the sum,
either as a whole (its standard deviation) or locally (divided by its running RMS over 0.5 s,
the best case: no loud passage of one part buries a quiet one of another; the clip is cut
from the levelled part). ``K = 1`` is the exhaustive search of the catalog itself. Clips of
3 s and 1 s of a part, at a random place (not silent), in white or pink noise at -15 dB
SNR; ``Matcher(workers=1).match(clip, sr, top_k=1, max_false_alarm=1.0)`` on the one
(summed) track; right when the best place is within 2 samples of the clip's place in its
part (the second stage would then find the track). CPU seconds per query (median). There is
no peer in this section: it measures a design, not a library.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from tsconv.audio import Matcher, degrade

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import Results  # noqa: E402
from audio_calibration import SR, _catalog  # noqa: E402


def _levelled(x: np.ndarray, local: bool) -> np.ndarray:
    if not local:
        return x / np.std(x)
    rms = np.sqrt(np.convolve(x * x, np.ones(SR // 2) / (SR // 2), mode="same"))
    return x / (rms + 1e-4 * np.std(x))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dest", help="folder written by benchmarks/fetch_music.py (catalog/, negatives/)")
    ap.add_argument("--cache", help="folder of decoded 8 kHz .npy files (<package>__<file>.npy), optional")
    ap.add_argument("--clips", type=int, default=40, help="clips per cell (default 40)")
    ap.add_argument("--k", type=int, nargs="+", default=[1, 2, 4], help="parts summed (default 1 2 4)")
    args = ap.parse_args(argv)
    cat = _catalog(args.dest, ["nexuiz-music", "drascula-music", "singularity-music"], (), 60.0, args.cache)
    whole = np.concatenate([x for _, x in cat]).astype(np.float64)
    res = Results("audio_superposition", "Audio: a superposed catalog as a candidate stage",
                  __doc__.split("\n\n")[1].replace("\n", " ") + " " + __doc__.split("\n\n")[2].replace("\n", " "))
    res.placeholders({args.dest: "DEST", "--cache": "CACHE"})
    rows, data = [], {}
    cells = [(3.0, "white"), (3.0, "pink"), (1.0, "white"), (1.0, "pink")]
    for local in (False, True):
        for k in args.k:
            if k == 1 and local:
                continue  # the catalog itself: levelling does not change the exhaustive search's answer
            n_part = whole.size // k
            parts = [_levelled(whole[i * n_part : (i + 1) * n_part], local) for i in range(k)]
            m = Matcher(sr=SR, workers=1)
            m.add("sum", np.sum(parts, axis=0).astype(np.float32), SR)
            rng = np.random.default_rng(0)
            row = ["exhaustive (K = 1)" if k == 1 else ("local RMS" if local else "whole part"), k]
            cpu = []
            for dur, color in cells:
                n, hits, done = int(dur * SR), 0, 0
                while done < args.clips:
                    i, at = int(rng.integers(k)), int(rng.integers(0, n_part - n))
                    clip = parts[i][at : at + n]
                    if np.std(clip) < 1e-3 * np.std(parts[i]):
                        continue  # silence: no clip to find
                    clip = degrade.add_noise(clip, -15.0, color, seed=rng)
                    t = time.process_time()
                    found = m.match(clip, SR, top_k=1, max_false_alarm=1.0)
                    cpu.append(time.process_time() - t)
                    hits += bool(found) and abs(found[0].offset_samples - at) <= 2
                    done += 1
                row.append(f"{hits / done:.1%}")
                data[f"{row[0]}|K={k}|{dur:.0f}s {color}"] = hits / done
            row.append(f"{np.median(cpu):.3f}")
            rows.append(row)
            print(row, flush=True)
    res.table(["levelling", "K parts summed", "3 s white -15 dB", "3 s pink -15 dB", "1 s white -15 dB",
               "1 s pink -15 dB", "CPU s per query"], rows,
              f"Right place (within 2 samples), {args.clips} clips per cell; catalog {whole.size / SR / 60:.1f} min")
    res.data("cells", data)
    res.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
