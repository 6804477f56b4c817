"""Private numerical core of :mod:`tsconv.arima`: the exact innovations recursion.

Note for other modules (e.g. native estimation, ``fit_arima``)
---------------------------------------------------------------
The exact Gaussian likelihood of a stationary ARMA sample comes from::

    e, d = exact_innovations(ar, ma, v)

* ``ar``: AR lag polynomial with zero lag first and lfilter sign ``[1, -phi_1, ...]``
  (seasonal factors already multiplied in, differencing NOT included);
* ``ma``: MA lag polynomial ``[1, theta_1, ...]`` (seasonal factors multiplied in);
* ``v``: array ``(n,)`` or ``(k, n)``, the differenced, demeaned series (zero mean);
* returns ``e`` (same shape as ``v``: the one-step prediction errors, i.e. the innovations,
  in data units) and ``d`` ``(n,)``: their variances divided by ``sigma2`` (they fall
  to 1 for an invertible model).

With ``N = n`` observations the exact log-likelihood of each series is
``-0.5 * (N log(2 pi sigma2) + sum(log d) + sum(e**2 / d) / sigma2)``; the
concentrated ``sigma2`` is ``mean(e**2 / d)``. It raises ``ValueError`` if ``ar`` is not
stationary. Cost: O(n (p+q)) once the variances converge (banded Cholesky of the
Ansley-transformed covariance, LAPACK ``pbtrf`` + ``tbtrs``, then ``lfilter``).

Also here: ``statsmodels_spec`` (the keyword arguments of ``tsconv.ARIMA`` for a statsmodels
results object), ``sarimax_statespace`` / ``diffuse_head`` (statsmodels' SARIMAX state-space
form and the gains of its exact diffuse filter for the first ``d + s D`` observations).

The recursion follows Brockwell & Davis (1991), *Time Series: Theory and Methods*,
section 5.3 (innovations algorithm for ARMA via Ansley's 1979 transformation):
``x_t = v_t`` for ``t < m`` and ``x_t = phi(B) v_t`` after, ``m = max(p, q)``, whose
covariance is banded (bandwidth ``m``); its Cholesky factor ``x = L e`` gives the
innovations, and ``L``'s rows converge to ``theta`` as the variances converge to 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.signal
from numpy.typing import NDArray

__all__ = [
    "fir_rows",
    "exact_innovations",
    "InnovationsFactor",
    "innovations_factor",
    "arma_acovf",
    "lfilter_zi",
    "solve_head",
    "transform_and_filter",
    "statsmodels_spec",
    "sarimax_statespace",
    "DiffuseHead",
    "diffuse_head",
]

_EPS = np.finfo(float).eps


def arma_acovf(ar: NDArray[np.float64], ma: NDArray[np.float64], nlags: int) -> NDArray[np.float64]:
    """Autocovariances ``gamma(0..nlags)`` of the ARMA ``ar(B) x = ma(B) e``, ``var(e) = 1``.

    Solves the linear system of Brockwell & Davis (1991), eqs. (3.3.8)-(3.3.9), for
    ``gamma(0..p)`` and continues with the AR recursion.
    """
    ar = np.asarray(ar, float)
    ma = np.asarray(ma, float)
    p, q = ar.size - 1, ma.size - 1
    imp = np.zeros(q + 1)
    imp[0] = 1.0
    psi = scipy.signal.lfilter(ma, ar, imp)
    size = max(nlags, p) + 1
    # rhs_k = sum_{j=k}^{q} theta_j psi_{j-k}, zero past q
    rhs = np.zeros(size)
    for k in range(min(q, size - 1) + 1):
        rhs[k] = float(np.dot(ma[k:], psi[: q + 1 - k]))
    g = np.zeros(size)
    if p:
        # sum_{j=0}^{p} ar_j gamma(|k - j|) = rhs_k for k = 0..p
        A = np.zeros((p + 1, p + 1))
        kk, jj = np.indices((p + 1, p + 1))
        np.add.at(A, (kk.ravel(), np.abs(kk - jj).ravel()), ar[jj.ravel()])
        g[: p + 1] = np.linalg.solve(A, rhs[: p + 1])
        for k in range(p + 1, size):
            g[k] = rhs[k] - float(np.dot(ar[1:], g[k - 1 : k - p - 1 if k - p - 1 >= 0 else None : -1]))
    else:
        g[:] = rhs
    return g[: nlags + 1]


def _band(ar: NDArray[np.float64], ma: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Lower band ``ab[h, j] = K[j + h, j]`` of the Ansley-transformed covariance (n x n)."""
    p, q = ar.size - 1, ma.size - 1
    m = max(p, q)
    ab = np.zeros((m + 1, n))
    if m == 0:
        ab[0] = 1.0
        return ab
    g = arma_acovf(ar, ma, 2 * m)
    phi = -ar[1:]
    for h in range(m + 1):
        # columns j with both indices < m (j + h < m): gamma(h); with j < m <= j + h:
        # the mixed covariance; with both >= m: the MA covariance
        mixed = g[h] - sum(phi[r - 1] * g[abs(r - h)] for r in range(1, p + 1))
        ma_cov = float(np.dot(ma[: q + 1 - h], ma[h:])) if h <= q else 0.0
        c1, c2 = min(max(m - h, 0), n), min(m, n)
        ab[h, :c1] = g[h]
        ab[h, c1:c2] = mixed
        ab[h, c2:] = ma_cov
    # entries past the end of the matrix are ignored by LAPACK
    return ab


@dataclass(frozen=True)
class InnovationsFactor:
    """Unit lower band factor ``L`` (``x = L e``) and relative variances ``d`` of the innovations.

    ``band[h, t] = L[t, t - h]`` for the first ``T`` rows (``band[0] == 1``); rows from
    ``T`` on equal ``conv_row`` (``conv_row[h] = L[t, t - h]``) with variance ``conv_d``
    when ``converged``.
    """

    band: NDArray[np.float64]  # (m + 1, T), row-indexed band: band[h, t] = L[t, t-h]
    d: NDArray[np.float64]  # (T,)
    m: int
    converged: bool
    conv_row: NDArray[np.float64]  # (m + 1,), conv_row[0] = 1
    conv_d: float

    @property
    def T(self) -> int:
        return int(self.d.size)

    def rows(self, t0: int, t1: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Band rows ``band[:, t]`` and variances for ``t0 <= t < t1`` (converged past ``T``)."""
        T = self.T
        out = np.empty((self.m + 1, t1 - t0))
        dd = np.empty(t1 - t0)
        k = max(0, min(T, t1) - t0)
        if k:
            out[:, :k] = self.band[:, t0 : t0 + k]
            dd[:k] = self.d[t0 : t0 + k]
        if k < t1 - t0:
            if not self.converged:
                raise RuntimeError("innovations factor requested past its computed length")
            out[:, k:] = self.conv_row[:, None]
            dd[k:] = self.conv_d
        return out, dd


def _factor(ar: NDArray[np.float64], ma: NDArray[np.float64], n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Row-indexed unit band and variances of the first ``n`` innovations (LAPACK pbtrf)."""
    ab = _band(ar, ma, n)
    c, info = scipy.linalg.lapack.dpbtrf(ab, lower=1)
    if info != 0:
        raise ValueError(
            "the ARMA covariance matrix is not positive definite (is the AR part stationary?); "
            f"LAPACK pbtrf info={info}"
        )
    diag = c[0].copy()
    m = ab.shape[0] - 1
    # c[h, j] = Lc[j + h, j] (column-indexed); convert to unit row-indexed band[h, t] = L[t, t-h]
    band = np.zeros_like(c)
    band[0] = 1.0
    for h in range(1, min(m, n - 1) + 1):
        band[h, h:] = c[h, : n - h] / diag[: n - h]
    return band, diag**2


def innovations_factor(ar: NDArray[np.float64], ma: NDArray[np.float64], n: int) -> InnovationsFactor:
    """The innovations factor of the first ``n`` observations, truncated once it converges.

    Computes the banded Cholesky factor on a growing prefix (x4 each time) until its
    last ``2 m + 1`` rows agree to a few ulps; the remaining rows are that converged row.
    """
    ar = np.asarray(ar, float)
    ma = np.asarray(ma, float)
    p, q = ar.size - 1, ma.size - 1
    m = max(p, q)
    if m == 0:
        one = np.ones((1, max(n, 1)))
        return InnovationsFactor(one, np.ones(max(n, 1)), 0, True, np.ones(1), 1.0)
    tries = max(256, 40 * m)
    while True:
        N = min(n, tries)
        band, d = _factor(ar, ma, N)
        win = 2 * m + 1
        if N >= m + win + 1:
            last_row, last_d = band[:, -1], d[-1]
            tol_r = 16 * _EPS * np.maximum(1.0, np.abs(last_row))
            same = np.all(np.abs(band[:, m:] - last_row[:, None]) <= tol_r[:, None], axis=0)
            same &= np.abs(d[m:] - last_d) <= 16 * _EPS * max(1.0, abs(last_d))
            # first index from which every later row equals the last one
            if same[-win:].all():
                bad = np.flatnonzero(~same)
                T = m + (int(bad[-1]) + 1 if bad.size else 0)
                T = max(T, 2 * m)
                return InnovationsFactor(band[:, :T].copy(), d[:T].copy(), m, True, last_row.copy(), float(last_d))
        if N >= n:
            return InnovationsFactor(band, d, m, False, band[:, -1].copy(), float(d[-1]))
        tries *= 4


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


def solve_head(factor: InnovationsFactor, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Innovations ``e = L^{-1} x`` for the first ``x.shape[-1] <= factor.T`` values (k series)."""
    n = x.shape[-1]
    m = factor.m
    if m == 0:
        return x.copy()
    # LAPACK tbtrs wants the column-indexed band: cb[h, j] = L[j + h, j] = band[h, j + h]
    cb = np.zeros((m + 1, n))
    for h in range(min(m, n - 1) + 1):
        cb[h, : n - h] = factor.band[h, h:n]
    rhs = np.asfortranarray(x.T)
    sol, info = scipy.linalg.lapack.dtbtrs(cb, rhs, uplo="L", trans="N", diag="U")
    if info != 0:  # pragma: no cover - unit diagonal cannot be singular
        raise RuntimeError(f"LAPACK tbtrs failed, info={info}")
    return np.ascontiguousarray(sol.T)


def exact_innovations(ar: NDArray[np.float64], ma: NDArray[np.float64], v: NDArray[np.float64],
                      check: bool = True) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact one-step prediction errors of a zero-mean stationary ARMA sample and their relative variances.

    See the module docstring for the conventions. ``v`` is ``(n,)`` or ``(k, n)``.
    ``check=False`` skips the stationarity test of ``ar`` (for callers that have made
    it already, such as the optimizer's objective).
    """
    ar = np.asarray(ar, float)
    ma = np.asarray(ma, float)
    if ar[0] != 1.0 or ma[0] != 1.0:
        raise ValueError(f"ar and ma must start with 1 (zero lag), got {ar[0]} and {ma[0]}")
    if check and ar.size > 1 and np.any(np.abs(np.roots(ar[::-1])) <= 1.0):
        raise ValueError("ar must be stationary (every root of ar(z) outside the unit circle)")
    v = np.asarray(v, float)
    one = v.ndim == 1
    v2 = np.atleast_2d(v)
    n = v2.shape[-1]
    fac = innovations_factor(ar, ma, n)
    e = transform_and_filter(fac, ar, v2)
    _, d = fac.rows(0, n)
    return (e[0] if one else e), d


def transform_and_filter(fac: InnovationsFactor, ar: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Innovations of zero-mean ``v`` (k, n) given the factor of its model (AR part ``ar``)."""
    n = v.shape[-1]
    m = fac.m
    p = ar.size - 1
    T = min(fac.T, n)
    # head: Ansley transform x_t = v_t (t < m), ar(B) v_t after
    x = v[:, :T].copy()
    if p and T > m:
        x[:, m:] = fir_rows(ar, v[:, :T])[:, m:]
    e = np.empty_like(v)
    e[:, :T] = solve_head(fac, x)
    if T < n:
        a = fac.conv_row
        zi = lfilter_zi(ar, a, v[:, T - p : T] if p else None, e[:, T - m : T])
        e[:, T:], _ = scipy.signal.lfilter(ar, a, v[:, T:], axis=-1, zi=zi)
    return e


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
        offset = int(spec.trend_offset)
        return dict(
            order=order, seasonal_order=sorder,
            ar=split["ar_params"], ma=split["ma_params"],
            seasonal_ar=split["seasonal_ar_params"], seasonal_ma=split["seasonal_ma_params"],
            trend=trend, trend_params=exog_all[:k_trend],
            exog_params=exog_all[k_trend:] if exog_all.size > k_trend else None,
            sigma2=float(sigma2),
            trend_form="mean" if is_arima else "intercept",
            # SARIMAX's intercept for y_t uses time t + trend_offset - 1 (0-based t)
            trend_offset=offset if is_arima else offset - 1,
        )
    if isinstance(inner, AutoRegResults):
        model = inner.model
        if model.seasonal or model.exog is not None or model.deterministic is not None:
            raise ValueError("from_statsmodels supports AutoReg without seasonal dummies, exog or custom deterministic terms")
        names = list(model.exog_names)
        params = np.asarray(inner.params, dtype=float)
        trend = model.trend
        k_ar_trend = {"n": 0, "c": 1, "t": 1, "ct": 2}.get(trend)
        if k_ar_trend is None:
            raise ValueError(f"AutoReg trend {trend!r} is not supported (use 'n', 'c', 't' or 'ct')")
        lags = list(model.ar_lags) if model.ar_lags is not None else []
        del names
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
