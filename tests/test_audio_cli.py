"""End-to-end tests of `tsconv index`, `tsconv match` and `tsconv eval`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tsconv.audio._synth import synth_track
from tsconv.cli import main

SR = 8000


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    d = tmp_path_factory.mktemp("music")
    songs = {f"tune{i}": synth_track(5.0, 22050, seed=70 + i) for i in range(3)}
    for name, x in songs.items():
        sf.write(d / f"{name}.flac", x, 22050)
    clip = d.parent / "clip.wav"
    sf.write(clip, np.stack([songs["tune1"][44100:110250]] * 2, axis=1), 22050)  # stereo, 2 s in
    noise = d.parent / "noise.wav"
    sf.write(noise, 0.1 * np.random.default_rng(0).standard_normal(3 * 22050), 22050)
    return d, clip, noise


def test_index_and_match_in_process(library, tmp_path, capsys):
    d, clip, noise = library
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    assert cat.exists()
    assert main(["match", str(cat), str(clip), "--json", "--top-k", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["track"] == "tune1"
    assert out[0]["offset"] == pytest.approx(2.0, abs=1.5 / SR)
    assert 0 <= out[0]["false_alarm_probability"] < 1e-3
    assert main(["match", str(cat), str(clip)]) == 0
    assert "tune1" in capsys.readouterr().out
    # nothing there: exit code 1 and an empty JSON list
    assert main(["match", str(cat), str(noise), "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == []


def test_errors_exit_2(library, tmp_path, capsys):
    d, clip, _ = library
    foreign = tmp_path / "foreign.tsca"
    foreign.write_text("hello")
    assert main(["match", str(foreign), str(clip)]) == 2
    assert "bad catalog" in capsys.readouterr().err
    assert main(["index", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x.tsca")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["index", str(empty), "-o", str(tmp_path / "x.tsca")]) == 2


def test_eval_prints_table(library, tmp_path, capsys):
    d, _, _ = library
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    out_json = tmp_path / "eval.json"
    assert main(["eval", str(cat), "--queries", "3", "--sections", "snr,open", "--json", str(out_json)]) == 0
    text = capsys.readouterr().out
    assert "top-1 accuracy" in text and "open set" in text
    rows = json.loads(out_json.read_text())["rows"]
    assert {r["kind"] for r in rows} == {"snr", "open", "calibration"}


def test_subprocess_round_trip(library, tmp_path):
    d, clip, _ = library
    cat = tmp_path / "sub.tsca"
    env = dict(os.environ)
    run = [sys.executable, "-m", "tsconv.cli"]
    r = subprocess.run(run + ["index", str(d), "-o", str(cat)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "indexed 3 tracks" in r.stdout
    r = subprocess.run(run + ["match", str(cat), str(clip), "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["track"] == "tune1"
