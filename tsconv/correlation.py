"""Cross-correlation: plain, normalized and generalized, with lags and peak finding.

Cross-correlation is convolution with the reversed (conjugated) kernel:
``xcorr(x, y)`` is ``apply(Kernel(y).reversed(), x)`` with the lags of
``scipy.signal.correlation_lags``. The normalized cross-correlation ``ncc`` is the
Pearson correlation of a needle with every window of a haystack, the matched filter
that ignores gain and DC offset; ``false_alarm_probability`` turns its best value into
a calibrated probability of a chance match. See ``docs/correlation.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import scipy.fft
import scipy.ndimage
import scipy.optimize
import scipy.signal
import scipy.special
from numpy.typing import ArrayLike, NDArray

from tsconv._compat import beta_sf
from tsconv._ncc import NCCPlan
from tsconv._validation import _describe, as_bool, as_float_array, as_int, as_workers, check_option, first_nonfinite

__all__ = [
    "xcorr",
    "correlation_lags",
    "ncc",
    "gcc",
    "Peak",
    "find_peaks",
    "best_lag",
    "false_alarm_probability",
]

Mode = Literal["full", "valid", "same"]
XcorrMethod = Literal["auto", "direct", "fft"]
Weighting = Literal["phat", "scot", "roth", "ht"]
Interpolation = Literal["parabolic", "sinc"]
Tail = Literal["upper", "both"]

# Past this many taps numpy's direct correlation hits the multithreaded-BLAS trap
# (8-20x slower than its multiply-adds, docs/benchmarks.md): 'auto' never picks 'direct' there.
MAX_DIRECT = 2048


# ---------------------------------------------------------------------------------------
# plain cross-correlation
# ---------------------------------------------------------------------------------------
def _as_numeric(x: ArrayLike, name: str) -> NDArray[Any]:
    """Real or complex, finite, non-empty array (int -> float64, float32 kept)."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {_describe(x)}")
    arr = np.asarray(x)
    if arr.dtype.kind == "c":
        if arr.size == 0:
            raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite, got a NaN or infinity")
        return arr
    return as_float_array(arr, name, finite=True)


def xcorr(x: ArrayLike, y: ArrayLike, mode: Mode = "full", method: XcorrMethod = "auto") -> NDArray[Any]:
    """Cross-correlation of two series: ``z[k] = sum_n x[n + k] * conj(y[n])``.

    Parameters
    ----------
    x, y : array_like
        Real or complex, finite, non-empty, with the same number of dimensions
        (n-D input is correlated in every dimension, as by ``scipy.signal.correlate``).
    mode : {'full', 'valid', 'same'}, default 'full'
        Output size, as in ``scipy.signal.correlate``; the lag of each output is given
        by :func:`correlation_lags`.
    method : {'auto', 'direct', 'fft'}, default 'auto'
        ``'auto'`` uses scipy's cost model but never the direct sum when both inputs
        exceed 2048 samples (multithreaded BLAS makes it erratic there).

    Returns
    -------
    ndarray
        Equal to ``scipy.signal.correlate(x, y, mode, method)``: complex input is
        conjugated, float32 input gives float32.

    Raises
    ------
    TypeError
        If an input is not numeric.
    ValueError
        For empty or non-finite input, mismatched dimensions, an unknown mode or
        method, or ``mode='valid'`` where neither input contains the other.

    See Also
    --------
    correlation_lags : the lag of each output.
    ncc : the normalized (Pearson) version, for finding a snippet in a long series.
    gcc : generalized cross-correlation (PHAT, SCOT, ...).

    Notes
    -----
    Cross-correlation is convolution with the reversed, conjugated sequence,
    ``xcorr(x, y) = x * conj(y[::-1])``; as a lag polynomial it is
    ``Kernel(y).reversed()`` applied to ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import xcorr, correlation_lags
    >>> x = np.array([0.0, 0.0, 1.0, 2.0, 0.0])
    >>> y = np.array([1.0, 2.0])
    >>> z = xcorr(x, y)
    >>> z
    array([0., 0., 2., 5., 2., 0.])
    >>> int(correlation_lags(x.size, y.size)[np.argmax(z)])   # y starts at x[2]
    2
    """
    mode = check_option(mode, Mode, "mode")
    method = check_option(method, XcorrMethod, "method")
    a = _as_numeric(x, "x")
    b = _as_numeric(y, "y")
    if a.ndim != b.ndim:
        raise ValueError(f"x and y must have the same number of dimensions, got {a.ndim}-D and {b.ndim}-D")
    if mode == "valid" and not (
        all(p >= q for p, q in zip(a.shape, b.shape)) or all(p <= q for p, q in zip(a.shape, b.shape))
    ):
        raise ValueError(f"mode='valid' needs one input at least as large as the other in every dimension, got shapes {a.shape} and {b.shape}")
    if method == "auto":
        if min(a.size, b.size) > MAX_DIRECT:
            method = "fft"
        else:
            method = scipy.signal.choose_conv_method(a, b, mode=mode)
    return scipy.signal.correlate(a, b, mode=mode, method=method)


def correlation_lags(n_x: int, n_y: int, mode: Mode = "full") -> NDArray[np.int64]:
    """The lag of each output of ``xcorr(x, y, mode)`` for 1-D inputs of these lengths.

    Parameters
    ----------
    n_x, n_y : int
        Lengths of ``x`` and ``y`` (>= 1).
    mode : {'full', 'valid', 'same'}, default 'full'

    Returns
    -------
    ndarray of int
        Equal to ``scipy.signal.correlation_lags(n_x, n_y, mode)``. A peak at lag
        ``k`` means ``y[n]`` lines up with ``x[n + k]`` (``y`` is delayed by ``k``).

    Raises
    ------
    TypeError, ValueError
        For non-integer or non-positive lengths or an unknown mode.

    Examples
    --------
    >>> from tsconv import correlation_lags
    >>> correlation_lags(4, 2)
    array([-1,  0,  1,  2,  3])
    >>> correlation_lags(4, 2, mode="valid")
    array([0, 1, 2])
    """
    n_x = as_int(n_x, "n_x", minimum=1)
    n_y = as_int(n_y, "n_y", minimum=1)
    mode = check_option(mode, Mode, "mode")
    return scipy.signal.correlation_lags(n_x, n_y, mode=mode).astype(np.int64)


# ---------------------------------------------------------------------------------------
# normalized cross-correlation
# ---------------------------------------------------------------------------------------
def _check_needle(needle: ArrayLike) -> NDArray[np.floating]:
    q = as_float_array(needle, "needle", ndim=1, finite=True)
    if q.size < 2:
        raise ValueError(f"needle must have at least 2 samples, got {q.size}")
    q64 = q.astype(np.float64)
    if np.ptp(q64) == 0:
        raise ValueError(f"needle is constant (every sample {float(q64[0])!r}): its correlation with anything is undefined")
    return q


def _haystack_dtype(h: np.ndarray) -> np.dtype[Any]:
    kind = h.dtype.kind
    if kind == "c":
        raise TypeError(f"haystack must be real, got complex dtype {h.dtype}")
    if kind not in "iuf":
        raise TypeError(f"haystack must be real numeric, got dtype {h.dtype}")
    return np.dtype(np.float32) if kind == "f" and h.dtype.itemsize <= 4 else np.dtype(np.float64)


def _check_dtypes(needle_dtype: np.dtype[Any], hay_dtype: np.dtype[Any]) -> None:
    if needle_dtype != hay_dtype:
        raise TypeError(
            f"needle and haystack must have the same precision, got needle {needle_dtype} and haystack "
            f"{hay_dtype} (integers count as float64); cast one of them, e.g. haystack.astype(np.float32)"
        )


def _finite_chunk(chunk: NDArray[Any], offset: int, dtype: np.dtype[Any]) -> NDArray[np.floating]:
    c = np.asarray(chunk).astype(dtype, copy=False)
    bad = first_nonfinite(c)
    if bad is not None:
        raise ValueError(f"haystack must be finite, got {c[bad]} at index {offset + bad[0]}")
    return c


def _iter_chunks(chunks: Iterable[Any], dtype: np.dtype[Any]) -> Iterator[NDArray[np.floating]]:
    """Validated 1-D chunks of a streamed haystack, all of the needle's precision."""
    offset = 0
    for i, chunk in enumerate(chunks):
        c = as_float_array(chunk, f"haystack chunk {i}", ndim=1, allow_empty=True)
        _check_dtypes(dtype, c.dtype)
        yield _finite_chunk(c, offset, c.dtype)
        offset += c.size


def ncc(
    needle: ArrayLike,
    haystack: ArrayLike | Iterable[ArrayLike],
    *,
    block: int | None = None,
    workers: int | None = None,
) -> Any:
    """Normalized cross-correlation: the Pearson correlation of ``needle`` with every window.

    ``ncc(needle, haystack)[k]`` is the Pearson correlation between ``needle`` and
    ``haystack[k : k + m]`` (``m = len(needle)``), for every ``k`` in
    ``0 .. N - m`` ('valid' lags). It is invariant to the gain and DC offset of either
    input, lies in ``[-1, 1]``, and equals 1 where the haystack holds an exact copy of
    the needle up to gain and offset.

    Parameters
    ----------
    needle : array_like
        1-D, finite, not constant, at least 2 samples. float32 stays float32 (the
        working precision); integers are float64.
    haystack : array_like, numpy.memmap, pandas.Series or iterable of array_like
        1-D, finite, at least ``len(needle)`` samples, of the needle's precision (a
        float64 needle with a float32 haystack is an error: cast one of them). An
        array or memory map is read batch by batch (a memory map is never loaded
        whole); any other iterable (a generator of chunks, a file reader) is streamed:
        chunks of any sizes, with a working set of one batch of FFT blocks (about
        2M samples). The output does not depend on how the haystack is chunked.
    block : int or None, default None
        Overlap-save FFT length, at least ``2 * len(needle)``. ``None``: the power of
        two at or above eight needle lengths (at least 1024; 2^18 for a 3 s needle at
        8 kHz), which wastes at most 1/8 of each block on the overlap.
    workers : int or None, default None
        Threads. 1: everything in the calling thread. More: the haystack (an array, a
        memory map or a stream, read in order) is cut into batches of blocks, and that
        many batches are correlated and normalized at once (about 2x faster on two
        cores). ``None``: 2 if the machine has two cores or more, else 1; ``-1``: every
        core (``-2`` all but one, as in :mod:`scipy.fft`). The result does not depend on
        ``workers``.

    Returns
    -------
    ndarray or pandas.Series
        Length ``N - m + 1``, of the working precision. For a Series haystack, a Series
        on the index of the window starts, ``haystack.index[: N - m + 1]``.

    Raises
    ------
    TypeError
        For non-numeric or complex input, or needle and haystack of different precision.
    ValueError
        For a needle that is not 1-D, too short or constant, a haystack shorter than the
        needle or not 1-D, a NaN or infinity (the error gives its index), or a bad ``block``.

    See Also
    --------
    best_lag : the best window, refined below one sample, with its peak-to-sidelobe ratio.
    false_alarm_probability : how likely the best value is by chance.
    spectral_whiten, Whitener : whiten both inputs first for the optimal matched filter.
    xcorr : the plain (unnormalized) cross-correlation.

    Notes
    -----
    With the needle centred and scaled to unit norm, ``q = (y - ybar) / ||y - ybar||``,

    .. math:: r_k = \\frac{\\sum_j q_j x_{k+j}}{\\sqrt{S2_k - S1_k^2 / m}},

    where ``S1`` and ``S2`` are the sliding window sums of ``x`` and ``x**2``. The
    numerator is computed by overlap-save: blocks of ``L`` haystack samples, a batch of
    them transformed at once by ``scipy.fft.rfft`` (2-D), multiplied by the needle's
    conjugate spectrum and transformed back; each block yields ``L - m + 1`` outputs,
    so the cost is O(N log L). Each block is shifted by its own mean first (the NCC
    does not see it, and it keeps the arithmetic away from cancellation). The window
    sums are prefix sums in float64 restarted in every block, so their rounding error
    is bounded by the block length, not by ``N`` (Lewis 1995). Windows whose variance
    is below the float64 rounding floor of their block (constant stretches, digital
    silence) give 0, never NaN or infinity.

    Precision: float64 input gives about 1e-12 absolute agreement with the lag-by-lag
    definition. float32 input keeps float32 through the FFTs (2-3x faster); its error
    is about ``1e-6 * sqrt(E_block / E_window)``, where the energies are those of the
    FFT block and of the window around the lag (1e-6 to 1e-5 for stationary signals;
    larger for a quiet window next to a loud passage in the same block).

    Under the null hypothesis (needle independent of white-noise haystack), each value
    is distributed as a Pearson correlation of ``m`` pairs: mean 0, variance about
    ``1 / m`` (:func:`false_alarm_probability`).

    References
    ----------
    J. P. Lewis, "Fast normalized cross-correlation", Vision Interface (1995).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import ncc
    >>> rng = np.random.default_rng(0)
    >>> haystack = rng.standard_normal(1000)
    >>> needle = 3.0 * haystack[400:450] + 7.0        # gain and offset do not matter
    >>> r = ncc(needle, haystack)
    >>> r.shape, int(np.argmax(r)), round(float(r.max()), 9)
    ((951,), 400, 1.0)
    """
    q = _check_needle(needle)
    threads = as_workers(workers)
    workers = min(2, os.cpu_count() or 1) if threads is None else threads
    if isinstance(haystack, pd.Series):
        values = ncc(q, haystack.to_numpy(), block=block, workers=workers)
        return pd.Series(values, index=haystack.index[: values.size], name=haystack.name)
    if isinstance(haystack, (pd.DataFrame, str, bytes, dict)):
        raise TypeError(f"haystack must be a 1-D array, memory map, Series or iterable of chunks, got {type(haystack).__name__}")
    m = q.size
    if isinstance(haystack, (np.ndarray, list, tuple)) or not isinstance(haystack, Iterable):
        h = haystack if isinstance(haystack, np.ndarray) else as_float_array(haystack, "haystack")
        dtype = _haystack_dtype(h)
        if h.ndim != 1:
            raise ValueError(f"haystack must be 1-D, got {h.ndim}-D array of shape {h.shape}")
        _check_dtypes(q.dtype, dtype)
        if h.shape[0] < m:
            raise ValueError(f"needle must not be longer than haystack, got needle of {m} and haystack of {h.shape[0]} samples")
        plan = _plan(q, block, workers)
        out = np.empty(h.shape[0] - m + 1, dtype=dtype)
        try:
            plan.run_into(h, lambda piece, offset: _finite_chunk(piece, offset, dtype), out)
        finally:
            plan.close()
        return out
    # an iterable of chunks: streamed
    plan = _plan(q, block, workers)
    try:
        pieces = [vals for _, vals in plan.blocks(_iter_chunks(haystack, q.dtype))]
    finally:
        plan.close()
    if not pieces:
        raise ValueError(f"needle must not be longer than haystack, got needle of {m} samples and a shorter streamed haystack")
    return np.concatenate(pieces)


def _plan(q: NDArray[np.floating], block: int | None, workers: int) -> NCCPlan:
    if block is not None:
        block = as_int(block, "block", minimum=2 * q.size)
    return NCCPlan(q, block=block, workers=workers)


# ---------------------------------------------------------------------------------------
# generalized cross-correlation
# ---------------------------------------------------------------------------------------
def gcc(
    x: ArrayLike,
    y: ArrayLike,
    weighting: Weighting | None = "phat",
    max_lag: int | None = None,
    *,
    smoothing: int = 9,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Generalized cross-correlation (Knapp & Carter 1976): a frequency-weighted xcorr.

    Parameters
    ----------
    x, y : array_like
        1-D, real, finite, non-empty. The result peaks at the lag ``k`` where
        ``x[n + k]`` matches ``y[n]`` (the sign convention of :func:`xcorr`).
    weighting : {'phat', 'scot', 'roth', 'ht', None}, default 'phat'
        Weight ``psi(f)`` applied to the cross-spectrum ``G_xy = X conj(Y)``:
        ``'phat'`` ``1/|G_xy|`` (phase transform: keeps only the phase);
        ``'scot'`` ``1/sqrt(G_xx G_yy)`` (smoothed coherence transform);
        ``'roth'`` ``1/G_yy`` (Roth processor; ``y`` is the reference);
        ``'ht'`` ``|gamma|^2 / (|G_xy| (1 - |gamma|^2))`` (Hannan-Thomson, the
        maximum-likelihood weighting, ``gamma`` the coherence);
        ``None``: no weighting, the plain :func:`xcorr`.
    max_lag : int or None, default None
        Keep lags ``-max_lag .. max_lag`` only (``None``: every lag of ``'full'``).
    smoothing : int, default 9
        Width in frequency bins of the moving average that estimates the auto- and
        cross-spectra in the SCOT, Roth and HT weights (raw periodograms would make
        the coherence identically 1). Odd, >= 1.

    Returns
    -------
    lags : ndarray of int
    corr : ndarray of float64
        The weighted correlation at each lag.

    Raises
    ------
    TypeError, ValueError
        For bad input, an unknown weighting, a negative ``max_lag`` or a bad ``smoothing``.

    Notes
    -----
    ``R(k) = IFFT[psi(f) X(f) conj(Y(f))](k)`` with zero padding to at least
    ``len(x) + len(y) - 1`` so that the correlation is linear, not circular. Spectral
    values below ``1e-12`` of their largest are floored to keep the weights finite.

    References
    ----------
    C. H. Knapp and G. C. Carter, "The generalized correlation method for estimation
    of time delay", IEEE Trans. ASSP 24(4), 320-327 (1976).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import gcc
    >>> rng = np.random.default_rng(1)
    >>> s = rng.standard_normal(500)
    >>> x = np.r_[np.zeros(7), s]                    # x is y delayed by 7 samples
    >>> lags, r = gcc(x, s, weighting="phat", max_lag=20)
    >>> int(lags[np.argmax(r)])
    7
    """
    if weighting is not None:
        weighting = check_option(weighting, Weighting, "weighting")
    a = as_float_array(x, "x", ndim=1, finite=True, keep_float32=False)
    b = as_float_array(y, "y", ndim=1, finite=True, keep_float32=False)
    smoothing = as_int(smoothing, "smoothing", minimum=1)
    if smoothing % 2 == 0:
        raise ValueError(f"smoothing must be an odd number of bins, got {smoothing}")
    nx, ny = a.size, b.size
    lags = correlation_lags(nx, ny, "full")
    nfft = scipy.fft.next_fast_len(nx + ny - 1, real=True)
    X = scipy.fft.rfft(a, nfft)
    Y = scipy.fft.rfft(b, nfft)
    G = X * np.conj(Y)
    if weighting is not None:
        for name, v in (("x", a), ("y", b)):
            if not v.any():  # a weighting divides by its spectrum
                raise ValueError(f"{name} is zero everywhere: it has no spectrum to weight by (weighting={weighting!r})")
        tiny = 1e-12
        if weighting == "phat":
            mag = np.abs(G)
            G = G / np.maximum(mag, tiny * mag.max())
        else:
            gxx = _smooth(np.abs(X) ** 2, smoothing)
            gyy = _smooth(np.abs(Y) ** 2, smoothing)
            if weighting == "scot":
                d = np.sqrt(gxx * gyy)
                G = G / np.maximum(d, tiny * d.max())
            elif weighting == "roth":
                G = G / np.maximum(gyy, tiny * gyy.max())
            else:  # 'ht'
                gxy = _smooth_complex(G, smoothing)
                coh = np.abs(gxy) ** 2 / np.maximum(gxx * gyy, tiny * (gxx * gyy).max())
                coh = np.minimum(coh, 1.0 - 1e-9)
                mag = np.abs(G)
                G = G * coh / (np.maximum(mag, tiny * mag.max()) * (1.0 - coh))
    full = scipy.fft.irfft(G, nfft)
    # circular lags: 0..nx-1 at the start, -(ny-1)..-1 at the end
    corr = np.concatenate([full[nfft - (ny - 1) :], full[:nx]]) if ny > 1 else full[:nx].copy()
    if max_lag is not None:
        max_lag = as_int(max_lag, "max_lag", minimum=0)
        keep = np.abs(lags) <= max_lag
        lags, corr = lags[keep], corr[keep]
    return lags, corr


def _smooth(p: NDArray[np.float64], width: int) -> NDArray[np.float64]:
    if width == 1:
        return p
    return scipy.ndimage.uniform_filter1d(p, width, mode="reflect")


def _smooth_complex(p: NDArray[np.complex128], width: int) -> NDArray[np.complex128]:
    if width == 1:
        return p
    return _smooth(p.real, width) + 1j * _smooth(p.imag, width)


# ---------------------------------------------------------------------------------------
# peaks
# ---------------------------------------------------------------------------------------
class Peak(NamedTuple):
    """One correlation peak.

    Attributes
    ----------
    lag : float
        Position of the peak, refined below one sample when asked, in units of
        ``lags`` (or of the index when no lags are given).
    value : float
        Correlation at the peak (interpolated when refined).
    index : int
        Index of the largest sample of the peak in ``corr``.
    psr : float
        Peak-to-sidelobe ratio: ``(value - mean) / std`` of ``corr`` outside the
        peak's main lobe (``inf`` when the sidelobes are flat).

    Examples
    --------
    >>> from tsconv import best_lag
    >>> p = best_lag([0.0, 0.5, 1.0, 0.5, 0.0, 0.1, -0.1, 0.1])
    >>> p.index, p.lag, p.value
    (2, 2.0, 1.0)
    """

    lag: float
    value: float
    index: int  # type: ignore[assignment]  # public field; shadows tuple.index on purpose
    psr: float


def _as_corr(corr: ArrayLike) -> NDArray[np.float64]:
    c = as_float_array(corr, "corr", ndim=1, keep_float32=False)
    bad = np.isnan(c)
    if bad.all():
        raise ValueError("corr must hold at least one non-NaN value")
    if np.isinf(c).any():
        raise ValueError(f"corr must not hold infinities, got one at index {int(np.flatnonzero(np.isinf(c))[0])}")
    return c


def _refine(c: NDArray[np.float64], i: int, interpolation: str) -> tuple[float, float]:
    """Sub-sample offset in [-1, 1] and value of the peak at index ``i``."""
    if i == 0 or i == c.size - 1 or not np.isfinite(c[i - 1 : i + 2]).all():
        return 0.0, float(c[i])
    ym, y0, yp = c[i - 1], c[i], c[i + 1]
    den = ym - 2.0 * y0 + yp
    if den >= 0:  # not a strict maximum (plateau): no refinement
        return 0.0, float(y0)
    delta = 0.5 * (ym - yp) / den
    value = y0 - 0.25 * (ym - yp) * delta
    if interpolation == "parabolic":
        return float(delta), float(value)
    # band-limited (Whittaker-Shannon) interpolation with a Kaiser-windowed sinc of
    # half-width K, maximized near the parabolic estimate
    K = 16
    lo, hi = max(i - K, 0), min(i + K + 1, c.size)
    seg = np.nan_to_num(c[lo:hi])
    pos = np.arange(lo, hi) - i
    beta = 8.0

    def f(t: float) -> float:
        d = t - pos
        w = np.i0(beta * np.sqrt(np.clip(1.0 - (d / (K + 1)) ** 2, 0.0, None))) / np.i0(beta)
        return -float(np.sum(seg * np.sinc(d) * w))

    res = scipy.optimize.minimize_scalar(f, bounds=(-1.0, 1.0), method="bounded", options={"xatol": 1e-6})
    return float(res.x), float(-res.fun)


def _psr(c: NDArray[np.float64], i: int, exclude: int | None) -> float:
    n = c.size
    if exclude is None:
        lo = i
        while lo > 0 and c[lo - 1] < c[lo]:
            lo -= 1
        hi = i
        while hi < n - 1 and c[hi + 1] < c[hi]:
            hi += 1
        lo, hi = min(lo, i - 1), max(hi, i + 1)
    else:
        lo, hi = i - exclude, i + exclude
    side = np.concatenate([c[: max(lo, 0)], c[hi + 1 :]])
    side = side[np.isfinite(side)]
    if side.size < 2:
        return float("nan")
    sd = float(side.std())
    if sd == 0.0:
        return float("inf") if c[i] > side.mean() else float("nan")
    return float((c[i] - side.mean()) / sd)


def find_peaks(
    corr: ArrayLike,
    n_peaks: int = 1,
    *,
    subsample: bool = True,
    lags: ArrayLike | None = None,
    interpolation: Interpolation = "parabolic",
    min_distance: int = 1,
    absolute: bool = False,
    exclude: int | None = None,
) -> list[Peak]:
    """The largest local maxima of a correlation, best first, refined below one sample.

    Parameters
    ----------
    corr : array_like
        1-D correlation (from :func:`ncc`, :func:`xcorr`, :func:`gcc`...). NaN values
        are ignored; infinities are an error.
    n_peaks : int, default 1
        How many peaks to return (fewer if ``corr`` has fewer local maxima).
    subsample : bool, default True
        Refine each peak's position below one sample.
    lags : array_like or None, default None
        The lag of each element of ``corr`` (e.g. :func:`correlation_lags`; evenly
        spaced). ``None``: the index.
    interpolation : {'parabolic', 'sinc'}, default 'parabolic'
        ``'parabolic'``: vertex of the parabola through the peak and its neighbours
        (fast; biased by up to a few hundredths of a sample for narrow peaks).
        ``'sinc'``: maximum of the band-limited (Kaiser-windowed sinc) interpolation of
        the 33 samples around the peak (unbiased for band-limited correlations).
    min_distance : int, default 1
        Minimum distance in samples between two returned peaks.
    absolute : bool, default False
        Rank by ``|corr|`` (a negative peak is a polarity-inverted match).
    exclude : int or None, default None
        Half-width of the main lobe left out of the sidelobe statistics of the
        peak-to-sidelobe ratio; ``None``: down to the first minimum on each side.

    Returns
    -------
    list of Peak
        ``Peak(lag, value, index, psr)`` tuples in decreasing order of value.

    Raises
    ------
    TypeError, ValueError
        For non-numeric, non-1-D, all-NaN or infinite ``corr``, bad ``lags`` or bad
        counts.

    See Also
    --------
    best_lag : the single best peak (a global maximum, including the ends).

    Notes
    -----
    Parabolic refinement: ``delta = (y[-1] - y[1]) / (2 (y[-1] - 2 y[0] + y[1]))``.
    The peak-to-sidelobe ratio is ``(peak - mean(sidelobes)) / std(sidelobes)``
    (Bolme et al., "Visual object tracking using adaptive correlation filters", 2010).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import find_peaks
    >>> c = np.array([0.0, 0.2, 1.0, 0.2, 0.0, 0.1, 0.5, 0.3, 0.0])
    >>> [(round(p.lag, 3), p.index) for p in find_peaks(c, 2)]
    [(2.0, 2), (6.167, 6)]
    """
    c = _as_corr(corr)
    n_peaks = as_int(n_peaks, "n_peaks", minimum=1)
    min_distance = as_int(min_distance, "min_distance", minimum=1)
    interpolation = check_option(interpolation, Interpolation, "interpolation")
    subsample, absolute = as_bool(subsample, "subsample"), as_bool(absolute, "absolute")
    if exclude is not None:
        exclude = as_int(exclude, "exclude", minimum=1)
    lag_of = _lag_mapper(lags, c.size)
    score = np.abs(c) if absolute else c
    padded = np.r_[-np.inf, np.where(np.isnan(score), -np.inf, score), -np.inf]
    idx, _ = scipy.signal.find_peaks(padded, distance=min_distance if min_distance > 1 else None)
    idx = idx - 1
    idx = idx[np.isfinite(score[idx])]
    order = idx[np.argsort(-score[idx], kind="stable")][:n_peaks]
    peaks = []
    for i in order:
        i = int(i)
        delta, value = _refine(score, i, interpolation) if subsample else (0.0, float(score[i]))
        if absolute and c[i] < 0:
            value = -value
        peaks.append(Peak(lag_of(i, delta), value, i, _psr(score, i, exclude)))
    return peaks


def _lag_mapper(lags: ArrayLike | None, n: int) -> Callable[[int, float], float]:
    if lags is None:
        return lambda i, d: float(i + d)
    lg = as_float_array(lags, "lags", ndim=1, keep_float32=False, finite=True)
    if lg.size != n:
        raise ValueError(f"lags must have one value per element of corr ({n}), got {lg.size}")
    spacing = float(lg[1] - lg[0]) if n > 1 else 1.0
    if n > 1 and not np.allclose(np.diff(lg), spacing):
        raise ValueError("lags must be evenly spaced")
    return lambda i, d: float(lg[i] + d * spacing)


def best_lag(
    corr: ArrayLike,
    subsample: bool = True,
    *,
    lags: ArrayLike | None = None,
    interpolation: Interpolation = "parabolic",
    absolute: bool = False,
    exclude: int | None = None,
) -> Peak:
    """The global maximum of a correlation, refined below one sample.

    Parameters
    ----------
    corr : array_like
        1-D correlation; NaN values are ignored.
    subsample : bool, default True
        Refine the position (and value) by interpolation.
    lags, interpolation, absolute, exclude
        As in :func:`find_peaks`.

    Returns
    -------
    Peak
        ``Peak(lag, value, index, psr)``. A maximum at either end of ``corr`` is not
        refined.

    Raises
    ------
    TypeError, ValueError
        As :func:`find_peaks`.

    See Also
    --------
    find_peaks : several peaks.
    false_alarm_probability : is ``value`` better than chance?

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import best_lag, correlation_lags, xcorr
    >>> t = np.arange(200.0)
    >>> y = np.exp(-0.5 * ((t - 100.0) / 6.0) ** 2)
    >>> x = np.exp(-0.5 * ((t - 112.4) / 6.0) ** 2)   # y delayed by 12.4 samples
    >>> p = best_lag(xcorr(x, y), lags=correlation_lags(200, 200))
    >>> round(p.lag, 1), p.index
    (12.4, 211)
    """
    c = _as_corr(corr)
    interpolation = check_option(interpolation, Interpolation, "interpolation")
    subsample, absolute = as_bool(subsample, "subsample"), as_bool(absolute, "absolute")
    if exclude is not None:
        exclude = as_int(exclude, "exclude", minimum=1)
    lag_of = _lag_mapper(lags, c.size)
    score = np.abs(c) if absolute else c
    i = int(np.nanargmax(score))
    delta, value = _refine(score, i, interpolation) if subsample else (0.0, float(score[i]))
    if absolute and c[i] < 0:
        value = -value
    return Peak(lag_of(i, delta), value, i, _psr(score, i, exclude))


# ---------------------------------------------------------------------------------------
# significance
# ---------------------------------------------------------------------------------------
_LOG_CUTOFF = 1e-280  # below this, scipy's beta tail is near its underflow: the log-space tail takes over


def _log_beta_lower_tail(y: NDArray[np.float64], a: float) -> NDArray[np.float64]:
    """``log I_y(a, a)``, the natural log of ``P(B <= y)`` for ``B ~ Beta(a, a)``, ``0 < y < 1/2``,
    without underflow: ``y^a (1 - y)^a / (a B(a, a))`` times the continued fraction of the
    incomplete beta function (modified Lentz; it converges fast for ``y < 1/2``), all but the
    fraction in logs. (SciPy's ``betainc`` has no log form; its value underflows to 0 below
    about 1e-308, where this one goes on.)
    """
    tiny = 1e-300
    qab, qap, qam = 2.0 * a, a + 1.0, a - 1.0
    c = np.ones_like(y)
    d = 1.0 - qab * y / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for k in range(1, 10_001):
        k2 = 2 * k
        for aa in (k * (a - k) * y / ((qam + k2) * (a + k2)), -(a + k) * (qab + k) * y / ((a + k2) * (qap + k2))):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + aa / np.where(np.abs(c) < tiny, tiny, c)
            c = np.where(np.abs(c) < tiny, tiny, c)
            step = d * c
            h = h * step
        if np.all(np.abs(step - 1.0) < 1e-15):
            break
    return a * np.log(y) + a * np.log1p(-y) - scipy.special.betaln(a, a) - np.log(a) + np.log(h)


def _log_p1(s: NDArray[np.float64], a: float) -> NDArray[np.float64]:
    """``log P((r + 1) / 2 >= (s + 1) / 2)`` under ``Beta(a, a)``: SciPy's tail where it is not
    near underflow, the continued fraction below (``s = 1`` exactly: the tail at ``y = 1e-300``)."""
    with np.errstate(divide="ignore"):
        out = np.log(beta_sf((s + 1.0) / 2.0, a))
    deep = ~(out > np.log(_LOG_CUTOFF))
    if np.any(deep):
        y = np.maximum((1.0 - s[deep]) / 2.0, 1e-300)
        out[deep] = _log_beta_lower_tail(y, a)
    return out


def false_alarm_probability(score: ArrayLike, m: float, n_lags: int, *, tail: Tail = "upper", log: bool = False) -> Any:
    """Probability that the best of ``n_lags`` chance correlations reaches ``score``.

    Parameters
    ----------
    score : float or array_like
        Best normalized cross-correlation found (in ``[-1, 1]``).
    m : float
        Needle length in samples, or its effective length ``m_eff`` when the needle
        and haystack are autocorrelated (see Notes). Must exceed 2.
    n_lags : int
        Number of lags searched (``len(ncc(...))``, summed over haystacks).
    tail : {'upper', 'both'}, default 'upper'
        ``'upper'``: the best value is the maximum of ``r``; ``'both'``: the maximum of
        ``|r|`` (a polarity-inverted match counts too).
    log : bool, default False
        Return the natural log of the probability, computed without underflow: a strong
        match's probability is below the smallest double (a score of 0.7 over 4,000
        samples: about 1e-580), where the probability itself is 0; its log still orders
        such matches (as ``scipy.stats`` distributions' ``logsf``).

    Returns
    -------
    float or ndarray
        ``1 - (1 - p1)**n_lags``, computed without cancellation, where ``p1`` is the
        chance that one lag reaches ``score``; with ``log=True`` its natural log, finite
        for every score (a score of exactly 1 counts as ``1 - 2e-300``).

    Raises
    ------
    TypeError, ValueError
        For a non-numeric or out-of-range score, ``m <= 2`` or ``n_lags < 1``.

    See Also
    --------
    ncc, best_lag

    Notes
    -----
    Under the null hypothesis (haystack independent of the needle, Gaussian, white)
    the correlation of one window is that of ``m`` independent pairs:
    ``(r + 1) / 2 ~ Beta(m/2 - 1, m/2 - 1)``, about ``N(0, 1/m)`` for large ``m``
    (Fisher 1915). Lags of a white haystack are nearly independent, so the best of
    ``n_lags`` has ``P(max >= s) = 1 - (1 - p1(s))**n_lags``; the probabilities are
    uniform under the null (checked by a Kolmogorov-Smirnov test in the test suite).
    For coloured signals, replace ``m`` by Bartlett's effective length
    ``m_eff = m / sum_k rho_needle(k) rho_haystack(k)`` (sum over all lags), or
    whiten both signals first (:class:`Whitener`), after which ``m_eff = m``.

    Examples
    --------
    >>> from tsconv import false_alarm_probability
    >>> p = false_alarm_probability(0.5, m=100, n_lags=10_000)   # about 5 sigma
    >>> f"{p:.2e}"
    '5.90e-04'
    >>> round(float(false_alarm_probability(0.0, m=100, n_lags=1)), 6)
    0.5
    >>> float(false_alarm_probability(0.7, m=4000, n_lags=10**6))  # underflows
    0.0
    >>> f"{false_alarm_probability(0.7, m=4000, n_lags=10**6, log=True) / np.log(10):.1f}"  # its log10
    '-580.6'
    """
    tail = check_option(tail, Tail, "tail")
    s = as_float_array(score, "score", allow_empty=True, keep_float32=False)
    if np.isnan(s).any() or (np.abs(s) > 1.0 + 1e-9).any():
        raise ValueError(f"score must be a correlation in [-1, 1], got {_describe(score)}")
    if isinstance(m, bool) or not isinstance(m, (int, float, np.integer, np.floating)) or not np.isfinite(m):
        raise TypeError(f"m must be a finite number, got {_describe(m)}")
    if m <= 2:
        raise ValueError(f"m must be > 2 (the needle length or its effective length), got {m}")
    n_lags = as_int(n_lags, "n_lags", minimum=1)
    if not isinstance(log, bool):
        raise TypeError(f"log must be True or False, got {_describe(log)}")
    a = float(m) / 2.0 - 1.0
    s = np.clip(s, -1.0, 1.0)
    if log:
        x = np.abs(s) if tail == "both" else s
        lp1 = _log_p1(np.atleast_1d(x).astype(np.float64), a) + (np.log(2.0) if tail == "both" else 0.0)
        lp1 = np.minimum(lp1, 0.0)
        # log(1 - (1 - p1)^n): log(n p1) where n p1 is tiny (relative error n p1 / 2), else directly
        with np.errstate(divide="ignore"):
            direct = np.log(-np.expm1(n_lags * np.log1p(-np.exp(lp1))))
        small = lp1 + np.log(n_lags) < -30.0
        lp = np.where(small, lp1 + np.log(n_lags), direct)
        return float(lp[0]) if np.ndim(s) == 0 else lp.reshape(np.shape(s))
    if tail == "upper":
        p1 = beta_sf((s + 1.0) / 2.0, a)
    else:
        p1 = 2.0 * beta_sf((np.abs(s) + 1.0) / 2.0, a)
    p1 = np.clip(p1, 0.0, 1.0)
    # 1 - (1 - p1)^n without cancellation for tiny p1 (and exactly 1 when p1 == 1)
    with np.errstate(divide="ignore"):
        p = -np.expm1(n_lags * np.log1p(-p1))
    return float(p) if np.ndim(p) == 0 else p
