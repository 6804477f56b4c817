"""The ideas behind tsconv, each shown by a computation.

Run:  python examples/convolution_concepts.py [--outdir DIR]

1. the convolution theorem: direct convolution == inverse FFT of the product of FFTs;
2. low-pass filtering in the Fourier domain vs Gaussian smoothing in the time domain;
3. the kernel as a diffusion propagator (softmax-normalized) and its stochastic reading;
4. cross-correlation is convolution with the flipped kernel;
5. decorrelation by covariance eigenvectors (PCA / ZCA whitening);
6. weighted moving averages and AR models are convolutions;
7. Gaussian smoothing: composing Gaussians adds variances.

Every claim is checked with an assertion, so this file doubles as a smoke test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.signal

import tsconv
from tsconv import Kernel, Transfer


def main(outdir: str | None = None) -> None:
    rng = np.random.default_rng(42)
    n = 2048
    x = np.cumsum(rng.normal(size=n))

    # 1. convolution theorem ----------------------------------------------------------
    k = tsconv.gaussian(41, 5.0)  # +-4 std: truncation barely touches the gain
    direct = tsconv.apply(k, x, mode="full", method="direct")
    L = n + len(k) - 1
    via_fft = np.fft.irfft(np.fft.rfft(x, L) * np.fft.rfft(k.coef, L), L)
    err = np.max(np.abs(direct - via_fft))
    print(f"1. convolution theorem: max |direct - irfft(rfft(x) rfft(k))| = {err:.2e}")
    assert err < 1e-9

    # 2. low-pass in the Fourier domain ----------------------------------------------
    # The Gaussian's gain is itself (nearly) Gaussian: multiplying the spectrum by it is
    # the same as smoothing in time.
    w, h = k.frequency_response(512)
    sigma_f = 1.0 / (2 * np.pi * 5.0)  # std of the gain in cycles/sample for std 5 samples
    expected = np.exp(-0.5 * (w / (2 * np.pi) / sigma_f) ** 2)
    gain_err = np.max(np.abs(np.abs(h) - expected))
    print(f"2. Gaussian gain vs exp(-f^2 / 2 sigma_f^2): max error {gain_err:.1e}")
    assert gain_err < 2e-3
    spectrum = np.fft.rfft(x - x.mean())
    f = np.fft.rfftfreq(n)
    lowpassed = np.fft.irfft(spectrum * np.exp(-0.5 * (f / sigma_f) ** 2), n) + x.mean()
    smoothed = tsconv.apply(k, x)
    inner = slice(200, n - 200)  # away from the FFT's wrap-around and the NaN edges
    lp_err = np.max(np.abs(lowpassed[inner] - smoothed[inner])) / np.std(x)
    print(f"   Fourier low-pass vs time-domain smoothing (interior): max diff {lp_err:.1e} x sd")
    assert lp_err < 0.05

    # 3. diffusion propagator -----------------------------------------------------------
    step = Kernel([1.0, 2.0, 1.0], origin=1).softmax(temperature=1.0)
    print(f"3. softmax propagator weights {np.round(step.coef, 3)} (sum {step.coef.sum():.0f})")
    walkers = np.zeros(201)
    walkers[100] = 1.0
    p = walkers
    for _ in range(50):
        p = tsconv.apply(step, p, nan_policy="omit")
    spread = np.sqrt(np.sum(p * (np.arange(201) - 100) ** 2) / p.sum())
    var_step = float(np.sum(step.coef * step.lags**2))
    print(f"   after 50 steps the spread is {spread:.3f} = sqrt(50 * {var_step:.3f}) = {np.sqrt(50 * var_step):.3f}")
    assert abs(spread - np.sqrt(50 * var_step)) < 1e-6
    draws = np.mean([tsconv.stochastic_apply(step, x, rng=i) for i in range(400)], axis=0)
    mc_err = np.nanmax(np.abs(draws - tsconv.apply(step, x)))
    print(f"   stochastic reading: mean of 400 random draws vs apply, max diff {mc_err:.3f}")
    assert mc_err < 0.5

    # 4. cross-correlation = convolution with the flipped kernel -------------------------
    needle = x[700:764].copy()
    cc = tsconv.apply(Kernel(needle).reversed(), x, mode="full")
    ref = scipy.signal.correlate(x, needle, mode="full")
    print(f"4. correlation via reversed kernel vs scipy.signal.correlate: max diff {np.max(np.abs(cc - ref)):.1e}")
    assert np.allclose(cc, ref)

    # 5. decorrelation by covariance eigenvectors ----------------------------------------
    mix = np.array([[1.0, 0.0, 0.0], [0.9, 0.3, 0.0], [0.5, 0.5, 0.2]])
    X = rng.normal(size=(3, 5000))
    Y = mix @ X  # three correlated channels
    Z = tsconv.zca_whiten(Y)
    Z = np.asarray(Z[0] if isinstance(Z, tuple) else Z)
    cov = np.cov(Z)
    print(f"5. ZCA-whitened covariance, max |C - I| = {np.max(np.abs(cov - np.eye(3))):.1e}")
    assert np.allclose(cov, np.eye(3), atol=1e-8)

    # 6. WMA and AR models are convolutions ------------------------------------------------
    s = pd.Series(x)
    wts = np.arange(1.0, 11.0)
    wma_ref = s.rolling(10).apply(lambda v: v @ wts / wts.sum(), raw=True)
    wma_err = np.nanmax(np.abs(tsconv.apply(tsconv.wma(10), x) - wma_ref.to_numpy()))
    phi = np.array([0.6, -0.3])
    e = rng.normal(size=n)
    y_ar = tsconv.apply(Transfer([1.0], [1.0, *(-phi)]), e)  # y = e / phi(B)
    recovered = tsconv.apply(Kernel([1.0, *(-phi)]), y_ar)  # phi(B) y = e
    print(f"6. WMA(10) vs pandas rolling-apply: {wma_err:.1e}; AR(2) inverse filter recovers the shocks: "
          f"{np.nanmax(np.abs(recovered - e)):.1e}")
    assert wma_err < 1e-10 and np.nanmax(np.abs(recovered - e)) < 1e-10

    # 7. Gaussian smoothing composes: variances add ----------------------------------------
    g3, g4 = tsconv.gaussian(41, 3.0), tsconv.gaussian(41, 4.0)
    both = g3 @ g4
    var = float(np.sum(both.coef * both.lags**2))
    print(f"7. gaussian(3) @ gaussian(4) has variance {var:.3f} ~ 3^2 + 4^2 = 25")
    assert abs(var - 25.0) < 0.05

    if outdir:
        import matplotlib

        matplotlib.use("Agg")
        from tsconv.plot import plot_kernel

        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        plot_kernel(k, title="gaussian(41, 5): weights and gain").savefig(out / "concepts_gaussian.png")
        plot_kernel(both, title="gaussian(3) @ gaussian(4): weights and gain").savefig(out / "concepts_composed.png")
        print(f"figures written to {out}/")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default=None, help="write figures here")
    main(parser.parse_args().outdir)
