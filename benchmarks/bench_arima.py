"""ARIMA kernels vs statsmodels and statsforecast (docs/benchmarks.md, section "ARIMA").

Workloads, timed in the same run (median of repeats):

1. 100k-point ARIMA(2,1,1) and SARIMA(1,1,1)(0,1,1,12) with known coefficients:
   residuals + in-sample one-step predictions + a 24-step forecast with 95% intervals.
   tsconv (start='exact'; one ``forecast`` call, whose result carries the residuals and
   predictions, and also three separate calls) vs statsmodels (``results.apply(y)`` + ``get_prediction()`` +
   ``get_forecast(24)``) vs statsforecast (``ARIMA.forward(y, h=24, level=[95], fitted=True)``,
   if installed: it is a benchmark peer only, not a dependency).
2. 300 airline-model series of 240 points: forecast 24 steps with intervals from new data,
   tsconv (one 2-D call) vs a statsmodels loop of ``results.apply(y_i).get_forecast(24)``.

The agreement of the numbers is printed too (max abs difference relative to sd(y)). On a
shared machine wall times are inflated by other jobs; the ``cpu_x_*`` columns give the
ratios of median CPU times (``time.process_time``), which waiting for a core does not count.

Usage: python benchmarks/bench_arima.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy
import statsmodels

from tsconv import ARIMA
from _results import Results, add_out_option, median_times  # noqa: E402  (benchmarks/_results.py: the JSON for render.py)


CPU: dict[int, float] = {}


def timeit(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time and the last result; the median CPU time is kept in ``timeit.cpu``."""
    wall, timeit.cpu, out = median_times(fn, repeats)  # type: ignore[attr-defined]
    return wall, out


def _simulate(m: ARIMA, n: int, seed: int) -> np.ndarray:
    """``m.simulate(n, seed=seed)``; tsconv before issue 15's API (``benchmarks/ab.py``'s
    default ref) took ``rng=``, given a Generator of the same seed."""
    try:
        return m.simulate(n, seed=seed)
    except TypeError:
        return m.simulate(n, rng=np.random.default_rng(seed))  # type: ignore[call-arg]


def tsconv_job(m: ARIMA, y: np.ndarray, h: int) -> Any:
    e = m.residuals(y)
    p = m.predict(y)
    fc = m.forecast(y, h)
    return e, p, fc


def tsconv_one_call(m: ARIMA, y: np.ndarray, h: int) -> Any:
    fc = m.forecast(y, h)  # residuals and one-step predictions come from the same pass
    return fc.residuals, fc.fitted, fc


def statsmodels_job(res: Any, y: np.ndarray, h: int) -> Any:
    r = res.apply(y)
    pred = r.get_prediction().predicted_mean
    fc = r.get_forecast(h)
    ci = fc.conf_int(alpha=0.05)
    return r.resid, pred, fc.predicted_mean, fc.se_mean, ci


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10k points, 60 series, fewer repeats")
    add_out_option(ap)
    args = ap.parse_args()
    n = 10_000 if args.quick else 100_000
    n_series = 60 if args.quick else 300
    rep_fast, rep_slow = (5, 1) if args.quick else (15, 3)
    h = 24
    warnings.simplefilter("ignore")
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    try:
        from statsforecast.models import ARIMA as SFARIMA
    except ImportError:
        SFARIMA = None

    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"pandas {pd.__version__}, statsmodels {statsmodels.__version__}"
          + (f", statsforecast {__import__('statsforecast').__version__}" if SFARIMA else ", statsforecast not installed"))
    rows = []
    cases = [
        ("ARIMA(2,1,1)", ARIMA((2, 1, 1), ar=[0.5, -0.2], ma=[0.4], sigma2=1.0)),
        ("SARIMA(1,1,1)(0,1,1,12)", ARIMA((1, 1, 1), (0, 1, 1, 12), ar=[0.4], ma=[-0.3], seasonal_ma=[-0.6], sigma2=1.0)),
    ]
    for name, m in cases:
        y = _simulate(m, n, 1)
        # cold: a new model object each time (builds its innovations factor and diffuse head)
        t_cold, _ = timeit(lambda: tsconv_one_call(eval(repr(m), {"ARIMA": ARIMA}), y, h), rep_fast)
        tsconv_one_call(m, y, h)  # warm-up: the model caches its factor
        t_ts3, (e, p, fc) = timeit(lambda: tsconv_job(m, y, h), rep_fast)
        c_ts3 = timeit.cpu
        t_ts, _ = timeit(lambda: tsconv_one_call(m, y, h), rep_fast)
        c_ts = timeit.cpu
        sm_res = SMARIMA(y[:500], order=m.order, seasonal_order=m.seasonal_order, trend="n").filter(m.to_statsmodels_params())
        t_sm, (sm_e, sm_p, sm_mean, sm_se, _) = timeit(lambda: statsmodels_job(sm_res, y, h), rep_slow)
        c_sm = timeit.cpu
        sd = float(np.std(y))
        b = m.n_conditioning + m.burn_in(1e-10)
        agree_sm = max(np.max(np.abs(p[b:] - np.asarray(sm_p)[b:])), np.max(np.abs(fc.mean - np.asarray(sm_mean)))) / sd
        se_sm = float(np.max(np.abs(fc.se / np.asarray(sm_se) - 1)))
        row = dict(case=f"{name}, n={n}", tsconv_ms=1e3 * t_ts, tsconv_3calls_ms=1e3 * t_ts3, tsconv_cold_ms=1e3 * t_cold,
                   statsmodels_ms=1e3 * t_sm, x_statsmodels=t_sm / t_ts, x_sm_3calls=t_sm / t_ts3,
                   cpu_x_sm=c_sm / c_ts, cpu_x_sm_3calls=c_sm / c_ts3,
                   agree_sm=agree_sm, se_rel_sm=se_sm)
        if SFARIMA is not None:
            s = m.seasonal_order[3] or 1
            sf = SFARIMA(order=m.order, seasonal_order=m.seasonal_order[:3], season_length=s, include_mean=False,
                         fixed={**{f"ar{i+1}": v for i, v in enumerate(m.ar)}, **{f"ma{i+1}": v for i, v in enumerate(m.ma)},
                                **{f"sma{i+1}": v for i, v in enumerate(m.seasonal_ma)}})
            sf.fit(y[:2000])
            t_sf, out = timeit(lambda: sf.forward(y=y, h=h, level=[95], fitted=True), rep_slow)
            row.update(statsforecast_ms=1e3 * t_sf, x_statsforecast=t_sf / t_ts, cpu_x_sf=timeit.cpu / c_ts,
                       agree_sf=float(np.max(np.abs(out["mean"] - fc.mean)) / sd))
        rows.append(row)

    # 300 airline series x 240 points, forecast from new data
    m = ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.4], seasonal_ma=[-0.6], sigma2=0.0014)
    Y = 5.0 + np.stack([_simulate(m, 240, i) for i in range(n_series)])
    m.forecast(Y, h)  # warm-up
    t_ts, fc = timeit(lambda: m.forecast(Y, h), rep_fast)
    c_ts = timeit.cpu
    sm_res = SMARIMA(Y[0], order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).filter(m.to_statsmodels_params())

    def sm_loop() -> Any:
        out = []
        for y in Y:
            f = sm_res.apply(y).get_forecast(h)
            out.append((f.predicted_mean, f.se_mean, f.conf_int()))
        return out

    t_sm, out = timeit(sm_loop, 1)
    c_sm = timeit.cpu
    sd = float(np.std(Y))
    agree = max(float(np.max(np.abs(fc.mean[i] - out[i][0]))) for i in range(n_series)) / sd
    rows.append(dict(case=f"airline model, {n_series} series x 240, forecast 24", tsconv_ms=1e3 * t_ts,
                     statsmodels_ms=1e3 * t_sm, x_statsmodels=t_sm / t_ts, cpu_x_sm=c_sm / c_ts, agree_sm=agree,
                     se_rel_sm=max(float(np.max(np.abs(fc.se[i] / out[i][1] - 1))) for i in range(n_series))))
    df = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(df.to_string(index=False))
    save_results(rows, rep_fast, rep_slow, args.out)


def save_results(rows: list[dict], rep_fast: int, rep_slow: int, out: str | None = None) -> None:
    """The table above as ``benchmarks/results/arima.json`` for render.py."""
    res = Results("arima", "ARIMA kernels (known coefficients)", f"""
        Filtering, in-sample one-step prediction and a 24-step forecast with 95% intervals
        for a model with known coefficients. tsconv (one ``forecast`` call, exact start;
        and three separate calls) against statsmodels (``results.apply(y)`` +
        ``get_prediction()`` + ``get_forecast(24)``) and statsforecast
        (``ARIMA.forward(y, h=24, level=[95], fitted=True)``); then a panel of airline-model
        series forecast from new data: one 2-D tsconv call against a statsmodels loop.
        Medians of {rep_fast} (tsconv) and {rep_slow} (peers) runs. "x" columns are the peer's
        time over tsconv's (above 1: tsconv is faster), from wall time and from process CPU
        time (which waiting for a core on a shared machine does not count). "agree" is the
        largest difference of the predictions and forecasts relative to sd(y).""")

    def g(r: dict, k: str, f: str = "{:.3g}") -> str:
        return f.format(r[k]) if k in r and r[k] == r[k] else ""

    res.table(["case", "tsconv ms", "tsconv 3 calls ms", "statsmodels ms", "x statsmodels (wall)", "x statsmodels (cpu)",
               "statsforecast ms", "x statsforecast (wall)", "x statsforecast (cpu)", "agree statsmodels",
               "agree statsforecast"],
              [[r["case"], g(r, "tsconv_ms"), g(r, "tsconv_3calls_ms"), g(r, "statsmodels_ms"),
                g(r, "x_statsmodels", "{:.1f}"), g(r, "cpu_x_sm", "{:.1f}"), g(r, "statsforecast_ms"),
                g(r, "x_statsforecast", "{:.1f}"), g(r, "cpu_x_sf", "{:.1f}"), g(r, "agree_sm", "{:.1e}"),
                g(r, "agree_sf", "{:.1e}")] for r in rows])
    res.save(out)


if __name__ == "__main__":
    main()
