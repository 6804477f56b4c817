"""Every example runs as a script (smoke test); each example checks its own claims with asserts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

CASES = {
    "convolution_concepts.py": ["--outdir", "{tmp}"],
    "forecasting_script.py": ["--series", "20", "--out", "{tmp}/forecasts.csv"],
    "pandas_accessor.py": [],
    "audio_fingerprint.py": ["--workdir", "{tmp}"],
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name, tmp_path):
    args = [a.format(tmp=tmp_path) for a in CASES[name]]
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert proc.stdout.strip()
