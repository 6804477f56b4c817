"""Private machinery of whitening: the one Welch power spectrum of tsconv, batched.

``scipy.signal.welch`` transforms one segment at a time (1.2 s for 10 minutes of 8 kHz
audio with 257-sample segments, measured here); :func:`welch_psd` transforms a batch of
segments per ``scipy.fft.rfft`` call and returns the same numbers. :class:`tsconv.Whitener`
and the audio matcher (tracks, clips, the stored autocorrelation) use it.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal
from numpy.typing import NDArray

__all__ = ["welch_psd"]

# segments transformed per rfft call: a few MB of frames at a time
_FRAMES_PER_BATCH = 4096


def welch_psd(x: NDArray[np.floating], nperseg: int, nfft: int | None = None, *, noverlap: int | None = None,
              onesided: bool = True, max_segments: int | None = None) -> NDArray[np.float64]:
    """``scipy.signal.welch(x, nperseg=nperseg, nfft=nfft, noverlap=noverlap)[1]`` (fs = 1), in batches.

    Hann window, hop ``nperseg - noverlap`` (``noverlap`` defaults to ``nperseg // 2``, as
    scipy's), each segment's mean removed (``detrend='constant'``), density scaling:
    ``|X|^2 / sum(w^2)`` averaged over the segments. ``onesided=True`` doubles every bin
    but 0 and the Nyquist frequency (scipy's default); ``onesided=False`` does not: the
    two-sided density at the non-negative frequencies, the first ``nfft // 2 + 1`` bins of
    scipy's ``return_onesided=False``. ``max_segments``: when ``x`` has more segments than
    that, only every ``ceil(segments / max_segments)``-th is used (evenly spaced: the
    spectrum of a long signal does not need every segment). ``x`` must hold at least
    ``nperseg`` samples. Pinned against scipy in tests/test_whiten.py.
    """
    x = np.asarray(x, dtype=np.float64)
    nfft = nperseg if nfft is None else nfft
    noverlap = nperseg // 2 if noverlap is None else noverlap
    hop = nperseg - noverlap
    frames = np.lib.stride_tricks.sliding_window_view(x, nperseg)[::hop]
    if max_segments is not None and frames.shape[0] > max_segments:
        frames = frames[:: -(-frames.shape[0] // max_segments)]
    w = scipy.signal.get_window("hann", nperseg)
    total = np.zeros(nfft // 2 + 1)
    for i in range(0, frames.shape[0], _FRAMES_PER_BATCH):
        batch = frames[i : i + _FRAMES_PER_BATCH]
        batch = (batch - batch.mean(axis=1, keepdims=True)) * w
        spec = scipy.fft.rfft(batch, nfft, axis=1)
        total += np.add.reduce(spec.real**2 + spec.imag**2, axis=0)
    psd = total / (frames.shape[0] * float(np.dot(w, w)))
    if onesided:
        psd[1 : (nfft + 1) // 2] *= 2.0  # every bin but DC (and Nyquist, even nfft)
    return psd
