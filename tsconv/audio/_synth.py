"""Seeded synthetic music-like audio for tests, the demo and the evaluation.

Each "track" is a short piece: a tempo, a key, a chord progression, a melody of notes with
harmonics and ADSR envelopes, a bass line, and drums (kick, snare, hi-hat). It is not
music anyone would listen to, but it has what matters to a matcher: a steep, coloured
spectrum, strong repetition (beats, repeated chords) and loud/quiet passages.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["synth_track", "synth_catalog"]

_SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
}


def _adsr(n: int, sr: int, attack: float, decay: float, sustain: float, release: float) -> NDArray[np.float64]:
    t = np.arange(n) / sr
    env = np.full(n, sustain)
    a = max(attack, 1e-3)
    env = np.where(t < a, t / a, env)
    in_decay = (t >= a) & (t < a + decay)
    env = np.where(in_decay, 1.0 - (1.0 - sustain) * (t - a) / max(decay, 1e-3), env)
    rel_start = max(t[-1] - release, a) if n else 0.0
    env = np.where(t > rel_start, env * np.clip((t[-1] - t) / max(release, 1e-3), 0.0, 1.0), env)
    return env


def _note(freq: float, dur: float, sr: int, rng: np.random.Generator, timbre: NDArray[np.float64]) -> NDArray[np.float64]:
    n = max(int(dur * sr), 1)
    t = np.arange(n) / sr
    out = np.zeros(n)
    vib = 1.0 + 0.003 * np.sin(2 * np.pi * rng.uniform(4, 6) * t)
    phase = 2 * np.pi * freq * np.cumsum(vib) / sr
    for h, amp in enumerate(timbre, start=1):
        if freq * h >= sr / 2 * 0.95:
            break
        out += amp * np.sin(h * phase + rng.uniform(0, 2 * np.pi))
    env = _adsr(n, sr, rng.uniform(0.005, 0.05), rng.uniform(0.05, 0.2), rng.uniform(0.3, 0.8), min(0.1, dur / 3))
    return out * env


def _drum(kind: str, sr: int, rng: np.random.Generator, kit: tuple[float, float] = (50.0, 12.0)) -> NDArray[np.float64]:
    if kind == "kick":
        n = int(0.25 * sr)
        t = np.arange(n) / sr
        f = kit[0] + 100 * np.exp(-t * 30)
        return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t * kit[1])
    if kind == "snare":
        n = int(0.18 * sr)
        t = np.arange(n) / sr
        noise = rng.standard_normal(n)
        noise = noise - 0.6 * np.concatenate(([0.0], noise[:-1]))  # tilt towards highs
        return (0.7 * noise + 0.5 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 25)
    n = int(0.05 * sr)  # hi-hat
    t = np.arange(n) / sr
    noise = rng.standard_normal(n)
    noise = np.diff(noise, prepend=0.0)
    return 0.3 * noise * np.exp(-t * 80)


def _place(out: NDArray[np.float64], sig: NDArray[np.float64], start: int) -> None:
    if start >= out.size:
        return
    end = min(out.size, start + sig.size)
    out[start:end] += sig[: end - start]


def synth_track(duration: float, sr: int = 8000, seed: int = 0) -> NDArray[np.float32]:
    """A seeded music-like signal of ``duration`` seconds at ``sr`` Hz (float32, peak 0.9).

    Examples
    --------
    >>> x = synth_track(1.0, 8000, seed=1)
    >>> x.shape, x.dtype, bool(abs(x).max() <= 0.9 + 1e-6)
    ((8000,), dtype('float32'), True)
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    out = np.zeros(n)
    bpm = rng.uniform(70, 150)
    beat = 60.0 / bpm
    root = 220.0 * 2 ** (rng.integers(-5, 7) / 12)
    scale = _SCALES[rng.choice(list(_SCALES))]
    n_harm = int(rng.integers(4, 12))
    lead_timbre = rng.uniform(0.1, 1.0, n_harm) / np.arange(1, n_harm + 1) ** rng.uniform(0.7, 1.6)
    pad_timbre = 1.0 / np.arange(1, 5) ** 2
    bass_timbre = np.array([1.0, 0.5, 0.25])
    progression = rng.choice(7, size=4)
    # a repeated motif with variations: music repeats, which is what fools plain correlation
    motif = rng.integers(0, 14, size=8)
    kit = (float(rng.uniform(40, 70)), float(rng.uniform(8, 18)))  # each track its own kick drum
    t_beat = 0.0
    bar = 0
    while t_beat < duration:
        chord_deg = int(progression[bar % 4])
        # chord pad: three notes held for a bar
        for k in (0, 2, 4):
            deg = chord_deg + k
            f = root * 2 ** ((scale[deg % 7] + 12 * (deg // 7)) / 12)
            _place(out, 0.12 * _note(f, 4 * beat, sr, rng, pad_timbre), int(t_beat * sr))
        # bass on beats 1 and 3
        fb = root / 2 * 2 ** (scale[chord_deg % 7] / 12)
        for b in (0, 2):
            _place(out, 0.35 * _note(fb, beat * 0.9, sr, rng, bass_timbre), int((t_beat + b * beat) * sr))
        # melody: the motif, varied
        for i in range(8):
            if rng.random() < 0.15:
                continue
            deg = int(motif[i] + (rng.integers(-2, 3) if rng.random() < 0.3 else 0))
            f = root * 2 ** ((scale[deg % 7] + 12 * (deg // 7)) / 12)
            _place(out, 0.25 * _note(f, beat * rng.choice([0.45, 0.9]), sr, rng, lead_timbre), int((t_beat + i * beat / 2) * sr))
        # drums
        for b in range(4):
            tb = int((t_beat + b * beat) * sr)
            if b in (0, 2):
                _place(out, 0.6 * _drum("kick", sr, rng, kit), tb)
            else:
                _place(out, 0.35 * _drum("snare", sr, rng), tb)
            _place(out, 0.2 * _drum("hat", sr, rng), tb)
            _place(out, 0.15 * _drum("hat", sr, rng), tb + int(beat / 2 * sr))
        t_beat += 4 * beat
        bar += 1
    # slow loudness changes (verse / chorus)
    t = np.arange(n) / sr
    out *= 0.6 + 0.4 * np.sin(2 * np.pi * t / rng.uniform(20, 40) + rng.uniform(0, 6.28)) ** 2
    peak = np.max(np.abs(out)) if n else 0.0
    if peak > 0:
        out *= 0.9 / peak
    return out.astype(np.float32)


def synth_catalog(n_tracks: int, duration: float, sr: int = 8000, seed: int = 0) -> dict[str, NDArray[np.float32]]:
    """``n_tracks`` seeded tracks named ``track000``, ``track001``, ... of ``duration`` seconds."""
    return {f"track{i:03d}": synth_track(duration, sr, seed=seed * 100003 + i) for i in range(n_tracks)}
