"""Classical decomposition against statsmodels' seasonal_decompose (the reference algorithm)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.tsa.seasonal import seasonal_decompose

import tsconv


@pytest.fixture(scope="module")
def co2_monthly():
    # statsmodels' co2 dataset (weekly, Mauna Loa), resampled to monthly means, gaps filled
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    return co2.resample("MS").mean().interpolate().loc["1960":"1990"]


@pytest.mark.parametrize("model", ["additive", "multiplicative"])
@pytest.mark.parametrize("period", [12, 7])
def test_decompose_equals_statsmodels(co2_monthly, model, period):
    ours = tsconv.decompose(co2_monthly, period, model=model)
    ref = seasonal_decompose(co2_monthly, period=period, model=model)
    for col, theirs in [("trend", ref.trend), ("seasonal", ref.seasonal), ("resid", ref.resid)]:
        np.testing.assert_array_equal(np.isnan(ours[col].to_numpy()), np.isnan(theirs.to_numpy()))
        np.testing.assert_allclose(ours[col].to_numpy(), theirs.to_numpy(), rtol=1e-12, atol=1e-9, equal_nan=True)
    assert ours.index.equals(co2_monthly.index)


def test_decompose_array_and_accessor_agree(co2_monthly):
    a = tsconv.decompose(co2_monthly.to_numpy(), 12)
    b = co2_monthly.tsconv.decompose()  # period 12 from the MS frequency
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), equal_nan=True)
    assert isinstance(a.index, pd.RangeIndex)


def test_decompose_bad_input():
    with pytest.raises(ValueError, match="period must be >= 2, got 1"):
        tsconv.decompose(np.arange(20.0), 1)
    with pytest.raises(ValueError, match="at least two full periods"):
        tsconv.decompose(np.arange(10.0), 6)
    with pytest.raises(ValueError, match="model must be one of"):
        tsconv.decompose(np.arange(30.0), 4, model="mult")
    with pytest.raises(ValueError, match="strictly positive"):
        tsconv.decompose(np.arange(30.0) - 5, 4, model="multiplicative")
    with pytest.raises(ValueError, match="period must be given"):
        pd.Series(np.arange(30.0)).tsconv.decompose()


@pytest.mark.parametrize("model", ["additive", "multiplicative"])
def test_an_infinite_value_is_refused_not_taken_for_missing(model):
    # -inf went past the multiplicative positivity check and came out as a NaN trend
    x = np.r_[np.arange(1.0, 16.0), -np.inf, np.arange(17.0, 31.0)]
    with pytest.raises(ValueError, match="x must be finite except for NaN, got -inf at index 15"):
        tsconv.decompose(x, 4, model=model)


def test_a_period_index_with_a_missing_period_is_refused(co2_monthly):
    # the seasons are positions: with a month dropped, every later month took the season
    # of the month before it, silently (a DatetimeIndex with the same gap is refused)
    y = co2_monthly.to_period("M")
    gappy = y.drop(y.index[100])
    with pytest.raises(ValueError, match="PeriodIndex must hold consecutive periods"):
        gappy.tsconv.decompose()
    with pytest.raises(ValueError, match="PeriodIndex must hold consecutive periods"):
        tsconv.decompose(gappy, 12)
    with pytest.raises(ValueError, match="period must be given"):
        gappy.to_timestamp().tsconv.decompose()
    # reindexed on the full range (NaN where missing), as the message says
    filled = gappy.reindex(pd.period_range(y.index[0], y.index[-1], freq="M"))
    parts = filled.tsconv.decompose()
    assert (parts["seasonal"].groupby(parts.index.month).nunique() == 1).all()  # one value per calendar month
    np.testing.assert_array_equal(parts.to_numpy(), tsconv.decompose(filled.to_numpy(), 12).to_numpy())
    # every-other-month periods are consecutive at their own step
    two = pd.Series(np.arange(1.0, 25.0) % 6 + 1, index=pd.period_range("2000-01", periods=24, freq="2M"))
    assert tsconv.decompose(two, 6)["seasonal"].notna().all()


def test_period_from_the_index_frequency_offset():
    # 'ms' (milliseconds) had been read as 'MS' (month start): a silent period of 12
    from tsconv.decompose import _period_of

    o = pd.offsets  # offsets, not strings: the aliases differ between pandas 2.0 and 3
    want = [(o.MonthBegin(), 12), (o.MonthEnd(), 12), (o.BusinessMonthBegin(), 12), (o.QuarterBegin(startingMonth=1), 4),
            (o.QuarterEnd(startingMonth=2), 4), (o.Day(), 7), (o.BusinessDay(), 5), (o.Hour(), 24), (o.Milli(), None),
            (o.Micro(), None), (o.Second(), None), (o.Minute(), None), (o.Week(), None), (o.MonthBegin(2), None),
            (o.YearBegin(), None)]
    for freq, period in want:
        idx = pd.date_range("2020-01-01", periods=30, freq=freq)
        if period is None:  # a frequency without a whole-number season: named, period= asked for
            with pytest.raises(ValueError, match=f"frequency {idx.freqstr} has no whole-number season"):
                _period_of(idx)
        else:
            assert _period_of(idx) == period, freq
    assert _period_of(pd.period_range("2020-01", periods=30, freq="M")) == 12
    assert _period_of(pd.period_range("2020Q1", periods=30, freq="Q")) == 4
    s = pd.Series(np.arange(60.0), index=pd.date_range("2020-01-01", periods=60, freq=pd.offsets.Milli()))
    with pytest.raises(ValueError, match="period must be given"):
        s.tsconv.decompose()


def test_period_of_a_frequency_without_a_season_is_asked_for_by_name():
    # weekly data said "the index has no frequency to infer it from", though it has one
    s = pd.Series(np.arange(200.0) % 7, index=pd.date_range("2020-01-05", periods=200, freq="W-SUN"))
    with pytest.raises(ValueError, match="frequency W-SUN has no whole-number season.*pass period="):
        s.tsconv.decompose()
    pd.testing.assert_frame_equal(s.tsconv.decompose(period=7), tsconv.decompose(s, 7))


def test_period_inferred_from_a_regular_index_without_freq():
    # monthly dates without .freq set: inferred as fit_arima infers them, period 12
    idx = pd.DatetimeIndex(pd.date_range("2020-01-01", periods=60, freq="MS").tolist())
    assert idx.freq is None
    s = pd.Series(np.arange(60.0) % 12 + np.arange(60.0) / 10, index=idx)
    pd.testing.assert_frame_equal(s.tsconv.decompose(), tsconv.decompose(s, 12))
    # no frequency at all: the accessor's message
    with pytest.raises(ValueError, match="no frequency to infer it from"):
        s.drop(s.index[[3, 30]]).tsconv.decompose()
