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


def test_demo_refuses_an_output_folder_it_cannot_make_before_any_work(tmp_path, capsys):
    # under a regular file, or in a folder without write permission: a traceback and exit 1
    # (the code of a failed check), after the kernel section had run
    (tmp_path / "afile").write_text("")
    assert main(["demo", "--quick", "-o", str(tmp_path / "afile" / "sub")]) == 2
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        import os

        if os.access(ro, os.W_OK):  # root writes anywhere: the permission case cannot be made here
            targets = [tmp_path / "afile" / "sub2"]
        else:
            targets = [ro, ro / "demo"]
        for target in targets:
            assert main(["demo", "--quick", "-o", str(target)]) == 2
    finally:
        ro.chmod(0o755)
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran
    assert "cannot be created or written to" in captured.err and "Traceback" not in captured.err


def test_kernels_half_power_frequency_is_solved_not_read_off_the_grid():
    # the first grid point below dc/sqrt(2) was printed to 4 decimals, 1-3 units high in
    # the last one; the reference is the gain itself at the printed frequency
    import numpy as np

    from tsconv._demo import _summary

    solved = 0
    for make in LIBRARY.values():
        op = make()
        _, _, dc, cutoff = _summary(op)
        if np.isfinite(cutoff):
            gain = abs(op.frequency_response(np.array([2 * np.pi * cutoff]))[1][0])
            assert abs(gain - dc / np.sqrt(2.0)) < 1e-9
            solved += 1
    assert solved >= 10
