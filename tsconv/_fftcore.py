"""Overlap-save: the one FFT block convolution and correlation core.

A long signal ``x`` and a filter ``h`` of ``m`` taps are cut into blocks of ``f`` points
(``f >= m``) that overlap by ``m - 1``: block ``b`` reads ``x[start + b * step :
start + b * step + f]`` with ``step = f - m + 1`` (zeros outside ``x``), and the circular
product of its real FFT with the filter's holds ``step`` outputs free of wrap-around.
Which ones depends on the orientation (:class:`OverlapSave`):

- convolution, ``full[j] = sum_k h[k] x[j - k]``: block outputs ``m - 1 .. f - 1``, so a
  block starting at input ``s`` gives ``full[s + m - 1 : s + f]`` (``lead = m - 1``);
- correlation, ``corr[k] = sum_j h[j] x[k + j]``: block outputs ``0 .. step - 1``, so a
  block starting at ``s`` gives ``corr[s : s + step]`` (``lead = 0``).

The users and what each keeps:

- ``engine.apply`` (FFT path): :meth:`OverlapSave.into` writes an output range of every
  row in place (the engine cuts the range on its block grid between its threads);
  :func:`convolve_single_into` is the one-transform case for short problems.
- ``correlation.ncc``: :class:`OverlapSave` with ``correlate=True`` holds the needle's
  spectrum; the NCC plan gathers its blocks (each shifted by its mean) and adds the
  running sums of the normalization.
- ``audio`` (the catalog index): :class:`BlockSpectra` keeps the low band of the block
  spectra of a long track and correlates any needle spectrum with them, decimated.
- ``audio.matcher`` (whitening FIR): :func:`convolve_full`.

Everything is real FFTs of :mod:`scipy.fft`; ``workers`` is passed to it (the callers
run their own threads over batches of blocks, and pass 1).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import numpy as np
import scipy.fft
import scipy.signal
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

__all__ = ["BlockSpectra", "OverlapSave", "block_view", "convolve_full", "convolve_single_into", "low_band_spectrum", "pow2_block"]


def pow2_block(m: int, per_tap: int, minimum: int) -> int:
    """The power of two at or above ``per_tap * m`` points, at least ``minimum``.

    The wasted overlap is then at most ``1 / per_tap`` of each block, while the FFT cost
    per output grows only with the logarithm of the block.
    """
    return int(max(minimum, 1 << math.ceil(math.log2(per_tap * max(int(m), 1)))))


def block_view(x: NDArray[np.floating], start: int, count: int, f: int, step: int) -> NDArray[np.floating]:
    """``count`` blocks of ``f`` samples of the 1-D ``x``, block ``b`` at ``start + b * step``.

    Zeros outside ``x``. A read-only strided view (no copy) when every block lies inside
    ``x``; otherwise a copy of the span with the zeros filled in.
    """
    n = x.shape[0]
    hi = start + (count - 1) * step + f
    if start >= 0 and hi <= n:
        base = x[start:]
    else:
        base = np.zeros(hi - start, dtype=x.dtype)
        a, b = max(start, 0), min(hi, n)
        if b > a:
            base[a - start : b - start] = x[a:b]
    item = base.strides[0]
    return as_strided(base, shape=(count, f), strides=(step * item, item), writeable=False)


class OverlapSave:
    """One filter's spectrum for overlap-save blocks of ``f`` points.

    Parameters
    ----------
    h : ndarray
        The filter's ``m`` taps (1-D, real), in the working precision.
    f : int
        Block length (FFT size), at least ``m``.
    correlate : bool, default False
        ``False``: convolution ``full[j] = sum_k h[k] x[j - k]``; ``True``: correlation
        ``corr[k] = sum_j h[j] x[k + j]`` (the conjugate spectrum).

    Attributes
    ----------
    m, f, step : int
        Taps, block length, outputs per block (``f - m + 1``).
    lead : int
        Where a block's outputs start in its circular product (``m - 1`` or 0).
    spectrum : ndarray
        ``rfft(h, f)``, conjugated for a correlation.
    """

    def __init__(self, h: NDArray[np.floating], f: int, *, correlate: bool = False) -> None:
        self.m = m = int(h.size)
        self.f = f = int(f)
        if not 1 <= m <= f:
            raise ValueError(f"f must be at least the filter's length, got f={f} for {m} taps")
        self.step = f - m + 1
        self.lead = 0 if correlate else m - 1
        spec = scipy.fft.rfft(h, f)
        self.spectrum = np.conj(spec) if correlate else spec

    def run(self, blocks: NDArray[np.floating], *, workers: int | None = None, overwrite: bool = False) -> NDArray[np.floating]:
        """The ``(count, step)`` outputs of a batch of blocks (``(count, f)``, from :func:`block_view`).

        ``overwrite``: the inverse transform may reuse the spectrum's memory.
        """
        spec = scipy.fft.rfft(blocks, axis=-1, workers=workers)
        spec *= self.spectrum
        y = scipy.fft.irfft(spec, self.f, axis=-1, overwrite_x=overwrite, workers=workers)
        return y[:, self.lead : self.lead + self.step]

    def into(self, x2: NDArray[np.floating], j0: int, j1: int, out: NDArray[np.floating], batch_points: int) -> None:
        """Outputs ``j0 .. j1 - 1`` of every row of ``x2`` (zeros outside it) into ``out``.

        ``out`` is ``(rows, j1 - j0)``. Batches of about ``batch_points`` samples of
        blocks are transformed by one call; the blocks start on the grid ``j0 + b *
        step``, so a range cut on that grid gives the same bits in pieces.
        """
        f, s, lead = self.f, self.step, self.lead
        length = j1 - j0
        nblocks = -(-length // s)
        batch = max(1, batch_points // f)
        for r in range(x2.shape[0]):
            x, o = x2[r], out[r]
            for b0 in range(0, nblocks, batch):
                b1 = min(nblocks, b0 + batch)
                y = self.run(block_view(x, j0 + b0 * s - lead, b1 - b0, f, s))
                k0, k1 = b0 * s, min(b1 * s, length)
                whole = (k1 - k0) // s
                if whole:
                    o[k0 : k0 + whole * s].reshape(whole, s)[...] = y[:whole]
                if k0 + whole * s < k1:
                    o[k0 + whole * s : k1] = y[whole, : k1 - k0 - whole * s]


def convolve_single_into(
    x2: NDArray[np.floating], c: NDArray[np.floating], a: int, b: int, j0: int, j1: int, out: NDArray[np.floating],
    batch_points: int,
) -> None:
    """``full[j0:j1]`` of every row from one linear convolution of ``x[a:b]`` with ``c``.

    For problems no longer than one block: one FFT of ``b - a + m - 1`` points (no zero
    prefix), about ``batch_points`` samples of rows per call. The samples
    ``x[a:b]`` must be all those that reach outputs ``j0 .. j1 - 1``.
    """
    rows, m = x2.shape[0], c.size
    if b <= a:
        out[...] = 0.0
        return
    f = scipy.fft.next_fast_len(b - a + m - 1, real=True)
    h = scipy.fft.rfft(c, f)
    # conv(x[a:b], c)[i] is full[a + i] for 0 <= i < b - a + m - 1; zero beyond
    lo, hi = max(j0, a), min(j1, b + m - 1)
    if lo > j0 or hi < j1:
        out[...] = 0.0
    step = max(1, batch_points // f)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        spec = scipy.fft.rfft(x2[r0:r1, a:b], f, axis=-1)
        spec *= h
        y = scipy.fft.irfft(spec, f, axis=-1)
        out[r0:r1, lo - j0 : hi - j0] = y[:, lo - a : hi - a]


# the whitening FIR's blocks: 4 taps per point at least, and 8192 points (the engine's
# rule); about 0.5M samples per transform call
_FULL_MIN_BLOCK = 8192
_FULL_BATCH_POINTS = 1 << 19


def convolve_full(x: NDArray[np.floating], c: NDArray[np.floating]) -> NDArray[np.floating]:
    """The full linear convolution of a 1-D ``x`` with ``c`` (length ``n + m - 1``), by overlap-save.

    Equal to ``numpy.convolve(x, c)`` to rounding (as ``scipy.signal.oaconvolve``).
    """
    n, m = x.shape[0], c.shape[0]
    total = n + m - 1
    f = min(pow2_block(m, 4, _FULL_MIN_BLOCK), scipy.fft.next_fast_len(total + m - 1, real=True))
    out = np.empty((1, total), dtype=np.result_type(x.dtype, c.dtype))
    OverlapSave(c, f).into(x[None, :], 0, total, out, _FULL_BATCH_POINTS)
    return out[0]


@functools.lru_cache(maxsize=16)
def _zoom(n: int, f: int, keep: int) -> scipy.signal.ZoomFFT:
    return scipy.signal.ZoomFFT(n, [0.0, 2 * math.pi * keep / f], m=keep, fs=2 * math.pi, endpoint=False)


def low_band_spectrum(x: NDArray[np.floating], f: int, keep: int, workers: int = 1) -> NDArray[np.complexfloating]:
    """``scipy.fft.rfft(x, f, axis=-1)[..., :keep]``: the first ``keep`` bins of a long transform of short rows.

    A needle of ``n`` samples meets block spectra of ``f`` points, of which a decimated
    search keeps only the low band. When ``n + keep`` is far below ``f`` those bins cost
    less by the chirp z-transform (``scipy.signal.ZoomFFT``: three transforms of about
    ``n + keep`` points; the speed grid's 2.5 s needles, 8193 bins of ``2^18``: 13x
    cheaper), which agrees with the full transform to about 1e-12 relative.

    >>> x = np.random.default_rng(0).standard_normal((2, 300))
    >>> bool(np.allclose(low_band_spectrum(x, 4096, 129), np.fft.rfft(x, 4096)[:, :129], rtol=0, atol=1e-9))
    True
    """
    n = x.shape[-1]
    if 3 * scipy.fft.next_fast_len(n + keep - 1) >= f // 2 or n > f:
        return scipy.fft.rfft(x, f, axis=-1, workers=workers)[..., :keep]
    return _zoom(n, f, keep)(x, axis=-1)


class BlockSpectra:
    """The low band of the overlap-save block spectra of one long signal, kept.

    Block ``b`` covers ``x[b * step : b * step + f]`` (zeros past the end); only the
    first ``keep`` bins of its ``rfft`` are kept, in ``spectra`` (``(n_blocks, keep)``,
    complex64 for float32 input). :meth:`correlate_batches` then correlates any needle
    whose conjugate spectrum is given with every block at once, at the full rate or
    decimated (the band below ``f / (2 d)`` bins, inverse-transformed at ``f / d``
    points), and needles up to ``f - step + 1`` samples see their whole window inside a
    block at every lag.
    """

    def __init__(self, x: NDArray[np.floating], f: int, step: int, keep: int, batch: int = 16) -> None:
        if not 0 < step <= f:
            raise ValueError(f"step must be in 1 .. f, got step={step} with f={f}")
        n_blocks = self.blocks(x.size, step)
        spectra = np.empty((n_blocks, int(keep)), dtype=np.result_type(x.dtype, np.complex64))
        for b0 in range(0, n_blocks, batch):
            b1 = min(b0 + batch, n_blocks)
            spectra[b0:b1] = scipy.fft.rfft(block_view(x, b0 * step, b1 - b0, f, step), axis=-1)[:, : int(keep)]
        self._adopt(spectra, x.size, f, step)

    @staticmethod
    def blocks(n: int, step: int) -> int:
        """Blocks of a signal of ``n`` samples, one every ``step`` (at least one)."""
        return max(1, -(-int(n) // int(step)))

    @classmethod
    def from_spectra(cls, spectra: NDArray[np.complexfloating], n: int, f: int, step: int) -> BlockSpectra:
        """The block spectra of a signal of ``n`` samples, computed before (kept, or mapped
        from a file): ``spectra`` as :attr:`spectra` would hold them, not copied."""
        out = cls.__new__(cls)
        out._adopt(spectra, n, f, step)
        return out

    def _adopt(self, spectra: NDArray[np.complexfloating], n: int, f: int, step: int) -> None:
        if not 0 < step <= f:
            raise ValueError(f"step must be in 1 .. f, got step={step} with f={f}")
        blocks = self.blocks(n, step)
        if spectra.ndim != 2 or spectra.shape[0] != blocks or not 0 < spectra.shape[1] <= f // 2 + 1:
            raise ValueError(f"spectra of {n} samples in blocks of {f} every {step} must have {blocks} rows "
                             f"and at most {f // 2 + 1} bins, got shape {spectra.shape}")
        self.f, self.step, self.keep = int(f), int(step), int(spectra.shape[1])
        self.n, self.n_blocks = int(n), blocks
        self.spectra = spectra

    @property
    def nbytes(self) -> int:
        return int(self.spectra.nbytes)

    def correlate_batches(
        self, needle_spec: NDArray[np.complexfloating], decimate: int, valid: int, *, workers: int = 1, batch: int = 8
    ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.floating], NDArray[np.int64]]]:
        """Yield ``(first_lags, corr, counts)`` for batches of blocks.

        ``needle_spec`` is the needle's conjugate spectrum on ``f`` points (at least the
        first ``f // (2 * decimate) + 1`` bins, no more than ``keep``); ``corr[i, j]``
        is the band-limited correlation at lag ``first_lags[i] + j * decimate`` for
        ``j < counts[i]`` (past that: lags beyond the signal); rows have ``valid``
        columns (at most ``step // decimate``). A stack of needles, ``(r, bins)``, gives
        ``corr[k, i, j]`` for needle ``k``: one pass over the kept spectra for all of them.
        """
        d = int(decimate)
        keep = self.f // (2 * d) + 1
        if keep > self.keep or self.f % (2 * d):
            raise ValueError(f"decimate={d} needs {keep} kept bins of a multiple of {2 * d} points, have {self.keep} of {self.f}")
        n_out = self.f // d
        stacked = needle_spec.ndim == 2
        needles = needle_spec[:, :keep] if stacked else needle_spec[None, :keep]
        # the irfft of the kept band at 1/d of the length scales by 1/d: undone on the
        # needles when d is a power of two (the same bits as scaling every output, a pass
        # over the whole correlation saved), else on the output
        on_needles = d > 1 and d & (d - 1) == 0
        if on_needles:
            needles = needles * needles.real.dtype.type(d)
        buf = np.empty((needles.shape[0], batch, keep), dtype=self.spectra.dtype)
        for b0 in range(0, self.n_blocks, batch):
            b1 = min(b0 + batch, self.n_blocks)
            prod = buf[:, : b1 - b0]
            np.multiply(self.spectra[None, b0:b1, :keep], needles[:, None, :], out=prod)
            corr = scipy.fft.irfft(prod, n=n_out, axis=-1, workers=workers)[..., :valid]
            if not on_needles:
                corr *= d
            firsts = np.arange(b0, b1, dtype=np.int64) * self.step
            counts = np.minimum(valid, np.maximum(-(-(self.n - firsts) // d), 0))
            if not stacked:
                corr = corr[0]
            yield firsts, corr, counts
