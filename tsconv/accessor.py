"""pandas accessors: ``series.tsconv.<op>(...)`` and ``frame.tsconv.<op>(...)``.

A thin shell: every method calls the library function of the same name and puts the
result back on the original index (warm-up region NaN, like ``rolling``). Registered by
``import tsconv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tsconv._validation import as_bool
from tsconv.decompose import DecomposeModel, _period_of, decompose
from tsconv.engine import _pandas_values, apply

if TYPE_CHECKING:
    from tsconv.correlation import Mode

__all__ = ["SeriesAccessor", "DataFrameAccessor"]


class _Common:
    _obj: Any

    def apply(self, op: Any, **kwargs: Any) -> Any:
        """:func:`tsconv.apply` on this object (same index; pandas out)."""
        return apply(op, self._obj, **kwargs)

    def sma(self, n: int, **kwargs: Any) -> Any:
        """Simple moving average of ``n`` points (:func:`tsconv.sma`)."""
        from tsconv.kernels import sma

        return self.apply(sma(n, **kwargs))

    def wma(self, n: int, **kwargs: Any) -> Any:
        """Linearly weighted moving average (:func:`tsconv.wma`)."""
        from tsconv.kernels import wma

        return self.apply(wma(n, **kwargs))

    def ema(self, *, adjust: bool = True, **kwargs: Any) -> Any:
        """Exponential moving average, exact (:func:`tsconv.ema`).

        ``adjust=True`` renormalizes the weights over the observations seen so far, as
        ``pandas.ewm(...).mean()`` does by default; ``adjust=False`` runs the recursion
        started at the first observation (``ewm(..., adjust=False)``).
        """
        from tsconv.kernels import ema

        adjust = as_bool(adjust, "adjust")
        tr = ema(**kwargs)
        if adjust:
            return self.apply(tr, nan_policy="omit")
        return self._ema_recursive(tr)

    def _ema_recursive(self, tr: Any) -> Any:
        if isinstance(self._obj, pd.DataFrame):
            self._wide()  # type: ignore[attr-defined]  # a long panel is refused as apply refuses it
        vals = _pandas_values(self._obj)  # float (an integer x - x_0 would wrap around)
        if not np.all(np.isfinite(vals)):
            raise ValueError("ema(adjust=False) needs finite data; use adjust=True to skip missing values")
        # the recursion started at y_0 = x_0: the filter has DC gain 1, so run it from zero
        # state on x - x_0 and add x_0 back (the identity tsconv.ema documents)
        obj = self._obj.__class__(vals, index=self._obj.index, **(
            {"name": self._obj.name} if isinstance(self._obj, pd.Series) else {"columns": self._obj.columns}))
        first = obj.iloc[0]
        return apply(tr, obj - first) + first

    def gaussian(self, n: int, std: float, **kwargs: Any) -> Any:
        """Gaussian smoother of ``n`` taps (:func:`tsconv.gaussian`)."""
        from tsconv.kernels import gaussian

        return self.apply(gaussian(n, std, **kwargs))

    def henderson(self, n: int) -> Any:
        """Henderson trend filter of ``n`` terms (:func:`tsconv.henderson`)."""
        from tsconv.kernels import henderson

        return self.apply(henderson(n))

    def savgol(self, n: int, polyorder: int, deriv: int = 0) -> Any:
        """Savitzky-Golay smoother / differentiator (:func:`tsconv.savgol`)."""
        from tsconv.kernels import savgol

        return self.apply(savgol(n, polyorder, deriv=deriv))

    def diff(self, d: int = 1) -> Any:
        """``(1 - B)^d x`` (:func:`tsconv.difference`); first ``d`` values NaN."""
        from tsconv.kernels import difference

        return self.apply(difference(d))

    def sdiff(self, period: int, D: int = 1) -> Any:
        """``(1 - B^period)^D x`` (:func:`tsconv.seasonal_difference`)."""
        from tsconv.kernels import seasonal_difference

        return self.apply(seasonal_difference(period, D))


class SeriesAccessor(_Common):
    """``series.tsconv``: tsconv operations on a numeric pandas Series.

    Examples
    --------
    >>> import pandas as pd
    >>> import tsconv
    >>> s = pd.Series([1.0, 2.0, 4.0, 7.0], index=list("abcd"), name="y")
    >>> s.tsconv.diff()
    a    NaN
    b    1.0
    c    2.0
    d    3.0
    Name: y, dtype: float64
    """

    def __init__(self, obj: pd.Series) -> None:
        if not (pd.api.types.is_numeric_dtype(obj.dtype) and not pd.api.types.is_bool_dtype(obj.dtype)):
            raise AttributeError(f"the .tsconv accessor needs a numeric Series, got dtype {obj.dtype}")
        if pd.api.types.is_complex_dtype(obj.dtype):
            raise AttributeError(f"the .tsconv accessor needs a real Series, got dtype {obj.dtype}")
        self._obj = obj

    def decompose(self, period: int | None = None, model: DecomposeModel = "additive") -> pd.DataFrame:
        """Classical decomposition (:func:`tsconv.decompose`); ``period`` defaults from the index frequency."""
        if period is None:
            period = _period_of(self._obj.index)
            if period is None:
                raise ValueError("period must be given: the index has no frequency to infer it from")
        return decompose(self._obj, period, model=model)

    def xcorr(self, other: Any, mode: Mode = "full") -> pd.Series:
        """Cross-correlation with ``other`` (:func:`tsconv.xcorr`), indexed by lag."""
        from tsconv.correlation import correlation_lags, xcorr

        y = other.to_numpy() if isinstance(other, pd.Series) else other
        x = _pandas_values(self._obj)
        c = xcorr(x, y, mode=mode)
        return pd.Series(c, index=pd.Index(correlation_lags(x.size, np.size(y), mode), name="lag"), name="xcorr")

    def ncc(self, needle: Any) -> pd.Series:
        """Normalized cross-correlation of ``needle`` with every window (:func:`tsconv.ncc`).

        Indexed by the window's first label (``len(series) - len(needle) + 1`` values).
        """
        from tsconv.correlation import ncc

        nd = np.asarray(needle.to_numpy() if isinstance(needle, pd.Series) else needle, dtype=float)
        c = ncc(nd, self._obj.to_numpy(dtype=float))
        return pd.Series(c, index=self._obj.index[: c.size], name="ncc")

    def prewhiten(self, order: int) -> pd.Series:
        """Residuals of an AR(``order``) inverse filter fitted to the series (:func:`tsconv.prewhiten`)."""
        from tsconv.whiten import prewhiten

        out = prewhiten(self._obj.to_numpy(dtype=float), order=order)
        out = np.asarray(out[0] if isinstance(out, tuple) else out)
        return pd.Series(out, index=self._obj.index, name=self._obj.name)

    def arima(self, order: Any, seasonal_order: Any = (0, 0, 0, 0), **kwargs: Any) -> Any:
        """Fit a (seasonal) ARIMA with :func:`tsconv.fit_arima`: the fitted model keeps this
        series (and its index) and forecasts with ``forecast(h, level=...)``."""
        from tsconv.estimate import fit_arima

        return fit_arima(self._obj, order, seasonal_order=seasonal_order, **kwargs)

    def from_statsmodels(self, results: Any) -> BoundModel:
        """A statsmodels ARIMA / SARIMAX / AutoReg fit as a tsconv model bound to this series."""
        from tsconv.arima import ARIMA

        return BoundModel(ARIMA.from_statsmodels(results), self._obj)

    # -- figures: thin shells over tsconv.plot (the ``plot`` extra) ----------------------------
    def plot_forecast(self, model: Any, h: int, *, level: Any = (95,), last: int | None = 120, **kwargs: Any) -> Any:
        """Forecast ``h`` steps ahead with ``model`` and draw it (:func:`tsconv.plot.plot_forecast`).

        ``model`` is a :class:`tsconv.ARIMA` (or what ``.tsconv.arima(...)`` returns); the title
        and y label come from the series' name, the legend names each level.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np, pandas as pd, tsconv
        >>> s = pd.Series(np.cumsum(np.ones(40)), name="stock (units)")
        >>> fig = s.tsconv.plot_forecast(tsconv.ARIMA((0, 1, 1), ma=[0.3]), 8)
        >>> fig.axes[0].get_title()
        'stock (units): 8-step forecast, ARIMA(0,1,1)'
        """
        from tsconv.estimate import _forecast_with
        from tsconv.plot import plot_forecast

        # a fit's own transform (Box-Cox) applies: its model alone works on the transformed scale
        fc = _forecast_with(model, self._obj, h, level=level)
        return plot_forecast(fc, self._obj, model=getattr(model, "model", model), last=last, **kwargs)

    def plot_decomposition(self, period: int | None = None, model: DecomposeModel = "additive", **kwargs: Any) -> Any:
        """Draw the classical decomposition (:func:`tsconv.plot.plot_decomposition`), titled by the series' name.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np, pandas as pd
        >>> s = pd.Series(np.tile([1.0, -1.0, 2.0, -2.0], 12) + np.arange(48.0), name="load")
        >>> s.tsconv.plot_decomposition(4).get_suptitle()
        'Classical decomposition of load'
        """
        from tsconv.plot import plot_decomposition

        name = None if self._obj.name is None else str(self._obj.name)
        return plot_decomposition(self.decompose(period, model=model), name=name, **kwargs)


class BoundModel:
    """A tsconv ARIMA bound to the series it describes: forecasts come back dated.

    Attributes
    ----------
    model : tsconv.ARIMA
        The model (its parameters, kernels and diagnostics).
    series : pandas.Series
        The data the model filters.
    """

    def __init__(self, model: Any, series: pd.Series) -> None:
        self.model = model
        self.series = series

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def __repr__(self) -> str:
        return f"BoundModel({self.model!r}, series={self.series.name!r}, n={len(self.series)})"

    def residuals(self, **kwargs: Any) -> pd.Series:
        """Residuals on the series' index (:meth:`tsconv.ARIMA.residuals`)."""
        return self.model.residuals(self.series, **kwargs)

    def predict(self, **kwargs: Any) -> pd.Series:
        """One-step in-sample predictions on the series' index (:meth:`tsconv.ARIMA.predict`)."""
        return self.model.predict(self.series, **kwargs)

    def forecast(self, h: int, exog_future: Any = None, *, level: Any = (95,), **kwargs: Any) -> Any:
        """Forecast ``h`` steps ahead: a :class:`tsconv.Forecast` on the next dates of the
        series' frequency (or the next integers), intervals at ``level`` percent."""
        return self.model.forecast(self.series, h, exog_future, level=level, **kwargs)


class DataFrameAccessor(_Common):
    """``frame.tsconv``: the same operations column by column (vectorized), index and columns kept.

    Examples
    --------
    >>> import pandas as pd
    >>> import tsconv
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [0.0, 0.0, 3.0]})
    >>> df.tsconv.diff()
         a    b
    0  NaN  NaN
    1  1.0  0.0
    2  2.0  3.0
    """

    def __init__(self, obj: pd.DataFrame) -> None:
        self._long = {"unique_id", "ds", "y"} <= set(obj.columns)
        bad = [c for c, t in obj.dtypes.items() if not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)]
        if bad and not self._long:
            raise AttributeError(
                "the .tsconv accessor needs numeric columns (wide: one series per column) or a long-format "
                f"panel with columns unique_id, ds, y; got non-numeric columns {bad}"
            )
        self._obj = obj

    def apply(self, op: Any, **kwargs: Any) -> Any:
        """:func:`tsconv.apply` column by column (wide frames only)."""
        if self._long:
            raise ValueError("column-wise operations need a wide frame (one series per column); "
                             "pivot the long panel with frame.pivot(index='ds', columns='unique_id', values='y')")
        return apply(op, self._obj, **kwargs)

    def _wide(self) -> pd.DataFrame:
        if self._long:
            raise ValueError("this operation needs a wide frame (one series per column); use frame.tsconv.fit for a long panel")
        return self._obj

    def decompose(self, period: int | None = None, model: DecomposeModel = "additive") -> pd.DataFrame:
        """Classical decomposition of every column: columns ``(column, component)``."""
        frame = self._wide()
        # by position: repeated column names stay repeated, as pandas keeps them
        parts = [frame.iloc[:, j].tsconv.decompose(period, model=model) for j in range(frame.shape[1])]
        return pd.concat(parts, axis=1, keys=list(frame.columns))

    def _columns(self, method: str, *args: Any, **kwargs: Any) -> pd.DataFrame:
        frame = self._wide()
        # by position: repeated column names stay repeated, as pandas keeps them
        parts = [getattr(frame.iloc[:, j].tsconv, method)(*args, **kwargs) for j in range(frame.shape[1])]
        out = pd.concat(parts, axis=1)
        out.columns = frame.columns
        return out

    def xcorr(self, other: Any, mode: Mode = "full") -> pd.DataFrame:
        """Cross-correlation of every column with ``other``, indexed by lag."""
        return self._columns("xcorr", other, mode=mode)

    def ncc(self, needle: Any) -> pd.DataFrame:
        """Normalized cross-correlation of ``needle`` with every window of every column."""
        return self._columns("ncc", needle)

    def prewhiten(self, order: int) -> pd.DataFrame:
        """Each column through its own fitted AR(``order``) inverse filter."""
        return self._columns("prewhiten", order)

    def arima(self, order: Any, seasonal_order: Any = (0, 0, 0, 0), **kwargs: Any) -> Any:
        """Fit every column with :func:`tsconv.fit_arima` in one batched call.

        Returns the batch keyed by column name; its ``forecast(h)`` is a
        :class:`tsconv.BatchForecast` whose ``to_frame()`` is the long frame (``unique_id`` =
        column, ``ds`` continuing the index, ``mean``, ``lo-95``, ``hi-95``).
        """
        frame = self._wide()
        long = frame.rename_axis("ds").reset_index().melt(id_vars="ds", var_name="unique_id", value_name="y")
        return self.__class__(long).fit(order, seasonal_order=seasonal_order, **kwargs)

    def fit(self, order: Any, seasonal_order: Any = (0, 0, 0, 0), **kwargs: Any) -> Any:
        """Batch-fit every series of a long-format panel (``unique_id``, ``ds``, ``y``) with :func:`tsconv.fit_arima`."""
        from tsconv.estimate import fit_arima

        return fit_arima(self._obj, order, seasonal_order=seasonal_order, **kwargs)


def register() -> None:
    """Register the accessors (idempotent; ``import tsconv`` calls it)."""
    import warnings

    with warnings.catch_warnings():
        # re-registration on reload warns; the accessor is ours
        warnings.simplefilter("ignore", UserWarning)
        pd.api.extensions.register_series_accessor("tsconv")(SeriesAccessor)
        pd.api.extensions.register_dataframe_accessor("tsconv")(DataFrameAccessor)
