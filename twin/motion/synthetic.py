"""Procedural human motions for tests, benchmarks and demos (no data files needed).

``procedural_walk`` makes an SMPL parameter sequence of straight walking: the pelvis moves
forward at a constant speed with a small vertical bob, hips swing in antiphase, the swing
knee flexes, arms hang and swing opposite to the legs. It is kinematically plausible, not
dynamically exact; its value is that every joint angle and the pelvis path are known.
"""

from __future__ import annotations

import numpy as np

from twin.motion.readers import SmplParams
from twin.motion.rotations import (
    R_ZUP_FROM_YUP,
    axis_angle_to_matrix,
    matrix_to_quat,
    quat_to_rotvec,
)
from twin.motion.smpl import SMPL_JOINT_NAMES, mean_shape_rest_joints


def procedural_walk(duration_s: float = 10.0, speed_m_s: float = 1.0, fps: float = 50.0,
                    height_m: float = 1.70, heading_rad: float = 0.0,
                    stride_hz: float = 0.9) -> SmplParams:
    """Straight walking in a z-up (AMASS-style) world along ``heading_rad`` from +x."""
    T = round(duration_s * fps) + 1
    t = np.arange(T) / fps
    phase = 2.0 * np.pi * stride_hz * t
    body = np.zeros((T, 21, 3))
    j = {n: SMPL_JOINT_NAMES.index(n) - 1 for n in SMPL_JOINT_NAMES[1:22]}
    swing = 0.4 * np.sin(phase)
    body[:, j["left_hip"], 0] = -swing  # negative x rotation brings the leg forward
    body[:, j["right_hip"], 0] = swing
    body[:, j["left_knee"], 0] = 0.15 + 0.55 * np.clip(np.cos(phase), 0, None)
    body[:, j["right_knee"], 0] = 0.15 + 0.55 * np.clip(-np.cos(phase), 0, None)
    body[:, j["left_ankle"], 0] = -0.1 * np.sin(phase)
    body[:, j["right_ankle"], 0] = 0.1 * np.sin(phase)
    body[:, j["left_shoulder"], 2] = -1.25  # arms down from the T-pose
    body[:, j["right_shoulder"], 2] = 1.25
    body[:, j["left_shoulder"], 1] = 0.3 * np.sin(phase)  # arm swing opposite the leg
    body[:, j["right_shoulder"], 1] = 0.3 * np.sin(phase)
    body[:, j["left_elbow"], 1] = 0.3
    body[:, j["right_elbow"], 1] = -0.3

    # Root: SMPL faces +z (y up); R_zup turns that to -y, a yaw of 90 deg + heading to +x.
    yaw = heading_rad + np.pi / 2
    Rz = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    R_root = Rz @ R_ZUP_FROM_YUP @ axis_angle_to_matrix(np.zeros(3))
    root = np.tile(quat_to_rotvec(matrix_to_quat(R_root)), (T, 1))
    rest = mean_shape_rest_joints(height_m)
    forward = np.array([np.cos(heading_rad), np.sin(heading_rad), 0.0])
    pelvis = (speed_m_s * t)[:, None] * forward
    pelvis[:, 2] = 0.02 * np.cos(2 * phase)
    transl = pelvis - rest[0]  # pelvis = J0 + transl
    return SmplParams(path="<procedural_walk>", format="procedural", model="smpl",
                      root_orient_aa=root, body_pose_aa=body, betas=np.zeros(10),
                      transl=transl, up_axis="z", fps=fps,
                      info={"speed_m_s": f"{speed_m_s:g}", "duration_s": f"{duration_s:g}"})
