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


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="1GiB"
    )
    cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()


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
    cuts = [0, 1, 4, 130, 131, 1700, 4000]
    parts = _pushed(td.Stream(op), x, cuts, lambda a: da.from_array(a, chunks=(1, 97)))
    y = da.concatenate(parts, axis=-1).compute(scheduler="threads")
    assert_same(y, tsconv.apply(op, x))
    if not missing:
        # outputs released at the same pushes as the in-memory Stream (which, for a
        # delay, also flags a NaN at lags the kernel does not use: compared clean only)
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
    client.wait_for_workers(2, timeout=60)
    assert pids[victim] not in client.run(os.getpid).values()  # the worker really was replaced
