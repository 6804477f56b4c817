"""The exact Gaussian ARMA likelihood engine: innovations of many models at once, compiled.

Two entries give the one-step prediction errors ``v`` and their relative variances ``F`` of
zero-mean stationary ARMA series, so that the exact log-likelihood of a series is
``-0.5 * sum(log(2 pi sigma2 F) + v**2 / (sigma2 F))``:

* :func:`exact_innovations`: every row its own model (the estimators: many candidate
  parameter points of many series);
* :func:`gain_path`: one model over any number of series (the model class
  ``tsconv.ARIMA``). The gains and variances depend on the model only: they are
  computed once, and each series runs only the state recursion, then the plain recursion.
  :class:`GainPath` also gives the variances for any length and the rows of Ansley's
  innovations factor that the forecasts use.

Method: a Kalman filter in Harvey's state-space form (state dimension
``r = max(p, q + 1)``), started from the stationary covariance (solved by doubling,
Smith 1968), run until its gain has converged (per row: ``|F_t - 1| < tol`` after ``r``
steps; one model: ``F_t`` and ``K_t`` unchanged to a few ulps over ``2 r + 1`` steps,
which also covers a non-invertible MA, whose ``F_t`` does not fall to 1); from there the
innovations satisfy ``theta(B) v = phi(B) w`` (``theta`` the converged, invertible MA) and
come from that plain recursion. The time loops are compiled with numba (at the first call,
see ``_compile``): an estimator evaluates this likelihood tens of thousands of times on
short series (2-6 parameter points of a 50-150 point series per call), where a loop of
NumPy calls over time steps spends its time in per-call overhead, not arithmetic (see
docs/architecture.md).

The slow, obviously-correct twins are ``tests/naive.py::exact_innovations_dense`` (the
dense Cholesky factor of the model's autocovariance matrix) and
``tests/naive.py::ansley_factor_dense`` (that of Ansley's transformed series).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tsconv._jit import Kernels

Array = NDArray[np.float64]

# the kernels below are compiled at the first call of an entry point (tsconv._jit)
_JIT = Kernels(globals())
_kernel = _JIT.mark
_compile = _JIT.compile

__all__ = ["exact_innovations", "GainPath", "gain_path", "css_residuals", "stable_rows", "seasonal_product", "Layout", "objective", "normal_equations", "damped_steps"]


@_kernel
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


@_kernel
def _harvey(ar: Array, ma: Array) -> tuple[Array, Array, Array]:  # pragma: no cover - compiled
    """Harvey's form of ``ar(B) v = ma(B) e``: the AR column ``phi (r,)``, ``RR = R R'`` and the
    stationary state covariance ``P0`` (``r = max(p, q + 1)``)."""
    p, q = ar.size - 1, ma.size - 1
    r = max(p, q + 1)
    phi = np.zeros(r)
    for j in range(p):
        phi[j] = -ar[j + 1]
    R = np.zeros(r)
    for j in range(q + 1):
        R[j] = ma[j]
    RR = np.outer(R, R)
    T = np.zeros((r, r))
    T[:, 0] = phi
    for j in range(r - 1):
        T[j, j + 1] = 1.0
    return phi, RR, _stationary_cov(T, RR)


@_kernel
def _riccati(phi: Array, RR: Array, P: Array, b: Array, c: Array, K: Array, Pn: Array) -> float:  # pragma: no cover - compiled
    """One step of the prediction-error covariance: the gain ``K`` of ``P``'s step (in place)
    and ``P`` advanced (in place; ``b``, ``c``, ``Pn`` are scratch); returns ``F = P[0, 0]``."""
    r = phi.size
    f = P[0, 0]
    # T P e0 = c = phi P00 + b, b = P[1:, 0] padded; K = c / f
    for j in range(r - 1):
        b[j] = P[j + 1, 0]
    b[r - 1] = 0.0
    for j in range(r):
        c[j] = phi[j] * f + b[j]
        K[j] = c[j] / f
    # P <- T P T' + RR - c c' / f = P[1:, 1:] (padded) + (phi - K) c' + b phi' + RR
    for ii in range(r):
        for jj in range(r):
            val = (phi[ii] - K[ii]) * c[jj] + b[ii] * phi[jj] + RR[ii, jj]
            if ii < r - 1 and jj < r - 1:
                val += P[ii + 1, jj + 1]
            Pn[ii, jj] = val
    P[:, :] = Pn
    return f


@_kernel
def _innovations_row(ar: Array, ma: Array, w: Array, tol: float, v: Array, F: Array) -> None:  # pragma: no cover - compiled
    """One row: ``ar (r_a,)``, ``ma (r_m,)``, ``w (n,)`` -> ``v``, ``F`` in place."""
    n = w.size
    ra, rm = ar.size, ma.size
    phi, RR, P = _harvey(ar, ma)
    r = phi.size
    b = np.zeros(r)
    c = np.zeros(r)
    K = np.zeros(r)
    a = np.zeros(r)
    Pn = np.zeros((r, r))
    t0 = n
    for t in range(n):
        f = P[0, 0]
        vt = w[t] - a[0]
        v[t] = vt
        F[t] = f
        if t >= r and abs(f - 1.0) < tol:
            t0 = t + 1
            break
        _riccati(phi, RR, P, b, c, K, Pn)
        # a <- T a + K v
        a0 = a[0]
        for j in range(r - 1):
            a[j] = phi[j] * a0 + a[j + 1] + K[j] * vt
        a[r - 1] = phi[r - 1] * a0 + K[r - 1] * vt
    # steady state: theta(B) v_t = phi(B) w_t
    for t in range(t0, n):
        s = 0.0
        for j in range(ra):
            s += ar[j] * w[t - j]
        for j in range(1, rm):
            s -= ma[j] * v[t - j]
        v[t] = s
        F[t] = 1.0


@_kernel
def _rows(ar: Array, ma: Array, w: Array, tol: float, v: Array, F: Array) -> None:  # pragma: no cover - compiled
    for i in range(w.shape[0]):
        _innovations_row(ar[i], ma[i], w[i], tol, v[i], F[i])


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
    _compile()
    ar = np.ascontiguousarray(ar, dtype=np.float64)
    ma = np.ascontiguousarray(ma, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    k, n = w.shape
    v = np.zeros((k, n))
    F = np.ones((k, n))
    if k and n:
        _rows(ar, ma, w, float(tol), v, F)
    return v, F


# ---------------------------------------------------------------------------------------
# One model over many series: the gains once, then every row
# ---------------------------------------------------------------------------------------
@_kernel
def _gain_path(ar: Array, ma: Array, n: int, tol: float, F: Array, K: Array) -> tuple[int, bool]:  # pragma: no cover - compiled
    """The Kalman variances ``F[t]`` and gains ``K[t]`` of one model for ``t < n`` (in place),
    stopped once they have not changed (relative ``tol``) over ``2 r + 1`` consecutive steps:
    returns the number of steps computed and whether they converged."""
    phi, RR, P = _harvey(ar, ma)
    r = phi.size
    b = np.zeros(r)
    c = np.zeros(r)
    Pn = np.zeros((r, r))
    window = 2 * r + 1
    same = 0
    for t in range(n):
        f = _riccati(phi, RR, P, b, c, K[t], Pn)
        F[t] = f
        if t:
            still = abs(f - F[t - 1]) <= tol * f
            for j in range(r):
                if not abs(K[t, j] - K[t - 1, j]) <= tol * max(1.0, abs(K[t, j])):
                    still = False
            same = same + 1 if still else 0
            if same >= window:
                return t + 1, True
    return n, False


@_kernel
def _gain_rows(phi: Array, K: Array, w: Array, n: int, e: Array) -> None:  # pragma: no cover - compiled
    """Innovations ``e[:, :n]`` of the rows of ``w[:, :n]`` under the gains ``K (>= n, r)``:
    ``e_t = w_t - a_t[0]``, ``a_{t+1} = T a_t + K_t e_t``, ``a_0 = 0``."""
    k = w.shape[0]
    r = phi.size
    a = np.zeros(r)
    for i in range(k):
        a[:] = 0.0
        for t in range(n):
            et = w[i, t] - a[0]
            e[i, t] = et
            a0 = a[0]
            for j in range(r - 1):
                a[j] = phi[j] * a0 + a[j + 1] + K[t, j] * et
            a[r - 1] = phi[r - 1] * a0 + K[t, r - 1] * et


@_kernel
def _factor_rows(ar: Array, phi: Array, K: Array, c0: int, t0: int, m: int, band: Array) -> None:  # pragma: no cover - compiled
    """``band[j, i] = L[t0 + i, t0 + i - j]`` of Ansley's innovations factor from the gains
    ``K[c - c0]`` of the steps ``c0 <= c < t0 + band.shape[1]`` (see :meth:`GainPath.rows`)."""
    p = ar.size - 1
    r = phi.size
    h = band.shape[1]
    nc = K.shape[0]
    G = np.zeros((nc, max(m, 1)))  # G[c - c0, l] = Z T^l K_c
    y = np.empty(r)
    for cc in range(nc):
        for j in range(r):
            y[j] = K[cc, j]
        for ell in range(m):
            G[cc, ell] = y[0]
            y0 = y[0]
            for j in range(r - 1):
                y[j] = y[j + 1] + phi[j] * y0
            y[r - 1] = phi[r - 1] * y0
    for i in range(h):
        t = t0 + i
        band[0, i] = 1.0
        for j in range(1, m + 1):
            c = t - j
            if c < 0:
                band[j, i] = 0.0
                continue
            cc = c - c0
            if t < m:
                band[j, i] = G[cc, j - 1]
            else:
                val = ar[j] if j <= p else 0.0
                for ii in range(min(p, j - 1) + 1):
                    val += ar[ii] * G[cc, j - 1 - ii]
                band[j, i] = val


class GainPath:
    """The Kalman gains and innovation variances of one fixed zero-mean ARMA model.

    They depend on the model only, not on the data: :func:`gain_path` computes them once
    (compiled) until they converge, and every series then runs the cheap state recursion of
    :meth:`head` over those steps, then the plain recursion. Harvey's state-space form
    (``r = max(p, q + 1)`` states, ``Z = e0``), started from the stationary covariance.

    Attributes
    ----------
    ar, ma : ndarray
        The polynomials (lfilter sign, zero lag first).
    m : int
        ``max(p, q)``: the bandwidth of the innovations factor of Ansley's transformed series
        (``x_t = v_t`` for ``t < m``, ``ar(B) v_t`` after; Brockwell & Davis 1991, 5.3).
    F, K : ndarray, shape (T,) and (T, r)
        Variances (in units of ``sigma2``) and gains of the first ``T`` steps.
    converged : bool
        Whether every later step has ``F[-1]``, ``K[-1]`` (to a few ulps). ``T`` then
        includes ``m`` steps past convergence, so that from ``T`` on the rows of the
        innovations factor are all :attr:`conv_row`.
    conv_row : ndarray, shape (m + 1,)
        The converged row ``L[t, t - j]`` of the factor: ``ma`` for an invertible model,
        the invertible representation of a non-invertible one.
    """

    def __init__(self, ar: Array, ma: Array, F: Array, K: Array, converged: bool) -> None:
        self.ar, self.ma = ar, ma
        self.p, self.q = ar.size - 1, ma.size - 1
        self.m = max(self.p, self.q)
        self.phi = np.zeros(K.shape[1])
        self.phi[: self.p] = -ar[1:]
        self.F, self.K, self.converged = F, K, converged
        self.conv_row = self._rows(self.T, self.T + 1)[:, 0] if converged else self._rows(self.T - 1, self.T)[:, 0]

    @property
    def T(self) -> int:
        return int(self.F.size)

    def variances(self, t0: int, t1: int) -> Array:
        """``F_t`` for ``t0 <= t < t1`` (the converged value past ``T``)."""
        out = np.empty(t1 - t0)
        k = max(0, min(self.T, t1) - t0)
        out[:k] = self.F[t0 : t0 + k]
        if k < t1 - t0:
            self._check_length(t1)
            out[k:] = self.F[-1]
        return out

    def _check_length(self, t1: int) -> None:
        if not self.converged and t1 > self.T:
            raise RuntimeError(f"gain path of {self.T} steps asked for step {t1 - 1}")

    def gains(self, c0: int, c1: int) -> Array:
        """``K_c`` ``(c1 - c0, r)`` for ``c0 <= c < c1`` (the converged gain past ``T``)."""
        self._check_length(c1)
        out = np.empty((c1 - c0, self.K.shape[1]))
        k = max(0, min(self.T, c1) - c0)
        out[:k] = self.K[c0 : c0 + k]
        out[k:] = self.K[-1]
        return out

    def rows(self, t0: int, t1: int) -> tuple[Array, Array]:
        """Rows of the unit lower innovations factor of Ansley's series, ``band[j, i] =
        L[t0 + i, t0 + i - j]`` ``(m + 1, t1 - t0)``, and their variances ``F``.

        From the innovations form ``v_u = e_u + sum_{c<u} Z T^(u-1-c) K_c e_c``: for
        ``t < m`` ``L[t, c] = Z T^(t-1-c) K_c``; for ``t >= m``, ``x_t = ar(B) v_t`` gives
        ``L[t, t-j] = ar_j + sum_{i < j} ar_i Z T^(j-1-i) K_{t-j}``.
        """
        if self.converged and t0 >= self.T:  # every row is the converged one
            band = np.repeat(self.conv_row[:, None], t1 - t0, axis=1)
        else:
            band = self._rows(t0, t1)
        return band, self.variances(t0, t1)

    def _rows(self, t0: int, t1: int) -> Array:
        band = np.empty((self.m + 1, t1 - t0))
        c0 = max(t0 - self.m, 0)
        _factor_rows(self.ar, self.phi, self.gains(c0, t1), c0, t0, self.m, band)
        return band

    def head(self, w: Array) -> Array:
        """Innovations of the first ``min(n, T)`` values of the zero-mean rows ``w (k, n)``:
        ``e_t = w_t - a_t[0]``, ``a_{t+1} = T a_t + K_t e_t`` (compiled, all rows in one call).

        From ``T`` on (a converged path) they follow ``ar(B) w = conv_row(B) e``: the caller
        continues with that plain recursion from this exact state (``tsconv.ARIMA``: one
        ``scipy.signal.lfilter`` of the undifferenced series).
        """
        w = np.ascontiguousarray(w, dtype=np.float64)
        head = min(w.shape[-1], self.T)
        e = np.empty((w.shape[0], head))
        if w.shape[0] and head:
            _gain_rows(self.phi, self.K, w, head, e)
        return e


def gain_path(ar: Array, ma: Array, n: int, tol: float = 16 * np.finfo(float).eps) -> GainPath:
    """The :class:`GainPath` of one model for ``n`` steps, cut once converged.

    ``ar`` must be stationary (not checked); ``ma`` may be non-invertible (the gains then
    converge to the invertible representation, slowly or, for a unit root, not at all).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv._likelihood import gain_path
    >>> path = gain_path(np.array([1.0]), np.array([1.0, 0.5]), 3)
    >>> path.variances(0, 3)   # 1.25, 1.25 - 0.25/1.25, ... (Brockwell & Davis 1991, ex. 5.2.1)
    array([1.25      , 1.05      , 1.01190476])
    >>> e = path.head(np.array([[1.0, 0.0, 0.0]]))   # e_1 = 0 - (0.5 / 1.25) e_0
    >>> e
    array([[ 1.        , -0.4       ,  0.19047619]])
    """
    _compile()
    ar = np.array(ar, dtype=np.float64)  # copies: a read-only array would be a second compiled signature
    ma = np.array(ma, dtype=np.float64)
    r = max(ar.size - 1, ma.size)
    n = max(int(n), 1)
    F = np.empty(n)
    K = np.empty((n, r))
    steps, converged = _gain_path(ar, ma, n, float(tol), F, K)
    if converged:  # m more steps of the converged gain: from T on every factor row is conv_row
        T = min(n, steps + max(ar.size, ma.size) - 1)
        F[steps:T] = F[steps - 1]
        K[steps:T] = K[steps - 1]
        steps = T
    return GainPath(ar, ma, F[:steps].copy(), K[:steps].copy(), bool(converged))


@_kernel
def _css_row(ar: Array, ma: Array, w: Array, start: int, e: Array) -> None:  # pragma: no cover - compiled
    n = w.size
    ra, rm = ar.size, ma.size
    for t in range(start, n):
        s = 0.0
        for j in range(min(ra, t + 1)):
            s += ar[j] * w[t - j]
        for j in range(1, min(rm, t - start + 1)):
            s -= ma[j] * e[t - j]
        e[t] = s


@_kernel
def _css_rows(ar: Array, ma: Array, w: Array, start: int, e: Array) -> None:  # pragma: no cover - compiled
    for i in range(w.shape[0]):
        _css_row(ar[i], ma[i], w[i], start, e[i])


def css_residuals(ar: Array, ma: Array, w: Array, start: int) -> Array:
    """Conditional ARMA residuals of every row with its own polynomials (R's ``ARIMA_CSS``).

    ``e[t] = 0`` for ``t < start``; for ``t >= start``
    ``e[t] = sum_j ar[j] w[t-j] - sum_{j>=1} ma[j] e[t-j]``, ``w[t-j]`` taken only when
    ``t - j >= 0``. Shapes as in :func:`exact_innovations`.
    """
    _compile()
    ar = np.ascontiguousarray(ar, dtype=np.float64)
    ma = np.ascontiguousarray(ma, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    e = np.zeros(w.shape)
    if w.size:
        _css_rows(ar, ma, w, int(start), e)
    return e


@_kernel
def _stable_row(poly: Array, radius: float) -> bool:  # pragma: no cover - compiled
    """Every root of ``poly`` (zero lag first) outside the circle of ``radius``: the
    step-down (Schur-Cohn) recursion of ``poly(radius z)``."""
    m = poly.size
    if not (poly[0] != 0.0 and np.isfinite(poly[0])):
        return False
    c = np.empty(m)
    scale = 1.0
    for j in range(m):
        c[j] = poly[j] * scale / poly[0]
        if not np.isfinite(c[j]):
            return False
        scale *= radius
    nxt = np.empty(m)
    deg = m - 1
    while deg > 0:
        kappa = c[deg]
        if not abs(kappa) < 1.0:
            return False
        den = 1.0 - kappa * kappa
        for j in range(deg):
            nxt[j] = (c[j] - kappa * c[deg - j]) / den
        for j in range(deg):
            c[j] = nxt[j]
        deg -= 1
    return True


@_kernel
def _stable_rows(poly: Array, radius: float, out: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    for i in range(poly.shape[0]):
        out[i] = _stable_row(poly[i], radius)


def stable_rows(poly: Array, margin: float = 1e-6) -> NDArray[np.bool_]:
    """Rows of ``poly (k, m)`` (zero lag first) whose every root lies outside the circle of
    radius ``1 / (1 - margin)``: the step-down (Schur-Cohn) test of ``poly(z / (1 - margin))``."""
    _compile()
    poly = np.ascontiguousarray(poly, dtype=np.float64)
    out = np.ones(poly.shape[0], dtype=bool)
    if poly.shape[0] and poly.shape[1] > 1:
        _stable_rows(poly, 1.0 / (1.0 - margin), out)
    return out


@_kernel
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
    _compile()
    c = np.ascontiguousarray(c, dtype=np.float64)
    sc = np.ascontiguousarray(sc, dtype=np.float64)
    k = c.shape[0]
    out = np.zeros((k, c.shape[1] + s * sc.shape[1] + 1))
    if k:
        _product_rows(c, sc, float(sign), int(s), out)
    return out


@_kernel
def _objective_rows(x: Array, n_reg: int, lags: NDArray[np.int64], bounds: NDArray[np.int64],
                    orders: NDArray[np.int64], s: int, trans: NDArray[np.bool_], constrain: bool,
                    exact: bool, margin: float, w: Array, start: int, tol: float,
                    out: Array) -> None:  # pragma: no cover - compiled
    m, n = w.shape
    p, q, P, Q = orders[0], orders[1], orders[2], orders[3]
    width = max(max(p, q), max(max(P, Q), 1))
    coef = np.zeros((4, width))
    ar = np.zeros(p + s * P + 1)
    ma = np.zeros(q + s * Q + 1)
    signs = (1.0, -1.0, 1.0, -1.0)
    r_plain = 1.0 / (1.0 - margin)
    r_seas = 1.0 / (1.0 - (1.0 - (1.0 - margin) ** s))
    v = np.empty(n)
    F = np.empty(n)
    for i in range(m):
        coef[:, :] = 0.0
        for blk in range(4):
            lo, hi = bounds[blk], bounds[blk + 1]
            k = hi - lo
            if k == 0:
                continue
            base = n_reg + lo
            if constrain and trans[blk]:
                # Monahan (1984) / Jones (1980): pacf = -u / sqrt(1 + u^2), then Durbin-Levinson
                phi = np.zeros(k)
                prev = np.zeros(k)
                for j in range(k):
                    u = x[i, base + j]
                    a = -u / np.sqrt(1.0 + u * u)
                    for jj in range(j):
                        prev[jj] = phi[jj]
                    for jj in range(j):
                        phi[jj] = prev[jj] - a * prev[j - 1 - jj]
                    phi[j] = a
                for j in range(k):
                    coef[blk, lags[lo + j] - 1] = signs[blk] * phi[j]
            else:
                for j in range(k):
                    coef[blk, lags[lo + j] - 1] = x[i, base + j]
        if exact:
            ok = True
            for blk in range(4):
                deg = orders[blk]
                if deg == 0:
                    continue
                poly = np.empty(deg + 1)
                poly[0] = 1.0
                sg = -1.0 if blk % 2 == 0 else 1.0
                for j in range(deg):
                    poly[j + 1] = sg * coef[blk, j]
                if not _stable_row(poly, r_plain if blk < 2 else r_seas):
                    ok = False
                    break
            if not ok:
                out[i, :] = np.inf
                continue
        # the reduced polynomials (1 - a(B))(1 - A(B^s)) and (1 + t(B))(1 + T(B^s))
        ar[:] = 0.0
        ma[:] = 0.0
        for J in range(P + 1):
            g = 1.0 if J == 0 else -coef[2, J - 1]
            if g == 0.0:
                continue
            ar[J * s] += g
            for j in range(p):
                ar[J * s + j + 1] -= g * coef[0, j]
        for J in range(Q + 1):
            g = 1.0 if J == 0 else coef[3, J - 1]
            if g == 0.0:
                continue
            ma[J * s] += g
            for j in range(q):
                ma[J * s + j + 1] += g * coef[1, j]
        if exact:
            _innovations_row(ar, ma, w[i], tol, v, F)
            acc = 0.0
            for t in range(n):
                acc += np.log(F[t])
            g = np.exp(0.5 * acc / n)
            for t in range(n):
                out[i, t] = v[t] / np.sqrt(F[t]) * g
        else:
            v[:] = 0.0
            _css_row(ar, ma, w[i], start, v)
            for t in range(start, n):
                out[i, t - start] = v[t]


class Layout:
    """The parameter layout of a SARIMA spec, as the compiled objective reads it.

    ``lag_lists``: the lags of the AR, MA, seasonal AR and seasonal MA blocks (in that order,
    the parameter order after ``n_reg`` regression coefficients); ``transformable``: which
    blocks have consecutive lags ``1..k`` (those :func:`objective` constrains).
    """

    def __init__(self, n_reg: int, lag_lists: list[NDArray[np.intp]], s: int, transformable: list[bool]) -> None:
        self.n_reg = int(n_reg)
        self.lags = np.ascontiguousarray(np.concatenate([np.asarray(l, dtype=np.int64) for l in lag_lists]), dtype=np.int64)
        self.bounds = np.cumsum([0] + [len(l) for l in lag_lists]).astype(np.int64)
        self.orders = np.array([int(np.max(l)) if len(l) else 0 for l in lag_lists], dtype=np.int64)
        self.s = max(int(s), 1)
        self.trans = np.array(transformable, dtype=np.bool_)


def objective(x: Array, layout: Layout, w: Array, *, exact: bool, constrain: bool, start: int = 0,
              margin: float = 1e-6, tol: float = 1e-11) -> Array:
    """Residual vectors of the SARIMA parameter rows ``x (m, n_params)`` on the centred
    series ``w (m, n)`` (one row each), in one compiled pass.

    ``exact``: the scaled exact innovations ``v / sqrt(F) * exp(mean(log F) / 2)`` (their
    sum of squares is the concentrated ``-2 llf`` up to constants), ``inf`` for a row whose
    AR or MA factor has a root within ``margin`` of the unit circle; otherwise the CSS
    residuals from ``start`` on (``n - start`` columns). ``constrain`` maps the consecutive-lag
    blocks of ``x`` through the stationarity transform first (Monahan 1984, Jones 1980,
    statsmodels' sign: the MA blocks negated).
    """
    _compile()
    x = np.ascontiguousarray(x, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    m, n = w.shape
    out = np.zeros((m, n if exact else max(n - start, 0)))
    if m:
        _objective_rows(x, layout.n_reg, layout.lags, layout.bounds, layout.orders, layout.s, layout.trans,
                        bool(constrain), bool(exact), float(margin), w, int(start), float(tol), out)
    return out


# ---------------------------------------------------------------------------------------
# The Levenberg-Marquardt step of the estimators that minimize these objectives
# ---------------------------------------------------------------------------------------
@_kernel
def _normal_equations_rows(J: Array, r: Array) -> tuple[Array, Array]:  # pragma: no cover - compiled
    """``J'J`` ``(m, npar, npar)`` and ``J'r`` ``(m, npar)`` of every row of ``J`` ``(m, n_res, npar)``."""
    m, n, npar = J.shape
    JJ = np.zeros((m, npar, npar))
    g = np.zeros((m, npar))
    for i in range(m):
        for t in range(n):
            rt = r[i, t]
            for a in range(npar):
                ja = J[i, t, a]
                g[i, a] += ja * rt
                for b in range(a, npar):
                    JJ[i, a, b] += ja * J[i, t, b]
        for a in range(npar):
            for b in range(a):
                JJ[i, a, b] = JJ[i, b, a]
    return JJ, g


@_kernel
def _damped_steps_rows(JJ: Array, g: Array, lam: Array) -> tuple[Array, Array, bool]:  # pragma: no cover - compiled
    """Marquardt steps ``-(JJ + lam diag(JJ)) ** -1 g`` and their predicted decrease of the sum
    of squares, by Gaussian elimination with partial pivoting; ``ok`` is False if a system
    was singular (the caller then uses the pseudo-inverse)."""
    m, npar = g.shape
    delta = np.zeros((m, npar))
    pred = np.zeros(m)
    A = np.empty((npar, npar + 1))
    for i in range(m):
        for a in range(npar):
            for b in range(npar):
                A[a, b] = JJ[i, a, b]
            A[a, a] += lam[i] * max(JJ[i, a, a], 1e-12)
            A[a, npar] = -g[i, a]
        for c in range(npar):
            piv = c
            best = abs(A[c, c])
            for a in range(c + 1, npar):
                if abs(A[a, c]) > best:
                    best = abs(A[a, c])
                    piv = a
            if not best > 0.0 or not best < np.inf:
                return delta, pred, False
            if piv != c:
                for b in range(c, npar + 1):
                    A[c, b], A[piv, b] = A[piv, b], A[c, b]
            for a in range(c + 1, npar):
                f = A[a, c] / A[c, c]
                for b in range(c, npar + 1):
                    A[a, b] -= f * A[c, b]
        for a in range(npar - 1, -1, -1):
            s = A[a, npar]
            for b in range(a + 1, npar):
                s -= A[a, b] * delta[i, b]
            delta[i, a] = s / A[a, a]
        q = 0.0
        for a in range(npar):
            q += 2.0 * g[i, a] * delta[i, a]
            for b in range(npar):
                q += delta[i, a] * JJ[i, a, b] * delta[i, b]
        pred[i] = -q
    return delta, pred, True


def normal_equations(J: Array, r: Array) -> tuple[Array, Array]:
    """``J'J (m, npar, npar)`` and ``J'r (m, npar)`` of every row of ``J (m, n_res, npar)``."""
    _compile()
    return _normal_equations_rows(np.ascontiguousarray(J, dtype=np.float64), np.ascontiguousarray(r, dtype=np.float64))


def damped_steps(JJ: Array, g: Array, lam: Array) -> tuple[Array, Array, bool]:
    """Marquardt steps ``-(JJ + lam diag(JJ))^-1 g`` of every row and their predicted decrease
    of the sum of squares (Gaussian elimination with partial pivoting); the flag is False when a
    system was singular (the caller then solves by the pseudo-inverse)."""
    _compile()
    return _damped_steps_rows(np.ascontiguousarray(JJ, dtype=np.float64), np.ascontiguousarray(g, dtype=np.float64),
                              np.ascontiguousarray(lam, dtype=np.float64))
