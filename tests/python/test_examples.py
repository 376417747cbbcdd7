"""The Python examples that need no data set: examples/python/sound_localization.py (issue 20),
run with a coarse sweep, headless."""
import os
import subprocess
import sys


def test_example_sound_localization_py(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "examples/python/sound_localization.py", "--step", "30",
                        "--trials", "2", "--out", str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "12 IPDs x 2 trials" in r.stdout
    err_best = float(r.stdout.split("most active detector ")[1].split(" deg")[0])
    err_pv = float(r.stdout.split("population vector ")[1].split(" deg")[0])
    assert 0 <= err_pv < 30 and 0 <= err_best < 60  # far better than chance (90 degrees)
    png = tmp_path / "sound_localization.png"
    assert png.exists() and png.stat().st_size > 10_000
