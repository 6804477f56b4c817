"""The apply engine, Stream and stochastic_apply against tests/naive.py, pandas and each other."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import naive
import tsconv
from tsconv import Kernel, Stream, Transfer, apply, choose_method, stochastic_apply
from tsconv import engine

METHODS = ["direct", "fft", "recursive", "auto"]
RNG = np.random.default_rng(20261127)


def origins_for(m: int) -> list[int]:
    """Causal, centred, anti-causal, a pure delay and a pure advance."""
    return sorted({0, (m - 1) // 2, m - 1, -2, m + 1})


def tol(dtype, coef, x, method) -> float:
    """Absolute tolerance: eps of the dtype times the size of the terms, more for FFTs."""
    eps = np.finfo(dtype).eps
    size = float(np.abs(coef).sum()) * float(np.nanmax(np.abs(np.where(np.isfinite(x), x, 0.0)), initial=1.0))
    return (200.0 if method in ("fft", "auto") else 20.0) * eps * max(size, 1.0)


def assert_matches(got, expected, atol):
    expected = np.asarray(expected, dtype=float)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(expected), rtol=0, atol=atol)


# ---------------------------------------------------------------------------------------
# every fast path against the double loop
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_paths_match_the_double_loop(method, dtype):
    for n in (1, 2, 5, 16, 61):
        x = RNG.normal(size=n).astype(dtype)
        for m in (1, 2, 3, 8, 25):
            coef = RNG.normal(size=m)
            for o in origins_for(m):
                k = Kernel(coef, origin=o)
                for mode in ("same", "valid", "full"):
                    if mode == "valid" and n < m:
                        continue
                    y = apply(k, x, mode=mode, method=method)
                    assert y.dtype == dtype, (n, m, o, mode)
                    expected = naive.convolve(x, coef.astype(dtype), o, mode)
                    assert_matches(y, expected, tol(dtype, coef, x, method))


def test_integers_become_float64_and_float16_float32():
    k = Kernel([0.5, 0.5])
    y = apply(k, np.arange(6, dtype=np.int32))
    assert y.dtype == np.float64
    assert_matches(y, naive.convolve(range(6), [0.5, 0.5]), 1e-15)
    assert apply(k, np.arange(6, dtype=np.uint8)).dtype == np.float64
    assert apply(k, np.arange(6, dtype=np.float16)).dtype == np.float32
    assert apply(k, [1, 2, 3]).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_overlap_save_blocks_and_batches_match_the_double_loop(monkeypatch, dtype):
    # tiny blocks and batches so that a short series crosses many of both, and edge
    # batches (zero padding on both sides) are exercised
    monkeypatch.setattr(engine, "MIN_BLOCK", 16)
    monkeypatch.setattr(engine, "BATCH_POINTS", 48)
    monkeypatch.setattr(engine, "SINGLE_FFT_MAX", 0)
    x = RNG.normal(size=(2, 157)).astype(dtype)
    for m in (1, 4, 9):
        coef = RNG.normal(size=m)
        for o in origins_for(m):
            for mode in ("same", "valid", "full"):
                y = apply(Kernel(coef, o), x, mode=mode, method="fft")
                for r in range(2):
                    assert_matches(y[r], naive.convolve(x[r], coef.astype(dtype), o, mode), tol(dtype, coef, x, "fft"))


def test_long_kernels_on_long_series_agree_with_numpy():
    # the real block sizes (several blocks of 2**14 for 3000 taps) against numpy.convolve
    x = RNG.normal(size=80_000)
    coef = scipy.signal.windows.gaussian(3001, 400.0)
    full = np.convolve(x, coef)
    for o in (0, 1500, 3000):
        y = apply(Kernel(coef, o), x, method="fft")
        expected = np.full(x.size, np.nan)
        expected[3000 - o : 80_000 - o] = full[3000:80_000]
        assert_matches(y, expected, 1e-12 * np.abs(coef).sum() * np.abs(x).max())
    np.testing.assert_allclose(apply(Kernel(coef), x, mode="full", method="fft"), full, atol=1e-10)


def test_one_method_agreement_over_all_modes_and_operators():
    x = RNG.normal(size=(3, 500))
    for k in (Kernel(RNG.normal(size=40), origin=7), Kernel(np.ones(5) / 5, 2), Kernel([1.0, -1.0]), Kernel([2.0], origin=-3)):
        for mode in ("same", "valid", "full"):
            ys = {m: apply(k, x, mode=mode, method=m) for m in METHODS}
            for m in METHODS[1:]:
                assert_matches(ys[m], ys["direct"], 1e-12 * np.abs(k.coef).sum() * np.abs(x).max())
    tr = Transfer([0.3, 0.2], [1.0, -0.5])
    np.testing.assert_array_equal(apply(tr, x, method="recursive"), apply(tr, x))
    # the FIR truncation of the Transfer agrees with the recursion (the tail < 1e-15)
    fir = tr.impulse_response(60)
    for method in ("direct", "fft"):
        np.testing.assert_allclose(apply(fir, x, method=method, mode="full")[:, :500], apply(tr, x), atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transfer_is_the_recursion(dtype):
    for num, den in (([1.0], [1.0, -0.9]), ([0.5, -0.2, 0.1], [2.0, -1.2, 0.5]), ([0.0, 1.0], [1.0]), ([1.0, 0.4], [1.0, 0.3, 0.1, -0.05])):
        x = RNG.normal(size=80).astype(dtype)
        y = apply(Transfer(num, den), x)
        assert y.dtype == dtype
        expected = naive.recursion(num, den, x)
        atol = 50 * np.finfo(dtype).eps * np.abs(expected).max()
        np.testing.assert_allclose(y, expected, atol=atol, rtol=0)


def test_exact_ema_matches_pandas_ewm_adjust_false():
    # pandas ewm(alpha, adjust=False) is y_t = (1-a) y_{t-1} + a x_t started at y_0 = x_0,
    # which is our Transfer([a], [1, a-1]) applied to x - x_0, plus x_0
    a, x = 0.2, RNG.normal(size=300)
    y = apply(Transfer([a], [1.0, a - 1.0]), x - x[0]) + x[0]
    np.testing.assert_allclose(y, pd.Series(x).ewm(alpha=a, adjust=False).mean().to_numpy(), atol=1e-13)


# ---------------------------------------------------------------------------------------
# hypothesis properties
# ---------------------------------------------------------------------------------------
small_coefs = st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=9)
series = st.lists(st.floats(-100.0, 100.0), min_size=1, max_size=60)


@given(small_coefs, st.integers(-3, 10), series, series, st.floats(-3, 3), st.floats(-3, 3), st.sampled_from(["same", "valid", "full"]))
def test_apply_is_linear(coef, origin, xs, ys, a, b, mode):
    n = min(len(xs), len(ys))
    if mode == "valid" and n < len(coef):
        return
    x, y = np.array(xs[:n]), np.array(ys[:n])
    k = Kernel(coef, origin)
    lhs = apply(k, a * x + b * y, mode=mode)
    rhs = a * apply(k, x, mode=mode) + b * apply(k, y, mode=mode)
    assert_matches(lhs, rhs, 1e-9 * (1 + np.abs(coef).sum() * 100 * 7))


@given(small_coefs, st.integers(-3, 10), st.integers(-5, 5), series)
def test_shift_delays_the_output(coef, origin, lag, xs):
    x = np.array(xs)
    k = Kernel(coef, origin)
    y = apply(k, x)
    ys = apply(k.shift(lag), x)
    # (B**lag h) x at t is (h x) at t - lag, wherever both windows are complete
    for t in range(x.size):
        if 0 <= t - lag < x.size and not np.isnan(ys[t]) and not np.isnan(y[t - lag]):
            assert ys[t] == pytest.approx(y[t - lag], abs=1e-9)
    assert_matches(ys, naive.convolve(x, coef, origin - lag), 1e-9 * (1 + np.abs(coef).sum() * 100))


@st.composite
def chunkings(draw, n):
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    return [0, *cuts, n]


@given(st.data(), st.sampled_from(["causal", "centred", "delay", "advance", "transfer"]), st.sampled_from([1, 2]))
def test_stream_chunks_equal_the_whole(data, kind, ndim):
    n = data.draw(st.integers(0, 40))
    x = RNG.normal(size=(3, n) if ndim == 2 else n)
    if data.draw(st.booleans()) and n:
        x[..., data.draw(st.integers(0, n - 1))] = data.draw(st.sampled_from([np.nan, np.inf]))
    m = data.draw(st.integers(1, 7))
    coef = RNG.normal(size=m)
    op = {
        "causal": Kernel(coef),
        "centred": Kernel(coef, origin=m // 2),
        "delay": Kernel(coef, origin=-2),
        "advance": Kernel(coef, origin=m + 1),
        "transfer": Transfer(coef, [1.0, -0.6]),
    }[kind]
    cuts = data.draw(chunkings(n))
    s = Stream(op)
    pieces = [s.push(x[..., a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
    pieces.append(s.flush())
    got = np.concatenate(pieces, axis=-1)
    if n == 0:
        assert got.shape[-1] == 0
        return
    whole = apply(op, x)
    assert_matches(got, whole, 1e-10 * (1 + np.abs(coef).sum()))
    if kind in ("causal", "delay", "transfer"):
        assert pieces[-1].shape[-1] == 0  # a causal operator owes nothing at the end


def test_stream_keeps_only_kernel_sized_state():
    s = Stream(Kernel(np.ones(5) / 5, origin=2))
    for _ in range(20):
        s.push(RNG.normal(size=1000))
    assert s._buf.shape[-1] == 4  # the last m - 1 samples: O(kernel) state


def test_stream_errors():
    with pytest.raises(ValueError, match="nan_policy must be one of 'propagate', 'raise', got 'omit'"):
        Stream(Kernel([1.0]), nan_policy="omit")
    s = Stream(Kernel([1.0, 1.0]), nan_policy="raise")
    s.push([1.0, 2.0])
    with pytest.raises(ValueError, match=r"chunk has a non-finite value at stream index 3 \(nan_policy='raise'\)"):
        s.push([3.0, np.nan])
    s = Stream(Kernel([1.0]))
    s.push(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"chunk must keep the leading shape \(2,\), got shape \(3, 3\)"):
        s.push(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="op must be a tsconv Kernel or Transfer, got list"):
        Stream([1.0])


# ---------------------------------------------------------------------------------------
# n-D input and pandas
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["same", "valid", "full"])
def test_nd_input_along_each_axis(mode):
    x = RNG.normal(size=(6, 7, 8))
    k = Kernel([0.2, 0.5, -0.3], origin=1)
    for axis in range(-3, 3):
        y = apply(k, x, axis=axis, mode=mode)
        moved = np.moveaxis(x, axis, -1)
        expected = np.array([naive.convolve(row, k.coef, 1, mode) for row in moved.reshape(-1, moved.shape[-1])])
        expected = np.moveaxis(expected.reshape(*moved.shape[:-1], -1), -1, axis)
        assert_matches(y, expected, 1e-12)
    tr = Transfer([1.0], [1.0, -0.5])
    np.testing.assert_allclose(apply(tr, x, axis=0), np.moveaxis(apply(tr, np.moveaxis(x, 0, -1)), -1, 0))
    # a non-contiguous view in, the same answer out
    assert_matches(apply(k, x[:, ::2, :], axis=1), apply(k, np.ascontiguousarray(x[:, ::2, :]), axis=1), 1e-15)


def test_pandas_series_in_series_out_on_the_same_index():
    idx = pd.date_range("2024-01-01", periods=40, freq="D")
    s = pd.Series(RNG.normal(size=40), index=idx, name="sales")
    w = 5
    sma = Kernel(np.ones(w) / w)
    # pin: a causal SMA is pandas rolling(w).mean(); the centred one rolling(center=True)
    y = apply(sma, s)
    assert isinstance(y, pd.Series) and y.index.equals(idx) and y.name == "sales"
    pd.testing.assert_series_equal(y, s.rolling(w).mean(), atol=1e-12, rtol=0)
    pd.testing.assert_series_equal(apply(Kernel(np.ones(w) / w, 2), s), s.rolling(w, center=True).mean(), atol=1e-12, rtol=0)
    # valid keeps the part of the index where the window is complete
    for o in (0, 2, 4, -1, 6):
        v = apply(Kernel(np.ones(w) / w, o), s, mode="valid")
        same = apply(Kernel(np.ones(w) / w, o), s).dropna()
        pd.testing.assert_series_equal(v, same)
    e = apply(Transfer([0.5], [1.0, -0.5]), s)
    assert e.index.equals(idx)


def test_pandas_dataframe_and_nullable_dtypes():
    df = pd.DataFrame({"a": RNG.normal(size=30), "b": RNG.normal(size=30)}, index=pd.RangeIndex(100, 130))
    k = Kernel([0.25, 0.5, 0.25], origin=1)
    y = apply(k, df)
    assert isinstance(y, pd.DataFrame) and y.index.equals(df.index) and list(y.columns) == ["a", "b"]
    np.testing.assert_allclose(y.to_numpy(), apply(k, df.to_numpy(), axis=0), equal_nan=True)
    v = apply(k, df, mode="valid")
    assert v.index.equals(df.index[1:-1])
    s = pd.Series([1.0, 2.0, None, 4.0, 5.0], dtype="Float64")
    y = apply(Kernel([0.5, 0.5]), s, nan_policy="omit")
    np.testing.assert_allclose(y.to_numpy(), naive.convolve_omit([1, 2, np.nan, 4, 5], [0.5, 0.5]))
    with pytest.raises(ValueError, match="leave axis at its default, got axis=1"):
        apply(k, df, axis=1)
    with pytest.raises(ValueError, match="mode='full' runs past the index"):
        apply(k, df, mode="full")
    with pytest.raises(TypeError, match="x must be real numeric, got dtype object"):
        apply(k, pd.Series(["a", "b", "c"]))


# ---------------------------------------------------------------------------------------
# missing values
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method", METHODS)
def test_propagate_makes_every_touched_window_nan(bad, method):
    x = RNG.normal(size=50)
    x[[3, 30, 31]] = bad
    for coef, o in (([0.3, 0.0, 0.7], 0), ([1.0, 2.0, 3.0, 4.0, 5.0], 2), ([1.0, -1.0], -2)):
        for mode in ("same", "valid", "full"):
            y = apply(Kernel(coef, o), x, mode=mode, method=method)
            assert_matches(y, naive.convolve(x, coef, o, mode), 1e-12 * 15 * 4)
    tr = Transfer([1.0], [1.0, -0.5])
    y = apply(tr, x)
    assert np.all(np.isfinite(y[:3])) and np.all(np.isnan(y[3:]))  # infinite memory


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_raise_names_the_first_non_finite_value(bad):
    x = np.arange(10.0)
    x[6] = bad
    with pytest.raises(ValueError, match=rf"x has a non-finite value {bad!r} at index 6 \(nan_policy='raise'\)"):
        apply(Kernel([1.0, 1.0]), x, nan_policy="raise")
    x2 = np.zeros((2, 3, 5))
    x2[1, 2, 4] = bad
    with pytest.raises(ValueError, match=r"at index \(1, 2, 4\)"):
        apply(Transfer([1.0], [1.0, -0.5]), x2, nan_policy="raise")
    assert np.isfinite(apply(Kernel([1.0, 1.0]), np.arange(10.0), nan_policy="raise")[1:]).all()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_omit_renormalizes_over_observed_values(method, dtype):
    x = RNG.normal(size=40).astype(dtype)
    x[[0, 7, 8, 9, 25]] = [np.nan, np.inf, np.nan, -np.inf, np.nan]
    for coef, o in (([1.0, 2.0, 1.0], 1), (np.ones(6) / 6, 0), ([0.5, 0.5], 3), ([1.0, 1.0, 1.0, -0.5], -1)):
        y = apply(Kernel(coef, o), x, nan_policy="omit", method=method)
        assert y.dtype == dtype
        assert_matches(y, naive.convolve_omit(x, np.asarray(coef, dtype=dtype), o), tol(dtype, coef, x, method) * 10)
        # valid / full: the windows that were complete but for missing values
        full = apply(Kernel(coef, o), x, nan_policy="omit", mode="full", method=method)
        valid = apply(Kernel(coef, o), x, nan_policy="omit", mode="valid", method=method)
        m = len(coef)
        np.testing.assert_allclose(valid, full[m - 1 : x.size], equal_nan=True, rtol=1e-10 if dtype == np.float64 else 1e-4)
    # nothing missing: the interior equals plain apply, and the edges are renormalized
    clean = RNG.normal(size=30)
    k = Kernel([1.0, 2.0, 1.0], origin=1)
    y = apply(k, clean, nan_policy="omit", method=method)
    np.testing.assert_allclose(y[1:-1], apply(k, clean)[1:-1])
    assert y[0] == pytest.approx(4.0 * (2 * clean[0] + clean[1]) / 3.0)
    # 'full' reaches outside the series too: its edges are renormalized with or without a
    # missing value inside (they were zero-padded when nothing was missing); the same as
    # 'valid' on the series padded with missing values
    yf = apply(k, clean, nan_policy="omit", mode="full", method=method)
    assert yf[0] == pytest.approx(4.0 * clean[0]) and yf[-1] == pytest.approx(4.0 * clean[-1])
    padded = np.r_[np.full(2, np.nan), clean, np.full(2, np.nan)]
    np.testing.assert_allclose(yf, apply(k, padded, nan_policy="omit", mode="valid", method=method), rtol=1e-10)


def test_omit_with_transfer_matches_renormalized_weights():
    x = RNG.normal(size=30)
    x[[4, 10]] = np.nan
    tr = Transfer([0.3], [1.0, -0.7])
    h = np.array(naive.recursion([0.3], [1.0, -0.7], [1.0] + [0.0] * 29))
    gain = 0.3 / 0.3
    expected = []
    for t in range(30):
        w = h[: t + 1][::-1]
        seg = x[: t + 1]
        ok = np.isfinite(seg)
        expected.append(gain * np.sum(w[ok] * seg[ok]) / np.sum(w[ok]))
    np.testing.assert_allclose(apply(tr, x, nan_policy="omit"), expected, atol=1e-12)


def test_omit_needs_a_kernel_with_non_zero_sum():
    with pytest.raises(ValueError, match=r"sum to a non-zero value, got sum 0.0"):
        apply(Kernel([1.0, -1.0]), np.arange(5.0), nan_policy="omit")
    with pytest.raises(ValueError, match=r"non-zero DC gain num\(1\)/den\(1\), got 0.0"):
        apply(Transfer([1.0, -1.0], [1.0, -0.5]), np.arange(5.0), nan_policy="omit")


def test_all_missing_window_is_nan_under_omit():
    x = np.array([1.0, np.nan, np.nan, np.nan, 5.0])
    y = apply(Kernel([0.5, 0.5]), x, nan_policy="omit")
    assert_matches(y, naive.convolve_omit(x, [0.5, 0.5]), 1e-15)
    assert np.isnan(y[2]) and np.isnan(y[3])


def test_screen_survives_overflowing_finite_values():
    x = np.array([1e200, -1e200, 3e200, 1.0])  # x . x overflows; no value is missing
    y = apply(Kernel([1.0, 1.0]), x, nan_policy="raise")
    np.testing.assert_allclose(y, naive.convolve(x, [1.0, 1.0]), equal_nan=True)


# ---------------------------------------------------------------------------------------
# stochastic_apply
# ---------------------------------------------------------------------------------------
def test_stochastic_apply_expectation_is_apply():
    # Monte Carlo: the mean of R independent draws is within 5 standard errors of the
    # expectation at every sample (CLT; per-sample failure odds ~6e-7)
    x = RNG.normal(size=(2, 120))
    k = Kernel([1.0, 3.0, 4.0, 2.0], origin=1).normalized()
    R = 400
    draws = np.stack([stochastic_apply(k, x, rng=seed) for seed in range(R)])
    mean = draws.mean(axis=0)
    expected = apply(k, x)
    second = apply(k, x**2)
    sd = np.sqrt(np.maximum(second - expected**2, 0.0))
    np.testing.assert_array_equal(np.isnan(mean), np.isnan(expected))
    ok = ~np.isnan(expected)
    assert np.all(np.abs(mean[ok] - expected[ok]) <= 5 * sd[ok] / np.sqrt(R) + 1e-12)
    # every draw is one of the window's values
    lags = k.lags
    for t in range(2, 119):  # the complete windows (lags -1..2)
        assert draws[0, 0, t] in x[0, t - lags]


def test_stochastic_apply_refuses_non_probability_kernels():
    with pytest.raises(ValueError, match=r"probability kernel .* got sum 2.0 and min 1.0"):
        stochastic_apply(Kernel([1.0, 1.0]), np.arange(4.0))
    with pytest.raises(ValueError, match=r"got sum 1.0 and min -0.5"):
        stochastic_apply(Kernel([1.5, -0.5]), np.arange(4.0))
    with pytest.raises(TypeError, match="kernel must be a tsconv Kernel, got Transfer"):
        stochastic_apply(Transfer([1.0], [1.0]), np.arange(4.0))


# ---------------------------------------------------------------------------------------
# bad input: each error names the parameter and what it got
# ---------------------------------------------------------------------------------------
K = Kernel([0.5, 0.5])


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: apply(K, []), ValueError, r"x must not be empty, got shape \(0,\)"),
        (lambda: apply(K, np.zeros((3, 0))), ValueError, r"x must not be empty, got shape \(3, 0\)"),
        (lambda: apply(K, np.zeros((0, 3)), axis=0), ValueError, r"x must not be empty, got shape \(0, 3\)"),
        (lambda: apply(Kernel(np.ones(5)), np.ones(3), mode="valid"), ValueError, r"x \(length 3\) is shorter than the kernel \(5 taps\) in mode='valid'"),
        (lambda: apply(K, ["a", "b"]), TypeError, r"x must be real numeric, got dtype <U1"),
        (lambda: apply(K, "abc"), TypeError, r"x must be a real numeric array, got 'abc'"),
        (lambda: apply(K, np.ones(3) + 1j), TypeError, r"x must be real, got complex dtype complex128"),
        (lambda: apply(K, np.ones(3, dtype=bool)), TypeError, r"x must be real numeric, got dtype bool"),
        (lambda: apply(K, np.array([1, None])), TypeError, r"x must be real numeric, got dtype object"),
        (lambda: apply(K, 3.0), ValueError, r"x must have at least one dimension, got a scalar 3.0"),
        (lambda: apply(K, np.ones(4), axis=1), ValueError, r"axis must be in \[-1, 0\] for 1-D input, got 1"),
        (lambda: apply(K, np.ones((2, 4)), axis=-3), ValueError, r"axis must be in \[-2, 1\] for 2-D input, got -3"),
        (lambda: apply(K, np.ones(4), axis=0.5), TypeError, r"axis must be an integer, got 0.5"),
        (lambda: apply(K, np.ones(4), mode="middle"), ValueError, r"mode must be one of 'same', 'valid', 'full', got 'middle'"),
        (lambda: apply(K, np.ones(4), mode=None), ValueError, r"mode must be one of .*, got None"),
        (lambda: apply(K, np.ones(4), method="fast"), ValueError, r"method must be one of 'auto', 'direct', 'fft', 'recursive', got 'fast'"),
        (lambda: apply(K, np.ones(4), nan_policy="drop"), ValueError, r"nan_policy must be one of 'propagate', 'raise', 'omit', got 'drop'"),
        (lambda: apply([0.5, 0.5], np.ones(4)), TypeError, r"op must be a tsconv Kernel or Transfer, got list"),
        (lambda: apply(Transfer([1.0], [1.0, -0.5]), np.ones(4), mode="valid"), ValueError, r"supports only mode='same', got mode='valid'"),
        (lambda: apply(Transfer([1.0], [1.0, -0.5]), np.ones(4), method="fft"), ValueError, r"method must be 'auto' or 'recursive', got method='fft'"),
        (lambda: Kernel([np.nan, 1.0]), ValueError, r"coef must be finite, got nan at index 0"),
        (lambda: Kernel([]), ValueError, r"coef must not be empty"),
        (lambda: Kernel([0.0, 1.0]).inverse(4), ValueError, r"coef\[0\] = 0.0"),
        (lambda: choose_method("k", 10), TypeError, r"op must be a tsconv Kernel or Transfer, got str"),
    ],
)
def test_bad_input_is_refused_with_a_named_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_series_shorter_than_the_kernel_in_same_mode_is_all_nan():
    y = apply(Kernel(np.ones(5)), np.ones(3))
    assert y.shape == (3,) and np.isnan(y).all()
    assert apply(Kernel(np.ones(5)), np.ones(3), mode="full").tolist() == [1, 2, 3, 3, 3, 2, 1]


def test_choose_method_uses_the_cost_model():
    assert choose_method(Transfer([1.0], [1.0, -0.5]), 10) == "recursive"
    assert choose_method(Kernel(np.ones(5)), 10**6) == "direct"
    assert choose_method(Kernel(np.ones(3000)), 10**3) == "fft"  # past MAX_DIRECT, always
    assert choose_method(Kernel(np.ones(1001)), 10**6) == "fft"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_threaded_segments_of_the_recursion_match_the_loop(monkeypatch, dtype):
    # tiny segments so that short series take the threaded path: zero-state segments
    # plus the carried zero-input response must equal the sequential recursion (segments
    # however slowly the response dies out: the integrator too)
    monkeypatch.setattr(engine, "RECURSIVE_MIN_SEGMENT", 7)
    monkeypatch.setattr(engine, "RECURSIVE_MAX_SETTLE", np.inf)
    monkeypatch.setattr(engine, "RECURSIVE_WORKERS", 3)
    # every order runs through lfilter with the carried state; a lead other than 1 is
    # normalized away
    for num, den in (([0.3], [1.0, -0.7]), ([0.5, 0.2, -0.1], [1.0, -1.2, 0.5]), ([1.0], [1.0, -1.0]), ([2.0, 1.0], [1.0]),
                     ([1.0], [1.0, 0.0, 0.0, -0.9]), ([0.5, 0.2], [2.0, -0.6])):
        x = RNG.normal(size=50).astype(dtype)
        expected = np.array(naive.recursion(num, den, x))
        atol = 100 * np.finfo(dtype).eps * (1 + np.abs(expected).max())
        np.testing.assert_allclose(apply(Transfer(num, den), x), expected, atol=atol, rtol=0)
        # rows split across threads too
        x2 = RNG.normal(size=(5, 20)).astype(dtype)
        for row, y in zip(x2, apply(Transfer(num, den), x2)):
            np.testing.assert_allclose(y, naive.recursion(num, den, row), atol=atol * 10, rtol=0)
    x = RNG.normal(size=60)
    x[33] = np.nan  # a missing value poisons every later output, across segments
    y = apply(Transfer([0.3], [1.0, -0.7]), x)
    assert np.isfinite(y[:33]).all() and np.isnan(y[33:]).all()


def test_screen_on_a_second_thread_keeps_every_nan_policy_exact(monkeypatch):
    # long single series with a short direct kernel: the finite-value screen runs beside
    # the convolution, and a series holding a non-finite value is redone with its mask
    monkeypatch.setattr(engine, "CONCURRENT_SCREEN_MIN", 8)
    monkeypatch.setattr(engine, "PARALLEL_WORKERS", 2)
    coef = RNG.normal(size=4)
    for bad in (None, np.nan, np.inf, -np.inf):
        x = RNG.normal(size=40)
        if bad is not None:
            x[17] = bad
        for o in (0, 2, 5):
            for mode in ("same", "valid", "full"):
                y = apply(Kernel(coef, o), x, mode=mode, method="direct")
                assert_matches(y, naive.convolve(x, coef, o, mode), 1e-12 * (1 + np.abs(coef).sum() * 4))
        if bad is None:
            assert np.isfinite(apply(Kernel(coef), x, nan_policy="raise", method="direct")[3:]).all()
        else:
            with pytest.raises(ValueError, match="index 17"):
                apply(Kernel(coef), x, nan_policy="raise", method="direct")


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_fir_work_cut_into_threaded_pieces_matches_the_loop(monkeypatch, method):
    monkeypatch.setattr(engine, "PARALLEL_MIN_OUTPUTS", 5)
    monkeypatch.setattr(engine, "PARALLEL_WORKERS", 3)
    monkeypatch.setattr(engine, "PARALLEL_MIN_DIRECT_TAPS", 1)
    monkeypatch.setattr(engine, "MIN_BLOCK", 16)
    monkeypatch.setattr(engine, "BATCH_POINTS", 48)
    monkeypatch.setattr(engine, "SINGLE_FFT_MAX", 0)
    for shape in ((70,), (2, 70), (5, 40)):
        x = RNG.normal(size=shape)
        rows = x.reshape(-1, shape[-1])
        for m, o in ((1, 0), (4, 0), (7, 3), (3, -2), (3, 5)):
            coef = RNG.normal(size=m)
            for mode in ("same", "valid", "full"):
                y = apply(Kernel(coef, o), x, mode=mode, method=method).reshape(rows.shape[0], -1)
                for r, row in enumerate(rows):
                    assert_matches(y[r], naive.convolve(row, coef, o, mode), 1e-12 * (1 + np.abs(coef).sum() * 4))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_threaded_paths_work_in_a_forked_child(monkeypatch):
    # a forked child inherits the parent's pool object but none of its threads
    monkeypatch.setattr(engine, "RECURSIVE_MIN_SEGMENT", 7)
    monkeypatch.setattr(engine, "RECURSIVE_MAX_SETTLE", np.inf)
    monkeypatch.setattr(engine, "RECURSIVE_WORKERS", 2)
    x = RNG.normal(size=40)
    tr = Transfer([0.3], [1.0, -0.7])
    parent = apply(tr, x)  # the pool now exists
    pid = os.fork()
    if pid == 0:  # child: must finish (not hang) with the same answer
        signal.alarm(30)  # a hang (the old behaviour) kills the child: non-zero status
        ok = np.allclose(apply(tr, x), parent)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


# ---------------------------------------------------------------------------------------
# Threads at the sizes users run: workers=, the segmented recursion, the FIR pieces
# ---------------------------------------------------------------------------------------
# Long enough for the recursion to run in segments (>= 2 * RECURSIVE_MIN_SEGMENT samples)
# and for FIR work to be cut into pieces (>= 2 * PARALLEL_MIN_OUTPUTS outputs).
LONG = 2 * engine.RECURSIVE_MIN_SEGMENT + 12345


@pytest.mark.parametrize(
    "op",
    [
        Transfer([0.1], [1.0, -0.9]),  # an EMA: order 1
        Transfer([1.0, 0.4], [1.0, -0.5, 0.1, 0.2]),  # order 3
        Kernel(np.hanning(103)[1:-1], origin=50),  # overlap-save pieces
        Kernel(np.hanning(3003)[1:-1], origin=100),
        Kernel([0.2, 0.5, 0.3], origin=1),  # direct
    ],
    ids=["ema", "arma", "fft101", "fft3001", "direct3"],
)
def test_workers_give_the_same_bits_at_real_size(monkeypatch, op):
    # the work is cut by the data's size alone, so any number of threads gives the same
    # bits (a long recursion on threads runs in segments: to rounding of the plain one,
    # which workers=1 runs); and the answer is scipy's to rounding
    monkeypatch.setattr(engine, "RECURSIVE_WORKERS", 2)  # workers=None: threads, on any machine
    monkeypatch.setattr(engine, "PARALLEL_WORKERS", 2)
    x = RNG.standard_normal(LONG)
    threaded = apply(op, x, workers=2)
    for workers in (3, -1, None):
        np.testing.assert_array_equal(apply(op, x, workers=workers), threaded)
    one = apply(op, x, workers=1)
    if isinstance(op, Transfer):
        ref = scipy.signal.lfilter(op.num.coef, op.den.coef, x)
        np.testing.assert_array_equal(one, ref)  # the plain recursion
    else:
        ref = np.full(x.size, np.nan)
        full = scipy.signal.oaconvolve(x, op.coef)
        m, o = len(op), op.origin
        ref[m - 1 - o : x.size - o] = full[m - 1 : x.size]
        np.testing.assert_array_equal(one, threaded)
    np.testing.assert_allclose(threaded, ref, rtol=0, atol=1e-12 * np.nanmax(np.abs(ref)))
    rows = RNG.standard_normal((3, LONG // 2)).astype(np.float32)  # many series, float32
    np.testing.assert_array_equal(apply(op, rows, workers=2), apply(op, rows, workers=1))


def _resonance(r, theta):
    """A resonant pair of poles at ``r exp(+-i theta)`` (lfilter sign)."""
    return [1.0, -2.0 * r * np.cos(theta), r * r]


@pytest.mark.parametrize(
    ("den", "rows", "tol"),
    [([1.0, -0.998], 1, 1e-13), ([1.0, -0.998], 2, 1e-13), (_resonance(0.999, 0.05), 1, 1e-12)],
    ids=["pole-0.998", "pole-0.998-two-rows", "resonance-0.999"],
)
def test_segmented_recursion_carries_a_slow_pole_exactly(den, rows, tol):
    # the naive twin: one plain lfilter pass on one thread. A pole at 0.998 on 4M samples:
    # the state carried into each segment decays over ~20,000 samples; its zero-input
    # response is added until it is tsconv._recursion.SETTLE (1e-18) of where it started.
    # Stopping at 1e-6 instead (the mutant, made by hand) leaves an error of 3.8e-12 of
    # the output's scale, against 1.0e-15, which this test catches. A resonant pair at
    # radius 0.999 decays over ~41,000 samples and rings: 6e-14 of the scale measured
    # (the two recursions' rounding), 2.8e-6 with the mutant.
    assert engine._segments(np.ones(1), np.asarray(den), 1 << 22) > 0  # the segmented path
    x = np.random.default_rng(1).standard_normal((rows, 1 << 22))
    ref = scipy.signal.lfilter([1.0], den, x, axis=-1)
    for workers in (2, 3):
        y = apply(Transfer([1.0], den), x if rows > 1 else x[0], workers=workers)
        assert np.max(np.abs(y - (ref if rows > 1 else ref[0]))) <= tol * np.max(np.abs(ref))


@pytest.mark.parametrize(
    "den",
    [[1.0, -1.0], _resonance(0.9999, 0.3), np.r_[1.0, np.zeros(99), -0.5]],
    ids=["integrator", "resonance-0.9999", "order-100"],
)
def test_recursion_without_payoff_runs_plain_on_threads(den):
    # an integrator's zero-input response never dies out, a resonance at 0.9999 takes
    # ~400,000 samples, and order 100 makes the scan's matrix powers dear: segments would
    # run each sample twice, so the plain recursion runs whatever the workers
    den = np.asarray(den)
    assert engine._segments(np.ones(1), den, LONG) == 0
    assert engine._segments(np.ones(1), np.array([1.0, -0.9]), LONG) > 0  # an EMA is cut
    x = RNG.standard_normal(LONG)
    np.testing.assert_array_equal(apply(Transfer([1.0], den), x, workers=2), scipy.signal.lfilter([1.0], den, x))


def test_lfilter_releases_the_gil():
    # The engine's threads (segments of a long recursion, rows) rely on scipy.signal.lfilter
    # releasing the GIL in its loop; .ci/run runs this on the floor (scipy 1.11.4) too.
    # Observable without timing a speed-up: while another thread is inside lfilter, this
    # thread keeps running Python. Were the GIL held, this thread would stall for the whole
    # call (its longest pause about the call's duration); released, its pauses are the
    # scheduler's. A held GIL fails every attempt; a loaded machine may spoil one.
    x = np.random.default_rng(0).standard_normal(1 << 24)
    seen = []
    for _attempt in range(3):
        done = threading.Event()
        took = []

        def work():
            t0 = time.perf_counter()
            scipy.signal.lfilter([1.0], [1.0, -0.5], x)
            took.append(time.perf_counter() - t0)
            done.set()

        worker = threading.Thread(target=work)
        last = time.perf_counter()
        longest = 0.0
        worker.start()
        while not done.is_set():
            now = time.perf_counter()
            longest, last = max(longest, now - last), now
        worker.join()
        seen.append((longest, took[0]))
        if longest < 0.5 * took[0]:
            return
    pytest.fail(f"this thread stalled while lfilter ran on another (longest pause, call) = {seen} s")


@pytest.mark.parametrize(
    ("workers", "exc", "match"),
    [(0, ValueError, "workers must be >= 1"), (-10_000, ValueError, "got -10000"), (1.5, TypeError, "workers must be an integer"),
     (True, TypeError, "got True"), ("2", TypeError, "workers")],
)
def test_bad_workers(workers, exc, match):
    with pytest.raises(exc, match=match):
        apply(Kernel([0.5, 0.5]), np.ones(10), workers=workers)


def test_workers_reaches_pandas_input_and_leaves_no_trace():
    s = pd.Series(RNG.standard_normal(50))
    pd.testing.assert_series_equal(apply(Transfer([0.1], [1.0, -0.9]), s, workers=1), apply(Transfer([0.1], [1.0, -0.9]), s))
    assert engine._WORKERS.get() is None
    with pytest.raises(ValueError):
        apply(Kernel([0.5, 0.5]), np.array([1.0, np.nan]), nan_policy="raise", workers=1)
    assert engine._WORKERS.get() is None  # reset after an error too


@pytest.mark.parametrize("bad", [None, np.nan, np.inf])
def test_concurrent_screen_at_the_size_it_runs(bad):
    # from CONCURRENT_SCREEN_MIN samples (512K) a short direct kernel convolves while a
    # second thread screens the series for non-finite values; a series holding one is
    # redone with its mask. Compared with numpy's convolution, NaN windows marked by hand.
    n = engine.CONCURRENT_SCREEN_MIN + 1001
    x = RNG.standard_normal(n)
    at = n - 5000
    if bad is not None:
        x[at] = bad
    coef = np.array([0.1, 0.2, 0.4, 0.3])
    y = apply(Kernel(coef, origin=1), x, workers=2)
    ref = np.full(n, np.nan)
    ref[2 : n - 1] = np.convolve(np.nan_to_num(x, nan=0.0, posinf=0.0), coef, "valid")  # y[t] = full[t + 1]
    if bad is not None:
        ref[at - 1 : at + 3] = np.nan  # the windows x[t - 2 .. t + 1] that hold x[at]
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)
    assert np.array_equal(np.isnan(y), np.isnan(ref))
    if bad is not None:
        with pytest.raises(ValueError, match=f"index {at}"):
            apply(Kernel(coef, origin=1), x, nan_policy="raise", workers=2)


@pytest.mark.parametrize("method", METHODS)
def test_zero_taps_do_not_read_their_samples(method):
    # delta(k) and seasonal_difference read two samples, as pandas' shift and diff do
    # (one NaN blanks two outputs of sdiff(12), not thirteen); the naive double loop agrees
    s = pd.Series(RNG.normal(size=60))
    s[[5, 30, 31]] = np.nan
    for k in (1, 2, 12):
        pd.testing.assert_series_equal(apply(tsconv.delta(k), s, method=method), s.shift(k), rtol=1e-12)
        pd.testing.assert_series_equal(apply(tsconv.seasonal_difference(k), s, method=method), s.diff(k), rtol=1e-12)
    x = s.to_numpy()
    for coef, o in (([0.0, 1.0, 0.0, 0.0, -2.0, 0.5], 2), ([1.0, 0.0, 0.0, 1.0], 0), ([0.0, 0.0, 3.0], -1)):
        for mode in ("same", "valid", "full"):
            assert_matches(apply(Kernel(coef, o), x, mode=mode, method=method), naive.convolve(x, coef, o, mode), 1e-12 * 60)


def test_raise_names_the_caller_s_index_on_any_axis():
    x = np.zeros((5, 3))
    x[4, 1] = np.nan
    for axis in (0, -2):
        with pytest.raises(ValueError, match=r"at index \(4, 1\)"):
            apply(Kernel([1.0, 1.0]), x, axis=axis, nan_policy="raise")
    y = np.zeros((2, 5, 3))
    y[1, 4, 2] = np.inf
    for op in (Kernel([1.0, 1.0]), Transfer([1.0], [1.0, -0.5])):
        with pytest.raises(ValueError, match=r"at index \(1, 4, 2\)"):
            apply(op, y, axis=1, nan_policy="raise")
    frame = pd.DataFrame(x, columns=list("abc"), index=pd.date_range("2000-01-01", periods=5))
    with pytest.raises(ValueError, match=r"index label Timestamp\('2000-01-05 00:00:00'\), column 'b'"):
        apply(Kernel([1.0, 1.0]), frame, nan_policy="raise")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_omit_ema_holds_its_value_over_long_gaps_as_pandas_does(dtype):
    # a gap decays num and den alike: the output keeps its last value (pandas ewm); a cut-off
    # on den alone had made it NaN after ~40 missing values at span 3, after one at alpha=1
    for x in (np.r_[1.0, 2.0, 3.0, [np.nan] * 40, 4.0], np.r_[np.nan, 1.0, [np.nan] * 2000, 5.0], np.r_[1.0, np.nan, 3.0]):
        s = pd.Series(x)
        for kw in ({"span": 3}, {"span": 10}, {"alpha": 0.9}, {"alpha": 1.0}):
            got = apply(tsconv.ema(**kw), s.astype(dtype), nan_policy="omit")
            want = s.ewm(**kw).mean()
            np.testing.assert_allclose(got, want, rtol=1e-12 if dtype == np.float64 else 1e-6)
            assert (np.isnan(got) == np.isnan(want)).all()


@pytest.mark.parametrize(("dtype", "alpha", "gap"), [(np.float32, 0.3, 300), (np.float32, 0.9, 45),
                                                    (np.float64, 0.999, 300), (np.float64, 0.9, 320)])
def test_omit_ema_holds_its_value_where_num_and_den_are_subnormal(dtype, alpha, gap):
    # gaps where num and den decay into subnormal floats (not yet 0): their ratio drifted
    # (float32, alpha 0.3: 1.0 to 37.0 between readings of 20 and 21; float64 went above
    # every observation)
    s = pd.Series(np.r_[20.0, 21.0, np.full(gap, np.nan), 22.0, np.full(gap, np.nan)])
    got = apply(tsconv.ema(alpha=alpha), s.astype(dtype), nan_policy="omit")
    want = s.ewm(alpha=alpha).mean()
    np.testing.assert_allclose(got, want, rtol=1e-12 if dtype == np.float64 else 1e-6)
    assert got.iloc[2 : gap + 2].nunique() == 1  # the value of the last reading, held


def test_sparse_kernels_are_summed_over_their_nonzero_taps():
    # the direct sum of a sparse kernel reads one shifted copy of the series per nonzero
    # tap: the double loop's answer in every mode, origin and row layout
    rng = np.random.default_rng(11)
    for _ in range(150):
        m = int(rng.integers(8, 60))
        c = np.zeros(m)
        taps = rng.choice(m, size=int(rng.integers(1, m // 4 + 1)), replace=False)
        c[taps] = rng.normal(size=taps.size)
        o, n = int(rng.integers(-3, m + 3)), int(rng.integers(1, 80))
        x = rng.normal(size=n)
        if rng.random() < 0.3:
            x[rng.integers(0, n)] = np.nan
        assert engine._sparse_taps(c) is not None
        for mode in ("same", "valid", "full"):
            if mode == "valid" and n < m:
                continue
            y = apply(Kernel(c, o), np.vstack([x, x[::-1]]), mode=mode, method="direct")
            assert_matches(y[0], naive.convolve(x, c, o, mode), 1e-12)
            assert_matches(y[1], naive.convolve(x[::-1], c, o, mode), 1e-12)
            assert_matches(apply(Kernel(c, o), x, mode=mode, method="direct"), naive.convolve(x, c, o, mode), 1e-12)


def test_seasonal_difference_is_exact_and_direct():
    # two taps: auto sums them directly, so x[t] - x[t - s] is one exact subtraction, as
    # pandas' diff; the FFT path rounded at the data's magnitude (1e-6 at 1e9)
    s = pd.Series(1e9 + np.random.default_rng(12).normal(size=5000).cumsum())
    k = tsconv.seasonal_difference(365)
    assert choose_method(k, s.size) == "direct"
    pd.testing.assert_series_equal(apply(k, s), s.diff(365), rtol=0, atol=0)
