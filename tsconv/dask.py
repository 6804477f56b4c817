"""Scale out on Dask: out-of-core series, panels of many series, sharded catalogs.

``import tsconv.dask`` (the optional ``dask`` extra: ``pip install "tsconv[dask]"``); plain
``import tsconv`` never imports Dask. Every function here is a thin shell over the
in-memory one and returns the same numbers:

* :func:`apply` filters a ``dask.array`` chunked along time (any number of series) with a
  :class:`~tsconv.Kernel` (``map_overlap`` with the kernel's support as depth) or a
  :class:`~tsconv.Transfer` (per-chunk states joined by a short sequential scan);
  :class:`Stream` does the same for data that arrives as a sequence of Dask arrays.
* :func:`fit_arima`, :func:`forecast` and :func:`verify` fit, forecast and score every
  series of a long ``dask.dataframe`` (``unique_id``, ``ds``, ``y``), one batched
  :func:`tsconv.fit_arima` per partition, each series in one partition.
* :class:`ShardedMatcher` is a :class:`tsconv.audio.Matcher` whose catalog is sharded
  across workers: each keeps its shards' whitened spectra, a query sends only the clip.

Results are lazy (arrays and data frames); compute them with any Dask scheduler (threads,
processes or a ``dask.distributed`` cluster). See ``docs/scaling.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import math
import os
import uuid
from typing import Any, Literal

import dask
import dask.array as da
import dask.threaded
import numpy as np
import pandas as pd
import scipy.signal
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph
from numpy.typing import ArrayLike, NDArray

from tsconv._validation import as_axis, as_int, check_option, check_real_dtype
from tsconv.forecast import check_level, level_label, reject_old_keywords
from tsconv.audio.io import _check_sr, to_mono
from tsconv.audio import catalog as _catalog
from tsconv.audio import matcher as _mt
from tsconv.audio.matcher import Match, Matcher
from tsconv.engine import Method, Mode, NanPolicy, _as_op, check_transfer_options, choose_method
from tsconv.engine import apply as _apply_memory
from tsconv.kernel import Kernel, Transfer

__all__ = ["apply", "Stream", "fit_arima", "forecast", "verify", "ShardedMatcher"]

StreamNanPolicy = Literal["propagate", "raise"]


# ---------------------------------------------------------------------------------------
# Input funnel
# ---------------------------------------------------------------------------------------
def _as_dask_float(x: Any, name: str = "x") -> da.Array:
    """A floating dask array with the dtype rules of ``as_float_array`` (lazily cast)."""
    if not isinstance(x, da.Array):
        raise TypeError(
            f"{name} must be a dask.array.Array, got {type(x).__name__} "
            "(use tsconv.apply for in-memory arrays, or dask.array.from_array to wrap one)"
        )
    check_real_dtype(x.dtype, name)
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    if any(math.isnan(s) for s in x.shape):
        raise ValueError(f"{name} must have known chunk sizes, got shape {x.shape} (call x.compute_chunk_sizes())")
    if x.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {x.shape}")
    target = np.float32 if x.dtype.kind == "f" and x.dtype.itemsize <= 4 else np.float64
    return x if x.dtype == target else x.astype(target)


def _check_finite_block(block: NDArray[np.floating], block_info: Any = None) -> NDArray[np.floating]:
    """nan_policy='raise' for one block, with the index counted in the whole array."""
    mask = ~np.isfinite(block)
    if mask.any():
        local = np.unravel_index(int(np.argmax(mask.ravel())), block.shape)
        loc = block_info[0]["array-location"] if block_info else [(0, 0)] * block.ndim
        index = tuple(int(i) + int(lo) for i, (lo, _) in zip(local, loc))
        shown = index if len(index) > 1 else index[0]
        raise ValueError(f"x has a non-finite value {block[local]!r} at index {shown} (nan_policy='raise')")
    return block


# ---------------------------------------------------------------------------------------
# Kernel (FIR): map_overlap with the kernel's support as depth
# ---------------------------------------------------------------------------------------
def _kernel_block(block: NDArray[np.floating], op: Kernel, method: Method, nan_policy: NanPolicy) -> NDArray[np.floating]:
    """The in-memory 'same' output of one extended block (time on the last axis)."""
    if block.shape[-1] == 0:
        return block.copy()
    return _apply_memory(op, block, mode="same", method=method, nan_policy=nan_policy)


def _kernel_same(op: Kernel, x: da.Array, method: Method, nan_policy: NanPolicy) -> da.Array:
    n = x.shape[-1]
    m, o = len(op), op.origin
    # the window of output t is x[t + o - m + 1 .. t + o]
    before, after = max(m - 1 - o, 0), max(o, 0)
    if max(before, after) >= n:
        # the kernel is as long as the series: nothing to split
        x = x.rechunk({x.ndim - 1: -1})
        return da.map_blocks(_kernel_block, x, op=op, method=method, nan_policy=nan_policy, dtype=x.dtype)
    depth: dict[int, int | tuple[int, int]] = {ax: 0 for ax in range(x.ndim)}
    depth[x.ndim - 1] = (before, after)
    # map_overlap rechunks where a chunk is shorter than the depth; boundary='none' leaves
    # the ends of the series unpadded, so their NaN edges are the in-memory ones
    return x.map_overlap(
        _kernel_block, depth=depth, boundary="none", trim=True, dtype=x.dtype, op=op, method=method, nan_policy=nan_policy
    )


def _kernel(op: Kernel, x: da.Array, mode: Mode, method: Method, nan_policy: NanPolicy) -> da.Array:
    n = x.shape[-1]
    m, o = len(op), op.origin
    if nan_policy == "omit":
        total, scale = float(op.coef.sum()), float(np.abs(op.coef).sum())
        if total == 0.0 or abs(total) <= 1e-12 * scale:
            raise ValueError(
                "nan_policy='omit' renormalizes the weights over observed values and needs a kernel "
                f"whose coefficients sum to a non-zero value, got sum {total!r}"
            )
    if method == "auto":
        # the method the in-memory engine would choose for the whole series
        method = choose_method(op, n, x.dtype)
    if mode == "same":
        return _kernel_same(op, x, method, nan_policy)
    if mode == "valid":
        if n < m:
            raise ValueError(f"x (length {n}) is shorter than the kernel ({m} taps) in mode='valid'")
        # valid[j] is the complete window x[j .. j + m - 1] whatever the origin: the
        # output of the causal kernel at j + m - 1
        return _kernel_same(Kernel(op.coef, 0), x, method, nan_policy)[..., m - 1 : n]
    # full: the valid windows of x padded with m - 1 samples on each side; padding is
    # observed zeros, except under 'omit', where samples outside the series are missing
    fill = np.nan if nan_policy == "omit" else 0.0
    pad = [(0, 0)] * (x.ndim - 1) + [(m - 1, m - 1)]
    xp = da.pad(x, pad, mode="constant", constant_values=fill) if m > 1 else x
    return _kernel(Kernel(op.coef, 0), xp, "valid", method, nan_policy)


# ---------------------------------------------------------------------------------------
# Transfer (IIR): parallel chunk states, a short sequential scan, parallel outputs
# ---------------------------------------------------------------------------------------
def _iir_coef(tr: Transfer, dtype: Any) -> tuple[NDArray[np.floating], NDArray[np.floating], int]:
    b = tr.num.coef.astype(dtype, copy=False)
    a = tr.den.coef.astype(dtype, copy=False)
    return b, a, max(len(a), len(b)) - 1


def _transition(b: NDArray[np.floating], a: NDArray[np.floating], nz: int) -> NDArray[np.float64]:
    """``A`` of lfilter's state recursion: the final state of one zero sample from zi = e_r is A[:, r]."""
    b64, a64 = b.astype(np.float64), a.astype(np.float64)
    _, zf = scipy.signal.lfilter(b64, a64, np.zeros((nz, 1)), axis=-1, zi=np.eye(nz))
    return np.ascontiguousarray(zf.T)


def _as_rows(block: NDArray[np.floating]) -> NDArray[np.floating]:
    rows = block.reshape(int(np.prod(block.shape[:-1], dtype=np.int64)), block.shape[-1])
    # lfilter's missing-value rule of the engine: +-inf become NaN (poison every later output)
    return rows if np.isfinite(rows).all() else np.where(np.isfinite(rows), rows, np.nan)


def _iir_final_state(block: NDArray[np.floating], b: Any, a: Any, nz: int) -> NDArray[np.float64]:
    """The state at the end of a block filtered from a zero state."""
    rows = _as_rows(block)
    _, zf = scipy.signal.lfilter(b, a, rows, axis=-1, zi=np.zeros((rows.shape[0], nz), dtype=rows.dtype))
    return zf.astype(np.float64)


def _iir_advance(z: NDArray[np.float64], zf0: NDArray[np.float64], power: NDArray[np.float64], feedback: bool) -> NDArray[np.float64]:
    """The state at the end of a block: ``A^L z + zf0`` (linearity of the state recursion).

    Written as an explicit product-sum so that NaN * 0 stays NaN, as in lfilter: with
    feedback (a recursive denominator) a missing value poisons every later state even
    once ``A^L`` underflows to zero; without feedback (an FIR written as a Transfer)
    ``A^L`` is a shift whose zeros are exact, and the state forgets.
    """
    terms = z[:, None, :] * power[None, :, :]
    if not feedback:
        terms[:, power == 0.0] = 0.0
    return zf0 + terms.sum(axis=-1)


def _iir_zero_state(block_shape: tuple[int, ...], nz: int) -> NDArray[np.float64]:
    return np.zeros((int(np.prod(block_shape[:-1], dtype=np.int64)), nz))


def _iir_block(block: NDArray[np.floating], z: NDArray[np.float64], b: Any, a: Any, nz: int) -> NDArray[np.floating]:
    """One block filtered from its true initial state: the in-memory lfilter, resumed."""
    rows = _as_rows(block)
    if nz == 0:
        y = scipy.signal.lfilter(b, a, rows, axis=-1)
    else:
        y, _ = scipy.signal.lfilter(b, a, rows, axis=-1, zi=z.astype(rows.dtype))
    return y.astype(block.dtype, copy=False).reshape(block.shape)


def _iir(tr: Transfer, x: da.Array, z0: Any = None) -> tuple[da.Array, Any]:
    """Chunked lfilter along the last axis; also returns the final states (a graph key).

    ``z0`` is an optional delayed initial state of shape (n_series, nz) for the whole
    array (series in C order of the leading axes); the returned final state has the
    same layout (a Delayed), so a :class:`Stream` can chain calls.
    """
    b, a, nz = _iir_coef(tr, x.dtype)
    token = dask.base.tokenize(x, tr.num.coef, tr.den.coef, z0)
    out = "tsconv-iir-" + token
    zf_name = "tsconv-iir-zf-" + token
    zi_name = "tsconv-iir-zi-" + token
    end_name = "tsconv-iir-end-" + token
    lead_chunks = x.chunks[:-1]
    t_chunks = x.chunks[-1]
    nt = len(t_chunks)
    dsk: dict[Any, Any] = {}
    feedback = bool(np.any(a[1:] != 0))
    A = _transition(b, a, nz) if nz else np.zeros((0, 0))
    powers = {L: np.linalg.matrix_power(A, L) for L in set(t_chunks)} if nz else {}
    lead_blocks = list(itertools.product(*[range(len(c)) for c in lead_chunks]))
    z0_deps: list[Any] = []
    if z0 is not None:
        z0_deps = [z0]
        # rows of the global state that belong to each leading block
        row_of = np.arange(int(np.prod(x.shape[:-1], dtype=np.int64))).reshape(x.shape[:-1]) if x.ndim > 1 else np.zeros((), dtype=np.int64)
        offsets = [np.r_[0, np.cumsum(c)] for c in lead_chunks]
    for lb in lead_blocks:
        bshape = tuple(c[i] for c, i in zip(lead_chunks, lb))
        if z0 is None:
            dsk[(zi_name, *lb, 0)] = (_iir_zero_state, (*bshape, 1), nz)
        else:
            sl = tuple(slice(off[i], off[i + 1]) for off, i in zip(offsets, lb))
            rows = np.asarray(row_of[sl]).ravel()
            dsk[(zi_name, *lb, 0)] = (_take_rows, z0.key, rows)
        for j in range(nt):
            if nz:
                dsk[(zf_name, *lb, j)] = (_iir_final_state, (x.name, *lb, j), b, a, nz)
                dsk[(zi_name, *lb, j + 1)] = (_iir_advance, (zi_name, *lb, j), (zf_name, *lb, j), powers[t_chunks[j]], feedback)
            else:
                dsk[(zi_name, *lb, j + 1)] = (zi_name, *lb, j)
            dsk[(out, *lb, j)] = (_iir_block, (x.name, *lb, j), (zi_name, *lb, j), b, a, nz)
    dsk[end_name] = (_stack_states, [(zi_name, *lb, nt) for lb in lead_blocks], [len(lead_blocks)], x.shape[:-1], lead_chunks)
    deps = [x, *z0_deps]
    graph = HighLevelGraph.from_collections(out, dsk, dependencies=deps)
    y = da.Array(graph, out, x.chunks, dtype=x.dtype)
    end = Delayed(end_name, HighLevelGraph.from_collections(end_name, dsk, dependencies=deps))
    return y, end


def _take_rows(z: NDArray[np.float64], rows: NDArray[np.int64]) -> NDArray[np.float64]:
    return z[rows]


def _stack_states(parts: list[NDArray[np.float64]], _n: Any, lead_shape: tuple[int, ...], lead_chunks: Any) -> NDArray[np.float64]:
    """Final states of every leading block, back in C order of the leading axes."""
    if not lead_shape:
        return parts[0]
    nz = parts[0].shape[-1]
    full = np.empty((*lead_shape, nz))
    offsets = [np.r_[0, np.cumsum(c)] for c in lead_chunks]
    for part, lb in zip(parts, itertools.product(*[range(len(c)) for c in lead_chunks])):
        sl = tuple(slice(off[i], off[i + 1]) for off, i in zip(offsets, lb))
        full[sl] = part.reshape(*[s.stop - s.start for s in sl], nz)
    return full.reshape(int(np.prod(lead_shape)), nz)


def _transfer(tr: Transfer, x: da.Array, mode: Mode, method: Method, nan_policy: NanPolicy) -> da.Array:
    check_transfer_options(mode, method)
    if nan_policy != "omit":
        return _iir(tr, x)[0]
    b, a = tr.num.coef, tr.den.coef
    gain = float(b.sum()) / float(a.sum()) if a.sum() != 0 else np.inf
    if not np.isfinite(gain) or gain == 0.0:
        raise ValueError(
            "nan_policy='omit' renormalizes the weights over observed values and needs a finite, "
            f"non-zero DC gain num(1)/den(1), got {gain!r}"
        )
    # the engine's rule: filter the zero-filled data and the observed indicator
    obs = da.isfinite(x)
    num = _iir(tr, da.where(obs, x, x.dtype.type(0)))[0]
    den = _iir(tr, obs.astype(x.dtype))[0]
    seen = da.cumsum(obs, axis=-1) > 0
    return da.map_blocks(_omit_ratio, num, den, seen, x.dtype.type(gain), dtype=x.dtype)


def _omit_ratio(num: Any, den: Any, seen: Any, gain: Any) -> NDArray[np.floating]:
    with np.errstate(divide="ignore", invalid="ignore"):
        y = num / den * gain
    y[~seen] = np.nan
    return y.astype(num.dtype, copy=False)


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------
def apply(
    op: Kernel | Transfer,
    x: da.Array,
    *,
    mode: Mode = "same",
    method: Method = "auto",
    axis: int = -1,
    nan_policy: NanPolicy = "propagate",
) -> da.Array:
    """Apply a Kernel or Transfer to a Dask array chunked along time, lazily.

    The same operator, options and answers as :func:`tsconv.apply`, for series too long
    for memory or too many for one machine. Every axis but ``axis`` holds independent
    series and may be chunked freely; time may be split into chunks of any size.

    Parameters
    ----------
    op : Kernel or Transfer
        The operator.
    x : dask.array.Array
        Real data (integers become float64, float32 stays float32). Chunk sizes must be
        known.
    mode : {'same', 'valid', 'full'}, default 'same'
        As in :func:`tsconv.apply` (a Transfer supports ``'same'`` only).
    method : {'auto', 'direct', 'fft', 'recursive'}, default 'auto'
        As in :func:`tsconv.apply`; ``'auto'`` picks the method the in-memory engine
        picks for the whole series (not for one chunk), so the two agree to rounding.
    axis : int, default -1
        The time axis.
    nan_policy : {'propagate', 'raise', 'omit'}, default 'propagate'
        As in :func:`tsconv.apply`. ``'raise'`` raises at compute time, naming the index
        in the whole array.

    Returns
    -------
    dask.array.Array
        Lazy result of the in-memory shape (``'valid'`` and ``'full'`` change the length
        along ``axis``) and dtype. Its chunks along time may differ from the input's
        (chunks shorter than the kernel are merged).

    Raises
    ------
    TypeError
        If ``op`` is not a Kernel/Transfer or ``x`` is not a real numeric Dask array.
    ValueError
        For an unknown option, a bad axis, an empty or unknown-shape ``x``, a series
        shorter than the kernel in ``'valid'`` mode, a Transfer with a mode other than
        ``'same'``.

    See Also
    --------
    tsconv.apply : the in-memory engine, applied to every block here.
    Stream : the same for a series that arrives as successive Dask arrays.

    Notes
    -----
    A Kernel of ``m`` taps and origin ``o`` needs, for output ``t``, the samples
    ``x[t + o - m + 1 .. t + o]``: each chunk is extended by ``m - 1 - o`` samples of
    its left neighbour and ``o`` of its right (``dask.array.map_overlap`` with
    ``boundary='none'``), filtered by the in-memory engine, and trimmed back.

    A Transfer ``b(B)/a(B)`` is a linear state recursion
    ``z[t+1] = A z[t] + B x[t]`` (lfilter's transposed direct form II). The final
    state of a chunk of length ``L`` entered with state ``z`` is
    ``A^L z + f``, where ``f`` is the final state of the chunk from a zero state. So
    (1) every chunk computes ``f`` in parallel, (2) a sequential scan
    ``z_{k+1} = A^{L_k} z_k + f_k`` (a few small matrix products per chunk) gives each
    chunk its true initial state, and (3) every chunk is filtered again in parallel
    from that state (``lfilter(..., zi=z_k)``) -- the in-memory recursion, resumed.
    The scan is the parallel-prefix idea of Blelloch (1990), "Prefix sums and their
    applications", CMU-CS-90-190, applied to affine maps.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import tsconv
    >>> import tsconv.dask
    >>> x = np.sin(np.arange(40.0))
    >>> k = tsconv.Kernel([0.25, 0.5, 0.25], origin=1)
    >>> y = tsconv.dask.apply(k, da.from_array(x, chunks=7))
    >>> bool(np.allclose(y.compute(), tsconv.apply(k, x), equal_nan=True))
    True
    >>> ema = tsconv.Transfer([0.1], [1.0, -0.9])
    >>> z = tsconv.dask.apply(ema, da.from_array(x, chunks=7)).compute()
    >>> float(np.max(np.abs(z - tsconv.apply(ema, x)))) < 1e-14
    True
    """
    op = _as_op(op)
    mode = check_option(mode, Mode, "mode")
    method = check_option(method, Method, "method")
    nan_policy = check_option(nan_policy, NanPolicy, "nan_policy")
    arr = _as_dask_float(x, "x")
    ax = as_axis(axis, arr.ndim)
    moved = da.moveaxis(arr, ax, -1) if ax != arr.ndim - 1 else arr
    if nan_policy == "raise":
        moved = da.map_blocks(_check_finite_block, moved, dtype=moved.dtype)
        nan_policy = "propagate"
    if isinstance(op, Transfer):
        y = _transfer(op, moved, mode, method, nan_policy)
    else:
        y = _kernel(op, moved, mode, method, nan_policy)
    return da.moveaxis(y, -1, ax) if ax != arr.ndim - 1 else y


class Stream:
    """Apply an operator to a series that arrives as successive Dask arrays, lazily.

    The Dask counterpart of :class:`tsconv.Stream`: ``push`` takes a Dask array (time
    on the last axis, any chunks) and returns a lazy Dask array of the outputs that are
    final now; the state carried between pushes (the last ``m - 1`` samples of a
    Kernel, or the filter state of a Transfer) stays in the graph, so nothing is
    computed until you ask. The concatenation of all outputs and ``flush()`` equals
    ``tsconv.apply(op, whole)``.

    Parameters
    ----------
    op : Kernel or Transfer
    nan_policy : {'propagate', 'raise'}, default 'propagate'

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import tsconv
    >>> import tsconv.dask
    >>> x = np.arange(12.0)
    >>> s = tsconv.dask.Stream(tsconv.Kernel([0.5, 0.5]))
    >>> parts = [s.push(da.from_array(x[:5], chunks=2)), s.push(da.from_array(x[5:], chunks=3)), s.flush()]
    >>> da.concatenate(parts).compute()
    array([ nan,  0.5,  1.5,  2.5,  3.5,  4.5,  5.5,  6.5,  7.5,  8.5,  9.5, 10.5])
    """

    def __init__(self, op: Kernel | Transfer, *, nan_policy: StreamNanPolicy = "propagate") -> None:
        op = _as_op(op)
        self.op = op
        self.nan_policy = check_option(nan_policy, StreamNanPolicy, "nan_policy")
        if isinstance(op, Kernel):
            # output t needs x[t + o - m + 1 .. t + o]: keep `before` past samples, and
            # emit output t once sample t + ahead has arrived
            self._before = max(len(op) - 1 - op.origin, 0)
            self._ahead = max(op.origin, 0)
        self._tail: da.Array | None = None  # last m - 1 samples seen (Kernel)
        self._state: Any = None  # Delayed final filter state (Transfer)
        self._seen = 0
        self._emitted = 0
        self._lead: tuple[int, ...] | None = None
        self._dtype: Any = None

    def _check_chunk(self, chunk: Any) -> da.Array:
        arr = _as_dask_float(chunk, "chunk")
        if self._lead is None:
            self._lead, self._dtype = arr.shape[:-1], arr.dtype
        elif arr.shape[:-1] != self._lead:
            raise ValueError(f"chunk must keep the leading shape {self._lead}, got shape {arr.shape}")
        arr = arr.astype(self._dtype) if arr.dtype != self._dtype else arr
        if self.nan_policy == "raise":
            offset = self._seen

            def check(block: NDArray[np.floating], block_info: Any = None) -> NDArray[np.floating]:
                mask = ~np.isfinite(block)
                if mask.any():
                    local = np.unravel_index(int(np.argmax(mask.ravel())), block.shape)
                    start = block_info[0]["array-location"][-1][0] if block_info else 0
                    raise ValueError(f"chunk has a non-finite value at stream index {offset + start + int(local[-1])} (nan_policy='raise')")
                return block

            arr = da.map_blocks(check, arr, dtype=arr.dtype)
        return arr

    def push(self, chunk: da.Array) -> da.Array:
        """Feed the next samples (a Dask array, time on the last axis); return the outputs now final."""
        x = self._check_chunk(chunk)
        L = x.shape[-1]
        if isinstance(self.op, Transfer):
            if self._state is None and self._seen == 0:
                y, self._state = _iir(self.op, x)
            else:
                y, self._state = _iir(self.op, x, self._state)
            self._seen += L
            self._emitted += L
            return y
        ext = x if self._tail is None else da.concatenate([self._tail, x], axis=-1)
        ext_start = self._seen - (0 if self._tail is None else self._tail.shape[-1])
        self._seen += L
        t0, t1 = self._emitted, self._seen - self._ahead  # outputs [t0, t1) are final now
        self._emitted = max(t1, t0)
        keep = self._before + self._ahead
        self._tail = ext[..., max(ext.shape[-1] - keep, 0) :] if keep else None
        if t1 <= t0:
            return da.full((*ext.shape[:-1], 0), np.nan, dtype=self._dtype)
        # ys[..., i] is output ext_start + i; those in [t0, t1) have their whole window in ext
        # (or run off the start of the series, where apply has NaN too)
        ys = _kernel(self.op, ext, "same", "auto", "propagate")
        return ys[..., t0 - ext_start : t1 - ext_start]

    def flush(self) -> da.Array:
        """The outputs still owed at the end (NaN: their windows run past the data)."""
        lead = self._lead if self._lead is not None else ()
        dtype = self._dtype if self._dtype is not None else np.float64
        rest = self._seen - self._emitted
        self._emitted = self._seen
        return da.full((*lead, rest), np.nan, dtype=dtype)


# ---------------------------------------------------------------------------------------
# Catalog search: a Matcher sharded across workers
# ---------------------------------------------------------------------------------------
_SEARCH_HAS_FIT = "fit" in inspect.signature(Matcher._search).parameters


class _Shard(Matcher):
    """Some tracks of a catalog, searched as part of the whole catalog.

    The search of :meth:`tsconv.audio.Matcher.match` is split in its two phases: the
    coarse pass (:func:`_shard_scan`: the best statistic of every chunk of lags, from
    which the client fits the catalog-wide null distribution and picks the candidates)
    and the exact refinement of the chosen candidates (:func:`_shard_refine`).
    """

    _global_index: list[int]
    _global_lags: int

    def _n_lags(self) -> int:
        # the search adapts to the size of the whole catalog, not of the shard
        return self._global_lags

    def __sizeof__(self) -> int:
        # what Dask's scheduler weighs before moving data: the arrays, not the shell
        total = object.__sizeof__(self)
        for t in self._tracks:
            total += t.data.nbytes
            total += 0 if t.padded is None else t.padded.nbytes
            total += 0 if t.index is None else t.index.nbytes
            total += 0 if t.energy is None else t.energy.nbytes
        return total


def _make_shard(settings: dict[str, Any], tracks: list[Any], global_index: list[int], global_lags: int) -> _Shard:
    shard = _Shard(
        settings["sr"],
        settings["whitening"],
        lpc_order=settings["lpc_order"],
        max_needle=settings["max_needle"],
        storage=settings["storage"],
        speed_range=0.0,
        workers=1,  # one thread per shard: the parallelism is across shards
    )
    for t in tracks:
        shard._names[t.name] = len(shard._tracks)
        shard._tracks.append(t)
    shard._global_index = list(global_index)
    shard._global_lags = int(global_lags)
    # the whitened block spectra, computed once where the shard lives
    shard._ensure_index()
    return shard


def _matcher_settings(m: Matcher) -> dict[str, Any]:
    return {"sr": m.sr, "whitening": m.whitening, "lpc_order": m.lpc_order, "max_needle": m.max_needle, "storage": m.storage}


def _bare_tracks(m: Matcher, indices: list[int]) -> list[Any]:
    """Copies of the tracks without their search index (rebuilt on the worker)."""
    return [
        dataclasses.replace(m._tracks[i], index=None, padded=None, resp_keep=None, energy=None, resp_band=None, data=np.array(m._tracks[i].data))
        for i in indices
    ]


def _shard_from_file(path: str, indices: list[int], global_lags: int, expected: str | None = None) -> _Shard:
    # Dask rebuilds a lost shard from this recipe: the file must still be the catalog the
    # ShardedMatcher was built on (else its tracks would not be the shard's)
    if expected is not None:
        found = _catalog.read_manifest(path).get("manifest_sha256")
        if found != expected:
            raise _catalog.CatalogError(
                f"catalog {path!r} changed on disk since the ShardedMatcher was built (manifest sha256 "
                f"{str(found)[:12]}..., expected {expected[:12]}...): build a new ShardedMatcher"
            )
    m = Matcher.load(path, workers=1)
    return _make_shard(_matcher_settings(m), _bare_tracks(m, indices), indices, global_lags)


def _shard_scan(shard: _Shard, samples: Any, sr: int) -> Any:
    """Phase 1 on a shard: the coarse pass of ``Matcher._run`` over the shard's tracks.

    Returns ``(z, lag, global_track, n_chunks, global_index, z_neg)`` -- every chunk maximum, because the
    client fits the null distribution on the quantiles of the whole catalog's -- or None
    for a silent clip.
    """
    shard._ensure_index()
    y = shard._query(samples, sr)
    if not shard._tracks or float(np.ptp(y)) == 0.0:
        return None
    freqs = np.arange(_mt._NFFT // 2 + 1) / _mt._NFFT
    args = (y, _mt._DECIMATE, shard._needle_len, _mt._psd_on_grid(y, freqs))
    # the shard's own null fit would be thrown away
    scan = shard._search(*args, fit=False) if _SEARCH_HAS_FIT else shard._search(*args)
    # chunks searched (per track of the shard, or in all); an empty scan reports 1
    n_chunks = np.asarray(scan.n_chunks, dtype=np.float64) if scan.z.size else np.zeros(np.shape(scan.n_chunks))
    gidx = np.asarray(shard._global_index, dtype=np.int64)
    return scan.z, scan.lag, gidx[scan.track], n_chunks, gidx, getattr(scan, "z_neg", -np.inf)


def _catalog_scan(found: list[Any], n_tracks: int, extra: Any = None) -> Any:
    """``_Scan.fitted`` of the whole catalog from the shards' pieces (same numbers).

    The null is fitted here on every chunk maximum of the catalog.
    """
    if np.ndim(found[0][3]) == 0:
        n_chunks: Any = float(sum(f[3] for f in found))
    else:  # counted per track: scatter each shard's counts to the catalog's track numbers
        n_chunks = np.zeros(n_tracks)
        for f in found:
            n_chunks[f[4]] = f[3] if len(f[3]) == len(f[4]) else 0.0
    z = np.concatenate([f[0] for f in found])
    lag = np.concatenate([f[1] for f in found])
    track = np.concatenate([f[2] for f in found])
    return _mt._Scan.fitted(z, lag, track, n_chunks, extra)


def _shard_refine(shard: _Shard, samples: Any, sr: int, picked: Any) -> list[Any]:
    """Phase 2 on a shard: the matcher's own refinement of the candidates the client picked.

    ``picked`` is the catalog-wide scan (its null fitted on every shard's chunk maxima)
    cut down to this shard's candidates and tracks (per-track fields in the shard's track
    order), with global track numbers. Returns one entry per candidate, in order: its
    Match, or None when the matcher drops it.
    """
    if len(picked.z) == 0:
        return []
    y = shard._query(samples, sr)
    local = {g: i for i, g in enumerate(shard._global_index)}
    scan = dataclasses.replace(picked, track=np.array([local[int(g)] for g in picked.track], dtype=np.int64))
    out = []
    for i in range(len(scan.z)):
        found = Matcher._candidates_to_matches(shard, y, scan, np.array([i]))
        out.append(found[0] if found else None)
    return out


def _balanced_shards(lengths: list[int], n_shards: int) -> list[list[int]]:
    """Tracks split into ``n_shards`` groups of about equal total length (longest first)."""
    groups: list[list[int]] = [[] for _ in range(n_shards)]
    load = [0] * n_shards
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        g = int(np.argmin(load))
        groups[g].append(i)
        load[g] += lengths[i]
    return [sorted(g) for g in groups if g]


def _read_manifest(path: str) -> dict[str, Any]:
    """The verified manifest of a saved catalog (verified again, with the arrays, by each worker)."""
    manifest = _catalog.read_manifest(path)
    tracks = manifest.get("tracks")
    if not isinstance(tracks, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("n_samples"), int) for t in tracks
    ):
        Matcher.load(path)  # let the catalog reader say exactly what is wrong
        raise _catalog.CatalogError(f"{path!r}: the manifest's track list is malformed")
    return manifest


class ShardedMatcher(Matcher):
    """A :class:`tsconv.audio.Matcher` catalog sharded across Dask workers.

    Each shard (a group of whole tracks of about equal total duration) is loaded once on
    one worker, which computes and keeps its whitened block spectra. A query sends only
    the clip; every shard runs the coarse pass over its tracks and returns its chunk
    maxima; the client fits the null distribution over the whole catalog's maxima (as one
    ``Matcher`` does) and picks the candidates; the shards holding them refine those;
    ``match`` / ``find_all`` then merge them exactly as ``Matcher`` does (they are its
    methods). Same tracks, offsets, scores and false-alarm probabilities as
    ``Matcher.match`` on the whole catalog.

    Parameters
    ----------
    catalog : Matcher or path-like
        An in-memory matcher (its tracks are sent to the workers once) or the path of a
        catalog saved by ``Matcher.save`` on storage every worker can read (each worker
        loads and verifies the file and keeps its shards' tracks; a shard lost with its
        worker is rebuilt from the file by Dask).
    client : dask.distributed.Client, 'threads' or None, default None
        Where the shards live. None: the default ``distributed`` client if one is
        running, else ``'threads'`` (shards in this process, searched on Dask's local
        threaded scheduler).
    n_shards : int, optional
        Number of shards (default: the number of workers, or 2 with threads).

    Attributes
    ----------
    tracks : list of str
        Track names, in catalog order.
    duration : float
        Total duration of the catalog in seconds.
    shards : list of list of str
        The track names of each shard.

    Raises
    ------
    TypeError
        If ``catalog`` or ``client`` is of the wrong type.
    ValueError
        If ``n_shards`` is not a positive integer.
    tsconv.audio.CatalogError
        If the catalog file is missing, corrupt or foreign.

    See Also
    --------
    tsconv.audio.Matcher : the single-machine matcher whose answers this reproduces.

    Notes
    -----
    A query costs each shard about ``T_shard / step`` block products and inverse FFTs
    (``T_shard`` catalog samples in the shard, ``step`` about ``2^18`` samples): the work
    is proportional to the catalog's hours and divided among the workers; the network
    carries the clip, the chunk maxima (about 14,000 per catalog hour) and a few
    candidates. The speed search (``speed_range > 0``) is not sharded. The catalog is
    read-only: build it with a ``Matcher``. See ``docs/scaling.md``.

    Examples
    --------
    >>> from tsconv.audio import Matcher
    >>> from tsconv.audio._synth import synth_track
    >>> from tsconv.dask import ShardedMatcher
    >>> m = Matcher()
    >>> for i in range(3):
    ...     m.add(f"t{i}", synth_track(6.0, 8000, seed=i), 8000)
    >>> sm = ShardedMatcher(m, client="threads", n_shards=2)
    >>> clip = synth_track(6.0, 8000, seed=2)[8000:24000]
    >>> sm.match(clip, 8000)[0] == m.match(clip, 8000)[0]
    True
    """

    def __init__(self, catalog: Matcher | str | os.PathLike[str], *, client: Any = None, n_shards: int | None = None) -> None:
        self._client = self._resolve_client(client)
        if isinstance(catalog, Matcher):
            self._path: str | None = None
            self._source: Matcher | None = catalog
            self._manifest_sha: str | None = None
            settings = _matcher_settings(catalog)
            names = catalog.tracks
            lengths = [t.n for t in catalog._tracks]
            speed_range = catalog.speed_range
        elif isinstance(catalog, (str, os.PathLike)):
            self._path = os.path.abspath(os.fspath(catalog))
            self._source = None
            manifest = _read_manifest(self._path)
            self._manifest_sha = manifest.get("manifest_sha256")
            settings = {k: manifest.get(k) for k in ("sr", "whitening", "lpc_order", "max_needle", "storage")}
            names = [str(t["name"]) for t in manifest["tracks"]]
            lengths = [int(t["n_samples"]) for t in manifest["tracks"]]
            speed_range = float(manifest.get("speed_range", 0.0))
        else:
            raise TypeError(f"catalog must be a tsconv.audio.Matcher or the path of a saved catalog, got {type(catalog).__name__}")
        # the client side is a Matcher without tracks: it prepares clips and merges answers
        super().__init__(
            settings["sr"], settings["whitening"], lpc_order=settings["lpc_order"], max_needle=settings["max_needle"],
            storage=settings["storage"], speed_range=speed_range,
        )
        self._settings = settings
        self._track_names = list(names)
        self._names = {name: i for i, name in enumerate(names)}
        self._lengths = lengths
        if n_shards is None:
            n_shards = len(self._workers()) if self._client != "threads" else 2
        n_shards = as_int(n_shards, "n_shards", minimum=1)
        self._groups = _balanced_shards(lengths, n_shards) if lengths else []
        self._owner = {g: s for s, grp in enumerate(self._groups) for g in grp}
        # Matcher._n_lags of the whole catalog: the search adapts its chunks to it
        self._global_lags = sum(n + self._needle_len for n in lengths)
        self._shards: list[Any] = []
        self._build()

    # -- placement -------------------------------------------------------------------------
    @staticmethod
    def _resolve_client(client: Any) -> Any:
        if isinstance(client, str) and client == "threads":
            return "threads"
        from distributed import Client, default_client

        if client is None:
            try:
                return default_client()
            except ValueError:
                return "threads"
        if not isinstance(client, Client):
            raise TypeError(f"client must be a dask.distributed.Client, 'threads' or None, got {client!r}")
        return client

    def _workers(self) -> list[str]:
        return sorted(self._client.scheduler_info(n_workers=-1)["workers"])

    def _submit_shard(self, s: int, workers: list[str]) -> Any:
        grp = self._groups[s]
        where = [workers[s % len(workers)]] if workers else None
        key = f"tsconv-shard-{s}-{uuid.uuid4().hex}"
        if self._path is not None:
            return self._client.submit(
                _shard_from_file, self._path, grp, self._global_lags, self._manifest_sha, key=key, workers=where,
                allow_other_workers=True,
            )
        assert self._source is not None
        tracks = self._client.scatter(_bare_tracks(self._source, grp), workers=where, hash=False)
        return self._client.submit(
            _make_shard, self._settings, tracks, grp, self._global_lags, key=key, workers=where, allow_other_workers=True
        )

    def _build(self, which: list[int] | None = None) -> None:
        if self._client == "threads":
            source = self._source if self._source is not None else Matcher.load(self._path, workers=1)  # type: ignore[arg-type]
            self._shards = [_make_shard(self._settings, _bare_tracks(source, grp), grp, self._global_lags) for grp in self._groups]
            return
        from distributed import wait

        workers = self._workers()
        which = list(range(len(self._groups))) if which is None else which
        if not self._shards:
            self._shards = [None] * len(self._groups)
        for s in which:
            self._shards[s] = self._submit_shard(s, workers)
        wait([self._shards[s] for s in which])
        for s in which:
            if self._shards[s].status == "error":
                self._shards[s].result()  # raise the worker's error here

    # -- the catalog -------------------------------------------------------------------------
    @property
    def tracks(self) -> list[str]:
        """Track names, in catalog order."""
        return list(self._track_names)

    @property
    def duration(self) -> float:
        """Total duration of the catalog in seconds."""
        return sum(self._lengths) / self.sr

    @property
    def n_shards(self) -> int:
        """Number of shards."""
        return len(self._groups)

    @property
    def shards(self) -> list[list[str]]:
        """The track names of each shard."""
        return [[self._track_names[i] for i in grp] for grp in self._groups]

    def __len__(self) -> int:
        return len(self._track_names)

    def __repr__(self) -> str:
        where = "threads" if self._client == "threads" else f"{len(self._workers())} workers"
        return f"ShardedMatcher({len(self)} tracks, {self.duration / 3600:.2f} h, {self.n_shards} shards on {where})"

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a ShardedMatcher is read-only: add tracks to a Matcher (and save it), then shard that")

    add = add_file = add_directory = save = _read_only

    # -- search ------------------------------------------------------------------------------
    def _map(self, fn: Any, work: list[tuple[int, tuple[Any, ...]]], clip: Any) -> list[Any]:
        """``fn(shard, clip, *args)`` for every ``(shard, args)`` of ``work``; results in order."""
        if self._client == "threads":
            # partials keep the scheduler from walking the arguments (arrays, scans)
            dsk = {("tsconv-shard-call", i): (functools.partial(fn, self._shards[s], clip, *args),) for i, (s, args) in enumerate(work)}
            return list(dask.threaded.get(dsk, list(dsk)))
        futs = [self._client.submit(fn, self._shards[s], clip, *args, pure=False) for s, args in work]
        return self._client.gather(futs)

    def _two_phase(self, clip: Any, sr: int, y: NDArray[np.float64], n_candidates: int, threshold_p: float | None) -> list[Match]:
        if self._client != "threads":
            # the clip travels once to each worker, not once per task
            clip = self._client.scatter(clip, hash=False)
        found = [f for f in self._map(_shard_scan, [(s, (sr,)) for s in range(self.n_shards)], clip) if f is not None]
        if not found:
            return []
        # the catalog-wide scan and candidates, as Matcher._run computes them
        n_tracks = len(self._track_names)
        extra = None
        n_z = sum(f[0].size for f in found)
        if n_z < _mt._MIN_NULL:  # a small catalog: Matcher._search tops its null fit up
            extra = self._sharded_surrogate_null(y, _mt._MIN_NULL - n_z)
        scan = _catalog_scan(found, n_tracks, extra)
        scan.z_neg = max(float(f[5]) for f in found)
        if Matcher._inverted(scan):  # as Matcher._run: a polarity-inverted clip is not reported
            return []
        if threshold_p is None:
            order = scan.top(max(n_candidates, 3), min_sep=min(y.size, self._needle_len) // 2)
        else:
            order = scan.above(threshold_p)
        owner = np.array([self._owner[int(g)] for g in scan.track[order]], dtype=np.int64)
        per_track = [
            f.name for f in dataclasses.fields(scan)
            if f.name not in ("z", "lag", "track") and isinstance(getattr(scan, f.name), np.ndarray)
            and getattr(scan, f.name).shape == (n_tracks,)
        ]
        work, slots = [], []
        for s in sorted(set(owner.tolist())):
            sel = np.flatnonzero(owner == s)
            gidx = np.asarray(self._groups[s], dtype=np.int64)
            picked = dataclasses.replace(
                scan, z=scan.z[order[sel]], lag=scan.lag[order[sel]], track=scan.track[order[sel]],
                **{name: getattr(scan, name)[gidx] for name in per_track},
            )
            work.append((s, (sr, picked)))
            slots.append(sel)
        merged: list[Any] = [None] * len(order)
        for sel, part in zip(slots, self._map(_shard_refine, work, clip)):
            for i, mt in zip(sel, part):
                merged[i] = mt
        return [mt for mt in merged if mt is not None]

    def _sharded_surrogate_null(self, y: NDArray[np.float64], needed: int) -> NDArray[np.float64]:
        """``Matcher._surrogate_null`` with the surrogate clips searched on the shards (same numbers)."""
        out: list[NDArray[np.float64]] = []
        got = 0
        for sur in _mt._surrogate_clips(y):
            clip = sur.astype(np.float32)
            found = [f for f in self._map(_shard_scan, [(s, (self.sr,)) for s in range(self.n_shards)], clip) if f is not None]
            z = np.concatenate([f[0] for f in found]) if found else np.zeros(0)
            out.append(z)
            got += z.size
            if got >= needed or z.size == 0:
                break
        return np.concatenate(out) if out else np.zeros(0)

    def _run(self, samples: ArrayLike, sr: Any, n_candidates: int, threshold_p: float | None,
             speed_range: float | None) -> tuple[list[Match], NDArray[np.float64]]:
        """``Matcher._run`` with the search on the shards (``match`` and ``find_all`` call it)."""
        y = self._query(samples, sr)  # validates the clip here, before any work is sent
        speed = self.speed_range if speed_range is None else self._check_speed_range(speed_range)
        if speed != 0.0:
            raise ValueError(
                f"speed_range={speed!r}: the speed search is not sharded; use speed_range=0.0 "
                "(or tsconv.audio.Matcher on one machine)"
            )
        if not self._track_names or float(np.ptp(y)) == 0.0:
            return [], y
        sr = _check_sr(sr)
        clip = to_mono(samples, "samples")
        if self._client == "threads":
            return self._two_phase(clip, sr, y, n_candidates, threshold_p), y
        try:
            return self._two_phase(clip, sr, y, n_candidates, threshold_p), y
        except _catalog.CatalogError:
            raise  # a shard rebuilt from a changed or broken file: retrying cannot help
        except Exception:
            lost = [s for s, fut in enumerate(self._shards) if fut.status not in ("finished", "pending")]
            if not lost:
                # a worker died mid-query: the shards Dask rebuilt from a file are back
                return self._two_phase(clip, sr, y, n_candidates, threshold_p), y
            # shards sent from an in-memory matcher died with their worker: send them again
            self._build(lost)
            return self._two_phase(clip, sr, y, n_candidates, threshold_p), y

    def close(self) -> None:
        """Release the shards (their memory on the workers)."""
        if self._client != "threads" and self._shards:
            self._client.cancel([f for f in self._shards if f is not None])
        self._shards = []


# ---------------------------------------------------------------------------------------
# Panels: many series in a long Dask DataFrame
# ---------------------------------------------------------------------------------------
_LONG = ("unique_id", "ds", "y")


def _by_series(df: Any) -> Any:
    """The panel with every series in exactly one partition, ``unique_id`` a column.

    A frame indexed by ``unique_id`` with known divisions is already partitioned by
    series (sorted index); anything else is shuffled on ``unique_id`` (a hash
    partitioning: whole series move, none is split).
    """
    import dask.dataframe as dd

    if not isinstance(df, dd.DataFrame):
        raise TypeError(
            f"df must be a dask.dataframe.DataFrame in long format (unique_id, ds, y), got {type(df).__name__} "
            "(use tsconv.fit_arima for an in-memory DataFrame)"
        )
    indexed = df.index.name == "unique_id" and "unique_id" not in df.columns
    missing = [c for c in _LONG if c not in df.columns and not (c == "unique_id" and indexed)]
    if missing:
        raise ValueError(f"df needs columns 'unique_id', 'ds' and 'y' (unique_id may be the index); missing {missing}")
    if df["y"].dtype.kind not in "iuf":
        raise TypeError(f"df['y'] must be real numeric, got dtype {df['y'].dtype}")
    if indexed:
        if df.known_divisions:
            return df.reset_index()[list(_LONG)]
        df = df.reset_index()
    return df[list(_LONG)].shuffle(on="unique_id")


def _fit_kwargs(order: Any, seasonal_order: Any, trend: str, method: str, maxiter: int) -> dict[str, Any]:
    return {"order": order, "seasonal_order": seasonal_order, "trend": trend, "method": method, "maxiter": maxiter}


def _sorted_panel(pdf: Any) -> Any:
    return pdf.sort_values(["unique_id", "ds"], kind="stable")


def _fit_partition(pdf: Any, kw: dict[str, Any], meta: Any) -> Any:
    from tsconv.estimate import fit_arima

    if len(pdf) == 0:
        return meta
    out = fit_arima(pdf, **kw).to_frame()
    return out.astype(meta.dtypes.to_dict())


def _forecast_partition(pdf: Any, h: int, level: tuple[float, ...], kw: dict[str, Any], meta: Any) -> Any:
    from tsconv.estimate import fit_arima

    if len(pdf) == 0:
        return meta
    fc = fit_arima(pdf, **kw).forecast(h, level=level).to_frame()
    return fc.astype(meta.dtypes.to_dict())


def _verify_partition(pdf: Any, h: int, alpha: float, kw: dict[str, Any], meta: Any) -> Any:
    from tsconv.estimate import fit_arima

    if len(pdf) == 0:
        return meta
    pdf = _sorted_panel(pdf)
    from_end = pdf.groupby("unique_id", sort=False).cumcount(ascending=False).to_numpy()
    train, test = pdf[from_end >= h], pdf[from_end < h]
    short = sorted(set(test["unique_id"]) - set(train["unique_id"]), key=str)
    if short:
        raise ValueError(f"series {short[:5]} have no more than h={h} observations: nothing left to fit on")
    cover = 100.0 * (1.0 - alpha)
    fc = fit_arima(train, **kw).forecast(h, level=(cover,)).to_frame()
    # forecasts and held-out values both run by unique_id (sorted), then time
    if not np.array_equal(fc["unique_id"].to_numpy(), test["unique_id"].to_numpy()):
        raise AssertionError("forecasts and held-out values are not aligned")  # pragma: no cover
    y, mean = test["y"].to_numpy(dtype=np.float64), fc["mean"].to_numpy()
    err = y - mean
    lab = level_label(cover)
    inside = (fc[f"lo-{lab}"].to_numpy() <= y) & (y <= fc[f"hi-{lab}"].to_numpy())
    scores = pd.DataFrame({"unique_id": fc["unique_id"].to_numpy(), "err": err, "abs": np.abs(err), "sq": err**2, "inside": inside})
    g = scores.groupby("unique_id", sort=True)
    out = pd.DataFrame(
        {
            "n_train": train.groupby("unique_id", sort=True).size().to_numpy(),
            "bias": g["err"].mean().to_numpy(),
            "mae": g["abs"].mean().to_numpy(),
            "rmse": np.sqrt(g["sq"].mean().to_numpy()),
            "coverage": g["inside"].mean().to_numpy(),
        },
        index=pd.Index(g["err"].mean().index, name="unique_id"),
    )
    return out.reset_index().astype(meta.dtypes.to_dict())


def _meta_fit(df: Any, kw: dict[str, Any]) -> Any:
    """Columns and dtypes of ``ARIMABatch.to_frame`` for this model (a throwaway fit)."""
    from tsconv.estimate import fit_arima

    s = int(kw["seasonal_order"][3]) if len(kw["seasonal_order"]) == 4 else 0
    n = 200 + 20 * s
    rng = np.random.default_rng(0)
    probe = fit_arima(np.cumsum(rng.standard_normal((2, n)), axis=-1) * 0.1 + rng.standard_normal((2, n)), **kw)
    frame = probe.to_frame().iloc[:0]
    frame.index = frame.index.astype(df["unique_id"].dtype)
    return frame


def _check_h(h: Any, alpha: Any) -> tuple[int, float]:
    h = as_int(h, "h", minimum=1)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    return h, float(alpha)


def fit_arima(
    df: Any,
    order: tuple[Any, int, Any],
    seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
    trend: str = "n",
    method: str = "css-ml",
    *,
    maxiter: int = 200,
) -> Any:
    """Fit one SARIMA order to every series of a long Dask DataFrame.

    Parameters
    ----------
    df : dask.dataframe.DataFrame
        Long format: columns ``unique_id``, ``ds`` (time stamps) and ``y`` (finite
        values); ``unique_id`` may be the index. Series may have different lengths.
        A frame indexed by ``unique_id`` with known divisions is used as partitioned;
        otherwise it is shuffled so that every series lies in one partition.
    order, seasonal_order, trend, method, maxiter
        As in :func:`tsconv.fit_arima`.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per series, indexed by ``unique_id``: the columns of
        ``ARIMABatch.to_frame()`` (parameters, ``sigma2``, ``llf``, ``aic``, ``aicc``,
        ``bic``, ``nobs``, ``converged``). Rows come in partition order; sort the
        computed frame to compare it with an in-memory one.

    Raises
    ------
    TypeError
        If ``df`` is not a Dask DataFrame or ``y`` is not numeric.
    ValueError
        If a column is missing; errors of :func:`tsconv.fit_arima` (orders, too short
        series, non-finite values) at compute time.

    See Also
    --------
    forecast, verify, tsconv.fit_arima

    Notes
    -----
    Each partition is one batched :func:`tsconv.fit_arima` call. Least-squares and
    conditional-sum-of-squares estimates (``'css'``, ``'ols'``, ``'yule-walker'``,
    ``'burg'``) equal the in-memory batch to rounding; the maximum-likelihood methods
    agree to the optimizer's tolerance (a batch stops iterating as a whole).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import numpy as np
    >>> import pandas as pd
    >>> import tsconv.dask
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 100),
    ...                    "ds": np.tile(np.arange(100), 3), "y": rng.standard_normal(300)})
    >>> fits = tsconv.dask.fit_arima(dd.from_pandas(df, npartitions=2), (1, 0, 0), method="css")
    >>> fits.compute().sort_index().index.tolist()
    ['a', 'b', 'c']
    """
    kw = _fit_kwargs(order, seasonal_order, trend, method, maxiter)
    panel = _by_series(df)
    meta = _meta_fit(panel, kw)
    return panel.map_partitions(_fit_partition, kw, meta, meta=meta, enforce_metadata=False)


def forecast(
    df: Any,
    h: int,
    order: tuple[Any, int, Any],
    seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
    trend: str = "n",
    method: str = "css-ml",
    *,
    level: Any = (95,),
    maxiter: int = 200,
    **old: Any,
) -> Any:
    """Fit every series of a long Dask DataFrame and forecast it ``h`` steps ahead.

    Parameters
    ----------
    df : dask.dataframe.DataFrame
        Long format ``unique_id``, ``ds``, ``y`` (see :func:`fit_arima`).
    h : int
        Horizon, >= 1.
    order, seasonal_order, trend, method, maxiter
        As in :func:`tsconv.fit_arima`.
    level : float or sequence of float, default (95,)
        Coverage of the (Gaussian) prediction intervals, in percent.

    Returns
    -------
    dask.dataframe.DataFrame
        Long forecasts: ``unique_id``, ``ds`` (continuing each series' stamps),
        ``mean``, ``lo-95``, ``hi-95`` (one pair per level) -- the frame
        ``tsconv.fit_arima(pdf, ...).forecast(h, level=level).to_frame()`` gives for the
        whole panel in memory, with the series in partition order.

    Raises
    ------
    TypeError, ValueError
        As :func:`fit_arima`; a bad ``h`` or ``level``; the old keyword ``alpha``.

    See Also
    --------
    fit_arima, verify

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import numpy as np
    >>> import pandas as pd
    >>> import tsconv.dask
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 80),
    ...                    "ds": np.tile(np.arange(80), 2), "y": rng.standard_normal(160)})
    >>> fc = tsconv.dask.forecast(dd.from_pandas(df, npartitions=2), 3, (1, 0, 0), method="css").compute()
    >>> fc.sort_values(["unique_id", "ds"])[["unique_id", "ds"]].to_numpy().tolist()
    [['a', 80], ['a', 81], ['a', 82], ['b', 80], ['b', 81], ['b', 82]]
    """
    reject_old_keywords("forecast", old)
    h = as_int(h, "h", minimum=1)
    levels = check_level(level)
    kw = _fit_kwargs(order, seasonal_order, trend, method, maxiter)
    panel = _by_series(df)
    cols = ["mean"] + [f"{side}-{level_label(v)}" for v in levels for side in ("lo", "hi")]
    meta = pd.DataFrame(
        {
            "unique_id": pd.Series([], dtype=panel["unique_id"].dtype),
            "ds": pd.Series([], dtype=panel["ds"].dtype),
            **{c: pd.Series([], dtype=np.float64) for c in cols},
        }
    )
    return panel.map_partitions(_forecast_partition, h, levels, kw, meta, meta=meta, enforce_metadata=False)


def verify(
    df: Any,
    h: int,
    order: tuple[Any, int, Any],
    seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
    trend: str = "n",
    method: str = "css-ml",
    *,
    alpha: float = 0.05,
    maxiter: int = 200,
) -> Any:
    """Forecast verification: hold out the last ``h`` points of every series and score.

    Each series is fitted on all but its last ``h`` observations, forecast ``h`` steps,
    and the forecasts compared with the held-out values.

    Parameters
    ----------
    df : dask.dataframe.DataFrame
        Long format ``unique_id``, ``ds``, ``y`` (see :func:`fit_arima`); every series
        needs more than ``h`` observations (and enough left for the model).
    h : int
        Held-out horizon, >= 1.
    order, seasonal_order, trend, method, maxiter
        As in :func:`tsconv.fit_arima`.
    alpha : float, default 0.05
        Interval level scored by ``coverage``.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per series: ``unique_id``, ``n_train``, ``bias`` (mean of
        ``y - forecast``), ``mae``, ``rmse`` and ``coverage`` (share of held-out values
        inside the ``1 - alpha`` interval).

    Raises
    ------
    TypeError, ValueError
        As :func:`forecast`; at compute time, a series with at most ``h`` points.

    See Also
    --------
    forecast

    Notes
    -----
    ``mae = mean |e|``, ``rmse = sqrt(mean e^2)`` with ``e = y - yhat`` over the
    held-out horizon (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*,
    3rd ed., section 5.8).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import numpy as np
    >>> import pandas as pd
    >>> import tsconv.dask
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 50), "ds": np.tile(np.arange(50), 2),
    ...                    "y": np.r_[np.ones(50), 2 * np.ones(50)] + np.tile([0.0, 0.1], 50)})
    >>> scores = tsconv.dask.verify(dd.from_pandas(df, npartitions=1), 4, (0, 0, 0), trend="c", method="css")
    >>> scores.compute()[["unique_id", "n_train"]].to_numpy().tolist()
    [['a', 46], ['b', 46]]
    """
    h, alpha = _check_h(h, alpha)
    kw = _fit_kwargs(order, seasonal_order, trend, method, maxiter)
    panel = _by_series(df)
    meta = pd.DataFrame(
        {
            "unique_id": pd.Series([], dtype=panel["unique_id"].dtype),
            "n_train": pd.Series([], dtype=np.int64),
            **{c: pd.Series([], dtype=np.float64) for c in ("bias", "mae", "rmse", "coverage")},
        }
    )
    return panel.map_partitions(_verify_partition, h, alpha, kw, meta, meta=meta, enforce_metadata=False)
