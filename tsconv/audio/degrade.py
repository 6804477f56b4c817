"""Seeded degradations of audio: the tools of the matcher's evaluation.

Every function takes a 1-D signal and returns a new float64 array; the random ones take a
``seed`` (an int or a ``numpy.random.Generator``) so that an evaluation is repeatable.

- :func:`add_noise`: white, pink or brown Gaussian noise at a given SNR (dB);
- :func:`peaking_eq` / :func:`random_eq`: second-order peaking filters (RBJ cookbook);
- :func:`gain`: a gain in dB;
- :func:`resample`: change of sample rate (polyphase, ``scipy.signal.resample_poly``);
- :func:`speed`: play faster or slower (pitch changes too, like a tape or a turntable);
- :func:`clip`: hard clipping at a fraction of the peak;
- :func:`band_limit`: a Butterworth high-, low- or band-pass (a phone line, a small speaker);
- :func:`room`: a short synthetic room impulse response;
- :func:`speaker_room`: a speaker, a room and a microphone's noise in one chain.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

import numpy as np
import scipy.signal
from numpy.typing import ArrayLike, NDArray

from tsconv._validation import as_float_array, as_int, check_option, is_real

__all__ = ["NoiseColor", "add_noise", "colored_noise", "peaking_eq", "random_eq", "gain", "resample", "speed", "clip",
           "band_limit", "room", "speaker_room"]

NoiseColor = Literal["white", "pink", "brown"]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _signal(x: ArrayLike) -> NDArray[np.float64]:
    return np.array(as_float_array(x, "x", ndim=1, keep_float32=False, finite=True), dtype=np.float64)


def _real(value: float, name: str, *, positive: bool = False) -> float:
    """A finite real number (NumPy's too, not a bool); ``positive``: above 0."""
    if not is_real(value) or not math.isfinite(value) \
            or (positive and not value > 0):
        raise ValueError(f"{name} must be a finite{' positive' if positive else ''} number, got {value!r}")
    return float(value)


def colored_noise(n: int, color: NoiseColor = "white", seed: int | np.random.Generator | None = None) -> NDArray[np.float64]:
    """Unit-variance Gaussian noise whose power spectrum falls as ``1/f**beta``.

    ``beta`` is 0 (white), 1 (pink) or 2 (brown); shaped in the frequency domain, the DC
    bin set to zero.

    Examples
    --------
    >>> z = colored_noise(4096, "pink", seed=0)
    >>> z.shape, round(float(z.std()), 6)
    ((4096,), 1.0)
    """
    check_option(color, NoiseColor, "color")
    n = as_int(n, "n", minimum=1)
    rng = _rng(seed)
    white = rng.standard_normal(n)
    if color == "white":
        out = white
    else:
        beta = {"pink": 1.0, "brown": 2.0}[color]
        spec = np.fft.rfft(white)
        f = np.fft.rfftfreq(n)
        f[0] = np.inf  # no DC
        spec *= f ** (-beta / 2)
        out = np.fft.irfft(spec, n)
    out = out - out.mean()
    sd = out.std()
    return out / sd if sd > 0 else out


def add_noise(
    x: ArrayLike, snr_db: float, color: NoiseColor = "white", seed: int | np.random.Generator | None = None
) -> NDArray[np.float64]:
    """Add Gaussian noise so that ``10 log10(P_signal / P_noise) = snr_db``.

    The signal power is the mean square of ``x`` over the whole clip.

    Examples
    --------
    >>> x = np.sin(np.arange(8000) * 0.1)
    >>> y = add_noise(x, -10.0, "white", seed=0)
    >>> round(float(10 * np.log10(np.mean(x**2) / np.mean((y - x)**2))), 6)
    -10.0
    """
    x = _signal(x)
    snr_db = _real(snr_db, "snr_db")
    p = float(np.mean(x**2))
    noise = colored_noise(x.size, color, seed)
    noise *= np.sqrt(p / np.mean(noise**2) * 10 ** (-snr_db / 10)) if p > 0 else 0.0
    return x + noise


def _peaking_sos(sr: float, f0: float, gain_db: float, q: float) -> NDArray[np.float64]:
    # Robert Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients".
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / sr
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a])
    return np.concatenate([b / den[0], den / den[0]])[None, :]


def peaking_eq(x: ArrayLike, sr: float, f0: float, gain_db: float, q: float = 1.0) -> NDArray[np.float64]:
    """A peaking (bell) equaliser of ``gain_db`` at ``f0`` Hz with quality ``q`` (RBJ cookbook).

    Examples
    --------
    >>> y = peaking_eq(np.ones(100), 8000, 1000.0, 6.0)
    >>> round(float(y[-1]), 6)  # DC passes unchanged
    1.0
    """
    x = _signal(x)
    sr, f0, gain_db, q = _real(sr, "sr", positive=True), _real(f0, "f0"), _real(gain_db, "gain_db"), _real(q, "q", positive=True)
    if not 0 < f0 < sr / 2:
        raise ValueError(f"f0 must be in (0, sr/2) = (0, {sr / 2}), got {f0}")
    return scipy.signal.sosfilt(_peaking_sos(sr, f0, gain_db, q), x)


def random_eq(
    x: ArrayLike, sr: float, max_db: float = 12.0, n_bands: int = 3, seed: int | np.random.Generator | None = None
) -> NDArray[np.float64]:
    """``n_bands`` peaking filters at log-uniform centres (60 Hz to 0.45 sr) with gains uniform in ±max_db."""
    rng = _rng(seed)
    y = _signal(x)
    sr, max_db, n_bands = _real(sr, "sr", positive=True), _real(max_db, "max_db"), as_int(n_bands, "n_bands", minimum=0)
    if 0.45 * sr <= 60.0:
        raise ValueError(f"sr must be above {60.0 / 0.45:.0f} Hz for bands from 60 Hz to 0.45 sr, got {sr!r}")
    for _ in range(n_bands):
        f0 = float(np.exp(rng.uniform(np.log(60.0), np.log(0.45 * sr))))
        y = peaking_eq(y, sr, f0, float(rng.uniform(-max_db, max_db)), float(rng.uniform(0.5, 2.0)))
    return y


def gain(x: ArrayLike, db: float) -> NDArray[np.float64]:
    """Multiply by ``10**(db/20)``."""
    return _signal(x) * 10 ** (_real(db, "db") / 20)


def _ratio(factor: float | Fraction, max_den: int = 100_000) -> Fraction:
    """``factor`` as the ratio ``up / down`` of ``resample_poly``: exact when it is a
    fraction of denominator at most ``max_den`` (44101 / 44100), else the closest such
    (relative error below ``1 / max_den**2`` away from simple fractions). A denominator of
    4000 made ``speed(x, 1.0001)`` a copy and played ``speed(x, 1.00015)`` 1.00025 times
    fast: near 1 its fractions are 2.5e-4 apart. ``resample_poly``'s filter has about
    ``20 max(up, down)`` taps (16 MB at the bound)."""
    return Fraction(factor).limit_denominator(max_den)


def resample(x: ArrayLike, sr_in: float, sr_out: float) -> NDArray[np.float64]:
    """Resample from ``sr_in`` to ``sr_out`` Hz (polyphase filter, ``scipy.signal.resample_poly``).

    Integer rates are resampled by their exact ratio (``44100 -> 44101``: 44101 / 44100).

    Examples
    --------
    >>> resample(np.zeros(44100), 44100, 44101).shape
    (44101,)
    """
    x = _signal(x)
    sr_in, sr_out = _real(sr_in, "sr_in", positive=True), _real(sr_out, "sr_out", positive=True)
    exact = float(sr_in).is_integer() and float(sr_out).is_integer()
    r = _ratio(Fraction(int(sr_out), int(sr_in)) if exact else sr_out / sr_in)
    if r == 1:
        return x.copy()
    return scipy.signal.resample_poly(x, r.numerator, r.denominator)


def speed(x: ArrayLike, factor: float) -> NDArray[np.float64]:
    """Play ``factor`` times faster (``factor=1.005``: 0.5% fast, shorter and higher).

    Examples
    --------
    >>> speed(np.zeros(2010), 1.005).shape
    (2000,)
    >>> speed(np.zeros(10001), 1.0001).shape
    (10000,)
    """
    if not 0.5 <= _real(factor, "factor") <= 2.0:
        raise ValueError(f"factor must be in [0.5, 2], got {factor}")
    x = _signal(x)
    r = _ratio(1.0 / factor)
    if r == 1:
        return x.copy()
    return scipy.signal.resample_poly(x, r.numerator, r.denominator)


def clip(x: ArrayLike, level: float = 0.5) -> NDArray[np.float64]:
    """Hard-clip at ``level`` times the peak absolute value (``0 < level <= 1``)."""
    x = _signal(x)
    if not 0 < _real(level, "level") <= 1:
        raise ValueError(f"level must be in (0, 1], got {level}")
    lim = level * float(np.max(np.abs(x)))
    return np.clip(x, -lim, lim)


def band_limit(x: ArrayLike, sr: float, low: float | None = None, high: float | None = None, order: int = 4) -> NDArray[np.float64]:
    """A Butterworth filter of ``order`` keeping ``low`` .. ``high`` Hz (``scipy.signal.butter``, causal).

    ``low`` only: a high-pass; ``high`` only: a low-pass; both: a band-pass (each edge of
    order ``order``: the phone band is ``band_limit(x, sr, 300, 3400)``). An edge at or
    above ``sr / 2`` is left out.

    Examples
    --------
    >>> y = band_limit(np.ones(4000), 8000, low=300.0)
    >>> abs(float(y[-1])) < 1e-6  # DC is removed
    True
    """
    x = _signal(x)
    sr, order = _real(sr, "sr", positive=True), as_int(order, "order", minimum=1)
    for name, v in (("low", low), ("high", high)):
        if v is not None:
            _real(v, name, positive=True)
    if high is not None and high >= sr / 2:
        high = None
    if low is not None and low >= sr / 2:
        raise ValueError(f"low must be below sr/2 = {sr / 2}, got {low}")
    if low is not None and high is not None and not low < high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    if low is None and high is None:
        return x.copy()
    if low is not None and high is not None:
        sos = scipy.signal.butter(order, [low, high], "bandpass", fs=sr, output="sos")
    elif low is not None:
        sos = scipy.signal.butter(order, low, "highpass", fs=sr, output="sos")
    else:
        sos = scipy.signal.butter(order, high, "lowpass", fs=sr, output="sos")
    return scipy.signal.sosfilt(sos, x)


def room(x: ArrayLike, sr: float, rt60: float = 0.3, length: float = 0.15, reflections: float = 0.3,
         seed: int | np.random.Generator | None = None) -> NDArray[np.float64]:
    """Convolve with a short synthetic room impulse response (length kept).

    The response is a direct path of 1 followed by Gaussian reflections decaying by 60 dB
    in ``rt60`` seconds, ``reflections`` their initial amplitude, cut at ``length`` seconds.

    Examples
    --------
    >>> float(room(np.r_[1.0, np.zeros(99)], 8000, seed=0)[0])  # the direct path
    1.0
    """
    x = _signal(x)
    sr, rt60, length = _real(sr, "sr", positive=True), _real(rt60, "rt60", positive=True), _real(length, "length", positive=True)
    reflections = _real(reflections, "reflections")
    n = max(int(length * sr), 1)
    t = np.arange(n) / sr
    h = _rng(seed).standard_normal(n) * reflections * np.exp(-t * np.log(1000.0) / rt60)
    h[0] = 1.0
    return scipy.signal.fftconvolve(x, h)[: x.size]


def speaker_room(x: ArrayLike, sr: float, snr_db: float = 10.0, seed: int | np.random.Generator | None = None) -> NDArray[np.float64]:
    """A clip played on a small speaker in a room and recorded: :func:`band_limit` 150-6000 Hz,
    :func:`room` (``rt60`` 0.3 s), then white noise at ``snr_db``.

    Examples
    --------
    >>> speaker_room(np.sin(np.arange(8000) * 0.3), 8000, seed=0).shape
    (8000,)
    """
    rng = _rng(seed)
    return add_noise(room(band_limit(x, sr, 150.0, 6000.0), sr, seed=rng), snr_db, "white", seed=rng)
