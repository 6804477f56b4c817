"""``tsconv index`` / ``catalog`` / ``match`` / ``eval``: the audio matcher on the command line.

Exit codes (``docs/audio.md``): 0 success (``match``: every clip found), 1 ``match``: a clip
without a match above the threshold (and no error), 2 an error (bad catalog, file,
argument or output path), 130 interrupted (Ctrl-C). Errors go to stderr, one line each,
without a traceback. ``--json`` prints JSON on stdout in every subcommand that has it.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_SECTIONS = ("snr", "offset", "open", "speed")
_RATE_NOTE = 0.001  # a speed this far from 1 is noted on stderr (a possibly wrong sample rate)


def _err(msg: str) -> int:
    print(f"tsconv: error: {msg}", file=sys.stderr)
    return 2


def _check_output(path: str, what: str, *, force: bool = True) -> str | None:
    """Why ``path`` cannot be written (its directory missing or not writable, a directory
    itself, an existing file without ``force``), or None."""
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        return f"{what} {path!r} is a directory"
    if not os.path.isdir(directory):
        return f"cannot write {what} {path!r}: directory {directory!r} does not exist"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"cannot write {what} {path!r}: directory {directory!r} is not writable"
    if os.path.lexists(target):
        if not force:
            return f"{what} {path!r} exists: use --force to overwrite it or --append to add to it"
        if not os.access(target, os.W_OK) and not os.path.islink(target):
            # os.replace would succeed over a read-only file; refuse as a user expects
            return f"cannot write {what} {path!r}: the file is read-only"
    return None


def _cmd_index(args: argparse.Namespace) -> int:
    from tsconv.audio import CatalogError, Matcher

    if args.force and args.append:
        return _err("--force and --append exclude each other")
    problem = _check_output(args.output, "catalog", force=args.force or args.append)
    if problem:
        return _err(problem)
    if not os.path.isdir(args.dir):
        return _err(f"path is not a directory: {args.dir!r}")
    try:
        if args.append and os.path.exists(args.output):
            m = Matcher.load(args.output)
            before = len(m)
            given = {"--sr": (args.sr, m.sr), "--whitening": (args.whitening, m.whitening), "--storage": (args.storage, m.storage)}
            clash = [f"{k} {v!r} (the catalog has {w!r})" for k, (v, w) in given.items() if v is not None and v != w]
            if clash:
                return _err("--append adds to the catalog with its own settings; got " + ", ".join(clash))
        else:
            m = Matcher(sr=8000 if args.sr is None else args.sr, whitening=args.whitening or "spectral",
                        storage=args.storage or "float16")
            before = 0
        t0 = time.perf_counter()
        if not args.quiet:
            print(f"tsconv: indexing {args.dir} ...", file=sys.stderr, flush=True)
        names = m.add_directory(args.dir, args.pattern, progress=None if not args.quiet else False)
        if not names:
            if before:
                return _err(f"no new audio files matching {args.pattern!r} under {args.dir!r}: the catalog "
                            f"already holds the {before} tracks it has")
            return _err(f"no decodable audio files matching {args.pattern!r} under {args.dir!r}")
        t_cal = time.perf_counter()
        if not args.no_calibrate:
            if not args.quiet:
                print(f"tsconv: measuring the music null of {len(m)} tracks, {m.duration / 60:.1f} min "
                      "(--no-calibrate skips it) ...", file=sys.stderr, flush=True)
            m.calibrate()  # the music null: probabilities that hold on real out-of-catalog music
        t_cal = time.perf_counter() - t_cal
        m.save(args.output)
    except CatalogError as exc:
        return _err(f"bad catalog: {exc}")
    except (FileNotFoundError, ValueError, OSError, MemoryError) as exc:
        return _err(str(exc))
    if not args.quiet:
        size = os.path.getsize(args.output)
        what = f"added {len(names)} tracks to {before}" if before else f"indexed {len(names)} tracks"
        print(f"{what}, {m.duration / 60:.1f} min, in {time.perf_counter() - t0:.1f} s "
              f"-> {args.output} ({size / 1e6:.1f} MB)" + ("" if args.no_calibrate else f"; music null {t_cal:.1f} s"))
    return 0


def _shown(text: str) -> str:
    """``text`` for a line of the text output: control characters (a newline or a tab in a
    track name, which a file name may hold) escaped as Python writes them (``\\n``), so that
    one track stays one line and its columns stay apart; ``--json`` gives names as they are."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _cmd_catalog(args: argparse.Namespace) -> int:
    from tsconv.audio import CatalogError, Matcher
    from tsconv.audio.catalog import read_manifest

    try:
        # mapped: the file is verified by streaming it, not read into memory
        m = Matcher.load(args.catalog, mmap=True)
        manifest = read_manifest(args.catalog)
    except CatalogError as exc:
        return _err(f"bad catalog: {exc}")
    if args.action == "list":
        rows: list[dict[str, Any]] = [{"name": t.name, "seconds": t.n / m.sr, "source": t.source} for t in m._tracks]
        if args.json:
            print(json.dumps(rows, indent=1))
        else:
            for r in rows:
                print(f"{_shown(r['name'])}\t{r['seconds']:.3f}\t{_shown(r['source'])}")
        return 0
    info = {
        "catalog": os.path.abspath(args.catalog), "version": manifest["version"], "bytes": os.path.getsize(args.catalog),
        "index": "index" in manifest, "tracks": len(m), "seconds": m.duration, "sr": m.sr, "whitening": m.whitening, "storage": m.storage,
        "max_needle": m.max_needle, "speed_range": m.speed_range,
    }
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        for k, v in info.items():
            print(f"{k}: {v}")
    return 0


def _clip_paths(args: argparse.Namespace) -> tuple[list[str], list[bool]]:
    """The clips named on the command line: files, folders (recursively) and ``--list``
    files; and for each, whether it was found in a folder (not named)."""
    named = list(args.clips)
    if args.list:
        try:
            with open(args.list, encoding="utf-8") as fh:
                named += [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read --list {args.list!r}: {exc}") from exc
    paths: list[str] = []
    walked: list[bool] = []
    for p in named:
        if os.path.isdir(p):
            for dirpath, _, names in os.walk(p):
                found = sorted(os.path.join(dirpath, n) for n in names if not n.startswith("."))
                paths += found
                walked += [True] * len(found)
        else:
            paths.append(p)
            walked.append(False)
    return paths, walked


def _open_clip(path: str) -> dict[str, Any]:
    """Decode one clip (before the catalog is loaded): ``{clip, samples, sr}`` or ``{clip, error}``."""
    from tsconv.audio import load

    try:
        if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
            raise ValueError(f"cannot decode {path!r}: not a regular file")
        x, sr = load(path)
        return {"clip": path, "samples": x, "sr": sr}
    except (FileNotFoundError, ValueError, OSError, MemoryError) as exc:
        return {"clip": path, "error": str(exc)}


def _cmd_match(args: argparse.Namespace) -> int:
    from tsconv.audio import CatalogError, Matcher, RateMismatchWarning

    if args.workers < 1:
        return _err(f"--workers must be >= 1, got {args.workers}")
    if args.top_k < 1:
        return _err(f"--top-k must be >= 1, got {args.top_k}")
    if not 0.0 < args.max_false_alarm <= 1.0:
        return _err(f"--max-false-alarm must be a probability in (0, 1], got {args.max_false_alarm}")
    if args.speed_range is not None:  # before any clip is opened (not once per clip)
        try:
            Matcher._check_speed_range(args.speed_range)
        except ValueError:
            return _err(f"--speed-range must be a number in [0, 0.05], got {args.speed_range}")
    try:
        paths, walked = _clip_paths(args)
    except ValueError as exc:
        return _err(str(exc))
    if not paths:
        return _err("no clip given (files, folders or --list FILE)")
    # the clips are opened first: a missing or bad clip is reported without loading the catalog
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        clips = list(pool.map(_open_clip, paths))
    decode_s = time.perf_counter() - t0
    # a file of a folder that is no audio (a cover image, a text file) is skipped, as
    # `tsconv index` skips it; a file named on the command line or in --list stays an error
    skip = [w and "error" in c for c, w in zip(clips, walked)]
    for c, sk in zip(clips, skip):
        if sk:
            print(f"tsconv: skipping {c['clip']}: {c['error']}", file=sys.stderr)
    clips = [c for c, sk in zip(clips, skip) if not sk]
    if not clips:
        return _err(f"no clip could be decoded: the {len(paths)} file(s) of the folders given were skipped")
    results: list[dict[str, Any]] = [{"clip": c["clip"], "error": c["error"]} for c in clips if "error" in c]
    todo = [c for c in clips if "error" not in c]
    load_s = 0.0
    if todo:
        t0 = time.perf_counter()
        try:
            # mapped: the samples and a stored index cost page cache, shared by concurrent runs
            m = Matcher.load(args.catalog, workers=max(1, 2 // args.workers), mmap=True)
            m._ensure_index()  # the search index, once (if the file has none): the first clip is not slower than the next
        except CatalogError as exc:
            return _err(f"bad catalog: {exc}")
        except (ValueError, OSError, MemoryError) as exc:
            return _err(str(exc))
        load_s = time.perf_counter() - t0

        def run(c: dict[str, Any]) -> dict[str, Any]:
            t1 = time.perf_counter()
            try:
                res = m.match(c["samples"], c["sr"], top_k=args.top_k, max_false_alarm=args.max_false_alarm,
                              speed_range=args.speed_range, check_rate=not args.no_rate_check)
            except (ValueError, TypeError, MemoryError) as exc:
                return {"clip": c["clip"], "error": str(exc)}
            return {"clip": c["clip"], "seconds": time.perf_counter() - t1, "sr": c["sr"], "matches": [
                {"track": r.track, "offset": r.offset, "offset_samples": r.offset_samples, "score": r.score,
                 "false_alarm_probability": r.false_alarm_probability, "speed": r.speed,
                 # the rate at which the clip's content plays at the track's speed
                 "implied_sr": c["sr"] / r.speed} for r in res]}

        # a clip found at another rate carries its speed: the note below says so (not the warning)
        with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=args.workers) as pool:
            warnings.simplefilter("ignore", RateMismatchWarning)
            results += list(pool.map(run, todo))
    order = {p: i for i, p in enumerate(paths)}
    results.sort(key=lambda r: order[r["clip"]])
    for r in results:
        if "error" in r:
            print(f"tsconv: error: {r['clip']}: {r['error']}", file=sys.stderr)
        elif r["matches"] and abs(r["matches"][0]["speed"] - 1.0) >= _RATE_NOTE:
            best = r["matches"][0]
            print(f"tsconv: note: {r['clip']} plays {best['speed']:.4f} times the speed of {best['track']!r}: "
                  f"a changed playback speed, or a wrong sample rate in its header ({r['sr']} Hz declared, "
                  f"{best['implied_sr']:.0f} Hz would match)", file=sys.stderr)
    if args.json:
        print(json.dumps({"catalog": os.path.abspath(args.catalog), "decode_s": decode_s, "load_s": load_s,
                          "clips": [dict({"sr": None, "seconds": None, "error": None, "matches": []}, **r) for r in results]},
                         indent=1))
    else:
        for r in results:
            if "error" in r:
                continue
            head = f"{r['clip']}: " if len(results) > 1 else ""
            if not r["matches"]:
                print(f"{head}no match")
                continue
            if head:
                print(head.rstrip(" "))
            print(f"{'rank':>4}  {'track':<30} {'offset s':>10} {'score':>7} {'p false alarm':>14} {'speed':>7}")
            for i, mt in enumerate(r["matches"], 1):
                print(f"{i:>4}  {_shown(mt['track']):<30} {mt['offset']:10.4f} {mt['score']:7.3f} "
                      f"{mt['false_alarm_probability']:14.3g} {mt['speed']:7.4f}")
    if any("error" in r for r in results):
        return 2
    return 0 if all(r["matches"] for r in results) else 1


def _cmd_eval(args: argparse.Namespace) -> int:
    from tsconv.audio import CatalogError, Matcher
    from tsconv.audio._eval import EvalInputError as _EvalInputError
    from tsconv.audio._eval import Source, catalog_sources, real_sources, run_eval

    # every argument is checked before any work
    if args.queries <= 0:
        return _err(f"--queries must be a positive number of queries, got {args.queries}")
    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    unknown = sorted(set(sections) - set(_SECTIONS))
    if unknown or not sections:
        return _err(f"--sections must be a comma-separated subset of {','.join(_SECTIONS)}, got {args.sections!r}")
    if args.negatives is not None and not os.path.isdir(args.negatives):
        return _err(f"--negatives must be a directory, got {args.negatives!r}")
    if args.audio_dir is not None and not os.path.isdir(args.audio_dir):
        return _err(f"--audio-dir must be a directory, got {args.audio_dir!r}")
    if args.output is not None:
        problem = _check_output(args.output, "output file")
        if problem:
            return _err(problem)
    try:
        m = Matcher.load(args.catalog)
        sources = catalog_sources(m, args.audio_dir)
        if args.negatives:
            sources += [Source(s.name, s.x, False) for s in real_sources(args.negatives, 0.0, m.sr, args.seed)]
    except CatalogError as exc:
        return _err(f"bad catalog: {exc}")
    except (FileNotFoundError, ValueError, OSError) as exc:
        return _err(str(exc))
    log = (lambda *a, **k: print(*a, file=sys.stderr, **k)) if args.json else print
    try:
        rep = run_eval(m, sources, args.queries, args.seed, quick=args.queries < 100, sections=sections, log=log)
    except _EvalInputError as exc:
        return _err(str(exc))
    doc = {"catalog": os.path.abspath(args.catalog), "rows": rep.rows, "info": rep.info}
    if args.output is not None:
        from tsconv.audio.catalog import _atomic_write_bytes

        try:
            _atomic_write_bytes(args.output, json.dumps(doc, indent=1).encode())
        except OSError as exc:
            return _err(f"cannot write output file {args.output!r}: {exc}")
    if args.json:
        print(json.dumps(doc, indent=1))
    return 0


def register(sub: Any) -> None:
    """Add the ``index``, ``catalog``, ``match`` and ``eval`` subcommands to ``tsconv``'s subparsers."""
    p = sub.add_parser("index", help="build an audio catalog from a directory of audio files")
    p.add_argument("dir", help="directory scanned recursively")
    p.add_argument("-o", "--output", required=True, help="catalog file to write (atomically)")
    p.add_argument("--force", action="store_true", help="overwrite an existing catalog")
    p.add_argument("--append", action="store_true", help="add the directory's files to an existing catalog")
    p.add_argument("--pattern", default="*", help="file-name pattern (default '*')")
    p.add_argument("--sr", type=int, default=None, help="working sample rate in Hz (default 8000; with --append the catalog's)")
    p.add_argument("--whitening", default=None, choices=["spectral", "lpc", "none"], help="default spectral")
    p.add_argument("--storage", default=None, choices=["float16", "float32"], help="default float16")
    p.add_argument("--no-calibrate", action="store_true",
                   help="skip the music null (Matcher.calibrate): faster, but unrelated music then gets too small probabilities")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("catalog", help="list the tracks of a catalog, or describe it")
    p.add_argument("action", choices=["list", "info"])
    p.add_argument("catalog")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_catalog)

    p = sub.add_parser("match", help="identify audio clips against a catalog")
    p.add_argument("catalog")
    p.add_argument("clips", nargs="*", help="audio files (any format libsndfile reads) or folders of them")
    p.add_argument("--list", help="a file naming one clip (or folder) per line")
    p.add_argument("--workers", type=int, default=1, help="clips matched in parallel (default 1)")
    p.add_argument("--top-k", type=int, default=5, help="at most this many tracks (default 5)")
    p.add_argument("--max-false-alarm", type=float, default=0.01, help="report matches with p <= this (default 0.01)")
    p.add_argument("--speed-range", type=float, default=None, help="search playback speeds within +-this (e.g. 0.01)")
    p.add_argument("--no-rate-check", action="store_true",
                   help="trust the declared sample rates (by default a weak match is also sought at the usual wrong rates)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_match)

    p = sub.add_parser("eval", help="accuracy table of a catalog (clips cut from its source files)")
    p.add_argument("catalog")
    p.add_argument("--audio-dir", help="where the tracks' audio is, if not at the paths recorded at indexing")
    p.add_argument("--negatives", help="directory of real music NOT in the catalog (open-set test and the calibration table of clean "
                   "out-of-catalog clips; the way to measure false alarms); default: noise only")
    p.add_argument("--queries", type=int, default=200, help="queries per cell (default 200)")
    p.add_argument("--sections", default=",".join(_SECTIONS), help=f"subset of {','.join(_SECTIONS)}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the results as JSON (the table goes to stderr)")
    p.add_argument("-o", "--output", help="also write the results as JSON to this file")
    p.set_defaults(func=_cmd_eval)
