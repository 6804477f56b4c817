"""Known-answer tests of the kernel library (tsconv/kernels.py).

Every kernel is checked against an outside source: a published table or formula (cited),
or the pandas / scipy / statsmodels function that defines the same filter, run on the
same data. The pandas / scipy behaviours we rely on are pinned here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.signal
import scipy.special
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.tsa.seasonal import seasonal_decompose

import tsconv
from tsconv import (
    Kernel,
    Transfer,
    apply,
    binomial,
    centered_ma,
    delta,
    difference,
    ema,
    ema_fir,
    gaussian,
    hann,
    henderson,
    savgol,
    seasonal_difference,
    sma,
    spencer15,
    triangular,
    window,
    wma,
)
from tsconv.kernels import LIBRARY

RNG = np.random.default_rng(20261127)
X = np.cumsum(RNG.standard_normal(300)) + 5.0 * np.sin(np.arange(300) * 2 * np.pi / 12)


def assert_same_nan_close(a, b, rtol=1e-10, atol=1e-10):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------
# moving averages vs pandas rolling
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 5, 12, 13])
@pytest.mark.parametrize("center", [False, True])
def test_sma_equals_pandas_rolling_mean(n, center):
    want = pd.Series(X).rolling(n, center=center).mean()
    assert_same_nan_close(apply(sma(n, center=center), X), want)


@pytest.mark.parametrize("n", [1, 2, 5, 10])
@pytest.mark.parametrize("center", [False, True])
def test_wma_equals_linear_weights_rolling_apply(n, center):
    # TA-Lib TA_WMA definition: weights 1..n, the newest value weighted n, divided by n(n+1)/2
    w = np.arange(1, n + 1, dtype=float)
    want = pd.Series(X).rolling(n, center=center).apply(lambda v: np.dot(v, w) / w.sum(), raw=True)
    assert_same_nan_close(apply(wma(n, center=center), X), want)


def test_wma_known_answer():
    # WMA(3) of [1, 2, 4, 8] at the end: (1*2 + 2*4 + 3*8) / 6 = 34/6
    assert apply(wma(3), np.array([1.0, 2.0, 4.0, 8.0]))[-1] == pytest.approx(34 / 6)


# ---------------------------------------------------------------------------------------
# EMA: exact Transfer, pandas parametrizations, the three documented readings
# ---------------------------------------------------------------------------------------
EMA_PARAMS = [{"alpha": 0.3}, {"alpha": 1.0}, {"span": 10}, {"span": 1}, {"com": 2.5}, {"com": 0}, {"halflife": 4.0}]


@pytest.mark.parametrize("kw", EMA_PARAMS)
def test_ema_omit_equals_pandas_ewm_adjust_true(kw):
    want = pd.Series(X).ewm(**kw).mean()  # pandas defaults: adjust=True, ignore_na=False
    assert_same_nan_close(apply(ema(**kw), X, nan_policy="omit"), want, rtol=1e-9)


@pytest.mark.parametrize("kw", [{"alpha": 0.3}, {"span": 10}, {"halflife": 2.0}])
def test_ema_omit_equals_pandas_ewm_with_missing_values(kw):
    x = X.copy()
    x[:3] = np.nan  # leading gap: NaN until the first observation in both
    x[[10, 11, 12, 50, 120]] = np.nan
    want = pd.Series(x).ewm(**kw).mean()
    got = apply(ema(**kw), x, nan_policy="omit")
    assert_same_nan_close(got, want, rtol=1e-9)
    assert np.isnan(got[:3]).all() and not np.isnan(got[3:]).any()


@pytest.mark.parametrize("kw", [{"alpha": 0.3}, {"span": 10}, {"com": 0.5}, {"halflife": 3.0}])
def test_ema_adjust_false_recipe_equals_pandas(kw):
    # the recipe documented in ema's Notes, for 1-D and 2-D (time last)
    want = pd.Series(X).ewm(adjust=False, **kw).mean().to_numpy()
    np.testing.assert_allclose(apply(ema(**kw), X - X[0]) + X[0], want, rtol=1e-10, atol=1e-10)
    tr = ema(**kw)
    a = tr.num.coef[0]
    np.testing.assert_allclose(scipy.signal.lfilter(tr.num.coef, tr.den.coef, X, zi=(1 - a) * X[:1])[0], want, rtol=1e-10)
    x2 = np.vstack([X, X[::-1]])
    want2 = pd.DataFrame(x2.T).ewm(adjust=False, **kw).mean().to_numpy().T
    np.testing.assert_allclose(apply(tr, x2 - x2[..., :1]) + x2[..., :1], want2, rtol=1e-10, atol=1e-10)


def test_ema_zero_state_is_lfilter_and_weights():
    a = 0.2
    tr = ema(alpha=a)
    assert isinstance(tr, Transfer) and tr.is_stable
    np.testing.assert_allclose(apply(tr, X), scipy.signal.lfilter([a], [1, -(1 - a)], X), rtol=1e-12)
    # exact impulse response alpha (1 - alpha)^j, DC gain 1
    np.testing.assert_allclose(tr.impulse_response(40).coef, a * (1 - a) ** np.arange(40), rtol=1e-12)
    assert abs(tr.frequency_response([0.0])[1][0]) == pytest.approx(1.0)
    # zero start: y[t] = alpha sum_{j<=t} (1-alpha)^j x[t-j]
    t = 17
    assert apply(tr, X)[t] == pytest.approx(sum(a * (1 - a) ** j * X[t - j] for j in range(t + 1)))


def test_ema_parametrizations_match_pandas_definitions():
    # pandas.DataFrame.ewm docs: alpha = 2/(span+1) = 1/(1+com) = 1 - exp(log(0.5)/halflife)
    assert ema(span=9) == ema(alpha=0.2)
    assert ema(com=4) == ema(alpha=0.2)
    a_h = 1 - np.exp(np.log(0.5) / 5.0)
    np.testing.assert_allclose(ema(halflife=5.0).num.coef, [a_h])
    # halflife: weight halves after `halflife` samples
    ir = ema(halflife=5.0).impulse_response(11).coef
    assert ir[10] / ir[5] == pytest.approx(0.5) and ir[5] / ir[0] == pytest.approx(0.5)


@pytest.mark.parametrize("kw", [{"alpha": 0.25}, {"span": 7}, {"halflife": 1.5}])
@pytest.mark.parametrize("n", [1, 4, 15])
def test_ema_fir_normalized_equals_pandas_ewm_on_last_n(kw, n):
    got = apply(ema_fir(n=n, **kw), X)
    assert np.isnan(got[: n - 1]).all()
    for t in (n - 1, n + 3, 100, 299):
        want = pd.Series(X[t - n + 1 : t + 1]).ewm(**kw).mean().iloc[-1]
        assert got[t] == pytest.approx(want, rel=1e-10)


def test_ema_fir_raw_is_truncated_impulse_response():
    k = ema_fir(span=10, n=25, normalize=False)
    np.testing.assert_allclose(k.coef, ema(span=10).impulse_response(25).coef, rtol=1e-13)
    assert k.origin == 0
    assert k.coef.sum() == pytest.approx(1 - (1 - 2 / 11) ** 25)
    assert ema_fir(span=10, n=25).coef.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------
# symmetric windows
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,std", [(1, 1.0), (5, 1.0), (9, 2.5), (10, 3.0), (21, 4.0)])
@pytest.mark.parametrize("center", [True, False])
def test_gaussian_equals_pandas_rolling_gaussian(n, std, center):
    want = pd.Series(X).rolling(n, win_type="gaussian", center=center).mean(std=std)
    assert_same_nan_close(apply(gaussian(n, std, center=center), X), want)


@pytest.mark.parametrize("n", [1, 3, 7, 13])
def test_triangular_is_scipy_triang_and_double_sma(n):
    w = scipy.signal.windows.triang(n)
    np.testing.assert_allclose(triangular(n).coef, w / w.sum(), rtol=1e-13)
    m = (n + 1) // 2
    double = (sma(m) @ sma(m)).shift(1 - m)  # the double moving average, centred
    assert np.allclose(double.coef, triangular(n).coef) and double.origin == triangular(n).origin
    want = pd.Series(X).rolling(n, win_type="triang", center=True).mean()
    assert_same_nan_close(apply(triangular(n), X), want)


@pytest.mark.parametrize("n", [3, 5, 11])
def test_hann_equals_pandas_rolling_hann(n):
    want = pd.Series(X).rolling(n, win_type="hann", center=True).mean()
    assert_same_nan_close(apply(hann(n), X), want)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / (n - 1))  # Blackman & Tukey (1958)
    np.testing.assert_allclose(hann(n).coef, w / w.sum(), atol=1e-15)


@pytest.mark.parametrize("n", [1, 3, 9, 31])
def test_binomial_is_comb_over_power_of_two(n):
    want = np.array([scipy.special.comb(n - 1, k, exact=True) for k in range(n)], float) / 2 ** (n - 1)
    np.testing.assert_allclose(binomial(n).coef, want, rtol=1e-13)
    assert binomial(n).origin == (n - 1) // 2
    coin = delta()
    for _ in range(n - 1):
        coin = coin @ Kernel([0.5, 0.5])
    np.testing.assert_allclose(coin.coef, want, rtol=1e-12)


@pytest.mark.parametrize(
    "name,n,args",
    [("hamming", 7, ()), ("blackman", 12, ()), ("boxcar", 5, ()), ("kaiser", 15, (8.0,)), (("kaiser", 8.0), 15, ()),
     (("general_gaussian", 1.5, 3.0), 11, ()), ("tukey", 9, (0.5,)), ("bartlett", 9, ()), ("flattop", 9, ())],
)
def test_window_is_get_window_normalized(name, n, args):
    w = scipy.signal.get_window(name if not args else (name, *args), n, fftbins=False)
    k = window(name, n, *args)
    np.testing.assert_allclose(k.coef, w / w.sum(), rtol=1e-13, atol=1e-16)
    assert k.origin == (n - 1) // 2
    assert window(name, n, *args, center=False).origin == 0


@pytest.mark.parametrize("center", [True, False])
def test_window_equals_pandas_rolling_win_type(center):
    # pandas forwards window parameters to scipy.signal.get_window(..., fftbins=False)
    want = pd.Series(X).rolling(15, win_type="kaiser", center=center).mean(beta=8.0)
    assert_same_nan_close(apply(window("kaiser", 15, 8.0, center=center), X), want)
    want = pd.Series(X).rolling(8, win_type="blackman", center=center).mean()
    assert_same_nan_close(apply(window("blackman", 8, center=center), X), want)


def test_named_windows_agree_with_window():
    assert np.allclose(gaussian(11, 2.0).coef, window(("gaussian", 2.0), 11).coef)
    assert np.allclose(hann(9).coef, window("hann", 9).coef)
    assert np.allclose(triangular(9).coef, window("triang", 9).coef)
    assert np.allclose(sma(6).coef, window("boxcar", 6, center=False).coef)


# ---------------------------------------------------------------------------------------
# trend filters
# ---------------------------------------------------------------------------------------
def test_spencer15_published_weights_and_cubic_reproduction():
    # Spencer (1904); Kendall & Stuart vol. 3; Brockwell & Davis (2002) sec. 1.5.2, eq. (1.5.6):
    # a_j = [-3, -6, -5, 3, 21, 46, 67, 74, 67, 46, 21, 3, -5, -6, -3] / 320
    k = spencer15()
    np.testing.assert_array_equal(k.coef * 320, [-3, -6, -5, 3, 21, 46, 67, 74, 67, 46, 21, 3, -5, -6, -3])
    assert k.origin == 7
    # Kendall & Stuart: the product [-3, 3, 4, 3, -3]/4 x [4] x [4] x [5] moving averages
    prod = Kernel([-3, 3, 4, 3, -3]) @ Kernel(np.ones(4)) @ Kernel(np.ones(4)) @ Kernel(np.ones(5))
    np.testing.assert_allclose(prod.coef / 320, k.coef, rtol=1e-14)
    t = np.arange(60.0)
    cubic = 0.01 * t**3 - 0.5 * t**2 + 2 * t - 7
    np.testing.assert_allclose(apply(k, cubic, mode="valid"), cubic[7:-7], rtol=1e-10, atol=1e-8)


def test_henderson13_published_weights():
    # Henderson 13-term symmetric weights as published (ABS 2003, "A Guide to Interpreting
    # Time Series", sec. 5 and p. 41; Kenny & Durbin 1982), to 3 decimals. Printed tables
    # round so that the printed weights sum to exactly 1, which moves a last digit by one
    # (0.06549 -> 0.066 here, 0.41259 -> 0.412 in H7): hence atol = 1e-3.
    h13 = [-0.019, -0.028, 0.000, 0.066, 0.147, 0.214, 0.240]
    assert 2 * sum(h13[:6]) + h13[6] == pytest.approx(1.0)
    k = henderson(13)
    np.testing.assert_allclose(k.coef[:7], h13, atol=1e-3)
    np.testing.assert_allclose(k.coef, k.coef[::-1], atol=1e-15)
    assert k.origin == 6
    # 7-term (ABS quarterly trend filter): -0.059, 0.059, 0.294, 0.412
    np.testing.assert_allclose(henderson(7).coef[:4], [-0.059, 0.059, 0.294, 0.412], atol=1e-3)
    # 5-term (X-11 irregular-ratio filter): -0.073, 0.294, 0.559
    np.testing.assert_allclose(henderson(5).coef[:3], [-0.073, 0.294, 0.559], atol=1e-3)


def _henderson_by_optimization(n):
    """Henderson's defining problem solved numerically (independent of the closed form).

    minimize sum_j (Delta^3 w_j)^2 over w_{-m..m} (zero outside), subject to
    sum_j j^r w_j = [r == 0] for r = 0..3 (cubics pass unchanged). Henderson (1916).
    """
    m = (n - 1) // 2
    N = n + 6  # three zeros each side so that the third differences see the ends
    D = np.diff(np.eye(N), 3, axis=0)[:, 3 : 3 + n]
    j = np.arange(-m, m + 1, dtype=float)
    A = np.vstack([j**r for r in range(4)])
    b = np.array([1.0, 0, 0, 0])
    Q = 2 * D.T @ D
    kkt = np.block([[Q, A.T], [A, np.zeros((4, 4))]])
    return np.linalg.solve(kkt, np.r_[np.zeros(n), b])[:n]


@pytest.mark.parametrize("n", [5, 7, 9, 13, 23])
def test_henderson_closed_form_solves_the_defining_problem(n):
    np.testing.assert_allclose(henderson(n).coef, _henderson_by_optimization(n), atol=1e-10)


@pytest.mark.parametrize("period", [4, 12])
def test_centered_ma_equals_seasonal_decompose_trend_co2(period):
    import statsmodels.datasets

    co2 = statsmodels.datasets.co2.load_pandas().data["co2"]
    y = co2.resample("MS").mean().interpolate()
    want = seasonal_decompose(y, model="additive", period=period).trend
    got = apply(centered_ma(period), y)
    assert isinstance(got, pd.Series) and got.index.equals(y.index)
    assert_same_nan_close(got, want)


@pytest.mark.parametrize("period", [2, 3, 7])
def test_centered_ma_equals_seasonal_decompose_trend_simulated(period):
    t = np.arange(200)
    y = 0.05 * t + np.sin(2 * np.pi * t / period) + RNG.standard_normal(200)
    want = seasonal_decompose(y, model="additive", period=period).trend
    assert_same_nan_close(apply(centered_ma(period), y), want)
    # the seasonal pattern of that period is annihilated
    assert np.allclose(apply(centered_ma(period), np.sin(2 * np.pi * t / period), mode="valid"), 0, atol=1e-12)


@pytest.mark.parametrize("n,p,deriv,dt", [(5, 2, 0, 1.0), (11, 3, 0, 1.0), (11, 3, 1, 0.5), (21, 4, 2, 2.0), (7, 0, 0, 1.0)])
def test_savgol_equals_savgol_filter_interior(n, p, deriv, dt):
    got = apply(savgol(n, p, deriv=deriv, delta=dt), X)
    want = scipy.signal.savgol_filter(X, n, p, deriv=deriv, delta=dt)
    h = (n - 1) // 2
    assert np.isnan(got[:h]).all() and np.isnan(got[-h:] if h else []).all()
    np.testing.assert_allclose(got[h : len(X) - h], want[h : len(X) - h], rtol=1e-9, atol=1e-9)


def test_savgol_known_answer():
    # Savitzky & Golay (1964), Table I: 5-point quadratic smoothing (-3, 12, 17, 12, -3)/35
    np.testing.assert_allclose(savgol(5, 2).coef * 35, [-3, 12, 17, 12, -3], atol=1e-12)
    # a derivative of a line is its slope, per unit of delta
    t = np.arange(40) * 0.5
    np.testing.assert_allclose(apply(savgol(7, 2, deriv=1, delta=0.5), 3 * t + 1, mode="valid"), 3.0)


# ---------------------------------------------------------------------------------------
# differences and shifts
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [0, 1, 2, 3])
def test_difference_equals_np_diff_and_pandas(d):
    np.testing.assert_allclose(apply(difference(d), X, mode="valid"), np.diff(X, n=d), rtol=1e-12, atol=1e-12)
    want = pd.Series(X)
    for _ in range(d):
        want = want.diff()
    assert_same_nan_close(apply(difference(d), X), want)


@pytest.mark.parametrize("period,D", [(1, 1), (4, 1), (12, 1), (12, 2), (7, 0)])
def test_seasonal_difference_equals_pandas_diff(period, D):
    want = pd.Series(X)
    for _ in range(D):
        want = want.diff(period)
    assert_same_nan_close(apply(seasonal_difference(period, D), X), want)
    if D == 1:
        np.testing.assert_allclose(apply(seasonal_difference(period), X, mode="valid"), X[period:] - X[:-period], rtol=1e-12)
    composed = delta()
    for _ in range(D):
        composed = composed @ (delta() - delta(period))
    assert seasonal_difference(period, D) == composed


def test_seasonal_difference_order_one_is_difference():
    assert seasonal_difference(1, 3) == difference(3)
    assert difference(0) == delta()


@pytest.mark.parametrize("lag", [0, 1, 5, -1, -4])
def test_delta_is_pandas_shift(lag):
    assert_same_nan_close(apply(delta(lag), X), pd.Series(X).shift(lag))


@given(
    coef=st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=8),
    origin=st.integers(-3, 8),
    lag=st.integers(-5, 5),
)
def test_delta_identity_and_shift(coef, origin, lag):
    k = Kernel(coef, origin)
    assert delta() @ k == k
    assert k @ delta() == k
    assert delta(lag) @ k == k.shift(lag)


@given(a=st.integers(0, 6), b=st.integers(0, 6), s=st.integers(1, 13))
def test_differences_compose_by_adding_orders(a, b, s):
    # (1 - B)^a (1 - B)^b = (1 - B)^(a+b); integer coefficients, so exact
    assert difference(a) @ difference(b) == difference(a + b)
    assert seasonal_difference(s, a) @ seasonal_difference(s, b) == seasonal_difference(s, a + b)


@given(n=st.integers(0, 15), m=st.integers(0, 15))
def test_binomials_compose(n, m):
    k = binomial(2 * n + 1) @ binomial(2 * m + 1)
    want = binomial(2 * (n + m) + 1)
    assert k.origin == want.origin
    np.testing.assert_allclose(k.coef, want.coef, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("m", [2, 3, 7, 12])
def test_sma_and_centered_ma_gain_vanishes_at_seasonal_frequencies(m):
    w = 2 * np.pi * np.arange(1, m) / m
    assert np.allclose(np.abs(sma(m).frequency_response(w)[1]), 0, atol=1e-12)
    assert np.allclose(np.abs(centered_ma(m).frequency_response(w)[1]), 0, atol=1e-12)
    # centred symmetric kernels have a real (zero-phase) response
    assert np.allclose(centered_ma(m).frequency_response(16)[1].imag, 0, atol=1e-12)


@given(p=st.integers(0, 5), h=st.integers(3, 8), coef=st.lists(st.floats(-2, 2), min_size=6, max_size=6))
def test_savgol_reproduces_polynomials_up_to_polyorder(p, h, coef):
    n = 2 * h + 1
    t = np.linspace(-1, 1, 40)
    y = np.polynomial.polynomial.polyval(t, coef[: p + 1])
    np.testing.assert_allclose(apply(savgol(n, p), y, mode="valid"), y[h:-h], atol=1e-9)


# ---------------------------------------------------------------------------------------
# library-wide properties
# ---------------------------------------------------------------------------------------
SMOOTHERS = {
    "sma": lambda: sma(7), "wma": lambda: wma(7), "ema_fir": lambda: ema_fir(alpha=0.3, n=9),
    "gaussian": lambda: gaussian(9, 2.0), "triangular": lambda: triangular(9), "hann": lambda: hann(9),
    "binomial": lambda: binomial(9), "window": lambda: window("blackman", 9), "spencer15": spencer15,
    "henderson": lambda: henderson(9), "centered_ma": lambda: centered_ma(12), "savgol": lambda: savgol(9, 3),
}
CENTRED = {"gaussian", "triangular", "hann", "binomial", "window", "spencer15", "henderson", "centered_ma", "savgol"}


@pytest.mark.parametrize("name", sorted(SMOOTHERS))
def test_smoothers_are_normalized_with_the_documented_origin(name):
    k = SMOOTHERS[name]()
    assert k.coef.sum() == pytest.approx(1.0, abs=1e-12)
    if name in CENTRED:
        assert k.origin == (len(k) - 1) // 2
        np.testing.assert_allclose(k.coef, k.coef[::-1], atol=1e-15)
    else:
        assert k.origin == 0 and k.is_causal


def test_library_entries_build():
    assert len(LIBRARY) >= 16
    for name, make in LIBRARY.items():
        op = make()
        assert isinstance(op, (Kernel, Transfer)), name
        assert len(op.impulse_response(8) if isinstance(op, Transfer) else op) >= 1


def test_all_names_exported():
    for name in ["sma", "wma", "ema", "ema_fir", "gaussian", "triangular", "hann", "binomial", "window",
                 "spencer15", "henderson", "centered_ma", "savgol", "difference", "seasonal_difference", "delta"]:
        assert name in tsconv.__all__ and getattr(tsconv, name) is getattr(tsconv.kernels, name)


# ---------------------------------------------------------------------------------------
# bad input: each error names the parameter and the value received
# ---------------------------------------------------------------------------------------
BAD = [
    (lambda: sma(0), ValueError, r"n must be >= 1, got 0"),
    (lambda: sma(2.0), TypeError, r"n must be an integer, got 2\.0"),
    (lambda: sma(3, center="yes"), TypeError, r"center must be True or False, got 'yes'"),
    (lambda: wma(-1), ValueError, r"n must be >= 1, got -1"),
    (lambda: ema(), ValueError, r"exactly one of com, span, halflife, alpha must be given, got none"),
    (lambda: ema(span=3, alpha=0.5), ValueError, r"got span and alpha"),
    (lambda: ema(alpha=0.0), ValueError, r"alpha must satisfy 0 < alpha <= 1, got 0\.0"),
    (lambda: ema(alpha=1.5), ValueError, r"alpha must satisfy 0 < alpha <= 1, got 1\.5"),
    (lambda: ema(span=0.5), ValueError, r"span must satisfy span >= 1, got 0\.5"),
    (lambda: ema(com=-1), ValueError, r"com must satisfy com >= 0, got -1"),
    (lambda: ema(halflife=0), ValueError, r"halflife must satisfy halflife > 0, got 0"),
    (lambda: ema(alpha=float("nan")), ValueError, r"alpha must be finite, got nan"),
    (lambda: ema(span="10"), TypeError, r"span must be a real number, got '10'"),
    (lambda: ema(alpha=True), TypeError, r"alpha must be a real number, got True"),
    (lambda: ema_fir(alpha=0.5, n=0), ValueError, r"n must be >= 1, got 0"),
    (lambda: ema_fir(n=5), ValueError, r"exactly one of com, span, halflife, alpha"),
    (lambda: gaussian(5, 0.0), ValueError, r"std must be > 0, got 0\.0"),
    (lambda: gaussian(0, 1.0), ValueError, r"n must be >= 1, got 0"),
    (lambda: triangular(4), ValueError, r"n must be a positive odd integer, got 4"),
    (lambda: hann(0), ValueError, r"n must be a positive odd integer, got 0"),
    (lambda: binomial(6), ValueError, r"n must be a positive odd integer, got 6"),
    (lambda: window("nosuchwindow", 5), ValueError, r"name must be a scipy.signal.get_window window.*'nosuchwindow'"),
    (lambda: window("kaiser", 5), ValueError, r"name must be .*'kaiser'"),
    (lambda: window(3, 5), TypeError, r"name must be a window name or a \(name, \*params\) tuple, got 3"),
    (lambda: window(("kaiser", 8.0), 5, 2.0), TypeError, r"not both"),
    (lambda: window("hann", 0), ValueError, r"n must be >= 1, got 0"),
    (lambda: henderson(4), ValueError, r"n must be an odd integer >= 3, got 4"),
    (lambda: henderson(1), ValueError, r"n must be an odd integer >= 3, got 1"),
    (lambda: centered_ma(1), ValueError, r"period must be >= 2, got 1"),
    (lambda: centered_ma(12.0), TypeError, r"period must be an integer, got 12\.0"),
    (lambda: savgol(6, 2), ValueError, r"n must be a positive odd integer, got 6"),
    (lambda: savgol(5, 5), ValueError, r"polyorder must be less than n \(5\), got 5"),
    (lambda: savgol(5, -1), ValueError, r"polyorder must be >= 0, got -1"),
    (lambda: savgol(5, 2, deriv=3), ValueError, r"deriv must be <= polyorder \(2\), got 3"),
    (lambda: savgol(5, 2, delta=0), ValueError, r"delta must be > 0, got 0"),
    (lambda: difference(-1), ValueError, r"d must be >= 0, got -1"),
    (lambda: seasonal_difference(0), ValueError, r"period must be >= 1, got 0"),
    (lambda: seasonal_difference(4, D=-1), ValueError, r"D must be >= 0, got -1"),
    (lambda: delta(1.5), TypeError, r"lag must be an integer, got 1\.5"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[m for _, _, m in BAD])
def test_bad_input_names_the_parameter(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_binomial_beyond_the_double_range_of_two_to_the_n():
    # 2**(n - 1) overflows from n = 1025: the binomial law's pmf (scipy) takes over
    k = binomial(2001)
    np.testing.assert_allclose(k.coef, scipy.stats.binom.pmf(np.arange(2001), 2000, 0.5), rtol=1e-12, atol=0)
    assert k.origin == 1000
    np.testing.assert_allclose(binomial(1023).coef, scipy.stats.binom.pmf(np.arange(1023), 1022, 0.5), rtol=1e-9, atol=1e-300)


def test_gaussian_names_a_std_too_small_for_its_length():
    with pytest.raises(ValueError, match=r"std=0.01 is too small for n=6"):
        gaussian(6, 0.01)
    np.testing.assert_array_equal(gaussian(5, 0.01).coef, [0.0, 0.0, 1.0, 0.0, 0.0])
