"""Tracking measures shared by the tracking env, ``twin eval tracker`` and ``twin validate``:
one definition of a body's tilt and of the body-local frame that local MPJPE is taken in.

- ``tilt_rad``: angle between a body's z axis and the world's up axis (0 upright, pi/2
  lying), from its quaternion (w, x, y, z).
- ``root_yaw_frame_positions``: body positions relative to body 0 (the root), expressed in
  the root's heading frame (yaw only), so errors ignore where the robot is and which way it
  faces but keep its lean.
- ``local_mpjpe_m``: per-frame mean distance between two bodies' sets in those frames.
- ``sole_slip_sq``: squared horizontal speed of each sole point near the floor (the training
  reward's stand-in for ``twin validate``'s contact-point foot slip).
"""

from __future__ import annotations

import numpy as np

from twin.rotations import (
    projected_gravity,
    quat_apply,
    quat_apply_inverse,
    quat_from_yaw,
    yaw_from_quat,
)


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


def sole_slip_sq(pos_w: np.ndarray, quat_wxyz: np.ndarray, lin_vel_w: np.ndarray,
                 ang_vel_w: np.ndarray, sole_b: np.ndarray, near_floor_m: float = 0.02
                 ) -> np.ndarray:
    """(..., K) squared horizontal speed, (m/s)^2, of the point ``sole_b`` (body frame) of K
    foot bodies (origin ``pos_w``, orientation ``quat_wxyz``, origin velocity ``lin_vel_w``,
    angular velocity ``ang_vel_w``, all world frame) where that point is within
    ``near_floor_m`` of z = 0, else 0."""
    r = quat_apply(quat_wxyz, np.broadcast_to(sole_b, pos_w.shape))
    v = lin_vel_w + np.cross(ang_vel_w, r)
    on_floor = (pos_w[..., 2] + r[..., 2]) < near_floor_m
    return np.where(on_floor, v[..., 0] ** 2 + v[..., 1] ** 2, 0.0)
