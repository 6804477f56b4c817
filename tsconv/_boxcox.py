"""Box-Cox transforms for forecasting: the transform, its inverse and Guerrero's lambda.

``w = (y**lam - 1) / lam`` (``log y`` for ``lam = 0``), scipy's ``boxcox``; forecasts made on
``w`` are mapped back with the inverse, which turns the Gaussian mean into the median of the
back-transformed forecast distribution and maps interval bounds to interval bounds (R's
``forecast(..., lambda=, biasadj=FALSE)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize
import scipy.special
from numpy.typing import NDArray

from tsconv._validation import is_real


def check_boxcox(value: Any) -> Any:
    """None, ``"auto"`` or a finite number; a ValueError naming ``boxcox`` otherwise."""
    if value is None or (isinstance(value, str) and value == "auto"):
        return value
    if not is_real(value) or not np.isfinite(float(value)):
        raise ValueError(f"boxcox must be None, 'auto' or a finite lambda, got {value!r}")
    return float(value)


def guerrero(x: NDArray[np.float64], period: int, lower: float = -1.0, upper: float = 2.0) -> float:
    """Guerrero's (1993) lambda, as R's ``forecast::BoxCox.lambda(x, method="guerrero")``.

    The series (its last whole periods) is cut into subseries of length ``max(2, period)``;
    lambda minimizes the coefficient of variation of ``sd_i / mean_i**(1 - lambda)`` over
    ``[lower, upper]`` (bounded Brent search, as R's ``optimize``). A series of at most
    two seasons (``n <= 2 * period``) gets 1, as R's ("not enough data to do much more"):
    two subseries give a criterion whose minimum sits on a bound (-1 on 24 months).
    """
    if x.size <= 2 * max(1, int(round(period))):
        return 1.0
    period = int(round(max(2, period)))
    n = x.size
    nyr = n // period
    if nyr < 2:
        raise ValueError(f"Guerrero's method needs at least two periods of {period} observations, got {n}")
    mat = x[n - nyr * period :].reshape(nyr, period)
    mean = mat.mean(axis=1)
    sd = mat.std(axis=1, ddof=1)

    def cv(lam: float) -> float:
        rat = sd / mean ** (1.0 - lam)
        return float(np.std(rat, ddof=1) / np.mean(rat))

    res = scipy.optimize.minimize_scalar(cv, bounds=(lower, upper), method="bounded", options={"xatol": 1e-8})
    return float(res.x)


def choose_lambda(x: NDArray[np.float64], spec: Any, period: int, label: str) -> float:
    """The lambda of one series: ``spec`` itself or Guerrero's; the series must be positive."""
    if np.any(x <= 0):
        raise ValueError(f"boxcox needs strictly positive data, got {float(np.min(x))} in {label}")
    return guerrero(x, period) if spec == "auto" else float(spec)


def transform(x: Any, lam: float) -> Any:
    return scipy.special.boxcox(x, lam)


def inverse(w: Any, lam: float | NDArray[np.float64]) -> Any:
    return scipy.special.inv_boxcox(w, lam)
