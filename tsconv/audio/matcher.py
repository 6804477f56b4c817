"""Which track, at what offset, and how sure: a whitened matched filter over a catalog.

Every track is resampled to the working rate, whitened by its own filter (a
:class:`tsconv.Whitener`), levelled by a slow automatic gain and stored. A clip is
weighted so that its cross-spectrum with a track is divided by the clip's own smoothed
power spectrum (:meth:`tsconv.Whitener.spectrum`) -- the whitened matched filter for a
known signal in noise whose spectrum is unknown -- and correlated with every track (cached block spectra,
:mod:`tsconv.audio._search`). The best peaks are re-scored at the full rate by an exact
Pearson correlation, refined below one sample, and given a calibrated false-alarm
probability (:func:`tsconv.false_alarm_probability`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import itertools
import math
import os
import stat
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.fft
import scipy.ndimage
import scipy.signal
import scipy.special
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from tsconv._fftcore import convolve_full, low_band_spectrum
from tsconv._persist import NpyMember
from tsconv._peaks import frame_peaks
from tsconv._validation import as_int, check_option, is_real
from tsconv._welch import welch_psd
from tsconv.audio._null import DURATIONS, MusicNull, fit_music_null, floor_p, neighbour_places, probe_tracks
from tsconv.audio._search import BlockIndex
from tsconv.audio.catalog import CatalogError, _music_null_of, read_catalog, write_catalog
from tsconv.audio.io import _check_sr, load, resample_to, to_mono
from tsconv.correlation import false_alarm_probability, ncc
from tsconv.kernel import Kernel
from tsconv.whiten import WhitenMethod, Whitener

__all__ = ["Matcher", "Match", "Candidates", "RateMismatchWarning", "Whitening", "StorageDtype"]

Whitening = Literal["spectral", "lpc", "none"]
StorageDtype = Literal["float16", "float32"]

_NFFT = 2**18  # overlap-save block of the catalog search
_DECIMATE = 2  # search in the lower half of the band (4x cheaper, see _search.py)
_SPEED_DECIMATE = 16  # the speed-grid search uses the lowest 16th of the band (wide peaks tolerate drift)
# The speed grid searches the clip's first _SPEED_SEG seconds at speeds _SPEED_STEP *
# _SPEED_DECIMATE / (its samples) apart; the best _SPEED_CANDIDATES distinct places get the
# first round of the refinement, the best _SPEED_PLACES of those the other two. The number of
# low-band passes is proportional to the segment over the step. Measured on an hour of real
# music (60 clips of 3 s, EQ + gain, played 2% fast or slow or at a random speed within 2%,
# speed_range=0.021; top-1, right track at p <= 0.01, CPU time per query over a normal
# query's, workers=2): 2.5 s, step 0.75, 4 places refined: 58, 55 of 60 at 15.5x; 4 then 2
# places, step 1.5: 58, 55 at 8.1x; step 2: 58, 55 at 6.4x; step 2.5: 58, 55 at 5.5x; step 3:
# 57, 53 at 4.8x; step 4: 57, 54 at 4.1x; 1 s, step 1.5: 56, 48 at 4.0x (the shorter
# segment's weaker search evidence is the probability); 1.25 s, step 1.5: 54 at 4.8x
_SPEED_SEG = 2.5
_SPEED_STEP = 2.5
_SPEED_CANDIDATES = 4
_SPEED_PLACES = 2
# When the best exact score of the speed search is below _SPEED_WIDER_BELOW, the search runs
# again with the grid in the lowest 8th of the band (4x its cost: twice the speeds, twice the
# data), the better answer is kept, and its probability doubled (two searches). Measured on
# 400 clips of an hour of real music (3 s, EQ + gain, played at 0.99, 0.995, 1.005, 1.01,
# speed_range=0.011; top-1 per speed, median / mean CPU per query): the lowest 16th alone
# 99/94/93/97, 0.335 / 0.340 s; the lowest 8th alone 99/99/96/100, 0.706 s; the lowest 16th
# with this fallback at 0.2 (12% of the clips) or 0.3 (17%) 99/99/96/100, 0.335 / 0.431 or
# 0.465 s. Every clip the 16th lost scored at most 0.10 there: they went to passages of
# other tracks (colobot's hubs) that fill the lowest band's best places. Raised to 0.5: a
# clean clip of colobot's Quite played 0.5% fast was answered at a wrong place of its track
# (exact score 0.22, p 7e-8) whose true place only the lowest 8th found (0.87); with the
# last refinement round's wide lag search, audio_speed's top-1 95 -> 96%, at its place
# (+-1 sample) 76 -> 83%, median CPU 0.768 -> 0.780 s (the same 100 clips)
_SPEED_WIDER_BELOW = 0.5
# A speed search starts with the plain search (speed 1, the whole band): a match scoring at
# least _SPEED_PLAIN_SCORE there is kept without searching speeds (a clip off by more than
# 1 / (2 samples) in speed scores far lower at speed 1: its peak drifts over the clip). The
# speed grid's evidence lives in the lowest band only, where a clip at its true speed is
# weaker and can lose its place to another (3 of 12 clean clips of real music did, none
# reported at p <= 0.01 where the plain search gives p < 1e-300)
_SPEED_PLAIN_SCORE = 0.5
_M_REF = 10**6  # see _Scan.p
_LN10 = math.log(10.0)
_CHUNK = 1024  # lags per chunk of the coarse pass (its maxima fit the null)
_ACF_LAGS = 32  # autocorrelation lags stored per track (diagnostic: how white the stored signal is)
_PSD_SEG = 256  # Welch segment of the clip's power spectrum (31 Hz at 8 kHz)
_AGC_FRAME = 0.125  # seconds per frame of the automatic gain
_AGC_SMOOTH = 5  # frames averaged by the automatic gain
_HOP = 256  # hop of the frames of the stored band energies (samples); blocks start on frames
_FRAME = 512  # Hann frame of the band energies
_BAND_BINS = 4  # frame bins per band: 64 bands over the whole band (62.5 Hz each at 8 kHz)
_N_BANDS = _FRAME // 2 // _BAND_BINS // _DECIMATE  # bands kept: those of the search band
_E_MARGIN = 2  # frames added on each side of a window's energy (the weighted needle spreads)
_E_FLOOR = 1e-2  # window energies floored at this share of the track's mean (silence)
_VIEW_PAD = 2048  # samples of track context filtered around a re-scored place
# samples: the exact score re-locates a candidate within this distance (Matcher._refine). On
# real music (60-min catalog, 200 clips per cell) the coarse statistic put a few percent of
# right-track answers on a neighbouring cycle 10-350 samples away where the exact score is
# lower: offsets within +-1 sample without EQ at -15 dB 98.0 -> 98.5% (3 s), 93.5 -> 97.0% (1 s)
_WIDE = 1024
# a trial of the speed refinement (Matcher._speed_round): score, speed, lag, overlap, whitened
# clip, its effective length (Matcher._refine)
_SpeedTrial = tuple[float, float, float, int, NDArray[np.float64], Callable[[], float]]
_F_LOW = 30.0  # Hz: the band below is left out of search and score (see Matcher._low_bins)
# the track's filter is floored (Matcher._track_view) at _EVIDENCE times the clip's level g on the track's
# spectrum, g the _EVIDENCE_Q quantile of P_y / P_t. A clip in white noise at -20 dB looks
# like a clip without its bass (a flat spectrum), where the bass still carries the evidence:
# measured on real music (25-min catalog, 60 clips of 1 s per cell), top-1 with white noise
# -20 dB + EQ / a 300 Hz high-pass / the phone band + 0 dB: (1.0, 0.5) 70 / 85 / 100%,
# (1.0, 0.15) 87 / 80 / 98%, (0.3, 0.25) 90 / 80 / 98%, (0.3, 0.15) 92 / 78 / 98%;
# without the floor 92 / 57 / 53% (base figures of 40 clips). Its price: where a passage holds
# less bass than the track's long-term spectrum, the floor weights that band below 1/P_y; on
# 300 clips of 1 s in white noise at -15 dB without EQ (60-min catalog), within +-1 sample /
# top-1: no floor (cbc05e1) 229 / 287, _EVIDENCE 0.03: 227 / 290, 0.1: 224 / 290, 0.3: 219 /
# 290; and 0.03 against 0.3 on the band-limited clips (100 per cell, eval_audio's band
# section): 1 s high-pass 78 / 88%, 1 s phone + noise 87 / 97%, speaker chain 3 s 91 / 98%,
# 1 s 76 / 93%. Placing a weak match (exact score below 0.2) again by the clip's own filter
# (no floor, at its track's best places; badbd0e, reverted) traded cells: paired on 300
# clips per cell, 1 s -15 dB without EQ 225 -> 230 within +-1 sample, 3 s -15 dB with EQ
# 216 -> 210, 3 s -5 dB without EQ 271 -> 267, the right passage (or a near-copy) unchanged
# A place chosen within the right track by the matched filter of a known signal in noise does
# worse (the clip weighted by 1/sqrt(N), the track by |H|/sqrt(N), the channel H and the
# clip's noise N from Welch cross-spectra of the clip and the track at the matched place):
# searched over the whole track (the exact score sees only the coarse stage's candidates), on
# the 19 cells of the accuracy tables (60 clips each, 1,076 on the right track), within
# +-1 sample: this score 836, that weighting 702, sqrt(|H| / N) on both sides 642, plain
# Pearson correlation 439; no cell better by more than 3 clips
_EVIDENCE = 0.3
_EVIDENCE_Q = 0.15
_FIT_EXCLUDE = 2**15  # lags around the best chunk left out of the null fit (4 s at 8 kHz)
# fewer chunk maxima than this (a catalog under about a minute) and the null fit is topped
# up with surrogate clips (Matcher._surrogate_null); at most _MAX_SURROGATES of them
_MIN_NULL = 1000
_INVERTED_P = 1e-3  # an anti-correlation this unlikely under the null marks an inverted clip
_MAX_SURROGATES = 64
# Matcher._inverted_exact: measured on real music, a 300-3400 Hz phone band (8th-order
# Butterworth) + white noise 0 dB: the negated clip's best exact score 2 samples from the
# true place was 1.7-1.9 times the clip's own; a polarity-inverted clip's own side lobes
# are a small fraction of its negated score
_INVERTED_RATIO = 2.5
# the rate check (Matcher.match(check_rate=True)): a reported match scoring below _WEAK_SCORE
# is re-sought as if the clip's header had one of the usual wrong rates; a match there
# replaces it when it scores at least _RATE_SCORE and twice the weak one. Measured on a
# 44-minute catalog of real music (colobot, singularity, drascula): clean 3 s clips at their
# true rate score 0.82-1.00, the false matches of clips whose 44.1/48 kHz header is wrong
# 0.03-0.31, clips at -15 dB white noise 0.10-0.17
# A stored track is levelled to unit power (_level) except where its automatic gain
# hits its floor (passages 40 dB below the track's mean) and after its last sound: the
# exact score of a place whose stored power over the overlap is below this is scaled by
# sqrt(power / _QUIET). There a few samples decide a Pearson correlation: colobot
# music006's last sound followed by 4 s of digital silence (stored power 0.006) scored
# 0.29-0.84 against 300 Hz high-passed clips whose energy sits in their first samples
# (the filter's onset) and out-ranked true places at 0.24 and 0.19 (4 of 200 clips).
# A passage falls below 0.1 only when most of the overlap is silence or it lies 50 dB
# below the track's mean level: 0-1.6% of the 3 s windows of the tracks of an hour of
# real music, at their ends or in near-silence.
_QUIET = 0.1
_WEAK_SCORE = 0.35
_MORE_TRACKS = 4  # tracks whose best candidate match() also scores when the best score is weak (_other_tracks)
# ... weak: below this exact score. Measured on an hour of real music (catalog A of
# benchmarks/audio_calibration.py): a clean 3 s clip of colobot music004 scored 0.40 at a copy
# of its passage in music006, while its own place (0.86) ranked 25th in the coarse stage; at
# 0.35 it was not verified. Clean clips at their place score 0.8-1, so this costs nothing there
_VERIFY_MORE_BELOW = 0.6
# clips of fewer samples (a quarter of a second at 8 kHz has 2000) verify more places when
# their best is weak: n_candidates times _SHORT_CLIP / their length, at most _SHORT_VERIFY.
# Measured on 4 real tracks of 40 s (clean exact excerpts of 0.25 s): 6 of 40 were placed
# wrong with p < 0.01, their true place (exact score 0.56-0.69 against 0.35-0.43) ranked
# about 13th in the search; at 1 kHz a clean 2 s clip likewise
_SHORT_CLIP = 8000
_SHORT_VERIFY = 64
# the places a weak stand-in hid (Matcher._shadowed) are verified behind stand-ins the search
# alone would report at _SHADOWED_P, at most _SHADOWED of them: every further place scored is
# one more chance for unrelated clips (and for calibrate's probes). Measured on a calibrated
# catalog of 6 real tracks of a minute (colobot, singularity, hyperrogue, ...), every clean 3 s
# excerpt a second apart: 2 of 342 placed 1.4-2 s off at p 4e-13 and 0.007 before, none after. On two 1 h catalogs of real music
# (benchmarks/audio_calibration.py) every cell is unchanged but one: catalog B's 3 s clips in
# white noise at -15 dB, TPR at the empirical FPR 1% 93.7 -> 90.0%. There one probe of the
# music null met a stronger place (log10 p of its exact score -44.5 -> -57.6), and 11 true
# matches whose calibrated p sat on the null's step 0.167 moved to the next, 0.194, past the
# negatives' threshold 0.187; their per-query p (1e-19 to 1e-23) and every answer are unchanged
_SHADOWED_P = 0.01
_SHADOWED = 2
_EXACT_WEIGHT = 0.01  # the exact score's share of the level in Candidates.p_query's union of two tests
# the share of the level of the per-query union's own recalibration in Candidates.p (a music
# null with united probes): measured on two catalogs of real music (docs/audio.md), any
# share from 0.2 to 0.25 left every detection rate at p <= 0.01 as the two recalibrated
# tests alone gave it, while 0.3 reported the true track of 29-42 more 1 s clips in 100
# (white noise, -15 dB) above 0.01
_QUERY_WEIGHT = 0.25
_PROBE_CANDIDATES = 12  # candidates a probe of calibrate() scores: match's with its default top_k=5
_RATE_SCORE = 0.5
# calibrate(): a probe whose best place lies in a track holding its passage too (the same
# theme in two files of a soundtrack, a remix) is searched again without that track, at most
# _SHARED_TRACKS times: such music is in the catalog, not unrelated to it, and its probes put
# probabilities of 1e-100..1e-1800 into the music null, where they tie with true matches
# (Matcher._shares_passage: an excerpt two probe lengths away scores at the same relative
# place with a probability there of at most 10**_SHARED_LOG10_P, within _SHARED_DRIFT
# samples). Measured on 4.34 h of real music (83 tracks; 323 probes of 1 s and 3 s, the
# excerpts two lengths before and after each): where a probe found the same theme in
# another track (colobot Intro1/Intro2, music007/009, music008/Infinite, Constructive/
# Infinite/Humanitarian, drascula track1/track30) an excerpt scored 1e-39..1e-1394 there,
# within 0.6 samples; three more pairs 1e-26..1e-46 within 0.3 samples (a sound both hold:
# coherent to the sample 2-6 s on); every other probe's excerpts above 1e-13. Excerpts one
# length away (adjacent: a click at their boundary lies in both) confirmed unrelated hub
# places at 1e-54..1e-98
_SHARED_LOG10_P = -20.0
_SHARED_DRIFT = 1.0
_SHARED_TRACKS = 3
# A passage shared for less than two probe lengths (a jingle in several tracks) fails that
# test: its excerpts two lengths away are other music. A probe is also taken as shared when
# two of its _SHARED_PIECE-second pieces with at least one piece between them score at their
# own relative places in the other track as above (a copy of at least three pieces of it).
# One piece alone is not enough, nor two adjacent ones: a click in near-silence (a hub)
# lies in one piece, or in two at their boundary. On a 4-track catalog where 3 s of one
# track recurred in two others, every clean 3 s clip of the fourth track went unreported
# (p 0.015-0.029 instead of 2e-323): the probes that met the copies were counted as
# unrelated music at p < 1e-100
_SHARED_PIECE = 0.125
_BOUND_BINS = 512  # bins per group of the needle floor's bound (Matcher._search_rows)


class RateMismatchWarning(UserWarning):
    """A clip matches far better at another sample rate than the one declared for it.

    Issued by :meth:`Matcher.match` with ``check_rate=True`` (the default of
    :meth:`Matcher.match_file` and ``tsconv match``): the header of the clip's file most
    likely states a wrong rate (44.1 kHz audio labelled 48 kHz, or a rate off by 2x).
    """


def _rate_alternatives(sr: int) -> list[int]:
    """The rates a file declaring ``sr`` most likely really has: the other family's
    counterpart (44.1 vs 48 kHz, 22.05 vs 24 kHz, ...) and twice and half the rate.

    >>> _rate_alternatives(48000)
    [44100, 96000, 24000]
    >>> _rate_alternatives(44100)
    [48000, 88200, 22050]
    >>> _rate_alternatives(8000)
    [16000, 4000]
    """
    out = []
    if sr % 11025 == 0:
        out.append(sr * 48000 // 44100)
    elif sr % 12000 == 0:
        out.append(sr * 44100 // 48000)
    out += [2 * sr, sr // 2]
    return [r for r in out if 1000 <= r <= 384000 and r != sr]


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
        Pearson correlation, over their overlap, of the clip divided by the square root
        of its own power spectrum with the track seen through the same filter, floored in
        the bands the clip has lost, and scaled down where the stored track is near silent
        (see ``docs/audio.md``; 1 = identical up to gain at a whole-sample offset; about
        ``N(0, 1/overlap)`` when the clip is unrelated noise). The correlation is taken at
        whole samples of the working rate: a copy offset by a fraction of a sample (a clip
        recorded or cut at another rate) scores lower, since the whitened signal fills the
        band, down to about ``sinc(1/2) = 0.64`` at half a sample (a 3 s excerpt of real
        music at 44.1 kHz scored 0.61 to 0.92 with the phase of its first sample);
        ``offset_samples`` is still refined below one sample.
    false_alarm_probability : float
        Probability that a clip unrelated to the catalog produces, somewhere in the
        catalog, search evidence as strong as the strongest found in this track
        (calibrated on noise and out-of-catalog music; see ``docs/audio.md``).
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

    def plot(self, matcher: Matcher, samples: ArrayLike, sr: int, *, max_false_alarm: float = 0.01, ax: Any = None) -> Any:
        """The clip's correlation trace against this match's track, its peak and a false-alarm level.

        Needs the ``plot`` extra. The trace is :meth:`Matcher.trace`. The horizontal line
        is the score that the best of all lags of an unrelated clip exceeds with
        probability ``max_false_alarm``, estimated from this trace itself: a Gumbel law
        fitted to the maxima of groups of 64 lags away from the peak (whitened music is
        not white, so the plain ``N(0, 1/m)`` null would draw the line too low).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import scipy.stats

        from tsconv.plot import plot_match

        trace = matcher.trace(samples, sr, self.track)
        peak = int(np.clip(round(self.offset_samples), 0, trace.size - 1))
        g = 64
        groups = trace[: trace.size // g * g].reshape(-1, g).max(axis=1)
        far = np.abs(np.arange(groups.size) * g + g // 2 - peak) > 4 * g
        level = None
        if np.count_nonzero(far) >= 10:
            loc, scale = scipy.stats.gumbel_r.fit(groups[far])
            level = float(scipy.stats.gumbel_r.ppf((1.0 - max_false_alarm) ** (1.0 / groups.size), loc, scale))
        return plot_match(trace, peak=peak, threshold=level, sr=matcher.sr, ax=ax, false_alarm=max_false_alarm,
                          title=f"{self.track} at {self.offset:.4f} s (score {self.score:.3f})")


def _exact_int(value: Any, name: str) -> int:
    """A catalog field that must be a JSON integer (not a bool, a float or a string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError(f"{name} must be an integer, got {value!r:.40}")
    return value


def _exact_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CatalogError(f"{name} must be a finite number, got {value!r:.40}")
    return float(value)


def _log10_false_alarm(score: float, m: float, n_lags: int) -> float:
    """log10 of :func:`tsconv.false_alarm_probability`, computed without underflow."""
    return float(false_alarm_probability(score, m, n_lags, log=True)) / _LN10


def _rank_by_probability(r: Match) -> tuple[float, float, str]:
    return (r.false_alarm_probability, -r.score, r.track)


def _rank_by_score(r: Match) -> tuple[float, float, str]:
    return (-r.score, r.false_alarm_probability, r.track)


_RANK_KEY = _rank_by_score


@dataclass
class _Track:
    name: str
    n: int  # samples at the working rate
    data: NDArray[np.floating]  # whitened, levelled samples (float16 or float32)
    kernel: Kernel | None  # the whitening filter (None: no whitening)
    acf: NDArray[np.float64]  # normalized autocorrelation of `data`, lags 0.._ACF_LAGS
    source: str = ""
    index: BlockIndex | None = None
    resp_power: NDArray[np.float32] | None = None  # |whitener response|^2 on the search grid
    energy: NDArray[np.float32] | None = None  # band energies of the zero-padded track, frame by frame (frames, _N_BANDS)
    resp_band: NDArray[np.float64] | None = None  # |whitener response|^2 on the frame grid (search band)
    # the long-term spectrum 1 / |C|^2 at the Welch bins Matcher._native_inside selects
    # (computed at the first query: Matcher._track_spectrum)
    native: NDArray[np.float64] | None = None
    # keep -> the smallest of max(resp_power[:keep], 1e-30) in each _BOUND_BINS bins
    # (Matcher._search_rows: which bins of the needle its floor can change)
    bound: dict[int, NDArray[np.float32]] = dataclasses.field(default_factory=dict)


def _acf(x: NDArray[np.floating], nlags: int) -> NDArray[np.float64]:
    """Normalized autocorrelation at lags 0..nlags (from the Welch spectrum: fast, long signals)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 4 * nlags:
        x = x - x.mean()
        r = np.correlate(x, x, "full")[x.size - 1 : x.size + nlags]
    else:
        seg = min(4096, 1 << int(np.log2(x.size)))
        # the autocovariance is the inverse transform of the two-sided density
        r = scipy.fft.irfft(welch_psd(x, seg, 2 * seg, onesided=False, max_segments=64), 2 * seg)[: nlags + 1]
    if r.size < nlags + 1:
        r = np.r_[r, np.zeros(nlags + 1 - r.size)]
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
    # the centred moving average of 'same' length even when there are fewer frames than taps
    # (np.convolve's 'same' returns max(M, N) values: a track under 0.625 s broke here)
    h = (_AGC_SMOOTH - 1) // 2
    ms = np.convolve(ms, np.ones(_AGC_SMOOTH) / _AGC_SMOOTH, mode="full")[h : h + n_frames]
    total = float(np.mean(x**2))
    if total == 0.0:
        return x
    rms = np.sqrt(np.maximum(ms, 1e-4 * total))
    centres = (np.arange(n_frames) + 0.5) * frame
    return x / np.interp(np.arange(x.size), centres, rms)


def _same(a: NDArray[np.float64] | None, b: NDArray[np.float64] | None) -> bool:
    """Is ``b`` the clip ``a`` (the same array, or equal samples: each stage of a query
    prepares its own copy of the clip, and the per-clip memos serve them all)?"""
    return a is b or (a is not None and b is not None and a.shape == b.shape and bool(np.array_equal(a, b)))


def _window_sums(x: NDArray[np.float64], m: int, *, nonnegative: bool = False) -> NDArray[np.float64]:
    """``sum(x[k : k + m])`` for ``k = 0 .. len(x) - m``: the first by ``np.sum`` (pairwise),
    each next one by adding the sample that enters and subtracting the one that leaves.

    The exact scores want the sums of a clip's length (thousands of samples) at a few
    thousand lags: a running sum over the lags only, not a prefix sum over the whole window
    (a third of a refinement's time). The running sum keeps the rounding of the samples it
    has passed (about 1e-16 of theirs); for ``nonnegative`` samples (squares), a window
    without a positive sample sums to exactly 0 and no sum is negative, as the differences
    of a prefix sum gave (digital silence after a loud passage must score 0, not the ratio
    of two rounding errors; tested).

    >>> _window_sums(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 3).tolist()
    [6.0, 9.0, 12.0]
    >>> _window_sums(np.array([0.1, 0.7, 0.0, 0.0, 0.0]), 2, nonnegative=True).tolist()[-2:]
    [0.0, 0.0]
    """
    out = np.empty(x.size - m + 1)
    out[0] = 0.0
    np.cumsum(x[m:] - x[:-m], out=out[1:])
    out += np.sum(x[:m])
    if nonnegative:
        pos = (x > 0).astype(np.int64)
        count = np.empty(out.size, dtype=np.int64)
        count[0] = 0
        np.cumsum(pos[m:] - pos[:-m], out=count[1:])
        count += int(pos[:m].sum())
        out[count == 0] = 0.0
        np.maximum(out, 0.0, out=out)
    return out


def _n_frames(n: int) -> int:
    """Frames of the band energies of ``n`` samples (one every ``_HOP``, at least one)."""
    return max(1, -(-int(n) // _HOP))


def _band_energy(x: NDArray[np.floating], n_bands: int) -> NDArray[np.float32]:
    """Band energies of ``x`` frame by frame, float32: shape ``(frames, n_bands)``.

    Frame ``j`` is a Hann window of ``_FRAME`` samples centred on samples
    ``j*_HOP .. (j+1)*_HOP``; band ``b`` holds its periodogram bins
    ``b*_BAND_BINS .. (b+1)*_BAND_BINS - 1``. A query weights the bands, then sums the
    frames cumulatively in float64 (:meth:`Matcher._search_rows`): half the memory of
    cumulative float64 rows, which a float32 store could not hold (its rounding grows
    with the length of the track).
    """
    x = np.asarray(x, dtype=np.float32)
    n_frames = _n_frames(x.size)
    padded = np.zeros(n_frames * _HOP + _FRAME, np.float32)
    start = (_FRAME - _HOP) // 2
    padded[start : start + x.size] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, _FRAME)[::_HOP][:n_frames]
    window = scipy.signal.get_window("hann", _FRAME).astype(np.float32)
    out = np.empty((n_frames, n_bands), np.float32)
    for a in range(0, n_frames, 4096):
        spec = scipy.fft.rfft(frames[a : a + 4096] * window, axis=1)[:, : n_bands * _BAND_BINS]
        power = spec.real**2 + spec.imag**2
        out[a : a + power.shape[0]] = power.reshape(power.shape[0], n_bands, _BAND_BINS).sum(axis=2)
    return out


def _kernel_response(kernel: Kernel | None, nfft: int, keep: int) -> NDArray[np.complex128]:
    """``H(w_k) = sum_j coef[j] exp(-i w_k (j - origin))`` at ``w_k = 2 pi k / nfft``, k < keep."""
    if kernel is None:
        return np.ones(keep, dtype=np.complex128)
    coef = kernel.coef
    h = scipy.fft.rfft(coef, nfft)[:keep]
    w = 2 * np.pi * np.arange(keep) / nfft
    return h * np.exp(1j * w * kernel.origin)


def _clip_whitener(y: NDArray[np.float64]) -> Whitener | None:
    """The clip's spectral :class:`tsconv.Whitener`: Welch on ``_PSD_SEG``-sample segments
    (31 Hz at 8 kHz), floored at 1e-6 of its peak; None for a clip without power."""
    if np.ptp(y) == 0:
        return None
    w = Whitener("spectral", nperseg=min(_PSD_SEG, y.size), normalize="taps")
    try:
        return w.fit(y)
    except ValueError:  # constant within every segment: no spectrum to weight by
        return None


def _psd_on_grid(y: NDArray[np.float64], freqs: NDArray[np.float64],
                 whitener: Whitener | None = None, fitted: bool = False) -> NDArray[np.float64]:
    """The clip's smoothed power spectrum (:func:`_clip_whitener`) at normalized frequencies ``freqs`` (cycles/sample).

    ``whitener`` is ``_clip_whitener(y)`` if already computed (``fitted=True``); a clip
    without power gets a flat spectrum.
    """
    w = whitener if fitted else _clip_whitener(y)
    return np.ones_like(freqs, dtype=np.float64) if w is None else w.spectrum(freqs)


def _group_min(resp_power: NDArray[np.float32]) -> NDArray[np.float32]:
    """The smallest of ``max(resp_power, 1e-30)`` in each group of ``_BOUND_BINS`` bins (the last one shorter)."""
    return np.minimum.reduceat(np.maximum(resp_power, 1e-30), np.arange(0, resp_power.size, _BOUND_BINS))


def _floored_needle(needle: NDArray[np.complex64], p_y: NDArray[np.float64], p_min: NDArray[np.float64],
                    level: NDArray[np.float64], resp_power: NDArray[np.float32], r_min: NDArray[np.float32]
                    ) -> NDArray[np.complex64]:
    """The search's needle of a track: ``needle * sqrt(P_y / max(P_y, level / max(|C|^2, 1e-30)))``
    (complex64), the clip's spectrum floored at its level on the track (:meth:`Matcher._track_view`).

    ``needle``, ``p_y`` ``(rows, bins)``, ``level`` ``(rows, 1)``, ``resp_power`` ``(bins,)``;
    ``p_min`` and ``r_min`` are the smallest ``p_y`` of each row and :func:`_group_min` of
    ``resp_power`` in each group of ``_BOUND_BINS`` bins. The factor is exactly 1 in a group
    where the smallest ``P_y`` reaches ``level`` over the smallest ``|C|^2`` (the largest
    threshold: a correctly rounded division is monotone), so only the other groups are
    computed: the same values for a fraction of the work (most clips floor no bin of most
    tracks). ``needle`` itself is returned when nothing changes. The slow twin is the formula
    (``tests/test_audio.py``).
    """
    groups = np.flatnonzero(np.any(p_min < level / r_min, axis=0))
    if not groups.size:
        return needle
    n = p_y.shape[1]
    in_group = np.zeros(r_min.size, dtype=bool)
    in_group[groups] = True
    bins = np.flatnonzero(np.repeat(in_group, _BOUND_BINS)[:n])
    p_sub = p_y[:, bins]
    fac = np.sqrt(p_sub / np.maximum(p_sub, level / np.maximum(resp_power[bins], 1e-30)))
    if np.all(fac == 1.0):
        return needle
    out = needle.copy()
    out[:, bins] = (needle[:, bins] * fac).astype(np.complex64)
    return out


def _track_floor(p_clip: NDArray[np.float64], p_track: NDArray[np.float64]) -> Any:
    """The clip's level on a track's spectrum: the ``_EVIDENCE_Q`` quantile of ``p_clip / p_track``.

    Both on the Welch bins of the clip's spectrum from ``_F_LOW`` to ``0.45 sr``, the last
    axis (:meth:`Matcher._evidence_level`; one level per row of a stack of clips); see
    :meth:`Matcher._track_view` for its use.

    >>> r = np.array([8.0, 1.0, 4.0, 2.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0])
    >>> bool(_track_floor(r, np.ones(11)) == np.quantile(r, _EVIDENCE_Q))
    True
    """
    return np.quantile(p_clip / p_track, _EVIDENCE_Q, axis=-1)


def _null_fit(z: NDArray[np.float64]) -> tuple[float, float]:
    """Fit the chunk maxima with the maximum of ``n_c`` independent N(0, sigma^2) values.

    ``P(chunk max <= x) = Phi(x / sigma)^n_c``, matched at the median and the 99th
    percentile; quantiles ignore the handful of chunks a true match occupies. Returns
    ``(sigma, n_c)``. (A Gumbel or an exponential tail fitted to the same quantiles
    over-estimates the tail and gives over-conservative probabilities: measured.)
    """
    if z.size < 20:
        return 1.0, 1.0
    q50, q99 = (float(v) for v in np.percentile(z, [50.0, 99.0]))

    # scipy.special's log_ndtr and ndtri are what scipy.stats.norm.logcdf and .ppf
    # compute, without the distribution machinery's per-call overhead (60 bisection steps)
    def n_c(sig: float) -> float:
        return math.log(0.5) / float(scipy.special.log_ndtr(q50 / sig))

    def q99_of(sig: float) -> float:
        return sig * float(scipy.special.ndtri(0.99 ** (1.0 / n_c(sig))))

    if q50 <= 0 or q99 <= q50:
        return 1.0, 1.0
    lo, hi = 0.05 * q50, 20.0 * q50
    for _ in range(60):  # q99_of grows with sigma (for a fixed median)
        mid = 0.5 * (lo + hi)
        if q99_of(mid) < q99:
            lo = mid
        else:
            hi = mid
    sig = 0.5 * (lo + hi)
    return sig, max(n_c(sig), 1.0)


def _surrogate_clips(y: NDArray[np.float64]) -> Iterable[NDArray[np.float64]]:
    """Up to ``_MAX_SURROGATES`` phase-randomized copies of a clip: its amplitude spectrum, random phases.

    A small catalog has too few chunks for the null fit (a 6 s track: about 95; the fit's
    99th percentile is then its largest value or two, and 10% of pure-noise clips got
    p <= 0.01). A copy of the clip with the same amplitude spectrum and random phases has
    the clip's spectrum and is unrelated to every track: the chunk maxima of the catalog
    searched with it are samples of the null, pooled into the fit
    (``_Scan.fitted(extra_null=...)``). The phases come from a generator seeded by the
    clip's content, so a query is repeatable; the copies are rounded to float32 as a clip
    is (``Matcher._query``), so that a sharded catalog computes the same numbers.
    """
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(y).tobytes()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    spec = np.abs(scipy.fft.rfft(y))
    for _ in range(_MAX_SURROGATES):
        phase = np.exp(2j * np.pi * rng.random(spec.size))
        phase[0] = 1.0
        if y.size % 2 == 0:
            phase[-1] = 1.0
        yield scipy.fft.irfft(spec * phase, y.size).astype(np.float32).astype(np.float64)


@dataclass
class _Scan:
    """Chunk maxima of one coarse pass and their empirical null."""

    z: NDArray[np.float64]  # best statistic of each chunk
    lag: NDArray[np.int64]  # its padded lag (clip start)
    track: NDArray[np.int64]  # its track index
    sigma: float  # null model of a chunk maximum (see _null_fit)
    n_c: float
    n_chunks: float  # number of chunks searched
    z_neg: float = -math.inf  # the strongest anti-correlation (largest -z) of the pass

    @classmethod
    def fitted(cls, z: NDArray[np.float64], lag: NDArray[np.int64], track: NDArray[np.int64], n_chunks: float,
               extra_null: NDArray[np.float64] | None = None) -> _Scan:
        """The null fitted on the chunk maxima, leaving out the best chunk's neighbourhood.

        ``extra_null`` are more null samples (chunk maxima of surrogate clips, see
        ``Matcher._surrogate_null``) pooled into the fit; they do not count as searched chunks.

        The chunks within ``_FIT_EXCLUDE`` lags of the best one in its track are not
        null samples when the clip matches there: a clip's own musical repeats (beats,
        bars) correlate with the track around the match and would inflate the fit's
        upper quantile (noticeable in a small catalog; negligible chunks otherwise).
        """
        keep = slice(None)
        if z.size and lag.size == z.size and track.size == z.size:
            b = int(np.argmax(z))
            near = (track == track[b]) & (np.abs(lag - lag[b]) <= _FIT_EXCLUDE)
            if np.count_nonzero(~near) >= 20:
                keep = ~near
        null = z[keep] if extra_null is None else np.concatenate([z[keep], extra_null])
        return cls(z, lag, track, *_null_fit(null), max(n_chunks, 1.0))

    def p(self, z: float) -> float:
        """P(best of all chunks >= z | no match) = 1 - Phi(z / sigma)^(n_c n_chunks).

        That is :func:`tsconv.false_alarm_probability` of ``n_c * n_chunks`` independent
        lags, in its Gaussian regime (``m = _M_REF``, score ``z / (sigma sqrt(m))``).
        """
        return floor_p(float(false_alarm_probability(*self._score_and_lags(z))))

    def log10_p(self, z: float) -> float:
        """``log10`` of :meth:`p` computed without underflow (the music null orders the
        probabilities of strong matches, far below the smallest double)."""
        return _log10_false_alarm(*self._score_and_lags(z))

    def _score_and_lags(self, z: float) -> tuple[float, int, int]:
        """``(score, m, n_lags)`` of :func:`tsconv.false_alarm_probability` for ``z`` (:meth:`p`)."""
        r = min(max(z / self.sigma, 0.0) / math.sqrt(_M_REF), 1.0)
        return r, _M_REF, max(int(round(self.n_c * self.n_chunks)), 1)

    def top(self, k: int, min_sep: int) -> NDArray[np.int64]:
        chosen: list[int] = []
        for i in _best_first(self.z, 50 * k + 100):
            if all(self.track[i] != self.track[j] or abs(int(self.lag[i]) - int(self.lag[j])) >= min_sep for j in chosen):
                chosen.append(int(i))
                if len(chosen) >= k:
                    break
        return np.array(chosen, dtype=np.int64)

    def above(self, p: float, p_of: Callable[[float], float] | None = None) -> NDArray[np.int64]:
        hits = np.flatnonzero(self.z >= self.z_at(p, p_of))
        return hits[np.argsort(-self.z[hits], kind="stable")]

    def z_at(self, p: float, p_of: Callable[[float], float] | None = None) -> float:
        """The least ``z`` (to 60 bisections) whose ``p_of(z)`` (default :meth:`p`) is at most ``p``."""
        # p(z) is non-increasing in z (the music null's map is monotone too): bisect the threshold
        p_of = self.p if p_of is None else p_of
        lo, hi = 0.0, 1000.0 * self.sigma
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if p_of(mid) > p:
                lo = mid
            else:
                hi = mid
        return hi


def _best_first(z: NDArray[np.float64], n: int) -> NDArray[np.int64]:
    """The first ``n`` indices of the stable descending order of ``z``
    (``np.argsort(-z, kind="stable")[:n]``) without sorting all of it: every ``z`` at or
    above the ``n``-th largest, in index order, sorted stably."""
    n = min(n, z.size)
    if not 0 < n < z.size:
        return np.argsort(-z, kind="stable")[:n]
    best = np.flatnonzero(-z <= np.partition(-z, n - 1)[n - 1])
    return best[np.argsort(-z[best], kind="stable")][:n]


@dataclass(frozen=True, eq=False)
class Candidates:
    """Stage 1 of a search: the coarse candidate places of one clip in a catalog, or in part of one.

    :meth:`Matcher.candidates` returns one; :meth:`Matcher.score` (stage 2) scores some of
    them exactly. :meth:`Matcher.match` is these two stages: ``candidates(...).fitted()``,
    then ``top`` (or ``above``), then ``score``. A catalog split into parts (the shards of
    :class:`tsconv.dask.ShardedMatcher`) gives one ``Candidates`` per part;
    :meth:`combine` joins them into those of the whole catalog, exactly.

    Attributes
    ----------
    tracks : tuple of str
        The tracks searched; ``track`` indexes them.
    track : ndarray of int64
        The track of each candidate (an index into ``tracks``).
    lag : ndarray of int64
        The coarse place of each candidate: the track sample (at the matcher's rate) under
        the clip's first sample, within a few samples (stage 2 refines it); negative when
        the clip starts before the track.
    z : ndarray of float64
        The search statistic of each candidate: the best normalized correlation of its
        chunk of lags (one candidate per chunk searched).
    n_chunks : float
        Chunks of lags searched: the number of chances a clip unrelated to the catalog had.
    z_neg : float
        The strongest anti-correlation of the search (``-inf`` if none): the evidence of a
        polarity-inverted clip.
    spacing : int
        Candidates of one track closer than this many lags are the same place (half the
        clip's searched stretch).
    clip_samples : int
        Length of the clip at the matcher's rate.
    surrogates : tuple of ndarray
        The chunk maxima of the same catalog searched with phase-randomized copies of the
        clip, one array per copy: more samples of the null distribution for a small catalog.
    null : tuple of float or None
        ``(sigma, n_c)`` of the null distribution of a chunk maximum (the maximum of ``n_c``
        independent ``N(0, sigma^2)`` values), fitted by :meth:`fitted`; None before.
    music_null : object or None
        The music null of the catalog searched (:meth:`Matcher.calibrate`), which :meth:`p`
        applies; None when the catalog has none, and for the candidates of a part of a
        catalog (a :meth:`Matcher.subset` holds no music null: the null measured on the
        whole catalog does not describe a part of it) and of a search with ``exclude``.
        :class:`tsconv.dask.ShardedMatcher` attaches the whole catalog's to the combined
        candidates of its shards.
    sr : int
        The matcher's working rate (the clip lasts ``clip_samples / sr`` seconds; the
        music null depends on the clip's duration).
    lags : float
        Lags searched at the working rate: the sum over the tracks searched of their length
        plus the clip's searched stretch. The chances an exact score (:meth:`p` with
        ``score``) had; 0 (the default of a ``Candidates`` built by hand) means unknown,
        and an exact score is then no evidence (:meth:`p` is the search's alone).

    See Also
    --------
    Matcher.candidates, Matcher.score

    Examples
    --------
    >>> from tsconv.audio import Candidates, Matcher
    >>> from tsconv.audio._synth import synth_track
    >>> a, b = Matcher(), Matcher()
    >>> a.add("a", synth_track(8.0, 8000, seed=1), 8000)
    >>> b.add("b", synth_track(8.0, 8000, seed=2), 8000)
    >>> clip = synth_track(8.0, 8000, seed=2)[12000:36000]
    >>> lags = a.search_lags + b.search_lags  # the two parts form one catalog
    >>> parts = [m.candidates(clip, 8000, catalog_lags=lags) for m in (a, b)]
    >>> found = Candidates.combine(parts).fitted()
    >>> best = found.top(1)
    >>> best.tracks[best.track[0]], int(best.lag[0]), best.p(float(best.z[0])) < 1e-6
    ('b', 12000, True)
    >>> b.score(clip, 8000, best)[0].offset_samples
    12000.0
    """

    tracks: tuple[str, ...]
    track: NDArray[np.int64]
    lag: NDArray[np.int64]
    z: NDArray[np.float64]
    n_chunks: float
    z_neg: float
    spacing: int
    clip_samples: int
    surrogates: tuple[NDArray[np.float64], ...] = ()
    null: tuple[float, float] | None = None
    music_null: MusicNull | None = None
    sr: int = 0
    lags: float = 0.0

    def __len__(self) -> int:
        return int(self.z.size)

    def __repr__(self) -> str:
        state = "unfitted" if self.null is None else f"null sigma={self.null[0]:.4g}, n_c={self.null[1]:.4g}"
        music = ", music null" if self.music_null is not None else ""
        return f"Candidates({len(self)} places in {len(self.tracks)} tracks, {self.n_chunks:g} chunks, {state}{music})"

    @classmethod
    def combine(cls, parts: Iterable[Candidates]) -> Candidates:
        """The candidates of a whole catalog from those of its parts (disjoint sets of tracks).

        Every part must come from the same clip, searched with the same ``catalog_lags``
        and the same number of ``surrogates`` (:meth:`Matcher.candidates`). The result is
        not fitted: call :meth:`fitted`. It carries no music null (the parts, subsets of a
        catalog, hold none): attach the whole catalog's with
        ``dataclasses.replace(found, music_null=...)``, as :class:`tsconv.dask.ShardedMatcher` does.

        Raises
        ------
        TypeError
            If a part is not a Candidates.
        ValueError
            If there are no parts, two parts hold the same track, or the parts disagree on
            the clip or the number of surrogate copies.
        """
        parts = list(parts)
        if not parts:
            raise ValueError("parts must hold at least one Candidates, got none")
        for c in parts:
            if not isinstance(c, Candidates):
                raise TypeError(f"parts must be Candidates, got {type(c).__name__}")
        first = parts[0]
        for c in parts[1:]:
            if (c.spacing, c.clip_samples) != (first.spacing, first.clip_samples):
                raise ValueError(
                    f"parts must come from one clip: got clip lengths {first.clip_samples} and {c.clip_samples} "
                    f"samples, spacings {first.spacing} and {c.spacing}"
                )
            if c.sr != first.sr:
                raise ValueError(f"parts must come from matchers of one working rate, got {first.sr} and {c.sr} Hz")
            if len(c.surrogates) != len(first.surrogates):
                raise ValueError(
                    f"parts must have searched the same number of surrogate copies, got {len(first.surrogates)} and {len(c.surrogates)}"
                )
        names: list[str] = []
        for c in parts:
            names.extend(c.tracks)
        if len(set(names)) != len(names):
            seen = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"parts must hold disjoint tracks, got {seen[:5]} in more than one part")
        base = np.cumsum([0] + [len(c.tracks) for c in parts[:-1]])
        return cls(
            tuple(names),
            np.concatenate([c.track + b for c, b in zip(parts, base)]).astype(np.int64),
            np.concatenate([c.lag for c in parts]).astype(np.int64),
            np.concatenate([c.z for c in parts]).astype(np.float64),
            float(sum(c.n_chunks for c in parts)),
            max(float(c.z_neg) for c in parts),
            first.spacing,
            first.clip_samples,
            tuple(np.concatenate([c.surrogates[k] for c in parts]) for k in range(len(first.surrogates))),
            sr=first.sr,
            lags=float(sum(c.lags for c in parts)),
        )

    def _null_samples(self) -> tuple[NDArray[np.float64] | None, bool]:
        """The surrogate chunk maxima the fit pools (the first copies that bring the null samples
        to ``_MIN_NULL``, or stop at a copy that found nothing), and whether they suffice."""
        if self.z.size == 0 or self.z.size >= _MIN_NULL:
            return None, True
        needed, got, used = _MIN_NULL - self.z.size, 0, []
        for s in self.surrogates:
            used.append(s)
            got += s.size
            if got >= needed or s.size == 0:
                return np.concatenate(used), True
        extra = np.concatenate(used) if used else np.zeros(0)
        return extra, len(self.surrogates) >= _MAX_SURROGATES

    @property
    def complete(self) -> bool:
        """Whether :meth:`fitted` has all the null samples it needs.

        A catalog with fewer than 1000 chunks (under about a minute of audio) tops the null
        fit up with chunk maxima of surrogate copies of the clip (``surrogates``, up to 64
        copies); a combination of parts searched with too few copies is not complete.
        """
        return self._null_samples()[1]

    def fitted(self) -> Candidates:
        """These candidates with the null distribution fitted on their chunk maxima.

        The maxima near the best candidate are left out (a clip's musical repeats around
        its true place are not null samples); the surrogate maxima, if any, are pooled in.
        """
        extra, _ = self._null_samples()
        scan = _Scan.fitted(self.z, self.lag, self.track, self.n_chunks, extra)
        return dataclasses.replace(self, null=(scan.sigma, scan.n_c))

    def _scan(self) -> _Scan:
        if self.null is None:
            raise ValueError("these candidates are not fitted: call Candidates.fitted() first")
        return _Scan(self.z, self.lag, self.track, self.null[0], self.null[1], max(self.n_chunks, 1.0), self.z_neg)

    def p(self, z: float, score: float | None = None, length: float | None = None) -> float:
        """False-alarm probability of the statistic ``z``: the probability reported by :meth:`Matcher.score` and ``match``.

        :meth:`p_query` of ``z`` (and of the exact ``score`` of effective length ``length``,
        when given), each of the two tests recalibrated by the catalog's music null when it
        has one (``max(p, P(p_probe <= p))`` over the probes' probabilities of that test, see
        :meth:`Matcher.calibrate`), then united as in :meth:`p_query`: the probability that
        a clip unrelated to the catalog, noise or real music, gets evidence as strong. A
        music null of format version 5 also recalibrates :meth:`p_query`'s union itself by
        the probes' own unions, a third test holding a quarter of the level (the two tests
        then share the other three quarters as :meth:`p_query` shares the level): on real
        music it ranks true matches in noise above unrelated songs better than the two tests
        recalibrated apart. A music null measured before exact scores were evidence (no
        exact-score probes) recalibrates ``z`` alone and the exact score is not used. Needs
        the fitted null (:meth:`fitted`).
        """
        return floor_p(min(1.0, *self._terms(z, score, length, music=True)))

    def p_query(self, z: float, score: float | None = None, length: float | None = None) -> float:
        """The per-query false-alarm probability of ``z``, and of an exact score if given.

        Of ``z`` alone: P(best of all chunks >= z | no match), ``1 - Phi(z / sigma)^(n_c
        n_chunks)`` (:func:`tsconv.false_alarm_probability` in its Gaussian regime), from the
        null fitted on this clip's own chunk maxima. With the candidate's exact ``score``
        (:meth:`Matcher.score`) and its effective ``length`` (Bartlett's: the overlap divided
        by ``sum_k rho_clip(k) rho_track(k)``, which :meth:`Matcher.score` measures at the
        place; the overlap itself for white signals): ``min(1, p_z / (1 - w), p_s / w)``
        with ``w = 0.01``, where ``p_s = false_alarm_probability(score, length, lags)``
        treats the exact score as the best of every lag of the catalog at the full rate. A
        weighted Bonferroni union: either test alone holds its level on noise, so the union
        holds it too (at level ``a``: ``0.99 a`` for the search, ``0.01 a`` for the exact
        score), while a clip unrelated to the catalog gets nearly the search's own ``p_z``
        (the exact score at the few places scored is rarely the catalog's best). The
        exact score sees the whole band, the search only its lower half: on an hour of real
        music, true places of 3 s clips in white noise at -15 dB scored 0.09-0.11 (``p_s``
        below 1e-20) where the search's ``p_z`` was 1. Calibrated for noise-like clips, not
        for unrelated real music, on which either test is far too small (:meth:`p` applies
        the music null to each). Needs the fitted null (:meth:`fitted`).

        Raises
        ------
        TypeError
            If only one of ``score`` and ``length`` is given, or one is not a number.
        ValueError
            If the candidates are not fitted, ``score`` is not finite or ``length`` not above 2.
        """
        return floor_p(min(1.0, *self._terms(z, score, length, music=False)))

    def _terms(self, z: float, score: float | None, length: float | None, music: bool) -> tuple[float, float]:
        """``(a, b)``: the search's and the exact score's terms of the union ``min(1, a, b)``
        (``b = inf`` without an exact score, or with a music null that has no exact-score
        probes), each recalibrated by the music null when ``music``."""
        if not is_real(z):
            raise TypeError(f"z must be a real number, got {z!r}")
        if math.isnan(z):
            raise ValueError("z must be a number, got nan")
        null = self.music_null if music else None
        if null is not None:
            return self._music_terms(null, z, score, length)
        p_z = self._scan().p(float(z))
        if score is None and length is None:
            return p_z, math.inf
        p_s = self._p_exact(score, length)
        if self.lags <= 0:  # the chances of the exact score unknown: it is no evidence
            return p_z, math.inf
        return p_z / (1.0 - _EXACT_WEIGHT), p_s / _EXACT_WEIGHT

    def _music_terms(self, null: MusicNull, z: float, score: float | None, length: float | None) -> tuple[float, float]:
        """:meth:`_terms` recalibrated by the music null (:meth:`MusicNull.terms`), from the
        log10 probabilities of the two tests (computed without underflow: a strong match
        keeps its place below the probes, whose probabilities are recorded the same way)."""
        duration = self.clip_samples / self.sr if self.sr else 0.0
        lags = self.lags if self.lags > 0 else None  # the catalog's size, for a null probed on parts of it
        lz = self._scan().log10_p(float(z))
        if score is None and length is None:
            return null.p_log10(lz, duration, lags), math.inf
        lp_s = self._p_exact(score, length, log10=True)
        if self.lags <= 0 or null.log_p_exact is None:  # the exact score is no evidence
            return null.p_log10(lz, duration, lags), math.inf
        return null.terms(lz, lp_s, duration, lags, _EXACT_WEIGHT, _QUERY_WEIGHT)

    def _p_exact(self, score: Any, length: Any, *, log10: bool = False) -> float:
        """``false_alarm_probability(score, length, lags)`` (validated); its log10, computed
        without underflow, with ``log10``."""
        if score is None or length is None:
            raise TypeError(f"score and length must be given together, got score={score!r}, length={length!r}")
        for value, name in ((score, "score"), (length, "length")):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"{name} must be a real number, got {value!r:.40}")
        if not (math.isfinite(float(score)) and float(length) > 2.0):
            raise ValueError(f"score must be finite and length a number above 2, got score={score!r}, length={length!r}")
        r = min(max(float(score), -1.0), 1.0)
        n = max(int(self.lags), 1)
        return _log10_false_alarm(r, float(length), n) if log10 else float(false_alarm_probability(r, float(length), n))

    @property
    def inverted(self) -> bool:
        """Whether the clip is polarity-inverted (nothing is then reported).

        True when the strongest anti-correlation beats the strongest correlation and would
        itself be a detection at false-alarm probability 1e-3. Needs the fitted null.
        """
        return Matcher._inverted(self._scan())

    def take(self, indices: ArrayLike) -> Candidates:
        """The candidates at ``indices`` (in that order), with the same null and tracks."""
        idx = np.asarray(indices)
        if idx.dtype == bool or idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"indices must be a 1-D array of integers, got {idx.dtype} of shape {idx.shape}")
        idx = idx.astype(np.int64)
        return dataclasses.replace(self, track=self.track[idx], lag=self.lag[idx], z=self.z[idx])

    def top(self, k: int) -> Candidates:
        """The ``k`` best candidates at distinct places (at least ``spacing`` lags apart in a track), best first."""
        k = as_int(k, "k", minimum=1)
        return self.take(self._scan().top(k, self.spacing))

    def above(self, max_false_alarm: float) -> Candidates:
        """The candidates whose false-alarm probability (:meth:`p`) is at most ``max_false_alarm``, best first."""
        p = Matcher._check_probability(max_false_alarm, "max_false_alarm")
        return self.take(self._scan().above(p, self.p))


class Matcher:
    """A catalog of audio tracks and a whitened matched filter to search it.

    Parameters
    ----------
    sr : int, default 8000
        Working sample rate (Hz): tracks and clips are resampled to it.
    whitening : {'spectral', 'lpc', 'none'} or None, default 'spectral'
        How each track is whitened (a :class:`tsconv.Whitener` fitted on that track, with
        unit-energy taps): ``'spectral'`` flattens its Welch spectrum (257-tap zero-phase filter), ``'lpc'``
        applies its LPC inverse filter of order ``lpc_order``; ``'none'``/None keeps the
        raw signal (correlation then has broad peaks and music-dependent side lobes).
    lpc_order : int, default 32
        Order of the LPC whitener.
    max_needle : float, optional
        Longest stretch of a clip (seconds) correlated against the whole catalog in one
        pass; a longer clip is searched by up to three such stretches and then scored
        over its whole length. Default: 6 s, or the most the search block holds at a
        working rate above 21.8 kHz (fewer than 131,072 samples: 2.97 s at 44.1 kHz).
    storage : {'float16', 'float32'}, default 'float16'
        Precision of the stored whitened samples (float16 halves the file; the
        levelled whitened signal has unit power, far from float16's limits).
    speed_range : float, default 0.0
        Default relative speed range searched by :meth:`match` (0.01: clips played up to
        1% fast or slow); see :meth:`match`.
    workers : int, default 2
        Threads for the catalog search (tracks in parallel) and for decoding files.

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
    Thread safety: queries (:meth:`match`, :meth:`find_all`, :meth:`match_file`,
    :meth:`trace`) may run from any number of threads at once, on a freshly loaded
    matcher too: the search index, built by the first query, is built once under a lock,
    and every query keeps its intermediate results to its own thread. Adding tracks or
    saving while other threads query is not supported.

    For a clip ``y = g h * s + n`` (gain ``g``, an equaliser ``h``, noise ``n``) of a
    track ``s``, the detector correlates the clip with the track after weighting their
    cross-spectrum by ``1 / P_y(f)``, the clip's own smoothed power spectrum:
    ``r(k) = IFFT[Y(f) conj(S(f)) / P_y(f)]``. With ``P_y = |g H|^2 P_s + P_n`` this is
    the phase transform (a delta at the true offset) when the clip is clean, and the
    matched filter in coloured noise (weight ``1/P_n``) when noise dominates
    (Knapp & Carter 1976; Van Trees 1968, section 4.3). The catalog stores ``C s``
    (``C`` the track's whitener) so the clip is filtered by ``1 / (conj(C) P_y)``.
    When the clip is unrelated to the track, ``r(k)`` has variance
    ``E(k) = sum_f |S_k(f)|^2 / P_y(f)`` (``S_k``: the track under the clip's window at
    lag ``k``), which follows the loudness and colour of the music from passage to
    passage: the search statistic is ``z(k) = r(k) / sqrt(E(k))`` (``E`` from stored
    band energies), and the best ``z`` of every chunk of lags is kept. The chunk maxima
    away from the best one are fitted by the maximum of ``n_c`` independent
    ``N(0, sigma^2)`` values, and the false-alarm probability of the best of all chunks
    is ``1 - Phi(z / sigma)^(n_c n_chunks)`` (:func:`tsconv.false_alarm_probability` in
    its Gaussian regime). The score is the exact Pearson correlation of
    ``u = y / sqrt(P_y)`` with ``v = s / sqrt(P_f)`` over their overlap: the same
    numerator, normalized by its own standard deviation.

    ``P_f = max(P_y, g P_t)`` is ``P_y`` floored at the clip's level ``g`` on the track's
    long-term spectrum ``P_t = 1 / |C|^2``: in a band a channel has removed (a high-pass, a
    phone line) dividing the track by ``sqrt(P_y)`` would amplify it by ``1 / |H|`` where
    the clip has no evidence; the search uses the same ``P_f`` on the track's side (its
    needle ``conj(Y) / sqrt(P_y P_f)``, ``E(k) = sum_f |S_k(f)|^2 / P_f(f)``). Where the
    clip has its band, ``P_f = P_y``.

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
        max_needle: float | None = None,
        storage: StorageDtype = "float16",
        speed_range: float = 0.0,
        workers: int = 2,
    ) -> None:
        self.sr = _check_sr(sr)
        self.whitening: Whitening = check_option("none" if whitening is None else whitening, Whitening, "whitening")
        self.lpc_order = as_int(lpc_order, "lpc_order", minimum=1)
        # the search block (_NFFT samples) holds needles of fewer than _NFFT / 2 samples
        most = math.floor((_NFFT // 2 - 1) / self.sr * 100) / 100
        if max_needle is None:
            max_needle = min(6.0, most)
        if (not is_real(max_needle)
                or not 0.25 <= float(max_needle) <= 10.0):
            raise ValueError(f"max_needle must be a number of seconds in [0.25, 10], got {max_needle!r}")
        if float(max_needle) > most:
            raise ValueError(f"max_needle={max_needle!r} s at sr={self.sr} is {float(max_needle) * self.sr:.0f} samples; the "
                             f"search block holds fewer than {_NFFT // 2}: pass max_needle <= {most} (or a lower sr)")
        self.max_needle: float = float(max_needle)
        self.storage: StorageDtype = check_option(storage, StorageDtype, "storage")
        self.speed_range: float = self._check_speed_range(speed_range)
        self.workers: int = as_int(workers, "workers", minimum=1)
        self._tracks: list[_Track] = []
        self._names: dict[str, int] = {}
        self._resp_cache: dict[tuple[int, int], tuple[NDArray[np.complex128], NDArray[np.float64]]] = {}
        self._music_null: MusicNull | None = None  # see calibrate()
        self._init_sync()

    def _init_sync(self) -> None:
        # queries may arrive from many threads: the lazy index is built under a lock, the
        # per-query memos (the clip's spectrum, the needle's FFT) are per thread
        self._index_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_index_lock", "_cache_lock", "_local"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_sync()

    # -- catalog ---------------------------------------------------------------------------
    @staticmethod
    def _check_speed_range(value: Any) -> float:
        if not is_real(value) or not 0.0 <= float(value) <= 0.05:
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
            # the track's own filter, unit-energy taps (_level sets the scale); a long
            # track's spectrum from at most 4000 evenly spaced Welch segments
            method: WhitenMethod = "lpc" if self.whitening == "lpc" else "spectral"
            w = Whitener(method, order=self.lpc_order, normalize="taps", max_segments=4000)
            kernel = w.fit(x64).kernel
            assert kernel is not None
            # zero-padded edges (Whitener.transform's 'same' leaves the warm-up as NaN)
            full = convolve_full(x64, kernel.coef)
            y = full[kernel.origin : kernel.origin + x64.size]
        return _level(y, self.sr), kernel

    def _prepare(self, samples: ArrayLike, sr: Any, name: str = "samples") -> NDArray[np.float32]:
        sr = _check_sr(sr)
        x = to_mono(samples, name, rescale=True)  # the answers do not depend on the level
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
            raise ValueError(f"track {name!r} is too short: {x.size} samples at {self.sr} Hz ({x.size / self.sr:.4g} s), "
                             f"need at least 0.1 s ({math.ceil(0.1 * self.sr)} samples)")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"track {name!r} holds NaN or infinite samples")
        y, kernel = self._whiten(x)
        data = y.astype(self.storage)
        track = _Track(name, int(x.size), data, kernel, _acf(y, _ACF_LAGS), source)
        self._music_null = None  # the catalog changed: its music null no longer holds
        self._names[name] = len(self._tracks)
        self._tracks.append(track)

    def add_file(self, path: str | os.PathLike[str], name: str | None = None) -> str:
        """Decode ``path`` (anything libsndfile reads) and add it; returns the track name
        (default: the file name without its extension). The track's source is recorded
        as the file's absolute path."""
        x, _ = load(path, sr=self.sr)
        name = name if name is not None else os.path.splitext(os.path.basename(os.fspath(path)))[0]
        if name in self._names:
            raise ValueError(f"a track named {name!r} is already in the catalog")
        self._add_prepared(name, x, os.path.abspath(os.fspath(path)))
        return name

    def add_directory(self, path: str | os.PathLike[str], pattern: str = "*", *, progress: bool | None = None) -> list[str]:
        """Add every audio file under ``path`` (recursively) whose name matches ``pattern``.

        Files are decoded and resampled in parallel (``workers`` threads); names are the
        paths relative to ``path`` without extension, sources their absolute paths. Files
        that cannot be added are skipped with a line on stderr naming them: special files
        (FIFOs, devices, sockets: reading one could block forever), files libsndfile cannot
        decode, sample rates outside 1-384 kHz, NaN or infinite samples, tracks under
        0.1 s, duplicate names. Hidden files (``.name``) are not considered. A progress
        line is shown on a terminal (``progress=None``: when stderr is a TTY).

        A ``KeyboardInterrupt`` (Ctrl-C) stops the decoding promptly: queued files are
        cancelled, and the tracks added so far stay in the matcher (nothing is written).

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
                    full = os.path.join(dirpath, fn)
                    try:
                        regular = stat.S_ISREG(os.stat(full).st_mode)
                    except OSError as exc:  # a dangling link, a file removed meanwhile
                        print(f"tsconv: skipping {full}: {exc.strerror or exc}", file=sys.stderr)
                        continue
                    if not regular:
                        print(f"tsconv: skipping {full}: not a regular file (FIFO, device or socket)", file=sys.stderr)
                        continue
                    files.append(full)
        files.sort()
        show = sys.stderr.isatty() if progress is None else progress

        def decode(p: str) -> tuple[str, NDArray[np.float32] | None, str]:
            try:
                x, _ = load(p, sr=self.sr)
                return p, x, ""
            except (ValueError, OSError, MemoryError) as exc:
                return p, None, str(exc)

        added = []
        t0 = time.perf_counter()
        pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            for i, (p, x, err) in enumerate(pool.map(decode, files), start=1):
                if x is None:
                    print(f"tsconv: skipping {p}: {err}", file=sys.stderr)
                    continue
                name = os.path.splitext(os.path.relpath(p, root))[0].replace(os.sep, "/")
                if name in self._names:
                    print(f"tsconv: skipping {p}: a track named {name!r} is already in the catalog", file=sys.stderr)
                    continue
                try:
                    self._add_prepared(name, x, os.path.abspath(p))
                except ValueError as exc:  # too short, NaN samples
                    print(f"tsconv: skipping {p}: {exc}", file=sys.stderr)
                    continue
                added.append(name)
                if show:
                    print(f"\rindexed {i}/{len(files)} files, {self.duration / 60:.1f} min, {time.perf_counter() - t0:.1f} s",
                          end="", file=sys.stderr, flush=True)
        except BaseException:
            # Ctrl-C: drop the queued files instead of decoding them all before stopping
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        if show:
            print(file=sys.stderr)
        return added

    # -- the music null ----------------------------------------------------------------------
    def calibrate(self, per_track: int = 8, *, max_probes: int = 256, probe_hours: float | None = 1.0,
                  seed: int = 0) -> None:
        """Measure the probabilities unrelated music gets in this catalog (the music null).

        Excerpts of the tracks, 1 s and 3 s long, are searched in the catalog without their
        own track (leave-one-track-out); the probability each gets is recorded.
        :meth:`match`, :meth:`find_all`, :meth:`score` and :meth:`tsconv.audio.Candidates.p`
        then report ``max(p, P(p_probe <= p))`` for a clip of that duration (interpolated in
        log-duration; below the smallest tenth of the probes the smaller of that share and
        a power tail whose exponent is the 95% lower confidence bound of its Hill estimate,
        the share floored at the tail's value at the most extreme probe, since one probe in
        ``n`` is no bound of the share beyond it): the per-query null describes noise-like
        clips, the music null the passages of real music that correlate with much of the
        catalog (near-silent stretches with clicks, pulsed passages). Saved with the catalog.
        A catalog of fewer than two tracks gets no music null.

        Each probe is one :meth:`match` without its own track: the coarse search
        (:meth:`candidates` with ``exclude``, whose leave-one-out index is never built) and
        the exact scores of the candidates :meth:`match` would score. A probe whose best place
        lies in a track holding its passage too (the same theme in two files; an excerpt two
        probe lengths away scores at the same relative place there) is searched again without
        that track: the null describes music that is not in the catalog. Three probabilities
        are recorded per probe, that of its best chunk, that of its best exact score and the
        two united as :meth:`tsconv.audio.Candidates.p_query` unites them; each of the two
        tests and their union is recalibrated by its own probes before the three are united
        (:meth:`tsconv.audio.Candidates.p`). The
        excerpts are the stored samples with the whitening undone (music as it sounds,
        levelled).

        Parameters
        ----------
        per_track : int, default 8
            Excerpts of each track per duration. More probes make the null finer where
            ``match``'s level of 0.01 is decided (one probe in 152 is a share of 0.0066),
            for more build time, but no truer for music of other soundtracks: on the
            one-hour catalogs of ``benchmarks/audio_calibration.py`` (19 tracks), 16 per
            track (256 probes) reported the true track of 1 s clips in white noise at
            -15 dB at p <= 0.01 in 66% of cases on catalog B instead of 30%, but 3.3% of
            the clean out-of-catalog 1 s clips of catalog A's third draw instead of 0.7%,
            for twice the build time (``docs/audio.md``).
        max_probes : int, default 256
            At most this many excerpts per duration: beyond ``max_probes / per_track``
            tracks, the excerpts' tracks are drawn in proportion to their length.
        probe_hours : float or None, default 1.0
            Hours of music each probe searches: in a larger catalog, a random set of tracks
            (drawn anew for every probe, never its own) of about that length; the
            probabilities are then read for the whole catalog by the union bound over its
            parts of that size (``r P(p_probe <= p / r)``, ``r`` the catalog's lags over the
            probes'). The null's cost is then at most ``2 * max_probes`` searches of
            ``probe_hours`` of music, whatever the catalog's size. None: every probe searches
            the whole catalog (its cost grows with the catalog's length).

        Raises
        ------
        ValueError, TypeError
            A bad ``per_track``, ``max_probes``, ``probe_hours`` or ``seed``.

        Examples
        --------
        >>> from tsconv.audio import Matcher
        >>> from tsconv.audio._synth import synth_track
        >>> m = Matcher()
        >>> for i in range(3):
        ...     m.add(f"t{i}", synth_track(8.0, 8000, seed=i), 8000)
        >>> m.calibrate(per_track=4)
        >>> m.calibrated
        True
        """
        per_track = as_int(per_track, "per_track", minimum=1)
        max_probes = as_int(max_probes, "max_probes", minimum=10)
        seed = as_int(seed, "seed", minimum=0)
        budget = None
        if probe_hours is not None:
            if isinstance(probe_hours, bool) or not isinstance(probe_hours, (int, float, np.integer, np.floating)):
                raise TypeError(f"probe_hours must be a number or None, got {probe_hours!r}")
            if not (math.isfinite(probe_hours) and probe_hours > 0):
                raise ValueError(f"probe_hours must be positive and finite, or None, got {probe_hours!r}")
            budget = int(math.ceil(float(probe_hours) * 3600 * self.sr))
        names = self.tracks
        track_lags = [t.n + self._needle_len for t in self._tracks]
        searched: list[float] = []  # the lags of every probe's search

        def probe(ti: int, start: int, length: int) -> tuple[float, float, float]:
            # the probe's part of the catalog (its own track left out): the log10 per-query p
            # of its best chunk (the same chunks, the same fit), of the best exact score
            # among the places match() scores, computed without underflow, and of the two
            # united as Candidates.p_query unites them; searched again without a track that
            # holds the probe's passage too (_shares_passage)
            clip = self._probe_clip(ti, start, length)
            if float(np.ptp(clip)) == 0.0:
                return 0.0, 0.0, 0.0
            kept = set(probe_tracks(track_lags, ti, budget, (seed, ti, start, length)))
            y = self._query(clip, self.sr)
            for attempt in range(_SHARED_TRACKS + 1):
                found = self.candidates(clip, self.sr, exclude=[n for k, n in enumerate(names) if k not in kept]).fitted()
                if not len(found):
                    searched.append(found.lags)
                    return 0.0, 0.0, 0.0
                lp_s, place = 0.0, None
                # (no check for a polarity-inverted clip: where match() would report nothing the
                # probe keeps its p, the conservative side)
                for part, exact in self._verify(found, _PROBE_CANDIDATES, lambda c: self._exact(y, c), lambda ex: ex[0]):
                    for k, ex in enumerate(exact):
                        # p_s at the overlap bounds it from below (the effective length is at
                        # most the overlap): the length's FFT only where the minimum can move
                        if ex is not None and part._p_exact(ex[0], float(ex[2]), log10=True) < lp_s:
                            lp = part._p_exact(ex[0], ex[3](), log10=True)
                            if lp < lp_s:
                                lp_s, place = lp, (self._names[part.tracks[int(part.track[k])]], ex[1])
                if place is None or attempt == _SHARED_TRACKS or not self._shares_passage(ti, start, length, *place):
                    break
                kept.discard(place[0])
            searched.append(found.lags)
            lz = found._scan().log10_p(float(np.max(found.z)))
            return lz, lp_s, min(0.0, lz - math.log10(1.0 - _EXACT_WEIGHT), lp_s - math.log10(_EXACT_WEIGHT))

        null = fit_music_null(probe, [t.n for t in self._tracks], self.sr, DURATIONS, per_track, seed, max_probes)
        if null is not None and searched:
            null = dataclasses.replace(null, lags=float(np.mean(searched)))
        self._music_null = null if len(names) >= 2 else None

    def _shares_passage(self, ti: int, start: int, length: int, tj: int, lag: float) -> bool:
        """Does track ``tj`` hold the passage of track ``ti`` around ``start`` (a probe of
        ``length`` samples whose best place in ``tj`` is ``lag``)? Yes when an excerpt of
        ``ti`` two lengths before or after the probe (:func:`tsconv.audio._null.neighbour_places`)
        scores at the same relative place in ``tj`` (exact score within ``_SHARED_DRIFT``
        samples of it) with a probability at that place of at most ``10**_SHARED_LOG10_P``.

        A passage two tracks share goes on in both; the places unrelated music hits (hubs:
        clicks in near-silence, pulses, tonal passages) do not. See ``_SHARED_LOG10_P``.
        Also yes when ``tj`` holds a copy of a stretch of the probe itself: two of its
        ``_SHARED_PIECE``-second pieces, not adjacent, score so at their own places (a
        passage shared for less than two probe lengths; see ``_SHARED_PIECE``).
        """
        lag0 = int(round(lag))
        for s2, k2 in neighbour_places(start, lag0, length, self._tracks[ti].n, self._tracks[tj].n):
            if self._scores_at(self._probe_clip(ti, s2, length), tj, k2):
                return True
        n = max(int(round(_SHARED_PIECE * self.sr)), int(math.ceil(0.1 * self.sr)))
        clip = self._probe_clip(ti, start, length)
        hits = [i for i in range(length // n) if self._scores_at(clip[i * n : (i + 1) * n], tj, lag0 + i * n)]
        return len(hits) >= 2 and hits[-1] - hits[0] >= 2

    def _scores_at(self, clip: NDArray[np.float32], tj: int, k: int) -> bool:
        """Does ``clip`` (samples at the working rate) score at lag ``k`` of track ``tj``
        (within ``_SHARED_DRIFT`` samples) with a probability there of at most
        ``10**_SHARED_LOG10_P``? (:meth:`_shares_passage`)"""
        radius = _DECIMATE + 2
        if float(np.ptp(clip)) == 0.0 or k - radius < 0 or k + clip.size + radius > self._tracks[tj].n:
            return False
        score, at, _, _, eff = self._refine(self._query(clip, self.sr), tj, k, radius)
        return abs(at - k) <= _SHARED_DRIFT and _log10_false_alarm(score, eff(), 2 * radius + 1) <= _SHARED_LOG10_P

    def _probe_clip(self, ti: int, start: int, length: int) -> NDArray[np.float32]:
        """Samples ``start .. start + length - 1`` of track ``ti`` as music sounds: the stored
        (whitened, levelled) samples with the whitener undone (``1 / C``, its response floored
        at 1e-3 of its peak), ``_VIEW_PAD`` samples of context on each side filtered along.

        A whitened excerpt has a flat spectrum, unlike a clip of real music: measured on an
        hour of real music (catalog A of ``benchmarks/audio_calibration.py``, 300 clean 3 s
        clips of other soundtracks), the music null of whitened excerpts let 6.0% of them
        through at p <= 0.01, that of these excerpts 1.0%.
        """
        t = self._tracks[ti]
        a, b = max(start - _VIEW_PAD, 0), min(start + length + _VIEW_PAD, t.n)
        seg = np.asarray(t.data[a:b], dtype=np.float64)
        if t.kernel is None:
            return seg[start - a : start - a + length].astype(np.float32)
        nfft = scipy.fft.next_fast_len(seg.size + len(t.kernel), real=True)
        resp = _kernel_response(t.kernel, nfft, nfft // 2 + 1)
        mag = np.abs(resp)
        floor = 1e-3 * float(mag.max())
        resp = np.where(mag < floor, floor, resp)
        y = scipy.fft.irfft(scipy.fft.rfft(seg, nfft) / resp, nfft)[: seg.size]
        return y[start - a : start - a + length].astype(np.float32)

    @property
    def calibrated(self) -> bool:
        """Whether the catalog holds a music null (:meth:`calibrate`)."""
        return self.music_null is not None

    @property
    def music_null(self) -> MusicNull | None:
        """The catalog's music null (:meth:`calibrate`; saved and loaded with the catalog), or None.

        An opaque object: :meth:`candidates` attaches it to its :class:`Candidates`, whose
        :meth:`tsconv.audio.Candidates.p` applies it.
        """
        return self._music_null

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, index: bool = True) -> None:
        """Write the catalog to ``path`` atomically (format: ``docs/audio.md``, :mod:`tsconv.audio.catalog`).

        Parameters
        ----------
        path : str or os.PathLike
            The catalog file (replaced atomically if it exists).
        index : bool
            Also store the search index (built first if no query has built it): the
            overlap-save block spectra and band energies, about 93 MB per catalog hour
            beside the samples' 58 MB. A catalog loaded with it answers its first query
            without building the index (0.8 s of CPU per catalog hour), and
            ``Matcher.load(path, mmap=True)`` maps it from the file instead of holding it in
            the process's memory. ``False``: the samples only, the index is rebuilt by the
            first query after every load.
        """
        if not isinstance(index, bool):
            raise TypeError(f"index must be a bool, got {index!r}")
        tracks = []
        arrays: dict[str, Any] = {}
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
        # stacked part by part as the file is written: a large catalog is never copied whole
        arrays["samples"] = NpyMember([t.data for t in self._tracks], np.zeros(0, dtype=self.storage))
        arrays["whiteners"] = (
            np.concatenate([t.kernel.coef for t in self._tracks if t.kernel is not None])
            if any(t.kernel is not None for t in self._tracks)
            else np.zeros(0)
        )
        arrays["acf"] = np.stack([t.acf for t in self._tracks]) if self._tracks else np.zeros((0, _ACF_LAGS + 1))
        if self._music_null is not None:
            arrays["null_durations"] = self._music_null.durations
            arrays["null_log_p"] = self._music_null.log_p
            if self._music_null.log_p_exact is not None:
                arrays["null_log_p_exact"] = self._music_null.log_p_exact
            if self._music_null.lags is not None:
                arrays["null_lags"] = np.array([self._music_null.lags])
            if self._music_null.log_p_query is not None:
                arrays["null_log_p_query"] = self._music_null.log_p_query
        layout = None
        if index:
            self._ensure_index()
            layout = self._index_layout()
            arrays["index_spectra"] = NpyMember([t.index.spectra for t in self._tracks if t.index is not None],
                                                np.zeros((0, layout["keep"]), np.complex64))
            arrays["index_energy"] = NpyMember([t.energy for t in self._tracks if t.energy is not None],
                                               np.zeros((0, _N_BANDS), np.float32))
        manifest: dict[str, Any] = {
            "music_null": self._music_null is not None,
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
        if layout is not None:
            manifest["index"] = layout
        write_catalog(path, manifest, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, workers: int = 2, mmap: bool = False, verify: bool = True) -> Matcher:
        """Read a catalog written by :meth:`save`, verifying format, version, checksums and shapes.

        Parameters
        ----------
        path : str or os.PathLike
            The catalog file (format version 1 to 5, :mod:`tsconv.audio.catalog`; a stored index is used when its
            settings are this tsconv's, else the first query builds one).
        workers : int
            Threads of a search.
        mmap : bool
            Map the stored arrays (the samples, and the search index if the file holds
            one: :meth:`save`) read-only from the file instead of reading them into
            memory: they then cost page cache, not process memory (pages the kernel can
            drop and read again), and only the pages a query touches are read. The file must stay in
            place while the matcher lives (a later :meth:`save` over the same path is
            safe: it replaces the file, the mapping keeps the old one).
        verify : bool
            With ``mmap=True``: check the mapped arrays' SHA-256 (and that they are finite)
            at load by streaming the file once (default), or trust them (``False``: for a
            file verified before). The manifest and the container are always checked.

        Raises
        ------
        CatalogError
            If the file is missing, foreign, truncated, corrupted or inconsistent.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from tsconv.audio import Matcher
        >>> rng = np.random.default_rng(0)
        >>> m = Matcher(8000)
        >>> m.add("noise", rng.standard_normal(8000 * 4), 8000)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     m.save(os.path.join(d, "c.tscat"))
        ...     mapped = Matcher.load(os.path.join(d, "c.tscat"), mmap=True)
        ...     print(mapped.tracks, isinstance(mapped._tracks[0].data, np.memmap))
        ...     del mapped
        ['noise'] True
        """
        if not isinstance(mmap, bool) or not isinstance(verify, bool):
            raise TypeError(f"mmap and verify must be bools, got mmap={mmap!r}, verify={verify!r}")
        if not verify and not mmap:
            raise ValueError("verify=False applies to mapped catalogs only (mmap=True); a read catalog is always verified")
        manifest, arrays = read_catalog(path, mmap=mmap, verify=verify)
        where = repr(os.fspath(path))
        if manifest.get("version") == 1:
            warnings.warn(f"{where}: catalog format version 1 has no music null: its probabilities describe noise-like "
                          "clips only (unrelated music can get far smaller ones); rebuild it, or call calibrate() and save()",
                          UserWarning, stacklevel=2)
        try:
            m = cls._from_manifest(manifest, arrays, workers)
            m._music_null = _music_null_of(manifest, arrays)
            return m
        except CatalogError as exc:
            raise CatalogError(f"{where}: {exc}") from exc
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise CatalogError(f"{where}: the manifest is inconsistent ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def _from_manifest(cls, manifest: dict[str, Any], arrays: dict[str, NDArray[Any]], workers: int) -> Matcher:
        """A matcher from a verified catalog's content; :class:`CatalogError` on anything out of range."""
        for key in ("sr", "whitening", "lpc_order", "max_needle", "storage", "speed_range", "n_tracks",
                    "total_samples", "tracks"):
            if key not in manifest:
                raise CatalogError(f"the manifest has no {key!r}")
        for key in ("samples", "whiteners", "acf"):
            if key not in arrays:
                raise CatalogError(f"the archive has no {key!r} array")
        # settings: the constructor checks the ranges (sample rate 1-384 kHz, max_needle <= 10 s)
        if manifest["whitening"] is None:
            raise CatalogError("whitening must be one of 'spectral', 'lpc', 'none', got None")
        m = cls(
            _exact_int(manifest["sr"], "sr"),
            manifest["whitening"],
            lpc_order=_exact_int(manifest["lpc_order"], "lpc_order"),
            max_needle=_exact_number(manifest["max_needle"], "max_needle"),
            storage=manifest["storage"],
            speed_range=_exact_number(manifest["speed_range"], "speed_range"),
            workers=workers,
        )
        samples, whiteners, acf = arrays["samples"], arrays["whiteners"], arrays["acf"]
        if samples.dtype != np.dtype(m.storage) or samples.ndim != 1:
            raise CatalogError(f"samples array has dtype {samples.dtype} and {samples.ndim} dims, expected 1-D {m.storage}")
        if whiteners.dtype != np.float64 or whiteners.ndim != 1:
            raise CatalogError(f"whiteners array has dtype {whiteners.dtype} and {whiteners.ndim} dims, expected 1-D float64")
        n_tracks = _exact_int(manifest["n_tracks"], "n_tracks")
        total = _exact_int(manifest["total_samples"], "total_samples")
        entries = manifest["tracks"]
        if not isinstance(entries, list):
            raise CatalogError(f"the manifest's 'tracks' must be a list, got {type(entries).__name__}")
        if n_tracks != len(entries):
            raise CatalogError(f"the manifest declares {n_tracks} tracks and lists {len(entries)}: tracks are missing")
        if samples.size != total or acf.shape != (n_tracks, _ACF_LAGS + 1) or acf.dtype != np.float64:
            raise CatalogError("array sizes do not agree with the manifest's track list")
        # (NaN or infinite values, which would poison every score of every query, were
        # refused by read_catalog while it checked the checksums)
        wpos = 0
        end = 0
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise CatalogError(f"track {i} of the manifest must be a mapping, got {entry!r:.80}")
            missing = {"name", "n_samples", "offset", "source", "whitener_taps", "whitener_origin"} - set(entry)
            if missing:
                raise CatalogError(f"track {i} of the manifest lacks {sorted(missing)}")
            name, source = entry["name"], entry["source"]
            if not isinstance(name, str) or not name or not isinstance(source, str):
                raise CatalogError(f"track {i}: name must be a non-empty string and source a string, got {name!r:.80}, {source!r:.80}")
            off, n = _exact_int(entry["offset"], "offset"), _exact_int(entry["n_samples"], "n_samples")
            if off != end or n < 0.1 * m.sr or off + n > samples.size:
                raise CatalogError(
                    f"track {name!r} (offset {off}, {n} samples) does not follow the previous track "
                    f"(which ends at {end}) inside the samples array ({samples.size}), or is shorter than 0.1 s"
                )
            end = off + n
            taps = _exact_int(entry["whitener_taps"], "whitener_taps")
            origin = entry["whitener_origin"]
            kernel = None
            if taps < 0:
                raise CatalogError(f"track {name!r}: whitener_taps must be >= 0, got {taps}")
            if taps:
                origin = _exact_int(origin, "whitener_origin")
                if wpos + taps > whiteners.size:
                    raise CatalogError(f"track {name!r}: whitener coefficients missing")
                if not 0 <= origin < taps:
                    raise CatalogError(f"track {name!r}: whitener_origin must be in [0, {taps}), got {origin}")
                kernel = Kernel(whiteners[wpos : wpos + taps], origin)
                wpos += taps
            elif origin is not None:
                raise CatalogError(f"track {name!r}: whitener_origin must be null without a whitener, got {origin!r:.40}")
            t = _Track(name, n, samples[off : off + n], kernel, acf[i].astype(np.float64), source)
            if t.name in m._names:
                raise CatalogError(f"duplicate track name {t.name!r}")
            m._names[t.name] = i
            m._tracks.append(t)
        if end != samples.size or wpos != whiteners.size:
            raise CatalogError(
                f"the tracks cover {end} of {samples.size} samples and {wpos} of {whiteners.size} whitener "
                "coefficients: tracks are missing"
            )
        layout = manifest.get("index")
        if layout is not None:
            if not isinstance(layout, dict):
                raise CatalogError(f"the manifest's index must be a mapping or null, got {layout!r:.80}")
            if "index_spectra" not in arrays or "index_energy" not in arrays:
                raise CatalogError("the manifest declares a search index and the archive has no index arrays")
            # an index of other settings (another tsconv's) is not used: the first query builds one
            if layout == m._index_layout():
                m._adopt_index(arrays["index_spectra"], arrays["index_energy"])
        return m

    def _adopt_index(self, spectra: NDArray[Any], energy: NDArray[Any]) -> None:
        """Give every track its part of a stored index (read or mapped from a catalog file, not copied)."""
        layout, L = self._index_layout(), self._needle_len
        # a track's rows: those of its n + L padded samples (see _ensure_index)
        rows = [(BlockIndex.blocks(t.n + L, layout["step"]), _n_frames(t.n + L)) for t in self._tracks]
        blocks, frames = sum(r[0] for r in rows), sum(r[1] for r in rows)
        keep = layout["keep"]
        if spectra.dtype != np.complex64 or spectra.shape != (blocks, keep):
            raise CatalogError(f"the index_spectra array has dtype {spectra.dtype} and shape {list(spectra.shape)}, "
                               f"the tracks need complex64 and {[blocks, keep]}")
        if energy.dtype != np.float32 or energy.shape != (frames, _N_BANDS):
            raise CatalogError(f"the index_energy array has dtype {energy.dtype} and shape {list(energy.shape)}, "
                               f"the tracks need float32 and {[frames, _N_BANDS]}")
        b = f = 0
        for t, (nb, nf) in zip(self._tracks, rows):
            index = BlockIndex.from_spectra(spectra[b : b + nb], t.n + L, _NFFT, L, _DECIMATE, align=_HOP)
            self._attach_index(t, index, energy[f : f + nf])
            b, f = b + nb, f + nf

    # -- the two stages of a search ------------------------------------------------------
    @property
    def search_lags(self) -> int:
        """Lags the coarse pass searches: the sum over tracks of their length plus ``max_needle`` (samples).

        The pass sizes its chunks of lags by this number; a part of a catalog is searched
        with the whole catalog's (``catalog_lags`` of :meth:`candidates`).
        """
        return self._n_lags()

    @property
    def track_samples(self) -> list[int]:
        """Length of every track at the working rate (samples), in catalog order."""
        return [t.n for t in self._tracks]

    @property
    def nbytes(self) -> int:
        """Bytes held by the catalog's arrays (stored samples, and the search index once built)."""
        total = 0
        for t in self._tracks:
            for arr in (t.data, t.energy, t.resp_power):
                total += 0 if arr is None else int(arr.nbytes)
            total += 0 if t.index is None else int(t.index.nbytes)
        return total

    def subset(self, tracks: Iterable[str], *, workers: int | None = None) -> Matcher:
        """A matcher holding some of this catalog's tracks (a shard), with the same settings.

        The stored samples are copied, unless they are mapped from a file
        (``Matcher.load(path, mmap=True)``: the subset maps the same read-only pages, so a
        shard of a large catalog file costs only its own tracks' pages); so is the search
        index (mapped when the file holds one, see :meth:`save`), else it is built by the
        new matcher's first query. Searched with ``catalog_lags=`` the whole catalog's
        :attr:`search_lags`, its :meth:`candidates` are a part of the whole catalog's.

        The music null (:meth:`calibrate`) is dropped, not carried: it was measured on the
        whole catalog, and a subset is another catalog (an unrelated clip has fewer
        chances in it, and the passages that correlate with unrelated music may be gone).
        Call :meth:`calibrate` on the subset for its own. Used as a part (a shard), its
        candidates combine into the whole catalog's, to which the whole catalog's music
        null applies (:class:`tsconv.dask.ShardedMatcher` attaches it).

        Parameters
        ----------
        tracks : iterable of str
            Names of tracks of this catalog, kept in catalog order.
        workers : int, optional
            Threads of the new matcher (default: this one's).

        Raises
        ------
        ValueError
            If a name is not a track of this catalog.
        TypeError
            If ``tracks`` is a single string.

        Examples
        --------
        >>> from tsconv.audio import Matcher
        >>> from tsconv.audio._synth import synth_track
        >>> m = Matcher()
        >>> for i in range(3):
        ...     m.add(f"t{i}", synth_track(2.0, 8000, seed=i), 8000)
        >>> m.subset(["t2", "t0"]).tracks
        ['t0', 't2']
        """
        if isinstance(tracks, (str, bytes)):  # its characters are not names
            raise TypeError(f"tracks must be an iterable of track names, got the string {tracks!r}")
        wanted = set()
        for name in tracks:
            if name not in self._names:
                raise ValueError(f"tracks must be names of this catalog's tracks, got {name!r}")
            wanted.add(name)
        out = type(self).__new__(type(self))
        Matcher.__init__(out, self.sr, self.whitening, lpc_order=self.lpc_order, max_needle=self.max_needle,
                         storage=self.storage, speed_range=self.speed_range,
                         workers=self.workers if workers is None else workers)
        for t in self._tracks:
            if t.name in wanted:
                out._names[t.name] = len(out._tracks)
                data = t.data if isinstance(t.data, np.memmap) else np.array(t.data)  # a mapping is read-only
                out._tracks.append(_Track(t.name, t.n, data, t.kernel, t.acf, t.source))
                if t.index is not None and isinstance(t.index.spectra, np.memmap) and t.energy is not None:
                    out._attach_index(out._tracks[-1], t.index, t.energy, t.resp_power)  # the same mapped pages
        return out

    def candidates(self, samples: ArrayLike, sr: int, *, catalog_lags: int | None = None,
                   surrogates: int | None = None, exclude: Iterable[str] = ()) -> Candidates:
        """Stage 1 of :meth:`match`: the coarse candidate places of a clip in this catalog.

        The clip, weighted by the inverse of its own smoothed power spectrum, is correlated
        with every track in the lower half of the band; the statistic of every lag is
        divided by its standard deviation under the null, and the best lag of every chunk
        of lags is a candidate (see the class Notes). The first call builds the search
        index.

        Parameters
        ----------
        samples : array_like
            The clip: 1-D mono or 2-D ``(frames, channels)``, at least 0.1 s; finite.
        sr : int
            Its sample rate.
        catalog_lags : int, optional
            When this matcher holds a part of a catalog (:meth:`subset`): the whole
            catalog's :attr:`search_lags`, so that the chunks of lags are those of the whole
            catalog and the parts' candidates combine into its candidates
            (:meth:`Candidates.combine`). Default: this catalog's.
        surrogates : int, optional
            Phase-randomized copies of the clip to search as well (0-64), whose chunk
            maxima top up the null fit of a small catalog. Default: as many as this
            catalog needs (none above about a minute of audio). A part of a catalog is
            searched with an explicit number, the same for every part.
        exclude : iterable of str, default ()
            Names of tracks left out of the search: the candidates (their ``tracks``, their
            chunk maxima, ``n_chunks``, the default ``catalog_lags``) are those of
            ``subset`` of the other tracks, without building that subset's index.
            :meth:`calibrate` searches each probe so, leaving out its own track. Such
            candidates carry no music null (a part of the catalog has none, see
            :meth:`subset`).

        Returns
        -------
        Candidates
            One candidate per chunk of lags, not fitted (call :meth:`Candidates.fitted`);
            empty for a silent clip or an empty catalog. Its ``music_null`` is this
            catalog's (:meth:`calibrate`), which :meth:`tsconv.audio.Candidates.p` applies.

        Raises
        ------
        ValueError, TypeError
            Bad samples or sample rate, a bad ``catalog_lags`` or ``surrogates``.

        See Also
        --------
        score : stage 2, the exact scores of chosen candidates.

        Examples
        --------
        >>> from tsconv.audio import Matcher
        >>> from tsconv.audio._synth import synth_track
        >>> m = Matcher()
        >>> m.add("a", synth_track(8.0, 8000, seed=1), 8000)
        >>> m.add("b", synth_track(8.0, 8000, seed=2), 8000)
        >>> clip = synth_track(8.0, 8000, seed=2)[12000:36000]
        >>> found = m.candidates(clip, 8000).fitted()
        >>> best = found.top(1)
        >>> best.tracks[best.track[0]], int(best.lag[0])
        ('b', 12000)
        """
        n_lags = None if catalog_lags is None else as_int(catalog_lags, "catalog_lags", minimum=1)
        if isinstance(exclude, str):
            raise TypeError(f"exclude must be an iterable of track names, got the string {exclude!r}")
        skip = set()
        for name in exclude:
            if name not in self._names:
                raise ValueError(f"exclude must hold names of this catalog's tracks, got {name!r}")
            skip.add(self._names[name])
        kept = [k for k in range(len(self._tracks)) if k not in skip]
        if skip and n_lags is None:  # the lags of the catalog without those tracks
            n_lags = sum(self._tracks[k].n + self._needle_len for k in kept)
        music_null = self.music_null if not skip else None
        if surrogates is not None:
            surrogates = as_int(surrogates, "surrogates", minimum=0)
            if surrogates > _MAX_SURROGATES:
                raise ValueError(f"surrogates must be <= {_MAX_SURROGATES}, got {surrogates}")
        self._ensure_index()
        y = self._query(samples, sr)
        L = self._needle_len
        names = tuple(self._tracks[k].name for k in kept)
        spacing = min(y.size, L) // 2
        empty_sur = tuple(np.zeros(0) for _ in range(surrogates or 0))
        lags = float(sum(self._tracks[k].n + L for k in kept))
        if not kept or float(np.ptp(y)) == 0.0:
            return Candidates(names, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 0.0, -math.inf,
                              spacing, int(y.size), empty_sur, music_null=music_null, sr=self.sr, lags=lags)
        freqs = np.arange(_NFFT // 2 + 1) / _NFFT
        scan = self._search(y, _DECIMATE, L, self._clip_psd(y, _NFFT), fit=False, n_lags=n_lags, tracks=kept)
        found: list[NDArray[np.float64]] = []
        if surrogates is not None:  # a part of a catalog: exactly that many copies
            for sur in itertools.islice(_surrogate_clips(y), surrogates):
                found.append(self._search(sur, _DECIMATE, L, _psd_on_grid(sur, freqs), fit=False, n_lags=n_lags,
                                          tracks=kept, anti=False).z)
        elif 0 < scan.z.size < _MIN_NULL:  # the copies this catalog needs (Candidates.fitted uses them all)
            got = 0
            for sur in _surrogate_clips(y):
                found.append(self._search(sur, _DECIMATE, L, _psd_on_grid(sur, freqs), fit=False, n_lags=n_lags,
                                          tracks=kept, anti=False).z)
                got += found[-1].size
                if got >= _MIN_NULL - scan.z.size or found[-1].size == 0:
                    break
        track = scan.track.astype(np.int64)
        if skip:  # catalog indices -> indices into the tracks searched
            track = np.searchsorted(np.asarray(kept, dtype=np.int64), track).astype(np.int64)
        return Candidates(names, track, scan.lag.astype(np.int64) - L, scan.z, float(scan.n_chunks),
                          float(scan.z_neg), spacing, int(y.size), tuple(found), music_null=music_null, sr=self.sr,
                          lags=lags)

    def score(self, samples: ArrayLike, sr: int, candidates: Candidates) -> list[Match | None]:
        """Stage 2 of :meth:`match`: exact scores of given candidates of the same clip.

        Each candidate is re-scored at the full rate by the exact Pearson correlation of the
        whitened clip with the track (the best lag within 1024 samples of the coarse place,
        then refined below one sample), and given the false-alarm probability of its search
        statistic and its exact score together (:meth:`Candidates.p` with ``score`` and
        ``length``).

        Parameters
        ----------
        samples, sr
            The clip given to :meth:`candidates`.
        candidates : Candidates
            Fitted candidates (:meth:`Candidates.fitted`, then ``top``/``above``/``take``),
            on tracks of this matcher.

        Returns
        -------
        list of Match or None
            One entry per candidate, in order; None where the clip would overlap the track
            by less than half the shorter of the two.

        Raises
        ------
        ValueError, TypeError
            Bad samples; candidates not fitted, of another clip, or on a track this matcher
            does not hold.

        Examples
        --------
        >>> from tsconv.audio import Matcher
        >>> from tsconv.audio._synth import synth_track
        >>> m = Matcher()
        >>> m.add("a", synth_track(8.0, 8000, seed=1), 8000)
        >>> clip = synth_track(8.0, 8000, seed=1)[4000:28000]
        >>> [mt.offset_samples for mt in m.score(clip, 8000, m.candidates(clip, 8000).fitted().top(1))]
        [4000.0]
        """
        if not isinstance(candidates, Candidates):
            raise TypeError(f"candidates must be a tsconv.audio.Candidates, got {type(candidates).__name__}")
        candidates._scan()  # fitted?
        where = [self._names.get(candidates.tracks[int(g)]) for g in candidates.track]
        missing = sorted({candidates.tracks[int(g)] for g, w in zip(candidates.track, where) if w is None})
        if missing:
            raise ValueError(f"candidates must be on tracks of this matcher, got tracks {missing[:5]} it does not hold")
        self._ensure_index()
        y = self._query(samples, sr)
        if y.size != candidates.clip_samples:
            raise ValueError(
                f"candidates are of a clip of {candidates.clip_samples} samples at {self.sr} Hz, got one of {y.size}"
            )
        return self._to_matches(candidates, self._exact(y, candidates))

    def _to_matches(self, candidates: Candidates, exact: list[tuple[float, float, int, Callable[[], float]] | None]
                    ) -> list[Match | None]:
        """The matches of candidates from their exact scores (:meth:`_exact`), with probabilities."""
        out: list[Match | None] = []
        for i, ex in enumerate(exact):
            if ex is None:
                out.append(None)
                continue
            score, lag, overlap, length = ex
            z = float(candidates.z[i])
            # the effective length is at most the overlap, and the exact score's term of the
            # union grows as it shrinks: when the overlap's term does not bind, the effective
            # length's does not either (the same probability without the length's FFT, the
            # common case)
            a, b = candidates._terms(z, score, float(overlap), music=True)
            if b < min(1.0, a):
                a, b = candidates._terms(z, score, length(), music=True)
            name = candidates.tracks[int(candidates.track[i])]
            out.append(Match(name, float(lag / self.sr), float(lag), float(score), floor_p(min(1.0, a, b)), 1.0))
        return out

    def _exact(self, y: NDArray[np.float64], candidates: Candidates
               ) -> list[tuple[float, float, int, Callable[[], float]] | None]:
        """``(score, lag, overlap, effective length)`` of each candidate (:meth:`_refine`; the
        clip ``y`` at the working rate, the candidates on this matcher's tracks), None where
        the clip would overlap the track by less than half the shorter of the two."""
        out: list[tuple[float, float, int, Callable[[], float]] | None] = []
        q = None  # the whitened clip, the same for every track
        tis = [self._names[candidates.tracks[int(g)]] for g in candidates.track]
        self._clip_levels(y, [self._tracks[ti] for ti in tis])  # one call for every track's level
        for i, ti in enumerate(tis):
            score, lag, overlap, q, length = self._refine(y, ti, int(candidates.lag[i]), _DECIMATE + 2, q, wide=_WIDE)
            out.append(None if overlap < self._min_overlap(y.size, self._tracks[ti]) else (score, lag, overlap, length))
        return out

    # -- search ----------------------------------------------------------------------------
    def _ensure_index(self) -> None:
        """Build the search index of every track that has none (the first query does).

        Safe when the first queries arrive from several threads at once: one thread builds
        under a lock while the others wait, and a track's index is published (``t.index``
        set) only once all its parts are in place.
        """
        if all(t.index is not None for t in self._tracks):
            return
        L = self._needle_len
        with self._index_lock:
            for t in self._tracks:
                if t.index is not None:
                    continue
                # lags are counted from L samples before the track, so a clip may start
                # before it or run past its end (clip longer than the track)
                padded = np.concatenate([np.zeros(L, np.float32), np.asarray(t.data, dtype=np.float32)])
                index = BlockIndex(padded, _NFFT, L, _DECIMATE, align=_HOP)
                # the block spectra with the whitener undone, B / C: the clip's weighted
                # spectrum conj(Y) / P_y is then the same needle for every track
                resp_keep = _kernel_response(t.kernel, _NFFT, index.keep).astype(np.complex64)
                index.spectra /= resp_keep
                # the float32 copy is dropped once indexed: nothing of a query reads it
                energy = _band_energy(padded, _N_BANDS)
                del padded
                self._attach_index(t, index, energy, np.abs(resp_keep) ** 2)

    @staticmethod
    def _attach_index(t: _Track, index: BlockIndex, energy: NDArray[np.float32],
                      resp_power: NDArray[np.float32] | None = None) -> None:
        """Give track ``t`` its search index: the block spectra (whitener undone) and band energies."""
        if resp_power is None:  # (from the complex64 response the index was divided by)
            resp_power = np.abs(_kernel_response(t.kernel, _NFFT, index.keep).astype(np.complex64)) ** 2
        t.resp_power = resp_power
        t.energy = energy
        t.resp_band = np.abs(_kernel_response(t.kernel, _FRAME, _N_BANDS * _BAND_BINS)) ** 2
        t.index = index  # last: a reader that sees the index sees all of it

    def _index_layout(self) -> dict[str, int]:
        """The settings the search index depends on (stored with a saved index, checked at load)."""
        step, keep = BlockIndex.layout(_NFFT, self._needle_len, _DECIMATE, _HOP)
        return {"nfft": _NFFT, "decimate": _DECIMATE, "needle": self._needle_len, "step": step, "keep": keep,
                "hop": _HOP, "frame": _FRAME, "band_bins": _BAND_BINS, "n_bands": _N_BANDS}

    def _n_lags(self) -> int:
        return sum(t.n + self._needle_len for t in self._tracks)

    def _query(self, samples: ArrayLike, sr: Any) -> NDArray[np.float64]:
        y = np.asarray(self._prepare(samples, sr, "samples"), dtype=np.float64)
        if y.size < 0.1 * self.sr:
            raise ValueError(f"samples must be at least 0.1 s long ({math.ceil(0.1 * self.sr)} samples at {self.sr} Hz), "
                             f"got {y.size} samples ({y.size / self.sr:.4g} s)")
        return y

    def _segments(self, m: int, length: int) -> list[int]:
        if m <= length:
            return [0]
        return sorted({0, (m - length) // 2, m - length})

    def _search(self, y: NDArray[np.float64], decimate: int, seg_len: int, p_y: NDArray[np.float64], fit: bool = True,
                n_lags: int | None = None, tracks: list[int] | None = None, anti: bool = True) -> _Scan:
        """Coarse pass over every track: the best lag of every chunk of ``_CHUNK`` lags.

        The statistic is the band-limited correlation ``c(k)`` of the weighted clip with
        the stored track, divided by its standard deviation under the null at that lag:
        ``z(k) = c(k) / sqrt(E(k))``, ``E(k) = sum_f |S_k(f)|^2 / P_y(f)`` over the search
        band, where ``S_k`` is the spectrum of the (levelled) track under the clip's window
        at lag ``k``. That is the matched filter's own normalization: when the clip is
        unrelated to the track (noise, or other music) of spectrum ``P_y``, the
        correlation ``sum_f Y conj(S_k) / P_y`` has variance ``E(k)``. ``E`` follows the
        loudness and the colour of the music from passage to passage; it is computed from
        the stored band energies (``_band_energy``: 62.5 Hz bands, 32 ms frames) weighted
        by ``1 / (|C|^2 P_y)`` band by band. (``P_y`` on the track's side is floored at the
        clip's level on the track's spectrum, :meth:`_track_view`: the needle of a track is
        ``conj(Y) / sqrt(P_y P_f)`` and ``E`` uses ``P_f``.) (Dividing by one RMS per 24 s block instead,
        as before, let tonal or loud passages of the catalog win the search for any
        clip.)

        ``n_lags`` sizes the chunks of lags (default: this catalog's, :meth:`_n_lags`): a
        part of a catalog passes the whole catalog's, so that its chunks are the whole's.
        ``tracks``: the indices of the tracks searched (default: all); the others add no
        chunk (``candidates(exclude=...)``). ``anti=False`` skips the strongest
        anti-correlation (``_Scan.z_neg`` stays ``-inf``): the speed grid and the surrogate
        clips do not use it.
        """
        starts = self._segments(y.size, seg_len)
        rows, chunk = self._search_rows([y[s0 : s0 + seg_len] for s0 in starts], np.broadcast_to(p_y, (len(starts), p_y.size)),
                                        decimate, n_lags, tracks, anti)
        z_all = np.concatenate([r[0] for r in rows])
        lag_all = np.concatenate([r[1] - s0 for r, s0 in zip(rows, starts)])
        ti_all = np.concatenate([r[2] for r in rows])
        n_total = sum(r[3] for r in rows)
        z_neg = max(r[4] for r in rows)
        if not z_all.size:
            return _Scan.fitted(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), 1.0)
        if not fit:
            return _Scan(z_all, lag_all, ti_all, 1.0, 1.0, n_total / chunk, z_neg)
        extra = None
        if z_all.size < _MIN_NULL:
            extra = self._surrogate_null(y, decimate, seg_len, _MIN_NULL - z_all.size)
        scan = _Scan.fitted(z_all, lag_all, ti_all, n_total / chunk, extra)
        scan.z_neg = z_neg
        return scan

    def _threaded(self, f: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """``[f(x) for x in items]``, on the matcher's ``workers`` threads when there are two or more of each."""
        if self.workers > 1 and len(items) > 1:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                return list(pool.map(f, items))
        return [f(x) for x in items]

    def _search_rows(self, segs: list[NDArray[np.float64]], p_ys: NDArray[np.float64], decimate: int,
                     n_lags: int | None = None, tracks: list[int] | None = None, anti: bool = True
                     ) -> tuple[list[tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int, float]], int]:
        """:meth:`_search`'s pass for a stack of needles, each with its own spectrum, in one go.

        ``segs[r]`` (its padded lags counted from its own start) is weighted by ``p_ys[r]``;
        the needles of every row are correlated with a track's kept block spectra in one pass
        (:meth:`tsconv._fftcore.BlockSpectra.correlate_batches`), and the per-frame
        reduction is compiled (:func:`tsconv._peaks.frame_peaks`): the segments of a long
        clip share one pass, and the speed grid's stretched clips too. Returns, per row,
        ``(z, lag, track, lags searched, strongest anti-correlation)``, and the lags per chunk.
        """
        searched = list(range(len(self._tracks))) if tracks is None else list(tracks)
        R = len(segs)
        keep = _NFFT // (2 * decimate) + 1
        n_bands = _FRAME // 2 // _BAND_BINS // decimate
        per = _HOP // decimate  # coarse lags per frame
        # enough chunks for the tail fit even in a small catalog
        chunk = int(min(_CHUNK, max(256, 2 ** int(math.log2(max((n_lags or self._n_lags()) // decimate // 2000, 1))))))
        frames_per_chunk = max(chunk // per, 1)
        L = self._needle_len
        py_band = p_ys[:, :: _NFFT // _FRAME][:, : n_bands * _BAND_BINS]
        p_native = p_ys[:, np.arange(1, _PSD_SEG // 2) * (_NFFT // _PSD_SEG)]
        sizes = np.array([seg.size for seg in segs], dtype=np.int64)
        centred = np.zeros((R, int(sizes.max())))
        for r, seg in enumerate(segs):
            centred[r, : seg.size] = seg - seg.mean()
        spec = low_band_spectrum(centred, _NFFT, keep, self.workers)
        # the weighted needles conj(Y) / P_y (the index holds B / C: see _ensure_index)
        needle_spec = (np.conj(spec) / p_ys[:, :keep]).astype(np.complex64)
        needle_spec[:, : self._low_bins(_NFFT)] = 0.0
        # frames a window of each segment touches, with a margin for the filter's spread
        n_win = -(-sizes // _HOP) + 1 + 2 * _E_MARGIN
        levels = _EVIDENCE * self._evidence_levels([self._tracks[ti] for ti in searched], p_native)
        py_min = np.minimum.reduceat(p_ys[:, :keep], np.arange(0, keep, _BOUND_BINS), axis=1)
        column = {ti: c for c, ti in enumerate(searched)}

        def one_track(ti: int) -> tuple[list[Any], list[Any], list[Any], NDArray[np.int64], NDArray[np.float64]]:
            t = self._tracks[ti]
            out_row: list[NDArray[np.int64]] = []
            out_z: list[NDArray[np.float64]] = []
            out_lag: list[NDArray[np.int64]] = []
            n_in = np.zeros(R, dtype=np.int64)
            neg = np.full(R, -math.inf)  # the strongest anti-correlation in this track
            assert t.index is not None and t.resp_power is not None
            assert t.energy is not None and t.resp_band is not None
            # the track's side floored where the clip has lost its energy (_track_view):
            # the needle conj(Y) / sqrt(P_y P_f), the variance weights 1 / (|C|^2 P_f)
            level = levels[:, column[ti], None]
            resp2 = t.resp_band[: n_bands * _BAND_BINS]
            p_f = np.maximum(py_band, level / resp2)
            r_min = t.bound.get(keep)
            if r_min is None:
                r_min = t.bound[keep] = _group_min(t.resp_power[:keep])
            needle_t = _floored_needle(needle_spec, p_ys[:, :keep], py_min, level, t.resp_power[:keep], r_min)
            g = 1.0 / (resp2 * p_f)
            g[:, : self._low_bins(_FRAME)] = 0.0
            weight = np.mean(g.reshape(R, n_bands, _BAND_BINS), axis=2)
            nf = t.energy.shape[0]
            cum = np.zeros((R, nf + 1))  # the weighted energies summed over frames 0 .. j - 1
            np.cumsum(np.einsum("ij,rj->ri", t.energy[:, :n_bands], weight), axis=1, out=cum[:, 1:])  # not BLAS (slower here on 2 cores)
            j = np.arange(nf) - _E_MARGIN
            e = np.take_along_axis(cum, np.clip(j + n_win[:, None], 0, nf), axis=1) - cum[:, np.clip(j, 0, nf)]
            e = np.maximum(e, _E_FLOOR * np.maximum(e.mean(axis=1, keepdims=True), 1e-300))
            inv = 1.0 / np.sqrt(e)
            # only lags whose window overlaps the track by half the shorter of the two
            # (as the refinement requires): the rest would be chunks of pure padding
            h = np.maximum(np.minimum(sizes, t.n) // 2, 1)
            lag_lo, lag_hi = L - (sizes - h), L + t.n - h  # padded lags of the clip start
            f_lo, f_hi = np.maximum(lag_lo // _HOP, 0)[:, None, None], np.maximum(lag_hi // _HOP + 1, 0)[:, None, None]
            for firsts, corr, counts in t.index.correlate_batches(needle_t, workers=1, decimate=decimate):
                # the scale is constant over a frame: each frame's best lag, then scale
                _, nb, valid = corr.shape
                fpb = valid // per  # frames per block (blocks start on frames)
                best, top, bottom = frame_peaks(corr.reshape(R * nb, valid), per, lows=anti)
                best = best.reshape(R, nb, fpb)
                top = top.reshape(R, nb, fpb).astype(np.float64)
                local = np.arange(fpb)
                frame = firsts[:, None] // _HOP + local
                scale = inv[:, np.minimum(frame, nf - 1)]
                outside = (frame < f_lo) | (frame >= f_hi) | (local * per >= counts[:, None])
                outside = outside | ~np.any(top != 0.0, axis=2)[:, :, None]  # digital silence
                zf = top * scale
                zf[outside] = -np.inf
                if anti:  # the strongest anti-correlation (for Matcher._inverted)
                    assert bottom is not None
                    low = bottom.reshape(R, nb, fpb).astype(np.float64) * scale
                    low[outside] = np.inf
                    neg = np.maximum(neg, -low.min(axis=(1, 2)))
                inside = np.count_nonzero(~outside, axis=(1, 2))
                n_in += inside * per
                n_cb = -(-fpb // frames_per_chunk)  # chunks per block
                if n_cb * frames_per_chunk != fpb:
                    zf = np.concatenate([zf, np.full((R, nb, n_cb * frames_per_chunk - fpb), -np.inf)], axis=2)
                flat = zf.reshape(R, nb * n_cb, frames_per_chunk)
                pick = flat.argmax(axis=2)
                z_c = np.take_along_axis(flat, pick[:, :, None], axis=2)[:, :, 0]
                # chunks of the padding only are dropped, and rows without a lag inside
                ok = np.isfinite(z_c) & (inside > 0)[:, None]
                r_i, c_i = np.nonzero(ok)
                blk, fi = c_i // n_cb, (c_i % n_cb) * frames_per_chunk + pick[r_i, c_i]  # frame within its block
                out_row.append(r_i)
                out_z.append(z_c[r_i, c_i])
                out_lag.append(firsts[blk] + (fi * per + best[r_i, blk, fi]) * decimate)
            return out_row, out_z, out_lag, n_in, neg

        # tracks on ``workers`` threads (the FFTs and reductions release the GIL; one
        # track's blocks are too few rows for a multithreaded FFT); results in track order
        parts = self._threaded(one_track, searched)
        row_all = np.concatenate([r for part in parts for r in part[0]] or [np.zeros(0, np.int64)])
        z_all = np.concatenate([z for part in parts for z in part[1]] or [np.zeros(0)])
        lag_all = np.concatenate([lg for part in parts for lg in part[2]] or [np.zeros(0, np.int64)])
        ti_all = np.concatenate([np.full(r.size, ti) for ti, part in zip(searched, parts) for r in part[0]]
                                or [np.zeros(0, np.int64)])
        order = np.argsort(row_all, kind="stable")  # row by row, tracks and blocks in order within
        cuts = np.searchsorted(row_all[order], np.arange(R + 1))
        n_total = np.sum([part[3] for part in parts], axis=0) if parts else np.zeros(R, np.int64)
        z_neg = np.max([part[4] for part in parts], axis=0) if parts else np.full(R, -math.inf)
        out = []
        for r in range(R):
            sel = order[cuts[r] : cuts[r + 1]]
            out.append((z_all[sel], lag_all[sel].astype(np.int64), ti_all[sel].astype(np.int64), int(n_total[r]),
                        float(z_neg[r])))
        return out, chunk

    def _surrogate_null(self, y: NDArray[np.float64], decimate: int, seg_len: int, needed: int) -> NDArray[np.float64]:
        """At least ``needed`` chunk maxima of the catalog searched with surrogate clips
        (:func:`_surrogate_clips`), each weighted by its own spectrum as a clip would be."""
        freqs = np.arange(_NFFT // 2 + 1) / _NFFT
        out: list[NDArray[np.float64]] = []
        got = 0
        for sur in _surrogate_clips(y):
            z = self._search(sur, decimate, seg_len, _psd_on_grid(sur, freqs), fit=False, anti=False).z
            out.append(z)
            got += z.size
            if got >= needed or z.size == 0:
                break
        return np.concatenate(out) if out else np.zeros(0)

    def _whitened_clip(self, y: NDArray[np.float64], band: float = 1.0, like: NDArray[np.float64] | None = None
                       ) -> NDArray[np.float64]:
        """``u``: the clip divided by the square root of its own smoothed power spectrum (length kept),
        then levelled by the slow automatic gain the stored tracks went through (``_level``).

        White when the clip is noise; ``band < 1`` keeps only that share of the band;
        ``like``: the clip whose spectrum divides (default ``y``; the speed refinement's
        trials share their centre's). The
        levelling gives a clean clip the loudness profile of the stored track under it: the
        stored track is levelled, so without it a clip whose loudness changes (a fade, a loud
        entry after a quiet passage) scored far below 1 at its true place. Measured on an
        hour of real music (catalog A of ``benchmarks/audio_calibration.py``, the four clean
        3 s clips of 300 answered with another track, and 16 random places): the two clips of
        colobot music008 (165.6 and 167.3 s) scored 0.60 and 0.47 at their true place, below
        copies of the passage in music011 and music006 (0.73, 0.62), and 0.89 and 0.85
        levelled; clean clips elsewhere 0.75 -> 0.98, 0.69 -> 0.82, the rest within 0.01;
        the same clips in white noise at -15 dB within 0.005. A noisy clip's loudness is the
        noise's, nearly flat, and so is its gain.
        """
        memo = getattr(self._local, "whitened", None)  # the clip's last one (score() may run twice a query)
        if memo is not None and _same(memo[0], y) and _same(memo[1], like) and memo[2] == band:
            return memo[3]
        n = y.size
        nfft = scipy.fft.next_fast_len(n + 2048, real=True)
        spec = scipy.fft.rfft(y - y.mean(), nfft)
        spec /= np.sqrt(self._clip_psd(y if like is None else like, nfft))
        spec[: self._low_bins(nfft)] = 0.0
        if band < 1.0:  # low-pass: a wider correlation peak, tolerant of a speed error
            spec[int(band * spec.size) :] = 0.0
        u = _level(scipy.fft.irfft(spec, nfft)[:n], self.sr)
        u.flags.writeable = False
        self._local.whitened = (y, like, band, u)
        return u

    def _low_bins(self, nfft: int) -> int:
        """Bins of an ``nfft``-point spectrum below ``_F_LOW``: left out of the search and the score.

        The clip's spectrum is estimated at 31 Hz resolution; below its first bin it cannot
        follow a steep noise spectrum (pink or brown noise, rumble), so ``y / sqrt(P_y)``
        keeps a strong drift there, and the few degrees of freedom of that drift made
        a few bass-heavy passages of the catalog correlate with any noisy clip (measured
        on real music with pink noise at -15 dB: one passage of one track beat the true
        place in 6 of 40 clips of 3 s, top-1 34 of 40; with the cut at 30 Hz, top-1 on 60
        clips of 3 s / 1 s at -15 / -20 dB: pink 60, 60, 58, 40; white 59, 60, 58, 52; a
        cut at 50 Hz did slightly worse on both).
        """
        return int(math.ceil(_F_LOW / self.sr * nfft))

    def _clip_psd(self, y: NDArray[np.float64], nfft: int | None) -> NDArray[np.float64]:
        """:func:`_psd_on_grid` on the grid of an ``nfft``-point real FFT, or (None) at the
        Welch bins ``k / _PSD_SEG``, ``k = 1 .. _PSD_SEG / 2 - 1``; the Whitener and the grids of
        the last clip kept (every view of a query uses them). Read-only."""
        memo = getattr(self._local, "psd", None)
        if memo is None or not _same(memo[0], y):
            grids: dict[int | None, NDArray[np.float64]] = {}
            memo = self._local.psd = (y, _clip_whitener(y), grids, {}, {})  # {}: _clip_levels, _clip_filter
        grid = memo[2].get(nfft)
        if grid is None:
            freqs = np.arange(1, _PSD_SEG // 2) / _PSD_SEG if nfft is None else np.arange(nfft // 2 + 1) / nfft
            grid = memo[2][nfft] = _psd_on_grid(y, freqs, memo[1], fitted=True)
            grid.flags.writeable = False
        return grid

    def _clip_filter(self, y: NDArray[np.float64], t: _Track, nfft: int) -> NDArray[np.complex128]:
        """``C sqrt(max(P_y, g / |C|^2))`` on an ``nfft``-point grid, the divisor of
        :meth:`_track_view`; kept with the clip's spectrum for the query's other places on
        the same track. Read-only."""
        self._clip_psd(y, None)
        kept: dict[tuple[int, int], tuple[_Track, NDArray[np.complex128]]] = self._local.psd[4]
        hit = kept.get((id(t), nfft))
        if hit is None or hit[0] is not t:
            g = self._clip_levels(y, [t])[0]
            f = self._response(t, nfft) * np.sqrt(np.maximum(self._clip_psd(y, nfft), _EVIDENCE * g / self._response_power(t, nfft)))
            f.flags.writeable = False
            hit = kept[(id(t), nfft)] = (t, f)
        return hit[1]

    def _clip_levels(self, y: NDArray[np.float64], tracks: Sequence[_Track]) -> list[Any]:
        """:meth:`_evidence_level` of the clip ``y`` on each of ``tracks``, kept with the clip's
        spectrum (:meth:`_clip_psd`): the places of a query share them, and the levels of
        tracks not yet seen are computed in one call."""
        self._clip_psd(y, None)
        kept: dict[int, tuple[_Track, Any]] = self._local.psd[3]
        new = list({id(t): t for t in tracks if id(t) not in kept or kept[id(t)][0] is not t}.values())
        if new:
            levels = self._evidence_levels(new, self._clip_psd(y, None))
            for k, t in enumerate(new):
                kept[id(t)] = (t, levels[..., k])
        return [kept[id(t)][1] for t in tracks]

    def _native_inside(self) -> NDArray[np.bool_]:
        """Which Welch bins ``k / _PSD_SEG``, ``k = 1 .. _PSD_SEG / 2 - 1``, lie from ``_F_LOW`` to ``0.45 sr``."""
        k = np.arange(1, _PSD_SEG // 2)
        return (k * self.sr >= _F_LOW * _PSD_SEG) & (k * self.sr <= 0.45 * self.sr * _PSD_SEG)

    def _evidence_level(self, t: _Track, p_native: NDArray[np.float64]) -> Any:
        """``g``: the clip's level on track ``t``'s long-term spectrum ``P_t = 1 / |C|^2``.

        ``p_native`` is the clip's spectrum at the Welch bins ``k / _PSD_SEG``,
        ``k = 1 .. _PSD_SEG / 2 - 1`` (last axis; a stack of clips gives a level per row);
        the bins from ``_F_LOW`` to ``0.45 sr`` count.
        """
        return self._evidence_levels([t], p_native)[..., 0]

    def _evidence_levels(self, tracks: Sequence[_Track], p_native: NDArray[np.float64]) -> NDArray[np.float64]:
        """:meth:`_evidence_level` of every track of ``tracks`` at once: ``(..., len(tracks))``
        (one quantile call for the catalog's search instead of one per track)."""
        inside = self._native_inside()
        p_t = np.stack([self._track_spectrum(t) for t in tracks]) if tracks else np.ones((0, int(inside.sum())))
        return np.asarray(_track_floor(p_native[..., None, inside], p_t))

    def _track_spectrum(self, t: _Track) -> NDArray[np.float64]:
        """``P_t = 1 / |C|^2`` of track ``t`` at the Welch bins :meth:`_native_inside` selects
        (kept on the track: the same at every query)."""
        if t.native is None:
            k = np.arange(1, _PSD_SEG // 2)
            # on a grid of 2 * _PSD_SEG points: the response of 257 taps, none folded over
            r2 = np.abs(self._response(t, 2 * _PSD_SEG)[2 * k]) ** 2
            t.native = 1.0 / r2[self._native_inside()]
        return t.native

    def _response(self, t: _Track, nfft: int) -> NDArray[np.complex128]:
        """The frequency response ``C`` of track ``t``'s whitener on an ``nfft``-point grid (kept)."""
        return self._responses(t, nfft)[0]

    def _response_power(self, t: _Track, nfft: int) -> NDArray[np.float64]:
        """``|C|^2`` of :meth:`_response` (kept with it)."""
        return self._responses(t, nfft)[1]

    def _responses(self, t: _Track, nfft: int) -> tuple[NDArray[np.complex128], NDArray[np.float64]]:
        key = (id(t), nfft)
        hit = self._resp_cache.get(key)
        if hit is None:
            resp = _kernel_response(t.kernel, nfft, nfft // 2 + 1)
            hit = (resp, np.abs(resp) ** 2)
            with self._cache_lock:
                self._resp_cache[key] = hit
                if len(self._resp_cache) > 64:
                    self._resp_cache.pop(next(iter(self._resp_cache)))
        return hit

    def _track_view(self, t: _Track, y: NDArray[np.float64], lo: int, hi: int, band: float = 1.0) -> NDArray[np.float64]:
        """``v``: the track's samples ``lo .. hi - 1`` as the clip's filter sees them.

        The stored (whitened, levelled) track is filtered by ``1 / (C sqrt(P_f))``: its
        whitener undone, then divided by the square root of the clip's power spectrum
        floored at the clip's level on the track's spectrum, ``P_f = max(P_y, g / |C|^2)``
        (``g``: :meth:`_evidence_level`), so that ``<u, v>`` is the matched filter's
        ``sum_f Y conj(S) / sqrt(P_y P_f)`` and ``|v|^2`` its variance when the clip is
        unrelated. Samples outside the track are
        zero; ``_VIEW_PAD`` samples of context on each side absorb the filter's spread.
        """
        a, b = lo - _VIEW_PAD, hi + _VIEW_PAD
        seg = np.zeros(b - a)
        c, d = max(a, 0), min(b, t.n)
        if d > c:
            seg[c - a : d - a] = np.asarray(t.data[c:d], dtype=np.float64)
        nfft = scipy.fft.next_fast_len(seg.size, real=True)
        spec = scipy.fft.rfft(seg, nfft)
        # the track's filter: 1 / (C sqrt(max(P_y, g P_t))), P_t = 1 / |C|^2 (see _track_floor)
        spec /= self._clip_filter(y, t, nfft)
        spec[: self._low_bins(nfft)] = 0.0
        if band < 1.0:
            spec[int(band * spec.size) :] = 0.0
        return scipy.fft.irfft(spec, nfft)[_VIEW_PAD : _VIEW_PAD + hi - lo]

    def _scores(self, q: NDArray[np.float64], t: _Track, view: NDArray[np.float64], lo: int, n_lags: int
                ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
        """Exact Pearson correlations of ``q`` with the track at the lags ``lo .. lo + n_lags - 1``.

        A lag is the track sample under the clip's first sample. ``view[i]`` is track sample
        ``lo + i`` (``len(view) >= n_lags + m - 1``). Samples outside the track are masked,
        so each lag's sums run over its overlap with the track, and the correlation there is
        ``(S_qv - S_q S_v / n) / sqrt((S_qq - S_q^2 / n) (S_vv - S_v^2 / n))``, every ``S``
        a window sum: one FFT for ``S_qv``, running sums over the lags for the track's
        (:func:`_window_sums`), the clip's prefix sums for the clip's. Equal to the
        lag-by-lag definition to about 1e-11 (tested against ``naive.pearson_lags``).
        Each score is then multiplied by ``sqrt(min(1, power / _QUIET))``, ``power`` the
        mean square of the stored samples over the lag's overlap.
        Returns (lags, scores, overlaps); lags with fewer than two samples of overlap
        score -1.
        """
        m = q.size
        lags = np.arange(lo, lo + n_lags)
        v = np.array(view[: n_lags + m - 1], dtype=np.float64)
        v[: max(0, -lo)] = 0.0  # before the track
        v[max(0, t.n - lo) :] = 0.0  # after it
        jl = np.clip(-lags, 0, m)  # overlap: clip samples jl .. jh - 1
        jh = np.clip(t.n - lags, 0, m)
        n = np.maximum(jh - jl, 0)
        nfft = scipy.fft.next_fast_len(v.size, real=True)
        memo = getattr(self._local, "needle", None)  # the same clip meets every candidate at this length
        if memo is None or memo[0] is not q or memo[1] != nfft:
            memo = self._local.needle = (q, nfft, np.conj(scipy.fft.rfft(q, nfft)))
        # sum_j q[j] v[k + j]: no wrap-around, k + j < len(v) <= nfft
        s_qv = scipy.fft.irfft(scipy.fft.rfft(v, nfft) * memo[2], nfft)[:n_lags]
        sums = getattr(self._local, "clip_sums", None)  # ... and its prefix sums
        if sums is None or sums[0] is not q:
            sums = self._local.clip_sums = (q, np.concatenate(([0.0], np.cumsum(q))), np.concatenate(([0.0], np.cumsum(q * q))))
        cq, cqq = sums[1], sums[2]
        s_q, s_qq = cq[jh] - cq[jl], cqq[jh] - cqq[jl]
        s_v, s_vv = _window_sums(v, m), _window_sums(v * v, m, nonnegative=True)  # the masked samples add nothing
        nn = np.maximum(n, 1)
        cov = s_qv - s_q * s_v / nn
        den = np.sqrt(np.maximum(s_qq - s_q * s_q / nn, 0.0) * np.maximum(s_vv - s_v * s_v / nn, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.where(den > 0, cov / np.where(den > 0, den, 1.0), 0.0)
        scores *= np.sqrt(np.minimum(self._stored_power(t, lo, n_lags, m) / nn / _QUIET, 1.0))
        scores[n < 2] = -1.0
        return lags, scores, n.astype(np.int64)

    @staticmethod
    def _stored_power(t: _Track, lo: int, n_lags: int, m: int) -> NDArray[np.float64]:
        """Sum of the squared stored samples of track ``t`` under a clip of ``m`` samples
        at each lag ``lo .. lo + n_lags - 1`` (samples outside the track count zero)."""
        w = np.zeros(n_lags + m - 1)
        a, b = max(lo, 0), min(lo + w.size, t.n)
        if b > a:
            w[a - lo : b - lo] = np.asarray(t.data[a:b], dtype=np.float64) ** 2
        return _window_sums(w, m, nonnegative=True)

    def _refine(self, y: NDArray[np.float64], ti: int, lag0: int, radius: int, q: NDArray[np.float64] | None = None,
                band: float = 1.0, wide: int = 0, view: NDArray[np.float64] | None = None
                ) -> tuple[float, float, int, NDArray[np.float64], Callable[[], float]]:
        """Exact scores around ``lag0``; returns (score, refined lag, overlap, whitened clip,
        a function computing the effective length of the score at the best integer lag,
        :meth:`_effective_length`, when it is needed).

        The score is the Pearson correlation of the whitened clip ``u`` with the track's
        view ``v`` (:meth:`_track_view`) over their overlap: the matched filter normalized
        by its own standard deviation at that lag. With ``wide > radius`` the best lag
        within ``+-wide`` of ``lag0`` is found first and the refinement centred there: the
        search's coarse statistic can prefer a neighbouring cycle of near-periodic music
        (see ``_WIDE``). ``view``: the track's view from ``lag0 - max(radius, wide)`` on, if
        already computed (at least ``2 * max(radius, wide) + len(q)`` samples).
        """
        t = self._tracks[ti]
        if q is None:
            q = self._whitened_clip(y, band)
        m = q.size
        reach = max(radius, wide)
        lo = lag0 - reach
        if view is None:
            view = self._track_view(t, y, lo, lag0 + reach + m, band)
        lags, scores, overlaps = self._scores(q, t, view, lo, 2 * reach + 1)
        c = reach
        if wide > radius:
            i = int(np.argmax(np.where(overlaps < self._min_overlap(m, t), -1.0, scores)))
            c = min(max(i, radius), scores.size - 1 - radius)  # the refinement's window
        lags, scores, overlaps = lags[c - radius : c + radius + 1], scores[c - radius : c + radius + 1], overlaps[c - radius : c + radius + 1]
        i = int(np.argmax(scores))
        delta, value = 0.0, float(scores[i])
        if 0 < i < lags.size - 1:
            ym, y0, yp = scores[i - 1], scores[i], scores[i + 1]
            den = ym - 2 * y0 + yp
            if den < 0:
                delta = 0.5 * (ym - yp) / den
                value = float(y0 - 0.25 * (ym - yp) * delta)
        k = int(lags[i])
        jl, jh = max(0, -k), min(m, t.n - k)
        seg, clip = view[k - lo + jl : k - lo + jh], q

        def length() -> float:
            return self._effective_length(clip, jl, jh, seg) if jh - jl > 2 else 3.0

        return min(value, 1.0), float(k) + delta, int(overlaps[i]), q, length

    def _effective_length(self, q: NDArray[np.float64], jl: int, jh: int, v: NDArray[np.float64]) -> float:
        """Bartlett's effective length of the Pearson correlation of ``q[jl:jh]`` with ``v``:
        ``n / sum_k rho_u(k) rho_v(k)`` over all lags ``k`` (``n = jh - jl``), computed as
        ``sum_f |U_f|^2 |V_f|^2 / (N |u|^2 |v|^2)`` of the centred signals' ``N >= 2n``-point
        spectra; at most ``n`` (white signals), at least 3.

        The whitened clip is white only up to its spectrum's resolution (31 Hz): a tonal
        clip keeps its notes, and a passage of other music in the same tuning holds them
        too, so that the score of unrelated music is far wider than ``N(0, 1/n)``
        (synthetic catalog: unrelated 3 s probes scored 0.05-0.07 with ``n = 24000``, 8-11
        standard deviations; their effective lengths were 4,600-10,600).
        """
        v = v - v.mean()
        n = jh - jl
        nfft = scipy.fft.next_fast_len(2 * n, real=True)
        memo = getattr(self._local, "clip_power", None)  # the same clip meets every candidate
        if memo is None or memo[0] is not q or memo[1:3] != (jl, jh) or memo[3] != nfft:
            u = q[jl:jh] - q[jl:jh].mean()
            w = np.full(nfft // 2 + 1, 2.0)  # the one-sided spectrum: every bin but 0 (and nfft/2) twice
            w[0] = 1.0
            if nfft % 2 == 0:
                w[-1] = 1.0
            memo = self._local.clip_power = (q, jl, jh, nfft, w * np.abs(scipy.fft.rfft(u, nfft)) ** 2, float(np.sum(u * u)))
        wpu, uu = memo[4], memo[5]
        pv = np.abs(scipy.fft.rfft(v, nfft)) ** 2
        # sums, not np.dot: a BLAS call wakes OpenBLAS's threads, whose spinning slowed the
        # next search by 30% on 2 cores (0.127 -> 0.164 s per query on an hour of music)
        den = uu * float(np.sum(v * v))
        if den <= 0.0:
            return 3.0
        s = float(np.sum(wpu * pv)) / (nfft * den)
        return float(min(max(n / s, 3.0), n)) if s > 0 else float(n)

    def _min_overlap(self, m: int, t: _Track) -> int:
        return max(int(0.5 * min(m, t.n)), 2)

    @staticmethod
    def _dedupe(matches: list[Match], min_sep: float, per_track: bool) -> list[Match]:
        out: list[Match] = []
        for mt in sorted(matches, key=_RANK_KEY):
            if per_track and any(o.track == mt.track for o in out):
                continue
            if any(o.track == mt.track and abs(o.offset_samples - mt.offset_samples) < min_sep for o in out):
                continue
            out.append(mt)
        return out

    def _speed_grid(self, speed_range: float, seg_len: int, decimate: int) -> NDArray[np.float64]:
        if speed_range == 0.0:
            return np.array([1.0])
        # a speed error of half a step drifts the segment's end by _SPEED_STEP * decimate / 2
        # samples (20 at decimate 16: +-10 about its middle, a third of a period at the band's
        # top, 250 Hz, less below it; the first refinement round tries speeds a quarter step
        # apart); the tolerance grows with the decimation, as the band's top falls
        step = _SPEED_STEP * decimate / seg_len
        n = int(math.ceil(speed_range / step))
        return 1.0 + step * np.arange(-n, n + 1, dtype=np.float64)

    @staticmethod
    def _respeed(y: NDArray[np.float64], speed: float, order: int = 3) -> NDArray[np.float64]:
        """Undo a playback ``1/speed`` times fast: sample the clip at positions ``i * speed``
        (cubic spline; ``order=1``, linear, is enough for the low-band search)."""
        if speed == 1.0:
            return y
        n = int(math.floor((y.size - 1) / speed)) + 1
        pos = np.arange(n) * speed
        if order == 1:
            return np.interp(pos, np.arange(y.size), y)
        return scipy.ndimage.map_coordinates(y, [pos], order=order, mode="nearest")

    def _run(self, samples: ArrayLike, sr: Any, n_candidates: int, threshold_p: float | None,
             speed_range: float | None) -> tuple[list[Match], int]:
        """The matches of a clip before the per-track merge, and the clip's length at the working rate.

        Without a speed search this is the two public stages (:meth:`candidates`, then
        :meth:`score`), whichever class implements them. The probabilities are final (the
        music null applied: :meth:`tsconv.audio.Candidates.p`).
        """
        speed_range = self.speed_range if speed_range is None else self._check_speed_range(speed_range)
        if speed_range == 0.0:
            found = self.candidates(samples, sr).fitted()
            if not len(found) or (found.inverted and self._inverted_exact(samples, sr, found)):
                return [], found.clip_samples
            out = self._verified(samples, sr, found, n_candidates)
            if threshold_p is not None:  # and every place whose search evidence alone passes
                out += [mt for mt in self.score(samples, sr, found.above(threshold_p)) if mt is not None]
            return out, found.clip_samples
        # the plain search first: a strong match at speed 1 ends the search; otherwise its
        # matches compete with the speed search's by exact score. Two searches: each one's
        # probabilities are doubled (Bonferroni)
        plain, n = self._run(samples, sr, n_candidates, threshold_p, 0.0)
        plain = self._scaled_p(plain, 2.0)
        if max((mt.score for mt in plain), default=0.0) >= _SPEED_PLAIN_SCORE:
            return plain, n
        y = self._query(samples, sr)
        if not self._tracks or float(np.ptp(y)) == 0.0:
            return plain, y.size
        matches = self._speed_search(y, speed_range, _SPEED_DECIMATE)  # best first
        if (matches[0].score if matches else 0.0) < _SPEED_WIDER_BELOW:
            # a weak answer: search again in twice the band, keep the better, and count the
            # two searches in the probability (Bonferroni)
            wider = self._speed_search(y, speed_range, _SPEED_DECIMATE // 2)
            if wider and (not matches or wider[0].score > matches[0].score):
                matches = wider
            matches = self._scaled_p(matches, 2.0)
        return plain + self._scaled_p(matches, 2.0), y.size

    @staticmethod
    def _scaled_p(matches: list[Match], factor: float) -> list[Match]:
        """``matches`` with their false-alarm probabilities times ``factor`` (at most 1)."""
        return [dataclasses.replace(mt, false_alarm_probability=min(1.0, factor * mt.false_alarm_probability))
                for mt in matches]

    def _speed_search(self, y: NDArray[np.float64], speed_range: float, decimate: int) -> list[Match]:
        """The speed search of the clip ``y`` (at the working rate) with the grid in the lowest
        ``1 / decimate`` of the band: the grid pass, then the refinement of its best places.
        The matches are sorted by exact score, best first."""
        L = self._needle_len
        freqs = np.arange(_NFFT // 2 + 1) / _NFFT
        # speed search: a stretch of the clip at a grid of speeds, in the lowest band
        seg_len = min(y.size, L, int(_SPEED_SEG * self.sr))
        grid = self._speed_grid(speed_range, seg_len, decimate)
        stretched = [self._respeed(y[: int(seg_len * 1.05) + 2], float(f), order=1) for f in grid]
        # every speed's stretch in one pass over the catalog (its own spectrum each)
        rows, chunk = self._search_rows([yf[:seg_len] for yf in stretched],
                                        np.stack([_psd_on_grid(yf, freqs) for yf in stretched]), decimate, anti=False)
        scans = [_Scan(z, lag, ti, 1.0, 1.0, n / chunk) for z, lag, ti, n, _ in rows]
        # one null for the whole grid: pooled chunk maxima, lags counted over all speeds
        z_all = np.concatenate([sc.z for sc in scans])
        n_chunks = sum(sc.n_chunks for sc in scans)
        hits: list[tuple[float, float, int, int]] = []
        for f, sc in zip(grid, scans):
            for i in sc.top(2, min_sep=seg_len // 2):
                hits.append((float(sc.z[i]), float(f), int(sc.track[i]), int(sc.lag[i])))
        hits.sort(reverse=True)
        matches: list[Match] = []
        step = float(grid[1] - grid[0]) if grid.size > 1 else 0.0
        pooled = _Scan.fitted(z_all, np.zeros(0, np.int64), np.zeros(0, np.int64), n_chunks)
        # the probabilities of Candidates.p: the pooled search statistic and the exact score
        # united, each recalibrated by the music null; the exact score is the best of every
        # lag and every speed, and the score against speed is a spike 1 / n wide, so it had
        # 2 speed_range n + 1 times the lags' chances (Bonferroni over the speeds)
        tests = Candidates(tuple(t.name for t in self._tracks), np.zeros(0, np.int64), np.zeros(0, np.int64),
                           np.zeros(0), pooled.n_chunks, -math.inf, seg_len // 2, int(y.size),
                           null=(pooled.sigma, pooled.n_c), music_null=self.music_null, sr=self.sr,
                           lags=float(self._n_lags()))
        n_speeds = 2.0 * speed_range * y.size + 1.0

        def search_term(z: float) -> float:
            """The search's term of the union: a function of ``z`` alone (the score given is none)."""
            return tests._terms(z, 0.0, float(y.size), music=True)[0]

        def exact_term(z: float, res: _SpeedTrial) -> float:
            """The exact score's term of a refined place ``res``, its speeds counted (as
            :meth:`_to_matches`: the effective length only when the overlap's term binds)."""
            score, overlap, length = res[0], float(res[3]), res[5]
            a, b = tests._terms(z, score, overlap, music=True)
            if b * n_speeds < min(1.0, a):
                b = tests._terms(z, score, length(), music=True)[1]
            return b * n_speeds

        # the low-band statistic is noisy: verify the best few at the full rate, where the
        # exact score decides between them
        distinct: list[tuple[float, float, int, int]] = []
        for cand in hits:  # neighbouring speeds find the same place: keep distinct places
            if all(cand[2] != d[2] or abs(cand[3] - d[3]) > 64 for d in distinct):
                distinct.append(cand)
                if len(distinct) == _SPEED_CANDIDATES:
                    break
        # round 1 of the refinement at every distinct place; rounds 2 and 3 at the best ones,
        # until _SPEED_PLACES of them give a match
        def round_one(d: tuple[float, float, int, int]) -> tuple[_SpeedTrial, int, float]:
            z, f0, ti, lag = d
            return self._speed_round(y, ti, lag - L, f0, step, 0, decimate), ti, z

        first = self._threaded(round_one, distinct)  # the places on threads (memos are per thread)
        first.sort(key=lambda r: -r[0][0])
        a_best = 1.0  # the strongest search evidence of any place
        terms: list[tuple[float, float]] = []
        for res, ti, z in first:
            a = search_term(z)
            a_best = min(a_best, a)
            if len(matches) >= _SPEED_PLACES:
                continue
            for r in (1, 2):
                res = self._speed_round(y, ti, int(round(res[2])), res[1], step, r, decimate)
            mt = self._speed_match(ti, res)
            if mt is not None:
                matches.append(mt)
                terms.append((a, exact_term(z, res)))
        # the winner by exact score carries the best search evidence with its own exact score's
        if matches:
            i = max(range(len(matches)), key=lambda k: matches[k].score)
            terms[i] = (a_best, terms[i][1])
        matches = [dataclasses.replace(mt, false_alarm_probability=floor_p(min(1.0, a, b)))
                   for mt, (a, b) in zip(matches, terms)]
        matches.sort(key=lambda r: -r.score)
        return matches

    def _verified(self, samples: ArrayLike, sr: Any, found: Candidates, n_candidates: int) -> list[Match]:
        """The matches of the candidates :meth:`_verify` picks, scored by :meth:`score` (a
        :class:`tsconv.dask.ShardedMatcher` scores on its shards)."""
        parts = self._verify(found, n_candidates, lambda c: self.score(samples, sr, c), lambda mt: mt.score)
        return [mt for _, scored in parts for mt in scored if mt is not None]

    def _verify(self, found: Candidates, n_candidates: int, score_of: Callable[[Candidates], list[Any]],
                value: Callable[[Any], float]) -> list[tuple[Candidates, list[Any]]]:
        """The candidates :meth:`match` scores exactly, and each probe of :meth:`calibrate`,
        with ``score_of`` of each part (``value`` of an entry: its exact score; None entries
        are skipped): the best ``n_candidates`` (at least 3) of ``found`` (fitted), and,
        when none of them scores ``_VERIFY_MORE_BELOW``, the best place of each of the next
        ``_MORE_TRACKS`` tracks (:meth:`_other_tracks`)."""
        picked = found.top(max(n_candidates, 3))
        parts = [(picked, score_of(picked))]
        if max((value(r) for r in parts[0][1] if r is not None), default=0.0) < _VERIFY_MORE_BELOW:
            if 0 < found.clip_samples < _SHORT_CLIP:
                # a short clip's search is noisy: its true place can rank below the first
                # few, in the same track as the wrong ones (cheap to score: the clip is short)
                more = found.top(min(len(picked) * -(-_SHORT_CLIP // found.clip_samples), _SHORT_VERIFY))
                if len(more) > len(picked):
                    more = more.take(np.arange(len(picked), len(more)))
                    parts.append((more, score_of(more)))
            strong = picked.take(np.flatnonzero(picked.z >= found._scan().z_at(_SHADOWED_P, found.p)))
            hidden = self._shadowed(found, strong, [c for c, _ in parts], _SHADOWED, float(picked.z.min()))
            other = self._other_tracks(found, picked)
            both = dataclasses.replace(other, track=np.concatenate([hidden.track, other.track]),  # one round of scores
                                       lag=np.concatenate([hidden.lag, other.lag]), z=np.concatenate([hidden.z, other.z]))
            parts.append((both, score_of(both)))
        return parts

    @staticmethod
    def _shadowed(found: Candidates, standins: Candidates, scored: list[Candidates], k: int, above: float) -> Candidates:
        """The best ``k`` places that :meth:`Candidates.top` hid behind a strong stand-in.

        ``top`` keeps one candidate per ``spacing`` lags of a track (half the clip), taking
        the best as standing for its neighbours; the exact score looks only ``_WIDE`` lags
        around it. When the search found a place strong enough to report on its own but
        the exact score there is weak, the stand-in was wrong, and a place between ``_WIDE``
        and ``spacing`` lags from it that ranked among the places verified was never
        scored: measured on real music (colobot music004), clean 3 s excerpts were reported
        1.4-2 s from their place (exact score 0.12-0.23 there, 0.77-0.86 at their own place,
        which ranked 2nd and 6th in the coarse stage). These are the best coarse places at
        or above ``above`` (the least z verified), ``2 * _WIDE`` lags apart, within
        ``spacing`` of one of the ``standins`` of their track and beyond ``_WIDE`` of every
        ``scored`` candidate.
        """
        tr = np.concatenate([c.track for c in scored])
        lag = np.concatenate([c.lag for c in scored]).astype(np.int64)
        chosen: list[int] = []
        for i in _best_first(found.z, 50 * k + 100):
            if found.z[i] < above:
                break
            t, g = found.track[i], int(found.lag[i])
            near = np.abs(standins.lag[standins.track == t].astype(np.int64) - g)
            if near.size and near.min() < found.spacing and np.abs(lag[tr == t] - g).min() > _WIDE and all(
                    found.track[j] != t or abs(int(found.lag[j]) - g) >= 2 * _WIDE for j in chosen):
                chosen.append(int(i))
                if len(chosen) >= k:
                    break
        return found.take(np.array(chosen, dtype=np.int64))

    @staticmethod
    def _inverted(scan: _Scan) -> bool:
        """Is the clip polarity-inverted? Its strongest evidence is then an anti-correlation.

        The search keeps the best positive correlation of every chunk; an inverted clip's
        true place is a strong negative peak, and a positive side lobe next to it, or a
        place elsewhere, used to be reported (about 1.5 samples off, or at a wrong place,
        sometimes with p < 0.01). The clip is taken as inverted, and nothing is reported,
        when the strongest anti-correlation of the pass is stronger than the strongest
        correlation and would itself be a detection at ``_INVERTED_P``.
        """
        if not scan.z.size or not math.isfinite(scan.z_neg):
            return False
        return scan.z_neg > float(scan.z.max()) and scan.p(scan.z_neg) <= _INVERTED_P

    @staticmethod
    def _other_tracks(found: Candidates, picked: Candidates) -> Candidates:
        """The best candidate of each of the ``_MORE_TRACKS`` best tracks that ``picked`` has none of.

        Coarse-stage hubs (near-silent passages with clicks, pulsed passages) can fill the
        top candidates of a clip whose true place scores far higher exactly: measured on real
        music, a clean clip of colobot music004 scored 0.794 at its true place, while the
        candidates scored were hubs and ``match`` answered another track (0.094). When the
        best exact score is weak, :meth:`match` also scores these.
        """
        n = 64 * _MORE_TRACKS  # the best places first; all of them if the next tracks lie deeper
        while True:
            seen = set(picked.track.tolist())
            extra: list[int] = []
            for i in _best_first(found.z, n):
                ti = int(found.track[i])
                if ti not in seen:
                    seen.add(ti)
                    extra.append(int(i))
                    if len(extra) >= _MORE_TRACKS:
                        break
            if len(extra) >= _MORE_TRACKS or n >= found.z.size:
                return found.take(np.array(extra, dtype=np.int64))
            n *= 8

    def _inverted_exact(self, samples: ArrayLike, sr: Any, found: Candidates) -> bool:
        """Confirm the coarse verdict ``found.inverted`` by exact scores at the best few places.

        A channel that rotates the phase of a band the search weights heavily (the lower
        edge of a high-pass or a phone band: 180 degrees at a 4th-order corner) gives the
        true place a strong negative side lobe, which can beat the positive peak in the
        coarse statistic. The clip is inverted when the negated clip's best exact score at
        its own three best candidates is more than ``_INVERTED_RATIO`` times the clip's own
        (an inverted clip scores
        near -1 at its place and only its side lobes positive; a filtered clip has a
        positive peak and negative lobes of similar size, either one the larger).
        """
        flipped = -np.asarray(samples, dtype=np.float64)
        pos = [mt.score for mt in self.score(samples, sr, found.top(3)) if mt is not None]
        neg = [mt.score for mt in self.score(flipped, sr, self.candidates(flipped, sr).fitted().top(3)) if mt is not None]
        return max(neg, default=-1.0) > _INVERTED_RATIO * max(max(pos, default=0.0), 0.0)

    def _speed_round(self, y: NDArray[np.float64], ti: int, lag0: int, f0: float, step: float, r: int,
                     decimate: int) -> _SpeedTrial:
        """Round ``r`` (0, 1, 2) of the speed refinement around ``f0`` and ``lag0``: nine speeds.

        The exact score against speed is a spike about ``1 / len(clip)`` wide; low-passing
        the clip widens it, so each round narrows the range four times and widens the band
        (1/8, 1/2, full). Returns the best trial: (score, speed, lag, overlap, whitened clip,
        its effective length, see :meth:`_refine`).
        """
        band, half, radius = ((1 / 8, step, decimate + 8), (1 / 2, step / 4, 6), (1.0, step / 16, 3))[r]
        # the low band's lag can sit whole cycles of a bass note from the place (+-109 and
        # +-218 samples: 73 Hz), which the narrow radii keep: the last round, at the full
        # band and the refined speed, takes the best lag within _WIDE first, as score does
        wide = _WIDE if r == 2 else 0
        reach = max(radius, wide)
        speeds = f0 + np.linspace(-half, half, 9)
        stretched = [self._respeed(y, float(f), order=3 if band == 1.0 else 1) for f in speeds]
        # the trials share the spectrum of the centre speed (at most 0.2% away: 4 Hz at
        # 2 kHz, within the clip spectrum's 31 Hz resolution), so the track's view is one
        centre = stretched[4]
        view = self._track_view(self._tracks[ti], centre, lag0 - reach, lag0 + reach + max(yf.size for yf in stretched), band)
        trials = []
        for f, yf in zip(speeds, stretched):
            q = self._whitened_clip(yf, band, like=centre)
            score, lag, overlap, q, length = self._refine(yf, ti, lag0, radius, q, band=band, wide=wide, view=view)
            trials.append((score, float(f), lag, overlap, q, length))
        return max(trials, key=lambda t: t[0])

    def _speed_match(self, ti: int, res: _SpeedTrial) -> Match | None:
        """The match of a refined speed (:meth:`_speed_round`); None when the overlap is too short."""
        t = self._tracks[ti]
        score, f_best, lag, overlap, q, _ = res
        if overlap < self._min_overlap(q.size, t):
            return None
        # resampling at positions i * f undoes a playback 1/f times fast
        return Match(t.name, float(lag / self.sr), float(lag), float(score), 1.0, float(1.0 / f_best))

    def trace(self, samples: ArrayLike, sr: int, track: str) -> NDArray[np.float64]:
        """Normalized cross-correlation of the whitened clip with one whitened track.

        Element ``k`` is the Pearson correlation of the clip with the track's samples
        ``k .. k + len(clip) - 1`` at the working rate (:func:`tsconv.ncc`), after the
        same whitening :meth:`match` uses: the trace :meth:`tsconv.audio.Match.plot` draws.

        Raises
        ------
        ValueError
            If ``track`` is not in the catalog or the clip is longer than the track.
        """
        names = self.tracks
        if track not in names:
            raise ValueError(f"track must be one of the catalog's tracks, got {track!r}")
        t = self._tracks[names.index(track)]
        y = self._query(samples, sr)
        q = self._whitened_clip(y)
        if q.size > t.n:
            raise ValueError(f"the clip ({q.size} samples) is longer than track {track!r} ({t.n}): no full overlap to trace")
        return ncc(q, self._track_view(t, y, 0, t.n))

    def match(self, samples: ArrayLike, sr: int, top_k: int = 5, *, max_false_alarm: float = 0.01,
              speed_range: float | None = None, check_rate: bool = False) -> list[Match]:
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
            None uses the matcher's ``speed_range``. The plain search (speed 1) runs
            first: a match scoring at least 0.5 there is kept and no speed is searched (a
            clip at its true speed); otherwise its matches compete with the speed search's
            by exact score, every probability doubled (two searches). A grid of speeds (step ``40 / n`` for
            the first ``n = min(2.5 s, clip)`` samples) is searched in the lowest 16th of
            the band, then the speeds of the four best places are refined at the full rate
            (the best two after a first round): ``2 * speed_range * n / 40 + 1`` stretched
            clips (23 for 0.021 and a 3 s clip) searched together in one low-band pass over
            the catalog. When the best exact score is below 0.5, the search runs again in
            the lowest 8th of the band (twice the speeds, about four times the grid's
            cost), the better answer is kept and its probability doubled (two searches).
            A speed match's probability unites, as :meth:`Candidates.p` does, the grid's
            search evidence and its exact score, the latter counted over the ``2 *
            speed_range * n + 1`` speeds the refinement can tell apart (``n``: the clip's
            samples at the working rate).
            About 4.5 normal queries in all for a clip played at another speed, one for a
            clip at its true speed (medians on an hour of real music);
            ``docs/audio.md`` has the measured accuracy and cost.
        check_rate : bool, default False
            Suspect a wrong declared sample rate when no match is reported or the best
            is weak (exact score below 0.35; a clean clip at its true rate scores 0.8-1):
            the clip is then also sought as if its rate were the usual mistaken one (44.1
            instead of 48 kHz and the like, see below) and twice or half ``sr``. When one
            of these rates gives a match scoring at least 0.5 and twice the weak one, its
            matches are returned, with ``speed = sr / rate`` (the speed at which the clip,
            read at ``sr``, plays), and a :class:`~tsconv.audio.RateMismatchWarning` names the rate.
            Costs up to three more searches when the match is weak or missing (every clip
            not in the catalog), none for a strong match. On by default in
            :meth:`match_file` and ``tsconv match``, where the rate comes from a file header.

        Returns
        -------
        list of Match
            Sorted by decreasing score (the exact correlation; candidates come from the
            search's best chunks); empty for silence or a clip not in the catalog.

        Notes
        -----
        Without a speed search this is the two public stages: :meth:`candidates`, fitted
        (:meth:`Candidates.fitted`), the best ``max(2 top_k + 2, 10)`` places
        (:meth:`Candidates.top`) scored by :meth:`score`, then one match per track (its
        best score, with the track's smallest false-alarm probability).

        Raises
        ------
        ValueError, TypeError
            Bad samples, sample rate, ``top_k`` or probabilities.
        """
        top_k = as_int(top_k, "top_k", minimum=1)
        max_false_alarm = self._check_probability(max_false_alarm, "max_false_alarm")
        if not isinstance(check_rate, bool):
            raise TypeError(f"check_rate must be True or False, got {check_rate!r}")
        matches, n = self._run(samples, sr, max(2 * top_k + 2, 10), None, speed_range)
        # one match per track: its best-scoring place, with the track's strongest search
        # evidence as its probability; reported when that passes, best score first
        p_track: dict[str, float] = {}
        for mt in matches:
            p_track[mt.track] = min(p_track.get(mt.track, 1.0), mt.false_alarm_probability)
        best = [
            Match(mt.track, mt.offset, mt.offset_samples, mt.score, p_track[mt.track], mt.speed)
            for mt in self._dedupe(matches, 1.0, per_track=True)
        ]
        reported = [mt for mt in best if mt.false_alarm_probability <= max_false_alarm][:top_k]
        if check_rate and (not reported or (reported[0].score < _WEAK_SCORE and reported[0].speed == 1.0)):
            return self._rate_check(samples, int(sr), top_k, max_false_alarm, reported)
        return reported

    def _rate_check(self, samples: ArrayLike, sr: int, top_k: int, max_false_alarm: float,
                    weak: list[Match]) -> list[Match]:
        """The matches at the likeliest true rate when they are far stronger (``match(check_rate=True)``)."""
        best: tuple[float, int, list[Match]] | None = None
        frames = max(np.shape(samples)[:2])  # (frames, channels) or (channels, frames), as to_mono reads them
        for rate in _rate_alternatives(sr):
            if frames / rate < 0.1:
                continue
            found = self.match(samples, rate, top_k, max_false_alarm=max_false_alarm, speed_range=0.0)
            if found and found[0].score >= max(_RATE_SCORE, 2.0 * (weak[0].score if weak else 0.0)) and (best is None or found[0].score > best[0]):
                best = (found[0].score, rate, found)
        if best is None:
            return weak
        weak_score = weak[0].score if weak else 0.0
        score, rate, found = best
        warnings.warn(
            f"the clip matches {found[0].track!r} with score {score:.2f} if its sample rate is {rate} Hz, "
            f"not the {sr} Hz declared (best score {weak_score:.2f} at {sr} Hz): its rate is likely wrong; "
            f"the matches returned are those at {rate} Hz (speed {sr / rate:.4f})",
            RateMismatchWarning, stacklevel=3)
        return [Match(mt.track, mt.offset, mt.offset_samples, mt.score, mt.false_alarm_probability, sr / rate)
                for mt in found]

    def find_all(self, samples: ArrayLike, sr: int, max_false_alarm: float = 1e-3) -> list[Match]:
        """Every occurrence of a clip in every track with false-alarm probability <= ``max_false_alarm``.

        The places scored exactly are those whose search evidence alone passes
        (:meth:`tsconv.audio.Candidates.above`) and those :meth:`match` scores with
        ``top_k=4`` (whose exact score may pass where the search's evidence does not).

        Occurrences closer than half the clip length in one track are merged. Sorted by
        track order, then offset.
        """
        max_false_alarm = self._check_probability(max_false_alarm, "max_false_alarm")
        matches, n = self._run(samples, sr, 10, max_false_alarm, 0.0)
        good = [mt for mt in matches if mt.false_alarm_probability <= max_false_alarm]
        good = self._dedupe(good, 0.5 * n, per_track=False)
        rank = {name: i for i, name in enumerate(self.tracks)}  # catalog order (a sharded catalog's too)
        return sorted(good, key=lambda r: (rank[r.track], r.offset_samples))

    def match_file(self, path: str | os.PathLike[str], top_k: int = 5, **kwargs: Any) -> list[Match]:
        """:meth:`match` on an audio file (any format libsndfile reads).

        The rate comes from the file's header, so ``check_rate`` defaults to True here:
        a header stating a wrong rate is noticed (:class:`~tsconv.audio.RateMismatchWarning`).
        """
        x, rate = load(path)
        kwargs.setdefault("check_rate", True)
        return self.match(x, rate, top_k, **kwargs)

    @staticmethod
    def _check_probability(p: Any, name: str) -> float:
        if not is_real(p) or not 0.0 < float(p) <= 1.0:
            raise ValueError(f"{name} must be a probability in (0, 1], got {p!r}")
        return float(p)

    def scores(self, samples: ArrayLike, sr: int) -> Iterable[tuple[str, float]]:  # pragma: no cover - debugging aid
        """(track, best exact score) for every track."""
        matches, _ = self._run(samples, sr, 10**6, None, 0.0)
        return [(mt.track, mt.score) for mt in self._dedupe(matches, 1.0, per_track=True)]
