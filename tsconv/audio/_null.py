"""The music null: how small a false-alarm probability unrelated real music gets.

The per-query null (``matcher._null_fit``) describes noise-like clips: it is fitted on the
chunk maxima of the clip against the catalog. Unrelated music correlates with some
passages of a catalog (near-silent stretches with isolated clicks, pulsed passages, track
starts and ends) far more than that fit says, so an out-of-catalog song gets probabilities
like 1e-10. The music null measures this on the catalog itself, at index time: excerpts
of each track are searched in the catalog *without that track* (leave-one-track-out), and
the per-query probability each gets is recorded, per clip duration. A query's probability
is then recalibrated: ``p = max(p_query, P(p_probe <= p_query))``, the second term read
from the recorded probes (interpolated in log-duration, with a log-log linear tail below
the smallest probe). Noise stays calibrated by the first term, music by the second.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__: list[str] = []

TINY = float(np.nextafter(0.0, 1.0))  # a probability is never reported as exactly 0
_LOG_TINY = math.log10(TINY)
DURATIONS = (1.0, 3.0)  # seconds of the calibration probes
_TAIL = 0.1  # the share of the smallest probe probabilities the tail extrapolation spans


def floor_p(p: float) -> float:
    """``p`` clipped to at least the smallest positive double (never exactly 0)."""
    return max(float(p), TINY)


@dataclass(frozen=True)
class MusicNull:
    """The recorded log10 probabilities of leave-one-track-out probes, one sorted row per duration."""

    durations: NDArray[np.float64]  # (d,) seconds, increasing
    log_p: NDArray[np.float64]  # (d, n) sorted log10 per-query probabilities of the probes

    def __post_init__(self) -> None:
        if self.durations.ndim != 1 or self.log_p.ndim != 2 or self.log_p.shape[0] != self.durations.size:
            raise ValueError(
                f"log_p must have one row per duration, got durations {self.durations.shape} and log_p {self.log_p.shape}"
            )
        if self.durations.size == 0 or self.log_p.shape[1] < 10:
            raise ValueError(f"the music null needs at least 10 probes of one duration, got shape {self.log_p.shape}")
        if not (np.all(np.isfinite(self.durations)) and np.all(np.diff(self.durations) > 0) and self.durations[0] > 0):
            raise ValueError(f"durations must be positive and increasing, got {self.durations.tolist()}")
        if not np.all(np.isfinite(self.log_p)) or np.any(self.log_p > 0) or np.any(self.log_p < _LOG_TINY - 1):
            raise ValueError("log_p must hold finite log10 probabilities (<= 0)")

    def _row_p(self, row: NDArray[np.float64], lp: float) -> float:
        """log10 of the share of probes with log10 p <= lp (tail extrapolated log-log linearly)."""
        n = row.size
        k = int(np.searchsorted(row, lp, side="right"))
        if k >= max(2, int(_TAIL * n)):
            return math.log10(k / n)
        # the lower tail: log10 share against log10 p through the smallest probe and the
        # _TAIL quantile; slope at least 1 (never a recalibrated p far below the probes' share)
        j = max(int(_TAIL * n), 2) - 1
        x0, x1 = float(row[0]), float(row[j])
        y0, y1 = math.log10(1.0 / n), math.log10((j + 1) / n)
        slope = (y1 - y0) / (x1 - x0) if x1 > x0 else 1.0
        slope = min(max(slope, 0.0), 1.0) if x1 > x0 else 1.0
        return min(y0 + slope * (lp - x0), math.log10(max(k, 1) / n))

    def p(self, p_query: float, duration: float) -> float:
        """The recalibrated probability of a clip of ``duration`` seconds with per-query ``p_query``."""
        p_query = floor_p(p_query)
        lp = math.log10(p_query)
        d = self.durations
        x = math.log(min(max(duration, float(d[0])), float(d[-1])))
        i = int(np.searchsorted(d, math.exp(x), side="left"))
        if d.size == 1 or i == 0:
            y = self._row_p(self.log_p[0], lp)
        elif i >= d.size:
            y = self._row_p(self.log_p[-1], lp)
        else:
            w = (x - math.log(d[i - 1])) / (math.log(d[i]) - math.log(d[i - 1]))
            y = (1 - w) * self._row_p(self.log_p[i - 1], lp) + w * self._row_p(self.log_p[i], lp)
        return floor_p(max(p_query, 10.0**y))


def probe_places(n_samples: Sequence[int], length: int, per_track: int, seed: int) -> list[tuple[int, int]]:
    """``(track, start)`` of ``per_track`` excerpts of ``length`` samples in each long enough track (seeded)."""
    rng = np.random.default_rng(seed)
    out: list[tuple[int, int]] = []
    for ti, n in enumerate(n_samples):
        if n < length:
            continue
        starts = rng.integers(0, n - length + 1, size=per_track)
        out.extend((ti, int(s)) for s in starts)
    return out


def fit_music_null(probe: Callable[[int, int, int], float], n_samples: Sequence[int], sr: int,
                   durations: Sequence[float] = DURATIONS, per_track: int = 8, seed: int = 0) -> MusicNull | None:
    """Record ``probe(track, start, length)`` (the per-query probability of that excerpt of
    ``track`` searched without it) for ``per_track`` excerpts of every track and duration.

    None when fewer than two tracks or ten probes per duration are available.
    """
    if len(n_samples) < 2:
        return None
    rows, kept = [], []
    for di, dur in enumerate(durations):
        length = int(round(dur * sr))
        places = probe_places(n_samples, length, per_track, seed + di)
        if len(places) < 10:
            continue
        lp = [math.log10(floor_p(probe(ti, s, length))) for ti, s in places]
        rows.append(np.sort(np.asarray(lp, dtype=np.float64)))
        kept.append(float(dur))
    if not rows:
        return None
    n = min(r.size for r in rows)
    # equal row lengths: keep an evenly spread subset of the sorted probes of a longer row
    rows = [r if r.size == n else r[np.round(np.linspace(0, r.size - 1, n)).astype(int)] for r in rows]
    return MusicNull(np.asarray(kept), np.stack(rows))
