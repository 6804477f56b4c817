"""Time stamps of forecasts and of long frames: parsing, ordering, future dates, freq=.

References: pandas (``date_range``, ``bdate_range``, offsets) and the same data in a form
that already worked (zero-padded ISO dates, datetime ``ds``, a numeric index).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tsconv
from tsconv import auto_arima, cross_validation, fit_arima

_OFF = pd.tseries.frequencies.to_offset


def _walk(n: int, seed: int = 0) -> np.ndarray:
    return 10 + np.random.default_rng(seed).standard_normal(n).cumsum()


def _mid_month(n: int = 36) -> pd.DatetimeIndex:
    """Monthly dates on the 15th: no pandas frequency."""
    return pd.DatetimeIndex([pd.Timestamp(2020 + m // 12, m % 12 + 1, 15) for m in range(n)])


def _business_days_with_a_holiday() -> pd.DatetimeIndex:
    bd = pd.bdate_range("2024-01-02", "2024-03-06")  # ends on a Wednesday
    return bd[bd != pd.Timestamp("2024-01-15")]


# -- 1. regressors of long frames follow the parsed dates ------------------------------
def test_regressors_of_unpadded_iso_date_strings_follow_the_parsed_dates():
    # ds "2020-1-1" was parsed for y, but the regressor rows were sorted as text
    # ("2020-10-1" before "2020-2-1"): the same data zero-padded is the reference
    rng = np.random.default_rng(6)
    dates = pd.date_range("2020-01-01", periods=36, freq="MS")
    x = rng.normal(size=36) * 3
    padded = pd.DataFrame({"unique_id": "a", "ds": dates.strftime("%Y-%m-%d"), "y": 5 + 2 * x + rng.normal(size=36) * 0.3,
                           "x": x})
    unpadded = padded.assign(ds=[f"{d.year}-{d.month}-{d.day}" for d in dates])
    ref, got = fit_arima(padded, (1, 0, 0), trend="c"), fit_arima(unpadded, (1, 0, 0), trend="c")
    pd.testing.assert_frame_equal(got.to_frame(), ref.to_frame())
    # the future regressors as unpadded strings, against the same rows with datetime ds
    fd = pd.date_range("2023-01-01", periods=12, freq="MS")
    fut = pd.DataFrame({"unique_id": "a", "ds": fd, "x": np.arange(1.0, 13.0)})
    fut_str = fut.assign(ds=[f"{d.year}-{d.month}-{d.day}" for d in fd])
    pd.testing.assert_frame_equal(ref.forecast(12, exog_future=fut_str).to_frame(), ref.forecast(12, exog_future=fut).to_frame())


# -- 2. freq= with a last date off the frequency's grid ---------------------------------
def test_freq_off_the_grid_continues_from_the_first_grid_date_after_the_last():
    # date_range(last, periods=h + 1, freq)[1:] dropped the first step: January after
    # 2022-12-15 with 'MS', 2022-12-31 with 'ME'
    idx = _mid_month()
    s = pd.Series(_walk(36), index=idx)
    fit = fit_arima(s, (1, 1, 0))
    batch = fit_arima(pd.DataFrame({"unique_id": "a", "ds": idx, "y": s.to_numpy()}), (1, 1, 0))
    for freq in ("MS", pd.offsets.MonthEnd(), "W", pd.DateOffset(months=1), pd.Timedelta("30D")):
        off = _OFF(freq)
        want = list(pd.date_range(idx[-1] + off, periods=3, freq=off))
        assert list(fit.forecast(3, freq=freq).mean.index) == want, freq
        assert list(batch.forecast(3, freq=freq).to_frame()["ds"]) == want, freq
    assert list(fit.forecast(2, freq="MS").mean.index)[0] == pd.Timestamp("2023-01-01")  # the month after December


def test_freq_on_the_grid_keeps_the_dates_it_gave():
    # on-grid last dates: exactly what date_range(last, periods=h + 1, freq)[1:] gave,
    # time zone aware ones too (midnights through a DST change)
    cases = [(pd.date_range("2000-01-01", periods=40, freq="MS"), "MS"),
             (pd.date_range("2000-01-31", periods=40, freq=pd.offsets.MonthEnd()), pd.offsets.MonthEnd()),
             (pd.date_range("2000-01-01", periods=40, freq="QS"), "QS"),
             (pd.date_range("2020-09-16", "2020-10-25", freq="D", tz="Europe/Paris"), "D"),
             (pd.date_range("2020-01-05", periods=40, freq="W-SUN", tz="UTC"), pd.DateOffset(weeks=1)),
             (pd.date_range("2020-01-01", periods=40, freq=pd.offsets.Hour()), pd.Timedelta("1h"))]
    for idx, freq in cases:
        s = pd.Series(_walk(len(idx)), index=idx)
        fit = fit_arima(s, (1, 1, 0))
        batch = fit_arima(s.rename_axis("ds").reset_index(name="y").assign(unique_id="a"), (1, 1, 0))
        want = list(pd.date_range(idx[-1], periods=6, freq=freq)[1:])
        assert list(fit.forecast(5, freq=freq).mean.index) == want, freq
        assert list(batch.forecast(5, freq=freq).to_frame()["ds"]) == want, freq
        inferred = list(pd.date_range(idx[-1], periods=6, freq=idx.freq)[1:])
        assert list(fit.forecast(5).mean.index) == inferred, freq
        assert list(batch.forecast(5).to_frame()["ds"]) == inferred, freq


# -- 3. frequencies of panels inferred from all the stamps -------------------------------
def test_panel_dates_on_the_15th_ask_for_freq_as_a_series_does():
    # the last three stamps gave '31D' or 30 days: 2023-01-14, 2023-02-13, ...
    idx = _mid_month()
    y = _walk(36)
    df = pd.DataFrame({"unique_id": "a", "ds": idx, "y": y})
    with pytest.raises(ValueError, match="pass freq="):  # the Series' answer
        fit_arima(pd.Series(y, index=idx), (1, 1, 0)).forecast(3)
    batch = fit_arima(df, (1, 1, 0))
    with pytest.raises(ValueError, match=r"unique_id='a'.*pass freq="):
        batch.forecast(3)
    with pytest.raises(ValueError, match=r"unique_id='a'.*pass freq="):
        auto_arima(df, 3, intervals="model")
    monthly = pd.DateOffset(months=1)
    want = list(fit_arima(pd.Series(y, index=idx), (1, 1, 0)).forecast(3, freq=monthly).mean.index)
    assert list(batch.forecast(3, freq=monthly).to_frame()["ds"]) == want
    assert list(auto_arima(df, 3, intervals="model", freq=monthly)["ds"]) == want
    assert list(auto_arima(pd.Series(y, index=idx), 3, intervals="model", freq=monthly).index) == want


def test_business_days_with_a_holiday_continue_on_business_days():
    # the last three stamps (Mon, Tue, Wed) gave 'D', whose grid holds every stamp too:
    # the forecasts fell on Saturday and Sunday
    bd = _business_days_with_a_holiday()
    y = _walk(len(bd), 13)
    want = list(pd.date_range(bd[-1], periods=5, freq="B")[1:])  # pandas' business days after the last
    df = pd.DataFrame({"unique_id": "px", "ds": bd, "y": y})
    assert list(fit_arima(df, (1, 1, 0)).forecast(4).to_frame()["ds"]) == want
    assert list(auto_arima(pd.Series(y, index=bd), 4, intervals="model").index) == want
    # future regressors are checked against those dates
    dfx = df.assign(x=np.arange(len(bd), dtype=float) % 5)
    fut = pd.DataFrame({"unique_id": "px", "ds": pd.date_range(bd[-1], periods=5, freq="D")[1:], "x": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match="exog_future must hold the 4 dates"):
        fit_arima(dfx, (1, 1, 0)).forecast(4, exog_future=fut)


# -- 4, 5. rows without a unique_id or a ds ----------------------------------------------
def _two_series() -> pd.DataFrame:
    ds = pd.date_range("2020-01-01", periods=40, freq="MS")
    return pd.DataFrame({"unique_id": np.repeat(["a", "b"], 40), "ds": np.tile(ds, 2), "y": _walk(80, 10)})


@pytest.mark.parametrize("call", [lambda df: fit_arima(df, (1, 1, 0)),
                                  lambda df: auto_arima(df, 1, intervals="model"),
                                  lambda df: cross_validation(df, h=2, order=(1, 1, 0))])
def test_rows_without_a_unique_id_are_refused(call):
    # groupby dropped them: series 'a' lost an observation silently
    df = _two_series()
    df["unique_id"] = df["unique_id"].astype(object)
    df.loc[[5, 7], "unique_id"] = [np.nan, None]
    with pytest.raises(ValueError, match=r"unique_id of \w+ is missing \(NaN or None\) in 2 row"):
        call(df)


@pytest.mark.parametrize("call", [lambda df: fit_arima(df, (1, 1, 0)),
                                  lambda df: auto_arima(df, 1, intervals="model"),
                                  lambda df: cross_validation(df, h=2, order=(1, 1, 0))])
def test_rows_without_a_ds_are_refused_at_fit_time(call):
    # NaT was sorted last, moving its y to the end of the series; the forecast then
    # failed in pandas ("Neither `start` nor `end` can be NaT")
    df = _two_series()
    df.loc[45, "ds"] = pd.NaT
    with pytest.raises(ValueError, match=r"ds of \w+ is missing \(NaT or NaN\) in 1 row\(s\), the first of unique_id='b'"):
        call(df)


# -- 6. freq= that the index cannot take -------------------------------------------------
def test_freq_of_a_period_index_must_be_its_own():
    s = pd.Series(_walk(60, 9), index=pd.period_range("2000-01", periods=60, freq="M"))
    fit = fit_arima(s, (1, 1, 0))
    ref = fit.forecast(3).mean.index
    assert fit.forecast(3, freq="M").mean.index.equals(ref)
    assert fit.forecast(3, freq=pd.offsets.MonthEnd()).mean.index.equals(ref)
    for bad in ("Q", "D", "nonsense"):
        with pytest.raises(ValueError, match=f"freq of a PeriodIndex must be its own frequency 'M'.*got '{bad}'"):
            fit.forecast(3, freq=bad)


def test_freq_of_a_range_index_is_a_positive_step():
    v = _walk(60, 9)
    fit = fit_arima(pd.Series(v), (1, 1, 0))
    assert isinstance(fit.data.index, pd.RangeIndex)
    # the same step on a numeric index that is not a RangeIndex: the reference
    ref = fit_arima(pd.Series(v, index=np.arange(60, dtype=np.int64) * 1.0), (1, 1, 0))
    assert list(fit.forecast(3, freq=2).mean.index) == list(ref.forecast(3, freq=2).mean.index)
    assert list(fit.forecast(3).mean.index) == list(ref.forecast(3).mean.index)
    for bad in (-1, 0, "D", True):
        with pytest.raises(ValueError, match=r"freq of a numeric index must be a positive number"):
            fit.forecast(3, freq=bad)


def test_a_freq_that_is_no_frequency_is_named():
    s = pd.Series(_walk(40), index=pd.date_range("2000-01-01", periods=40, freq="MS"))
    with pytest.raises(ValueError, match="freq of dates must be a pandas frequency.*got 'monthly'"):
        fit_arima(s, (1, 1, 0)).forecast(3, freq="monthly")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tsconv.auto_arima(s, 2, intervals="model", freq="MS").index.equals(fit_arima(s, (1, 1, 0)).forecast(2).mean.index)


@pytest.mark.parametrize("dates, future", [
    (["2020-01-01", "2020-02-01"], ["2020-03-01", "2020-04-01", "2020-05-01"]),
    (["2020-02-01", "2020-03-01"], ["2020-04-01", "2020-05-01", "2020-06-01"]),
    (["2020-01-31", "2020-02-29"], ["2020-03-31", "2020-04-30", "2020-05-31"]),
    (["2020-01-01", "2020-04-01"], ["2020-07-01", "2020-10-01", "2021-01-01"]),
    (["2020-03-31", "2020-06-30"], ["2020-09-30", "2020-12-31", "2021-03-31"]),
    (["2019-01-01", "2020-01-01"], ["2021-01-01", "2022-01-01", "2023-01-01"]),
    (["2020-01-01", "2020-01-08"], ["2020-01-15", "2020-01-22", "2020-01-29"]),  # a fixed step goes on
])
def test_two_dates_on_a_month_quarter_or_year_grid_continue_on_it(dates, future):
    # pandas infers a frequency from three dates or more; two month starts were continued
    # by their 31-day spacing (2020-03-03, 2020-04-03, 2020-05-04) in a monthly panel.
    # The reference: pandas' own date_range of the three or more dates' inferred frequency
    ds = pd.DatetimeIndex(dates)
    assert list(pd.date_range(ds[0], periods=5, freq=pd.infer_freq(pd.DatetimeIndex([*dates, future[0]])))[2:]) == list(pd.DatetimeIndex(future))
    df = pd.DataFrame({"unique_id": ["short", "short"] + ["long"] * 24,
                       "ds": [*ds, *pd.date_range("2018-01-01", periods=24, freq="MS")],
                       "y": np.r_[1.0, 2.0, np.arange(24.0)]})
    out = auto_arima(df, 3)
    assert list(out.loc[out["unique_id"] == "short", "ds"]) == list(pd.DatetimeIndex(future))
    fc = fit_arima(pd.Series([1.0, 2.0], index=ds), (0, 0, 0)).forecast(3)
    assert list(fc.mean.index) == list(pd.DatetimeIndex(future))


@pytest.mark.parametrize("dates", [["2020-01-15", "2020-02-15"], ["2021-02-15", "2021-03-15"],
                                   ["2020-01-15 09:30", "2021-01-15 09:30"]])
def test_two_dates_on_the_15th_ask_for_freq_as_three_do(dates):
    # three monthly dates on the 15th have no pandas frequency and ask for freq= (above); two
    # were continued by their spacing, off the day of the month: 2020-01-15, 2020-02-15 went
    # on 2020-03-17, 2020-04-17 (31 days)
    ds = pd.DatetimeIndex(dates)
    months = (ds[1].year - ds[0].year) * 12 + ds[1].month - ds[0].month
    assert pd.infer_freq(ds.append(pd.DatetimeIndex([ds[1] + pd.DateOffset(months=months)]))) is None  # pandas
    s = pd.Series([1.0, 2.0], index=ds)
    with pytest.raises(ValueError, match="pass freq="):
        fit_arima(s, (0, 0, 0)).forecast(3)
    df = pd.DataFrame({"unique_id": "a", "ds": ds, "y": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"unique_id='a'.*pass freq="):
        auto_arima(df, 3)
    step = pd.DateOffset(months=months)
    assert list(fit_arima(s, (0, 0, 0)).forecast(2, freq=step).mean.index) == [ds[1] + step, ds[1] + 2 * step]
