"""``HumanMotion``: the one normalised human motion type that readers produce.

Conventions: z-up world, metres, floor at z = 0 (the lowest foot sole over the clip),
joints named with SMPL body-joint names (``twin.motion.smpl.SMPL_BODY_JOINT_NAMES``, a
subset in that order when the source has fewer joints). Joint rotations, when the source
has them, are world-frame quaternions (w, x, y, z) of each joint's frame, with the frame
chosen so that in the rest pose it is x forward, y left, z up (the robot-link convention).
Hand states are (T, 2) int8 in {0 open, 1 half-open, 2 closed}, columns (left, right) by
the subject's anatomical sides (readers convert image-plane conventions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin.motion.errors import MotionFormatError

HUMAN_MOTION_SCHEMA = "twin.human_motion"
HUMAN_MOTION_VERSION = 1
HAND_OPEN, HAND_HALF, HAND_CLOSED = 0, 1, 2


# ``HumanMotion.source`` key a reader sets to "true" when its skeleton is left-right
# symmetric (DeepMimic's URDF, BVH rigs such as LAFAN1's): ``twin.retarget.human_frames``
# then calibrates on the mean shape made symmetric (the mean shape's left hip sits 5 mm below
# its right; calibrated on that, a symmetric subject's pelvis rolls 2.2 deg and its legs bend
# unevenly).
SYMMETRIC_SKELETON_KEY = "skeleton_symmetric"


@dataclass(frozen=True)
class HumanMotion:
    """A normalised human motion.

    Attributes:
        fps: frames per second of every per-frame array.
        joint_names: SMPL body-joint names, in SMPL order.
        joint_pos_w: (T, J, 3) joint positions, z-up world, m.
        joint_quat_wxyz: (T, J, 4) joint-frame rotations in the world (see module
            docstring), or None for position-only sources (keypoint lifters, mocap).
        height_m: subject height (sole to crown), m; exact with a body model, else estimated.
        hand_state: (T, 2) int8 (left, right) anatomical, or None.
        source: provenance: reader format, file, skeleton used, repaired frame count, ...
    """

    fps: float
    joint_names: tuple[str, ...]
    joint_pos_w: np.ndarray
    height_m: float
    joint_quat_wxyz: np.ndarray | None = None
    hand_state: np.ndarray | None = None
    source: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = self.source.get("file")
        T = self.joint_pos_w.shape[0] if self.joint_pos_w.ndim == 3 else -1
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MotionFormatError(where, "fps", f"is {self.fps}; expected a positive number")
        if self.joint_pos_w.ndim != 3 or self.joint_pos_w.shape[1:] != (len(self.joint_names), 3):
            raise MotionFormatError(where, "joint_pos_w", f"has shape {self.joint_pos_w.shape}; "
                                    f"expected (T, {len(self.joint_names)}, 3)")
        if T == 0:
            raise MotionFormatError(where, "joint_pos_w", "has zero frames; expected T >= 1")
        if self.joint_quat_wxyz is not None and self.joint_quat_wxyz.shape != (
                T, len(self.joint_names), 4):
            raise MotionFormatError(where, "joint_quat_wxyz", f"has shape "
                                    f"{self.joint_quat_wxyz.shape}; expected ({T}, "
                                    f"{len(self.joint_names)}, 4)")
        if self.hand_state is not None:
            hs = self.hand_state
            if hs.shape != (T, 2) or not np.isin(hs, (0, 1, 2)).all():
                raise MotionFormatError(where, "hand_state", f"shape {hs.shape} values "
                                        f"{np.unique(hs)[:5]}; expected ({T}, 2) in {{0,1,2}}")

    @property
    def num_frames(self) -> int:
        return int(self.joint_pos_w.shape[0])

    @property
    def duration_s(self) -> float:
        return (self.num_frames - 1) / self.fps

    def joint_index(self, name: str) -> int:
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise MotionFormatError(self.source.get("file"), "joint_names",
                                    f"has no joint {name!r}; has {list(self.joint_names)}") from None

    def joint(self, name: str) -> np.ndarray:
        """(T, 3) world positions of one joint."""
        return self.joint_pos_w[:, self.joint_index(name)]


def save_human_motion(motion: HumanMotion, path: str | Path, writer: str = "twin") -> None:
    """Write a versioned ``.npz`` (schema ``twin.human_motion``) saying what wrote it."""
    arrays: dict[str, np.ndarray] = {
        "schema": np.array(HUMAN_MOTION_SCHEMA), "version": np.array(HUMAN_MOTION_VERSION),
        "writer": np.array(writer),
        "fps": np.array(motion.fps), "joint_names": np.array(motion.joint_names),
        "joint_pos_w": motion.joint_pos_w, "height_m": np.array(motion.height_m),
        "source_keys": np.array(list(motion.source.keys()), dtype=str),
        "source_values": np.array([str(v) for v in motion.source.values()], dtype=str),
    }
    if motion.joint_quat_wxyz is not None:
        arrays["joint_quat_wxyz"] = motion.joint_quat_wxyz
    if motion.hand_state is not None:
        arrays["hand_state"] = motion.hand_state
    np.savez_compressed(path, **arrays)


def load_human_motion_npz(path: str | Path) -> HumanMotion:
    from twin.motion.limits import check_npz_budget

    check_npz_budget(path)  # before decompressing anything
    with np.load(path, allow_pickle=False) as z:
        if "schema" not in z.files or str(z["schema"]) != HUMAN_MOTION_SCHEMA:
            raise MotionFormatError(path, "schema", f"expected {HUMAN_MOTION_SCHEMA!r}")
        if int(z["version"]) > HUMAN_MOTION_VERSION:
            raise MotionFormatError(path, "version", f"is {int(z['version'])}; this twin reads "
                                    f"<= {HUMAN_MOTION_VERSION}")
        src = dict(zip(z["source_keys"].tolist(), z["source_values"].tolist()))
        return HumanMotion(
            fps=float(z["fps"]), joint_names=tuple(z["joint_names"].tolist()),
            joint_pos_w=z["joint_pos_w"].astype(np.float64), height_m=float(z["height_m"]),
            joint_quat_wxyz=z["joint_quat_wxyz"] if "joint_quat_wxyz" in z.files else None,
            hand_state=z["hand_state"] if "hand_state" in z.files else None, source=src,
        )
