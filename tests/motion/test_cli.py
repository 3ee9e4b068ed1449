"""``twin retarget`` and ``twin motion show`` on generated files: exit codes, outputs, and
one-line errors."""

from __future__ import annotations

import argparse
import json

import motion_synth as ms
import numpy as np
import pytest

from twin.cli.motion_cmds import add_motion_commands
from twin.motion import MotionFormatError
from twin.motion.robot_motion import load_robot_motion
from twin.motion.smpl import mean_shape_rest_joints


def _run(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="twin")
    add_motion_commands(p.add_subparsers(dest="command"))
    args = p.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def gvhmr(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    return ms.write_gvhmr(ms.make_motion(T=45), d / "hmr4d_results.pt")


def test_retarget_writes_a_robot_motion(gvhmr, tmp_path, capsys):
    out = tmp_path / "g1.npz"
    assert _run(["retarget", str(gvhmr), "-o", str(out), "--fps", "30",
                 "--csv", str(tmp_path / "g1.csv"), "--residuals", str(tmp_path / "res.csv")]) == 0
    text = capsys.readouterr().out
    assert "as gvhmr" in text and "root drift" in text and "repaired NaN/Inf frames: 0" in text
    m = load_robot_motion(out)
    assert m.fps == 50.0 and m.joint_pos.shape == (74, 29)  # 45 frames at 30 Hz -> 50 Hz
    res = np.genfromtxt(tmp_path / "res.csv", delimiter=",", names=True)
    assert len(res) == 74 and res["root_drift_xy_m"].max() < 0.05
    assert res["pos_pelvis_m"].mean() < 0.01
    csv = load_robot_motion(tmp_path / "g1.csv", csv_quat_order="xyzw")
    assert np.abs(csv.joint_pos - m.joint_pos).max() < 1e-6


def test_retarget_gvhmr_defaults_to_30_fps_with_a_note(gvhmr, tmp_path, capsys):
    # GVHMR results carry no frame rate: README's `twin retarget hmr4d_results.pt -o walk.npz`
    from twin.cli.main import main

    assert main(["retarget", str(gvhmr), "-o", str(tmp_path / "x.npz")]) == 0
    text = capsys.readouterr().out
    assert "note: gvhmr results carry no frame rate; assuming 30 fps" in text
    assert load_robot_motion(tmp_path / "x.npz").joint_pos.shape == (74, 29)
    # fps=N is spelled as in `twin validate`; 25 fps stretches 45 frames to 1.76 s
    assert main(["retarget", str(gvhmr), "fps=25", "-o", str(tmp_path / "y.npz")]) == 0
    assert "note:" not in capsys.readouterr().out
    assert load_robot_motion(tmp_path / "y.npz").joint_pos.shape == (89, 29)
    with pytest.raises(MotionFormatError, match="expected a positive number from 1 to 1000"):
        _run(["retarget", str(gvhmr), "-o", str(tmp_path / "z.npz"), "--fps", "1e-6"])


def test_retarget_repair_reports_count(tmp_path, capsys):
    m = ms.make_motion(T=30)
    path = ms.write_amass_smplx(m, mean_shape_rest_joints(), tmp_path / "a.npz")
    data = dict(np.load(path))
    data["pose_body"][7, 3] = np.nan
    np.savez(path, **data)
    assert _run(["retarget", str(path), "-o", str(tmp_path / "o.npz"), "--repair"]) == 0
    assert "repaired NaN/Inf frames: 1" in capsys.readouterr().out


def test_motion_show_robot_and_human(gvhmr, tmp_path, capsys):
    out = tmp_path / "g1.npz"
    _run(["retarget", str(gvhmr), "-o", str(out), "--fps", "30"])
    capsys.readouterr()
    assert _run(["motion", "show", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "robot_motion" and summary["frames"] == 74
    assert summary["joints"] == 29 and summary["human_skeleton"] is True
    assert _run(["motion", "show", str(gvhmr), "--fps", "30", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "human_motion" and summary["joints"] == 22


def test_main_entry_point_prints_one_line_errors(tmp_path, capsys):
    main = pytest.importorskip("twin.cli.main").main
    bad = tmp_path / "motion.npz"
    bad.write_bytes(b"not a zip")
    assert main(["retarget", str(bad), "-o", str(tmp_path / "o.npz")]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "motion.npz" in err


def test_motion_show_video(gvhmr, tmp_path, capsys):
    pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "g1.npz"
    _run(["retarget", str(gvhmr), "-o", str(out), "--fps", "30"])
    video = tmp_path / "g1.mp4"
    assert _run(["motion", "show", str(out), "--video", str(video), "--video-width", "320",
                 "--video-height", "192", "--video-fps", "10"]) == 0
    import av

    with av.open(str(video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 15 and frames[0].shape == (192, 320, 3)  # 1.5 s at 10 fps
    # Both the robot (grey) and the skeleton (orange capsules) are in the picture.
    f = frames[5].astype(int)
    orange = f[..., 0] - f[..., 2] > 60
    assert orange.sum() > 50  # measured ~150 px at 320x192
