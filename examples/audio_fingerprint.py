"""Audio fingerprinting by whitened cross-correlation: index a directory, match clips, plot.

Run:  python examples/audio_fingerprint.py [--workdir DIR] [--audio-dir DIR]

Without ``--audio-dir`` a small directory of synthesized music (FLAC and WAV at different
sample rates) is made in the work directory. The catalog is built from the directory,
saved, loaded back, and asked about degraded clips: noise, random EQ, gain, another sample
rate, stereo. Each answer gives the track, the offset to below one sample, the score and a
calibrated false-alarm probability; a clip from a track outside the catalog gets no match.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf

from tsconv.audio import Matcher, degrade, load
from tsconv.audio._synth import synth_track


def make_music_dir(root: Path, n_tracks: int = 6, seconds: float = 30.0) -> Path:
    """Synthesized tracks written as FLAC (22.05 kHz) and WAV (16 kHz stereo)."""
    music = root / "music"
    music.mkdir(parents=True, exist_ok=True)
    for i in range(n_tracks):
        x = synth_track(seconds, sr=8000, seed=100 + i).astype(np.float64)
        if i % 2:
            y = degrade.resample(x, 8000, 16000)
            sf.write(music / f"song{i}.wav", np.stack([y, 0.8 * y], axis=1) * 0.5, 16000)
        else:
            sf.write(music / f"song{i}.flac", degrade.resample(x, 8000, 22050) * 0.5, 22050)
    return music


def main(workdir: str = ".", audio_dir: str | None = None) -> None:
    root = Path(workdir)
    music = Path(audio_dir) if audio_dir else make_music_dir(root)

    matcher = Matcher(sr=8000)
    names = matcher.add_directory(music, progress=False)
    print(f"indexed {len(names)} files, {matcher.duration / 60:.1f} min of audio: {', '.join(sorted(names))}")
    catalog = root / "catalog.tsconv"
    matcher.save(catalog)
    matcher = Matcher.load(catalog)
    print(f"catalog saved and reloaded: {catalog} ({sum(p.stat().st_size for p in catalog.rglob('*')) if catalog.is_dir() else catalog.stat().st_size} bytes)")

    rng = np.random.default_rng(5)
    correct = 0
    trials = 6
    for k in range(trials):
        name = sorted(names)[k % len(names)]
        path = next(p for p in music.iterdir() if p.stem == Path(name).stem)
        x, sr = load(path)
        start = int(rng.integers(0, x.size - 4 * sr))
        clip = x[start : start + 3 * sr].astype(np.float64)
        clip = degrade.gain(degrade.random_eq(clip, sr, seed=k), float(rng.uniform(-20, 20)))
        clip = degrade.add_noise(clip, snr_db=-10.0, color="pink" if k % 2 else "white", seed=k)
        clip_sr = 44100
        clip = degrade.resample(clip, sr, clip_sr)
        stereo = np.stack([clip, clip], axis=1)  # the matcher mixes stereo down itself
        clip_path = root / f"clip{k}.wav"
        sf.write(clip_path, stereo / max(1.0, float(np.max(np.abs(stereo)))), clip_sr, subtype="FLOAT")
        found = matcher.match_file(clip_path, top_k=3)
        true_offset = start / sr
        if found:
            m = found[0]
            ok = Path(m.track).stem == Path(name).stem and abs(m.offset - true_offset) < 2.0 / 8000
            correct += ok
            print(f"clip{k}: {name} @ {true_offset:8.4f} s -> {m.track} @ {m.offset:8.4f} s  score {m.score:.3f}  "
                  f"P(false alarm) {m.false_alarm_probability:.1e}  {'ok' if ok else 'WRONG'}")
        else:
            print(f"clip{k}: {name} @ {true_offset:.4f} s -> no match")
    print(f"{correct}/{trials} clips identified with the right offset (-10 dB SNR, random EQ and gain, 44.1 kHz stereo)")
    assert correct >= trials - 1

    outsider = synth_track(10.0, sr=8000, seed=999).astype(np.float64)[: 3 * 8000]
    none = matcher.match(degrade.add_noise(outsider, 0.0, seed=1), 8000, top_k=1)
    print(f"a clip from a track outside the catalog: {'no match' if not none else none}")
    assert not none

    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:  # the plot extra is optional
        return
    from tsconv.plot import plot_match
    from tsconv.correlation import ncc

    x, sr = load(next(p for p in music.iterdir() if p.stem == "song0"), sr=8000)
    needle = degrade.add_noise(x[40000:64000].astype(np.float64), 0.0, seed=2)
    trace = ncc(needle, x.astype(np.float64))
    fig = plot_match(trace, peak=int(np.argmax(trace)), sr=sr, title="plain NCC of a 3 s clip (0 dB) against song0")
    fig.savefig(root / "match_trace.png")
    print(f"figure: {root / 'match_trace.png'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=".")
    parser.add_argument("--audio-dir", default=None, help="index this directory instead of synthesized music")
    args = parser.parse_args()
    main(args.workdir, args.audio_dir)
