"""Private conformal calibration of :mod:`tsconv.auto`'s prediction intervals.

Rolling-origin refits of the chosen models: for window ``w = 1 .. n_windows`` every
series is cut ``w * h`` observations before its end, its differencing orders ``(d, D)``
are chosen again on the shortened series by the search's own tests (so that the windows
replay that part of the selection instead of inheriting it from data that include them),
its chosen ARMA orders, constant and regressors are refitted to the shortened series
with the restarts of the final fit (one batched fit per specification, differencing and
window, as in the search) and forecast ``h`` steps. The score of a window forecast is
its absolute error divided by its own forecast standard error, ``|y - yhat| / se``. The
scores of the whole panel (every series, window and horizon) calibrate one factor per
level: the split-conformal quantile, the ``ceil((N + 1) * level / 100)``-th smallest of
the ``N`` scores, which replaces the normal quantile ``z`` in ``mean +- z * se``.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from tsconv import _stepwise


def window_scores(
    series: list[NDArray[np.float64]], cand: Any, differencing: Callable[[NDArray[np.float64], Any], tuple[int, int]],
    s: int, h: int, n_windows: int, method: str, maxiter: int, ic: str, exog: NDArray[np.float64] | None = None,
    exog_names: list[str] | None = None,
) -> NDArray[np.float64]:
    """Scores ``(n_windows, len(series), h)`` of one chosen specification ``cand`` over a
    group of series (NaN where a shortened series is too short for the specification or
    its fit fails). ``differencing(y, X)``: the ``(d, D)`` the search chooses for the
    series ``y`` (regressors ``X`` ``(n, m)`` or None). ``exog``: regressors ``(k, n, m)``
    of a group of series of equal length ``n``."""
    out = np.full((n_windows, len(series), h), np.nan)
    for w in range(1, n_windows + 1):
        cut = w * h
        groups: dict[tuple[int, int], list[int]] = {}
        for j, v in enumerate(series):
            if v.size - cut >= 2:
                short = v[: v.size - cut]
                x = None if exog is None else exog[j, : v.size - cut]
                if np.ptp(short) > 0:
                    groups.setdefault(differencing(short, x), []).append(j)
        for (d, D), rows in groups.items():
            short_series = [series[j][: series[j].size - cut] for j in rows]
            ex = None if exog is None else exog[rows][:, : exog.shape[1] - cut]
            _, batch, fitted = _stepwise.fit_group(short_series, cand, d, D, s, method,
                                                   maxiter, ic, restarts=True, exog=ex, exog_names=exog_names)
            if batch is None:
                continue
            fut = None if exog is None else exog[rows][fitted][:, exog.shape[1] - cut : exog.shape[1] - cut + h]
            try:
                fc = batch.forecast(h, exog_future=fut)
            except (ValueError, np.linalg.LinAlgError):  # no scores from this window's fit
                continue
            for jj, r in enumerate(fitted):
                j = rows[int(r)]
                n = series[j].size
                actual = series[j][n - cut : n - cut + h]
                with np.errstate(divide="ignore", invalid="ignore"):
                    sc = np.abs(actual - fc.mean[jj]) / fc.se[jj]
                out[w - 1, j] = np.where(np.isfinite(sc), sc, np.nan)
    return out


def factor(scores: NDArray[np.float64], level: float) -> float:
    """The split-conformal quantile of the finite ``scores`` at ``level`` (%): the
    ``ceil((N + 1) * level / 100)``-th smallest of ``N``; ``inf`` when there are too few
    (fewer than ``level / (100 - level)``: 19 at 95%)."""
    x = np.sort(scores[np.isfinite(scores)])
    r = math.ceil((x.size + 1) * level / 100.0 - 1e-9)
    return float(x[r - 1]) if 1 <= r <= x.size else math.inf
