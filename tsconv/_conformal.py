"""Private conformal calibration of :mod:`tsconv.auto`'s prediction intervals.

Rolling-origin replays of the end of the selection: for window ``w = 1 .. n_windows``
every series is cut ``w * h`` observations before its end, its differencing orders
``(d, D)`` are chosen again on the shortened series by the search's own tests, its
finalists (the best few candidates of its search on the whole series, best first) are
refitted there as the search fits candidates (one batched fit per candidate,
differencing and window), the one with the lowest criterion is chosen again (when
the search's rules reject every refit, the first finalist that could be fitted) and
forecast ``h`` steps. The windows so replay the choice of the differencing
and, among the finalists, of the model, instead of inheriting both from data that
include them. The score of a window forecast is its absolute error divided by its own
forecast standard error, ``|y - yhat| / se``, and, with ``scaled``, by the recent
scale ``r`` of its model's residuals (:func:`recent_scale`). The scores of the whole
panel (every series, window and horizon) calibrate one factor per level: the
split-conformal quantile, the ``ceil((N + 1) * level / 100)``-th smallest of the
``N`` scores, which replaces the normal quantile ``z`` in ``mean +- z * se`` (in
``mean +- z * r * se`` with ``scaled``).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from tsconv import _stepwise
from tsconv.estimate import _batch_residuals


def window_scores(
    series: list[NDArray[np.float64]], finalists: list[list[Any]],
    differencing: Callable[[NDArray[np.float64], Any], tuple[int, int]], s: int, h: int, n_windows: int,
    method: str, maxiter: int, ic_of: Callable[[NDArray[np.float64]], str], exog: NDArray[np.float64] | None = None,
    exog_names: list[str] | None = None,
    scaled: bool = False,
) -> NDArray[np.float64]:
    """Scores ``(n_windows, len(series), h)`` (NaN where a shortened series is too short
    for every finalist or no finalist could be fitted). ``finalists[j]``: the candidates
    of series ``j``, its chosen one first. ``differencing(y, X)``: the ``(d, D)`` the
    search chooses for the series ``y`` (regressors ``X`` ``(n, m)`` or None), ``ic_of(y)``
    the criterion it ranks the finalists by (the search's: AIC for 3 or fewer observations).
    ``exog``: regressors ``(k, n, m)`` of series of equal length ``n``. ``scaled``: each
    score is also divided by :func:`recent_scale` of its refit's residuals (``m = h``)."""
    out = np.full((n_windows, len(series), h), np.nan)
    for w in range(1, n_windows + 1):
        cut = w * h
        groups: dict[tuple[Any, int, int, str], list[int]] = {}
        for j, v in enumerate(series):
            if v.size - cut >= 2 and np.ptp(v[: v.size - cut]) > 0:
                d, D = differencing(v[: v.size - cut], None if exog is None else exog[j, : v.size - cut])
                ic = ic_of(v[: v.size - cut])
                for cand in dict.fromkeys(_stepwise.canonical(c, d, D) for c in finalists[j]):
                    groups.setdefault((cand, d, D, ic), []).append(j)
        # per series: (rank of the finalist's criterion, finalist position, scores)
        best: dict[int, tuple[float, int, NDArray[np.float64]]] = {}
        for (cand, d, D, ic), rows in groups.items():
            short = [series[j][: series[j].size - cut] for j in rows]
            ex = None if exog is None else exog[rows][:, : exog.shape[1] - cut]
            crit, batch, fitted = _stepwise.fit_group(short, cand, d, D, s, method, maxiter, ic, exog=ex,
                                                      exog_names=exog_names)
            if batch is None:
                continue
            fut = None if exog is None else exog[rows][fitted][:, exog.shape[1] - cut : exog.shape[1] - cut + h]
            try:
                fc = batch.forecast(h, exog_future=fut)
            except (ValueError, np.linalg.LinAlgError):  # no scores from this fit
                continue
            scale = recent_scale(_batch_residuals(batch), h) if scaled else np.ones(len(fitted))
            for jj, r in enumerate(fitted):
                j = rows[int(r)]
                n = series[j].size
                with np.errstate(divide="ignore", invalid="ignore"):
                    sc = np.abs(series[j][n - cut : n - cut + h] - fc.mean[jj]) / (fc.se[jj] * scale[jj])
                pos = [_stepwise.canonical(c, d, D) for c in finalists[j]].index(cand)
                key = (float(crit[int(r)]), pos)
                if j not in best or key < best[j][:2]:
                    best[j] = (key[0], key[1], np.where(np.isfinite(sc), sc, np.nan))
        for j, (_, _, sc) in best.items():
            out[w - 1, j] = sc
    return out


def factor(scores: NDArray[np.float64], level: float) -> float:
    """The split-conformal quantile of the finite ``scores`` at ``level`` (%): the
    ``ceil((N + 1) * level / 100)``-th smallest of ``N``; ``inf`` when there are too few
    (fewer than ``level / (100 - level)``: 19 at 95%)."""
    x = np.sort(scores[np.isfinite(scores)])
    r = math.ceil((x.size + 1) * level / 100.0 - 1e-9)
    return float(x[r - 1]) if 1 <= r <= x.size else math.inf


def recent_scale(resid: list[NDArray[np.float64]], m: int) -> NDArray[np.float64]:
    """The recent scale of every series' residuals: ``r = sqrt((S_m + m * v) / ((m' + m) *
    v))``, the root of the mean square of its last ``m'`` residuals (``m' = m``, or all of
    them when fewer; sum ``S_m``) pooled with ``m`` pseudo-residuals at the mean square
    ``v`` of all its residuals, relative to ``v``: 1 when the end of the series is as
    noisy as the rest, between ``1 / sqrt(2)`` and ``sqrt((n + m) / (2 m))`` otherwise (1
    without a finite nonzero residual). ``resid``: one array per series (NaN ignored)."""
    out = np.ones(len(resid))
    for j, e in enumerate(resid):
        e = e[np.isfinite(e)]
        v = float(np.mean(e**2)) if e.size else 0.0
        if v > 0.0 and math.isfinite(v):
            last = e[e.size - min(m, e.size) :]
            out[j] = math.sqrt((float(np.sum(last**2)) + m * v) / ((last.size + m) * v))
    return out
