"""IK targets from a ``HumanMotion``, respecting the robot's proportions (numpy only).

Scaling every human joint by robot height / subject height keeps the path but not the
limbs: the G1's legs are relatively longer than a scaled human's, so uniform targets force
bent knees and pull knee targets ~10 cm off. Targets here are:

- pelvis: horizontal position ``s * p`` (s = robot height / subject height, the path the
  root must keep), height ``s_z * p_z`` with ``s_z`` = robot / human standing pelvis height
  (so a standing human gives a standing robot), orientation from the hips and spine;
- torso and feet: orientations derived from joint positions (``human_frames``);
- ankles: horizontal ``s * p``, height above the robot's standing ankle height scaled by
  ``s``, measured from where that ankle stands when its foot is planted (``planted_height``):
  a subject's two ankle joints need not sit at the same height (OMOMO sub3: the left 1.5 cm
  above the right), and a nominal height for both left one G1 foot floating 2 cm;
- knees, elbows and wrists: the robot hip / shoulder / elbow target plus the robot's thigh /
  upper-arm / forearm length along the human's limb direction, so the robot bends its
  elbows as far as the human does. Wrists at the scaled position instead
  (pelvis + ``s`` * (wrist - pelvis)) lie out of reach of the G1's shorter arm: the IK
  straightened the elbow into its hyperextension limit and bent the wrist pitch by 1.3 rad
  to stretch, for a relaxed hanging arm.

The subject's standing pelvis and ankle heights are estimated from SMPL proportions unless
the motion's skeleton fixes them (``known_proportion``): a skeleton other than SMPL's
(DeepMimic's humanoid3d: 1.010 m estimated, 0.970 m true) otherwise walks the G1 crouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.motion.human_motion import HumanMotion
from twin.motion.smpl import ANKLE_HEIGHT_FRACTION

# ``HumanMotion.source`` keys (values str, m) by which a reader whose skeleton fixes its
# proportions passes them on; they survive ``save_human_motion`` with the rest of source.
STANDING_PELVIS_KEY = "standing_pelvis_height_m"
ANKLE_HEIGHT_KEY = "ankle_height_m"


@dataclass(frozen=True)
class RobotGeometry:
    """Robot link offsets at zero joint angles, standing on z = 0 (x fwd, y left, z up), m.

    ``hip_in_pelvis`` / ``shoulder_in_torso``: {"left"/"right": (3,)};
    ``thigh_m`` / ``upper_arm_m`` / ``forearm_m``: knee-from-hip, elbow-from-shoulder and
    hand (wrist yaw link)-from-elbow lengths;
    ``torso_in_pelvis``: torso link origin in the pelvis frame; ``pelvis_height_m`` and
    ``ankle_height_m``: heights above the soles.
    """

    hip_in_pelvis: dict[str, np.ndarray]
    thigh_m: float
    torso_in_pelvis: np.ndarray
    shoulder_in_torso: dict[str, np.ndarray]
    upper_arm_m: float
    forearm_m: float
    pelvis_height_m: float
    ankle_height_m: float
    height_m: float


@dataclass(frozen=True)
class Targets:
    """Per-frame targets (world, m): ``pos[name]`` (T, 3) and ``rot[name]`` (T, 3, 3);
    names are human joint names for positions and frame names for rotations."""

    pos: dict[str, np.ndarray]
    rot: dict[str, np.ndarray]
    scale: float
    scale_z: float


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


STILL_SPEED_M_S = 0.1  # an ankle slower than this (horizontally and vertically) is planted
PLANTED_BAND_M = 0.03  # planted frames this far above the lowest one are on a raised heel
MIN_PLANTED_S = 0.25  # less planted time than this: keep the nominal ankle height
MAX_GROUNDING_M = 0.04  # a larger correction is terrain or a wrong height, not a skeleton


def planted_height(ankle_pos: np.ndarray, fps: float, nominal_m: float) -> float:
    """Height (m) of an ankle joint when its foot stands flat on the floor: the 10th
    percentile over the frames where the ankle is still and within ``PLANTED_BAND_M`` of
    its lowest still height. ``nominal_m`` when the foot is planted less than
    ``MIN_PLANTED_S``; never more than ``MAX_GROUNDING_M`` from ``nominal_m``."""
    speed = np.linalg.norm(np.diff(ankle_pos, axis=0), axis=1) * fps
    z = 0.5 * (ankle_pos[1:, 2] + ankle_pos[:-1, 2])[speed < STILL_SPEED_M_S]
    if z.size < MIN_PLANTED_S * fps:
        return nominal_m
    z = z[z < z.min() + PLANTED_BAND_M]
    return float(np.clip(np.percentile(z, 10), nominal_m - MAX_GROUNDING_M,
                         nominal_m + MAX_GROUNDING_M))


def known_proportion(human: HumanMotion, key: str) -> float | None:
    """A height (m) the motion's skeleton fixes (``human.source[key]``), else None."""
    return float(human.source[key]) if key in human.source else None


def human_ankle_height(human: HumanMotion) -> float:
    """Height (m) of the subject's ankle joints above the soles when standing."""
    known = known_proportion(human, ANKLE_HEIGHT_KEY)
    return ANKLE_HEIGHT_FRACTION * human.height_m if known is None else known


def human_standing_pelvis_height(human: HumanMotion) -> float:
    """Pelvis height of the subject standing straight: the skeleton's own when it fixes it,
    else hip drop + leg length + ankle height."""
    known = known_proportion(human, STANDING_PELVIS_KEY)
    if known is not None:
        return known
    j = human.joint
    legs, drops = [], []
    for side in ("left", "right"):
        legs.append(np.linalg.norm(j(f"{side}_hip") - j(f"{side}_knee"), axis=-1)
                    + np.linalg.norm(j(f"{side}_knee") - j(f"{side}_ankle"), axis=-1))
        drops.append(np.linalg.norm(j("pelvis") - j(f"{side}_hip"), axis=-1))
    leg = float(np.median(np.mean(legs, axis=0)))
    # The hip joints sit below and beside the pelvis joint; only the vertical part counts,
    # which at the rest pose is ~85 % of the pelvis-hip distance (mean-shape skeleton).
    drop = 0.85 * float(np.median(np.mean(drops, axis=0)))
    return drop + leg + human_ankle_height(human)


def compute_targets(human: HumanMotion, robot: RobotGeometry,
                    frames: dict[str, np.ndarray]) -> Targets:
    """All IK targets for ``human`` on a robot of geometry ``robot`` (see module docstring).

    ``frames``: derived human link frames (``human_frames.link_frames``), (T, 3, 3).
    """
    s = robot.height_m / human.height_m
    s_z = robot.pelvis_height_m / human_standing_pelvis_height(human)
    j = human.joint
    pelvis_h = j("pelvis")
    pelvis = np.concatenate([s * pelvis_h[:, :2], s_z * pelvis_h[:, 2:]], axis=1)
    R_pelvis, R_torso = frames["pelvis"], frames["torso"]
    pos = {"pelvis": pelvis}
    ankle_h = human_ankle_height(human)
    torso = pelvis + R_pelvis @ robot.torso_in_pelvis
    for side in ("left", "right"):
        ankle = j(f"{side}_ankle")
        rest_h = planted_height(ankle, human.fps, ankle_h)
        pos[f"{side}_ankle"] = np.concatenate(
            [s * ankle[:, :2], robot.ankle_height_m + s * (ankle[:, 2:] - rest_h)], axis=1)
        hip = pelvis + R_pelvis @ robot.hip_in_pelvis[side]
        pos[f"{side}_knee"] = hip + robot.thigh_m * _unit(j(f"{side}_knee") - j(f"{side}_hip"))
        shoulder = torso + R_torso @ robot.shoulder_in_torso[side]
        pos[f"{side}_elbow"] = shoulder + robot.upper_arm_m * _unit(
            j(f"{side}_elbow") - j(f"{side}_shoulder"))
        pos[f"{side}_wrist"] = pos[f"{side}_elbow"] + robot.forearm_m * _unit(
            j(f"{side}_wrist") - j(f"{side}_elbow"))
    return Targets(pos=pos, rot=dict(frames), scale=s, scale_z=s_z)
