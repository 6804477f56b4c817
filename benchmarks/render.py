"""Write docs/benchmarks.md (and its plots) from the JSON the benchmark scripts leave.

Each script in ``benchmarks/`` writes ``benchmarks/results/<area>.json`` (see
``benchmarks/_results.py``); this renders one section per area, in a fixed order, with the
command that regenerates it, the machine, the versions and the tables as measured. The page
is never edited by hand: ``tests/test_docs.py`` checks that it equals this script's output.

Usage::

    python benchmarks/render.py            # write docs/benchmarks.md and docs/_static/bench_*.png
    python benchmarks/render.py --check    # exit 1 if docs/benchmarks.md is not up to date
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOCS = HERE.parent / "docs"
PAGE = DOCS / "benchmarks.md"
ORDER = ["apply", "tricks", "xcorr", "arima", "fit", "compile", "auto_arima", "dask", "matcher", "matcher_ab", "accuracy_ab", "audio", "audio_calibration", "audio_null", "audio_speed", "audio_scale", "audio_superposition"]
PLOTS = {"apply": "bench_apply.png", "matcher": "bench_matcher.png", "audio_scale": "bench_audio_scale.png"}

HEADER = """\
# Benchmarks

Every table below was written by a script in `benchmarks/` that times tsconv and its peers
in the same run (medians of repeats, interleaved) and stores the result in
`benchmarks/results/<area>.json`; `python benchmarks/render.py` writes this page from those
files (it is never edited by hand). Each section gives the command that regenerates it, the
machine with its load average, and the library versions. Ratios measured within one run are
what to compare: on a shared machine other jobs slow tsconv and the peers alike, and not
always equally. Speed targets are checked here, never in the test suite.
"""


def load_results(directory: Path = RESULTS) -> list[dict[str, Any]]:
    """The records of ``directory``, in the page's order."""
    recs = {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}
    unknown = set(recs) - set(ORDER)
    if unknown:
        raise ValueError(f"results: unknown areas {sorted(unknown)}; add them to ORDER in render.py")
    return [recs[a] for a in ORDER if a in recs]


def _table(block: dict[str, Any]) -> list[str]:
    cols, rows = block["columns"], block["rows"]
    out = []
    if block.get("caption"):
        out += [f"**{block['caption']}**", ""]
    def cells(r: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"

    out.append(cells(cols))
    out.append("|" + "---|" * len(cols))
    out += [cells(r) for r in rows]
    return out


def _machine(rec: dict[str, Any]) -> str:
    m = rec["machine"]
    load = f"load average (1, 5, 15 min) {m['load_start']} at the start and {m['load_end']} at the end"
    busy = max(float(v) for v in (m["load_start"] + " " + m["load_end"]).split() if v != "unknown") > m["cpus"]
    note = (": more runnable jobs than cores, the machine was shared with other work" if busy
            else "")
    return f"{m['platform']}, {m['cpus']} CPUs; {load}{note}."


def render_section(rec: dict[str, Any]) -> list[str]:
    out = [f"## {rec['title']}", ""]
    if rec.get("rerun", True):
        out += [f"Regenerate: `{rec['command']}`, then `python benchmarks/render.py`.", ""]
    else:
        out += [f"**Not rerun in this state.** These figures were measured with the code of commit "
                f"`{rec['commit']}` (the code has changed since) by `{rec['command']}`. "
                + rec.get("why_not_rerun", ""), ""]
    out += [f"Machine: {_machine(rec)}" if "load_start" in rec["machine"] else f"Machine: {rec['machine']['description']}", ""]
    out += ["Versions: " + ", ".join(f"{k} {v}" for k, v in rec["versions"].items())
            + (f"; tsconv at commit `{rec['commit']}`." if rec.get("rerun", True) else "."), ""]
    out += [rec["what"], ""]
    for block in rec["blocks"]:
        out += (_table(block) if "columns" in block else [block["text"]]) + [""]
    if rec["area"] in PLOTS:
        out += [f"![{rec['title']}](_static/{PLOTS[rec['area']]})", ""]
    return out


def render_markdown(records: list[dict[str, Any]]) -> str:
    lines = [HEADER]
    for rec in records:
        lines += render_section(rec)
    return "\n".join(lines).rstrip() + "\n"


def _linear_axes(ax: Any) -> None:
    """Linear axes from zero, a light grid, a small legend."""
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def _save(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path`` atomically (a temporary file, then a rename) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


def plot_apply(rec: dict[str, Any], path: Path) -> None:
    """Cost against N for each kernel width: tsconv beside the best of numpy and scipy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = rec["data"]["grid"]
    widths = sorted({r["W"] for r in grid})
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=150)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for c, w in zip(colors, widths):
        rows = sorted((r for r in grid if r["W"] == w), key=lambda r: r["N"])
        n = [r["N"] for r in rows]
        ax.loglog(n, [r["tsconv"] * 1e3 for r in rows], "o-", color=c, label=f"tsconv.apply, W = {w}")
        best = [min(v for v in (r["numpy.convolve"], r["scipy.convolve"], r["oaconvolve"]) if v is not None) * 1e3
                for r in rows]
        ax.loglog(n, best, "x--", color=c, alpha=0.7, label=f"best of numpy / scipy, W = {w}")
    ax.set_xlabel("series length N (points)")
    ax.set_ylabel("wall time per call (ms, median)")
    ax.set_title("Gaussian smoothing, mode 'same': tsconv.apply vs numpy / scipy")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    _save(fig, path)


def plot_matcher(rec: dict[str, Any], path: Path) -> None:
    """Query cost against catalog hours: the matcher beside scipy's raw correlation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = sorted(rec["data"]["cost"], key=lambda r: r["hours"])
    h = [r["hours"] for r in d]
    fig, ax = plt.subplots(figsize=(6.5, 4.0), dpi=150)
    ax.plot(h, [r["tsconv"] for r in d], "o-", label="tsconv Matcher.match (whitened, normalized, with statistics)")
    ax.plot(h, [r["scipy"] for r in d], "x--", label="scipy.signal.correlate, raw, every track")
    ax.set_xlabel("catalog duration (hours of audio at 8 kHz)")
    ax.set_ylabel("wall time per 3 s query (s, median)")
    ax.set_title("Audio search: cost against catalog size")
    _linear_axes(ax)
    _save(fig, path)


def plot_audio_scale(rec: dict[str, Any], path: Path) -> None:
    """Query time and memory against catalog hours (the mapped catalogs of audio_scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = sorted((r for r in rec["data"]["scale"] if r.get("mmap") is True), key=lambda r: r["build"]["hours"])
    h = [r["build"]["hours"] for r in d]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.0, 4.0), dpi=150)
    ax1.plot(h, [r["query_s_clean"] for r in d], "o-", label="3 s clip, clean")
    ax1.plot(h, [r["query_s_noisy"] for r in d], "s--", label="3 s clip, white noise -15 dB")
    ax1.set_ylabel("wall time per query (s, median, 2 threads)")
    ax1.set_title("Query time (exhaustive search)")
    ax2.plot(h, [r["after_queries"]["RssAnon"] / 1024 for r in d], "o-", label="process memory (anonymous)")
    ax2.plot(h, [r["after_queries"]["RssFile"] / 1024 for r in d], "s--", label="mapped file pages (page cache)")
    ax2.plot(h, [r["build"]["file_mb"] * 1e6 / 2**30 for r in d], "x:", label="catalog file")
    ax2.set_ylabel("GiB after the queries")
    ax2.set_title("Memory of a mapped catalog")
    for ax in (ax1, ax2):
        ax.set_xlabel("catalog hours (8 kHz)")
        _linear_axes(ax)
    _save(fig, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that docs/benchmarks.md is up to date")
    args = ap.parse_args(argv)
    records = load_results()
    text = render_markdown(records)
    if args.check:
        ok = PAGE.read_text() == text
        print("docs/benchmarks.md is up to date" if ok else "docs/benchmarks.md differs: run python benchmarks/render.py")
        return 0 if ok else 1
    tmp = PAGE.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, PAGE)
    for rec in records:
        if rec["area"] == "apply" and rec["data"].get("grid"):
            plot_apply(rec, DOCS / "_static" / PLOTS["apply"])
        if rec["area"] == "matcher" and rec["data"].get("cost"):
            plot_matcher(rec, DOCS / "_static" / PLOTS["matcher"])
        if rec["area"] == "audio_scale" and rec["data"].get("scale"):
            plot_audio_scale(rec, DOCS / "_static" / PLOTS["audio_scale"])
    print(f"wrote {PAGE.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
