"""Audio input: decode with libsndfile (``soundfile``), mix to mono, resample (polyphase)."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.signal
from numpy.typing import ArrayLike, NDArray

from tsconv._validation import as_float_array

__all__ = ["load", "to_mono", "resample_to", "MIN_SR", "MAX_SR"]


#: Sample rates accepted anywhere in :mod:`tsconv.audio` (Hz, inclusive). Outside this range a
#: file's header is almost certainly wrong (a WAV declaring 1 Hz would be resampled 8000-fold).
MIN_SR, MAX_SR = 1_000, 384_000


def _check_sr(sr: Any, name: str = "sr") -> int:
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer, float, np.floating)) or not np.isfinite(sr) or sr <= 0:
        raise ValueError(f"{name} must be a positive sample rate in Hz, got {sr!r}")
    if float(sr) != int(sr):
        raise ValueError(f"{name} must be a whole number of Hz, got {sr!r}")
    if not MIN_SR <= sr <= MAX_SR:
        raise ValueError(f"{name} must be a sample rate between {MIN_SR} and {MAX_SR} Hz, got {sr!r}")
    return int(sr)


#: Peaks outside this range are brought to [0.5, 1) by :func:`to_mono` (``rescale=True``):
#: below it the float32 spectra of the matcher underflow (a clip at 1e-30 found nothing), above
#: it float32 overflows (3.4e38) or comes near it. No audio format reaches either end (16-bit
#: PCM's smallest step is 2**-15 of full scale, 32-bit integer PCM peaks at 2**31).
_PEAK_RANGE = (2.0**-16, 2.0**64)


def to_mono(samples: ArrayLike, name: str = "samples", *, rescale: bool = False) -> NDArray[np.float32]:
    """Mix a signal to mono float32: 1-D stays, 2-D ``(frames, channels)`` is averaged.

    A 2-D array with more columns than rows is taken as ``(channels, frames)``.
    ``rescale=True`` multiplies a signal whose peak lies outside ``_PEAK_RANGE`` by the power
    of two that brings it to [0.5, 1) (exact: for consumers whose answers do not depend on
    the level, as the matcher's, which would otherwise lose such a signal in float32).
    """
    x = as_float_array(samples, name, ndim=(1, 2), finite=True)
    if rescale and x.size:
        peak = float(np.max(np.abs(x)))
        if peak > 0.0 and not _PEAK_RANGE[0] <= peak <= _PEAK_RANGE[1]:
            x = np.ldexp(x, -np.frexp(peak)[1])
    if x.ndim == 2:
        axis = 1 if x.shape[1] <= x.shape[0] else 0
        x = x.mean(axis=axis)
    return np.ascontiguousarray(x, dtype=np.float32)


def resample_to(x: NDArray[np.floating], sr_in: int, sr_out: int) -> NDArray[np.float32]:
    """Polyphase resampling ``sr_in -> sr_out`` (exact rational ratio), float32 out."""
    sr_in = _check_sr(sr_in, "sr")
    sr_out = _check_sr(sr_out, "sr_out")
    if sr_in == sr_out:
        return np.asarray(x, dtype=np.float32)
    r = Fraction(sr_out, sr_in)
    y = scipy.signal.resample_poly(np.asarray(x, dtype=np.float32), r.numerator, r.denominator)
    return np.asarray(y, dtype=np.float32)


def load(path: str | os.PathLike[str], sr: int | None = None, mono: bool = True) -> tuple[NDArray[np.float32], int]:
    """Read an audio file with libsndfile: WAV, FLAC, OGG/Vorbis, Opus, AIFF, ...

    Parameters
    ----------
    path : str or path-like
        The file; any format the installed libsndfile decodes.
    sr : int or None, default None
        Resample to this rate (``scipy.signal.resample_poly``); None keeps the file's rate.
    mono : bool, default True
        Average the channels. With ``False`` the result is ``(frames, channels)``.

    Returns
    -------
    samples : ndarray of float32
        1-D (mono) or 2-D ``(frames, channels)``, full scale is 1.0.
    sr : int
        The sample rate of ``samples``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a regular file (a FIFO, a device), libsndfile cannot decode it,
        its sample rate or ``sr`` is not a whole number of Hz in ``[MIN_SR, MAX_SR]``
        (1 kHz to 384 kHz).

    Examples
    --------
    >>> import tempfile, os, numpy as np, soundfile as sf
    >>> d = tempfile.mkdtemp()
    >>> sf.write(os.path.join(d, "a.wav"), np.zeros((4410, 2)), 44100)
    >>> x, rate = load(os.path.join(d, "a.wav"), sr=8000)
    >>> x.shape, rate
    ((800,), 8000)
    """
    import soundfile as sf  # imported here: `import tsconv` must not need libsndfile

    path = os.fspath(path)
    if sr is not None:
        sr = _check_sr(sr)
    if not os.path.exists(path):
        raise FileNotFoundError(f"path does not exist: {path!r}")
    if not os.path.isfile(path):  # a FIFO or a device would block or never end
        raise ValueError(f"cannot decode {path!r}: not a regular file")
    try:
        with sf.SoundFile(path) as fh:
            # the header's rate is checked before any sample is decoded or resampled
            try:
                _check_sr(fh.samplerate, "the file's sample rate")
            except ValueError as exc:
                raise ValueError(f"cannot use audio file {path!r}: {exc}") from None
            data = fh.read(dtype="float32", always_2d=True)
            file_sr = fh.samplerate
    except (RuntimeError, sf.LibsndfileError) as exc:  # libsndfile's "format not recognised" etc.
        raise ValueError(f"cannot decode audio file {path!r}: {exc}") from exc
    x: NDArray[np.float32] = data.mean(axis=1).astype(np.float32) if mono else data
    if sr is not None and sr != file_sr:
        if mono:
            x = resample_to(x, file_sr, sr)
        else:
            x = np.stack([resample_to(c, file_sr, sr) for c in x.T], axis=1)
        file_sr = sr
    return x, int(file_sr)
