"""Tracking measures shared by the tracking env, ``twin eval tracker`` and ``twin validate``:
one definition of a body's tilt and of the body-local frame that local MPJPE is taken in.

- ``tilt_rad``: angle between a body's z axis and the world's up axis (0 upright, pi/2
  lying), from its quaternion (w, x, y, z).
- ``root_yaw_frame_positions``: body positions relative to body 0 (the root), expressed in
  the root's heading frame (yaw only), so errors ignore where the robot is and which way it
  faces but keep its lean.
- ``local_mpjpe_m``: per-frame mean distance between two bodies' sets in those frames.
"""

from __future__ import annotations

import numpy as np

from twin.rotations import projected_gravity, quat_apply_inverse, quat_from_yaw, yaw_from_quat


def tilt_rad(quat_wxyz: np.ndarray) -> np.ndarray:
    """(...,) tilt from vertical of bodies with orientations ``quat_wxyz`` (..., 4), rad."""
    return np.arccos(np.clip(-projected_gravity(quat_wxyz)[..., 2], -1.0, 1.0))


def root_yaw_frame_positions(pos_w: np.ndarray, root_quat_wxyz: np.ndarray) -> np.ndarray:
    """(N, B, 3) positions of ``pos_w`` (N, B, 3) relative to body 0, in body 0's yaw frame
    given by ``root_quat_wxyz`` (N, 4)."""
    rel = pos_w - pos_w[:, :1]
    yaw_q = quat_from_yaw(yaw_from_quat(root_quat_wxyz))
    return quat_apply_inverse(np.repeat(yaw_q[:, None], pos_w.shape[1], 1), rel)


def local_position_errors_m(pos_w: np.ndarray, root_quat_wxyz: np.ndarray,
                            ref_pos_w: np.ndarray, ref_root_quat_wxyz: np.ndarray
                            ) -> np.ndarray:
    """(N, B) body-local position errors, m (mean over bodies = local MPJPE)."""
    return np.linalg.norm(root_yaw_frame_positions(pos_w, root_quat_wxyz)
                          - root_yaw_frame_positions(ref_pos_w, ref_root_quat_wxyz), axis=-1)
