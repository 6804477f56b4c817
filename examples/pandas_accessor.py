"""The ``.tsconv`` accessor on a real dataset: Mauna Loa CO2 and the airline passengers.

Run:  python examples/pandas_accessor.py

Every result comes back on the series' own index (warm-up NaN like ``rolling``), and each
smoother is checked against the pandas / statsmodels call it replaces.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.seasonal import seasonal_decompose
from statsmodels.tsa.statespace.sarimax import SARIMAX

import tsconv  # registers the .tsconv accessors
from tsconv import datasets


def main() -> None:
    co2 = datasets.load("co2")  # monthly means of the Mauna Loa record
    print(f"co2: {len(co2)} monthly values, {co2.index[0]} .. {co2.index[-1]}")

    # smoothers: same index, same warm-up NaN as pandas
    sma = co2.tsconv.sma(12)
    assert np.allclose(sma, co2.rolling(12).mean(), equal_nan=True)
    ema = co2.tsconv.ema(span=12)
    assert np.allclose(ema, co2.ewm(span=12).mean())
    smooth = co2.tsconv.gaussian(25, 4.0)
    trend13 = co2.tsconv.henderson(13)
    print("last values  sma(12) {:.2f}  ema(span=12) {:.2f}  gaussian(25,4) {:.2f}  henderson(13) {}".format(
        sma.iloc[-1], ema.iloc[-1], smooth.dropna().iloc[-1], f"{trend13.dropna().iloc[-1]:.2f}"))

    # differences: (1 - B)(1 - B^12) x
    growth = co2.tsconv.diff().tsconv.sdiff(12)
    assert np.allclose(growth, co2.diff().diff(12), equal_nan=True)
    print(f"(1-B)(1-B^12) co2: std {growth.std():.3f} ppm")

    # classical decomposition == statsmodels seasonal_decompose
    parts = co2.tsconv.decompose()  # period 12 from the monthly index
    ref = seasonal_decompose(co2, period=12)
    assert np.allclose(parts["seasonal"], ref.seasonal)
    amp = parts["seasonal"].iloc[:12]
    print(f"seasonal cycle: peak {amp.idxmax().strftime('%b')} (+{amp.max():.2f}), trough {amp.idxmin().strftime('%b')} ({amp.min():.2f})")

    # cross-correlation and normalized cross-correlation
    seasonal = parts["seasonal"]
    lagged = pd.Series(np.roll(seasonal.to_numpy(), 3), index=seasonal.index)
    xc = seasonal.tsconv.xcorr(lagged)
    print(f"xcorr peak at lag {xc.idxmax()} (the copy is delayed by 3: scipy.signal.correlate puts that at lag -3)")
    needle = co2.iloc[200:236].to_numpy()
    nc = co2.tsconv.ncc(needle)
    print(f"ncc of a 3-year snippet: best window starts {nc.idxmax().strftime('%Y-%m')} (score {nc.max():.3f})")

    # pre-whitening
    white = growth.dropna().tsconv.prewhiten(4)
    print(f"prewhitened (AR(4)) growth: lag-1 autocorrelation {white.autocorr(1):.3f}")

    # models: a statsmodels fit bound to the series, forecasts on future dates
    air = np.log(datasets.load("airline"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = SARIMAX(air, order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(disp=False)
    bound = air.tsconv.from_statsmodels(res)
    fc = bound.forecast(12, level=(80, 95))
    sm_fc = res.get_forecast(12).predicted_mean
    print(f"airline forecast (tsconv vs statsmodels) max diff {np.max(np.abs(fc.mean.to_numpy() - sm_fc.to_numpy())):.1e}")
    print(fc.to_frame().head(3).to_string())

    native = air.tsconv.arima((0, 1, 1), seasonal_order=(0, 1, 1, 12))
    print(f"native fit: {native!r}")
    print(native.forecast(3, level=(80, 95)).to_frame().to_string())


if __name__ == "__main__":
    main()
