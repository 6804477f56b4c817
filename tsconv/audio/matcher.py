"""Which track, at what offset, and how sure: a whitened matched filter over a catalog.

Every track is resampled to the working rate, whitened by its own filter (a
:class:`tsconv.Whitener`), levelled by a slow automatic gain and stored. A clip is
weighted so that its cross-spectrum with a track is divided by the clip's own smoothed
power spectrum -- the whitened matched filter for a known signal in noise whose
spectrum is unknown -- and correlated with every track (cached block spectra,
:mod:`tsconv.audio._search`). The best peaks are re-scored at the full rate by an exact
Pearson correlation, refined below one sample, and given a calibrated false-alarm
probability (:func:`tsconv.false_alarm_probability`).
"""

from __future__ import annotations

import fnmatch
import math
import os
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.fft
import scipy.ndimage
import scipy.signal
from numpy.typing import ArrayLike, NDArray

from tsconv._validation import as_float_array, as_int, check_option
from tsconv.audio._search import BlockIndex
from tsconv.audio.catalog import CatalogError, read_catalog, write_catalog
from tsconv.audio.io import _check_sr, load, resample_to, to_mono
from tsconv.correlation import false_alarm_probability
from tsconv.kernel import Kernel
from tsconv.whiten import Whitener

__all__ = ["Matcher", "Match", "Whitening", "StorageDtype"]

Whitening = Literal["spectral", "lpc", "none"]
StorageDtype = Literal["float16", "float32"]

_NFFT = 2**18  # overlap-save block of the catalog search
_DECIMATE = 2  # search in the lower half of the band (4x cheaper, see _search.py)
_SPEED_DECIMATE = 8  # the speed-grid search uses the lowest eighth (wide peaks tolerate drift)
_ACF_LAGS = 32  # autocorrelation lags kept per track for Bartlett's m_eff
_PSD_SEG = 256  # Welch segment of the clip's power spectrum (31 Hz at 8 kHz)
_AGC_FRAME = 0.125  # seconds per frame of the automatic gain
_AGC_SMOOTH = 5  # frames averaged by the automatic gain


@dataclass(frozen=True)
class Match:
    """One identification: where a clip sits in a catalog track.

    Attributes
    ----------
    track : str
        Name of the track.
    offset : float
        Time (seconds) in the track where the clip starts; negative when the clip starts
        before the track (a clip longer than the track).
    offset_samples : float
        The same at the matcher's working rate, refined below one sample.
    score : float
        Pearson correlation of the whitened clip with the whitened track over their
        overlap (1 = identical up to gain and the clip's spectral colouring).
    false_alarm_probability : float
        Probability that a clip unrelated to the catalog scores at least ``score``
        somewhere in it (calibrated on noise; see :meth:`Matcher.match`).
    speed : float
        Estimated playback speed of the clip relative to the track (1.0 unless a
        speed search was asked for).
    """

    track: str
    offset: float
    offset_samples: float
    score: float
    false_alarm_probability: float
    speed: float = 1.0


@dataclass
class _Track:
    name: str
    n: int  # samples at the working rate
    data: NDArray[np.floating]  # whitened, levelled samples (float16 or float32)
    kernel: Kernel | None  # the whitening filter (None: no whitening)
    acf: NDArray[np.float64]  # normalized autocorrelation of `data`, lags 0.._ACF_LAGS
    source: str = ""
    index: BlockIndex | None = None
    padded: NDArray[np.float32] | None = None
    resp_keep: NDArray[np.complex64] | None = None  # whitener response on the search grid


def _acf(x: NDArray[np.floating], nlags: int) -> NDArray[np.float64]:
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    n = x.size
    nfft = scipy.fft.next_fast_len(2 * n, real=True)
    X = scipy.fft.rfft(x, nfft)
    r = scipy.fft.irfft(X.real**2 + X.imag**2, nfft)[: nlags + 1]
    return r / r[0] if r[0] > 0 else np.r_[1.0, np.zeros(nlags)]


def _level(x: NDArray[np.float64], sr: int) -> NDArray[np.float64]:
    """Slow automatic gain: divide by a smoothed frame RMS so every passage has unit power.

    Silence stays silent: the RMS is floored at 1% of the track's RMS.
    """
    frame = max(int(_AGC_FRAME * sr), 1)
    n_frames = -(-x.size // frame)
    padded = np.zeros(n_frames * frame)
    padded[: x.size] = x
    ms = np.mean(padded.reshape(n_frames, frame) ** 2, axis=1)
    ms = np.convolve(ms, np.ones(_AGC_SMOOTH) / _AGC_SMOOTH, mode="same")
    total = float(np.mean(x**2))
    if total == 0.0:
        return x
    rms = np.sqrt(np.maximum(ms, 1e-4 * total))
    centres = (np.arange(n_frames) + 0.5) * frame
    return x / np.interp(np.arange(x.size), centres, rms)


def _kernel_response(kernel: Kernel | None, nfft: int, keep: int) -> NDArray[np.complex128]:
    """``H(w_k) = sum_j coef[j] exp(-i w_k (j - origin))`` at ``w_k = 2 pi k / nfft``, k < keep."""
    if kernel is None:
        return np.ones(keep, dtype=np.complex128)
    coef = kernel.coef
    h = scipy.fft.rfft(coef, nfft)[:keep]
    w = 2 * np.pi * np.arange(keep) / nfft
    return h * np.exp(1j * w * kernel.origin)


def _psd_on_grid(y: NDArray[np.float64], freqs: NDArray[np.float64]) -> NDArray[np.float64]:
    """The clip's smoothed power spectrum (Welch) at normalized frequencies ``freqs`` (cycles/sample)."""
    seg = min(_PSD_SEG, y.size)
    f, p = scipy.signal.welch(y, nperseg=seg, window="hann", detrend="constant")
    p = np.maximum(p, 1e-6 * p.max()) if p.max() > 0 else np.ones_like(p)
    return np.interp(freqs, f, p)


class Matcher:
    """A catalog of audio tracks and a whitened matched filter to search it.

    Parameters
    ----------
    sr : int, default 8000
        Working sample rate (Hz): tracks and clips are resampled to it.
    whitening : {'spectral', 'lpc', 'none'} or None, default 'spectral'
        How each track is whitened (a :class:`tsconv.Whitener` fitted on that track):
        ``'spectral'`` flattens its Welch spectrum (257-tap zero-phase filter), ``'lpc'``
        applies its LPC inverse filter of order ``lpc_order``; ``'none'``/None keeps the
        raw signal (correlation then has broad peaks and music-dependent side lobes).
    lpc_order : int, default 32
        Order of the LPC whitener.
    max_needle : float, default 6.0
        Longest stretch of a clip (seconds) correlated against the whole catalog in one
        pass; a longer clip is searched by up to three such stretches and then scored
        over its whole length.
    storage : {'float16', 'float32'}, default 'float16'
        Precision of the stored whitened samples (float16 halves the file; the
        levelled whitened signal has unit power, far from float16's limits).
    speed_range : float, default 0.0
        Default relative speed range searched by :meth:`match` (0.01: clips played up to
        1% fast or slow); see :meth:`match`.
    workers : int, default 2
        Threads for the inverse FFTs of a search and for decoding files.

    Attributes
    ----------
    tracks : list of str
        Track names, in insertion order.
    duration : float
        Total duration of the catalog in seconds.

    See Also
    --------
    tsconv.ncc, tsconv.Whitener, tsconv.false_alarm_probability

    Notes
    -----
    For a clip ``y = g h * s + n`` (gain ``g``, an equaliser ``h``, noise ``n``) of a
    track ``s``, the detector correlates the clip with the track after weighting their
    cross-spectrum by ``1 / P_y(f)``, the clip's own smoothed power spectrum:
    ``r(k) = IFFT[Y(f) conj(S(f)) / P_y(f)]``. With ``P_y = |g H|^2 P_s + P_n`` this is
    the phase transform (a delta at the true offset) when the clip is clean, and the
    matched filter in coloured noise (weight ``1/P_n``) when noise dominates
    (Knapp & Carter 1976; Van Trees 1968, section 4.3). The catalog stores ``C s``
    (``C`` the track's whitener) so the clip is filtered by ``1 / (conj(C) P_y)``.
    The score is the Pearson correlation of the two filtered signals over the overlap;
    under the null it is about ``N(0, 1/m_eff)`` with Bartlett's
    ``m_eff = m / sum_k rho_clip(k) rho_track(k)``, and the false-alarm probability of the
    best of ``n`` lags is ``1 - (1 - p_1)^n`` (:func:`tsconv.false_alarm_probability`).

    Examples
    --------
    >>> import numpy as np
    >>> from tsconv.audio import Matcher
    >>> from tsconv.audio._synth import synth_track
    >>> m = Matcher()
    >>> m.add("a", synth_track(8.0, 8000, seed=1), 8000)
    >>> m.add("b", synth_track(8.0, 8000, seed=2), 8000)
    >>> clip = synth_track(8.0, 8000, seed=2)[12000:36000] * 0.3
    >>> best = m.match(clip, 8000)[0]
    >>> best.track, round(best.offset_samples), round(best.offset, 2)
    ('b', 12000, 1.5)
    """

    def __init__(
        self,
        sr: int = 8000,
        whitening: Whitening | None = "spectral",
        *,
        lpc_order: int = 32,
        max_needle: float = 6.0,
        storage: StorageDtype = "float16",
        speed_range: float = 0.0,
        workers: int = 2,
    ) -> None:
        self.sr = _check_sr(sr)
        self.whitening: str = check_option("none" if whitening is None else whitening, Whitening, "whitening")
        self.lpc_order = as_int(lpc_order, "lpc_order", minimum=1)
        if not (isinstance(max_needle, (int, float)) and 0.25 <= max_needle <= 10.0):
            raise ValueError(f"max_needle must be a number of seconds in [0.25, 10], got {max_needle!r}")
        self.max_needle = float(max_needle)
        self.storage: str = check_option(storage, StorageDtype, "storage")
        self.speed_range = self._check_speed_range(speed_range)
        self.workers = as_int(workers, "workers", minimum=1)
        self._tracks: list[_Track] = []
        self._names: dict[str, int] = {}

    # -- catalog ---------------------------------------------------------------------------
    @staticmethod
    def _check_speed_range(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 0.05:
            raise ValueError(f"speed_range must be a number in [0, 0.05], got {value!r}")
        return float(value)

    @property
    def tracks(self) -> list[str]:
        """Track names, in insertion order."""
        return [t.name for t in self._tracks]

    @property
    def duration(self) -> float:
        """Total duration of the catalog in seconds."""
        return sum(t.n for t in self._tracks) / self.sr

    @property
    def _needle_len(self) -> int:
        return int(round(self.max_needle * self.sr))

    def __len__(self) -> int:
        return len(self._tracks)

    def __repr__(self) -> str:
        return (
            f"Matcher(sr={self.sr}, whitening={self.whitening!r}, tracks={len(self._tracks)}, "
            f"duration={self.duration:.1f} s)"
        )

    def _whiten(self, x: NDArray[np.float32]) -> tuple[NDArray[np.float64], Kernel | None]:
        x64 = np.asarray(x, dtype=np.float64)
        if self.whitening == "none" or x64.size < 2 * _PSD_SEG or np.ptp(x64) == 0:
            kernel = None
            y = x64 - x64.mean()
        else:
            w = Whitener(self.whitening, order=self.lpc_order, n_taps=257).fit(x64)
            kernel = w.kernel
            # zero-padded edges (Whitener.transform's 'same' leaves the warm-up as NaN)
            full = scipy.signal.oaconvolve(x64, kernel.coef, mode="full")
            y = full[kernel.origin : kernel.origin + x64.size]
        return _level(y, self.sr), kernel

    def _prepare(self, samples: ArrayLike, sr: Any, name: str = "samples") -> NDArray[np.float32]:
        sr = _check_sr(sr)
        x = to_mono(samples, name)
        return resample_to(x, sr, self.sr)

    def add(self, name: str, samples: ArrayLike, sr: int, *, source: str = "") -> None:
        """Add a track.

        Parameters
        ----------
        name : str
            Unique, non-empty track name.
        samples : array_like
            1-D mono, or 2-D ``(frames, channels)`` (averaged to mono); finite.
        sr : int
            Sample rate of ``samples`` (resampled to the matcher's ``sr``).

        Raises
        ------
        ValueError
            Duplicate or empty name, bad sample rate, non-finite or empty samples, or a
            track shorter than 0.1 s.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if name in self._names:
            raise ValueError(f"a track named {name!r} is already in the catalog")
        x = self._prepare(samples, sr)
        self._add_prepared(name, x, source)

    def _add_prepared(self, name: str, x: NDArray[np.float32], source: str = "") -> None:
        if x.size < 0.1 * self.sr:
            raise ValueError(f"track {name!r} is too short: {x.size / self.sr:.3f} s, need at least 0.1 s")
        y, kernel = self._whiten(x)
        data = y.astype(self.storage)
        track = _Track(name, int(x.size), data, kernel, _acf(y, _ACF_LAGS), source)
        self._names[name] = len(self._tracks)
        self._tracks.append(track)

    def add_file(self, path: str | os.PathLike[str], name: str | None = None) -> str:
        """Decode ``path`` (anything libsndfile reads) and add it; returns the track name
        (default: the file name without its extension)."""
        x, _ = load(path, sr=self.sr)
        name = name if name is not None else os.path.splitext(os.path.basename(os.fspath(path)))[0]
        if name in self._names:
            raise ValueError(f"a track named {name!r} is already in the catalog")
        self._add_prepared(name, x, os.fspath(path))
        return name

    def add_directory(self, path: str | os.PathLike[str], pattern: str = "*", *, progress: bool | None = None) -> list[str]:
        """Add every audio file under ``path`` (recursively) whose name matches ``pattern``.

        Files are decoded and resampled in parallel (``workers`` threads); names are the
        paths relative to ``path`` without extension. Files libsndfile cannot decode are
        skipped with a warning on stderr. A progress line is shown on a terminal
        (``progress=None``: when stderr is a TTY).

        Returns
        -------
        list of str
            The names added, in sorted path order.
        """
        root = os.fspath(path)
        if not os.path.isdir(root):
            raise FileNotFoundError(f"path is not a directory: {root!r}")
        files = []
        for dirpath, _, filenames in os.walk(root):
            for fn in filenames:
                if fnmatch.fnmatch(fn, pattern) and not fn.startswith("."):
                    files.append(os.path.join(dirpath, fn))
        files.sort()
        show = sys.stderr.isatty() if progress is None else progress

        def decode(p: str) -> tuple[str, NDArray[np.float32] | None, str]:
            try:
                x, _ = load(p, sr=self.sr)
                return p, x, ""
            except (ValueError, OSError) as exc:
                return p, None, str(exc)

        added = []
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for i, (p, x, err) in enumerate(pool.map(decode, files), start=1):
                if x is None:
                    print(f"tsconv: skipping {p}: {err}", file=sys.stderr)
                    continue
                name = os.path.splitext(os.path.relpath(p, root))[0].replace(os.sep, "/")
                if name in self._names or x.size < 0.1 * self.sr:
                    print(f"tsconv: skipping {p}: duplicate name or shorter than 0.1 s", file=sys.stderr)
                    continue
                self._add_prepared(name, x, p)
                added.append(name)
                if show:
                    print(f"\rindexed {i}/{len(files)} files, {self.duration / 60:.1f} min, {time.perf_counter() - t0:.1f} s",
                          end="", file=sys.stderr, flush=True)
        if show:
            print(file=sys.stderr)
        return added

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the catalog to ``path`` atomically (format: ``docs/audio.md``, :mod:`tsconv.audio.catalog`)."""
        tracks = []
        arrays: dict[str, NDArray[Any]] = {}
        offsets = np.zeros(len(self._tracks) + 1, dtype=np.int64)
        for i, t in enumerate(self._tracks):
            offsets[i + 1] = offsets[i] + t.n
            tracks.append(
                {
                    "name": t.name,
                    "n_samples": t.n,
                    "offset": int(offsets[i]),
                    "source": t.source,
                    "whitener_origin": None if t.kernel is None else t.kernel.origin,
                    "whitener_taps": 0 if t.kernel is None else len(t.kernel),
                }
            )
        arrays["samples"] = (
            np.concatenate([t.data for t in self._tracks]) if self._tracks else np.zeros(0, dtype=self.storage)
        )
        arrays["whiteners"] = (
            np.concatenate([t.kernel.coef for t in self._tracks if t.kernel is not None])
            if any(t.kernel is not None for t in self._tracks)
            else np.zeros(0)
        )
        arrays["acf"] = np.stack([t.acf for t in self._tracks]) if self._tracks else np.zeros((0, _ACF_LAGS + 1))
        manifest = {
            "sr": self.sr,
            "whitening": self.whitening,
            "lpc_order": self.lpc_order,
            "max_needle": self.max_needle,
            "storage": self.storage,
            "speed_range": self.speed_range,
            "n_tracks": len(self._tracks),
            "total_samples": int(offsets[-1]),
            "tracks": tracks,
        }
        write_catalog(path, manifest, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, workers: int = 2) -> Matcher:
        """Read a catalog written by :meth:`save`, verifying format, version, checksums and shapes.

        Raises
        ------
        CatalogError
            If the file is missing, foreign, truncated, corrupted or inconsistent.
        """
        manifest, arrays = read_catalog(path)
        try:
            m = cls(
                manifest["sr"],
                manifest["whitening"],
                lpc_order=manifest["lpc_order"],
                max_needle=manifest["max_needle"],
                storage=manifest["storage"],
                speed_range=manifest["speed_range"],
                workers=workers,
            )
            samples, whiteners, acf = arrays["samples"], arrays["whiteners"], arrays["acf"]
            if samples.dtype != np.dtype(m.storage) or samples.ndim != 1:
                raise CatalogError(f"samples array has dtype {samples.dtype} and {samples.ndim} dims, expected 1-D {m.storage}")
            if samples.size != manifest["total_samples"] or acf.shape != (manifest["n_tracks"], _ACF_LAGS + 1):
                raise CatalogError("array sizes do not agree with the manifest's track list")
            wpos = 0
            for i, entry in enumerate(manifest["tracks"]):
                off, n = int(entry["offset"]), int(entry["n_samples"])
                if off < 0 or n <= 0 or off + n > samples.size:
                    raise CatalogError(f"track {entry['name']!r} lies outside the samples array")
                taps = int(entry["whitener_taps"])
                kernel = None
                if taps:
                    if wpos + taps > whiteners.size:
                        raise CatalogError(f"track {entry['name']!r}: whitener coefficients missing")
                    kernel = Kernel(whiteners[wpos : wpos + taps], int(entry["whitener_origin"]))
                    wpos += taps
                t = _Track(str(entry["name"]), n, samples[off : off + n], kernel, acf[i].astype(np.float64), str(entry["source"]))
                if t.name in m._names:
                    raise CatalogError(f"duplicate track name {t.name!r}")
                m._names[t.name] = i
                m._tracks.append(t)
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogError(f"{os.fspath(path)!r}: the manifest is inconsistent ({type(exc).__name__}: {exc})") from exc
        return m

    # -- search ----------------------------------------------------------------------------
    def _ensure_index(self) -> None:
        L = self._needle_len
        for t in self._tracks:
            if t.index is None:
                # lags are counted from L samples before the track, so a clip may start
                # before it or run past its end (clip longer than the track)
                t.padded = np.concatenate([np.zeros(L, np.float32), np.asarray(t.data, dtype=np.float32)])
                t.index = BlockIndex(t.padded, _NFFT, L, _DECIMATE)
                t.resp_keep = _kernel_response(t.kernel, _NFFT, t.index.keep).astype(np.complex64)

    def _n_lags(self) -> int:
        return sum(t.n + self._needle_len for t in self._tracks)

    def _query(self, samples: ArrayLike, sr: Any) -> NDArray[np.float64]:
        y = np.asarray(self._prepare(samples, sr, "samples"), dtype=np.float64)
        if y.size < 0.1 * self.sr:
            raise ValueError(f"samples must be at least 0.1 s long, got {y.size / self.sr:.3f} s")
        return y

    def _segments(self, m: int, length: int) -> list[int]:
        if m <= length:
            return [0]
        return sorted({0, (m - length) // 2, m - length})

    def _search(self, y: NDArray[np.float64], decimate: int, seg_len: int, per_track: int, threshold: float | None,
                p_y: NDArray[np.float64]) -> list[tuple[float, int, int, int]]:
        """Coarse pass. Returns ``(approx_score, track_index, padded_lag_of_clip_start, seg_start)``."""
        keep = _NFFT // (2 * decimate) + 1
        w = np.full(keep, 2.0)
        w[0] = 1.0
        out: list[tuple[float, int, int, int]] = []
        for s0 in self._segments(y.size, seg_len):
            seg = y[s0 : s0 + seg_len]
            seg = seg - seg.mean()
            m = seg.size
            spec = scipy.fft.rfft(seg, _NFFT)[:keep]
            py = p_y[:keep]
            for ti, t in enumerate(self._tracks):
                assert t.index is not None and t.resp_keep is not None
                q = spec / (np.conj(t.resp_keep[:keep]) * py)
                norm = math.sqrt(float(np.sum(w * (q.real**2 + q.imag**2))) / _NFFT)
                if norm == 0.0:
                    continue
                scale = 1.0 / (norm * math.sqrt(m / decimate))
                needle_spec = np.conj(q).astype(np.complex64)
                best: list[tuple[float, int]] = []
                for first, corr in t.index.correlate(needle_spec, workers=self.workers, decimate=decimate):
                    if threshold is None:
                        j = int(np.argmax(corr))
                        best.append((float(corr[j]) * scale, first + j * decimate))
                    else:
                        hits = np.flatnonzero(corr * scale > threshold)
                        best.extend((float(corr[j]) * scale, first + int(j) * decimate) for j in hits)
                best.sort(reverse=True)
                kept: list[tuple[float, int]] = []
                for sc, lag in best:
                    if all(abs(lag - k) >= m // 2 for _, k in kept):
                        kept.append((sc, lag))
                        if len(kept) >= per_track:
                            break
                out.extend((sc, ti, lag - s0, s0) for sc, lag in kept)
        return out

    def _filtered_clip(self, y: NDArray[np.float64], t: _Track) -> NDArray[np.float64]:
        """The clip filtered by ``1 / (conj(C_t) P_y)`` at the full rate (time domain, length kept)."""
        n = y.size
        nfft = scipy.fft.next_fast_len(n + 2048, real=True)
        freqs = np.arange(nfft // 2 + 1) / nfft
        spec = scipy.fft.rfft(y - y.mean(), nfft)
        resp = _kernel_response(t.kernel, nfft, nfft // 2 + 1)
        spec /= np.conj(resp) * _psd_on_grid(y, freqs)
        return scipy.fft.irfft(spec, nfft)[:n]

    def _score_at(self, q: NDArray[np.float64], t: _Track, lags: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Exact Pearson correlation of ``q`` with the track at each lag (clip start, track samples); overlap sizes."""
        data = t.data
        m = q.size
        scores = np.full(lags.size, -1.0)
        overlaps = np.zeros(lags.size, dtype=np.int64)
        for i, k in enumerate(lags):
            lo, hi = max(0, -k), min(m, t.n - k)
            if hi - lo < 2:
                continue
            a = q[lo:hi] - q[lo:hi].mean()
            b = np.asarray(data[k + lo : k + hi], dtype=np.float64)
            b = b - b.mean()
            den = math.sqrt(float(a @ a) * float(b @ b))
            scores[i] = float(a @ b) / den if den > 0 else 0.0
            overlaps[i] = hi - lo
        return scores, overlaps

    def _m_eff(self, q: NDArray[np.float64], t: _Track, m: int) -> float:
        rq = _acf(q, _ACF_LAGS)
        s = 1.0 + 2.0 * float(np.sum(rq[1:] * t.acf[1:]))
        return max(m / max(s, 1e-3), 3.0)

    def _refine(self, y: NDArray[np.float64], ti: int, lag0: int, radius: int, q: NDArray[np.float64] | None = None
                ) -> tuple[float, float, int, NDArray[np.float64]]:
        """Exact scores around ``lag0``; returns (score, refined lag, overlap, filtered clip)."""
        t = self._tracks[ti]
        if q is None:
            q = self._filtered_clip(y, t)
        lags = np.arange(lag0 - radius, lag0 + radius + 1)
        scores, overlaps = self._score_at(q, t, lags)
        i = int(np.argmax(scores))
        delta, value = 0.0, float(scores[i])
        if 0 < i < lags.size - 1:
            ym, y0, yp = scores[i - 1], scores[i], scores[i + 1]
            den = ym - 2 * y0 + yp
            if den < 0:
                delta = 0.5 * (ym - yp) / den
                value = float(y0 - 0.25 * (ym - yp) * delta)
        return min(value, 1.0), float(lags[i]) + delta, int(overlaps[i]), q

    def _min_overlap(self, m: int, t: _Track) -> int:
        return max(int(0.5 * min(m, t.n)), 2)

    def _candidates_to_matches(self, y: NDArray[np.float64], cands: list[tuple[float, int, int, int]], n_lags: int,
                               speed: float = 1.0, radius: int = _DECIMATE + 2) -> list[Match]:
        L = self._needle_len
        results: list[Match] = []
        qcache: dict[int, NDArray[np.float64]] = {}
        for _, ti, plag, _ in cands:
            t = self._tracks[ti]
            lag0 = plag - L  # padded lag -> track lag of the clip start
            score, lag, overlap, q = self._refine(y, ti, lag0, radius, qcache.get(ti))
            qcache[ti] = q
            if overlap < self._min_overlap(y.size, t):
                continue
            lo = max(0, -int(round(lag)))
            m_eff = self._m_eff(q[lo : lo + overlap], t, overlap)
            p = float(false_alarm_probability(max(score, -1.0), m_eff, n_lags))
            results.append(Match(t.name, float(lag / self.sr), float(lag), float(score), p, float(speed)))
        return results

    @staticmethod
    def _dedupe(matches: list[Match], min_sep: float, per_track: bool) -> list[Match]:
        out: list[Match] = []
        for mt in sorted(matches, key=lambda r: (-r.score, r.track)):
            if per_track and any(o.track == mt.track for o in out):
                continue
            if any(o.track == mt.track and abs(o.offset_samples - mt.offset_samples) < min_sep for o in out):
                continue
            out.append(mt)
        return out

    def _speed_grid(self, speed_range: float, seg_len: int) -> NDArray[np.float64]:
        if speed_range == 0.0:
            return np.array([1.0])
        # the band-limited search tolerates about 3 samples of drift over a stretch
        step = 6.0 / seg_len
        n = int(math.ceil(speed_range / step))
        return 1.0 + step * np.arange(-n, n + 1)

    @staticmethod
    def _respeed(y: NDArray[np.float64], speed: float) -> NDArray[np.float64]:
        """Undo a playback at ``speed``: sample the clip at positions ``i * speed`` (cubic spline)."""
        if speed == 1.0:
            return y
        n = int(math.floor((y.size - 1) / speed)) + 1
        pos = np.arange(n) * speed
        return scipy.ndimage.map_coordinates(y, [pos], order=3, mode="nearest")

    def _run(self, samples: ArrayLike, sr: Any, n_candidates: int, threshold_p: float | None,
             speed_range: float | None) -> tuple[list[Match], NDArray[np.float64]]:
        self._ensure_index()
        y = self._query(samples, sr)
        speed_range = self.speed_range if speed_range is None else self._check_speed_range(speed_range)
        if not self._tracks or float(np.ptp(y)) == 0.0:
            return [], y
        L = self._needle_len
        n_lags = self._n_lags()
        freqs = np.arange(_NFFT // 2 + 1) / _NFFT
        if speed_range == 0.0:
            p_y = _psd_on_grid(y, freqs)
            n_lags_total = n_lags * len(self._segments(y.size, L))
            thr = None if threshold_p is None else self._approx_threshold(threshold_p, min(y.size, L), n_lags_total)
            cands = self._search(y, _DECIMATE, L, n_candidates if thr is None else 10**6, thr, p_y)
            cands.sort(reverse=True)
            if thr is None:
                cands = cands[: max(n_candidates, 3)]
            matches = self._candidates_to_matches(y, cands, n_lags_total)
            return matches, y
        # speed search: a stretch of the clip at a grid of speeds, in the lowest band
        seg_len = min(y.size, L, int(2.0 * self.sr))
        grid = self._speed_grid(speed_range, seg_len)
        n_lags_total = n_lags * grid.size
        found: list[tuple[float, float, int, int]] = []
        for f in grid:
            yf = self._respeed(y, float(f))
            p_y = _psd_on_grid(yf, freqs)
            c = self._search(yf[:seg_len] if yf.size > seg_len else yf, _SPEED_DECIMATE, seg_len, 2, None, p_y)
            found.extend((sc, float(f), ti, lag) for sc, ti, lag, _ in c)
        found.sort(reverse=True)
        matches = []
        step = float(grid[1] - grid[0]) if grid.size > 1 else 0.0
        for _, f0, ti, lag in found[: max(n_candidates, 3)]:
            matches.append(self._fine_speed(y, ti, lag - L, f0, step, n_lags_total))
        return [mt for mt in matches if mt is not None], y

    def _fine_speed(self, y: NDArray[np.float64], ti: int, lag0: int, f0: float, step: float, n_lags: int) -> Match | None:
        """Golden-section search of the speed around ``f0`` maximizing the exact score."""
        t = self._tracks[ti]
        cache: dict[float, tuple[float, float, int, NDArray[np.float64]]] = {}

        def evaluate(f: float) -> tuple[float, float, int, NDArray[np.float64]]:
            if f not in cache:
                yf = self._respeed(y, f)
                cache[f] = self._refine(yf, ti, lag0, _SPEED_DECIMATE + 4)
            return cache[f]

        a, b = f0 - step, f0 + step
        g = (math.sqrt(5) - 1) / 2
        c, d = b - g * (b - a), a + g * (b - a)
        for _ in range(14 if step > 0 else 0):
            if evaluate(c)[0] > evaluate(d)[0]:
                b, d = d, c
                c = b - g * (b - a)
            else:
                a, c = c, d
                d = a + g * (b - a)
        f_best = max(cache, key=lambda f: cache[f][0]) if cache else f0
        score, lag, overlap, q = evaluate(f_best)
        yf_n = q.size
        if overlap < self._min_overlap(yf_n, t):
            return None
        lo = max(0, -int(round(lag)))
        m_eff = self._m_eff(q[lo : lo + overlap], t, overlap)
        p = float(false_alarm_probability(max(score, -1.0), m_eff, n_lags))
        return Match(t.name, float(lag / self.sr), float(lag), float(score), p, float(f_best))

    @staticmethod
    def _approx_threshold(p: float, m: int, n_lags: int) -> float:
        """Coarse-pass score below which no lag can reach false-alarm probability ``10 p``."""
        target = min(1.0, 10 * p)
        m_band = max(m / _DECIMATE, 3.0)
        lo, hi = 0.0, 1.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            if float(false_alarm_probability(mid, m_band, max(n_lags // _DECIMATE, 1))) > target:
                lo = mid
            else:
                hi = mid
        return 0.8 * lo

    def match(self, samples: ArrayLike, sr: int, top_k: int = 5, *, max_false_alarm: float = 0.01,
              speed_range: float | None = None) -> list[Match]:
        """The tracks a clip most likely comes from, best first.

        Parameters
        ----------
        samples : array_like
            The clip: 1-D mono or 2-D ``(frames, channels)``, at least 0.1 s; finite.
        sr : int
            Its sample rate (any; resampled to the matcher's rate).
        top_k : int, default 5
            At most this many matches, one per track.
        max_false_alarm : float, default 0.01
            Report only matches whose false-alarm probability is at most this (1.0: all).
        speed_range : float or None, default None
            Relative playback-speed range to search (``0.01``: up to 1% fast or slow);
            None uses the matcher's ``speed_range``. A grid of speeds is searched in the
            lowest eighth of the band, then the best candidates' speeds are refined;
            costs about ``speed_range * seconds_of_clip * 1500`` catalog passes... see
            ``docs/audio.md`` for the measured cost and the covered range.

        Returns
        -------
        list of Match
            Sorted by decreasing score; empty for silence or a clip not in the catalog.

        Raises
        ------
        ValueError, TypeError
            Bad samples, sample rate, ``top_k`` or probabilities.
        """
        top_k = as_int(top_k, "top_k", minimum=1)
        max_false_alarm = self._check_probability(max_false_alarm, "max_false_alarm")
        matches, y = self._run(samples, sr, 2 * top_k + 2, None, speed_range)
        best = self._dedupe(matches, 1.0, per_track=True)
        return [mt for mt in best if mt.false_alarm_probability <= max_false_alarm][:top_k]

    def find_all(self, samples: ArrayLike, sr: int, max_false_alarm: float = 1e-3) -> list[Match]:
        """Every occurrence of a clip in every track with false-alarm probability <= ``max_false_alarm``.

        Occurrences closer than half the clip length in one track are merged. Sorted by
        track order, then offset.
        """
        max_false_alarm = self._check_probability(max_false_alarm, "max_false_alarm")
        matches, y = self._run(samples, sr, 0, max_false_alarm, 0.0)
        good = [mt for mt in matches if mt.false_alarm_probability <= max_false_alarm]
        good = self._dedupe(good, 0.5 * y.size, per_track=False)
        return sorted(good, key=lambda r: (self._names[r.track], r.offset_samples))

    def match_file(self, path: str | os.PathLike[str], top_k: int = 5, **kwargs: Any) -> list[Match]:
        """:meth:`match` on an audio file (any format libsndfile reads)."""
        x, rate = load(path)
        return self.match(x, rate, top_k, **kwargs)

    @staticmethod
    def _check_probability(p: Any, name: str) -> float:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 < p <= 1.0:
            raise ValueError(f"{name} must be a probability in (0, 1], got {p!r}")
        return float(p)

    def scores(self, samples: ArrayLike, sr: int) -> Iterable[tuple[str, float]]:  # pragma: no cover - debugging aid
        """(track, best exact score) for every track."""
        matches, _ = self._run(samples, sr, 10**6, None, 0.0)
        return [(mt.track, mt.score) for mt in self._dedupe(matches, 1.0, per_track=True)]
