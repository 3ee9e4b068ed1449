"""The library's transport form: FK-derived clips travel as joints and root, come back whole."""

from __future__ import annotations

import tarfile
from dataclasses import replace

import numpy as np
import pytest

from twin.motion.pack import main, pack, unpack
from twin.motion.robot_motion import load_robot_motion, save_robot_motion
from twin.retarget.kinematics import robot_motion_from_qpos
from twin.robots import get


def _clip(T: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    names = get("g1").joint_names
    t = np.arange(T)[:, None] / 50.0
    joints = 0.2 * np.sin(2 * np.pi * (0.5 + rng.random(len(names))) * t + rng.random(len(names)))
    root = np.column_stack([0.3 * t[:, 0], 0.05 * t[:, 0], np.full(T, 0.78)])
    yaw = 0.4 * t[:, 0]
    quat = np.column_stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)])
    return robot_motion_from_qpos("g1", root, quat, joints, 50.0, source={"name": f"c{seed}"})


def test_fk_clips_travel_as_joints_and_root_and_come_back_whole(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    fk = _clip(seed=0)
    save_robot_motion(fk, src / "fk.npz")
    # motion capture: velocities of its own, not finite differences of the poses
    mocap = _clip(seed=1)
    mocap = replace(mocap, body_lin_vel_w=mocap.body_lin_vel_w + 0.05)
    save_robot_motion(mocap, src / "mocap.npz")

    report = pack(src, tmp_path / "lib.tar.xz")
    assert (report.clips, report.fk_refilled) == (2, 1)
    with tarfile.open(tmp_path / "lib.tar.xz") as tar:
        fk_packed = np.load(tar.extractfile("fk.npz"))
        assert "body_pos_w" not in fk_packed.files and "joint_vel" not in fk_packed.files
        assert fk_packed["joint_pos"].dtype == np.float32
        assert "body_lin_vel_w" in np.load(tar.extractfile("mocap.npz")).files

    assert unpack(tmp_path / "lib.tar.xz", out) == 2
    for name, original in (("fk", fk), ("mocap", mocap)):
        back = load_robot_motion(out / f"{name}.npz")
        assert back.body_names == original.body_names
        assert back.joint_names == original.joint_names
        assert back.clip_name() == original.clip_name()  # its source travels too
        for key in ("joint_pos", "root_pos_w", "body_pos_w"):
            np.testing.assert_allclose(getattr(back, key), getattr(original, key), atol=1e-5)
        np.testing.assert_allclose(back.body_lin_vel_w, original.body_lin_vel_w, atol=1e-4)
        dots = np.abs(np.sum(back.body_quat_wxyz * original.body_quat_wxyz, axis=-1))
        assert dots.min() > 1 - 1e-6
    # the mocap clip kept its own velocities (0.05 m/s off the finite differences)
    refilled = robot_motion_from_qpos("g1", mocap.root_pos_w, mocap.root_quat_wxyz,
                                      mocap.joint_pos, 50.0)
    back = load_robot_motion(out / "mocap.npz")
    assert np.abs(back.body_lin_vel_w - refilled.body_lin_vel_w).mean() == pytest.approx(
        0.05, abs=1e-4)


def test_bad_input_gets_one_line_naming_the_file(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["pack", str(empty), str(tmp_path / "a.tar.xz")]) == 1
    assert f"{empty}: no .npz clips to pack" in capsys.readouterr().err

    bad = tmp_path / "bad"
    bad.mkdir()
    np.savez(bad / "x.npz", joint_pos=np.zeros((3, 29)))
    assert main(["pack", str(bad), str(tmp_path / "b.tar.xz")]) == 1
    err = capsys.readouterr().err.strip()
    assert "x.npz: no field 'robot'" in err and len(err.splitlines()) == 1

    with tarfile.open(tmp_path / "c.tar.xz", "w:xz") as tar:
        tar.add(bad / "x.npz", arcname="../x.npz")
    assert main(["unpack", str(tmp_path / "c.tar.xz"), str(tmp_path / "dst")]) == 1
    assert "member '../x.npz' is not a packed clip" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
