"""Thread safety of the audio matcher: concurrent queries equal sequential ones.

A freshly constructed or freshly loaded ``Matcher`` builds its search index on the first
query, and a query keeps per-query intermediate results (the clip's spectrum). Both must be
safe when the first queries arrive from many threads at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tsconv.audio import Matcher, degrade
from tsconv.audio._synth import synth_track

SR = 8000
N_THREADS = 8


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    tracks = {f"song{i}": synth_track(6.0, SR, seed=40 + i) for i in range(4)}
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, SR)
    path = tmp_path_factory.mktemp("cat") / "cat.tsc"
    m.save(path)
    rng = np.random.default_rng(7)
    clips = []
    for i in range(2 * N_THREADS):
        name = f"song{i % 4}"
        start = int(rng.integers(0, 3 * SR))
        clip = np.asarray(tracks[name][start : start + 2 * SR], dtype=np.float64)
        clips.append(degrade.add_noise(clip, -5.0, "white", seed=i))
    return tracks, path, clips


def _answers(m: Matcher, clips, threads: int):
    def one(clip):
        return [(r.track, r.offset_samples, r.score, r.false_alarm_probability) for r in m.match(clip, SR, top_k=3)]

    if threads == 1:
        return [one(c) for c in clips]
    start = threading.Barrier(threads)

    def gated(clip):
        start.wait()  # every thread meets the unbuilt index at once
        return one(clip)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        first = list(pool.map(gated, clips[:threads]))
        rest = list(pool.map(one, clips[threads:]))
    return first + rest


def _built(tracks) -> Matcher:
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, SR)
    return m


@pytest.mark.parametrize("fresh", ["loaded", "constructed"])
def test_concurrent_first_queries_equal_sequential(catalog, fresh):
    tracks, path, clips = catalog
    make = (lambda: Matcher.load(path)) if fresh == "loaded" else (lambda: _built(tracks))
    expected = _answers(make(), clips, threads=1)
    m = make()
    assert _answers(m, clips, threads=N_THREADS) == expected
    # and the matcher is not left broken: sequential answers afterwards are unchanged
    assert _answers(m, clips, threads=1) == expected
