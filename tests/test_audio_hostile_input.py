"""Hostile audio input: absurd sample rates, special files, very short tracks, NaN samples."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from tsconv.audio import Matcher, load
from tsconv.audio._synth import synth_track
from tsconv.audio.io import MAX_SR, MIN_SR

SR = 8000


def test_a_1_hz_wav_is_a_clear_error_without_allocating(tmp_path):
    # 200 KB of samples whose header says 1 Hz: resampled to 8 kHz this was 3.2 GB
    p = tmp_path / "one_hz.wav"
    sf.write(p, np.zeros(100_000, np.int16), 1, subtype="PCM_16")
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"one_hz\.wav.*between 1000 and 384000 Hz, got 1"):
            load(p, sr=SR)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20
    m = Matcher()
    m.add("a", synth_track(2.0, SR, seed=1), SR)
    with pytest.raises(ValueError, match="between 1000 and 384000 Hz"):
        m.match_file(p)
    with pytest.raises(ValueError, match="between 1000 and 384000 Hz"):
        m.match(np.zeros(1000), 1)


@pytest.mark.parametrize("rate", [MIN_SR - 1, MAX_SR + 1, 10**9])
def test_rates_outside_the_documented_range_are_refused(rate):
    with pytest.raises(ValueError, match=f"sr must be a sample rate between {MIN_SR} and {MAX_SR} Hz, got {rate}"):
        Matcher(sr=rate)
    m = Matcher()
    with pytest.raises(ValueError, match="between"):
        m.add("a", np.ones(10 * SR), rate)


@pytest.mark.parametrize("rate", [MIN_SR, MAX_SR])
def test_the_range_ends_are_accepted(rate):
    m = Matcher()
    m.add("a", synth_track(1.0, rate, seed=3), rate)
    assert m.tracks == ["a"]


@pytest.mark.parametrize("seconds", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
def test_short_tracks_add_and_can_be_found(seconds):
    m = Matcher()
    x = synth_track(seconds, SR, seed=4)
    m.add("short", x, SR)
    m.add("long", synth_track(3.0, SR, seed=5), SR)
    # the track itself as a clip: found at offset 0
    best = m.match(x, SR, max_false_alarm=1.0)[0]
    assert best.track == "short"
    assert abs(best.offset_samples) <= 1.0


def test_level_equals_a_loop_for_few_frames():
    # the automatic gain's moving average of 5 frames, also when a track has fewer frames
    from tsconv.audio.matcher import _AGC_FRAME, _AGC_SMOOTH, _level

    rng = np.random.default_rng(0)
    frame = int(_AGC_FRAME * SR)
    for n_frames in (1, 2, 3, 4, 5, 9):
        x = rng.standard_normal(n_frames * frame) * np.repeat(rng.uniform(0.5, 3, n_frames), frame)
        ms = np.mean(x.reshape(n_frames, frame) ** 2, axis=1)
        h = _AGC_SMOOTH // 2
        smooth = np.array([sum(ms[j] for j in range(i - h, i + h + 1) if 0 <= j < n_frames) / _AGC_SMOOTH
                           for i in range(n_frames)])
        rms = np.sqrt(np.maximum(smooth, 1e-4 * np.mean(x**2)))
        centres = (np.arange(n_frames) + 0.5) * frame
        expected = x / np.interp(np.arange(x.size), centres, rms)
        np.testing.assert_allclose(_level(x, SR), expected, rtol=1e-12)


def test_nan_samples_are_refused_naming_the_track():
    m = Matcher()
    x = synth_track(1.0, SR, seed=6)
    x[100] = np.nan
    with pytest.raises(ValueError, match="finite"):
        m.add("bad", x, SR)
    assert len(m) == 0


def _library(d, names):
    for i, name in enumerate(names):
        sf.write(d / f"{name}.wav", synth_track(1.0, SR, seed=20 + i), SR)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_in_the_folder_is_skipped_with_a_warning(tmp_path, capsys):
    _library(tmp_path, ["a", "b"])
    os.mkfifo(tmp_path / "pipe.wav")  # nothing ever writes to it: opening it would block forever
    m = Matcher()
    assert m.add_directory(tmp_path) == ["a", "b"]
    err = capsys.readouterr().err
    assert "pipe.wav" in err and "not a regular file" in err
    with pytest.raises(ValueError, match="not a regular file"):
        load(tmp_path / "pipe.wav")


def test_bad_files_are_skipped_naming_them_and_the_rest_indexed(tmp_path, capsys):
    _library(tmp_path, ["a", "c"])
    x = synth_track(1.0, SR, seed=30).astype(np.float32)
    x[500] = np.nan
    sf.write(tmp_path / "b_nan.wav", x, SR, subtype="FLOAT")
    sf.write(tmp_path / "d_short.wav", synth_track(0.05, SR, seed=31), SR)
    sf.write(tmp_path / "e_1hz.wav", np.zeros(1000, np.int16), 1, subtype="PCM_16")
    (tmp_path / "f_text.wav").write_text("not audio")
    os.symlink(tmp_path / "nowhere.wav", tmp_path / "g_dangling.wav")
    m = Matcher()
    assert m.add_directory(tmp_path) == ["a", "c"]
    err = capsys.readouterr().err
    for name, why in [("b_nan.wav", "NaN"), ("d_short.wav", "too short"), ("e_1hz.wav", "between 1000"),
                      ("f_text.wav", "cannot decode"), ("g_dangling.wav", "skipping")]:
        line = next((ln for ln in err.splitlines() if name in ln), "")
        assert why in line, (name, err)
    # sources are recorded as absolute paths
    assert all(os.path.isabs(t.source) for t in m._tracks)


def test_an_inverted_clip_is_not_reported():
    # documented: a polarity-inverted clip is rejected. Before, it was reported 1.5 samples
    # off or at a wrong place, 4 of these 16 with p < 0.01
    from tsconv.audio import degrade

    tracks = {f"song{i}": synth_track(6.0, SR, seed=10 + i) for i in range(4)}
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, SR)
    rng = np.random.default_rng(1)
    for i in range(8):
        name = f"song{i % 4}"
        start = int(rng.integers(0, 30000))
        clip = tracks[name][start : start + 2 * SR].astype(np.float64)
        for snr in (None, 0.0):
            y = clip if snr is None else degrade.add_noise(clip, snr, "white", seed=i)
            assert m.match(-y, SR, max_false_alarm=1.0) == []
            assert m.find_all(-y, SR, max_false_alarm=1.0) == []
            best = m.match(y, SR)[0]  # the control: upright, it is found
            assert best.track == name and abs(best.offset_samples - start) <= 1


def test_an_inverted_clip_is_not_reported_by_a_sharded_catalog_either():
    from tsconv.dask import ShardedMatcher

    tracks = {f"song{i}": synth_track(6.0, SR, seed=10 + i) for i in range(4)}
    m = Matcher()
    for name, x in tracks.items():
        m.add(name, x, SR)
    sm = ShardedMatcher(m, client="threads", n_shards=2)
    clip = tracks["song2"][9000 : 9000 + 2 * SR].astype(np.float64)
    assert sm.match(-clip, SR, max_false_alarm=1.0) == m.match(-clip, SR, max_false_alarm=1.0) == []
    assert sm.match(clip, SR)[0].track == "song2"
