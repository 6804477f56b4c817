"""Benchmark: estimation + forecasting of many series, and one long series.

Same run, medians of repeats (wall clock and process CPU time):

1. 1,000 series x 200 points, AR(2)+mean and ARIMA(1,1,1): fit (CSS-ML) plus a 12-step
   forecast with 95% intervals.
   * tsconv: ``fit_arima(Y, ...)`` + ``batch.forecast(12)`` (all series in one call);
   * statsmodels: a loop of ``ARIMA(y).fit()`` + ``get_forecast(12)``, timed on a subset
     (``--sm-subset``, default 50 series) and scaled to 1,000 (said in the table);
   * statsforecast (if installed): ``StatsForecast([ARIMA(...)], freq=1).forecast(h=12,
     level=[95])`` on a long DataFrame, timed on a subset (``--sf-subset``, default 200)
     and scaled; its numba compilation is warmed up first and not timed.
   Agreement: median and max |llf difference| tsconv vs statsmodels on the subset
   (for ARIMA(1,1,1) statsmodels' default approximate-diffuse llf differs from the exact
   one by a data-dependent amount: we compare with statsmodels on the differenced series).
2. 100,000-point ARIMA(2,0,1)+mean, CSS-ML fit: tsconv vs statsforecast ``ARIMA.fit`` vs
   statsmodels ``ARIMA.fit``, with the log-likelihoods.

Usage: ``python benchmarks/bench_fit.py [--quick]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.arima.model import ARIMA as SMARIMA
from statsmodels.tsa.arima_process import arma_generate_sample

import tsconv
from _results import Results, add_out_option, median_times  # noqa: E402  (benchmarks/_results.py: the JSON for render.py)


def panel(kind, k, n, rng):
    if kind == "AR(2)":
        return np.stack([10 + arma_generate_sample([1, -0.5, 0.25], [1], n, distrvs=rng.standard_normal) for _ in range(k)])
    return np.stack([np.cumsum(arma_generate_sample([1, -0.4], [1, 0.3], n, distrvs=rng.standard_normal)) for _ in range(k)])


def long_frame(Y):
    k, n = Y.shape
    return pd.DataFrame({"unique_id": np.repeat(np.arange(k), n), "ds": np.tile(np.arange(1, n + 1), k), "y": Y.ravel()})


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats and smaller peer subsets")
    ap.add_argument("--sm-subset", type=int, default=50)
    ap.add_argument("--sf-subset", type=int, default=200)
    add_out_option(ap)
    args = ap.parse_args(argv)
    reps = 1 if args.quick else 5
    sm_sub = 10 if args.quick else args.sm_subset
    sf_sub = 50 if args.quick else args.sf_subset
    try:
        from statsforecast import StatsForecast
        from statsforecast.models import ARIMA as SFARIMA
    except ImportError:
        StatsForecast = None
    rng = np.random.default_rng(0)
    k, n, h = 1000, 200, 12
    rows = []
    for kind, order, trend in [("AR(2)", (2, 0, 0), "c"), ("ARIMA(1,1,1)", (1, 1, 1), "n")]:
        Y = panel(kind, k, n, rng)

        def ts_run():
            b = tsconv.fit_arima(Y, order, trend=trend)
            return b, b.forecast(h)

        tsconv.fit_arima(Y[:20], order, trend=trend)  # warm caches
        w_ts, c_ts, (b, fc) = median_times(ts_run, reps)

        def sm_run():
            out = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for i in range(sm_sub):
                    r = SMARIMA(Y[i], order=order, trend=trend).fit()
                    f = r.get_forecast(h)
                    f.conf_int()
                    out.append(r)
            return out

        w_sm, c_sm, sm_res = median_times(sm_run, 1 if args.quick else 2)
        w_sm, c_sm = w_sm * k / sm_sub, c_sm * k / sm_sub
        # the same exact likelihood: statsmodels on the differenced series for d > 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if order[1]:
                ref = [SMARIMA(np.diff(Y[i]), order=(order[0], 0, order[2]), trend="n").fit().llf for i in range(sm_sub)]
            else:
                ref = [r.llf for r in sm_res]
        dllf = np.abs(b.llf[:sm_sub] - np.array(ref))
        row = {"case": f"{k} x {n} {kind}", "tsconv wall s": w_ts, "tsconv cpu s": c_ts,
               "statsmodels wall s": w_sm, "sm/ts wall": w_sm / w_ts, "sm/ts cpu": c_sm / c_ts,
               "median |dllf|": float(np.median(dllf)), "max |dllf|": float(dllf.max()),
               "converged": f"{int(b.converged.sum())}/{k}"}
        if StatsForecast is not None:
            mdl = SFARIMA(order=order, include_mean=trend == "c", method="CSS-ML")
            StatsForecast(models=[mdl], freq=1).forecast(h=h, df=long_frame(Y[:5]), level=[95])  # numba warm-up
            df = long_frame(Y[:sf_sub])
            w_sf, c_sf, _ = median_times(lambda: StatsForecast(models=[mdl], freq=1).forecast(h=h, df=df, level=[95]), 1 if args.quick else 2)
            row["statsforecast wall s"] = w_sf * k / sf_sub
            row["sf/ts wall"] = w_sf * k / sf_sub / w_ts
            row["sf/ts cpu"] = c_sf * k / sf_sub / c_ts
        rows.append(row)
    table = pd.DataFrame(rows).set_index("case")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(f"fit + {h}-step forecast with 95% intervals (statsmodels timed on {sm_sub} series, statsforecast on {sf_sub}, "
              f"both scaled to {k}; wall and process-CPU medians):")
        print(table)

    # ---- one long series ---------------------------------------------------------------
    y = 10 + arma_generate_sample([1, -1.2, 0.4], [1, 0.5], 100_000, distrvs=np.random.default_rng(1).standard_normal)
    tsconv.fit_arima(y[:2000], (2, 0, 1), trend="c")
    w_ts, c_ts, m = median_times(lambda: tsconv.fit_arima(y, (2, 0, 1), trend="c"), reps)
    out = {"tsconv": (w_ts, c_ts, m.llf)}
    if StatsForecast is not None:
        sfm = SFARIMA(order=(2, 0, 1), include_mean=True, method="CSS-ML")
        SFARIMA(order=(2, 0, 1), include_mean=True, method="CSS-ML").fit(y[:500])
        w_sf, c_sf, f = median_times(lambda: SFARIMA(order=(2, 0, 1), include_mean=True, method="CSS-ML").fit(y), 1 if args.quick else 3)
        out["statsforecast"] = (w_sf, c_sf, float(f.model_["loglik"]))
        del sfm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w_sm, c_sm, r = median_times(lambda: SMARIMA(y, order=(2, 0, 1), trend="c").fit(), 1)
    out["statsmodels"] = (w_sm, c_sm, r.llf)
    t2 = pd.DataFrame(
        {name: {"wall s": v[0], "cpu s": v[1], "llf": v[2], "llf - tsconv": v[2] - m.llf, "x tsconv (wall)": v[0] / w_ts,
               "x tsconv (cpu)": v[1] / c_ts}
         for name, v in out.items()}
    ).T
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.6g}".format):
        print("\n100,000-point ARIMA(2,0,1)+mean, CSS-ML fit:")
        print(t2)
    print(f"\nnumpy {np.__version__}, pandas {pd.__version__}, statsmodels {__import__('statsmodels').__version__}, "
          f"scipy {__import__('scipy').__version__}")
    save_results(rows, t2, k, h, sm_sub, sf_sub, reps, args.out)


def save_results(rows, t2, k, h, sm_sub, sf_sub, reps, out=None):
    """The two tables above as ``benchmarks/results/fit.json`` for render.py."""
    res = Results("fit", "Estimation (fit + forecast)", f"""
        Fitting by CSS-ML and forecasting {h} steps with 95% intervals. A panel of {k}
        simulated series of 200 points: tsconv fits all of them in one ``fit_arima`` call;
        statsmodels (a loop of ``ARIMA(y).fit()`` + ``get_forecast``) is timed on {sm_sub} series
        and statsforecast (``StatsForecast([ARIMA(...)]).forecast``, numba compilation
        warmed up first) on {sf_sub}, both scaled to {k}. Then one series of 100,000 points.
        Medians of {reps} run(s) for tsconv. "sm/ts" and "sf/ts" are the peer's time over
        tsconv's (above 1: tsconv is faster); |dllf| compares the exact log-likelihoods with
        statsmodels on the same series. The panel is simulated from the model being fitted
        (short, well-conditioned series that converge fast): the ratios say what batching
        the fits buys on such data, not what it buys on a real panel, whose series need more
        optimizer iterations each; no real-data panel is timed here.""")

    def c(v, f="{:.3g}"):
        return f.format(v) if isinstance(v, float) else str(v)

    cols = ["case", "tsconv wall s", "statsmodels wall s", "sm/ts wall", "sm/ts cpu", "statsforecast wall s",
            "sf/ts wall", "sf/ts cpu", "median |dllf|", "max |dllf|", "converged"]
    res.table(cols, [[c(r.get(col, "")) for col in cols] for r in rows], f"{k}-series panel")
    res.table(["fit", "wall s", "cpu s", "llf", "llf - tsconv", "x tsconv (wall)", "x tsconv (cpu)"],
              [[name] + [f"{v:.6g}" for v in row] for name, row in t2.iterrows()], "One series of 100,000 points, ARIMA(2,0,1) + mean")
    res.save(out)


if __name__ == "__main__":
    main()
