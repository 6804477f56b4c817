"""End-to-end tests of `tsconv index`, `tsconv match` and `tsconv eval`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tsconv.audio import catalog as catalog_mod
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
    doc = json.loads(capsys.readouterr().out)
    assert doc["catalog"] == str(cat.resolve())
    assert [c["clip"] for c in doc["clips"]] == [str(clip)] and doc["clips"][0]["error"] is None
    out = doc["clips"][0]["matches"]
    assert out[0]["track"] == "tune1"
    assert out[0]["offset"] == pytest.approx(2.0, abs=1.5 / SR)
    assert 0 <= out[0]["false_alarm_probability"] < 1e-3
    assert main(["match", str(cat), str(clip)]) == 0
    assert "tune1" in capsys.readouterr().out
    # options before the clips, or between them: the same clips in their order (argparse
    # closed the clips at the first option: "unrecognized arguments", exit 2)
    assert main(["match", str(cat), "--json", "--top-k", "2", str(clip), str(noise)]) == 1  # the noise: no match
    assert [c["clip"] for c in json.loads(capsys.readouterr().out)["clips"]] == [str(clip), str(noise)]
    assert main(["match", str(cat), str(noise), "--json", str(clip)]) == 1
    assert [c["clip"] for c in json.loads(capsys.readouterr().out)["clips"]] == [str(noise), str(clip)]
    with pytest.raises(SystemExit) as exc:  # an unknown option is still refused
        main(["match", str(cat), "--json", str(clip), "--bogus"])
    assert exc.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
    # nothing there: exit code 1 and an empty JSON list
    assert main(["match", str(cat), str(noise), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["clips"][0]["matches"] == []


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
    assert main(["eval", str(cat), "--queries", "3", "--sections", "snr,open", "-o", str(out_json)]) == 0
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
    assert json.loads(r.stdout)["clips"][0]["matches"][0]["track"] == "tune1"


# -- hostile input and the command line's contract ----------------------------------------------
RUN = [sys.executable, "-m", "tsconv.cli"]


def _run(args, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(RUN + [str(a) for a in args], capture_output=True, text=True, **kw)


def test_match_on_a_1_hz_wav_exits_2_without_traceback(library, tmp_path):
    d, _, _ = library
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    bad = tmp_path / "one_hz.wav"
    sf.write(bad, np.zeros(100_000, np.int16), 1, subtype="PCM_16")
    r = _run(["match", cat, bad])
    assert r.returncode == 2
    assert "between 1000 and 384000 Hz" in r.stderr and "one_hz.wav" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_match_opens_the_clip_before_the_catalog(tmp_path, capsys):
    # a bad catalog is not even read when the only clip is missing: the clip's error is reported
    foreign = tmp_path / "foreign.tsca"
    foreign.write_text("hello")
    assert main(["match", str(foreign), str(tmp_path / "missing.wav")]) == 2
    err = capsys.readouterr().err
    assert "missing.wav" in err and "bad catalog" not in err


def test_match_many_clips_files_folders_list_workers_json(library, tmp_path, capsys):
    d, clip, noise = library
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    folder = tmp_path / "clips"
    folder.mkdir()
    songs = {name: sf.read(d / f"{name}.flac")[0] for name in ("tune0", "tune2")}
    for name, x in songs.items():
        sf.write(folder / f"{name}.wav", x[22050:66150], 22050)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# clips\n{clip}\n{tmp_path / 'missing.wav'}\n")
    code = main(["match", str(cat), str(folder), str(noise), "--list", str(listing), "--workers", "2", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 2  # one clip could not be read
    clips = {os.path.basename(c["clip"]): c for c in doc["clips"]}
    assert list(clips) == ["tune0.wav", "tune2.wav", "noise.wav", "clip.wav", "missing.wav"]
    for name in ("tune0", "tune2"):
        assert clips[f"{name}.wav"]["matches"][0]["track"] == name
        assert clips[f"{name}.wav"]["matches"][0]["offset"] == pytest.approx(1.0, abs=2 / SR)
        assert clips[f"{name}.wav"]["seconds"] > 0 and clips[f"{name}.wav"]["error"] is None
    assert clips["clip.wav"]["matches"][0]["track"] == "tune1"
    assert clips["noise.wav"]["matches"] == []
    assert "does not exist" in clips["missing.wav"]["error"]
    for c in doc["clips"]:  # every clip has the keys docs/audio.md lists, an unreadable one too
        assert set(c) == {"clip", "sr", "seconds", "error", "matches"}
    assert clips["missing.wav"]["sr"] is None and clips["tune0.wav"]["sr"] == 22050
    assert doc["load_s"] > 0 and doc["catalog"] == str(cat.resolve())
    # without the missing clip: 1 (the noise clip has no match); the found clips alone: 0
    assert main(["match", str(cat), str(folder), str(noise)]) == 1
    assert main(["match", str(cat), str(folder), str(clip)]) == 0
    text = capsys.readouterr().out
    assert "tune0.wav" in text and "tune2" in text and "no match" in text


def test_match_skips_a_folder_s_files_that_are_no_audio_as_index_does(library, tmp_path, capsys):
    # a cover image or a text file in a folder of clips made the whole run exit 2
    d, clip, _ = library
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    folder = tmp_path / "clips"
    folder.mkdir()
    sf.write(folder / "a.wav", sf.read(clip)[0], sf.info(clip).samplerate)
    (folder / "notes.txt").write_text("where these clips come from")
    capsys.readouterr()
    assert main(["match", str(cat), str(folder), "--json"]) == 0
    out = capsys.readouterr()
    assert [os.path.basename(c["clip"]) for c in json.loads(out.out)["clips"]] == ["a.wav"]
    assert "skipping" in out.err and "notes.txt" in out.err
    # named on the command line, the same file is an error
    assert main(["match", str(cat), str(folder / "a.wav"), str(folder / "notes.txt")]) == 2
    assert "error" in capsys.readouterr().err
    # a folder with nothing to decode is an error too, before the catalog is read
    (folder / "a.wav").unlink()
    assert main(["match", str(tmp_path / "no-catalog.tsca"), str(folder)]) == 2
    err = capsys.readouterr().err
    assert "no clip could be decoded" in err and "no-catalog" not in err


def test_index_checks_the_output_first_and_refuses_to_overwrite(library, tmp_path, capsys):
    d, _, _ = library
    r = _run(["index", d, "-o", tmp_path / "no" / "such" / "dir" / "x.tsca"])
    assert r.returncode == 2 and "x.tsca" in r.stderr and "does not exist" in r.stderr
    assert "indexing" not in r.stderr and ".tmp-" not in r.stderr  # nothing decoded, no temp file named
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    before = cat.read_bytes()
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err
    assert cat.read_bytes() == before
    assert main(["index", str(d), "-o", str(tmp_path), "--quiet"]) == 2  # a directory
    assert main(["index", str(d), "-o", str(cat), "--quiet", "--force"]) == 0
    # sources are absolute, even when the folder was given relative to the working directory
    assert main(["catalog", "list", str(cat), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["tune0", "tune1", "tune2"]
    assert all(os.path.isabs(r["source"]) and os.path.exists(r["source"]) for r in rows)


def test_index_append_and_catalog_info(library, tmp_path, capsys):
    d, _, _ = library
    more = tmp_path / "more"
    more.mkdir()
    sf.write(more / "extra.wav", synth_track(2.0, SR, seed=99), SR)
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    assert main(["index", str(more), "-o", str(cat), "--append", "--quiet"]) == 0
    assert main(["catalog", "info", str(cat), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["tracks"] == 4 and info["sr"] == SR and info["version"] == catalog_mod.VERSION and info["index"] is True
    assert info["seconds"] == pytest.approx(3 * 5.0 + 2.0, abs=0.01)
    assert main(["catalog", "list", str(cat)]) == 0
    assert capsys.readouterr().out.split("\n")[3].startswith("extra\t2.000\t")
    # appending the same folder again adds nothing: an error, the catalog unchanged
    before = cat.read_bytes()
    assert main(["index", str(more), "-o", str(cat), "--append", "--quiet"]) == 2
    assert cat.read_bytes() == before
    assert main(["catalog", "info", str(tmp_path / "missing.tsca")]) == 2


@pytest.mark.parametrize("args, message", [
    (["--queries", "0"], "--queries must be a positive"),
    (["--queries", "-3"], "--queries must be a positive"),
    (["--sections", "snr,bogus"], "--sections must be"),
    (["--negatives", "/no/such/folder"], "--negatives must be a directory"),
    (["-o", "/no/such/folder/out.json"], "out.json"),
])
def test_eval_checks_arguments_before_any_work(tmp_path, capsys, args, message):
    # the catalog does not exist: an argument error must come first, without loading anything
    assert main(["eval", str(tmp_path / "missing.tsca")] + args) == 2
    err = capsys.readouterr().err
    assert message in err and "missing.tsca" not in err


def test_eval_json_prints_json(library, tmp_path, capsys):
    d, _, _ = library
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    assert main(["eval", str(cat), "--queries", "2", "--sections", "offset", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert {r["kind"] for r in doc["rows"]} == {"offset"} and "offsets without EQ" in captured.err


def test_version_and_closed_pipe():
    r = _run(["--version"])
    assert r.returncode == 0 and r.stdout.strip().startswith("tsconv ")
    # the reader closes the pipe before the command writes: no traceback
    proc = subprocess.Popen(RUN + ["kernels"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_index_skips_a_fifo_and_a_nan_file(library, tmp_path):
    d, _, _ = library
    lib = tmp_path / "lib"
    lib.mkdir()
    for f in d.iterdir():
        (lib / f.name).write_bytes(f.read_bytes())
    os.mkfifo(lib / "pipe.flac")
    x = synth_track(1.0, SR, seed=5).astype(np.float32)
    x[10] = np.nan
    sf.write(lib / "nan.wav", x, SR, subtype="FLOAT")
    cat = tmp_path / "lib.tsca"
    r = _run(["index", lib, "-o", cat], timeout=120)
    assert r.returncode == 0, r.stderr
    assert "indexed 3 tracks" in r.stdout
    assert "pipe.flac" in r.stderr and "nan.wav" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("phase", ["indexing", "music null"])
def test_ctrl_c_during_index_leaves_nothing_behind(tmp_path, phase):
    # Ctrl-C while the files are decoded and whitened, and while the music null is measured
    # (the index prints a line as each phase starts: the signal is sent on that line, not
    # after a fixed sleep, which under load could land in the other phase or after both)
    import signal
    import time

    lib = tmp_path / "lib"
    lib.mkdir()
    x = synth_track(20.0, 44100, seed=3)
    for i in range(40):  # 40 x 20 s at 44.1 kHz: seconds of decoding, a minute of music null
        sf.write(lib / f"t{i:02d}.wav", np.roll(x, 1000 * i), 44100)
    cat = tmp_path / "lib.tsca"
    # the child gets SIGINT's default disposition, as in a terminal: a test run started in the
    # background of a non-interactive shell (CI under nohup ... &) inherits SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler (the signal was dropped, the index ran
    # to its end: 41-45 s with 40 files, 123-126 s with 80, in such runs)
    proc = subprocess.Popen(RUN + ["index", str(lib), "-o", str(cat)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert "indexing" in proc.stderr.readline()
        if phase == "music null":
            assert "measuring the music null of 40 tracks" in proc.stderr.readline()
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)  # a hung process fails here, not the whole run
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert time.perf_counter() - t0 < 20  # promptly
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert os.listdir(tmp_path) == ["lib"]  # no catalog, no temp file


def test_match_finds_a_clip_whose_header_says_48k_for_44k_audio(library, tmp_path, capsys):
    # issue 17, item 9: without a speed search, a wrong header rate used to give confident
    # false matches; `tsconv match` now seeks a weak or missing match at the usual wrong rates
    d, _, _ = library
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet"]) == 0
    x, _ = sf.read(d / "tune2.flac")
    from tsconv.audio.io import resample_to

    bad = tmp_path / "mislabelled.wav"
    sf.write(bad, resample_to(x[22050:88200], 22050, 44100), 48000)
    assert main(["match", str(cat), str(bad), "--json"]) == 0
    captured = capsys.readouterr()
    best = json.loads(captured.out)["clips"][0]["matches"][0]
    assert best["track"] == "tune2"
    assert best["offset"] == pytest.approx(1.0, abs=1e-3)
    assert best["implied_sr"] == pytest.approx(44100)
    assert "48000 Hz declared, 44100 Hz would match" in captured.err
    code = main(["match", str(cat), str(bad), "--json", "--no-rate-check"])
    found = json.loads(capsys.readouterr().out)["clips"][0]["matches"]
    assert code == 1 or not (found[0]["track"] == "tune2" and abs(found[0]["offset"] - 1.0) < 1e-3)


def test_match_notes_a_wrongly_declared_sample_rate(library, tmp_path, capsys):
    # 8 kHz audio whose header says 8100 Hz: with the speed search, the clip plays 1.25% fast.
    # The catalog is indexed without the music null: 15 s of audio give it 24 probes per
    # duration, too few to resolve a probability below 1/24, and a speed search's p (pooled
    # over its grid of speeds) is weak: the speed note is what is tested here
    d, _, _ = library
    cat = tmp_path / "lib.tsca"
    assert main(["index", str(d), "-o", str(cat), "--quiet", "--no-calibrate"]) == 0
    x, _ = sf.read(d / "tune2.flac")
    from tsconv.audio.io import resample_to

    y = resample_to(x[22050:88200], 22050, 8000)
    bad = tmp_path / "mislabelled.wav"
    sf.write(bad, y, 8100)
    assert main(["match", str(cat), str(bad), "--speed-range", "0.02", "--json"]) == 0
    captured = capsys.readouterr()
    best = json.loads(captured.out)["clips"][0]["matches"][0]
    assert best["track"] == "tune2"
    assert best["speed"] == pytest.approx(8100 / 8000, abs=5e-4)
    assert best["implied_sr"] == pytest.approx(8000, abs=5)
    assert "8100 Hz declared" in captured.err and "8000 Hz would match" in captured.err


def test_the_audio_benchmark_script_runs_to_its_cost_table(tmp_path):
    # benchmarks/eval_audio.py reads the matcher's memory figures itself (it once crashed
    # after its catalog build on a field the matcher no longer had): a quick run on the
    # synthetic catalog, its JSON checked for the figures the cost table prints
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "eval.json"
    done = subprocess.run(
        [sys.executable, os.path.join(root, "benchmarks", "eval_audio.py"), "--quick", "--sections", "offset",
         "--queries", "3", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=root,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    info = json.loads(out.read_text())["info"]
    for key in ("build_s_per_hour", "mb_per_hour", "load_s_per_hour", "samples_mb_per_hour", "spectra_mb_per_hour", "energy_mb_per_hour"):
        assert info[key] > 0, key


def test_cli_refusals_exit_2_with_one_line(library, tmp_path, capsys):
    # each of these had ended in a traceback (exit 1) or done something else than asked
    d, _, _ = library
    short = tmp_path / "short"
    short.mkdir()
    for i in range(2):
        sf.write(short / f"s{i}.wav", synth_track(2.0, SR, seed=90 + i), SR)
    cat = tmp_path / "short.tsca"
    assert main(["index", str(short), "-o", str(cat), "--quiet", "--no-calibrate"]) == 0
    capsys.readouterr()
    assert main(["eval", str(cat), "--queries", "2", "--sections", "snr"]) == 2
    assert "no catalog track is longer than 3.3 s" in capsys.readouterr().err
    a_file = tmp_path / "taken"
    a_file.write_text("")
    assert main(["demo", "--quick", "-o", str(a_file)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    # --append keeps the catalog's settings: other ones asked for are refused, not ignored
    assert main(["index", str(d), "-o", str(cat), "--append", "--sr", "16000", "--storage", "float32", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--sr 16000 (the catalog has 8000)" in err and "--storage 'float32'" in err
    assert main(["index", str(short), "-o", str(cat), "--append", "--quiet", "--no-calibrate"]) == 2
    assert "already holds the 2 tracks" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0.5", "-0.01", "nan"])
def test_match_refuses_a_bad_speed_range_once_before_any_clip(tmp_path, capsys, value):
    # it was checked per clip, after the clips were decoded and the catalog loaded: one error per clip
    clips = [tmp_path / f"missing{i}.wav" for i in range(3)]
    assert main(["match", str(tmp_path / "missing.tsca"), *map(str, clips), "--speed-range", value]) == 2
    err = capsys.readouterr().err
    assert err.count("--speed-range") == 1 and value in err and "missing" not in err


def test_text_output_escapes_control_characters_in_track_names(tmp_path, capsys):
    # a file name may hold a newline or a tab: `catalog list` printed such a track on two
    # lines (or in shifted columns), `match` likewise; --json keeps the names as they are
    from tsconv.audio import Matcher

    m = Matcher()
    x = synth_track(5.0, SR, seed=81)
    m.add("two\nlines", x, SR)
    m.add("tab\there", synth_track(5.0, SR, seed=82), SR)
    cat = tmp_path / "odd.tsca"
    m.save(cat)
    assert main(["catalog", "list", str(cat)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["two\\nlines", "5.000"], ["tab\\there", "5.000"]]
    assert main(["catalog", "list", str(cat), "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["two\nlines", "tab\there"]
    clip = tmp_path / "clip.wav"
    sf.write(clip, x[SR : 3 * SR], SR)
    assert main(["match", str(cat), str(clip)]) == 0
    out = capsys.readouterr().out
    assert "two\\nlines" in out and len(out.splitlines()) == 2  # the header and one match
