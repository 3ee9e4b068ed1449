"""Link frames derived from human joint positions, for retargeting orientation targets.

Works for every ``HumanMotion`` (SMPL rotations or bare keypoints): pelvis, torso and feet
frames are built from joint positions, then calibrated so that the built-in mean-shape
skeleton standing in its rest pose gives the identity, which is the pose of the matching
G1 links when the robot stands at zero joint angles (x forward, y left, z up).
"""

from __future__ import annotations

import numpy as np

from twin.motion.normalise import R_LINK_FROM_SMPL_FRAME
from twin.motion.smpl import SMPL_BODY_JOINT_NAMES, mean_shape_rest_joints

FRAME_NAMES = ("pelvis", "torso", "left_foot", "right_foot")
FRAME_JOINTS: dict[str, tuple[str, ...]] = {
    "pelvis": ("left_hip", "right_hip", "pelvis", "spine1"),
    "torso": ("left_shoulder", "right_shoulder", "spine1", "neck"),
    "left_foot": ("left_ankle", "left_foot"),
    "right_foot": ("right_ankle", "right_foot"),
}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _lateral_frame(left: np.ndarray, right: np.ndarray, low: np.ndarray, high: np.ndarray
                   ) -> np.ndarray:
    """y from right to left, z up along low->high (made orthogonal to y), x = y x z."""
    y = _unit(left - right)
    up = high - low
    z = _unit(up - np.sum(up * y, axis=-1, keepdims=True) * y)
    x = np.cross(y, z)
    return np.stack([x, y, z], axis=-1)


def _foot_frame(ankle: np.ndarray, toe: np.ndarray) -> np.ndarray:
    """x along ankle->toe, y horizontal to the left, z = x cross y."""
    x = _unit(toe - ankle)
    y = _unit(np.cross(np.array([0.0, 0.0, 1.0]), x))
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)


def raw_frames(joints: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Uncalibrated (..., 3, 3) frames from named (..., 3) joint positions."""
    j = joints
    return {
        "pelvis": _lateral_frame(j["left_hip"], j["right_hip"], j["pelvis"], j["spine1"]),
        "torso": _lateral_frame(j["left_shoulder"], j["right_shoulder"], j["spine1"], j["neck"]),
        "left_foot": _foot_frame(j["left_ankle"], j["left_foot"]),
        "right_foot": _foot_frame(j["right_ankle"], j["right_foot"]),
    }


def _rest_calibration() -> dict[str, np.ndarray]:
    rest = mean_shape_rest_joints() @ R_LINK_FROM_SMPL_FRAME  # canonical -> x fwd, z up
    named = {n: rest[i] for i, n in enumerate(SMPL_BODY_JOINT_NAMES)}
    return raw_frames(named)


_REST = _rest_calibration()


def link_frames(joint_names: tuple[str, ...], joint_pos_w: np.ndarray) -> dict[str, np.ndarray]:
    """(T, 3, 3) world rotations of the pelvis, torso and feet link targets."""
    named = {n: joint_pos_w[:, joint_names.index(n)] for n in joint_names}
    frames = raw_frames(named)
    return {k: frames[k] @ _REST[k].T for k in FRAME_NAMES}
