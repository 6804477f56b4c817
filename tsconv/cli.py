"""The ``tsconv`` command: a thin shell over the library's functions.

Subcommands: ``demo`` (the main job on built-in data), ``check`` (statsmodels
verification suite), ``index`` / ``catalog`` / ``match`` / ``eval`` (audio catalog),
``kernels``; ``tsconv --version``.

Exit codes: 0 success, 1 a negative answer (``check`` failed, ``match`` found nothing),
2 an error (message on stderr, no traceback), 130 interrupted by Ctrl-C; a closed output
pipe (``tsconv kernels | head``) ends the command quietly with 141, as for other Unix
tools.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _cmd_kernels(args: argparse.Namespace) -> int:
    from tsconv._demo import print_kernel_library

    print_kernel_library()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from tsconv._demo import run_demo

    import tempfile

    if os.path.lexists(args.outdir) and not os.path.isdir(args.outdir):
        print(f"tsconv: error: -o/--outdir {args.outdir!r} exists and is not a directory", file=sys.stderr)
        return 2
    try:  # the output folder is made and written to once before any work
        os.makedirs(args.outdir, exist_ok=True)
        with tempfile.TemporaryFile(dir=args.outdir):
            pass
    except OSError as exc:
        print(f"tsconv: error: -o/--outdir {args.outdir!r} cannot be created or written to "
              f"({exc.strerror or exc})", file=sys.stderr)
        return 2
    try:
        return run_demo(outdir=args.outdir, quick=args.quick)
    except BrokenPipeError:  # a closed output pipe: main() ends quietly with 141
        raise
    except OSError as exc:  # the disk filled, the folder went away...
        print(f"tsconv: error: writing to -o/--outdir {args.outdir!r} failed ({exc})", file=sys.stderr)
        return 2


def _cmd_check(args: argparse.Namespace) -> int:
    from tsconv.verify import check_suite

    ok = check_suite(verbose=True)
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    from tsconv import __version__

    parser = argparse.ArgumentParser(prog="tsconv", description="Time-series statistics as convolution kernels.")
    parser.add_argument("--version", action="version", version=f"tsconv {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run the main job on built-in data and write a report")
    p.add_argument("-o", "--outdir", default="tsconv-demo", help="where figures and the report go (default ./tsconv-demo)")
    p.add_argument("--quick", action="store_true", help="skip the slower parts")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("kernels", help="list the kernel library with a frequency-response summary")
    p.set_defaults(func=_cmd_kernels)

    p = sub.add_parser("check", help="verify the ARIMA kernels against statsmodels on built-in data; exit 1 on failure")
    p.set_defaults(func=_cmd_check)

    # the audio subcommands (index / match / eval) live with the audio package
    from tsconv.audio._cli import register as _register_audio

    _register_audio(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # `tsconv match CATALOG --json a.ogg b.ogg`: argparse closes a nargs="*" positional at
    # the first option, so clips after an option come back unparsed; they are clips
    # (parse_intermixed_args would take them, but refuses parsers with subcommands)
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) == "match":
        args.clips = [*args.clips, *(a for a in extra if not a.startswith("-") or a == "-")]
        extra = [a for a in extra if a.startswith("-") and a != "-"]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except KeyboardInterrupt:
        print("tsconv: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`tsconv kernels | head`): stop quietly; stdout is pointed
        # at /dev/null so that the interpreter's final flush does not complain again
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
            pass
        return 141
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
