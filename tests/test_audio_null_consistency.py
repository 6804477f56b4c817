"""The music null wherever a probability is reported, and its leave-one-out probes searched
with ``candidates(exclude=...)`` instead of one subset catalog per track."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import tsconv

from tsconv.audio import Matcher
from tsconv.audio import matcher as matcher_mod
from tsconv.audio._null import DURATIONS, MusicNull, fit_music_null, probe_places, probe_tracks
from tsconv.audio._synth import synth_track

SR = 8000


@pytest.fixture(scope="module")
def catalog() -> Matcher:
    m = Matcher()
    for i in range(5):
        m.add(f"t{i}", synth_track(15.0, SR, seed=40 + i), SR)
    return m


def _subset_probe(m: Matcher, hours: float | None = None, seed: int = 0):
    """Today's probe, the slow twin: the leave-one-out catalog (or the probe's part of it,
    ``probe_tracks`` of ``hours``) built as a subset, searched whole."""
    names = m.tracks
    lags = [n + m._needle_len for n in m.track_samples]

    def probe(ti: int, start: int, length: int) -> float:
        if hours is None:
            sub = m.subset([n for k, n in enumerate(names) if k != ti])
        else:
            sub = m.subset([names[k] for k in probe_tracks(lags, ti, int(math.ceil(hours * 3600 * SR)),
                                                            (seed, ti, start, length))])
        clip = m._probe_clip(ti, start, length)
        found = sub.candidates(clip, SR).fitted()
        if not len(found):
            return 0.0, 0.0
        # log10 of the best chunk's p, and of the best exact score's among what match()
        # scores (the best 12 places, more tracks when the best score is weak), without underflow
        lp_s = 0.0
        y = sub._query(clip, SR)
        for part, exact in sub._verify(found, 12, lambda c: sub._exact(y, c), lambda ex: ex[0]):
            for ex in exact:
                if ex is not None:
                    score, _, _, length = ex
                    lp = tsconv.false_alarm_probability(min(score, 1.0), length(), int(part.lags), log=True)
                    lp_s = min(lp_s, lp / math.log(10.0))
        return found._scan().log10_p(float(np.max(found.z))), lp_s

    return probe


def test_candidates_exclude_are_the_subsets_candidates(catalog):
    clip = synth_track(15.0, SR, seed=42)[2 * SR : 5 * SR]
    for left_out in (["t2"], ["t0", "t4"]):
        kept = [n for n in catalog.tracks if n not in left_out]
        got = catalog.candidates(clip, SR, exclude=left_out)
        ref = catalog.subset(kept).candidates(clip, SR)
        assert got.tracks == ref.tracks == tuple(kept)
        for field in ("track", "lag", "z"):
            np.testing.assert_array_equal(getattr(got, field), getattr(ref, field))
        assert (got.n_chunks, got.z_neg, got.spacing, got.clip_samples) == (ref.n_chunks, ref.z_neg, ref.spacing,
                                                                             ref.clip_samples)
        assert len(got.surrogates) == len(ref.surrogates)
        for a, b in zip(got.surrogates, ref.surrogates):
            np.testing.assert_array_equal(a, b)
        fa, fb = got.fitted(), ref.fitted()
        assert fa.null == fb.null
        assert fa.p_query(float(fa.z.max())) == fb.p_query(float(fb.z.max()))
    # an excluded track is never a candidate, even when the clip is cut from it
    found = catalog.candidates(clip, SR, exclude=["t2"]).fitted()
    assert "t2" not in {found.tracks[int(g)] for g in found.top(5).track}


def test_calibrate_equals_the_leave_one_out_subsets(catalog):
    m = catalog.subset(catalog.tracks)
    m.calibrate(per_track=3, seed=7)
    ref = fit_music_null(_subset_probe(m), m.track_samples, SR, DURATIONS, 3, 7)
    assert m._music_null is not None and ref is not None
    np.testing.assert_array_equal(m._music_null.durations, ref.durations)
    np.testing.assert_allclose(m._music_null.log_p, ref.log_p, rtol=0, atol=1e-12)
    assert m._music_null.log_p_exact is not None
    np.testing.assert_allclose(m._music_null.log_p_exact, ref.log_p_exact, rtol=0, atol=1e-12)


def test_calibrate_with_a_probe_budget_equals_the_leave_one_out_subsets(catalog):
    # 5 tracks x 4 excerpts > 12: the budget's path (tracks drawn by length), same probes
    m = catalog.subset(catalog.tracks)
    m.calibrate(per_track=4, max_probes=12, seed=3)
    ref = fit_music_null(_subset_probe(m), m.track_samples, SR, DURATIONS, 4, 3, max_probes=12)
    assert m._music_null is not None and ref is not None and m._music_null.log_p.shape == (len(DURATIONS), 12)
    np.testing.assert_allclose(m._music_null.log_p, ref.log_p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(m._music_null.log_p_exact, ref.log_p_exact, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="max_probes"):
        m.calibrate(max_probes=5)


def test_calibrate_on_parts_equals_the_parts_built_as_subsets(catalog):
    # 5 tracks of 15 s, 21 s of lags each (the 6 s needle's); 50 s per probe: each probe
    # searches 3 of the 4 other tracks
    m = catalog.subset(catalog.tracks)
    hours = 50 / 3600
    m.calibrate(per_track=3, probe_hours=hours, seed=5)
    ref = fit_music_null(_subset_probe(m, hours, 5), m.track_samples, SR, DURATIONS, 3, 5)
    np.testing.assert_allclose(m._music_null.log_p, ref.log_p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(m._music_null.log_p_exact, ref.log_p_exact, rtol=0, atol=1e-12)
    part = 3 * (15 * SR + m._needle_len)
    assert m._music_null.lags == part  # every probe searched three tracks
    # the whole catalog's probabilities are read through the union bound over parts of that size
    found = m.candidates(synth_track(15.0, SR, seed=99)[: 3 * SR], SR).fitted()
    z = float(found.z.max())
    assert found.lags == 5 * (15 * SR + m._needle_len)
    # (found.p reads the log10 of the per-query probability computed without underflow; here its float: equal to rounding)
    whole = m._music_null.p(found.p_query(z), 3.0, found.lags)
    assert found.p(z) == pytest.approx(whole, rel=1e-12) and whole >= m._music_null.p(found.p_query(z), 3.0)
    # leave-one-out within the budget: the probes searched the 4 other tracks
    m.calibrate(per_track=3, probe_hours=1.0, seed=5)
    assert m._music_null.lags == 4 * (15 * SR + m._needle_len)


def test_probe_tracks():
    lags = [100, 300, 200, 400, 50]
    assert probe_tracks(lags, 2, None, (0,)) == probe_tracks(lags, 2, 850, (0,)) == [0, 1, 3, 4]
    seen = set()
    for s in range(200):
        got = probe_tracks(lags, 2, 450, (s, 1))
        assert got == sorted(got) and 2 not in got and got == probe_tracks(lags, 2, 450, (s, 1))
        total = sum(lags[k] for k in got)
        # the shortest prefix of a random order reaching the budget: without any one of
        # its tracks, the last drawn, it falls short
        assert total >= 450 and min(total - lags[k] for k in got) < 450
        seen.add(tuple(got))
    assert {k for g in seen for k in g} == {0, 1, 3, 4} and len(seen) > 4


def test_probe_places_under_and_over_the_budget():
    lengths = [1000, 50, 3000, 2000]  # the second track is shorter than an excerpt
    free = probe_places(lengths, 100, 5, seed=4)
    assert probe_places(lengths, 100, 5, seed=4, max_probes=15) == free  # within the budget: unchanged
    assert [ti for ti, _ in free] == [0] * 5 + [2] * 5 + [3] * 5
    rng = np.random.default_rng(4)  # the per-track draws, in track order
    assert [s for _, s in free] == [int(s) for n in (1000, 3000, 2000) for s in rng.integers(0, n - 100 + 1, size=5)]
    many = probe_places(lengths, 100, 5, seed=4, max_probes=3000)
    capped = probe_places(lengths, 100, 2000, seed=4, max_probes=3000)
    assert len(capped) == 3000 and many == free and capped == probe_places(lengths, 100, 2000, seed=4, max_probes=3000)
    assert all(ti != 1 and 0 <= s <= lengths[ti] - 100 for ti, s in capped)
    share = np.bincount([ti for ti, _ in capped], minlength=4) / 3000
    np.testing.assert_allclose(share, [901 / 5804, 0, 2901 / 5804, 1901 / 5804], atol=0.03)  # by number of starts


def test_exclude_bad_input(catalog):
    clip = synth_track(2.0, SR, seed=1)
    with pytest.raises(ValueError, match="exclude must hold names.*'nope'"):
        catalog.candidates(clip, SR, exclude=["nope"])
    with pytest.raises(TypeError, match="exclude must be an iterable of track names.*'t1'"):
        catalog.candidates(clip, SR, exclude="t1")
    everything = catalog.candidates(clip, SR, exclude=catalog.tracks)
    assert len(everything) == 0 and everything.tracks == ()


def _strong_null() -> MusicNull:
    # probes spread over 1e-30 .. 1: a per-query p of 1e-10 is given about a third
    lp = np.linspace(-30.0, 0.0, 60)
    return MusicNull(np.asarray([1.0, 3.0]), np.stack([lp, lp]))


@pytest.fixture(scope="module")
def calibrated(catalog) -> Matcher:
    m = catalog.subset(catalog.tracks)
    m._music_null = _strong_null()  # a null that moves every small p a lot: the tests can see where it is missing
    return m


def test_every_reported_probability_carries_the_music_null(calibrated):
    m, null = calibrated, calibrated._music_null
    clip = synth_track(15.0, SR, seed=43)[SR : 4 * SR]
    found = m.candidates(clip, SR).fitted()
    assert found.music_null is null and found.sr == SR
    z = float(found.z.max())
    assert found.p_query(z) < 1e-10  # a true match: the raw p is tiny
    # (the null reads log10 p computed without underflow: equal to the log of p_query to rounding)
    assert found.p(z) == pytest.approx(null.p(found.p_query(z), 3.0), rel=1e-12)
    assert found.p(z) > 100 * found.p_query(z)
    picked = found.top(4)
    scored = m.score(clip, SR, picked)
    y = m._query(clip, SR)
    for i, mt in enumerate(scored):
        # the search's evidence and the exact score's, united, then the music null
        ti = m.tracks.index(picked.tracks[int(picked.track[i])])
        score, _, _, _, effective = m._refine(y, ti, int(picked.lag[i]), matcher_mod._DECIMATE + 2, wide=matcher_mod._WIDE)
        length = effective()
        assert mt is not None and mt.score == score
        zi = float(picked.z[i])
        assert mt.false_alarm_probability == found.p(zi, score, length)
        # a music null without exact-score probes (a catalog calibrated before they were
        # recorded) recalibrates the search's evidence alone
        assert mt.false_alarm_probability == pytest.approx(null.p(found.p_query(zi), 3.0), rel=1e-12)
        # with them: each test by its own probes, then the weighted union
        both = MusicNull(null.durations, null.log_p, null.log_p - 5.0)
        p_s = tsconv.false_alarm_probability(min(score, 1.0), length, int(found.lags))
        want = max(min(1.0, both.p(found.p_query(zi), 3.0) / 0.99, both.p_exact(p_s, 3.0) / 0.01), 5e-324)
        assert dataclasses.replace(found, music_null=both).p(zi, score, length) == pytest.approx(want, rel=1e-12)
    best = m.match(clip, SR, top_k=3, max_false_alarm=1.0)
    assert best[0].track == "t3"
    assert best[0].false_alarm_probability == min(mt.false_alarm_probability for mt in scored if mt.track == "t3")
    # the threshold of find_all and Candidates.above is on the reported p
    level = best[0].false_alarm_probability * 1.5
    assert all(found.p(float(v)) <= level for v in found.above(level).z)
    assert [r.track for r in m.find_all(clip, SR, max_false_alarm=level)] == ["t3"]
    assert m.find_all(clip, SR, max_false_alarm=best[0].false_alarm_probability * 0.5) == []


def test_subset_drops_the_music_null(calibrated):
    part = calibrated.subset(["t0", "t1"])
    assert calibrated.calibrated and not part.calibrated
    clip = synth_track(3.0, SR, seed=9)
    assert part.candidates(clip, SR).music_null is None
    assert calibrated.candidates(clip, SR, exclude=["t2"]).music_null is None


@pytest.mark.parametrize("from_file", [False, True])
def test_sharded_matcher_reports_the_calibrated_probability(calibrated, tmp_path, from_file):
    td = pytest.importorskip("tsconv.dask")
    source: Matcher | str = calibrated
    if from_file:
        source = str(tmp_path / "c.tsca")
        calibrated.save(source)
    sm = td.ShardedMatcher(source, client="threads", n_shards=2)
    assert sm.calibrated
    for seed, lo, hi in ((43, SR, 4 * SR), (41, 5 * SR, 6 * SR), (99, 0, 3 * SR)):
        clip = synth_track(15.0, SR, seed=seed)[lo:hi]
        ref = calibrated.match(clip, SR, top_k=3, max_false_alarm=1.0)
        got = sm.match(clip, SR, top_k=3, max_false_alarm=1.0)
        assert [g.track for g in got] == [r.track for r in ref] and len(ref) >= 1
        for g, r in zip(got, ref):
            assert g.score == pytest.approx(r.score, abs=1e-12)
            assert g.false_alarm_probability == pytest.approx(r.false_alarm_probability, rel=1e-9, abs=1e-300)
        found = sm.candidates(clip, SR).fitted()
        assert found.music_null is not None
        raw = dataclasses.replace(found, music_null=None)
        z = float(found.z.max())
        assert found.p(z) == calibrated.candidates(clip, SR).fitted().p(z)
        if raw.p(z) < 1e-3:  # the null moves a small p: a shard reporting the raw one would fail here
            assert found.p(z) > 10 * raw.p(z)


def test_probes_are_music_as_it_sounds(catalog):
    # the stored samples are whitened; a probe undoes the whitener, so it has the music's
    # spectrum (up to the slow levelling gain): against the track as added (the slow twin)
    x = synth_track(15.0, SR, seed=42)
    for start, length in ((0, SR), (3 * SR, 3 * SR), (15 * SR - 3 * SR, 3 * SR)):
        probe = catalog._probe_clip(2, start, length).astype(np.float64)
        ref = x[start : start + length]
        whitened = np.asarray(catalog._tracks[2].data[start : start + length], dtype=np.float64)
        assert np.corrcoef(probe, ref)[0, 1] > 0.95
        assert np.corrcoef(whitened, ref)[0, 1] < 0.8  # the stored samples are not the music



def test_sharded_candidates_exclude_are_the_matchers(calibrated):
    td = pytest.importorskip("tsconv.dask")
    sm = td.ShardedMatcher(calibrated, client="threads", n_shards=2)
    clip = synth_track(15.0, SR, seed=43)[SR : 4 * SR]
    for left_out in (["t3"], ["t0", "t4"]):
        got = sm.candidates(clip, SR, exclude=left_out)
        ref = calibrated.candidates(clip, SR, exclude=left_out)
        assert sorted(got.tracks) == sorted(ref.tracks) and got.n_chunks == ref.n_chunks
        assert got.music_null is None and ref.music_null is None
        np.testing.assert_array_equal(np.sort(got.z), np.sort(ref.z))
    with pytest.raises(ValueError, match="exclude must hold names"):
        sm.candidates(clip, SR, exclude=["nope"])
