"""RobotMotion files: twin's versioned npz, BeyondMimic/mjlab-style npz and deployment
CSVs (quaternion order named) round-trip; FK bodies agree with the stored ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from twin.motion import MotionFormatError
from twin.motion.normalise import normalise
from twin.motion.robot_motion import load_robot_motion, save_robot_motion, write_robot_csv
from twin.motion.synthetic import procedural_walk
from twin.retarget import retarget_to_g1
from twin.robots.g1 import G1_JOINT_NAMES


@pytest.fixture(scope="module")
def motion():
    hs = None
    human = normalise(procedural_walk(2.0, 1.0, 50.0))
    from dataclasses import replace

    hs = np.zeros((human.num_frames, 2), dtype=np.int8)
    hs[50:, 1] = 2
    return retarget_to_g1(replace(human, hand_state=hs)).motion


def test_twin_npz_round_trip(tmp_path, motion):
    path = tmp_path / "walk.npz"
    save_robot_motion(motion, path, writer="twin test")
    z = np.load(path)
    assert str(z["schema"]) == "twin.robot_motion" and int(z["version"]) == 1
    assert str(z["writer"]) == "twin test"
    back = load_robot_motion(path)
    for key in ("joint_pos", "joint_vel", "root_pos_w", "root_quat_wxyz", "body_pos_w",
                "body_quat_wxyz", "body_lin_vel_w", "body_ang_vel_w", "hand_joint_pos",
                "hand_state", "human_joint_pos_w"):
        assert np.array_equal(getattr(back, key), getattr(motion, key)), key
    assert back.joint_names == G1_JOINT_NAMES == motion.joint_names
    assert back.body_names == motion.body_names and len(back.body_names) == 30
    assert back.human_joint_names == motion.human_joint_names and len(back.human_joint_names) == 22
    assert back.fps == 50.0 and back.joint_pos.shape == (101, 29)
    assert back.source["residuals"]["frames"] == 101.0
    json.loads(str(z["source"]))  # self-describing: plain JSON


def test_velocities_are_consistent(motion):
    i = motion.body_index("pelvis")
    fd = np.gradient(motion.body_pos_w[:, i], 1 / motion.fps, axis=0)
    assert np.abs(fd - motion.body_lin_vel_w[:, i]).max() < 1e-9
    # Walking at 1 m/s scaled by 1.32/1.70: mean forward pelvis speed ~0.78 m/s.
    assert abs(motion.body_lin_vel_w[:, i, 0].mean() - 0.776) < 0.03
    assert np.abs(motion.body_ang_vel_w[:, i]).max() < 1.0


def test_beyondmimic_style_npz(tmp_path, motion):
    path = tmp_path / "bm.npz"
    qpos = np.concatenate([motion.root_pos_w, motion.root_quat_wxyz, motion.joint_pos], axis=1)
    np.savez(path, fps=np.array([50]), joint_pos=qpos, joint_vel=np.zeros((101, 35)),
             body_pos_w=np.concatenate([np.zeros((101, 1, 3)), motion.body_pos_w], 1),
             body_quat_w=np.concatenate([np.tile([1.0, 0, 0, 0], (101, 1, 1)),
                                         motion.body_quat_wxyz], 1),
             body_lin_vel_w=np.zeros((101, 31, 3)), body_ang_vel_w=np.zeros((101, 31, 3)),
             joint_names=np.array(G1_JOINT_NAMES),
             body_names=np.array(("world",) + motion.body_names))
    back = load_robot_motion(path)
    assert back.body_names == motion.body_names  # 'world' dropped
    assert np.array_equal(back.joint_pos, motion.joint_pos)
    assert np.array_equal(back.root_quat_wxyz, motion.root_quat_wxyz)
    assert back.source["format"] == "beyondmimic_npz"


@pytest.mark.parametrize("order", ["wxyz", "xyzw"])
def test_csv_round_trip_with_named_quaternion_order(tmp_path, motion, order):
    path = tmp_path / f"walk_{order}.csv"
    write_robot_csv(motion, path, quat_order=order)
    back = load_robot_motion(path, csv_quat_order=order)
    assert np.abs(back.joint_pos - motion.joint_pos).max() < 1e-8
    assert np.abs(back.root_quat_wxyz - motion.root_quat_wxyz).max() < 1e-8
    # Bodies come from FK of the CSV's qpos: they match the retargeter's, to print precision.
    assert 1000 * np.abs(back.body_pos_w - motion.body_pos_w).max() < 1e-3
    other = "xyzw" if order == "wxyz" else "wxyz"
    wrong = load_robot_motion(path, csv_quat_order=other)
    assert np.abs(wrong.root_quat_wxyz - motion.root_quat_wxyz).max() > 0.1
    with pytest.raises(MotionFormatError, match="quaternion order"):
        load_robot_motion(path)


def test_bad_robot_motion_files(tmp_path, motion):
    np.savetxt(tmp_path / "short.csv", np.zeros((3, 30)), delimiter=",")
    with pytest.raises(MotionFormatError, match=r"short\.csv: key 'columns': has 30 columns; "
                                                "expected 36"):
        load_robot_motion(tmp_path / "short.csv", csv_quat_order="wxyz")
    np.savez(tmp_path / "x.npz", foo=np.zeros(3))
    with pytest.raises(MotionFormatError, match=r"x\.npz: key 'schema': missing"):
        load_robot_motion(tmp_path / "x.npz")
    path = tmp_path / "m.npz"
    save_robot_motion(motion, path)
    z = dict(np.load(path))
    z["body_pos_w"] = z["body_pos_w"][:, :5]
    np.savez(path, **z)
    with pytest.raises(MotionFormatError, match=r"'body_pos_w': has shape \(101, 5, 3\)"):
        load_robot_motion(path)


def test_frames_is_a_motion_of_those_frames(motion):
    part = motion.frames(10, 40)
    assert part.num_frames == 30 and part.fps == motion.fps
    np.testing.assert_array_equal(part.body_pos_w, motion.body_pos_w[10:40])
    np.testing.assert_array_equal(part.joint_vel[0], motion.joint_vel[10])
    assert part.source["name"].endswith("[10:40]")
    with pytest.raises(ValueError, match="frames 40:10 of a"):
        motion.frames(40, 10)
