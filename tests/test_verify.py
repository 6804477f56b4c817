"""tsconv.verify: the report agrees when it should, fails when it should, and the suite passes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.tsa.statespace.sarimax import SARIMAX

from tsconv import ARIMA
from tsconv.cli import main
from tsconv.datasets import load
from tsconv.verify import VerificationReport, against_statsmodels, check_suite


@pytest.fixture(scope="module")
def wpi_results():
    # Stata arima documentation, example 1: ARIMA(1,1,1)+c on wpi1 (statsmodels results_sarimax)
    y = load("wpi1").to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SARIMAX(y, order=(1, 1, 1), trend="c").filter([(1 - 0.8742288) * 0.7498197, 0.8742288, -0.4120458, 0.7250436**2])


def test_report_passes_and_prints(wpi_results):
    rep = against_statsmodels(wpi_results)
    assert isinstance(rep, VerificationReport) and rep.ok
    frame = rep.to_frame()
    assert {"one-step prediction", "residual", "forecast mean", "forecast se"} <= set(frame["quantity"])
    assert (frame["reference"] == "exact diffuse").sum() >= 5
    assert "OK" in str(rep) and "max abs diff" in str(rep)


def test_report_fails_on_a_wrong_model(wpi_results, monkeypatch):
    good = ARIMA.from_statsmodels

    def wrong(results):
        m = good(results)
        return ARIMA(m.order, ar=m.ar, ma=m.ma * 1.001, trend=m.trend, trend_params=m.trend_params,
                     trend_form=m.trend_form, trend_offset=m.trend_offset, sigma2=m.sigma2 * 1.01)

    monkeypatch.setattr(ARIMA, "from_statsmodels", staticmethod(wrong))
    rep = against_statsmodels(wpi_results)
    assert not rep.ok
    bad = rep.to_frame().query("ok == False")
    # the fit comparison catches it (the exact-diffuse rows reuse the model's own parameters)
    assert {"forecast se", "forecast mean", "prediction > burn_in"} <= set(bad["quantity"])
    assert set(bad["reference"]) == {"fit (approx. diffuse)"}


def test_report_on_new_data(wpi_results):
    y2 = load("wpi1").to_numpy()[::-1].copy()
    assert against_statsmodels(wpi_results, y=y2).ok


def test_check_suite_and_cli(capsys):
    assert check_suite(verbose=False) is True
    # the CLI prints the tables and exits 0 (exit 1 on failure is tsconv.cli's job)
    import tsconv.verify as v

    ok_suite = v._suite
    v._suite = lambda: ok_suite()[-2:]
    try:
        assert main(["check"]) == 0
    finally:
        v._suite = ok_suite
    out = capsys.readouterr().out
    assert "ALL OK" in out and "wpi1" in out


def test_check_suite_reports_a_crash(monkeypatch, capsys):
    import tsconv.verify as v

    monkeypatch.setattr(v, "_suite", lambda: [("broken", lambda: 1 / 0)])
    assert check_suite(verbose=True) is False
    assert main(["check"]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_report_mean_and_intercept_trends_with_exog():
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    y = load("wpi1").to_numpy()
    X = np.random.default_rng(0).standard_normal((y.size, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [
            SMARIMA(y, order=(1, 0, 1), trend="ct").filter([10.0, 0.7, 0.8, 0.3, 2.0]),
            SMARIMA(y, exog=X, order=(1, 1, 1), trend="t").filter([0.7, 0.5, 0.3, 0.2, 0.5]),
            SARIMAX(y, exog=X, order=(1, 1, 1), trend="ct").filter([0.1, 0.002, 0.5, 0.3, 0.2, 0.5]),
        ]
    for res in fits:
        rep = against_statsmodels(res, exog_future=np.ones((24, 1)) if res.model.k_exog else None)
        assert rep.ok, str(rep)
        assert "forecast se" in set(rep.to_frame()["quantity"])


def test_a_fit_whose_kalman_filter_froze_is_verified_against_the_same_model_unfrozen():
    # statsmodels freezes its filter's covariances at an absolute threshold (1e-19): for a
    # small sigma2 (log consumption, 8e-5) that moves the fit's own fitted values by
    # 5.9e-8 sd(y) after burn-in, and a correct model was reported FAILED (tolerance 1e-8)
    import statsmodels.api as sm
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    from tsconv.verify import against_statsmodels

    y = np.log(sm.datasets.macrodata.load_pandas().data["realcons"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = SARIMAX(y, order=(0, 1, 1)).fit(disp=0)
        unfrozen = SARIMAX(y, order=(0, 1, 1), tolerance=0).filter(res.params)
    # the statsmodels behaviour this relies on (pinned): the freeze is visible, and it
    # moves the log-likelihood by far less than the 1e-6 that tells another fit
    assert np.max(np.abs(res.fittedvalues - unfrozen.fittedvalues)) > 1e-8 * np.std(y)
    assert abs(res.llf - unfrozen.llf) < 1e-6 * abs(res.llf)
    rep = against_statsmodels(res)
    assert rep.ok, rep
    row = rep.to_frame().iloc[0]
    assert row["quantity"] == "prediction > burn_in" and row["max_abs_diff"] < 1e-12
