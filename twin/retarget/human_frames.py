"""Link frames derived from human joint positions, for retargeting orientation targets.

Works for every ``HumanMotion`` (SMPL rotations or bare keypoints): pelvis, torso and feet
frames are built from joint positions, then calibrated so that the built-in mean-shape
skeleton standing in its rest pose gives the identity, which is the pose of the matching
G1 links when the robot stands at zero joint angles (x forward, y left, z up).

A foot frame takes its heading from the ankle->toe direction while that direction reaches
well forward; a foot pointing steeply down (swing, toe-off, DeepMimic's run) has a short
horizontal projection whose heading wobbles or flips by 180 deg once the toe passes below
the ankle, which twisted the G1 swing leg (knee targets 38 cm off). There the foot's
lateral axis comes from the knee-ankle-toe plane instead, about which the ankle mostly
hinges.
"""

from __future__ import annotations

import numpy as np

from twin.motion.mirror import mirror_names
from twin.motion.normalise import R_LINK_FROM_SMPL_FRAME
from twin.motion.smpl import SMPL_BODY_JOINT_NAMES, mean_shape_rest_joints

FRAME_NAMES = ("pelvis", "torso", "left_foot", "right_foot")
FRAME_JOINTS: dict[str, tuple[str, ...]] = {
    "pelvis": ("left_hip", "right_hip", "pelvis", "spine1"),
    "torso": ("left_shoulder", "right_shoulder", "spine1", "neck"),
    "left_foot": ("left_knee", "left_ankle", "left_foot"),
    "right_foot": ("right_knee", "right_ankle", "right_foot"),
}
# Horizontal reach of the unit ankle->toe direction (cos of its angle below the horizon):
# at or above STEEP_REACH[1] (60 deg down) the heading is the foot's own, at or below
# STEEP_REACH[0] (75.5 deg down) it is the leg plane's.
STEEP_REACH = (0.25, 0.5)
# Angle of the foot's heading from the leg plane's forward: past BACKWARD_DEG[0] the toe
# points behind the leg (past vertical, DeepMimic's run swings it 175 deg), fully the leg
# plane's heading from BACKWARD_DEG[1]. Real feet splayed out in a squat or on a climbing
# wall measure up to 89 deg (OMOMO 32, holosoma's mocap climb 88).
BACKWARD_DEG = (100.0, 140.0)


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


def _smoothstep(edge0: float, edge1: float, v: np.ndarray) -> np.ndarray:
    """0 at or below ``edge0``, 1 at or above ``edge1`` (either order), smooth between."""
    t = np.clip((v - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _foot_frame(knee: np.ndarray, ankle: np.ndarray, toe: np.ndarray) -> np.ndarray:
    """x along ankle->toe; y to the left: horizontal for a foot that reaches forward,
    blending toward the knee-ankle-toe plane's normal as the foot turns steeply down or
    points behind the leg (module docstring); z = x cross y."""
    up = np.array([0.0, 0.0, 1.0])
    x = _unit(toe - ankle)
    y_flat = _unit(np.cross(up, x))
    flat = np.stack([x, y_flat, np.cross(x, y_flat)], axis=-1)
    # The plane normal is perpendicular to x by construction, so a blend of it and y_flat
    # needs no re-orthogonalising; it degenerates only for a shin and foot in one line.
    y_leg = _unit(np.cross(knee - ankle, toe - ankle))
    reach = np.linalg.norm(x[..., :2], axis=-1)
    # Forward of the leg plane, shortened as the plane tilts: a plane lying flat has no
    # heading to compare with and never counts the foot as pointing backward.
    forward_leg = np.cross(y_leg, up)
    cos_back = np.sum(x * forward_leg, axis=-1) / np.maximum(reach, 1e-9)
    w = np.maximum(_smoothstep(STEEP_REACH[1], STEEP_REACH[0], reach),
                   _smoothstep(*np.cos(np.radians(BACKWARD_DEG)), cos_back))
    if not np.any(w > 0):
        return flat
    y = _unit((1.0 - w)[..., None] * y_flat + w[..., None] * y_leg)
    steep = np.stack([x, y, np.cross(x, y)], axis=-1)
    # Frames with w == 0 keep the flat frame bit for bit.
    return np.where((w > 0)[..., None, None], steep, flat)


def raw_frames(joints: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Uncalibrated (..., 3, 3) frames from named (..., 3) joint positions."""
    j = joints
    return {
        "pelvis": _lateral_frame(j["left_hip"], j["right_hip"], j["pelvis"], j["spine1"]),
        "torso": _lateral_frame(j["left_shoulder"], j["right_shoulder"], j["spine1"], j["neck"]),
        "left_foot": _foot_frame(j["left_knee"], j["left_ankle"], j["left_foot"]),
        "right_foot": _foot_frame(j["right_knee"], j["right_ankle"], j["right_foot"]),
    }


def _rest_calibration(symmetric: bool) -> dict[str, np.ndarray]:
    """Raw frames of the mean shape at rest (``symmetric``: averaged with its mirror image,
    for skeletons whose left and right mirror each other)."""
    rest = mean_shape_rest_joints()[:len(SMPL_BODY_JOINT_NAMES)]
    if symmetric:  # the mean of the rest and its mirror image (x is left in SMPL's frame)
        rest = 0.5 * (rest + rest[mirror_names(SMPL_BODY_JOINT_NAMES)] * [-1.0, 1.0, 1.0])
    rest = rest @ R_LINK_FROM_SMPL_FRAME  # canonical -> x fwd, z up
    named = {n: rest[i] for i, n in enumerate(SMPL_BODY_JOINT_NAMES)}
    return raw_frames(named)


_REST = {False: _rest_calibration(False), True: _rest_calibration(True)}


def link_frames(joint_names: tuple[str, ...], joint_pos_w: np.ndarray,
                symmetric_skeleton: bool = False) -> dict[str, np.ndarray]:
    """(T, 3, 3) world rotations of the pelvis, torso and feet link targets
    (``symmetric_skeleton``: see ``twin.motion.human_motion.SYMMETRIC_SKELETON_KEY``)."""
    named = {n: joint_pos_w[:, joint_names.index(n)] for n in joint_names}
    frames = raw_frames(named)
    rest = _REST[symmetric_skeleton]
    return {k: frames[k] @ rest[k].T for k in FRAME_NAMES}
