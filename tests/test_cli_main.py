"""The twin command line: listing, rendering, one-line errors."""

import subprocess
import sys

import numpy as np

from twin.cli.main import main


def test_version_and_robots(capsys):
    assert main(["robots"]) == 0
    out = capsys.readouterr().out
    assert "g1 " in out and " 29 " in out and "g1_dex3" in out and " 43 " in out
    proc = subprocess.run([sys.executable, "-m", "twin.cli.main", "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("twin 0.")


def test_view_writes_png(tmp_path):
    import imageio.v3 as iio

    out = tmp_path / "panda.png"
    assert main(["view", "panda", f"out={out}", "width=160", "height=120"]) == 0
    img = iio.imread(out)
    assert img.shape == (120, 160, 3)
    assert np.std(img) > 10  # a robot on a floor, not a blank frame


def test_unknown_robot_is_one_line_exit_3(capsys):
    assert main(["view", "atlas"]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("twin: error:") and "atlas" in err and "\n" not in err
