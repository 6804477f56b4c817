"""Built-in time series for examples, the verification suite and benchmarks (all offline).

=============  =========================================================  ==============
name           series                                                     source
=============  =========================================================  ==============
``sunspots``   yearly sunspot numbers 1700-2008                           statsmodels.datasets.sunspots
``nile``       yearly Nile flow at Aswan 1871-1970 (10^8 m^3)              statsmodels.datasets.nile
``realgdp``    US real GDP, quarterly 1959Q1-2009Q3                       statsmodels.datasets.macrodata
``co2``        Mauna Loa CO2, monthly means of the weekly series 1958-2001 statsmodels.datasets.co2
``airline``    international airline passengers, monthly 1949-1960        Box & Jenkins (1976) Series G, shipped in ``tsconv/data/airline.csv``
``wpi1``       US wholesale price index, quarterly 1960Q1-1990Q4           Stata ``wpi1`` (as in statsmodels' SARIMAX test results)
=============  =========================================================  ==============
"""

from __future__ import annotations

from importlib import resources
from typing import Literal, get_args

import numpy as np
import pandas as pd

from tsconv._validation import check_option

__all__ = ["load", "Dataset", "names"]

Dataset = Literal["sunspots", "nile", "realgdp", "co2", "airline", "wpi1"]


def names() -> list[str]:
    """The names :func:`load` accepts."""
    return list(get_args(Dataset))


def load(name: Dataset) -> pd.Series:
    """One built-in series as a ``pandas.Series`` on a dated index (float64 values).

    Parameters
    ----------
    name : {'sunspots', 'nile', 'realgdp', 'co2', 'airline', 'wpi1'}

    Returns
    -------
    pandas.Series

    Raises
    ------
    ValueError
        For an unknown name (the message lists them).

    Notes
    -----
    ``co2`` is the monthly mean of statsmodels' weekly Mauna Loa series with the few
    empty months filled forward (as in the statsmodels examples). ``airline`` is Box &
    Jenkins' Series G [1]_; ``wpi1`` is the Stata data set used by statsmodels' SARIMAX
    tests (``statsmodels/tsa/statespace/tests/results/results_sarimax.py``).

    References
    ----------
    .. [1] Box & Jenkins (1976), *Time Series Analysis: Forecasting and Control*, Series G.

    Examples
    --------
    >>> from tsconv.datasets import load
    >>> air = load("airline")
    >>> len(air), float(air.iloc[0]), float(air.iloc[-1])
    (144, 112.0, 432.0)
    """
    name = check_option(name, Dataset, "name")
    if name == "sunspots":
        from statsmodels.datasets import sunspots

        df = sunspots.load_pandas().data
        idx = pd.PeriodIndex(df["YEAR"].astype(int).astype(str), freq="Y")
        return pd.Series(df["SUNACTIVITY"].to_numpy(float), index=idx, name="sunspots")
    if name == "nile":
        from statsmodels.datasets import nile

        df = nile.load_pandas().data
        idx = pd.PeriodIndex(df["year"].astype(int).astype(str), freq="Y")
        return pd.Series(df["volume"].to_numpy(float), index=idx, name="nile")
    if name == "realgdp":
        from statsmodels.datasets import macrodata

        df = macrodata.load_pandas().data
        idx = pd.period_range("1959Q1", periods=len(df), freq="Q")
        return pd.Series(df["realgdp"].to_numpy(float), index=idx, name="realgdp")
    if name == "co2":
        from statsmodels.datasets import co2

        weekly = co2.load_pandas().data["co2"]
        monthly = weekly.resample("MS").mean().ffill()
        return pd.Series(monthly.to_numpy(float), index=monthly.index.to_period("M"), name="co2")
    if name == "airline":
        with resources.files("tsconv").joinpath("data/airline.csv").open("r") as fh:
            df = pd.read_csv(fh, comment="#")
        idx = pd.PeriodIndex(df["month"], freq="M")
        return pd.Series(df["passengers"].to_numpy(float), index=idx, name="airline")
    # wpi1
    from statsmodels.tsa.statespace.tests.results import results_sarimax

    vals = np.asarray(results_sarimax.wpi1_data, dtype=float)
    return pd.Series(vals, index=pd.period_range("1960Q1", periods=vals.size, freq="Q"), name="wpi1")
