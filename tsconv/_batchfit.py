"""Private numerical core of :mod:`tsconv.estimate`: batched over the rows of 2-D arrays.

Every function here works on a block of equally long series ``(k, n)`` at once, with
per-row coefficients (``(k, p)`` arrays); a Python loop runs over time or over lags,
never over series. Ragged panels are handled one level up, by grouping rows of equal
length.

Contents
--------
* pure AR: Yule-Walker (statsmodels' ``yule_walker``), Burg (statsmodels' ``burg``),
  OLS (statsmodels' ``AutoReg``);
* the stationarity / invertibility reparametrization (Monahan 1984, Jones 1980),
  vectorized;
* CSS residuals (R's ``arima(method="CSS")`` recursion);
* the exact Gaussian ARMA innovations (the compiled engine of :mod:`tsconv._likelihood`);
* a batched Levenberg-Marquardt least-squares solver with per-row damping.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.optimize
import scipy.signal
from numpy.typing import NDArray

from tsconv import _likelihood

Array = NDArray[np.float64]


# ---------------------------------------------------------------------------------------
# Pure AR estimators
# ---------------------------------------------------------------------------------------
def _levinson_from_pacf(pacf: Array) -> Array:
    """AR coefficients (statsmodels sign) from partial autocorrelations, row-wise.

    Durbin-Levinson: ``phi_k,k = pacf_k``, ``phi_k,j = phi_k-1,j - pacf_k phi_k-1,k-j``.
    """
    k, p = pacf.shape
    phi = np.zeros((k, p))
    for m in range(p):
        a = pacf[:, m]
        if m:
            phi[:, :m] = phi[:, :m] - a[:, None] * phi[:, m - 1 :: -1][:, :m]
        phi[:, m] = a
    return phi


def yule_walker_batch(x: Array, p: int, demean: bool, adjusted: bool = True) -> tuple[Array, Array, Array]:
    """Yule-Walker AR(p) of every row, as ``statsmodels.regression.linear_model.yule_walker``.

    Returns ``(phi (k, p), sigma2 (k,), mean (k,))``; ``adjusted`` divides the lag-j
    autocovariance by ``n - j`` (statsmodels' default ``method='adjusted'``), else by n.
    """
    k, n = x.shape
    mean = x.mean(axis=1) if demean else np.zeros(k)
    xc = x - mean[:, None]
    r = np.empty((k, p + 1))
    r[:, 0] = np.einsum("ij,ij->i", xc, xc) / n
    for j in range(1, p + 1):
        r[:, j] = np.einsum("ij,ij->i", xc[:, :-j], xc[:, j:]) / (n - j if adjusted else n)
    idx = np.abs(np.arange(p)[:, None] - np.arange(p)[None, :])
    R = r[:, idx]  # (k, p, p) Toeplitz
    phi = np.asarray(np.linalg.solve(R, r[:, 1:, None])[:, :, 0], dtype=np.float64)
    sigma2: Array = r[:, 0] - np.einsum("ij,ij->i", r[:, 1:], phi)
    return phi, sigma2, mean


def burg_batch(x: Array, p: int, demean: bool) -> tuple[Array, Array, Array]:
    """Burg AR(p) of every row, the recursion of ``statsmodels.tsa.stattools.pacf_burg``.

    Returns ``(phi (k, p), sigma2 (k,), mean (k,))`` exactly as statsmodels' ``burg``
    (the innovation variance of the order-p model).
    """
    k, n = x.shape
    mean = x.mean(axis=1) if demean else np.zeros(k)
    xc = x - mean[:, None]
    d = np.zeros((k, p + 1))
    pacf = np.zeros((k, p + 1))
    d[:, 0] = 2 * np.einsum("ij,ij->i", xc, xc)
    u = xc[:, ::-1].copy()
    v = xc[:, ::-1].copy()
    d[:, 1] = np.einsum("ij,ij->i", u[:, :-1], u[:, :-1]) + np.einsum("ij,ij->i", v[:, 1:], v[:, 1:])
    pacf[:, 1] = 2 / d[:, 1] * np.einsum("ij,ij->i", v[:, 1:], u[:, :-1])
    for i in range(1, p):
        a = pacf[:, i : i + 1]
        last_u, last_v = u.copy(), v.copy()
        u[:, 1:] = last_u[:, :-1] - a * last_v[:, 1:]
        v[:, 1:] = last_v[:, 1:] - a * last_u[:, :-1]
        d[:, i + 1] = (1 - pacf[:, i] ** 2) * d[:, i] - v[:, i] ** 2 - u[:, -1] ** 2
        pacf[:, i + 1] = 2 / d[:, i + 1] * np.einsum("ij,ij->i", v[:, i + 1 :], u[:, i:-1])
    sigma2 = (1 - pacf[:, p] ** 2) * d[:, p] / (2.0 * (n - p))
    return _levinson_from_pacf(pacf[:, 1:]), sigma2, mean


def trend_matrix(trend: str, n: int, offset: int = 1) -> Array:
    """Deterministic columns of a trend string: 'c' ones, 't' time ``offset..``, 'ct' both."""
    cols = []
    if "c" in trend:
        cols.append(np.ones(n))
    if "t" in trend:
        cols.append(np.arange(offset, offset + n, dtype=float))
    return np.column_stack(cols) if cols else np.zeros((n, 0))


def ols_ar_batch(x: Array, p: int, trend: str) -> tuple[Array, Array, Array, Array]:
    """Conditional OLS AR(p) of every row, as ``statsmodels.tsa.ar_model.AutoReg``.

    Regresses ``x[t]`` on the trend columns (time counted from 1 at the first
    observation, as AutoReg) and ``x[t-1..t-p]`` for ``t >= p``, by a batched QR.
    Returns ``(trend_params (k, m), phi (k, p), sigma2 (k,), cov (k, m + p, m + p))`` with
    ``sigma2 = SSR / (n - p)`` and AutoReg's non-robust covariance ``sigma2 (X'X)^-1``.
    """
    k, n = x.shape
    nobs = n - p
    D = trend_matrix(trend, n)[p:]
    m = D.shape[1]
    X = np.empty((k, nobs, m + p))
    X[:, :, :m] = D[None]
    for j in range(1, p + 1):
        X[:, :, m + j - 1] = x[:, p - j : n - j]
    yy = x[:, p:]
    Q, R = np.linalg.qr(X)
    beta = np.linalg.solve(R, np.einsum("kti,kt->ki", Q, yy)[:, :, None])[:, :, 0]
    resid = yy - np.einsum("kti,ki->kt", X, beta)
    sigma2 = np.einsum("kt,kt->k", resid, resid) / nobs
    Rinv = np.linalg.inv(R)  # (X'X)^-1 = R^-1 R^-T
    cov = np.einsum("kij,klj->kil", Rinv, Rinv) * sigma2[:, None, None]
    return beta[:, :m], beta[:, m:], sigma2, cov


# ---------------------------------------------------------------------------------------
# Reparametrization: unconstrained reals <-> stationary AR / invertible MA
# ---------------------------------------------------------------------------------------
def constrain_stationary(x: Array) -> Array:
    """Unconstrained ``(k, p)`` -> stationary AR coefficients (statsmodels sign), row-wise.

    Monahan (1984) / Jones (1980): ``pacf = -x / sqrt(1 + x^2)`` then Durbin-Levinson;
    the same map (sign included) as
    ``statsmodels.tsa.statespace.tools.constrain_stationary_univariate``.
    """
    if x.shape[1] == 0:
        return x.copy()
    return _levinson_from_pacf(-x / np.sqrt(1.0 + x * x))


def unconstrain_stationary(phi: Array) -> Array:
    """Inverse of :func:`constrain_stationary` (NaN rows when ``phi`` is not stationary)."""
    k, p = phi.shape
    if p == 0:
        return phi.copy()
    pacf = np.empty((k, p))
    cur = phi.copy()
    for m in range(p - 1, -1, -1):
        a = cur[:, m].copy()
        pacf[:, m] = a
        if m:
            denom = 1.0 - a * a
            prev = (cur[:, :m] + a[:, None] * cur[:, m - 1 :: -1][:, :m]) / denom[:, None]
            cur = prev
    with np.errstate(invalid="ignore", divide="ignore"):
        bad = np.any(np.abs(pacf) >= 1.0, axis=1)
        out = -pacf / np.sqrt(1.0 - pacf * pacf)
    out[bad] = np.nan
    return out


# ---------------------------------------------------------------------------------------
# Lag polynomials with per-row coefficients
# ---------------------------------------------------------------------------------------
def expand_polys(phi: Array, sphi: Array, theta: Array, stheta: Array, s: int) -> tuple[Array, Array]:
    """Reduced AR and MA lag polynomials ``phi(B) Phi(B^s)`` and ``theta(B) Theta(B^s)``.

    Inputs are statsmodels-sign coefficients ``(k, p)`` etc. Returns the lfilter
    polynomials with the zero lag first: ``ar (k, p + sP + 1)`` with the lfilter sign
    (``[1, -phi_1, ...]``) and ``ma (k, q + sQ + 1)`` (``[1, theta_1, ...]``):
    :func:`tsconv._likelihood.seasonal_product`.
    """
    s = max(int(s), 1)
    return _likelihood.seasonal_product(phi, sphi, -1.0, s), _likelihood.seasonal_product(theta, stheta, 1.0, s)


def difference(y: Array, d: int, D: int, s: int) -> Array:
    """``(1 - B)^d (1 - B^s)^D y`` along the last axis (the first ``d + sD`` dropped)."""
    w = y
    for _ in range(D):
        w = w[..., s:] - w[..., :-s]
    for _ in range(d):
        w = np.diff(w, axis=-1)
    return w


# ---------------------------------------------------------------------------------------
# Exact Gaussian ARMA likelihood: the compiled engine of tsconv._likelihood
# ---------------------------------------------------------------------------------------
def exact_innovations(ar: Array, ma: Array, w: Array, tol: float = 1e-11, check: bool = True) -> tuple[Array, Array]:
    """Standardized exact innovations ``(v, F)`` of zero-mean ARMA rows (unit innovation variance).

    :func:`tsconv._likelihood.exact_innovations` (a compiled Kalman filter until its gain
    converges, then the plain recursion); ``check`` tests that every AR part is
    stationary first (``False`` for a caller that has checked).
    """
    if check and not np.all(roots_ok(ar, margin=0.0)):
        raise ValueError("ar must be stationary (every root of ar(z) outside the unit circle)")
    return _likelihood.exact_innovations(ar, ma, w, tol)


# ---------------------------------------------------------------------------------------
# Batched Levenberg-Marquardt
# ---------------------------------------------------------------------------------------
def batched_lm(
    fun: Callable[[Array, NDArray[np.intp]], Array],
    x0: Array,
    *,
    maxiter: int = 100,
    xtol: float = 1e-7,
    ftol: float = 1e-10,
    step: float = 1e-7,
    central: bool = False,
    broyden: bool = False,
    lam0: float = 1e-3,
) -> tuple[Array, Array, NDArray[np.bool_], NDArray[np.int64]]:
    """Minimize ``sum(fun(x)**2)`` for every row of ``x`` independently.

    ``fun(X, rows)`` maps parameters ``(m, npar)`` of the batch rows ``rows`` (an int
    array of length m, rows may repeat) to residuals ``(m, n_res)``. The Jacobian
    comes from finite differences (forward, or ``central``), all rows and all parameters
    in one stacked call of ``fun``; with ``broyden`` a row that made good progress
    (gain ratio >= 0.25) reuses its Jacobian with a rank-one Broyden (1965) update, and
    convergence is only declared on a freshly differenced Jacobian. Each row has its
    own damping factor (Marquardt 1963; gain-ratio update of Nielsen 1999) and its own
    convergence test: the relative parameter step below ``xtol`` or the relative
    decrease of the sum of squares below ``ftol``.

    Returns ``(x, ssr, converged, iterations)``.
    """
    k, npar = x0.shape
    x = x0.copy()
    r = fun(x, np.arange(k))
    ssr = np.einsum("ij,ij->i", r, r)
    lam = np.full(k, lam0)
    nu = np.full(k, 2.0)
    conv = np.zeros(k, dtype=bool)
    bad = ~np.isfinite(ssr)
    iters = np.zeros(k, dtype=np.int64)
    if npar == 0:
        return x, ssr, ~bad, iters
    Jall = np.zeros((k, r.shape[1], npar))
    need_fd = np.ones(k, dtype=bool)  # no usable Jacobian, or convergence to be confirmed
    for _ in range(maxiter):
        act = ~conv & ~bad
        if not act.any():
            break
        idx = np.flatnonzero(act)
        m = idx.size
        xa, ra = x[idx], r[idx]
        fd = idx[need_fd[idx]] if broyden else idx
        if fd.size:
            xf, mf = x[fd], fd.size
            if central:
                h = 1e-5 * np.maximum(np.abs(xf), 1.0)
                stack = np.repeat(xf[None], 2 * npar, axis=0)  # (2 npar, mf, npar)
                for j in range(npar):
                    stack[j, :, j] += h[:, j]
                    stack[npar + j, :, j] -= h[:, j]
                rp = fun(stack.reshape(2 * npar * mf, npar), np.tile(fd, 2 * npar)).reshape(2 * npar, mf, -1)
                Jf = (rp[:npar] - rp[npar:]) / (2 * h.T[:, :, None])
            else:
                h = step * np.maximum(np.abs(xf), 1.0)
                stack = np.repeat(xf[None], npar, axis=0)  # (npar, mf, npar)
                for j in range(npar):
                    stack[j, :, j] += h[:, j]
                rp = fun(stack.reshape(npar * mf, npar), np.tile(fd, npar)).reshape(npar, mf, -1)
                Jf = (rp - r[fd][None]) / h.T[:, :, None]  # (npar, mf, n_res)
            Jall[fd] = Jf.transpose(1, 2, 0)
        fresh = np.zeros(k, dtype=bool)
        fresh[fd] = True
        need_fd[fd] = False
        J = Jall[idx]  # (m, n_res, npar)
        JJ, g = _likelihood.normal_equations(J, ra)
        diagJJ = np.einsum("mii->mi", JJ)
        iters[idx] += 1
        pending = np.ones(m, dtype=bool)
        for _inner in range(12):
            sub = np.flatnonzero(pending)
            if sub.size == 0:
                break
            gs, JJs = g[sub], JJ[sub]
            delta, pred, solved = _likelihood.damped_steps(JJs, gs, lam[idx[sub]])
            if not solved:
                A = JJs + lam[idx[sub], None, None] * np.einsum(
                    "mi,ij->mij", np.maximum(diagJJ[sub], 1e-12), np.eye(npar)
                )
                try:
                    delta = -np.linalg.solve(A, gs[:, :, None])[:, :, 0]
                except np.linalg.LinAlgError:
                    delta = -np.einsum("mij,mj->mi", np.linalg.pinv(A), gs)
                pred = -(2 * np.einsum("mi,mi->m", gs, delta) + np.einsum("mi,mij,mj->m", delta, JJs, delta))
            xn = xa[sub] + delta
            rn = fun(xn, idx[sub])
            sn = np.einsum("ij,ij->i", rn, rn)
            sn[~np.isfinite(sn)] = np.inf
            old = ssr[idx[sub]]
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = np.where(pred > 0, (old - sn) / pred, -1.0)
            # accept a step that realizes part of the predicted decrease (gain ratio,
            # Nielsen 1999 damping update); a bare decrease lets Gauss-Newton bounce
            # across a curved valley when the residuals are large
            better = (sn <= old) & ((rho > 1e-3) | (old - sn <= ftol * np.maximum(old, 1e-300)))
            bsub = sub[better]
            gi = idx[bsub]
            small_step = np.all(np.abs(delta[better]) <= xtol * (np.abs(xa[bsub]) + xtol), axis=1)
            small_f = (old[better] - sn[better]) <= ftol * np.maximum(old[better], 1e-300)
            if broyden and gi.size:
                d = delta[better]
                dr = rn[better] - ra[bsub]
                resid = dr - np.einsum("mti,mi->mt", J[bsub], d)
                Jall[gi] = J[bsub] + resid[:, :, None] * (d / np.einsum("mi,mi->m", d, d)[:, None])[:, None, :]
                need_fd[gi] = rho[better] < 0.25
            x[gi] = xn[better]
            r[gi] = rn[better]
            ssr[gi] = sn[better]
            rb = np.minimum(np.maximum(rho[better], 0.0), 1.0)
            lam[gi] = np.maximum(lam[gi] * np.maximum(1.0 / 3.0, 1.0 - (2.0 * rb - 1.0) ** 3), 1e-12)
            nu[gi] = 2.0
            done = small_step | small_f
            # convergence is only trusted on a freshly differenced Jacobian
            trusted = fresh[gi]
            conv[gi[done & trusted]] = True
            need_fd[gi[done & ~trusted]] = True
            wsub = sub[~better]
            worse = idx[wsub]
            lam[worse] *= nu[worse]
            nu[worse] *= 2.0
            # a row that cannot improve with a tiny step is at a minimum (to rounding)
            high = lam[worse] > 1e10
            hopeless = worse[high]
            stale = hopeless[~fresh[hopeless]]
            need_fd[stale] = True
            lam[stale] = 1e-3
            conv[hopeless[fresh[hopeless]]] = True
            pending[sub[better]] = False
            pending[wsub[high]] = False  # idx holds each row once: its positions in idx
    return x, ssr, conv, iters


# ---------------------------------------------------------------------------------------
# The model specification and the batched fitting of one block of equal-length series
# ---------------------------------------------------------------------------------------
class Spec:
    """Orders of a SARIMA model with lag lists, and the layout of its parameter vector.

    Parameter order (statsmodels' ``ARIMA``): regression (trend then exog), AR, MA,
    seasonal AR, seasonal MA; ``sigma2`` is carried separately.
    """

    def __init__(self, ar_lags: Any, d: int, ma_lags: Any, sar_lags: Any, D: int, sma_lags: Any, s: int, n_reg: int) -> None:
        self.ar_lags = np.asarray(ar_lags, dtype=np.intp)
        self.ma_lags = np.asarray(ma_lags, dtype=np.intp)
        self.sar_lags = np.asarray(sar_lags, dtype=np.intp)
        self.sma_lags = np.asarray(sma_lags, dtype=np.intp)
        self.d, self.D, self.s, self.n_reg = int(d), int(D), int(s), int(n_reg)
        self.p = int(self.ar_lags.max()) if self.ar_lags.size else 0
        self.q = int(self.ma_lags.max()) if self.ma_lags.size else 0
        self.P = int(self.sar_lags.max()) if self.sar_lags.size else 0
        self.Q = int(self.sma_lags.max()) if self.sma_lags.size else 0
        sizes = [n_reg, self.ar_lags.size, self.ma_lags.size, self.sar_lags.size, self.sma_lags.size]
        cut = np.cumsum([0, *sizes])
        self.slices = [slice(int(cut[i]), int(cut[i + 1])) for i in range(5)]
        self.n_params = int(cut[-1])
        self.n_arma = self.n_params - n_reg
        self._transformable = [self._consecutive(l) for l in (self.ar_lags, self.ma_lags, self.sar_lags, self.sma_lags)]
        self.layout = _likelihood.Layout(n_reg, [self.ar_lags, self.ma_lags, self.sar_lags, self.sma_lags], self.s,
                                         self._transformable)

    @property
    def n_cond(self) -> int:
        """Observations R's CSS conditions on: ``d + sD + p + sP``."""
        return self.d + self.s * self.D + self.p + self.s * self.P

    @property
    def n_diff(self) -> int:
        return self.d + self.s * self.D

    def _full(self, c: Array, lags: NDArray[np.intp], deg: int) -> Array:
        out = np.zeros((c.shape[0], deg))
        if lags.size:
            out[:, lags - 1] = c
        return out

    def split(self, x: Array) -> tuple[Array, Array, Array, Array, Array]:
        """Regression, AR, MA, seasonal AR, seasonal MA blocks of ``x (k, n_params)``."""
        b, a, m, sa, sm = (x[:, sl] for sl in self.slices)
        return (
            b,
            self._full(a, self.ar_lags, self.p),
            self._full(m, self.ma_lags, self.q),
            self._full(sa, self.sar_lags, self.P),
            self._full(sm, self.sma_lags, self.Q),
        )

    def polys(self, x: Array) -> tuple[Array, Array, Array]:
        """``(beta, ar, ma)``: regression coefficients and the reduced ARMA polynomials."""
        b, a, m, sa, sm = self.split(x)
        ar, ma = expand_polys(a, sa, m, sm, self.s)
        return b, ar, ma

    def _consecutive(self, lags: NDArray[np.intp]) -> bool:
        return bool(np.array_equal(lags, np.arange(1, lags.size + 1)))

    @property
    def transformable(self) -> list[bool]:
        """Lag blocks with consecutive lags 1..m (those the Monahan / Jones transform maps)."""
        return self._transformable

    def constrain(self, u: Array) -> Array:
        """Unconstrained -> stationary AR and invertible MA blocks (lag lists left as they are)."""
        x = u.copy()
        for sl, ok, sign in zip(self.slices[1:], self.transformable, (1.0, -1.0, 1.0, -1.0)):
            if ok and sl.stop > sl.start:
                x[:, sl] = sign * constrain_stationary(u[:, sl])
        return x

    def unconstrain(self, x: Array) -> Array:
        u = x.copy()
        for sl, ok, sign in zip(self.slices[1:], self.transformable, (1.0, -1.0, 1.0, -1.0)):
            if ok and sl.stop > sl.start:
                u[:, sl] = unconstrain_stationary(sign * x[:, sl])
        return u


def roots_ok(poly: Array, margin: float = 1e-6) -> NDArray[np.bool_]:
    """Rows whose lag polynomial has every root outside the unit circle (by ``margin``: the
    inverse roots within ``1 - margin``): :func:`tsconv._likelihood.stable_rows`."""
    return _likelihood.stable_rows(poly, margin)


class Block:
    """One block of equal-length series ``Y (k, n)`` with shared regressors ``X (n, m)``
    or per-series regressors ``X (k, n, m)``, and the differenced versions of both."""

    def __init__(self, Y: Array, X: Array, spec: Spec) -> None:
        self.Y, self.X, self.spec = Y, X, spec
        self.k, self.n = Y.shape
        self.W = difference(Y, spec.d, spec.D, spec.s)
        self.DX = difference(np.moveaxis(X, -2, -1), spec.d, spec.D, spec.s)  # (.., m, nw)
        self.nw = self.W.shape[1]

    def regression_start(self) -> Array:
        """OLS of the differenced series on the differenced regressors (R's start)."""
        m = self.spec.n_reg
        if m == 0:
            return np.zeros((self.k, 0))
        if self.DX.ndim == 2:
            return self.W @ np.linalg.pinv(self.DX)
        A = self.DX  # (k, m, nw)
        AA = A @ np.swapaxes(A, 1, 2)
        return np.linalg.solve(AA, np.einsum("kmt,kt->km", A, self.W)[:, :, None])[:, :, 0]

    def centred(self, beta: Array, rows: NDArray[np.intp]) -> Array:
        """Differenced series minus the differenced regression, for ``rows``."""
        W = self.W[rows]
        if self.spec.n_reg == 0:
            return W
        if self.DX.ndim == 2:
            return W - beta @ self.DX
        return W - np.einsum("km,kmt->kt", beta, self.DX[rows])

    # -- objective functions: residual vectors for the LM solver ------------------------
    def css_residuals(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """CSS residuals (R's ``ARIMA_CSS``) from ``p + sP`` on: one compiled pass over the rows."""
        w = self.centred(x[:, self.spec.slices[0]], rows)
        start = self.spec.p + self.spec.s * self.spec.P
        return _likelihood.objective(x, self.spec.layout, w, exact=False, constrain=False, start=start)

    def ml_residuals(self, u: Array, rows: NDArray[np.intp]) -> Array:
        """Scaled exact innovations whose sum of squares is the concentrated ``-2 llf``
        up to constants, ``v / sqrt(F) * exp(mean(log F) / 2)``, of the unconstrained
        parameters ``u`` (``inf`` where a factor has a root within 1e-6 of the unit circle): one compiled pass over
        the rows (the transform, the stationarity test, the polynomials, the innovations)."""
        w = self.centred(u[:, self.spec.slices[0]], rows)  # the regression block is not transformed
        return _likelihood.objective(u, self.spec.layout, w, exact=True, constrain=True)

    def exact_llf(self, x: Array, rows: NDArray[np.intp]) -> tuple[Array, Array, Array, Array]:
        """Concentrated exact log-likelihood, sigma2 and the innovations ``(v, F)``."""
        beta, ar, ma = self.spec.polys(x)
        w = self.centred(beta, rows)
        v, F = exact_innovations(ar, ma, w)
        nw = self.nw
        sigma2 = np.sum(v * v / F, axis=1) / nw
        llf = -0.5 * nw * (np.log(2 * np.pi * sigma2) + 1.0) - 0.5 * np.sum(np.log(F), axis=1)
        return llf, sigma2, v, F


def _css_pure_ar(block: Block) -> tuple[Array, Array] | None:
    """CSS of a pure AR(p) (consecutive lags) with no regressor or one that differencing
    turns into a constant (a mean, or a drift): OLS with an intercept has the same
    minimizer (``c = mu (1 - sum phi)``), so no iterations are needed. None otherwise."""
    spec = block.spec
    if spec.ma_lags.size or spec.sar_lags.size or spec.sma_lags.size or not spec.transformable[0] or spec.p == 0:
        return None
    if spec.n_reg > 1 or (spec.n_reg == 1 and (block.DX.ndim != 2 or np.ptp(block.DX) != 0 or block.DX[0, 0] == 0)):
        return None
    if spec.n_reg == 1:
        c0 = float(block.DX[0, 0])
        tp, phi, sigma2, _ = ols_ar_batch(block.W, spec.p, "c")
        mu = tp[:, 0] / (1.0 - phi.sum(axis=1)) / c0
        x = np.column_stack([mu, phi])
    else:
        _, phi, sigma2, _ = ols_ar_batch(block.W, spec.p, "n")
        x = phi
    return x, sigma2 * (block.nw - spec.p)


def hannan_rissanen(block: Block, beta: Array) -> Array | None:
    """Hannan-Rissanen (1982) ARMA start for a non-seasonal model with consecutive lags:
    a long Yule-Walker AR gives residuals, then ``w_t`` is regressed on its own lags and
    the lagged residuals (batched normal equations). Rows whose estimate is not
    stationary and invertible get zeros. None when the model does not qualify."""
    spec = block.spec
    p, q = spec.p, spec.q
    if spec.sar_lags.size or spec.sma_lags.size or q == 0 or not all(spec.transformable[:2]):
        return None
    z = block.centred(beta, np.arange(block.k))
    nw = z.shape[1]
    m = max(p + q, min(int(10 * np.log10(nw)), nw // 4))
    if nw - m - max(p, q) < 3 * (p + q) + 3:
        return None
    z = z - z.mean(axis=1, keepdims=True)
    phi_long, _, _ = yule_walker_batch(z, m, demean=False)
    eh = z[:, m:].copy()
    for j in range(1, m + 1):
        eh -= phi_long[:, j - 1 : j] * z[:, m - j : nw - j]
    t0 = m + max(p, q)
    cols = [z[:, t0 - j : nw - j] for j in range(1, p + 1)] + [eh[:, t0 - m - j : nw - m - j] for j in range(1, q + 1)]
    X = np.stack(cols, axis=2)
    yy = z[:, t0:]
    XX = np.einsum("kti,ktj->kij", X, X)
    try:
        coef = np.linalg.solve(XX, np.einsum("kti,kt->ki", X, yy)[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return None
    x = np.zeros((block.k, spec.n_params))
    x[:, spec.slices[0]] = beta
    x[:, spec.slices[1]] = coef[:, :p]
    x[:, spec.slices[2]] = coef[:, p:]
    _, ar, ma = spec.polys(x)
    ok = roots_ok(ar, 1e-2) & roots_ok(ma, 1e-2) & np.all(np.isfinite(coef), axis=1)
    x[~ok, spec.slices[0].stop :] = 0.0
    return x


def fit_block(block: Block, method: str, maxiter: int, restarts: bool = True) -> dict[str, Array]:
    """Fit every row of ``block`` with ``method`` in {'css', 'css-ml', 'ml'}.

    Each row is divided by the standard deviation of its differenced series before the
    optimization and the estimates are scaled back (regression coefficients by ``c``,
    ``sigma2`` by ``c**2``, the log-likelihood shifted by ``-nobs_used log c``): the
    optimizer's absolute tolerances and finite-difference steps then do not depend on
    the units of the data. For ML, a row whose MA polynomial ends within 1% of the
    unit circle is refitted from a start pulled inside it (and from zero ARMA
    coefficients), and a model with AR and MA terms whose fit ends near cancellation
    (``sum psi_j^2 < 0.1`` over 24 lags) from two more starts (all partial
    autocorrelations at +-0.5); the best optimum is kept. ``restarts=False`` skips
    both (one start: the CSS estimates, as R).

    Returns arrays keyed ``params (k, n_params)``, ``sigma2``, ``llf``, ``converged``,
    ``iterations``, ``nobs_used`` (residuals in the objective).
    """
    spec = block.spec
    c = np.std(block.W, axis=1) if block.nw > 1 else np.ones(block.k)
    c = np.where(np.isfinite(c) & (c > 0), c, 1.0)
    unit = Block(block.Y / c[:, None], block.X, spec) if np.any(c != 1.0) else block
    # without restarts (a model search) the ML stage stops at looser tolerances: the
    # criterion moves by about n/2 * ftol, far below what ranks candidates
    out = _fit_block_unit(unit, method, maxiter, polish=restarts)
    if method == "css" and spec.n_arma:
        out = _css_r_fallback(unit, out, maxiter)
    if method != "css" and spec.n_arma and restarts:
        out = _retry_boundary(unit, out, maxiter)
        if (spec.p + spec.P) and (spec.q + spec.Q):
            # ARMA likelihoods with AR and MA terms have separate local optima; a fit that
            # ends near cancellation of the two (psi weights summing to little) may sit in
            # the wrong one: try both signs
            near = np.flatnonzero(_near_cancellation(out["params"], spec))
            if near.size:
                out = _refit_from(unit, out, near, maxiter, extra=(0.5, -0.5))
            # the mirror optimum: a factor with AR and MA terms whose fit nears
            # cancellation or a unit root often has a second optimum with both signs
            # flipped (M3 quarterly N0648, N0683 in (2,1,1)(1,0,1)[4])
            _, ar, ma = spec.polys(out["params"])
            edge = _near_cancellation(out["params"], spec) | ~roots_ok(ar, 5e-2) | ~roots_ok(ma, 5e-2)
            rows = np.flatnonzero(edge)
            if rows.size:
                out = _refit_from(unit, out, rows, maxiter, zero=False, mirror=True)
    out["params"][:, spec.slices[0]] *= c[:, None]
    out["sigma2"] = out["sigma2"] * c * c
    out["llf"] = out["llf"] - out["nobs_used"] * np.log(c)
    return out


def _css_r_fallback(block: Block, out: dict[str, Array], maxiter: int) -> dict[str, Array]:
    """Refit the rows whose CSS fit did not converge the way R's ``arima(method="CSS")``
    fits them: BFGS on ``0.5 log(SSR / n_used)`` from zero coefficients.

    The CSS sum of squares is unbounded in no direction but can keep decreasing into the
    non-invertible MA region, where the Levenberg-Marquardt steps do not settle (e.g.
    wineind, (1,1,2)(0,1,1)[12]); R's BFGS from zero stops at the local minimum nearer
    the start, which is what ``auto.arima``'s approximation ranks. A row that BFGS does
    not converge either keeps its fit and ``converged=False``. One BFGS per failed row
    (rare): the only loop over series of this module.
    """
    rows = np.flatnonzero(np.logical_not(out["converged"]))
    if rows.size == 0:
        return out
    spec = block.spec
    start = spec.p + spec.s * spec.P
    n_css = block.nw - start
    sl = spec.slices[0].stop
    for i in rows:
        beta = out["params"][i : i + 1, :sl]
        one = np.array([i])

        def objs(Z: Array) -> Array:
            # the objective at every row of Z, in one batched residual call
            x = np.concatenate([np.broadcast_to(beta, (Z.shape[0], sl)), Z], axis=1)
            r = block.css_residuals(x, np.repeat(one, Z.shape[0]))
            ssr = np.sum(r * r, axis=1)
            ok = np.isfinite(ssr) & (ssr > 0)
            return np.where(ok, 0.5 * np.log(np.where(ok, ssr, 1.0) / n_css), np.inf)

        def grad(z: Array) -> Array:
            # central differences with step 1e-3, as R's optim (ndeps)
            E = 1e-3 * np.eye(z.size)
            f = objs(np.concatenate([z + E, z - E]))
            return np.asarray((f[: z.size] - f[z.size :]) / 2e-3)

        with np.errstate(all="ignore"):
            res = scipy.optimize.minimize(lambda z: float(objs(z[None, :])[0]), np.zeros(spec.n_params - sl),
                                          jac=grad, method="BFGS", options={"maxiter": maxiter, "gtol": 1e-6})
        if res.success and np.isfinite(res.fun):
            sigma2 = np.exp(2 * res.fun)
            out["params"][i, sl:] = res.x
            out["sigma2"][i] = sigma2
            out["llf"][i] = -0.5 * n_css * (np.log(2 * np.pi * sigma2) + 1.0)
            out["converged"][i] = True
        out["iterations"][i] += int(res.nit)
    return out


def _psi_power(x: Array, spec: Spec, lags: int = 24) -> Array:
    """``sum_{j=1..lags} psi_j^2`` of the ARMA part of every row (0 for white noise)."""
    _, ar, ma = spec.polys(x)
    k = x.shape[0]
    psi = np.zeros((k, lags + 1))
    psi[:, 0] = 1.0
    for j in range(1, lags + 1):
        acc = ma[:, j].copy() if j < ma.shape[1] else np.zeros(k)
        for i in range(1, min(j, ar.shape[1] - 1) + 1):
            acc -= ar[:, i] * psi[:, j - i]
        psi[:, j] = acc
    return np.sum(psi[:, 1:] ** 2, axis=1)


def _near_cancellation(x: Array, spec: Spec) -> NDArray[np.bool_]:
    """Rows whose non-seasonal or seasonal ARMA factor (one with both AR and MA terms)
    nearly cancels: ``sum psi_j^2 < 0.1`` for that factor alone."""
    b, a, m, sa, sm = spec.split(x)
    out = np.zeros(x.shape[0], dtype=bool)
    z = np.zeros((x.shape[0], 0))
    for ar_c, ma_c in ((a, m), (sa, sm)):
        if ar_c.shape[1] and ma_c.shape[1]:
            one = Spec(np.arange(1, ar_c.shape[1] + 1), 0, np.arange(1, ma_c.shape[1] + 1), [], 0, [], 0, 0)
            out |= _psi_power(np.column_stack([z, ar_c, ma_c]), one) < 0.1
    return out


def _retry_boundary(block: Block, out: dict[str, Array], maxiter: int) -> dict[str, Array]:
    """Refit the rows whose MA polynomial has a root within 1% of the unit circle (the
    constrained optimizer can stall there, where the Monahan map flattens) from two
    other starts: the MA blocks shrunk by 0.9, and zero ARMA coefficients with the
    fitted regression. Keeps, per row, the largest exact log-likelihood."""
    spec = block.spec
    x = out["params"]
    _, _, ma = spec.polys(x)
    rows = np.flatnonzero(~roots_ok(ma, 1e-2))
    if rows.size == 0:
        return out
    return _refit_from(block, out, rows, maxiter, shrink=True)


def _refit_from(block: Block, out: dict[str, Array], rows: NDArray[np.intp], maxiter: int, shrink: bool = False,
                extra: tuple[float, ...] = (), zero: bool = True, mirror: bool = False) -> dict[str, Array]:
    """Refit ``rows`` from other starts (see :func:`_retry_boundary`; ``extra``: starts
    with every AR partial autocorrelation at ``a`` and every MA one at ``-a``; ``zero``:
    zero ARMA coefficients; ``mirror``: the fit with the AR and MA coefficients of one
    factor (non-seasonal, seasonal) negated, for each factor holding both); keep the
    best exact log-likelihood per row (a start that did not converge only when it beats a
    converged fit by more than 1e-3)."""
    spec = block.spec
    x = out["params"]
    sub = Block(block.Y[rows], block.X[rows] if block.X.ndim == 3 else block.X, spec)
    idx = np.arange(rows.size)
    starts = []
    zero_start = np.zeros_like(x[rows])
    zero_start[:, spec.slices[0]] = x[rows][:, spec.slices[0]]
    if shrink:
        shrunk = x[rows].copy()
        for sl in spec.slices[2:5:2]:
            shrunk[:, sl] *= 0.9
        starts.append(shrunk)
    if mirror:
        for a_sl, m_sl in ((spec.slices[1], spec.slices[2]), (spec.slices[3], spec.slices[4])):
            if a_sl.stop > a_sl.start and m_sl.stop > m_sl.start:
                flipped = x[rows].copy()
                flipped[:, a_sl] *= -1.0
                flipped[:, m_sl] *= -1.0
                starts.append(flipped)
    if zero:
        starts.append(zero_start)
    for a in extra:
        u = np.zeros_like(zero_start)
        for sl, sign in zip(spec.slices[1:], (1.0, -1.0, 1.0, -1.0)):
            u[:, sl] = -sign * a / np.sqrt(1 - a * a)  # pacf = a (AR), -a (MA)
        start = spec.constrain(u)
        start[:, spec.slices[0]] = zero_start[:, spec.slices[0]]
        starts.append(start)
    for x_start in starts:
        _, ar, ma_s = spec.polys(x_start)
        ok = roots_ok(ar, 1e-3) & roots_ok(ma_s, 1e-3)
        x_start = np.where(ok[:, None], x_start, zero_start)
        u0 = spec.unconstrain(x_start)
        u0 = np.where(np.isfinite(u0), u0, 0.0)
        u, _, conv, iters = batched_lm(sub.ml_residuals, u0, maxiter=maxiter, xtol=1e-6, ftol=1e-9)
        xn = spec.constrain(u)
        llf, sigma2, _, _ = sub.exact_llf(xn, idx)
        # a start that did not converge replaces a converged fit only when it is better by
        # more than the optimizer's noise (1e-3 log-likelihood units)
        gain = llf - out["llf"][rows]
        was_conv = np.asarray(out["converged"][rows], dtype=bool)
        better = np.isfinite(llf) & (gain > 1e-9) & (np.asarray(conv, dtype=bool) | np.logical_not(was_conv) | (gain > 1e-3))
        g = rows[better]
        out["params"][g] = xn[better]
        out["llf"][g] = llf[better]
        out["sigma2"][g] = sigma2[better]
        out["converged"][g] = conv[better]
        out["iterations"][rows] += iters
    return out


def _fit_block_unit(block: Block, method: str, maxiter: int, polish: bool = True) -> dict[str, Array]:
    """:func:`fit_block` without the scaling and the boundary retry."""
    spec, k = block.spec, block.k
    x0 = np.zeros((k, spec.n_params))
    x0[:, spec.slices[0]] = block.regression_start()
    every = np.arange(k)
    start = spec.p + spec.s * spec.P
    n_css = block.nw - start
    if method in ("css", "css-ml"):
        closed = _css_pure_ar(block)
        if closed is not None:
            x, ssr = closed
            conv, iters = np.ones(k, dtype=bool), np.zeros(k, dtype=np.int64)
        else:
            # as a start for ML the CSS estimates need not be polished
            xtol, ftol = (1e-7, 1e-10) if method == "css" else (1e-4, 1e-7)
            hr = hannan_rissanen(block, x0[:, spec.slices[0]])
            xs = x0 if hr is None else hr
            x, ssr, conv, iters = batched_lm(block.css_residuals, xs, maxiter=maxiter, central=method == "css", xtol=xtol, ftol=ftol)
        if method == "css":
            sigma2 = ssr / n_css
            llf = -0.5 * n_css * (np.log(2 * np.pi * sigma2) + 1.0)
            return {"params": x, "sigma2": sigma2, "llf": llf, "converged": conv, "iterations": iters,
                    "nobs_used": np.full(k, n_css)}
        x_start = x
    else:
        x_start = x0
        conv = np.ones(k, dtype=bool)
        iters = np.zeros(k, dtype=np.int64)
    _, ar, ma = spec.polys(x_start)
    usable = roots_ok(ar, 1e-3) & roots_ok(ma, 1e-3) & np.all(np.isfinite(x_start), axis=1)
    x_start = np.where(usable[:, None], x_start, x0)
    u0 = spec.unconstrain(x_start)
    u0 = np.where(np.isfinite(u0), u0, 0.0)
    xtol, ftol = (1e-6, 1e-9) if polish else (1e-4, 1e-7)
    u, _, conv_ml, iters_ml = batched_lm(block.ml_residuals, u0, maxiter=maxiter, xtol=xtol, ftol=ftol)
    x = spec.constrain(u)
    llf, sigma2, _, _ = block.exact_llf(x, every)
    return {"params": x, "sigma2": sigma2, "llf": llf, "converged": conv_ml, "iterations": iters + iters_ml,
            "nobs_used": np.full(k, block.nw)}


def numerical_hessian(
    f: Callable[[Array, NDArray[np.intp]], Array], x: Array, rel_step: float = 1e-4
) -> Array:
    """Central-difference Hessian of ``f(x_row, row)`` (one value per row) for every row,
    all ``4 m (m + 1) / 2`` points in one stacked call. Returns ``(k, m, m)``."""
    k, m = x.shape
    if m == 0:
        return np.zeros((k, 0, 0))
    h = rel_step * np.maximum(np.abs(x), 1e-2)
    pts = []
    for i in range(m):
        for j in range(i, m):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                z = x.copy()
                z[:, i] += si * h[:, i]
                z[:, j] += sj * h[:, j]
                pts.append(z)
    Z = np.concatenate(pts, axis=0)
    rows = np.tile(np.arange(k), len(pts))
    fv = f(Z, rows).reshape(len(pts), k)
    H = np.empty((k, m, m))
    c = 0
    for i in range(m):
        for j in range(i, m):
            pp, pm, mp, mm = fv[c], fv[c + 1], fv[c + 2], fv[c + 3]
            H[:, i, j] = H[:, j, i] = (pp - pm - mp + mm) / (4 * h[:, i] * h[:, j])
            c += 4
    return H


def profile_hessian(block: Block, x: Array, rel_step: float = 1e-4) -> Array:
    """Hessian of the concentrated exact log-likelihood at ``x`` (NaN where a step leaves
    the stationary / invertible region). Returns ``(k, n_params, n_params)``."""

    def f(Z: Array, rows: NDArray[np.intp]) -> Array:
        out = np.full(Z.shape[0], np.nan)
        _, ar, ma = block.spec.polys(Z)
        ok = roots_ok(ar, 0.0) & roots_ok(ma, 0.0)
        if ok.any():
            out[ok] = block.exact_llf(Z[ok], rows[ok])[0]
        return out

    return numerical_hessian(f, x, rel_step)
