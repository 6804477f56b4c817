"""The exact Gaussian ARMA likelihood engine: innovations of many models at once, compiled.

One function, :func:`exact_innovations`, gives the one-step prediction errors ``v`` and
their relative variances ``F`` of zero-mean stationary ARMA rows (each row its own
coefficients), so that the exact log-likelihood of row ``i`` is
``-0.5 * sum(log(2 pi sigma2 F[i]) + v[i]**2 / (sigma2 F[i]))``.

Method: a Kalman filter in Harvey's state-space form (state dimension
``r = max(p, q + 1)``), started from the stationary covariance (solved by doubling,
Smith 1968), run until its gain has converged (``|F_t - 1| < tol`` after ``r`` steps);
from there the innovations satisfy ``theta(B) v = phi(B) w`` and come from that plain
recursion. The time loop is compiled with numba: an estimator evaluates this
likelihood tens of thousands of times on short series (2-6 parameter points of a
50-150 point series per call), where a loop of NumPy calls over time steps spends its
time in per-call overhead, not arithmetic (see docs/architecture.md).

The slow, obviously-correct twin is ``tests/naive.py::exact_innovations_dense`` (the
dense Cholesky factor of the model's autocovariance matrix).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

__all__ = ["exact_innovations", "css_residuals", "stable_rows", "seasonal_product"]


@numba.njit(cache=True, nogil=True)
def _stationary_cov(T: Array, RR: Array) -> Array:  # pragma: no cover - compiled
    """``P = T P T' + RR`` by doubling: ``P += A P A'``, ``A <- A A`` until ``A`` vanishes."""
    P = RR.copy()
    A = T.copy()
    for _ in range(64):
        P = P + A @ P @ A.T
        A = A @ A
        big = 0.0
        finite = True
        for x in A.ravel():
            if not np.isfinite(x):
                finite = False
                break
            if abs(x) > big:
                big = abs(x)
        if not finite or big < 1e-18:
            break
    return P


@numba.njit(cache=True, nogil=True)
def _rows(ar: Array, ma: Array, w: Array, tol: float, v: Array, F: Array) -> None:  # pragma: no cover - compiled
    k, n = w.shape
    ra, rm = ar.shape[1], ma.shape[1]
    p, q = ra - 1, rm - 1
    r = max(p, q + 1)
    phi = np.zeros(r)
    R = np.zeros(r)
    T = np.zeros((r, r))
    b = np.zeros(r)
    c = np.zeros(r)
    K = np.zeros(r)
    a = np.zeros(r)
    an = np.zeros(r)
    Pn = np.zeros((r, r))
    for i in range(k):
        phi[:] = 0.0
        for j in range(p):
            phi[j] = -ar[i, j + 1]
        R[:] = 0.0
        for j in range(q + 1):
            R[j] = ma[i, j]
        RR = np.outer(R, R)
        T[:, :] = 0.0
        T[:, 0] = phi
        for j in range(r - 1):
            T[j, j + 1] = 1.0
        P = _stationary_cov(T, RR)
        a[:] = 0.0
        t0 = n
        for t in range(n):
            f = P[0, 0]
            vt = w[i, t] - a[0]
            v[i, t] = vt
            F[i, t] = f
            if t >= r and abs(f - 1.0) < tol:
                t0 = t + 1
                break
            # T P e0 = c = phi P00 + b, b = P[1:, 0] padded; K = c / f
            for j in range(r - 1):
                b[j] = P[j + 1, 0]
            b[r - 1] = 0.0
            for j in range(r):
                c[j] = phi[j] * f + b[j]
                K[j] = c[j] / f
            # a <- T a + K v
            a0 = a[0]
            for j in range(r - 1):
                an[j] = phi[j] * a0 + a[j + 1] + K[j] * vt
            an[r - 1] = phi[r - 1] * a0 + K[r - 1] * vt
            a[:] = an
            # P <- T P T' + RR - c c' / f = P[1:, 1:] (padded) + (phi - K) c' + b phi' + RR
            for ii in range(r):
                for jj in range(r):
                    val = (phi[ii] - K[ii]) * c[jj] + b[ii] * phi[jj] + RR[ii, jj]
                    if ii < r - 1 and jj < r - 1:
                        val += P[ii + 1, jj + 1]
                    Pn[ii, jj] = val
            P[:, :] = Pn
        # steady state: theta(B) v_t = phi(B) w_t
        for t in range(t0, n):
            s = 0.0
            for j in range(ra):
                s += ar[i, j] * w[i, t - j]
            for j in range(1, rm):
                s -= ma[i, j] * v[i, t - j]
            v[i, t] = s
            F[i, t] = 1.0


def exact_innovations(ar: Array, ma: Array, w: Array, tol: float = 1e-11) -> tuple[Array, Array]:
    """Standardized exact innovations of zero-mean ARMA rows with unit innovation variance.

    Parameters
    ----------
    ar, ma : ndarray, shape (k, r_a) and (k, r_m)
        Lag polynomials in lfilter sign (``[1, -phi_1, ...]``, ``[1, theta_1, ...]``), one
        row per model; the AR part stationary and the MA part invertible (not checked).
    w : ndarray, shape (k, n)
        One zero-mean series per row.
    tol : float
        The filter hands a row to the plain recursion once ``|F_t - 1| < tol``.

    Returns
    -------
    v, F : ndarray, shape (k, n)
        One-step prediction errors and their variances in units of ``sigma2``.
    """
    ar = np.ascontiguousarray(ar, dtype=np.float64)
    ma = np.ascontiguousarray(ma, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    k, n = w.shape
    v = np.zeros((k, n))
    F = np.ones((k, n))
    if k and n:
        _rows(ar, ma, w, float(tol), v, F)
    return v, F


@numba.njit(cache=True, nogil=True)
def _css_rows(ar: Array, ma: Array, w: Array, start: int, e: Array) -> None:  # pragma: no cover - compiled
    k, n = w.shape
    ra, rm = ar.shape[1], ma.shape[1]
    for i in range(k):
        for t in range(start, n):
            s = 0.0
            for j in range(min(ra, t + 1)):
                s += ar[i, j] * w[i, t - j]
            for j in range(1, min(rm, t - start + 1)):
                s -= ma[i, j] * e[i, t - j]
            e[i, t] = s


def css_residuals(ar: Array, ma: Array, w: Array, start: int) -> Array:
    """Conditional ARMA residuals of every row with its own polynomials (R's ``ARIMA_CSS``).

    ``e[t] = 0`` for ``t < start``; for ``t >= start``
    ``e[t] = sum_j ar[j] w[t-j] - sum_{j>=1} ma[j] e[t-j]``, ``w[t-j]`` taken only when
    ``t - j >= 0``. Shapes as in :func:`exact_innovations`.
    """
    ar = np.ascontiguousarray(ar, dtype=np.float64)
    ma = np.ascontiguousarray(ma, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    e = np.zeros(w.shape)
    if w.size:
        _css_rows(ar, ma, w, int(start), e)
    return e


@numba.njit(cache=True, nogil=True)
def _stable_rows(poly: Array, radius: float, out: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    k, m = poly.shape
    c = np.empty(m)
    nxt = np.empty(m)
    for i in range(k):
        ok = poly[i, 0] != 0.0 and np.isfinite(poly[i, 0])
        scale = 1.0
        for j in range(m):
            c[j] = poly[i, j] * scale / poly[i, 0] if ok else 0.0
            if not np.isfinite(c[j]):
                ok = False
            scale *= radius
        # step-down (Schur-Cohn): every reflection coefficient inside the unit circle
        deg = m - 1
        while ok and deg > 0:
            kappa = c[deg]
            if not abs(kappa) < 1.0:
                ok = False
                break
            den = 1.0 - kappa * kappa
            for j in range(deg):
                nxt[j] = (c[j] - kappa * c[deg - j]) / den
            for j in range(deg):
                c[j] = nxt[j]
            deg -= 1
        out[i] = ok


def stable_rows(poly: Array, margin: float = 1e-6) -> NDArray[np.bool_]:
    """Rows of ``poly (k, m)`` (zero lag first) whose every root lies outside the circle of
    radius ``1 / (1 - margin)``: the step-down (Schur-Cohn) test of ``poly(z / (1 - margin))``."""
    poly = np.ascontiguousarray(poly, dtype=np.float64)
    out = np.ones(poly.shape[0], dtype=bool)
    if poly.shape[0] and poly.shape[1] > 1:
        _stable_rows(poly, 1.0 / (1.0 - margin), out)
    return out


@numba.njit(cache=True, nogil=True)
def _product_rows(c: Array, sc: Array, sign: float, s: int, out: Array) -> None:  # pragma: no cover - compiled
    k, p = c.shape
    P = sc.shape[1]
    for i in range(k):
        for J in range(P + 1):
            g = 1.0 if J == 0 else sign * sc[i, J - 1]
            if g == 0.0:
                continue
            out[i, J * s] += g
            for j in range(p):
                out[i, J * s + j + 1] += g * sign * c[i, j]


def seasonal_product(c: Array, sc: Array, sign: float, s: int) -> Array:
    """Rows of ``(1 + sign sum_j c_j B^j)(1 + sign sum_J sc_J B^(sJ))``, zero lag first.

    ``c (k, p)``, ``sc (k, P)``; ``sign = -1`` gives AR polynomials in lfilter sign from
    statsmodels-sign coefficients, ``+1`` MA polynomials. Shape ``(k, p + sP + 1)``.
    """
    c = np.ascontiguousarray(c, dtype=np.float64)
    sc = np.ascontiguousarray(sc, dtype=np.float64)
    k = c.shape[0]
    out = np.zeros((k, c.shape[1] + s * sc.shape[1] + 1))
    if k:
        _product_rows(c, sc, float(sign), int(s), out)
    return out
