"""tsconv.ARIMA against statsmodels, the naive loops of tests/naive.py, and its own algebra."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.integrate
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.ar_model import AutoReg
from statsmodels.tsa.arima.model import ARIMA as SMARIMA
from statsmodels.tsa.arima_process import arma2ar, arma2ma, arma_acovf
from statsmodels.tsa.statespace.sarimax import SARIMAX

import naive
from tsconv import ARIMA, BatchForecast, Forecast, Kernel
from tsconv._rowfilter import fir_rows
from tsconv._likelihood import gain_path
from tsconv.datasets import load

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")


def model_innovations(ar, ma, w):
    """Innovations and variances of the rows of ``w`` under one model, as ``ARIMA`` runs them:
    the gains once (``_likelihood.gain_path``), the state recursion of every row over the
    first ``T`` steps, then (converged) ``ar(B) w = conv_row(B) e`` continued from there."""
    ar, ma, w = np.asarray(ar, dtype=float), np.asarray(ma, dtype=float), np.asarray(w, dtype=float)
    w2 = np.atleast_2d(w)
    n = w2.shape[-1]
    path = gain_path(ar, ma, n)
    e = np.zeros(w2.shape)
    T = min(n, path.T)
    e[:, :T] = path.head(w2)
    if T < n:
        a, b = ar[::-1], path.conv_row[:0:-1]
        for t in range(T, n):
            e[:, t] = w2[:, t - ar.size + 1 : t + 1] @ a - e[:, t - b.size : t] @ b
    return (e[0] if w.ndim == 1 else e), path.variances(0, n)


def sm_exact(y, m: ARIMA, exog=None):
    """statsmodels SARIMAX with the same parameters and an exact diffuse start.

    ``tolerance=0``: by default statsmodels freezes its Kalman covariance once it changes by
    less than 1e-19 (absolute), which can leave its predictions ~1e-8 sd(y) off the exact
    values (seen on random ARMA(2,1) models; with tolerance=0 the two agree to ~1e-15).
    """
    kw = dict(order=(list(m.ar_lags), m.d, list(m.ma_lags)),
              seasonal_order=(list(m.seasonal_ar_lags), m.D, list(m.seasonal_ma_lags), m.s) if m.s else (0, 0, 0, 0))
    assert m.trend_form == "intercept" or m.trend == "n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = SARIMAX(y, exog=exog, trend=m.trend, trend_offset=m.trend_offset + 1, use_exact_diffuse=True, tolerance=0,
                      enforce_invertibility=False, **kw)  # enforce_stationarity=False would make every state diffuse
        return mod.filter(m.to_statsmodels_params())


def assert_matches_exact(m: ARIMA, y, steps=12, exog=None, exog_future=None, tol=1e-9):
    r = sm_exact(y, m, exog)
    dd = m.n_conditioning
    sd = np.std(y)
    pred = m.predict(y, exog=exog)
    # every one-step prediction, the diffuse period (statsmodels' convention) included
    np.testing.assert_allclose(pred, r.fittedvalues, rtol=0, atol=tol * sd)
    resid = m.residuals(y, exog=exog)
    np.testing.assert_allclose(resid[dd:], r.resid[dd:], rtol=0, atol=tol * sd)
    assert np.all(np.isnan(resid[:dd]))
    fc = m.forecast(y, steps, exog=exog, exog_future=exog_future)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = r.get_forecast(steps, exog=exog_future)
    np.testing.assert_allclose(fc.mean, ref.predicted_mean, rtol=0, atol=tol * sd)
    np.testing.assert_allclose(fc.se, ref.se_mean, rtol=tol)
    np.testing.assert_allclose(m.prediction_variance(len(y))[dd:], r.forecasts_error_cov[0, 0, dd:], rtol=tol)


@pytest.fixture(scope="module")
def data():
    return {name: load(name).to_numpy() for name in ("sunspots", "nile", "wpi1", "airline", "realgdp")}


# -- kernels and weights -------------------------------------------------------------------
def test_kernels_compose_the_polynomials():
    m = ARIMA((2, 1, 1), (1, 1, 1, 4), ar=[0.5, -0.2], ma=[0.3], seasonal_ar=[0.4], seasonal_ma=[-0.5])
    phi = Kernel.from_ar_params([0.5, -0.2])
    Phi = Kernel([1, 0, 0, 0, -0.4])
    diff, sdiff = Kernel([1.0, -1.0]), Kernel([1.0, 0, 0, 0, -1.0])
    assert m.ar_total == phi @ Phi @ diff @ sdiff
    assert m.ma_total == Kernel.from_ma_params([0.3]) @ Kernel([1, 0, 0, 0, -0.5])
    assert m.transfer == m.ar_total.__class__(m.ma_total.coef) @ m.transfer.__class__([1.0], m.ar_total)


def test_lag_lists():
    m = ARIMA((1, 1, [1, 4]), ar=[0.7], ma=[-0.4, 0.3])
    np.testing.assert_array_equal(m.ma_total.coef, [1, -0.4, 0, 0, 0.3])
    with pytest.raises(ValueError, match="ma must have 2"):
        ARIMA((1, 1, [1, 4]), ar=[0.7], ma=[-0.4])


def test_psi_pi_match_statsmodels_arma2ma_arma2ar():
    m = ARIMA((2, 0, 2), (1, 0, 1, 4), ar=[0.5, -0.3], ma=[0.4, 0.2], seasonal_ar=[0.3], seasonal_ma=[-0.4])
    ar, ma = m.ar_reduced.coef, m.ma_total.coef
    np.testing.assert_allclose(m.psi(60), arma2ma(ar, ma, lags=60), rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.pi(60), arma2ar(ar, ma, lags=60), rtol=0, atol=1e-12)


@pytest.mark.parametrize("order,sorder,params", [
    ((1, 1, 1), (0, 0, 0, 0), [0.5, 0.3, 1.0]),
    ((0, 1, 1), (0, 1, 1, 12), [-0.4, -0.6, 1.0]),
    ((2, 0, 1), (1, 1, 0, 4), [0.5, -0.2, 0.3, 0.4, 1.0]),
])
def test_psi_matches_statsmodels_impulse_responses(order, sorder, params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = SARIMAX(np.zeros(40), order=order, seasonal_order=sorder).filter(params)
        irf = r.impulse_responses(50)
    m = ARIMA.from_statsmodels(r)
    np.testing.assert_allclose(m.psi(51), irf, rtol=0, atol=1e-12)


def test_roots_and_flags():
    m = ARIMA((1, 0, 1), ar=[0.5], ma=[2.0])
    np.testing.assert_allclose(m.roots()["ar"], [2.0])
    np.testing.assert_allclose(m.roots()["ma"], [-0.5])
    assert m.is_stationary and not m.is_invertible
    assert not ARIMA((1, 0, 0), ar=[1.2]).is_stationary


def test_burn_in_is_where_pi_weights_fall_below_tol():
    m = ARIMA((0, 1, 1), ma=[-0.8])
    b = m.burn_in(1e-6)
    pi = np.abs(m.pi(b + 500))
    assert pi[b - 1] >= 1e-6 and np.all(pi[b:] < 1e-6)
    with pytest.raises(ValueError, match="invertible"):
        ARIMA((0, 0, 1), ma=[1.5]).burn_in()


def test_spectral_density_integrates_to_variance():
    m = ARIMA((2, 0, 1), ar=[0.5, -0.3], ma=[0.4], sigma2=2.0)
    f = np.linspace(-0.5, 0.5, 20001)
    dens = m.spectral_density(f)
    var = scipy.integrate.trapezoid(dens, f)
    assert var == pytest.approx(2.0 * arma_acovf(m.ar_reduced.coef, m.ma_total.coef, nobs=1)[0], rel=1e-6)
    w, h = m.frequency_response(8)
    np.testing.assert_allclose(np.abs(h) ** 2 * 2.0, m.spectral_density(w / (2 * np.pi)))


def test_simulate_moments_and_shapes():
    m = ARIMA((1, 0, 0), ar=[0.6], sigma2=1.0, trend="c", trend_params=[3.0])
    x = m.simulate(20000, repetitions=2, seed=0)
    assert x.shape == (2, 20000) and m.simulate(5, seed=0).shape == (5,)
    assert x.mean() == pytest.approx(3.0, abs=0.05)
    assert x.var() == pytest.approx(1 / (1 - 0.36), rel=0.05)
    np.testing.assert_array_equal(m.simulate(50, seed=7), m.simulate(50, seed=7))


@pytest.mark.parametrize("order, seasonal, kw", [((0, 0, 1), (0, 0, 0, 0), dict(ma=[0.9])),
                                                 ((0, 0, 0), (0, 0, 1, 12), dict(seasonal_ma=[0.9])),
                                                 ((1, 0, 1), (0, 0, 0, 0), dict(ar=[0.5], ma=[0.9]))])
def test_simulate_starts_a_stationary_model_in_its_stationary_regime(order, seasonal, kw):
    # every time step has the stationary variance (statsmodels' arma_acovf); a pure MA(q)
    # started without its q pre-sample shocks had variance sigma2 for its first q values
    # (MA(1)_12, 0.9: 1.00 for the first 12 instead of 1.81)
    from statsmodels.tsa.arima_process import arma_acovf

    m = ARIMA(order, seasonal, sigma2=1.0, **kw)
    x = m.simulate(15, repetitions=40000, seed=3)
    gamma0 = arma_acovf(m.ar_total.coef, m.ma_total.coef, nobs=1)[0]
    # the variance estimate of 40,000 Gaussian draws has a relative sd of 0.7%
    np.testing.assert_allclose(x.var(axis=0), gamma0, rtol=0.04)


# -- the exact innovations core ------------------------------------------------------------
@pytest.mark.parametrize("ar,ma", [([1, -0.5, 0.2], [1, 0.4, 0, 0, 0.3]), ([1.0], [1, -0.9]), ([1, -0.95], [1.0]), ([1, -0.3], [1, 1.6])])
def test_exact_innovations_equal_dense_cholesky(ar, ma):
    v = np.random.default_rng(3).standard_normal(150)
    e, d = model_innovations(ar, ma, v)
    e0, d0 = naive.exact_innovations_dense(ar, ma, v)
    np.testing.assert_allclose(e, e0, rtol=0, atol=1e-10)
    np.testing.assert_allclose(d, d0, rtol=1e-10)


def test_exact_innovations_many_series_and_likelihood(data):
    # concentrated exact log-likelihood equals statsmodels' for a stationary ARMA
    y = data["sunspots"] - data["sunspots"].mean()
    ar, ma = np.array([1, -1.4, 0.7]), np.array([1, -0.1])
    e, d = model_innovations(ar, ma, np.stack([y, y[::-1]]))
    s2 = 300.0
    ll = -0.5 * (y.size * np.log(2 * np.pi * s2) + np.log(d).sum() + (e[0] ** 2 / d).sum() / s2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SARIMAX(y, order=(2, 0, 1)).loglike([1.4, -0.7, -0.1, s2])
    assert ll == pytest.approx(ref, rel=1e-10)
    np.testing.assert_allclose(e[1], model_innovations(ar, ma, y[::-1])[0], rtol=0, atol=1e-12)


# one model, many series: the Kalman gains computed once (tsconv._likelihood.gain_path)
ONE_MODEL = [
    ([1, -0.5, 0.2], [1, 0.4, 0, 0, 0.3]),  # ARMA(2, 4) with a lag hole
    ([1, -0.95], [1.0]),  # pure AR, near the unit circle
    ([1.0], [1, -0.9]),  # pure MA
    ([1.0], [1.0]),  # no ARMA part
    ([1, -0.3], [1, 1.6]),  # non-invertible MA: converges to 1 + B / 1.6
    (np.convolve([1, -0.5], np.r_[1, np.zeros(11), -0.3]), np.convolve([1, 0.4], np.r_[1, np.zeros(11), 0.5])),
    ([1.0], np.r_[1, np.zeros(11), -0.6]),  # the gains stay put for 12 steps at a time
    ([1, -0.5], [1, -1.0]),  # MA unit root: never converges
]


@pytest.mark.parametrize("ar,ma", ONE_MODEL)
def test_gain_path_rows_equal_the_dense_ansley_factor(ar, ma):
    n = 160
    L, d = naive.ansley_factor_dense(ar, ma, n)
    m = max(len(ar), len(ma)) - 1
    t = np.arange(n)
    for length in (5, 40, n):  # paths shorter than the factor asked for, and than convergence
        path = gain_path(np.asarray(ar, float), np.asarray(ma, float), length)
        upto = n if path.converged else length
        band, F = path.rows(0, upto)
        np.testing.assert_allclose(F, d[:upto], rtol=1e-9)
        for j in range(m + 1):
            want = np.where(t[:upto] >= j, L[t[:upto], np.maximum(t[:upto] - j, 0)], 0.0)
            np.testing.assert_allclose(band[j], want, rtol=0, atol=1e-9)
        if upto > m + 1:  # the factor is banded: nothing below the band
            assert np.abs(np.tril(L[:upto, :upto], -(m + 1))).max(initial=0.0) < 1e-9
        mid, _ = path.rows(upto // 3, upto)  # a window of rows is the same rows
        np.testing.assert_allclose(mid, band[:, upto // 3 :], rtol=0, atol=1e-14)


@pytest.mark.parametrize("ar,ma", ONE_MODEL)
def test_one_model_innovations_of_many_series_equal_dense(ar, ma):
    rng = np.random.default_rng(5)
    for n in (3, 30, 300):
        w = rng.standard_normal((40, n))
        e, F = model_innovations(ar, ma, w)
        for i in (0, 17, 39):
            e0, d0 = naive.exact_innovations_dense(ar, ma, w[i])
            np.testing.assert_allclose(e[i], e0, rtol=0, atol=1e-9)
            np.testing.assert_allclose(F, d0, rtol=1e-9)
            e1, F1 = model_innovations(ar, ma, w[i])  # k = 1: the same numbers
            np.testing.assert_array_equal(e1, e[i])
            np.testing.assert_array_equal(F1, F)


def test_gain_path_convergence_flags():
    assert gain_path(np.array([1.0, -0.5]), np.array([1.0, -1.0]), 5000).converged is False  # MA unit root
    f = gain_path(np.array([1.0, -0.3]), np.array([1.0, 1.6]), 5000)  # non-invertible: the flipped root
    assert f.converged and f.T < 500
    np.testing.assert_allclose(f.conv_row, [1.0, 1 / 1.6], rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.F[-1], 1.6**2, rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(ar=st.lists(st.floats(-0.9, 0.9, allow_subnormal=False), max_size=2),
       ma=st.lists(st.floats(-0.9, 0.9, allow_subnormal=False), max_size=2),
       sar=st.floats(-0.8, 0.8, allow_subnormal=False), sma=st.floats(-2.0, 2.0, allow_subnormal=False),
       s=st.sampled_from([0, 3, 4]), n=st.integers(1, 90), seed=st.integers(0, 10_000))
def test_property_one_model_innovations_equal_dense(ar, ma, sar, sma, s, n, seed):
    # stationary AR from partial autocorrelations; the MA anything, invertible or not
    phi = np.r_[1.0, -np.asarray(_from_pacf(ar))]
    theta = np.r_[1.0, ma]
    if s:
        phi = np.convolve(phi, np.r_[1.0, np.zeros(s - 1), -sar])
        theta = np.convolve(theta, np.r_[1.0, np.zeros(s - 1), sma])
    w = np.random.default_rng(seed).standard_normal((3, n))
    e, F = model_innovations(phi, theta, w)
    for i in range(3):
        e0, d0 = naive.exact_innovations_dense(phi, theta, w[i])
        np.testing.assert_allclose(e[i], e0, rtol=0, atol=1e-8 * max(1.0, np.abs(e0).max()))
        np.testing.assert_allclose(F, d0, rtol=1e-8)


def test_prediction_variance_for_any_length_and_call_order():
    # the variances of the differenced ARMA(1, 1) part, dense (B&D 5.2), times sigma2
    _, d = naive.exact_innovations_dense([1, -0.5], [1, -0.7], np.zeros(399))
    for lengths in ((10, 400), (400, 10), (400,)):
        m = ARIMA((1, 1, 1), ar=[0.5], ma=[-0.7], sigma2=2.0)
        for n in lengths:
            pv = m.prediction_variance(n)
            assert np.isnan(pv[0])
            np.testing.assert_allclose(pv[1:], 2.0 * d[: n - 1], rtol=1e-9)


# -- exact start vs statsmodels' exact diffuse --------------------------------------------
def test_exact_nile_airline_wpi(data):
    assert_matches_exact(ARIMA((1, 1, 1), ar=[0.255], ma=[-0.875], sigma2=19768.0), data["nile"], 24)
    assert_matches_exact(ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.40], seasonal_ma=[-0.56], sigma2=0.00135),
                         np.log(data["airline"]), 36)
    # Stata arima documentation, example 1 (statsmodels results_sarimax.wpi1_stationary)
    wpi = data["wpi1"]
    assert_matches_exact(ARIMA((1, 1, 1), ar=[0.8742288], ma=[-0.4120458], trend="c", trend_form="intercept",
                               trend_params=[(1 - 0.8742288) * 0.7498197], sigma2=0.7250436**2, trend_offset=0), wpi)
    # time trends in the intercept (statsmodels' time-varying state intercept)
    assert_matches_exact(ARIMA((1, 0, 1), ar=[0.8], ma=[-0.4], trend="ct", trend_params=[1.0, 0.3], trend_form="intercept",
                               sigma2=0.5, trend_offset=0), wpi)
    assert_matches_exact(ARIMA((2, 1, 0), ar=[0.5, 0.1], trend="ct", trend_params=[0.1, 0.003], trend_form="intercept",
                               sigma2=0.5, trend_offset=0), wpi)


def test_exact_with_exog_and_mean_trend(data):
    y = np.log(data["realgdp"])
    m = ARIMA((1, 1, 1), ar=[0.67], ma=[-0.4], trend="t", trend_params=[0.0078], sigma2=6.8e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = SMARIMA(y, order=(1, 1, 1), trend="t").filter(m.to_statsmodels_params())
    assert ARIMA.from_statsmodels(r).trend_form == "mean"
    # drift as a regression on t = 1..n under an exact diffuse start
    tt = np.arange(1, y.size + 1.0)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = SARIMAX(y, exog=tt, order=(1, 1, 1), use_exact_diffuse=True).filter(m.to_statsmodels_params())
    np.testing.assert_allclose(m.predict(y)[1:], ex.fittedvalues[1:], atol=1e-9 * np.std(y), rtol=0)
    fut = np.arange(y.size + 1, y.size + 9.0)[:, None]
    np.testing.assert_allclose(m.forecast(y, 8).mean, ex.get_forecast(8, exog=fut).predicted_mean, atol=1e-9 * np.std(y), rtol=0)
    # regression with SARIMA errors
    rng = np.random.default_rng(0)
    X, Xf = rng.standard_normal((y.size, 2)), rng.standard_normal((6, 2))
    mx = ARIMA((1, 1, 1), ar=[0.5], ma=[-0.2], exog_params=[0.01, -0.02], sigma2=1e-4)
    assert_matches_exact(mx, y, 6, exog=X, exog_future=Xf)


def test_non_invertible_ma_exact_still_matches(data):
    m = ARIMA((1, 1, 1), ar=[0.3], ma=[1.8], sigma2=2.0)
    assert_matches_exact(m, data["wpi1"], 8)
    with pytest.warns(RuntimeWarning, match="not invertible"):
        m.residuals(data["wpi1"], start="conditional")


@settings(max_examples=12, deadline=None)
@given(
    phi=st.floats(-0.9, 0.9, allow_subnormal=False), theta=st.floats(-0.9, 0.9, allow_subnormal=False),
    Phi=st.floats(-0.8, 0.8, allow_subnormal=False), Theta=st.floats(-0.8, 0.8, allow_subnormal=False),
    d=st.integers(0, 1), D=st.integers(0, 1), n=st.integers(30, 60), seed=st.integers(0, 10_000),
)
def test_property_random_sarima_vs_statsmodels(phi, theta, Phi, Theta, d, D, n, seed):
    m = ARIMA((1, d, 1), (1, D, 1, 4), ar=[phi], ma=[theta], seasonal_ar=[Phi], seasonal_ma=[Theta], sigma2=1.3)
    y = np.cumsum(np.random.default_rng(seed).standard_normal(n)) if d else np.random.default_rng(seed).standard_normal(n)
    assert_matches_exact(m, y, 8, tol=1e-8)


def _from_pacf(r):
    """Coefficients of a stationary AR polynomial from partial autocorrelations in (-1, 1)
    (Durbin-Levinson; Monahan 1984): phi_k,k = r_k, phi_k,j = phi_k-1,j - r_k phi_k-1,k-j."""
    phi = []
    for rk in r:
        phi = [pj - rk * pk for pj, pk in zip(phi, phi[::-1])] + [rk]
    return phi


pacf = st.lists(st.floats(-0.85, 0.85, allow_subnormal=False), min_size=0, max_size=2)


@settings(max_examples=10, deadline=None)
@given(ar=pacf, ma=pacf, sar=pacf.map(lambda v: v[:1]), sma=pacf.map(lambda v: v[:1]), d=st.integers(0, 1),
       D=st.integers(0, 1), s=st.sampled_from([3, 4]), trend=st.sampled_from(["n", "c", "ct"]), n=st.integers(25, 50),
       seed=st.integers(0, 10_000))
def test_property_random_orders_and_intercepts_vs_statsmodels(ar, ma, sar, sma, d, D, s, trend, n, seed):
    # ma via the same map: (1 + theta(B)) with theta = -phi of a stationary AR is invertible
    m = ARIMA((len(ar), d, len(ma)), (len(sar), D, len(sma), s), ar=_from_pacf(ar), ma=[-c for c in _from_pacf(ma)],
              seasonal_ar=_from_pacf(sar), seasonal_ma=[-c for c in _from_pacf(sma)], trend=trend,
              trend_params=[0.3, 0.01][: {"n": 0, "c": 1, "ct": 2}[trend]] if trend != "ct" else [0.3, 0.01],
              trend_form="intercept", trend_offset=0, sigma2=0.7)
    rng = np.random.default_rng(seed)
    y = np.cumsum(rng.standard_normal(n)) + 10 if d or D else rng.standard_normal(n) + 10
    assert m.is_stationary and m.is_invertible
    assert_matches_exact(m, y, 6, tol=1e-8)


# -- conditional start ---------------------------------------------------------------------
@pytest.mark.parametrize("order,sorder,params", [
    ((1, 1, 1), (0, 0, 0, 0), dict(ar=[0.5], ma=[0.3])),
    ((2, 1, 0), (0, 1, 1, 4), dict(ar=[0.5, -0.2], seasonal_ma=[-0.5])),
    ((0, 0, 2), (1, 0, 0, 3), dict(ma=[0.4, 0.2], seasonal_ar=[0.5])),
])
def test_conditional_equals_r_css_loop(order, sorder, params):
    m = ARIMA(order, sorder, **params)
    y = np.cumsum(np.random.default_rng(1).standard_normal(80))
    ncond = m.n_conditioning + len(m.ar_reduced) - 1
    ref = naive.arima_css_residuals(y, m.ar_total.coef, m.ma_total.coef, ncond)
    np.testing.assert_allclose(m.residuals(y, start="conditional"), ref, rtol=0, atol=1e-12)


def test_autoreg_conditional_and_forecast(data):
    y = data["sunspots"]
    res = AutoReg(y, lags=3, trend="ct").fit()
    m = ARIMA.from_statsmodels(res)
    np.testing.assert_allclose(m.predict(y, start="conditional")[3:], res.fittedvalues, rtol=0, atol=1e-9 * np.std(y))
    pr = res.get_prediction(start=y.size, end=y.size + 9)
    fc = m.forecast(y, 10, start="conditional")
    np.testing.assert_allclose(fc.mean, pr.predicted_mean, rtol=0, atol=1e-9 * np.std(y))
    np.testing.assert_allclose(fc.se, np.sqrt(pr.var_pred_mean), rtol=1e-9)
    assert_matches_exact(m, y, 10)


def test_conditional_forecast_variance_is_cumsum_psi():
    m = ARIMA((1, 1, 1), ar=[0.5], ma=[0.3], sigma2=2.0)
    y = np.cumsum(np.random.default_rng(2).standard_normal(50))
    fc = m.forecast(y, 10, start="conditional")
    np.testing.assert_allclose(fc.se, np.sqrt(2.0 * np.cumsum(m.psi(10) ** 2)), rtol=1e-12)


# -- the default statsmodels fit (approximate diffuse) -------------------------------------
def test_from_statsmodels_fit_matches_default(data):
    y = data["nile"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = SMARIMA(y, order=(1, 1, 1)).fit()
    m = ARIMA.from_statsmodels(res)
    sd = np.std(y)
    np.testing.assert_allclose(m.forecast(y, 12).mean, res.get_forecast(12).predicted_mean, rtol=0, atol=1e-4 * sd)
    # MA root 1/0.875: the conditional start is still visible at the end of the sample
    cond_gap = abs(m.predict(y, start="conditional")[-1] - res.fittedvalues[-1])
    exact_gap = abs(m.predict(y)[-1] - res.fittedvalues[-1])
    assert exact_gap < 1e-7 * sd and cond_gap > 10 * exact_gap
    np.testing.assert_allclose(m.to_statsmodels_params(), res.params, rtol=0, atol=0)


@pytest.mark.parametrize("offset", [1, 5, 81])
def test_from_statsmodels_sarimax_keeps_its_trend_offset(data, offset):
    # SARIMAX's trend_offset lives on the model, not in the spec the conversion read
    # (always 1): trend_offset=5 came out 11 away in-sample, and every res.extend(...)
    # (trend_offset = nobs + 1) with a shifted trend
    y = np.asarray(data["nile"], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = SARIMAX(y, order=(1, 0, 0), trend="ct", trend_offset=offset, use_exact_diffuse=True,
                      tolerance=0).fit(disp=0)
    m = ARIMA.from_statsmodels(res)
    sd = np.std(y)
    np.testing.assert_allclose(m.predict(y), res.fittedvalues, rtol=0, atol=1e-9 * sd)
    np.testing.assert_allclose(m.forecast(y, 5).mean, res.forecast(5), rtol=0, atol=1e-9 * sd)


@pytest.mark.parametrize("trend, offset", [("ct", 1), ("t", 1), ("ct", 5), ("c", 1)])
def test_from_statsmodels_reads_a_hamilton_trend_as_the_mean(data, trend, offset):
    # SARIMAX(hamilton_representation=True) puts the trend in the observation equation as
    # the process mean, its parameters divided by phi(1) Phi(1) (statsmodels' update):
    # read as an intercept, 100 log real GDP AR(2)+ct forecast 5.2 (two se) low at h = 8
    import statsmodels.api as sm

    y = 100 * np.log(sm.datasets.macrodata.load_pandas().data["realgdp"].to_numpy())
    params = {"ct": [0.5, 0.02], "t": [0.02], "c": [0.5]}[trend] + [1.3, -0.35, 0.2, 1.0]  # trend, ar, seasonal ar, sigma2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = SARIMAX(y, order=(2, 0, 0), seasonal_order=(1, 0, 0, 4), trend=trend, trend_offset=offset,
                      hamilton_representation=True).filter(params)
        harvey = SARIMAX(y, order=(2, 0, 0), seasonal_order=(1, 0, 0, 4), trend=trend, trend_offset=offset).filter(params)
    if trend != "c":  # the statsmodels behaviour pinned: the same parameters are another model
        assert np.max(np.abs(harvey.forecast(8) - res.forecast(8))) > 0.1
    m = ARIMA.from_statsmodels(res)
    sd = np.std(y)
    fc = m.forecast(y, 8)
    np.testing.assert_allclose(fc.mean, res.forecast(8), rtol=0, atol=1e-8 * sd)
    np.testing.assert_allclose(fc.se, res.get_forecast(8).se_mean, rtol=1e-8)
    np.testing.assert_allclose(m.predict(y)[20:], res.fittedvalues[20:], rtol=0, atol=1e-8 * sd)


# -- shapes, pandas, many series --------------------------------------------------------------
def test_many_series_equal_loop(data):
    m = ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.4], seasonal_ma=[-0.6], sigma2=0.0014)
    base = np.log(data["airline"])
    Y = np.stack([base, base[::-1], base + np.sin(np.arange(144.0))])
    fc = m.forecast(Y, 12)
    R = m.residuals(Y)
    for i in range(3):
        f1 = m.forecast(Y[i], 12)
        np.testing.assert_allclose(fc.mean[i], f1.mean, rtol=0, atol=1e-13)
        np.testing.assert_allclose(fc.se[i], f1.se, rtol=1e-13)
        np.testing.assert_allclose(R[i], m.residuals(Y[i]), rtol=0, atol=1e-13, equal_nan=True)
    np.testing.assert_allclose(fc.residuals, R, atol=1e-13, equal_nan=True)
    np.testing.assert_allclose(fc.fitted, m.predict(Y), atol=1e-13, equal_nan=True)


def test_pandas_in_pandas_out(data):
    air = np.log(load("airline"))
    m = ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.4], seasonal_ma=[-0.6], sigma2=0.0014)
    r = m.residuals(air)
    assert isinstance(r, pd.Series) and r.index.equals(air.index) and r.iloc[:13].isna().all()
    assert not m.predict(air).isna().any()
    fc = m.forecast(air, 3)
    assert isinstance(fc, Forecast) and isinstance(fc.mean, pd.Series)
    assert list(fc.mean.index.astype(str)) == ["1961-01", "1961-02", "1961-03"]
    frame = m.forecast(air, 3, level=(80, 95)).to_frame()
    assert list(frame.columns) == ["mean", "lo-80", "hi-80", "lo-95", "hi-95"] and len(frame) == 3
    # z quantiles from scipy.stats.norm.ppf(0.9) and norm.ppf(0.975)
    np.testing.assert_allclose(frame["hi-95"] - frame["mean"], 1.959963984540054 * fc.se.to_numpy())
    np.testing.assert_allclose(frame["mean"] - frame["lo-80"], 1.2815515655446004 * fc.se.to_numpy())
    df = pd.DataFrame({"a": air, "b": air * 1.1})
    fcd = m.forecast(df, 3)
    assert isinstance(fcd, BatchForecast) and fcd.ids == ["a", "b"]
    long = fcd.to_frame()
    assert list(long.columns) == ["unique_id", "ds", "mean", "lo-95", "hi-95"]
    np.testing.assert_allclose(long["mean"].to_numpy()[:3], fc.mean.to_numpy())


def test_long_series_switches_to_plain_recursion():
    m = ARIMA((2, 1, 1), ar=[0.5, -0.2], ma=[0.4])
    y = m.simulate(5000, seed=3)
    r = m.residuals(y)
    f = m._factors["f"]
    assert f.converged and f.T < 200
    # after convergence the residuals are Transfer(ar_total, ma_total) continued exactly
    e_tail = naive.recursion(m.ar_total.coef, m.ma_total.coef, y)  # zero start ...
    diff = np.abs(np.asarray(e_tail) - r)
    assert diff[-1] < 1e-12  # ... forgotten long before the end


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input():
    m = ARIMA((1, 1, 1), (0, 1, 0, 4), ar=[0.5], ma=[0.3])
    y = np.arange(20.0)
    y[7] = np.nan
    with pytest.raises(ValueError, match="index 7"):
        m.residuals(y)
    with pytest.raises(ValueError, match="at least 6"):
        m.predict(np.arange(5.0))
    with pytest.raises(ValueError, match="stationary"):
        ARIMA((1, 0, 0), ar=[1.5]).residuals(np.arange(10.0))
    ARIMA((1, 0, 0), ar=[1.5]).residuals(np.arange(10.0), start="conditional")  # defined
    mx = ARIMA((1, 0, 0), ar=[0.5], exog_params=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"exog must have shape \(10, 2\)"):
        mx.residuals(np.arange(10.0), exog=np.ones((10, 3)))
    with pytest.raises(ValueError, match="exog is required"):
        mx.residuals(np.arange(10.0))
    with pytest.raises(TypeError, match="ARIMAResults.*SARIMAXResults.*AutoRegResults"):
        ARIMA.from_statsmodels(object())
    with pytest.raises(ValueError, match="start must be one of"):
        m.residuals(np.arange(20.0), start="css")
    with pytest.raises(ValueError, match="trend_form='mean'"):
        ARIMA((0, 1, 1), trend="c", trend_params=[1.0])
    with pytest.raises(ValueError, match="sigma2"):
        ARIMA(sigma2=0.0)


# -- edge cases ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [14, 20, 30])
def test_short_seasonal_series_exact(n):
    # fewer differenced values than the MA order (13): the Ansley head covers everything
    m = ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.4], seasonal_ma=[-0.6], sigma2=0.0014)
    y = np.log(np.arange(100, 100 + n) + 5 * np.sin(np.arange(n)))
    assert_matches_exact(m, y, 12)


def test_tiny_white_noise_double_difference_and_unit_root_ma():
    rng = np.random.default_rng(0)
    m = ARIMA((2, 0, 3), (1, 0, 0, 4), ar=[0.3, 0.2], ma=[0.4, 0.1, 0.2], seasonal_ar=[0.5], trend="c",
              trend_params=[2.0], trend_form="intercept", trend_offset=0)
    for n in (2, 3, 8):
        assert_matches_exact(m, rng.standard_normal(n) + 5, 6)
    assert_matches_exact(ARIMA(sigma2=2.0), rng.standard_normal(30), 5)
    assert_matches_exact(ARIMA((0, 2, 0), sigma2=2.0), np.cumsum(np.cumsum(rng.standard_normal(30))), 5)
    # an MA unit root never converges: the Kalman gains run over the whole sample
    m = ARIMA((1, 1, 1), ar=[0.5], ma=[-1.0])
    assert_matches_exact(m, np.cumsum(rng.standard_normal(400)), 5, tol=1e-8)
    assert not m._factors["f"].converged


def test_many_series_with_their_own_exog():
    rng = np.random.default_rng(1)
    m = ARIMA((1, 1, 0), ar=[0.5], exog_params=[1.0, -2.0])
    Y = np.cumsum(rng.standard_normal((3, 40)), axis=1)
    X, Xf = rng.standard_normal((3, 40, 2)), rng.standard_normal((3, 5, 2))
    fc = m.forecast(Y, 5, exog=X, exog_future=Xf)
    R = m.residuals(Y, exog=X)
    for i in range(3):
        np.testing.assert_allclose(fc.mean[i], m.forecast(Y[i], 5, exog=X[i], exog_future=Xf[i]).mean, atol=1e-13)
        np.testing.assert_allclose(R[i], m.residuals(Y[i], exog=X[i]), atol=1e-13, equal_nan=True)


def test_conditional_intercept_is_subtracted_after_the_ar_kernel():
    m = ARIMA((1, 1, 1), ar=[0.5], ma=[0.3], trend="c", trend_params=[0.2], trend_form="intercept")
    y = np.cumsum(np.random.default_rng(0).standard_normal(50))
    x = np.convolve(y, m.ar_total.coef, "valid") - 0.2
    np.testing.assert_allclose(m.residuals(y, start="conditional")[2:], naive.recursion([1.0], m.ma_total.coef, x), atol=1e-13)


def test_repr_round_trips():
    m = ARIMA((1, 1, [1, 4]), (1, 0, 0, 12), ar=[0.5], ma=[0.2, -0.1], seasonal_ar=[0.3], trend="t",
              trend_params=[0.01], exog_params=[2.0], sigma2=0.7)
    m2 = eval(repr(m), {"ARIMA": ARIMA})
    np.testing.assert_array_equal(m2.to_statsmodels_params(), m.to_statsmodels_params())
    assert m2.ar_total == m.ar_total and m2.ma_total == m.ma_total and m2.trend_form == m.trend_form


@pytest.mark.parametrize("m", [
    ARIMA((2, 2, [1, 3]), ([1, 2], 2, 1, 4), ar=[0.5, 0.1], ma=[0.3, 0.2], seasonal_ar=[0.2, 0.1], seasonal_ma=[0.4], sigma2=2.0),
    ARIMA((0, 1, 0), sigma2=3.0),
    ARIMA((0, 0, 0), (0, 1, 0, 4)),
])
def test_pin_statsmodels_sarimax_statespace_layout(m):
    # the diffuse-period predictions depend on SARIMAX's state-space form: pin it
    from tsconv._sarimax import sarimax_statespace

    Z, T, RQR, P_inf, P_star = sarimax_statespace(m)
    s = m.seasonal_order[3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = SARIMAX(np.zeros(30), order=(list(m.ar_lags) or 0, m.d, list(m.ma_lags) or 0), use_exact_diffuse=True,
                      seasonal_order=(list(m.seasonal_ar_lags) or 0, m.D, list(m.seasonal_ma_lags) or 0, s) if s else (0, 0, 0, 0))
        mod.update(m.to_statsmodels_params())
        _, P_inf2, P_star2 = mod.ssm.initialization(model=mod.ssm)
    R = mod.ssm["selection"]
    np.testing.assert_array_equal(Z, mod.ssm["design"][0])
    np.testing.assert_array_equal(T, mod.ssm["transition"])
    np.testing.assert_allclose(RQR, R @ mod.ssm["state_cov"] @ R.T, atol=1e-15)
    np.testing.assert_array_equal(P_inf, P_inf2)
    np.testing.assert_allclose(P_star, P_star2, atol=1e-13)


@pytest.mark.parametrize(
    "b",
    [[1.0, -1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1.0, 1.0], [1.0, -0.5, 0.2], [0.0, 0.3, -2.0], [2.0], [1.0, -2.0, 1.0]],
)
def test_fir_rows_equals_scipy_lfilter(b):
    # the many-series FIR of the ARIMA filters (sparse taps, one pass per tap) against
    # scipy's lfilter(b, [1], x) row by row; taps past the series length are ignored
    b = np.asarray(b)
    rng = np.random.default_rng(7)
    for shape in ((5, 40), (3, 9), (1, 30)):
        x = rng.standard_normal(shape)
        np.testing.assert_allclose(fir_rows(b, x), scipy.signal.lfilter(b, [1.0], x, axis=-1), rtol=0, atol=1e-13)
