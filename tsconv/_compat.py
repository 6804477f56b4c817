"""Small shims over behaviour that differs between the supported pandas versions."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["infer_freq"]


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
