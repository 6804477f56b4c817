"""A/B of one benchmark script: a git ref (A) against the working tree (B), same machine.

Runs a benchmark script of ``benchmarks/`` (the working tree's copy, so that both sides are
measured by the same code) with the ``tsconv`` package of each side first on the import
path: A is ``REF`` checked out with ``git worktree add`` into a temporary directory, B the
working tree. The runs alternate A B A B ... (``--rounds`` of each, at least 2), each
writing its JSON record (``--out``) into a temporary directory; ``benchmarks/results`` is
not touched. Then, cell by cell, it prints the tsconv/peer ratio of A and of B (the median
over the rounds of each side, with the spread of the rounds) and their quotient B/A, and
flags the cells whose quotient lies outside 0.9-1.1. A ratio measured within one run is
what survives a shared, loaded machine; raw times are not compared.

The ratios of a table are

* its own relative columns (headers holding ``/``, ``x ``, ``speed-up`` or ``scaling``:
  ``tsconv / best of numpy, scipy``, ``off / on``, ``x statsmodels (wall)``, ...);
* every tsconv timing column over every peer timing column of the same row (a column is
  tsconv's when its header names ``tsconv`` or ``apply(``; throughput columns in
  ``Mpts/s`` are turned into times first);
* in tables whose rows are the candidates (first cell naming ``tsconv`` or not), every
  tsconv row over every peer row, column by column.

Usage::

    python benchmarks/ab.py bench_apply.py --quick --ns 1e4,1e5,1e6 [--ref 54ae9c1] [--rounds 2]

Everything after the script name that ``ab.py`` does not know is passed to the script. The
working tree's script must run on the ref's package: on ``54ae9c1`` (the default), before
the API changes of issue 15, ``bench_apply.py``, ``bench_xcorr.py``, ``bench_fit.py``,
``bench_arima.py`` and ``bench_matcher.py`` do; ``bench_dask.py`` (its panel section) and
``bench_tricks.py`` (``apply(workers=)``) do not: compare those with a later ``--ref``.
``--records DIR`` compares the records a previous ``--keep DIR`` left, without running.
Exit status 0 (flagged cells are a finding, not an error) unless a run fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASELINE = "54ae9c1"  # the last commit before issue 15's work
_NUM = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(ns|us|µs|ms|s|x|%)?\s*$")
_TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
_PEERS = ("numpy", "scipy", "oaconvolve", "pandas", "rolling", "ewm", "lfilter", "statsmodels", "statsforecast",
          "stumpy", "peer", "correlate")


def parse(cell: str) -> tuple[float, str] | None:
    """``(value, unit)`` of a numeric cell (times in seconds, unit ``'t'``), or None."""
    m = _NUM.match(cell.replace(",", ""))
    if not m:
        return None
    v, unit = float(m.group(1)), m.group(2) or ""
    if unit in _TIME_UNITS:
        return v * _TIME_UNITS[unit], "t"
    return v, unit


_RATE_UNITS = re.compile(r"mpts/s|series/s|s/query")


def _relative(header: str) -> bool:
    h = _RATE_UNITS.sub("", header.lower())  # units, not ratios
    return "/" in h or h.startswith("x ") or "speed-up" in h or "scaling" in h


def _timing(header: str) -> str | None:
    """'time' or 'rate' for a column of timings, None for anything else."""
    h = header.lower()
    if _relative(header) or "diff" in h or "agree" in h or "rss" in h or "peak" in h or "load" in h:
        return None
    if "mpts/s" in h or "series/s" in h:
        return "rate"
    if "s/query" in h:
        return "time"
    if re.search(r"\b(ms|us|s)\b|wall|cpu|time", h) or h in ("tsconv",) or "apply(" in h or "(" in h:
        return "time"
    return "time"


def _is_tsconv(text: str) -> bool:
    t = text.lower()
    return "tsconv" in t or "apply(" in t


def ratios(record: dict[str, Any]) -> dict[str, float]:
    """Every tsconv/peer ratio of one record, keyed ``table | row | what``."""
    out: dict[str, float] = {}
    tables = [b for b in record["blocks"] if "columns" in b]
    for ti, block in enumerate(tables):
        cols = block["columns"]
        name = f"{ti}:{(block.get('caption') or record['area'])[:40]}"
        kinds = [_timing(c) for c in cols]
        rows = block["rows"]

        def seconds(row: list[str], j: int) -> float | None:
            if j >= len(row) or kinds[j] is None:
                return None
            p = parse(row[j])
            if p is None or p[0] <= 0 or p[1] not in ("t", ""):
                return None
            return 1.0 / p[0] if kinds[j] == "rate" else p[0]

        for ri, row in enumerate(rows):
            label = f"{name} | {ri}:{row[0][:30]}"
            for j, c in enumerate(cols):  # the table's own relative columns
                if j > 0 and _relative(c) and j < len(row):
                    p = parse(row[j])
                    if p is not None and p[0] > 0 and p[1] != "%" or (p is not None and p[1] == "%" and p[0] > 0):
                        out[f"{label} | {c}"] = p[0]
            ts = [j for j, c in enumerate(cols) if j > 0 and kinds[j] and _is_tsconv(c)]
            peers = [j for j, c in enumerate(cols) if j > 0 and kinds[j] and not _is_tsconv(c)
                     and any(k in c.lower() for k in _PEERS)]
            for j in ts:
                for k in peers:
                    a, b = seconds(row, j), seconds(row, k)
                    if a and b:
                        out[f"{label} | time: {cols[j]} / {cols[k]}"] = a / b
        # candidates as rows
        mine = [r for r in rows if _is_tsconv(r[0])]
        others = [r for r in rows if not _is_tsconv(r[0]) and any(k in r[0].lower() for k in _PEERS)]
        if mine and others:
            for j, c in enumerate(cols):
                if j == 0 or not kinds[j]:
                    continue
                for r in mine:
                    for q in others:
                        a, b = seconds(r, j), seconds(q, j)
                        if a and b:
                            out[f"{name} | {r[0][:30]} / {q[0][:30]} | time: {c}"] = a / b
    return out


def _checkout(ref: str, where: Path) -> Path:
    path = where / f"A-{ref}"
    subprocess.run(["git", "worktree", "add", "--detach", str(path), ref], cwd=REPO, check=True,
                   capture_output=True, text=True)
    return path


def _run(script: Path, args: list[str], tree: Path, out: Path, log: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, str(script), *args, "--out", str(out)]
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=str(HERE), env=env, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {proc.returncode}; see {log}")
    record = json.loads(out.read_text())
    got = record.get("tsconv_path", "")
    if got and Path(got) != (tree / "tsconv").resolve():
        raise SystemExit(f"the run meant for {tree} imported tsconv from {got}")
    return record


def _fmt(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else str(v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("script", help="a script of benchmarks/ (e.g. bench_apply.py)")
    ap.add_argument("--ref", default=BASELINE, help=f"the A side, a git ref (default {BASELINE})")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each side, alternating (>= 2)")
    ap.add_argument("--tolerance", type=float, default=0.10, help="flag quotients outside 1 -+ this")
    ap.add_argument("--keep", default=None, help="keep the JSON records and logs in this directory")
    ap.add_argument("--records", default=None, metavar="DIR",
                    help="run nothing: compare the records a previous --keep left in DIR")
    args, rest = ap.parse_known_args(argv)
    if args.rounds < 2:
        ap.error(f"--rounds must be >= 2, got {args.rounds}")
    script = (HERE / Path(args.script).name).resolve()
    if not script.is_file():
        ap.error(f"no benchmark script {script}")
    recs: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    if args.records:
        store = Path(args.records).resolve()
        for side in recs:
            recs[side] = [json.loads(f.read_text()) for f in sorted(store.glob(f"{script.stem}-{side}*.json"))]
        if not (recs["A"] and recs["B"]):
            ap.error(f"no records {script.stem}-A*.json and -B*.json in {store}")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="tsconv-ab-"))
        store = Path(args.keep).resolve() if args.keep else tmp
        store.mkdir(parents=True, exist_ok=True)
        tree_a = _checkout(args.ref, tmp)
        try:
            for rnd in range(args.rounds):
                for side, tree in (("A", tree_a), ("B", REPO)):
                    out = store / f"{script.stem}-{side}{rnd}.json"
                    print(f"# round {rnd + 1}/{args.rounds}, {side}: tsconv of {tree}", flush=True)
                    recs[side].append(_run(script, rest, tree, out, store / f"{script.stem}-{side}{rnd}.log"))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree_a)], cwd=REPO, capture_output=True)
    per = {side: [ratios(r) for r in rs] for side, rs in recs.items()}
    keys = [k for k in per["B"][0] if all(k in d for s in per.values() for d in s)]
    missing = sorted({k for s in per.values() for d in s for k in d} - set(keys))
    head = recs["B"][0]
    print(f"\n## A/B of {head['command']}: A = {recs['A'][0].get('commit')}, B = working tree ({head.get('commit')}); "
          f"{len(recs['A'])} and {len(recs['B'])} rounds, alternating; loads {[r['machine'].get('load_start') for r in recs['A'] + recs['B']]}")
    print("| table | row | ratio | A (median; rounds) | B (median; rounds) | B / A | |")
    print("|---|---|---|---:|---:|---:|---|")
    flagged = 0
    for k in keys:
        a = [d[k] for d in per["A"]]
        b = [d[k] for d in per["B"]]
        ma, mb = statistics.median(a), statistics.median(b)
        q = mb / ma if ma else math.nan
        bad = not (1 - args.tolerance <= q <= 1 + args.tolerance)
        flagged += bad
        table, row, what = (k.split(" | ", 2) + ["", ""])[:3]
        # "time:" ratios are tsconv's time over the peer's: below 1 - tol, tsconv gained
        note = "" if not bad else "**outside**" + ("" if not what.startswith("time:") else
                                                    " (tsconv faster)" if q < 1 else " (tsconv slower)")
        print(f"| {table} | {row} | {what} | {_fmt(ma)}; {'/'.join(_fmt(v) for v in a)} | "
              f"{_fmt(mb)}; {'/'.join(_fmt(v) for v in b)} | {q:.2f} | {note} |")
    print(f"\n{flagged} of {len(keys)} cells outside {1 - args.tolerance:.2f}-{1 + args.tolerance:.2f}"
          + (f"; {len(missing)} cells not in every run (not compared): {missing[:8]}" if missing else ""))
    print(f"# records and logs in {store}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
