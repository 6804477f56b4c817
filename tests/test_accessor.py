"""The pandas accessor is a shell: each method equals the library call (or pandas itself) on the same index."""

import numpy as np
import pandas as pd
import pytest

import tsconv


@pytest.fixture(scope="module")
def series():
    rng = np.random.default_rng(1)
    idx = pd.date_range("2000-01-01", periods=300, freq="D")
    return pd.Series(np.cumsum(rng.normal(size=300)), index=idx, name="level")


def test_smoothers_match_pandas(series):
    s = series
    pd.testing.assert_series_equal(s.tsconv.sma(10), s.rolling(10).mean(), rtol=1e-12)
    pd.testing.assert_series_equal(s.tsconv.ema(span=9), s.ewm(span=9).mean(), rtol=1e-12)
    pd.testing.assert_series_equal(s.tsconv.ema(alpha=0.2, adjust=False), s.ewm(alpha=0.2, adjust=False).mean(), rtol=1e-12)
    w = np.arange(1.0, 6.0)
    ref = s.rolling(5).apply(lambda v: np.dot(v, w) / w.sum(), raw=True)
    pd.testing.assert_series_equal(s.tsconv.wma(5), ref, rtol=1e-12)
    pd.testing.assert_series_equal(s.tsconv.diff(), s.diff(), rtol=1e-12)
    pd.testing.assert_series_equal(s.tsconv.diff(2), s.diff().diff(), rtol=1e-12)
    pd.testing.assert_series_equal(s.tsconv.sdiff(7), s.diff(7), rtol=1e-12)


def test_every_result_keeps_index_and_name(series):
    s = series
    for out in [s.tsconv.gaussian(11, 2.0), s.tsconv.henderson(13), s.tsconv.savgol(11, 3),
                s.tsconv.apply(tsconv.Kernel([0.5, 0.5]))]:
        assert out.index.equals(s.index) and out.name == s.name


def test_apply_matches_engine(series):
    k = tsconv.Kernel([1.0, -2.0, 1.0], origin=1)
    np.testing.assert_array_equal(series.tsconv.apply(k).to_numpy(), tsconv.apply(k, series.to_numpy()))


def test_dataframe_column_by_column(series):
    df = pd.DataFrame({"a": series, "b": 2 * series + 1})
    out = df.tsconv.sma(5)
    pd.testing.assert_frame_equal(out, df.rolling(5).mean(), rtol=1e-12)
    for c in df:
        pd.testing.assert_series_equal(out[c], df[c].tsconv.sma(5), rtol=1e-12)


def test_non_numeric_raises_attribute_error():
    with pytest.raises(AttributeError, match="numeric Series"):
        pd.Series(["a", "b"]).tsconv
    with pytest.raises(AttributeError, match="numeric columns"):
        pd.DataFrame({"a": ["x"], "b": [1.0]}).tsconv


def test_long_panel_refuses_columnwise_ops():
    long = pd.DataFrame({"unique_id": ["a", "a"], "ds": [0, 1], "y": [1.0, 2.0]})
    with pytest.raises(ValueError, match="wide frame"):
        long.tsconv.sma(2)


def test_series_arima_returns_the_fitted_model_with_its_data(series):
    """Issue 16: the accessor returns the same objects as fit_arima, and the documented
    ``forecast.plot()`` works on what it returns (it was a bare DataFrame)."""
    fit = series.tsconv.arima((1, 1, 0))
    assert isinstance(fit, tsconv.FittedARIMA) and fit.data is series
    fc = fit.forecast(2, level=(80, 95))
    assert isinstance(fc, tsconv.Forecast)
    assert list(fc.to_frame().columns) == ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert fc.mean.index[0] == series.index[-1] + pd.Timedelta(days=1)
    same = tsconv.fit_arima(series, (1, 1, 0)).forecast(2, level=(80, 95))
    pd.testing.assert_frame_equal(fc.to_frame(), same.to_frame())
    assert fc.plot().axes[0].get_title().startswith(str(series.name))


def test_bound_model_forecasts_on_future_dates(series):
    m = tsconv.ARIMA((1, 0, 0), ar=[0.5], sigma2=1.0)
    from tsconv.accessor import BoundModel

    b = BoundModel(m, series)
    fc = b.forecast(3)
    assert isinstance(fc, tsconv.Forecast)
    assert list(fc.mean.index) == list(pd.date_range("2000-10-27", periods=3, freq="D"))
    np.testing.assert_allclose(fc.mean.to_numpy(), m.forecast(series.to_numpy(), 3).mean)
    assert b.residuals().index.equals(series.index) and b.predict().index.equals(series.index)


def test_dataframe_decompose_and_batch_arima(series):
    df = pd.DataFrame({"a": series, "b": series[::-1].to_numpy() * 0.5}, index=series.index)
    parts = df.tsconv.decompose(7)
    pd.testing.assert_frame_equal(parts["b"], df["b"].tsconv.decompose(7))
    batch = df.tsconv.arima((1, 1, 0))
    fc = batch.forecast(3).to_frame()
    assert list(fc["unique_id"].unique()) == ["a", "b"]
    assert fc["ds"].iloc[0] == series.index[-1] + pd.Timedelta(days=1)
    single = tsconv.fit_arima(df["b"].to_numpy(), (1, 1, 0))
    np.testing.assert_allclose(batch.result("b").params.to_numpy(), single.params.to_numpy(), rtol=1e-6)


def test_dataframe_correlation_and_prewhitening_column_by_column(series):
    df = pd.DataFrame({"a": series, "b": series.diff().fillna(0.0)}, index=series.index)
    needle = series.iloc[50:80].to_numpy()
    for method, arg in [("xcorr", series.to_numpy()), ("ncc", needle), ("prewhiten", 3)]:
        out = getattr(df.tsconv, method)(arg)
        for c in df:
            pd.testing.assert_series_equal(out[c], getattr(df[c].tsconv, method)(arg), check_names=False)


def test_ema_adjust_false_on_small_integers_matches_pandas():
    # x - x_0 was computed in the Series' own dtype and wrapped around
    for vals, dtype in (([200, 10, 250], np.uint8), ([30000, -30000, 5], np.int16)):
        s = pd.Series(np.array(vals, dtype=dtype))
        pd.testing.assert_series_equal(s.tsconv.ema(alpha=0.5, adjust=False), s.ewm(alpha=0.5, adjust=False).mean())
    frame = pd.DataFrame({"a": np.array([200, 10, 250], dtype=np.uint8), "b": [1.0, 2.0, 4.0]})
    pd.testing.assert_frame_equal(frame.tsconv.ema(span=3, adjust=False), frame.ewm(span=3, adjust=False).mean())
    long = pd.DataFrame({"unique_id": ["a"] * 3, "ds": [1, 2, 3], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="needs a wide frame"):
        long.tsconv.ema(span=2, adjust=False)


@pytest.mark.parametrize("adjust", ["False", None, 0])
def test_ema_adjust_must_be_a_bool(adjust):
    # the string "False" ran adjust=True and None ran adjust=False, silently
    s = pd.Series([1.0, 2.0, 4.0])
    with pytest.raises(TypeError, match=f"adjust must be True or False, got {adjust!r}"):
        s.tsconv.ema(span=3, adjust=adjust)
    with pytest.raises(TypeError, match="adjust must be True or False"):
        s.to_frame().tsconv.ema(span=3, adjust=adjust)


def test_frames_mixing_numpy_and_nullable_columns():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": pd.array([1.0, 2.0, None, 4.0], dtype="Float64"),
                          "c": np.arange(4)})
    want = frame.astype(float).rolling(2).mean()
    pd.testing.assert_frame_equal(frame.tsconv.sma(2), want)


def test_repeated_column_names_stay_repeated():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(48, 2)), columns=["a", "a"], index=pd.date_range("2000-01-01", periods=48, freq="MS"))
    got = frame.tsconv.xcorr(np.ones(3))
    assert got.columns.tolist() == ["a", "a"]
    pd.testing.assert_series_equal(got.iloc[:, 1], frame.iloc[:, 1].tsconv.xcorr(np.ones(3)), check_names=False)
    parts = frame.tsconv.decompose()
    assert parts.columns.get_level_values(0).tolist() == ["a"] * 8
    pd.testing.assert_frame_equal(parts.iloc[:, 4:].droplevel(0, axis=1), frame.iloc[:, 1].tsconv.decompose())


def test_xcorr_accessor_keeps_a_complex_other():
    s = pd.Series([0.0, 1.0, 0.0, 0.0])
    other = np.array([1j, 1.0])
    got = s.tsconv.xcorr(other)
    np.testing.assert_array_equal(got.to_numpy(), tsconv.xcorr(s.to_numpy(), other))
    assert got.to_numpy()[2] == -1j
