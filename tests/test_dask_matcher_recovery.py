"""ShardedMatcher on a 2-worker LocalCluster: a worker that dies during a query (killed by
its own shard task, on the task's first attempt only), a catalog file replaced on disk before
its shard is rebuilt, and a query that waits too long."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (a dependency of distributed)

import tsconv.dask as td  # noqa: E402
import tsconv.dask.audio as tda  # noqa: E402
from tsconv.audio import CatalogError, Matcher  # noqa: E402
from tsconv.audio._synth import synth_track  # noqa: E402

# worker processes cannot import this test module: ship its functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SR = 8000


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    tracks = {f"track-{i}": synth_track(8.0 + 2 * i, SR, seed=100 + i) for i in range(4)}
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, SR)
    path = tmp_path_factory.mktemp("catalog") / "cat.tsca"
    m.save(path)
    return m, tracks, str(path)


def assert_same_matches(got, ref):
    """Same tracks in the same order; offsets, scores and probabilities equal to rounding
    (worker processes run BLAS with one thread: dot products may differ in the last bit)."""
    assert got and [g.track for g in got] == [r.track for r in ref]
    for g, r in zip(got, ref):
        assert g.offset_samples == pytest.approx(r.offset_samples, abs=1e-6)
        assert g.score == pytest.approx(r.score, abs=1e-12)
        assert g.false_alarm_probability == pytest.approx(r.false_alarm_probability, rel=1e-8, abs=1e-300)


def _dies_on_first_attempt(real, flag):
    """``real``, except that the first call anywhere (the one that creates ``flag``) kills
    its own worker process instead of returning: a worker dying in the middle of a query."""

    def task(*args):
        try:
            fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return real(*args)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os._exit(1)

    return task


@pytest.mark.parametrize(
    "source, stage",
    [("memory", "_candidates_on"), ("memory", "_score_on"), ("file", "_candidates_on")],
)
def test_worker_dying_during_a_query_still_gives_the_in_memory_answer(client, catalog, tmp_path, monkeypatch, source, stage):
    m, tracks, path = catalog
    clip = tracks["track-2"][20000 : 20000 + 2 * SR].astype(np.float64)
    ref = m.match(clip, SR)
    client.wait_for_workers(2, timeout=120)
    before = set(client.run(os.getpid).values())
    sm = td.ShardedMatcher(m if source == "memory" else path, client=client, timeout=120)
    flag = tmp_path / "killed"
    monkeypatch.setattr(tda, stage, _dies_on_first_attempt(getattr(tda, stage), str(flag)))
    t0 = time.perf_counter()
    got = sm.match(clip, SR)
    assert flag.exists()  # a shard task of this query killed its worker
    assert int(flag.read_text()) in before
    assert_same_matches(got, ref)
    assert time.perf_counter() - t0 < 60
    client.wait_for_workers(2, timeout=120)
    assert int(flag.read_text()) not in set(client.run(os.getpid).values())  # that worker was replaced
    monkeypatch.undo()
    assert_same_matches(sm.match(clip, SR), ref)  # and the next query too
    sm.close()


def test_catalog_replaced_on_disk_then_worker_killed_raises_a_catalog_error(client, catalog, tmp_path):
    m, tracks, path = catalog
    mine = tmp_path / "cat.tsca"
    mine.write_bytes(open(path, "rb").read())
    client.wait_for_workers(2, timeout=120)
    sm = td.ShardedMatcher(str(mine), client=client, timeout=60)
    clip = tracks["track-1"][5000 : 5000 + 2 * SR].astype(np.float64)
    assert sm.match(clip, SR)[0].track == "track-1"
    other = Matcher()
    other.add("else", synth_track(30.0, SR, seed=7), SR)
    other.save(mine)  # the file changes under the sharded matcher
    pids = client.run(os.getpid)
    holder = client.who_has(sm._shards[0])[sm._shards[0].key][0]
    os.kill(pids[holder], 9)
    t0 = time.perf_counter()
    with pytest.raises(CatalogError, match="changed on disk"):
        sm.match(clip, SR)
    assert time.perf_counter() - t0 < 30  # an answer, not a wait
    sm.close()


def _slow(real, seconds):
    def task(*args):
        time.sleep(seconds)
        return real(*args)

    return task


def test_query_timeout_raises_a_clear_timeout_error(client, catalog, monkeypatch):
    m, tracks, _ = catalog
    client.wait_for_workers(2, timeout=120)
    sm = td.ShardedMatcher(m, client=client, timeout=1.0)
    monkeypatch.setattr(tda, "_candidates_on", _slow(tda._candidates_on, 12.0))
    clip = tracks["track-1"][5000 : 5000 + 2 * SR].astype(np.float64)
    t0 = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"timeout=1.0 s"):
        sm.match(clip, SR)
    # raised long before the slow tasks end (a bound of 4 s failed once on a loaded machine)
    assert time.perf_counter() - t0 < 8.0
    sm.close()
    time.sleep(12.0)  # the slow tasks end before the next test uses the workers


def test_timeout_must_be_a_positive_number(catalog):
    m, _, _ = catalog
    for bad in (0, -1.0, float("nan"), float("inf"), "5", True):
        with pytest.raises(ValueError, match="timeout must be"):
            td.ShardedMatcher(m, client="threads", timeout=bad)
