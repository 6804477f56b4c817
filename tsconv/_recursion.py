"""The parallel recursion: one linear recursion (``lfilter``) cut into pieces that run at once.

A Transfer ``b(B)/a(B)`` is lfilter's state recursion ``z[t+1] = A z[t] + B x[t]``
(transposed direct form II, ``nz = max(len(a), len(b)) - 1`` states). By linearity, a
piece of ``L`` samples entered with state ``z`` gives the outputs and final state of the
same piece entered with a zero state, plus the zero-input response of ``z`` (whose final
state is ``A^L z``). So a series cut into pieces is filtered in three steps:

1. every piece is filtered from a zero state, all at once (:func:`zero_state`): outputs
   ``y0_k`` and final state ``f_k``;
2. a short sequential scan gives every piece its true initial state,
   ``z_{k+1} = A^{L_k} z_k + f_k`` (:func:`advance`, with :func:`power` for ``A^L``): a
   few products of ``nz x nz`` matrices per piece, exact to rounding whatever the poles;
3. every piece adds the zero-input response of its true initial state to ``y0_k``, all at
   once (:func:`add_response`), for as long as it matters: until the carried state has
   fallen to ``SETTLE`` of where it started (far below the rounding of ``y``), or the
   piece ends.

The engine (:mod:`tsconv.engine`) runs the steps on threads for one long series
(:func:`run`: ``lfilter`` releases the GIL); :mod:`tsconv.dask.filtering` builds them as a
chunk graph (step 1 and 3 are tasks per chunk, step 2 a chain of small tasks). The scan is
the parallel-prefix idea of Blelloch (1990), "Prefix sums and their applications",
CMU-CS-90-190, applied to affine maps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import scipy.signal
from numpy.typing import NDArray

# The zero-input response of a carried state is added until it is this fraction of where it
# started: far below the rounding of the outputs. (Stopping at 1e-6 instead leaves an error
# thousands of times larger on a pole at 0.998: tests/test_engine.py catches it.)
SETTLE = 1e-18
# The first block of the zero-input response; each next block is twice as long.
_FIRST_BLOCK = 4096

Mapper = Callable[[Callable[[int], Any], Iterable[int]], Iterator[Any]]


def order(b: NDArray[np.floating], a: NDArray[np.floating]) -> int:
    """The number of states of lfilter's recursion for ``b(B)/a(B)``."""
    return max(len(a), len(b)) - 1


def transition(b: NDArray[np.floating], a: NDArray[np.floating]) -> NDArray[np.float64]:
    """``A`` of lfilter's state recursion: the final state of one zero sample from zi = e_r is A[:, r]."""
    nz = order(b, a)
    if nz == 0:
        return np.zeros((0, 0))
    _, zf = scipy.signal.lfilter(b.astype(np.float64), a.astype(np.float64), np.zeros((nz, 1)), axis=-1, zi=np.eye(nz))
    return np.ascontiguousarray(zf.T)


def power(A: NDArray[np.float64], length: int) -> NDArray[np.float64]:
    """``A**length`` by repeated squaring (``log2(length)`` products of ``nz x nz`` matrices)."""
    return np.linalg.matrix_power(A, int(length))


def feedback(a: NDArray[np.floating]) -> bool:
    """Whether the recursion feeds its outputs back (a denominator beyond the lead)."""
    return bool(np.any(a[1:] != 0))


def settle_length(a: NDArray[np.floating]) -> float:
    """About how many samples the zero-input response takes to fall to ``SETTLE`` of its start.

    From the spectral radius ``r`` of ``A`` (the largest root of ``a`` in modulus):
    ``log(SETTLE) / log(r)``; infinite for a pole on or outside the unit circle. A speed
    estimate only: :func:`add_response` checks the state itself.
    """
    if not feedback(a):
        return float(len(a) - 1)
    r = float(np.max(np.abs(np.roots(a.astype(np.float64)))))
    if not r < 1.0:
        return math.inf
    if r == 0.0:
        return float(len(a) - 1)
    return math.log(SETTLE) / math.log(r)


def zero_state(b: NDArray[np.floating], a: NDArray[np.floating], rows: NDArray[np.floating]) -> tuple[NDArray[np.floating], NDArray[np.float64]]:
    """Step 1 for one piece: ``lfilter`` of every row of ``rows`` (rows, L) from a zero state.

    Returns the outputs (rows, L) and the final states (rows, nz) in float64.
    """
    nz = order(b, a)
    if nz == 0:
        return scipy.signal.lfilter(b, a, rows, axis=-1), np.zeros((rows.shape[0], 0))
    y, zf = scipy.signal.lfilter(b, a, rows, axis=-1, zi=np.zeros((rows.shape[0], nz), dtype=rows.dtype))
    return y, zf.astype(np.float64)


def advance(z: NDArray[np.float64], zf0: NDArray[np.float64], power: NDArray[np.float64], feedback: bool) -> NDArray[np.float64]:
    """Step 2 for one piece: the state at its end, ``A^L z + zf0`` (rows of ``z`` and ``zf0``).

    Written as an explicit product-sum so that NaN * 0 stays NaN, as in lfilter: with
    feedback (a recursive denominator) a missing value poisons every later state even
    once ``A^L`` underflows to zero; without feedback (an FIR written as a Transfer)
    ``A^L`` is a shift whose zeros are exact, and the state forgets.
    """
    terms = z[:, None, :] * power[None, :, :]
    if not feedback:
        terms[:, power == 0.0] = 0.0
    return zf0 + terms.sum(axis=-1)


def add_response(y: NDArray[np.floating], z: NDArray[np.float64], b: NDArray[np.floating], a: NDArray[np.floating]) -> None:
    """Step 3 for one piece: add to ``y`` (rows, L), in place, the zero-input response of ``z`` (rows, nz).

    In blocks of growing length, until the state has fallen to ``SETTLE`` of where it
    started or the piece ends. A missing value (NaN) in the state of a recursive filter
    never falls: it reaches every output of the piece, as in lfilter.
    """
    if z.shape[-1] == 0 or y.shape[-1] == 0:
        return
    zi = z.astype(y.dtype)
    finite = np.abs(zi[np.isfinite(zi)])
    start = float(finite.max()) if finite.size else 0.0
    length, pos, step = y.shape[-1], 0, _FIRST_BLOCK
    while pos < length and not (np.max(np.abs(zi)) <= SETTLE * start):
        stop = min(length, pos + step)
        corr, zi = scipy.signal.lfilter(b, a, np.zeros((y.shape[0], stop - pos), dtype=y.dtype), axis=-1, zi=zi)
        y[:, pos:stop] += corr
        pos, step = stop, step * 2


def run(b: NDArray[np.floating], a: NDArray[np.floating], x2: NDArray[np.floating], edges: NDArray[np.int64], map_: Mapper) -> NDArray[np.floating]:
    """``lfilter(b, a, x2, axis=-1)`` from a zero state, in the pieces ``edges`` of the time axis.

    ``map_`` runs the pieces of steps 1 and 3 (``ThreadPoolExecutor.map`` for threads,
    the builtin ``map`` for one thread); the result does not depend on it.
    """
    y = np.empty(x2.shape, dtype=np.result_type(x2.dtype, b.dtype, a.dtype))
    pieces = range(len(edges) - 1)

    def first(i: int) -> NDArray[np.float64]:
        lo, hi = edges[i], edges[i + 1]
        y[:, lo:hi], zf = zero_state(b, a, x2[:, lo:hi])
        return zf

    finals = list(map_(first, pieces))
    if order(b, a) == 0:  # no memory: the pieces are independent
        return y
    A, fb = transition(b, a), feedback(a)
    powers: dict[int, NDArray[np.float64]] = {}
    states = [np.zeros_like(finals[0])]
    for i in pieces[:-1]:
        L = int(edges[i + 1] - edges[i])
        if L not in powers:
            powers[L] = power(A, L)
        states.append(advance(states[-1], finals[i], powers[L], fb))

    def then(i: int) -> None:
        add_response(y[:, edges[i] : edges[i + 1]], states[i], b, a)

    list(map_(then, pieces[1:]))
    return y
