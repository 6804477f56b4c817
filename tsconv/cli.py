"""The ``tsconv`` command: a thin shell over the library's functions.

Subcommands: ``demo`` (the main job on built-in data), ``check`` (statsmodels
verification suite), ``index`` / ``match`` / ``eval`` (audio catalog), ``kernels``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _cmd_kernels(args: argparse.Namespace) -> int:
    from tsconv._demo import print_kernel_library

    print_kernel_library()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from tsconv._demo import run_demo

    return run_demo(outdir=args.outdir, quick=args.quick)


def _cmd_check(args: argparse.Namespace) -> int:
    from tsconv.verify import check_suite

    ok = check_suite(verbose=True)
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsconv", description="Time-series statistics as convolution kernels.")
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
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
