"""Private machinery of whitening: a batched Welch power spectrum.

``scipy.signal.welch`` transforms one segment at a time (1.2 s for 10 minutes of 8 kHz
audio with 257-sample segments, measured here); :func:`welch_psd` transforms a batch of
segments per ``scipy.fft.rfft`` call and returns the same numbers.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal
from numpy.typing import NDArray

__all__ = ["welch_psd"]

# segments transformed per rfft call: a few MB of frames at a time
_FRAMES_PER_BATCH = 4096


def welch_psd(x: NDArray[np.floating], nperseg: int, nfft: int | None = None) -> NDArray[np.float64]:
    """``scipy.signal.welch(x, nperseg=nperseg, nfft=nfft)[1]`` (fs = 1), in batches.

    Hann window, 50% overlap (hop ``nperseg // 2``), each segment's mean removed
    (``detrend='constant'``), one-sided density scaling: ``|X|^2 / sum(w^2)``, doubled
    except at 0 and at the Nyquist frequency, averaged over the segments. ``x`` must hold
    at least ``nperseg`` samples. Pinned against scipy in tests/test_whiten.py.
    """
    x = np.asarray(x, dtype=np.float64)
    nfft = nperseg if nfft is None else nfft
    hop = nperseg - nperseg // 2
    frames = np.lib.stride_tricks.sliding_window_view(x, nperseg)[::hop]
    w = scipy.signal.get_window("hann", nperseg)
    total = np.zeros(nfft // 2 + 1)
    for i in range(0, frames.shape[0], _FRAMES_PER_BATCH):
        batch = frames[i : i + _FRAMES_PER_BATCH]
        batch = (batch - batch.mean(axis=1, keepdims=True)) * w
        spec = scipy.fft.rfft(batch, nfft, axis=1)
        total += np.add.reduce(spec.real**2 + spec.imag**2, axis=0)
    psd = total / (frames.shape[0] * float(np.dot(w, w)))
    psd[1 : (nfft + 1) // 2] *= 2.0  # one-sided: every bin but DC (and Nyquist, even nfft)
    return psd
