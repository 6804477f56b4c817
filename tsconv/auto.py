"""Automatic ARIMA for one series or a whole panel: R's ``auto.arima`` rules, batched.

:class:`AutoARIMA` chooses a seasonal ARIMA model for every series of a panel and keeps
the fitted models; :func:`auto_arima` is the one call from data to forecasts with
intervals. The search (:mod:`tsconv._stepwise`) runs in lockstep over the panel: each
candidate model is fitted, in one batched optimization, to every series that needs it.

Differences from R's ``forecast::auto.arima`` are listed in the documentation
(docs/estimation.md, "Automatic ARIMA").
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.stats
from numpy.typing import NDArray

from tsconv import _conformal, _stepwise
from tsconv._validation import as_int, check_option, check_real_dtype
from tsconv.arima import ARIMA, check_time_index
from tsconv.engine import _pandas_values
from tsconv.estimate import InfoCriterion, _as_long, _make_model, _batch_residuals, _check_next_stamps, _future_stamps, _one_series, _parse_long
from tsconv.forecast import check_level, level_label

__all__ = ["AutoARIMA", "auto_arima"]


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------
def _polynomial_model(y: NDArray[np.float64], w: NDArray[np.float64], d: int, D: int, s: int) -> ARIMA:
    """R's ``auto.arima`` model of a series whose differenced values ``w`` are constant
    (forecast's source: ``if (is.constant(dx))``): ARIMA(0,0,0)(0,D,0)_s with the drift
    fixed at ``mean(w) / s`` when ``d = 0``; ARIMA(0,d,0)(0,D,0)_s without one when both are
    differenced; ARIMA(0,2,0); ARIMA(0,1,0) with the drift fixed at ``mean(w)``. Its
    ``sigma2`` is the mean square of its residuals, as R's (0 for a drift that explains
    them: the smallest positive double, a zero-width interval)."""
    if D and d == 0:
        kw: dict[str, Any] = dict(trend="t", trend_params=[float(np.mean(w)) / s])
    elif D or d == 2:
        kw = {}
    else:
        kw = dict(trend="t", trend_params=[float(np.mean(w))])
    order, sorder = (0, d, 0), ((0, D, 0, s) if D else (0, 0, 0, 0))
    m = ARIMA(order, sorder, sigma2=1.0, **kw)
    r = np.asarray(m.residuals(y, start="conditional"), dtype=float)
    r = r[np.isfinite(r)]
    s2 = float(np.mean(r**2)) if r.size else 0.0
    return m.replace(sigma2=max(s2, float(np.finfo(float).tiny)))


class _Panel:
    """Series (leading and trailing NaN trimmed), their labels, time stamps and
    regressors (the other columns of a long DataFrame).

    The inputs are checked as :func:`tsconv.fit_arima` checks them, with its helpers: a
    Series' (wide frame's) index increasing and unique when it holds dates, periods or
    numbers; ``ds`` of a long frame parsed by :func:`tsconv.estimate._parse_long` (ISO
    8601 strings; no missing ``unique_id`` or ``ds``) and unique within a series; the
    values real numeric (not bool, not strings). A Series (wide frame) indexed by labels that are neither dates, periods nor
    numbers is forecast at positions ``n, n + 1, ...``, as :func:`tsconv.fit_arima`.
    """

    def __init__(self, data: Any) -> None:
        data = _as_long(data)
        self.kind = "array"
        self.index: Any = None
        self.xnames: list[Any] = []
        self.freq: Any = None  # the frequency of a Series' (wide frame's) dates
        xraw: list[NDArray[np.float64]] = []
        self.stamps: list[Any] | None = None
        if isinstance(data, pd.Series):
            self.kind = "series"
            self.ids = [data.name if data.name is not None else "y"]
            raw = [_pandas_values(data, "data")]
            self.stamps = self._index_stamps(data.index, 1)
        elif isinstance(data, pd.DataFrame) and "unique_id" in data.columns:
            self.kind = "long"
            missing = [c for c in ("ds", "y") if c not in data.columns]
            if missing:
                raise ValueError(f"a long DataFrame needs columns 'unique_id', 'ds', 'y'; missing {missing}")
            self.xnames = [c for c in data.columns if c not in ("unique_id", "ds", "y")]
            for c in self.xnames:
                if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]):
                    raise TypeError(f"regressor column {c!r} must be numeric, got dtype {data[c].dtype}")
            yall = _pandas_values(data["y"], "column 'y' of data")
            data = _parse_long(data, "data").assign(y=yall)
            self.ids, raw, self.stamps = [], [], []
            xraw = []
            # observed=True: the unused categories of a categorical unique_id are no series
            for uid, g in data.groupby("unique_id", sort=True, observed=True):
                g = _one_series(g, uid)  # fit_arima's order and check
                self.ids.append(uid)
                raw.append(g["y"].to_numpy())
                self.stamps.append(g["ds"].to_numpy())
                xraw.append(g[self.xnames].to_numpy(dtype=np.float64))
        elif isinstance(data, pd.DataFrame):
            self.kind = "wide"
            self.ids = list(data.columns)
            raw = [_pandas_values(data[c], f"column {c!r} of data") for c in data.columns]
            self.stamps = self._index_stamps(data.index, len(raw))
        else:
            arr = data if isinstance(data, (list, tuple)) and data and np.ndim(data[0]) == 1 else np.asarray(data)
            if isinstance(arr, np.ndarray) and arr.ndim == 1:
                raw = [arr]
                self.kind = "series"
            elif isinstance(arr, np.ndarray) and arr.ndim == 2:
                raw = list(arr)
            elif isinstance(arr, (list, tuple)):
                raw = list(arr)
            else:
                raise ValueError(f"data must be a Series, a DataFrame or a 1-D / 2-D array, got {np.ndim(arr)}-D")
            for j, v in enumerate(raw):
                check_real_dtype(np.asarray(v).dtype, "data" if isinstance(arr, np.ndarray) else f"data[{j}]")
            self.ids = list(range(len(raw)))
        self.values: list[NDArray[np.float64]] = []
        self.offsets: list[int] = []
        for uid, v in zip(self.ids, raw):
            try:
                a = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"the values of series {uid!r} must be numeric, got dtype {np.asarray(v).dtype}") from None
            if a.ndim != 1:
                raise ValueError(f"series {uid!r} must be 1-D, got shape {a.shape}")
            inf = np.flatnonzero(np.isinf(a))
            if inf.size:  # not a missing value: trimming or skipping it would hide bad data
                raise ValueError(f"series {uid!r} has {inf.size} infinite value(s), the first at position "
                                 f"{int(inf[0])} ({a[inf[0]]}): replace them by NaN (missing) or a finite value")
            fin = np.flatnonzero(np.isfinite(a))
            lo, hi = (int(fin[0]), int(fin[-1]) + 1) if fin.size else (0, 0)
            self.values.append(a[lo:hi])
            self.offsets.append(lo)
        # the regressors of every series, over its trimmed span: (n_i, m)
        self.xreg: list[NDArray[np.float64]] = []
        for uid, x, lo, v in zip(self.ids, xraw, self.offsets, self.values):
            x = x[lo : lo + v.size]
            bad = ~np.isfinite(x)
            if bad.any():
                j = int(np.flatnonzero(bad.any(axis=0))[0])
                raise ValueError(f"regressor column {self.xnames[j]!r} has missing or non-finite values for series "
                                 f"{uid!r} (at {int(bad[:, j].sum())} of its dates): fill or drop them")
            self.xreg.append(x)
        # R's auto.arima drops regressors that are constant (over a series): they are the
        # mean's column, or nothing after differencing
        self.xkeep = [tuple(bool(np.ptp(x[:, j]) > 0) for j in range(x.shape[1])) if x.size else () for x in self.xreg]

    def x(self, i: int) -> NDArray[np.float64] | None:
        """The regressors ``(n_i, m_i)`` kept for series ``i`` (None: none)."""
        if not self.xnames or not any(self.xkeep[i]):
            return None
        return self.xreg[i][:, np.asarray(self.xkeep[i])]

    def xs(self, rows: list[int]) -> list[NDArray[np.float64]]:
        """The kept regressors of ``rows`` (series sharing an :meth:`xgroup` with some)."""
        return [self.xreg[i][:, np.asarray(self.xkeep[i])] for i in rows]

    def xgroup(self, i: int) -> Any:
        """Series that can share a batched fit: equal length and kept regressors."""
        return (self.values[i].size, self.xkeep[i]) if self.x(i) is not None else None

    def _index_stamps(self, index: pd.Index, k: int) -> list[Any] | None:
        """The time stamps of a Series or wide frame (``k`` series) from its index, checked
        as :func:`tsconv.fit_arima` checks a Series' index (increasing and unique); None
        for labels that are neither dates, periods nor numbers (forecast by position)."""
        check_time_index(index, "data")
        if isinstance(index, pd.DatetimeIndex):
            self.freq = index.freq  # periods need none: a period plus j is the j-th next one
        elif not isinstance(index, pd.PeriodIndex) and not pd.api.types.is_numeric_dtype(index):
            return None
        return [index.to_numpy()] * k

    def future(self, i: int, h: int, freq: Any = None) -> list[Any]:
        """The ``h`` time stamps after series ``i``: at ``freq`` when given, else its
        index's frequency when it has one, else as :func:`tsconv.fit_arima`'s panels
        (``estimate._future_stamps``: a ValueError asks for ``freq`` when it cannot be
        inferred); one date without a frequency gives NaT (the next dates are unknown)."""
        n = self.values[i].size
        if self.stamps is None:
            start = self.offsets[i] + n
            return list(range(start, start + h))
        st = self.stamps[i][self.offsets[i] : self.offsets[i] + n]
        if st.size == 0:
            st = self.stamps[i]
        if st.size == 0:
            return list(range(1, h + 1))
        freq = self.freq if freq is None else freq
        if st.size == 1 and freq is None and pd.api.types.is_datetime64_any_dtype(pd.Index(st)):
            return [pd.NaT] * h
        return _future_stamps(st, h, freq, None if self.kind == "series" else self.ids[i])


def _regression_residuals(y: NDArray[np.float64], X: NDArray[np.float64]) -> NDArray[np.float64]:
    """Residuals of the least-squares regression of ``y`` on a constant and ``X``
    (R's ``residuals(lm(x ~ xreg))``, on which ``auto.arima`` runs its differencing tests)."""
    A = np.column_stack([np.ones(y.size), X])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return np.asarray(y - A @ coef, dtype=np.float64)


def _check_future_stamps(ds: pd.Series, panel: _Panel, i: int, h: int, freq: Any = None) -> None:
    """``X_df``'s time stamps of series ``i`` must be its ``h`` next ones
    (:func:`tsconv.estimate._check_next_stamps`)."""
    if panel.stamps is not None:
        st = panel.stamps[i][panel.offsets[i] : panel.offsets[i] + panel.values[i].size]
        _check_next_stamps(ds.to_numpy(), st, panel.future(i, h, freq), "X_df", panel.ids[i])


def _future_regressors(X_df: Any, panel: _Panel, rows: list[int], h: int, freq: Any = None) -> dict[int, NDArray[np.float64]]:
    """The future regressors ``(h, m)`` of the series ``rows`` from the long frame ``X_df``
    (``unique_id``, ``ds``, the regressor columns; ``h`` rows per series)."""
    if not isinstance(X_df, pd.DataFrame):
        raise TypeError(f"X_df must be a long pandas DataFrame (unique_id, ds and the regressor columns), "
                        f"got {type(X_df).__name__}")
    need = ["unique_id", "ds", *panel.xnames]
    missing = [c for c in need if c not in X_df.columns]
    if missing:
        raise ValueError(f"X_df lacks the columns {missing} (the future values of the regressors "
                         f"{list(panel.xnames)}), got columns {list(X_df.columns)}")
    X_df = _parse_long(X_df, "X_df")
    groups = {uid: g.sort_values("ds") for uid, g in X_df.groupby("unique_id", sort=False, observed=True)}
    out = {}
    for i in rows:
        uid = panel.ids[i]
        g = groups.get(uid)
        got = 0 if g is None else len(g)
        if g is None or got != h:
            raise ValueError(f"X_df must have h={h} rows for every series, got {got} for unique_id={uid!r}")
        _check_future_stamps(g["ds"], panel, i, h, freq)
        x = g[panel.xnames]
        for c in panel.xnames:
            if not pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]):
                raise TypeError(f"X_df column {c!r} must be numeric, got dtype {x[c].dtype}")
        a = x.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(a)
        if bad.any():
            c = panel.xnames[int(np.flatnonzero(bad.any(axis=0))[0])]
            raise ValueError(f"X_df column {c!r} has missing or non-finite values for unique_id={uid!r}")
        out[i] = a
    return out


def _forecast_frame(panel: _Panel, h: int, mean: NDArray[np.float64], se: NDArray[np.float64], levels: list[float],
                    fallback: list[str], factors: dict[float, NDArray[np.float64]] | None = None,
                    ds: list[Any] | None = None) -> pd.DataFrame:
    """The one place the output frame is built: long ``unique_id``, ``ds``, ``mean``,
    ``lo-<level>``, ``hi-<level>`` (and ``fallback``) for panels; for one series a
    frame on its future dates (index ``ds``: given, else :meth:`_Panel.future`).
    ``factors``: per level, the multiplier of ``se`` for every series (default: the
    normal quantile)."""
    cols: dict[str, Any] = {"mean": mean.ravel()}
    for v in levels:
        z = scipy.stats.norm.ppf(0.5 + v / 200.0) if factors is None else factors[v][:, None]
        cols[f"lo-{level_label(v)}"] = (mean - z * se).ravel()
        cols[f"hi-{level_label(v)}"] = (mean + z * se).ravel()
    if ds is None:
        ds = [t for i in range(len(panel.ids)) for t in panel.future(i, h)]
    if panel.kind == "series":
        if fallback[0]:  # a panel has its fallback column; one series' frame says it here
            warnings.warn(f"no ARIMA model for this series: {fallback[0]!r} fallback forecast (a constant series: its "
                          "value; too short, no candidate fitted or missing values inside: the naive forecast)",
                          UserWarning, stacklevel=3)
        return pd.DataFrame(cols, index=pd.Index(ds, name="ds"))
    out = pd.DataFrame({"unique_id": np.repeat(np.asarray(panel.ids, dtype=object), h), "ds": ds, **cols})
    out["fallback"] = np.repeat(np.asarray(fallback, dtype=object), h)
    return out


# ---------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------
class AutoARIMA:
    """Automatic seasonal ARIMA for every series of a panel (R's ``auto.arima`` rules).

    Parameters
    ----------
    season_length : int, default 1
        Seasonal period ``s`` (12 monthly, 4 quarterly); 1: non-seasonal models only.
    stepwise : bool, default True
        Hyndman & Khandakar's stepwise search; False: every model of the grid with
        ``p + q + P + Q <= max_order``.
    max_p, max_q, max_P, max_Q, max_order : int
        Largest orders (R's defaults 5, 5, 2, 2 and 5; ``max_order`` bounds the grid).
        As in R, ``p`` (``q``) stays below ``season_length`` when seasonal AR (MA)
        terms are allowed: at most 3 for quarterly data.
    d, D : int, optional
        Differencing orders; None: ``D`` by seasonal strength (> 0.64), then ``d`` by
        the KPSS test at 5% (R's ``nsdiffs`` / ``ndiffs`` defaults).
    max_d, max_D : int, default 2 and 1
    constant : bool, optional
        None: searched (a mean when ``d + D = 0``, a drift when ``d + D = 1``), as
        R's ``allowmean`` / ``allowdrift``; True / False: always / never. With
        ``d + D >= 2`` there is no constant whatever this says, as in R (its
        ``include.constant``: a quadratic or higher polynomial trend, deliberately not).
    ic : {'aicc', 'aic', 'bic'}, default 'aicc'
        As in R, a series of 3 or fewer observations is searched by AIC whatever
        ``ic`` (R's ``auto.arima``: "AICc won't work for tiny samples"; with a mean it
        is infinite there).
    method : {'css-ml', 'ml', 'css'}, default 'css-ml'
        Estimation of every candidate (see :func:`tsconv.fit_arima`).
    approximation : bool, optional
        Search with CSS estimates (conditional sum of squares), then refit the chosen
        model by ``method``. None: for series longer than 150 or with a period above
        12, as R's default ``approximation``.
    max_models : int, default 94
        Largest number of models tried per series by the stepwise search (R's
        ``nmodels``).
    n_jobs : int, default 1
        Threads, each searching a share of the series (-1: one per CPU).
    intervals : {'conformal', 'model'}, default 'conformal'
        ``'model'``: Gaussian intervals ``mean +- z * se`` with the model's forecast
        standard errors (R's and statsforecast's intervals). ``'conformal'``:
        ``mean +- c * r * se``, with ``c`` calibrated on the panel's own recent history
        instead of the normal quantile ``z`` and ``r`` the series' recent residual
        scale (see ``recent_scale``): every series is cut ``w * h`` observations
        before its end (``w = 1 .. n_windows``), its differencing orders are chosen
        again on the shortened series, its ``window_candidates`` best candidates of the
        search are refitted there, the one with the lowest criterion is forecast ``h``
        steps; ``c`` is the split-conformal quantile of the scores ``|error| / (r *
        se)`` of those forecasts (``r`` of the refit), pooled over series, windows and
        horizons (see Notes).
    n_windows : int, default 1
        Rolling-origin windows of ``intervals='conformal'``.
    window_candidates : int, default 3
        The finalists of ``intervals='conformal'``: how many of the best candidates of
        a series' search (its chosen model first) each window chooses among again. 1:
        the windows refit the chosen model only.
    recent_scale : bool, default True
        With ``intervals='conformal'``, scale every series' intervals (and its window
        scores) by how noisy the end of its series is: ``r = sqrt((S + h v) / (2 h
        v))``, ``S`` the sum of its last ``h`` squared residuals (one-step prediction
        errors of the fitted model), ``v`` the mean square of all of them, i.e. the
        recent mean square shrunk halfway to the whole series' and taken relative to
        it. False: ``r = 1``, one interval multiplier for the whole panel.

    Attributes
    ----------
    models : dict
        ``unique_id`` -> the fitted :class:`tsconv.ARIMA` (None for a series that got
        a fallback), after :meth:`fit`.
    interval_factors : dict
        After :meth:`forecast`: level -> the multiplier of the forecast standard
        errors used (the normal quantile for ``intervals='model'`` or when the panel
        gave too few scores).
    interval_scales : pandas.Series
        After :meth:`forecast`: ``unique_id`` -> the recent residual scale ``r`` its
        intervals were multiplied by (1 for ``intervals='model'``, ``recent_scale=False``,
        fallback series and when the panel gave too few scores for every level).

    Notes
    -----
    A series that cannot be modelled gets a fallback forecast, flagged in the
    ``fallback`` column of the summary and of panel forecasts: ``'mean'`` for a
    constant series (its value, zero width), ``'naive'`` for one with missing values
    inside, too short for any candidate, or for which no candidate could be fitted
    (its last value, intervals from the variance of its differences; NaN when it has
    fewer than two values). Leading and trailing missing values are trimmed (ragged
    wide frames); an infinite value is no missing value and gets a ValueError naming
    the series. A series whose differences are constant (a straight line, a repeated
    seasonal pattern) gets R's model for it, not a fallback: ARIMA(0,1,0) with its drift,
    ARIMA(0,0,0)(0,1,0) with its seasonal drift, ARIMA(0,2,0) or ARIMA(0,1,0)(0,1,0), as
    ``forecast::auto.arima`` (zero-width intervals where the drift explains every
    difference).

    The data are checked as :func:`tsconv.fit_arima` checks them: the index of a
    Series (wide frame) increasing and unique, ``ds`` unique within a series of a long
    frame, and string ``ds`` parsed as ISO 8601 dates (other strings refused); the
    values real numeric (bool and strings refused); rows without a ``unique_id`` or a
    ``ds`` refused. The future dates follow ``freq`` of :meth:`forecast`, else the
    frequency of the index when it has one, else the one inferred from all the time
    stamps of the series (some periods may be missing), else their spacing when it is
    constant; otherwise (dates on the 15th of each month, irregular dates) a ValueError
    asks for ``freq``. A series with a single date and no frequency gets NaT.
    A Series indexed by labels that are neither dates, periods nor numbers is forecast
    at the positions ``n, n + 1, ...``, as :func:`tsconv.fit_arima` does.

    Conformal intervals (the default) answer the model intervals' known optimism: they
    ignore the uncertainty of the estimated parameters and of the chosen orders, and
    the model class's misfit, and on short real series cover well below their nominal
    level (on M1 and Tourism quarterly, 0.71 and 0.81 at 95%). The factor ``c`` is one
    per level for the whole panel, so a series' intervals depend on the panel it is
    forecast with (its mean does not). A series too short for a window contributes no
    score but gets the panel's factor; fallback series keep their own intervals. With
    fewer than ``level / (100 - level)`` scores in the panel (19 at 95%: a single
    quarterly series with ``h = 8`` and ``n_windows = 1``), the factor is the normal
    quantile (the model intervals when no level asked got enough scores; else they are
    also multiplied by the series' recent scale ``r``); a level's factor is never below
    that of a lower level asked in the same call (intervals stay nested). The refits cost one batched
    fit per finalist, differencing orders and window, in :meth:`forecast`.

    The windows replay the end of the selection because the chosen model, picked
    among many on data that include the windows, fits them better than it forecasts
    the future: refitting only the chosen orders gave 95% coverages of 0.92 and 0.94 on
    M1 quarterly and monthly, choosing among the three best candidates 0.94 and 0.94,
    a whole new search per window 0.94 and 0.955 at twice the time of the fit (the design data of
    ``docs/estimation.md``).

    The recent scale ``r`` widens the intervals of a series whose last observations
    were noisier than its past and narrows the others: one panel-wide factor fits the
    typical series, while the errors of a series whose noise grows with its level
    (fast-growing series) outgrow it. It lowers the mean scaled interval score (MSIS,
    the M4 competition's interval measure) on five of the six data sets of
    ``docs/estimation.md`` (M1 quarterly is the exception).

    Examples
    --------
    >>> import numpy as np
    >>> import tsconv
    >>> from tsconv.datasets import load
    >>> air = np.log(load("airline"))
    >>> model = tsconv.AutoARIMA(season_length=12).fit(air)
    >>> model.summary()[["order", "seasonal_order"]].iloc[0].tolist()
    [(0, 1, 1), (0, 1, 1, 12)]
    >>> model.forecast(3, level=(80, 95)).columns.tolist()
    ['mean', 'lo-80', 'hi-80', 'lo-95', 'hi-95']

    The conformal factors of that forecast replace the normal quantiles 1.28 and 1.96
    (one series, three scores: too few for either level, so they are the normal ones):

    >>> {lev: round(c, 2) for lev, c in model.interval_factors.items()}
    {80.0: 1.28, 95.0: 1.96}
    >>> ivs = tsconv.AutoARIMA(season_length=12, intervals="model").fit(air).forecast(3)
    >>> ivs.columns.tolist()
    ['mean', 'lo-95', 'hi-95']
    """

    def __init__(
        self,
        season_length: int = 1,
        *,
        stepwise: bool = True,
        max_p: int = 5,
        max_q: int = 5,
        max_P: int = 2,
        max_Q: int = 2,
        max_order: int = 5,
        d: int | None = None,
        D: int | None = None,
        max_d: int = 2,
        max_D: int = 1,
        constant: bool | None = None,
        ic: InfoCriterion = "aicc",
        method: str = "css-ml",
        approximation: bool | None = None,
        max_models: int = 94,
        maxiter: int = 100,
        n_jobs: int = 1,
        intervals: str = "conformal",
        n_windows: int = 1,
        window_candidates: int = 3,
        recent_scale: bool = True,
    ) -> None:
        self.season_length = as_int(season_length, "season_length", minimum=1)
        if not isinstance(stepwise, bool):
            raise TypeError(f"stepwise must be True or False, got {stepwise!r}")
        self.stepwise = stepwise
        self.max_p, self.max_q = as_int(max_p, "max_p", minimum=0), as_int(max_q, "max_q", minimum=0)
        self.max_P, self.max_Q = as_int(max_P, "max_P", minimum=0), as_int(max_Q, "max_Q", minimum=0)
        self.max_order = as_int(max_order, "max_order", minimum=0)
        self.d = None if d is None else as_int(d, "d", minimum=0)
        self.D = None if D is None else as_int(D, "D", minimum=0)
        if self.D and self.season_length < 2:
            raise ValueError(f"D={D} needs a season_length >= 2, got {season_length}")
        self.max_d, self.max_D = as_int(max_d, "max_d", minimum=0), as_int(max_D, "max_D", minimum=0)
        if constant is not None and not isinstance(constant, bool):
            raise TypeError(f"constant must be None, True or False, got {constant!r}")
        self.constant = constant
        self.ic = check_option(ic, InfoCriterion, "ic")
        if method not in ("css-ml", "ml", "css"):
            raise ValueError(f"method must be 'css-ml', 'ml' or 'css', got {method!r}")
        self.method = method
        if approximation is not None and not isinstance(approximation, bool):
            raise TypeError(f"approximation must be None, True or False, got {approximation!r}")
        self.approximation = approximation
        self.max_models = as_int(max_models, "max_models", minimum=1)
        self.maxiter = as_int(maxiter, "maxiter", minimum=1)
        n_jobs = as_int(n_jobs, "n_jobs")
        if n_jobs == 0 or n_jobs < -1:
            raise ValueError(f"n_jobs must be a positive integer or -1, got {n_jobs}")
        self.n_jobs = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
        if intervals not in ("conformal", "model"):
            raise ValueError(f"intervals must be 'conformal' or 'model', got {intervals!r}")
        self.intervals = intervals
        self.n_windows = as_int(n_windows, "n_windows", minimum=1)
        self.window_candidates = as_int(window_candidates, "window_candidates", minimum=1)
        if not isinstance(recent_scale, bool):
            raise TypeError(f"recent_scale must be True or False, got {recent_scale!r}")
        self.recent_scale = recent_scale
        self._panel: _Panel | None = None
        self.interval_factors: dict[float, float] = {}
        self.interval_scales: pd.Series | None = None

    def __repr__(self) -> str:
        return f"AutoARIMA(season_length={self.season_length}, stepwise={self.stepwise}, ic={self.ic!r})"

    # -- fitting --------------------------------------------------------------------------
    def fit(self, data: Any) -> AutoARIMA:
        """Choose and fit a model for every series of ``data``.

        ``data``: a pandas Series, a long DataFrame (``unique_id``, ``ds``, ``y``), a
        wide DataFrame (one column per series, the index as time stamps), a 1-D array
        or a 2-D array (one series per row). Other columns of a long DataFrame are
        regressors: every candidate is then a regression with ARIMA errors (R's
        ``xreg``), the differencing tests run on the residuals of the regression of
        ``y`` on them, and :meth:`forecast` needs their future values (``X_df``). A
        regressor constant over a series is dropped for that series (as R). Returns
        ``self``.
        """
        panel = data if isinstance(data, _Panel) else _Panel(data)
        k = len(panel.ids)
        s = self.season_length
        fallback = [""] * k
        exact: dict[int, ARIMA] = {}  # differenced to a constant: R's model, nothing to estimate
        ok: list[int] = []
        dd = np.zeros(k, dtype=np.intp)
        DD = np.zeros(k, dtype=np.intp)
        for i, v in enumerate(panel.values):
            if v.size == 0:
                fallback[i] = "naive"
            elif not np.all(np.isfinite(v)):
                fallback[i] = "naive"
            elif np.ptp(v) == 0:
                fallback[i] = "mean"
            else:
                d, D = self._differencing(v, panel.x(i))
                w = _stepwise._ep.difference(v, d, D, s)
                if w.size and np.ptp(w) == 0 and panel.x(i) is None and (d or D):
                    exact[i] = _polynomial_model(v, w, d, D, s)
                elif w.size < 3 or np.ptp(w) == 0:
                    fallback[i] = "naive"
                else:
                    dd[i], DD[i] = d, D
                    ok.append(i)
        gaps = [panel.ids[i] for i, v in enumerate(panel.values) if v.size and not np.all(np.isfinite(v))]
        if gaps:
            warnings.warn(f"series {gaps[:10]} have missing values inside: naive forecast (fallback='naive')",
                          UserWarning, stacklevel=2)
        best: list[Any] = [None] * k
        crit = np.full(k, np.inf)
        # with regressors a lockstep panel holds series of one length (the batched fits
        # stack their regressors); the search path of a series does not depend on its panel
        # and one criterion (R: AIC for series of 3 or fewer observations, see _ic_of)
        parts: dict[Any, list[int]] = {}
        for i in ok:
            parts.setdefault((panel.xgroup(i), self._ic_of(panel.values[i])), []).append(i)
        chunks = [part[j :: self.n_jobs] for part in parts.values() for j in range(min(self.n_jobs, len(part)))]
        chunks = [c for c in chunks if c]

        def approx(i: int) -> bool:
            if self.approximation is not None:
                return self.approximation
            return panel.values[i].size > 150 or s > 12

        # R: with seasonal AR (MA) terms allowed, p (q) stays below the period
        max_p = min(self.max_p, s - 1) if s > 1 and self.max_P > 0 else self.max_p
        max_q = min(self.max_q, s - 1) if s > 1 and self.max_Q > 0 else self.max_q

        def run(rows: list[int]) -> tuple[list[int], list[Any], list[dict[Any, float]]]:
            meths = ["css" if approx(i) else self.method for i in rows]
            b, t = _stepwise.search(
                [panel.values[i] for i in rows], dd[rows], DD[rows], s, stepwise=self.stepwise,
                max_p=max_p, max_q=max_q, max_P=self.max_P, max_Q=self.max_Q, max_order=self.max_order,
                constant=self.constant, ic=self._ic_of(panel.values[rows[0]]), method=meths,
                maxiter=self.maxiter,
                max_models=self.max_models, exog=None if panel.xgroup(rows[0]) is None else panel.xs(rows),
            )
            return rows, b, t

        if len(chunks) > 1 and self.n_jobs > 1:
            with ThreadPoolExecutor(min(len(chunks), self.n_jobs)) as ex:
                results = list(ex.map(run, chunks))
        else:
            results = [run(c) for c in chunks]
        # the finalists of every series: its chosen candidate, then the next best it tried
        finalists: list[list[Any]] = [[] for _ in range(k)]
        for rows, b, t in results:
            for i, cand, tr in zip(rows, b, t):
                best[i] = cand
                if cand is not None:
                    crit[i] = tr[cand]
                    rest = sorted((c for c in tr if c != cand and np.isfinite(tr[c])), key=lambda c: tr[c])
                    finalists[i] = [cand] + rest[: self.window_candidates - 1]
        # the chosen models, refitted with the optimizer's restarts, one batch per model
        self._batches: list[tuple[Any, NDArray[np.intp]]] = []
        self._where: dict[int, tuple[int, int]] = {}
        self._scores: dict[int, NDArray[np.float64]] = {}
        groups: dict[tuple[Any, int, int, Any, str], list[int]] = {}
        for i in range(k):
            if best[i] is None and not fallback[i] and i not in exact:
                fallback[i] = "naive"
            if best[i] is not None:
                key = (best[i], int(dd[i]), int(DD[i]), panel.xgroup(i), self._ic_of(panel.values[i]))
                groups.setdefault(key, []).append(i)
        for (cand, d, D, xg, ic), members in groups.items():
            exog = None if xg is None else np.stack(panel.xs(members))
            names = None if xg is None else [str(c) for c, keep in zip(panel.xnames, xg[1]) if keep]
            c2, batch, fitted_rows = _stepwise.fit_group([panel.values[i] for i in members], cand, d, D, s, self.method,
                                                         self.maxiter, ic, restarts=True, exog=exog,
                                                         exog_names=names)
            if batch is None:
                for i in members:
                    fallback[i] = "naive"
                continue
            chosen = np.asarray(members)[fitted_rows]
            for i in set(members) - set(chosen.tolist()):
                fallback[i] = "naive"
            g = len(self._batches)
            self._batches.append((batch, chosen))
            for j, i in enumerate(chosen):
                self._where[int(i)] = (g, j)
                crit[i] = float(getattr(batch, self.ic)[j])
        self._panel, self._best, self._crit, self._fallback, self._d, self._D = panel, best, crit, fallback, dd, DD
        self._exact = exact
        self._finalists = finalists
        return self

    def _ic_of(self, y: NDArray[np.float64]) -> str:
        """The criterion of the search of series ``y``: ``ic``, but AIC for 3 or fewer
        observations (R's ``auto.arima``: "AICc won't work for tiny samples")."""
        return "aic" if y.size <= 3 else self.ic

    def _differencing(self, y: NDArray[np.float64], X: NDArray[np.float64] | None) -> tuple[int, int]:
        """``(d, D)`` of the series ``y`` (regressors ``X`` ``(n, m)`` or None), as
        ``forecast::auto.arima``: with regressors, the tests run on the residuals of their
        regression, and a chosen difference is dropped again when it turns a regressor
        constant (R: "make sure xreg is not null after differencing")."""
        s = self.season_length
        if X is None:
            return _stepwise.differencing(y, s, self.d, self.D, self.max_d, self.max_D)
        resid = _regression_residuals(y, X)
        _, D = _stepwise.differencing(resid, s, 0, self.D, self.max_d, self.max_D)
        if self.D is None and D > 0 and np.any(np.ptp(_stepwise._ep.difference(X.T, 0, D, s), axis=1) == 0):
            D -= 1
        d, _ = _stepwise.differencing(resid, s, self.d, D, self.max_d, self.max_D)
        if self.d is None and d > 0 and np.any(np.ptp(_stepwise._ep.difference(X.T, d, D, s), axis=1) == 0):
            d -= 1
        return d, D

    def _check_fitted(self) -> _Panel:
        if self._panel is None:
            raise ValueError("this AutoARIMA is not fitted yet: call fit(data) first")
        return self._panel

    @property
    def models(self) -> dict[Any, Any]:
        """``unique_id`` -> fitted :class:`tsconv.ARIMA` (None for a fallback series)."""
        panel = self._check_fitted()
        out: dict[Any, Any] = {}
        for i, uid in enumerate(panel.ids):
            if i in self._where:
                g, j = self._where[i]
                v = panel.values[i]
                st = None if panel.stamps is None else panel.stamps[i][panel.offsets[i] : panel.offsets[i] + v.size]
                # on the series' own dates, so that its forecast(h) is dated (the batch holds none)
                data = None if st is None or len(st) != v.size else pd.Series(v, index=pd.Index(st, name="ds"), name=uid)
                out[uid] = _make_model(self._batches[g][0], j, data=data)
            else:
                out[uid] = self._exact.get(i)
        return out

    def summary(self) -> pd.DataFrame:
        """One row per series: ``order``, ``seasonal_order``, ``trend``, the criterion,
        ``nobs`` and ``fallback`` (empty when a model was fitted)."""
        panel = self._check_fitted()
        s = self.season_length
        rows: list[dict[str, Any]] = []
        for i, uid in enumerate(panel.ids):
            cand = self._best[i] if i in self._where else None
            if i in self._exact:
                m = self._exact[i]
                rows.append({"order": m.order, "seasonal_order": m.seasonal_order, "trend": m.trend, self.ic: np.nan})
            elif cand is None:
                rows.append({"order": None, "seasonal_order": None, "trend": None, self.ic: np.nan})
            else:
                p, q, P, Q, _ = cand
                d, D = int(self._d[i]), int(self._D[i])
                seas = bool(P or D or Q)
                rows.append({"order": (p, d, q), "seasonal_order": (P, D, Q, s if seas else 0),
                             "trend": _stepwise.trend_of(cand, d, D), self.ic: self._crit[i]})
            rows[-1]["nobs"] = panel.values[i].size
            rows[-1]["fallback"] = self._fallback[i]
        return pd.DataFrame(rows, index=pd.Index(panel.ids, name="unique_id"))

    # -- forecasting ----------------------------------------------------------------------
    def forecast(self, h: int, level: Sequence[float] | float = (95,), X_df: pd.DataFrame | None = None, *,
                 freq: Any = None) -> pd.DataFrame:
        """Forecasts ``h`` steps ahead with Gaussian intervals at every ``level`` (%).

        ``X_df``: the future values of the regressors of a model fitted to a long
        DataFrame with regressor columns (statsforecast's convention): a long DataFrame
        ``unique_id``, ``ds`` and those columns, ``h`` rows per series, on the series'
        next ``h`` time stamps; required then, refused otherwise.

        ``freq``: the spacing of the future ``ds`` (``'MS'``, ``pd.DateOffset(months=1)``;
        a positive number for numeric stamps), as in :meth:`tsconv.ARIMABatch.forecast`.
        Default: the index's frequency, else inferred per series from all its dates
        (some periods may be missing), else their spacing when constant; dates without
        either (monthly on the 15th, irregular) raise a ValueError naming the series and
        asking for ``freq``.

        Returns, for a single series, a DataFrame on the future dates (index ``ds``)
        with ``mean``, ``lo-<level>``, ``hi-<level>``; for a panel, a long DataFrame
        ``unique_id``, ``ds``, ``mean``, ``lo-<level>``, ``hi-<level>``, ``fallback``.
        """
        panel = self._check_fitted()
        h = as_int(h, "h", minimum=1)
        levels = list(check_level(level))  # fit_arima's: percentages in [1, 100)
        k = len(panel.ids)
        if panel.xnames and X_df is None:
            raise ValueError(f"X_df is required: the models have the regressors {list(panel.xnames)}; pass their "
                             f"future values as a long DataFrame (unique_id, ds, {', '.join(map(str, panel.xnames))})")
        if not panel.xnames and X_df is not None:
            raise ValueError("X_df was given but the data had no regressor columns")
        future = _future_regressors(X_df, panel, sorted(self._where), h, freq) if panel.xnames else {}
        ds = [t for i in range(k) for t in panel.future(i, h, freq)]  # a bad or missing freq: before the work
        mean = np.full((k, h), np.nan)
        se = np.full((k, h), np.nan)
        for batch, rows in self._batches:
            ex = None if batch.exog is None else np.stack([future[int(i)][:, np.asarray(panel.xkeep[int(i)])] for i in rows])
            fc = batch.forecast(h, exog_future=ex)
            mean[rows], se[rows] = fc.mean, fc.se
        factors = {lev: np.full(k, scipy.stats.norm.ppf(0.5 + lev / 200.0)) for lev in levels}
        self.interval_factors = {lev: float(f[0]) for lev, f in factors.items()}
        scales = np.ones(k)
        # the refits only when the panel can give enough scores for some level (one short
        # series cannot: its factors are the normal quantiles either way)
        most = np.zeros(len(self._where) * h * self.n_windows)
        if self.intervals == "conformal" and self._where and np.isfinite(_conformal.factor(most, min(levels))):
            sc = self._window_scores(h)
        else:
            sc = np.zeros(0)
        # the possible scores may be enough and the finite ones not (a series too short
        # for a window): then no level is calibrated, and the intervals stay the model's
        # (they were the normal quantile times the recent scale r, neither one nor the other)
        if any(np.isfinite(_conformal.factor(sc, lev)) for lev in levels):
            if self.recent_scale:
                for batch, rows in self._batches:
                    scales[rows] = _conformal.recent_scale(_batch_residuals(batch), h)
            modelled = np.asarray(sorted(self._where), dtype=np.intp)
            prev = 0.0
            for lev in levels:  # ascending: a level's factor is never below a lower level's
                c = _conformal.factor(sc, lev)
                c = max(c if np.isfinite(c) else float(scipy.stats.norm.ppf(0.5 + lev / 200.0)), prev)
                factors[lev][modelled] = prev = c
                self.interval_factors[lev] = c
        for i, m in self._exact.items():
            fc = m.forecast(panel.values[i], h)
            mean[i], se[i] = fc.mean, fc.se
        for i in range(k):
            if i in self._where or i in self._exact:
                continue
            v = panel.values[i]
            fin = v[np.isfinite(v)]
            if fin.size == 0:
                continue
            if self._fallback[i] == "mean":
                mean[i], se[i] = fin[-1], 0.0
                continue
            mean[i] = fin[-1]
            dv = np.diff(v)
            dv = dv[np.isfinite(dv)]
            if dv.size:
                se[i] = np.sqrt(np.mean(dv**2) * np.arange(1, h + 1))
        self.interval_scales = pd.Series(scales, index=pd.Index(panel.ids, name="unique_id"))
        return _forecast_frame(panel, h, mean, se * scales[:, None], levels, self._fallback, factors, ds)

    def _window_scores(self, h: int) -> NDArray[np.float64]:
        """The conformal scores ``|error| / se`` of the rolling-origin replays of every
        modelled series for horizon ``h`` (all series, windows and horizons; NaN where a
        series is too short), computed once per ``h``."""
        if h not in self._scores:
            panel = self._check_fitted()
            parts = []
            byx: dict[Any, list[int]] = {}
            for i in sorted(self._where):
                byx.setdefault(panel.xgroup(i), []).append(i)
            for xg, rows in byx.items():
                ex = None if xg is None else np.stack(panel.xs(rows))
                names = None if xg is None else [str(c) for c, keep in zip(panel.xnames, xg[1]) if keep]
                parts.append(_conformal.window_scores(
                    [panel.values[i] for i in rows], [self._finalists[i] for i in rows], self._differencing,
                    self.season_length, h, self.n_windows, self.method, self.maxiter, self._ic_of, exog=ex,
                    exog_names=names, scaled=self.recent_scale).ravel())
            self._scores[h] = np.concatenate(parts) if parts else np.zeros(0)
        return self._scores[h]


def auto_arima(data: Any, h: int, *, season_length: int = 1, level: Sequence[float] | float = (95,),
               X_df: pd.DataFrame | None = None, freq: Any = None, **options: Any) -> pd.DataFrame:
    """Forecasts from automatically chosen seasonal ARIMA models, one call.

    ``AutoARIMA(season_length, **options).fit(data).forecast(h, level, X_df, freq=freq)``: see
    :class:`AutoARIMA` for the options and the accepted ``data``.

    Parameters
    ----------
    data : pandas.Series, pandas.DataFrame or array_like
        One series, a long DataFrame (``unique_id``, ``ds``, ``y``, and regressor
        columns if any), a wide DataFrame (one column per series) or a 1-D / 2-D
        array.
    h : int
        Horizon.
    season_length : int, default 1
    level : float or sequence of float, default (95,)
        Interval levels in percent.
    X_df : pandas.DataFrame, optional
        The future values of the regressor columns of ``data``: a long DataFrame
        ``unique_id``, ``ds`` and those columns, ``h`` rows per series on its next ``h``
        time stamps (statsforecast's convention); required when ``data`` has regressor
        columns.
    freq : str, pandas offset or number, optional
        Spacing of the future dates (default inferred): see :meth:`AutoARIMA.forecast`.
    **options
        Passed to :class:`AutoARIMA`; among them ``intervals``: ``'conformal'`` (default,
        the model's standard errors scaled by a factor calibrated on window refits of
        the panel) or ``'model'`` (Gaussian intervals of the model, as R's).

    Returns
    -------
    pandas.DataFrame
        For one series, ``mean``, ``lo-<level>``, ``hi-<level>`` on the future dates;
        for a panel, the long frame ``unique_id``, ``ds``, ``mean``, ``lo-<level>``,
        ``hi-<level>``, ``fallback``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from tsconv import auto_arima
    >>> rng = np.random.default_rng(0)
    >>> ds = pd.date_range("2000-01-01", periods=60, freq="MS")
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 60), "ds": np.tile(ds, 2),
    ...                    "y": np.cumsum(rng.standard_normal(120))})
    >>> fc = auto_arima(df, h=2, level=(80, 95))
    >>> fc.columns.tolist()
    ['unique_id', 'ds', 'mean', 'lo-80', 'hi-80', 'lo-95', 'hi-95', 'fallback']
    >>> fc["ds"].dt.strftime("%Y-%m").tolist()
    ['2005-01', '2005-02', '2005-01', '2005-02']
    """
    h = as_int(h, "h", minimum=1)
    check_level(level)  # refused before the search, not after it
    model = AutoARIMA(season_length, **options)
    panel = _Panel(data)
    for i in range(len(panel.ids)):  # a bad freq, or dates without one, refused before the search too
        panel.future(i, h, freq)
    return model.fit(panel).forecast(h, level=level, X_df=X_df, freq=freq)
