"""Slow, obviously-correct references for the fast paths (Python loops, no numpy tricks).

Each function restates a definition (the formula its fast path documents) literally. Tests compare the fast
paths with these on small inputs. Append new references at the end of this file.
"""

from __future__ import annotations

import math


def convolve(x, coef, origin=0, mode="same"):
    """``y[t] = sum_k coef[k] * x[t - k + origin]`` by a double loop.

    ``mode='same'``: t = 0..n-1, NaN unless every x index lies in [0, n); ``'valid'``:
    only the complete windows, in order of their last sample (numpy's 'valid');
    ``'full'``: the full convolution ``sum_k coef[k] x[j - k]``, j = 0..n+m-2, zeros
    outside the series. A non-finite sample under a nonzero tap makes the output NaN (a
    zero tap does not read its sample).
    """
    x = [float(v) for v in x]
    c = [float(v) for v in coef]
    n, m = len(x), len(c)
    if mode == "full":
        out = []
        for j in range(n + m - 1):
            s, bad = 0.0, False
            for k in range(m):
                i = j - k
                if 0 <= i < n and c[k] != 0.0:
                    if not math.isfinite(x[i]):
                        bad = True
                    else:
                        s += c[k] * x[i]
            out.append(math.nan if bad else s)
        return out
    if mode == "valid":
        out = []
        for j in range(m - 1, n):
            s, bad = 0.0, False
            for k in range(m):
                v = x[j - k]
                if c[k] == 0.0:
                    continue
                if not math.isfinite(v):
                    bad = True
                else:
                    s += c[k] * v
            out.append(math.nan if bad else s)
        return out
    out = []
    for t in range(n):
        s, ok = 0.0, True
        for k in range(m):
            i = t - k + origin
            if not 0 <= i < n or (c[k] != 0.0 and not math.isfinite(x[i])):
                ok = False
                break
            if c[k] != 0.0:
                s += c[k] * x[i]
        out.append(s if ok else math.nan)
    return out


def convolve_omit(x, coef, origin=0):
    """'same' output with the weights renormalized over the observed (finite, in-range) samples.

    ``y[t] = sum(c) * sum_obs c[k] x[i] / sum_obs c[k]``; NaN when no sample is observed.
    """
    x = [float(v) for v in x]
    c = [float(v) for v in coef]
    n, m, total = len(x), len(c), sum(c)
    out = []
    for t in range(n):
        num = den = 0.0
        seen = False
        for k in range(m):
            i = t - k + origin
            if 0 <= i < n and math.isfinite(x[i]):
                num += c[k] * x[i]
                den += c[k]
                seen = True
        out.append(total * num / den if seen and den != 0.0 else math.nan)
    return out


def recursion(num, den, x):
    """``den(B) y = num(B) x`` from zero pre-sample values, solved for y[t] one step at a time."""
    b = [float(v) for v in num]
    a = [float(v) for v in den]
    x = [float(v) for v in x]
    y = []
    for t in range(len(x)):
        s = 0.0
        for k in range(len(b)):
            if t - k >= 0:
                s += b[k] * x[t - k]
        for k in range(1, len(a)):
            if t - k >= 0:
                s -= a[k] * y[t - k]
        y.append(s / a[0])
    return y


def power_series_inverse(coef, n):
    """First n coefficients d of ``1 / sum_k coef[k] z^k``: ``sum_k coef[k] d[j-k] = [j == 0]``."""
    c = [float(v) for v in coef]
    d = []
    for j in range(n):
        s = 1.0 if j == 0 else 0.0
        for k in range(1, min(j, len(c) - 1) + 1):
            s -= c[k] * d[j - k]
        d.append(s / c[0])
    return d


def arima_css_residuals(y, ar_total, ma_total, n_cond):
    """R's ``arima(method = "CSS")`` residuals as in its C code (ARIMA_CSS), one loop.

    ``ar_total``/``ma_total`` are lag polynomials (zero lag first, lfilter sign); the first
    ``n_cond`` residuals are NaN (conditioned on), later ones use zero pre-sample shocks.
    """
    y = [float(v) for v in y]
    a = [float(v) for v in ar_total]
    b = [float(v) for v in ma_total]
    e = [0.0] * len(y)
    out = [float("nan")] * len(y)
    for t in range(n_cond, len(y)):
        s = 0.0
        for k in range(len(a)):
            s += a[k] * y[t - k]
        for k in range(1, len(b)):
            if t - k >= n_cond:
                s -= b[k] * e[t - k]
        e[t] = s
        out[t] = s
    return out


def exact_innovations_dense(ar, ma, v):
    """Exact innovations of a zero-mean stationary ARMA sample from its full covariance matrix.

    ``Sigma = C C'`` (dense Cholesky); innovations ``e = L^{-1} v`` with ``L = C / diag(C)``
    and variances ``diag(C)**2`` (unit innovation variance): Brockwell & Davis (1991), 5.2.
    """
    import numpy as np
    from statsmodels.tsa.arima_process import arma_acovf

    v = np.asarray(v, dtype=float)
    n = v.size
    g = arma_acovf(np.asarray(ar, float), np.asarray(ma, float), nobs=n)
    idx = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    C = np.linalg.cholesky(g[idx])
    L = C / np.diag(C)
    return np.linalg.solve(L, v), np.diag(C) ** 2


def ansley_factor_dense(ar, ma, n):
    """Unit lower factor ``L`` and variances ``d`` of Ansley's transformed series, densely.

    ``x = A v`` with ``x_t = v_t`` for ``t < m = max(p, q)`` and ``x_t = sum_j ar_j v_{t-j}``
    after (Ansley 1979; Brockwell & Davis 1991, 5.3); ``Cov(x) = A Gamma A' = C C'`` (dense
    Cholesky), ``L = C / diag(C)``, ``d = diag(C)**2``: ``x = L e`` and ``e`` are the innovations.
    """
    import numpy as np
    from statsmodels.tsa.arima_process import arma_acovf

    ar = np.asarray(ar, float)
    ma = np.asarray(ma, float)
    p, q = ar.size - 1, ma.size - 1
    m = max(p, q)
    g = arma_acovf(ar, ma, nobs=n)
    gamma = g[np.abs(np.subtract.outer(np.arange(n), np.arange(n)))]
    A = np.eye(n)
    for t in range(m, n):
        for j in range(1, p + 1):
            A[t, t - j] = ar[j]
    C = np.linalg.cholesky(A @ gamma @ A.T)
    return C / np.diag(C), np.diag(C) ** 2


# --- correlation and whitening (issue 5) ---------------------------------------------
def pearson_lags(needle, haystack):
    """NCC by definition: the Pearson correlation of the needle with each window, lag by lag.

    Two-pass mean and deviation sums in float64 per window; a window of zero variance
    gives 0 (the convention of ``tsconv.ncc``).
    """
    import math

    q = [float(v) for v in needle]
    h = [float(v) for v in haystack]
    m = len(q)
    qbar = sum(q) / m
    dq = [v - qbar for v in q]
    sq = math.sqrt(sum(d * d for d in dq))
    out = []
    for k in range(len(h) - m + 1):
        w = h[k : k + m]
        wbar = sum(w) / m
        dw = [v - wbar for v in w]
        sw = math.sqrt(sum(d * d for d in dw))
        if sw == 0.0:
            out.append(0.0)
            continue
        out.append(sum(a * b for a, b in zip(dq, dw)) / (sq * sw))
    return out


def xcorr_lags(x, y):
    """Full cross-correlation by its definition ``z[k] = sum_n x[n + k] conj(y[n])``.

    Returns ``(lags, values)`` for every lag from ``-(len(y) - 1)`` to ``len(x) - 1``.
    """
    lags, vals = [], []
    for k in range(-(len(y) - 1), len(x)):
        s = 0
        for n in range(len(y)):
            if 0 <= n + k < len(x):
                s += x[n + k] * y[n].conjugate()
        lags.append(k)
        vals.append(s)
    return lags, vals


def yule_walker_direct(x, order):
    """Yule-Walker AR coefficients by a dense solve of ``R a = r`` (biased autocovariance).

    The autocovariance is summed lag by lag after removing the mean; the system is solved
    by ``numpy.linalg.solve`` (no Levinson recursion): Brockwell & Davis (2016), 5.1.1.
    """
    import numpy as np

    v = np.asarray(x, dtype=float)
    v = v - v.mean()
    n = v.size
    r = np.array([np.dot(v[: n - k], v[k:]) / n for k in range(order + 1)])
    R = np.array([[r[abs(i - j)] for j in range(order)] for i in range(order)])
    return np.linalg.solve(R, r[1:])


def band_correlation(block, needle, bins):
    """Circular correlation of one block with a needle through the first ``bins`` DFT bins only.

    With ``f = len(block)`` and the DFTs ``X_k = sum_t block[t] e^{-2 pi i k t / f}``,
    ``Q_k = sum_t needle[t] e^{-2 pi i k t / f}`` (the needle zero-padded to ``f``), the
    value at lag ``l`` is ``(1/f) sum_{k < bins} w_k Re(X_k conj(Q_k) e^{2 pi i k l / f})``
    with ``w_0 = 1`` and ``w_k = 2`` otherwise (the real signal's positive and negative
    frequencies); with every bin (``bins = f // 2``, odd ``f``) it is the circular
    correlation ``sum_j needle[j] block[(l + j) % f]``. Returns every lag ``0 .. f - 1``.
    """
    f = len(block)
    q = list(needle) + [0.0] * (f - len(needle))

    def dft(v, k):
        return sum(complex(v[t]) * complex(math.cos(2 * math.pi * k * t / f), -math.sin(2 * math.pi * k * t / f)) for t in range(f))

    terms = [(k, dft(block, k) * dft(q, k).conjugate()) for k in range(bins)]
    out = []
    for lag in range(f):
        s = 0.0
        for k, p in terms:
            e = complex(math.cos(2 * math.pi * k * lag / f), math.sin(2 * math.pi * k * lag / f))
            s += (1.0 if k == 0 else 2.0) * (p * e).real
        out.append(s / f)
    return out


def matcher_welch(x, nperseg, nfft=None, max_frames=0):
    """The audio matcher's former Welch spectrum, segment by segment (unscaled, two-sided).

    Hann segments of ``nperseg`` advancing by ``nperseg // 2``; when there are more than
    ``max_frames`` (> 0), every ``ceil(frames / max_frames)``-th; each segment's mean removed;
    the mean over the segments of ``|rfft(segment * window, nfft)|^2``.
    """
    import numpy as np
    import scipy.signal

    x = np.asarray(x, dtype=float)
    nfft = nperseg if nfft is None else nfft
    hop = nperseg // 2
    starts = list(range(0, x.size - nperseg + 1, hop))
    if max_frames and len(starts) > max_frames:
        starts = starts[:: -(-len(starts) // max_frames)]
    w = scipy.signal.get_window("hann", nperseg)
    acc = np.zeros(nfft // 2 + 1)
    for s in starts:
        seg = x[s : s + nperseg]
        acc += np.abs(np.fft.rfft((seg - seg.mean()) * w, nfft)) ** 2
    return acc / len(starts)


def matcher_spectral_kernel(x, n_taps=257, floor=1e-6):
    """The audio matcher's former track whitener: ``(coef, origin)`` of a zero-phase FIR.

    Gain ``1 / sqrt(P)`` (``P``: :func:`matcher_welch` on ``n_taps`` segments, at most 4000,
    floored at ``floor * max P``) sampled on ``n_taps`` frequencies, inverse FFT, centred,
    Hann-tapered, scaled to unit energy.
    """
    import numpy as np

    psd = matcher_welch(x, n_taps, max_frames=4000)
    psd = np.maximum(psd, floor * psd.max())
    h = np.fft.fftshift(np.fft.irfft(1.0 / np.sqrt(psd), n_taps))
    h *= np.hanning(n_taps + 2)[1:-1]
    return h / np.sqrt(np.sum(h**2)), n_taps // 2


def roots_outside(poly, margin=0.0):
    """Rows of ``poly (k, m)`` (zero lag first) whose roots all have modulus > 1 / (1 - margin), by numpy.roots."""
    import numpy as np

    out = []
    for p in np.atleast_2d(np.asarray(poly, float)):
        if not np.all(np.isfinite(p)):
            out.append(False)
            continue
        r = np.roots(p[::-1])  # numpy.roots wants the highest power first
        out.append(bool(np.all(np.abs(r) > 1.0 / (1.0 - margin))))
    return np.array(out, dtype=bool)


def factors_stable(ar, ma, sar, sma, s, margin=1e-6):
    """Rows whose four ARMA factors (coefficients with their model signs, ``(k, p)``...) all
    have their roots outside the unit circle by ``margin``, by numpy.roots: the seasonal
    factors in ``z**s``, whose roots are the ``s``-th roots of their roots in ``z``, so
    their margin is ``1 - (1 - margin)**s`` on the roots in ``z``."""
    import numpy as np

    ms = 1.0 - (1.0 - margin) ** max(s, 1)
    one = np.ones((np.shape(ar)[0], 1))
    return (roots_outside(np.hstack([one, -np.asarray(ar)]), margin) & roots_outside(np.hstack([one, np.asarray(ma)]), margin)
            & roots_outside(np.hstack([one, -np.asarray(sar)]), ms) & roots_outside(np.hstack([one, np.asarray(sma)]), ms))


def matcher_evidence_level(clip, coef, origin, sr, f_low=30.0, q=0.5, nperseg=256):
    """The audio matcher's evidence level of a clip on a track (up to the clip spectrum's scale).

    The ``q`` quantile (linear interpolation between order statistics) of
    ``P_y(f) |C(f)|^2`` over the Welch bins ``f = k / nperseg`` from ``f_low`` to ``0.45 sr``:
    ``P_y`` from :func:`matcher_welch` floored at 1e-6 of its peak, ``C(f) = sum_j
    coef[j] exp(-2 pi i f (j - origin))`` summed tap by tap.
    """
    import cmath
    import math

    psd = matcher_welch(clip, nperseg)
    peak = max(psd)
    ratios = []
    for k in range(1, nperseg // 2):
        if not (f_low <= k * sr / nperseg <= 0.45 * sr):
            continue
        c = sum(coef[j] * cmath.exp(-2j * math.pi * k / nperseg * (j - origin)) for j in range(len(coef)))
        ratios.append(max(psd[k], 1e-6 * peak) * abs(c) ** 2)
    ratios.sort()
    pos = q * (len(ratios) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(ratios) - 1)
    return ratios[lo] + (pos - lo) * (ratios[hi] - ratios[lo])


def recent_scale(resid, m):
    """The recent residual scale of ``AutoARIMA``'s conformal intervals: the mean square
    of the last ``m`` finite residuals (all of them when fewer), pooled with ``m``
    pseudo-residuals at the mean square ``v`` of all of them, over ``v``, square-rooted;
    1 when there is no finite nonzero residual."""
    import math

    e = [float(x) for x in resid if math.isfinite(float(x))]
    v = sum(x * x for x in e) / len(e) if e else 0.0
    if not v > 0.0:
        return 1.0
    last = e[-m:]
    return math.sqrt((sum(x * x for x in last) + m * v) / ((len(last) + m) * v))


def conformal_factor(series, finalists, h, n_windows, level, s, differencing, scaled=True):
    """The split-conformal factor of ``AutoARIMA(intervals='conformal')``, window by window.

    For every series with finalists (``(p, q, P, Q, constant)``, best first; empty:
    skipped) and every window ``w = 1 .. n_windows``: the series without its last
    ``w * h`` values gets its differencing orders ``(d, D) = differencing(shortened)``
    anew; every finalist keeps its ARMA orders (season ``s`` when ``P``, ``D`` or ``Q`` is
    positive) and its constant if it has one (``'c'`` when ``d + D = 0``, drift ``'t'``
    when ``d + D = 1``, none beyond) and is fitted alone by ``tsconv.fit_arima`` (skipped
    when it refuses the shortened series); its AICc counts when the fit converged and
    every AR and MA root lies beyond 1.01 in modulus, else it is infinite. The finalist
    with the smallest AICc (the earlier one on ties, so the first fitted one when all are
    infinite) is forecast ``h`` steps, the scores ``|actual - mean| / (r * se)`` appended
    one by one, ``r`` the :func:`recent_scale` of that fit's residuals with ``m = h`` (1
    when not ``scaled``). The factor is the ``ceil((N + 1) * level / 100)``-th smallest of the ``N``
    scores (``inf`` when that exceeds ``N``).
    """
    import math
    import warnings

    from tsconv import fit_arima

    scores = []
    for y, cands in zip(series, finalists):
        for w in range(1, n_windows + 1):
            n = len(y) - w * h
            if not cands or n < 2 or max(y[:n]) == min(y[:n]):
                continue
            d, D = differencing(y[:n])
            chosen = None
            for p, q, P, Q, constant in cands:
                tr = "n" if not constant or d + D > 1 else ("c" if d + D == 0 else "t")
                seasonal = P or D or Q
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        f = fit_arima(list(y[:n]), (p, d, q), (P, D, Q, s if seasonal else 0), tr)
                        fc = f.forecast(h)
                except ValueError:
                    continue
                roots = f.roots()
                far = all(abs(complex(z)) > 1.01 for z in list(roots["ar"]) + list(roots["ma"]))
                crit = float(f.aicc) if f.converged and far and math.isfinite(f.aicc) else math.inf
                if chosen is None or crit < chosen[0]:
                    chosen = (crit, fc, f)
            if chosen is None:
                continue
            fc = chosen[1]
            r = recent_scale(chosen[2].resid, h) if scaled else 1.0
            for j in range(h):
                se = float(fc.se[j]) * r
                if se > 0 and math.isfinite(se):
                    scores.append(abs(float(y[n + j]) - float(fc.mean[j])) / se)
    scores.sort()
    r = math.ceil((len(scores) + 1) * level / 100.0 - 1e-9)
    return scores[r - 1] if 1 <= r <= len(scores) else math.inf


def bartlett_length(u, v):
    """Bartlett's effective length of the correlation of ``u`` with ``v`` (equal lengths):
    ``n / sum_k rho_u(k) rho_v(k)`` over every lag ``|k| < n``, each ``rho`` the sample
    autocorrelation of the centred signal (``sum_t x_t x_{t+k} / sum_t x_t^2``), by its
    definition lag by lag (Bartlett 1935; Box, Jenkins and Reinsel, Time Series Analysis,
    eq. 11.1.7)."""
    import math

    u = [float(a) for a in u]
    v = [float(b) for b in v]
    n = len(u)
    mu, mv = sum(u) / n, sum(v) / n
    du, dv = [a - mu for a in u], [b - mv for b in v]
    su, sv = math.fsum(a * a for a in du), math.fsum(b * b for b in dv)
    total = 0.0
    for k in range(-(n - 1), n):
        lo, hi = max(0, -k), min(n, n - k)
        ru = math.fsum(du[t] * du[t + k] for t in range(lo, hi)) / su
        rv = math.fsum(dv[t] * dv[t + k] for t in range(lo, hi)) / sv
        total += ru * rv
    return n / total


def frame_peaks(rows, per):
    """Each frame of ``per`` values of each row: (first position of the largest, largest, smallest)."""
    out = []
    for row in rows:
        frames = []
        for f in range(len(row) // per):
            vals = list(row[f * per : (f + 1) * per])
            hi = max(vals)
            frames.append((vals.index(hi), hi, min(vals)))
        out.append(frames)
    return out


def log_chance_correlation_tail(score, m):
    """ln P(r >= score) for one lag of ``m`` independent Gaussian pairs, ``(r + 1) / 2 ~
    Beta(m/2 - 1, m/2 - 1)``, by quadrature of the density scaled by its value at the
    boundary (so that nothing underflows): ``ln f(x) + ln int_x^1 f(t) / f(x) dt``."""
    import math

    import scipy.integrate

    a = m / 2.0 - 1.0
    x = (score + 1.0) / 2.0
    log_b = 2 * math.lgamma(a) - math.lgamma(2 * a)

    def log_f(t):
        return (a - 1) * math.log(t) + (a - 1) * math.log1p(-t) - log_b

    ref = log_f(x)
    # beyond x > 1/2 the density falls at least as fast as exp(-rate (t - x)) (log f is
    # concave): past 60 / rate the rest is below e^-60 of the integral
    rate = (a - 1) * (1 / (1 - x) - 1 / x)
    hi = 1.0 if rate <= 0 else min(1.0, x + 60.0 / rate)
    # f(t) / f(x) from the ratios t / x and (1 - t) / (1 - x), without cancellation
    val, _ = scipy.integrate.quad(lambda t: math.exp((a - 1) * (math.log1p((t - x) / x) + math.log1p(-(t - x) / (1 - x)))),
                                  x, hi, epsabs=0.0, epsrel=1e-12, limit=500)
    return ref + math.log(val)
