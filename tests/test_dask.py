"""tsconv.dask: the Dask shells give the in-memory answers.

The reference for every Dask result is the in-memory function it shells (``tsconv.apply``,
``tsconv.Stream``, scipy's ``lfilter``), itself tested against the loop references in
``tests/naive.py``. Computations run on the synchronous and threaded schedulers and on a
``LocalCluster`` of 2 worker processes started once for the module.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import tsconv

da = pytest.importorskip("dask.array")  # in the `test` extra: never skipped in CI
distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (a dependency of distributed)

import tsconv.dask as td  # noqa: E402

# worker processes cannot import this test module: ship its functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

RNG = np.random.default_rng(20261127)


def assert_same(y, ref, tol=1e-12):
    """Equal shapes, NaN in the same places, values equal to ``tol`` relative to the scale."""
    y, ref = np.asarray(y), np.asarray(ref)
    assert y.shape == ref.shape
    assert y.dtype == ref.dtype
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    scale = max(1.0, float(np.nanmax(np.abs(ref)))) if np.isfinite(ref).any() else 1.0
    np.testing.assert_allclose(y[~np.isnan(ref)], ref[~np.isnan(ref)], rtol=0, atol=tol * scale)


# ---------------------------------------------------------------------------------------
# apply: kernels
# ---------------------------------------------------------------------------------------
KERNELS = {
    "centred-7": tsconv.Kernel(RNG.standard_normal(7), origin=3),
    "causal-5": tsconv.Kernel(RNG.standard_normal(5)),
    "delay": tsconv.Kernel([1.0], origin=-3),
    "lead": tsconv.Kernel(RNG.standard_normal(4), origin=6),
    # a seasonal difference of period 12 composed with a 2x12 MA: longer than small chunks
    "seasonal": tsconv.Kernel([1.0] + [0.0] * 11 + [-1.0]) @ tsconv.Kernel(np.r_[0.5, np.ones(11), 0.5] / 12, origin=6),
    "ma-2x12": tsconv.Kernel(np.r_[0.5, np.ones(11), 0.5] / 12, origin=6),
    "long-fft": tsconv.Kernel(RNG.standard_normal(3001), origin=1500),
}


@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("chunks", [5, 11, 64, 1000])
@pytest.mark.parametrize("mode", ["same", "valid", "full"])
def test_kernel_equals_in_memory(name, chunks, mode):
    # chunks of 5 and 11 split every kernel, and the seasonal period 12, across chunk edges
    k = KERNELS[name]
    x = RNG.standard_normal((3, 4000 if name == "long-fft" else 500))
    x[1, 37] = np.nan
    x[2, 200] = np.inf
    ref = tsconv.apply(k, x, mode=mode)
    y = td.apply(k, da.from_array(x, chunks=(2, chunks)), mode=mode).compute(scheduler="sync")
    assert_same(y, ref)


@pytest.mark.parametrize("name", ["centred-7", "ma-2x12", "lead"])
@pytest.mark.parametrize("mode", ["same", "valid", "full"])
def test_kernel_nan_omit_equals_in_memory(name, mode):
    k = KERNELS[name]
    x = RNG.standard_normal((2, 300))
    x[0, [0, 1, 50, 51, 52, 299]] = np.nan
    ref = tsconv.apply(k, x, mode=mode, nan_policy="omit")
    y = td.apply(k, da.from_array(x, chunks=(1, 13)), mode=mode, nan_policy="omit").compute(scheduler="threads")
    assert_same(y, ref)


@given(
    data=st.data(),
    m=st.integers(1, 40),
    n=st.integers(1, 300),
)
def test_kernel_any_split_property(data, m, n):
    origin = data.draw(st.integers(-5, m + 5))
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=6)) if n > 1 else []))
    chunks = tuple(np.diff([0, *[c for c in cuts if 0 < c < n], n]).tolist())
    rng = np.random.default_rng(m * 1000 + n)
    k = tsconv.Kernel(rng.standard_normal(m), origin=origin)
    x = rng.standard_normal(n)
    y = td.apply(k, da.from_array(x, chunks=(chunks,))).compute(scheduler="sync")
    assert_same(y, tsconv.apply(k, x))


def test_kernel_method_matches_whole_series_choice():
    # 'auto' picks the method of the whole series, so a direct kernel stays direct per
    # chunk: the blocks then reproduce numpy.convolve's dot products bit for bit
    k = KERNELS["centred-7"]
    x = RNG.standard_normal(10_000)
    y = td.apply(k, da.from_array(x, chunks=999)).compute(scheduler="sync")
    np.testing.assert_array_equal(y, tsconv.apply(k, x))
    v = td.apply(k, da.from_array(x, chunks=999), mode="valid").compute(scheduler="sync")
    np.testing.assert_array_equal(v, tsconv.apply(k, x, mode="valid"))  # docs/scaling.md says so


def test_axis_and_ndim_and_dtype():
    x = RNG.standard_normal((60, 2, 3)).astype(np.float32)
    k = KERNELS["centred-7"]
    y = td.apply(k, da.from_array(x, chunks=(7, 1, 2)), axis=0)
    assert y.dtype == np.float32
    assert_same(y.compute(), tsconv.apply(k, x, axis=0), tol=1e-6)
    xi = da.from_array(np.arange(30).reshape(3, 10), chunks=(2, 3))
    assert td.apply(k, xi).dtype == np.float64
    assert_same(td.apply(k, xi).compute(), tsconv.apply(k, np.arange(30).reshape(3, 10)))


# ---------------------------------------------------------------------------------------
# apply: transfers (IIR) by chunk states and a sequential scan
# ---------------------------------------------------------------------------------------
TRANSFERS = {
    "ar2": tsconv.Transfer([0.2, 0.1], [1.0, -1.5, 0.7]),
    "arma-seasonal": tsconv.Transfer([1.0, 0.4], np.r_[1.0, np.zeros(11), -0.8]),  # 1/(1 - 0.8 B^12)
    "ema-slow": tsconv.Transfer([0.001], [1.0, -0.999]),
    "integrator": tsconv.Transfer([1.0], [1.0, -1.0]),  # marginally stable: the state never decays
    "fir-as-transfer": tsconv.Transfer([1.0, 2.0, 3.0], [1.0]),
    "gain": tsconv.Transfer([3.0], [2.0]),
    "unnormalized-den": tsconv.Transfer([1.0, -0.3], [2.0, -1.0, 0.3]),
}


@pytest.mark.parametrize("name", list(TRANSFERS))
@pytest.mark.parametrize("chunks", [1, 7, 12, 250, 2000])
def test_transfer_equals_lfilter(name, chunks):
    tr = TRANSFERS[name]
    x = RNG.standard_normal((3, 1500 if chunks > 1 else 200))
    # the definition of a Transfer: scipy's lfilter from zero pre-sample values
    ref = scipy.signal.lfilter(tr.num.coef, tr.den.coef, x, axis=-1)
    y = td.apply(tr, da.from_array(x, chunks=(2, chunks))).compute(scheduler="threads")
    assert_same(y, ref)
    assert_same(y, tsconv.apply(tr, x))


@pytest.mark.parametrize("name", ["ar2", "fir-as-transfer", "ema-slow"])
def test_transfer_missing_values(name):
    # a NaN poisons every later output of a recursive filter, but leaves an FIR written as
    # a Transfer after len(num) - 1 samples: the scan must not turn 0 * NaN into NaN there,
    # nor forget a NaN when A^L underflows to zero
    tr = TRANSFERS[name]
    x = RNG.standard_normal((2, 3000))
    x[0, 10] = np.nan
    x[1, 1500] = -np.inf
    for policy in ["propagate", "omit"]:
        ref = tsconv.apply(tr, x, nan_policy=policy)
        y = td.apply(tr, da.from_array(x, chunks=(1, 1000)), nan_policy=policy).compute(scheduler="sync")
        assert_same(y, ref)


@pytest.mark.parametrize("chunks", [(2, 1), (1, 37), (2, 300), (1, 1000)])
def test_omit_equals_in_memory_over_long_gaps(chunks):
    # an ema holds its last value over a gap, across chunks (the ratio of the decayed
    # filtered data and indicator gave inf or NaN there); a general Transfer is NaN where
    # the engine finds its indicator ~0
    x = np.r_[np.nan, 20.0, 21.0, np.full(300, np.nan), 22.0, np.full(50, np.nan), 23.0, np.full(7, np.nan)]
    rows = np.stack([x, np.roll(x, 101)])
    for tr, dtype in [(tsconv.ema(alpha=0.3), np.float32), (tsconv.ema(alpha=0.999), np.float64),
                      (tsconv.ema(alpha=1.0), np.float64), (tsconv.Transfer([1.0, -0.5], [1.0, -0.2]), np.float64)]:
        ref = tsconv.apply(tr, rows.astype(dtype), nan_policy="omit")
        y = td.apply(tr, da.from_array(rows.astype(dtype), chunks=chunks), nan_policy="omit").compute(scheduler="sync")
        assert y.dtype == ref.dtype
        np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
        np.testing.assert_allclose(y, ref, rtol=1e-12 if dtype == np.float64 else 1e-6)


def test_transfer_chunks_longer_than_the_response_of_a_slow_pole():
    # chunks of 50,000 samples on a pole at 0.998: each chunk adds the zero-input response
    # of its carried state only until it has fallen to tsconv._recursion.SETTLE (1e-18) of
    # its start (~20,700 samples). Stopping at 1e-6 (the mutant, made by hand) leaves an
    # error of 7.9e-12 of the scale, against 1.5e-15: the naive twin is one lfilter pass.
    tr = tsconv.Transfer([1.0], [1.0, -0.998])
    x = np.random.default_rng(1).standard_normal(150_000)
    y = td.apply(tr, da.from_array(x, chunks=50_000)).compute(scheduler="sync")
    assert_same(y, scipy.signal.lfilter([1.0], [1.0, -0.998], x))


def test_transfer_state_underflow_still_poisons():
    # 0.5**2000 underflows to exactly 0: with chunks of 2000, A^L == 0 and only the
    # NaN-aware scan keeps the missing value poisoning every later output, as lfilter does
    tr = tsconv.Transfer([1.0], [1.0, -0.5])
    x = np.ones(6000)
    x[5] = np.nan
    ref = tsconv.apply(tr, x)
    assert np.isnan(ref[-1])
    y = td.apply(tr, da.from_array(x, chunks=2000)).compute(scheduler="sync")
    assert_same(y, ref)


@given(data=st.data(), n=st.integers(1, 400))
def test_transfer_any_split_property(data, n):
    p = data.draw(st.integers(0, 4))
    q = data.draw(st.integers(0, 4))
    rng = np.random.default_rng(n * 31 + p * 7 + q)
    # stable AR part: poles inside the unit circle in z (roots of the lag polynomial outside)
    poles = rng.uniform(-0.9, 0.9, p)
    den = np.poly(poles) if p else np.ones(1)
    tr = tsconv.Transfer(rng.standard_normal(q + 1), den)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=8)) if n > 1 else []))
    chunks = tuple(np.diff([0, *[c for c in cuts if 0 < c < n], n]).tolist())
    x = rng.standard_normal(n)
    y = td.apply(tr, da.from_array(x, chunks=(chunks,))).compute(scheduler="sync")
    assert_same(y, scipy.signal.lfilter(tr.num.coef, tr.den.coef, x))


def test_transfer_is_lazy_and_parallel_in_chunks():
    # the graph is built without computing; the first chunk's output does not wait for
    # anything but its own data, and the scan tasks are one per chunk
    tr = TRANSFERS["ar2"]
    x = da.from_array(RNG.standard_normal(1000), chunks=100)
    y = td.apply(tr, x)
    assert isinstance(y, da.Array) and y.chunks == x.chunks
    first = y[:100].compute(scheduler="sync")
    assert_same(first, tsconv.apply(tr, x[:100].compute()))


# ---------------------------------------------------------------------------------------
# Stream on Dask arrays
# ---------------------------------------------------------------------------------------
STREAM_OPS = {"centred-7": KERNELS["centred-7"], "lead": KERNELS["lead"], "delay": KERNELS["delay"],
              "long-fft": KERNELS["long-fft"], "ar2": TRANSFERS["ar2"], "gain": TRANSFERS["gain"]}


def _pushed(stream, x, cuts, wrap):
    return [stream.push(wrap(x[:, a:b])) for a, b in zip(cuts[:-1], cuts[1:])] + [stream.flush()]


@pytest.mark.parametrize("name", list(STREAM_OPS))
@pytest.mark.parametrize("missing", [False, True])
def test_stream_equals_apply_and_in_memory_stream(name, missing):
    op = STREAM_OPS[name]
    x = RNG.standard_normal((2, 4000))
    if missing:
        x[1, 100] = np.nan
    cuts = [0, 0, 1, 4, 130, 130, 131, 1700, 4000]  # empty pushes too (first and in the middle), as tsconv.Stream takes
    parts = _pushed(td.Stream(op), x, cuts, lambda a: da.from_array(a, chunks=(1, 97)))
    y = da.concatenate(parts, axis=-1).compute(scheduler="threads")
    assert_same(y, tsconv.apply(op, x))
    # outputs released at the same pushes as the in-memory Stream
    refs = _pushed(tsconv.Stream(op), x, cuts, lambda a: a)
    assert [p.shape for p in parts] == [r.shape for r in refs]
    assert_same(y, np.concatenate(refs, axis=-1))


def test_stream_raise_names_stream_index():
    s = td.Stream(KERNELS["causal-5"], nan_policy="raise")
    s.push(da.ones(10, chunks=4)).compute()
    x = np.ones(10)
    x[7] = np.nan
    with pytest.raises(ValueError, match="stream index 17"):
        s.push(da.from_array(x, chunks=4)).compute()
    with pytest.raises(ValueError, match="leading shape"):
        s.push(da.ones((2, 3)))


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------
def test_bad_input():
    x = da.ones(10, chunks=3)
    with pytest.raises(TypeError, match="dask.array"):
        td.apply(KERNELS["causal-5"], np.ones(10))
    with pytest.raises(TypeError, match="op must be"):
        td.apply([1.0, 2.0], x)
    with pytest.raises(TypeError, match="complex"):
        td.apply(KERNELS["causal-5"], x.astype(complex))
    with pytest.raises(TypeError, match="bool"):
        td.apply(KERNELS["causal-5"], x > 0)
    with pytest.raises(ValueError, match="mode must be one of"):
        td.apply(KERNELS["causal-5"], x, mode="circular")
    with pytest.raises(ValueError, match="only mode='same'"):
        td.apply(TRANSFERS["ar2"], x, mode="valid")
    with pytest.raises(ValueError, match="method must be 'auto' or 'recursive'"):
        td.apply(TRANSFERS["ar2"], x, method="fft")
    with pytest.raises(ValueError, match="sum to a non-zero value"):  # raised before computing
        td.apply(KERNELS["seasonal"], x, nan_policy="omit")
    with pytest.raises(ValueError, match="shorter than the kernel"):
        td.apply(KERNELS["long-fft"], x, mode="valid")
    with pytest.raises(ValueError, match="axis must be in"):
        td.apply(KERNELS["causal-5"], x, axis=1)
    with pytest.raises(ValueError, match="unknown|known chunk"):
        td.apply(KERNELS["causal-5"], x[x > 0])
    bad = np.ones((2, 10))
    bad[1, 6] = np.nan
    y = td.apply(KERNELS["causal-5"], da.from_array(bad, chunks=(1, 4)), nan_policy="raise")
    with pytest.raises(ValueError, match=r"index \(1, 6\)"):
        y.compute(scheduler="sync")
    # time on axis 0: the index in the caller's array, as tsconv.apply names it (it named
    # the transposed array's (6, 1))
    for op in (KERNELS["causal-5"], tsconv.ema(alpha=0.3)):
        with pytest.raises(ValueError, match=r"non-finite value nan at index \(6, 1\)") as mem:
            tsconv.apply(op, bad.T, axis=0, nan_policy="raise")
        y = td.apply(op, da.from_array(bad.T, chunks=(4, 1)), axis=0, nan_policy="raise")
        with pytest.raises(ValueError, match=str(mem.value).replace("(", r"\(").replace(")", r"\)")):
            y.compute(scheduler="sync")


def test_short_series_all_nan_like_in_memory():
    x = RNG.standard_normal(20)
    k = KERNELS["long-fft"]
    assert_same(td.apply(k, da.from_array(x, chunks=6)).compute(), tsconv.apply(k, x))


def test_plain_import_does_not_import_dask():
    import subprocess

    code = "import sys, tsconv; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------
# dask.distributed: 2 worker processes
# ---------------------------------------------------------------------------------------
def test_distributed_apply_equals_in_memory(client):
    x = RNG.standard_normal((4, 20_000))
    for op in [KERNELS["seasonal"], TRANSFERS["arma-seasonal"]]:
        y = client.compute(td.apply(op, da.from_array(x, chunks=(2, 1500)))).result()
        assert_same(y, tsconv.apply(op, x))
    # the default client (the one created last) is used by .compute()
    y = td.apply(TRANSFERS["ar2"], da.from_array(x, chunks=(4, 777))).compute()
    assert_same(y, tsconv.apply(TRANSFERS["ar2"], x))


def _slow_block(block):
    time.sleep(0.15)
    return block


def test_distributed_worker_lost_mid_computation(client):
    # kill one of our own two worker processes while a chunked IIR filter runs: the
    # scheduler recomputes what it held (every task is a pure function of its inputs)
    # and the answer is still the in-memory one
    x = RNG.standard_normal((2, 24_000))
    src = da.from_array(x, chunks=(2, 1000)).map_blocks(_slow_block, dtype=x.dtype)
    fut = client.compute(td.apply(TRANSFERS["ar2"], src))
    pids = client.run(os.getpid)
    deadline = time.time() + 20
    while time.time() < deadline:
        done = sum(1 for ts in client.cluster.scheduler.tasks.values() if ts.state == "memory")
        if done >= 6:
            break
        time.sleep(0.05)
    assert not fut.done()
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)
    y = fut.result(timeout=120)
    assert_same(y, tsconv.apply(TRANSFERS["ar2"], x))
    client.wait_for_workers(2, timeout=300)
    assert pids[victim] not in client.run(os.getpid).values()  # the worker really was replaced


# ---------------------------------------------------------------------------------------
# Catalog search: a Matcher sharded across workers
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    from tsconv.audio import Matcher
    from tsconv.audio._synth import synth_track

    tracks = {f"track-{i}": synth_track(8.0 + 2 * i, 8000, seed=100 + i) for i in range(4)}
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, 8000)
    path = tmp_path_factory.mktemp("catalog") / "cat.tsc"
    m.save(path)
    return m, tracks, str(path)


def _clips(tracks, n=2, seconds=2.0, snr_db=-5.0, seed=0):
    """Noisy clips at known offsets (and one from a track not in the catalog)."""
    from tsconv.audio._synth import synth_track

    rng = np.random.default_rng(seed)
    names = sorted(tracks)
    clips = []
    for i in range(n):
        name = names[i % len(names)]
        x = tracks[name]
        m = int(seconds * 8000)
        start = int(rng.integers(0, x.size - m))
        c = x[start : start + m].astype(np.float64)
        noise = rng.standard_normal(m) * np.std(c) * 10 ** (-snr_db / 20)
        clips.append((name, start, 0.3 * c + noise))
    clips.append((None, None, synth_track(2.0, 8000, seed=999).astype(np.float64)))
    return clips


def assert_same_matches(got, ref):
    """Same tracks in the same order; offsets, scores and probabilities equal to rounding
    (worker processes run BLAS with one thread: dot products may differ in the last bit)."""
    assert [g.track for g in got] == [r.track for r in ref]
    for g, r in zip(got, ref):
        assert g.offset_samples == pytest.approx(r.offset_samples, abs=1e-6)
        assert g.offset == pytest.approx(r.offset, abs=1e-9)
        assert g.score == pytest.approx(r.score, abs=1e-12)
        assert g.false_alarm_probability == pytest.approx(r.false_alarm_probability, rel=1e-8, abs=1e-300)


def _check_catalog(sm, m, tracks):
    for name, start, clip in _clips(tracks):
        ref = m.match(clip, 8000, top_k=3, max_false_alarm=1.0)
        got = sm.match(clip, 8000, top_k=3, max_false_alarm=1.0)
        assert_same_matches(got, ref)
        assert_same_matches(sm.find_all(clip, 8000), m.find_all(clip, 8000))
        if name is not None:  # a known answer: the track and offset the clip was cut at
            assert got[0].track == name and abs(got[0].offset_samples - start) < 1.0
        else:  # a clip from no catalog track: nothing passes the default false-alarm bar
            assert sm.match(clip, 8000) == m.match(clip, 8000) == []


def test_sharded_matcher_threads(catalog):
    m, tracks, _ = catalog
    sm = td.ShardedMatcher(m, client="threads", n_shards=3)
    assert sm.n_shards == 3 and sorted(sum(sm.shards, [])) == sorted(m.tracks)
    assert sm.duration == pytest.approx(m.duration) and sm.tracks == m.tracks
    assert sm.track_samples == m.track_samples and sm.search_lags == m.search_lags and len(sm) == len(m)
    _check_catalog(sm, m, tracks)
    _, _, clip = _clips(tracks, n=1)[0]
    np.testing.assert_array_equal(sm.trace(clip, 8000, "track-3"), m.trace(clip, 8000, "track-3"))
    with pytest.raises(ValueError, match="track must be"):
        sm.trace(clip, 8000, "nope")
    with pytest.raises(TypeError, match="read-only"):
        sm.subset(["track-0"])
    # silence: no match, as on one machine
    assert sm.match(np.zeros(8000), 8000) == m.match(np.zeros(8000), 8000) == []
    # a stereo clip at another sample rate goes through the same preparation
    _, _, clip = _clips(tracks, n=1)[0]
    stereo = np.stack([clip, clip], axis=1)
    assert_same_matches(sm.match(stereo, 8000), m.match(stereo, 8000))


def test_sharded_matcher_long_tracks_threads():
    # tracks long enough (>= 600 chunks of lags each) for the matcher's per-track null fit:
    # the shards' chunk counts must land on the right tracks of the catalog-wide scan
    from tsconv.audio import Matcher

    rng = np.random.default_rng(5)
    tracks = {}
    for i in range(3):
        a = rng.uniform(0.5, 0.95)
        x = scipy.signal.lfilter([1.0], [1.0, -a], rng.standard_normal(180 * 8000))
        tracks[f"long-{i}"] = (x * np.repeat(rng.uniform(0.2, 1.0, 720), 2000)).astype(np.float32)
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, 8000)
    sm = td.ShardedMatcher(m, client="threads", n_shards=2)
    for name, start, clip in _clips(tracks, n=2, snr_db=-10.0):
        assert_same_matches(sm.match(clip, 8000, top_k=3, max_false_alarm=1.0), m.match(clip, 8000, top_k=3, max_false_alarm=1.0))
        assert_same_matches(sm.find_all(clip, 8000), m.find_all(clip, 8000))


def test_sharded_matcher_distributed_from_memory_and_file(client, catalog):
    m, tracks, path = catalog
    for source in (m, path):
        sm = td.ShardedMatcher(source, client=client)
        assert sm.tracks == m.tracks
        assert sm.n_shards == 2
        # each shard lives on one worker, the two on different workers, and stays there
        where = client.who_has(sm._shards)
        assert sorted(len(w) for w in where.values()) == [1, 1]
        assert len({w[0] for w in where.values()}) == 2
        _check_catalog(sm, m, tracks)
        # queries took no shard away from its worker. Dask's work stealing may copy one to
        # an idle worker when the copy looks cheaper than waiting: this catalog's shards are a
        # few MB (it did, on distributed 2026.11, once queries scored a few more places)
        now = client.who_has(sm._shards)
        assert all(set(where[k]) <= set(now[k]) for k in where)
        # a shard built from the file maps its tracks and their stored index from it (the
        # worker holds no copy and builds no index)
        mapped = client.gather(client.map(
            lambda shard: all(isinstance(t.data, np.memmap) and isinstance(t.index.spectra, np.memmap)
                              and isinstance(t.energy, np.memmap) for t in shard._tracks), sm._shards))
        assert mapped == [source is path] * 2
        sm.close()


def test_sharded_matcher_default_client(client, catalog):
    # with a distributed client running, client=None uses it
    m, tracks, _ = catalog
    sm = td.ShardedMatcher(m)
    assert sm._client is client
    name, start, clip = _clips(tracks, n=1)[0]
    assert_same_matches(sm.match(clip, 8000), m.match(clip, 8000))
    sm.close()


def test_sharded_matcher_survives_a_lost_worker(client, catalog):
    # one worker killed under two catalogs: the shard built from the file is rebuilt by
    # Dask from its recipe; the one sent from the client's matcher is sent again
    m, tracks, path = catalog
    from_memory = td.ShardedMatcher(m, client=client)
    from_file = td.ShardedMatcher(path, client=client)
    name, start, clip = _clips(tracks, n=1)[0]
    ref = m.match(clip, 8000)
    pids = client.run(os.getpid)
    holder = client.who_has(from_memory._shards[0])[from_memory._shards[0].key][0]
    os.kill(pids[holder], signal.SIGKILL)
    for sm in (from_memory, from_file):
        assert_same_matches(sm.match(clip, 8000), ref)
    # the nanny restarts the killed worker (the `client` fixture gives the restart minutes:
    # see tests/conftest.py)
    client.wait_for_workers(2, timeout=300)
    for sm in (from_memory, from_file):
        assert_same_matches(sm.match(clip, 8000), ref)
        sm.close()


def test_sharded_matcher_bad_input(catalog, tmp_path):
    from tsconv.audio import CatalogError

    m, tracks, path = catalog
    with pytest.raises(TypeError, match="catalog must be"):
        td.ShardedMatcher(42, client="threads")
    with pytest.raises(TypeError, match="client must be"):
        td.ShardedMatcher(m, client="processes")
    with pytest.raises(ValueError, match="n_shards must be >= 1"):
        td.ShardedMatcher(m, client="threads", n_shards=0)
    foreign = tmp_path / "foreign.tsc"
    foreign.write_bytes(b"not a catalog at all")
    with pytest.raises(CatalogError):
        td.ShardedMatcher(str(foreign), client="threads")
    with pytest.raises(CatalogError):
        td.ShardedMatcher(str(tmp_path / "missing.tsc"), client="threads")
    import json
    import zipfile

    other = tmp_path / "other.zip"  # a ZIP with a manifest of another format
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "someone-else", "tracks": []}))
    with pytest.raises(CatalogError, match="not a tsconv catalog"):
        td.ShardedMatcher(str(other), client="threads")
    sm = td.ShardedMatcher(m, client="threads")
    with pytest.raises(TypeError, match="read-only"):
        sm.add("new", np.ones(8000), 8000)
    with pytest.raises(ValueError, match="speed"):
        sm.match(np.ones(8000), 8000, speed_range=0.01)
    with pytest.raises(ValueError, match="top_k"):
        sm.match(np.ones(8000), 8000, top_k=0)
    with pytest.raises(ValueError, match="max_false_alarm"):
        sm.match(np.ones(8000), 8000, max_false_alarm=0.0)
    with pytest.raises(ValueError, match="sr|sample rate"):
        sm.match(np.ones(8000), -1)


# ---------------------------------------------------------------------------------------
# Panels: fit, forecast and verify a long Dask DataFrame
# ---------------------------------------------------------------------------------------
def _ragged_panel(k=30, seed=1, dates=True):
    """AR(2)+MA(1) series of different lengths (ragged), in long format, ids unsorted."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in rng.permutation(k):
        n = int(rng.integers(40, 160))
        e = rng.standard_normal(n + 50)
        y = scipy.signal.lfilter([1.0, 0.4], [1.0, -0.5, 0.2], e)[50:] + 10.0 * (i % 3)
        ds = pd.date_range("2021-01-04", periods=n, freq="W-MON") if dates else np.arange(n) + 1000
        frames.append(pd.DataFrame({"unique_id": f"id{i:03d}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")


def _sorted(df, by):
    return df.sort_values(by).reset_index(drop=True)


@pytest.fixture
def local_shuffle():
    # with a distributed Client alive (the module's cluster), Dask builds p2p shuffles,
    # which only run on it; graphs meant for the local schedulers ask for task shuffles
    import dask

    with dask.config.set({"dataframe.shuffle.method": "tasks"}):
        yield


@pytest.mark.parametrize("method,tol", [("ols", 1e-12), ("css", 1e-8), ("css-ml", 1e-4)])
def test_panel_forecast_equals_in_memory(method, tol, local_shuffle):
    # ols is closed-form: equal to rounding. css with an MA term and ML iterate, and the
    # batched optimizer stops a batch as a whole, so a series' estimate moves with its
    # batch-mates within the optimizer's tolerance (measured: 1e-11 css, 1e-5 css-ml).
    pdf = _ragged_panel()
    order = (2, 0, 0) if method == "ols" else (2, 0, 1)
    trend = "c"
    ref = tsconv.fit_arima(pdf, order, trend=trend, method=method).forecast(6).to_frame()
    got = td.forecast(dd.from_pandas(pdf, npartitions=4), 6, order, trend=trend, method=method).compute(scheduler="threads")
    ref, got = _sorted(ref, ["unique_id", "ds"]), _sorted(got, ["unique_id", "ds"])
    assert got["unique_id"].tolist() == ref["unique_id"].tolist()
    assert got["ds"].tolist() == ref["ds"].tolist()
    for c in ["mean", "lo-95", "hi-95"]:
        np.testing.assert_allclose(got[c], ref[c], rtol=tol, atol=tol)


def test_panel_fit_equals_in_memory_and_index_partitioning(local_shuffle):
    pdf = _ragged_panel(dates=False)
    ref = tsconv.fit_arima(pdf, (1, 0, 1), trend="c", method="css").to_frame().sort_index()
    # a frame indexed by unique_id with known divisions (shuffled too: divisions do not
    # promise a series lies in one partition)
    indexed = dd.from_pandas(pdf, npartitions=3).set_index("unique_id")
    assert indexed.known_divisions
    for ddf in (dd.from_pandas(pdf, npartitions=5), indexed):
        got = td.fit_arima(ddf, (1, 0, 1), trend="c", method="css").compute(scheduler="sync").sort_index()
        assert got.index.tolist() == ref.index.tolist() and got.columns.tolist() == ref.columns.tolist()
        # css with an MA term iterates: a batch's stopping point moves estimates by ~1e-11
        np.testing.assert_allclose(got.to_numpy(dtype=float), ref.to_numpy(dtype=float), rtol=1e-8)


def test_panel_from_parquet_files_that_split_a_series(local_shuffle, tmp_path):
    # two files split by size: series b in both, read with divisions ('a', 'b', 'c')
    # that looked like a partitioning by series; b was fitted twice, on each half
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(3)
    pdf = pd.concat([pd.DataFrame({"unique_id": u, "ds": np.arange(200), "y": rng.standard_normal(200).cumsum() * 0.1})
                     for u in "abc"], ignore_index=True)
    pdf.iloc[:300].to_parquet(tmp_path / "part.0.parquet", index=False)
    pdf.iloc[300:].to_parquet(tmp_path / "part.1.parquet", index=False)
    panel = dd.read_parquet(str(tmp_path), index="unique_id", calculate_divisions=True)
    assert panel.known_divisions and panel.npartitions == 2
    got = td.fit_arima(panel, (1, 0, 0), trend="c", method="css").compute(scheduler="sync").sort_index()
    ref = tsconv.fit_arima(pdf, (1, 0, 0), trend="c", method="css").to_frame().sort_index()
    assert got.index.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(got.to_numpy(dtype=float), ref.to_numpy(dtype=float), rtol=1e-8)


def test_panel_refuses_regressor_columns_and_defaults_as_in_memory(local_shuffle):
    # other columns were dropped silently: in memory they are regressors
    pdf = _ragged_panel(k=6).assign(promo=1.0)
    with pytest.raises(ValueError, match=r"columns other than 'unique_id', 'ds' and 'y': \['promo'\]"):
        td.fit_arima(dd.from_pandas(pdf, npartitions=2), (1, 0, 0))
    with pytest.raises(ValueError, match="promo"):
        td.verify(dd.from_pandas(pdf, npartitions=2), 3, (1, 0, 0))
    # maxiter: the in-memory default (it was 200 against 100)
    import inspect

    want = inspect.signature(tsconv.fit_arima).parameters["maxiter"].default
    for f in (td.fit_arima, td.forecast, td.verify):
        assert inspect.signature(f).parameters["maxiter"].default == want


def test_panel_fit_of_a_long_lag_model(local_shuffle):
    # the output's columns come from a throwaway fit on 200-point probes, which refused a
    # model the user's 3,000-point series support ("needs at least 342, got 200 in row 0")
    rng = np.random.default_rng(0)
    pdf = pd.concat([pd.DataFrame({"unique_id": u, "ds": np.arange(3000), "y": rng.standard_normal(3000)}) for u in "ab"],
                    ignore_index=True)
    order = ([1, 24, 168, 336], 0, 0)
    got = td.fit_arima(dd.from_pandas(pdf, npartitions=2), order, method="css").compute(scheduler="sync").sort_index()
    ref = tsconv.fit_arima(pdf, order, method="css").to_frame().sort_index()
    assert got.columns.tolist() == ref.columns.tolist()
    np.testing.assert_allclose(got.to_numpy(dtype=float), ref.to_numpy(dtype=float), rtol=1e-8)


def test_panel_forecast_of_iso_string_dates_gives_dates(local_shuffle):
    # the forecast's ds were cast back to the input's string dtype ('2000-01-03 00:00:00',
    # the ISO "T" dropped); in memory they are Timestamps
    rng = np.random.default_rng(0)
    pdf = pd.DataFrame({"unique_id": "a", "y": rng.standard_normal(48),
                        "ds": pd.date_range("2000-01-01", periods=48, freq="h").strftime("%Y-%m-%dT%H:%M")})
    ref = tsconv.fit_arima(pdf, (1, 0, 0), method="css").forecast(2).to_frame()
    got = td.forecast(dd.from_pandas(pdf, npartitions=1), 2, (1, 0, 0), method="css").compute(scheduler="sync")
    assert pd.api.types.is_datetime64_any_dtype(got["ds"])
    assert got["ds"].tolist() == ref["ds"].tolist() == list(pd.date_range("2000-01-03", periods=2, freq="h"))


def test_panel_verify_with_a_categorical_unique_id(local_shuffle):
    # a partition without rows of some categories failed in pandas (length mismatch)
    pdf = _ragged_panel(k=9)
    pdf["unique_id"] = pdf["unique_id"].astype("category")
    got = td.verify(dd.from_pandas(pdf, npartitions=3), 4, (1, 0, 0), method="css").compute(scheduler="sync")
    ref = td.verify(dd.from_pandas(pdf.astype({"unique_id": str}), npartitions=3), 4, (1, 0, 0),
                    method="css").compute(scheduler="sync")
    got = got.astype({"unique_id": str}).set_index("unique_id").sort_index()
    pd.testing.assert_frame_equal(got, ref.set_index("unique_id").sort_index(), check_dtype=False, check_index_type=False)


def test_panel_series_never_split_across_partitions(local_shuffle):
    # rows of one series scattered over every input partition: the shuffle reunites them
    pdf = _ragged_panel(k=12).sample(frac=1.0, random_state=0)
    ddf = dd.from_pandas(pdf, npartitions=6, sort=False)
    got = td.fit_arima(ddf, (1, 0, 0), method="css").compute(scheduler="sync")
    assert got.index.is_unique and len(got) == 12
    ref = tsconv.fit_arima(pdf, (1, 0, 0), method="css").to_frame().sort_index()["ar.L1"].to_numpy()
    np.testing.assert_allclose(got.sort_index()["ar.L1"].to_numpy(), ref, rtol=1e-8)


def test_panel_verify_against_direct_holdout(local_shuffle):
    pdf = _ragged_panel(k=15)
    h = 5
    got = td.verify(dd.from_pandas(pdf, npartitions=3), h, (1, 0, 0), trend="c", method="css").compute()
    got = got.set_index("unique_id").sort_index()
    # the reference, spelled out: drop each series' last h points, fit, forecast, score
    pdf = pdf.sort_values(["unique_id", "ds"])
    train = pdf[pdf.groupby("unique_id").cumcount(ascending=False) >= h]
    test = pdf.groupby("unique_id").tail(h)
    fc = tsconv.fit_arima(train, (1, 0, 0), trend="c", method="css").forecast(h).to_frame()
    for uid in got.index:
        y = test.loc[test.unique_id == uid, "y"].to_numpy()
        f = fc[fc.unique_id == uid]
        e = y - f["mean"].to_numpy()
        row = got.loc[uid]
        assert row["n_train"] == (pdf.unique_id == uid).sum() - h
        assert row["mae"] == pytest.approx(np.mean(np.abs(e)), rel=1e-12)
        assert row["rmse"] == pytest.approx(np.sqrt(np.mean(e**2)), rel=1e-12)
        assert row["bias"] == pytest.approx(np.mean(e), rel=1e-12, abs=1e-12)
        inside = (f["lo-95"].to_numpy() <= y) & (y <= f["hi-95"].to_numpy())
        assert row["coverage"] == pytest.approx(inside.mean())


def test_panel_distributed_equals_in_memory(client):
    pdf = _ragged_panel(k=24)
    ref = _sorted(tsconv.fit_arima(pdf, (2, 0, 0), method="css").forecast(4).to_frame(), ["unique_id", "ds"])
    got = client.compute(td.forecast(dd.from_pandas(pdf, npartitions=4), 4, (2, 0, 0), method="css")).result()
    got = _sorted(got, ["unique_id", "ds"])
    assert got["unique_id"].tolist() == ref["unique_id"].tolist()
    np.testing.assert_allclose(got[["mean", "lo-95", "hi-95"]].to_numpy(), ref[["mean", "lo-95", "hi-95"]].to_numpy(), rtol=1e-8)


def test_panel_bad_input(local_shuffle):
    pdf = _ragged_panel(k=3)
    ddf = dd.from_pandas(pdf, npartitions=1)
    with pytest.raises(TypeError, match="dask.dataframe"):
        td.forecast(pdf, 3, (1, 0, 0))
    with pytest.raises(ValueError, match="missing \\['ds'\\]"):
        td.forecast(ddf[["unique_id", "y"]], 3, (1, 0, 0))
    with pytest.raises(TypeError, match="real numeric"):
        td.forecast(ddf.assign(y=ddf["unique_id"]), 3, (1, 0, 0))
    with pytest.raises(ValueError, match="h must be >= 1"):
        td.forecast(ddf, 0, (1, 0, 0))
    with pytest.raises(ValueError, match="level must be percentages"):
        td.forecast(ddf, 2, (1, 0, 0), level=0.95)
    with pytest.raises(TypeError, match=r"old keyword 'alpha'.*level=\(95,\)"):
        td.forecast(ddf, 2, (1, 0, 0), alpha=0.05)
    short = pd.DataFrame({"unique_id": ["a"] * 3, "ds": [1, 2, 3], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="no more than h=3"):
        td.verify(dd.from_pandas(short, npartitions=1), 3, (0, 0, 0), method="css").compute()


# ---------------------------------------------------------------------------------------
# The package: one module per concern, the matcher reached through its public API only
# ---------------------------------------------------------------------------------------
def test_import_tsconv_dask_does_not_import_the_audio_stack():
    import subprocess

    code = (
        "import sys, tsconv.dask; print(sorted(m for m in sys.modules if m.startswith(('tsconv.audio', 'soundfile'))));"
        "tsconv.dask.ShardedMatcher; print('tsconv.audio.matcher' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def test_sharded_matcher_uses_only_the_public_api_of_the_matcher():
    # no reflection, no private member of the matcher (or of any object but the
    # ShardedMatcher itself), no private name imported from the audio package
    import ast
    import pathlib

    pkg = pathlib.Path(td.__file__).parent
    files = sorted(pkg.glob("*.py"))
    assert {f.name for f in files} == {"__init__.py", "filtering.py", "panels.py", "audio.py"}
    for f in files:
        tree = ast.parse(f.read_text())
        own = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
               and isinstance(n.value, ast.Name) and n.value.id == "self"}
        own |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                assert "inspect" not in names, f.name
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tsconv.audio"):
                    assert not any(p.startswith("_") for p in node.module.split(".")), (f.name, node.module)
                    assert not any(a.name.startswith("_") for a in node.names), (f.name, node.module)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = node.value
                where = f"{f.name}:{node.lineno} .{node.attr}"
                assert isinstance(base, ast.Name) and base.id == "self" and node.attr in own, where
        if f.name == "audio.py":  # its own private state does not shadow the matcher's
            from tsconv.audio import Matcher

            mine = {a for a in own if a.startswith("_") and not a.startswith("__")}
            assert not mine & (set(vars(Matcher())) | set(dir(Matcher)))
