"""The music null (tsconv/audio/_null.py, Matcher.calibrate) and probabilities never exactly 0."""

from __future__ import annotations

import dataclasses
import json
import math
import zipfile

import numpy as np
import pytest
import scipy.stats

from tsconv.audio import CatalogError, Matcher
from tsconv.audio import catalog as catalog_mod
from tsconv.audio import matcher as matcher_mod
from tsconv.audio._null import TINY, MusicNull, neighbour_places
from tsconv.audio._synth import synth_track

SR = 8000


def _hubs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A click-in-silence passage (clicks at -38 dBFS in -75 dBFS noise) and a pulsed one
    (noise bursts every 0.25 s), 10 s each: the kinds of passage unrelated music hits."""
    rng = np.random.default_rng(seed)
    clicks = 10 ** (-75 / 20) * rng.standard_normal(10 * SR)
    for k in rng.integers(0, clicks.size - 20, 40):
        clicks[k : k + 8] += 10 ** (-38 / 20) * np.hanning(8)
    pulses = 0.01 * rng.standard_normal(10 * SR)
    for k in range(0, pulses.size - 400, SR // 4):
        pulses[k : k + 400] += 0.5 * rng.standard_normal(400) * np.hanning(400)
    return clicks.astype(np.float32), pulses.astype(np.float32)


@pytest.fixture(scope="module")
def hub_matcher() -> Matcher:
    m = Matcher()
    clicks, pulses = _hubs()
    m.add("clicks", clicks, SR)
    m.add("pulses", pulses, SR)
    for i in range(4):
        m.add(f"t{i}", synth_track(20.0, SR, seed=i), SR)
    return m


def _best_p(m: Matcher, clip: np.ndarray) -> float:
    return min((r.false_alarm_probability for r in m.match(clip, SR, max_false_alarm=1.0)), default=1.0)


def test_unrelated_music_on_hub_passages(hub_matcher):
    # 40 clips of 1 s of synthetic music not in the catalog (other seeds). Without the
    # music null (today's per-query null only) several of them are reported at p <= 0.01
    # (measured: 7 of 40); with it, none is.
    clips = [synth_track(6.0, SR, seed=100 + i)[:SR] for i in range(40)]
    m = hub_matcher.subset(hub_matcher.tracks)
    assert not m.calibrated
    before = np.array([_best_p(m, c) for c in clips])
    assert np.count_nonzero(before <= 0.01) >= 2  # the failure the music null fixes is present
    m.calibrate()
    assert m.calibrated
    after = np.array([_best_p(m, c) for c in clips])
    assert np.count_nonzero(after <= 0.01) == 0
    assert np.all(after >= before)  # the recalibration only raises probabilities
    # an excerpt of a catalog track is still found, strongly
    r = m.match(synth_track(20.0, SR, seed=2)[SR : 4 * SR], SR)
    assert r and r[0].track == "t2" and 0.0 < r[0].false_alarm_probability <= 1e-6


def _theme_catalog() -> Matcher:
    """Five tracks of 20 s, two of them the same music (the second a noisy copy of the first)."""
    rng = np.random.default_rng(4)
    m = Matcher()
    base = synth_track(20.0, SR, seed=0)
    m.add("theme", base, SR)
    m.add("theme again", (base + 0.3 * rng.standard_normal(base.size) * float(np.std(base))).astype(np.float32), SR)
    for i in range(1, 4):
        m.add(f"t{i}", synth_track(20.0, SR, seed=i), SR)
    return m


def test_probabilities_below_the_smallest_double_keep_their_order(monkeypatch):
    # probes that found the same music in another track (the same theme in two files of a
    # soundtrack) get probabilities far below the smallest double. Floored at 5e-324, they
    # tied with every strong true match, whose recalibrated p was then at least their share
    # (here 10 of 200); as log10 values computed without underflow (the probes' and the
    # query's, Matcher.calibrate and Candidates.p), a match far stronger lies below them.
    rng = np.random.default_rng(4)
    row = np.sort(np.r_[np.log10(rng.random(190)), -rng.uniform(400.0, 900.0, 10)])
    null = MusicNull(np.asarray([3.0]), row[None, :])
    floor = math.log10(TINY)
    floored = MusicNull(np.asarray([3.0]), np.maximum(row, floor)[None, :])
    assert floored.p(0.0, 3.0) > 0.01  # a query underflowed to 0, tied with the 10: never reported at 0.01
    assert null.p_log10(-3000.0, 3.0) < floored.p(0.0, 3.0) / 10
    lq = np.linspace(-5000.0, 0.0, 101)
    got = np.array([null.p_log10(v, 3.0) for v in lq])
    assert np.all(np.diff(got) >= 0) and np.all(got > 0) and np.all(got >= 10.0 ** lq)
    assert null.p_log10(-2.0, 3.0) == null.p(0.01, 3.0)  # p() is p_log10() of log10(p)
    # the matcher records its probes so: a catalog holding a noisy copy of one of its tracks
    m = _theme_catalog()
    monkeypatch.setattr(matcher_mod, "_SHARED_TRACKS", 0)  # keep the probes that found the copy (below)
    m.calibrate(per_track=4)
    assert m.music_null.log_p_exact.min() < floor - 100


def test_a_passage_two_tracks_share_is_not_unrelated_music(monkeypatch):
    # the probes of "theme" find it in "theme again" (and back) at probabilities below 1e-100.
    # Read as unrelated music, they are 2 of the 5 tracks' probes: a clean clip of t2 then got
    # p >= their share, and match() reported nothing at 0.01. Each is probed again without the
    # track holding its passage (Matcher._shares_passage).
    clip = synth_track(20.0, SR, seed=2)[SR : 4 * SR]
    m = _theme_catalog()
    m.calibrate(per_track=4)
    r = m.match(clip, SR)
    assert r and r[0].track == "t2" and 0.0 < r[0].false_alarm_probability <= 1e-6
    assert m.music_null.log_p_exact.min() > -100
    with monkeypatch.context() as mp:  # without probing again: the failure
        mp.setattr(matcher_mod, "_SHARED_TRACKS", 0)
        m.calibrate(per_track=4)
    r = m.match(clip, SR, max_false_alarm=1.0)
    assert r[0].track == "t2" and r[0].false_alarm_probability > 0.1
    # the two tracks share every passage; unrelated tracks share none, hub passages neither
    names = m.tracks
    theme, again, t1 = names.index("theme"), names.index("theme again"), names.index("t1")
    assert m._shares_passage(theme, 6 * SR, SR, again, 6 * SR)
    assert m._shares_passage(again, 3 * SR, 3 * SR, theme, 3 * SR + 0.4)
    assert not m._shares_passage(theme, 6 * SR, SR, again, 6 * SR + 40)  # not the same relative place
    assert not m._shares_passage(theme, 6 * SR, SR, t1, 6 * SR)
    # no excerpt 18 s away fits, but the probe's own pieces are copied there
    assert m._shares_passage(theme, 9 * SR, 9 * SR, again, 9 * SR)
    with monkeypatch.context() as mp:
        mp.setattr(matcher_mod, "_SHARED_PIECE", 9.0)  # one piece: the neighbours alone
        assert not m._shares_passage(theme, 9 * SR, 9 * SR, again, 9 * SR)


def test_a_passage_copied_into_other_tracks_is_not_unrelated_music():
    # 3 s of t2 recur in t0 (twice, once at 0.3x) and t1: a passage shared for less than two
    # probe lengths, so no excerpt two lengths away confirms it. The probes that met the
    # copies counted as unrelated music at p < 1e-100: every clean clip of t3 went unreported
    # (p 0.149) and find_all(the passage) found nothing. The probe's own pieces are the copy.
    tracks = {f"t{i}": synth_track(30.0, SR, seed=70 + i) for i in range(4)}
    jingle = tracks["t2"][100000:124000].copy()
    tracks["t0"][20000:44000] = jingle
    tracks["t0"][150000:174000] = 0.3 * jingle
    tracks["t1"][60000:84000] = 2 * jingle
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, SR)
    m.calibrate()
    for off in (30000, 120000, 200000):
        r = m.match(tracks["t3"][off : off + 3 * SR], SR)
        assert r and (r[0].track, round(r[0].offset_samples)) == ("t3", off)
        assert 0.0 < r[0].false_alarm_probability <= 1e-6
    found = [(h.track, round(h.offset_samples)) for h in m.find_all(jingle, SR)]
    assert found == [("t0", 20000), ("t0", 150000), ("t1", 60000), ("t2", 100000)]


def test_shared_passage_check_ignores_hub_passages(hub_matcher):
    # probes as calibrate() makes them, of the unrelated tracks t0..t3: where their best place
    # lies in the click or pulse passage, no excerpt two lengths away confirms it
    m = hub_matcher
    hubs = 0
    for ti in range(2, 6):
        for start in range(2 * SR, 17 * SR, 3 * SR):
            found = m.candidates(m._probe_clip(ti, start, SR), SR, exclude=[m.tracks[ti]]).fitted().top(1)
            tj = m.tracks.index(found.tracks[int(found.track[0])])
            hubs += tj < 2
            assert not m._shares_passage(ti, start, SR, tj, float(found.lag[0]))
    assert hubs >= 5  # the hubs are what most of them find


def test_neighbour_places():
    # two lengths after, then before, where both excerpts lie inside their tracks
    assert neighbour_places(1000, 5000, 100, 2000, 9000) == [(1200, 5200), (800, 4800)]
    assert neighbour_places(100, 5000, 100, 2000, 9000) == [(300, 5200)]  # none before the track's start
    assert neighbour_places(1000, 100, 100, 2000, 9000) == [(1200, 300)]  # none before the other's start
    assert neighbour_places(1000, 8750, 100, 2000, 9000) == [(800, 8550)]  # none after the other's end
    assert neighbour_places(1750, 5000, 100, 2000, 9000) == [(1550, 4800)]  # none after the track's end
    assert neighbour_places(1700, 5000, 100, 2000, 9000) == [(1900, 5200), (1500, 4800)]  # ends at the last sample
    assert neighbour_places(0, 0, 100, 250, 250) == []


def test_strong_match_probability_is_positive():
    m = Matcher()
    x = synth_track(30.0, SR, seed=5)
    m.add("a", x, SR)
    m.add("b", synth_track(30.0, SR, seed=6), SR)
    found = m.candidates(x[SR : 7 * SR], SR).fitted()
    # the Gaussian tail of a huge statistic underflows to 0: it is reported as the smallest positive double
    assert found.p(1e6) == TINY > 0.0
    r = m.match(x[SR : 7 * SR], SR)
    assert r[0].track == "a" and r[0].false_alarm_probability > 0.0


def _null(log_p: list[list[float]], durations: list[float]) -> MusicNull:
    return MusicNull(np.asarray(durations, float), np.sort(np.asarray(log_p, float), axis=1))


def test_music_null_is_the_empirical_share_of_the_probes():
    # against a direct count over the probes (the slow twin), inside the probes' range
    rng = np.random.default_rng(1)
    lp = -6 * rng.random(200)
    null = _null([lp], [3.0])
    for q in (1e-5, 1e-4, 1e-3, 1e-2, 0.3):
        share = np.count_nonzero(lp <= math.log10(q)) / lp.size
        if share >= 0.1:
            assert null.p(q, 3.0) == pytest.approx(max(q, share))
        else:  # the tail: never below the probe share nor below q, never above the share at the tail's edge
            assert max(q, share) <= null.p(q, 3.0) <= 0.1 + 1e-12
    # monotone in p_query, positive, at least p_query
    qs = np.logspace(-320, 0, 60)
    ps = np.array([null.p(q, 3.0) for q in qs])
    assert np.all(np.diff(ps) >= -1e-15) and np.all(ps > 0) and np.all(ps >= qs)


def test_music_null_tail_is_conservative_on_power_law_probes():
    # probes drawn from an exact power tail, P(p_probe <= p) = p^0.4, 150 per duration (a
    # one-hour catalog's count); where the true share is 1e-3, far below the smallest tenth
    # of the probes, the recalibrated p is optimistic (below 1e-3) in about 5% of such nulls:
    # the tail's exponent is the 95% lower confidence bound of its Hill estimate (2 s T is
    # chi-square with 2 (k - 1) degrees). The two-point line through the smallest probe used
    # before was optimistic in 150 of these 400 nulls.
    from tsconv.audio._null import tail_exponent

    rng = np.random.default_rng(0)
    s_true, n, trials = 0.4, 150, 400
    q = 10 ** (-3 / s_true)
    optimistic = covered = 0
    for _ in range(trials):
        lp = np.sort(np.log10(rng.random(n)) / s_true)
        optimistic += _null([lp], [3.0]).p(q, 3.0) < 1e-3
        s = tail_exponent(lp, 15)
        # the slow twin: the Hill sum of ln(p_(15) / p_(i)), i < 15, and the chi-square pivot
        hill = sum(math.log(10 ** lp[14] / 10 ** lp[i]) for i in range(14))
        assert s == pytest.approx(min(scipy.stats.chi2.ppf(0.05, 28) / (2 * hill), 1.0), rel=1e-9)
        covered += s <= s_true
    assert optimistic <= 0.09 * trials  # binomial(400, 0.05): 20 expected, 36 is 3.6 sd above
    assert 0.90 * trials <= covered <= 0.99 * trials


def test_music_null_share_bound_is_the_binomial_upper_confidence_bound():
    # the slow twin: b such that k or fewer of n draws at share b has probability 5%
    from tsconv.audio._null import share_bound

    for n in (10, 152, 1000):
        assert share_bound(0, n) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-10)
        for k in (1, 3, n // 10, n - 1):
            b = share_bound(k, n)
            assert scipy.stats.binom.cdf(k, n, b) == pytest.approx(0.05, rel=1e-8)
            assert b > k / n
        assert share_bound(n, n) == 1.0


def test_music_null_is_not_optimistic_just_beyond_the_probes():
    # probes of an exact power tail, P(p_probe <= p) = p^0.4, 150 per duration; a query whose
    # true share is 1.5 / n lies beyond all probes, or all but one, in most nulls: one
    # probe's share, 1 / n (the floor before), was optimistic in 55% of nulls; floored at
    # the tail's share at the most extreme probe, 17%
    rng = np.random.default_rng(0)
    s_true, n, trials = 0.4, 150, 400
    share = 1.5 / n
    q = share ** (1 / s_true)
    optimistic = 0
    for _ in range(trials):
        lp = np.sort(np.log10(rng.random(n)) / s_true)
        optimistic += _null([lp], [3.0]).p(q, 3.0) < share * (1 - 1e-9)
    assert optimistic <= 0.25 * trials


@pytest.mark.parametrize("seed, binding", [(0, "tail"), (7, "bound"), (3, "one probe")])
def test_music_null_below_the_probes_is_the_tail_and_above_them_the_count(seed, binding):
    # the slow twin of the share below the smallest tenth of the probes: the tail through
    # the 15th smallest, the count floored at the tail's share at the most extreme probe
    # (at most the count's bound for no probe); these draws exercise each of the three
    from tsconv.audio._null import share_bound, tail_exponent

    rng = np.random.default_rng(seed)
    lp = np.sort(np.log10(rng.random(150)) / 0.4)
    null = _null([lp], [3.0])
    s = tail_exponent(lp, 15)

    def tail(x: float) -> float:
        return 15 / 150 * 10 ** (s * (x - lp[14]))

    floor = min(tail(lp[0]), share_bound(0, 150))
    for x in np.concatenate([lp[:16] - 1e-9, lp[:16] + 1e-9, [lp[0] - 3, lp[0] - 10]]):
        k = np.count_nonzero(lp <= x)
        want = k / 150 if k >= 15 else min(tail(x), max(max(k, 1) / 150, floor))
        assert null.p(10**x, 3.0) == pytest.approx(max(10**x, want), rel=1e-9)
    at_edge = tail(lp[0])
    assert binding == ("one probe" if max(floor, 1 / 150) == 1 / 150 else "tail" if floor == at_edge else "bound")


def test_music_null_interpolates_in_log_duration():
    lp1 = np.linspace(-8, 0, 100)
    lp3 = np.linspace(-4, 0, 100)
    null = _null([lp1, lp3], [1.0, 3.0])
    q = 1e-3
    a, b = null.p(q, 1.0), null.p(q, 3.0)
    mid = null.p(q, math.sqrt(3.0))  # halfway in log-duration: geometric mean of the two shares
    assert mid == pytest.approx(math.sqrt(a * b))
    assert null.p(q, 0.5) == a and null.p(q, 10.0) == b  # clamped outside the probed durations


def test_music_null_of_parts_is_the_union_bound_over_the_parts():
    # probes that searched parts of lags L0, read for a catalog of r L0 lags:
    # min(1, r * share(p / r)), the share counted directly over the probes (the slow twin),
    # never below p; lags None (either side) or a smaller catalog: the probes' share itself
    rng = np.random.default_rng(2)
    lp = np.sort(-8 * rng.random(300) ** 2)  # hubs: the share falls slower than p
    L0 = 3.6e7
    part = MusicNull(np.asarray([3.0]), lp[None, :], lags=L0)
    whole = MusicNull(np.asarray([3.0]), lp[None, :])
    for q in (1e-4, 1e-3, 1e-2, 0.1):
        for r in (1.0, 2.5, 10.0, 100.0):
            x = q / r
            share = np.count_nonzero(lp <= math.log10(x)) / lp.size
            if share < 0.1:
                continue  # the tail (tested above): the empirical share only
            assert part.p(q, 3.0, lags=r * L0) == pytest.approx(max(q, min(1.0, r * share)), rel=1e-12)
        assert part.p(q, 3.0) == part.p(q, 3.0, lags=0.5 * L0) == whole.p(q, 3.0, lags=100 * L0) == whole.p(q, 3.0)
    # a probability, never below p_query, monotone in it; the exact-score row alike
    qs = np.logspace(-12, 0, 25)
    grid = np.array([[part.p(q, 3.0, lags=r * L0) for q in qs] for r in (1, 3, 30, 300)])
    assert np.all(grid >= qs) and np.all(grid <= 1) and np.all(np.diff(grid, axis=1) >= 0)
    both = MusicNull(np.asarray([3.0]), lp[None, :], lp[None, :] - 1.0, lags=L0)
    assert both.p_exact(1e-3, 3.0, lags=7 * L0) == MusicNull(np.asarray([3.0]), lp[None, :] - 1.0, lags=L0).p(1e-3, 3.0, 7 * L0)
    # probes calibrated on the part (share(x) = x) stay calibrated on the whole where the
    # share is counted; in the tail (below the smallest tenth) the bound is no smaller and
    # no larger than r times the count's upper confidence bound
    from tsconv.audio._null import share_bound

    flat = MusicNull(np.asarray([3.0]), np.log10(np.arange(1, 1001) / 1000)[None, :], lags=L0)
    for q, r in ((0.3, 2.0), (0.5, 2.0), (0.9, 3.0)):
        assert flat.p(q, 3.0, lags=r * L0) == pytest.approx(q, rel=1e-9)
    for q in (0.01, 0.05, 0.3):
        k = round(q / 10 * 1000)
        assert q * (1 - 1e-12) <= flat.p(q, 3.0, lags=10 * L0) <= 10 * share_bound(k, 1000)


@pytest.mark.parametrize("lags", [0.0, -1.0, math.nan, math.inf, 5])
def test_music_null_rejects_bad_lags(lags):
    with pytest.raises(ValueError, match="lags"):
        MusicNull(np.asarray([3.0]), np.zeros((1, 20)), lags=lags)


@pytest.mark.parametrize(
    "durations, log_p",
    [([1.0], np.zeros((1, 5))), ([3.0, 1.0], np.zeros((2, 20))), ([1.0], np.full((1, 20), 0.5)), ([1.0], np.full((1, 20), np.nan))],
)
def test_music_null_rejects_bad_arrays(durations, log_p):
    with pytest.raises(ValueError):
        MusicNull(np.asarray(durations, float), np.asarray(log_p, float))


def test_calibrated_catalog_round_trip_and_version_1(hub_matcher, tmp_path, monkeypatch):
    m = hub_matcher.subset(hub_matcher.tracks)
    m.calibrate(per_track=4)
    path = tmp_path / "c.tscat"
    m.save(path)
    back = Matcher.load(path)
    assert back.calibrated
    np.testing.assert_array_equal(back._music_null.log_p, m._music_null.log_p)
    assert catalog_mod.read_manifest(path)["version"] == catalog_mod.VERSION
    # a version-1 file (no music null, no index) still loads, with a warning naming the version
    monkeypatch.setattr(catalog_mod, "VERSION", 1)
    old = tmp_path / "old.tscat"
    hub_matcher.subset(["t0", "t1"]).save(old, index=False)
    monkeypatch.undo()
    assert catalog_mod.read_manifest(old)["version"] == 1
    with pytest.warns(UserWarning, match="version 1 has no music null"):
        loaded = Matcher.load(old)
    assert not loaded.calibrated and loaded.tracks == ["t0", "t1"]


def test_unknown_version_is_refused(hub_matcher, tmp_path, monkeypatch):
    monkeypatch.setattr(catalog_mod, "VERSION", catalog_mod.VERSION + 1)
    path = tmp_path / "new.tscat"
    hub_matcher.subset(["t0"]).save(path)
    monkeypatch.undo()
    with pytest.raises(CatalogError, match=f"version {catalog_mod.VERSION + 1}"):
        Matcher.load(path)


def _rewrite(path, edit) -> None:
    """Rewrite the catalog at ``path`` with ``edit(manifest, arrays)`` applied (checksums redone)."""
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest.pop("manifest_sha256")
    arrays = {n[:-4]: np.load(__import__("io").BytesIO(members[n])) for n in members if n.endswith(".npy")}
    manifest.pop("arrays")
    edit(manifest, arrays)
    catalog_mod.write_catalog(path, manifest, arrays)


def _saved_as_version(matcher, null, version, tmp_path, monkeypatch):
    """The path of ``matcher``'s catalog with music null ``null``, written as format ``version`` writes it."""
    monkeypatch.setattr(catalog_mod, "VERSION", version)
    path = tmp_path / f"v{version}.tscat"
    m = matcher.subset(matcher.tracks)
    m._music_null = null
    m.save(path)
    monkeypatch.undo()
    assert catalog_mod.read_manifest(path)["version"] == version
    return path


def test_null_lags_round_trip_version_3_and_bad_values(hub_matcher, tmp_path, monkeypatch):
    m = hub_matcher.subset(hub_matcher.tracks)
    m.calibrate(per_track=4, probe_hours=30 / 3600)
    assert m._music_null.lags is not None
    path = tmp_path / "c.tscat"
    m.save(path)
    assert catalog_mod.read_manifest(path)["version"] == catalog_mod.VERSION == 5
    assert m._music_null.log_p_query is not None
    for back in (Matcher.load(path), Matcher.load(path, mmap=True), None):
        null = catalog_mod.read_music_null(path)[1] if back is None else back._music_null
        assert null.lags == m._music_null.lags
        np.testing.assert_array_equal(null.log_p, m._music_null.log_p)
        np.testing.assert_array_equal(null.log_p_exact, m._music_null.log_p_exact)
        np.testing.assert_array_equal(null.log_p_query, m._music_null.log_p_query)
    # a version-3 catalog: its null holds no lags (its probes searched the whole catalog)
    old = _saved_as_version(hub_matcher, dataclasses.replace(m._music_null, lags=None), 3, tmp_path, monkeypatch)
    assert Matcher.load(old)._music_null.lags is None
    bad_rows = m._music_null.log_p_query
    for key, bad in [("null_lags", b) for b in (np.array([0.0]), np.array([-5.0]), np.array([1.0, 2.0]), np.array(3.0),
                                               np.array(["x"]))] + [
            ("null_log_p_query", b) for b in (bad_rows[:, :-1], bad_rows + 1.0, np.where(bad_rows < -1, np.nan, bad_rows))]:
        p = tmp_path / "bad.tscat"
        p.write_bytes(path.read_bytes())
        _rewrite(p, lambda man, arr, key=key, bad=bad: arr.__setitem__(key, bad))
        with pytest.raises(CatalogError):
            Matcher.load(p)
        with pytest.raises(CatalogError):
            catalog_mod.read_music_null(p)


def test_version_4_null_recalibrates_the_two_tests_apart(hub_matcher, tmp_path, monkeypatch):
    # a version-4 catalog (no united probes) loads and reports min(1, a / (1 - w), b / w),
    # each test recalibrated by its own probes, as version 4 did; a version-5 null gives the
    # three-test union of MusicNull.terms
    m = hub_matcher.subset(hub_matcher.tracks)
    m.calibrate(per_track=4)
    old = _saved_as_version(hub_matcher, dataclasses.replace(m._music_null, log_p_query=None), 4, tmp_path, monkeypatch)
    back = Matcher.load(old)
    assert back._music_null.log_p_query is None and back._music_null.log_p_exact is not None
    clip = _hubs(5)[1][: 3 * SR]
    w, v = matcher_mod._EXACT_WEIGHT, matcher_mod._QUERY_WEIGHT
    for matcher, united in ((back, False), (m, True)):
        found = matcher.candidates(clip, SR).fitted()
        null, dur = found.music_null, 3.0
        for i in range(min(len(found), 5)):
            z = float(found.z[i])
            for score, length in ((0.2, 500.0), (0.05, 2000.0)):
                lz = found._scan().log10_p(z)
                ls = found._p_exact(score, length, log10=True)
                a, b = null.p_log10(lz, dur, found.lags), null.p_exact_log10(ls, dur, found.lags)
                if united:
                    u = null.p_query_log10(min(lz - math.log10(1 - w), ls - math.log10(w)), dur, found.lags)
                    want = min(1.0, a / ((1 - w) * (1 - v)), b / (w * (1 - v)), u / v)
                else:
                    want = min(1.0, a / (1 - w), b / w)
                assert found.p(z, score, length) == pytest.approx(max(want, TINY), rel=1e-12)


def _paired_probes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """log10 per-query p of (search, exact score) of ``n`` unrelated clips: correlated, with
    a heavy lower tail (hubs: P(p_probe <= p) falls far slower than p)."""
    common = rng.random(n) ** 3
    lz = -12 * (0.7 * common + 0.3 * rng.random(n) ** 3)
    ls = -14 * (0.7 * common + 0.3 * rng.random(n) ** 3)
    return lz, ls


def test_three_test_union_is_the_whole_union_recalibrated_and_holds_its_level():
    # MusicNull.terms splits the recalibrated per-query union into a term of each test;
    # the slow twin recalibrates the union whole. Then the level: probes of fresh unrelated
    # clips from the same distribution get p <= alpha in at most about alpha of cases
    from tsconv.audio._null import fit_music_null, probe_places

    rng = np.random.default_rng(3)
    w, v = 0.01, 0.25
    lz0, ls0 = _paired_probes(rng, 2 * 300)

    def probe(ti, start, length):
        k = ti * 10 + start  # one stored pair per place
        a, b = float(lz0[k]), float(ls0[k])
        return a, b, min(0.0, a - math.log10(1 - w), b - math.log10(w))

    # 60 tracks of 10 samples, probes of 1 sample: probe_places draws 10 starts in 0..9 per track
    null = fit_music_null(probe, [10] * 60, 1, durations=(1.0,), per_track=10)
    assert null is not None and null.log_p_query is not None and null.log_p.shape == (1, 600)
    # the third row is the sorted unions of the pairs the probe returned (one pair per probe)
    lzs, lss = [], []
    for ti, s in probe_places([10] * 60, 1, 10, 0):
        a, b, _ = probe(ti, s, 1)
        lzs.append(a)
        lss.append(b)
    lzs, lss = np.array(lzs), np.array(lss)
    np.testing.assert_array_equal(null.log_p_query[0], np.sort(np.minimum(0, np.minimum(lzs - math.log10(1 - w), lss - math.log10(w)))))
    np.testing.assert_array_equal(null.log_p[0], np.sort(lzs))
    for lz, ls in zip(rng.uniform(-20, 0, 300), rng.uniform(-20, 0, 300)):
        a, b = null.terms(lz, ls, 1.0, None, w, v)
        u = null.p_query_log10(min(lz - math.log10(1 - w), ls - math.log10(w)), 1.0)
        whole = min(1.0, null.p_log10(lz, 1.0) / ((1 - w) * (1 - v)), null.p_exact_log10(ls, 1.0) / (w * (1 - v)), u / v)
        assert min(1.0, a, b) == pytest.approx(whole, rel=1e-12)
        b2 = null.terms(lz, ls + 0.5, 1.0, None, w, v)[1]
        assert b2 >= b  # the exact score's term only grows with its probability
    # the level, on a null of 4000 probes (the share a null of n probes lets through varies
    # by sqrt(alpha / n) around alpha) and 20000 fresh clips; the two tests apart (version 4) too
    n, m = 4000, 20000
    pz, ps = _paired_probes(rng, n)
    pu = np.minimum(0, np.minimum(pz - math.log10(1 - w), ps - math.log10(w)))
    big = MusicNull(np.asarray([1.0]), np.sort(pz)[None], np.sort(ps)[None], log_p_query=np.sort(pu)[None])
    fz, fs = _paired_probes(rng, m)
    for null_, alphas in ((big, (0.01, 0.05, 0.2)), (dataclasses.replace(big, log_p_query=None), (0.05, 0.2))):
        p = np.array([min(1.0, *null_.terms(a, b, 1.0, None, w, v)) for a, b in zip(fz, fs)])
        for alpha in alphas:
            assert np.mean(p <= alpha) <= alpha + 3 * math.sqrt(alpha * (1 / n + 1 / m))


def test_calibrate_bad_probe_hours(hub_matcher):
    m = hub_matcher.subset(["t0", "t1"])
    for bad, exc in ((0, ValueError), (-1.0, ValueError), (math.nan, ValueError), (math.inf, ValueError),
                     ("1", TypeError), (True, TypeError)):
        with pytest.raises(exc, match=f"probe_hours.*{bad!r}" if exc is TypeError else "probe_hours"):
            m.calibrate(per_track=2, probe_hours=bad)
    assert not m.calibrated


def test_declared_null_without_arrays_is_refused(hub_matcher, tmp_path):
    m = hub_matcher.subset(["t0", "t1"])
    path = tmp_path / "c.tscat"
    m.save(path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest["music_null"] = True
    manifest.pop("manifest_sha256")
    arrays = {n[:-4]: np.load(__import__("io").BytesIO(members[n])) for n in members if n.endswith(".npy")}
    manifest.pop("arrays")
    catalog_mod.write_catalog(path, manifest, arrays)
    with pytest.raises(CatalogError, match="music null"):
        Matcher.load(path)


def test_eval_reports_the_calibration_table_on_out_of_catalog_music():
    from tsconv.audio._eval import run_eval, synthetic_sources

    sources = synthetic_sources(3, 2, 12.0, SR, seed=7)
    m = Matcher()
    for s in sources:
        if s.in_catalog:
            m.add(s.name, s.x, SR)
    m.calibrate(per_track=4)
    lines: list[str] = []
    rep = run_eval(m, sources, 4, seed=1, quick=True, sections=("open",), log=lines.append)
    rows = [r for r in rep.rows if r["kind"] == "music_calibration"]
    assert [r["clip"] for r in rows] == [3.0, 1.0]
    for r in rows:
        shares = [r[f"share_p_{lvl:g}"] for lvl in (1e-2, 1e-3, 1e-4, 1e-6)]
        assert r["n"] == 10 and all(0.0 <= v <= 1.0 for v in shares) and shares == sorted(shares, reverse=True)
    assert any("calibration on clean out-of-catalog music" in line for line in lines)
    assert {r["fpr"] for r in rep.rows if r["kind"] == "open"} == {0.01, 0.001}
