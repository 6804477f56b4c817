"""Figures render with the Agg backend and draw what they promise."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import tsconv  # noqa: E402
from tsconv import Kernel, Transfer  # noqa: E402
from tsconv.datasets import load  # noqa: E402
from tsconv.plot import plot_decomposition, plot_forecast, plot_kernel, plot_match  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_kernel_draws_impulse_and_gain():
    k = Kernel([0.25, 0.5, 0.25], origin=1)
    fig = k.plot()
    a0, a1 = fig.axes
    # the stem's markers sit at the kernel's lags with its weights
    markers = a0.containers[0].markerline
    np.testing.assert_array_equal(markers.get_xdata(), k.lags)
    np.testing.assert_allclose(markers.get_ydata(), k.coef)
    w, h = k.frequency_response(512)
    np.testing.assert_allclose(a1.lines[0].get_ydata(), 20 * np.log10(np.abs(h)))


def test_plot_transfer_uses_impulse_response():
    fig = plot_kernel(Transfer([1.0], [1.0, -0.5]), n=10)
    np.testing.assert_allclose(fig.axes[0].containers[0].markerline.get_ydata(), 0.5 ** np.arange(10))


def test_plot_match_marks_peak_and_threshold():
    trace = np.sin(np.linspace(0, 3, 50)) * 0.1
    trace[20] = 0.9
    fig = plot_match(trace, peak=20, threshold=0.3, sr=10.0)
    ax = fig.axes[0]
    peak_line = [ln for ln in ax.lines if ln.get_label() == "peak"][0]
    assert peak_line.get_xdata()[0] == pytest.approx(2.0)
    assert any(ln.get_label() == "false-alarm level" and ln.get_ydata()[0] == 0.3 for ln in ax.lines)
    assert ax.get_xlabel() == "offset (s)"


def test_plot_decomposition_and_forecast_frames():
    t = np.arange(48.0)
    parts = tsconv.decompose(t + np.tile([1.0, -1.0, 2.0, -2.0], 12), 4)
    fig = plot_decomposition(parts)
    assert [a.get_ylabel() for a in fig.axes] == ["observed", "trend", "seasonal", "residual"]

    m = tsconv.ARIMA((1, 0, 0), ar=[0.5])
    fc = m.forecast(np.arange(10.0), 2, level=(80, 95))
    fig = plot_forecast(fc)
    ax = fig.axes[0]
    labels = [ln.get_label() for ln in ax.lines]
    assert labels[0] == "observed" and "forecast mean" in labels
    assert len(ax.collections) == 2  # one band per level
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "observed", "forecast mean", "80% prediction interval", "95% prediction interval"]
    with pytest.raises(TypeError, match="tsconv.Forecast"):
        plot_forecast(fc.to_frame())


def test_forecast_plot_titles_labels_and_joins_the_history():
    """Issue 16: the documented ``forecast.plot()`` draws the series it was made from,
    titled with the series' name and the model, the levels in the legend."""
    air = np.log(load("airline"))
    fit = tsconv.fit_arima(air, (0, 1, 1), (0, 1, 1, 12))
    fc = fit.forecast(12, level=(80, 95))
    ax = fc.plot().axes[0]
    assert ax.get_title() == "airline: 12-step forecast, ARIMA(0,1,1)(0,1,1)[12]"
    assert ax.get_ylabel() == "airline"
    observed = [ln for ln in ax.lines if ln.get_label() == "observed"][0]
    np.testing.assert_allclose(observed.get_ydata(), air.to_numpy()[-120:])
    # the joining segment runs from the last observation to the first forecast
    joins = [ln for ln in ax.lines if len(ln.get_ydata()) == 2]
    np.testing.assert_allclose(joins[0].get_ydata(), [air.iloc[-1], fc.mean.iloc[0]])
    fig = fit.plot_diagnostics()
    assert [a.get_title() for a in fig.axes] == ["standardized residuals", "histogram and N(0,1)", "autocorrelation", "normal Q-Q"]


def test_plot_bad_input():
    with pytest.raises(TypeError, match="op must be a tsconv Kernel or Transfer"):
        plot_kernel([1.0, 2.0])
    with pytest.raises(ValueError, match="trace must be a non-empty 1-D array"):
        plot_match(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="missing"):
        plot_decomposition(pd.DataFrame({"observed": [1.0]}))
    # a peak outside the trace was drawn at its end (-1) or failed in numpy; a negative
    # rate gave negative offsets
    for peak in (-1, 100, 2.5, True):
        with pytest.raises(ValueError, match=r"peak must be an index of trace \(an integer in \[0, 100\)\)"):
            plot_match(np.zeros(100), peak=peak)
    for sr in (-8000, 0, "8k"):
        with pytest.raises(ValueError, match="sr must be a positive number"):
            plot_match(np.zeros(100), sr=sr)
    from tsconv.plot import plot_diagnostics, plot_model_kernels

    with pytest.raises(ValueError, match="resid must not be constant"):
        plot_diagnostics(np.ones(50))
    with pytest.raises(TypeError, match="model must be a tsconv.ARIMA"):
        plot_model_kernels("x")
    with pytest.raises(TypeError, match="model must be a tsconv.ARIMA"):
        pd.Series(np.arange(20.0)).tsconv.plot_forecast("arima", 3)


def test_forecast_plot_refuses_a_history_off_the_forecast_s_axis():
    # an array's forecast (steps 1..12) drawn with a dated history put the forecast in 1970,
    # silently; a dated forecast with an array history failed inside matplotlib
    y = np.log(load("airline"))
    m = tsconv.ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.4], seasonal_ma=[-0.56], sigma2=0.0013)
    with pytest.raises(ValueError, match="history has dates"):
        m.forecast(y.to_numpy(), 12).plot(y)
    with pytest.raises(ValueError, match="history must be a Series on the axis the forecast continues"):
        m.forecast(y, 12).plot(y.to_numpy())
    # on the same axis both ways: the drawn forecast equals the forecast
    for fc, hist in ((m.forecast(y, 12), y), (m.forecast(y.to_numpy(), 12), y.to_numpy())):
        ax = fc.plot(hist).axes[0]
        line = [ln for ln in ax.lines if ln.get_label() == "forecast mean"][0]
        np.testing.assert_allclose(line.get_ydata(), fc.to_frame()["mean"].to_numpy())
        observed = [ln for ln in ax.lines if ln.get_label() == "observed"][0]
        assert np.asarray(observed.get_xdata())[-1] < np.asarray(line.get_xdata())[0]


def test_plot_model_kernels_draws_psi_pi_and_spectrum():
    from tsconv.plot import plot_model_kernels

    m = tsconv.ARIMA((1, 0, 1), ar=[0.6], ma=[0.3], sigma2=1.0)
    fig = plot_model_kernels(m, n=12)
    a0, a1, a2 = fig.axes
    np.testing.assert_allclose(a0.containers[0].markerline.get_ydata(), m.psi(12))
    np.testing.assert_allclose(a1.containers[0].markerline.get_ydata(), m.pi(12))
    np.testing.assert_allclose(a2.lines[0].get_ydata(), m.spectral_density(np.linspace(0.0, 0.5, 256)))


def test_model_and_forecast_plot_methods():
    m = tsconv.ARIMA((1, 0, 0), ar=[0.5], sigma2=1.0)
    fig = m.plot_kernels(n=8)
    np.testing.assert_allclose(fig.axes[0].containers[0].markerline.get_ydata(), 0.5 ** np.arange(8))
    y = m.simulate(50, seed=0)
    fc = m.forecast(y, 5)
    fig = fc.plot(history=y)
    ax = fig.axes[0]
    forecast_line = [ln for ln in ax.lines if ln.get_label() == "forecast mean"][0]
    np.testing.assert_allclose(forecast_line.get_ydata(), fc.mean)
    # joined to the history: a segment from the last observation to the first forecast
    join = [ln for ln in ax.lines if ln.get_label() == "_join"][0]
    np.testing.assert_allclose(join.get_ydata(), [y[-1], fc.mean[0]])


def test_match_plot_traces_the_clip_against_its_track():
    from tsconv.audio import Matcher, degrade
    from tsconv.audio._synth import synth_catalog

    tracks = synth_catalog(2, 8.0, sr=8000, seed=3)
    m = Matcher(sr=8000)
    for name, x in tracks.items():
        m.add(name, x, 8000)
    name = list(tracks)[1]
    clip = degrade.add_noise(tracks[name][20000:36000].astype(float), 0.0, seed=1)
    best = m.match(clip, 8000)[0]
    trace = m.trace(clip, 8000, name)
    assert int(np.argmax(trace)) == 20000 and best.track == name
    fig = best.plot(m, clip, 8000)
    ax = fig.axes[0]
    peak = [ln for ln in ax.lines if ln.get_label() == "peak"][0]
    assert peak.get_xdata()[0] == pytest.approx(20000 / 8000)
    # the legend names the probability the line stands for (Match.plot's max_false_alarm)
    level = [ln for ln in ax.lines if ln.get_label() == "false-alarm level (p = 0.01)"][0].get_ydata()[0]
    assert np.max(np.delete(trace, np.arange(19800, 20200))) < level < trace.max()
    with pytest.raises(ValueError, match="track must be one of"):
        m.trace(clip, 8000, "nope")


# --- figures fit for a report -------------------------------------------------------------


def _airline():
    from tsconv.datasets import load

    y = np.log(load("airline")).rename("log air passengers")
    m = tsconv.ARIMA((0, 1, 1), (0, 1, 1, 12), ma=[-0.40], seasonal_ma=[-0.56], sigma2=0.00135)
    return y, m


def test_forecast_figure_names_series_model_level_and_axes():
    y, m = _airline()
    fc = m.forecast(y, 24, level=(80,))
    fig = plot_forecast(fc, y, model=m, ylabel="log passengers (thousands)")
    ax = fig.axes[0]
    assert ax.get_title() == "log air passengers: 24-step forecast, ARIMA(0,1,1)(0,1,1)[12]"
    assert ax.get_ylabel() == "log passengers (thousands)"
    assert ax.get_xlabel() == "time"  # the series is dated (monthly periods)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["observed", "forecast mean", "80% prediction interval"]
    assert fig.dpi == 150
    # the band is the forecast's interval
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    frame = fc.to_frame()
    assert band.min() == pytest.approx(frame["lo-80"].min()) and band.max() == pytest.approx(frame["hi-80"].max())


def test_forecast_figure_defaults_to_the_series_name():
    y, m = _airline()
    ax = plot_forecast(m.forecast(y, 12), y).axes[0]
    assert ax.get_title() == "log air passengers: 12-step forecast, ARIMA(0,1,1)(0,1,1)[12]"
    assert ax.get_ylabel() == "log air passengers"
    assert ax.get_legend().get_texts()[-1].get_text() == "95% prediction interval"


def test_model_figure_shows_the_stationary_spectrum_of_a_differenced_model():
    from tsconv.plot import plot_model_kernels, stationary_spectral_density

    _, m = _airline()
    fig = plot_model_kernels(m, n=30)
    a0, a1, a2 = fig.axes
    assert fig.get_suptitle() == "ARIMA(0,1,1)(0,1,1)[12]: psi and pi weights, spectral density"
    assert [a.get_xlabel() for a in fig.axes] == ["lag", "lag", "frequency (cycles per observation)"]
    assert all(a.get_ylabel() for a in fig.axes)
    assert a2.get_title() == "spectral density of the differenced series"
    dens = a2.lines[0].get_ydata()
    assert np.all(np.isfinite(dens)) and dens.max() < 1.0  # no 1e28 spikes at the unit roots
    # twin: the same ARMA model without differencing, through ARIMA.spectral_density
    arma = tsconv.ARIMA((0, 0, 1), (0, 0, 1, 12), ma=[-0.40], seasonal_ma=[-0.56], sigma2=0.00135)
    f = np.linspace(0.0, 0.5, 256)
    np.testing.assert_allclose(dens, arma.spectral_density(f), rtol=1e-12)
    np.testing.assert_allclose(stationary_spectral_density(m, f), arma.spectral_density(f), rtol=1e-12)


def test_decomposition_and_kernel_figures_have_titles_and_labels():
    y, _ = _airline()
    fig = plot_decomposition(tsconv.decompose(y, 12), name=y.name)
    assert fig.get_suptitle() == "Classical decomposition of log air passengers"
    assert [a.get_ylabel() for a in fig.axes] == ["observed", "trend", "seasonal", "residual"]
    assert fig.axes[-1].get_xlabel() in ("time", "observation")
    assert fig.dpi == 150
    kfig = plot_kernel(tsconv.gaussian(21, std=4.0))
    assert kfig.get_suptitle() == "Kernel of 21 taps, origin 10"
    assert all(a.get_xlabel() and a.get_ylabel() for a in kfig.axes)


def test_accessor_plot_methods_are_shells_over_tsconv_plot():
    y, m = _airline()
    fig = y.tsconv.plot_forecast(m, 12, level=(90,))
    direct = plot_forecast(m.forecast(y, 12, level=(90,)), y, model=m)
    a, b = fig.axes[0], direct.axes[0]
    assert a.get_title() == b.get_title() == "log air passengers: 12-step forecast, ARIMA(0,1,1)(0,1,1)[12]"
    assert [t.get_text() for t in a.get_legend().get_texts()][-1] == "90% prediction interval"
    for la, lb in zip(a.lines, b.lines):
        np.testing.assert_array_equal(la.get_ydata(), lb.get_ydata())
    dec = y.tsconv.plot_decomposition(12)
    assert dec.get_suptitle() == "Classical decomposition of log air passengers"


def test_accessor_plot_forecast_of_a_box_cox_fit_draws_the_fits_own_forecast():
    # it forecast the raw series with fit.model (the log-scale model): mean 447.06 / 426.35
    # with a band about +-0.07 wide, where fit.forecast(2) is 450.42 / 425.72, 95% band 419-484
    air = load("airline").astype(float)
    fit = air.tsconv.arima((0, 1, 1), (0, 1, 1, 12), boxcox=0.0)
    want = fit.forecast(2).to_frame()
    ax = air.tsconv.plot_forecast(fit, 2).axes[0]
    mean = next(line for line in ax.lines if line.get_label() == "forecast mean")
    np.testing.assert_allclose(mean.get_ydata(), want["mean"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(mean.get_ydata(), [450.42, 425.72], atol=0.01)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(want["lo-95"].min()) and band.max() == pytest.approx(want["hi-95"].max())
    assert np.isclose(band, 419.15, atol=0.01).any() and band.max() == pytest.approx(484.03, abs=0.01)  # step 1
    assert ax.get_title() == "airline: 2-step forecast, ARIMA(0,1,1)(0,1,1)[12]"
    # a fit used on another series (its coefficients and its transform): the same as
    # forecasting the log of that series with the log-scale model, back-transformed
    other = air.iloc[:-24]
    ax = other.tsconv.plot_forecast(fit, 2).axes[0]
    mean = next(line for line in ax.lines if line.get_label() == "forecast mean")
    log_fc = fit.model.forecast(np.log(other), 2)
    np.testing.assert_allclose(mean.get_ydata(), np.exp(log_fc.mean.to_numpy()), rtol=1e-12)
