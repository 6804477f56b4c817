"""The music null: how small a false-alarm probability unrelated real music gets.

The per-query null (``matcher._null_fit``) describes noise-like clips: it is fitted on the
chunk maxima of the clip against the catalog. Unrelated music correlates with some
passages of a catalog (near-silent stretches with isolated clicks, pulsed passages, track
starts and ends) far more than that fit says, so an out-of-catalog song gets probabilities
like 1e-10. The music null measures this on the catalog itself, at index time: excerpts
of each track are searched in the catalog *without that track* (leave-one-track-out), and
the per-query probability each gets is recorded, per clip duration. A query's probability
is then recalibrated: ``p = max(p_query, P(p_probe <= p_query))``, the second term read
from the recorded probes (interpolated in log-duration). Below the smallest tenth of the
probes (at least ten of them) that share is a power tail, ``(k / n) (p / p_(k))^s``
through the ``k``-th smallest probe, whose exponent ``s`` is the one-sided 95% lower
confidence bound of its maximum-likelihood (Hill) estimate from those ``k`` probes: a few hundred probes cannot say how
rare a probability of 1e-6 is among unrelated songs, and the bound errs on the side of a
larger ``p`` (a two-point line through the smallest probe, the earlier tail, let 2 of 300
out-of-catalog 3 s clips through at p <= 1e-3 on a one-hour catalog). There the share
is the smaller of the tail and the probes' count, the count floored at the tail's share at
the most extreme probe: a clip beyond all probes, or all but one, used to get one probe's
share, ``1 / n``, which is no bound (on a one-hour catalog, clips of other soundtracks
beyond the most extreme of its 152 probes got the search test's ``1 / 152``, and 2.7% of
the clean 1 s out-of-catalog clips were reported at p <= 0.01). Noise stays calibrated by
the first term, music by the second.

Probabilities are compared as log10 values computed without underflow
(``false_alarm_probability(..., log=True)``), the probes' and the query's alike. Floored
at the smallest double (5e-324), as they were before, every probe that found the same music
in another track (the same theme in two files of a soundtrack) tied with every strong true
match, whose recalibrated probability was then at least their share, often above 0.01
(``docs/audio.md``: the measurements on 4.3 hours of real music). Such probes are not
unrelated music at all: the music they found is in the catalog. A probe whose best place
lies in a track that holds its passage too (an excerpt two probe lengths away scores at the
same relative place there, :func:`neighbour_places`) is searched again without that track
(``Matcher.calibrate``).

In a large catalog each probe searches a random part of it (:func:`probe_tracks`, about
``probe_hours`` of music without the probe's track), so that the null costs the same at any
catalog size. A catalog of ``r`` times the probes' lags is ``r`` such parts: an unrelated
clip's per-query probability there is about ``r`` times the part's (it counts ``r`` times
the chunks, ``matcher._Scan.p``), and the chance that one of ``r`` parts gives a share ``x``
is at most ``r x`` (the union bound, whatever their dependence). The share is therefore read
as ``min(1, r P(p_probe <= p / r))``: equal to the probes' share where they are calibrated
(``P(p_probe <= q) = q``), larger where hubs make it fall slower than ``q``.

Three rows per duration are recorded from the same probes (``MusicNull``): the probability
of the search's evidence, that of the best exact score, and the per-query probability that
unites them (``matcher.Candidates.p_query``). Each row calibrates its own test; the matcher
unites the three recalibrated tests by a weighted Bonferroni bound (:meth:`MusicNull.terms`):
the first two alone recalibrate each test's tail but lose the pairing (a probe strong on
one test and weak on the other counts in both tails), the third keeps the per-query ranking
of the two, which separates true matches in noise from unrelated music better (measured on
two hours of real music: ``docs/audio.md``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.special
import scipy.stats
from numpy.typing import NDArray

__all__: list[str] = []

TINY = float(np.nextafter(0.0, 1.0))  # a probability is never reported as exactly 0
DURATIONS = (1.0, 3.0)  # seconds of the calibration probes
_TAIL = 0.1  # the share of the smallest probe probabilities the tail extrapolation spans
_TAIL_MIN = 10  # ... and at least this many probes (a small catalog's exponent from more of them)
_CONFIDENCE = 0.95  # of the lower bound of the tail exponent


@functools.lru_cache(maxsize=64)
def _chi2_low(dof: int) -> float:
    """The ``1 - _CONFIDENCE`` quantile of the chi-square distribution with ``dof`` degrees."""
    return float(scipy.stats.chi2.ppf(1.0 - _CONFIDENCE, dof))


def tail_exponent(row: NDArray[np.float64], k: int) -> float:
    """The lower confidence bound of the exponent ``s`` of a power tail ``P(p_probe <= p)
    ∝ p^s`` below the ``k``-th smallest of the sorted log10 probabilities ``row``.

    Under that tail, ``ln(p_(k) / p_(i))`` for ``i < k`` are ``k - 1`` independent
    exponential variables of mean ``1 / s`` (Hill), so ``2 s T``, ``T`` their sum, is
    chi-square with ``2 (k - 1)`` degrees: ``s >= chi2_{0.05}(2 (k - 1)) / (2 T)`` with
    95% confidence. Capped at 1 (the recalibrated ``p`` never falls faster than ``p``);
    1 when the ``k`` smallest probes are equal.
    """
    total = float(np.sum(row[k - 1] - row[: k - 1])) * math.log(10.0)
    if not total > 0.0:
        return 1.0
    return min(_chi2_low(2 * (k - 1)) / (2.0 * total), 1.0)


@functools.lru_cache(maxsize=1024)
def share_bound(k: int, n: int) -> float:
    """The one-sided ``_CONFIDENCE`` upper confidence bound of a share seen in ``k`` of ``n``
    draws (Clopper-Pearson: the ``_CONFIDENCE`` quantile of Beta(k + 1, n - k), the share
    ``b`` at which ``k`` or fewer of ``n`` is as unlikely as ``1 - _CONFIDENCE``); 1 when
    ``k >= n``. For ``k = 0``: ``1 - (1 - _CONFIDENCE)^(1 / n)``, about ``3 / n``."""
    if k >= n:
        return 1.0
    return float(scipy.special.betaincinv(k + 1, n - k, _CONFIDENCE))


def floor_p(p: float) -> float:
    """``p`` clipped to at least the smallest positive double (never exactly 0)."""
    return max(float(p), TINY)


@dataclass(frozen=True)
class MusicNull:
    """The recorded log10 probabilities of leave-one-track-out probes, one sorted row per duration."""

    durations: NDArray[np.float64]  # (d,) seconds, increasing
    log_p: NDArray[np.float64]  # (d, n) sorted log10 per-query probabilities of the probes' search evidence
    # (d, n) sorted log10 per-query probabilities of the probes' best exact score, or None
    # (a catalog calibrated before the exact score was evidence: its probabilities are the search's)
    log_p_exact: NDArray[np.float64] | None = None
    # the catalog lags a probe searched (their mean over the probes), or None: the whole
    # catalog less the probe's track (catalogs of format version 3 and before)
    lags: float | None = None
    # (d, n) sorted log10 of the probes' per-query probability of the two tests united
    # (``min(0, log_p - log10(1 - w), log_p_exact - log10(w))`` of each probe before sorting),
    # or None (catalogs of format version 4 and before)
    log_p_query: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        if self.durations.ndim != 1 or self.log_p.ndim != 2 or self.log_p.shape[0] != self.durations.size:
            raise ValueError(
                f"log_p must have one row per duration, got durations {self.durations.shape} and log_p {self.log_p.shape}"
            )
        if self.durations.size == 0 or self.log_p.shape[1] < 10:
            raise ValueError(f"the music null needs at least 10 probes of one duration, got shape {self.log_p.shape}")
        if not (np.all(np.isfinite(self.durations)) and np.all(np.diff(self.durations) > 0) and self.durations[0] > 0):
            raise ValueError(f"durations must be positive and increasing, got {self.durations.tolist()}")
        if self.log_p_query is not None and self.log_p_exact is None:
            raise ValueError("log_p_query needs log_p_exact: the united probability of a null without exact scores")
        for name, a in (("log_p", self.log_p), ("log_p_exact", self.log_p_exact), ("log_p_query", self.log_p_query)):
            if a is None:
                continue
            if a.shape != self.log_p.shape:
                raise ValueError(f"{name} must have the shape of log_p {self.log_p.shape}, got {a.shape}")
            if not np.all(np.isfinite(a)) or np.any(a > 0):
                raise ValueError(f"{name} must hold finite log10 probabilities (<= 0)")
        if self.lags is not None and not (isinstance(self.lags, float) and math.isfinite(self.lags) and self.lags > 0):
            raise ValueError(f"lags must be None or a positive finite float, got {self.lags!r}")

    def _row_p(self, row: NDArray[np.float64], lp: float) -> float:
        """log10 of the share of probes with log10 p <= lp, ``k / n``; below the smallest
        ``_TAIL`` of them (at least ``_TAIL_MIN``), the smaller of that count and the power
        tail of :func:`tail_exponent`, the count floored at the tail's share at the most
        extreme probe (at most the count's 95% upper confidence bound for no probe,
        :func:`share_bound`).

        The floor: beyond the most extreme probe the count says nothing, and one probe in
        ``n`` (``1 / n``, the floor before) is no bound of the share there: on probes of an
        exact power tail, a clip whose true share was ``1.5 / n`` got less than that in 55%
        of nulls (17% with the tail's floor; ``tests/test_audio_null.py``). With ``n``
        near 150, the shares that can carry a clip under ``match``'s level of 0.01 alone
        are those of no probe or one. Above them the count is the estimate, as before.
        """
        n = row.size
        k = int(np.searchsorted(row, lp, side="right"))
        kt = min(n, max(_TAIL_MIN, int(_TAIL * n)))
        if k >= kt:
            return math.log10(k / n)
        s = tail_exponent(row, kt)
        anchor = float(row[kt - 1])
        floor = min(math.log10(kt / n) + s * (float(row[0]) - anchor), math.log10(share_bound(0, n)))
        return min(math.log10(kt / n) + s * (lp - anchor), max(math.log10(max(k, 1) / n), floor))

    def p(self, p_query: float, duration: float, lags: float | None = None) -> float:
        """The recalibrated probability of a clip of ``duration`` seconds whose search
        evidence has per-query probability ``p_query`` in a catalog of ``lags`` lags
        (None: the catalog the probes searched)."""
        return self.p_log10(math.log10(floor_p(p_query)), duration, lags)

    def p_log10(self, log10_p_query: float, duration: float, lags: float | None = None) -> float:
        """:meth:`p` of the log10 of the per-query probability, which may lie below the
        smallest double (a strong match: computed without underflow, as the probes' are)."""
        return self._map(self.log_p, log10_p_query, duration, lags)

    def p_exact(self, p_query: float, duration: float, lags: float | None = None) -> float:
        """The same for the per-query probability of an exact score (``log_p_exact``)."""
        return self.p_exact_log10(math.log10(floor_p(p_query)), duration, lags)

    def p_exact_log10(self, log10_p_query: float, duration: float, lags: float | None = None) -> float:
        """:meth:`p_exact` of the log10 of the per-query probability (see :meth:`p_log10`)."""
        if self.log_p_exact is None:
            raise ValueError("this music null holds no exact-score probes (log_p_exact is None)")
        return self._map(self.log_p_exact, log10_p_query, duration, lags)

    def p_query_log10(self, log10_p_query: float, duration: float, lags: float | None = None) -> float:
        """:meth:`p_log10` for the per-query probability of the two tests united (``log_p_query``)."""
        if self.log_p_query is None:
            raise ValueError("this music null holds no united per-query probabilities (log_p_query is None)")
        return self._map(self.log_p_query, log10_p_query, duration, lags)

    def terms(self, log10_p_search: float, log10_p_exact: float, duration: float, lags: float | None,
              exact_weight: float, query_weight: float) -> tuple[float, float]:
        """``(a, b)``: the terms of the recalibrated probability ``min(1, a, b)`` of a clip
        whose search evidence and exact score have per-query probabilities ``10**log10_p_search``
        and ``10**log10_p_exact``; ``a`` depends on the first only, ``b`` on the second only.

        Without ``log_p_query``: each test recalibrated by its own probes, united with
        weights ``1 - w`` and ``w`` (``w = exact_weight``). With it, a third test: the
        per-query union ``u = min(1, p_search / (1 - w), p_exact / w)`` recalibrated by the
        probes' own ``u``; the three are united with weights ``(1 - v)(1 - w)``,
        ``(1 - v) w`` and ``v = query_weight`` (a weighted Bonferroni bound: each test holds
        its share of the level, so the union holds the level). The recalibration is
        monotone, so it commutes with ``u``'s minimum: the third test splits into a term of
        each probability, joined to that test's term (``b`` still only grows with
        ``log10_p_exact``).
        """
        w = exact_weight
        a = self.p_log10(log10_p_search, duration, lags)
        b = self.p_exact_log10(log10_p_exact, duration, lags)
        if self.log_p_query is None:
            return a / (1.0 - w), b / w
        v = query_weight
        ua = self.p_query_log10(log10_p_search - math.log10(1.0 - w), duration, lags)
        ub = self.p_query_log10(log10_p_exact - math.log10(w), duration, lags)
        return min(a / ((1.0 - w) * (1.0 - v)), ua / v), min(b / (w * (1.0 - v)), ub / v)

    def _map(self, rows: NDArray[np.float64], log10_p_query: float, duration: float, lags: float | None) -> float:
        lq = min(float(log10_p_query), 0.0)
        # r parts of the probes' size: r P(p_probe <= p / r) (the module docstring)
        lr = 0.0 if lags is None or self.lags is None else math.log10(max(float(lags) / self.lags, 1.0))
        lp = lq - lr
        d = self.durations
        x = math.log(min(max(duration, float(d[0])), float(d[-1])))
        i = int(np.searchsorted(d, math.exp(x), side="left"))
        if d.size == 1 or i == 0:
            y = self._row_p(rows[0], lp)
        elif i >= d.size:
            y = self._row_p(rows[-1], lp)
        else:
            w = (x - math.log(d[i - 1])) / (math.log(d[i]) - math.log(d[i - 1]))
            y = (1 - w) * self._row_p(rows[i - 1], lp) + w * self._row_p(rows[i], lp)
        return floor_p(10.0 ** max(lq, min(y + lr, 0.0)))


def probe_places(n_samples: Sequence[int], length: int, per_track: int, seed: int,
                 max_probes: int | None = None) -> list[tuple[int, int]]:
    """``(track, start)`` of ``per_track`` excerpts of ``length`` samples in each long enough track (seeded).

    At most ``max_probes`` in all: when the tracks would give more, the track of each of
    ``max_probes`` excerpts is drawn in proportion to its number of starts (each probe
    searches the whole catalog, so a fixed number keeps the cost linear in its size).
    """
    rng = np.random.default_rng(seed)
    long = [ti for ti, n in enumerate(n_samples) if n >= length]
    if max_probes is not None and per_track * len(long) > max_probes:
        w = np.array([n_samples[ti] - length + 1 for ti in long], dtype=np.float64)
        picks = np.sort(rng.choice(len(long), size=max_probes, p=w / w.sum()))
        return [(long[k], int(rng.integers(0, n_samples[long[k]] - length + 1))) for k in picks]
    out: list[tuple[int, int]] = []
    for ti, n in enumerate(n_samples):
        if n < length:
            continue
        starts = rng.integers(0, n - length + 1, size=per_track)
        out.extend((ti, int(s)) for s in starts)
    return out


def probe_tracks(track_lags: Sequence[int], own: int, budget: int | None, seed: Sequence[int]) -> list[int]:
    """The tracks one probe of track ``own`` searches: all the others when their lags
    (``track_lags``, per track) sum to at most ``budget`` (or ``budget`` is None), else the
    first of them in a random order (``seed``: the probe's own seed sequence) whose lags reach
    ``budget``; in catalog order.

    A probe searches a part of the catalog rather than the whole of it so that the music null
    of a catalog of any size costs the same; :meth:`MusicNull.p` reads it for the whole
    catalog (the module docstring). The part is drawn anew for every probe, so the probes'
    shares are averages over the catalog's parts.
    """
    others = [k for k in range(len(track_lags)) if k != own]
    if budget is None or sum(track_lags[k] for k in others) <= budget:
        return others
    picked, total = [], 0
    for k in np.random.default_rng(list(seed)).permutation(others):
        picked.append(int(k))
        total += int(track_lags[int(k)])
        if total >= budget:
            break
    return sorted(picked)


def neighbour_places(start: int, lag: int, length: int, n_own: int, n_other: int) -> list[tuple[int, int]]:
    """``(start, lag)`` of the excerpts of a probe's track two lengths after and before the
    probe (``start``, ``length`` samples, in a track of ``n_own``), each with its place in the
    other track (of ``n_other``) at the probe's relative offset from ``lag``, where both lie
    wholly inside their tracks.

    Two lengths, not one: adjacent excerpts meet at a sample, and a click there lies in both
    (a hub's click then confirms itself).
    """
    out = []
    for d in (2 * length, -2 * length):
        s, k = start + d, lag + d
        if 0 <= s and s + length <= n_own and 0 <= k and k + length <= n_other:
            out.append((s, k))
    return out


def fit_music_null(probe: Callable[[int, int, int], float | tuple[float, ...]], n_samples: Sequence[int], sr: int,
                   durations: Sequence[float] = DURATIONS, per_track: int = 8, seed: int = 0,
                   max_probes: int | None = None) -> MusicNull | None:
    """Record ``probe(track, start, length)`` (the log10 of the per-query probability of that
    excerpt of ``track`` searched without it, computed without underflow; or a tuple: those
    of its search evidence and of its best exact score, and optionally of the two united)
    for ``per_track`` excerpts of every track and duration (at most ``max_probes`` per
    duration: :func:`probe_places`). The rows are sorted each on its own.

    None when fewer than two tracks or ten probes per duration are available.
    """
    if len(n_samples) < 2:
        return None
    rows: list[list[NDArray[np.float64]]] = [[], [], []]
    kept: list[float] = []
    for di, dur in enumerate(durations):
        length = int(round(dur * sr))
        places = probe_places(n_samples, length, per_track, seed + di, max_probes)
        if len(places) < 10:
            continue
        got = [probe(ti, s, length) for ti, s in places]
        width = len(got[0]) if isinstance(got[0], tuple) else 1
        if not 1 <= width <= 3:
            raise ValueError(f"probe must return a number or a tuple of 1 to 3 numbers, got {got[0]!r:.60}")
        for k in range(width):
            lp = [min(float(g[k] if isinstance(g, tuple) else g), 0.0) for g in got]
            rows[k].append(np.sort(np.asarray(lp, dtype=np.float64)))
        kept.append(float(dur))
    if not kept:
        return None
    n = min(r.size for r in rows[0])

    def table(rs: list[NDArray[np.float64]]) -> NDArray[np.float64]:
        # equal row lengths: keep an evenly spread subset of the sorted probes of a longer row
        return np.stack([r if r.size == n else r[np.round(np.linspace(0, r.size - 1, n)).astype(int)] for r in rs])

    exact, united = (table(rows[k]) if rows[k] else None for k in (1, 2))
    return MusicNull(np.asarray(kept), table(rows[0]), exact, log_p_query=united)
