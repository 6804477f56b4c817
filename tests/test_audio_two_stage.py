"""The matcher's public two-stage search (Matcher.candidates -> Candidates -> Matcher.score)
against the single-pass pipeline it replaced inside Matcher.match, and Candidates of the
parts of a catalog against those of the whole."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import tsconv

from tsconv.audio import Candidates, Match, Matcher
from tsconv.audio import matcher as mt
from tsconv.audio._synth import synth_track

SR = 8000


def _single_pass(m, clip, sr, n_candidates, threshold_p):
    """The search as Matcher._run ran it in one piece before the two public stages: one
    fitted coarse pass (``_search(fit=True)``, which tops a small catalog's null up with
    ``_surrogate_null`` itself), the candidates picked on it, each refined by ``_refine``;
    a coarse inverted verdict confirmed by exact scores, and the best place of a few more
    tracks refined when the best score is weak; with ``threshold_p`` (find_all) also every
    place whose search evidence passes it."""
    m._ensure_index()
    y = m._query(clip, sr)
    if not m._tracks or float(np.ptp(y)) == 0.0:
        return []
    L = m._needle_len
    freqs = np.arange(mt._NFFT // 2 + 1) / mt._NFFT
    scan = m._search(y, mt._DECIMATE, L, mt._psd_on_grid(y, freqs))
    if m._inverted(scan) and m._inverted_exact(clip, sr, m.candidates(clip, sr).fitted()):
        return []
    spacing = min(y.size, L) // 2
    order = scan.top(max(n_candidates, 3), min_sep=spacing)
    out = _refined(m, y, scan, order, L)
    if max((r.score for r in out), default=0.0) < mt._VERIFY_MORE_BELOW:
        # a weak best score: the places top() hid behind the candidates scored (no clip
        # here is short enough for the short clips' extra places)
        assert y.size >= mt._SHORT_CLIP
        # behind the stand-ins the search alone reports at _SHADOWED_P
        found = m.candidates(clip, sr).fitted()
        scored = [(scan.track[j], scan.lag[j]) for j in order]
        standins = [(scan.track[j], scan.lag[j]) for j in order if found.p(float(scan.z[j])) <= mt._SHADOWED_P]
        out += _refined(m, y, scan, _shadowed_by_full_sort(scan, standins, scored, spacing, mt._SHADOWED,
                                                           float(scan.z[order].min())), L)
        # a weak best score: the best place of each of the next _MORE_TRACKS tracks too
        by_track = {}
        for i in np.argsort(-scan.z, kind="stable"):
            if int(scan.track[i]) not in by_track and int(scan.track[i]) not in {int(scan.track[j]) for j in order}:
                by_track[int(scan.track[i])] = int(i)
        out += _refined(m, y, scan, list(by_track.values())[: mt._MORE_TRACKS], L)
    if threshold_p is not None:  # find_all: also every place whose search evidence passes
        out += _refined(m, y, scan, scan.above(threshold_p), L)
    return out


def _refined(m, y, scan, order, L):
    out, q = [], None
    for i in order:
        ti = int(scan.track[i])
        t = m._tracks[ti]
        score, lag, overlap, q, length = m._refine(y, ti, int(scan.lag[i]) - L, mt._DECIMATE + 2, q, wide=mt._WIDE)
        if overlap >= m._min_overlap(y.size, t):
            # the search's p and the exact score's, united (Candidates.p_query)
            lags = sum(tr.n + L for tr in m._tracks)
            p_s = tsconv.false_alarm_probability(min(score, 1.0), length(), lags)
            p = max(min(1.0, scan.p(float(scan.z[i])) / 0.99, p_s / 0.01), mt.floor_p(0.0))
            out.append(Match(t.name, float(lag / m.sr), float(lag), float(score), p, 1.0))
    return out


@pytest.fixture(scope="module")
def catalogs():
    rng = np.random.default_rng(3)
    tracks = {f"t{i}": synth_track(8.0 + 2 * i, SR, seed=100 + i) for i in range(4)}
    big = Matcher()
    for name, x in tracks.items():
        big.add(name, x, SR)
    tiny = Matcher()  # one 8 s track: fewer chunks than the null fit needs (surrogate copies)
    tiny.add("t0", tracks["t0"], SR)
    clips = [
        tracks["t1"][5000:21000] + 0.5 * rng.standard_normal(16000),
        0.3 * tracks["t3"][30000:54000],
        -tracks["t2"][1000:17000],  # inverted: nothing reported
        synth_track(2.0, SR, seed=999),  # in no track
        rng.standard_normal(12000),
        np.zeros(8000),  # silence
    ]
    return big, tiny, tracks, clips


def test_match_is_the_single_pass_search_bit_for_bit(catalogs):
    big, tiny, _, clips = catalogs
    for m in (big, tiny):
        for clip in clips:
            for n, thr in ((10, None), (10, 1e-3)):
                got, _ = m._run(clip, SR, n, thr, 0.0)
                assert got == _single_pass(m, clip, SR, n, thr)  # dataclass equality: every float bit
    assert any(big.match(c, SR) for c in clips)  # the comparison covered real matches


def test_tiny_catalog_uses_surrogates_and_is_complete(catalogs):
    _, tiny, tracks, _ = catalogs
    clip = tracks["t0"][2000:18000]
    found = tiny.candidates(clip, SR)
    assert 0 < len(found) < 1000 and len(found.surrogates) > 0 and found.complete
    assert not dataclasses.replace(found, surrogates=()).complete
    # the fit pools them: without them it is another null
    assert dataclasses.replace(found, surrogates=()).fitted().null != found.fitted().null


@pytest.mark.parametrize("split", [[["t0", "t2"], ["t1", "t3"]], [["t3"], ["t0"], ["t1", "t2"]]])
def test_parts_of_a_catalog_combine_into_the_whole(catalogs, split):
    big, tiny, tracks, clips = catalogs
    parts = [big.subset(names) for names in split]
    assert sum(p.search_lags for p in parts) == big.search_lags
    for clip in clips[:2] + clips[3:5]:
        whole = big.candidates(clip, SR, surrogates=3)
        combined = Candidates.combine(p.candidates(clip, SR, catalog_lags=big.search_lags, surrogates=3) for p in parts)
        key = lambda c: sorted(zip([c.tracks[g] for g in c.track], c.lag.tolist(), c.z.tolist()))  # noqa: E731
        assert key(combined) == key(whole)
        assert combined.n_chunks == whole.n_chunks and combined.z_neg == whole.z_neg
        assert [np.sort(s).tolist() for s in combined.surrogates] == [np.sort(s).tolist() for s in whole.surrogates]
        assert combined.fitted().null == whole.fitted().null
        picked = combined.fitted().top(5)
        ref = big.score(clip, SR, whole.fitted().top(5))
        got = [None] * len(picked)
        for p, names in zip(parts, split):
            sel = [i for i, g in enumerate(picked.track) if picked.tracks[g] in names]
            for i, r in zip(sel, p.score(clip, SR, picked.take(sel))):
                got[i] = r
        assert got == ref


def test_candidates_and_score_validate(catalogs):
    big, tiny, tracks, clips = catalogs
    clip = clips[0]
    found = big.candidates(clip, SR)
    assert repr(found).startswith("Candidates(") and found.null is None
    with pytest.raises(ValueError, match="not fitted"):
        big.score(clip, SR, found)
    with pytest.raises(ValueError, match="not fitted"):
        found.p(1.0)
    fitted = found.fitted()
    with pytest.raises(ValueError, match="tracks of this matcher"):
        big.subset(["t0"]).score(clip, SR, fitted.top(3))
    with pytest.raises(ValueError, match="clip of"):
        big.score(clip[:8000], SR, fitted.top(1))
    with pytest.raises(TypeError, match="candidates must be"):
        big.score(clip, SR, [1, 2])
    with pytest.raises(ValueError, match="surrogates must be"):
        big.candidates(clip, SR, surrogates=65)
    with pytest.raises(ValueError, match="catalog_lags must be"):
        big.candidates(clip, SR, catalog_lags=0)
    with pytest.raises(ValueError, match="disjoint"):
        Candidates.combine([found, found])
    with pytest.raises(ValueError, match="one clip"):
        Candidates.combine([found, tiny.subset(["t0"]).candidates(clip[:8000], SR)])
    with pytest.raises(ValueError, match="at least one"):
        Candidates.combine([])
    with pytest.raises(ValueError, match="tracks must be names"):
        big.subset(["nope"])
    with pytest.raises(TypeError, match="indices"):
        fitted.take(np.ones(len(fitted), dtype=bool))
    with pytest.raises(ValueError, match="max_false_alarm"):
        fitted.above(0.0)
    # top: best first, distinct places; above: every candidate under the bar, best first
    top = fitted.top(4)
    assert list(top.z) == sorted(top.z, reverse=True) and len(top) == 4
    above = fitted.above(1e-3)
    assert all(fitted.p(z) <= 1e-3 for z in above.z)
    assert all(fitted.p(z) > 1e-3 for z in np.setdiff1d(fitted.z, above.z))


def test_candidates_without_lags_ignore_the_exact_score(catalogs):
    # a Candidates built by hand (lags left at 0) does not know how many chances an exact
    # score had: the score must be no evidence, not evidence counted as one lag's
    big, _, _, clips = catalogs
    fitted = big.candidates(clips[0], SR).fitted()
    z = float(np.median(fitted.z))  # a place the search alone does not single out
    assert fitted.lags > 0 and fitted.p(z) > 0.5
    assert fitted.p(z, score=0.3, length=2000.0) < fitted.p(z)  # the real one: evidence
    by_hand = dataclasses.replace(fitted, lags=0.0)
    assert by_hand.p(z, score=0.3, length=2000.0) == by_hand.p(z) == fitted.p(z)


def _top_by_full_sort(scan, k, min_sep):
    """_Scan.top's definition: the stable descending order of all z, its first 50 k + 100
    taken greedily at distinct places."""
    chosen = []
    for i in np.argsort(-scan.z, kind="stable")[: 50 * k + 100]:
        if all(scan.track[i] != scan.track[j] or abs(int(scan.lag[i]) - int(scan.lag[j])) >= min_sep for j in chosen):
            chosen.append(int(i))
            if len(chosen) >= k:
                break
    return chosen


def _shadowed_by_full_sort(found, standins, scored, spacing, k, above):
    """Matcher._shadowed's definition: down the stable descending order of the first
    50 k + 100 z, those at or above ``above`` within ``spacing`` of a stand-in ``(track,
    lag)`` of their track and beyond _WIDE of every scored one, 2 _WIDE apart, k of them."""
    chosen = []
    for i in np.argsort(-found.z, kind="stable")[: 50 * k + 100]:
        near = [abs(int(found.lag[i]) - int(g)) for t, g in standins if t == found.track[i]]
        d = [abs(int(found.lag[i]) - int(g)) for t, g in scored if t == found.track[i]]
        if found.z[i] >= above and near and min(near) < spacing and min(d) > mt._WIDE and all(
                found.track[j] != found.track[i] or abs(int(found.lag[i]) - int(found.lag[j])) >= 2 * mt._WIDE for j in chosen):
            chosen.append(int(i))
            if len(chosen) >= k:
                break
    return chosen


class _Places:
    """Stands in for Candidates in Matcher._other_tracks: ``z``, ``track``, ``take`` (the indices)."""

    def __init__(self, z, track):
        self.z, self.track = z, track

    def take(self, indices):
        return np.asarray(indices).tolist()


def _other_tracks_by_full_sort(found, picked):
    """Matcher._other_tracks' definition: down the stable descending order of all z, the
    first place of each track ``picked`` has none of, _MORE_TRACKS of them."""
    seen, extra = set(picked.track.tolist()), []
    for i in np.argsort(-found.z, kind="stable"):
        if int(found.track[i]) not in seen:
            seen.add(int(found.track[i]))
            extra.append(int(i))
            if len(extra) >= mt._MORE_TRACKS:
                break
    return extra


@pytest.mark.parametrize("seed", range(8))
def test_other_tracks_equal_the_full_stable_sort(seed):
    # the best places are looked at first, all of them when the other tracks lie deeper
    # (a few hub tracks holding the best thousands of places), ties included
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6000))
    n_tracks = int(rng.integers(1, 12))
    z = np.round(rng.normal(size=n), int(rng.integers(0, 3)))
    track = rng.integers(0, n_tracks, n)
    hubs = rng.integers(0, n_tracks, int(rng.integers(0, 3)))
    if hubs.size and seed % 2:  # the hubs' places above every other track's
        z = np.where(np.isin(track, hubs), z + 100.0, z)
    found = _Places(z, track)
    for picked in (hubs, np.arange(0), np.arange(n_tracks)):
        assert mt.Matcher._other_tracks(found, _Places(None, picked)) == _other_tracks_by_full_sort(found, _Places(None, picked))


@pytest.mark.parametrize("seed", range(6))
def test_scan_top_equals_the_full_stable_sort_with_ties(seed):
    # top() sorts only the z at or above the (50 k + 100)-th largest: the same places, in
    # the same order, as the stable sort of all of them, ties at the cut included
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    z = np.round(rng.normal(size=n), int(rng.integers(0, 3)))  # rounded: many ties
    scan = mt._Scan(z, rng.integers(0, 50_000, n), rng.integers(0, 4, n), 1.0, 1.0, float(n))
    for k in (1, 3, 10, 60):
        for sep in (1, 400, 20_000):
            assert scan.top(k, sep).tolist() == _top_by_full_sort(scan, k, sep)


class _Found:
    """Stands in for Candidates in Matcher._shadowed: ``z``, ``track``, ``lag``, ``spacing``, ``take``."""

    def __init__(self, z, lag, track, spacing):
        self.z, self.lag, self.track, self.spacing = z, lag, track, spacing

    def take(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        return _Found(self.z[idx], self.lag[idx], self.track[idx], self.spacing)


@pytest.mark.parametrize("seed", range(8))
def test_shadowed_equals_the_full_stable_sort(seed):
    # the places top() hid behind the stand-ins, looked for among the best 50 k + 100
    # places without sorting the rest, are the definition's, ties included
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4000))
    z = np.round(rng.normal(size=n), int(rng.integers(0, 3)))  # rounded: many ties
    found = _Found(z, rng.integers(0, 60_000, n), rng.integers(0, int(rng.integers(1, 6)), n), int(rng.integers(1, 20_000)))
    for k in (1, 3, 10):
        scored = [found.take(np.arange(min(k, n))), found.take(rng.integers(0, n, int(rng.integers(0, 4))))]
        standins = scored[0].take(np.flatnonzero(rng.random(len(scored[0].z)) < 0.7))
        pairs = [(t, g) for c in scored for t, g in zip(c.track, c.lag)]
        above = float(rng.choice(z)) if seed % 2 else -np.inf
        want = _shadowed_by_full_sort(found, list(zip(standins.track, standins.lag)), pairs, found.spacing, k, above)
        got = mt.Matcher._shadowed(found, standins, scored, k, above)
        assert (got.lag.tolist(), got.track.tolist()) == (found.lag[want].tolist(), found.track[want].tolist())


def test_a_weak_stand_in_does_not_hide_the_true_place(monkeypatch):
    # top() keeps one candidate per half clip of a track; measured on real music (colobot
    # music004), the coarse stage ranked a place 1.4 s from a clean 3 s excerpt's own above
    # it, the exact score there was weak (0.12 against 0.86 at the true place) and match
    # reported the wrong place at p 9e-12. The coarse error is put in here by hand.
    x = synth_track(20.0, SR, seed=7)
    m = Matcher()
    m.add("a", x, SR)
    m.add("b", synth_track(20.0, SR, seed=8), SR)
    start = 8 * SR
    clip = x[start : start + 3 * SR]
    fitted = Candidates.fitted

    def with_decoy(self):
        found = fitted(self)
        a = found.tracks.index("a")
        i = np.flatnonzero(found.track == a)[np.argmin(np.abs(found.lag[found.track == a] - (start - int(1.2 * SR))))]
        return dataclasses.replace(found, z=np.where(np.arange(len(found.z)) == i, found.z.max() + 1.0, found.z))

    monkeypatch.setattr(Candidates, "fitted", with_decoy)
    best = m.match(clip, SR)[0]
    assert best.track == "a" and abs(best.offset_samples - start) < 0.01 and best.score > 0.9
