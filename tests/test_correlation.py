"""Cross-correlation, NCC, GCC, peaks and false alarms against tests/naive.py and scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.fft
import scipy.signal
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

import tsconv._ncc as private
from tsconv._compat import beta_sf
import naive
from tsconv import (
    best_lag,
    correlation_lags,
    false_alarm_probability,
    find_peaks,
    gcc,
    ncc,
    xcorr,
)

RNG = np.random.default_rng(20261127)


@pytest.fixture
def small_batches(monkeypatch):
    """Tiny FFT batches and statistics chunks, so that short inputs cross many of both."""
    monkeypatch.setattr(private, "BATCH_SAMPLES", 4096)
    monkeypatch.setattr(private, "STATS_CHUNK", 97)


def band_limited(n: int, cutoff: float, rng: np.random.Generator) -> np.ndarray:
    """White noise low-passed in the frequency domain to ``cutoff`` (fraction of Nyquist)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    spec[int(cutoff * spec.size) :] = 0.0
    return np.fft.irfft(spec, n)


def fractional_shift(x: np.ndarray, d: float) -> np.ndarray:
    """``x`` delayed by ``d`` samples (exact for a periodic band-limited signal)."""
    f = np.fft.rfftfreq(x.size)
    return np.fft.irfft(np.fft.rfft(x) * np.exp(-2j * np.pi * f * d), x.size)


# ---------------------------------------------------------------------------------------
# xcorr and lags
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
@pytest.mark.parametrize("complex_input", [False, True])
def test_xcorr_equals_scipy_correlate(mode, method, complex_input):
    x = RNG.standard_normal(57)
    y = RNG.standard_normal(13)
    if complex_input:
        x = x + 1j * RNG.standard_normal(57)
        y = y + 1j * RNG.standard_normal(13)
    got = xcorr(x, y, mode=mode, method=method)
    want = scipy.signal.correlate(x, y, mode=mode, method=method)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert got.shape == correlation_lags(57, 13, mode).shape


def test_xcorr_equals_definition_and_lags():
    x = list(RNG.standard_normal(9) + 1j * RNG.standard_normal(9))
    y = list(RNG.standard_normal(4) + 1j * RNG.standard_normal(4))
    lags, vals = naive.xcorr_lags(x, y)
    np.testing.assert_allclose(xcorr(np.array(x), np.array(y)), vals, atol=1e-12)
    np.testing.assert_array_equal(correlation_lags(9, 4), lags)


@pytest.mark.parametrize("n_x, n_y", [(10, 3), (3, 10), (7, 7), (1, 5)])
@pytest.mark.parametrize("mode", ["full", "valid", "same"])
def test_correlation_lags_equals_scipy(n_x, n_y, mode):
    np.testing.assert_array_equal(correlation_lags(n_x, n_y, mode), scipy.signal.correlation_lags(n_x, n_y, mode))


def test_xcorr_float32_and_2d():
    x = RNG.standard_normal((4, 30)).astype(np.float32)
    y = RNG.standard_normal((2, 5)).astype(np.float32)
    got = xcorr(x, y)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, scipy.signal.correlate(x, y), rtol=1e-5, atol=1e-5)


def test_xcorr_long_inputs_never_direct(monkeypatch):
    # the multithreaded-BLAS trap: 'auto' must not choose the direct sum past MAX_DIRECT taps
    seen = []
    real = scipy.signal.correlate
    monkeypatch.setattr(scipy.signal, "correlate", lambda *a, **k: seen.append(k["method"]) or real(*a, **k))
    xcorr(np.ones(5000), np.ones(3000))
    assert seen == ["fft"]


# ---------------------------------------------------------------------------------------
# ncc against the lag-by-lag Pearson reference
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("m, n", [(2, 40), (5, 300), (64, 700), (130, 131), (300, 3000)])
def test_ncc_equals_pearson_by_definition(m, n, small_batches):
    h = RNG.standard_normal(n) * 3.0 + 10.0
    q = RNG.standard_normal(m)
    want = naive.pearson_lags(q, h)
    for workers in (1, 2):
        got = ncc(q, h, workers=workers)
        assert got.dtype == np.float64 and got.shape == (n - m + 1,)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_ncc_many_blocks_and_batches_equal_pearson(small_batches):
    h = np.cumsum(RNG.standard_normal(5000))  # a random walk: the local mean wanders
    q = h[1234:1300] + RNG.standard_normal(66) * 0.1
    got = ncc(q, h, block=256)
    np.testing.assert_allclose(got, naive.pearson_lags(q, h), atol=1e-11)


def test_ncc_float32_error_bound():
    # float32 end to end: error vs the float64 definition ~1e-6 for stationary signals
    h = RNG.standard_normal(20_000)
    q = RNG.standard_normal(500)
    got = ncc(q.astype(np.float32), h.astype(np.float32))
    assert got.dtype == np.float32
    ref = ncc(q, h)
    assert np.abs(got - ref).max() < 1e-5


def test_ncc_zero_variance_windows_give_zero(small_batches):
    h = RNG.standard_normal(600)
    h[100:300] = 4.0  # a constant stretch
    h[400:500] = 0.0  # digital silence
    q = RNG.standard_normal(40)
    got = ncc(q, h)
    assert np.isfinite(got).all()
    want = np.array(naive.pearson_lags(q, h))
    np.testing.assert_allclose(got, want, atol=1e-10)
    assert np.all(got[100:261] == 0.0) and np.all(got[400:461] == 0.0)


@pytest.mark.parametrize("at", [19_000, 19_001, 10_000])
def test_ncc_before_a_huge_outlier_is_exact(at):
    # one sentinel (-99999 in data of scale 1e-3) after an exact copy: windows before it
    # were taken for flat (NCC 0 at the copy; 99.7% of the chunk 0) against the chunk's
    # total energy, and where the sentinel fell in the anchor's sample (at 19,000 and
    # 10,000, every 4th sample) a mean anchor left errors of 2e-5
    rng = np.random.default_rng(0)
    h = 1e-3 * rng.standard_normal(20_000)
    q = h[5_000:5_050].copy()
    h[at] = -99_999.0
    got = ncc(q, h)
    before = at - q.size + 1  # windows that do not hold the sentinel
    want = np.array(naive.pearson_lags(q, h[: before + q.size - 1]))
    # in the sentinel's FFT block the transform's rounding grows with its energy (measured
    # 1.8e-10 at 1e8 times the data's scale); before that block, the float64 promise
    far = before - private.block_length(q.size)
    np.testing.assert_allclose(got[:far], want[:far], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[:before], want, rtol=0, atol=1e-9)
    assert best_lag(got).index == 5_000 and got[5_000] == pytest.approx(1.0, abs=1e-12)


def test_ncc_exact_copy_scores_one():
    h = RNG.standard_normal(10_000)
    got = ncc(h[7000:7300] * -2.5 + 3.0, h)
    assert np.argmin(got) == 7000 and got[7000] == pytest.approx(-1.0, abs=1e-12)
    assert np.all(np.abs(got) <= 1.0)


@given(
    gain_q=st.floats(0.01, 100.0),
    gain_h=st.floats(0.01, 100.0),
    dc_q=st.floats(-1e3, 1e3),
    dc_h=st.floats(-1e3, 1e3),
    seed=st.integers(0, 2**32 - 1),
)
def test_ncc_invariant_to_gain_and_offset(gain_q, gain_h, dc_q, dc_h, seed):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal(400)
    q = rng.standard_normal(30)
    base = ncc(q, h, workers=1)
    moved = ncc(gain_q * q + dc_q, gain_h * h + dc_h, workers=1)
    np.testing.assert_allclose(moved, base, atol=1e-9)
    np.testing.assert_allclose(ncc(-q, h, workers=1), -base, atol=1e-12)


# ---------------------------------------------------------------------------------------
# haystack sources: streamed, memory-mapped, pandas
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ncc_streamed_equals_whole_bit_for_bit(dtype, small_batches):
    h = RNG.standard_normal(20_000).astype(dtype)
    q = h[5000:5200].copy()
    whole = ncc(q, h)
    cuts = np.sort(RNG.choice(np.arange(1, h.size), size=60, replace=False))
    pieces = [h[a:b] for a, b in zip(np.r_[0, cuts], np.r_[cuts, h.size])]
    pieces.insert(3, h[:0])  # an empty chunk is fine
    streamed = ncc(q, iter(pieces))
    assert streamed.dtype == whole.dtype
    np.testing.assert_array_equal(streamed, whole)
    # chunks may be plain lists
    short = ncc(q, ([float(v) for v in h[i : i + 50]] for i in range(0, 600, 50))) if dtype == np.float64 else None
    if short is not None:
        np.testing.assert_allclose(short, naive.pearson_lags(q, h[:600]), atol=1e-12)


def test_ncc_threads_do_not_change_a_bit(small_batches):
    h = RNG.standard_normal(30_000)
    q = RNG.standard_normal(150)
    np.testing.assert_array_equal(ncc(q, h, workers=1), ncc(q, h, workers=2))
    np.testing.assert_array_equal(ncc(q, h, workers=1), ncc(q, h, workers=3))
    np.testing.assert_array_equal(ncc(q, h, workers=1), ncc(q, h, workers=-1))  # every core, as scipy.fft
    with pytest.raises(ValueError, match="workers must be >= 1"):
        ncc(q, h, workers=0)
    # a stream: batches correlated out of order, yielded in order
    chunks = [h[i : i + 777] for i in range(0, h.size, 777)]
    np.testing.assert_array_equal(ncc(q, iter(chunks), workers=3), ncc(q, h, workers=1))


def test_ncc_memmap_equals_array(tmp_path, small_batches):
    h = RNG.standard_normal(30_000).astype(np.float32)
    path = tmp_path / "hay.f32"
    h.tofile(path)
    mm = np.memmap(path, dtype=np.float32, mode="r")
    q = h[100:400].copy()
    np.testing.assert_array_equal(ncc(q, mm), ncc(q, h))
    del mm


def test_ncc_int16_memmap_is_float64(tmp_path):
    h = (RNG.standard_normal(5000) * 1000).astype(np.int16)
    path = tmp_path / "hay.i16"
    h.tofile(path)
    mm = np.memmap(path, dtype=np.int16, mode="r")
    q = h[10:90].astype(np.float64)
    got = ncc(q, mm)
    np.testing.assert_allclose(got, naive.pearson_lags(q, h.astype(float)), atol=1e-12)


def test_ncc_series_haystack_keeps_index():
    idx = pd.date_range("2026-01-01", periods=300, freq="min")
    h = pd.Series(RNG.standard_normal(300), index=idx, name="hay")
    got = ncc(h.iloc[50:80].to_numpy(), h)
    assert isinstance(got, pd.Series) and got.index.equals(idx[:271]) and got.name == "hay"
    assert got.idxmax() == idx[50]


# ---------------------------------------------------------------------------------------
# known shifts: integer and fractional
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [0, 1, 4321, 9700])
def test_ncc_finds_inserted_snippet(offset):
    h = RNG.standard_normal(10_000)
    q = RNG.standard_normal(300)
    h[offset : offset + 300] = 0.5 * q + 0.1 * h[offset : offset + 300]
    p = best_lag(ncc(q, h))
    # the sidelobes of a white haystack have std ~ 1/sqrt(m): PSR ~ 0.98 * sqrt(300) ~ 17
    assert p.index == offset and p.value > 0.95 and p.psr > 12


@pytest.mark.parametrize("interpolation", ["parabolic", "sinc"])
@pytest.mark.parametrize("delay", [1000.0, 1000.25, 1000.5, 1000.8])
def test_fractional_shift_recovered_below_a_tenth_of_a_sample(interpolation, delay):
    # band-limited to 40% of Nyquist; the haystack is the signal delayed by `delay`
    rng = np.random.default_rng(7)
    s = band_limited(16_384, 0.4, rng)
    h = fractional_shift(s, delay)
    q = s[2000:2600]
    p = best_lag(ncc(q, h), interpolation=interpolation)
    assert abs(p.lag - (2000.0 + delay)) < 0.1
    assert p.value == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("weighting", ["phat", "scot", "roth", "ht", None])
@pytest.mark.parametrize("delay", [17.0, -9.0, 23.4])
def test_gcc_recovers_delay(weighting, delay):
    rng = np.random.default_rng(3)
    s = band_limited(4096, 0.5, rng)
    x = fractional_shift(s, delay) + 0.05 * rng.standard_normal(4096)
    y = s + 0.05 * rng.standard_normal(4096)
    lags, r = gcc(x, y, weighting=weighting, max_lag=64)
    assert lags[0] == -64 and lags[-1] == 64
    p = best_lag(r, lags=lags, interpolation="sinc")
    assert abs(p.lag - delay) < 0.1


def test_gcc_without_weighting_is_xcorr():
    x, y = RNG.standard_normal(50), RNG.standard_normal(20)
    lags, r = gcc(x, y, weighting=None)
    np.testing.assert_array_equal(lags, correlation_lags(50, 20))
    np.testing.assert_allclose(r, xcorr(x, y), atol=1e-12)
    lags5, r5 = gcc(x, y, weighting=None, max_lag=5)
    np.testing.assert_allclose(r5, r[np.abs(lags) <= 5], atol=1e-15)


def test_gcc_phat_is_sharper_than_xcorr_on_coloured_signals():
    # Knapp & Carter 1976: PHAT whitens the cross-spectrum, the peak narrows
    rng = np.random.default_rng(5)
    s = scipy.signal.lfilter([1.0], [1.0, -0.95], rng.standard_normal(4096))
    x = np.r_[np.zeros(12), s[:-12]]
    _, plain = gcc(x, s, weighting=None, max_lag=100)
    _, phat = gcc(x, s, weighting="phat", max_lag=100)
    width = lambda r: int(np.sum(r > 0.5 * r.max()))  # noqa: E731
    assert width(phat) < width(plain) / 5


# ---------------------------------------------------------------------------------------
# peaks
# ---------------------------------------------------------------------------------------
def test_parabolic_refinement_formula():
    # vertex of the parabola through (-1, 1), (0, 3), (1, 2): delta = (1 - 2) / (2 (1 - 6 + 2)) = 1/6
    c = np.array([0.0, 1.0, 3.0, 2.0, 0.0])
    p = best_lag(c)
    assert p.index == 2 and p.lag == pytest.approx(2 + 1 / 6)
    assert p.value == pytest.approx(3.0 - 0.25 * (1.0 - 2.0) * (1 / 6))
    assert best_lag(c, subsample=False)[:3] == (2.0, 3.0, 2)


def test_peak_to_sidelobe_ratio_by_hand():
    c = np.array([0.1, -0.1, 0.1, -0.1, 0.2, 1.0, 0.2, 0.1, -0.1, 0.1, -0.1])
    side = np.r_[c[:3], c[9:]]  # main lobe: down to (and with) the first minimum on each side
    p = best_lag(c)
    assert p.psr == pytest.approx((1.0 - side.mean()) / side.std())
    q = best_lag(c, exclude=2)
    side2 = np.r_[c[:3], c[8:]]
    assert q.psr == pytest.approx((1.0 - side2.mean()) / side2.std())


def test_find_peaks_order_distance_lags_and_sign():
    c = np.zeros(100)
    c[[10, 12, 50, 90]] = [0.5, 0.6, 0.9, -0.95]
    peaks = find_peaks(c, 3, subsample=False)
    assert [p.index for p in peaks] == [50, 12, 10]
    # 10 is too close to 12; the zero plateau 91..99 (between -0.95 and the end) is a peak
    assert [p.index for p in find_peaks(c, 3, min_distance=5, subsample=False)] == [50, 12, 95]
    assert find_peaks(c, 1, absolute=True, subsample=False)[0][:3] == (90.0, -0.95, 90)
    lags = np.arange(100) * 0.5 - 10.0
    assert find_peaks(c, 1, lags=lags, subsample=False)[0].lag == 15.0
    # a maximum at the very end is a peak too
    assert find_peaks(np.arange(5.0), 1)[0].index == 4


def test_best_lag_ignores_nan():
    c = np.array([np.nan, 0.1, 0.7, 0.2, np.nan])
    assert best_lag(c).index == 2


# ---------------------------------------------------------------------------------------
# false alarms
# ---------------------------------------------------------------------------------------
def test_single_lag_probability_is_scipy_pearsonr_pvalue():
    # pins scipy: pearsonr's two-sided p-value uses the same exact null (Beta) distribution
    x, y = RNG.standard_normal(25), RNG.standard_normal(25)
    res = scipy.stats.pearsonr(x, y)
    assert false_alarm_probability(res.statistic, 25, 1, tail="both") == pytest.approx(res.pvalue, rel=1e-9)
    assert false_alarm_probability(1.0, 25, 10) == 0.0
    assert false_alarm_probability(-1.0, 25, 10) == 1.0


def test_beta_sf_is_scipy_stats_beta_sf():
    # pins scipy: false_alarm_probability takes Beta(a, a)'s tail from _compat.beta_sf, on
    # SciPy >= 1.12 scipy.special.betaincc, which must be scipy.stats.beta.sf without the
    # distribution's overhead; an upgrade that parts them fails here
    rng = np.random.default_rng(3)
    a = np.concatenate([rng.uniform(0.5, 10.0, 300), rng.uniform(10.0, 50_000.0, 300)])
    x = np.concatenate([rng.uniform(0.0, 1.0, 300), 0.5 + rng.uniform(0.0, 0.05, 300)])
    got = np.array([beta_sf(xi, ai) for xi, ai in zip(x, a)])
    np.testing.assert_allclose(got, scipy.stats.beta.sf(x, a, a), rtol=1e-13, atol=0)


def test_false_alarm_probability_is_calibrated_on_noise():
    # the best NCC of a needle against independent white noise: p must be uniform
    rng = np.random.default_rng(11)
    m, n, trials = 48, 1000, 300
    p = np.empty(trials)
    for i in range(trials):
        r = ncc(rng.standard_normal(m), rng.standard_normal(n), workers=1)
        p[i] = false_alarm_probability(r.max(), m, r.size)
    assert scipy.stats.kstest(p, "uniform").pvalue > 0.01
    # and the two-sided version on |r|
    pb = np.array([false_alarm_probability(np.abs(ncc(rng.standard_normal(m), rng.standard_normal(n), workers=1)).max(), m, n - m + 1, tail="both") for _ in range(150)])
    assert scipy.stats.kstest(pb, "uniform").pvalue > 0.01


def test_false_alarm_probability_vectorised_and_monotone():
    s = np.linspace(-1, 1, 21)
    p = false_alarm_probability(s, 100, 1000)
    assert p.shape == (21,) and np.all(np.diff(p) <= 0)
    assert false_alarm_probability(0.3, 100, 10) < false_alarm_probability(0.3, 100, 1000)


def test_false_alarm_probability_log_where_the_probability_underflows():
    # log=True is the log of the probability where that is a normal double, and goes on
    # below it: against quadrature of the Beta density (tests/naive.py) on both sides of the
    # switch to the continued fraction (ln 1e-280 = -645)
    for m, score in ((30, 0.7), (500, 0.7), (500, 0.95), (4000, 0.3), (4000, 0.6), (4000, 0.9), (1e6, 0.1)):
        lp = false_alarm_probability(score, m, 1, log=True)
        assert lp == pytest.approx(naive.log_chance_correlation_tail(score, m), rel=1e-10)
        p = false_alarm_probability(score, m, 1)
        if p > 1e-300:
            assert lp == pytest.approx(math.log(p), rel=1e-9)
        else:
            assert p == 0.0 and lp < math.log(1e-300)
    # n lags: ln(1 - (1 - p1)^n), ln(n p1) when that is tiny; vectorised, monotone, finite at 1
    s = np.linspace(-1, 1, 41)
    lp = false_alarm_probability(s, 200, 1000, log=True)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(lp[lp > -600], np.log(false_alarm_probability(s, 200, 1000))[lp > -600], rtol=1e-9, atol=1e-12)
    assert lp.shape == (41,) and np.all(np.isfinite(lp)) and np.all(np.diff(lp) <= 0) and lp[0] == 0.0
    assert np.all(np.diff(lp[lp < -1e-9]) < 0)
    assert false_alarm_probability(0.9, 4000, 10**6, log=True) == pytest.approx(
        false_alarm_probability(0.9, 4000, 1, log=True) + math.log(10**6), rel=1e-12)
    both = false_alarm_probability(-0.95, 500, 1, tail="both", log=True)
    assert both == pytest.approx(math.log(2) + naive.log_chance_correlation_tail(0.95, 500), rel=1e-9)
    with pytest.raises(TypeError, match="log must be True or False"):
        false_alarm_probability(0.5, 100, 10, log=1)


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "needle, haystack, err, match",
    [
        (np.ones(10) * np.arange(10), np.arange(5.0), ValueError, "needle must not be longer than haystack"),
        ([], np.arange(5.0), ValueError, "needle must not be empty"),
        (np.arange(3.0), [], ValueError, "haystack must not be empty"),
        (np.full(5, 2.0), np.arange(50.0), ValueError, "needle is constant"),
        (np.array([1.0, np.nan, 2.0]), np.arange(50.0), ValueError, "needle must be finite"),
        (np.arange(3.0), np.r_[np.arange(50.0), np.inf], ValueError, "haystack must be finite, got inf at index 50"),
        (np.arange(3.0, dtype=np.float32), np.arange(50.0), TypeError, "same precision"),
        (np.ones((2, 3)), np.arange(50.0), ValueError, "needle must be 1-D"),
        (np.arange(3.0), np.ones((2, 30)), ValueError, "haystack must be 1-D"),
        (np.arange(3.0), np.arange(50.0) + 0j, TypeError, "haystack must be real"),
        (np.arange(3.0), "abc", TypeError, "haystack"),
        ([1.0], np.arange(50.0), ValueError, "at least 2 samples"),
    ],
)
def test_ncc_bad_input(needle, haystack, err, match):
    with pytest.raises(err, match=match):
        ncc(needle, haystack)


def test_ncc_bad_options_and_streams():
    q = np.arange(10.0)
    with pytest.raises(ValueError, match="block must be >= 20"):
        ncc(q, np.arange(100.0), block=8)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        ncc(q, np.arange(100.0), workers=0)
    with pytest.raises(ValueError, match="shorter streamed haystack"):
        ncc(q, iter([np.arange(5.0)]))
    with pytest.raises(ValueError, match="haystack must be finite, got nan at index 7"):
        ncc(q, iter([np.arange(5.0), np.array([1.0, 2.0, np.nan])]))
    with pytest.raises(TypeError, match="same precision"):
        ncc(q, iter([np.arange(50, dtype=np.float32)]))
    with pytest.raises(ValueError, match="haystack chunk 0 must be 1-D"):
        ncc(q, iter([np.ones((2, 20))]))


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="mode must be one of"):
        xcorr([1.0, 2.0], [1.0], mode="circular")
    with pytest.raises(ValueError, match="same number of dimensions"):
        xcorr(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="x must be finite"):
        xcorr([1.0, np.nan], [1.0])
    with pytest.raises(ValueError, match="n_x must be >= 1"):
        correlation_lags(0, 3)
    with pytest.raises(ValueError, match="weighting must be one of"):
        gcc(np.ones(5), np.ones(5), weighting="eckart")
    with pytest.raises(ValueError, match="smoothing must be an odd"):
        gcc(np.ones(5), np.ones(5), weighting="scot", smoothing=4)
    with pytest.raises(ValueError, match="max_lag must be >= 0"):
        gcc(np.ones(5), np.ones(5), max_lag=-1)
    with pytest.raises(ValueError, match="corr must be 1-D"):
        best_lag(np.ones((2, 2)))
    with pytest.raises(ValueError, match="non-NaN"):
        best_lag([np.nan, np.nan])
    with pytest.raises(ValueError, match="interpolation must be one of"):
        best_lag([0.0, 1.0, 0.0], interpolation="cubic")
    with pytest.raises(ValueError, match="lags must have one value per element"):
        find_peaks([0.0, 1.0, 0.0], lags=[1, 2])
    with pytest.raises(ValueError, match="score must be a correlation"):
        false_alarm_probability(1.5, 10, 10)
    with pytest.raises(ValueError, match="m must be > 2"):
        false_alarm_probability(0.5, 2, 10)
    with pytest.raises(ValueError, match="n_lags must be >= 1"):
        false_alarm_probability(0.5, 10, 0)




@pytest.mark.parametrize("weighting", ["phat", "scot", "roth", "ht"])
def test_gcc_refuses_a_signal_without_spectrum(weighting):
    ones = np.random.default_rng(8).normal(size=64)
    for x, y, name in ((np.zeros(64), ones, "x"), (ones, np.zeros(64), "y")):
        with pytest.raises(ValueError, match=f"{name} is zero everywhere"):
            gcc(x, y, weighting=weighting)
    assert np.all(gcc(np.zeros(64), ones, weighting=None)[1] == 0)


def test_flag_options_must_be_bools():
    from tsconv import best_lag, find_peaks, lpc

    x = np.random.default_rng(9).normal(size=64)
    for call in (lambda: best_lag(x, subsample="no"), lambda: best_lag(x, absolute=1),
                 lambda: find_peaks(x, subsample="no"), lambda: lpc(x, 2, demean="no")):
        with pytest.raises(TypeError, match="must be True or False"):
            call()
    assert best_lag(x, subsample=np.bool_(False)).index == int(np.argmax(x))
