"""One needle against many cached haystack spectra: the matcher's inner loop.

``tsconv.ncc`` answers one needle against one haystack and computes the haystack's FFTs
every time. A catalog is searched again and again, so :class:`BlockIndex` (the overlap-save
core's :class:`tsconv._fftcore.BlockSpectra`) computes the haystack's block spectra once
(at load time) and keeps only the low ``1/decimate`` of the band: correlating in that band and inverse-transforming at
``1/decimate`` of the length yields the band-limited correlation sampled every
``decimate`` lags, ``decimate`` times cheaper (plus cache effects). Candidates found
there are refined at the full rate by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from tsconv._fftcore import BlockSpectra

__all__ = ["BlockIndex", "band_energy_fraction"]


class BlockIndex(BlockSpectra):
    """Overlap-save block spectra of one signal, for needles up to ``max_needle`` samples.

    The catalog's use of :class:`tsconv._fftcore.BlockSpectra`: block ``b`` covers
    ``x[b*step : b*step + nfft]`` (zero-padded past the end), with ``step = nfft -
    max_needle + 1`` (rounded down to a multiple of ``align``) so that every lag ``k =
    b*step + j``, ``0 <= j < step``, sees the whole needle inside its block. Only the
    first ``nfft // (2*decimate) + 1`` bins are kept (complex64: ``x`` is taken as
    float32).
    """

    def __init__(self, x: NDArray[np.float32], nfft: int, max_needle: int, decimate: int = 2, align: int = 16) -> None:
        step, keep = self.layout(nfft, max_needle, decimate, align)
        self.nfft = nfft
        self.decimate = decimate
        self.max_needle = max_needle
        super().__init__(np.asarray(x, dtype=np.float32), nfft, step, keep)

    @classmethod
    def from_spectra(
        cls, spectra: NDArray[np.complex64], n: int, nfft: int, max_needle: int, decimate: int = 2, align: int = 16
    ) -> BlockIndex:
        """The index of a signal of ``n`` samples from its kept block spectra (e.g. mapped
        from a catalog file), as :attr:`spectra` of ``BlockIndex(x, nfft, max_needle,
        decimate, align)`` holds them; not copied."""
        step, keep = cls.layout(nfft, max_needle, decimate, align)
        if spectra.ndim != 2 or spectra.shape[1] != keep:
            raise ValueError(f"spectra must have {keep} bins, got shape {spectra.shape}")
        out = cls.__new__(cls)
        out.nfft, out.decimate, out.max_needle = nfft, decimate, max_needle
        out._adopt(spectra, n, nfft, step)
        return out

    @staticmethod
    def layout(nfft: int, max_needle: int, decimate: int, align: int) -> tuple[int, int]:
        """``(step, keep)``: the block step and the bins kept for these settings."""
        if nfft % (2 * decimate):
            raise ValueError(f"nfft must be a multiple of 2*decimate, got nfft={nfft}, decimate={decimate}")
        if max_needle >= nfft // 2:
            raise ValueError(f"max_needle must be < nfft/2, got {max_needle} with nfft={nfft}")
        # a multiple of ``align`` (16 or more) so that coarse lags (any decimation up to
        # 16) fall on the grid and blocks start on the caller's frames
        if align < 16 or align % 16:
            raise ValueError(f"align must be a positive multiple of 16, got {align}")
        step = nfft - max_needle + 1
        step -= step % align
        if step <= 0:
            raise ValueError(f"nfft={nfft} leaves no room for needles of {max_needle} samples aligned to {align}")
        return step, nfft // (2 * decimate) + 1

    def correlate_batches(  # type: ignore[override]
        self, needle_spec: NDArray[np.complex64], workers: int = 1, batch: int = 8, decimate: int | None = None
    ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.floating], NDArray[np.int64]]]:
        """Yield ``(first_lags, corr, counts)`` for batches of blocks.

        ``corr[i, j]`` is the band-limited correlation at lag ``first_lags[i] + j * decimate``
        for ``j < counts[i]`` (past that: lags beyond the signal, to be ignored); every row
        has ``step // decimate`` columns. See :meth:`correlate`.
        """
        d = self.decimate if decimate is None else decimate
        if d % self.decimate or d > 16:
            raise ValueError(f"decimate must be a multiple of {self.decimate} and <= 16, got {d}")
        return super().correlate_batches(needle_spec, d, self.step // d, workers=workers, batch=batch)

    def correlate(
        self, needle_spec: NDArray[np.complex64], workers: int = 1, batch: int = 8, decimate: int | None = None
    ) -> Iterator[tuple[int, NDArray[np.floating]]]:
        """Yield ``(first_lag, corr)``: the band-limited correlation every ``decimate`` lags.

        ``needle_spec`` is ``conj(rfft(needle, nfft))[:keep]`` (already conjugated and
        weighted by the caller). ``corr[j]`` is the correlation at lag
        ``first_lag + j * decimate``; lags run over ``0 .. n - 1`` (the needle may hang
        off the end, where the signal is zero). ``decimate`` (a multiple of the index's,
        at most 16) narrows the band further.
        """
        for firsts, corr, counts in self.correlate_batches(needle_spec, workers, batch, decimate):
            for first, row, count in zip(firsts, corr, counts):
                if count <= 0:
                    return
                yield int(first), row[:count]


def band_energy_fraction(spec: NDArray[np.complexfloating], keep: int, nfft: int) -> float:
    """Share of a real signal's energy in the first ``keep`` bins of its ``rfft`` (length ``nfft``)."""
    p = np.abs(spec) ** 2
    w = np.full(p.shape[-1], 2.0)
    w[0] = 1.0
    if nfft % 2 == 0:
        w[-1] = 1.0
    total = float(np.sum(p * w))
    if total == 0.0:
        return 0.0
    wk = w[:keep].copy()
    return float(np.sum(p[:keep] * wk)) / total
