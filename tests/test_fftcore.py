"""The overlap-save core (tsconv._fftcore) against tests/naive.py, numpy and scipy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

import naive
from tsconv._fftcore import BlockSpectra, OverlapSave, block_view, convolve_full, convolve_single_into, low_band_spectrum, pow2_block

RNG = np.random.default_rng(15)


def _full_padded(x, h, j0, j1):
    """``full[j0:j1]`` of ``numpy.convolve(x, h)``, zero outside ``0 .. n + m - 2``."""
    full = np.convolve(x, h)
    out = np.zeros(j1 - j0)
    lo, hi = max(j0, 0), min(j1, full.size)
    if hi > lo:
        out[lo - j0 : hi - j0] = full[lo:hi]
    return out


def test_convolution_blocks_equal_naive_convolution():
    x, h = RNG.standard_normal(200), RNG.standard_normal(13)
    ref = np.array(naive.convolve(x, h, mode="full"))
    for f in (13, 16, 29, 64, 256):  # one output per block up to a single block
        out = np.empty((1, ref.size))
        OverlapSave(h, f).into(x[None, :], 0, ref.size, out, batch_points=100)
        np.testing.assert_allclose(out[0], ref, rtol=0, atol=1e-12)


def test_correlation_blocks_equal_naive_xcorr():
    x, q = RNG.standard_normal(150), RNG.standard_normal(11)
    lags, vals = naive.xcorr_lags(x.tolist(), q.tolist())
    for f in (11, 32, 100):
        plan = OverlapSave(q, f, correlate=True)
        out = np.empty((1, len(lags)))
        plan.into(x[None, :], lags[0], lags[-1] + 1, out, batch_points=64)
        np.testing.assert_allclose(out[0], vals, rtol=0, atol=1e-12)


def test_rows_and_ranges_outside_the_support_are_zero_filled():
    x, h = RNG.standard_normal((3, 90)), RNG.standard_normal(7)
    plan = OverlapSave(h, 16)
    out = np.full((3, 130), np.nan)
    plan.into(x, -20, 110, out, batch_points=48)
    for r in range(3):
        np.testing.assert_allclose(out[r], _full_padded(x[r], h, -20, 110), rtol=0, atol=1e-12)


def test_pieces_on_the_block_grid_give_the_same_bits():
    # the engine cuts an output range between threads on the block grid j0 + b * step
    x, h = RNG.standard_normal((1, 5000)), RNG.standard_normal(100)
    plan = OverlapSave(h, 256)
    one = np.empty((1, 5099))
    plan.into(x, 0, 5099, one, batch_points=1024)
    parts = np.empty((1, 5099))
    edges = [0, 3 * plan.step, 11 * plan.step, 5099]
    for a, b in zip(edges[:-1], edges[1:]):
        plan.into(x, a, b, parts[:, a:b], batch_points=1024)
    assert np.array_equal(one, parts)


def test_single_transform_equals_numpy_convolve():
    x, c = RNG.standard_normal((4, 300)), RNG.standard_normal(25)
    out = np.empty((4, 330))
    # outputs -3 .. 326 need the samples x[0:300]
    convolve_single_into(x, c, 0, 300, -3, 327, out, batch_points=700)
    for r in range(4):
        np.testing.assert_allclose(out[r], _full_padded(x[r], c, -3, 327), rtol=0, atol=1e-12)
    empty = np.full((4, 5), np.nan)
    convolve_single_into(x, c, 10, 10, 0, 5, empty, batch_points=700)
    assert not empty.any()


def test_convolve_full_equals_numpy_and_scipy_oaconvolve():
    # the matcher's whitening FIR (257 taps) on a signal of many blocks, and a short one
    for n in (100, 70_000):
        x, c = RNG.standard_normal(n), RNG.standard_normal(257)
        got = convolve_full(x, c)
        np.testing.assert_allclose(got, np.convolve(x, c), rtol=0, atol=1e-11)
        ref = scipy.signal.oaconvolve(x, c, mode="full")
        assert np.max(np.abs(got - ref)) <= 1e-12 * np.max(np.abs(ref))


def test_block_view_is_a_view_inside_and_zero_padded_outside():
    x = np.arange(20.0)
    v = block_view(x, 2, 3, 8, 5)
    assert np.shares_memory(v, x) and not v.flags.writeable
    np.testing.assert_array_equal(v, [x[2:10], x[7:15], x[12:20]])
    e = block_view(x, -3, 3, 8, 9)
    np.testing.assert_array_equal(e[0], [0, 0, 0, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(e[2], [15, 16, 17, 18, 19, 0, 0, 0])
    assert not np.shares_memory(e, x)


def test_pow2_block():
    assert pow2_block(100, 8, 1024) == 1024
    assert pow2_block(3000, 8, 1024) == 32768
    assert pow2_block(3000, 4, 8192) == 16384
    assert pow2_block(4096, 4, 8192) == 16384


def test_plan_rejects_a_block_shorter_than_the_filter():
    with pytest.raises(ValueError, match="f must be at least"):
        OverlapSave(np.ones(10), 9)
    with pytest.raises(ValueError, match="step must be"):
        BlockSpectra(np.ones(10), 8, 9, 5)


def test_kept_spectra_full_rate_equal_naive_xcorr():
    x, q = RNG.standard_normal(700), RNG.standard_normal(30)
    f, step = 128, 99
    bs = BlockSpectra(x, f, step, f // 2 + 1)
    spec = np.conj(np.fft.rfft(q, f))
    got = np.full(x.size, np.nan)
    for firsts, corr, counts in bs.correlate_batches(spec, 1, step, batch=3):
        for first, row, count in zip(firsts, corr, counts):
            got[first : first + count] = row[:count]
    lags, vals = naive.xcorr_lags(x.tolist(), q.tolist())
    np.testing.assert_allclose(got, np.array(vals)[np.array(lags) >= 0], rtol=0, atol=1e-11)


@pytest.mark.parametrize("d", [2, 4])
def test_kept_spectra_decimated_equal_naive_band_correlation(d):
    # decimated: the kept band inverse-transformed at f/d points and multiplied by d,
    # which is d**2 times the band-limited correlation at the lags 0, d, 2d, ... (the
    # needle's bin f/(2d), the Nyquist bin of the short transform, is left out here:
    # the short transform counts it once where the full one would count it twice)
    x, q = RNG.standard_normal(301), RNG.standard_normal(20)
    f, step = 64, 40
    bins = f // (2 * d)
    bs = BlockSpectra(x, f, step, f // 2 + 1)
    spec = np.conj(np.fft.rfft(q, f))
    spec[bins:] = 0.0
    seen = 0
    for firsts, corr, counts in bs.correlate_batches(spec, d, step // d, batch=2):
        for first, row, count in zip(firsts, corr, counts):
            assert count == len([j for j in range(step // d) if first + j * d < x.size])  # lags inside x
            seen += count
            block = np.zeros(f)
            piece = x[first : first + f]
            block[: piece.size] = piece
            ref = np.array(naive.band_correlation(block.tolist(), q.tolist(), bins))[: step : d]
            np.testing.assert_allclose(row, d * d * ref, rtol=0, atol=1e-10)
    assert seen == len(range(0, x.size, d))


def test_kept_spectra_of_float32_stay_complex64():
    bs = BlockSpectra(RNG.standard_normal(500).astype(np.float32), 64, 40, 17)
    assert bs.spectra.dtype == np.complex64 and bs.spectra.shape == (13, 17) and bs.nbytes == 13 * 17 * 8


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 300),
    m=st.integers(1, 40),
    extra=st.integers(0, 70),
    lo=st.integers(-50, 350),
    width=st.integers(1, 400),
    correlate=st.booleans(),
    batch=st.integers(1, 600),
    seed=st.integers(0, 2**32 - 1),
)
def test_overlap_save_equals_numpy_convolve_for_any_block(n, m, extra, lo, width, correlate, batch, seed):
    rng = np.random.default_rng(seed)
    x, h = rng.standard_normal(n), rng.standard_normal(m)
    f = m + extra
    plan = OverlapSave(h, f, correlate=correlate)
    assert plan.step == f - m + 1
    out = np.empty((1, width))
    plan.into(x[None, :], lo, lo + width, out, batch_points=batch)
    # a correlation with h is the convolution with h reversed, m - 1 outputs later
    ref = _full_padded(x, h[::-1], lo + m - 1, lo + m - 1 + width) if correlate else _full_padded(x, h, lo, lo + width)
    np.testing.assert_allclose(out[0], ref, rtol=0, atol=1e-12 * (1 + np.abs(h).sum() * np.abs(x).max()) * 10)


@pytest.mark.parametrize("d", [1, 4])
def test_a_stack_of_needles_gives_each_needles_correlation(d):
    # the speed search correlates many needles at once: row k of the stacked pass is what
    # needle k alone gives, block by block
    x = RNG.standard_normal(900).astype(np.float32)
    f, step = 128, 96
    bs = BlockSpectra(x, f, step, f // 2 + 1)
    specs = np.conj(np.fft.rfft(RNG.standard_normal((3, 25)), f)).astype(np.complex64)
    alone = [list(bs.correlate_batches(s, d, step // d, batch=4)) for s in specs]
    stacked = list(bs.correlate_batches(specs, d, step // d, batch=4))
    assert len(stacked) == len(alone[0]) == 3  # 10 blocks in batches of 4: the last one short
    for i, (firsts, corr, counts) in enumerate(stacked):
        assert corr.shape == (3, firsts.size, step // d)
        for k in range(3):
            np.testing.assert_array_equal(firsts, alone[k][i][0])
            np.testing.assert_array_equal(counts, alone[k][i][2])
            np.testing.assert_allclose(corr[k], alone[k][i][1], rtol=0, atol=1e-5)


@pytest.mark.parametrize("n, f, keep", [(300, 4096, 129), (20000, 2**18, 8193), (3000, 4096, 2049), (5000, 4096, 100)])
def test_low_band_spectrum_equals_the_full_transform(n, f, keep):
    # the chirp z-transform where it is cheaper (short rows, few bins), rfft otherwise
    x = RNG.standard_normal((3, n))
    ref = np.fft.rfft(x, f)[:, :keep]
    np.testing.assert_allclose(low_band_spectrum(x, f, keep), ref, rtol=0, atol=1e-9 * np.abs(ref).max())
