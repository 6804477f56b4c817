"""``tsconv index`` / ``tsconv match`` / ``tsconv eval``: the audio matcher on the command line.

Exit codes: 0 success (``match``: at least one match), 1 ``match`` found nothing above the
threshold, 2 a bad catalog, file or argument.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any


def _err(msg: str) -> int:
    print(f"tsconv: error: {msg}", file=sys.stderr)
    return 2


def _cmd_index(args: argparse.Namespace) -> int:
    from tsconv.audio import Matcher

    try:
        m = Matcher(sr=args.sr, whitening=args.whitening, storage=args.storage)
        t0 = time.perf_counter()
        names = m.add_directory(args.dir, args.pattern, progress=None if not args.quiet else False)
        if not names:
            return _err(f"no decodable audio files matching {args.pattern!r} under {args.dir!r}")
        m.save(args.output)
    except (FileNotFoundError, ValueError, OSError) as exc:
        return _err(str(exc))
    if not args.quiet:
        size = os.path.getsize(args.output)
        print(f"indexed {len(names)} tracks, {m.duration / 60:.1f} min, in {time.perf_counter() - t0:.1f} s "
              f"-> {args.output} ({size / 1e6:.1f} MB)")
    return 0


def _cmd_match(args: argparse.Namespace) -> int:
    from tsconv.audio import CatalogError, Matcher

    try:
        m = Matcher.load(args.catalog)
        res = m.match_file(args.clip, top_k=args.top_k, max_false_alarm=args.max_false_alarm, speed_range=args.speed_range)
    except CatalogError as exc:
        return _err(f"bad catalog: {exc}")
    except (FileNotFoundError, ValueError, TypeError, OSError) as exc:
        return _err(str(exc))
    if args.json:
        print(json.dumps([
            {"track": r.track, "offset": r.offset, "offset_samples": r.offset_samples, "score": r.score,
             "false_alarm_probability": r.false_alarm_probability, "speed": r.speed}
            for r in res
        ], indent=1))
    elif not res:
        print("no match")
    else:
        print(f"{'rank':>4}  {'track':<30} {'offset s':>10} {'score':>7} {'p false alarm':>14} {'speed':>7}")
        for i, r in enumerate(res, 1):
            print(f"{i:>4}  {r.track:<30} {r.offset:10.4f} {r.score:7.3f} {r.false_alarm_probability:14.3g} {r.speed:7.4f}")
    return 0 if res else 1


def _cmd_eval(args: argparse.Namespace) -> int:
    from tsconv.audio import CatalogError, Matcher
    from tsconv.audio._eval import Source, catalog_sources, real_sources, run_eval

    try:
        m = Matcher.load(args.catalog)
        sources = catalog_sources(m, args.audio_dir)
        if args.negatives:
            sources += [Source(s.name, s.x, False) for s in real_sources(args.negatives, 0.0, m.sr, args.seed)]
    except CatalogError as exc:
        return _err(f"bad catalog: {exc}")
    except (FileNotFoundError, ValueError, OSError) as exc:
        return _err(str(exc))
    rep = run_eval(m, sources, args.queries, args.seed, quick=args.queries < 100, sections=tuple(args.sections.split(",")))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rep.rows, "info": rep.info}, fh, indent=1)
    return 0


def register(sub: Any) -> None:
    """Add the ``index``, ``match`` and ``eval`` subcommands to ``tsconv``'s subparsers."""
    p = sub.add_parser("index", help="build an audio catalog from a directory of audio files")
    p.add_argument("dir", help="directory scanned recursively")
    p.add_argument("-o", "--output", required=True, help="catalog file to write (atomically)")
    p.add_argument("--pattern", default="*", help="file-name pattern (default '*')")
    p.add_argument("--sr", type=int, default=8000, help="working sample rate in Hz (default 8000)")
    p.add_argument("--whitening", default="spectral", choices=["spectral", "lpc", "none"])
    p.add_argument("--storage", default="float16", choices=["float16", "float32"])
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("match", help="identify an audio clip against a catalog")
    p.add_argument("catalog")
    p.add_argument("clip", help="audio file (any format libsndfile reads)")
    p.add_argument("--top-k", type=int, default=5, help="at most this many tracks (default 5)")
    p.add_argument("--max-false-alarm", type=float, default=0.01, help="report matches with p <= this (default 0.01)")
    p.add_argument("--speed-range", type=float, default=None, help="search playback speeds within +-this (e.g. 0.01)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_match)

    p = sub.add_parser("eval", help="accuracy table of a catalog (clips cut from its source files)")
    p.add_argument("catalog")
    p.add_argument("--audio-dir", help="where the tracks' audio is, if not at the paths recorded at indexing")
    p.add_argument("--negatives", help="directory of audio NOT in the catalog (open-set test); default: noise")
    p.add_argument("--queries", type=int, default=200, help="queries per cell (default 200)")
    p.add_argument("--sections", default="snr,offset,open,speed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the results as JSON here")
    p.set_defaults(func=_cmd_eval)
