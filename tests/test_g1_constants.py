"""The G1 gains follow from motor physics and reproduce the published numbers."""

import pytest

from twin.robots.g1 import G1_JOINT_NAMES
from twin.robots.g1_constants import (
    MOTOR_4010,
    MOTOR_5020,
    MOTOR_7520_14,
    MOTOR_7520_22,
    MOTOR_DOUBLE_5020,
    g1_motor_for_joint,
)


@pytest.mark.parametrize("motor,kp,kd", [
    (MOTOR_5020, 14.25, 0.907), (MOTOR_7520_14, 40.18, 2.558), (MOTOR_7520_22, 99.10, 6.309),
    (MOTOR_4010, 16.78, 1.068), (MOTOR_DOUBLE_5020, 28.50, 1.814),
])
def test_kp_kd(motor, kp, kd):
    assert motor.kp == pytest.approx(kp, abs=0.005)
    assert motor.kd == pytest.approx(kd, abs=0.0005)


def test_armatures_match_published_values():
    assert MOTOR_5020.armature_kgm2 == pytest.approx(0.00361, abs=5e-6)
    assert MOTOR_7520_14.armature_kgm2 == pytest.approx(0.01018, abs=5e-6)
    assert MOTOR_7520_22.armature_kgm2 == pytest.approx(0.02510, abs=5e-6)
    assert MOTOR_4010.armature_kgm2 == pytest.approx(0.00425, abs=5e-6)
    assert MOTOR_DOUBLE_5020.armature_kgm2 == pytest.approx(0.00722, abs=5e-6)


def test_joint_to_motor_map():
    expect = {
        "left_hip_pitch_joint": "7520-14", "right_hip_yaw_joint": "7520-14",
        "waist_yaw_joint": "7520-14", "left_hip_roll_joint": "7520-22",
        "right_knee_joint": "7520-22", "left_shoulder_pitch_joint": "5020",
        "right_elbow_joint": "5020", "left_wrist_roll_joint": "5020",
        "left_ankle_pitch_joint": "2x5020", "right_ankle_roll_joint": "2x5020",
        "waist_roll_joint": "2x5020", "waist_pitch_joint": "2x5020",
        "left_wrist_pitch_joint": "4010", "right_wrist_yaw_joint": "4010",
    }
    for joint, motor in expect.items():
        assert g1_motor_for_joint(joint).name == motor
    assert len({g1_motor_for_joint(j).name for j in G1_JOINT_NAMES}) == 5


def test_action_scale_is_quarter_effort_over_kp():
    assert MOTOR_7520_22.action_scale_rad == pytest.approx(0.25 * 139.0 / 99.10, rel=1e-3)


def test_unknown_joint_is_a_clear_error():
    with pytest.raises(KeyError, match="no G1 motor"):
        g1_motor_for_joint("left_tail_joint")
