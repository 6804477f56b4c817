"""Private machinery of normalized cross-correlation: the overlap-save engine.

``NCCPlan`` holds everything that depends only on the needle (its centred, unit-norm
spectrum for one block length); ``NCCPlan.blocks`` correlates it with a haystack given
as an array, a memory map or an iterable of chunks and yields the output in pieces, with
a working set bounded by one batch of blocks. The audio matcher uses the plan directly
to correlate one needle with many haystacks (the needle spectrum is computed once) and
to keep only the best peaks instead of the whole output.

Layout of one batch: block ``b`` covers haystack samples ``[b*step, b*step + L)`` and
produces outputs ``[b*step, (b+1)*step)`` where ``step = L - m + 1`` (overlap-save: the
first ``step`` samples of the circular correlation are free of wrap-around). A batch is
``batch`` consecutive blocks; batches are aligned on global block numbers, so how the
haystack is chunked never changes a single bit of the output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import scipy.fft
from numpy.typing import NDArray

__all__ = ["NCCPlan", "block_length", "window_norms"]

# Largest FFT block: 2^20 float32 samples keep one batch well inside 200 MB.
MAX_BLOCK = 1 << 20
MIN_BLOCK = 1 << 10
# A batch of blocks is transformed at once (one 2-D rfft/irfft call); about 2M samples
# per batch amortise the per-call overhead and keep the working set near 60 MB.
BATCH_SAMPLES = 1 << 21


def block_length(m: int, n: int) -> int:
    """Overlap-save FFT length for an ``m``-tap needle and an ``n``-sample haystack.

    About 8 needle lengths per block (a 3 s needle at 8 kHz gets 2^18): the wasted
    overlap is then 1/8 of each block, while the FFT cost per output grows only with
    ``log L``. A haystack shorter than that is done in one block.
    """
    target = 1 << int(np.ceil(np.log2(max(8 * m, MIN_BLOCK))))
    target = min(max(target, MIN_BLOCK), max(MAX_BLOCK, 1 << int(np.ceil(np.log2(2 * m)))))
    whole = scipy.fft.next_fast_len(n, real=True)
    return int(min(target, whole))


def window_norms(seg: NDArray[np.floating], m: int, step: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sum of squared deviations from the window mean, for the first ``step`` windows.

    ``seg`` is a (rows, L) batch of blocks, already shifted by a per-row anchor. The
    sums are exclusive prefix sums in float64 restarted at every row, so their rounding
    error is bounded by the block length, never by the haystack length. Returns
    ``(sxx, scale)`` where ``scale`` is the per-row rounding floor used to decide that
    a window has zero variance.
    """
    rows, L = seg.shape
    x = seg.astype(np.float64)
    cs = np.empty((rows, L + 1))
    cs[:, 0] = 0.0
    np.cumsum(x, axis=1, out=cs[:, 1:])
    s1 = cs[:, m : m + step] - cs[:, :step]
    np.square(x, out=x)
    np.cumsum(x, axis=1, out=cs[:, 1:])
    total_sq = cs[:, -1].copy()
    s2 = cs[:, m : m + step] - cs[:, :step]
    s1 *= s1
    s1 /= m
    s2 -= s1
    # the prefix sums carry an absolute error of a few eps * (sum of squares of the row)
    scale = 64.0 * np.finfo(np.float64).eps * (total_sq + 1e-300)
    return s2, scale


class NCCPlan:
    """Normalized cross-correlation of one needle, ready to run on any haystack.

    Parameters
    ----------
    needle : ndarray
        1-D, finite, not constant; float32 or float64 (the working precision).
    n_hint : int
        Expected haystack length (chooses the block length; any haystack works).
    block : int or None
        FFT block length (>= 2 * len(needle)); ``None`` picks one.
    workers : int
        ``workers`` of ``scipy.fft`` (rows of a batch are transformed in parallel).
    """

    def __init__(self, needle: NDArray[np.floating], n_hint: int, block: int | None = None, workers: int = 1) -> None:
        self.dtype = needle.dtype
        self.m = m = int(needle.size)
        L = block_length(m, max(n_hint, m)) if block is None else int(block)
        self.L = L
        self.step = L - m + 1
        self.batch = max(1, BATCH_SAMPLES // L)
        self.workers = workers
        q = needle.astype(np.float64)
        q = q - q.mean()
        q /= np.sqrt(np.dot(q, q))
        self.spectrum = np.conj(scipy.fft.rfft(q.astype(self.dtype), n=L))

    def _batch(self, seg: NDArray[np.floating]) -> NDArray[np.floating]:
        """NCC outputs of a (rows, L) batch: (rows, step)."""
        m, step = self.m, self.step
        # anchor each row at its mean: DC does not change the NCC, and removing it keeps
        # the FFT and the sums of squares away from cancellation
        anchor = seg.mean(axis=1, dtype=np.float64)
        seg -= anchor.astype(seg.dtype)[:, None]
        spec = scipy.fft.rfft(seg, axis=1, workers=self.workers)
        spec *= self.spectrum
        num = scipy.fft.irfft(spec, n=self.L, axis=1, workers=self.workers)[:, :step]
        sxx, floor = window_norms(seg, m, step)
        flat = sxx <= floor[:, None]
        sxx[flat] = 1.0
        np.sqrt(sxx, out=sxx)
        out = num / sxx.astype(self.dtype)
        out[flat] = 0.0
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def blocks(self, source: Iterable[NDArray[np.floating]]) -> Iterator[tuple[int, NDArray[np.floating]]]:
        """Yield ``(start, values)``: consecutive pieces of the NCC output.

        ``source`` yields 1-D chunks of the haystack (already validated, of this plan's
        dtype). At most one batch of blocks plus one chunk is held at a time.
        """
        L, step, m, rows_per = self.L, self.step, self.m, self.batch
        span = rows_per * step + m - 1  # haystack samples one full batch reads
        buf = np.empty(0, dtype=self.dtype)
        start = 0  # global index of buf[0] == first output of the next batch
        for chunk in source:
            buf = np.concatenate([buf, chunk]) if buf.size else np.asarray(chunk)
            while buf.size >= span:
                yield start, self._run(buf[:span], rows_per)
                buf = buf[rows_per * step :]
                start += rows_per * step
        n_out = buf.size - m + 1
        if n_out > 0:
            rows = -(-n_out // step)
            yield start, self._run(buf, rows)[:n_out]

    def _run(self, x: NDArray[np.floating], rows: int) -> NDArray[np.floating]:
        L, step = self.L, self.step
        seg = np.empty((rows, L), dtype=self.dtype)
        for i in range(rows):
            piece = x[i * step : i * step + L]
            seg[i, : piece.size] = piece
            if piece.size < L:
                # pad the last block with its own mean, not zeros: the padding only
                # feeds outputs that are cut off, and the row anchor stays the data's
                seg[i, piece.size :] = piece.mean(dtype=np.float64)
        return self._batch(seg).ravel()


def array_chunks(x: Any, size: int) -> Iterator[NDArray[Any]]:
    """Consecutive slices of an array (a memory map is read slice by slice)."""
    for i in range(0, x.shape[0], size):
        yield x[i : i + size]
