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
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.fft
from numpy.typing import NDArray

__all__ = ["NCCPlan", "block_length", "window_norms"]

MIN_BLOCK = 1 << 10
# A batch of blocks is transformed at once (one 2-D rfft/irfft call); about 2M samples
# per batch amortise the per-call overhead and keep the working set near 60 MB.
BATCH_SAMPLES = 1 << 21
# Window sums restart every STATS_CHUNK outputs (bounded rounding, cache-sized pieces).
STATS_CHUNK = 1 << 18
# Share of the window statistics the helper thread takes (the calling thread also runs
# the FFTs, which cost about half as much as the statistics).
HELPER_SHARE = 0.7


def block_length(m: int) -> int:
    """Overlap-save FFT length for an ``m``-tap needle: a power of two >= 8 m.

    About 8 needle lengths per block (a 3 s needle at 8 kHz gets 2^18): the wasted
    overlap is then at most 1/8 of each block, while the FFT cost per output grows
    only with ``log L``. It depends on the needle alone, so a haystack streamed in
    chunks and the same haystack in one array go through identical blocks.
    """
    return int(max(MIN_BLOCK, 1 << int(np.ceil(np.log2(8 * m)))))


def window_norms(x: NDArray[np.floating], m: int, out: NDArray[np.floating], lo: int, hi: int) -> None:
    """Root sum of squared deviations from the mean of every window of ``m`` samples.

    Writes ``sqrt(sum_j (x[k+j] - mean_k)^2)`` for ``lo <= k < hi`` into ``out[k]``,
    which must hold ``inf`` on entry: a window flat within rounding keeps it (so that
    ``num / out`` is 0).
    ``lo`` must be a multiple of ``STATS_CHUNK``: the restarts then fall on the same
    samples however the range is split (between threads), and so do the bits.

    The window sums ``S1 = sum x`` and ``S2 = sum x^2`` are differences of prefix sums
    in float64, restarted every ``chunk`` outputs (re-anchored: the rounding error is
    bounded by ``chunk + m`` samples, never by the haystack length) and taken about an
    anchor near the chunk's mean, so that ``S2 - S1^2 / m`` does not cancel.
    """
    chunk = STATS_CHUNK
    eps = np.finfo(np.float64).eps
    width = min(chunk, hi - lo) + m - 1
    # x and x^2 side by side as the real and imaginary parts of one complex array: a
    # single cumsum then gives both prefix sums at the cost of one (the two sums are
    # independent chains the CPU runs in parallel)
    z = np.empty(width, dtype=np.complex128)
    pairs = z.view(np.float64).reshape(-1, 2)
    c = np.empty(width + 1, dtype=np.complex128)
    c[0] = 0.0
    inv_m = 1.0 / m
    for s in range(lo, hi, chunk):
        n = min(chunk, hi - s)
        seg = x[s : s + n + m - 1]
        k = seg.size
        anchor = float(np.mean(seg[:: max(1, k // 4096)], dtype=np.float64))
        np.subtract(seg, anchor, out=pairs[:k, 0])
        np.square(pairs[:k, 0], out=pairs[:k, 1])
        cc = c[: k + 1]
        np.cumsum(z[:k], out=cc[1:])
        d = cc[m : m + n] - cc[:n]  # window sums: S1 + i S2
        sxx = np.square(d.real)
        sxx *= -inv_m
        sxx += d.imag  # S2 - S1^2 / m
        # the prefix sums carry an absolute error of a few eps * (their total): below
        # that the window is flat (constant stretch, digital silence) and keeps its inf
        floor = 64.0 * eps * float(cc[-1].imag)
        np.sqrt(sxx, out=out[s : s + n], where=sxx > floor, casting="same_kind")


class NCCPlan:
    """Normalized cross-correlation of one needle, ready to run on any haystack.

    Parameters
    ----------
    needle : ndarray
        1-D, finite, not constant; float32 or float64 (the working precision).
    block : int or None
        FFT block length (>= 2 * len(needle)); ``None`` picks one.
    workers : int
        Threads: 1 runs everything in the calling thread; 2 computes the window
        statistics in a helper thread while the FFTs run; more also passes
        ``workers - 1`` to ``scipy.fft``. Call :meth:`close` when done.
    """

    def __init__(self, needle: NDArray[np.floating], block: int | None = None, workers: int = 1) -> None:
        self.dtype = needle.dtype
        self.m = m = int(needle.size)
        L = block_length(m) if block is None else int(block)
        self.L = L
        self.step = L - m + 1
        self.batch = max(1, BATCH_SAMPLES // L)
        self.workers = workers
        self.fft_workers = 1 if workers <= 2 else workers - 1
        self._pool = ThreadPoolExecutor(1) if workers >= 2 else None
        q = needle.astype(np.float64)
        q = q - q.mean()
        q /= np.sqrt(np.dot(q, q))
        self.spectrum = np.conj(scipy.fft.rfft(q.astype(self.dtype), n=L))

    def _run(self, x: NDArray[np.floating], rows: int) -> NDArray[np.floating]:
        """NCC outputs of the windows starting in ``x[: rows * step]`` (fewer at the end)."""
        L, step, m = self.L, self.step, self.m
        n_out = min(rows * step, x.shape[0] - m + 1)
        den = np.full(rows * step, np.inf, dtype=self.dtype)
        # the window statistics and the FFTs are independent: with two workers the helper
        # thread takes most of the statistics while this one does the FFTs and the rest
        # (numpy and scipy.fft release the GIL)
        split = 0
        pending = None
        if self._pool is not None:
            split = int(n_out * HELPER_SHARE) // STATS_CHUNK * STATS_CHUNK
            if split > 0:
                pending = self._pool.submit(window_norms, x, m, den, 0, split)
        seg = np.empty((rows, L), dtype=self.dtype)
        for i in range(rows):
            piece = x[i * step : i * step + L]
            # shift each block by (about) its mean: the NCC does not see it, and the
            # float32 FFT stays away from a large DC term; a short last block is padded
            # with zeros after the shift (they only feed outputs that are cut off)
            anchor = piece[:: max(1, piece.size // 4096)].mean(dtype=np.float64)
            np.subtract(piece, self.dtype.type(anchor), out=seg[i, : piece.size])
            seg[i, piece.size :] = 0.0
        spec = scipy.fft.rfft(seg, axis=1, workers=self.fft_workers)
        del seg
        spec *= self.spectrum
        num = scipy.fft.irfft(spec, n=L, axis=1, workers=self.fft_workers)[:, :step]
        del spec
        window_norms(x, m, den, split, n_out)
        if pending is not None:
            pending.result()
        out = num / den.reshape(rows, step)
        np.clip(out, -1.0, 1.0, out=out)
        return out.reshape(-1)[:n_out]

    def close(self) -> None:
        """Stop the helper thread (if any)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def blocks(self, source: Iterable[NDArray[np.floating]]) -> Iterator[tuple[int, NDArray[np.floating]]]:
        """Yield ``(start, values)``: consecutive pieces of the NCC output.

        ``source`` yields 1-D chunks of the haystack (already validated, of this plan's
        dtype). At most one batch of blocks plus one chunk is held at a time.
        """
        step, m, rows_per = self.step, self.m, self.batch
        span = rows_per * step + m - 1  # haystack samples one full batch reads
        pending: list[NDArray[np.floating]] = []
        held = 0
        start = 0  # global index of the first pending sample == next output
        for chunk in source:
            if chunk.size == 0:
                continue
            pending.append(chunk)
            held += chunk.size
            if held < span:
                continue
            buf = np.concatenate(pending) if len(pending) > 1 else pending[0]
            while buf.size >= span:
                yield start, self._run(buf[:span], rows_per)
                buf = buf[rows_per * step :]
                start += rows_per * step
            pending, held = [buf], buf.size
        buf = np.concatenate(pending) if len(pending) > 1 else (pending[0] if pending else np.empty(0, self.dtype))
        n_out = buf.size - m + 1
        if n_out > 0:
            yield start, self._run(buf, -(-n_out // step))

    def run_array(self, h: Any, convert: Any) -> Iterator[tuple[int, NDArray[np.floating]]]:
        """Like :meth:`blocks` for an array or memory map, read slice by slice.

        ``convert(piece, offset)`` validates a slice and casts it to the plan's dtype.
        The batches are the same as those of :meth:`blocks`, so the output is identical.
        """
        step, m, rows_per = self.step, self.m, self.batch
        n_out = h.shape[0] - m + 1
        for start in range(0, n_out, rows_per * step):
            piece = convert(h[start : start + rows_per * step + m - 1], start)
            yield start, self._run(piece, min(rows_per, -(-(n_out - start) // step)))


def array_chunks(x: Any, size: int) -> Iterator[NDArray[Any]]:
    """Consecutive slices of an array (a memory map is read slice by slice)."""
    for i in range(0, x.shape[0], size):
        yield x[i : i + size]
