"""Optional matplotlib figures: kernels, model weights, forecast fans, match traces.

Needs the ``plot`` extra (``pip install "tsconv[plot]"``). Every function draws on the
axes it is given (or on a new figure) and returns the figure, so that scripts can save
it and tests can inspect the artists drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsconv._validation import as_positive_int
from tsconv.kernel import Kernel, Transfer

__all__ = [
    "plot_kernel",
    "plot_model_kernels",
    "plot_forecast",
    "plot_match",
    "plot_decomposition",
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
        fig, axes = plt.subplots(1, n, figsize=figsize, squeeze=False)
        return fig, list(axes[0])
    axes = list(np.atleast_1d(ax))
    if len(axes) != n:
        raise ValueError(f"ax must hold {n} axes for this figure, got {len(axes)}")
    return axes[0].figure, axes


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
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_model_kernels(model: Any, *, n: int = 48, ax: Any = None) -> Any:
    """psi (MA-infinity) and pi (AR-infinity) weights and the spectral density of a model.

    Parameters
    ----------
    model : tsconv.ARIMA
        Anything with ``psi(n)``, ``pi(n)`` (arrays or Kernels) and ``spectral_density(freqs)``.
    n : int, default 48
        Number of weights drawn.
    ax : three matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = as_positive_int(n, "n")
    fig, (a0, a1, a2) = _axes(ax, 3, (12.0, 3.2))
    for a, name in ((a0, "psi"), (a1, "pi")):
        k = getattr(model, name)(n)
        lags, weights = (k.lags, k.coef) if isinstance(k, Kernel) else (np.arange(np.size(k)), np.asarray(k))
        a.stem(lags, weights, basefmt=" ")
        a.set_xlabel("lag")
        a.set_title(f"{name} weights")
    freqs = np.linspace(0.0, 0.5, 256)
    a2.semilogy(freqs, np.asarray(model.spectral_density(freqs)))
    a2.set_xlabel("frequency (cycles per sample)")
    a2.set_title("spectral density")
    fig.tight_layout()
    return fig


def plot_forecast(forecast: Any, history: Any = None, *, ax: Any = None, last: int | None = 120) -> Any:
    """Fan chart: the history, the forecast mean and its interval.

    Parameters
    ----------
    forecast : tsconv.Forecast
        Anything whose ``to_frame()`` has columns ``mean``, ``lower``, ``upper``.
    history : array_like or pandas.Series, optional
        The observed series; its last ``last`` values are drawn.
    ax : matplotlib Axes, optional
    last : int or None, default 120
        How much history to show (None: all of it).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import pandas as pd

    fig, (a,) = _axes(ax, 1, (8.0, 3.5))
    frame = forecast.to_frame()
    if frame.ndim != 2 or not {"mean", "lower", "upper"} <= set(frame.columns):
        raise ValueError("forecast.to_frame() must have columns 'mean', 'lower', 'upper' (one series)")
    if history is not None:
        h = history if isinstance(history, pd.Series) else pd.Series(np.asarray(history, dtype=float))
        if last is not None:
            h = h.iloc[-as_positive_int(last, "last") :]
        a.plot(_x(h.index), h.to_numpy(), color="k", lw=1.0, label="observed")
    x = _x(frame.index)
    a.fill_between(x, frame["lower"].to_numpy(), frame["upper"].to_numpy(), alpha=0.3, label="interval")
    a.plot(x, frame["mean"].to_numpy(), lw=1.5, label="forecast")
    a.legend(loc="best")
    a.set_title("forecast")
    fig.tight_layout()
    return fig


def plot_match(trace: Any, *, peak: int | None = None, threshold: float | None = None, sr: float | None = None, ax: Any = None, title: str | None = None) -> Any:
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

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, (a,) = _axes(ax, 1, (8.0, 3.0))
    tr = np.asarray(trace, dtype=float)
    if tr.ndim != 1 or tr.size == 0:
        raise ValueError(f"trace must be a non-empty 1-D array, got shape {tr.shape}")
    scale = 1.0 / sr if sr else 1.0
    lags = np.arange(tr.size) * scale
    a.plot(lags, tr, lw=0.6, color="0.3", label="NCC")
    if peak is not None:
        a.plot([lags[peak]], [tr[peak]], "o", color="C3", label="peak")
    if threshold is not None:
        a.axhline(threshold, color="C1", ls="--", lw=1.0, label="false-alarm level")
    a.set_xlabel("offset (s)" if sr else "offset (samples)")
    a.set_ylabel("correlation")
    a.legend(loc="best")
    if title:
        a.set_title(title)
    fig.tight_layout()
    return fig


def plot_decomposition(frame: Any, *, ax: Any = None) -> Any:
    """Classical decomposition panels: observed, trend, seasonal, residual.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``observed``, ``trend``, ``seasonal``, ``resid`` (what
        ``series.tsconv.decompose(period)`` returns).
    ax : four matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    cols = ["observed", "trend", "seasonal", "resid"]
    missing = [c for c in cols if c not in getattr(frame, "columns", [])]
    if missing:
        raise ValueError(f"frame must have columns {cols}, missing {missing}")
    plt = _pyplot()
    if ax is None:
        fig, axes = plt.subplots(4, 1, figsize=(8.0, 7.0), sharex=True)
    else:
        axes = list(np.atleast_1d(ax))
        if len(axes) != 4:
            raise ValueError(f"ax must hold 4 axes, got {len(axes)}")
        fig = axes[0].figure
    for a, c in zip(axes, cols):
        a.plot(_x(frame.index), frame[c].to_numpy(), lw=1.0)
        a.set_ylabel(c)
    fig.tight_layout()
    return fig
