"""ShardedMatcher on a 2-worker LocalCluster: a worker killed in the middle of a query, and a
catalog file replaced on disk before its shard is rebuilt."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import tsconv.dask as td  # noqa: E402
from tsconv.audio import CatalogError, Matcher  # noqa: E402
from tsconv.audio._synth import synth_track  # noqa: E402

SR = 8000


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="1GiB"
    )
    cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    tracks = {f"track-{i}": synth_track(8.0 + 2 * i, SR, seed=100 + i) for i in range(4)}
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, SR)
    path = tmp_path_factory.mktemp("catalog") / "cat.tsca"
    m.save(path)
    return m, tracks, str(path)


def _kill_between_phases(client, sm, before_first=False):
    """Kill the worker holding shard 0 after the query's first phase, before its second
    (``before_first``: as the query starts, before its first phase is sent)."""
    real = sm._map
    calls = []

    def map_then_kill(fn, work, clip):
        calls.append(fn.__name__)
        if len(calls) == 1 and before_first:
            kill()
        out = real(fn, work, clip)
        if len(calls) == 1 and not before_first:
            kill()
        return out

    def kill():
        pids = client.run(os.getpid)
        holder = client.who_has(sm._shards[0])[sm._shards[0].key][0]
        os.kill(pids[holder], signal.SIGKILL)

    sm._map = map_then_kill
    return calls


@pytest.mark.parametrize("before_first", [False, True])
def test_worker_killed_mid_query_from_memory_returns_the_in_memory_answer(client, catalog, before_first):
    m, tracks, _ = catalog
    clip = tracks["track-2"][20000 : 20000 + 2 * SR].astype(np.float64)
    ref = m.match(clip, SR)
    client.wait_for_workers(2, timeout=300)  # a loaded machine restarts slowly
    sm = td.ShardedMatcher(m, client=client)
    calls = _kill_between_phases(client, sm, before_first)
    got = sm.match(clip, SR)
    assert len(calls) >= 2  # the kill happened inside the query
    assert [g.track for g in got] == [r.track for r in ref]
    assert got[0].offset_samples == pytest.approx(ref[0].offset_samples, abs=1e-6)
    client.wait_for_workers(2, timeout=300)  # a loaded machine restarts slowly
    assert [g.track for g in sm.match(clip, SR)] == [r.track for r in ref]
    sm.close()


def test_catalog_replaced_on_disk_then_worker_killed_raises_instead_of_hanging(client, catalog, tmp_path):
    m, tracks, path = catalog
    mine = tmp_path / "cat.tsca"
    mine.write_bytes(open(path, "rb").read())
    sm = td.ShardedMatcher(str(mine), client=client)
    clip = tracks["track-1"][5000 : 5000 + 2 * SR].astype(np.float64)
    assert sm.match(clip, SR)[0].track == "track-1"
    other = Matcher()
    other.add("else", synth_track(30.0, SR, seed=7), SR)
    other.save(mine)  # the file changes under the sharded matcher
    client.wait_for_workers(2, timeout=300)  # a loaded machine restarts slowly
    pids = client.run(os.getpid)
    holder = client.who_has(sm._shards[0])[sm._shards[0].key][0]
    os.kill(pids[holder], signal.SIGKILL)
    with pytest.raises(CatalogError, match="changed on disk"):
        sm.match(clip, SR)
    sm.close()
