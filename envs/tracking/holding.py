"""The stiff servos' gravity sag, fed forward (``action_mode="reference_holding"``).

A position servo holds its joint only with an error: under a load torque tau it settles
tau / kp short of its target. Replaying a reference on the ``stiff`` servos (kp 500 N m/rad)
therefore stands the G1 1 cm lower than the reference within 0.1 s, tips it forward on its
ankles (pitch errors 0.03-0.06 rad) and, in real walking clips whose swing feet clear the
floor by 1-2 cm, lands the swing foot early, still moving, so that it is stopped short
(docs/tracker.md). In ``reference_holding`` the servo target of every joint is the reference
plus the torque that holds the reference pose still on its stance feet, over kp: zero action
then holds the reference pose. The torques come from quasi-static floating-base inverse
dynamics (gravity only; the root's share carried by wrenches at the stance soles, split by
minimum norm in double support), computed once per library frame by the simulator backend.
"""

from __future__ import annotations

import numpy as np

# A foot supports the robot in a frame when it is within this height of its lowest height in
# the clip (5th percentile, so that floor offsets of the clip do not matter) ...
STANCE_HEIGHT_M = 0.02
# ... and moves slower than this.
STANCE_SPEED_MPS = 0.6


def stance_mask(foot_z_m: np.ndarray, foot_speed_mps: np.ndarray,
                clip_start: np.ndarray, clip_len: np.ndarray) -> np.ndarray:
    """(F, K) bool: foot k supports the robot in library frame f. ``foot_z_m`` and
    ``foot_speed_mps`` are (F, K) over the concatenated clips."""
    out = np.zeros(foot_z_m.shape, dtype=bool)
    for s, n in zip(clip_start, clip_len):
        z, v = foot_z_m[s:s + n], foot_speed_mps[s:s + n]
        out[s:s + n] = (z < np.percentile(z, 5, axis=0) + STANCE_HEIGHT_M) & (v < STANCE_SPEED_MPS)
        # a frame with no foot on the floor leans on the lower one (the root must rest on
        # something for the joint torques to be the standing ones)
        none = ~out[s:s + n].any(axis=1)
        out[s:s + n][none, np.argmin(z[none], axis=1)] = True
    return out


def holding_offsets_rad(backend, qpos_frames: np.ndarray, foot_body_ids: np.ndarray,
                        sole_center_b: np.ndarray, stance: np.ndarray, qvel_idx: np.ndarray,
                        act_idx: np.ndarray) -> np.ndarray:
    """(F, J) servo-target offsets, rad: the joints' holding torques (clipped to the effort
    limits) over the servos' kp, for the configurations ``qpos_frames`` (F, nq)."""
    tau = backend.static_holding_forces(qpos_frames, foot_body_ids, sole_center_b,
                                        stance)[:, qvel_idx]
    kp, _ = backend.actuator_pd_gains(act_idx)
    effort = backend.actuator_force_limits()[act_idx]
    return np.clip(tau, -effort, effort) / kp
