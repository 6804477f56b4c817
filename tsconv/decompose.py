"""Classical seasonal decomposition: a centred moving average and seasonal means.

The trend is the series convolved with :func:`tsconv.centered_ma` (the 2 x m filter for
an even period); the seasonal component is the mean of the detrended series at each
phase, centred to sum (or average, multiplicatively) to zero (one); the residual is
what is left. This is the algorithm of ``statsmodels.tsa.seasonal.seasonal_decompose``
with its defaults (two-sided filter, no trend extrapolation), computed by the engine.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from tsconv._compat import infer_freq
from tsconv._validation import as_float_array, as_int, check_option
from tsconv.engine import apply

__all__ = ["decompose"]

DecomposeModel = Literal["additive", "multiplicative"]


def decompose(x: ArrayLike, period: int, model: DecomposeModel = "additive") -> pd.DataFrame:
    """Classical decomposition into trend, seasonal and residual components.

    Parameters
    ----------
    x : array_like or pandas.Series
        One series, finite except for NaN (which propagate through the trend).
    period : int
        Season length (>= 2), e.g. 12 for monthly data.
    model : {'additive', 'multiplicative'}, default 'additive'
        ``x = trend + seasonal + resid`` or ``x = trend * seasonal * resid``.

    Returns
    -------
    pandas.DataFrame
        Columns ``observed``, ``trend``, ``seasonal``, ``resid`` on the series' index
        (a RangeIndex for an array). The trend and residual are NaN for the first and
        last ``period // 2`` points.

    Raises
    ------
    ValueError
        If ``period < 2``, the series holds fewer than two full periods, an infinite
        value, or a PeriodIndex with periods missing (each season's values would be
        averaged with its neighbours'), or a multiplicative model meets a non-positive
        value.

    Notes
    -----
    Equal to ``statsmodels.tsa.seasonal.seasonal_decompose(x, period=period,
    model=model)`` (Kendall & Stuart; Brockwell & Davis, *Introduction to Time Series
    and Forecasting*, sec. 1.5).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import decompose
    >>> t = np.arange(48.0)
    >>> parts = decompose(0.5 * t + np.tile([1.0, -1.0, 2.0, -2.0], 12), period=4)
    >>> np.round(parts["seasonal"].to_numpy()[:4], 6)
    array([ 1., -1.,  2., -2.])
    >>> round(float(parts["trend"].iloc[10]), 6)
    5.0
    """
    from tsconv.kernels import centered_ma

    period = as_int(period, "period", minimum=2)
    model = check_option(model, DecomposeModel, "model")
    index = x.index if isinstance(x, pd.Series) else None
    if isinstance(index, pd.PeriodIndex) and len(index) > 1 and not np.all(np.diff(index.asi8) == index.freq.n):
        # the seasons are taken by position: a missing period shifts every later one
        raise ValueError(f"x's PeriodIndex must hold consecutive periods in order, got {len(index)} periods from "
                         f"{index[0]} to {index[-1]} (freq {index.freqstr}) with some missing or out of order; "
                         f"reindex it first, e.g. on pd.period_range({str(index[0])!r}, {str(index[-1])!r}, "
                         f"freq={index.freqstr!r}) (missing values NaN)")
    arr = as_float_array(x.to_numpy() if isinstance(x, pd.Series) else x, "x", ndim=1, keep_float32=False)
    inf = np.flatnonzero(np.isinf(arr))
    if inf.size:  # not a missing value (NaN is)
        raise ValueError(f"x must be finite except for NaN, got {arr[inf[0]]} at index {int(inf[0])}")
    n = arr.size
    if n < 2 * period:
        raise ValueError(f"x must hold at least two full periods ({2 * period} observations), got {n}")
    if model == "multiplicative" and np.any(arr[np.isfinite(arr)] <= 0):
        raise ValueError("model='multiplicative' needs a strictly positive series")
    trend = apply(centered_ma(period), arr)
    detrended = arr / trend if model == "multiplicative" else arr - trend
    with np.errstate(invalid="ignore"):
        means = np.array([np.nanmean(detrended[i::period]) for i in range(period)])
    means = means / means.mean() if model == "multiplicative" else means - means.mean()
    seasonal = np.tile(means, n // period + 1)[:n]
    resid = arr / seasonal / trend if model == "multiplicative" else detrended - seasonal
    return pd.DataFrame(
        {"observed": arr, "trend": trend, "seasonal": seasonal, "resid": resid},
        index=index if index is not None else pd.RangeIndex(n),
    )


def _period_of(index: Any) -> int | None:
    """The natural season length of an index's frequency: its ``freq``, else the one pandas
    infers from its dates (as :func:`tsconv.fit_arima`); None without a frequency. A
    frequency without a whole-number season (weekly: 52.18 weeks a year; multiples such as
    2 months or 3 hours) is a ValueError naming it and asking for ``period``."""
    off = infer_freq(index)
    if off is None:
        return None
    o = pd.offsets
    if off.n == 1:
        for kinds, period in (((o.MonthEnd, o.MonthBegin, o.BusinessMonthEnd, o.BusinessMonthBegin), 12),
                              ((o.QuarterEnd, o.QuarterBegin, o.BQuarterEnd, o.BQuarterBegin), 4),
                              ((o.Day,), 7), ((o.BusinessDay,), 5), ((o.Hour,), 24)):
            if isinstance(off, kinds):
                return period
    raise ValueError(f"period must be given: the index's frequency {off.freqstr} has no whole-number season "
                     "to take as the period; pass period=, e.g. decompose(period=...)")
