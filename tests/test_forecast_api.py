"""The forecaster's calling convention (issue 16): one way to forecast, one result type per
shape, immutable models, statsmodels-style results, dates that are right.

Each test below failed on the code before the issue was fixed (noted per test)."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.tsa.statespace.sarimax import SARIMAX

import tsconv
from tsconv import ARIMA, BatchForecast, FittedARIMA, Forecast, fit_arima
from tsconv.datasets import load


@pytest.fixture(scope="module")
def air():
    return np.log(load("airline"))


@pytest.fixture(scope="module")
def airline_fit(air):
    return fit_arima(air, (0, 1, 1), (0, 1, 1, 12))


# -- one convention ---------------------------------------------------------------------------
def test_a_fitted_model_forecasts_its_own_data(air, airline_fit):
    # before: fit_arima(y).forecast(12) raised a TypeError about `steps`
    fc = airline_fit.forecast(12)
    assert isinstance(fc, Forecast)
    ref = ARIMA.forecast(airline_fit.model, air, 12)
    np.testing.assert_array_equal(fc.mean.to_numpy(), ref.mean.to_numpy())
    # future dates continue the monthly PeriodIndex
    assert list(fc.mean.index.astype(str)[:2]) == ["1961-01", "1961-02"]
    # arrays in, arrays out: the same numbers
    plain = fit_arima(air.to_numpy(), (0, 1, 1), (0, 1, 1, 12)).forecast(12)
    assert isinstance(plain.mean, np.ndarray)
    np.testing.assert_allclose(plain.mean, fc.mean.to_numpy(), rtol=1e-12)


def test_one_forecast_type_per_shape(air, airline_fit):
    # before: forecast returned a Forecast, a BatchForecast or a bare DataFrame
    Y = np.stack([air.to_numpy(), air.to_numpy()[::-1].copy()])
    batch = fit_arima(Y, (0, 1, 1), (0, 1, 1, 12))
    long = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 144), "ds": np.tile(air.index.to_timestamp(), 2), "y": Y.ravel()})
    assert isinstance(airline_fit.forecast(3), Forecast)
    assert isinstance(air.tsconv.arima((0, 1, 1), (0, 1, 1, 12)).forecast(3), Forecast)
    assert isinstance(batch.forecast(3), BatchForecast)
    assert isinstance(fit_arima(long, (0, 1, 1), (0, 1, 1, 12)).forecast(3), BatchForecast)
    assert isinstance(ARIMA((1, 0, 0), ar=[0.5]).forecast(Y, 3), BatchForecast)


def test_levels_give_statsforecast_columns(air, airline_fit):
    # before: one alpha, columns mean/se/lower/upper
    fc = airline_fit.forecast(6, level=[80, 95])
    frame = fc.to_frame()
    assert list(frame.columns) == ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    # statsmodels' interval at the same parameters (alpha = 1 - level / 100)
    sm = SARIMAX(air.to_numpy(), order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).filter(
        np.r_[airline_fit.params.to_numpy(), airline_fit.sigma2])
    for lev in (80, 95):
        ci = sm.get_forecast(6).conf_int(alpha=1 - lev / 100)
        np.testing.assert_allclose(frame[f"lo-{lev}"], ci[:, 0], atol=2e-3)
        np.testing.assert_allclose(frame[f"hi-{lev}"], ci[:, 1], atol=2e-3)


def test_batch_frame_is_the_statsforecast_long_frame(air):
    Y = np.stack([air.to_numpy(), air.to_numpy() + 0.1])
    long = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 144), "ds": np.tile(air.index.to_timestamp(), 2), "y": Y.ravel()})
    fc = fit_arima(long, (0, 1, 1), (0, 1, 1, 12)).forecast(2, level=(80, 95))
    frame = fc.to_frame()
    assert list(frame.columns) == ["unique_id", "ds", "mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert frame["ds"].iloc[0] == pd.Timestamp("1961-01-01") and list(frame["unique_id"]) == ["a", "a", "b", "b"]
    one = fc["b"]
    assert isinstance(one, Forecast) and one.name == "b"
    np.testing.assert_array_equal(one.mean.to_numpy(), frame["mean"].to_numpy()[2:])


@pytest.mark.parametrize("call", [
    lambda m, y: m.forecast(steps=3),
    lambda m, y: m.forecast(3, alpha=0.05),
    lambda m, y: m.model.forecast(y, steps=3),
    lambda m, y: m.model.forecast(y, 3, alpha=0.05),
    lambda m, y: m.simulate(10, rng=0),
])
def test_old_spellings_say_the_new_one(airline_fit, air, call):
    # before: steps / alpha / rng were the spellings (and h / seed elsewhere)
    with pytest.raises(TypeError, match=r"old keyword '(steps|alpha|rng)': .*(h=|level=|seed=)"):
        call(airline_fit, air)


def test_old_spellings_in_the_batch_and_level_as_a_fraction(air):
    batch = fit_arima(np.stack([air.to_numpy()] * 2), (0, 1, 1), (0, 1, 1, 12))
    with pytest.raises(TypeError, match="old keyword 'steps'"):
        batch.forecast(steps=3)
    with pytest.raises(ValueError, match="level is in percent"):
        batch.forecast(3, level=0.95)
    with pytest.raises(TypeError, match="keeps its data"):
        fit_arima(air, (0, 1, 1)).forecast(air, 3)


@pytest.mark.parametrize("order, exc", [(("a", 0, 0), TypeError), ((1.5, 0, 0), TypeError), ((-1, 0, 0), ValueError)])
def test_bad_order_is_the_same_error_everywhere(air, order, exc):
    # before: TypeError in ARIMA, ValueError in fit_arima; now one parser: TypeError for a
    # wrong type, ValueError for a wrong value, naming the element, in both
    with pytest.raises(exc, match=r"order\[0\] \(p\)") as e1:
        ARIMA(order)
    with pytest.raises(exc, match=r"order\[0\] \(p\)") as e2:
        fit_arima(air.to_numpy(), order)
    assert type(e1.value) is type(e2.value)


# -- immutability -------------------------------------------------------------------------------
def test_arima_is_immutable_and_replace_gives_a_new_model():
    # before: m.ar[0] = 0.9 silently left psi and forecasts stale
    m = ARIMA((1, 0, 0), ar=[0.5])
    with pytest.raises(ValueError, match="read-only"):
        m.ar[0] = 0.9
    with pytest.raises(AttributeError, match="immutable.*replace"):
        m.ar = np.array([0.9])
    m2 = m.replace(ar=[0.9])
    np.testing.assert_allclose(m2.psi(3), [1.0, 0.9, 0.81])
    np.testing.assert_allclose(m.psi(3), [1.0, 0.5, 0.25])
    with pytest.raises(TypeError, match="unknown field"):
        m.replace(phi=[0.1])
    # the replaced model's forecasts are those of a model built with ar=0.9, and the
    # original's are unchanged (AR(1): mean phi^j y_n, se^2 sum of phi^(2i))
    y = np.array([0.3, -0.2, 1.0])
    np.testing.assert_array_equal(m2.forecast(y, 3).mean, ARIMA((1, 0, 0), ar=[0.9]).forecast(y, 3).mean)
    np.testing.assert_allclose(m2.forecast(y, 3).mean, [0.9, 0.81, 0.729])
    np.testing.assert_allclose(m.forecast(y, 3).mean, [0.5, 0.25, 0.125])
    np.testing.assert_allclose(m2.forecast(y, 2).se, np.sqrt([1.0, 1.81]))
    # every coefficient array is read-only, not only ar
    full = ARIMA((1, 0, 1), (1, 0, 1, 4), ar=[0.5], ma=[0.2], seasonal_ar=[0.1], seasonal_ma=[0.1], trend="c",
                 trend_params=[1.0], exog_params=[2.0])
    for name in ("ar", "ma", "seasonal_ar", "seasonal_ma", "trend_params", "exog_params"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(full, name)[0] = 0.0


def test_fitted_results_are_immutable(airline_fit):
    with pytest.raises(AttributeError):
        airline_fit.fit_result.llf = 0.0
    with pytest.raises(AttributeError):
        airline_fit.sigma2 = 1.0
    fc = airline_fit.model.forecast(np.asarray(airline_fit.data), 3)
    with pytest.raises(ValueError, match="read-only"):
        fc.se[0] = 0.0
    with pytest.raises(AttributeError):
        fc.mean = None
    batch = fit_arima(np.stack([np.asarray(airline_fit.data)] * 2), (0, 1, 1), (0, 1, 1, 12))
    with pytest.raises(ValueError, match="read-only"):
        batch.params[0, 0] = 0.0
    with pytest.raises(AttributeError):
        batch.method = "css"


# -- statsmodels-style results ------------------------------------------------------------------
def test_results_agree_with_statsmodels_on_the_airline_model(air, airline_fit):
    """The airline model on log AirPassengers (Box & Jenkins 1976, series G), exact ML:
    statsmodels' SARIMAX on the differenced likelihood (``simple_differencing=True``, the
    likelihood fit_arima maximizes) with ``cov_type='approx'`` (a numerical Hessian, as here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SARIMAX(air.to_numpy(), order=(0, 1, 1), seasonal_order=(0, 1, 1, 12), simple_differencing=True).fit(
            disp=False, cov_type="approx")
    m = airline_fit
    np.testing.assert_allclose(m.params.to_numpy(), ref.params[:2], atol=1e-3)
    np.testing.assert_allclose(m.bse.to_numpy()[:2], ref.bse[:2], rtol=0.03)
    np.testing.assert_allclose(m.tvalues.to_numpy(), ref.tvalues[:2], rtol=0.03)
    np.testing.assert_allclose(m.pvalues.to_numpy(), ref.pvalues[:2], atol=1e-4)
    np.testing.assert_allclose(m.conf_int().to_numpy(), ref.conf_int()[:2], atol=5e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(m.cov_params().to_numpy())), m.bse.to_numpy())
    text = m.summary()
    for name, v in m.params.items():
        assert f"{name:12s}{v:12.4f}" in text


def test_ljung_box_is_statsmodels_acorr_ljungbox(airline_fit):
    resid = np.asarray(airline_fit.resid)
    assert np.isnan(resid[:13]).all() and np.isfinite(resid[13:]).all()
    ours = airline_fit.ljung_box(12)
    ref = acorr_ljungbox(resid[13:], lags=12, model_df=2)
    np.testing.assert_allclose(ours["lb_stat"].to_numpy(), ref["lb_stat"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours["lb_pvalue"].to_numpy()[2:], ref["lb_pvalue"].to_numpy()[2:], rtol=1e-10)
    fitted = np.asarray(airline_fit.fittedvalues)
    np.testing.assert_allclose(fitted[13:] + resid[13:], np.asarray(airline_fit.data)[13:], atol=1e-12)


def test_batch_summary_is_a_table_of_the_panel(air):
    Y = np.stack([air.to_numpy(), air.to_numpy()[::-1].copy()])
    b = fit_arima(Y, (0, 1, 1), (0, 1, 1, 12))
    table = b.summary()
    assert list(table.index) == [0, 1]
    assert list(table.columns[:4]) == ["ma.L1", "se(ma.L1)", "ma.S.L12", "se(ma.S.L12)"]
    for i in range(2):
        np.testing.assert_allclose(table.loc[i, ["ma.L1", "ma.S.L12"]].to_numpy(dtype=float), b[i].params.to_numpy())
        np.testing.assert_allclose(table.loc[i, "se(ma.L1)"], b[i].bse["ma.L1"])


# -- dates ----------------------------------------------------------------------------------------
def test_unsorted_or_repeated_dates_are_refused(air):
    # before: a descending index gave forecasts dated in the past, without a warning
    backwards = air.iloc[::-1]
    with pytest.raises(ValueError, match="index of y must be increasing"):
        fit_arima(backwards, (0, 1, 1))
    with pytest.raises(ValueError, match="index of y must be increasing"):
        ARIMA((0, 1, 1), ma=[-0.4]).forecast(backwards, 3)
    repeated = pd.Series(air.to_numpy()[:20], index=pd.DatetimeIndex(["2020-01-01"] * 2 + list(pd.date_range("2020-01-02", periods=18))))
    with pytest.raises(ValueError, match="index of y must be unique"):
        ARIMA((1, 0, 0), ar=[0.5]).forecast(repeated, 3)
    # sorted, the same data forecasts forward in time
    fc = ARIMA((0, 1, 1), ma=[-0.4]).forecast(backwards.sort_index(), 3)
    assert fc.mean.index[0] > air.index[-1]


def test_string_dates_in_a_long_panel_are_parsed_or_refused():
    # before: string ds were sorted as text, so '10/01/2020' came before '2/01/2020'
    rng = np.random.default_rng(0)
    dates = pd.date_range("2020-01-01", periods=40, freq="MS")
    y = np.cumsum(rng.standard_normal(40))
    iso = pd.DataFrame({"unique_id": "a", "ds": dates.strftime("%Y-%m-%d"), "y": y}).sample(frac=1.0, random_state=1)
    b = fit_arima(iso, (1, 0, 0), trend="c")
    ref = fit_arima(y, (1, 0, 0), trend="c")
    np.testing.assert_allclose(b["a"].params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    assert b.forecast(1).to_frame()["ds"].iloc[0] == pd.Timestamp("2023-05-01")
    us = pd.DataFrame({"unique_id": "a", "ds": dates.strftime("%m/%d/%Y"), "y": y})
    with pytest.raises(ValueError, match="ambiguous"):
        fit_arima(us, (1, 0, 0))
    dup = pd.DataFrame({"unique_id": "a", "ds": np.r_[0, np.arange(39)], "y": y})
    with pytest.raises(ValueError, match="ds must be unique"):
        fit_arima(dup, (1, 0, 0))


def test_public_types_are_exported():
    for name in ("Forecast", "BatchForecast", "FittedARIMA", "FitResult"):
        assert name in tsconv.__all__ and getattr(tsconv, name) is not None
    assert isinstance(fit_arima(np.log(load("airline")), (0, 1, 1)), FittedARIMA)


# -- save / load ----------------------------------------------------------------------------------
def _long_panel():
    rng = np.random.default_rng(3)
    parts = []
    for uid, n in (("north", 90), ("south", 120), ("east", 75)):
        ds = pd.date_range("2010-01-01", periods=n, freq="MS")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": 20 + np.cumsum(rng.standard_normal(n))}))
    return pd.concat(parts, ignore_index=True)


def test_a_saved_and_loaded_panel_forecasts_bit_identically(tmp_path):
    from tsconv import ARIMABatch

    b = fit_arima(_long_panel(), (1, 1, 1))
    path = tmp_path / "panel.tsconv"
    b.save(path)
    loaded = ARIMABatch.load(path)
    before, after = b.forecast(12, level=(80, 95)), loaded.forecast(12, level=(80, 95))
    np.testing.assert_array_equal(after.mean, before.mean)
    np.testing.assert_array_equal(after.se, before.se)
    pd.testing.assert_frame_equal(after.to_frame(), before.to_frame())
    pd.testing.assert_frame_equal(loaded.summary(), b.summary())
    # pickle-free: every member is a manifest or a plain .npy
    import zipfile

    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[0] == "manifest.json" and all(n.endswith(".npy") for n in names[1:])
        for n in names[1:]:
            np.lib.format.read_array(zf.open(n), allow_pickle=False)


@pytest.mark.parametrize("tz", ["UTC", "US/Eastern"])
def test_a_panel_with_time_zone_aware_dates_saves_and_loads(tmp_path, tz):
    # refused: "cannot save time stamps of dtype object" although they are dates, which
    # fit_arima and forecast take
    from tsconv import ARIMABatch

    panel = _long_panel()
    panel["ds"] = pd.DatetimeIndex(panel["ds"]).tz_localize(tz)
    b = fit_arima(panel, (1, 1, 1))
    b.save(tmp_path / "tz.tsconv")
    loaded = ARIMABatch.load(tmp_path / "tz.tsconv")
    before, after = b.forecast(6).to_frame(), loaded.forecast(6).to_frame()
    assert str(after["ds"].dt.tz) == tz
    pd.testing.assert_frame_equal(after, before)


def test_a_saved_fitted_model_keeps_its_dates(tmp_path, airline_fit):
    path = tmp_path / "airline.tsconv"
    airline_fit.save(path)
    loaded = FittedARIMA.load(path)
    assert loaded.data.index.equals(airline_fit.data.index) and loaded.data.name == "airline"
    pd.testing.assert_frame_equal(loaded.forecast(12, level=(80, 95)).to_frame(), airline_fit.forecast(12, level=(80, 95)).to_frame())
    assert loaded.summary() == airline_fit.summary()


def test_save_refuses_what_load_could_not_read_and_keeps_tuple_names(tmp_path):
    # these saved without a word and then failed to load ("inconsistent model file")
    import datetime

    from tsconv.estimate import FittedARIMA

    v = 100 + np.random.default_rng(4).standard_normal(60).cumsum()
    named = pd.Series(v, index=pd.date_range("2001-01-01", periods=60, freq="MS"), name=("nile", "volume"))
    fit = fit_arima(named, (1, 1, 0))
    fit.save(tmp_path / "tuple.tsconv")
    back = FittedARIMA.load(tmp_path / "tuple.tsconv")
    assert back.data.name == ("nile", "volume")
    pd.testing.assert_frame_equal(back.forecast(3).to_frame(), fit.forecast(3).to_frame())
    holidays = pd.offsets.CustomBusinessDay(holidays=["2001-01-15"])
    cases = {
        "custom business days with holidays": pd.Series(v, index=pd.date_range("2001-01-02", periods=60, freq=holidays)),
        "DateOffset(months=1)": pd.Series(v, index=pd.date_range("2001-01-01", periods=60, freq=pd.DateOffset(months=1))),
        "a fixed-offset time zone object": pd.Series(v, index=pd.date_range(
            "2001-01-01", periods=60, freq="D", tz=datetime.timezone(datetime.timedelta(minutes=90)))),
    }
    for what, y in cases.items():
        path = tmp_path / "x.tsconv"
        y_fit = fit_arima(y, (1, 1, 0))
        try:
            y_fit.save(path)
        except TypeError as exc:
            assert "would not read back" in str(exc), what
            assert not path.exists(), what
            continue
        loaded = FittedARIMA.load(path)  # saved: it must read back as it is
        pd.testing.assert_frame_equal(loaded.forecast(3).to_frame(), y_fit.forecast(3).to_frame())
        path.unlink()


def test_saved_and_loaded_fits_keep_the_full_covariance_matrix(tmp_path, airline_fit):
    from tsconv import ARIMABatch

    path = tmp_path / "airline.tsconv"
    airline_fit.save(path)
    loaded = FittedARIMA.load(path)
    pd.testing.assert_frame_equal(loaded.cov_params(), airline_fit.cov_params(), check_exact=True)
    assert loaded.cov_params().loc["ma.L1", "ma.S.L12"] != 0.0
    b = fit_arima(_long_panel(), (1, 1, 1))
    b.save(tmp_path / "panel.tsconv")
    loaded_b = ARIMABatch.load(tmp_path / "panel.tsconv")
    np.testing.assert_array_equal(loaded_b.cov_params(), b.cov_params())
    np.testing.assert_array_equal(loaded_b.bse, b.bse)


def _as_version_1(path, out, kind):
    """Rewrite a model file as format version 1 wrote it: standard errors (array ``bse``,
    plus ``bse_names`` for a fitted model) instead of the covariance matrix."""
    from tsconv import _persist

    man, arr = _persist.read_model(path, kind)
    cov = arr.pop("cov")
    arr["bse"] = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    if kind == "fitted":
        man["bse_names"] = [*man["param_names"], "sigma2"]
    man = {k: v for k, v in man.items() if k not in ("format", "version", "kind", "arrays", "manifest_sha256")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_persist, "VERSION", 1)
        _persist.write_model(out, kind, man, arr)


def test_version_1_model_files_load_with_a_diagonal_covariance_and_a_warning(tmp_path, airline_fit):
    from tsconv import ARIMABatch, _persist
    from tsconv.estimate import DiagonalCovarianceWarning

    airline_fit.save(tmp_path / "v2.tsconv")
    _as_version_1(tmp_path / "v2.tsconv", tmp_path / "v1.tsconv", "fitted")
    with pytest.warns(DiagonalCovarianceWarning, match=r"version-1 .*diag\(bse\*\*2\)"):
        old = FittedARIMA.load(tmp_path / "v1.tsconv")
    bse = airline_fit.bse.to_numpy()
    np.testing.assert_array_equal(old.cov_params().to_numpy(), np.diag(bse**2))
    np.testing.assert_array_equal(old.bse.to_numpy(), bse)
    pd.testing.assert_frame_equal(old.forecast(12).to_frame(), airline_fit.forecast(12).to_frame())

    b = fit_arima(_long_panel(), (1, 1, 1))
    b.save(tmp_path / "p2.tsconv")
    _as_version_1(tmp_path / "p2.tsconv", tmp_path / "p1.tsconv", "batch")
    with pytest.warns(DiagonalCovarianceWarning):
        old_b = ARIMABatch.load(tmp_path / "p1.tsconv")
    np.testing.assert_array_equal(old_b.bse, b.bse)
    np.testing.assert_array_equal(np.diagonal(old_b.cov_params(), axis1=1, axis2=2), b.bse**2)
    assert np.count_nonzero(old_b.cov_params() - np.einsum("ki,ij->kij", b.bse**2, np.eye(b.bse.shape[1]))) == 0

    # a file of a version this tsconv does not know is refused by name
    man, arr = _persist.read_model(tmp_path / "v2.tsconv", "fitted")
    man = {k: v for k, v in man.items() if k not in ("format", "version", "kind", "arrays", "manifest_sha256")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_persist, "VERSION", 3)
        _persist.write_model(tmp_path / "v3.tsconv", "fitted", man, arr)
    with pytest.raises(_persist.ModelFileError, match="format version 3; this tsconv reads versions 1, 2"):
        FittedARIMA.load(tmp_path / "v3.tsconv")


def test_corrupt_or_foreign_model_files_raise_a_named_error(tmp_path, airline_fit):
    from tsconv import ARIMABatch
    from tsconv.estimate import ModelFileError

    path = tmp_path / "m.tsconv"
    airline_fit.save(path)
    raw = path.read_bytes()
    (tmp_path / "cut.tsconv").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match="not a ZIP archive, or truncated"):
        FittedARIMA.load(tmp_path / "cut.tsconv")
    flipped = bytearray(raw)
    i = raw.index(b"\x93NUMPY") + 200  # inside the first array's data
    flipped[i] ^= 0xFF
    (tmp_path / "flip.tsconv").write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError, match="checksum|corrupt"):
        FittedARIMA.load(tmp_path / "flip.tsconv")
    with pytest.raises(ModelFileError, match="not a 'batch' one"):
        ARIMABatch.load(path)
    with pytest.raises(ModelFileError, match="not found"):
        FittedARIMA.load(tmp_path / "missing.tsconv")
    # one bit flipped in the central directory's entry of the manifest: zipfile reads an
    # unknown compression (NotImplementedError), encryption (RuntimeError), a new version
    cd = raw.index(b"PK\x01\x02")
    for at, bit in ((10, 0x80), (8, 0x01), (6, 0x80)):
        bad = bytearray(raw)
        bad[cd + at] ^= bit
        (tmp_path / "cd.tsconv").write_bytes(bytes(bad))
        with pytest.raises(ModelFileError):
            FittedARIMA.load(tmp_path / "cd.tsconv")
    # a foreign manifest with a valid checksum but no usable list of arrays
    import hashlib
    import json
    import zipfile

    from tsconv._persist import canonical_json

    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    name = next(iter(manifest["arrays"]))
    for arrays in (None, [], {name: {"dtype": "<f8", "shape": [1]}}):
        m = {k: v for k, v in manifest.items() if k not in ("arrays", "manifest_sha256")}
        if arrays is not None:
            m["arrays"] = arrays
        m["manifest_sha256"] = hashlib.sha256(canonical_json(m)).hexdigest()
        with zipfile.ZipFile(tmp_path / "foreign.tsconv", "w") as zf:
            zf.writestr("manifest.json", json.dumps(m))
        with pytest.raises(ModelFileError, match="list of arrays is malformed"):
            FittedARIMA.load(tmp_path / "foreign.tsconv")


def test_saving_is_atomic(tmp_path, airline_fit, monkeypatch):
    from tsconv import _persist

    path = tmp_path / "m.tsconv"
    airline_fit.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_persist.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        airline_fit.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tsconv"]


def test_saving_over_a_read_only_file_is_refused(tmp_path, airline_fit, monkeypatch):
    # os.replace succeeds over a file without write permission (the directory decides), so
    # an atomic save overwrote a model file the user had protected; open(path, "wb")
    # refuses. (os.access is faked: these tests may run as root, who may write anything.)
    from tsconv import _persist

    path = tmp_path / "m.tsconv"
    airline_fit.save(path)
    before = path.read_bytes()
    real = _persist.os.access
    monkeypatch.setattr(_persist.os, "access", lambda p, mode: False if os.fspath(p) == str(path) else real(p, mode))
    with pytest.raises(PermissionError, match="read-only"):
        airline_fit.save(path)
    assert path.read_bytes() == before
    airline_fit.save(tmp_path / "other.tsconv")  # a new file is written as before


# -- Box-Cox --------------------------------------------------------------------------------------
def test_guerrero_lambda_is_the_grid_minimum_of_r_criterion():
    """Guerrero's (1993) criterion as R's ``forecast::BoxCox.lambda`` states it (its source,
    ``guer.cv``): the last whole years in columns, ``rat = sd / mean^(1 - lambda)`` per year,
    lambda minimizing ``sd(rat) / mean(rat)`` on [-1, 2]. Slow twin: a 1e-4 grid, written
    out year by year. (No printed R value is cited: none could be sourced here.)"""
    from tsconv._boxcox import guerrero

    x = load("airline").to_numpy().astype(float)
    years = [x[len(x) - 12 * (len(x) // 12) + 12 * i : len(x) - 12 * (len(x) // 12) + 12 * (i + 1)] for i in range(len(x) // 12)]

    def cv(lam):
        rat = [np.std(y, ddof=1) / np.mean(y) ** (1 - lam) for y in years]
        return np.std(rat, ddof=1) / np.mean(rat)

    grid = np.arange(-1.0, 2.0 + 1e-9, 1e-4)
    best = grid[int(np.argmin([cv(v) for v in grid]))]
    assert abs(guerrero(x, 12) - best) < 2e-4
    fit = fit_arima(load("airline").astype(float), (0, 1, 1), (0, 1, 1, 12), boxcox="auto")
    assert abs(fit.boxcox - best) < 2e-4


def test_guerrero_lambda_of_at_most_two_seasons_is_one_as_r():
    # R's BoxCox.lambda: `if (length(x) <= 2 * frequency(x)) return(1)` (forecast's
    # source); two subseries put the minimum on the bound, -0.99999997 on 24 months
    from tsconv._boxcox import guerrero

    x = load("airline").to_numpy().astype(float)
    assert guerrero(x[:24], 12) == 1.0 and guerrero(x[:2], 1) == 1.0
    assert guerrero(x[:25], 12) != 1.0  # one observation more: estimated
    assert fit_arima(pd.Series(x[:24]), (0, 1, 0), (0, 1, 0, 12), boxcox="auto").boxcox == 1.0


@pytest.mark.parametrize("lam", [0.0, "auto"])
def test_boxcox_forecasts_are_statsmodels_intervals_back_transformed(lam):
    import scipy.special

    air = load("airline").astype(float)
    fit = fit_arima(air, (0, 1, 1), (0, 1, 1, 12), boxcox=lam)
    lam_v = fit.boxcox
    fc = fit.forecast(12, level=(80, 95))
    w = scipy.special.boxcox(air.to_numpy(), lam_v)
    sm = SARIMAX(w, order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).filter(np.r_[fit.params.to_numpy(), fit.sigma2])
    pred = sm.get_forecast(12)
    # the back-transformed mean is the median: inv_boxcox of the Gaussian mean (biasadj=FALSE in R)
    np.testing.assert_allclose(fc.mean.to_numpy(), scipy.special.inv_boxcox(pred.predicted_mean, lam_v), rtol=2e-3)
    for lev in (80, 95):
        ci = scipy.special.inv_boxcox(pred.conf_int(alpha=1 - lev / 100), lam_v)
        lo, hi = fc.interval(lev)
        np.testing.assert_allclose(lo.to_numpy(), ci[:, 0], rtol=2e-3)
        np.testing.assert_allclose(hi.to_numpy(), ci[:, 1], rtol=2e-3)
    assert list(fc.mean.index.astype(str)[:1]) == ["1961-01"]
    if lam == 0.0:  # a log fit is the fit of the logged series (two optimizer runs: the
        # transform's last bits can move the optimum within its tolerance, 7e-11 seen on the floors)
        logfit = fit_arima(np.log(air), (0, 1, 1), (0, 1, 1, 12))
        np.testing.assert_allclose(fc.mean.to_numpy(), np.exp(logfit.forecast(12).mean.to_numpy()), rtol=1e-8)


def test_boxcox_panel_uses_each_series_lambda_and_survives_save(tmp_path):
    from tsconv import ARIMABatch

    air = load("airline").to_numpy().astype(float)
    Y = np.stack([air, air[::-1].copy() * 2.0])
    b = fit_arima(Y, (0, 1, 1), (0, 1, 1, 12), boxcox="auto")
    assert b.boxcox.shape == (2,)
    fc = b.forecast(6, level=(80, 95))
    for i in range(2):
        one = fit_arima(Y[i], (0, 1, 1), (0, 1, 1, 12), boxcox=float(b.boxcox[i])).forecast(6, level=(80, 95))
        np.testing.assert_allclose(fc.mean[i], one.mean, rtol=1e-6)
        np.testing.assert_allclose(fc.interval(80)[0][i], one.interval(80)[0], rtol=1e-6)
    b.save(tmp_path / "p.tsconv")
    np.testing.assert_array_equal(ARIMABatch.load(tmp_path / "p.tsconv").forecast(6).mean, b.forecast(6).mean)
    with pytest.raises(ValueError, match="strictly positive"):
        fit_arima(-Y, (0, 1, 1), boxcox=0.5)
    with pytest.raises(ValueError, match="boxcox must be"):
        fit_arima(Y, (0, 1, 1), boxcox="log")


# -- cross-validation -------------------------------------------------------------------------------
def test_cross_validation_is_the_spelled_out_rolling_origin_loop():
    panel = _long_panel().sample(frac=1.0, random_state=2)  # rows in any order
    h, step, n_windows = 4, 3, 3
    cv = tsconv.cross_validation(panel, h, step, n_windows, order=(1, 1, 0), level=(80, 95))
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert len(cv) == 3 * n_windows * h
    for uid, g in panel.sort_values("ds").groupby("unique_id"):
        y = g["y"].to_numpy()
        ds = g["ds"].to_numpy()
        n = len(y)
        for w in range(n_windows):
            end = n - h - (n_windows - 1 - w) * step
            fc = fit_arima(pd.Series(y[:end]), (1, 1, 0)).forecast(h, level=(80, 95))
            got = cv[(cv.unique_id == uid) & (cv.cutoff == ds[end - 1])]
            np.testing.assert_array_equal(got["ds"].to_numpy(), ds[end : end + h])
            np.testing.assert_array_equal(got["y"].to_numpy(), y[end : end + h])
            np.testing.assert_allclose(got["mean"].to_numpy(), fc.mean, rtol=1e-6)
            np.testing.assert_allclose(got["lo-80"].to_numpy(), fc.interval(80)[0], rtol=1e-6)
    with pytest.raises(ValueError, match="nothing left to fit on"):
        tsconv.cross_validation(panel, 30, 30, 3, order=(1, 1, 0))


def test_sort_and_freq_when_asked():
    rng = np.random.default_rng(5)
    idx = pd.date_range("2021-01-01", periods=60, freq="D")
    y = pd.Series(np.cumsum(rng.standard_normal(60)), index=idx, name="y")
    shuffled = y.sample(frac=1.0, random_state=0)
    fit = fit_arima(shuffled, (1, 1, 0), sort=True)
    ref = fit_arima(y, (1, 1, 0))
    pd.testing.assert_frame_equal(fit.forecast(3).to_frame(), ref.forecast(3).to_frame())
    # days missing: the grid that holds every date ('D'), as a long frame of the same
    # data gets (it was refused for a Series)
    gapped = y.drop(y.index[[5, 17, 30]])
    fit = fit_arima(gapped, (1, 1, 0))
    want = list(pd.date_range("2021-03-02", periods=3, freq="D"))
    assert list(fit.forecast(3).mean.index) == want
    long = pd.DataFrame({"unique_id": "a", "ds": gapped.index, "y": gapped.to_numpy()})
    assert list(fit_arima(long, (1, 1, 0)).forecast(3).to_frame()["ds"]) == want
    # irregular dates (no grid holds them): the frequency is asked for, not guessed
    irregular = y.iloc[[0, 1, 3, 4, 7, 9, 10, 14]]
    irregular.index = irregular.index + pd.to_timedelta([0, 0, 0, 5, 0, 0, 3, 0], unit="h")
    fit = fit_arima(irregular, (1, 1, 0))
    with pytest.raises(ValueError, match="pass freq="):
        fit.forecast(3)
    fc = fit.forecast(3, freq="D")
    assert list(fc.mean.index) == list(pd.date_range("2021-01-16", periods=3, freq="D"))


def test_a_hand_typed_arima_has_a_summary_with_statsmodels_names():
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    y = np.random.default_rng(0).standard_normal(100)
    m = ARIMA((1, 0, 1), (0, 0, 1, 12), ar=[0.5], ma=[0.3], seasonal_ma=[-0.4], trend="c", trend_params=[1.5], sigma2=2.0)
    assert m.param_names() == SMARIMA(y, order=(1, 0, 1), seasonal_order=(0, 0, 1, 12), trend="c").param_names
    m2 = ARIMA((1, 0, 1), ar=[0.5], ma=[0.3], trend="ct", trend_params=[1.0, 0.1], trend_form="intercept")
    assert m2.param_names() == SARIMAX(y, order=(1, 0, 1), trend="ct").param_names
    text = m.summary()
    for name, v in zip(m.param_names(), m.to_statsmodels_params()):
        assert f"{name:12s}{v:12.4f}" in text
    assert "stationary: True   invertible: True" in text


def test_cross_validation_uses_the_regressor_columns_as_fit_arima_does():
    # the regressor columns of a long frame were dropped: the forecasts of y without x
    v = 10 + np.random.default_rng(0).standard_normal(60).cumsum()
    x = np.random.default_rng(0).standard_normal(60)
    idx = pd.date_range("2000-01-01", periods=60, freq="MS")
    dfx = pd.DataFrame({"unique_id": "a", "ds": idx, "y": v + 5 * x, "x": x})
    h, step, n_windows = 3, 2, 3
    cv = tsconv.cross_validation(dfx, h, step, n_windows, order=(1, 1, 0), level=(80, 95))
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    for w in range(n_windows):
        end = 60 - h - (n_windows - 1 - w) * step
        # each window: fitted with the regressor up to its cutoff, forecast with its known future values
        fit = fit_arima(dfx.iloc[:end], (1, 1, 0))
        assert fit.to_frame()["x"].iloc[0] == pytest.approx(5.0, abs=1.0)
        fc = fit.forecast(h, exog_future=dfx.iloc[end : end + h][["unique_id", "ds", "x"]], level=(80, 95)).to_frame()
        got = cv[cv.cutoff == idx[end - 1]]
        np.testing.assert_array_equal(got["ds"].to_numpy(), idx[end : end + h].to_numpy())
        np.testing.assert_array_equal(got["y"].to_numpy(), dfx["y"].to_numpy()[end : end + h])
        for col in ("mean", "lo-80", "hi-95"):
            np.testing.assert_allclose(got[col].to_numpy(), fc[col].to_numpy(), rtol=1e-12)
    # two series, rows in any order: each gets its own regressor values
    two = pd.concat([dfx, dfx.assign(unique_id="b", y=v - 3 * x)]).sample(frac=1.0, random_state=0)
    cv2 = tsconv.cross_validation(two, h, step, n_windows, order=(1, 1, 0), level=(80, 95))
    np.testing.assert_allclose(cv2[cv2.unique_id == "a"]["mean"].to_numpy(), cv["mean"].to_numpy(), rtol=1e-9)
    # a non-numeric extra column is refused by name, as fit_arima refuses it
    with pytest.raises(TypeError, match="note"):
        tsconv.cross_validation(dfx.assign(note="x"), h, order=(1, 1, 0))


def test_cross_validation_ignores_unused_categories_of_unique_id():
    v = 10 + np.random.default_rng(0).standard_normal(60).cumsum()
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2000-01-01", periods=60, freq="MS"), "y": v})
    both = pd.concat([df, df.assign(unique_id="b")])
    both["unique_id"] = both["unique_id"].astype("category")
    only_a = both[both["unique_id"] == "a"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        cv = tsconv.cross_validation(only_a, h=3, n_windows=2, order=(1, 1, 0))
    ref = tsconv.cross_validation(df, h=3, n_windows=2, order=(1, 1, 0))
    assert list(cv["unique_id"].astype(str)) == ["a"] * 6
    pd.testing.assert_frame_equal(cv.drop(columns="unique_id"), ref.drop(columns="unique_id"))


@pytest.mark.parametrize("freq", ["Q-DEC", "W-SUN", "M"])
def test_cross_validation_of_a_period_index_gives_periods(freq):
    # ds and cutoff were Timestamps (the periods' starts); a DatetimeIndex of those starts
    # gives the same forecasts
    v = 10 + np.random.default_rng(1).standard_normal(40).cumsum()
    y = pd.Series(v, index=pd.period_range("2001-01-01", periods=40, freq=freq), name="s")
    cv = tsconv.cross_validation(y, h=3, step=2, n_windows=2, order=(1, 1, 0))
    assert cv["ds"].dtype == y.index.dtype and cv["cutoff"].dtype == y.index.dtype
    assert list(cv["ds"]) == list(y.index[[-5, -4, -3, -3, -2, -1]])
    assert list(cv["cutoff"]) == [y.index[-6]] * 3 + [y.index[-4]] * 3
    ref = tsconv.cross_validation(y.to_timestamp(), h=3, step=2, n_windows=2, order=(1, 1, 0))
    assert ref["ds"].dtype.kind == "M"
    pd.testing.assert_frame_equal(cv.drop(columns=["ds", "cutoff"]), ref.drop(columns=["ds", "cutoff"]))
