"""Rolling-origin evaluation of ARIMA forecasts: :func:`cross_validation`.

Each window cuts every series at a forecast origin (the ``cutoff``), fits the model to what
comes before with :func:`tsconv.fit_arima` (the whole panel in one call) and forecasts the
next ``h`` observations. The result is statsforecast's ``cross_validation`` frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsconv._validation import as_int
from tsconv.arima import check_time_index
from tsconv.estimate import _as_long, _parse_long
from tsconv.estimate import fit_arima
from tsconv.forecast import check_level

__all__ = ["cross_validation"]


def _long(data: Any) -> pd.DataFrame:
    """A long frame ``unique_id``, ``ds``, ``y`` (and a DataFrame's regressor columns)."""
    if isinstance(data, pd.DataFrame):
        missing = [c for c in ("unique_id", "ds", "y") if c not in data.columns]
        if missing:
            raise ValueError(f"data as a DataFrame must be long with columns unique_id, ds, y; missing {missing}")
        if "_pos" in data.columns:
            raise ValueError("data has a column named '_pos', which cross_validation uses itself; rename it")
        return data
    if isinstance(data, pd.Series):
        idx = data.index
        ds = idx.to_timestamp() if isinstance(idx, pd.PeriodIndex) else idx
        return pd.DataFrame({"unique_id": data.name if data.name is not None else 0, "ds": np.asarray(ds), "y": data.to_numpy()})
    arr = np.asarray(data, dtype=float) if not isinstance(data, (list, tuple)) or np.ndim(data[0]) == 0 else None
    rows = [arr] if arr is not None and arr.ndim == 1 else (list(arr) if arr is not None else [np.asarray(v, float) for v in data])
    return pd.concat([pd.DataFrame({"unique_id": i, "ds": np.arange(len(v)), "y": v}) for i, v in enumerate(rows)], ignore_index=True)


def cross_validation(
    data: Any,
    h: int,
    step: int | None = None,
    n_windows: int = 1,
    *,
    order: tuple[Any, int, Any],
    seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
    level: Any = (95,),
    **fit_kwargs: Any,
) -> pd.DataFrame:
    """Rolling-origin forecasts of every series: fit before each cutoff, forecast ``h`` ahead.

    Parameters
    ----------
    data : pandas.DataFrame, pandas.Series or array_like
        A long panel (``unique_id``, ``ds``, ``y``), one series (a Series: ``ds`` is its
        index, periods of a PeriodIndex too; an array: positions ``0..n-1``), a 2-D array (one series per row) or a list
        of series. The other columns of a long panel are regressors, as in
        :func:`tsconv.fit_arima` (series of equal length): each window is fitted with their
        values up to its cutoff and forecast with their known values over its ``h`` test
        steps (statsforecast's ``cross_validation`` with exogenous columns).
    h : int
        Horizon of each window (>= 1).
    step : int, optional
        Observations between successive cutoffs (default ``h``: non-overlapping tests).
    n_windows : int, default 1
        Number of cutoffs; the last window's test ends with each series.
    order, seasonal_order
        The model, as in :func:`tsconv.fit_arima`.
    level : float or sequence of float, default (95,)
        Coverage of the prediction intervals, in percent.
    **fit_kwargs
        Passed to :func:`tsconv.fit_arima` (``trend``, ``method``, ``boxcox``, ``maxiter``).

    Returns
    -------
    pandas.DataFrame
        statsforecast's layout: ``unique_id``, ``ds``, ``cutoff`` (the last ``ds`` of the
        training part), ``y`` (the held-out value), ``mean``, ``lo-95``, ``hi-95`` (one pair
        per level); ``n_windows * h`` rows per series.

    Raises
    ------
    ValueError
        A bad ``h``, ``step``, ``n_windows`` or ``level``; a series too short for the windows;
        regressor columns with missing values or over series of unequal length; rows
        of a long panel without a ``unique_id`` or a ``ds``.

    Examples
    --------
    >>> import numpy as np
    >>> import tsconv
    >>> y = np.random.default_rng(0).standard_normal(120).cumsum()
    >>> cv = tsconv.cross_validation(y, h=6, step=6, n_windows=3, order=(1, 1, 0))
    >>> list(cv.columns), len(cv), sorted(cv["cutoff"].unique().tolist())
    (['unique_id', 'ds', 'cutoff', 'y', 'mean', 'lo-95', 'hi-95'], 18, [101, 107, 113])
    """
    h = as_int(h, "h", minimum=1)
    step = h if step is None else as_int(step, "step", minimum=1)
    n_windows = as_int(n_windows, "n_windows", minimum=1)
    levels = check_level(level)
    data = _as_long(data)
    if isinstance(data, pd.Series):
        check_time_index(data.index, "data")
    long = _long(data)
    # each series in time order (fit_arima parses and sorts ds the same way); rows without
    # a unique_id or a ds refused, not dropped by the groupby below
    long = _parse_long(long, "data").sort_values(["unique_id", "ds"], kind="stable")
    # observed=True: categories of unique_id without rows are no series
    long = long.assign(_pos=long.groupby("unique_id", sort=False, observed=True).cumcount())
    n = long.groupby("unique_id", sort=False, observed=True)["y"].transform("size").to_numpy()
    # the regressors, as fit_arima takes them: the columns other than unique_id, ds and y
    xcols = [c for c in long.columns if c not in ("unique_id", "ds", "y", "_pos")]
    span = h + (n_windows - 1) * step
    short = long.loc[n <= span, "unique_id"].unique().tolist()
    if short:
        raise ValueError(f"series {short[:5]} have no more than h + (n_windows - 1) * step = {span} observations: "
                         "nothing left to fit on")
    out = []
    pos = long["_pos"].to_numpy()
    for w in range(n_windows):
        end = n - span + w * step  # training length of each row's series
        train = long[pos < end][["unique_id", "ds", "y", *xcols]]
        test = long[(pos >= end) & (pos < end + h)].sort_values(["unique_id", "_pos"], kind="stable")
        cut = long[pos == end - 1].set_index("unique_id")["ds"]
        fit = fit_arima(train, order, seasonal_order=seasonal_order, **fit_kwargs)
        # each window's model forecasts with the regressors' known values over its test part
        # (statsforecast's cross_validation with exogenous columns)
        future = test[["unique_id", "ds", *xcols]] if xcols else None
        fc = fit.forecast(h, exog_future=future, level=levels).to_frame()
        if not np.array_equal(fc["unique_id"].to_numpy(), test["unique_id"].to_numpy()):
            raise AssertionError("forecasts and held-out values are not aligned")  # pragma: no cover
        frame = fc.drop(columns="ds")
        frame.insert(1, "ds", test["ds"].to_numpy())
        frame.insert(2, "cutoff", cut.reindex(frame["unique_id"]).to_numpy())
        frame.insert(3, "y", test["y"].to_numpy())
        out.append(frame)
    cv = pd.concat(out, ignore_index=True).sort_values(["unique_id", "cutoff", "ds"], kind="stable").reset_index(drop=True)
    if isinstance(data, pd.Series) and isinstance(data.index, pd.PeriodIndex):  # periods in, periods out
        for c in ("ds", "cutoff"):
            cv[c] = cv[c].dt.to_period(data.index.freq)
    return cv
