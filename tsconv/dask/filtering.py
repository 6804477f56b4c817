"""Chunked filtering on Dask: :func:`apply` and :class:`Stream`.

:func:`apply` filters a ``dask.array`` chunked along time (any number of series) with a
:class:`~tsconv.Kernel` (``map_overlap`` with the kernel's support as depth) or a
:class:`~tsconv.Transfer` (per-chunk states joined by a short sequential scan);
:class:`Stream` does the same for data that arrives as a sequence of Dask arrays. Both run
the in-memory engine (:func:`tsconv.apply`) on every block and return its numbers.
"""

from __future__ import annotations

import itertools
import math
import operator
from typing import Any, Literal

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph
from numpy.typing import NDArray

from tsconv import _recursion
from tsconv._validation import as_axis, check_option, check_real_dtype
from tsconv.engine import Method, Mode, NanPolicy, _as_op, _carry_forward, _holds_over_gaps, _omit_ratio, check_transfer_options, choose_method
from tsconv.engine import apply as _apply_memory
from tsconv.kernel import Kernel, Transfer

__all__ = ["apply", "Stream"]

StreamNanPolicy = Literal["propagate", "raise"]


# ---------------------------------------------------------------------------------------
# Input funnel
# ---------------------------------------------------------------------------------------
def _as_dask_float(x: Any, name: str = "x", allow_empty: bool = False) -> da.Array:
    """A floating dask array with the dtype rules of ``as_float_array`` (lazily cast);
    ``allow_empty``: of no samples too (a stream's chunk, as :class:`tsconv.Stream`)."""
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
    if x.size == 0 and not (allow_empty and x.shape[-1] == 0):
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
        raise ValueError(f"x has a non-finite value {float(block[local])!r} at index {shown} (nan_policy='raise')")
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
    m = len(op)
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
    return b, a, _recursion.order(b, a)


def _as_rows(block: NDArray[np.floating]) -> NDArray[np.floating]:
    rows = block.reshape(int(np.prod(block.shape[:-1], dtype=np.int64)), block.shape[-1])
    # lfilter's missing-value rule of the engine: +-inf become NaN (poison every later output)
    return rows if np.isfinite(rows).all() else np.where(np.isfinite(rows), rows, np.nan)


def _iir_zero_state(block: NDArray[np.floating], b: Any, a: Any) -> tuple[NDArray[np.floating], NDArray[np.float64]]:
    """Step 1 of the parallel recursion for one block: its outputs and final states from a zero state."""
    return _recursion.zero_state(b, a, _as_rows(block))


def _iir_start(block_shape: tuple[int, ...], nz: int) -> NDArray[np.float64]:
    return np.zeros((int(np.prod(block_shape[:-1], dtype=np.int64)), nz))


def _iir_block(first: tuple[NDArray[np.floating], NDArray[np.float64]], z: NDArray[np.float64], b: Any, a: Any,
               shape: tuple[int, ...], dtype: Any) -> NDArray[np.floating]:
    """Step 3 for one block: its zero-state outputs plus the zero-input response of its true initial state."""
    y0 = first[0]
    if z.shape[-1] and np.any(z):  # (a NaN state counts: it poisons the block)
        y0 = y0.copy()  # a task never changes its inputs
        _recursion.add_response(y0, z, b, a)
    return y0.astype(dtype, copy=False).reshape(shape)


def _iir(tr: Transfer, x: da.Array, z0: Any = None) -> tuple[da.Array, Any]:
    """Chunked lfilter along the last axis; also returns the final states (a graph key).

    The parallel recursion of :mod:`tsconv._recursion` as a graph: per chunk, a zero-state
    task (outputs and final state), a scan task (the true state at the chunk's end) and
    an output task (the zero-input response of the true initial state added).

    ``z0`` is an optional delayed initial state of shape (n_series, nz) for the whole
    array (series in C order of the leading axes); the returned final state has the
    same layout (a Delayed), so a :class:`Stream` can chain calls.
    """
    b, a, nz = _iir_coef(tr, x.dtype)
    token = dask.base.tokenize(x, tr.num.coef, tr.den.coef, z0)
    out = "tsconv-iir-" + token
    first_name = "tsconv-iir-first-" + token
    zf_name = "tsconv-iir-zf-" + token
    zi_name = "tsconv-iir-zi-" + token
    end_name = "tsconv-iir-end-" + token
    lead_chunks = x.chunks[:-1]
    t_chunks = x.chunks[-1]
    nt = len(t_chunks)
    dsk: dict[Any, Any] = {}
    feedback = _recursion.feedback(a)
    A = _recursion.transition(b, a)
    powers = {L: _recursion.power(A, L) for L in set(t_chunks)} if nz else {}
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
            dsk[(zi_name, *lb, 0)] = (_iir_start, (*bshape, 1), nz)
        else:
            sl = tuple(slice(off[i], off[i + 1]) for off, i in zip(offsets, lb))
            rows = np.asarray(row_of[sl]).ravel()
            dsk[(zi_name, *lb, 0)] = (_take_rows, z0.key, rows)
        for j in range(nt):
            dsk[(first_name, *lb, j)] = (_iir_zero_state, (x.name, *lb, j), b, a)
            if nz:
                dsk[(zf_name, *lb, j)] = (operator.getitem, (first_name, *lb, j), 1)
                dsk[(zi_name, *lb, j + 1)] = (_recursion.advance, (zi_name, *lb, j), (zf_name, *lb, j), powers[t_chunks[j]], feedback)
            else:
                dsk[(zi_name, *lb, j + 1)] = (zi_name, *lb, j)
            dsk[(out, *lb, j)] = (_iir_block, (first_name, *lb, j), (zi_name, *lb, j), b, a, (*bshape, t_chunks[j]), x.dtype)
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
    # the engine's rule: filter the zero-filled data and the observed indicator, and take
    # their ratio as the engine does (an ema holds its last value over a gap)
    obs = da.isfinite(x)
    num = _iir(tr, da.where(obs, x, x.dtype.type(0)))[0]
    den = _iir(tr, obs.astype(x.dtype))[0]
    holds = _holds_over_gaps(b, a)
    y = da.map_blocks(_omit_ratio, num, den, ~obs, gain, holds, dtype=x.dtype)
    return _carry_forward_chunked(y) if holds else y


def _carry_forward_chunked(y: da.Array) -> da.Array:
    """:func:`tsconv.engine._carry_forward` along the last axis of a chunked array: within
    every chunk, then each chunk's leading NaN from the last value of the chunks before it
    (a scan over one value per chunk and row)."""
    local = da.map_blocks(_carry_forward, y, dtype=y.dtype)
    n = local.numblocks[-1]
    if n == 1:
        return local
    last = da.map_blocks(_last_column, local, chunks=(*local.chunks[:-1], (1,) * n), dtype=y.dtype)
    carry = da.map_blocks(_carried_in, last.rechunk({last.ndim - 1: -1}), dtype=y.dtype).rechunk({last.ndim - 1: 1})
    spread = da.map_blocks(_spread, carry, chunks=local.chunks, dtype=y.dtype)  # each chunk's carry, at its size
    return da.where(da.isnan(local), spread, local)


def _last_column(block: NDArray[np.floating]) -> NDArray[np.floating]:
    return block[..., -1:]


def _carried_in(last: NDArray[np.floating]) -> NDArray[np.floating]:
    """From each chunk's last value (after its own carry), the value carried into it: the
    last non-NaN of the chunks before it (NaN for the first)."""
    shifted = np.concatenate([np.full(last.shape[:-1] + (1,), np.nan, last.dtype), last[..., :-1]], axis=-1)
    return _carry_forward(shifted)


def _spread(carry: NDArray[np.floating], block_info: Any = None) -> NDArray[np.floating]:
    return np.broadcast_to(carry, block_info[None]["chunk-shape"])


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
    (1) every chunk is filtered from a zero state in parallel (outputs ``y0_k``, final
    state ``f_k``), (2) a sequential scan ``z_{k+1} = A^{L_k} z_k + f_k`` (a few small
    matrix products per chunk) gives each chunk its true initial state, and (3) every
    chunk adds to ``y0_k``, in parallel, the zero-input response of ``z_k`` until it has
    died out -- the parallel recursion the in-memory engine runs on threads. The scan is
    the parallel-prefix idea of Blelloch (1990), "Prefix sums and their applications",
    CMU-CS-90-190, applied to affine maps.

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
    if nan_policy == "raise":  # checked before time moves last: the index is the caller's
        arr = da.map_blocks(_check_finite_block, arr, dtype=arr.dtype)
        nan_policy = "propagate"
    moved = da.moveaxis(arr, ax, -1) if ax != arr.ndim - 1 else arr
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
        arr = _as_dask_float(chunk, "chunk", allow_empty=True)
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
        """Feed the next samples (a Dask array, time on the last axis; none, as
        :class:`tsconv.Stream` takes too); return the outputs now final."""
        x = self._check_chunk(chunk)
        L = x.shape[-1]
        if L == 0:  # nothing new: no output is final now (tsconv.Stream takes it too)
            return da.zeros((*x.shape[:-1], 0), dtype=self._dtype)
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
