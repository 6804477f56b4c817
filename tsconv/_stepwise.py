"""Private search of :mod:`tsconv.auto`: R's automatic ARIMA rules, in lockstep over a panel.

Every series carries its own differencing orders (``d`` by KPSS, ``D`` by seasonal
strength) and its own current best candidate. A round collects, for every series still
searching, the candidates it has not tried yet; series that need the same candidate
(same orders, same trend) are fitted together by one batched call of
:func:`tsconv.estimate._fit_panel`, whatever their lengths. A candidate is rejected (IC
``inf``) when it cannot be fitted, does not converge, or has an AR or MA root within
1.01 of the unit circle (``forecast::auto.arima``'s rule).

A candidate is ``(p, q, P, Q, constant)``: ``constant`` is a mean when ``d + D = 0``,
a drift when ``d + D = 1``, and never present for ``d + D >= 2``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from tsconv import _batchfit as _ep
from tsconv.estimate import _ROOT_MARGIN, _fit_panel, _kpss_ndiffs, _min_obs, _parse_orders, _trend_names, seasonal_strength

Cand = tuple[int, int, int, int, bool]


def differencing(y: NDArray[np.float64], s: int, d: int | None, D: int | None, max_d: int, max_D: int) -> tuple[int, int]:
    """``(d, D)`` as ``forecast::auto.arima``: ``D`` from ``nsdiffs`` (seasonal strength
    above 0.64, when the series holds more than two periods), then ``d`` from ``ndiffs``
    (KPSS at 5%) on the seasonally differenced series."""
    if D is None:
        D = 0
        if s >= 2 and max_D > 0 and y.size > 2 * s and np.ptp(y) > 0:
            D = int(seasonal_strength(y, s) > 0.64)
    if d is None:
        w = _ep.difference(y, 0, D, s) if D else y
        d = _kpss_ndiffs(w, max_d)
    return int(d), int(D)


def trend_of(cand: Cand, d: int, D: int) -> str:
    if not cand[4]:
        return "n"
    return "c" if d + D == 0 else ("t" if d + D == 1 else "n")


def canonical(cand: Cand, d: int, D: int) -> Cand:
    """A constant that the differencing removes is no constant."""
    return (cand[0], cand[1], cand[2], cand[3], bool(cand[4]) and d + D <= 1)


def fit_group(
    series: list[NDArray[np.float64]], cand: Cand, d: int, D: int, s: int, method: str, maxiter: int,
    ic: str, restarts: bool = False, exog: NDArray[np.float64] | None = None, exog_names: list[str] | None = None,
) -> tuple[NDArray[np.float64], Any, NDArray[np.intp]]:
    """Fit one candidate to a group of series sharing ``(d, D)``: their criteria (``inf``
    when rejected), the batch (None when no series is long enough) and the positions in
    the group of the batch's rows. ``exog``: regressors ``(k, n, m)`` of the group (its
    series then have equal length ``n``), a regression with ARIMA errors."""
    p, q, P, Q, _ = cand
    tr = trend_of(cand, d, D)
    seasonal = bool(P or D or Q)
    order = (p, d, q)
    sorder = (P, D, Q, s if seasonal else 0)
    parsed = _parse_orders(order, sorder)
    n_ex = 0 if exog is None else exog.shape[-1]
    spec = _ep.Spec(parsed[0], d, parsed[2], parsed[3], D, parsed[5], sorder[3], len(_trend_names(tr)) + n_ex)
    need = _min_obs(spec, method)
    crit = np.full(len(series), np.inf)
    rows = [j for j, v in enumerate(series) if v.size >= need]
    if not rows:
        return crit, None, np.zeros(0, np.intp)
    try:
        ex = None if exog is None else exog[rows]
        b = _fit_panel([series[j] for j in rows], None, None, parsed[:3], parsed[3:], tr, ex, method, maxiter,
                       order, sorder, exog_names=exog_names, restarts=restarts, identified=False)
    except (ValueError, np.linalg.LinAlgError):
        return crit, None, np.zeros(0, np.intp)
    if method == "css":
        # R's approximation: -2 llf replaced by nstar log(sigma2) over the nstar = n - d - sD
        # differenced observations, not over the fewer CSS residuals (which would
        # favour long AR lags); a constant offset per series does not change the ranking
        nstar = np.array([series[j].size - d - D * s for j in rows], dtype=float)
        npar = b.spec.n_params + 1
        with np.errstate(divide="ignore", invalid="ignore"):
            base = nstar * np.log(b.sigma2)
            val = {"aic": base + 2 * npar, "bic": base + np.log(nstar) * npar,
                   "aicc": np.where(nstar - npar - 1 > 0, base + 2 * npar + 2 * npar * (npar + 1) / (nstar - npar - 1),
                                    np.inf)}[ic]
    else:
        val = getattr(b, ic)
    c = np.where(b.converged, val, np.inf)
    if p + P or q + Q:
        _, ar, ma = b.spec.polys(np.asarray(b.params, dtype=float))
        far = _ep.roots_ok(ar, _ROOT_MARGIN) & _ep.roots_ok(ma, _ROOT_MARGIN)
        c = np.where(far, c, np.inf)
    c = np.where(np.isfinite(c), c, np.inf)
    crit[rows] = c
    return crit, b, np.asarray(rows, dtype=np.intp)


def _evaluate(series, need, dd, DD, s, method, maxiter, ic, tried, exog=None):
    """Fit the candidates ``need[i]`` (a set per series) for every series, grouped by
    candidate and differencing orders; store the criteria in ``tried[i][cand]``.
    ``exog``: None, or the regressors ``(n_i, m)`` of every series (equal lengths)."""
    groups: dict[tuple[Cand, int, int, str], list[int]] = {}
    for i, cands in need.items():
        for c in cands:
            groups.setdefault((c, int(dd[i]), int(DD[i]), method[i]), []).append(i)
    for (c, d, D, meth), members in groups.items():
        ex = None if exog is None else np.stack([exog[i] for i in members])
        crit, _, _ = fit_group([series[i] for i in members], c, d, D, s, meth, maxiter, ic, exog=ex)
        for i, v in zip(members, crit):
            tried[i][c] = float(v)


def _argmin(t: dict[Cand, float]) -> Cand:
    return min(t, key=lambda c: t[c])


def _neighbours(c: Cand, toggle: bool) -> list[Cand]:
    """The neighbours of ``c`` in the order of ``forecast::auto.arima``'s stepwise loop."""
    p, q, P, Q, k = c
    out = [(p, q, P - 1, Q, k), (p, q, P, Q - 1, k), (p, q, P + 1, Q, k), (p, q, P, Q + 1, k),
           (p, q, P - 1, Q - 1, k), (p, q, P - 1, Q + 1, k), (p, q, P + 1, Q - 1, k), (p, q, P + 1, Q + 1, k),
           (p - 1, q, P, Q, k), (p, q - 1, P, Q, k), (p + 1, q, P, Q, k), (p, q + 1, P, Q, k),
           (p - 1, q - 1, P, Q, k), (p - 1, q + 1, P, Q, k), (p + 1, q - 1, P, Q, k), (p + 1, q + 1, P, Q, k)]
    if toggle:
        out.append((p, q, P, Q, not k))
    return out


def search(
    series: list[NDArray[np.float64]], dd: NDArray[np.intp], DD: NDArray[np.intp], s: int, *,
    stepwise: bool, max_p: int, max_q: int, max_P: int, max_Q: int, max_order: int, constant: bool | None,
    ic: str, method: str | list[str], maxiter: int, max_models: int,
    exog: list[NDArray[np.float64]] | None = None,
) -> tuple[list[Cand | None], list[dict[Cand, float]]]:
    """Best candidate per series (None when nothing could be fitted) and every tried one.
    ``method``: one estimation method, or one per series. ``exog``: the regressors
    ``(n, m)`` of every series (all of length ``n``): regression with ARIMA errors."""
    k = len(series)
    method = [method] * k if isinstance(method, str) else list(method)
    seas = s >= 2
    mP, mQ = (max_P, max_Q) if seas else (0, 0)
    consts = [False, True] if constant is None else [bool(constant)]
    tried: list[dict[Cand, float]] = [dict() for _ in range(k)]

    def ok(c: Cand) -> bool:
        p, q, P, Q, _ = c
        return 0 <= p <= max_p and 0 <= q <= max_q and 0 <= P <= mP and 0 <= Q <= mQ

    if not stepwise:
        need: dict[int, set[Cand]] = {}
        for i in range(k):
            cs = set()
            for p in range(max_p + 1):
                for q in range(max_q + 1):
                    for P in range(mP + 1):
                        for Q in range(mQ + 1):
                            if p + q + P + Q > max_order:
                                continue
                            for k_c in consts:
                                cs.add(canonical((p, q, P, Q, k_c), int(dd[i]), int(DD[i])))
            need[i] = cs
        _evaluate(series, need, dd, DD, s, method, maxiter, ic, tried, exog)
        chosen: list[Cand | None] = [_argmin(t) if t and np.isfinite(min(t.values())) else None for t in tried]
        return chosen, tried

    # Hyndman & Khandakar (2008) stepwise: four starting models, then neighbours
    p0, q0 = min(2, max_p), min(2, max_q)
    P0, Q0 = min(1, mP), min(1, mQ)
    c_def = True if constant is None else bool(constant)
    starts = [(p0, q0, P0, Q0, c_def), (0, 0, 0, 0, c_def), (min(1, max_p), 0, min(1, mP), 0, c_def),
              (0, min(1, max_q), 0, min(1, mQ), c_def)]
    if constant is None:
        starts.append((0, 0, 0, 0, False))
    need = {i: {canonical(c, int(dd[i]), int(DD[i])) for c in starts if ok(c)} for i in range(k)}
    _evaluate(series, need, dd, DD, s, method, maxiter, ic, tried, exog)
    best: list[Cand | None] = []
    for i in range(k):
        t = tried[i]
        b = min(t, key=lambda c: t[c]) if t else None
        best.append(b if b is not None and np.isfinite(t[b]) else None)
    # R's loop: the neighbours of the current best in a fixed order; the first that
    # improves becomes the best and the scan restarts (first improvement). Every series
    # advances by one untried neighbour per round; the rounds fit them in groups.
    pos = [0] * k
    active = [i for i in range(k) if best[i] is not None]
    while active:
        need = {}
        prop: dict[int, Cand] = {}
        for i in active:
            nb = _neighbours(best[i], constant is None)  # type: ignore[arg-type]
            while pos[i] < len(nb):
                x = canonical(nb[pos[i]], int(dd[i]), int(DD[i]))
                if ok(x) and x not in tried[i]:
                    break
                pos[i] += 1
            if pos[i] < len(nb) and len(tried[i]) < max_models:
                prop[i] = x
                need[i] = {x}
        if not need:
            break
        _evaluate(series, need, dd, DD, s, method, maxiter, ic, tried, exog)
        for i, x in prop.items():
            if tried[i][x] < tried[i][best[i]]:  # type: ignore[index]
                best[i] = x
                pos[i] = 0
            else:
                pos[i] += 1
        active = list(prop)
    return best, tried
