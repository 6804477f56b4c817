"""Private machinery of normalized cross-correlation: the plan and the running sums.

``NCCPlan`` holds everything that depends only on the needle (its centred, unit-norm
spectrum for one block length, an :class:`tsconv._fftcore.OverlapSave` plan);
``NCCPlan.run_into`` correlates it with an array or a memory map straight into the output, ``NCCPlan.blocks`` with an iterable of chunks,
yielding the output in pieces; the working set is bounded by one batch of blocks per
thread.

Layout of one batch: block ``b`` covers haystack samples ``[b*step, b*step + L)`` and
produces outputs ``[b*step, (b+1)*step)`` where ``step = L - m + 1`` (overlap-save: the
first ``step`` samples of the circular correlation are free of wrap-around). A batch is
``batch`` consecutive blocks; batches are aligned on global block numbers, so how the
haystack is chunked never changes a single bit of the output.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tsconv._fftcore import OverlapSave, block_view, pow2_block

__all__ = ["NCCPlan", "block_length", "window_norms"]


MIN_BLOCK = 1 << 10
# A batch of blocks is transformed at once (one 2-D rfft/irfft call); about 1M samples
# per batch amortise the per-call overhead and keep the working set of each thread near
# 30 MB.
BATCH_SAMPLES = 1 << 20
# Window sums restart every STATS_CHUNK outputs (bounded rounding, cache-sized pieces).
STATS_CHUNK = 1 << 18


def block_length(m: int) -> int:
    """Overlap-save FFT length for an ``m``-tap needle: a power of two >= 8 m.

    About 8 needle lengths per block (a 3 s needle at 8 kHz gets 2^18): the wasted
    overlap is then at most 1/8 of each block, while the FFT cost per output grows
    only with ``log L``. It depends on the needle alone, so a haystack streamed in
    chunks and the same haystack in one array go through identical blocks.
    """
    return pow2_block(m, 8, MIN_BLOCK)


def window_norms(
    x: NDArray[np.floating], m: int, out: NDArray[np.floating], lo: int, hi: int, scratch: dict[str, Any] | None = None
) -> None:
    """Root sum of squared deviations from the mean of every window of ``m`` samples.

    Writes ``sqrt(sum_j (x[k+j] - mean_k)^2)`` for ``lo <= k < hi`` into ``out[k]``, and
    ``inf`` for a window flat within rounding (so that ``num / out`` is 0).
    ``lo`` must be a multiple of ``STATS_CHUNK``: the restarts then fall on the same
    samples however the range is split (between threads), and so do the bits.
    ``scratch``: a dict this function keeps its work arrays in between calls (one per
    thread), so that repeated calls do not page in fresh memory every time.

    The window sums ``S1 = sum x`` and ``S2 = sum x^2`` are differences of prefix sums
    in float64, restarted every ``chunk`` outputs (re-anchored: the rounding error is
    bounded by ``chunk + m`` samples, never by the haystack length) and taken about an
    anchor at the chunk's median (of a sample), so that ``S2 - S1^2 / m`` does not cancel
    (an outlier would pull a mean away from the data). A window is flat when its
    variance is below the rounding its own prefix sums carry.
    """
    chunk = STATS_CHUNK
    eps = np.finfo(np.float64).eps
    width = chunk + m - 1
    ws = {} if scratch is None else scratch
    if ws.get("width") != width:
        # x and x^2 side by side as the real and imaginary parts of one complex array: a
        # single cumsum then gives both prefix sums at the cost of one (the two sums are
        # independent chains the CPU runs in parallel)
        ws.update(
            width=width,
            z=np.empty(width, np.complex128),
            c=np.empty(width + 1, np.complex128),
            d=np.empty(chunk, np.complex128),
            sxx=np.empty(chunk, np.float64),
            flat=np.empty(chunk, dtype=bool),
        )
        ws["c"][0] = 0.0  # the prefix sums start at zero
    z, c = ws["z"], ws["c"]
    pairs = z.view(np.float64).reshape(-1, 2)
    inv_m = 1.0 / m
    for s in range(lo, hi, chunk):
        n = min(chunk, hi - s)
        seg = x[s : s + n + m - 1]
        k = seg.size
        # the median: an outlier (a sentinel) in the sample would pull a mean far from the
        # data, and every window would cancel about it
        anchor = float(np.median(seg[:: max(1, k // 4096)]))
        np.subtract(seg, anchor, out=pairs[:k, 0])
        np.square(pairs[:k, 0], out=pairs[:k, 1])
        cc = c[: k + 1]
        np.cumsum(z[:k], out=cc[1:])
        d = np.subtract(cc[m : m + n], cc[:n], out=ws["d"][:n])  # window sums: S1 + i S2
        sxx = np.square(d.real, out=ws["sxx"][:n])
        sxx *= -inv_m
        sxx += d.imag  # S2 - S1^2 / m
        # a window's sums carry an absolute error of a few eps * (the prefix sum of
        # squares at its end): below that the window is flat (constant stretch, digital
        # silence) and gets inf. First against the chunk's total (one compare), then, for
        # the few below it, against their own prefix: a window before a loud passage (a
        # -99999 sentinel in data of scale 1e-3) does not carry its rounding, and was
        # taken for flat (NCC 0 at an exact copy 14,000 samples before the sentinel)
        flat = np.less_equal(sxx, 64.0 * eps * float(cc[-1].imag), out=ws["flat"][:n])
        if flat.any():  # rare: a masked sqrt would cost 4x a plain one on every chunk
            idx = np.flatnonzero(flat)
            flat[idx[sxx[idx] > 64.0 * eps * cc[m + idx].imag]] = False
            sxx[flat] = np.inf
        np.sqrt(sxx, out=out[s : s + n], casting="same_kind")


class NCCPlan:
    """Normalized cross-correlation of one needle, ready to run on any haystack.

    Parameters
    ----------
    needle : ndarray
        1-D, finite, not constant; float32 or float64 (the working precision).
    block : int or None
        FFT block length (>= 2 * len(needle)); ``None`` picks one.
    workers : int
        Threads: up to ``workers`` batches of blocks are correlated and normalized at
        once (numpy and scipy.fft release the GIL). Call :meth:`close` when done.
    """

    def __init__(self, needle: NDArray[np.floating], block: int | None = None, workers: int = 1) -> None:
        self.dtype = needle.dtype
        self.m = m = int(needle.size)
        L = block_length(m) if block is None else int(block)
        self.L = L
        self.step = L - m + 1
        self.batch = max(1, BATCH_SAMPLES // L)
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers) if workers >= 2 else None
        self._local = threading.local()
        q = needle.astype(np.float64)
        q = q - q.mean()
        q /= np.sqrt(np.dot(q, q))
        # the numerator is a correlation with q: the core's plan keeps conj(rfft(q, L))
        self.ols = OverlapSave(q.astype(self.dtype), L, correlate=True)

    def _run(self, x: NDArray[np.floating], rows: int, out: NDArray[np.floating]) -> None:
        """Write the NCC of the windows starting in ``x[: rows * step]`` (fewer at the end) into ``out``."""
        L, step, m = self.L, self.step, self.m
        n_out = min(rows * step, x.shape[0] - m + 1)
        ws = self._workspace()
        if ws.get("rows") != rows:
            ws.update(
                rows=rows,
                den=np.empty(rows * step, self.dtype),
                seg=np.empty((rows, L), self.dtype),
            )
        den, seg = ws["den"], ws["seg"]
        den[n_out:] = np.inf
        blocks = block_view(x, 0, rows, L, step)  # zeros past the end of x
        # shift each block by (about) its mean: the NCC does not see it, and the float32
        # FFT stays away from a large DC term; a short last block is padded with zeros
        # after the shift (they only feed outputs that are cut off)
        size = np.minimum(L, x.shape[0] - np.arange(rows) * step)
        anchors = np.array([blocks[i, : size[i] : max(1, size[i] // 4096)].mean(dtype=np.float64) for i in range(rows)])
        np.subtract(blocks, anchors.astype(self.dtype)[:, None], out=seg)
        for i in np.flatnonzero(size < L):
            seg[i, size[i] :] = 0.0
        num = self.ols.run(seg, workers=1, overwrite=True)
        window_norms(x, m, den, 0, n_out, ws)
        if n_out == rows * step:  # straight into the caller's output
            res = out[:n_out].reshape(rows, step)
            np.divide(num, den.reshape(rows, step), out=res)
        else:
            res = out[:n_out]
            res[...] = (num / den.reshape(rows, step)).reshape(-1)[:n_out]
        np.clip(res, -1.0, 1.0, out=res)

    def _workspace(self) -> dict[str, Any]:
        """This thread's work arrays, kept between batches (fresh pages cost a fault each)."""
        ws = getattr(self._local, "ws", None)
        if ws is None:
            ws = self._local.ws = {}
        return ws

    def close(self) -> None:
        """Stop the threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _batches(self, source: Iterable[NDArray[np.floating]]) -> Iterator[tuple[int, NDArray[np.floating], int]]:
        """``(start, piece, rows)`` of consecutive batches of a stream of chunks."""
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
                yield start, buf[:span], rows_per
                buf = buf[rows_per * step :]
                start += rows_per * step
            pending, held = [buf], buf.size
        buf = np.concatenate(pending) if len(pending) > 1 else (pending[0] if pending else np.empty(0, self.dtype))
        n_out = buf.size - m + 1
        if n_out > 0:
            yield start, buf, -(-n_out // step)

    def blocks(self, source: Iterable[NDArray[np.floating]]) -> Iterator[tuple[int, NDArray[np.floating]]]:
        """Yield ``(start, values)``: consecutive pieces of the NCC output.

        ``source`` yields 1-D chunks of the haystack (already validated, of this plan's
        dtype). Batches are read in order and up to ``workers`` of them are correlated
        at once, so at most that many batches plus one chunk are held at a time.
        """
        in_flight: deque[tuple[int, NDArray[np.floating], Any]] = deque()
        for start, piece, rows in self._batches(source):
            vals = np.empty(min(rows * self.step, piece.size - self.m + 1), dtype=self.dtype)
            if self._pool is None:
                self._run(piece, rows, vals)
                yield start, vals
                continue
            in_flight.append((start, vals, self._pool.submit(self._run, piece, rows, vals)))
            if len(in_flight) >= self.workers:
                first, done, future = in_flight.popleft()
                future.result()
                yield first, done
        while in_flight:
            first, done, future = in_flight.popleft()
            future.result()
            yield first, done

    def run_into(self, h: Any, convert: Any, out: NDArray[np.floating]) -> None:
        """The NCC of an array or memory map ``h`` into ``out`` (length ``len(h) - m + 1``).

        ``convert(piece, offset)`` validates a slice and casts it to the plan's dtype. The
        batches are those of :meth:`blocks` (the same bits whatever the path); with
        several workers they run at once, each reading its own slice of ``h``.
        """
        step, m, rows_per = self.step, self.m, self.batch
        n_out = h.shape[0] - m + 1

        def one(start: int) -> None:
            piece = convert(h[start : start + rows_per * step + m - 1], start)
            self._run(piece, min(rows_per, -(-(n_out - start) // step)), out[start : start + rows_per * step])

        starts = range(0, n_out, rows_per * step)
        if self._pool is None or len(starts) == 1:
            for start in starts:
                one(start)
        else:
            for future in [self._pool.submit(one, start) for start in starts]:
                future.result()  # in order: the first error raised is the earliest


def array_chunks(x: Any, size: int) -> Iterator[NDArray[Any]]:
    """Consecutive slices of an array (a memory map is read slice by slice)."""
    for i in range(0, x.shape[0], size):
        yield x[i : i + size]
