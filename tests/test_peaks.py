"""The compiled per-frame reduction against its slow twin (tests/naive.py::frame_peaks)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive
from tsconv._peaks import frame_peaks


@settings(max_examples=80, deadline=None)
@given(rows=st.integers(1, 4), per=st.integers(1, 20), extra=st.integers(0, 40), levels=st.integers(2, 6),
       seed=st.integers(0, 2**31 - 1), strided=st.booleans())
def test_frame_peaks_equal_the_naive_loop(rows, per, extra, levels, seed, strided):
    # few distinct values: ties, where the first position of the largest must be kept
    rng = np.random.default_rng(seed)
    n = per * int(rng.integers(0, 6)) + extra
    full = rng.integers(0, levels, size=(rows, n + 3)).astype(np.float32) - 1.5
    corr = full[:, 2 : n + 2] if strided else np.ascontiguousarray(full[:, :n])
    best, top, bottom = frame_peaks(corr, per, lows=True)
    ref = naive.frame_peaks(corr.tolist(), per)
    assert best.shape == top.shape == bottom.shape == (rows, n // per)
    assert best.tolist() == [[b for b, _, _ in r] for r in ref]
    assert top.tolist() == [[t for _, t, _ in r] for r in ref]
    assert bottom.tolist() == [[m for _, _, m in r] for r in ref]
    assert frame_peaks(corr, per)[2] is None


def test_frame_peaks_agree_with_numpy_on_a_search_sized_row():
    corr = np.random.default_rng(3).standard_normal((2, 3, 16384)).astype(np.float32)[..., :16000]
    flat = corr.reshape(6, 16000)
    assert np.shares_memory(flat, corr)  # the stacked search reduces a view of its blocks
    best, top, _ = frame_peaks(flat, 16)
    frames = flat.reshape(6, 1000, 16)
    np.testing.assert_array_equal(best, frames.argmax(axis=2))
    np.testing.assert_array_equal(top, frames.max(axis=2))


def test_frame_peaks_refuse_a_bad_shape():
    with pytest.raises(ValueError, match="per >= 1"):
        frame_peaks(np.zeros((2, 8), np.float32), 0)
    with pytest.raises(ValueError, match="2-D"):
        frame_peaks(np.zeros(8, np.float32), 2)
