"""Pins the pandas behaviour tsconv relies on for dated forecasts."""

import warnings

import pandas as pd

from tsconv._compat import infer_freq


def test_infer_freq_returns_an_offset_without_warning():
    idx = pd.DatetimeIndex(["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01"])  # no freq attached
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        off = infer_freq(idx)
    assert off == pd.tseries.frequencies.to_offset("MS")
    assert pd.date_range(idx[-1], periods=2, freq=off)[1] == pd.Timestamp("2020-05-01")


def test_infer_freq_uses_an_attached_freq_and_gives_up_on_irregular_data():
    assert infer_freq(pd.date_range("2020-01-01", periods=2, freq="D")) == pd.offsets.Day()
    assert infer_freq(pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05"])) is None
    assert infer_freq(pd.RangeIndex(5)) is None


def test_infer_freq_is_safe_under_threads():
    # catch_warnings-based silencing raced on the global filter list under Dask threads
    from concurrent.futures import ThreadPoolExecutor

    idx = pd.DatetimeIndex(["2020-01-06", "2020-01-13", "2020-01-20", "2020-01-27"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ThreadPoolExecutor(4) as ex:
            offs = list(ex.map(lambda _: infer_freq(idx), range(200)))
    assert all(o == pd.tseries.frequencies.to_offset("W-MON") for o in offs)
