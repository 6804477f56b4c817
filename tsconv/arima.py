"""Seasonal ARIMA with known coefficients as kernels: filtering, prediction, forecasting.

A SARIMA(p, d, q)(P, D, Q, s) model

    phi(B) Phi(B^s) (1 - B)^d (1 - B^s)^D (y_t - m_t) = c_t + theta(B) Theta(B^s) e_t

is a pair of causal kernels, ``ar_total = phi @ Phi_s @ diff^d @ sdiff^D`` and
``ma_total = theta @ Theta_s``; its psi (MA-infinity) weights are the impulse response of
``Transfer(ma_total, ar_total)`` and its pi (AR-infinity) weights that of the inverse.
Residuals are ``Transfer(ar_total, ma_total)`` applied to ``y``; one-step predictions are
``y - residuals``; forecasts continue the recursion and their variances are
``sigma2 * cumsum(psi**2)`` once the start-up transient is over.

Coefficients follow statsmodels in meaning and sign:
``y_t = phi_1 y_{t-1} + ... + e_t + theta_1 e_{t-1} + ...``.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.signal
import scipy.special
from numpy.typing import ArrayLike, NDArray

from tsconv._rowfilter import fir_rows, lfilter_zi
from tsconv._sarimax import diffuse_head
from tsconv._compat import infer_freq
from tsconv._likelihood import GainPath, gain_path
from tsconv._validation import as_float_array, as_int, as_positive_int, check_option, is_real, parse_orders
from tsconv.forecast import BatchForecast, Forecast, check_level, gaussian_bounds, reject_old_keywords
from tsconv.kernel import Kernel, Transfer

__all__ = ["ARIMA", "Forecast", "Start", "Trend", "TrendForm"]

Start = Literal["exact", "conditional"]
Trend = Literal["n", "c", "t", "ct"]
TrendForm = Literal["mean", "intercept"]

_TREND_POWERS = {"n": (), "c": (0,), "t": (1,), "ct": (0, 1)}


def _params(values: Any, lags: tuple[int, ...], name: str) -> NDArray[np.float64]:
    if values is None:
        values = np.zeros(len(lags))
    if np.ndim(values) == 0:
        values = [values]
    arr = as_float_array(values, name, ndim=1, allow_empty=True, keep_float32=False, finite=True)
    if arr.size != len(lags):
        raise ValueError(f"{name} must have {len(lags)} value(s) (one per lag {list(lags)}), got {arr.size}")
    return np.array(arr, dtype=float)


def _poly(lags: tuple[int, ...], params: NDArray[np.float64], sign: float, s: int = 1) -> NDArray[np.float64]:
    """Lag polynomial ``1 + sign * sum params_i B^(s * lag_i)``."""
    out = np.zeros(s * (max(lags) if lags else 0) + 1)
    out[0] = 1.0
    for lag, v in zip(lags, params):
        out[s * lag] += sign * v
    return out


class ARIMA:
    """A seasonal ARIMA model with known coefficients, viewed as convolution kernels.

    Parameters
    ----------
    order : tuple (p, d, q), default (0, 0, 0)
        ``p`` and ``q`` are counts (lags 1..p) or lists of lags (``(1, 1, [1, 4])``).
    seasonal_order : tuple (P, D, Q, s), default (0, 0, 0, 0)
        The seasonal part; ``P``/``Q`` count seasonal lags (multiples of ``s``) or list them.
    ar, ma, seasonal_ar, seasonal_ma : array_like, optional
        Coefficients in statsmodels' meaning and sign, one per lag:
        ``y_t = phi_1 y_{t-1} + ... + e_t + theta_1 e_{t-1} + ...``. Default zeros.
    trend : {'n', 'c', 't', 'ct'}, default 'n'
        Deterministic terms: constant and/or linear time trend.
    trend_params : array_like, optional
        One coefficient per trend term (constant first).
    exog_params : array_like, optional
        Regression coefficients: ``y_t = x_t' beta + u_t`` with ``u_t`` SARIMA
        (regression with SARIMA errors, as in statsmodels ``ARIMA`` and ``SARIMAX``).
    sigma2 : float, default 1.0
        Innovation variance (> 0).
    trend_form : {'mean', 'intercept'}, default 'mean'
        The two statsmodels meanings of ``trend``. ``'mean'`` (statsmodels
        ``tsa.arima.model.ARIMA``): the trend is part of the mean of ``y``,
        ``m_t = sum_k beta_k tau_t^k``; with ``d + D > 0`` a linear term is the mean of
        the differenced series (the drift), and terms of lower order than ``d + D`` are
        refused, as there. ``'intercept'`` (statsmodels ``SARIMAX``): the trend is the
        intercept ``c_t`` of the differenced ARMA equation; its mean is
        ``c / (phi(1) Phi(1))``.
    trend_offset : int, default 1
        Time value ``tau`` of the first observation: ``tau_t = t + trend_offset``
        (statsmodels' ``trend_offset``; :meth:`from_statsmodels` sets it).

    Notes
    -----
    The model is
    ``phi(B) Phi(B^s) (1-B)^d (1-B^s)^D (y_t - m_t - x_t' beta) = c_t + theta(B) Theta(B^s) e_t``
    with ``e_t ~ N(0, sigma2)`` [1]_. ``start='exact'`` computes the Gaussian one-step
    predictions of the differenced series given all its past: a Kalman filter started from
    the stationary state covariance, whose gains and variances depend on the model only and
    are computed once (compiled) and applied to every series; the forecasts use the rows of
    the innovations factor of Ansley's transformed series (Brockwell & Davis [2]_, section
    5.3) that those gains give. The first ``d + s D``
    observations carry the diffuse differencing states and are conditioned on. Once the
    innovation variances converge the filter is the plain recursion
    ``Transfer(ar_total, ma_total)`` from the matching state. This is the answer of
    statsmodels' ``SARIMAX(..., use_exact_diffuse=True)``; its first ``d + s D``
    one-step predictions (infinite variance) come from the same diffuse Kalman steps
    as there (Durbin & Koopman 2012, 5.2).

    References
    ----------
    .. [1] Box, Jenkins, Reinsel & Ljung (2015), *Time Series Analysis*, 5th ed., ch. 9.
    .. [2] Brockwell & Davis (1991), *Time Series: Theory and Methods*, 2nd ed., 5.3, 5.5.

    Examples
    --------
    >>> from tsconv import ARIMA
    >>> m = ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.4], seasonal_ma=[-0.6], sigma2=0.0014)
    >>> len(m.ar_total), len(m.ma_total)
    (14, 14)
    >>> m.psi(3)
    array([1. , 0.6, 0.6])
    """

    # the fields (set once in __init__, then frozen; arrays read-only)
    order: tuple[Any, int, Any]
    seasonal_order: tuple[Any, int, Any, int]
    ar_lags: tuple[int, ...]
    ma_lags: tuple[int, ...]
    seasonal_ar_lags: tuple[int, ...]
    seasonal_ma_lags: tuple[int, ...]
    d: int
    D: int
    s: int
    ar: NDArray[np.float64]
    ma: NDArray[np.float64]
    seasonal_ar: NDArray[np.float64]
    seasonal_ma: NDArray[np.float64]
    trend: Trend
    trend_form: TrendForm
    trend_offset: int
    trend_params: NDArray[np.float64]
    exog_params: NDArray[np.float64]
    sigma2: float
    _powers: tuple[int, ...]
    _phi: NDArray[np.float64]
    _Phi: NDArray[np.float64]
    _theta: NDArray[np.float64]
    _Theta: NDArray[np.float64]
    _ar_red: NDArray[np.float64]
    _ma: NDArray[np.float64]
    _diff: NDArray[np.float64]
    _ar_total: NDArray[np.float64]
    _dd: int
    _factors: dict[str, Any]

    def __init__(
        self,
        order: tuple[Any, int, Any] = (0, 0, 0),
        seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
        *,
        ar: ArrayLike | None = None,
        ma: ArrayLike | None = None,
        seasonal_ar: ArrayLike | None = None,
        seasonal_ma: ArrayLike | None = None,
        trend: Trend = "n",
        trend_params: ArrayLike | None = None,
        exog_params: ArrayLike | None = None,
        sigma2: float = 1.0,
        trend_form: TrendForm = "mean",
        trend_offset: int = 1,
    ) -> None:
        orders = parse_orders(order, seasonal_order)
        self.ar_lags, self.d, self.ma_lags = orders.ar, orders.d, orders.ma
        self.seasonal_ar_lags, self.D, self.seasonal_ma_lags, self.s = orders.seasonal_ar, orders.D, orders.seasonal_ma, orders.s
        seasonal = orders.seasonal
        self.order = (order[0], self.d, order[2])
        self.seasonal_order = (seasonal_order[0], self.D, seasonal_order[2], self.s if seasonal else 0)
        self.ar = _params(ar, self.ar_lags, "ar")
        self.ma = _params(ma, self.ma_lags, "ma")
        self.seasonal_ar = _params(seasonal_ar, self.seasonal_ar_lags, "seasonal_ar")
        self.seasonal_ma = _params(seasonal_ma, self.seasonal_ma_lags, "seasonal_ma")
        self.trend = check_option(trend, Trend, "trend")
        self.trend_form = check_option(trend_form, TrendForm, "trend_form")
        self.trend_offset = as_int(trend_offset, "trend_offset")
        self._powers = _TREND_POWERS[self.trend]
        self.trend_params = _params(trend_params, self._powers, "trend_params")
        if self.trend_form == "mean" and self._powers and min(self._powers) < self.d + self.D:
            raise ValueError(
                f"with trend_form='mean' and d + D = {self.d + self.D}, trend terms of lower order than d + D are "
                f"removed by differencing (as in statsmodels ARIMA), got trend={self.trend!r}; use 't' for a drift "
                "or trend_form='intercept'"
            )
        if exog_params is None:
            self.exog_params = np.zeros(0)
        else:
            self.exog_params = as_float_array(np.atleast_1d(exog_params), "exog_params", ndim=1, keep_float32=False, finite=True).astype(float)
        if not is_real(sigma2) or not (np.isfinite(sigma2) and sigma2 > 0):
            raise ValueError(f"sigma2 must be a finite number > 0, got {sigma2!r}")
        self.sigma2 = float(sigma2)
        s = max(self.s, 1)
        self._phi = _poly(self.ar_lags, self.ar, -1.0)
        self._Phi = _poly(self.seasonal_ar_lags, self.seasonal_ar, -1.0, s)
        self._theta = _poly(self.ma_lags, self.ma, 1.0)
        self._Theta = _poly(self.seasonal_ma_lags, self.seasonal_ma, 1.0, s)
        self._ar_red = np.convolve(self._phi, self._Phi)
        self._ma = np.convolve(self._theta, self._Theta)
        diff = np.array([1.0])
        for _ in range(self.d):
            diff = np.convolve(diff, [1.0, -1.0])
        for _ in range(self.D):
            sd = np.zeros(self.s + 1)
            sd[0], sd[-1] = 1.0, -1.0
            diff = np.convolve(diff, sd)
        self._diff = diff
        self._ar_total = np.convolve(self._ar_red, diff)
        self._dd = diff.size - 1
        self._factors: dict[str, Any] = {}
        for key, value in vars(self).items():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(f"ARIMA is immutable: use model.replace({name}=...) for a model with another {name}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ARIMA is immutable")

    _FIELDS = ("order", "seasonal_order", "ar", "ma", "seasonal_ar", "seasonal_ma", "trend", "trend_params",
               "exog_params", "sigma2", "trend_form", "trend_offset")

    def replace(self, **changes: Any) -> ARIMA:
        """A new :class:`tsconv.ARIMA` with some constructor arguments changed (the model is immutable).

        A fitted model gives a plain :class:`tsconv.ARIMA` (its estimates no longer describe it).

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> m = ARIMA((1, 0, 0), ar=[0.5])
        >>> m.replace(ar=[0.9]).psi(3)
        array([1.  , 0.9 , 0.81])
        >>> m.ar
        array([0.5])
        """
        unknown = sorted(set(changes) - set(self._FIELDS))
        if unknown:
            raise TypeError(f"replace() got unknown field(s) {unknown}; fields are {list(self._FIELDS)}")
        kw = {f: getattr(self, f) for f in self._FIELDS}
        if self.exog_params.size == 0:
            kw["exog_params"] = None
        kw.update(changes)
        order, sorder = kw.pop("order"), kw.pop("seasonal_order")
        return ARIMA(order, sorder, **kw)

    # -- kernels ------------------------------------------------------------------------
    @property
    def ar_total(self) -> Kernel:
        """``phi(B) Phi(B^s) (1-B)^d (1-B^s)^D`` as a causal Kernel (lfilter sign)."""
        return Kernel(self._ar_total)

    @property
    def ma_total(self) -> Kernel:
        """``theta(B) Theta(B^s)`` as a causal Kernel."""
        return Kernel(self._ma)

    @property
    def ar_reduced(self) -> Kernel:
        """The stationary AR part ``phi(B) Phi(B^s)`` (no differencing)."""
        return Kernel(self._ar_red)

    @property
    def differencing(self) -> Kernel:
        """``(1-B)^d (1-B^s)^D``."""
        return Kernel(self._diff)

    @property
    def transfer(self) -> Transfer:
        """``Transfer(ma_total, ar_total)``: shocks to observations (impulse response = psi)."""
        return Transfer(self._ma, self._ar_total)

    @property
    def n_conditioning(self) -> int:
        """``d + s D``: the observations the differencing conditions on."""
        return self._dd

    def psi(self, n: int) -> NDArray[np.float64]:
        """The first ``n`` psi (MA-infinity) weights of ``ma_total / ar_total`` (``psi_0 = 1``).

        Differencing is included: for ``d + D > 0`` they are the weights of the
        (non-stationary) model, statsmodels' ``results.impulse_responses``.

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> ARIMA((1, 1, 0), ar=[0.5]).psi(4)
        array([1.   , 1.5  , 1.75 , 1.875])
        """
        n = as_positive_int(n, "n")
        imp = np.zeros(n)
        imp[0] = 1.0
        return scipy.signal.lfilter(self._ma, self._ar_total, imp)

    def pi(self, n: int) -> NDArray[np.float64]:
        """The first ``n`` pi (AR-infinity) weights of ``ar_total / ma_total`` (``pi_0 = 1``).

        Statsmodels' sign: ``arma2ar`` returns these, so ``e_t = sum_j pi_j y_{t-j}``.

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> ARIMA((0, 0, 1), ma=[0.5]).pi(4)
        array([ 1.   , -0.5  ,  0.25 , -0.125])
        """
        n = as_positive_int(n, "n")
        imp = np.zeros(n)
        imp[0] = 1.0
        return scipy.signal.lfilter(self._ar_total, self._ma, imp)

    def roots(self) -> dict[str, NDArray[np.complex128]]:
        """Roots of the reduced AR polynomial and of the MA polynomial (in the lag operator).

        Stationary / invertible when all lie outside the unit circle.

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> ARIMA((1, 0, 1), ar=[0.5], ma=[0.25]).roots()["ma"]
        array([-4.+0.j])
        """
        # trailing (near-)zeros, e.g. a seasonal coefficient of 0, have roots at infinity
        def trim(c: NDArray[np.float64]) -> NDArray[np.float64]:
            keep = np.flatnonzero(np.abs(c) > 1e-14 * np.abs(c).max())
            return c[: keep[-1] + 1]

        return {"ar": Kernel(trim(self._ar_red)).roots(), "ma": Kernel(trim(self._ma)).roots()}

    @property
    def is_stationary(self) -> bool:
        """True when every root of ``phi(B) Phi(B^s)`` lies outside the unit circle."""
        r = self.roots()["ar"]
        return bool(r.size == 0 or np.all(np.abs(r) > 1.0))

    @property
    def is_invertible(self) -> bool:
        """True when every root of ``theta(B) Theta(B^s)`` lies outside the unit circle."""
        r = self.roots()["ma"]
        return bool(r.size == 0 or np.all(np.abs(r) > 1.0))

    def burn_in(self, tol: float = 1e-8) -> int:
        """Number of observations after which every pi weight is below ``tol``.

        The conditional residuals (zero pre-sample shocks) forget their start-up
        values at this rate: after ``burn_in(tol)`` observations the start-up error is
        of order ``tol`` times the scale of the data.

        Raises
        ------
        ValueError
            If the MA part is not invertible (the pi weights do not decay).

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> ARIMA((0, 0, 1), ma=[0.5]).burn_in(1e-3)   # 0.5**10 < 1e-3 <= 0.5**9
        10
        """
        if not (is_real(tol) and 0 < tol < 1):
            raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
        if not self.is_invertible:
            raise ValueError("burn_in needs an invertible MA part: the pi weights of this model do not decay")
        r = self.roots()["ma"]
        if r.size == 0:
            return int(self._ar_total.size)
        rho = 1.0 / float(np.min(np.abs(r)))
        n = int(self._ar_total.size + self._ma.size + 4 * np.log(tol) / np.log(rho)) + 50
        n = min(n, 10**7)
        pi = np.abs(self.pi(n))
        above = np.flatnonzero(pi >= tol)
        return int(above[-1] + 1) if above.size else 0

    def frequency_response(self, worN: int | ArrayLike = 512) -> tuple[NDArray[np.float64], NDArray[np.complex128]]:
        """Complex gain of ``ma_total / ar_total`` (see :meth:`tsconv.Transfer.frequency_response`)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.transfer.frequency_response(worN)

    def spectral_density(self, freqs: ArrayLike) -> NDArray[np.float64]:
        """Spectral density ``sigma2 |ma(e^{-2 pi i f})|^2 / |ar(e^{-2 pi i f})|^2``.

        ``freqs`` are in cycles per observation; the density integrates over
        ``[-1/2, 1/2]`` to the variance of a stationary model (differencing makes it
        infinite at the zero and seasonal frequencies).

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> ARIMA((0, 0, 1), ma=[1.0], sigma2=2.0).spectral_density([0.0, 0.25, 0.5])
        array([8., 4., 0.])
        """
        f = as_float_array(freqs, "freqs", keep_float32=False, finite=True)
        w = 2.0 * np.pi * np.atleast_1d(f).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            _, h = scipy.signal.freqz(self._ma, self._ar_total, worN=w)
            out = self.sigma2 * np.abs(h) ** 2
        return out.reshape(np.shape(f))

    # -- deterministic part ---------------------------------------------------------------
    def _trend_values(self, t0: int, n: int) -> NDArray[np.float64]:
        tau = np.arange(t0, t0 + n, dtype=float) + self.trend_offset
        out = np.zeros(n)
        for b, k in zip(self.trend_params, self._powers):
            out += b * tau**k
        return out

    def _exog_part(self, exog: Any, n: int, k: int, name: str) -> NDArray[np.float64] | None:
        ke = self.exog_params.size
        if exog is None:
            if ke:
                raise ValueError(f"{name} is required: the model has {ke} exog_params")
            return None
        if ke == 0:
            raise ValueError(f"{name} was given but the model has no exog_params")
        x = as_float_array(exog.to_numpy() if isinstance(exog, (pd.Series, pd.DataFrame)) else exog, name, finite=True, keep_float32=False)
        if x.ndim == 1 and ke == 1:
            x = x[:, None]
        if x.ndim == 2 and x.shape == (n, ke):
            return (x @ self.exog_params)[None, :]
        if x.ndim == 3 and x.shape == (k, n, ke):
            return x @ self.exog_params
        raise ValueError(f"{name} must have shape ({n}, {ke}) or ({k}, {n}, {ke}), got {x.shape}")

    def _mean_path(self, t0: int, n: int) -> NDArray[np.float64]:
        """Deterministic mean ``m_t`` of the differenced series (intercept form), y index t0..t0+n-1.

        statsmodels' convention: the stationary start uses the first intercept, then
        ``phi(B) Phi(B^s) m_t = c_t``.
        """
        c = self._trend_values(0, t0 + n)
        phi1 = float(self._ar_red.sum())
        m_pre = (c[1] if c.size > 1 else c[0]) / phi1
        p = self._ar_red.size - 1
        if p == 0:
            m = c.copy()
            m[0] = m_pre
        else:
            m = np.empty(t0 + n)
            m[0] = m_pre
            if t0 + n > 1:
                zi = lfilter_zi(np.array([1.0]), self._ar_red, None, np.full((1, p), m_pre))
                m[1:] = scipy.signal.lfilter([1.0], self._ar_red, c[1:], zi=zi[0])[0]
        return m[t0:]

    # -- input handling ---------------------------------------------------------------------
    def _prepare(self, y: Any, exog: Any, start: str, need: int) -> tuple[NDArray[np.float64], NDArray[np.float64], Any]:
        """(y2 (k, n), z2 = y - regression part, pandas wrapper info)."""
        info: Any = None
        if isinstance(y, (pd.Series, pd.DataFrame)):
            check_time_index(y.index, "y")
        if isinstance(y, pd.Series):
            info = ("series", y.index, y.name)
            vals = y.to_numpy()
        elif isinstance(y, pd.DataFrame):
            info = ("frame", y.index, y.columns)
            vals = y.to_numpy().T
        else:
            vals = y
        arr = as_float_array(vals, "y", ndim=(1, 2), keep_float32=False, finite=True).astype(float, copy=False)
        y2 = np.atleast_2d(arr)
        if info is None:
            info = ("array", arr.ndim)
        n = y2.shape[-1]
        if n < need:
            raise ValueError(f"y must have at least {need} observations for start={start!r} (d + s*D = {self._dd}), got {n}")
        z = y2
        reg = self._exog_part(exog, n, y2.shape[0], "exog")
        if reg is not None:
            z = z - reg
        if self.trend_form == "mean" and self._powers:
            z = z - self._trend_values(0, n)
        return y2, z, info

    def _need(self, start: str) -> int:
        return self._dd + 1 + (self._ar_red.size - 1 if start == "conditional" else 0)

    def _factor(self, n: int) -> GainPath:
        """The Kalman gains and variances of the differenced series for ``n`` steps (cached:
        they depend on the model only)."""
        f = self._factors.get("f")
        if f is not None and (f.converged or f.T >= n):
            return f
        if not self.is_stationary:
            raise ValueError(
                "start='exact' needs a stationary AR part (the differenced series has no stationary "
                f"distribution otherwise); AR roots {np.round(self.roots()['ar'], 6).tolist()}; use start='conditional'"
            )
        f = gain_path(self._ar_red, self._ma, n)
        self._factors["f"] = f
        return f

    def _conv_ma(self, f: GainPath) -> NDArray[np.float64]:
        """The converged filter row; exactly ``ma_total`` when it agrees to 1e-12."""
        row = f.conv_row
        ma = np.zeros(max(row.size, self._ma.size))
        ma[: self._ma.size] = self._ma
        padded = np.zeros_like(ma)
        padded[: row.size] = row
        if np.allclose(padded, ma, rtol=0, atol=1e-12):
            return self._ma
        return row

    # -- the filters ------------------------------------------------------------------------
    def _innovations(self, z: NDArray[np.float64], start: str, n_total: int) -> tuple[NDArray[np.float64], Any]:
        """Innovations aligned with y, (k, n), NaN where undefined (the first d + s D at least)."""
        n = z.shape[-1]
        dd = self._dd
        N = n - dd
        r = self._ar_total.size
        p = self._ar_red.size - 1
        intercept = self.trend_form == "intercept" and bool(self._powers)
        if start == "conditional":
            x = fir_rows(self._ar_total, z)[:, r - 1 :]
            if intercept:
                x = x - self._trend_values(r - 1, n - r + 1)
            out = np.full(z.shape, np.nan)
            out[:, dd + p :] = scipy.signal.lfilter([1.0], self._ma, x, axis=-1)
            return out, None
        f = self._factor(n_total - dd)
        T = min(f.T, N)
        w = fir_rows(self._diff, z[:, : dd + T])[:, dd:]
        if intercept:
            w = w - self._mean_path(dd, T)
        out = np.empty(z.shape)
        out[:, :dd] = np.nan
        e = out[:, dd:]  # a view: the innovations on the differenced index
        e[:, :T] = f.head(w)  # the Kalman state recursion under the model's gains
        if T < N:
            a = self._conv_ma(f)
            past_e = e[:, T - (a.size - 1) : T] if a.size > 1 else None
            if not intercept:
                zi = lfilter_zi(self._ar_total, a, z[:, dd + T - (r - 1) : dd + T], past_e)
                e[:, T:], _ = scipy.signal.lfilter(self._ar_total, a, z[:, dd + T :], axis=-1, zi=zi)
            else:
                xt = fir_rows(self._ar_total, z[:, dd + T - (r - 1) :])[:, r - 1 :]
                xt = xt - self._trend_values(dd + T, N - T)
                zi = lfilter_zi(np.array([1.0]), a, None, past_e)
                e[:, T:], _ = scipy.signal.lfilter([1.0], a, xt, axis=-1, zi=zi)
        return out, f

    def _diffuse_predictions(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """One-step predictions of z (y less its regression part) for t < d + s D.

        statsmodels' exact diffuse filter: the unseen differencing states have prior mean
        zero and infinite variance, in SARIMAX's parametrisation of them.
        """
        head = self._factors.get("diffuse")
        if head is None:
            head = self._factors["diffuse"] = diffuse_head(self)
        dd, r, i0 = self._dd, head.Z.size, head.arma_index
        k = z.shape[0]
        a = np.zeros((k, r))
        intercept = self.trend_form == "intercept" and bool(self._powers)
        if intercept:
            c = self._trend_values(0, dd + 1)
            e1 = np.zeros(head.arma_order)
            e1[0] = c[1]
            a[:, i0:] = np.linalg.solve(np.eye(head.arma_order) - head.T[i0:, i0:], e1)
        out = np.empty((k, dd))
        for t in range(dd):
            out[:, t] = a @ head.Z
            a = (a + (z[:, t] - out[:, t])[:, None] * head.gains[t]) @ head.T.T
            if intercept:
                a[:, i0] += c[t + 1]
        return out

    def _wrap(self, out2: NDArray[np.float64], info: Any) -> Any:
        kind = info[0]
        if kind == "series":
            return pd.Series(out2[0], index=info[1], name=info[2])
        if kind == "frame":
            return pd.DataFrame(out2.T, index=info[1], columns=info[2])
        return out2[0] if info[1] == 1 else out2

    def _check_start(self, start: Any) -> Start:
        start = check_option(start, Start, "start")
        if start == "conditional" and not self.is_invertible:
            warnings.warn(
                "the MA part is not invertible: conditional residuals explode; start='exact' still works",
                RuntimeWarning,
                stacklevel=3,
            )
        return start

    def residuals(self, y: ArrayLike, exog: ArrayLike | None = None, start: Start = "exact") -> Any:
        """One-step prediction errors (innovations) of ``y``, aligned with ``y``.

        Parameters
        ----------
        y : array_like, pandas.Series or pandas.DataFrame
            One series ``(n,)`` or many ``(k, n)`` under the same model (pandas:
            a Series, or a DataFrame with one column per series). Must be finite.
        exog : array_like, optional
            Regressors ``(n, k_exog)`` (or ``(k, n, k_exog)``), required when the model
            has ``exog_params``.
        start : {'exact', 'conditional'}, default 'exact'
            ``'exact'``: exact Gaussian innovations of the differenced series (the
            first ``d + s D`` values are NaN: the diffuse differencing states are
            conditioned on them). ``'conditional'``: conditional on the first
            ``d + s D + p + s P`` observations (NaN there) with zero pre-sample shocks:
            R's ``arima(method = "CSS")`` residuals.

        Returns
        -------
        ndarray or pandas object of the shape of ``y``.

        Raises
        ------
        ValueError
            For non-finite ``y`` (naming the first bad index), a series too short, a bad
            ``exog`` shape, or ``start='exact'`` with a non-stationary AR part.

        Examples
        --------
        >>> import numpy as np
        >>> from tsconv import ARIMA
        >>> ARIMA((1, 0, 0), ar=[0.5]).residuals(np.array([2.0, 1.0, 1.5]), start="conditional")
        array([nan,  0.,  1.])
        """
        start = self._check_start(start)
        y2, z, info = self._prepare(y, exog, start, self._need(start))
        out, _ = self._innovations(z, start, y2.shape[-1])
        return self._wrap(out, info)

    def predict(self, y: ArrayLike, exog: ArrayLike | None = None, start: Start = "exact") -> Any:
        """In-sample one-step predictions, aligned with ``y``.

        ``y_t - residual_t`` where the residual is defined. With ``start='exact'`` the
        first ``d + s D`` predictions (infinite variance: the differencing states are
        diffuse) follow statsmodels' exact diffuse filter, which gives the unseen
        differencing states prior mean zero in SARIMAX's parametrisation of them; with
        ``start='conditional'`` they are NaN. Parameters and errors as for
        :meth:`residuals`.

        Examples
        --------
        >>> import numpy as np
        >>> from tsconv import ARIMA
        >>> ARIMA((1, 0, 0), ar=[0.5]).predict(np.array([2.0, 1.0, 1.5]), start="conditional")
        array([nan, 1. , 0.5])
        """
        start = self._check_start(start)
        y2, z, info = self._prepare(y, exog, start, self._need(start))
        e, _ = self._innovations(z, start, y2.shape[-1])
        pred = y2 - e
        if start == "exact" and self._dd:
            pred[:, : self._dd] = self._diffuse_predictions(z) + (y2[:, : self._dd] - z[:, : self._dd])
        return self._wrap(pred, info)

    def prediction_variance(self, n: int) -> NDArray[np.float64]:
        """Variances of the ``start='exact'`` one-step predictions of ``n`` observations.

        NaN for the first ``d + s D`` (diffuse, infinite variance); then ``sigma2`` times
        the innovations variances, falling to ``sigma2`` for an invertible model.

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> ARIMA((0, 1, 1), ma=[0.5]).prediction_variance(4)   # 1.25, 1.25 - 0.25/1.25, ...  (B&D ex. 5.2.1)
        array([       nan, 1.25      , 1.05      , 1.01190476])
        """
        n = as_positive_int(n, "n")
        out = np.full(n, np.nan)
        if n > self._dd:
            out[self._dd :] = self.sigma2 * self._factor(n - self._dd).variances(0, n - self._dd)
        return out

    def forecast(
        self,
        y: ArrayLike,
        h: Any = None,
        exog_future: ArrayLike | None = None,
        *,
        level: Any = (95,),
        exog: ArrayLike | None = None,
        start: Start = "exact",
        freq: Any = None,
        **old: Any,
    ) -> Any:
        """Forecast ``h`` steps ahead from the end of ``y``, with standard errors and intervals.

        The model has known coefficients and no data of its own: the history is passed
        in. A model estimated by :func:`tsconv.fit_arima` keeps its data and forecasts
        with ``forecast(h)``.

        Parameters
        ----------
        y : array_like, pandas.Series or pandas.DataFrame
            The history (one or many series, as in :meth:`residuals`). A pandas index
            must be increasing and unique.
        h : int
            Forecast horizon (>= 1).
        exog, exog_future : array_like, optional
            Regressors over the history and over the ``h`` future periods
            (``(h, k_exog)`` or ``(k, h, k_exog)``).
        level : float or sequence of float, default (95,)
            Coverage of the central prediction intervals, in percent.
        freq : str, pandas offset or number, optional
            Spacing of the future dates of a DatetimeIndex (``'MS'``, ``pd.DateOffset(months=1)``,
            a Timedelta); default inferred from the index, from all its dates (some
            periods may be missing: the tightest grid that holds them, business days for
            business days with a holiday); a ValueError asks for it when it cannot be
            (monthly on the 15th, irregular). The first future date is the first of its grid after the last
            date (dates on the 15th with ``'MS'``: the 1st of the next month). A
            PeriodIndex takes only its own frequency; a numeric index (a RangeIndex too)
            a positive number, its step.
        start : {'exact', 'conditional'}, default 'exact'
            As in :meth:`residuals`. ``'exact'`` gives the exact Gaussian forecast and its
            mean squared error given the finite history; ``'conditional'`` continues the
            conditional recursion and uses ``sigma2 * cumsum(psi**2)``.

        Returns
        -------
        Forecast or BatchForecast
            A :class:`Forecast` for one series (1-D array or Series; pandas on the
            future dates for a Series), a :class:`BatchForecast` for many (2-D array:
            ids ``0..k-1``; wide DataFrame: ids are the columns).

        Raises
        ------
        TypeError
            The old keywords ``steps`` and ``alpha`` (the message gives the new ones).
        ValueError
            A bad ``h`` or ``level``, an index that is not increasing and unique.

        Notes
        -----
        The future values of the Ansley-transformed series are predicted from the
        innovations, ``x_hat_t = sum_{j} L[t, t-j] e_{t-j}`` (only past innovations), and
        mapped back through ``ar_total``; the error of each horizon is the same map
        applied to the unit-lower block of ``L`` over the future, so its variance is
        ``sigma2 * sum_k G[h, k]^2 d_k`` — ``sigma2 * cumsum(psi**2)`` once converged.

        Examples
        --------
        >>> import numpy as np
        >>> from tsconv import ARIMA
        >>> rw = ARIMA((0, 1, 0), sigma2=4.0)
        >>> fc = rw.forecast(np.array([1.0, 3.0, 2.0]), 3)
        >>> fc.mean, fc.se
        (array([2., 2., 2.]), array([2.        , 2.82842712, 3.46410162]))
        """
        reject_old_keywords("forecast", old)
        if h is None:
            raise TypeError("forecast() needs the horizon h: forecast(y, h)")
        start = self._check_start(start)
        h = as_positive_int(h, "h")
        levels = check_level(level)
        y2, z, info = self._prepare(y, exog, start, self._need(start))
        k, n = y2.shape
        dd = self._dd
        N = n - dd
        resid, f = self._innovations(z, start, n + h)
        e_full = resid[:, dd:]
        if start == "exact":
            m = f.m
            rows, dvar = f.rows(N, N + h)
        else:
            m = self._ma.size - 1
            rows = np.zeros((m + 1, h))
            rows[:, :] = self._ma[:, None]
            dvar = np.ones(h)
        # x_hat for future t = N + i: only innovations before N (NaN = conditioned on: 0)
        # x_hat[i] = sum_{l >= 1} L[N + i, N - l] e[N - l], with L[N + i, N - l] = rows[i + l, i]
        erev = np.zeros((k, m))
        L = min(N, m)
        erev[:, :L] = np.nan_to_num(e_full[:, N - L : N][:, ::-1], nan=0.0)
        ii = np.arange(h)[None, :]
        ll = np.arange(1, m + 1)[:, None]
        C = np.where(ii + ll <= m, rows[np.minimum(ii + ll, m), np.minimum(ii, h - 1)], 0.0) if m else np.zeros((0, h))
        xhat = erev @ C
        # unit-lower block of L over the future: M[i, c] = L[N + i, N + c]
        M = np.zeros((h, h))
        for j in range(0, min(m, h - 1) + 1):
            idx = np.arange(j, h)
            M[idx, idx - j] = rows[j, j:]
        intercept = self.trend_form == "intercept" and bool(self._powers)
        mu_f = self._mean_path(n, h) if intercept else np.zeros(h)
        m_eff = m if start == "exact" else 0
        zhat = self._x_to_z(xhat, z, N, m_eff, mu_f, intercept)
        G = self._x_to_z(M.T, None, N, m_eff, np.zeros(h), False)  # rows: shock c, time i
        var = self.sigma2 * np.einsum("ci,c->i", G**2, dvar)
        mean = zhat
        reg = self._exog_part(exog_future, h, k, "exog_future")
        if reg is not None:
            mean = mean + reg
        if self.trend_form == "mean" and self._powers:
            mean = mean + self._trend_values(n, h)
        se = np.broadcast_to(np.sqrt(var), mean.shape).copy()
        # the same filter pass gives the in-sample quantities
        fitted = y2 - resid
        if start == "exact" and dd:
            fitted[:, :dd] = self._diffuse_predictions(z) + (y2[:, :dd] - z[:, :dd])
        residuals, fitted = self._wrap(resid, info), self._wrap(fitted, info)
        index = _future_index(info[1], h, freq) if info[0] in ("series", "frame") else None
        label = self._label()
        if info[0] == "series" or (info[0] == "array" and info[1] == 1):
            mean1, se1 = mean[0], se[0]
            history: Any = y if isinstance(y, pd.Series) else y2[0]
            if index is not None:
                name = y.name if isinstance(y, pd.Series) else None
                wrap = lambda a: pd.Series(a, index=index, name=name)  # noqa: E731
            else:
                wrap = lambda a: a  # noqa: E731
            bounds = {v: (wrap(lo), wrap(hi)) for v, (lo, hi) in gaussian_bounds(mean1, se1, levels).items()}
            return Forecast(wrap(mean1), wrap(se1), levels, bounds, name=getattr(y, "name", None), model=label,
                            history=history, residuals=residuals, fitted=fitted)
        ids = list(info[2]) if info[0] == "frame" else list(range(k))
        ds = [list(index)] * k if index is not None else None
        hist = y if info[0] == "frame" else y2
        return BatchForecast(mean, se, levels, gaussian_bounds(mean, se, levels), ids=ids, ds=ds, model=label,
                             history=hist, residuals=residuals, fitted=fitted)

    def _label(self) -> str:
        """``ARIMA(p,d,q)(P,D,Q)[s]``: the model's short name (plot titles, summaries)."""
        return model_label(self.order, self.seasonal_order)

    def _x_to_z(self, xhat: NDArray[np.float64], z: NDArray[np.float64] | None, N: int, m: int, mu_f: NDArray[np.float64], intercept: bool) -> NDArray[np.float64]:
        """Map future Ansley values x (k, h) at differenced times N.. to levels z.

        ``x_t = v_t`` for ``t < m`` and ``phi(B) v_t`` after; ``w = v + mu``;
        ``(1-B)^d (1-B^s)^D z = w``. ``z`` is the history (None: zero history, for errors).
        """
        k, h = xhat.shape
        p = self._ar_red.size - 1
        dd = self._dd
        if z is None:
            r = self._ar_total.size
            if m <= N:
                return scipy.signal.lfilter([1.0], self._ar_total, xhat, axis=-1)
            v_hist = np.zeros((k, 0))
            z_hist = None
        else:
            r = self._ar_total.size
            if m <= N and not intercept:
                zi = lfilter_zi(np.array([1.0]), self._ar_total, None, z[:, z.shape[-1] - (r - 1) :] if r > 1 else None)
                if r == 1:
                    return xhat.copy()
                return scipy.signal.lfilter([1.0], self._ar_total, xhat, axis=-1, zi=zi)[0]
            w_hist = fir_rows(self._diff, z)[:, dd:]
            if intercept:
                w_hist = w_hist - self._mean_path(dd, N)
            v_hist = w_hist
            z_hist = z
        # general path: segment t < m (x = v), then the AR recursion, then integration
        v = np.zeros((k, h))
        n1 = max(0, min(h, m - N))
        v[:, :n1] = xhat[:, :n1]
        if n1 < h:
            allv = np.concatenate([v_hist, v[:, :n1]], axis=-1)
            if p:
                past = allv[:, max(allv.shape[-1] - p, 0) :]
                if past.shape[-1] < p:
                    past = np.concatenate([np.zeros((k, p - past.shape[-1])), past], axis=-1)
                zi = lfilter_zi(np.array([1.0]), self._ar_red, None, past)
                v[:, n1:], _ = scipy.signal.lfilter([1.0], self._ar_red, xhat[:, n1:], axis=-1, zi=zi)
            else:
                v[:, n1:] = xhat[:, n1:]
        w = v + mu_f
        if dd == 0:
            return w
        past_z = z_hist[:, -dd:] if z_hist is not None else np.zeros((k, dd))
        zi = lfilter_zi(np.array([1.0]), self._diff, None, past_z)
        return scipy.signal.lfilter([1.0], self._diff, w, axis=-1, zi=zi)[0]

    def plot_kernels(self, n: int = 48, **kwargs: Any) -> Any:
        """psi and pi weights and the spectral density (needs the ``plot`` extra).

        See :func:`tsconv.plot.plot_model_kernels` for the keyword arguments.
        """
        from tsconv import plot as _plot

        return _plot.plot_model_kernels(self, n=n, **kwargs)

    def simulate(self, n: int, repetitions: int = 1, seed: Any = None, **old: Any) -> NDArray[np.float64]:
        """Simulate the model: psi weights convolved with Gaussian shocks.

        A stationary model starts in its stationary regime (a burn-in long enough for
        the psi weights to fall below 1e-12 is discarded); an integrated model starts
        from zero pre-sample values. Trend terms are added; exogenous regressors are
        not (``exog_params`` must be empty).

        Parameters
        ----------
        n : int
            Length of each path.
        repetitions : int, default 1
        seed : int, numpy.random.Generator or None
            Passed to :func:`numpy.random.default_rng`.

        Returns
        -------
        ndarray
            ``(n,)`` when ``repetitions == 1``, else ``(repetitions, n)``: paths for fan charts.

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> ARIMA((1, 0, 0), ar=[0.5]).simulate(100, repetitions=3, seed=0).shape
        (3, 100)
        """
        reject_old_keywords("simulate", old)
        n = as_positive_int(n, "n")
        repetitions = as_positive_int(repetitions, "repetitions")
        if self.exog_params.size:
            raise ValueError("simulate does not know future regressors: the model has exog_params")
        rng = np.random.default_rng(seed)
        burn = 0
        if self._dd == 0 and self.is_stationary:
            r = self.roots()["ar"]
            if r.size:
                rho = 1.0 / float(np.min(np.abs(r)))
                burn = min(int(np.log(1e-12) / np.log(rho)) + self._ma.size + 1, 10**6)
            else:  # a pure MA(q) needs its q pre-sample shocks (without them the first q
                burn = self._ma.size - 1  # values had variance sigma2 only)
        eps = rng.standard_normal((repetitions, n + burn)) * np.sqrt(self.sigma2)
        out = scipy.signal.lfilter(self._ma, self._ar_total, eps, axis=-1)[:, burn:]
        if self._powers:
            if self.trend_form == "mean":
                out = out + self._trend_values(0, n)
            elif self._dd == 0:
                out = out + self._mean_path(0, n)
            else:  # the intercept integrated from zero pre-sample values
                out = out + scipy.signal.lfilter([1.0], self._ar_total, self._trend_values(0, n))
        return out[0] if repetitions == 1 else out

    # -- statsmodels ----------------------------------------------------------------------
    @classmethod
    def from_statsmodels(cls, results: Any) -> ARIMA:
        """The model of a statsmodels results object, coefficients included.

        Parameters
        ----------
        results : statsmodels results
            ``statsmodels.tsa.arima.model.ARIMAResults`` (trend as a mean),
            ``statsmodels.tsa.statespace.sarimax.SARIMAXResults`` (trend as an
            intercept) or ``statsmodels.tsa.ar_model.AutoRegResults`` (intercept form).

        Raises
        ------
        TypeError
            For any other object; the message lists the supported types.
        ValueError
            For a supported type using a feature this class does not model
            (simple differencing, measurement error, time-varying regression, AutoReg
            seasonal dummies or exog, trends other than 'n', 'c', 't', 'ct').

        See Also
        --------
        to_statsmodels_params : the reverse.
        tsconv.verify.against_statsmodels : compare the two, number by number.

        Examples
        --------
        >>> import numpy as np
        >>> from statsmodels.tsa.ar_model import AutoReg
        >>> from tsconv import ARIMA
        >>> y = np.sin(np.arange(50) / 2.0) + np.arange(50) / 10.0
        >>> m = ARIMA.from_statsmodels(AutoReg(y, lags=2, trend="c").fit())
        >>> m.order, m.trend, m.trend_form
        ((2, 0, 0), 'c', 'intercept')
        """
        from tsconv._sarimax import statsmodels_spec

        return cls(**statsmodels_spec(results))

    def param_names(self) -> list[str]:
        """Names of :meth:`to_statsmodels_params` in statsmodels' spelling: ``const`` (mean
        form, statsmodels ``ARIMA``) or ``intercept`` (``SARIMAX``), ``drift``, exog ``x1..``,
        ``ar.L1``, ``ma.L1``, ``ar.S.L12``, ``ma.S.L12``, ``sigma2`` (the linear trend is
        ``drift`` in both forms, as :func:`tsconv.fit_arima` names it)."""
        const = "const" if self.trend_form == "mean" else "intercept"
        names = [{0: const, 1: "drift"}[p] for p in self._powers] + [f"x{j + 1}" for j in range(self.exog_params.size)]
        names += [f"ar.L{j}" for j in self.ar_lags] + [f"ma.L{j}" for j in self.ma_lags]
        names += [f"ar.S.L{j * self.s}" for j in self.seasonal_ar_lags] + [f"ma.S.L{j * self.s}" for j in self.seasonal_ma_lags]
        return names + ["sigma2"]

    def summary(self) -> str:
        """A text table of the model: its coefficients (statsmodels' names), the smallest
        AR and MA root moduli, stationarity and invertibility. A model typed in by hand has
        no standard errors; :func:`tsconv.fit_arima` gives a model whose summary has them.

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> print(ARIMA((1, 0, 1), ar=[0.5], ma=[0.25], sigma2=2.0).summary())
        ARIMA(1,0,1), known coefficients (trend 'n', trend_form 'mean')
        <BLANKLINE>
                            coef
        ar.L1             0.5000
        ma.L1             0.2500
        sigma2            2.0000
        <BLANKLINE>
        smallest root modulus: AR 2.0000, MA 4.0000
        stationary: True   invertible: True
        """
        lines = [f"{self._label()}, known coefficients (trend {self.trend!r}, trend_form {self.trend_form!r})", "",
                 f"{'':12s}{'coef':>12s}"]
        for name, v in zip(self.param_names(), self.to_statsmodels_params()):
            lines.append(f"{name:12s}{v:12.4f}")
        r = self.roots()
        mod = {k: (f"{float(np.min(np.abs(v))):.4f}" if v.size else "-") for k, v in r.items()}
        lines += ["", f"smallest root modulus: AR {mod['ar']}, MA {mod['ma']}",
                  f"stationary: {self.is_stationary}   invertible: {self.is_invertible}"]
        return "\n".join(lines)

    def to_statsmodels_params(self) -> NDArray[np.float64]:
        """Parameters in statsmodels' order: trend, exog, ar, ma, seasonal ar, seasonal ma, sigma2.

        This is the ``params`` vector of ``statsmodels.tsa.arima.model.ARIMA`` (for
        ``trend_form='mean'``) or ``SARIMAX`` (for ``'intercept'``) with the same orders,
        to be used with ``model.filter(params)`` / ``model.smooth(params)``.

        Examples
        --------
        >>> from tsconv import ARIMA
        >>> ARIMA((1, 1, 1), ar=[0.5], ma=[-0.3], trend="t", trend_params=[0.1], sigma2=2.0).to_statsmodels_params()
        array([ 0.1,  0.5, -0.3,  2. ])
        """
        return np.r_[self.trend_params, self.exog_params, self.ar, self.ma, self.seasonal_ar, self.seasonal_ma, self.sigma2]

    def __repr__(self) -> str:
        parts = [f"order={self.order!r}"]
        if self.seasonal_order[3]:
            parts.append(f"seasonal_order={self.seasonal_order!r}")
        for name in ("ar", "ma", "seasonal_ar", "seasonal_ma"):
            v = getattr(self, name)
            if v.size:
                parts.append(f"{name}={v.tolist()!r}")
        if self._powers:
            parts += [f"trend={self.trend!r}", f"trend_params={self.trend_params.tolist()!r}", f"trend_form={self.trend_form!r}"]
            if self.trend_offset != 1:
                parts.append(f"trend_offset={self.trend_offset}")
        if self.exog_params.size:
            parts.append(f"exog_params={self.exog_params.tolist()!r}")
        parts.append(f"sigma2={self.sigma2!r}")
        return f"ARIMA({', '.join(parts)})"


def model_label(order: Any, seasonal_order: Any) -> str:
    """``ARIMA(p,d,q)(P,D,Q)[s]`` (a lag list counts its lags, as R prints them)."""
    def part(x: Any) -> str:
        return str(len(x)) if isinstance(x, (list, tuple)) else str(x)

    out = f"ARIMA({part(order[0])},{order[1]},{part(order[2])})"
    if len(seasonal_order) == 4 and seasonal_order[3]:
        out += f"({part(seasonal_order[0])},{seasonal_order[1]},{part(seasonal_order[2])})[{seasonal_order[3]}]"
    return out


def check_time_index(index: pd.Index, name: str) -> None:
    """A ValueError unless ``index`` (dates, periods or numbers) is increasing and unique."""
    if isinstance(index, pd.RangeIndex) and index.step > 0:
        return
    if not (isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) or pd.api.types.is_numeric_dtype(index)):
        return
    if not index.is_unique:
        dup = index[index.duplicated()][:3].tolist()
        raise ValueError(f"the index of {name} must be unique, got repeated values {dup}")
    if not index.is_monotonic_increasing:
        raise ValueError(
            f"the index of {name} must be increasing, got {index[0]!r} ... {index[-1]!r} out of order; "
            f"sort it first ({name}.sort_index())"
        )


def _future_index(index: pd.Index, h: int, freq: Any = None) -> pd.Index:
    """The ``h`` index values after ``index``: dates as :func:`_future_dates`; periods at
    the index's own frequency (``freq`` may repeat it, nothing else); numbers with the
    step ``freq`` (a positive number), else their own regular step; positions otherwise."""
    if isinstance(index, pd.PeriodIndex):
        if freq is not None:
            try:
                same = pd.PeriodDtype(freq) == index.dtype
            except (TypeError, ValueError, AttributeError):
                same = False
            if not same:
                raise ValueError(f"freq of a PeriodIndex must be its own frequency {index.freqstr!r} (or None), "
                                 f"got {freq!r}")
        return pd.period_range(index[-1] + 1, periods=h, freq=index.freq)
    if isinstance(index, pd.DatetimeIndex):
        return _future_dates(index, h, freq)
    if pd.api.types.is_numeric_dtype(index) and not pd.api.types.is_bool_dtype(index) and len(index):
        if isinstance(index, pd.RangeIndex) and freq is None:
            return pd.RangeIndex(index.stop, index.stop + h * index.step, index.step)
        return pd.Index(_next_numbers(index.to_numpy(), h, freq, regular=True))
    if freq is not None:
        raise ValueError(f"freq is the spacing of dates or numbers; an index of dtype {index.dtype} takes none, got {freq!r}")
    return pd.RangeIndex(len(index), len(index) + h)


def _date_freq(index: pd.DatetimeIndex) -> Any:
    """The frequency of the dates ``index`` (a pandas offset) or None: the index's own, else
    pandas' inference from all its dates; when that fails because some periods are
    missing (a month without a row), a frequency pandas infers for three
    consecutive dates on whose grid (first to last date) every date lies, the tightest
    such grid: business days with a holiday missing get 'B', not 'D' (a superset), and
    monthly dates on the 15th none."""
    freq = infer_freq(index)
    if freq is not None or len(index) < 4:
        return freq
    wall = index.tz_localize(None) if index.tz is not None else index
    steps = np.diff(wall.asi8)
    keys = zip(steps[:-1], steps[1:], wall.day_of_week[:-2], (wall - wall.normalize()).asi8[:-2])
    best, size, seen, tried = None, 0, set(), set()
    for j, key in enumerate(keys):  # one window per pattern of steps, weekday and time of day
        if key in seen:
            continue
        seen.add(key)
        f = infer_freq(index[j : j + 3])
        if f is None or f in tried:
            continue
        tried.add(f)
        if isinstance(f, pd.offsets.Tick) and index[-1] - index[0] > pd.Timedelta(f) * 1_000_000:
            continue  # not building a grid of millions of dates (three stamps a minute apart in years)
        grid = pd.date_range(index[0], index[-1], freq=f)
        if (best is None or len(grid) < size) and index.isin(grid).all():
            best, size = f, len(grid)
    return best


def _calendar_step(a: pd.Timestamp, b: pd.Timestamp) -> Any:
    """The calendar offset of months, quarters or years that goes from the date ``a`` on
    its grid to ``b`` (two month starts: 'MS'), or None. pandas infers a frequency from three
    dates or more; two dates a month apart continued by their spacing (31 days) drifted
    off the month grid: 2020-01-01, 2020-02-01 went on 2020-03-03, 2020-04-03, 2020-05-04."""
    for off in (pd.offsets.MonthBegin(), pd.offsets.MonthEnd(), pd.offsets.QuarterBegin(startingMonth=a.month),
                pd.offsets.QuarterEnd(startingMonth=a.month), pd.offsets.YearBegin(month=a.month),
                pd.offsets.YearEnd(month=a.month)):
        if off.is_on_offset(a) and a + off == b:
            return off
    return None


def _months_apart(a: pd.Timestamp, b: pd.Timestamp) -> bool:
    """Whether ``b`` is a whole number of calendar months after ``a``, on its day of the month
    and at its time of day."""
    k = (b.year - a.year) * 12 + b.month - a.month
    return k > 0 and a + pd.DateOffset(months=k) == b and a.day == b.day


def _future_dates(index: pd.DatetimeIndex, h: int, freq: Any = None, *, where: str = "") -> pd.DatetimeIndex:
    """The ``h`` dates after ``index`` (time zone aware ones in their zone): at ``freq``
    (given, else :func:`_date_freq`), starting with the first date of its grid after the
    last one (data on the 15th with ``freq='MS'``: the 1st of the next month, none
    skipped); without a frequency, dates of constant spacing (two dates) continue it, except
    two dates whole months apart on the same day (the 15th), monthly dates as three such
    are, and otherwise a ValueError asks for ``freq=`` (``where``: which series, for the
    message)."""
    if freq is None:
        freq = _date_freq(index)
        if freq is None and len(index) == 2:
            freq = _calendar_step(index[0], index[1])
    else:
        try:
            freq = pd.tseries.frequencies.to_offset(freq)
        except (TypeError, ValueError):
            raise ValueError(f"freq of dates must be a pandas frequency ('D', 'MS', pd.DateOffset(months=1), ...), "
                             f"got {freq!r}") from None
    last = index[-1]
    if freq is not None:
        out = pd.date_range(last, periods=h + 1, freq=freq)  # starts at last when last is on the grid
        return out[1:] if out[0] == last else out[:h]
    steps = np.diff(index.asi8)
    # two dates whole calendar months apart on the same day and time (the 15th: not on a
    # month, quarter or year grid) are monthly dates, which pandas gives no frequency, as it
    # gives three or more none: their spacing (31 days) would drift off the day of the month
    if steps.size and (steps == steps[-1]).all() and not (len(index) == 2 and _months_apart(index[0], index[1])):
        return pd.DatetimeIndex([last + (last - index[-2]) * j for j in range(1, h + 1)])
    raise ValueError(
        f"the frequency of the dates{where} {index[0]} ... {last} cannot be inferred (irregular or too few); "
        "pass freq=, e.g. forecast(h, freq='D')"
    )


def _next_numbers(arr: NDArray[Any], h: int, step: Any = None, *, regular: bool = False) -> list[Any]:
    """The ``h`` numbers after the numeric stamps ``arr``: with the step ``step`` (a positive
    number), else with the spacing of the last two (1 after a single stamp). ``regular``
    (the index of one Series): a ValueError asking for ``freq=`` when the steps differ,
    instead of taking the last one."""
    if step is not None:
        if not is_real(step) or not np.isfinite(float(step)) or step <= 0:
            raise ValueError(f"freq of a numeric index must be a positive number (its step), got {step!r}")
        return [arr[-1] + step * j for j in range(1, h + 1)]
    if len(arr) < 2:
        return [arr[-1] + j for j in range(1, h + 1)]
    last = arr[-1] - arr[-2]
    if regular:
        gaps = np.diff(arr)
        if not np.allclose(gaps, last, rtol=1e-9, atol=0.0):
            a0, a1, g0, g1, g = (np.asarray(v).item() for v in (arr[0], arr[-1], gaps.min(), gaps.max(), last))
            raise ValueError(f"the step of the index {a0!r} ... {a1!r} cannot be inferred (irregular: steps from "
                             f"{g0!r} to {g1!r}); pass freq=, e.g. forecast(h, freq={g!r})")
    return [arr[-1] + last * j for j in range(1, h + 1)]
