"""`tsconv demo` (the main job) and `tsconv kernels` run end to end and say what they did."""

import subprocess
import sys

from tsconv.cli import main
from tsconv.kernels import LIBRARY


def test_demo_writes_report_and_figures(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "all checks passed" in text
    report = (out / "report.md").read_text()
    for section in ["kernel library", "airline model", "panel of series", "Which track"]:
        assert section in report
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(["kernel_gaussian.png", "forecast_airline.png", "airline_kernels.png",
                           "decomposition_airline.png", "match_trace.png"])
    assert all(f"]({name})" in report for name in pngs)


def test_kernels_command_lists_the_library():
    proc = subprocess.run([sys.executable, "-m", "tsconv.cli", "kernels"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert all(name in proc.stdout for name in LIBRARY)


def test_demo_runs_without_matplotlib(tmp_path, monkeypatch, capsys):
    # the core install has no matplotlib: the demo still runs and says where figures went
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "-o", str(out)]) == 0
    assert "Figures skipped" in (out / "report.md").read_text()
    assert not list(out.glob("*.png"))
