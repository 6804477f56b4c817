"""Many-series FIR filtering and lfilter states: the filters of :class:`tsconv.ARIMA` over rows.

* ``fir_rows``: the FIR of a lag polynomial over many rows at once (one pass per non-zero
  tap, where ``scipy.signal.lfilter`` runs one ``np.convolve`` per row);
* ``lfilter_zi``: the ``lfilter`` state that continues a past run.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
from numpy.typing import NDArray

__all__ = ["fir_rows", "lfilter_zi"]


def fir_rows(b: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``scipy.signal.lfilter(b, [1.0], x, axis=-1)`` of the 2-D ``x`` (zero pre-sample values).

    scipy runs a FIR ``lfilter`` as one ``np.convolve`` per row (``apply_along_axis``):
    300 short series cost 300 calls. Lag polynomials are short and sparse (the airline
    model's ``(1-B)(1-B^12)`` has 4 non-zero taps of 14), so here every non-zero tap is
    one pass over all the rows at once.
    """
    if x.shape[0] == 1:
        return scipy.signal.lfilter(b, [1.0], x, axis=-1)
    n = x.shape[-1]
    taps = [int(k) for k in np.flatnonzero(b) if k < n]
    dtype = np.result_type(x.dtype, b.dtype)
    if taps and taps[0] == 0:  # the lead tap initializes the output
        y = x.astype(dtype, copy=True) if b[0] == 1.0 else np.multiply(x, b[0], dtype=dtype)
        taps = taps[1:]
    else:
        y = np.zeros(x.shape, dtype=dtype)
    scratch = None
    for k in taps:
        target, source = y[:, k:], x[:, : n - k]
        if b[k] == 1.0:  # differencing polynomials: every coefficient is +-1 (or small integers)
            np.add(target, source, out=target)
        elif b[k] == -1.0:
            np.subtract(target, source, out=target)
        else:
            if scratch is None:
                scratch = np.empty(x.shape, dtype=dtype)
            tmp = np.multiply(source, b[k], out=scratch[:, : n - k])
            np.add(target, tmp, out=target)
    return y


def lfilter_zi(
    b: NDArray[np.float64], a: NDArray[np.float64], x_past: NDArray[np.float64] | None, y_past: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """``zi`` for ``scipy.signal.lfilter(b, a, x, zi=zi, axis=-1)`` continuing a past run.

    ``x_past`` / ``y_past`` (``(k, L)``, time last, most recent last) are the inputs and
    outputs just before ``x``; ``None`` means zeros, and values further back than ``L``
    count as zeros. ``a[0]`` must be 1. Direct form II transposed:
    ``zi[i] = sum_{l >= 1} b[i + l] x[-l] - a[i + l] y[-l]``.
    """
    N = max(b.size, a.size)
    k = next((p.shape[0] for p in (x_past, y_past) if p is not None), 1)
    zi = np.zeros((k, N - 1))
    if N == 1:
        return zi
    i = np.arange(N - 1)[:, None]
    lag = np.arange(1, N)[None, :]
    for coef, past, sign in ((b, x_past, 1.0), (a, y_past, -1.0)):
        if past is None or coef.size < 2:
            continue
        pad = np.zeros(2 * N)
        pad[: coef.size] = coef
        W = pad[i + lag]  # W[i, l-1] = coef[i + l]
        L = min(past.shape[-1], N - 1)
        rev = past[:, ::-1][:, :L]  # rev[:, l-1] = past[-l]
        zi += sign * rev @ W[:, :L].T
    return zi
