"""Optional matplotlib figures: kernels, model weights, forecast fans, match traces.

Needs the ``plot`` extra (``pip install "tsconv[plot]"``). Every function draws on the
axes it is given (or on a new figure of ``DPI`` dots per inch, so ``fig.savefig(path)``
writes a report-quality PNG) and returns the figure, so that scripts can save it and tests
can inspect the artists drawn. Titles and axis labels come from the series name and the
model; interval bands name their level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsconv._validation import as_positive_int, is_real
from tsconv.kernel import Kernel, Transfer

#: Resolution of the figures these functions create (``savefig`` uses it by default).
DPI = 150

__all__ = [
    "plot_kernel",
    "plot_model_kernels",
    "plot_forecast",
    "plot_forecasts",
    "plot_diagnostics",
    "plot_match",
    "plot_decomposition",
    "stationary_spectral_density",
    "model_name",
]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError('tsconv.plot needs matplotlib: pip install "tsconv[plot]"') from exc
    return plt


def _axes(ax: Any, n: int, figsize: tuple[float, float]) -> tuple[Any, list[Any]]:
    plt = _pyplot()
    if ax is None:
        fig, axes = plt.subplots(1, n, figsize=figsize, squeeze=False, dpi=DPI)
        return fig, list(axes[0])
    axes = list(np.atleast_1d(ax))
    if len(axes) != n:
        raise ValueError(f"ax must hold {n} axes for this figure, got {len(axes)}")
    return axes[0].figure, axes


def model_name(model: Any) -> str:
    """``ARIMA(p,d,q)(P,D,Q)[s]`` of a model with ``order`` / ``seasonal_order`` (or its class name).

    The same label as the forecasts' ``model`` (``tsconv.arima.model_label``, R's spelling).

    Examples
    --------
    >>> from tsconv import ARIMA
    >>> from tsconv.plot import model_name
    >>> model_name(ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.4], seasonal_ma=[-0.6]))
    'ARIMA(0,1,1)(0,1,1)[12]'
    """
    from tsconv.arima import model_label

    order = getattr(model, "order", None)
    if order is None:
        return type(model).__name__
    return model_label(order, getattr(model, "seasonal_order", None))


def _x(index: Any) -> Any:
    """Index values matplotlib can draw (periods become their start timestamps)."""
    import pandas as pd

    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


def plot_kernel(op: Kernel | Transfer, *, n: int = 64, worN: int = 512, ax: Any = None, title: str | None = None) -> Any:
    """Impulse response (stem over lags) and gain in dB against frequency.

    Parameters
    ----------
    op : Kernel or Transfer
        The operator; a Transfer shows the first ``n`` terms of its impulse response.
    n : int, default 64
        Impulse-response terms drawn for a Transfer.
    worN : int, default 512
        Number of frequencies in ``[0, 0.5)`` cycles per sample.
    ax : pair of matplotlib Axes, optional
        Where to draw; a new 1x2 figure by default.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from tsconv import Kernel
    >>> from tsconv.plot import plot_kernel
    >>> fig = plot_kernel(Kernel([0.25, 0.5, 0.25], origin=1))
    >>> [a.get_xlabel() for a in fig.axes]
    ['lag', 'frequency (cycles per sample)']
    """
    if not isinstance(op, (Kernel, Transfer)):
        raise TypeError(f"op must be a tsconv Kernel or Transfer, got {type(op).__name__}")
    fig, (a0, a1) = _axes(ax, 2, (9.0, 3.2))
    k = op.impulse_response(as_positive_int(n, "n")) if isinstance(op, Transfer) else op
    a0.stem(k.lags, k.coef, basefmt=" ")
    a0.axvline(0, color="0.7", lw=0.8, zorder=0)
    a0.set_xlabel("lag")
    a0.set_ylabel("weight")
    a0.set_title("impulse response")
    w, h = op.frequency_response(as_positive_int(worN, "worN"))
    with np.errstate(divide="ignore"):
        gain_db = 20 * np.log10(np.abs(h))
    a1.plot(w / (2 * np.pi), gain_db)
    a1.set_xlabel("frequency (cycles per sample)")
    a1.set_ylabel("gain (dB)")
    a1.set_title("frequency response")
    if title is None:
        kind = "Transfer" if isinstance(op, Transfer) else f"Kernel of {op.coef.size} taps, origin {op.origin}"
        title = kind
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def stationary_spectral_density(model: Any, freqs: Any) -> Any:
    """Spectral density of the stationary (ARMA) part of a model: the differenced series.

    ``sigma2 |ma_total(e^{-2 pi i f})|^2 / |ar_reduced(e^{-2 pi i f})|^2``: the differencing
    ``(1-B)^d (1-B^s)^D`` is left out (with it the density is infinite at the zero and
    seasonal frequencies). Equal to ``model.spectral_density`` for a model without
    differencing.

    Examples
    --------
    >>> from tsconv import ARIMA
    >>> from tsconv.plot import stationary_spectral_density
    >>> stationary_spectral_density(ARIMA((0, 1, 1), ma=[1.0], sigma2=2.0), [0.0, 0.25, 0.5])
    array([8., 4., 0.])
    """
    import scipy.signal

    f = np.asarray(freqs, dtype=float)
    _, h = scipy.signal.freqz(model.ma_total.coef, model.ar_reduced.coef, worN=2.0 * np.pi * np.atleast_1d(f).ravel())
    return (model.sigma2 * np.abs(h) ** 2).reshape(np.shape(f))


def plot_model_kernels(model: Any, *, n: int = 48, ax: Any = None, title: str | None = None) -> Any:
    """psi (MA-infinity) and pi (AR-infinity) weights and the spectral density of a model.

    Parameters
    ----------
    model : tsconv.ARIMA
        The model; ``psi(n)`` and ``pi(n)`` give the weights (differencing included), the
        spectral density is that of the stationary part (:func:`stationary_spectral_density`).
    n : int, default 48
        Number of weights drawn.
    ax : three matplotlib Axes, optional
    title : str, optional
        Figure title; by default the model (``ARIMA(0,1,1)(0,1,1)12``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from tsconv import ARIMA
    >>> from tsconv.plot import plot_model_kernels
    >>> fig = plot_model_kernels(ARIMA((1, 1, 0), ar=[0.5]))
    >>> fig.get_suptitle()
    'ARIMA(1,1,0): psi and pi weights, spectral density'
    """
    n = as_positive_int(n, "n")
    if not all(callable(getattr(model, name, None)) for name in ("psi", "pi", "spectral_density")):
        raise TypeError(f"model must be a tsconv.ARIMA (or have psi, pi and spectral_density), got {type(model).__name__}")
    fig, (a0, a1, a2) = _axes(ax, 3, (12.0, 3.4))
    for a, name in ((a0, "psi"), (a1, "pi")):
        k = getattr(model, name)(n)
        lags, weights = (k.lags, k.coef) if isinstance(k, Kernel) else (np.arange(np.size(k)), np.asarray(k))
        a.stem(lags, weights, basefmt=" ")
        a.set_xlabel("lag")
        a.set_ylabel("weight")
        a.set_title(f"{name} weights" + (" (MA-infinity)" if name == "psi" else " (AR-infinity)"))
    freqs = np.linspace(0.0, 0.5, 256)
    a2.semilogy(freqs, stationary_spectral_density(model, freqs))
    a2.set_xlabel("frequency (cycles per observation)")
    a2.set_ylabel("spectral density")
    differenced = getattr(model, "differencing", None) is not None and model.differencing.coef.size > 1
    a2.set_title("spectral density of the differenced series" if differenced else "spectral density")
    fig.suptitle(title if title is not None else f"{model_name(model)}: psi and pi weights, spectral density")
    fig.tight_layout()
    return fig


def plot_forecast(forecast: Any, history: Any = None, *, ax: Any = None, last: int | None = 120,
                  model: Any = None, name: str | None = None, ylabel: str | None = None,
                  title: str | None = None) -> Any:
    """Fan chart: the history, the forecast mean joined to it, and one band per level.

    Parameters
    ----------
    forecast : tsconv.Forecast
        The forecast of one series.
    history : array_like or pandas.Series, optional
        The observed series; default the forecast's own ``history``. Its last ``last``
        values are drawn and joined to the first forecast. On the forecast's axis: a
        Series (dated if the forecast is) for the forecast of a Series, values (or a
        Series without dates) for the forecast of an array; a ValueError otherwise.
    ax : matplotlib Axes, optional
    last : int or None, default 120
        How much history to show (None: all of it).
    model : tsconv.ARIMA, optional
        Names the model in the title (default: the forecast's own ``model`` label).
    name : str, optional
        The series' name (default: the forecast's, else ``history.name``, else "series").
    ylabel : str, optional
        The y axis label, with units (default: the name).
    title : str, optional
        Replaces the default ``"<name>: <h>-step forecast, <model>"``.

    Returns
    -------
    matplotlib.figure.Figure
        The legend lists ``observed``, ``forecast mean`` and each level
        (``95% prediction interval``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from tsconv import ARIMA
    >>> fc = ARIMA((1, 0, 0), ar=[0.5]).forecast(np.array([0.0, 1.0, 2.0]), 4, level=(80, 95))
    >>> ax = fc.plot().axes[0]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['observed', 'forecast mean', '80% prediction interval', '95% prediction interval']
    >>> ax.get_title()
    'series: 4-step forecast, ARIMA(1,0,0)'
    """
    import pandas as pd

    from tsconv.forecast import Forecast, level_label

    if not isinstance(forecast, Forecast):
        raise TypeError(f"forecast must be a tsconv.Forecast (one series), got {type(forecast).__name__}")
    fig, (a,) = _axes(ax, 1, (8.0, 3.6))
    frame = forecast.to_frame()
    x = _x(frame.index)
    if history is None:
        history = forecast.history
    if name is None:
        for cand in (forecast.name, getattr(history, "name", None)):
            if cand is not None:
                name = str(cand)
                break
        else:
            name = "series"
    mean = frame["mean"].to_numpy()
    if history is not None:
        dated = (pd.DatetimeIndex, pd.PeriodIndex)
        if not isinstance(forecast.mean, pd.Series):  # the forecast of an array runs 1..h after it
            if isinstance(history, pd.Series) and isinstance(history.index, dated):
                raise ValueError(f"history has dates ({type(history.index).__name__}) but the forecast has none (it "
                                 "forecast an array: steps 1..h); forecast the Series itself, model.forecast(y, h), "
                                 "or pass history.to_numpy()")
            h = pd.Series(np.asarray(history, dtype=float))
            h.index = pd.RangeIndex(1 - len(h), 1)
        elif not isinstance(history, pd.Series) or isinstance(history.index, dated) != isinstance(frame.index, dated):
            # the forecast of a Series continues its index: the history must be on that axis
            got = type(history.index).__name__ if isinstance(history, pd.Series) else type(history).__name__
            raise ValueError(f"history must be a Series on the axis the forecast continues ({type(frame.index).__name__}), "
                             f"got {got}; pass the Series the model forecast")
        else:
            h = history
        if last is not None:
            h = h.iloc[-as_positive_int(last, "last") :]
        a.plot(_x(h.index), h.to_numpy(), color="k", lw=1.0, label="observed")
        if len(h):  # join the last observation to the first forecast
            a.plot([_x(h.index)[-1], x[0]], [h.to_numpy()[-1], mean[0]], color="C0", lw=1.5, label="_join")
    a.plot(x, mean, color="C0", lw=1.5, label="forecast mean")
    for i, v in enumerate(sorted(forecast.level, reverse=True)):
        lab = level_label(v)
        a.fill_between(x, frame[f"lo-{lab}"].to_numpy(), frame[f"hi-{lab}"].to_numpy(), color="C0",
                       alpha=0.15 + 0.15 * i, lw=0, label=f"{lab}% prediction interval")
    handles, labels = a.get_legend_handles_labels()
    order = ["observed", "forecast mean"] + [f"{level_label(v)}% prediction interval" for v in forecast.level]
    pairs = {lab: hd for hd, lab in zip(handles, labels)}
    a.legend([pairs[k] for k in order if k in pairs], [k for k in order if k in pairs], loc="best")
    if title is None:
        label = model_name(model) if model is not None else forecast.model
        title = f"{name}: {len(frame)}-step forecast" + (f", {label}" if label else "")
    a.set_title(title)
    a.set_ylabel(ylabel if ylabel is not None else name)
    a.set_xlabel("time" if isinstance(x, pd.DatetimeIndex) else "observation")
    fig.tight_layout()
    return fig


def plot_forecasts(forecasts: Any, *, ax: Any = None, **kwargs: Any) -> Any:
    """Fan charts of several one-series forecasts, one axes each (a panel's series).

    Keyword arguments go to :func:`plot_forecast`.
    """
    items = list(forecasts)
    if not items:
        raise ValueError("forecasts must hold at least one forecast")
    fig, axes = _column(ax, len(items))
    for f, a in zip(items, axes):
        plot_forecast(f, ax=a, **kwargs)
    fig.tight_layout()
    return fig


def _column(ax: Any, n: int) -> tuple[Any, list[Any]]:
    plt = _pyplot()
    if ax is None:
        fig, axes = plt.subplots(n, 1, figsize=(8.0, 2.8 * n), squeeze=False)
        return fig, list(axes[:, 0])
    axes = list(np.atleast_1d(ax))
    if len(axes) != n:
        raise ValueError(f"ax must hold {n} axes for this figure, got {len(axes)}")
    return axes[0].figure, axes


def plot_diagnostics(resid: Any, *, lags: int = 24, ax: Any = None) -> Any:
    """Residual diagnostics of a fitted model: the standardized residuals over time, their
    histogram with the N(0, 1) density, their autocorrelations with the +-1.96/sqrt(n)
    band, and a normal Q-Q plot (statsmodels' ``plot_diagnostics`` panels).

    Parameters
    ----------
    resid : array_like or pandas.Series
        Residuals (NaN values are dropped).
    lags : int, default 24
    ax : four matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from tsconv.plot import plot_diagnostics
    >>> fig = plot_diagnostics(np.random.default_rng(0).standard_normal(100), lags=12)
    >>> [a.get_title() for a in fig.axes]
    ['standardized residuals', 'histogram and N(0,1)', 'autocorrelation', 'normal Q-Q']
    """
    import pandas as pd
    import scipy.stats

    lags = as_positive_int(lags, "lags")
    r = resid if isinstance(resid, pd.Series) else pd.Series(np.asarray(resid, dtype=float))
    r = r[np.isfinite(r.to_numpy(dtype=float))]
    if len(r) < 3:
        raise ValueError(f"resid must hold at least 3 finite values, got {len(r)}")
    if not r.std(ddof=0) > 0:
        raise ValueError(f"resid must not be constant (nothing to standardize), got {len(r)} values equal to {r.iloc[0]!r}")
    z = (r - r.mean()) / r.std(ddof=0)
    if ax is None:
        plt = _pyplot()
        fig, grid = plt.subplots(2, 2, figsize=(10.0, 6.0))
        axes = list(grid.ravel())
    else:
        axes = list(np.atleast_1d(ax).ravel())
        if len(axes) != 4:
            raise ValueError(f"ax must hold 4 axes, got {len(axes)}")
        fig = axes[0].figure
    a0, a1, a2, a3 = axes
    a0.plot(_x(z.index), z.to_numpy(), lw=0.8)
    a0.axhline(0.0, color="k", lw=0.5)
    a0.set_title("standardized residuals")
    a1.hist(z.to_numpy(), bins="auto", density=True, alpha=0.6)
    grid_x = np.linspace(float(z.min()), float(z.max()), 200)
    a1.plot(grid_x, scipy.stats.norm.pdf(grid_x), color="k", lw=1.0)
    a1.set_title("histogram and N(0,1)")
    e = z.to_numpy() - z.to_numpy().mean()
    k = min(lags, len(e) - 1)
    acf = np.array([np.dot(e[j:], e[: len(e) - j]) for j in range(1, k + 1)]) / np.dot(e, e)
    a2.stem(np.arange(1, k + 1), acf)
    band = 1.96 / np.sqrt(len(e))
    a2.axhline(band, color="k", ls="--", lw=0.5)
    a2.axhline(-band, color="k", ls="--", lw=0.5)
    a2.set_title("autocorrelation")
    (osm, osr), _ = scipy.stats.probplot(z.to_numpy(), dist="norm")
    a3.plot(osm, osr, ".", ms=3)
    a3.plot(osm, osm, color="k", lw=0.8)
    a3.set_title("normal Q-Q")
    fig.tight_layout()
    return fig


def plot_match(trace: Any, *, peak: int | None = None, threshold: float | None = None, sr: float | None = None, ax: Any = None, title: str | None = None, false_alarm: float | None = None) -> Any:
    """A correlation trace with its peak and the false-alarm level.

    Parameters
    ----------
    trace : array_like
        Normalized cross-correlation against lag (samples).
    peak : int, optional
        Index of the detected peak (marked).
    threshold : float, optional
        The score at the chosen false-alarm probability (a horizontal line).
    sr : float, optional
        Sample rate: the x axis in seconds instead of samples.
    ax : matplotlib Axes, optional
    title : str, optional
    false_alarm : float, optional
        The false-alarm probability ``threshold`` stands for, named in the legend.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, (a,) = _axes(ax, 1, (8.0, 3.0))
    tr = np.asarray(trace, dtype=float)
    if tr.ndim != 1 or tr.size == 0:
        raise ValueError(f"trace must be a non-empty 1-D array, got shape {tr.shape}")
    if sr is not None and not (is_real(sr) and sr > 0):
        raise ValueError(f"sr must be a positive number (samples per second) or None, got {sr!r}")
    if peak is not None and not (isinstance(peak, (int, np.integer)) and not isinstance(peak, bool) and 0 <= peak < tr.size):
        raise ValueError(f"peak must be an index of trace (an integer in [0, {tr.size})) or None, got {peak!r}")
    scale = 1.0 / sr if sr else 1.0
    lags = np.arange(tr.size) * scale
    a.plot(lags, tr, lw=0.6, color="0.3", label="NCC")
    if peak is not None:
        a.plot([lags[peak]], [tr[peak]], "o", color="C3", label="peak")
    if threshold is not None:
        label = "false-alarm level" if false_alarm is None else f"false-alarm level (p = {false_alarm:g})"
        a.axhline(threshold, color="C1", ls="--", lw=1.0, label=label)
    a.set_xlabel("offset (s)" if sr else "offset (samples)")
    a.set_ylabel("correlation")
    a.legend(loc="best")
    if title:
        a.set_title(title)
    fig.tight_layout()
    return fig


def plot_decomposition(frame: Any, *, ax: Any = None, name: str | None = None, title: str | None = None) -> Any:
    """Classical decomposition panels: observed, trend, seasonal, residual.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``observed``, ``trend``, ``seasonal``, ``resid`` (what
        ``series.tsconv.decompose(period)`` returns).
    ax : four matplotlib Axes, optional
    name : str, optional
        The series' name (with its units), in the title.
    title : str, optional
        Replaces the default "Classical decomposition of <name>".

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, tsconv
    >>> from tsconv.plot import plot_decomposition
    >>> parts = tsconv.decompose(np.tile([1.0, -1.0, 2.0, -2.0], 12) + np.arange(48.0), 4)
    >>> plot_decomposition(parts, name="demand (MW)").get_suptitle()
    'Classical decomposition of demand (MW)'
    """
    cols = ["observed", "trend", "seasonal", "resid"]
    missing = [c for c in cols if c not in getattr(frame, "columns", [])]
    if missing:
        raise ValueError(f"frame must have columns {cols}, missing {missing}")
    plt = _pyplot()
    if ax is None:
        fig, axes = plt.subplots(4, 1, figsize=(8.0, 7.0), sharex=True, dpi=DPI)
    else:
        axes = list(np.atleast_1d(ax))
        if len(axes) != 4:
            raise ValueError(f"ax must hold 4 axes, got {len(axes)}")
        fig = axes[0].figure
    import pandas as pd

    labels = {"observed": "observed", "trend": "trend", "seasonal": "seasonal", "resid": "residual"}
    x = _x(frame.index)
    for a, c in zip(axes, cols):
        a.plot(x, frame[c].to_numpy(), lw=1.0)
        a.set_ylabel(labels[c])
    axes[-1].set_xlabel("time" if isinstance(x, pd.DatetimeIndex) else "observation")
    fig.suptitle(title if title is not None else "Classical decomposition" + (f" of {name}" if name else ""))
    fig.tight_layout()
    return fig
