"""Small shims over behaviour that differs between the supported pandas and SciPy versions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.special
from numpy.typing import NDArray

__all__ = ["beta_sf", "infer_freq"]


def infer_freq(index: Any) -> Any:
    """The frequency of a DatetimeIndex as a pandas offset, or None.

    ``pandas.infer_freq`` returns a string up to pandas 3.0 and warns from 3.1 that it will
    return an offset. Silencing that warning with ``warnings.catch_warnings`` is not
    thread-safe (Dask's threaded scheduler races on the global filter list), so the
    frequency comes from ``DatetimeIndex(..., freq="infer")``, which gives an offset
    without a warning on every supported version.
    """
    freq = getattr(index, "freq", None)
    if freq is not None:
        return pd.tseries.frequencies.to_offset(freq)
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return None
    try:
        return pd.DatetimeIndex(index, freq="infer").freq
    except ValueError:  # duplicates or an order pandas cannot infer from
        return None


def beta_sf(x: Any, a: float) -> NDArray[np.float64]:
    """``scipy.stats.beta.sf(x, a, a)``, the survival function of Beta(a, a).

    ``scipy.special.betaincc`` (SciPy 1.12 and later) gives the same values (a test pins
    it) at a tenth of the cost per call, which counts where one value is asked at a time
    (a matcher query asks for about 50); SciPy 1.11 has no ``betaincc``.
    """
    if hasattr(scipy.special, "betaincc"):
        return np.asarray(scipy.special.betaincc(a, a, x))
    from scipy import stats

    return np.asarray(stats.beta.sf(x, a, a))
