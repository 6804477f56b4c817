"""Whitening: decorrelate a series in time (LPC, spectral) or channels in space (PCA, ZCA).

A whitening filter is a Kernel like any other: the LPC inverse filter
``[1, -a_1, ..., -a_p]`` is a causal lag polynomial fitted by Yule-Walker, and the
spectral whitener of :class:`Whitener` is a zero-phase FIR whose gain is
``1 / sqrt(PSD)``. Correlating whitened signals is the matched filter for a known
signal in coloured Gaussian noise (see ``docs/correlation.md``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.fft
import scipy.integrate
import scipy.ndimage
from numpy.typing import ArrayLike, NDArray

from tsconv._validation import _describe, as_axis, as_bool, as_float_array, as_int, check_option, is_real
from tsconv._welch import welch_psd
from tsconv.engine import Mode, _pandas_values, apply
from tsconv.kernel import Kernel

__all__ = ["lpc", "prewhiten", "spectral_whiten", "Whitener", "pca_whiten", "zca_whiten"]

WhitenMethod = Literal["spectral", "lpc"]
WhitenNorm = Literal["signal", "taps"]


# ---------------------------------------------------------------------------------------
# linear prediction
# ---------------------------------------------------------------------------------------
def _autocovariance(x: NDArray[np.float64], nlags: int) -> NDArray[np.float64]:
    """Biased autocovariance ``r_k = sum_t x_t x_{t+k} / n``, k = 0..nlags, by FFT."""
    n = x.size
    nfft = scipy.fft.next_fast_len(2 * n - 1, real=True)
    X = scipy.fft.rfft(x, nfft)
    return scipy.fft.irfft(X.real**2 + X.imag**2, nfft)[: nlags + 1] / n


def lpc(x: ArrayLike, order: int, *, demean: bool = True) -> Kernel:
    """Linear-prediction (AR) inverse filter fitted by Yule-Walker: a causal Kernel.

    Parameters
    ----------
    x : array_like or pandas.Series
        1-D, real, finite, not constant.
    order : int
        Number of AR coefficients ``p`` (``1 <= p < len(x)``).
    demean : bool, default True
        Subtract the mean before estimating the autocovariance.

    Returns
    -------
    Kernel
        ``Kernel([1, -a_1, ..., -a_p])`` (origin 0): applied to ``x`` it gives the
        one-step prediction errors ``e_t = x_t - sum_i a_i x_{t-i}``, the lfilter /
        statsmodels sign convention of an AR polynomial.

    Raises
    ------
    TypeError, ValueError
        For non-numeric, non-1-D, non-finite or constant ``x``, or a bad ``order``.

    See Also
    --------
    prewhiten : apply it.
    Whitener : fit on one signal, apply to others.

    Notes
    -----
    The biased autocovariance ``r_k = (1/n) sum_t x_t x_{t+k}`` is computed by FFT and
    the Toeplitz system ``R a = r`` solved by the Levinson-Durbin recursion
    (``statsmodels.tsa.stattools.levinson_durbin``), in
    O(n log n + p^2). This is exactly ``statsmodels.regression.linear_model.yule_walker(x,
    order, method="mle")`` (checked in the tests); the biased estimate always gives a
    stable (minimum-phase) filter. Reference: Brockwell & Davis, *Introduction to Time
    Series and Forecasting*, 3rd ed., section 5.1.1 and 2.5.3.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import lpc
    >>> x = np.array([1.0, 2.0, 0.5, -1.0, -2.0, -0.5, 1.0, 2.0])
    >>> k = lpc(x, 2)
    >>> k.coef.round(4)
    array([ 1.    , -0.7965,  0.6692])
    >>> from statsmodels.regression.linear_model import yule_walker
    >>> rho = yule_walker(x, 2, method="mle", inv=True)[0]  # (rho, sigma, Rinv) on every statsmodels
    >>> bool(np.allclose(k.coef[1:], -rho))
    True
    """
    arr = as_float_array(x.to_numpy() if isinstance(x, pd.Series) else x, "x", ndim=1, finite=True, keep_float32=False)
    order = as_int(order, "order", minimum=1)
    if order >= arr.size:
        raise ValueError(f"order must be < len(x) = {arr.size}, got {order}")
    if as_bool(demean, "demean"):
        arr = arr - arr.mean()
    r = _autocovariance(arr, order)
    if not r[0] > 0:
        raise ValueError("x is constant: its autocovariance is zero and no predictor exists")
    from statsmodels.tsa.stattools import levinson_durbin  # here: `import tsconv` does not load statsmodels

    _, a, _, _, _ = levinson_durbin(r, nlags=order, isacov=True)
    return Kernel(np.r_[1.0, -a])


def prewhiten(
    x: ArrayLike,
    order: int | None = None,
    *,
    kernel: Kernel | None = None,
    mode: Mode = "same",
) -> Any:
    """Pre-whiten a series by an AR inverse filter: the one-step prediction errors.

    Parameters
    ----------
    x : array_like, pandas.Series or pandas.DataFrame
        Real data (time on the last axis of an array, down the index of pandas).
    order : int or None
        Fit ``lpc(x, order)`` to ``x`` itself (1-D ``x`` only).
    kernel : Kernel or None
        Or apply this causal filter (e.g. fitted on other data). Give exactly one of
        ``order`` and ``kernel``.
    mode : {'same', 'valid', 'full'}, default 'same'
        As in :func:`apply`: ``'same'`` keeps the length with NaN for the first ``p``
        samples (their predictions need the past), ``'valid'`` drops them.

    Returns
    -------
    ndarray, pandas.Series or pandas.DataFrame
        The residuals ``e_t = x_t - sum_i a_i x_{t-i}``.

    Raises
    ------
    TypeError, ValueError
        For bad input, both or neither of ``order`` and ``kernel``, or an ``order``
        too large for ``x``.

    See Also
    --------
    lpc, Whitener, spectral_whiten

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import Kernel, prewhiten
    >>> prewhiten(np.array([1.0, 0.5, 0.25, 0.125]), kernel=Kernel([1.0, -0.5]))
    array([nan, 0., 0., 0.])
    """
    if (order is None) == (kernel is None):
        raise ValueError(f"give exactly one of order and kernel, got order={order!r} and kernel={kernel!r}")
    if kernel is None:
        kernel = lpc(x, order)  # type: ignore[arg-type]
    elif not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a tsconv Kernel, got {type(kernel).__name__}")
    return apply(kernel, x, mode=mode)


# ---------------------------------------------------------------------------------------
# spectral whitening
# ---------------------------------------------------------------------------------------
def spectral_whiten(x: ArrayLike, smoothing: int = 1, *, axis: int = -1, floor: float = 1e-8) -> Any:
    """Flatten the magnitude spectrum of a whole series, keeping its phase.

    Parameters
    ----------
    x : array_like, pandas.Series or pandas.DataFrame
        Real, finite data; n-D arrays are whitened along ``axis``, a DataFrame column by
        column (time down the index).
    smoothing : int, default 1
        Width (odd, in frequency bins) of the moving average of ``|X(f)|`` that the
        spectrum is divided by. ``1`` divides by ``|X(f)|`` itself: every frequency
        gets unit magnitude (the phase transform, PHAT); a wider average keeps the
        fine structure and flattens only the envelope.
    axis : int, default -1
        Time axis.
    floor : float, default 1e-8
        Magnitudes below ``floor * max`` are raised to it (no division by zero).

    Returns
    -------
    ndarray, pandas.Series or pandas.DataFrame
        Same shape and precision, scaled to about unit variance.

    Raises
    ------
    TypeError, ValueError
        For bad input, an even or non-positive ``smoothing``, a bad ``floor``.

    See Also
    --------
    Whitener : a fitted whitening filter, the same for every signal (use it for
        matching, where both sides must be whitened by the same filter).
    gcc : PHAT weighting inside a cross-correlation.

    Notes
    -----
    ``y = IRFFT[X(f) / S(f)] * sqrt(n)`` with ``S = max(smooth(|X|), floor * max|X|)``.
    The transform is circular over the whole series (a data-dependent operation, not
    a convolution: whitening the needle and the haystack separately by their own
    spectra is PHAT; for a matched filter fit a :class:`Whitener` on the haystack and
    apply it to both).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import spectral_whiten
    >>> x = np.cumsum(np.random.default_rng(0).standard_normal(4096))   # red noise
    >>> y = spectral_whiten(x)
    >>> bool(np.allclose(np.abs(np.fft.rfft(y))[1:-1], np.sqrt(4096)))
    True
    """
    smoothing = as_int(smoothing, "smoothing", minimum=1)
    if smoothing % 2 == 0:
        raise ValueError(f"smoothing must be an odd number of bins, got {smoothing}")
    if not (is_real(floor) and 0 < floor < 1):
        raise ValueError(f"floor must be a number in (0, 1), got {_describe(floor)}")
    if isinstance(x, pd.Series):
        vals = spectral_whiten(x.to_numpy(), smoothing, floor=floor)
        return pd.Series(vals, index=x.index, name=x.name)
    if isinstance(x, pd.DataFrame):  # one series per column, time down the index
        vals = spectral_whiten(x.to_numpy(), smoothing, axis=0, floor=floor)
        return pd.DataFrame(vals, index=x.index, columns=x.columns)
    arr = as_float_array(x, "x", finite=True)
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension, got a scalar")
    ax = as_axis(axis, arr.ndim)
    n = arr.shape[ax]
    if n < 2:
        raise ValueError(f"x must have at least 2 samples along axis {axis}, got {n}")
    X = scipy.fft.rfft(arr, axis=ax)
    mag = np.abs(X)
    if smoothing > 1:
        mag = scipy.ndimage.uniform_filter1d(mag, smoothing, axis=ax, mode="reflect")
    top = mag.max(axis=ax, keepdims=True)
    if np.any(top == 0):
        raise ValueError("x is zero everywhere (along the time axis): it has no spectrum to flatten")
    X /= np.maximum(mag, floor * top)
    y = scipy.fft.irfft(X, n, axis=ax) * np.sqrt(n)
    return y.astype(arr.dtype, copy=False)


class Whitener:
    """A whitening filter fitted on one signal and applied to others (a Kernel).

    Parameters
    ----------
    method : {'spectral', 'lpc'}, default 'spectral'
        ``'spectral'``: a zero-phase FIR of ``n_taps`` whose gain is
        ``1 / sqrt(S(f))``, the power spectral density ``S`` estimated by Welch's method;
        ``'lpc'``: the causal LPC inverse filter of ``order`` (:func:`lpc`).
    n_taps : int, default 257
        Length (odd) of the spectral whitening filter; also Welch's segment length
        unless ``nperseg`` is given. More taps resolve narrower spectral features.
    order : int, default 16
        LPC order (``method='lpc'``).
    floor : float, default 1e-6
        PSD values below ``floor * max(PSD)`` are raised to it (bounded gain).
    normalize : {'signal', 'taps'}, default 'signal'
        Scale of the fitted filter. ``'signal'``: the fitted signal comes out with about
        unit variance. ``'taps'``: the coefficients have unit energy (``sum h_k^2 = 1``),
        so white noise keeps its variance and the scale does not depend on the loudness
        of the fitted signal (:class:`tsconv.audio.Matcher` levels its whitened tracks
        itself and uses this).
    nperseg : int or None, default None
        Welch's segment length (``method='spectral'``; None: ``n_taps``). When it differs
        from ``n_taps`` the spectrum is interpolated linearly onto the filter's grid.
    max_segments : int or None, default None
        Use at most this many Welch segments, evenly spaced over the signal (None: all).
        The spectrum of a long signal does not need every segment: the matcher uses
        4000 per track (a 5-minute track at 8 kHz has about 19,000).

    Attributes
    ----------
    kernel : Kernel
        The fitted filter, scaled as ``normalize`` says (``None`` before :meth:`fit`).
    psd : ndarray
        ``method='spectral'``: the fitted two-sided power spectral density ``S`` (floored)
        at the frequencies ``k / nperseg``, ``k = 0 .. nperseg // 2`` (cycles per sample).
        The signal's variance is the integral of ``S`` over ``[-1/2, 1/2]``;
        ``scipy.signal.welch`` returns ``2 S`` (one-sided) except at 0 and 1/2.

    See Also
    --------
    spectral_whiten, lpc, ncc

    Notes
    -----
    For a known signal ``s`` in stationary Gaussian noise of spectrum ``P(f)`` the
    optimal (maximum-SNR) detector correlates ``P^{-1/2} x`` with ``P^{-1/2} s``: the
    whitened matched filter (Van Trees, *Detection, Estimation and Modulation Theory*
    I, section 4.3). Fit the Whitener on the haystack (the noise), transform both
    needle and haystack with it, then run :func:`ncc`. With ``mode='valid'`` both
    outputs lose the same ``len(kernel) - 1 - origin`` leading samples, so lags found
    on whitened signals are lags of the original ones.

    The spectral filter samples ``1 / sqrt(S)`` on ``n_taps`` frequencies, turns it into
    taps by an inverse real FFT (centred: zero phase) and tapers them by a Hann window.
    Welch's segments (Hann) advance by ``nperseg // 2`` samples.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import Whitener
    >>> rng = np.random.default_rng(0)
    >>> noise = np.convolve(rng.standard_normal(20_000), [1.0, 0.9, 0.5], "same")
    >>> w = Whitener("lpc", order=8).fit(noise)
    >>> e = w.transform(noise, mode="valid")
    >>> bool(abs(np.corrcoef(e[1:], e[:-1])[0, 1]) < 0.05)
    True
    >>> s = Whitener(normalize="taps").fit(noise)
    >>> bool(np.isclose(np.sum(s.kernel.coef ** 2), 1.0)), s.psd.shape
    (True, (129,))
    """

    def __init__(self, method: WhitenMethod = "spectral", *, n_taps: int = 257, order: int = 16, floor: float = 1e-6,
                 normalize: WhitenNorm = "signal", nperseg: int | None = None, max_segments: int | None = None) -> None:
        self.method = check_option(method, WhitenMethod, "method")
        self.n_taps = as_int(n_taps, "n_taps", minimum=3)
        if self.n_taps % 2 == 0:
            raise ValueError(f"n_taps must be odd, got {n_taps}")
        self.order = as_int(order, "order", minimum=1)
        if not (is_real(floor) and 0 < floor < 1):
            raise ValueError(f"floor must be a number in (0, 1), got {_describe(floor)}")
        self.floor = float(floor)
        self.normalize = check_option(normalize, WhitenNorm, "normalize")
        self.nperseg = None if nperseg is None else as_int(nperseg, "nperseg", minimum=2)
        self.max_segments = None if max_segments is None else as_int(max_segments, "max_segments", minimum=1)
        self.kernel: Kernel | None = None
        self.psd: NDArray[np.float64] | None = None

    def __repr__(self) -> str:
        extra = "".join(f", {k}={getattr(self, k)!r}" for k in ("nperseg", "max_segments") if getattr(self, k) is not None)
        return (f"Whitener({self.method!r}, n_taps={self.n_taps}, order={self.order}, floor={self.floor}, "
                f"normalize={self.normalize!r}{extra})")

    def fit(self, x: ArrayLike) -> Whitener:
        """Estimate the filter from ``x`` (1-D, finite, not constant); returns ``self``."""
        arr = as_float_array(x.to_numpy() if isinstance(x, pd.Series) else x, "x", ndim=1, finite=True, keep_float32=False)
        if self.method == "lpc":
            k = lpc(arr, self.order)
            if self.normalize == "taps":
                self.kernel = k / float(np.sqrt(np.sum(k.coef**2)))
            else:
                e = apply(k, arr, mode="valid")
                sd = float(np.std(e))
                self.kernel = k / sd if sd > 0 else k
            return self
        seg = self.n_taps if self.nperseg is None else self.nperseg
        if arr.size < seg:
            name = "n_taps" if self.nperseg is None else "nperseg"
            raise ValueError(f"x must have at least {name} = {seg} samples, got {arr.size}")
        if np.ptp(arr) == 0:
            raise ValueError("x is constant: its spectrum cannot be whitened")
        # two-sided density; segments advance by seg // 2 (scipy's default hop is seg - seg // 2)
        psd = welch_psd(arr, seg, noverlap=seg - seg // 2, onesided=False, max_segments=self.max_segments)
        top = psd.max()
        if not top > 0:
            raise ValueError(f"x is constant within every Welch segment of {seg} samples: its spectrum cannot be whitened")
        psd = np.maximum(psd, self.floor * top)
        f = np.arange(psd.size) / seg
        n = self.n_taps
        psd_n = psd if seg == n else np.interp(np.arange(n // 2 + 1) / n, f, psd)
        gain = 1.0 / np.sqrt(psd_n)
        # zero-phase FIR by frequency sampling, Hann-tapered
        h = np.fft.fftshift(scipy.fft.irfft(gain, n))
        h *= np.hanning(n + 2)[1:-1]
        if self.normalize == "taps":
            h = h / np.sqrt(np.sum(h**2))
        else:
            # the fitted signal's variance is the integral of S |H|^2 over [-1/2, 1/2]
            H = np.abs(scipy.fft.rfft(h, 4 * n))
            grid = np.linspace(0, 0.5, H.size)
            var = 2.0 * scipy.integrate.trapezoid(np.interp(grid, f, psd) * H**2, grid)
            h = h / np.sqrt(var)
        self.psd = psd
        self.kernel = Kernel(h, origin=n // 2)
        return self

    def spectrum(self, freqs: ArrayLike) -> NDArray[np.float64]:
        """The fitted (floored) density ``psd`` at ``freqs`` (cycles per sample, 0 to 1/2), linearly interpolated.

        The spectral weighting of the matched filter: dividing a signal's Fourier
        transform by ``sqrt(spectrum(f))`` whitens it over its whole length, without the
        finite filter's taper (:class:`tsconv.audio.Matcher` weights clips so).

        Raises
        ------
        ValueError
            Before :meth:`fit`, for ``method='lpc'``, or for frequencies outside ``[0, 1/2]``.
        """
        if self.psd is None:
            raise ValueError("this Whitener has no fitted spectrum: call fit(x) first (method='spectral')")
        f = as_float_array(freqs, "freqs", finite=True, keep_float32=False)
        if f.size and not (f.min() >= 0 and f.max() <= 0.5):
            raise ValueError(f"freqs must lie in [0, 0.5] cycles per sample, got values from {f.min()} to {f.max()}")
        seg = self.n_taps if self.nperseg is None else self.nperseg
        return np.interp(f, np.arange(self.psd.size) / seg, self.psd)

    def transform(self, x: ArrayLike, *, mode: Mode = "same") -> Any:
        """Apply the fitted filter (see :func:`apply` for ``mode``; pandas kept)."""
        if self.kernel is None:
            raise ValueError("this Whitener is not fitted yet: call fit(x) first")
        return apply(self.kernel, x, mode=mode)

    def fit_transform(self, x: ArrayLike, *, mode: Mode = "same") -> Any:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x, mode=mode)


# ---------------------------------------------------------------------------------------
# decorrelation of channels
# ---------------------------------------------------------------------------------------
def _channel_whiten(X: Any, eps: float, zca: bool, return_matrix: bool) -> Any:
    frame = isinstance(X, pd.DataFrame)
    # a frame's nullable columns (Float64, Int64) as the engine reads them: NA is NaN;
    # checked as the user holds it (a bad value's index is (row, column)), then transposed
    arr = as_float_array(_pandas_values(X, "X") if frame else X, "X", ndim=2, finite=True, keep_float32=False)
    if frame:
        arr = np.ascontiguousarray(arr.T)
    k, n = arr.shape
    if n < k + 1:
        raise ValueError(f"X needs more samples than channels (rows are channels, time along the last axis), got shape {arr.shape}")
    if not (is_real(eps) and eps >= 0):
        raise ValueError(f"eps must be a number >= 0, got {_describe(eps)}")
    mean = arr.mean(axis=1, keepdims=True)
    xc = arr - mean
    cov = xc @ xc.T / (n - 1)
    lam, vec = np.linalg.eigh(cov)
    lam, vec = lam[::-1], vec[:, ::-1]  # largest variance first
    # deterministic signs: the largest loading of every eigenvector is positive
    big = np.argmax(np.abs(vec), axis=0)
    vec = vec * np.sign(vec[big, np.arange(k)])
    tol = lam[0] * k * np.finfo(float).eps * 10
    if eps == 0 and lam[-1] <= tol:
        raise ValueError(f"the channel covariance is singular (smallest eigenvalue {lam[-1]:.3g}); pass eps > 0 to regularise")
    W = (vec / np.sqrt(lam + eps)).T  # PCA: rotate onto the eigenvectors, rescale
    if zca:
        W = vec @ W  # ZCA: rotate back, the whitening closest to the identity
    out = W @ xc
    if frame:
        cols = X.columns if zca else [f"pc{i}" for i in range(k)]
        out = pd.DataFrame(out.T, index=X.index, columns=cols)
    return (out, W) if return_matrix else out


def pca_whiten(X: ArrayLike, *, eps: float = 0.0, return_matrix: bool = False) -> Any:
    """Decorrelate channels by principal components: rotate onto the eigenvectors, rescale.

    Parameters
    ----------
    X : array_like (channels, samples) or pandas.DataFrame (samples x channels)
        Real, finite; more samples than channels.
    eps : float, default 0.0
        Added to every eigenvalue (regularisation; needed for singular covariances).
    return_matrix : bool, default False
        Also return the whitening matrix ``W`` (``out = W @ (X - mean)``).

    Returns
    -------
    ndarray or pandas.DataFrame, and optionally W
        Principal components, largest variance first, each with unit variance
        (covariance with ``ddof=1`` is the identity when ``eps=0``).

    Raises
    ------
    TypeError, ValueError
        For bad input, too few samples, a singular covariance with ``eps=0``.

    See Also
    --------
    zca_whiten : the same decorrelation rotated back onto the original channels.

    Notes
    -----
    With ``C = E diag(lambda) E^T`` (``ddof=1``), ``W_pca = diag(lambda + eps)^{-1/2} E^T``.
    Each eigenvector's largest entry is made positive (a deterministic sign).
    Reference: Kessy, Lewin & Strimmer, "Optimal whitening and decorrelation",
    The American Statistician 72(4) (2018).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import pca_whiten
    >>> rng = np.random.default_rng(0)
    >>> X = np.array([[2.0, 0.0], [1.0, 0.5]]) @ rng.standard_normal((2, 1000))
    >>> bool(np.allclose(np.cov(pca_whiten(X)), np.eye(2)))
    True
    """
    return _channel_whiten(X, eps, zca=False, return_matrix=return_matrix)


def zca_whiten(X: ArrayLike, *, eps: float = 0.0, return_matrix: bool = False) -> Any:
    """Decorrelate channels with the least change (Mahalanobis / ZCA whitening).

    Parameters
    ----------
    X : array_like (channels, samples) or pandas.DataFrame (samples x channels)
        Real, finite; more samples than channels.
    eps : float, default 0.0
        Added to every eigenvalue.
    return_matrix : bool, default False
        Also return ``W = C^{-1/2}`` (``out = W @ (X - mean)``).

    Returns
    -------
    ndarray or pandas.DataFrame, and optionally W
        Whitened channels (same order and names), covariance the identity.

    Raises
    ------
    TypeError, ValueError
        As :func:`pca_whiten`.

    See Also
    --------
    pca_whiten

    Notes
    -----
    ``W_zca = E diag(lambda + eps)^{-1/2} E^T = C^{-1/2}``: symmetric, and of all
    whitening matrices the one whose output is closest to the input (Kessy et al. 2018).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import zca_whiten
    >>> rng = np.random.default_rng(0)
    >>> X = np.array([[2.0, 0.0], [1.0, 0.5]]) @ rng.standard_normal((2, 1000))
    >>> Y, W = zca_whiten(X, return_matrix=True)
    >>> bool(np.allclose(np.cov(Y), np.eye(2))), bool(np.allclose(W, W.T))
    (True, True)
    """
    return _channel_whiten(X, eps, zca=True, return_matrix=return_matrix)
