"""The JSON a benchmark script leaves in ``benchmarks/results/<area>.json``.

``benchmarks/render.py`` turns those files into ``docs/benchmarks.md``; the page is never
edited by hand. A record holds the command that produced it, the machine (with its load
average, since the machine may be shared), the library versions, the commit measured, the
tables (tsconv beside every peer of the same run) and raw series for the plots.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]


def median_times(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """``(wall, cpu, result)``: the median wall and CPU seconds (``time.process_time``: every
    thread of this process, not waiting for a core) of ``repeats`` calls of ``fn``, and the
    last call's result. For scripts that time one candidate at a time; ``bench_apply`` and
    ``bench_xcorr`` interleave theirs."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), out


def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on POSIX
        return "unknown"


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("tsconv", "numpy", "scipy", "pandas", "statsmodels", "statsforecast", "pmdarima", "stumpy", "dask"):
        try:
            out[name] = importlib.import_module(name).__version__
        except Exception:  # not installed: a peer that was not timed
            pass
    return out


def git(cwd: str | Path, *args: str) -> str | None:
    """``git args`` run in ``cwd``: its output, stripped; None when git or the checkout is missing."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _commit() -> str:
    """The commit of the checkout whose tsconv this run imported (``+changes``: edited)."""
    tree = Path(_tsconv_path()).parent if _tsconv_path() != "unknown" else REPO
    head = git(tree, "rev-parse", "--short=10", "HEAD")
    dirty = git(tree, "status", "--porcelain", "--untracked-files=no", "tsconv")
    if head is None or dirty is None:
        return "unknown"
    return head + ("+changes" if dirty else "")


# options that say where a run writes its files, not how it was measured
SCRATCH_OPTIONS = ("--out", "--per-series")


def without_scratch(args: list[str]) -> list[str]:
    """The arguments without the :data:`SCRATCH_OPTIONS` and their paths (``--out PATH``, ``--out=PATH``)."""
    kept, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in SCRATCH_OPTIONS:
            skip = True
        elif not a.startswith(tuple(o + "=" for o in SCRATCH_OPTIONS)):
            kept.append(a)
    return kept


def _tsconv_path() -> str:
    """The directory of the tsconv package this run imported (a checkout may differ from REPO)."""
    try:
        return str(Path(importlib.import_module("tsconv").__file__ or "").resolve().parent)
    except Exception:  # pragma: no cover - not importable
        return "unknown"


# Imported at the top of a benchmark script: the load average when the run starts.
_START_LOAD = _load()


class Results:
    """Collect one area's tables while a benchmark runs; ``save()`` writes them.

    Parameters
    ----------
    area : str
        File name in ``benchmarks/results`` (``apply``, ``xcorr``, ...).
    title : str
        Section title on the page.
    what : str
        One paragraph: what is timed, against which peers, how.
    """

    def __init__(self, area: str, title: str, what: str) -> None:
        self.record: dict[str, Any] = {
            "area": area,
            "title": title,
            "what": " ".join(what.split()),
            "command": "python benchmarks/" + Path(sys.argv[0]).name + "".join(" " + a for a in without_scratch(sys.argv[1:])),
            "machine": {
                "platform": f"{platform.system()} {platform.machine()}",
                "cpus": os.cpu_count(),
                "load_start": _START_LOAD,
            },
            "versions": _versions(),
            "commit": _commit(),
            "tsconv_path": _tsconv_path(),
            "blocks": [],
            "data": {},
        }

    def placeholders(self, names: dict[str, str]) -> None:
        """Replace the values of the options ``names`` (``{"--cache": "CACHE"}``; a positional
        argument by its value: ``{args.dest: "DEST"}``; every occurrence) in the recorded
        command by those names: no path of this machine in the record."""
        cmd = self.record["command"].split(" ")
        for key, name in names.items():
            for i, word in enumerate(cmd):
                if word != key:
                    continue
                if key.startswith("--") and i + 1 < len(cmd):
                    cmd[i + 1] = name  # every occurrence of a repeated option
                elif not key.startswith("--"):
                    cmd[i] = name
        self.record["command"] = " ".join(cmd)

    def table(self, columns: list[str], rows: list[list[Any]], caption: str = "") -> None:
        """A table: ``columns`` headers, ``rows`` of already formatted cells."""
        self.record["blocks"].append({"caption": caption, "columns": list(columns),
                                      "rows": [[str(c) for c in r] for r in rows]})

    def text(self, text: str) -> None:
        self.record["blocks"].append({"text": " ".join(text.split())})

    def data(self, key: str, value: Any) -> None:
        """Raw numbers a plot of ``render.py`` draws (JSON-serializable)."""
        self.record["data"][key] = value

    def save(self, out: str | None = None) -> Path:
        """Write ``benchmarks/results/<area>.json`` (or ``out``, a scripts' ``--out``) atomically."""
        rec = self.record
        rec["machine"]["load_end"] = _load()
        rec["finished_utc"] = f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M}"
        if out is None:
            RESULTS.mkdir(exist_ok=True)
            path = RESULTS / f"{rec['area']}.json"
        else:
            path = Path(out).resolve()
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(rec, indent=1, default=float) + "\n")
        os.replace(tmp, path)
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        print(f"# wrote {shown}; regenerate the page with python benchmarks/render.py")
        return path


def add_out_option(parser: Any) -> None:
    """The ``--out`` option every benchmark script that saves a record takes."""
    parser.add_argument("--out", default=None, metavar="PATH",
                        help="write the JSON record here instead of benchmarks/results/<area>.json "
                             "(benchmarks/ab.py uses it)")
