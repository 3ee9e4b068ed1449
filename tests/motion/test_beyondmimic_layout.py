"""Unnamed BeyondMimic/mjlab G1 clips: column order found by FK, bad layouts refused."""

from __future__ import annotations

import numpy as np
import pytest

from twin.motion.errors import MotionFormatError
from twin.motion.robot_motion import load_robot_motion
from twin.retarget.kinematics import isaac_lab_body_order, robot_model, robot_motion_from_qpos
from twin.robots.g1 import G1_JOINT_NAMES


@pytest.fixture(scope="module")
def clip():
    rng = np.random.default_rng(3)
    T = 40
    t = np.arange(T) / 50.0
    jp = 0.3 * np.sin(2 * np.pi * 0.7 * t[:, None] + rng.uniform(0, 6, 29))
    root = np.stack([0.4 * t, 0.1 * t, 0.78 + 0 * t], axis=1)
    yaw = 0.5 * t
    quat = np.stack([np.cos(yaw / 2), 0 * t, 0 * t, np.sin(yaw / 2)], axis=1)
    return robot_motion_from_qpos("g1", root, quat, jp, 50.0)


def _write(path, m, body_idx=None, joint_idx=None, fps=50.0):
    b = slice(None) if body_idx is None else body_idx
    j = slice(None) if joint_idx is None else joint_idx
    np.savez(path, fps=np.array([fps]), joint_pos=m.joint_pos[:, j].astype(np.float32),
             joint_vel=m.joint_vel[:, j].astype(np.float32),
             body_pos_w=m.body_pos_w[:, b].astype(np.float32),
             body_quat_w=m.body_quat_wxyz[:, b].astype(np.float32),
             body_lin_vel_w=m.body_lin_vel_w[:, b].astype(np.float32),
             body_ang_vel_w=m.body_ang_vel_w[:, b].astype(np.float32))


def test_mujoco_order_is_named_from_the_model(tmp_path, clip):
    _write(tmp_path / "mj.npz", clip)
    m = load_robot_motion(tmp_path / "mj.npz")
    assert m.source["layout_order"] == "mujoco"
    assert m.source["layout_fk_error_mm"]["mujoco"] < 0.01  # float32 storage only
    assert m.source["layout_fk_error_mm"]["isaaclab"] > 100
    assert m.joint_names == G1_JOINT_NAMES and m.body_names == clip.body_names
    np.testing.assert_allclose(m.joint_pos, clip.joint_pos, atol=1e-6)


def test_isaac_lab_order_is_found_and_reordered(tmp_path, clip):
    model = robot_model("g1")
    bodies = isaac_lab_body_order(model)
    body_idx = np.array(bodies) - 1
    assert [model.body(b).name for b in bodies[:4]] == [
        "pelvis", "left_hip_pitch_link", "right_hip_pitch_link", "waist_yaw_link"]
    # Every G1 body but the pelvis carries one hinge: joint column k belongs to body k+1.
    joint_idx = body_idx[1:] - 1
    _write(tmp_path / "isaac.npz", clip, body_idx, joint_idx)
    m = load_robot_motion(tmp_path / "isaac.npz")
    assert m.source["layout_order"] == "isaaclab"
    assert m.source["layout_fk_error_mm"]["isaaclab"] < 0.01
    np.testing.assert_allclose(m.joint_pos, clip.joint_pos, atol=1e-6)
    np.testing.assert_allclose(m.body_pos_w, clip.body_pos_w, atol=1e-6)
    np.testing.assert_allclose(m.body_ang_vel_w, clip.body_ang_vel_w, atol=1e-4)


def test_a_world_body_written_first_is_dropped(tmp_path, clip):
    """UniLab's G1 clips carry 31 bodies: the world body (origin, identity) before the
    pelvis. It is dropped and the other 30 are named by FK; a 31st body that moves is not
    taken for the world."""
    _write(tmp_path / "mj.npz", clip)
    z = dict(np.load(tmp_path / "mj.npz"))
    T = z["joint_pos"].shape[0]
    world = {"body_pos_w": np.zeros((T, 1, 3)), "body_quat_w": np.tile([1.0, 0, 0, 0], (T, 1, 1)),
             "body_lin_vel_w": np.zeros((T, 1, 3)), "body_ang_vel_w": np.zeros((T, 1, 3))}
    for key, w in world.items():
        z[key] = np.concatenate([w.astype(np.float32), z[key]], axis=1)
    np.savez(tmp_path / "world.npz", **z)
    m = load_robot_motion(tmp_path / "world.npz")
    assert m.source["world_body_dropped"] and m.source["layout_order"] == "mujoco"
    assert m.body_names == clip.body_names
    np.testing.assert_allclose(m.body_pos_w, clip.body_pos_w, atol=1e-6)
    assert "world_body_dropped" not in load_robot_motion(tmp_path / "mj.npz").source
    z["body_pos_w"][:, 0, 0] = np.linspace(0.0, 1.0, T)
    np.savez(tmp_path / "moving.npz", **z)
    with pytest.raises(MotionFormatError, match=r"moving.npz: key 'body_pos_w': has 31 bodies "
                       r"and no body_names; expected 30 \(the G1's bodies\), or 31 with the "
                       r"world body first"):
        load_robot_motion(tmp_path / "moving.npz")


def test_layout_matching_no_order_is_one_clear_line(tmp_path, clip):
    rng = np.random.default_rng(0)
    _write(tmp_path / "shuffled.npz", clip, joint_idx=rng.permutation(29))
    with pytest.raises(MotionFormatError, match=r"shuffled.npz.*matches no known G1 body/joint "
                       r"order.*mujoco \d+\.\d cm, isaaclab \d+\.\d cm.*within 1 cm"):
        load_robot_motion(tmp_path / "shuffled.npz")


def test_wrong_body_count_mixed_fps_and_nan_frames(tmp_path, clip):
    _write(tmp_path / "bodies.npz", clip, body_idx=np.arange(20))
    with pytest.raises(MotionFormatError, match=r"bodies.npz: key 'body_pos_w': has 20 bodies "
                       r"and no body_names; expected 30"):
        load_robot_motion(tmp_path / "bodies.npz")
    _write(tmp_path / "fps.npz", clip)
    z = dict(np.load(tmp_path / "fps.npz"))
    z["fps"] = np.array([50.0, 30.0])
    np.savez(tmp_path / "fps.npz", **z)
    with pytest.raises(MotionFormatError, match=r"fps.npz: key 'fps': holds 2 different rates"):
        load_robot_motion(tmp_path / "fps.npz")
    z["fps"] = np.array([50.0])
    z["joint_pos"][7, 3] = np.nan
    np.savez(tmp_path / "nan.npz", **z)
    with pytest.raises(MotionFormatError, match=r"nan.npz: key 'joint_pos': holds NaN/Inf "
                       r"\(first at frame 7\)"):
        load_robot_motion(tmp_path / "nan.npz")


def test_commands_say_which_order_they_found(tmp_path, clip, capsys):
    from twin.cli.main import main
    from twin.motion.robot_motion import layout_note

    _write(tmp_path / "unnamed.npz", clip)
    m = load_robot_motion(tmp_path / "unnamed.npz")
    assert layout_note(m) == ("note: unnamed.npz has no joint/body names; its columns are in "
                              "MuJoCo order (forward kinematics reproduces body_pos_w to "
                              "0.000 mm)")
    assert main(["eval", "tracker", f"motions={tmp_path / 'unnamed.npz'}", "tracker=pd",
                 "baseline=none", f"out={tmp_path / 'ev'}"]) == 0
    assert capsys.readouterr().out.startswith(layout_note(m))
