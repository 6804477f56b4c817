"""Native estimation of (seasonal) ARIMA models, one series or thousands at once.

:func:`fit_arima` estimates a SARIMA model by conditional sum of squares (R's
``arima(method="CSS")``), exact Gaussian maximum likelihood (innovations form) or, for
pure AR models, Yule-Walker, Burg or OLS. A 1-D series gives a fitted :class:`ARIMA`;
a 2-D array (one series per row), a list of series of different lengths or a long
DataFrame (``unique_id``, ``ds``, ``y``) gives an :class:`ARIMABatch` fitted in one
vectorized call, whose :meth:`ARIMABatch.forecast` uses each series' own coefficients.
:func:`select_order` is a batched grid search over orders by information criterion.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from tsconv import _batchfit as _ep
from tsconv import _boxcox, _persist
from tsconv._persist import DiagonalCovarianceWarning, ModelFileError
from tsconv._validation import as_float_array, as_int, check_option, first_nonfinite, is_real, parse_orders
from tsconv.arima import ARIMA, Start, _date_freq, _future_dates, _next_numbers, check_time_index, model_label
from tsconv.forecast import BatchForecast, Forecast, check_level, gaussian_bounds, reject_old_keywords

__all__ = ["fit_arima", "select_order", "ARIMABatch", "BatchForecast", "FittedARIMA", "FitResult", "ConvergenceWarning",
           "ModelFileError", "DiagonalCovarianceWarning"]

Method = Literal["css-ml", "ml", "css", "yule-walker", "burg", "ols"]
Trend = Literal["n", "c", "t", "ct"]
InfoCriterion = Literal["aicc", "aic", "bic"]

_AR_ONLY = ("yule-walker", "burg", "ols")


class ConvergenceWarning(UserWarning):
    """An optimizer stopped before its convergence test was met."""


# ---------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------
def _nonneg(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


_Lags = NDArray[np.intp]


def _parse_orders(order: Any, seasonal_order: Any) -> tuple[_Lags, int, _Lags, _Lags, int, _Lags, int]:
    """``(ar_lags, d, ma_lags, seasonal_ar_lags, D, seasonal_ma_lags, s)``."""
    o = parse_orders(order, seasonal_order)  # the one parser (tsconv._validation)
    lags = [np.array(v, dtype=np.intp) for v in (o.ar, o.ma, o.seasonal_ar, o.seasonal_ma)]
    return lags[0], o.d, lags[1], lags[2], o.D, lags[3], o.s


def _param_names(spec: _ep.Spec, reg_names: Sequence[str]) -> list[str]:
    names = list(reg_names)
    names += [f"ar.L{j}" for j in spec.ar_lags]
    names += [f"ma.L{j}" for j in spec.ma_lags]
    names += [f"ar.S.L{j * spec.s}" for j in spec.sar_lags]
    names += [f"ma.S.L{j * spec.s}" for j in spec.sma_lags]
    return names


def _trend_names(trend: str) -> list[str]:
    return (["const"] if "c" in trend else []) + (["drift"] if "t" in trend else [])


# ---------------------------------------------------------------------------------------
# Inputs: arrays, lists of arrays (ragged), long DataFrames
# ---------------------------------------------------------------------------------------
def _check_series(x: NDArray[np.float64], label: str) -> None:
    bad = first_nonfinite(x)
    if bad is not None:
        raise ValueError(f"{label} must be finite, got {x[bad]} at index {bad[-1]} (drop or fill missing values first)")


def _one_series(g: pd.DataFrame, uid: Any) -> pd.DataFrame:
    """The rows of series ``uid`` of a long frame in time order; its ``ds`` must be unique."""
    g = g.sort_values("ds")
    if g["ds"].duplicated().any():
        dup = g["ds"][g["ds"].duplicated()].iloc[:3].tolist()
        raise ValueError(f"ds must be unique within a series, got repeated {dup} in unique_id={uid!r}")
    return g


def _panel_from_long(df: pd.DataFrame) -> tuple[list[Any], list[NDArray[np.float64]], list[Any]]:
    missing = [c for c in ("unique_id", "ds", "y") if c not in df.columns]
    if missing:
        raise ValueError(f"a long DataFrame needs columns 'unique_id', 'ds', 'y'; missing {missing}")
    df = _parse_long(df)
    ids, series, stamps = [], [], []
    for uid, g in df.groupby("unique_id", sort=True, observed=True):  # not unused categories
        g = _one_series(g, uid)
        vals = as_float_array(g["y"].to_numpy(), "y", ndim=1, keep_float32=False)
        _check_series(vals, f"y of unique_id={uid!r}")
        ids.append(uid)
        series.append(np.asarray(vals, dtype=np.float64))
        stamps.append(g["ds"].to_numpy())
    return ids, series, stamps


def _parse_ds(ds: pd.Series) -> pd.Series:
    """Time stamps of a long panel: numbers and datetimes as they are, strings parsed as
    ISO 8601 dates (``2020-01-02``); other strings are refused, since ``01/02/2020`` is
    2 January or 1 February depending on the convention, and sorting them as text
    scrambles the series."""
    if pd.api.types.is_object_dtype(ds.dtype) or pd.api.types.is_string_dtype(ds.dtype):
        if not all(isinstance(v, str) for v in ds.iloc[:1000]):
            return ds
        try:
            return pd.to_datetime(ds, format="ISO8601")
        except (ValueError, TypeError):
            first = ds.iloc[0]
            raise ValueError(
                f"ds holds strings that are not ISO 8601 dates (first: {first!r}); a date such as '01/02/2020' "
                "is ambiguous (2 January or 1 February): convert ds first, e.g. "
                "df['ds'] = pd.to_datetime(df['ds'], format='%m/%d/%Y')"
            ) from None
    return ds


def _parse_long(df: pd.DataFrame, what: str = "y") -> pd.DataFrame:
    """The long frame ``df`` (``what``, for messages) with its ``ds`` parsed by
    :func:`_parse_ds`: the one place a long frame's time stamps are read, so that every
    use sorts by the same dates. A ValueError for rows without a ``unique_id`` (groupby
    would drop them) or without a ``ds`` (NaT would be sorted last, out of time order)."""
    missing_id = df["unique_id"].isna()
    if missing_id.any():
        raise ValueError(f"unique_id of {what} is missing (NaN or None) in {int(missing_id.sum())} row(s); every row "
                         "needs the unique_id of its series")
    if "ds" not in df.columns:
        return df
    df = df.assign(ds=_parse_ds(df["ds"]))
    missing_ds = df["ds"].isna()
    if missing_ds.any():
        uid = df.loc[missing_ds, "unique_id"].iloc[0]
        raise ValueError(f"ds of {what} is missing (NaT or NaN) in {int(missing_ds.sum())} row(s), the first of "
                         f"unique_id={uid!r}; drop or fill them")
    return df


def _long_exog(df: pd.DataFrame, ids: list[Any], what: str = "y", steps: int | None = None) -> tuple[NDArray[np.float64], list[str]] | None:
    """The regressors of a long DataFrame: its columns other than ``unique_id``, ``ds``
    and ``y``, as ``(k, n, m)`` in the order of ``ids`` (each series sorted by its parsed
    ``ds``, as ``y``: :func:`_parse_long`), or None without such columns. ``steps``: every
    series must have that many rows."""
    names = [str(c) for c in df.columns if c not in ("unique_id", "ds", "y")]
    if not names:
        return None
    df = _parse_long(df, what)
    groups = dict(tuple(df.groupby("unique_id", sort=False, observed=True)))  # not unused categories
    unknown = [u for u in groups if u not in set(ids)]
    if unknown:
        raise ValueError(f"{what} has unique_id values the model was not fitted to: {unknown[:10]}")
    blocks = []
    for uid in ids:
        if uid not in groups:
            raise ValueError(f"{what} has no rows for unique_id={uid!r}")
        g = _one_series(groups[uid], uid) if "ds" in df.columns else groups[uid]
        if steps is not None and len(g) != steps:
            raise ValueError(f"{what} must have {steps} rows for each series, got {len(g)} for unique_id={uid!r}")
        vals = as_float_array(g[names].to_numpy(), f"the exog columns {names} of {what}", ndim=2, keep_float32=False, finite=True)
        blocks.append(np.asarray(vals, np.float64))
    if len({b.shape[0] for b in blocks}) > 1:
        raise ValueError(f"exog columns {names} need series of equal length, got lengths {sorted({b.shape[0] for b in blocks})[:10]}")
    return np.ascontiguousarray(np.stack(blocks)), names  # pandas blocks are column-major


def _as_panel(y: Any) -> tuple[list[NDArray[np.float64]], list[Any] | None, list[Any] | None, bool]:
    """(series, ids, timestamps, single) from any accepted input."""
    if isinstance(y, pd.DataFrame):
        ids, series, stamps = _panel_from_long(y)
        return series, ids, stamps, False
    if isinstance(y, pd.Series):
        check_time_index(y.index, "y")
        vals = as_float_array(y.to_numpy(), "y", ndim=1, keep_float32=False)
        _check_series(vals, "y")
        return [np.asarray(vals, np.float64)], None, None, True
    if isinstance(y, (list, tuple)) and len(y) and all(np.ndim(v) == 1 and np.size(v) > 1 for v in y):
        out = []
        for i, v in enumerate(y):
            a = np.asarray(as_float_array(v, f"y[{i}]", ndim=1, keep_float32=False), np.float64)
            _check_series(a, f"y[{i}]")
            out.append(a)
        return out, None, None, False
    arr = as_float_array(y, "y", ndim=(1, 2), keep_float32=False).astype(np.float64, copy=False)
    bad = first_nonfinite(arr)
    if bad is not None:
        where = f"index {bad[0]}" if arr.ndim == 1 else f"row {bad[0]}, index {bad[1]}"
        raise ValueError(f"y must be finite, got {arr[bad]} at {where} (drop or fill missing values first)")
    if arr.ndim == 1:
        return [arr], None, None, True
    return list(arr), None, None, False


def _as_long(data: Any, name: str = "data") -> Any:
    """A long panel held in the index, as a long DataFrame: a (``unique_id``, ``ds``)
    MultiIndex, or ``unique_id`` as the index (statsforecast's layout before 1.0). Other
    MultiIndexes, and frames with ``ds`` and ``y`` columns but no ``unique_id``, are refused:
    read as wide frames they glued the panel's series into one, forecast at positions."""
    if not isinstance(data, (pd.Series, pd.DataFrame)):
        return data
    if isinstance(data.index, pd.MultiIndex):
        if sorted(map(str, data.index.names)) != ["ds", "unique_id"]:
            raise ValueError(f"{name} has a MultiIndex with levels {list(data.index.names)}: a panel is a long DataFrame "
                             "with columns 'unique_id', 'ds', 'y' (or indexed by the two levels 'unique_id' and 'ds')")
        if isinstance(data, pd.Series):
            data = data.rename("y").to_frame()
        if "y" not in data.columns:
            raise ValueError(f"a DataFrame indexed by 'unique_id' and 'ds' needs a column 'y', got {list(data.columns)}")
        return data.reset_index()
    if isinstance(data, pd.DataFrame) and "unique_id" not in data.columns:
        if data.index.name == "unique_id":
            return data.reset_index()
        if "ds" in data.columns and "y" in data.columns:
            raise ValueError(f"{name} has columns 'ds' and 'y' but no 'unique_id': a long DataFrame needs all three "
                             "(a wide DataFrame has one column per series, the dates in its index)")
    return data


def _regressors(trend: str, exog: Any, n: int, k_series: int, offset: int = 1) -> NDArray[np.float64]:
    """Trend columns then exog: ``(n, m)`` shared or ``(k, n, m)`` per series."""
    D = _ep.trend_matrix(trend, n, offset)
    if exog is None:
        return D
    ex = as_float_array(exog, "exog", ndim=(1, 2, 3), keep_float32=False).astype(np.float64)
    if ex.ndim == 1:
        ex = ex[:, None]
    if ex.ndim == 2:
        if ex.shape[0] != n:
            raise ValueError(f"exog must have one row per observation ({n}), got shape {ex.shape}")
        return np.column_stack([D, ex])
    if ex.shape[:2] != (k_series, n):
        raise ValueError(f"3-D exog must have shape ({k_series}, {n}, m), got {ex.shape}")
    return np.concatenate([np.broadcast_to(D, (k_series, *D.shape)), ex], axis=2)


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FitResult:
    """Estimation results of one series: what a fitted :class:`tsconv.ARIMA` carries.

    Attributes
    ----------
    params : pandas.Series
        Estimates in statsmodels' order and naming (``const``/``drift``, exog ``x1..``,
        ``ar.L1``, ``ma.L1``, ``ar.S.L12``, ``ma.S.L12``).
    cov : numpy.ndarray
        Covariance matrix of the estimates, ``(k + 1, k + 1)`` over ``params`` and
        ``sigma2`` (last), read-only (see :func:`tsconv.fit_arima`, Notes);
        :meth:`cov_params` labels it.
    bse : pandas.Series
        Standard errors ``sqrt(diag(cov))``, with ``sigma2`` last.
    llf, aic, aicc, bic, sigma2 : float
    nobs : int
        Number of observations of the series.
    nobs_effective : int
        Observations in the likelihood (``nobs - d - s*D``; for CSS ``nobs`` minus the
        ``d + s*D + p + s*P`` conditioned on; for OLS ``nobs - p``).
    method : str
    converged : bool
    iterations : int
    title : str

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import fit_arima
    >>> from tsconv.datasets import load
    >>> res = fit_arima(np.log(load("airline")), (0, 1, 1), (0, 1, 1, 12)).fit_result
    >>> res.conf_int().round(3)
                  0      1
    ma.L1    -0.578 -0.226
    ma.S.L12 -0.700 -0.414
    """

    params: pd.Series
    cov: NDArray[np.float64]
    llf: float
    aic: float
    aicc: float
    bic: float
    sigma2: float
    nobs: int
    nobs_effective: int
    method: str
    converged: bool
    iterations: int
    title: str = ""

    def __post_init__(self) -> None:
        k = len(self.params) + 1
        cov = np.array(self.cov, dtype=np.float64)  # the result's own copy
        if cov.shape != (k, k):
            raise ValueError(f"cov must have shape ({k}, {k}) (params and sigma2), got {cov.shape}")
        cov.flags.writeable = False
        object.__setattr__(self, "cov", cov)

    def __repr__(self) -> str:
        return f"FitResult(method={self.method!r}, llf={self.llf:.6g}, converged={self.converged})"

    @property
    def _cov_names(self) -> list[Any]:
        return [*self.params.index, "sigma2"]

    @property
    def bse(self) -> pd.Series:
        """Standard errors ``sqrt(diag(cov))``, with ``sigma2`` last."""
        with np.errstate(invalid="ignore"):
            return pd.Series(np.sqrt(np.diag(self.cov)), index=self._cov_names, name="bse")

    @property
    def tvalues(self) -> pd.Series:
        """``params / bse`` (z statistics; statsmodels' ``tvalues``)."""
        return self.params / self.bse.reindex(self.params.index)

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided normal p-values of ``tvalues`` (statsmodels' ``pvalues``)."""
        z = self.tvalues
        return pd.Series(2 * scipy.stats.norm.sf(np.abs(z.to_numpy())), index=z.index, name="pvalues")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals ``params -/+ z_(1-alpha/2) bse``: columns 0 and 1, as statsmodels."""
        if not is_real(alpha) or not 0 < alpha < 1:
            raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
        z = scipy.stats.norm.ppf(1 - alpha / 2)
        bse = self.bse.reindex(self.params.index)
        return pd.DataFrame({0: self.params - z * bse, 1: self.params + z * bse})

    def cov_params(self) -> pd.DataFrame:
        """Covariance matrix of the estimates, labelled by parameter on both axes, ``sigma2``
        last (statsmodels' ``cov_params()``, whose parameters include ``sigma2``); how it is
        computed for each method: :func:`tsconv.fit_arima`, Notes.

        Examples
        --------
        >>> import numpy as np
        >>> from tsconv import fit_arima
        >>> from tsconv.datasets import load
        >>> fit = fit_arima(np.log(load("airline")), (0, 1, 1), (0, 1, 1, 12))
        >>> (fit.fit_result.cov_params().loc[["ma.L1", "ma.S.L12"], ["ma.L1", "ma.S.L12"]] * 1e3).round(2)
                  ma.L1  ma.S.L12
        ma.L1      8.04     -0.73
        ma.S.L12  -0.73      5.34
        """
        names = self._cov_names
        return pd.DataFrame(self.cov.copy(), index=names, columns=names)

    def summary(self) -> str:
        """A text table of estimates, standard errors, z statistics, p-values and 95% intervals."""
        bse = self.bse.reindex(self.params.index)
        z = self.tvalues
        pv = self.pvalues
        ci = self.conf_int()
        lines = [
            f"{self.title}",
            f"method: {self.method}   nobs: {self.nobs}   converged: {self.converged}",
            f"log-likelihood: {self.llf:.4f}   AIC: {self.aic:.4f}   AICc: {self.aicc:.4f}   BIC: {self.bic:.4f}",
            f"sigma^2: {self.sigma2:.6g}",
            "",
            f"{'':12s}{'coef':>12s}{'std err':>12s}{'z':>9s}{'P>|z|':>9s}{'[0.025':>11s}{'0.975]':>11s}",
        ]
        for name in self.params.index:
            lines.append(f"{name:12s}{self.params[name]:12.4f}{bse[name]:12.4f}{z[name]:9.3f}{pv[name]:9.3f}"
                         f"{ci.loc[name, 0]:11.4f}{ci.loc[name, 1]:11.4f}")
        return "\n".join(lines)


def _ic(llf: NDArray[np.float64], n_eff: NDArray[np.float64], k: int) -> tuple[Any, Any, Any]:
    """AIC, AICc and BIC with ``k`` estimated parameters (``sigma2`` included), as
    statsmodels' ``eval_measures`` over ``nobs_effective``."""
    aic = -2 * llf + 2 * k
    with np.errstate(divide="ignore", invalid="ignore"):
        aicc = np.where(n_eff - k - 1 > 0, aic + 2 * k * (k + 1) / (n_eff - k - 1), np.inf)
    bic = -2 * llf + np.log(n_eff) * k
    return aic, aicc, bic


@dataclass(frozen=True, eq=False)
class ARIMABatch:
    """Many series fitted with one SARIMA order, each with its own coefficients.

    Returned by :func:`fit_arima` for 2-D arrays, lists of series and long DataFrames.
    Holds per-series arrays (``params`` ``(k, n_params)``, ``sigma2``, ``llf``, ``aic``,
    ``aicc``, ``bic``, ``nobs``, ``converged``); ``batch[i]`` is the fitted
    :class:`tsconv.ARIMA` of series ``i`` (or of ``unique_id`` ``i`` for DataFrame input).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import fit_arima
    >>> rng = np.random.default_rng(0)
    >>> y = np.zeros((3, 300))
    >>> e = rng.standard_normal((3, 300))
    >>> for t in range(1, 300):
    ...     y[:, t] = 0.6 * y[:, t - 1] + e[:, t]
    >>> batch = fit_arima(y, order=(1, 0, 0), method="yule-walker")
    >>> batch.params.shape
    (3, 1)
    >>> fc = batch.forecast(4)
    >>> fc.mean.shape
    (3, 4)
    """

    series: list[NDArray[np.float64]]
    _ids: list[Any] | None
    _stamps: list[Any] | None
    spec: _ep.Spec
    order: tuple[Any, ...]
    seasonal_order: tuple[Any, ...]
    trend: str
    exog: NDArray[np.float64] | None
    method: str
    params: NDArray[np.float64]
    param_names: list[str]
    sigma2: NDArray[np.float64]
    llf: NDArray[np.float64]
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]
    nobs: NDArray[np.int64]
    nobs_effective: NDArray[np.float64]
    _cov: NDArray[np.float64] | None = None
    _lambdas: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        # the estimates are the batch's own arrays (the data may be the caller's: left alone)
        for key in ("params", "sigma2", "llf", "converged", "iterations", "nobs", "nobs_effective", "_cov", "_lambdas"):
            value = getattr(self, key)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def boxcox(self) -> NDArray[np.float64] | None:
        """The Box-Cox lambda of each series (None without a transform)."""
        return None if self._lambdas is None else self._lambdas.copy()

    # -- containers -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.series)

    @property
    def ids(self) -> list[Any]:
        """Series labels: the ``unique_id`` values, or ``0..k-1``."""
        return list(self._ids) if self._ids is not None else list(range(len(self)))

    def _row(self, key: Any) -> int:
        if self._ids is not None:
            try:
                return self._ids.index(key)
            except ValueError:
                raise KeyError(f"no series with unique_id {key!r}") from None
        i = as_int(key, "index")
        if not -len(self) <= i < len(self):
            raise IndexError(f"series index {i} out of range for {len(self)} series")
        return i % len(self)

    def __getitem__(self, key: Any) -> Any:
        return self.model(key)

    def __repr__(self) -> str:
        return (
            f"ARIMABatch({len(self)} series, order={self.order!r}, seasonal_order={self.seasonal_order!r}, "
            f"method={self.method!r}, converged={int(np.sum(self.converged))}/{len(self)})"
        )

    @property
    def aic(self) -> NDArray[np.float64]:
        return _ic(self.llf, self.nobs_effective, self.spec.n_params + 1)[0]

    @property
    def aicc(self) -> NDArray[np.float64]:
        return _ic(self.llf, self.nobs_effective, self.spec.n_params + 1)[1]

    @property
    def bic(self) -> NDArray[np.float64]:
        return _ic(self.llf, self.nobs_effective, self.spec.n_params + 1)[2]

    def cov_params(self) -> NDArray[np.float64]:
        """Covariance matrices of the estimates, ``(k, n_params + 1, n_params + 1)`` over
        ``param_names`` and ``sigma2`` (last), one per series (read-only; computed on first
        use, see :func:`tsconv.fit_arima`, Notes); ``batch.result(i).cov_params()`` is the
        labelled matrix of one series."""
        cov = self._cov
        if cov is None:
            cov = _covariances(self)
            cov.flags.writeable = False
            object.__setattr__(self, "_cov", cov)  # a cache of a pure function of the fit
        return cov

    @property
    def bse(self) -> NDArray[np.float64]:
        """Standard errors ``(k, n_params + 1)`` (``sigma2`` last): the square roots of the
        diagonals of :meth:`cov_params`."""
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.einsum("kii->ki", self.cov_params()))

    def to_frame(self) -> pd.DataFrame:
        """One row per series: parameters, ``sigma2``, ``llf``, ``aic``, ``aicc``, ``bic``,
        ``nobs``, ``converged``."""
        df = pd.DataFrame(self.params, columns=self.param_names, index=pd.Index(self.ids, name="unique_id"))
        df["sigma2"] = self.sigma2
        df["llf"] = self.llf
        df["aic"], df["aicc"], df["bic"] = self.aic, self.aicc, self.bic
        df["nobs"] = self.nobs
        df["converged"] = self.converged
        return df

    # -- one model ---------------------------------------------------------------------------
    def result(self, key: Any) -> FitResult:
        """The :class:`~tsconv.estimate.FitResult` of one series."""
        return self._result_at(self._row(key))

    def _result_at(self, i: int) -> FitResult:
        names = self.param_names
        aic, aicc, bic = (float(v[i]) for v in (self.aic, self.aicc, self.bic))
        return FitResult(
            params=pd.Series(self.params[i], index=names, name="params"),
            cov=self.cov_params()[i],
            llf=float(self.llf[i]),
            aic=aic,
            aicc=aicc,
            bic=bic,
            sigma2=float(self.sigma2[i]),
            nobs=int(self.nobs[i]),
            nobs_effective=int(self.nobs_effective[i]),
            method=self.method,
            converged=bool(self.converged[i]),
            iterations=int(self.iterations[i]),
            title=f"SARIMA{self.order}x{self.seasonal_order} trend={self.trend!r}",
        )

    def model(self, key: Any) -> Any:
        """The fitted :class:`tsconv.ARIMA` of one series (with ``fit_result``)."""
        i = self._row(key)
        return _make_model(self, i)

    # -- forecasting ----------------------------------------------------------------------
    def forecast(self, h: Any = None, exog_future: ArrayLike | None = None, *, level: Any = (95,), freq: Any = None,
                 **old: Any) -> BatchForecast:
        """Forecast every series ``h`` steps ahead with its own coefficients, with intervals.

        Parameters
        ----------
        h : int
            Horizon, >= 1.
        exog_future : array_like or pandas.DataFrame, optional
            Future regressors, ``(h, m)`` shared or ``(k, h, m)``; required when the
            model has exog. A model fitted to a long DataFrame takes a long DataFrame
            here too: ``unique_id``, optionally ``ds``, and the regressor columns, ``h``
            rows per series.
        level : float or sequence of float, default (95,)
            Coverage of the central (Gaussian) prediction intervals, in percent.
        freq : str, pandas offset or number, optional
            Spacing of the future ``ds``: an offset for datetime stamps (time zone aware
            ones too; the first future date is the first of its grid after the last
            one), a positive number for numeric ones. Default: inferred per series from
            all its dates, some periods may be missing (a gap month), else the spacing
            of its stamps when constant; dates without either (monthly on the 15th,
            irregular) raise a ValueError naming the series and asking for ``freq``.

        Returns
        -------
        BatchForecast
            ``mean``, ``se`` and the bounds ``(k, h)``; ``to_frame()`` is the long frame
            ``unique_id``, ``ds``, ``mean``, ``lo-95``, ``hi-95``, the ``ds`` continuing
            each series' time stamps (step numbers ``1..h`` for arrays).

        Notes
        -----
        The mean continues ``ar_total(B) (y_t - mu_t) = ma(B) e_t`` past the sample with
        future shocks zero and past shocks the exact innovations; the standard error is
        ``sqrt(sigma2 * cumsum(psi**2))`` with psi the MA(inf) weights of
        ``ma / ar_total`` (differencing included).
        """
        reject_old_keywords("forecast", old)
        if h is None:
            raise TypeError("forecast() needs the horizon h: forecast(h, level=(95,))")
        h = as_int(h, "h", minimum=1)
        levels = check_level(level)
        n_ex = 0 if self.exog is None else np.asarray(self.exog).shape[-1]
        if n_ex and isinstance(exog_future, pd.DataFrame) and "unique_id" in exog_future.columns:
            if self._ids is None:
                raise TypeError("a long exog_future DataFrame needs a model fitted to a long DataFrame; pass arrays")
            wanted = self.param_names[self.spec.n_reg - n_ex : self.spec.n_reg]
            missing = [c for c in wanted if c not in exog_future.columns]
            if missing:
                raise ValueError(f"exog_future lacks the regressor columns {missing} (has {list(exog_future.columns)})")
            keep = ["unique_id", *(["ds"] if "ds" in exog_future.columns else []), *wanted]
            dated = _parse_long(exog_future, "exog_future")
            if "ds" in dated.columns and self._stamps is not None:
                given = dict(tuple(dated.groupby("unique_id", sort=False, observed=True)))
                for uid, st in zip(self._ids, self._stamps):
                    if uid in given and len(given[uid]) == h:
                        got = given[uid]["ds"].sort_values().to_numpy()
                        _check_next_stamps(got, st, _future_stamps(st, h, freq, uid), "exog_future", uid)
            found = _long_exog(dated[keep], list(self._ids), "exog_future", h)
            assert found is not None
            exog_future = found[0]
        mean, se = _batch_forecast(self, h, exog_future)
        ds = [_future_stamps(st, h, freq, uid) for uid, st in zip(self.ids, self._stamps)] if self._stamps is not None else None
        bounds = gaussian_bounds(mean, se, levels)
        if self._lambdas is not None:
            lam = self._lambdas[:, None]
            mean = _boxcox.inverse(mean, lam)
            bounds = {v: (_boxcox.inverse(lo, lam), _boxcox.inverse(hi, lam)) for v, (lo, hi) in bounds.items()}
        return BatchForecast(mean, se, levels, bounds, ids=self.ids, ds=ds,
                             model=model_label(self.order, self.seasonal_order), history=self._histories())

    def _originals(self) -> list[NDArray[np.float64]]:
        if self._lambdas is None:
            return list(self.series)
        return [_boxcox.inverse(v, lam) for v, lam in zip(self.series, self._lambdas)]

    def _histories(self) -> list[pd.Series]:
        ids = self.ids
        if self._stamps is None:
            return [pd.Series(v, name=ids[i]) for i, v in enumerate(self._originals())]
        return [pd.Series(v, index=pd.Index(st, name="ds"), name=ids[i]) for i, (v, st) in enumerate(zip(self._originals(), self._stamps))]

    def summary(self) -> pd.DataFrame:
        """The panel as a table: one row per series with parameters, standard errors
        (``se(...)``), ``sigma2``, ``llf``, ``aic``, ``aicc``, ``bic``, ``nobs``, ``converged``."""
        df = self.to_frame()
        bse = pd.DataFrame(self.bse[:, : len(self.param_names)], columns=[f"se({c})" for c in self.param_names], index=df.index)
        cols = [c for pair in zip(self.param_names, bse.columns) for c in pair]
        return pd.concat([df, bse], axis=1)[cols + ["sigma2", "llf", "aic", "aicc", "bic", "nobs", "converged"]]

    # -- files ----------------------------------------------------------------------------
    def save(self, path: Any) -> None:
        """Write the fitted panel to ``path``: data, time stamps, estimates and their
        covariance matrices.

        The format (``tsconv-model``, version 2) is a ZIP archive of a JSON manifest and
        ``.npy`` arrays, read without pickle; the write is atomic (temporary file, then
        ``os.replace``). :meth:`load` gives back a panel that forecasts bit-identically,
        with the identical :meth:`cov_params`.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from tsconv import ARIMABatch, fit_arima
        >>> y = np.random.default_rng(0).standard_normal((3, 100)).cumsum(axis=1)
        >>> b = fit_arima(y, (1, 1, 0))
        >>> path = os.path.join(tempfile.mkdtemp(), "panel.tsconv")
        >>> b.save(path)
        >>> np.array_equal(ARIMABatch.load(path).forecast(5).mean, b.forecast(5).mean)
        True
        """
        stamps, stamps_tz = None, None
        if self._stamps is not None:
            stamps = np.concatenate([np.asarray(st) for st in self._stamps])
            if stamps.dtype.hasobject:  # time zone aware dates: stored in UTC with their zone's name
                dates = _as_dates(stamps)
                if dates is None or dates.tz is None:
                    raise TypeError("cannot save time stamps of dtype object: use numbers or datetimes for ds")
                stamps_tz = str(dates.tz)
                try:
                    same = dates.tz_convert(stamps_tz).equals(dates)
                except (TypeError, ValueError, KeyError):
                    same = False
                if not same:
                    raise TypeError(f"cannot save ds in the time zone {stamps_tz!r}: it would not read back; convert "
                                    "ds to a named zone (e.g. 'UTC') first")
                stamps = dates.tz_convert("UTC").tz_localize(None).to_numpy()
        manifest = {
            "order": _persist.jsonable(list(self.order)), "seasonal_order": _persist.jsonable(list(self.seasonal_order)),
            "trend": self.trend, "method": self.method, "param_names": list(self.param_names),
            "ids": None if self._ids is None else _persist.jsonable(list(self._ids)),
        }
        if stamps_tz is not None:
            manifest["stamps_tz"] = stamps_tz
        arrays: dict[str, Any] = {
            "series": np.concatenate(self.series), "nobs": np.asarray(self.nobs, np.int64),
            "params": self.params, "sigma2": self.sigma2, "llf": self.llf, "converged": np.asarray(self.converged, bool),
            "iterations": np.asarray(self.iterations, np.int64), "nobs_effective": np.asarray(self.nobs_effective),
            "cov": self.cov_params(),
        }
        if self.exog is not None:
            arrays["exog"] = self.exog
        if self._lambdas is not None:
            arrays["boxcox"] = self._lambdas
        if stamps is not None:
            arrays["stamps"] = stamps
        _persist.write_model(path, "batch", manifest, arrays)

    @classmethod
    def load(cls, path: Any) -> ARIMABatch:
        """Read a panel written by :meth:`save`.

        Files of format version 1 (which kept the standard errors only) are read too:
        their :meth:`cov_params` is ``diag(bse**2)``, without covariances, and loading one
        warns with :class:`~tsconv.estimate.DiagonalCovarianceWarning`.

        Raises
        ------
        ModelFileError
            A missing, truncated, edited or foreign file, or a version other than 1 or 2.
        """
        man, arr = _persist.read_model(path, "batch")
        try:
            order, sorder = tuple(man["order"]), tuple(man["seasonal_order"])
            ar, d, ma, sar, D, sma, s = _parse_orders(order, sorder)
            exog = arr.get("exog")
            n_ex = 0 if exog is None else (1 if exog.ndim == 1 else exog.shape[-1])
            spec = _ep.Spec(ar, d, ma, sar, D, sma, s, len(_trend_names(man["trend"])) + n_ex)
            nobs = arr["nobs"]
            cuts = np.cumsum(nobs)[:-1]
            series = [np.array(v) for v in np.split(arr["series"], cuts)]
            stamps = None if "stamps" not in arr else [np.array(v) for v in np.split(arr["stamps"], cuts)]
            if stamps is not None and man.get("stamps_tz") is not None:  # aware dates, as fit_arima keeps them
                stamps = [pd.DatetimeIndex(v).tz_localize("UTC").tz_convert(man["stamps_tz"]).to_numpy() for v in stamps]
            if arr["params"].shape != (len(series), spec.n_params):
                raise ValueError(f"params have shape {arr['params'].shape}, expected {(len(series), spec.n_params)}")
            cov = _persist.covariance(man, arr, path)
            if cov.shape != (len(series), spec.n_params + 1, spec.n_params + 1):
                raise ValueError(f"cov has shape {cov.shape}, expected {(len(series), spec.n_params + 1, spec.n_params + 1)}")
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelFileError(f"{path!r}: inconsistent model file ({exc})") from exc
        return cls(
            series=series, _ids=None if man["ids"] is None else [_persist.label_from_json(u) for u in man["ids"]], _stamps=stamps, spec=spec, order=order, seasonal_order=sorder,
            trend=man["trend"], exog=exog, method=man["method"], params=arr["params"], param_names=list(man["param_names"]),
            sigma2=arr["sigma2"], llf=arr["llf"], converged=arr["converged"], iterations=arr["iterations"], nobs=nobs,
            nobs_effective=arr["nobs_effective"], _cov=cov, _lambdas=arr.get("boxcox"),
        )


def _as_dates(ds: Any) -> pd.DatetimeIndex | None:
    """``ds`` as a DatetimeIndex when it holds dates: datetime64 values, or the
    ``Timestamp`` objects (an object array) that time zone aware stamps become; else None."""
    if isinstance(ds, pd.DatetimeIndex):
        return ds
    arr = np.asarray(ds)
    if np.issubdtype(arr.dtype, np.datetime64):
        return pd.DatetimeIndex(arr)
    if arr.dtype == object and arr.size and all(isinstance(v, pd.Timestamp) for v in arr):
        try:
            return pd.DatetimeIndex(arr)  # one time zone: an aware index; mixed zones: refused
        except (TypeError, ValueError):
            return None
    return None


def _check_next_stamps(got: Any, stamps: Any, want: list[Any], what: str, uid: Any) -> None:
    """The time stamps ``got`` that ``what`` gives for the next steps of series ``uid``
    (time stamps ``stamps``) must be those steps: ``want`` (:func:`_future_stamps`) when
    the series' dates have a frequency, else stamps after its last one. Future regressors
    are used in time order, so shifted ones would be used silently."""
    dates = _as_dates(stamps)
    if dates is not None and _date_freq(dates) is not None:
        if not pd.DatetimeIndex(got).equals(pd.DatetimeIndex(want)):
            raise ValueError(f"{what} must hold the {len(want)} dates after unique_id={uid!r} ends ({want[0]} ... "
                             f"{want[-1]}), got {got[0]} ... {got[-1]}")
    elif not got[0] > stamps[-1]:
        raise ValueError(f"{what}'s ds of unique_id={uid!r} must come after its last time stamp {stamps[-1]}, "
                         f"got {got[0]} first")


def _future_stamps(ds: Any, h: int, freq: Any = None, uid: Any = None) -> list[Any]:
    """The ``h`` stamps after the stamps ``ds`` of a panel's series ``uid``.

    Dates: :func:`tsconv.arima._future_dates` (the one rule of a Series' index too), some
    periods may be missing (a gap month); a ValueError naming ``uid`` asks for ``freq``
    when the frequency cannot be inferred and the spacing is not constant. Numbers
    continue with the step ``freq`` (a positive number), else with the spacing of the last two.
    """
    dates = _as_dates(ds)
    if dates is not None:
        return list(_future_dates(dates, h, freq, where="" if uid is None else f" of unique_id={uid!r}"))
    arr = np.asarray(ds)
    if not len(arr):
        return list(range(1, h + 1))
    if freq is not None and not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"freq is the spacing of dates; time stamps of dtype {arr.dtype} take none, got {freq!r}")
    return _next_numbers(arr, h, freq)


# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------
def _min_obs(spec: _ep.Spec, method: str) -> int:
    """Observations needed: the conditioning ones plus one residual per parameter and one more."""
    return spec.n_cond + spec.n_params + 2 if method not in ("yule-walker", "burg") else spec.p + 2


def fit_arima(
    y: Any,
    order: tuple[Any, int, Any],
    seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
    trend: Trend = "n",
    exog: ArrayLike | None = None,
    method: Method = "css-ml",
    *,
    maxiter: int = 100,
    boxcox: Any = None,
    sort: bool = False,
) -> Any:
    """Estimate a (seasonal) ARIMA model for one series or for every series of a panel.

    Parameters
    ----------
    y : array_like, pandas.Series, list of 1-D arrays or pandas.DataFrame
        One series (1-D), many series of equal length (2-D, one per row), series of
        different lengths (a list), or a long DataFrame with columns ``unique_id``,
        ``ds`` and ``y`` (any other columns are the regressors: see ``exog``). Values
        must be finite.
    order : tuple (p, d, q)
        ``p`` and ``q`` non-negative integers or lists of lags (``(1, 1, [1, 4])``).
    seasonal_order : tuple (P, D, Q, s), default (0, 0, 0, 0)
        Seasonal orders and the period ``s >= 2`` (when any of P, D, Q is non-zero).
    trend : {'n', 'c', 't', 'ct'}, default 'n'
        Deterministic terms of the regression with ARIMA errors (statsmodels' ``ARIMA``
        meaning): ``'c'`` a mean (only without differencing), ``'t'`` a linear time
        trend counted 1, 2, ... (the drift of a once-differenced series). For
        ``method='ols'`` the terms are those of ``AutoReg`` (an intercept).
    exog : array_like, optional
        Regressors ``(n, m)`` (shared by every series) or ``(k, n, m)``. With a long
        DataFrame, leave it None: the DataFrame's own columns other than ``unique_id``,
        ``ds`` and ``y`` are the regressors (series of equal length), named after them.
    method : {'css-ml', 'ml', 'css', 'yule-walker', 'burg', 'ols'}, default 'css-ml'
        ``'css'``: conditional sum of squares, R's ``arima(method="CSS")``;
        ``'css-ml'``: exact maximum likelihood started from the CSS estimates (R's
        default); ``'ml'``: exact maximum likelihood started from zero ARMA
        coefficients and the OLS regression (R's ``method="ML"``); ``'yule-walker'``,
        ``'burg'``, ``'ols'``: pure AR (``q = Q = P = 0``) as statsmodels'
        ``yule_walker`` (``method='adjusted'``), ``burg`` and ``AutoReg``.
    maxiter : int, default 100
        Iterations of the least-squares optimizer per stage.
    sort : bool, default False
        Sort a Series by its index first; by default an index that is not increasing is
        refused (a ValueError), as is one with repeated values.
    boxcox : float, 'auto' or None, default None
        Fit the model to the Box-Cox transform ``(y**lam - 1) / lam`` (``log y`` for 0) of
        each (strictly positive) series. ``'auto'`` chooses ``lam`` per series by
        Guerrero's method over ``[-1, 2]`` with subseries of the seasonal period (2
        without one), as R's ``forecast::BoxCox.lambda``. Forecasts are back-transformed:
        the mean becomes the median of the forecast distribution and the interval bounds
        are the transformed bounds (R's ``forecast(..., lambda=, biasadj=FALSE)``);
        ``se``, ``resid`` and the estimates are on the transformed scale.

    Returns
    -------
    ARIMA or ARIMABatch
        For one series, a fitted :class:`tsconv.ARIMA` whose ``fit_result`` (also
        reached as ``params``, ``bse``, ``llf``, ``aic``, ``aicc``, ``bic``, ``sigma2``,
        ``nobs``, ``method``, ``converged``, ``summary()``) holds the estimates; for
        many, an :class:`ARIMABatch`.

    Raises
    ------
    ValueError
        Orders that are not non-negative integers or lag lists, a seasonal model with
        ``s < 2``, too few observations for the order (the message says how many are
        needed), a constant series, NaN or infinity (the index is named), an AR-only
        method with MA or seasonal terms, or a trend term removed by differencing; a long
        DataFrame with rows whose ``unique_id`` or ``ds`` is missing (NaN, None, NaT).
    TypeError
        Non-numeric ``y``.

    Warns
    -----
    ConvergenceWarning
        When the optimizer stops before convergence for some series; those series
        have ``converged=False``.

    See Also
    --------
    select_order : choose the order by information criterion.
    tsconv.ARIMA : the model as kernels (filtering, forecasting).

    Notes
    -----
    Every row is fitted by one vectorized computation: the residual recursions run
    over time with every series' own coefficients at once, and a Levenberg-Marquardt
    solver with per-series damping and convergence tests minimizes a sum of squares
    per series (Jacobian by finite differences, central for CSS and forward for ML,
    all parameters in one stacked call). The CSS stage starts from Hannan-Rissanen
    estimates for non-seasonal ARMA models (zeros otherwise, as R); a pure AR CSS is
    the closed-form OLS with an intercept (the same minimizer).

    *CSS* minimizes ``sum e_t^2`` over ``t >= d + sD + p + sP``, where ``e`` follows
    ``phi(B) Phi(B^s) w_t = theta(B) Theta(B^s) e_t`` for the differenced, regression-
    corrected series ``w`` with zero pre-sample shocks; ``sigma2 = SSR / n_used`` and
    the "part" log-likelihood ``-n_used/2 (log(2 pi sigma2) + 1)`` (R, ``arima``).

    *ML* maximizes the exact Gaussian log-likelihood of ``w`` (stationary start),
    ``-1/2 sum(log(2 pi sigma2 F_t) + v_t^2 / (sigma2 F_t))`` over the innovations
    ``v_t`` and their relative variances ``F_t`` (Brockwell & Davis 1991, sec. 8.7),
    concentrated in ``sigma2``: the minimized sum of squares is
    ``sum (v_t / sqrt(F_t))^2 * (prod F_t)^(1/n)``. AR and MA blocks are optimized
    through the Monahan (1984) / Jones (1980) map (statsmodels'
    ``constrain_stationary_univariate``), so estimates are stationary and invertible.
    For ``d + D > 0`` this is R's ``arima`` likelihood and statsmodels'
    ``SARIMAX(simple_differencing=True)``; statsmodels' ``ARIMA`` default (an
    approximate diffuse start, ``kappa = 1e6``) differs by an amount that grows with
    the scale of the data (0.02 on the Nile ARIMA(1,1,1)).

    ``cov_params()`` (the full covariance matrix of the estimates and ``sigma2``, last;
    ``bse`` is the square root of its diagonal): for ML the inverse of the observed
    information of the exact log-likelihood in the coefficients and ``sigma2``, i.e. the
    central-difference Hessian of the profile log-likelihood bordered analytically by
    ``sigma2`` (statsmodels' ``cov_type='approx'``, which differentiates the full
    likelihood numerically); for CSS R's ``solve(n_used * hessian)`` of ``0.5 log SSR``
    for the coefficients and ``2 sigma2^2 / n_used`` for ``sigma2``, uncorrelated (the
    gradient of SSR vanishes at its minimum); for OLS AutoReg's ``sigma2 (X'X)^-1``. For
    Yule-Walker and Burg the analytic asymptotic covariance (Brockwell & Davis 1991,
    sec. 8.10): ``sigma2 Gamma_p^-1 / n`` for phi, ``sigma2 / (n phi(1)^2)`` for the
    mean, ``2 sigma2^2 / n`` for ``sigma2``, uncorrelated blocks; not a Hessian, because
    these estimates are not maximizers of the likelihood, so its Hessian there is not
    their covariance (and need not even be negative definite), while the asymptotic
    covariance of both is that of the ML estimates.

    AIC, AICc and BIC count every estimated parameter plus ``sigma2`` and use
    ``nobs_effective`` (statsmodels' convention).

    References
    ----------
    Brockwell, P. J. and Davis, R. A. (1991). *Time Series: Theory and Methods*, 2nd ed.
    Harvey, A. C. (1989). *Forecasting, Structural Time Series Models and the Kalman
    Filter*, sec. 3.4 (ARMA state space form).
    Monahan, J. F. (1984). A note on enforcing stationarity in autoregressive-moving
    average models. *Biometrika* 71, 403-404.

    Examples
    --------
    The airline model on log10 air passengers, as in R's ``?arima`` examples:

    >>> import numpy as np
    >>> from tsconv import fit_arima
    >>> from tsconv.datasets import load
    >>> y = np.log10(load("airline").to_numpy())
    >>> m = fit_arima(y, (0, 1, 1), (0, 1, 1, 12), method="css")
    >>> np.round(m.params.to_numpy(), 4)
    array([-0.3772, -0.5724])
    >>> round(m.sigma2, 7)
    0.0002619
    """
    method = check_option(method, Method, "method")
    trend = check_option(trend, Trend, "trend")
    maxiter = as_int(maxiter, "maxiter", minimum=1)
    ar, d, ma, sar, D, sma, s = _parse_orders(order, seasonal_order)
    if not isinstance(sort, bool):
        raise TypeError(f"sort must be True or False, got {sort!r}")
    y = _as_long(y, "y")
    if sort and isinstance(y, pd.Series):
        y = y.sort_index(kind="stable")
    series, ids, stamps, single = _as_panel(y)
    boxcox = _boxcox.check_boxcox(boxcox)
    lambdas = None
    if boxcox is not None:
        labels = ids if ids is not None else list(range(len(series)))
        lambdas = np.array([_boxcox.choose_lambda(v, boxcox, s, "y" if single else f"series {labels[i]!r}")
                            for i, v in enumerate(series)])
        originals = series
        series = [_boxcox.transform(v, lam) for v, lam in zip(series, lambdas)]
    exog_names = None
    if isinstance(y, pd.DataFrame):
        if exog is not None:
            raise TypeError("with a long DataFrame the regressors are its columns other than unique_id, ds and y; "
                            "do not pass exog too")
        assert ids is not None  # a long DataFrame has unique_id labels
        found = _long_exog(y, ids)
        if found is not None:
            exog, exog_names = found
    batch = _fit_panel(series, ids, stamps, (ar, d, ma), (sar, D, sma, s), trend, exog, method, maxiter,
                       tuple(order), tuple(seasonal_order), exog_names)
    if not np.all(batch.converged):
        bad = [batch.ids[i] for i in np.flatnonzero(~batch.converged)][:10]
        warnings.warn(
            f"the {method} optimizer did not converge for {int(np.sum(~batch.converged))} of {len(batch)} series "
            f"(first: {bad}); their estimates carry converged=False (try a larger maxiter)",
            ConvergenceWarning,
            stacklevel=2,
        )
    if lambdas is not None:
        lambdas.flags.writeable = False
        object.__setattr__(batch, "_lambdas", lambdas)
    if single:
        data = y if isinstance(y, pd.Series) else np.asarray(originals[0] if lambdas is not None else series[0])
        return _make_model(batch, 0, data=data)
    return batch


def _fit_panel(
    series: list[NDArray[np.float64]],
    ids: list[Any] | None,
    stamps: list[Any] | None,
    order: tuple[_Lags, int, _Lags],
    sorder: tuple[_Lags, int, _Lags, int],
    trend: str,
    exog: Any,
    method: str,
    maxiter: int,
    order_in: tuple[Any, ...],
    sorder_in: tuple[Any, ...],
    exog_names: Sequence[str] | None = None,
    restarts: bool = True,
    identified: bool = True,
) -> ARIMABatch:
    """Fit one specification to every series (``fit_arima``'s engine). ``identified``:
    refuse regressors the differenced data cannot tell apart (:func:`_check_identified`);
    automatic ARIMA passes False, as its forecasts depend only on the identified
    combination and one series' dummy must not stop a candidate for the whole panel."""
    ar, d, ma = order
    sar, D, sma, s = sorder
    k = len(series)
    if method in _AR_ONLY:
        if ma.size or sar.size or sma.size or D:
            raise ValueError(f"method={method!r} fits pure AR models: q, P, D and Q must be 0, got order={order_in}, seasonal_order={sorder_in}")
        if not np.array_equal(ar, np.arange(1, ar.size + 1)) or ar.size == 0:
            raise ValueError(f"method={method!r} needs p >= 1 consecutive AR lags, got order={order_in}")
        if method != "ols" and trend not in ("n", "c"):
            raise ValueError(f"method={method!r} supports trend 'n' or 'c' (demeaning), got {trend!r}")
        if exog is not None:
            raise ValueError(f"method={method!r} does not take exog")
        if method == "ols" and d and trend != "n":
            raise ValueError(f"method='ols' with d > 0 takes trend 'n' (difference the series first for AutoReg's terms), got {trend!r}")
    # finite as exog_future must be (a NaN row would break the least-squares start later)
    ex2 = None if exog is None else as_float_array(exog, "exog", ndim=(1, 2, 3), keep_float32=False, finite=True)
    n_reg = len(_trend_names(trend)) + (0 if ex2 is None else (1 if ex2.ndim == 1 else ex2.shape[-1]))
    spec = _ep.Spec(ar, d, ma, sar, D, sma, s, n_reg)
    n_ex = n_reg - len(_trend_names(trend))
    reg_names = _trend_names(trend) + (list(exog_names) if exog_names else [f"x{j + 1}" for j in range(n_ex)])
    if d + D * s and "c" in trend and method != "ols":
        raise ValueError(f"trend {trend!r} has a constant, which differencing removes; use 't' for a drift")
    if d + D > 1 and "t" in trend and method != "ols":
        raise ValueError(f"trend {trend!r} has a linear term, which d + D > 1 differencing removes")
    lengths = np.array([len(v) for v in series])
    need = _min_obs(spec, method)
    short = np.flatnonzero(lengths < need)
    if short.size:
        i = int(short[0])
        label = f"unique_id={ids[i]!r}" if ids is not None else (f"row {i}" if k > 1 else "y")
        raise ValueError(
            f"too few observations: SARIMA{order_in}x{sorder_in} with trend {trend!r} and method {method!r} "
            f"needs at least {need}, got {lengths[i]} in {label}"
        )
    for i, v in enumerate(series):
        w = _ep.difference(v, d, D, s)
        if np.ptp(v) == 0 or np.ptp(w) == 0:
            label = f"unique_id={ids[i]!r}" if ids is not None else (f"row {i}" if k > 1 else "y")
            raise ValueError(f"{label} is constant{' after differencing' if np.ptp(v) else ''}: no model can be estimated")
    if ex2 is not None and k > 1 and len(set(lengths.tolist())) > 1:
        raise ValueError("exog needs series of equal length")
    params = np.empty((k, spec.n_params))
    sigma2 = np.empty(k)
    llf = np.empty(k)
    conv = np.empty(k, dtype=bool)
    iters = np.zeros(k, dtype=np.int64)
    n_eff = np.empty(k)
    cov_direct = np.full((k, spec.n_params + 1, spec.n_params + 1), np.nan)
    has_cov = False
    for n in np.unique(lengths):
        rows = np.flatnonzero(lengths == n)
        Y = np.stack([series[i] for i in rows])
        if method in _AR_ONLY:
            out = _fit_ar_block(Y, spec, trend, method)
            has_cov = True
            cov_direct[rows] = out["cov"]
        else:
            X = _regressors(trend, exog, int(n), k)
            if X.ndim == 3:
                X = X[rows]
            if exog is not None and identified:
                _check_identified(X, spec, reg_names, [f"unique_id={ids[i]!r}" if ids is not None else f"row {i}" for i in rows], k)
            block = _ep.Block(Y, X, spec)
            out = _ep.fit_block(block, method, maxiter, restarts)
        params[rows] = out["params"]
        sigma2[rows] = out["sigma2"]
        llf[rows] = out["llf"]
        conv[rows] = out["converged"]
        iters[rows] = out["iterations"]
        n_eff[rows] = out["nobs_used"]
    return ARIMABatch(
        series=series, _ids=ids, _stamps=stamps, spec=spec, order=order_in, seasonal_order=sorder_in,
        trend=trend, exog=ex2, method=method, params=params, param_names=_param_names(spec, reg_names),
        sigma2=sigma2, llf=llf, converged=conv, iterations=iters, nobs=lengths, nobs_effective=n_eff,
        _cov=cov_direct if has_cov else None,
    )


def _check_identified(X: NDArray[np.float64], spec: _ep.Spec, names: Sequence[str], labels: Sequence[str], k: int) -> None:
    """Refuse regressors the differenced data cannot tell apart (statsmodels' ARIMA refuses
    them too): an exog column equal to the trend's constant was estimated as +-1e14 with
    ``converged=True``; a constant exog under d = 1 as exactly 0 with standard error 0."""
    Xd = np.moveaxis(_ep.difference(np.moveaxis(X, -1, -2), spec.d, spec.D, spec.s), -2, -1)
    ranks = np.atleast_1d(np.linalg.matrix_rank(Xd)) if Xd.shape[-2] >= Xd.shape[-1] else None
    if ranks is not None and bool(np.all(ranks == Xd.shape[-1])):
        return
    b = 0 if ranks is None else int(np.flatnonzero(ranks < Xd.shape[-1])[0])
    M = Xd if Xd.ndim == 2 else Xd[b]
    j = next(j for j in range(1, M.shape[1] + 1) if j > M.shape[0] or np.linalg.matrix_rank(M[:, :j]) < j) - 1
    diff = f" after the model's differencing (d={spec.d}, D={spec.D})" if spec.d + spec.D else ""
    what = (f"is zero{diff}" if not np.any(M[:, j]) else f"is a linear combination of {list(names[:j])}{diff}")
    where = "" if k == 1 else f" in {labels[b]}"
    raise ValueError(f"exog: the regressors are not identified{where}: {names[j]!r} {what}")


def _fit_ar_block(Y: NDArray[np.float64], spec: _ep.Spec, trend: str, method: str) -> dict[str, Any]:
    """Yule-Walker, Burg or OLS for a block of equal-length (differenced) series."""
    W = _ep.difference(Y, spec.d, 0, 1)
    p = spec.p
    k, nw = W.shape
    if method == "ols":
        tp, phi, sigma2, cov_ols = _ep.ols_ar_batch(W, p, trend)
        params = np.column_stack([tp, phi])
        nobs = nw - p
        llf = -0.5 * nobs * (np.log(2 * np.pi * sigma2) + 1.0)
        return {"params": params, "sigma2": sigma2, "llf": llf, "converged": np.ones(k, bool),
                "iterations": np.zeros(k, np.int64), "nobs_used": np.full(k, nobs),
                "cov": _with_sigma2(cov_ols, 2.0 * sigma2**2 / nobs)}
    demean = trend == "c"
    if method == "yule-walker":
        phi, sigma2, mean = _ep.yule_walker_batch(W, p, demean)
    else:
        phi, sigma2, mean = _ep.burg_batch(W, p, demean)
    params = np.column_stack([mean[:, None], phi]) if demean else phi
    ar, ma = _ep.expand_polys(phi, np.zeros((k, 0)), np.zeros((k, 0)), np.zeros((k, 0)), 1)
    v, F = _ep.exact_innovations(ar, ma, W - mean[:, None])
    llf = -0.5 * np.sum(np.log(2 * np.pi * sigma2[:, None] * F) + v * v / (sigma2[:, None] * F), axis=1)
    # the asymptotic covariance (Brockwell & Davis 1991, sec. 8.10 and theorem 7.1.2):
    # sigma2 Gamma_p^-1 / n for phi, sigma2 / (n phi(1)^2) for the mean, 2 sigma2^2 / n for
    # sigma2, and no covariance between the three blocks
    xc = W - mean[:, None]
    gam = np.stack([np.einsum("ij,ij->i", xc, xc) / nw]
                   + [np.einsum("ij,ij->i", xc[:, :-j], xc[:, j:]) / nw for j in range(1, p)], axis=1)
    idx = np.abs(np.arange(p)[:, None] - np.arange(p)[None, :])
    G = gam[:, idx]
    cov_phi = sigma2[:, None, None] * np.linalg.inv(G) / nw
    m = p + int(demean)
    cov = np.zeros((k, m, m))
    cov[:, m - p :, m - p :] = cov_phi
    if demean:
        cov[:, 0, 0] = sigma2 / nw / (1 - phi.sum(axis=1)) ** 2
    return {"params": params, "sigma2": sigma2, "llf": llf, "converged": np.ones(k, bool),
            "iterations": np.zeros(k, np.int64), "nobs_used": np.full(k, nw), "cov": _with_sigma2(cov, 2.0 * sigma2**2 / nw)}


# ---------------------------------------------------------------------------------------
# Standard errors, forecasts, single models
# ---------------------------------------------------------------------------------------
def _blocks(batch: ARIMABatch) -> Any:
    """Yield ``(rows, Block)`` for each group of equal-length series."""
    lengths = np.asarray(batch.nobs)
    k = len(batch)
    for n in np.unique(lengths):
        rows = np.flatnonzero(lengths == n)
        Y = np.stack([batch.series[i] for i in rows])
        X = _regressors(batch.trend, batch.exog, int(n), k)
        if X.ndim == 3:
            X = X[rows]
        yield rows, _ep.Block(Y, X, batch.spec)


def _with_sigma2(cov: NDArray[np.float64], var_sigma2: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(k, m, m)`` covariances of the coefficients bordered by ``sigma2``'s variance, with
    zero covariances between ``sigma2`` and the coefficients: ``(k, m + 1, m + 1)``."""
    k, m = cov.shape[0], cov.shape[1]
    out = np.zeros((k, m + 1, m + 1))
    out[:, :m, :m] = cov
    out[:, m, m] = var_sigma2
    return _symmetric(out)


def _symmetric(cov: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(cov + cov') / 2``: an inverse computed in floating point is symmetric only to rounding."""
    return np.asarray(0.5 * (cov + np.swapaxes(cov, -1, -2)), dtype=np.float64)


def _sum_of_squares_gradient(block: _ep.Block, x: NDArray[np.float64], rel_step: float = 1e-4) -> NDArray[np.float64]:
    """Central-difference gradient ``(k, m)`` of the exact likelihood's weighted sum of squares
    ``Q(x) = sum v_t^2 / F_t`` (= ``nw * sigma2(x)``), all ``2 m`` points in one stacked call;
    the steps of :func:`tsconv._batchfit.numerical_hessian`."""
    k, m = x.shape
    h = rel_step * np.maximum(np.abs(x), 1e-2)
    pts = []
    for i in range(m):
        for sign in (1.0, -1.0):
            z = x.copy()
            z[:, i] += sign * h[:, i]
            pts.append(z)
    if not pts:
        return np.zeros((k, 0))
    Z = np.concatenate(pts, axis=0)
    rows = np.tile(np.arange(k), len(pts))
    _, ar, ma = block.spec.polys(Z)
    ok = _ep.roots_ok(ar, 0.0) & _ep.roots_ok(ma, 0.0)  # NaN where a step leaves the region, as profile_hessian
    q = np.full(Z.shape[0], np.nan)
    if ok.any():
        q[ok] = block.exact_llf(Z[ok], rows[ok])[1] * block.nw
    qs = q.reshape(len(pts), k)
    return np.stack([(qs[2 * i] - qs[2 * i + 1]) / (2 * h[:, i]) for i in range(m)], axis=1)


def _covariances(batch: ARIMABatch) -> NDArray[np.float64]:
    """The inverse observed information ``(k, m + 1, m + 1)`` of every series (``sigma2`` last).

    ML: the Gaussian log-likelihood ``l(x, s2) = -n/2 log(2 pi s2) - 1/2 sum log F_t - Q(x) / (2 s2)``
    has, at the estimate (``s2 = Q / n``), the information ``[[A, b], [b', c]]`` with
    ``b = -grad Q / (2 s2^2)`` and ``c = n / (2 s2^2)``, and the Hessian of the profile
    (concentrated) likelihood is ``-(A - b b' / c) = -S``. Its inverse, by blocks:
    ``cov(x) = S^-1``, ``cov(x, s2) = -S^-1 b / c``, ``var(s2) = 1 / c + b' S^-1 b / c^2``:
    the matrix statsmodels' ``cov_type='approx'`` differentiates numerically in full.
    CSS: ``F_t = 1`` and the gradient of the sum of squares vanishes at its minimum, so
    ``b = 0``: R's ``solve(n_used * hessian of 0.5 log(SSR))`` for the coefficients and
    ``2 s2^2 / n_used`` for ``sigma2``. Where the Hessian is not finite (an estimate on the
    boundary of the stationary / invertible region), ``sigma2`` keeps the variance
    ``1 / c = 2 s2^2 / n`` and the covariances with it are NaN, like the coefficients' block.
    """
    k, m = batch.params.shape
    out = np.full((k, m + 1, m + 1), np.nan)
    for rows, block in _blocks(batch):
        x = batch.params[rows]
        s2 = batch.sigma2[rows]
        n = batch.nobs_effective[rows]
        c = n / (2.0 * s2**2)
        if batch.method == "css":
            n_used = n

            def objective(z: NDArray[np.float64], idx: NDArray[np.intp]) -> NDArray[np.float64]:
                r = block.css_residuals(z, idx)
                return np.asarray(0.5 * np.log(np.einsum("kt,kt->k", r, r)), dtype=np.float64)

            H = _ep.numerical_hessian(objective, x)
            out[rows] = _with_sigma2(_safe_inv(n_used[:, None, None] * H), 1.0 / c)
            continue
        S_inv = _safe_inv(-_ep.profile_hessian(block, x))
        b = -_sum_of_squares_gradient(block, x) / (2.0 * s2[:, None] ** 2)
        Sb = np.einsum("kij,kj->ki", S_inv, b)
        cov = np.empty((len(rows), m + 1, m + 1))
        cov[:, :m, :m] = S_inv
        cov[:, :m, m] = cov[:, m, :m] = -Sb / c[:, None]
        cov[:, m, m] = 1.0 / c + np.einsum("ki,ki->k", b, Sb) / c**2
        # an estimate on the boundary of the stationary / invertible region has no finite
        # Hessian: sigma2 keeps the variance of its own information, 1 / c, the
        # covariances stay NaN
        lost = ~np.isfinite(cov[:, m, m])
        cov[lost, m, m] = 1.0 / c[lost]
        out[rows] = cov
    return _symmetric(out)


def _safe_inv(A: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverses of the matrices ``A`` (``(..., m, m)``): the pseudo-inverse of a singular
    one, NaN for one with a non-finite entry (a Hessian at a boundary estimate) or whose
    pseudo-inverse does not converge."""
    try:
        return np.asarray(np.linalg.inv(A), dtype=np.float64)
    except np.linalg.LinAlgError:
        pass
    A = np.asarray(A, dtype=np.float64)
    out = np.full(A.shape, np.nan)
    flat, res = A.reshape(-1, *A.shape[-2:]), out.reshape(-1, *A.shape[-2:])
    for j in range(flat.shape[0]):
        if np.all(np.isfinite(flat[j])):
            try:
                res[j] = np.linalg.pinv(flat[j])
            except np.linalg.LinAlgError:
                pass
    return out


def _mean_form(batch: ARIMABatch) -> tuple[NDArray[np.float64], str]:
    """Regression coefficients in the mean form and the trend they go with.

    AutoReg's intercept ``c + b t`` becomes the mean ``alpha + beta t`` of the stationary
    AR: ``beta = b / phi(1)``, ``alpha = (c - beta sum_j j phi_j) / phi(1)``.
    """
    beta = batch.params[:, batch.spec.slices[0]]
    if batch.method != "ols" or batch.trend == "n":
        return beta, batch.trend
    phi = batch.params[:, batch.spec.slices[1]]
    phi1 = 1.0 - phi.sum(axis=1)
    jphi = phi @ np.arange(1, phi.shape[1] + 1)
    c = beta[:, 0] if "c" in batch.trend else np.zeros(len(batch))
    b = beta[:, -1] if "t" in batch.trend else np.zeros(len(batch))
    slope = b / phi1
    alpha = (c - slope * jphi) / phi1
    return np.column_stack([alpha, slope]), "ct"


def _arma_polys(batch: ARIMABatch) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The AR and MA polynomials ``(k, .)`` of every row of ``batch`` (seasonal factors
    multiplied in, regression coefficients left out)."""
    x = batch.params.copy()
    x[:, batch.spec.slices[0]] = 0.0
    _, ar, ma = batch.spec.polys(x)
    return ar, ma


def _demeaned(batch: ARIMABatch, beta: NDArray[np.float64], trend: str, rows: NDArray[np.intp], n: int) -> NDArray[np.float64]:
    """The series ``rows`` of ``batch`` (all of length ``n``) minus their regression mean
    (``beta`` and ``trend`` of :func:`_mean_form`)."""
    Y = np.stack([batch.series[i] for i in rows])
    X = _regressors(trend, batch.exog, int(n), len(batch))
    X = X[rows] if X.ndim == 3 else np.broadcast_to(X, (len(rows), *X.shape))
    return Y - np.einsum("knm,km->kn", X, beta[rows])


def _batch_residuals(batch: ARIMABatch) -> list[NDArray[np.float64]]:
    """The exact one-step prediction errors of every series of ``batch``: its model's
    ``resid`` (:meth:`tsconv.ARIMA.residuals`) without the first ``d + s D`` values
    (NaN there), one array per series, one compiled pass per group of equal length."""
    spec = batch.spec
    beta, trend = _mean_form(batch)
    ar, ma = _arma_polys(batch)
    out: list[NDArray[np.float64]] = [np.zeros(0)] * len(batch)
    for n in np.unique(batch.nobs):
        rows = np.flatnonzero(batch.nobs == n)
        w = _ep.difference(_demeaned(batch, beta, trend, rows, int(n)), spec.d, spec.D, spec.s)
        v, _ = _ep.exact_innovations(ar[rows], ma[rows], w)
        for r, vr in zip(rows, v):
            out[int(r)] = vr
    return out


def _batch_forecast(batch: ARIMABatch, h: int, exog_future: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    spec = batch.spec
    k = len(batch)
    beta, trend = _mean_form(batch)
    ar, ma = _arma_polys(batch)
    diff = np.array([1.0])
    for _ in range(spec.d):
        diff = np.convolve(diff, [1.0, -1.0])
    for _ in range(spec.D):
        sd = np.zeros(spec.s + 1)
        sd[[0, -1]] = 1.0, -1.0
        diff = np.convolve(diff, sd)
    art = np.stack([np.convolve(a, diff) for a in ar]) if diff.size > 1 else ar
    L, Lm = art.shape[1] - 1, ma.shape[1] - 1
    ztail = np.zeros((k, L))
    etail = np.zeros((k, Lm))
    m_reg = beta.shape[1]
    n_exog = 0 if batch.exog is None else m_reg - len(_trend_names(trend))
    if n_exog and exog_future is None:
        raise ValueError(f"exog_future is required: the model has {n_exog} exog regressors")
    if not n_exog and exog_future is not None:
        raise ValueError("exog_future was given but the model has no exog")
    Xf = np.zeros((k, h, m_reg))
    slow: list[int] = []  # filters not yet steady at the end: exact forecast of the model
    if n_exog:
        ef = as_float_array(exog_future, "exog_future", ndim=(1, 2, 3), keep_float32=False, finite=True)
        if ef.ndim == 1:
            ef = ef[:, None]
        if ef.shape[-2:] != (h, n_exog) or (ef.ndim == 3 and ef.shape[0] != k):
            raise ValueError(f"exog_future must have shape ({h}, {n_exog}) or ({k}, {h}, {n_exog}), got {ef.shape}")
        Xf[:, :, m_reg - n_exog :] = ef
    for n in np.unique(batch.nobs):
        rows = np.flatnonzero(batch.nobs == n)
        z = _demeaned(batch, beta, trend, rows, int(n))
        ztail[rows] = z[:, n - L :] if L else np.zeros((len(rows), 0))
        Xf[rows, :, : m_reg - n_exog] = _ep.trend_matrix(trend, h, int(n) + 1)
        if Lm:
            w = _ep.difference(z, spec.d, spec.D, spec.s)
            v, F = _ep.exact_innovations(ar[rows], ma[rows], w)
            slow.extend(rows[np.abs(F[:, -1] - 1.0) > 1e-10].tolist())
            m_take = min(Lm, v.shape[1])
            etail[rows, Lm - m_take :] = v[:, v.shape[1] - m_take :]
    zf = np.concatenate([ztail, np.zeros((k, h))], axis=1)
    ef_ = np.concatenate([etail, np.zeros((k, h))], axis=1)
    arl = np.flatnonzero(np.any(art[:, 1:] != 0, axis=0)) + 1
    mal = np.flatnonzero(np.any(ma[:, 1:] != 0, axis=0)) + 1
    for t in range(h):
        acc = np.zeros(k)
        for lag in arl:
            acc -= art[:, lag] * zf[:, L + t - lag]
        for lag in mal:
            if lag > t:
                acc += ma[:, lag] * ef_[:, Lm + t - lag]
        zf[:, L + t] = acc
    mean = zf[:, L:] + np.einsum("khm,km->kh", Xf, beta)
    psi = np.zeros((k, h))
    psi[:, 0] = 1.0
    for j in range(1, h):
        acc = ma[:, j].copy() if j <= Lm else np.zeros(k)
        for lag in arl:
            if lag <= j:
                acc -= art[:, lag] * psi[:, j - lag]
        psi[:, j] = acc
    se = np.sqrt(batch.sigma2[:, None] * np.cumsum(psi**2, axis=1))
    for row in slow:
        ex = None if batch.exog is None else (batch.exog[row] if batch.exog.ndim == 3 else batch.exog)
        exf = None if exog_future is None else (ef[row] if ef.ndim == 3 else ef)
        fc = ARIMA.forecast(_make_model(batch, row), batch.series[row], h, exog_future=exf, exog=ex)
        mean[row], se[row] = np.asarray(fc.mean), np.asarray(fc.se)
    return mean, se


def _make_model(batch: ARIMABatch, i: int, data: Any = None) -> Any:
    spec = batch.spec
    b, a, m, sa, sm = (batch.params[i : i + 1, sl][0] for sl in spec.slices)
    n_tr = len(_trend_names(batch.trend))
    kw: dict[str, Any] = dict(
        ar=a, ma=m, seasonal_ar=sa, seasonal_ma=sm, sigma2=float(batch.sigma2[i]),
        trend=batch.trend, trend_params=b[:n_tr] if n_tr else None,
        exog_params=b[n_tr:] if b.size > n_tr else None,
        trend_form="intercept" if batch.method == "ols" else "mean",
    )
    if data is None:
        data = batch._histories()[i] if batch._stamps is not None else batch._originals()[i]
    exog = None if batch.exog is None else (batch.exog[i] if batch.exog.ndim == 3 else batch.exog)
    lam = None if batch._lambdas is None else float(batch._lambdas[i])
    return FittedARIMA(tuple(batch.order), tuple(batch.seasonal_order), fit_result=batch._result_at(i), data=data,
                       exog=exog, boxcox=lam, **kw)


def _back_transformed(fc: Forecast, lam: float, history: Any) -> Forecast:
    """The forecast ``fc`` of a Box-Cox transformed series on the original scale: the mean
    and the interval bounds back-transformed (``se`` stays on the transformed scale)."""
    bounds = {v: (_boxcox.inverse(lo, lam), _boxcox.inverse(hi, lam)) for v, (lo, hi) in fc.bounds.items()}
    return dataclasses.replace(fc, mean=_boxcox.inverse(fc.mean, lam), bounds=bounds, history=history)


def _forecast_with(model: Any, y: Any, h: Any, *, level: Any = (95,)) -> Forecast:
    """Forecast the series ``y`` ``h`` steps ahead with ``model``.

    ``model`` is a :class:`tsconv.ARIMA` with known coefficients, a fitted model (of
    :func:`fit_arima`: its coefficients and its Box-Cox transform, applied to ``y``, and the
    forecast back-transformed; on its own data, exactly ``model.forecast(h)``) or an object
    holding one as ``model`` (a statsmodels fit bound to a series). What
    ``series.tsconv.plot_forecast(model, h)`` draws.
    """
    if isinstance(model, FittedARIMA):
        if model.data is y:
            return model.forecast(h, level=level)
        if model.boxcox is not None:
            lam = _boxcox.choose_lambda(np.asarray(y, dtype=float), model.boxcox, 0, "y")  # positive y
            return _back_transformed(model.model.forecast(_boxcox.transform(y, lam), h, level=level), lam, y)
    model = getattr(model, "model", model)
    if not isinstance(model, ARIMA):
        raise TypeError(f"model must be a tsconv.ARIMA, a fitted model or a statsmodels fit bound to a series, "
                        f"got {type(model).__name__}")
    return model.forecast(y, h, level=level)


class FittedARIMA(ARIMA):
    """A :class:`tsconv.ARIMA` estimated by :func:`tsconv.fit_arima`: the model, its data
    and its estimates.

    It keeps the series it was fitted to (and its index), so it forecasts with
    ``forecast(h, level=(80, 95))`` and has the statsmodels-style results: ``params``,
    ``bse``, ``tvalues``, ``pvalues``, ``conf_int()``, ``cov_params()``, ``resid``,
    ``fittedvalues``, ``llf``, ``aic``, ``aicc``, ``bic``, ``nobs``, ``method``,
    ``converged``, :meth:`ljung_box`, :meth:`summary` and :meth:`plot_diagnostics`. The
    estimates are in ``fit_result`` (a :class:`FitResult`); ``sigma2`` is the model's own.
    Immutable, like :class:`tsconv.ARIMA`; :meth:`replace` gives a plain ARIMA, and
    ``model`` the known-coefficient model (to filter or forecast other data).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import fit_arima
    >>> from tsconv.datasets import load
    >>> fit = fit_arima(np.log(load("airline")), (0, 1, 1), (0, 1, 1, 12))
    >>> fit.pvalues.round(4).tolist()
    [0.0, 0.0]
    >>> fit.ljung_box(12).round(3).iloc[-1].tolist()
    [8.471, 0.583]
    >>> fit.forecast(2, level=(80, 95)).to_frame().round(3)
              mean  lo-80  hi-80  lo-95  hi-95
    1961-01  6.110  6.063  6.157  6.038  6.182
    1961-02  6.054  5.999  6.109  5.970  6.138
    """

    fit_result: FitResult
    data: Any
    exog: Any
    boxcox: float | None

    def __init__(self, order: Any, seasonal_order: Any = (0, 0, 0, 0), *, fit_result: FitResult, data: Any,
                 exog: Any = None, boxcox: float | None = None, **kw: Any) -> None:
        object.__setattr__(self, "fit_result", fit_result)
        object.__setattr__(self, "boxcox", None if boxcox is None else float(boxcox))
        if isinstance(data, np.ndarray):
            data = data.copy()
            data.flags.writeable = False
        object.__setattr__(self, "data", data)
        if isinstance(exog, np.ndarray):
            exog = exog.copy()
            exog.flags.writeable = False
        object.__setattr__(self, "exog", exog)
        super().__init__(order, seasonal_order, **kw)

    @property
    def model(self) -> ARIMA:
        """The known-coefficient :class:`tsconv.ARIMA` (no data): ``model.forecast(y, h)``."""
        return self.replace()

    # override: by design a fitted model forecasts its own data, forecast(h), where a
    # known-coefficient ARIMA takes the history, forecast(y, h) (the one calling convention)
    def forecast(self, h: Any = None, exog_future: ArrayLike | None = None, *, level: Any = (95,),  # type: ignore[override]
                 start: Any = None, freq: Any = None, **old: Any) -> Forecast:
        """Forecast the fitted series ``h`` steps ahead, with intervals at ``level`` percent.

        Parameters
        ----------
        h : int
            Horizon, >= 1.
        exog_future : array_like, optional
            Regressors over the ``h`` future periods (required when the model has exog).
        level : float or sequence of float, default (95,)
            Coverage of the central prediction intervals, in percent.
        start : {'exact', 'conditional'}, optional
            As in :meth:`tsconv.ARIMA.forecast`. Default ``'exact'``; ``'conditional'``
            for a conditional least-squares fit (``method='ols'`` or ``'css'``) whose AR
            part is not stationary, which has no exact (stationary) start: the
            estimator's own start, statsmodels ``AutoReg``'s for ``'ols'``. The same
            start gives :attr:`resid` and :attr:`fittedvalues`.
        freq : str, pandas offset or number, optional
            Spacing of the future dates; default inferred from the series' index, some
            periods may be missing (as :meth:`tsconv.ARIMA.forecast`). The
            first future date is the first of its grid after the last date (dates on the
            15th with ``freq='MS'``: the 1st of the next month; ``pd.DateOffset(months=1)``:
            the 15th). A PeriodIndex takes only its own frequency. For a numeric index the
            step, a positive number: by default the index's own step, and needed when its
            steps are uneven (a ValueError asks for it, as for dates whose frequency cannot
            be inferred).

        Returns
        -------
        Forecast
            On the future dates when the series had a DatetimeIndex or PeriodIndex, on
            the next labels of its step for a numeric index (1700, 1705, ..., 1995: 2000,
            2005, ...).

        Examples
        --------
        >>> import numpy as np
        >>> from tsconv import fit_arima
        >>> from tsconv.datasets import load
        >>> air = np.log(load("airline"))
        >>> fc = fit_arima(air, (0, 1, 1), (0, 1, 1, 12)).forecast(12, level=(80, 95))
        >>> list(fc.to_frame().columns)
        ['mean', 'lo-80', 'hi-80', 'lo-95', 'hi-95']
        >>> str(fc.mean.index[0])
        '1961-01'
        """
        if not (isinstance(h, numbers.Integral) and not isinstance(h, bool)) and np.ndim(h) >= 1:
            raise TypeError("a fitted model keeps its data and forecasts with forecast(h, level=...); "
                            "to forecast other data use model.model.forecast(y, h)")
        reject_old_keywords("forecast", old)
        if h is None:
            raise TypeError("forecast() needs the horizon h: forecast(h, level=(95,))")
        start = self._start if start is None else start
        fc = ARIMA.forecast(self, self._work, h, exog_future, level=level, exog=self.exog, start=start, freq=freq)
        return fc if self.boxcox is None else _back_transformed(fc, self.boxcox, self.data)

    @property
    def _start(self) -> Start:
        """``'exact'``, or ``'conditional'`` for a conditional least-squares fit whose AR
        part is not stationary (OLS on a trending series: AR roots at 0.996 on heart
        rates): no stationary start exists, and the conditional one is the estimator's."""
        return "conditional" if self.method in ("ols", "css") and not self.is_stationary else "exact"

    @property
    def _work(self) -> Any:
        """The series the model describes: the data, Box-Cox transformed when ``boxcox`` is set."""
        return self.data if self.boxcox is None else _boxcox.transform(self.data, self.boxcox)

    @property
    def params(self) -> pd.Series:
        return self.fit_result.params

    @property
    def bse(self) -> pd.Series:
        return self.fit_result.bse

    @property
    def tvalues(self) -> pd.Series:
        return self.fit_result.tvalues

    @property
    def pvalues(self) -> pd.Series:
        return self.fit_result.pvalues

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals of the estimates (columns 0 and 1, as statsmodels)."""
        return self.fit_result.conf_int(alpha)

    def cov_params(self) -> pd.DataFrame:
        """Covariance matrix of the estimates, ``sigma2`` last (see :meth:`FitResult.cov_params`)."""
        return self.fit_result.cov_params()

    @property
    def resid(self) -> Any:
        """Residuals of the fitted series (exact start; NaN for the first ``d + s D``; the
        conditional start, NaN for the first ``d + s D + p + s P``, for a conditional
        least-squares fit whose AR part is not stationary: see :meth:`forecast`)."""
        return self.residuals(self._work, exog=self.exog, start=self._start)

    @property
    def fittedvalues(self) -> Any:
        """One-step in-sample predictions of the fitted series (back-transformed with
        ``boxcox``; the start of :attr:`resid`)."""
        pred = self.predict(self._work, exog=self.exog, start=self._start)
        return pred if self.boxcox is None else _boxcox.inverse(pred, self.boxcox)

    def ljung_box(self, lags: int = 10, model_df: int | None = None) -> pd.DataFrame:
        """Ljung-Box test of the residuals for lags ``1..lags``.

        ``Q(m) = n (n + 2) sum_{j<=m} r_j^2 / (n - j)`` over the ``n`` residuals after
        the diffuse ones, against chi-square with ``m - model_df`` degrees of freedom
        (``model_df`` defaults to the number of ARMA coefficients). The numbers of
        ``statsmodels.stats.diagnostic.acorr_ljungbox(resid, lags, model_df=...)``.

        Returns
        -------
        pandas.DataFrame
            Columns ``lb_stat`` and ``lb_pvalue`` indexed by lag (NaN p-value where the
            degrees of freedom are not positive).
        """
        lags = as_int(lags, "lags", minimum=1)
        r = np.asarray(self.resid, dtype=float)
        r = r[np.isfinite(r)]
        n = r.size
        if lags >= n:
            raise ValueError(f"lags must be below the number of residuals ({n}), got {lags}")
        if model_df is None:
            model_df = int(self.ar.size + self.ma.size + self.seasonal_ar.size + self.seasonal_ma.size)
        model_df = as_int(model_df, "model_df", minimum=0)
        e = r - r.mean()
        denom = float(np.dot(e, e))
        acf = np.array([np.dot(e[j:], e[:-j]) / denom for j in range(1, lags + 1)])
        j = np.arange(1, lags + 1)
        q = n * (n + 2) * np.cumsum(acf**2 / (n - j))
        dof = j - model_df
        with np.errstate(invalid="ignore"):
            pv = np.where(dof > 0, scipy.stats.chi2.sf(q, np.maximum(dof, 1)), np.nan)
        return pd.DataFrame({"lb_stat": q, "lb_pvalue": pv}, index=pd.Index(j, name="lag"))

    @property
    def llf(self) -> float:
        return self.fit_result.llf

    @property
    def aic(self) -> float:
        return self.fit_result.aic

    @property
    def aicc(self) -> float:
        return self.fit_result.aicc

    @property
    def bic(self) -> float:
        return self.fit_result.bic

    @property
    def nobs(self) -> int:
        return self.fit_result.nobs

    @property
    def method(self) -> str:
        return self.fit_result.method

    @property
    def converged(self) -> bool:
        return self.fit_result.converged

    def summary(self) -> str:
        """The estimation table (coefficients, standard errors, z, p-values, intervals,
        llf and ICs) and the Ljung-Box test at lag 10 (or fewer for short series)."""
        r = np.asarray(self.resid, dtype=float)
        lags = min(10, int(np.isfinite(r).sum()) - 1)
        text = self.fit_result.summary()
        if lags >= 1:
            lb = self.ljung_box(lags).iloc[-1]
            text += f"\nLjung-Box (lag {lags}): Q = {lb['lb_stat']:.4f}, p = {lb['lb_pvalue']:.4f}"
        return text

    def save(self, path: Any) -> None:
        """Write the fitted model to ``path``: coefficients, estimates and their covariance
        matrix, its data and index.

        The format of :meth:`tsconv.ARIMABatch.save` (``tsconv-model``, version 2: JSON manifest
        and ``.npy`` arrays in a ZIP, no pickle, atomic write); :meth:`load` reads it.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from tsconv import FittedARIMA, fit_arima
        >>> from tsconv.datasets import load
        >>> fit = fit_arima(np.log(load("airline")), (0, 1, 1), (0, 1, 1, 12))
        >>> path = os.path.join(tempfile.mkdtemp(), "airline.tsconv")
        >>> fit.save(path)
        >>> FittedARIMA.load(path).forecast(12).to_frame().equals(fit.forecast(12).to_frame())
        True
        """
        fr = self.fit_result
        manifest: dict[str, Any] = {
            "order": _persist.jsonable(list(self.order)), "seasonal_order": _persist.jsonable(list(self.seasonal_order)),
            "trend": self.trend, "trend_form": self.trend_form, "trend_offset": int(self.trend_offset),
            "param_names": _persist.jsonable(list(fr.params.index)),
            "method": fr.method, "converged": bool(fr.converged), "iterations": int(fr.iterations),
            "nobs": int(fr.nobs), "nobs_effective": int(fr.nobs_effective), "title": fr.title,
        }
        arrays: dict[str, Any] = {
            "ar": self.ar, "ma": self.ma, "seasonal_ar": self.seasonal_ar, "seasonal_ma": self.seasonal_ma,
            "trend_params": self.trend_params, "exog_params": self.exog_params,
            "scalars": np.array([self.sigma2, fr.llf, fr.aic, fr.aicc, fr.bic, fr.sigma2]),
            "params": fr.params.to_numpy(dtype=float), "cov": fr.cov,
            "data": np.asarray(self.data, dtype=float),
        }
        if isinstance(self.data, pd.Series):
            desc, values = _persist.index_to_arrays(self.data.index)
            manifest["index"] = desc
            manifest["name"] = _persist.jsonable(self.data.name)
            arrays["index"] = values
        if self.exog is not None:
            arrays["exog"] = np.asarray(self.exog, dtype=float)
        manifest["boxcox"] = self.boxcox
        _persist.write_model(path, "fitted", manifest, arrays)

    @classmethod
    def load(cls, path: Any) -> FittedARIMA:
        """Read a model written by :meth:`save`.

        Files of format version 1 (which kept the standard errors only) are read too:
        their :meth:`cov_params` is ``diag(bse**2)``, without covariances, and loading one
        warns with :class:`~tsconv.estimate.DiagonalCovarianceWarning`.

        Raises
        ------
        ModelFileError
            A missing, truncated, edited or foreign file, or a version other than 1 or 2.
        """
        man, arr = _persist.read_model(path, "fitted")
        try:
            sigma2, llf, aic, aicc, bic, fsigma2 = (float(v) for v in arr["scalars"])
            fr = FitResult(
                params=pd.Series(arr["params"], index=man["param_names"], name="params"),
                cov=_persist.covariance(man, arr, path),
                llf=llf, aic=aic, aicc=aicc, bic=bic, sigma2=fsigma2, nobs=man["nobs"],
                nobs_effective=man["nobs_effective"], method=man["method"], converged=man["converged"],
                iterations=man["iterations"], title=man["title"],
            )
            data: Any = arr["data"]
            if "index" in man:
                data = pd.Series(data, index=_persist.index_from_arrays(man["index"], arr["index"]),
                                 name=_persist.label_from_json(man["name"]))
            return cls(
                tuple(man["order"]), tuple(man["seasonal_order"]), fit_result=fr, data=data, exog=arr.get("exog"),
                ar=arr["ar"], ma=arr["ma"], seasonal_ar=arr["seasonal_ar"], seasonal_ma=arr["seasonal_ma"],
                trend=man["trend"], trend_params=arr["trend_params"] if arr["trend_params"].size else None,
                exog_params=arr["exog_params"] if arr["exog_params"].size else None, sigma2=sigma2,
                trend_form=man["trend_form"], trend_offset=man["trend_offset"], boxcox=man.get("boxcox"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelFileError(f"{path!r}: inconsistent model file ({exc})") from exc

    def plot_diagnostics(self, **kwargs: Any) -> Any:
        """Residual diagnostics: residuals over time, histogram, ACF and normal Q-Q
        (needs the ``plot`` extra); see :func:`tsconv.plot.plot_diagnostics`."""
        from tsconv import plot as _plot

        return _plot.plot_diagnostics(self.resid, **kwargs)


# ---------------------------------------------------------------------------------------
# Order selection
# ---------------------------------------------------------------------------------------
# select_order rejects a candidate with a root of modulus below 1.01 (forecast::auto.arima,
# function myarima: "minroot < 1 + 1e-2"); roots_ok takes the margin on the inverse roots
_ROOT_MARGIN = 1.0 - 1.0 / 1.01


def _kpss_statistic(x: NDArray[np.float64], lags: int) -> float:
    """KPSS level-stationarity statistic (Kwiatkowski et al. 1992, eq. 12-14).

    ``eta = sum(S_t^2) / (n^2 s^2)`` with ``S_t`` the partial sums of ``x - mean(x)`` and
    ``s^2`` the Bartlett-weighted long-run variance over ``lags`` lags -- the number
    ``statsmodels.tsa.stattools.kpss(x, regression="c", nlags=lags)`` returns (pinned by a
    test), computed here because statsmodels warns whenever the statistic falls outside
    its p-value table, and silencing that with ``warnings.catch_warnings`` is not
    thread-safe.
    """
    n = x.size
    e = x - x.mean()
    eta = float(np.sum(np.cumsum(e) ** 2)) / n**2
    s2 = float(np.dot(e, e)) / n
    for k in range(1, lags + 1):
        s2 += 2.0 * (1.0 - k / (lags + 1.0)) * float(np.dot(e[k:], e[:-k])) / n
    return eta / s2


# 5% critical value of the KPSS level test (Kwiatkowski et al. 1992, table 1)
_KPSS_CRIT_5 = 0.463


def _kpss_ndiffs(x: NDArray[np.float64], max_d: int) -> int:
    """Differences until the KPSS level-stationarity test no longer rejects at 5%.

    As ``forecast::ndiffs`` (Hyndman & Khandakar 2008; forecast >= 8.x): the statistic
    against the 5% critical value 0.463 of Kwiatkowski et al. (1992), with the lag
    truncation ``trunc(3 sqrt(n) / 13)`` that ndiffs passes to ``urca::ur.kpss`` as
    ``use.lag``.
    """
    d = 0
    w = x
    while d < max_d:
        if w.size < 8 or np.ptp(w) == 0:
            break
        lags = int(3.0 * np.sqrt(w.size) / 13.0)
        if _kpss_statistic(w, lags) <= _KPSS_CRIT_5:
            break
        d += 1
        w = np.diff(w)
    return d


def seasonal_strength(x: ArrayLike, period: int) -> float:
    """Hyndman's seasonal strength ``Fs = max(0, 1 - var(R) / var(S + R))`` from an STL
    decomposition of a series of period ``period``.

    The decomposition is the one ``forecast::nsdiffs`` gets from ``mstl``: R's ``stl``
    with ``s.window = 11`` (mstl's first seasonal window, ``7 + 4``) and its defaults
    ``s.degree = 0``, ``robust = FALSE``, i.e. statsmodels'
    ``STL(x, period, seasonal=11, seasonal_deg=0)``. See Wang, Smith & Hyndman (2006);
    ``forecast::nsdiffs`` takes ``D = 1`` when ``Fs > 0.64``.
    """
    from statsmodels.tsa.seasonal import STL

    arr = np.asarray(as_float_array(x, "x", ndim=1, finite=True, keep_float32=False), np.float64)
    period = as_int(period, "period", minimum=2)
    if arr.size < 2 * period + 1:
        raise ValueError(f"seasonal strength needs at least two periods plus one ({2 * period + 1}) observations, got {arr.size}")
    res = STL(arr, period=period, seasonal=11, seasonal_deg=0).fit()
    rem = np.asarray(res.resid)
    sr = np.asarray(res.seasonal) + rem
    vsr = np.var(sr)
    return float(max(0.0, 1.0 - np.var(rem) / vsr)) if vsr > 0 else 0.0


def select_order(
    y: Any,
    max_p: int,
    max_q: int,
    max_P: int = 0,
    max_Q: int = 0,
    d: int | None = None,
    D: int | None = None,
    ic: InfoCriterion = "aicc",
    *,
    s: int = 0,
    trend: Trend | None = None,
    method: Method = "css-ml",
    max_d: int = 2,
    maxiter: int = 100,
    max_order: int | None = None,
) -> pd.DataFrame:
    """Choose SARIMA orders by information criterion, for one series or a whole panel.

    Every candidate ``(p, q, P, Q)`` of the grid is fitted to all series at once
    (:func:`fit_arima`), and each series keeps the candidate with the smallest criterion.

    Parameters
    ----------
    y : array_like, list of 1-D arrays or long pandas.DataFrame
        As in :func:`fit_arima`.
    max_p, max_q, max_P, max_Q : int
        Largest orders of the grid (``0..max`` each).
    d, D : int, optional
        Differencing orders. When None, ``D`` is 1 if the seasonal strength of the
        series (:func:`~tsconv.estimate.seasonal_strength`) exceeds 0.64 (0 without a period), and ``d``
        is the number of differences after which the KPSS test no longer rejects level
        stationarity at 5% (at most ``max_d``), as ``forecast::auto.arima`` does.
    ic : {'aicc', 'aic', 'bic'}, default 'aicc'
    s : int, default 0
        Seasonal period (>= 2 when ``max_P``, ``max_Q`` or ``D`` ask for seasonal terms).
    trend : {'n', 'c', 't', 'ct'}, optional
        Default: a mean (``'c'``) when a series is not differenced, none otherwise.
    method : str, default 'css-ml'
        Estimation method (see :func:`fit_arima`).
    max_d : int, default 2
    maxiter : int, default 100
    max_order : int, optional
        Largest ``p + q + P + Q`` of a candidate (``forecast::auto.arima``'s
        ``max.order``, 5 there); None: no limit beyond the grid.

    Returns
    -------
    pandas.DataFrame
        One row per series (index: position or ``unique_id``) with columns ``p``,
        ``d``, ``q``, ``P``, ``D``, ``Q``, ``s``, ``order``, ``seasonal_order`` and the
        criterion. Candidates that cannot be fitted (too few observations), do not
        converge, or have an AR or MA root of modulus below 1.01 (near the unit circle:
        ``auto.arima``'s rule) are skipped.

    Raises
    ------
    ValueError
        Negative maxima, a seasonal search without a period ``s >= 2``, an unknown
        criterion, or a series too short for every candidate.

    See Also
    --------
    fit_arima, tsconv.estimate.seasonal_strength

    Notes
    -----
    The same series gets the same answer alone or in a panel: each series is fitted
    independently (per-series optimizer), and its criterion depends on it alone.

    References
    ----------
    Hyndman, R. J. and Khandakar, Y. (2008). Automatic time series forecasting: the
    forecast package for R. *Journal of Statistical Software* 27(3).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import select_order
    >>> rng = np.random.default_rng(1)
    >>> e = rng.standard_normal(400)
    >>> y = np.zeros(400)
    >>> for t in range(2, 400):
    ...     y[t] = 0.5 * y[t - 1] - 0.3 * y[t - 2] + e[t]
    >>> sel = select_order(y, max_p=3, max_q=2, d=0)
    >>> sel.loc[0, "order"]
    (2, 0, 0)
    """
    ic = check_option(ic, InfoCriterion, "ic")
    method = check_option(method, Method, "method")
    maxes = [_nonneg(v, n) for v, n in ((max_p, "max_p"), (max_q, "max_q"), (max_P, "max_P"), (max_Q, "max_Q"))]
    max_d = _nonneg(max_d, "max_d")
    if max_order is not None:
        max_order = _nonneg(max_order, "max_order")
    s = _nonneg(s, "s")
    if (maxes[2] or maxes[3] or (D is not None and D)) and s < 2:
        raise ValueError(f"a seasonal search needs a period s >= 2, got s={s}")
    if d is not None:
        d = _nonneg(d, "d")
    if D is not None:
        D = _nonneg(D, "D")
    if trend is not None:
        trend = check_option(trend, Trend, "trend")
    series, ids, _, _ = _as_panel(y)
    k = len(series)
    labels = ids if ids is not None else list(range(k))
    Ds = np.zeros(k, dtype=int)
    for i, v in enumerate(series):
        if D is not None:
            Ds[i] = D
        elif s >= 2 and v.size >= 2 * s + 1:
            Ds[i] = int(seasonal_strength(v, s) > 0.64)
    ds = np.zeros(k, dtype=int)
    for i, v in enumerate(series):
        ds[i] = d if d is not None else _kpss_ndiffs(_ep.difference(v, 0, int(Ds[i]), s), max_d)
    best_ic = np.full(k, np.inf)
    best: list[tuple[tuple[int, int, int], tuple[int, int, int, int]] | None] = [None] * k
    for dd, DD in sorted(set(zip(ds.tolist(), Ds.tolist()))):
        rows = np.flatnonzero((ds == dd) & (Ds == DD))
        tr: str = trend if trend is not None else ("c" if dd + DD == 0 else "n")
        if dd + DD and "c" in tr:
            tr = tr.replace("c", "") or "n"
        if dd + DD > 1 and "t" in tr:  # differencing twice removes a linear trend too
            tr = tr.replace("t", "") or "n"
        group = [series[i] for i in rows]
        for p in range(maxes[0] + 1):
            for q in range(maxes[1] + 1):
                for P in range(maxes[2] + 1):
                    for Q in range(maxes[3] + 1):
                        if max_order is not None and p + q + P + Q > max_order:
                            continue
                        order = (p, dd, q)
                        sorder = (P, DD, Q, s if (P or DD or Q) else 0)
                        spec = _ep.Spec(np.arange(1, p + 1), dd, np.arange(1, q + 1), np.arange(1, P + 1), DD,
                                        np.arange(1, Q + 1), sorder[3], len(_trend_names(tr)))
                        need = _min_obs(spec, method)
                        fit_rows = [j for j, v in enumerate(group) if v.size >= need]
                        if not fit_rows:
                            continue
                        # the panel fit without fit_arima's ConvergenceWarning: non-converged
                        # candidates are skipped below
                        parsed = _parse_orders(order, sorder)
                        b = _fit_panel([group[j] for j in fit_rows], None, None, parsed[:3], parsed[3:], tr, None,
                                       method, maxiter, order, sorder)
                        crit = getattr(b, ic)[: len(fit_rows)]
                        crit = np.where(b.converged[: len(fit_rows)], crit, np.inf)
                        if p + P or q + Q:
                            # auto.arima's guard: no AR or MA root within 1.01 of the unit circle
                            _, ar, ma = b.spec.polys(np.asarray(b.params, dtype=float)[: len(fit_rows)])
                            far = _ep.roots_ok(ar, _ROOT_MARGIN) & _ep.roots_ok(ma, _ROOT_MARGIN)
                            crit = np.where(far, crit, np.inf)
                        for j, c in zip(fit_rows, crit):
                            i = rows[j]
                            if c < best_ic[i]:
                                best_ic[i] = c
                                best[i] = (order, sorder)
    missing = [labels[i] for i in range(k) if best[i] is None]
    if missing:
        raise ValueError(f"no candidate order could be fitted to series {missing[:10]} (too short?)")
    chosen = [b for b in best if b is not None]
    out = pd.DataFrame(
        {
            "p": [b[0][0] for b in chosen], "d": [b[0][1] for b in chosen], "q": [b[0][2] for b in chosen],
            "P": [b[1][0] for b in chosen], "D": [b[1][1] for b in chosen], "Q": [b[1][2] for b in chosen],
            "s": [b[1][3] for b in chosen],
            "order": [b[0] for b in chosen], "seasonal_order": [b[1] for b in chosen], ic: best_ic,
        },
        index=pd.Index(labels, name="unique_id" if ids is not None else None),
    )
    return out
