"""Forecast results: one series (:class:`Forecast`) or a panel (:class:`BatchForecast`).

Every forecasting call of tsconv returns one of these two immutable values: the point
forecast ``mean``, its standard error ``se`` and central prediction intervals at the
coverage levels asked for (percentages, ``level=(80, 95)``), with ``to_frame()`` and
``plot()``. ``to_frame()`` has the columns ``mean``, ``lo-80``, ``hi-80``, ``lo-95``,
``hi-95`` (one pair per level) on the future dates; the panel's is statsforecast's long
frame ``unique_id``, ``ds``, ``mean``, ``lo-80``, ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import scipy.special
from numpy.typing import NDArray

from tsconv._validation import is_real

__all__ = ["Forecast", "BatchForecast"]

_RENAMED = {
    "steps": "the horizon is now h: forecast(h=12)",
    "alpha": "intervals are now asked for by coverage in percent: level=(95,) (alpha=0.05 is level=95)",
    "rng": "randomness is now seed=",
}


def reject_old_keywords(where: str, kwargs: Mapping[str, Any]) -> None:
    """Raise a TypeError naming the new spelling for an old keyword (``steps``, ``alpha``)."""
    for key in kwargs:
        if key in _RENAMED:
            raise TypeError(f"{where}() got the old keyword {key!r}: {_RENAMED[key]}")
        raise TypeError(f"{where}() got an unexpected keyword argument {key!r}")


def check_level(level: Any) -> tuple[float, ...]:
    """Coverage levels in percent, ``(80, 95)``: sorted, distinct, each in ``[1, 100)``.

    A level below 1 is refused: it is almost certainly an ``alpha`` (0.05) or a fraction
    (0.95) passed where a percentage is expected.
    """
    values = [level] if is_real(level) else level
    try:
        out = []
        for v in values:
            if not is_real(v):
                raise TypeError
            out.append(float(v))
    except TypeError:
        raise TypeError(f"level must be a percentage or a sequence of percentages such as (80, 95), got {level!r}") from None
    if not out:
        raise ValueError(f"level must hold at least one percentage, got {level!r}")
    for v in out:
        if not 1.0 <= v < 100.0:
            hint = " (a fraction or an alpha? level is in percent: level=(95,))" if 0 < v < 1 else ""
            raise ValueError(f"level must be percentages in [1, 100), got {level!r}{hint}")
    return tuple(sorted(set(out)))


def level_label(v: float) -> str:
    """``80`` for 80.0, ``99.5`` for 99.5: the suffix of the ``lo-``/``hi-`` columns."""
    return f"{v:g}"


def _readonly(a: Any) -> Any:
    """The array itself, made read-only (forecast arrays are built for the result they go in)."""
    if isinstance(a, np.ndarray):
        a.flags.writeable = False
    return a


def gaussian_bounds(mean: NDArray[np.float64], se: NDArray[np.float64], level: tuple[float, ...]) -> dict[float, tuple[Any, Any]]:
    """Central Gaussian intervals ``mean -/+ z se`` for each level."""
    out = {}
    for v in level:
        z = float(scipy.special.ndtri(0.5 + v / 200.0))
        out[v] = (mean - z * se, mean + z * se)
    return out


class _Intervals:
    """What both forecast types say about their intervals (``mean``, ``level``, ``bounds``)."""

    mean: Any
    level: tuple[float, ...]
    bounds: dict[float, tuple[Any, Any]]

    def _freeze(self) -> None:
        # the arrays are the forecast's own, read-only (the dataclass is frozen: setattr by hand)
        for key in ("mean", "se", "residuals", "fitted"):
            object.__setattr__(self, key, _readonly(getattr(self, key)))
        object.__setattr__(self, "bounds", {k: (_readonly(lo), _readonly(hi)) for k, (lo, hi) in self.bounds.items()})

    @property
    def h(self) -> int:
        """The horizon."""
        return int(np.shape(self.mean)[-1])

    def interval(self, level: float | None = None) -> tuple[Any, Any]:
        """``(lower, upper)`` at ``level`` percent (default: the widest level computed);
        ``(h,)`` each for one series, ``(k, h)`` for a batch."""
        key = max(self.level) if level is None else check_level(level)[0]
        if key not in self.bounds:
            raise ValueError(f"level={level!r} was not computed; this forecast has level={self.level!r}")
        return self.bounds[key]

    @property
    def lower(self) -> Any:
        """Lower bound of the widest interval (``interval()[0]``)."""
        return self.interval()[0]

    @property
    def upper(self) -> Any:
        """Upper bound of the widest interval (``interval()[1]``)."""
        return self.interval()[1]


@dataclass(frozen=True, eq=False)
class Forecast(_Intervals):
    """The forecast of one series: mean, standard error and prediction intervals.

    Attributes
    ----------
    mean, se : pandas.Series or ndarray
        Shape ``(h,)``; a Series on the future dates (or integers) when the history had
        an index, read-only arrays otherwise. ``se`` is on the scale the model works on
        (the transformed scale with ``boxcox``).
    level : tuple of float
        The coverage levels in percent, ascending.
    bounds : dict
        ``{level: (lower, upper)}``; also reached by :meth:`interval`.
    name : str or None
        The series' name (plot title, ``to_frame`` name).
    model : str or None
        A short description of the model (plot title).
    history : pandas.Series or ndarray or None
        The observed series, drawn before the forecast by :meth:`plot`.
    residuals, fitted : pandas.Series or ndarray or None
        The in-sample residuals and one-step predictions, from the same filter pass.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import ARIMA
    >>> fc = ARIMA((1, 0, 0), ar=[0.5], sigma2=1.0).forecast(np.array([0.0, 2.0]), 2, level=(80, 95))
    >>> fc.mean, fc.se
    (array([1. , 0.5]), array([1.        , 1.11803399]))
    >>> fc.to_frame().round(3)
       mean  lo-80  hi-80  lo-95  hi-95
    1   1.0 -0.282  2.282 -0.960  2.960
    2   0.5 -0.933  1.933 -1.691  2.691
    """

    mean: Any
    se: Any
    level: tuple[float, ...]
    bounds: dict[float, tuple[Any, Any]] = field(repr=False)
    name: Any = None
    model: str | None = None
    history: Any = field(default=None, repr=False)
    residuals: Any = field(default=None, repr=False)
    fitted: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._freeze()

    def to_frame(self) -> pd.DataFrame:
        """Columns ``mean``, ``lo-<level>``, ``hi-<level>`` (one pair per level) on the future index."""
        index = self.mean.index if isinstance(self.mean, pd.Series) else pd.RangeIndex(1, self.h + 1)
        cols: dict[str, Any] = {"mean": np.asarray(self.mean)}
        for v in self.level:
            lo, hi = self.bounds[v]
            cols[f"lo-{level_label(v)}"] = np.asarray(lo)
            cols[f"hi-{level_label(v)}"] = np.asarray(hi)
        return pd.DataFrame(cols, index=index)

    def plot(self, history: Any = None, **kwargs: Any) -> Any:
        """Fan chart after the history (needs the ``plot`` extra).

        ``history`` defaults to the series the forecast was made from. See
        :func:`tsconv.plot.plot_forecast` for the keyword arguments.
        """
        from tsconv import plot as _plot

        return _plot.plot_forecast(self, history, **kwargs)

    def __repr__(self) -> str:
        return f"Forecast(h={self.h}, level={self.level}, name={self.name!r}, model={self.model!r})\n{self.to_frame()!r}"


@dataclass(frozen=True, eq=False)
class BatchForecast(_Intervals):
    """Forecasts of many series: ``mean``, ``se`` and bounds of shape ``(k, h)``.

    Attributes
    ----------
    mean, se : ndarray
        ``(k, h)``, read-only; row ``i`` is series ``ids[i]``.
    level : tuple of float
    bounds : dict
        ``{level: (lower, upper)}``, each ``(k, h)``.
    ids : list
        The series' labels (``unique_id`` values, column names, or ``0..k-1``).
    ds : list of sequences
        The future time stamps of each series (the step numbers ``1..h`` when the
        input had none).
    model : str or None
    history : list of pandas.Series, 2-D array, wide DataFrame or None
        The observed series, one per row / column (for :meth:`plot`).
    residuals, fitted : optional
        In-sample residuals and one-step predictions, when the call computes them.

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv import ARIMA
    >>> m = ARIMA((1, 0, 0), ar=[0.5])
    >>> fc = m.forecast(np.array([[0.0, 2.0], [0.0, -2.0]]), 2, level=(80,))
    >>> fc.to_frame().round(3)
       unique_id  ds  mean  lo-80  hi-80
    0          0   1   1.0 -0.282  2.282
    1          0   2   0.5 -0.933  1.933
    2          1   1  -1.0 -2.282  0.282
    3          1   2  -0.5 -1.933  0.933
    """

    mean: Any
    se: Any
    level: tuple[float, ...]
    bounds: dict[float, tuple[Any, Any]] = field(repr=False)
    ids: list[Any] = field(default_factory=list)
    ds: list[Any] | None = field(default=None, repr=False)
    model: str | None = None
    history: Any = field(default=None, repr=False)
    residuals: Any = field(default=None, repr=False)
    fitted: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._freeze()
        if not self.ids:
            object.__setattr__(self, "ids", list(range(np.shape(self.mean)[0])))

    def __len__(self) -> int:
        return int(np.shape(self.mean)[0])

    def _stamps(self, i: int) -> Any:
        return list(self.ds[i]) if self.ds is not None else list(range(1, self.h + 1))

    def __getitem__(self, key: Any) -> Forecast:
        """The :class:`Forecast` of one series (by label)."""
        try:
            i = self.ids.index(key)
        except ValueError:
            raise KeyError(f"no series {key!r} in this forecast (ids: {self.ids[:10]})") from None
        index = pd.Index(self._stamps(i)) if self.ds is not None else None
        wrap = (lambda a: pd.Series(np.asarray(a)[i], index=index, name=key)) if index is not None else (lambda a: np.asarray(a)[i])
        hist = None
        if isinstance(self.history, pd.DataFrame):
            hist = self.history.iloc[:, i]
        elif self.history is not None:
            hist = self.history[i]
        return Forecast(wrap(self.mean), wrap(self.se), self.level, {v: (wrap(lo), wrap(hi)) for v, (lo, hi) in self.bounds.items()},
                        name=key, model=self.model, history=hist)

    def to_frame(self) -> pd.DataFrame:
        """statsforecast's long frame: ``unique_id``, ``ds``, ``mean``, ``lo-<level>``, ``hi-<level>``."""
        k, h = np.shape(self.mean)
        ds: list[Any] = []
        for i in range(k):
            ds.extend(self._stamps(i))
        cols: dict[str, Any] = {
            "unique_id": np.repeat(np.asarray(self.ids, dtype=object), h),
            "ds": ds,
            "mean": np.asarray(self.mean).ravel(),
        }
        for v in self.level:
            lo, hi = self.bounds[v]
            cols[f"lo-{level_label(v)}"] = np.asarray(lo).ravel()
            cols[f"hi-{level_label(v)}"] = np.asarray(hi).ravel()
        return pd.DataFrame(cols)

    def plot(self, ids: Any = None, **kwargs: Any) -> Any:
        """Fan charts of some series, one panel each (default: the first four).

        Keyword arguments go to :func:`tsconv.plot.plot_forecast`.
        """
        from tsconv import plot as _plot

        chosen = list(self.ids[:4]) if ids is None else list(ids)
        return _plot.plot_forecasts([self[u] for u in chosen], **kwargs)

    def __repr__(self) -> str:
        return f"BatchForecast({len(self)} series, h={self.h}, level={self.level}, model={self.model!r})"
