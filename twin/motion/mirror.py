"""Left-right mirror images of robot motions (reflection through the robot's sagittal,
world x-z, plane): a walk that arcs left becomes one that arcs right, a left-hand reach a
right-hand one. Tracking policies are trained on both (``augment.mirror``) and the PPO
update can use the mirror image of every sample (``twin.train.symmetry``).

Conventions: the reflection maps a point (x, y, z) to (x, -y, z); a rotation R to M R M
with M = diag(1, -1, 1), i.e. a quaternion (w, x, y, z) to (w, -x, y, -z); a joint to its
partner (``left_`` <-> ``right_``, itself for the waist), its angle negated when the partner's
axis is the reflected axis itself (roll and yaw joints) and kept when it is the reflected
axis reversed (pitch joints). The signs are read from the robot model's joint axes, never
from names, and a joint without a mirror partner is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from twin.motion.robot_motion import RobotMotion

_SIDES = (("left_", "right_"), ("right_", "left_"))
REFLECT_Y = np.array([1.0, -1.0, 1.0])  # a point's or a vector's mirror image: (x, -y, z)


def mirror_name(name: str) -> str:
    """``left_x`` <-> ``right_x``; other names are their own mirror."""
    for a, b in _SIDES:
        if name.startswith(a):
            return b + name[len(a):]
    return name


def mirror_names(names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Index of each name's mirror partner in ``names`` (a permutation); names whose
    partner is missing are refused."""
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in names if mirror_name(n) not in index]
    if missing:
        raise ValueError(f"no mirror partner for {missing[:4]}")
    return np.array([index[mirror_name(n)] for n in names], dtype=np.int64)


@dataclass(frozen=True)
class SignedPermutation:
    """``y[..., k] = sign[k] * x[..., source[k]]``; a mirror map is its own inverse."""

    source: np.ndarray  # int
    sign: np.ndarray    # +-1.0

    def apply(self, x: np.ndarray) -> np.ndarray:
        return x[..., self.source] * self.sign


@lru_cache(maxsize=16)
def joint_mirror(robot: str, joint_names: tuple[str, ...]) -> SignedPermutation:
    """The mirror map of ``robot``'s joints ``joint_names`` (see the module docstring)."""
    from twin.retarget.kinematics import joint_axes_w

    axes = joint_axes_w(robot, joint_names)
    source = mirror_names(joint_names)
    sign = np.empty(len(joint_names))
    for k, j in enumerate(source):
        # joint k of the mirror image rotates about the reflected axis of its partner j
        d = float(np.dot(axes[j] * REFLECT_Y, axes[k]))
        if abs(abs(d) - 1.0) > 1e-6:
            raise ValueError(f"{joint_names[k]}: axis {axes[k].round(3)} is not the mirror "
                             f"image of {joint_names[j]}'s {axes[j].round(3)}")
        sign[k] = -1.0 if d > 0 else 1.0
    return SignedPermutation(source, sign)


def _hand_model(robot: str, hand_joint_names: tuple[str, ...]) -> str:
    """The registered model that has ``robot``'s hand joints (the G1 body model has none;
    its Dex3 variant does)."""
    from twin import robots

    for name in (robot, f"{robot}_dex3"):
        if name in robots.names() and set(hand_joint_names) <= set(robots.get(name).joint_names):
            return name
    raise ValueError(f"no registered model of {robot!r} has the hand joints "
                     f"{list(hand_joint_names)[:2]}...")


def mirror_quat_wxyz(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, 1.0, -1.0])


def mirrored_name(name: str) -> str:
    return f"{name}__mirror"


def mirror_motion(motion: RobotMotion, default_name: str = "motion") -> RobotMotion:
    """The mirror image of ``motion``: root and joints reflected, every body pose and
    velocity recomputed by forward kinematics (so the clip stays self-consistent), hand
    joints and hand states swapped with their partners. Human keypoints are not carried.
    Its name is ``mirrored_name`` of the clip's (``default_name`` if it has none)."""
    from twin.retarget.kinematics import robot_motion_from_qpos
    from twin.robots import get

    spec = get(motion.robot)
    jidx = [motion.joint_names.index(n) for n in spec.joint_names]
    joints = joint_mirror(motion.robot, tuple(spec.joint_names)).apply(motion.joint_pos[:, jidx])
    hands = None
    if motion.hand_joint_pos is not None:
        hands = joint_mirror(_hand_model(motion.robot, motion.hand_joint_names),
                             tuple(motion.hand_joint_names)).apply(motion.hand_joint_pos)
    name = motion.clip_name(default_name)
    source = {**motion.source, "mirrored_from": name, "name": mirrored_name(name)}
    return robot_motion_from_qpos(
        motion.robot, motion.root_pos_w * REFLECT_Y,
        mirror_quat_wxyz(motion.root_quat_wxyz), joints, motion.fps,
        hand_joint_names=motion.hand_joint_names, hand_joint_pos=hands,
        hand_state=None if motion.hand_state is None else motion.hand_state[:, ::-1].copy(),
        source=source)
