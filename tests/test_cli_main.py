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
                          capture_output=True, text=True, check=False)
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


def test_old_flag_spellings_of_lists_and_optional_values(capsys):
    """``add_deprecated_flags``: a flag that took several values becomes ``key=[a,b]``, one
    whose value could be omitted becomes ``key=<const>``; each prints one line."""
    import argparse

    from twin.cli.grammar import add_deprecated_flags, deprecated_items

    p = argparse.ArgumentParser()
    add_deprecated_flags(p, {"--cameras": "cameras", "--demo": "demo", "--video": "video"},
                         switches=("--video",), lists={"--cameras": "+"},
                         optional={"--demo": "basic"})
    args = p.parse_args(["--cameras", "front", "wrist", "--demo", "--video"])
    assert deprecated_items(args, "x") == ["cameras=[front,wrist]", "demo=basic", "video=true"]
    assert capsys.readouterr().err.splitlines() == [
        "twin x: --cameras is deprecated; use cameras=[front,wrist]",
        "twin x: --demo is deprecated; use demo=basic",
        "twin x: --video is deprecated; use video=true"]
    assert deprecated_items(p.parse_args(["--demo", "scene"]), "x") == ["demo=scene"]
    assert "--cameras" not in p.format_help()  # hidden from --help


def test_help_meanings_are_inherited_from_config_base_classes():
    from dataclasses import dataclass

    from twin.cli.grammar import iter_keys

    @dataclass
    class Base:
        size_px: int = 64  # image side in pixels

    @dataclass
    class Command(Base):
        """A command.

        demo: which bundled demo
        """

        demo: str | None = None

    keys = {k.key: (k.type, k.default, k.meaning) for k in iter_keys(Command)}
    assert keys == {"size_px": ("int", 64, "image side in pixels"),
                    "demo": ("str | null", None, "which bundled demo")}
