"""tsconv: every linear time-series operator is a 1D convolution kernel.

The public API, flat:

Operators (:mod:`tsconv.kernel`)
    :class:`Kernel` (a lag polynomial; ``@`` composes), :class:`Transfer` (a ratio of two:
    an IIR filter).
The engine (:mod:`tsconv.engine`)
    :func:`apply` (direct / FFT / recursive, edges, NaN, axis, pandas), :class:`Stream`
    (chunked, O(kernel) state), :func:`choose_method`, :func:`stochastic_apply`.
The kernel library (:mod:`tsconv.kernels`)
    :func:`sma`, :func:`wma`, :func:`ema` (exact Transfer), :func:`ema_fir`, :func:`gaussian`,
    :func:`triangular`, :func:`hann`, :func:`binomial`, :func:`window`, :func:`spencer15`,
    :func:`henderson`, :func:`centered_ma`, :func:`savgol`, :func:`difference`,
    :func:`seasonal_difference`, :func:`delta`.
Decomposition (:mod:`tsconv.decompose`)
    :func:`decompose` (classical: centred moving average + seasonal means).
Correlation (:mod:`tsconv.correlation`) and whitening (:mod:`tsconv.whiten`)
    :func:`xcorr`, :func:`correlation_lags`, :func:`ncc`, :func:`gcc`, :func:`find_peaks`,
    :func:`best_lag`, :func:`false_alarm_probability`; :func:`lpc`, :func:`prewhiten`,
    :func:`spectral_whiten`, :class:`Whitener`, :func:`pca_whiten`, :func:`zca_whiten`.
Seasonal ARIMA (:mod:`tsconv.arima`, :mod:`tsconv.verify`, :mod:`tsconv.datasets`)
    :class:`ARIMA` (kernels, psi/pi, exact and conditional filters, forecasts, statsmodels
    import), :class:`Forecast`; ``tsconv.verify.against_statsmodels``, ``check_suite``.
Estimation (:mod:`tsconv.estimate`)
    :func:`fit_arima` (CSS, exact ML, Yule-Walker, Burg, OLS; one series or a panel),
    :func:`select_order` (batched grid search by AICc/AIC/BIC), :class:`ARIMABatch`.
Automatic ARIMA (:mod:`tsconv.auto`)
    :func:`auto_arima` (data to forecasts, one call), :class:`AutoARIMA` (R's
    ``auto.arima`` rules, stepwise or grid, in lockstep over a panel).
pandas (:mod:`tsconv.accessor`)
    ``series.tsconv.<op>(...)`` and ``frame.tsconv.<op>(...)``, registered on import.
Figures (:mod:`tsconv.plot`, optional matplotlib)
    :func:`tsconv.plot.plot_kernel`, ``plot_model_kernels``, ``plot_forecast``, ``plot_match``,
    ``plot_decomposition``.
Scale-out (:mod:`tsconv.dask`, optional dask; import it explicitly, ``import tsconv`` does not)
    ``tsconv.dask.apply``, ``Stream``, ``fit_arima``, ``forecast``, ``verify``, ``ShardedMatcher``.
"""

from tsconv.engine import Stream, apply, choose_method, stochastic_apply
from tsconv.kernel import Kernel, Transfer
from tsconv.kernels import (
    sma,
    wma,
    ema,
    ema_fir,
    gaussian,
    triangular,
    hann,
    binomial,
    window,
    spencer15,
    henderson,
    centered_ma,
    savgol,
    difference,
    seasonal_difference,
    delta,
)
from tsconv.decompose import decompose
from tsconv.correlation import xcorr, correlation_lags, ncc, gcc, find_peaks, best_lag, false_alarm_probability, Peak
from tsconv.forecast import Forecast, BatchForecast
from tsconv.arima import ARIMA
from tsconv.estimate import fit_arima, select_order, ARIMABatch, FittedARIMA, FitResult
from tsconv.backtest import cross_validation
from tsconv.auto import AutoARIMA, auto_arima
from tsconv.whiten import lpc, prewhiten, spectral_whiten, Whitener, pca_whiten, zca_whiten

__version__ = "0.1.0"

__all__ = [
    "Kernel",
    "Transfer",
    "apply",
    "Stream",
    "choose_method",
    "stochastic_apply",
    "sma",
    "wma",
    "ema",
    "ema_fir",
    "gaussian",
    "triangular",
    "hann",
    "binomial",
    "window",
    "spencer15",
    "henderson",
    "centered_ma",
    "savgol",
    "difference",
    "seasonal_difference",
    "delta",
    "decompose",
    "xcorr",
    "correlation_lags",
    "ncc",
    "gcc",
    "find_peaks",
    "best_lag",
    "Peak",
    "false_alarm_probability",
    "lpc",
    "prewhiten",
    "spectral_whiten",
    "Whitener",
    "pca_whiten",
    "zca_whiten",
    "ARIMA",
    "Forecast",
    "BatchForecast",
    "fit_arima",
    "select_order",
    "ARIMABatch",
    "FittedARIMA",
    "FitResult",
    "cross_validation",
    "AutoARIMA",
    "auto_arima",
    "__version__",
]

from tsconv import accessor as _accessor  # noqa: E402  (registers the pandas accessors)

_accessor.register()
