"""The apply engine: one entry point that applies any Kernel or Transfer to any series.

``apply`` picks the fastest exact method (direct, FFT -- one transform or overlap-save
blocks -- or recursive) by a calibrated cost model, handles edges, missing values, n-D
input along an axis and pandas objects, and spreads long work over threads; ``Stream``
applies the same operator chunk by chunk with O(kernel) state.
"""

from __future__ import annotations

import contextvars
import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import scipy.fft
import scipy.signal
from numpy.typing import ArrayLike, NDArray

from tsconv import _recursion
from tsconv._fftcore import OverlapSave, convolve_single_into, pow2_block
from tsconv._validation import as_axis, as_float_array, as_workers, check_option, first_nonfinite
from tsconv.kernel import Kernel, Transfer

__all__ = ["apply", "Stream", "choose_method", "stochastic_apply", "Mode", "Method", "NanPolicy"]

Mode = Literal["same", "valid", "full"]
Method = Literal["auto", "direct", "fft", "recursive"]
NanPolicy = Literal["propagate", "raise", "omit"]
StreamNanPolicy = Literal["propagate", "raise"]
_MODES = frozenset(get_args(Mode))
_METHODS = frozenset(get_args(Method))
_NAN_POLICIES = frozenset(get_args(NanPolicy))

# Cost model of ``method="auto"``, calibrated with ``benchmarks/bench_apply.py --calibrate``
# on the reference machine (2 vCPU; docs/benchmarks.md). Times per output sample:
# * direct (numpy.convolve): DIRECT_NS_PER_MAC[itemsize] * m, but never below
#   DIRECT_FLOOR_NS for DIRECT_FLOOR_TAPS[0] <= m <= DIRECT_FLOOR_TAPS[1] taps, where numpy
#   hands each output to a BLAS dot whose call overhead dominates;
# * fft (overlap-save, batched real FFTs of size F): FFT_NS_PER_POINT[itemsize] *
#   F log2(F) / (F - m + 1), plus FFT_OVERHEAD_S per call.
# Past MAX_DIRECT taps multithreaded BLAS makes the direct path erratic and 8-20x slower
# (docs/benchmarks.md, Apply), so it is never chosen there.
DIRECT_NS_PER_MAC = {4: 0.12, 8: 0.2}
DIRECT_FLOOR_NS = {4: 12.0, 8: 12.0}
DIRECT_FLOOR_TAPS = (11, 64)
FFT_NS_PER_POINT = {4: 0.33, 8: 1.0}
FFT_OVERHEAD_S = 100e-6
MAX_DIRECT = 2048
# The recursion of a long series runs in segments on threads (lfilter releases the GIL), by
# the parallel recursion of tsconv._recursion: each segment from a zero state, the true
# states carried by powers of the transition matrix, then each segment adds the zero-input
# response of its true initial state -- linearity makes the sum the sequential answer, to
# rounding. Segments shorter than RECURSIVE_MIN_SEGMENT samples are not worth a thread.
# The segments pay only when that zero-input response dies out within a small part
# (RECURSIVE_MAX_SETTLE) of a segment: with a pole on or near the unit circle (an
# integrator, a slow resonance) every thread would run its segment twice, slower on two
# cores than one plain pass (benchmarks/bench_tricks.py); and the scan's matrix powers
# (O(order**3 log L)) must stay small next to a segment (O(order L)): RECURSIVE_MAX_ORDER.
# FIR work is cut the same way into pieces of at least PARALLEL_MIN_OUTPUTS outputs.
RECURSIVE_MIN_SEGMENT = 1 << 20
RECURSIVE_MAX_SETTLE = 0.25
RECURSIVE_MAX_ORDER = 64
RECURSIVE_WORKERS = min(os.cpu_count() or 1, 4)
PARALLEL_WORKERS = RECURSIVE_WORKERS
PARALLEL_MIN_OUTPUTS = 1 << 18
PARALLEL_MIN_DIRECT_TAPS = 32
# From this many samples the finite-value screen of one series runs on a second thread
# while a direct convolution runs on this one. Measured on the 2-vCPU machine (a 5-tap
# kernel): in repeated calls (the pool's thread awake) 0.85x the time at 3e5-1e6 samples
# and 0.88x at 1e7; a call between other work first wakes the thread, which costs about
# 0.3 ms (benchmarks/bench_tricks.py: 0.3x at 1e5, 0.9-1.0x from 1e6). Half a million
# samples is where the hand-over stays small against the pass it saves.
CONCURRENT_SCREEN_MIN = 1 << 19
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_size = 0
# The threads one apply() call may use (its ``workers`` argument, resolved); None: the
# defaults above. A context variable, so that concurrent calls each keep their own.
_WORKERS: contextvars.ContextVar[int | None] = contextvars.ContextVar("tsconv_apply_workers", default=None)


def _workers(default: int) -> int:
    """The threads the current apply() call may use (``default`` unless it said)."""
    n = _WORKERS.get()
    return default if n is None else n


def _parallel(outputs: int, method: str = "fft", m: int = 0) -> bool:
    """Whether FIR work of this many outputs is cut into pieces on threads.

    Not for short direct kernels: they run at memory speed already, and the pieces'
    temporaries and copies would cost more than a second core gains.
    """
    if method == "direct" and m < PARALLEL_MIN_DIRECT_TAPS:
        return False
    return _workers(PARALLEL_WORKERS) >= 2 and outputs >= 2 * PARALLEL_MIN_OUTPUTS


def _threads() -> ThreadPoolExecutor:
    """The engine's thread pool, made on first use (and again in a forked child, whose
    copy of the parent's pool has no threads behind it, or when a call asks for more
    workers than it has)."""
    global _pool, _pool_pid, _pool_size
    size = max(_workers(RECURSIVE_WORKERS), _workers(PARALLEL_WORKERS), RECURSIVE_WORKERS, PARALLEL_WORKERS)
    if _pool is None or _pool_pid != os.getpid() or size > _pool_size:
        # a smaller pool is dropped, not shut down: a concurrent call may still be
        # submitting to it (its threads end once it is collected)
        _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="tsconv")
        _pool_pid, _pool_size = os.getpid(), size
    return _pool


# Smallest overlap-save block, and the number of samples transformed per batched rfft
# call (a few MB: the batch stays in cache and the peak memory stays near the output's).
MIN_BLOCK = 8192
BATCH_POINTS = 1 << 19
# Up to this many points one FFT of the whole problem beats overlap-save's Python loop.
SINGLE_FFT_MAX = 1 << 16
_LOG2_MIN_BLOCK = 13.0


# kernels this short go direct whatever the length: per sample they cost less than the
# cheapest FFT block (itemsize -> largest such tap count)
_ALWAYS_DIRECT = {
    size: max((m for m in range(1, 11) if DIRECT_NS_PER_MAC[size] * m < FFT_NS_PER_POINT[size] * _LOG2_MIN_BLOCK), default=0)
    for size in (4, 8)
}


def _as_op(op: Any) -> Kernel | Transfer:
    if isinstance(op, (Kernel, Transfer)):
        return op
    raise TypeError(f"op must be a tsconv Kernel or Transfer, got {type(op).__name__}")


def _ols_block(m: int) -> int:
    """FFT size of the overlap-save blocks for ``m`` taps.

    About 4m points per block keeps the wasted ``(m - 1) / F`` share small at a
    logarithmic cost; MIN_BLOCK amortizes the per-call overhead of short kernels.
    """
    return pow2_block(m, 4, MIN_BLOCK)


def _single_fft(m: int, points: int) -> bool:
    """Whether a problem of ``points`` input-plus-tail samples takes one FFT (not blocks)."""
    return points <= max(_ols_block(m), SINGLE_FFT_MAX)


def _block_size(m: int, length: int) -> int:
    """FFT size for ``length`` outputs of ``m`` taps: one transform, or overlap-save blocks."""
    if _single_fft(m, length + m - 1):
        return scipy.fft.next_fast_len(length + m - 1, real=True)
    return _ols_block(m)


def _fft_seconds(n: int, m: int, size: int) -> float:
    f = _block_size(m, n)
    if _single_fft(m, n + m - 1):
        return FFT_OVERHEAD_S + FFT_NS_PER_POINT[size] * f * math.log2(f) * 1e-9
    per = FFT_NS_PER_POINT[size] * f * math.log2(f) / (f - m + 1)
    return FFT_OVERHEAD_S + n * per * 1e-9


def _direct_seconds(n: int, m: int, size: int) -> float:
    per = DIRECT_NS_PER_MAC[size] * m
    if DIRECT_FLOOR_TAPS[0] <= m <= DIRECT_FLOOR_TAPS[1]:
        per = max(per, DIRECT_FLOOR_NS[size])
    return n * per * 1e-9


def _sparse_taps(c: NDArray[np.floating]) -> NDArray[np.intp] | None:
    """The nonzero taps of a sparse kernel (a quarter of its taps or fewer, at most 64:
    ``seasonal_difference(s)``, ``delta(k)``), summed directly one shifted copy of the
    series at a time; None for other kernels."""
    if c.size < 8:
        return None
    nz = np.flatnonzero(c)
    return nz if 4 * nz.size <= c.size and nz.size <= 64 else None


def choose_method(op: Kernel | Transfer, n: int, dtype: Any = np.float64) -> Method:
    """The method ``apply(..., method="auto")`` uses for a series of length ``n``.

    Parameters
    ----------
    op : Kernel or Transfer
        The operator.
    n : int
        Length of each series.
    dtype : dtype, default float64
        Working precision (float32 or float64).

    Returns
    -------
    str
        ``'recursive'`` for a Transfer; ``'direct'`` or ``'fft'`` for a Kernel.

    Notes
    -----
    A Kernel of ``m`` taps costs about ``n m`` multiply-adds directly (``n`` times its
    nonzero taps for a sparse kernel, which the direct sum reads alone) and about
    ``n F log2(F) / (F - m + 1)`` operations by overlap-save with blocks of ``F`` points;
    the constants of both (module-level ``DIRECT_*`` and ``FFT_*``) were measured by
    ``benchmarks/bench_apply.py --calibrate``. Kernels longer than ``MAX_DIRECT`` taps
    always go to the FFT: multithreaded BLAS makes long direct sums erratic.

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
    taps = _sparse_taps(op.coef)
    if taps is not None:
        m = taps.size  # the direct sum reads the nonzero taps only
    if m > MAX_DIRECT:
        return "fft"
    n = max(int(n), 1)
    size = 4 if np.dtype(dtype).itemsize <= 4 else 8
    # short kernels: cheaper per sample than any FFT block (skips the model's arithmetic)
    if m < DIRECT_FLOOR_TAPS[0] and DIRECT_NS_PER_MAC[size] * m < FFT_NS_PER_POINT[size] * _LOG2_MIN_BLOCK:
        return "direct"
    return "direct" if _direct_seconds(n, m, size) <= _fft_seconds(n, m, size) else "fft"


# ---------------------------------------------------------------------------------------
# FIR core on 2-D arrays (rows = series, last axis = time)
#
# Everything is expressed with the full convolution ``full[j] = sum_k c[k] x[j - k]``
# (zero outside the series), ``0 <= j < n + m - 1``: mode 'full' is full[0 : n + m - 1],
# 'valid' is full[m - 1 : n], and 'same' output t is full[t + origin].
# ---------------------------------------------------------------------------------------
def _ols_into(x2: NDArray[np.floating], c: NDArray[np.floating], j0: int, j1: int, out: NDArray[np.floating]) -> None:
    """Overlap-save (:mod:`tsconv._fftcore`): write ``full[j0:j1]`` of every row into ``out`` (rows, j1 - j0)."""
    m = c.size
    f = min(_ols_block(m), scipy.fft.next_fast_len(j1 - j0 + m - 1, real=True))
    OverlapSave(c, f).into(x2, j0, j1, out, BATCH_POINTS)


def _full_range_into(
    x2: NDArray[np.floating], c: NDArray[np.floating], j0: int, j1: int, method: str, out: NDArray[np.floating]
) -> None:
    """``full[j0:j1]`` of every row of ``x2`` into ``out``, by ``method`` (zeros outside the support).

    Large problems are cut into independent pieces (rows, or ranges of outputs) run on
    threads: numpy's convolution, scipy.fft and lfilter release the GIL.
    """
    rows = x2.shape[0]
    workers = _workers(PARALLEL_WORKERS)
    if not _parallel(rows * (j1 - j0), method, c.size) or method == "recursive":
        _full_range_serial(x2, c, j0, j1, method, out)
        return
    if rows >= workers:
        parts = [(int(p[0]), int(p[-1]) + 1) for p in np.array_split(np.arange(rows), workers)]
        list(_threads().map(lambda p: _full_range_serial(x2[p[0] : p[1]], c, j0, j1, method, out[p[0] : p[1]]), parts))
        return
    # at least one piece per worker, and pieces of at most 2**21 outputs so that the
    # temporaries of the pieces in flight stay small
    pieces = max(min(workers, (j1 - j0) // PARALLEL_MIN_OUTPUTS), -(-(j1 - j0) // (1 << 21)))
    edges = np.linspace(j0, j1, pieces + 1).astype(np.int64)
    if method == "fft":
        # the pieces start on the block grid of one overlap-save pass over [j0, j1):
        # the same blocks, so the same bits, as in one thread
        step = _ols_block(c.size) - c.size + 1
        edges[1:-1] = j0 + (edges[1:-1] - j0) // step * step
    tasks = [(r, int(lo), int(hi)) for r in range(rows) for lo, hi in zip(edges[:-1], edges[1:])]
    list(
        _threads().map(
            lambda t: _full_range_serial(x2[t[0] : t[0] + 1], c, t[1], t[2], method, out[t[0] : t[0] + 1, t[1] - j0 : t[2] - j0]),
            tasks,
        )
    )


def _full_range_serial(
    x2: NDArray[np.floating], c: NDArray[np.floating], j0: int, j1: int, method: str, out: NDArray[np.floating]
) -> None:
    rows, n = x2.shape
    m = c.size
    if method == "fft":
        a = max(j0 - m + 1, 0)  # the input samples that reach outputs j0 .. j1 - 1
        b = min(j1, n)
        if _single_fft(m, b - a + m - 1):
            convolve_single_into(x2, c, a, b, j0, j1, out, BATCH_POINTS)
        else:
            _ols_into(x2, c, j0, j1, out)
        return
    a, b = max(j0, 0), min(j1, n + m - 1)  # the outputs inside the support
    if a > j0 or b < j1:
        out[...] = 0.0
    if b <= a:
        return
    taps = _sparse_taps(c) if method == "direct" else None
    if taps is not None:
        # one shifted copy of the series per nonzero tap: full[j] += c[k] x[j - k], the
        # first written in place (zeros where it does not reach), the others added
        seg = out[:, a - j0 : b - j0]
        tmp = None
        for i, k in enumerate(int(t) for t in taps):
            lo = max(a, k) - a
            hi = max(min(b, n + k) - a, lo)  # outputs a + lo .. a + hi - 1 reach x[0 .. n - 1]
            if i == 0:
                seg[:, :lo] = 0.0
                seg[:, hi:] = 0.0
                np.multiply(x2[:, lo + a - k : hi + a - k], c[k], out=seg[:, lo:hi])
            elif hi > lo:
                tmp = np.empty_like(seg) if tmp is None else tmp
                np.multiply(x2[:, lo + a - k : hi + a - k], c[k], out=tmp[:, lo:hi])
                seg[:, lo:hi] += tmp[:, lo:hi]
    elif method == "direct":
        # only the samples x[a - m + 1 .. b - 1] reach outputs a .. b - 1
        s0, s1 = max(a - m + 1, 0), min(b, n)
        for r in range(rows):
            out[r, a - j0 : b - j0] = np.convolve(x2[r, s0:s1], c, "full")[a - s0 : b - s0]
    else:  # recursive: lfilter with a = [1] runs the FIR as a recursion
        xp = np.zeros((rows, n + m - 1), dtype=x2.dtype)
        xp[:, :n] = x2
        out[:, a - j0 : b - j0] = scipy.signal.lfilter(c, [1.0], xp, axis=-1)[:, a:b]


def _full_range(x2: NDArray[np.floating], c: NDArray[np.floating], j0: int, j1: int, method: str) -> NDArray[np.floating]:
    out = np.empty((x2.shape[0], j1 - j0), dtype=x2.dtype)
    _full_range_into(x2, c, j0, j1, method, out)
    return out


def _support_hits(mask: NDArray[np.bool_], c: NDArray[np.floating], j0: int, j1: int) -> NDArray[np.bool_]:
    """Whether a flagged sample meets a nonzero tap of ``c`` in the window
    ``x[j - m + 1 .. j]`` of each full index ``j`` in [j0, j1) (a zero tap does not read
    its sample: ``delta(k)`` and ``seasonal_difference`` read two, as pandas' ``shift`` and
    ``diff`` do; an all-zero kernel counts its whole window)."""
    nz = c != 0
    if not nz.any():
        nz = np.ones_like(nz)
    # runs of nonzero taps a .. b: the samples x[j - b .. j - a], counted by prefix sums
    edges = np.flatnonzero(np.diff(np.r_[0, nz.astype(np.int8), 0]))
    n = mask.shape[-1]
    cs = np.zeros((mask.shape[0], n + 1), dtype=np.int64)
    np.cumsum(mask, axis=-1, dtype=np.int64, out=cs[:, 1:])
    j = np.arange(j0, j1)
    out = np.zeros((mask.shape[0], j.size), dtype=bool)
    for a, b in zip(edges[::2], edges[1::2] - 1):
        out |= (cs[:, np.clip(j - a + 1, 0, n)] - cs[:, np.clip(j - b, 0, n)]) > 0
    return out


def _screen(x2: NDArray[np.floating]) -> NDArray[np.bool_] | None:
    """Mask of the non-finite samples, or None when there is none.

    The quick test is one sum (a single read of the data, no temporary): it is finite
    exactly when every sample is, up to an overflow, which only sends us to the exact
    check. Not a BLAS dot product: multithreaded BLAS stalls on a busy machine
    (20 ms instead of 0.06 ms for 1e6 points measured here).
    """
    flat = x2.reshape(-1)
    if flat.size <= 65536:  # small: entering np.errstate would cost more than the test
        if np.isfinite(flat).all():
            return None
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            quick = np.add.reduce(flat)
        if np.isfinite(quick):
            return None
    mask = ~np.isfinite(x2)
    return mask if mask.any() else None


def _raise_nonfinite(x2: NDArray[np.floating], shape: tuple[int, ...], axis: int = -1) -> None:
    """The first non-finite sample, named by its index in the caller's array (``shape``:
    its shape with time moved last; ``axis``: where time was)."""
    bad = first_nonfinite(x2)
    assert bad is not None
    row, t = bad
    if x2.shape[0] == 1 and len(shape) <= 1:
        where: Any = t
    else:
        lead = [int(i) for i in np.unravel_index(row, shape[:-1])]
        lead.insert(axis % len(shape), t)
        where = tuple(lead)
    raise ValueError(f"x has a non-finite value {float(x2[bad])!r} at index {where} (nan_policy='raise')")


def _too_short(n: int, m: int) -> ValueError:
    return ValueError(f"x (length {n}) is shorter than the kernel ({m} taps) in mode='valid'")


def _apply_kernel(
    k: Kernel, x2: NDArray[np.floating], mode: Mode, method: str, nan_policy: str, shape: tuple[int, ...] = (),
    axis: int = -1,
) -> NDArray[np.floating]:
    """Apply a Kernel to each row of the C-contiguous 2-D array ``x2``."""
    rows, n = x2.shape
    m, o = len(k), k.origin
    c = k.coef if x2.dtype == np.float64 else k.coef.astype(x2.dtype)
    if mode == "valid" and n < m:
        raise _too_short(n, m)
    if method == "auto":
        if m < DIRECT_FLOOR_TAPS[0] and m <= _ALWAYS_DIRECT[x2.dtype.itemsize]:
            method = "direct"  # choose_method's short-kernel answer, without its overhead
        else:
            method = choose_method(k, n if mode != "full" else n + m - 1, x2.dtype)
    if (
        method == "direct"
        and rows == 1
        and nan_policy != "omit"
        and n >= CONCURRENT_SCREEN_MIN
        and _workers(PARALLEL_WORKERS) >= 2
        and not _parallel(n, method, m)
    ):
        # one long series, a short kernel: screen on a second core while this one
        # convolves, and redo the (rare) series that holds a non-finite value
        pending = _threads().submit(_screen, x2)
        out = _convolve_kernel(c, o, x2, mode, method)
        mask = pending.result()
        if mask is None:
            return out
    else:
        mask = _screen(x2)
    if mask is not None and nan_policy == "raise":
        _raise_nonfinite(x2, shape or x2.shape, axis)
    if nan_policy == "omit" and (mask is not None or mode != "valid"):  # 'same' and 'full' reach outside
        return _apply_kernel_omit(c, o, x2, mask, mode, method)
    xin = x2 if mask is None else np.where(mask, x2.dtype.type(0), x2)
    out = _convolve_kernel(c, o, xin, mode, method)
    if mask is not None:
        j0, j1 = _output_range(n, m, o, mode)
        t0 = j0 - o if mode == "same" else 0
        hits = _support_hits(mask, c, j0, j1)
        out[:, t0 : t0 + (j1 - j0)][hits] = np.nan
    return out


def _output_range(n: int, m: int, o: int, mode: str) -> tuple[int, int]:
    """The range [j0, j1) of full-convolution indices a mode returns (complete windows for 'same')."""
    if mode == "full":
        return 0, n + m - 1
    if mode == "valid":
        return m - 1, n
    # same: output t = full[t + o], complete for m - 1 <= t + o <= n - 1
    return max(m - 1, o), min(n - 1, n - 1 + o) + 1


def _convolve_kernel(
    c: NDArray[np.floating], o: int, xin: NDArray[np.floating], mode: Mode, method: str
) -> NDArray[np.floating]:
    """The convolution of every row of the finite array ``xin`` in ``mode`` (NaN edges in 'same')."""
    rows, n = xin.shape
    m = c.size
    j0, j1 = _output_range(n, m, o, mode)
    if mode == "same":
        # one row, direct, lag 0 inside the kernel: the full convolution holds the answer
        # as a slice, so no copy is made
        if method == "direct" and rows == 1 and 0 <= o <= m - 1 and not _parallel(n, method, m) and _sparse_taps(c) is None:
            y = np.convolve(xin[0], c, "full")[o : o + n]
            if m - 1 - o > 0:
                y[: m - 1 - o] = np.nan
            if o > 0:
                y[max(n - o, 0) :] = np.nan
            out = y[None, :]
        else:
            out = np.empty((rows, n), dtype=xin.dtype)
            t0, t1 = j0 - o, max(j1 - o, j0 - o)
            out[:, :t0] = np.nan
            out[:, t1:] = np.nan
            if t1 > t0:
                _full_range_into(xin, c, j0, j1, method, out[:, t0:t1])
    elif method == "direct" and rows == 1 and not _parallel(j1 - j0, method, m) and _sparse_taps(c) is None:
        out = np.convolve(xin[0], c, mode)[None, :]
    else:
        out = _full_range(xin, c, j0, j1, method)
    return out


def _apply_kernel_omit(
    c: NDArray[np.floating], o: int, x2: NDArray[np.floating], mask: Any, mode: str, method: str
) -> NDArray[np.floating]:
    """Weights renormalized over the observed values (out-of-range samples are missing)."""
    total = float(c.sum())
    scale = float(np.abs(c).sum())
    if total == 0.0 or abs(total) <= 1e-12 * scale:
        raise ValueError(
            "nan_policy='omit' renormalizes the weights over observed values and needs a kernel "
            f"whose coefficients sum to a non-zero value, got sum {total!r}"
        )
    n, m = x2.shape[-1], c.size
    if mode == "full":
        j0, j1 = 0, n + m - 1
    elif mode == "valid":
        j0, j1 = m - 1, n
    else:
        j0, j1 = o, o + n
    if mask is None:
        mask = np.zeros(x2.shape, dtype=bool)
    obs = (~mask).astype(x2.dtype)
    num = _full_range(np.where(mask, x2.dtype.type(0), x2), c, j0, j1, method)
    den = _full_range(obs, c, j0, j1, method)
    seen = _support_hits(~mask, c, j0, j1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = num / den * c.dtype.type(total)
    # no observation in the window, or observed weights that cancel: undefined. The
    # threshold sits well above the rounding error of an FFT in this precision.
    tiny = float(np.finfo(x2.dtype).eps) ** 0.75 * scale
    y[~seen | (np.abs(den) <= tiny)] = np.nan
    return y


def _segments(b: NDArray[np.floating], a: NDArray[np.floating], n: int) -> int:
    """How many segments the recursion of one series of ``n`` samples runs in on threads (0: none).

    An even number of segments of 1-2 RECURSIVE_MIN_SEGMENT samples, by the length alone
    (the same segments, and so the same bits, whatever the number of threads), when the
    zero-input response each segment adds settles within RECURSIVE_MAX_SETTLE of it.
    """
    segments = (n // RECURSIVE_MIN_SEGMENT) & ~1
    if segments < 2 or _recursion.order(b, a) > RECURSIVE_MAX_ORDER:
        return 0
    if _recursion.settle_length(a) > RECURSIVE_MAX_SETTLE * (n // segments):
        return 0
    return segments


def _lfilter_rows(b: NDArray[np.floating], a: NDArray[np.floating], x2: NDArray[np.floating]) -> NDArray[np.floating]:
    """``lfilter(b, a, row)`` of every row of ``x2`` (zero pre-sample state)."""
    rows, n = x2.shape
    workers = _workers(RECURSIVE_WORKERS)
    # With threads, long series run in segments (tsconv._recursion), all rows at once. One
    # thread runs the plain recursion (segments in turn would only add the corrections).
    segments = _segments(b, a, n) if workers >= 2 else 0
    if segments:
        edges = np.linspace(0, n, segments + 1).astype(np.int64)
        return _recursion.run(b, a, x2, edges, _threads().map)
    if workers < 2 or rows < 2 or rows * n < 2 * RECURSIVE_MIN_SEGMENT:
        return scipy.signal.lfilter(b, a, x2, axis=-1)
    # many shorter series: split the rows (lfilter treats each row alone: same bits)
    parts = np.array_split(np.arange(rows), min(workers, rows))
    y = np.empty(x2.shape, dtype=np.result_type(x2.dtype, b.dtype, a.dtype))

    def run(idx: NDArray[np.intp]) -> None:
        y[idx[0] : idx[-1] + 1] = scipy.signal.lfilter(b, a, x2[idx[0] : idx[-1] + 1], axis=-1)

    list(_threads().map(run, parts))
    return y


def check_transfer_options(mode: str, method: str) -> None:
    """The modes and methods a Transfer supports (also used by :mod:`tsconv.dask`)."""
    if mode != "same":
        raise ValueError(f"a Transfer (IIR operator) has infinite support and supports only mode='same', got mode={mode!r}")
    if method not in ("auto", "recursive"):
        raise ValueError(
            f"a Transfer is applied by recursion: method must be 'auto' or 'recursive', got method={method!r} "
            "(apply tr.impulse_response(n) for a truncated FIR)"
        )


def _carry_forward(y: NDArray[np.floating]) -> NDArray[np.floating]:
    """NaN of every row replaced by the row's last non-NaN value (NaN before the first)."""
    last = np.where(~np.isnan(y), np.arange(y.shape[-1]), 0)
    np.maximum.accumulate(last, axis=-1, out=last)
    return np.take_along_axis(y, last, axis=-1)


def _holds_over_gaps(b: NDArray[np.floating], a: NDArray[np.floating]) -> bool:
    """Is ``b / a`` a decaying exponential (an ema)? Its weights are positive, so with
    ``nan_policy='omit'`` its output over a gap is its last value (pandas' ``ewm``)."""
    return b.size == 1 and a.size == 2 and b[0] > 0 and a[0] > 0 and 0 <= -a[1] / a[0] < 1


def _omit_ratio(num: NDArray[np.floating], den: NDArray[np.floating], missing: NDArray[np.bool_], gain: float,
                holds: bool) -> NDArray[np.floating]:
    """The output of ``nan_policy='omit'`` from the filtered zero-filled data ``num`` and the
    filtered observed indicator ``den``: ``num / den`` times the DC ``gain``, NaN where it
    is undefined (before the first observation; ``den`` ~ 0). ``holds``
    (:func:`_holds_over_gaps`): NaN at every ``missing`` step, which the caller fills with the
    last value. Over a gap num and den decay alike, so that is the exact value; their
    ratio is not, once they decay into subnormal floats (a 300-step gap at alpha 0.3 in
    float32 gave values from 1 to 37 between readings of 20 and 21)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        y = num / den * num.dtype.type(gain)
    if holds:
        y[missing] = np.nan
    else:
        y[np.abs(den) <= float(np.finfo(num.dtype).eps) ** 0.75 * abs(gain)] = np.nan
    return y


def _apply_transfer(
    tr: Transfer, x: NDArray[np.floating], mode: str, method: str, nan_policy: str, shape: tuple[int, ...] = (),
    axis: int = -1,
) -> NDArray[np.floating]:
    check_transfer_options(mode, method)
    b = tr.num.coef if x.dtype == np.float64 else tr.num.coef.astype(x.dtype)
    a = tr.den.coef if x.dtype == np.float64 else tr.den.coef.astype(x.dtype)
    mask = _screen(x)
    if mask is not None and nan_policy == "raise":
        _raise_nonfinite(x, shape or x.shape, axis)
    if nan_policy == "omit":
        gain = float(b.sum()) / float(a.sum()) if a.sum() != 0 else np.inf
        if not np.isfinite(gain) or gain == 0.0:
            raise ValueError(
                "nan_policy='omit' renormalizes the weights over observed values and needs a finite, "
                f"non-zero DC gain num(1)/den(1), got {gain!r}"
            )
        if mask is None:
            mask = np.zeros(x.shape, dtype=bool)
        num = _lfilter_rows(b, a, np.where(mask, x.dtype.type(0), x))
        den = _lfilter_rows(b, a, (~mask).astype(x.dtype))
        holds = _holds_over_gaps(b, a)
        y = _omit_ratio(num, den, mask, gain, holds)
        return _carry_forward(y) if holds else y
    # propagate: a non-finite value poisons every later output (infinite memory)
    xin = x if mask is None else np.where(mask, x.dtype.type(np.nan), x)
    return _lfilter_rows(b, a, xin)


def _apply_array(
    op: Kernel | Transfer, x: NDArray[np.floating], mode: Mode, method: str, axis: int, nan_policy: str
) -> NDArray[np.floating]:
    if x.ndim == 1:
        x2 = x[None, :] if x.flags.c_contiguous else np.ascontiguousarray(x)[None, :]
        lead: tuple[int, ...] = ()
    else:
        moved = np.moveaxis(x, axis, -1)
        lead = moved.shape[:-1]
        x2 = np.ascontiguousarray(moved).reshape(-1, moved.shape[-1])
    if x2.shape[-1] == 0:
        raise ValueError(f"x must not be empty along axis {axis}, got shape {x.shape}")
    if isinstance(op, Transfer):
        y2 = _apply_transfer(op, x2, mode, method, nan_policy, (*lead, x2.shape[-1]), axis)
    else:
        y2 = _apply_kernel(op, x2, mode, method, nan_policy, (*lead, x2.shape[-1]), axis)
    if y2.dtype != x.dtype:
        y2 = y2.astype(x.dtype)
    if x.ndim == 1:
        return y2[0]
    return np.moveaxis(y2.reshape(*lead, y2.shape[-1]), -1, axis)


def apply(
    op: Kernel | Transfer,
    x: ArrayLike,
    *,
    mode: Mode = "same",
    method: Method = "auto",
    axis: int = -1,
    nan_policy: NanPolicy = "propagate",
    workers: int | None = None,
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
        ``'direct'``: ``numpy.convolve``; ``'fft'``: one real FFT for short problems,
        overlap-save with batched real FFTs (``scipy.fft``) otherwise, written straight
        into the output; ``'recursive'``: ``scipy.signal.lfilter`` (the only method for a
        Transfer); ``'auto'``: the cheapest by the cost model of :func:`choose_method`.
    axis : int, default -1
        The time axis of an n-D array; the other axes are independent series.
    nan_policy : {'propagate', 'raise', 'omit'}, default 'propagate'
        Non-finite values (NaN, +-inf) are missing values. ``'propagate'``: every output
        whose window holds one under a nonzero tap is NaN (a zero tap does not read its
        sample; for a Transfer, every later output).
        ``'raise'``: ``ValueError`` naming the first one. ``'omit'``: the weights are
        renormalized over the observed values of each window so that they keep their
        sum (samples outside the series count as missing too, so ``'same'`` has no NaN
        edges and the edges of ``'full'`` are means of the samples they reach, with or
        without a missing value inside); it needs a kernel whose weights do not sum to zero.
    workers : int or None, default None
        Threads for long work, as in :func:`scipy.fft.fft`: ``None`` lets the engine
        decide (up to ``min(os.cpu_count(), 4)`` threads, and only for series long
        enough to gain: about 2**19 outputs for a kernel, 2**21 samples for a
        recursion); ``1`` runs everything in the calling thread; ``n`` allows up to
        ``n`` threads; ``-1`` every core, ``-2`` all but one, and so on. The work is cut
        by the data's size alone, so any number of threads gives the same bits, with one
        exception: with threads a long recursion (a Transfer on 2**21 samples or more
        whose zero-input response dies out within a quarter of a segment) runs in
        segments joined by the carried state's zero-input response, which differs from
        the plain recursion of ``workers=1`` by rounding.

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
    choose_method : the method ``'auto'`` picks.
    stochastic_apply : the random reading of a probability kernel.

    Notes
    -----
    A Kernel gives ``y[t] = sum_k coef[k] x[t - k + origin]``: in terms of the full
    convolution ``full[j] = sum_k coef[k] x[j - k]``, mode ``'same'`` is
    ``full[t + origin]`` where the window ``x[t + origin - m + 1 .. t + origin]`` lies
    inside the series. Overlap-save cuts the series into blocks of ``F`` samples
    overlapping by ``m - 1`` and keeps the ``F - m + 1`` outputs of each circular
    convolution that equal the linear one (Oppenheim & Schafer, *Discrete-Time Signal
    Processing*, 3rd ed., 2010, sec. 8.7.3); blocks of about ``4m`` points cost
    ``O(log m)`` per sample, against ``m`` for the direct sum. The extra memory is one
    output plus a few MB of blocks. With ``'omit'``,
    ``y[t] = sum(coef) * sum_obs coef[k] x[i] / sum_obs coef[k]`` over the observed
    samples of each window.

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
    # membership tests first: the checks cost microseconds, and short series matter
    if type(mode) is not str or mode not in _MODES:
        check_option(mode, Mode, "mode")
    if type(method) is not str or method not in _METHODS:
        check_option(method, Method, "method")
    if type(nan_policy) is not str or nan_policy not in _NAN_POLICIES:
        check_option(nan_policy, NanPolicy, "nan_policy")
    token = _WORKERS.set(as_workers(workers)) if workers is not None else None
    try:
        if isinstance(x, (pd.Series, pd.DataFrame)):
            return _apply_pandas(op, x, mode, method, axis, nan_policy)
        if type(x) is np.ndarray and x.dtype.kind == "f" and x.dtype.itemsize in (4, 8) and x.size:
            arr = x
        else:
            arr = as_float_array(x, "x")
        if arr.ndim == 0:
            raise ValueError(f"x must have at least one dimension, got a scalar {arr.item()!r}")
        ax = axis if (axis == -1 and type(axis) is int) else as_axis(axis, arr.ndim)
        return _apply_array(op, arr, mode, method, ax, nan_policy)
    finally:
        if token is not None:
            _WORKERS.reset(token)


def _pandas_values(x: Any, name: str = "x") -> NDArray[np.floating]:
    """The float values of a Series/DataFrame (nullable numeric dtypes: NA becomes NaN);
    a TypeError naming ``name`` unless they are real numeric."""
    dtypes = [x.dtype] if isinstance(x, pd.Series) else list(x.dtypes)
    nullable = [
        isinstance(d, pd.api.extensions.ExtensionDtype) and pd.api.types.is_numeric_dtype(d)
        and not pd.api.types.is_bool_dtype(d) for d in dtypes
    ]
    if dtypes and all(nullable):
        return x.to_numpy(dtype=np.float64, na_value=np.nan)
    if any(nullable):  # numpy columns beside nullable ones: each column on its own
        cols = [x.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan) if nb else as_float_array(x.iloc[:, j].to_numpy(), name)
                for j, nb in enumerate(nullable)]
        return np.column_stack(cols).astype(np.result_type(*cols), copy=False)
    return as_float_array(x.to_numpy(), name, ndim=(1, 2))


def _apply_pandas(op: Kernel | Transfer, x: Any, mode: Mode, method: str, axis: Any, nan_policy: str) -> Any:
    if axis not in (-1, 0) or isinstance(axis, bool):
        raise ValueError(f"for pandas input time runs down the index; leave axis at its default, got axis={axis!r}")
    if mode == "full":
        raise ValueError("mode='full' runs past the index of a pandas input; use mode='same' or 'valid', or pass x.to_numpy()")
    vals = _pandas_values(x)
    if nan_policy == "raise" and not np.isfinite(vals).all():
        r, *col = np.argwhere(~np.isfinite(vals))[0]
        at = f"index label {x.index[r]!r}" + (f", column {x.columns[col[0]]!r}" if col else "")
        raise ValueError(f"x has a non-finite value {float(vals[(r, *col)])!r} at {at} (nan_policy='raise')")
    y = _apply_array(op, vals, mode, method, 0, nan_policy)
    index = x.index
    if mode == "valid":
        # valid output j is 'same' output t = j + m - 1 - origin: keep the t on the index
        assert isinstance(op, Kernel)  # a Transfer has mode 'same' only (check_transfer_options)
        n, m, o = vals.shape[0], len(op), op.origin
        start = m - 1 - o
        lo, hi = max(0, -start), y.shape[0] - max(0, start + y.shape[0] - n)
        y = y[lo:hi]
        index = index[start + lo : start + hi]
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
        The operator. A Kernel keeps its last ``m - 1`` samples (plus the delay of a
        negative origin); a Transfer keeps the ``lfilter`` state of its recursion.
    nan_policy : {'propagate', 'raise'}, default 'propagate'
        As for :func:`apply`; ``'raise'`` names the stream index of the first non-finite
        sample. (``'omit'`` is not offered: its renormalization is not incremental here.)

    Notes
    -----
    Chunks may have any length, including zero, and any leading shape that stays the
    same (time on the last axis). Output ``t`` of a Kernel is final once sample
    ``t + origin`` arrived; its window needs samples ``t + origin - m + 1 ..``, so the
    state is ``O(m)`` whatever the stream's length.

    See Also
    --------
    apply : the whole-series equivalent.

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
            # outputs are final once the last sample of their window (t + origin) arrived
            self._ahead = max(op.origin, 0)
            self._kernel = Kernel(op.coef)  # windows by their last sample: origin 0
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
        lead = self._lead
        assert lead is not None  # set by _check_chunk
        x2 = np.ascontiguousarray(x).reshape(math.prod(lead), L)
        if isinstance(self.op, Transfer):
            b, a = self.op.num.coef, self.op.den.coef
            if self._zi is None:
                nz = max(len(a), len(b)) - 1
                self._zi = np.zeros((x2.shape[0], nz))
            xin = np.where(np.isfinite(x2), x2, np.nan)
            if L == 0:
                y = np.zeros(x2.shape, dtype=self._dtype)
            elif self._zi.shape[-1] == 0:
                y = scipy.signal.lfilter(b, a, xin, axis=-1)
            else:
                y, self._zi = scipy.signal.lfilter(b, a, xin, axis=-1, zi=self._zi)
            self._seen += L
            self._emitted += L
            return y.astype(self._dtype, copy=False).reshape(x.shape)
        m, o = len(self.op), self.op.origin
        buf = self._buf if self._buf is not None else np.zeros((x2.shape[0], 0), dtype=x2.dtype)
        ext = np.concatenate([buf, x2], axis=-1)
        ext_start = self._seen - buf.shape[-1]
        self._seen += L
        t0, t1 = self._emitted, self._seen - self._ahead  # outputs [t0, t1) are final now
        out = np.full((x2.shape[0], max(t1 - t0, 0)), np.nan, dtype=x2.dtype)
        if t1 > t0 and ext.shape[-1] >= m:
            y = _apply_kernel(self._kernel, ext, "valid", "auto", "propagate")
            # y[:, j] is the window ending at global sample ext_start + m - 1 + j: output t - o
            tmin = ext_start + m - 1 - o
            lo, hi = max(t0, tmin), min(t1, tmin + y.shape[-1])
            if hi > lo:
                out[:, lo - t0 : hi - t0] = y[:, lo - tmin : hi - tmin]
        self._emitted = max(t1, t0)
        # keep what the next output's window needs: samples from emitted + o - m + 1 on
        keep = max(self._emitted + o - m + 1 - ext_start, 0)
        self._buf = ext[:, keep:].copy()
        return out.reshape(*lead, out.shape[-1])

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

    Returns
    -------
    ndarray
        Same shape and float dtype as ``x``; NaN where the window is incomplete.

    Raises
    ------
    TypeError
        If ``kernel`` is not a Kernel or ``x`` is not real numeric.
    ValueError
        If the kernel is not a probability kernel.

    Notes
    -----
    With ``P(lag = l) = coef[l + origin]``, ``E[y_t] = sum_l P(l) x[t - l]``, which is
    ``apply(kernel, x)[t]``, and ``Var[y_t] = sum_l P(l) x[t - l]**2 - E[y_t]**2``: the
    mean of ``R`` independent draws converges at the CLT rate ``sqrt(Var / R)``. A
    Gaussian kernel read this way is one step of a discrete random walk whose transition
    density (propagator) is the kernel (Feller, *An Introduction to Probability Theory
    and Its Applications*, vol. 1, ch. XIV).

    See Also
    --------
    apply : the expectation, computed exactly.

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
