"""Fetch real music for the audio benchmarks from Debian packages (kept out of the repository).

Usage::

    python benchmarks/fetch_music.py DEST [--set catalog|negatives|all] [PACKAGE ...]

Downloads the named Debian packages with ``apt-get download`` (no installation, no root
needed beyond apt's own lists: run ``apt-get update`` once first), unpacks each with
``dpkg-deb -x`` and copies every audio file libsndfile reads (OGG/Vorbis, FLAC, WAV; also
inside ``.pk3``/``.zip`` game archives) that lasts at least ``--min-seconds`` (default 20 s:
music, not sound effects) to ``DEST/<set>/<package>/``, once per content (drascula-music ships
each track in six language folders). The two default sets are disjoint soundtracks, so the
``negatives`` set gives out-of-catalog music for the open-set and calibration tests:

* ``catalog``: colobot-common-sounds, singularity-music, drascula-music, nexuiz-music
* ``negatives``: hyperrogue-music, planetblupi-music-ogg, fretsonfire-songs-muldjord,
  fretsonfire-songs-sectoid

Then e.g. ``python benchmarks/eval_audio.py --audio-dir DEST/catalog``.
Files already present are kept; the script prints what it wrote, package by package.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import soundfile as sf

SETS = {
    "catalog": ["colobot-common-sounds", "singularity-music", "drascula-music", "nexuiz-music"],
    "negatives": ["hyperrogue-music", "planetblupi-music-ogg", "fretsonfire-songs-muldjord", "fretsonfire-songs-sectoid"],
}
AUDIO = (".ogg", ".oga", ".flac", ".wav")


def _long_enough(path: str, min_seconds: float) -> bool:
    try:
        return sf.info(path).duration >= min_seconds
    except (RuntimeError, sf.LibsndfileError):
        return False


def fetch(package: str, dest: str, min_seconds: float = 20.0) -> int:
    """Download ``package``, unpack it and copy its audio files under ``dest``; returns the count."""
    out = os.path.join(dest, package)
    if os.path.isdir(out) and os.listdir(out):
        return len(os.listdir(out))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", package], cwd=tmp, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        (deb,) = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        root = os.path.join(tmp, "root")
        subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, deb), root], check=True)
        for d, _, files in os.walk(root):  # game archives: unpack their audio members
            for f in files:
                if f.lower().endswith((".pk3", ".zip")):
                    with zipfile.ZipFile(os.path.join(d, f)) as z:
                        z.extractall(os.path.join(d, f + ".d"), [n for n in z.namelist() if n.lower().endswith(AUDIO)])
        os.makedirs(out, exist_ok=True)
        n = 0
        seen: set[str] = set()
        for d, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                src = os.path.join(d, f)
                if f.lower().endswith(AUDIO) and _long_enough(src, min_seconds):
                    with open(src, "rb") as fh:
                        digest = hashlib.sha256(fh.read()).hexdigest()
                    if digest in seen:
                        continue
                    seen.add(digest)
                    # the package path keeps names unique within a package (a/x.ogg, b/x.ogg)
                    rel = os.path.relpath(src, root).replace(os.sep, "__")
                    shutil.copyfile(src, os.path.join(out, rel))
                    n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dest")
    ap.add_argument("--set", default="all", choices=["catalog", "negatives", "all"])
    ap.add_argument("--min-seconds", type=float, default=20.0, help="shortest file kept (default 20 s)")
    ap.add_argument("packages", nargs="*", help="other Debian packages (put under DEST/extra)")
    args = ap.parse_args(argv)
    todo = [(s, p) for s in SETS for p in SETS[s] if args.set in ("all", s)]
    todo += [("extra", p) for p in args.packages]
    for s, p in todo:
        n = fetch(p, os.path.join(args.dest, s), args.min_seconds)
        print(f"{s}/{p}: {n} audio files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
