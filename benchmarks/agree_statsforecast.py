"""Agreement of tsconv's CSS / CSS-ML estimates with statsforecast (a peer, not a dependency).

Run:  python benchmarks/agree_statsforecast.py

statsforecast pins pandas < 3, so it cannot sit in the test extra (the suite runs on the
pandas the project supports); this script holds the comparison instead and exits 1 on a
disagreement. Results are recorded in docs/benchmarks.md (Estimation).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from tsconv import fit_arima
from tsconv.datasets import load


def main() -> int:
    try:
        import statsforecast.models as sf
    except ImportError:
        print("statsforecast is not installed: pip install statsforecast")
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        air = np.log10(load("airline").to_numpy())
        ref = sf.ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1), season_length=12, method="CSS").fit(air).model_
        sun = load("sunspots").to_numpy()
        ref_ml = sf.ARIMA(order=(2, 0, 1), method="CSS-ML").fit(sun).model_
    m = fit_arima(air, (0, 1, 1), (0, 1, 1, 12), method="css")
    d_par = np.max(np.abs(m.params.to_numpy() - [ref["coef"]["ma1"], ref["coef"]["sma1"]]))
    # statsforecast divides the CSS sum of squares by n_used - n_params; R (and tsconv) by n_used
    n_used, k = 131, 2
    d_sig = abs(m.sigma2 * n_used / (n_used - k) / ref["sigma2"] - 1)
    m2 = fit_arima(sun, (2, 0, 1), trend="c")
    d_llf = abs(m2.llf - ref_ml["loglik"])
    print(f"airline CSS: max |param diff| {d_par:.1e} (tol 1e-4); sigma2 rel diff {d_sig:.1e} (tol 1e-4)")
    print(f"sunspots ARIMA(2,0,1)+c CSS-ML: |llf diff| {d_llf:.1e} (tol 1e-4)")
    ok = d_par < 1e-4 and d_sig < 1e-4 and d_llf < 1e-4
    print("OK" if ok else "DISAGREEMENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
