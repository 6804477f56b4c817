"""The apply engine: one entry point that applies any Kernel or Transfer to any series.

``apply`` picks the fastest exact method (direct, FFT overlap-add, or recursive),
handles edges, missing values, n-D input along an axis and pandas objects; ``Stream``
applies the same operator chunk by chunk with O(kernel) state.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.signal
from numpy.typing import ArrayLike, NDArray

from tsconv._validation import as_axis, as_float_array, check_option, first_nonfinite
from tsconv.kernel import Kernel, Transfer

__all__ = ["apply", "Stream", "choose_method", "stochastic_apply", "Mode", "Method", "NanPolicy"]

Mode = Literal["same", "valid", "full"]
Method = Literal["auto", "direct", "fft", "recursive"]
NanPolicy = Literal["propagate", "raise", "omit"]
StreamNanPolicy = Literal["propagate", "raise"]

# Cost model of ``method="auto"``, calibrated by benchmarks/bench_apply.py on the
# reference machine (docs/benchmarks.md): np.convolve costs about DIRECT_NS_PER_MAC per
# multiply-add; scipy's overlap-add costs about FFT_NS_PER_SAMPLE per output sample and
# a fixed FFT_OVERHEAD_S per call. Past MAX_DIRECT taps multithreaded BLAS makes the
# direct path erratic and 8-20x slower (../shared/PERFORMANCE.md), so it is never chosen.
DIRECT_NS_PER_MAC = {4: 0.11, 8: 0.16}
FFT_NS_PER_SAMPLE = {4: 10.0, 8: 17.0}
FFT_OVERHEAD_S = 60e-6
MAX_DIRECT = 2048


def _as_op(op: Any) -> Kernel | Transfer:
    if isinstance(op, (Kernel, Transfer)):
        return op
    raise TypeError(f"op must be a tsconv Kernel or Transfer, got {type(op).__name__}")


def choose_method(op: Kernel | Transfer, n: int, dtype: Any = np.float64) -> str:
    """The method ``apply(..., method="auto")`` uses for a series of length ``n``.

    A Transfer is always ``"recursive"``. For a Kernel of ``m`` taps the cost model
    compares ``n * m`` multiply-adds of the direct sum with an overlap-add FFT whose
    cost grows with ``n`` and only logarithmically with ``m``; kernels longer than
    ``MAX_DIRECT`` taps always go to the FFT.

    Examples
    --------
    >>> from tsconv import Kernel, choose_method
    >>> choose_method(Kernel([1.0, 1.0, 1.0]), 10**6)
    'direct'
    >>> choose_method(Kernel([1.0] * 1001), 10**6)
    'fft'
    """
    op = _as_op(op)
    if isinstance(op, Transfer):
        return "recursive"
    m = len(op)
    if m > MAX_DIRECT:
        return "fft"
    size = 4 if np.dtype(dtype).itemsize <= 4 else 8
    direct = n * m * DIRECT_NS_PER_MAC[size] * 1e-9
    fft = FFT_OVERHEAD_S + (n + m) * FFT_NS_PER_SAMPLE[size] * 1e-9 * (1.0 + np.log2(max(m, 2)) / 10.0)
    return "direct" if direct <= fft else "fft"


# ---------------------------------------------------------------------------------------
# FIR core on 2-D arrays (rows = series, last axis = time)
# ---------------------------------------------------------------------------------------
def _fir(x: NDArray[np.floating], c: NDArray[np.floating], mode: str, method: str) -> NDArray[np.floating]:
    """Convolution of each row of ``x`` with ``c``: numpy's 'valid' or 'full'."""
    n, m = x.shape[-1], c.size
    if method == "direct":
        if x.shape[0] == 1:
            return np.convolve(x[0], c, mode)[None, :]
        return np.stack([np.convolve(row, c, mode) for row in x])
    if method == "fft":
        return scipy.signal.oaconvolve(x, c[None, :], mode=mode, axes=-1)
    # recursive: lfilter with a = [1] runs the FIR as a recursion; zeros appended
    # so that the tail of the full convolution comes out too.
    xp = np.concatenate([x, np.zeros((x.shape[0], m - 1), dtype=x.dtype)], axis=-1)
    full = scipy.signal.lfilter(c, [1.0], xp, axis=-1)
    return full if mode == "full" else full[:, m - 1 : n]


def _window_counts(mask: NDArray[np.bool_], m: int, mode: str) -> NDArray[np.int64]:
    """How many flagged samples fall in each length-``m`` window (exact integers)."""
    cs = np.concatenate([np.zeros((mask.shape[0], 1), dtype=np.int64), np.cumsum(mask, axis=-1, dtype=np.int64)], axis=-1)
    n = mask.shape[-1]
    if mode == "valid":
        return cs[:, m:] - cs[:, : n - m + 1]
    # full: output j covers x[j - m + 1 .. j], clipped to the series
    j = np.arange(n + m - 1)
    hi = np.minimum(j + 1, n)
    lo = np.maximum(j - m + 1, 0)
    return cs[:, hi] - cs[:, lo]


def _apply_kernel(
    k: Kernel, x: NDArray[np.floating], mode: str, method: str, nan_policy: str
) -> NDArray[np.floating]:
    n = x.shape[-1]
    m, o = len(k), k.origin
    c = k.coef.astype(x.dtype, copy=False)
    if method == "auto":
        method = choose_method(k, n, x.dtype)

    # Cheap screen: the sum of a finite array is finite (an overflow only sends us to
    # the exact check below).
    clean = bool(np.isfinite(np.add.reduce(x, axis=None)))
    mask = None if clean else ~np.isfinite(x)
    if mask is not None and not mask.any():
        mask = None

    if mask is not None and nan_policy == "raise":
        bad = first_nonfinite(x)
        raise ValueError(f"x has a non-finite value {x[bad]!r} at index {bad if len(bad) > 1 else bad[0]} (nan_policy='raise')")

    if nan_policy == "omit" and (mask is not None or mode == "same"):
        return _apply_kernel_omit(c, o, x, mask, mode, method)

    xin = x if mask is None else np.where(mask, x.dtype.type(0), x)
    if mode == "full":
        y = _fir(xin, c, "full", method)
        if mask is not None:
            y[_window_counts(mask, m, "full") > 0] = np.nan
        return y
    if n < m:
        if mode == "valid":
            raise ValueError(f"x (length {n}) is shorter than the kernel ({m} taps) in mode='valid'")
        return np.full(x.shape, np.nan, dtype=x.dtype)
    y = _fir(xin, c, "valid", method)
    if mask is not None:
        y[_window_counts(mask, m, "valid") > 0] = np.nan
    if mode == "valid":
        return y
    # same: the complete window of output t is x[t + o - m + 1 .. t + o]
    out = np.full(x.shape, np.nan, dtype=y.dtype)
    start = m - 1 - o
    lo, hi = max(start, 0), min(start + y.shape[-1], n)
    if hi > lo:
        out[:, lo:hi] = y[:, lo - start : hi - start]
    return out


def _apply_kernel_omit(
    c: NDArray[np.floating], o: int, x: NDArray[np.floating], mask: Any, mode: str, method: str
) -> NDArray[np.floating]:
    """Weights renormalized over the observed values (out-of-range samples are missing)."""
    total = float(c.sum())
    if total == 0.0 or abs(total) <= 1e-12 * float(np.abs(c).sum()):
        raise ValueError(
            "nan_policy='omit' renormalizes the weights over observed values and needs a kernel "
            f"whose coefficients sum to a non-zero value, got sum {total!r}"
        )
    n, m = x.shape[-1], c.size
    if mask is None:
        mask = np.zeros(x.shape, dtype=bool)
    obs = (~mask).astype(x.dtype)
    num = _fir(np.where(mask, x.dtype.type(0), x), c, "full", method)
    den = _fir(obs, c, "full", method)
    seen = _window_counts(~mask, m, "full") > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        y = num / den * total
    # no observation in the window, or observed weights that cancel: undefined
    y[~seen | (np.abs(den) <= 1e-12 * float(np.abs(c).sum()))] = np.nan
    if mode == "full":
        return y
    if mode == "valid":
        if n < m:
            raise ValueError(f"x (length {n}) is shorter than the kernel ({m} taps) in mode='valid'")
        return y[:, m - 1 : n]
    # same: output t is full[t + o]; outside the full range nothing is observed
    out = np.full(x.shape, np.nan, dtype=y.dtype)
    lo, hi = max(-o, 0), min(n, n + m - 1 - o)
    if hi > lo:
        out[:, lo:hi] = y[:, lo + o : hi + o]
    return out


def _apply_transfer(tr: Transfer, x: NDArray[np.floating], mode: str, method: str, nan_policy: str) -> NDArray[np.floating]:
    if mode != "same":
        raise ValueError(f"a Transfer (IIR operator) has infinite support and supports only mode='same', got mode={mode!r}")
    if method not in ("auto", "recursive"):
        raise ValueError(
            f"a Transfer is applied by recursion: method must be 'auto' or 'recursive', got method={method!r} "
            "(apply tr.impulse_response(n) for a truncated FIR)"
        )
    b = tr.num.coef.astype(x.dtype, copy=False)
    a = tr.den.coef.astype(x.dtype, copy=False)
    clean = bool(np.isfinite(np.add.reduce(x, axis=None)))
    mask = None if clean else ~np.isfinite(x)
    if mask is not None and nan_policy == "raise":
        bad = first_nonfinite(x)
        raise ValueError(f"x has a non-finite value {x[bad]!r} at index {bad if len(bad) > 1 else bad[0]} (nan_policy='raise')")
    if nan_policy == "omit":
        gain = float(b.sum()) / float(a.sum()) if a.sum() != 0 else np.inf
        if not np.isfinite(gain) or gain == 0.0:
            raise ValueError(
                "nan_policy='omit' renormalizes the weights over observed values and needs a finite, "
                f"non-zero DC gain num(1)/den(1), got {gain!r}"
            )
        if mask is None:
            mask = np.zeros(x.shape, dtype=bool)
        num = scipy.signal.lfilter(b, a, np.where(mask, x.dtype.type(0), x), axis=-1)
        den = scipy.signal.lfilter(b, a, (~mask).astype(x.dtype), axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = num / den * gain
        seen = np.cumsum(~mask, axis=-1) > 0
        y[~seen] = np.nan
        return y
    # propagate: a non-finite value poisons every later output (infinite memory)
    xin = x if mask is None else np.where(mask, np.nan, x)
    return scipy.signal.lfilter(b, a, xin, axis=-1)


def _apply_array(op: Kernel | Transfer, x: NDArray[np.floating], mode: str, method: str, axis: int, nan_policy: str) -> NDArray[np.floating]:
    moved = np.moveaxis(x, axis, -1)
    lead = moved.shape[:-1]
    x2 = np.ascontiguousarray(moved.reshape(-1, moved.shape[-1]))
    if isinstance(op, Transfer):
        y2 = _apply_transfer(op, x2, mode, method, nan_policy)
    else:
        y2 = _apply_kernel(op, x2, mode, method, nan_policy)
    y2 = y2.astype(x.dtype, copy=False)
    return np.moveaxis(y2.reshape(*lead, y2.shape[-1]), -1, axis)


def apply(
    op: Kernel | Transfer,
    x: ArrayLike,
    *,
    mode: Mode = "same",
    method: Method = "auto",
    axis: int = -1,
    nan_policy: NanPolicy = "propagate",
) -> Any:
    """Apply a linear operator (Kernel or Transfer) to one or many series.

    Parameters
    ----------
    op : Kernel or Transfer
        The operator. A Kernel gives ``y[t] = sum_k coef[k] x[t - k + origin]``; a
        Transfer runs the recursion ``den(B) y = num(B) x`` from zero pre-sample values.
    x : array_like, pandas.Series or pandas.DataFrame
        Real data. Integers become float64, float32 stays float32. A DataFrame is a set
        of series down its index (``axis`` must then be left at its default).
    mode : {'same', 'valid', 'full'}, default 'same'
        ``'same'``: one output per input sample, NaN where the window is incomplete
        (like ``pandas.rolling``; a causal kernel never looks ahead). ``'valid'``: only
        the complete windows (length ``n - m + 1``). ``'full'``: the full convolution
        (length ``n + m - 1``; arrays only). A Transfer supports ``'same'`` only.
    method : {'auto', 'direct', 'fft', 'recursive'}, default 'auto'
        ``'direct'``: ``numpy.convolve``; ``'fft'``: overlap-add
        (``scipy.signal.oaconvolve``); ``'recursive'``: ``scipy.signal.lfilter``
        (the only method for a Transfer); ``'auto'``: see :func:`choose_method`.
    axis : int, default -1
        The time axis of an n-D array; the other axes are independent series.
    nan_policy : {'propagate', 'raise', 'omit'}, default 'propagate'
        Non-finite values (NaN, +-inf) are missing values. ``'propagate'``: every output
        whose window holds one is NaN (for a Transfer, every later output).
        ``'raise'``: ``ValueError`` naming the first one. ``'omit'``: the weights are
        renormalized over the observed values of each window so that they keep their
        sum (samples outside the series count as missing too, so ``'same'`` has no NaN
        edges); it needs a kernel whose weights do not sum to zero.

    Returns
    -------
    ndarray, pandas.Series or pandas.DataFrame
        Same type as ``x``; pandas results keep the index (``'valid'`` keeps the part
        of it where the window is complete), name and columns.

    Raises
    ------
    TypeError
        If ``op`` is not a Kernel/Transfer or ``x`` is not real numeric.
    ValueError
        For an unknown mode, method or policy, a bad axis, empty ``x``, a series shorter
        than the kernel in ``'valid'`` mode, or a non-finite value under ``'raise'``.

    See Also
    --------
    Stream : the same operator applied chunk by chunk.
    stochastic_apply : the random reading of a probability kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import Kernel, apply
    >>> apply(Kernel([1/3, 1/3, 1/3]), np.arange(6.0))
    array([nan, nan,  1.,  2.,  3.,  4.])
    >>> apply(Kernel([1/3, 1/3, 1/3], origin=1), np.arange(6.0))   # centred
    array([nan,  1.,  2.,  3.,  4., nan])
    >>> apply(Kernel([1.0, -1.0]), np.array([1.0, 4.0, 9.0, 16.0]), mode="valid")
    array([3., 5., 7.])
    """
    op = _as_op(op)
    mode = check_option(mode, Mode, "mode")
    method = check_option(method, Method, "method")
    nan_policy = check_option(nan_policy, NanPolicy, "nan_policy")
    if isinstance(x, (pd.Series, pd.DataFrame)):
        return _apply_pandas(op, x, mode, method, axis, nan_policy)
    arr = as_float_array(x, "x")
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension, got a scalar")
    ax = as_axis(axis, arr.ndim)
    return _apply_array(op, arr, mode, method, ax, nan_policy)


def _apply_pandas(op: Kernel | Transfer, x: Any, mode: str, method: str, axis: Any, nan_policy: str) -> Any:
    if axis not in (-1, 0):
        raise ValueError(f"for pandas input time runs down the index; leave axis at its default, got axis={axis!r}")
    if mode == "full":
        raise ValueError("mode='full' runs past the index of a pandas input; use mode='same' or 'valid', or pass x.to_numpy()")
    vals = as_float_array(x.to_numpy(), "x", ndim=(1, 2))
    y = _apply_array(op, vals, mode, method, 0, nan_policy)
    index = x.index
    if mode == "valid":
        m, o = len(op), op.origin  # a Transfer never reaches here with 'valid'
        start = m - 1 - o
        index = index[start : start + y.shape[0]]
    if isinstance(x, pd.Series):
        return pd.Series(y, index=index, name=x.name)
    return pd.DataFrame(y, index=index, columns=x.columns)


# ---------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------
class Stream:
    """Apply an operator to a series that arrives in chunks, with O(kernel) state.

    The concatenation of everything ``push`` returns, followed by ``flush()``, equals
    ``apply(op, whole, mode="same")`` on the concatenated input. A causal operator
    returns one output per pushed sample; a kernel that looks ``h`` samples ahead (a
    centred window) returns its outputs ``h`` samples late, and ``flush`` returns the
    last ``h`` (NaN: their windows never complete).

    Parameters
    ----------
    op : Kernel or Transfer
    nan_policy : {'propagate', 'raise'}, default 'propagate'

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import Kernel, Stream, apply
    >>> k = Kernel([0.5, 0.5])
    >>> s = Stream(k)
    >>> np.concatenate([s.push([1.0, 2.0]), s.push([3.0]), s.push([5.0, 8.0]), s.flush()])
    array([nan, 1.5, 2.5, 4. , 6.5])
    """

    def __init__(self, op: Kernel | Transfer, *, nan_policy: Literal["propagate", "raise"] = "propagate") -> None:
        op = _as_op(op)
        self.nan_policy = check_option(nan_policy, StreamNanPolicy, "nan_policy")
        self.op = op
        if isinstance(op, Kernel):
            # a delay (negative origin) is the same operator with leading zeros
            self._coef = np.r_[np.zeros(max(-op.origin, 0)), op.coef]
            self._ahead = max(op.origin, 0)
        self._buf: NDArray[np.floating] | None = None
        self._zi: NDArray[np.floating] | None = None
        self._seen = 0
        self._emitted = 0
        self._lead: tuple[int, ...] | None = None
        self._dtype: Any = None

    def _check_chunk(self, chunk: ArrayLike) -> NDArray[np.floating]:
        arr = as_float_array(chunk, "chunk", allow_empty=True)
        if arr.ndim == 0:
            raise ValueError("chunk must have at least one dimension (time last), got a scalar")
        if self._lead is None:
            self._lead, self._dtype = arr.shape[:-1], arr.dtype
        elif arr.shape[:-1] != self._lead:
            raise ValueError(f"chunk must keep the leading shape {self._lead}, got shape {arr.shape}")
        arr = arr.astype(self._dtype, copy=False)
        if self.nan_policy == "raise":
            bad = first_nonfinite(arr)
            if bad is not None:
                raise ValueError(f"chunk has a non-finite value at stream index {self._seen + bad[-1]} (nan_policy='raise')")
        return arr

    def push(self, chunk: ArrayLike) -> NDArray[np.floating]:
        """Feed the next samples (time on the last axis); return the outputs now final."""
        x = self._check_chunk(chunk)
        L = x.shape[-1]
        x2 = x.reshape(-1, L)
        if isinstance(self.op, Transfer):
            b, a = self.op.num.coef, self.op.den.coef
            if self._zi is None:
                nz = max(len(a), len(b)) - 1
                self._zi = np.zeros((x2.shape[0], nz))
            xin = np.where(np.isfinite(x2), x2, np.nan)
            if self._zi.shape[-1] == 0:
                y = scipy.signal.lfilter(b, a, xin, axis=-1)
            else:
                y, self._zi = scipy.signal.lfilter(b, a, xin, axis=-1, zi=self._zi)
            self._seen += L
            self._emitted += L
            return y.astype(self._dtype, copy=False).reshape(x.shape)
        m = self._coef.size
        buf = self._buf if self._buf is not None else np.zeros((x2.shape[0], 0), dtype=x2.dtype)
        ext = np.concatenate([buf, x2], axis=-1)
        ext_start = self._seen - buf.shape[-1]
        self._seen += L
        n = self._seen
        t0, t1 = self._emitted, n - self._ahead  # outputs [t0, t1) are final now
        out = np.full((x2.shape[0], max(t1 - t0, 0)), np.nan, dtype=x2.dtype)
        if t1 > t0 and ext.shape[-1] >= m:
            y = _apply_kernel(Kernel(self._coef), ext, "valid", "auto", "propagate")
            # y[:, j] is the window ending at global sample e = ext_start + m - 1 + j = t + ahead
            e0 = ext_start + m - 1
            lo = max(t0 + self._ahead, e0)
            if t1 + self._ahead > lo:
                out[:, lo - self._ahead - t0 :] = y[:, lo - e0 : t1 + self._ahead - e0]
        self._emitted = max(t1, t0)
        self._buf = ext[:, max(ext.shape[-1] - (m - 1), 0) :] if m > 1 else ext[:, :0]
        return out.reshape(*self._lead, out.shape[-1])

    def flush(self) -> NDArray[np.floating]:
        """The outputs still owed at the end (NaN: their windows run past the data)."""
        lead = self._lead if self._lead is not None else ()
        dtype = self._dtype if self._dtype is not None else np.float64
        rest = self._seen - self._emitted
        self._emitted = self._seen
        return np.full((*lead, rest), np.nan, dtype=dtype)


# ---------------------------------------------------------------------------------------
# The stochastic reading of a probability kernel
# ---------------------------------------------------------------------------------------
def stochastic_apply(kernel: Kernel, x: ArrayLike, rng: Any = None) -> NDArray[np.floating]:
    """Apply a probability kernel at random: each output takes one input neighbour.

    For a non-negative kernel whose weights sum to 1 (``k.normalized()`` or
    ``k.softmax()``), output ``t`` is ``x[t - lag]`` with ``lag`` drawn from the kernel's
    lags with the kernel's probabilities — one step of the random walk whose
    propagator the kernel is. Its expectation is ``apply(kernel, x)``; outputs whose
    window is incomplete are NaN, as there.

    Parameters
    ----------
    kernel : Kernel
        Non-negative coefficients summing to 1 (within 1e-9).
    x : array_like
        1-D or n-D real data (time on the last axis).
    rng : numpy.random.Generator, int or None
        Source of randomness (``numpy.random.default_rng(rng)``).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import Kernel, stochastic_apply
    >>> y = stochastic_apply(Kernel([0.5, 0.5]), np.arange(5.0), rng=0)
    >>> bool(np.isnan(y[0])) and bool(np.all((y[1:] == np.arange(4.0)) | (y[1:] == np.arange(1.0, 5.0))))
    True
    """
    if not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a tsconv Kernel, got {type(kernel).__name__}")
    c = kernel.coef
    if np.any(c < 0) or abs(float(c.sum()) - 1.0) > 1e-9:
        raise ValueError(
            "kernel must be a probability kernel (non-negative weights summing to 1; "
            f"use .normalized() or .softmax()), got sum {float(c.sum())!r} and min {float(c.min())!r}"
        )
    arr = as_float_array(x, "x")
    rng = np.random.default_rng(rng)
    n, m, o = arr.shape[-1], c.size, kernel.origin
    k = rng.choice(m, size=arr.shape, p=c / c.sum())
    src = np.arange(n) - k + o  # y[t] = x[t - k + origin]
    inside = (np.arange(n) + o - m + 1 >= 0) & (np.arange(n) + o <= n - 1)
    src_c = np.clip(src, 0, n - 1)
    y = np.take_along_axis(arr, src_c, axis=-1).astype(arr.dtype, copy=True)
    y[..., ~inside] = np.nan
    return y
