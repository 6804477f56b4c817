"""statsmodels' SARIMAX forms of a :class:`tsconv.ARIMA`.

* ``statsmodels_spec``: the keyword arguments of ``tsconv.ARIMA`` for a statsmodels
  results object;
* ``sarimax_statespace`` / ``diffuse_head``: statsmodels' SARIMAX state-space form and the
  gains of its exact diffuse filter for the first ``d + s D`` observations.

The exact innovations of the differenced series (one model, any number of series) come
from the compiled likelihood engine, :func:`tsconv._likelihood.gain_path`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "statsmodels_spec",
    "sarimax_statespace",
    "DiffuseHead",
    "diffuse_head",
]


_TRENDS = {(): "n", (0,): "c", (1,): "t", (0, 1): "ct"}


def _trend_name(terms: Any, where: str) -> str:
    key = tuple(int(t) for t in np.asarray(terms).ravel())
    if key not in _TRENDS:
        raise ValueError(f"{where}: only trends 'n', 'c', 't', 'ct' are supported, got trend terms (powers of t) {list(key)}")
    return _TRENDS[key]


def statsmodels_spec(results: Any) -> dict[str, Any]:
    """Keyword arguments of :class:`tsconv.ARIMA` for a statsmodels results object."""
    from statsmodels.tsa.ar_model import AutoRegResults
    from statsmodels.tsa.arima.model import ARIMAResults
    from statsmodels.tsa.statespace.sarimax import SARIMAXResults

    inner = getattr(results, "_results", results)  # results wrappers
    if isinstance(inner, (ARIMAResults, SARIMAXResults)):
        model = inner.model
        is_arima = isinstance(inner, ARIMAResults)
        spec = model._spec_arima if is_arima else model._spec
        if not is_arima:
            for flag, what in (
                ("simple_differencing", "simple differencing (the model sees the differenced series)"),
                ("measurement_error", "measurement error"),
                ("time_varying_regression", "time-varying regression"),
            ):
                if getattr(model, flag, False):
                    raise ValueError(f"from_statsmodels does not support SARIMAX with {what}")
            if model.k_exog and not model.mle_regression:
                raise ValueError("from_statsmodels does not support SARIMAX with mle_regression=False")
        params = np.asarray(inner.params, dtype=float)
        split = spec.split_params(params)
        k_trend = int(spec.k_trend)
        exog_all = np.asarray(split["exog_params"], dtype=float) if split["exog_params"] is not None else np.zeros(0)
        sigma2 = split.get("sigma2")
        if sigma2 is None or (np.ndim(sigma2) == 0 and not np.isfinite(sigma2)):
            sigma2 = float(inner.scale)
        trend = _trend_name(spec.trend_terms, type(inner).__name__)
        order = (list(spec.ar_lags) if _holes(spec.ar_lags) else len(spec.ar_lags), spec.diff,
                 list(spec.ma_lags) if _holes(spec.ma_lags) else len(spec.ma_lags))
        s = int(spec.seasonal_periods)
        sorder = (list(spec.seasonal_ar_lags) if _holes(spec.seasonal_ar_lags) else len(spec.seasonal_ar_lags), spec.seasonal_diff,
                  list(spec.seasonal_ma_lags) if _holes(spec.seasonal_ma_lags) else len(spec.seasonal_ma_lags), s)
        # SARIMAX keeps its trend_offset on the model (its _spec always says 1: a fit
        # with trend_offset=5, or any res.extend(...), came out with a shifted trend)
        offset = int(spec.trend_offset if is_arima else model.trend_offset)
        trend_params = exog_all[:k_trend]
        # SARIMAX's trend is an intercept of the ARMA equation (its state intercept for
        # y_t uses time t + trend_offset - 1, 0-based t); with hamilton_representation it is
        # the mean at time t + trend_offset, its parameters divided by the AR polynomial at 1
        # (statsmodels' SARIMAX.update): the same model for a constant, not for a time trend
        mean_form = is_arima or (k_trend > 0 and bool(getattr(model, "hamilton_representation", False)))
        if mean_form and not is_arima:
            ar1 = (1.0 - float(np.sum(split["ar_params"]))) * (1.0 - float(np.sum(split["seasonal_ar_params"])))
            if ar1 == 0.0:
                raise ValueError("from_statsmodels: a Hamilton-representation trend with an AR unit root has no mean")
            trend_params = trend_params / ar1
        return dict(
            order=order, seasonal_order=sorder,
            ar=split["ar_params"], ma=split["ma_params"],
            seasonal_ar=split["seasonal_ar_params"], seasonal_ma=split["seasonal_ma_params"],
            trend=trend, trend_params=trend_params,
            exog_params=exog_all[k_trend:] if exog_all.size > k_trend else None,
            sigma2=float(sigma2),
            trend_form="mean" if mean_form else "intercept",
            trend_offset=offset if mean_form else offset - 1,
        )
    if isinstance(inner, AutoRegResults):
        model = inner.model
        if model.seasonal or model.exog is not None or model.deterministic is not None:
            raise ValueError("from_statsmodels supports AutoReg without seasonal dummies, exog or custom deterministic terms")
        params = np.asarray(inner.params, dtype=float)
        trend = model.trend
        k_ar_trend = {"n": 0, "c": 1, "t": 1, "ct": 2}.get(trend)
        if k_ar_trend is None:
            raise ValueError(f"AutoReg trend {trend!r} is not supported (use 'n', 'c', 't' or 'ct')")
        lags = list(model.ar_lags) if model.ar_lags is not None else []
        return dict(
            order=(lags if _holes(lags) else len(lags), 0, 0),
            ar=params[k_ar_trend:], trend=trend, trend_params=params[:k_ar_trend],
            sigma2=float(inner.sigma2), trend_form="intercept", trend_offset=1,
        )
    raise TypeError(
        "results must be a statsmodels.tsa.arima.model.ARIMAResults, "
        "statsmodels.tsa.statespace.sarimax.SARIMAXResults or statsmodels.tsa.ar_model.AutoRegResults, "
        f"got {type(results).__module__}.{type(results).__name__}"
    )


def _holes(lags: Any) -> bool:
    lags = list(lags)
    return lags != list(range(1, len(lags) + 1))


@dataclass(frozen=True)
class DiffuseHead:
    """The first ``d + s D`` steps of statsmodels' exact diffuse Kalman filter (data-free part).

    ``a_{t|t} = a_t + gains[t] * (z_t - Z a_t)``, ``a_{t+1} = T a_{t|t} + c_{t+1} e_arma``,
    prediction ``Z a_t``; ``a0`` holds no mean (the ARMA block's mean is added by the caller).
    """

    Z: NDArray[np.float64]
    T: NDArray[np.float64]
    gains: NDArray[np.float64]
    arma_index: int
    arma_order: int


def sarimax_statespace(model: Any) -> tuple[NDArray[np.float64], ...]:
    """statsmodels' SARIMAX state-space form of ``model`` (no regression, not simple-differenced).

    Returns ``Z, T, RQR, P_inf, P_star`` as ``SARIMAX(..., use_exact_diffuse=True)`` builds them
    (``statsmodels/tsa/statespace/sarimax.py``: ``initial_design``, ``initial_transition``,
    ``update``): the ``d`` integration states, then ``D`` blocks of ``s`` seasonal states,
    then ``k = max(p*, q* + 1)`` ARMA states in Harvey's form.
    """
    import scipy.linalg

    d, D, s = model.d, model.D, model.s
    ndiff = d + s * D
    ar, ma = model._ar_red, model._ma
    k = max(ar.size - 1, ma.size)
    r = ndiff + k
    Z = np.zeros(r)
    Z[:d] = 1.0
    for j in range(D):
        Z[d + j * s + s - 1] = 1.0
    Z[ndiff] = 1.0
    T = np.zeros((r, r))
    # ARMA block: companion form, AR coefficients down the first column
    Ta = np.eye(k, k, 1)
    Ta[: ar.size - 1, 0] = -ar[1:]
    T[ndiff:, ndiff:] = Ta
    if D:
        sc = np.eye(s, s, -1)
        sc[0, -1] = 1.0
        for j in range(D):
            a, b = d + j * s, d + (j + 1) * s
            T[a:b, a:b] = sc
            if j < D - 1:
                T[a, b + s - 1] = 1.0
            T[a, ndiff] = 1.0
    if d:
        T[np.triu_indices(d)] = 1.0
        for j in range(D):
            T[:d, d + j * s + s - 1] = 1.0
        T[:d, ndiff] = 1.0
    R = np.zeros(r)
    R[ndiff] = 1.0
    R[ndiff + 1 : ndiff + ma.size] = ma[1:]
    RQR = model.sigma2 * np.outer(R, R)
    P_inf = np.zeros((r, r))
    P_inf[:ndiff, :ndiff] = np.eye(ndiff)
    P_star = np.zeros((r, r))
    P_star[ndiff:, ndiff:] = scipy.linalg.solve_discrete_lyapunov(Ta, RQR[ndiff:, ndiff:])
    return Z, T, RQR, P_inf, P_star


def diffuse_head(model: Any) -> DiffuseHead:
    """Gains of statsmodels' exact diffuse filter (Durbin & Koopman 2012, 5.2) in the diffuse period.

    The state-space form is statsmodels' SARIMAX representation (:func:`sarimax_statespace`:
    differencing states first, then the Harvey-form ARMA states), so that the predictions
    of the first ``d + s D`` observations use the same parametrisation of the diffuse
    states as statsmodels (their value depends on it: prior mean zero, infinite variance).
    """
    dd = model._dd
    Z, T, RQR, P_inf, P_star = sarimax_statespace(model)
    r = Z.size
    gains = np.zeros((dd, r))
    for t in range(dd):
        M_inf, M_star = P_inf @ Z, P_star @ Z
        F_inf, F_star = float(Z @ M_inf), float(Z @ M_star)
        if F_inf > 1e-10:
            gains[t] = M_inf / F_inf
            P_star = P_star + np.outer(M_inf, M_inf) * F_star / F_inf**2 - (np.outer(M_star, M_inf) + np.outer(M_inf, M_star)) / F_inf
            P_inf = P_inf - np.outer(M_inf, M_inf) / F_inf
        else:  # pragma: no cover - every differencing observation resolves a diffuse direction
            gains[t] = M_star / F_star
            P_star = P_star - np.outer(M_star, M_star) / F_star
        P_inf = T @ P_inf @ T.T
        P_star = T @ P_star @ T.T + RQR
    return DiffuseHead(Z, T, gains, dd, r - dd)
