"""Small shims over behaviour that differs between the supported pandas versions."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

__all__ = ["infer_freq"]


def infer_freq(index: Any) -> Any:
    """The frequency of a DatetimeIndex as a pandas offset, or None.

    ``pandas.infer_freq`` returns a string up to pandas 3.0 and warns from 3.1 that it
    will return an offset; ``to_offset`` turns either into an offset, silently.
    """
    freq = getattr(index, "freq", None)
    if freq is not None:
        return pd.tseries.frequencies.to_offset(freq)
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pandas 3.1's Pandas4Warning on the return type
        freq = pd.infer_freq(index)
    return None if freq is None else pd.tseries.frequencies.to_offset(freq)
