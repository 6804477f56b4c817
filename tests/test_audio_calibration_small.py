"""The false-alarm probability in tiny catalogs (one short track)."""

from __future__ import annotations

import numpy as np
import scipy.stats

from tsconv.audio import Matcher, degrade
from tsconv.audio._synth import synth_track

SR = 8000


def test_noise_clips_in_a_one_track_catalog_are_calibrated():
    # one 6 s track: before, 10% of pure-noise clips got p <= 0.01 (the null was fitted on
    # about 95 chunk maxima); the chunk maxima of phase-randomized clips now top the fit up
    m = Matcher()
    m.add("only", synth_track(6.0, SR, seed=7), SR)
    rng = np.random.default_rng(5)
    ps = []
    for i in range(200):
        y = degrade.colored_noise(int((1.0 + i % 3) * SR), ("white", "pink")[i % 2], seed=rng)
        res = m.match(y, SR, top_k=5, max_false_alarm=1.0)
        ps.append(min((r.false_alarm_probability for r in res), default=1.0))
    ps = np.array(ps)
    # at most 6 of 200 at p <= 0.01: P(Binomial(200, 0.01) >= 7) = 0.5% if calibrated
    assert scipy.stats.binom.sf(6, 200, 0.01) < 0.01
    assert np.count_nonzero(ps <= 0.01) <= 6
    assert np.count_nonzero(ps <= 0.1) <= scipy.stats.binom.ppf(0.999, 200, 0.1)
    # and the probability is not simply pushed to 1: noise still spreads over (0, 1)
    assert np.count_nonzero(ps <= 0.5) >= scipy.stats.binom.ppf(0.001, 200, 0.5) - 20


def test_a_true_clip_in_a_one_track_catalog_is_still_found_and_repeatable():
    x = synth_track(6.0, SR, seed=7)
    m = Matcher()
    m.add("only", x, SR)
    clip = degrade.add_noise(x[10000:26000], -5.0, "white", seed=1)
    best = m.match(clip, SR)
    assert best and best[0].track == "only" and best[0].false_alarm_probability <= 1e-3
    assert abs(best[0].offset_samples - 10000) <= 1
    assert m.match(clip, SR) == best  # the surrogates are seeded by the clip: repeatable
