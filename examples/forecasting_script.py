"""A forecasting script: a panel of series, one batched fit, forecasts with intervals to CSV.

Run:  python examples/forecasting_script.py [--series 500] [--out forecasts.csv]

The panel is in the long format forecasting libraries use (``unique_id``, ``ds``, ``y``),
with series of different lengths. tsconv fits every series with its own coefficients in one
vectorized call, forecasts 12 months ahead with 95% intervals, checks one series against
statsmodels, and writes the forecasts atomically.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import tsconv


def make_panel(n_series: int, seed: int = 0) -> pd.DataFrame:
    """Monthly ARIMA(1,1,1) series with per-series coefficients and ragged lengths."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n = int(rng.integers(96, 181))
        model = tsconv.ARIMA((1, 1, 1), ar=[rng.uniform(0.2, 0.8)], ma=[rng.uniform(-0.5, 0.3)], sigma2=1.0)
        y = 100.0 + model.simulate(n, seed=rng)
        ds = pd.date_range(end="2026-10-01", periods=n, freq="MS")
        frames.append(pd.DataFrame({"unique_id": f"store_{i:04d}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def write_csv_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write to a temporary file in the same directory, then rename over the target."""
    if path.is_dir():  # before the work, not after it
        raise IsADirectoryError(f"--out {str(path)!r} is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = str(path.parent / f".{path.name}.{os.getpid()}.tmp")
    # os.open applies the umask, as a plain open() would (tempfile.mkstemp forces 0600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            frame.to_csv(fh, index=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(n_series: int = 300, out: str = "forecasts.csv") -> pd.DataFrame:
    panel = make_panel(n_series)
    print(f"panel: {panel.unique_id.nunique()} series, {len(panel)} rows, lengths "
          f"{panel.groupby('unique_id').size().min()}..{panel.groupby('unique_id').size().max()}")

    t0 = time.perf_counter()
    batch = tsconv.fit_arima(panel, order=(1, 1, 1))
    forecasts = batch.forecast(12, level=(80, 95)).to_frame()
    elapsed = time.perf_counter() - t0
    print(f"fit (exact ML) + 12-month forecasts with 80/95% intervals: {elapsed:.2f} s "
          f"({elapsed / n_series * 1e3:.1f} ms per series); converged: {int(np.sum(batch.converged))}/{len(batch)}")
    print(forecasts.head(3).to_string(index=False))

    # one series against statsmodels' own maximum likelihood
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    first = batch.ids[0]
    y0 = panel.loc[panel.unique_id == first, "y"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SMARIMA(y0, order=(1, 1, 1)).fit()
    ours = batch.result(first)
    print(f"{first}: log-likelihood tsconv {float(ours.llf):.4f} vs statsmodels {ref.llf:.4f}; "
          f"params {np.round(np.asarray(ours.params, dtype=float), 4).tolist()} vs {np.round(ref.params[:-1], 4).tolist()}")
    assert abs(float(ours.llf) - ref.llf) < 1e-3

    write_csv_atomically(forecasts, Path(out))
    print(f"wrote {len(forecasts)} forecast rows to {out}")
    return forecasts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--out", default="forecasts.csv")
    args = parser.parse_args()
    if args.series < 1:
        parser.error(f"--series must be >= 1, got {args.series}")
    if Path(args.out).is_dir():  # checked before the work
        parser.error(f"--out {args.out!r} is a directory")
    main(args.series, args.out)
