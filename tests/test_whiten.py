"""Whitening: LPC against statsmodels' Yule-Walker, pre-whitening, spectral, Whitener, PCA/ZCA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.signal
from statsmodels.regression.linear_model import yule_walker
from statsmodels.stats.diagnostic import acorr_ljungbox

import naive
from tsconv import _welch
from tsconv import Kernel, Whitener, apply, best_lag, lpc, ncc, pca_whiten, prewhiten, spectral_whiten, zca_whiten

RNG = np.random.default_rng(20261127)


def ar2(n: int, seed: int = 1) -> np.ndarray:
    """x_t = 1.2 x_{t-1} - 0.5 x_{t-2} + e_t (roots outside the unit circle), burn-in dropped."""
    e = np.random.default_rng(seed).standard_normal(n + 500)
    return scipy.signal.lfilter([1.0], [1.0, -1.2, 0.5], e)[500:]


def flatness(x: np.ndarray) -> float:
    """Spectral flatness of the Welch PSD (geometric / arithmetic mean; 1 for white noise)."""
    _, p = scipy.signal.welch(x, nperseg=256)
    p = p[1:-1]
    return float(np.exp(np.mean(np.log(p))) / np.mean(p))


# ---------------------------------------------------------------------------------------
# lpc
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [1, 2, 5, 12])
def test_lpc_equals_statsmodels_yule_walker_mle(order):
    # yule_walker(..., inv=True) returns (rho, sigma, Rinv) on statsmodels 0.14 and 0.15 alike
    # (result_object= exists from 0.15 on)
    x = ar2(2000) + 3.0
    k = lpc(x, order)
    rho = yule_walker(x, order, method="mle", inv=True)[0]
    assert isinstance(k, Kernel) and k.origin == 0 and k.coef[0] == 1.0 and len(k) == order + 1
    np.testing.assert_allclose(k.coef[1:], -rho, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(k.coef[1:], -naive.yule_walker_direct(x, order), rtol=1e-10, atol=1e-12)


def test_lpc_is_the_biased_not_the_adjusted_yule_walker():
    # pins which statsmodels estimator we equal: method="mle" (divide by n), not "adjusted"
    x = ar2(60, seed=4)
    adjusted = yule_walker(x, 3, method="adjusted", inv=True)[0]
    assert not np.allclose(lpc(x, 3).coef[1:], -adjusted, rtol=1e-6)


def test_lpc_recovers_ar2_coefficients_and_is_stable():
    k = lpc(ar2(50_000, seed=2), 2)
    np.testing.assert_allclose(k.coef, [1.0, -1.2, 0.5], atol=0.02)
    assert np.all(np.abs(k.roots()) > 1.0)  # the biased estimate is always minimum phase


def test_lpc_demean_option_and_pandas():
    x = ar2(500) + 10.0
    s = pd.Series(x)
    assert lpc(s, 2) == lpc(x, 2)
    x0 = x - x.mean()
    np.testing.assert_allclose(lpc(x0, 2, demean=False).coef, lpc(x, 2).coef, atol=1e-12)


# ---------------------------------------------------------------------------------------
# prewhiten
# ---------------------------------------------------------------------------------------
def test_prewhitened_ar2_passes_ljung_box():
    x = ar2(3000, seed=5)
    raw = acorr_ljungbox(x, lags=[10, 20])
    assert raw["lb_pvalue"].max() < 1e-10  # the AR(2) itself is far from white
    e = prewhiten(x, 2, mode="valid")
    assert e.shape == (2998,)
    lb = acorr_ljungbox(e, lags=[10, 20], model_df=2)
    assert lb["lb_pvalue"].min() > 0.05
    # the residuals' own LPC is (nearly) nothing left to predict, and the filter is yule_walker's
    rho = yule_walker(x, 2, method="mle", inv=True)[0]
    np.testing.assert_allclose(lpc(x, 2).coef[1:], -rho, rtol=1e-10)
    assert np.abs(lpc(e, 2).coef[1:]).max() < 0.05


def test_prewhiten_with_kernel_is_apply():
    x = RNG.standard_normal(100)
    k = Kernel([1.0, -0.6, 0.2])
    np.testing.assert_array_equal(prewhiten(x, kernel=k), apply(k, x))
    s = pd.Series(x, index=pd.RangeIndex(5, 105))
    out = prewhiten(s, kernel=k)
    assert isinstance(out, pd.Series) and out.index.equals(s.index) and np.isnan(out.iloc[:2]).all()


# ---------------------------------------------------------------------------------------
# spectral whitening and the Whitener
# ---------------------------------------------------------------------------------------
def test_spectral_whiten_flattens_magnitude_and_keeps_phase():
    x = ar2(4096)
    y = spectral_whiten(x)
    X, Y = np.fft.rfft(x), np.fft.rfft(y)
    np.testing.assert_allclose(np.abs(Y)[1:], np.sqrt(4096), rtol=1e-9)
    np.testing.assert_allclose(np.angle(Y[1:-1] * np.conj(X[1:-1])), 0.0, atol=1e-9)
    assert y.var() == pytest.approx(1.0, rel=0.01)


def test_spectral_whiten_smoothing_dtype_axis_and_pandas():
    x = ar2(8192)
    assert flatness(x) < 0.4
    assert flatness(spectral_whiten(x, 31)) > 0.95
    x32 = np.stack([x, 2 * x]).astype(np.float32)
    y = spectral_whiten(x32, 31)
    assert y.dtype == np.float32 and y.shape == x32.shape
    np.testing.assert_allclose(y[0], y[1], atol=1e-5)
    yt = spectral_whiten(x32.T, 31, axis=0)
    np.testing.assert_allclose(yt.T, y, atol=1e-6)
    s = pd.Series(x, index=pd.RangeIndex(3, 8195), name="x")
    ys = spectral_whiten(s)
    assert isinstance(ys, pd.Series) and ys.index.equals(s.index) and ys.name == "x"


@pytest.mark.parametrize("method", ["spectral", "lpc"])
def test_whitener_whitens_other_signals_of_the_same_process(method):
    w = Whitener(method, n_taps=129, order=8).fit(ar2(20_000, seed=7))
    other = ar2(20_000, seed=8)
    y = w.transform(other, mode="valid")
    assert flatness(y) > 0.9
    assert y.var() == pytest.approx(1.0, rel=0.1)
    # what is left of the autocorrelation: under 0.5% of the raw series' Ljung-Box statistic
    # (on 4000 samples: acorr_ljungbox computes the autocovariance by a direct O(n^2) sum)
    raw = acorr_ljungbox(other[:4000], lags=[5])["lb_stat"].iloc[0]
    assert acorr_ljungbox(y[:4000], lags=[5])["lb_stat"].iloc[0] < 0.005 * raw
    if method == "spectral":
        c = w.kernel.coef
        np.testing.assert_allclose(c, c[::-1], atol=1e-12)  # zero phase
        assert w.kernel.origin == 64
    else:
        k = lpc(ar2(20_000, seed=7), 8)
        np.testing.assert_allclose(w.kernel.coef / w.kernel.coef[0], k.coef, atol=1e-12)


def test_whitened_matched_filter_beats_plain_ncc_in_red_noise():
    # a weak white-ish snippet buried in strong red noise: whitening both sides (Whitener
    # fitted on the haystack) is the optimal detector; the plain NCC is swamped by the
    # low-frequency noise. Insert at a known offset and compare peak-to-sidelobe ratios.
    rng = np.random.default_rng(12)
    n, m, at = 40_000, 400, 23_456
    noise = scipy.signal.lfilter([1.0], [1.0, -0.99], rng.standard_normal(n)) * 3.0
    snippet = rng.standard_normal(m)
    hay = noise.copy()
    hay[at : at + m] += snippet
    plain = best_lag(ncc(snippet, hay))
    w = Whitener("lpc", order=4).fit(hay)
    white = best_lag(ncc(w.transform(snippet, mode="valid"), w.transform(hay, mode="valid")))
    assert white.index == at  # 'valid' on both sides: lags of the original signals
    assert white.psr > 2 * plain.psr


def test_whitener_errors():
    with pytest.raises(ValueError, match="not fitted"):
        Whitener().transform(np.ones(10))
    with pytest.raises(ValueError, match="n_taps must be odd"):
        Whitener(n_taps=64)
    with pytest.raises(ValueError, match="method must be one of"):
        Whitener("wiener")
    with pytest.raises(ValueError, match="at least n_taps"):
        Whitener(n_taps=257).fit(np.arange(100.0))
    with pytest.raises(ValueError, match="constant"):
        Whitener(n_taps=9).fit(np.ones(100))


@pytest.mark.parametrize("nperseg, nfft, noverlap", [(257, None, 129), (256, 512, 128), (33, 64, 20)])
def test_batched_welch_options_are_scipy_welch(monkeypatch, nperseg, nfft, noverlap):
    # noverlap and the two-sided density (scipy's return_onesided=False, its first
    # nfft // 2 + 1 bins), a batch of segments at a time
    monkeypatch.setattr(_welch, "_FRAMES_PER_BATCH", 7)
    x = np.random.default_rng(4).standard_normal(3000).cumsum()
    kw = dict(nperseg=nperseg, nfft=nfft, noverlap=noverlap, window="hann", detrend="constant", scaling="density")
    _, one = scipy.signal.welch(x, **kw)
    _, two = scipy.signal.welch(x, return_onesided=False, **kw)
    n = (nfft or nperseg) // 2 + 1
    np.testing.assert_allclose(_welch.welch_psd(x, nperseg, nfft, noverlap=noverlap), one, rtol=1e-12)
    np.testing.assert_allclose(_welch.welch_psd(x, nperseg, nfft, noverlap=noverlap, onesided=False), two[:n],
                               rtol=1e-12)


def test_batched_welch_max_segments_is_the_mean_of_scipys_segments():
    # max_segments keeps every ceil(segments / max_segments)-th segment: the mean of those
    # columns of scipy.signal.spectrogram (the same per-segment densities welch averages)
    x = np.random.default_rng(5).standard_normal(20_000).cumsum()
    _, _, per = scipy.signal.spectrogram(x, window="hann", nperseg=257, noverlap=129, detrend="constant",
                                         scaling="density", mode="psd")
    assert per.shape[1] == 155
    step = -(-155 // 40)
    expected = per[:, ::step].mean(axis=1)
    np.testing.assert_allclose(_welch.welch_psd(x, 257, noverlap=129, max_segments=40), expected, rtol=1e-12)
    np.testing.assert_allclose(_welch.welch_psd(x, 257, noverlap=129, max_segments=155),
                               per.mean(axis=1), rtol=1e-12)


def test_whitener_options():
    x = ar2(20_000, seed=11)
    # 'taps': unit-energy coefficients, the same filter as 'signal' up to its scale
    sig, taps = Whitener().fit(x), Whitener(normalize="taps").fit(x)
    assert np.sum(taps.kernel.coef**2) == pytest.approx(1.0, rel=1e-12)
    ratio = sig.kernel.coef / taps.kernel.coef
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)
    assert np.var(sig.transform(x, mode="valid")) == pytest.approx(1.0, rel=0.05)
    lpc_taps = Whitener("lpc", order=4, normalize="taps").fit(x).kernel.coef
    np.testing.assert_allclose(lpc_taps, lpc(x, 4).coef / np.linalg.norm(lpc(x, 4).coef), rtol=1e-12)
    # psd: the two-sided density (half of scipy's one-sided away from 0 and 1/2), floored;
    # segments advance by nperseg // 2
    w = Whitener(n_taps=129, floor=1e-3).fit(x)
    _, ref = scipy.signal.welch(x, nperseg=129, noverlap=65, window="hann", detrend="constant")
    ref[1:] /= 2
    np.testing.assert_allclose(w.psd, np.maximum(ref, 1e-3 * ref.max()), rtol=1e-12)
    f = np.array([0.0, 0.1, 0.25, 0.5])
    np.testing.assert_allclose(w.spectrum(f), np.interp(f, np.arange(65) / 129, w.psd), rtol=1e-15)
    # nperseg: Welch on its own segments, interpolated onto the filter's 129 frequencies
    w2 = Whitener(n_taps=129, nperseg=256).fit(x)
    assert w2.psd.shape == (129,) and len(w2.kernel) == 129
    _, ref2 = scipy.signal.welch(x, nperseg=256, window="hann", detrend="constant")
    ref2[1:-1] /= 2
    np.testing.assert_allclose(w2.psd, np.maximum(ref2, 1e-6 * ref2.max()), rtol=1e-12)
    assert flatness(w2.transform(x, mode="valid")) > 0.9
    # max_segments: the spectrum of every third segment (155 -> 52)
    w3 = Whitener(max_segments=60).fit(x)
    one = _welch.welch_psd(x, 257, noverlap=129, onesided=False, max_segments=60)
    np.testing.assert_allclose(w3.psd, np.maximum(one, 1e-6 * one.max()), rtol=1e-15)
    assert "normalize='taps'" in repr(taps) and "max_segments=60" in repr(w3)


def test_whitener_option_errors():
    with pytest.raises(ValueError, match="normalize must be one of"):
        Whitener(normalize="unit")
    with pytest.raises(ValueError, match="nperseg"):
        Whitener(nperseg=1)
    with pytest.raises(TypeError, match="max_segments"):
        Whitener(max_segments=2.5)
    with pytest.raises(ValueError, match="at least nperseg = 512"):
        Whitener(nperseg=512).fit(np.arange(300.0) % 7)
    with pytest.raises(ValueError, match="within every Welch segment"):
        Whitener(n_taps=9).fit(np.r_[np.zeros(101), 1.0])  # segments start at 0, 4, .., 92
    with pytest.raises(ValueError, match="call fit"):
        Whitener().spectrum([0.1])
    with pytest.raises(ValueError, match="call fit"):
        Whitener("lpc", order=2).fit(ar2(500, seed=1)).spectrum([0.1])
    with pytest.raises(ValueError, match=r"freqs must lie in \[0, 0.5\]"):
        Whitener(n_taps=9).fit(ar2(500, seed=1)).spectrum([0.1, 0.7])


# ---------------------------------------------------------------------------------------
# PCA / ZCA
# ---------------------------------------------------------------------------------------
def mixed(n: int = 5000) -> np.ndarray:
    A = np.array([[2.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.3, -0.2, 0.1]])
    return A @ RNG.standard_normal((3, n)) + np.array([[1.0], [-2.0], [5.0]])


def test_zca_output_covariance_is_identity_and_matrix_is_inverse_sqrt():
    X = mixed()
    Y, W = zca_whiten(X, return_matrix=True)
    np.testing.assert_allclose(np.cov(Y), np.eye(3), atol=1e-10)
    np.testing.assert_allclose(W, W.T, atol=1e-12)
    C = np.cov(X)
    np.testing.assert_allclose(W @ C @ W, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(np.linalg.inv(W @ W), C, rtol=1e-9)
    np.testing.assert_allclose(Y.mean(axis=1), 0.0, atol=1e-12)


def test_pca_whiten_equals_svd_principal_components():
    X = mixed()
    Y, W = pca_whiten(X, return_matrix=True)
    np.testing.assert_allclose(np.cov(Y), np.eye(3), atol=1e-10)
    # reference: SVD of the centred data (principal axes = left singular vectors)
    Xc = X - X.mean(axis=1, keepdims=True)
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)
    U = U * np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(3)])
    ref = (U / (s / np.sqrt(X.shape[1] - 1))).T @ Xc
    np.testing.assert_allclose(Y, ref, atol=1e-9)


def test_channel_whitening_dataframe_eps_and_errors():
    X = mixed(2000)
    df = pd.DataFrame(X.T, columns=["a", "b", "c"], index=pd.RangeIndex(10, 2010))
    z = zca_whiten(df)
    assert list(z.columns) == ["a", "b", "c"] and z.index.equals(df.index)
    np.testing.assert_allclose(z.to_numpy().T, zca_whiten(X), atol=1e-12)
    assert list(pca_whiten(df).columns) == ["pc0", "pc1", "pc2"]
    # nullable columns (Float64, Int64) as tsconv.apply reads them (refused as dtype object)
    nullable = df.astype({"a": "Float64", "b": "Float64"})
    np.testing.assert_allclose(zca_whiten(nullable).to_numpy(), z.to_numpy(), atol=1e-12)
    nullable.iloc[5, 1] = pd.NA
    # the index is the frame's (row, column) position, as the user holds it
    with pytest.raises(ValueError, match=r"X must be finite, got nan at index \(5, 1\)"):
        pca_whiten(nullable)
    singular = np.vstack([X[:2], X[0] + X[1]])
    with pytest.raises(ValueError, match="singular"):
        zca_whiten(singular)
    Y = zca_whiten(singular, eps=1e-3)
    assert np.isfinite(Y).all()
    with pytest.raises(ValueError, match="more samples than channels"):
        pca_whiten(np.ones((3, 3)))
    with pytest.raises(ValueError, match="X must be 2-D"):
        pca_whiten(np.ones(10))


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
def test_whitening_bad_input():
    with pytest.raises(ValueError, match="order must be < len"):
        lpc(np.arange(5.0), 5)
    with pytest.raises(ValueError, match="order must be >= 1"):
        lpc(np.arange(5.0), 0)
    with pytest.raises(ValueError, match="constant"):
        lpc(np.ones(10), 2)
    with pytest.raises(ValueError, match="x must be 1-D"):
        lpc(np.ones((2, 10)), 2)
    with pytest.raises(ValueError, match="x must be finite"):
        lpc(np.r_[1.0, np.nan, 2.0, 3.0], 1)
    with pytest.raises(ValueError, match="exactly one of order and kernel"):
        prewhiten(np.arange(10.0))
    with pytest.raises(ValueError, match="exactly one of order and kernel"):
        prewhiten(np.arange(10.0), 2, kernel=Kernel([1.0, -0.5]))
    with pytest.raises(TypeError, match="kernel must be a tsconv Kernel"):
        prewhiten(np.arange(10.0), kernel=[1.0, -0.5])
    with pytest.raises(ValueError, match="smoothing must be an odd"):
        spectral_whiten(np.arange(10.0), 4)
    with pytest.raises(ValueError, match="zero everywhere"):
        spectral_whiten(np.zeros(10))
    with pytest.raises(TypeError, match="must be real"):
        spectral_whiten(np.ones(10) + 1j)


@pytest.mark.parametrize("nperseg, nfft", [(257, None), (256, None), (256, 1024), (100, None), (33, 64)])
def test_batched_welch_is_scipy_welch(monkeypatch, nperseg, nfft):
    # Whitener.fit's spectrum: scipy.signal.welch's numbers (Hann, half overlap, constant
    # detrend, one-sided density, fs = 1), computed a batch of segments at a time
    monkeypatch.setattr(_welch, "_FRAMES_PER_BATCH", 7)  # many batches
    x = np.random.default_rng(3).standard_normal(5000).cumsum()
    _, expected = scipy.signal.welch(x, nperseg=nperseg, nfft=nfft, window="hann", detrend="constant", scaling="density")
    np.testing.assert_allclose(_welch.welch_psd(x, nperseg, nfft), expected, rtol=1e-12, atol=0)


def test_spectral_whiten_a_frame_column_by_column():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(np.cumsum(rng.normal(size=(256, 2)), axis=0), columns=["a", "b"],
                         index=pd.date_range("2000-01-01", periods=256, freq="D"))
    got = spectral_whiten(frame, 3)
    assert isinstance(got, pd.DataFrame) and got.index.equals(frame.index)
    for c in frame.columns:
        np.testing.assert_array_equal(got[c].to_numpy(), spectral_whiten(frame[c].to_numpy(), 3))


def test_numpy_scalars_are_numbers():
    x = np.cumsum(np.random.default_rng(6).normal(size=512))
    np.testing.assert_array_equal(spectral_whiten(x, floor=np.float32(1e-8)), spectral_whiten(x, floor=float(np.float32(1e-8))))
    assert Whitener(floor=np.float64(1e-6)).floor == 1e-6
    with pytest.raises(ValueError, match="floor must be a number in"):
        spectral_whiten(x, floor=True)
