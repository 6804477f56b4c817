"""Panels on Dask: fit, forecast and verify every series of a long ``dask.dataframe``.

:func:`fit_arima`, :func:`forecast` and :func:`verify` take a long frame (``unique_id``,
``ds``, ``y``), put every series in one partition, and run one batched
:func:`tsconv.fit_arima` per partition.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tsconv._validation import as_int
from tsconv.forecast import check_level, level_label, reject_old_keywords

__all__ = ["fit_arima", "forecast", "verify"]


# ---------------------------------------------------------------------------------------
# Panels: many series in a long Dask DataFrame
# ---------------------------------------------------------------------------------------
_LONG = ("unique_id", "ds", "y")


def _by_series(df: Any) -> Any:
    """The panel with every series in exactly one partition, ``unique_id`` a column:
    shuffled on ``unique_id`` (a hash partitioning: whole series move, none is split).

    Known divisions are no guarantee: ``read_parquet(..., calculate_divisions=True)``
    of files split by size gives divisions ``('a', 'b', 'c')`` with series ``'b'`` in
    both partitions, which fitted it twice, on each half. Columns other than
    ``unique_id``, ``ds`` and ``y`` (regressors, to :func:`tsconv.fit_arima`) are
    refused: these functions fit without regressors.
    """
    import dask.dataframe as dd

    if not isinstance(df, dd.DataFrame):
        raise TypeError(
            f"df must be a dask.dataframe.DataFrame in long format (unique_id, ds, y), got {type(df).__name__} "
            "(use tsconv.fit_arima for an in-memory DataFrame)"
        )
    indexed = df.index.name == "unique_id" and "unique_id" not in df.columns
    missing = [c for c in _LONG if c not in df.columns and not (c == "unique_id" and indexed)]
    if missing:
        raise ValueError(f"df needs columns 'unique_id', 'ds' and 'y' (unique_id may be the index); missing {missing}")
    if df["y"].dtype.kind not in "iuf":
        raise TypeError(f"df['y'] must be real numeric, got dtype {df['y'].dtype}")
    extra = [c for c in df.columns if c not in _LONG]
    if extra:
        raise ValueError(f"df has columns other than 'unique_id', 'ds' and 'y': {extra[:10]}; tsconv.dask fits "
                         "without regressors (tsconv.fit_arima in memory takes them as regressors): drop them, "
                         "e.g. df[['unique_id', 'ds', 'y']]")
    if indexed:
        df = df.reset_index()
    return df[list(_LONG)].shuffle(on="unique_id")


def _fit_kwargs(order: Any, seasonal_order: Any, trend: str, method: str, maxiter: int) -> dict[str, Any]:
    return {"order": order, "seasonal_order": seasonal_order, "trend": trend, "method": method, "maxiter": maxiter}


def _sorted_panel(pdf: Any) -> Any:
    return pdf.sort_values(["unique_id", "ds"], kind="stable")


def _fit_partition(pdf: Any, kw: dict[str, Any], meta: Any) -> Any:
    from tsconv.estimate import fit_arima

    if len(pdf) == 0:
        return meta
    out = fit_arima(pdf, **kw).to_frame()
    return out.astype(meta.dtypes.to_dict())


def _forecast_partition(pdf: Any, h: int, level: tuple[float, ...], kw: dict[str, Any], meta: Any) -> Any:
    from tsconv.estimate import fit_arima

    if len(pdf) == 0:
        return meta
    fc = fit_arima(pdf, **kw).forecast(h, level=level).to_frame()
    kinds = meta.dtypes.to_dict()
    if pd.api.types.is_datetime64_any_dtype(fc["ds"]):  # dates (parsed from strings too) stay as fit_arima gives them
        kinds.pop("ds")
    return fc.astype(kinds)


def _verify_partition(pdf: Any, h: int, alpha: float, kw: dict[str, Any], meta: Any) -> Any:
    from tsconv.estimate import fit_arima

    if len(pdf) == 0:
        return meta
    pdf = _sorted_panel(pdf)
    # observed=True: the categories of a categorical unique_id this partition has no rows of are no series
    from_end = pdf.groupby("unique_id", sort=False, observed=True).cumcount(ascending=False).to_numpy()
    train, test = pdf[from_end >= h], pdf[from_end < h]
    short = sorted(set(test["unique_id"]) - set(train["unique_id"]), key=str)
    if short:
        raise ValueError(f"series {short[:5]} have no more than h={h} observations: nothing left to fit on")
    cover = 100.0 * (1.0 - alpha)
    fc = fit_arima(train, **kw).forecast(h, level=(cover,)).to_frame()
    # forecasts and held-out values both run by unique_id (sorted), then time
    if not np.array_equal(fc["unique_id"].to_numpy(), test["unique_id"].to_numpy()):
        raise AssertionError("forecasts and held-out values are not aligned")  # pragma: no cover
    y, mean = test["y"].to_numpy(dtype=np.float64), fc["mean"].to_numpy()
    err = y - mean
    lab = level_label(cover)
    inside = (fc[f"lo-{lab}"].to_numpy() <= y) & (y <= fc[f"hi-{lab}"].to_numpy())
    scores = pd.DataFrame({"unique_id": fc["unique_id"].to_numpy(), "err": err, "abs": np.abs(err), "sq": err**2, "inside": inside})
    g = scores.groupby("unique_id", sort=True, observed=True)
    out = pd.DataFrame(
        {
            "n_train": train.groupby("unique_id", sort=True, observed=True).size().to_numpy(),
            "bias": g["err"].mean().to_numpy(),
            "mae": g["abs"].mean().to_numpy(),
            "rmse": np.sqrt(g["sq"].mean().to_numpy()),
            "coverage": g["inside"].mean().to_numpy(),
        },
        index=pd.Index(g["err"].mean().index, name="unique_id"),
    )
    return out.reset_index().astype(meta.dtypes.to_dict())


def _meta_fit(df: Any, kw: dict[str, Any]) -> Any:
    """Columns and dtypes of ``ARIMABatch.to_frame`` for this model (a throwaway fit)."""
    from tsconv.estimate import fit_arima

    s = int(kw["seasonal_order"][3]) if len(kw["seasonal_order"]) == 4 else 0

    def span(part: Any) -> int:  # an order's reach: p, or its largest lag when given as a list
        return int(max(part, default=0)) if isinstance(part, (list, tuple, np.ndarray)) else int(part)

    n = 200 + 20 * s
    try:  # long enough for the model (a long-lag one too): the probe says only which columns
        (p, d, q), (P, D, Q) = kw["order"], kw["seasonal_order"][:3]
        n += 2 * (span(p) + int(d) + span(q) + s * (span(P) + int(D) + span(Q)))
    except (TypeError, ValueError):
        pass  # a bad order: the probe's fit names it
    rng = np.random.default_rng(0)
    probe = fit_arima(np.cumsum(rng.standard_normal((2, n)), axis=-1) * 0.1 + rng.standard_normal((2, n)), **kw)
    frame = probe.to_frame().iloc[:0]
    frame.index = frame.index.astype(df["unique_id"].dtype)
    return frame


def _check_h(h: Any, alpha: Any) -> tuple[int, float]:
    h = as_int(h, "h", minimum=1)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    return h, float(alpha)


def fit_arima(
    df: Any,
    order: tuple[Any, int, Any],
    seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
    trend: str = "n",
    method: str = "css-ml",
    *,
    maxiter: int = 100,
) -> Any:
    """Fit one SARIMA order to every series of a long Dask DataFrame.

    Parameters
    ----------
    df : dask.dataframe.DataFrame
        Long format: columns ``unique_id``, ``ds`` (time stamps) and ``y`` (finite
        values); ``unique_id`` may be the index. Series may have different lengths.
        It is shuffled on ``unique_id`` so that every series lies in one partition
        (known divisions do not promise that). Other columns are refused: the fit has
        no regressors.
    order, seasonal_order, trend, method, maxiter
        As in :func:`tsconv.fit_arima`.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per series, indexed by ``unique_id``: the columns of
        ``ARIMABatch.to_frame()`` (parameters, ``sigma2``, ``llf``, ``aic``, ``aicc``,
        ``bic``, ``nobs``, ``converged``). Rows come in partition order; sort the
        computed frame to compare it with an in-memory one.

    Raises
    ------
    TypeError
        If ``df`` is not a Dask DataFrame or ``y`` is not numeric.
    ValueError
        If a column is missing; errors of :func:`tsconv.fit_arima` (orders, too short
        series, non-finite values) at compute time.

    See Also
    --------
    forecast, verify, tsconv.fit_arima

    Notes
    -----
    Each partition is one batched :func:`tsconv.fit_arima` call. Least-squares and
    conditional-sum-of-squares estimates (``'css'``, ``'ols'``, ``'yule-walker'``,
    ``'burg'``) equal the in-memory batch to rounding; the maximum-likelihood methods
    agree to the optimizer's tolerance (a batch stops iterating as a whole).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import numpy as np
    >>> import pandas as pd
    >>> import tsconv.dask
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 100),
    ...                    "ds": np.tile(np.arange(100), 3), "y": rng.standard_normal(300)})
    >>> fits = tsconv.dask.fit_arima(dd.from_pandas(df, npartitions=2), (1, 0, 0), method="css")
    >>> fits.compute().sort_index().index.tolist()
    ['a', 'b', 'c']
    """
    kw = _fit_kwargs(order, seasonal_order, trend, method, maxiter)
    panel = _by_series(df)
    meta = _meta_fit(panel, kw)
    return panel.map_partitions(_fit_partition, kw, meta, meta=meta, enforce_metadata=False)


def forecast(
    df: Any,
    h: int,
    order: tuple[Any, int, Any],
    seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
    trend: str = "n",
    method: str = "css-ml",
    *,
    level: Any = (95,),
    maxiter: int = 100,
    **old: Any,
) -> Any:
    """Fit every series of a long Dask DataFrame and forecast it ``h`` steps ahead.

    Parameters
    ----------
    df : dask.dataframe.DataFrame
        Long format ``unique_id``, ``ds``, ``y`` (see :func:`fit_arima`).
    h : int
        Horizon, >= 1.
    order, seasonal_order, trend, method, maxiter
        As in :func:`tsconv.fit_arima`.
    level : float or sequence of float, default (95,)
        Coverage of the (Gaussian) prediction intervals, in percent.

    Returns
    -------
    dask.dataframe.DataFrame
        Long forecasts: ``unique_id``, ``ds`` (continuing each series' stamps),
        ``mean``, ``lo-95``, ``hi-95`` (one pair per level) -- the frame
        ``tsconv.fit_arima(pdf, ...).forecast(h, level=level).to_frame()`` gives for the
        whole panel in memory, with the series in partition order.

    Raises
    ------
    TypeError, ValueError
        As :func:`fit_arima`; a bad ``h`` or ``level``; the old keyword ``alpha``.

    See Also
    --------
    fit_arima, verify

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import numpy as np
    >>> import pandas as pd
    >>> import tsconv.dask
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 80),
    ...                    "ds": np.tile(np.arange(80), 2), "y": rng.standard_normal(160)})
    >>> fc = tsconv.dask.forecast(dd.from_pandas(df, npartitions=2), 3, (1, 0, 0), method="css").compute()
    >>> fc.sort_values(["unique_id", "ds"])[["unique_id", "ds"]].to_numpy().tolist()
    [['a', 80], ['a', 81], ['a', 82], ['b', 80], ['b', 81], ['b', 82]]
    """
    reject_old_keywords("forecast", old)
    h = as_int(h, "h", minimum=1)
    levels = check_level(level)
    kw = _fit_kwargs(order, seasonal_order, trend, method, maxiter)
    panel = _by_series(df)
    cols = ["mean"] + [f"{side}-{level_label(v)}" for v in levels for side in ("lo", "hi")]
    ds_kind = panel["ds"].dtype
    if pd.api.types.is_object_dtype(ds_kind) or pd.api.types.is_string_dtype(ds_kind):
        ds_kind = np.dtype("datetime64[ns]")  # ISO 8601 strings: fit_arima forecasts dates
    meta = pd.DataFrame(
        {
            "unique_id": pd.Series([], dtype=panel["unique_id"].dtype),
            "ds": pd.Series([], dtype=ds_kind),
            **{c: pd.Series([], dtype=np.float64) for c in cols},
        }
    )
    return panel.map_partitions(_forecast_partition, h, levels, kw, meta, meta=meta, enforce_metadata=False)


def verify(
    df: Any,
    h: int,
    order: tuple[Any, int, Any],
    seasonal_order: tuple[Any, int, Any, int] = (0, 0, 0, 0),
    trend: str = "n",
    method: str = "css-ml",
    *,
    alpha: float = 0.05,
    maxiter: int = 100,
) -> Any:
    """Forecast verification: hold out the last ``h`` points of every series and score.

    Each series is fitted on all but its last ``h`` observations, forecast ``h`` steps,
    and the forecasts compared with the held-out values.

    Parameters
    ----------
    df : dask.dataframe.DataFrame
        Long format ``unique_id``, ``ds``, ``y`` (see :func:`fit_arima`); every series
        needs more than ``h`` observations (and enough left for the model).
    h : int
        Held-out horizon, >= 1.
    order, seasonal_order, trend, method, maxiter
        As in :func:`tsconv.fit_arima`.
    alpha : float, default 0.05
        Interval level scored by ``coverage``.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per series: ``unique_id``, ``n_train``, ``bias`` (mean of
        ``y - forecast``), ``mae``, ``rmse`` and ``coverage`` (share of held-out values
        inside the ``1 - alpha`` interval).

    Raises
    ------
    TypeError, ValueError
        As :func:`forecast`; at compute time, a series with at most ``h`` points.

    See Also
    --------
    forecast

    Notes
    -----
    ``mae = mean |e|``, ``rmse = sqrt(mean e^2)`` with ``e = y - yhat`` over the
    held-out horizon (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*,
    3rd ed., section 5.8).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import numpy as np
    >>> import pandas as pd
    >>> import tsconv.dask
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 50), "ds": np.tile(np.arange(50), 2),
    ...                    "y": np.r_[np.ones(50), 2 * np.ones(50)] + np.tile([0.0, 0.1], 50)})
    >>> scores = tsconv.dask.verify(dd.from_pandas(df, npartitions=1), 4, (0, 0, 0), trend="c", method="css")
    >>> scores.compute()[["unique_id", "n_train"]].to_numpy().tolist()
    [['a', 46], ['b', 46]]
    """
    h, alpha = _check_h(h, alpha)
    kw = _fit_kwargs(order, seasonal_order, trend, method, maxiter)
    panel = _by_series(df)
    meta = pd.DataFrame(
        {
            "unique_id": pd.Series([], dtype=panel["unique_id"].dtype),
            "n_train": pd.Series([], dtype=np.int64),
            **{c: pd.Series([], dtype=np.float64) for c in ("bias", "mae", "rmse", "coverage")},
        }
    )
    return panel.map_partitions(_verify_partition, h, alpha, kw, meta, meta=meta, enforce_metadata=False)
