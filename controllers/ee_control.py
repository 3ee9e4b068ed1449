"""End-effector action interfaces for arm envs: ``ee_delta`` (VideoVLA's 7-D actions),
``ee_abs`` and ``joint_pos``, gripper-convention adapters, and the controller that turns
them into joint-position targets through differential IK.

Conventions (explicit in ``EEControlConfig``, never implied):

- ``ee_delta`` action = [d_rotation (3), d_translation (3, m), gripper (1)], one per control
  step. ``rotation="axis_angle"`` is a rotation vector (rad); ``rotation="euler_xyz"`` is
  extrinsic roll-pitch-yaw about the fixed x, y, z axes (R = Rz(yaw) Ry(pitch) Rx(roll)).
  ``frame="base"``: translation and rotation axes are the robot base frame's, rotation
  applied about the end-effector point (R_new = dR R). ``frame="ee"``: both in the current
  end-effector frame (p_new = p + R dp, R_new = R dR).
- ``ee_abs`` action = [rotation (3), position (3, m), gripper (1)], pose in the base frame.
- ``joint_pos`` action = arm joint targets (rad, the env's arm joint order) + gripper (1).
- The gripper command is mapped to an *open fraction* in [0, 1] (1 open, 0 closed) by the
  ``gripper`` convention: ``open01`` (VideoVLA: 1 open, 0 closed), ``close01``,
  ``signed_open`` (+1 open, -1 closed), ``signed_close`` (+1 closed, -1 open), ``relative``
  (the action is a change of the open fraction, positive opens).

The IK solver is pluggable (``IKSolver``); ``controllers/mink_ik.py`` is the MuJoCo + mink
implementation. This module is numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from scipy.spatial.transform import Rotation

ACTION_MODES = ("ee_delta", "ee_abs", "joint_pos")
ROTATIONS = ("axis_angle", "euler_xyz")
FRAMES = ("base", "ee")
GRIPPER_CONVENTIONS = ("open01", "close01", "signed_open", "signed_close", "relative")
DELTA_ORIGINS = ("measured", "target")

ActionMode = Literal["ee_delta", "ee_abs", "joint_pos"]


@dataclass(frozen=True)
class EEControlConfig:
    """How an arm action is read and tracked. Per-control-step limits bound the action space.

    ``delta_origin="target"`` (default) applies a delta to the previous commanded target,
    kept within ``max_target_lead_m`` of the measured end effector (no steady-state lag, no
    wind-up against contacts); ``"measured"`` applies it to the measured pose.
    """

    mode: str = "ee_delta"
    rotation: str = "axis_angle"
    frame: str = "base"
    gripper: str = "open01"
    max_translation_m: float = 0.05  # |d_translation| bound per step, each axis
    max_rotation_rad: float = 0.5  # |d_rotation| bound per step, each component
    delta_origin: str = "target"
    max_target_lead_m: float = 0.06  # a target-origin target stays this close to the EE
    relative_gripper_step: float = 1.0  # open-fraction change per unit relative action

    def __post_init__(self) -> None:
        for name, value, allowed in (("mode", self.mode, ACTION_MODES),
                                     ("rotation", self.rotation, ROTATIONS),
                                     ("frame", self.frame, FRAMES),
                                     ("gripper", self.gripper, GRIPPER_CONVENTIONS),
                                     ("delta_origin", self.delta_origin, DELTA_ORIGINS)):
            if value not in allowed:
                raise ValueError(f"control.{name}: {value!r}; expected one of {list(allowed)}")
        if self.max_translation_m <= 0 or self.max_rotation_rad <= 0:
            raise ValueError("control: max_translation_m and max_rotation_rad must be > 0")

    def action_dim(self, num_arm_joints: int) -> int:
        return num_arm_joints + 1 if self.mode == "joint_pos" else 7

    def gripper_bounds(self) -> tuple[float, float]:
        if self.gripper in ("open01", "close01"):
            return 0.0, 1.0
        return -1.0, 1.0


# --- rotations (batched, numpy; scipy quaternions are xyzw and stay inside this module) --
def rotation_to_matrix(vec: np.ndarray, rep: str) -> np.ndarray:
    """(N, 3) rotation vectors or extrinsic xyz Euler angles -> (N, 3, 3)."""
    if rep == "axis_angle":
        return Rotation.from_rotvec(vec).as_matrix()
    if rep == "euler_xyz":
        return Rotation.from_euler("xyz", vec).as_matrix()
    raise ValueError(f"rotation {rep!r}; expected one of {list(ROTATIONS)}")


def matrix_to_rotation(R: np.ndarray, rep: str) -> np.ndarray:
    """(N, 3, 3) -> (N, 3) in ``rep``."""
    if rep == "axis_angle":
        return Rotation.from_matrix(R).as_rotvec()
    if rep == "euler_xyz":
        return Rotation.from_matrix(R).as_euler("xyz")
    raise ValueError(f"rotation {rep!r}; expected one of {list(ROTATIONS)}")


def matrix_to_quat_wxyz(R: np.ndarray) -> np.ndarray:
    q = Rotation.from_matrix(R).as_quat()  # xyzw
    q = np.concatenate([q[..., 3:], q[..., :3]], axis=-1)
    return np.where(q[..., :1] < 0, -q, q)  # canonical: w >= 0


def delta_between(R_from: np.ndarray, R_to: np.ndarray, rep: str, frame: str) -> np.ndarray:
    """The ``ee_delta`` rotation taking R_from to R_to in ``frame`` (the inverse of
    ``apply_delta``'s rotation part); (N, 3)."""
    dR = R_to @ np.swapaxes(R_from, -1, -2) if frame == "base" else np.swapaxes(R_from, -1, -2) @ R_to
    return matrix_to_rotation(dR, rep)


def apply_delta(pos: np.ndarray, R: np.ndarray, d_rot: np.ndarray, d_pos: np.ndarray,
                rep: str, frame: str) -> tuple[np.ndarray, np.ndarray]:
    """Compose a pose (base frame: pos (N, 3), R (N, 3, 3)) with an ``ee_delta``."""
    dR = rotation_to_matrix(d_rot, rep)
    if frame == "base":
        return pos + d_pos, dR @ R
    return pos + np.einsum("nij,nj->ni", R, d_pos), R @ dR


# --- gripper ------------------------------------------------------------------------------
def gripper_open_fraction(cmd: np.ndarray, convention: str, state: np.ndarray | None = None,
                          relative_step: float = 1.0) -> np.ndarray:
    """Map a gripper command (N,) in ``convention`` to the open fraction in [0, 1]."""
    cmd = np.asarray(cmd, dtype=np.float64)
    if convention == "open01":
        out = cmd
    elif convention == "close01":
        out = 1.0 - cmd
    elif convention == "signed_open":
        out = 0.5 * (cmd + 1.0)
    elif convention == "signed_close":
        out = 0.5 * (1.0 - cmd)
    elif convention == "relative":
        if state is None:
            raise ValueError("relative gripper commands need the current open fraction")
        out = state + relative_step * cmd
    else:
        raise ValueError(f"gripper {convention!r}; expected one of {list(GRIPPER_CONVENTIONS)}")
    return np.clip(out, 0.0, 1.0)


def gripper_command(open_fraction: np.ndarray, convention: str,
                    state: np.ndarray | None = None, relative_step: float = 1.0) -> np.ndarray:
    """Inverse of ``gripper_open_fraction``: the command that yields ``open_fraction``."""
    f = np.asarray(open_fraction, dtype=np.float64)
    if convention == "open01":
        return f
    if convention == "close01":
        return 1.0 - f
    if convention == "signed_open":
        return 2.0 * f - 1.0
    if convention == "signed_close":
        return 1.0 - 2.0 * f
    if convention == "relative":
        return np.clip((f - state) / relative_step, -1.0, 1.0)
    raise ValueError(f"gripper {convention!r}; expected one of {list(GRIPPER_CONVENTIONS)}")


# --- IK + controller ----------------------------------------------------------------------
class IKSolver(Protocol):
    """Differential IK for one arm: joint targets reaching an end-effector pose (world)."""

    def solve(self, q_robot: np.ndarray, target_pos_w: np.ndarray,
              target_rot_w: np.ndarray) -> np.ndarray:
        """q_robot: all robot joints (the solver's joint order); returns arm joint targets."""
        ...


class EEController:
    """Turns (N, A) actions into arm joint targets (N, J) and gripper open fractions (N,).

    Poses passed in and kept here are in the robot base frame; ``base_pos_w``/``base_rot_w``
    convert to the world for the IK solver.
    """

    def __init__(self, cfg: EEControlConfig, ik: IKSolver | None, num_envs: int,
                 num_arm_joints: int, base_pos_w: np.ndarray, base_rot_w: np.ndarray,
                 joint_limits: np.ndarray):
        self.cfg = cfg
        self.ik = ik
        self.num_arm_joints = num_arm_joints
        self.base_pos_w = np.asarray(base_pos_w, dtype=np.float64)
        self.base_rot_w = np.asarray(base_rot_w, dtype=np.float64)
        self.limits = np.asarray(joint_limits, dtype=np.float64)
        self.target_pos = np.zeros((num_envs, 3))
        self.target_rot = np.tile(np.eye(3), (num_envs, 1, 1))
        self.open_fraction = np.ones(num_envs)

    def reset(self, env_ids: np.ndarray, ee_pos_b: np.ndarray, ee_rot_b: np.ndarray,
              open_fraction: np.ndarray | float = 1.0) -> None:
        self.target_pos[env_ids] = ee_pos_b
        self.target_rot[env_ids] = ee_rot_b
        self.open_fraction[env_ids] = open_fraction

    def compute(self, action: np.ndarray, q_robot: np.ndarray, arm_cols: np.ndarray,
                ee_pos_b: np.ndarray, ee_rot_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """action (N, A); q_robot (N, R) all robot joints in the IK solver's order, arm joints
        at columns ``arm_cols``; measured end-effector pose (N, 3), (N, 3, 3), base frame."""
        cfg = self.cfg
        grip = action[:, -1]
        self.open_fraction = gripper_open_fraction(grip, cfg.gripper, self.open_fraction,
                                                   cfg.relative_gripper_step)
        if cfg.mode == "joint_pos":
            q = np.clip(action[:, :self.num_arm_joints], self.limits[:, 0], self.limits[:, 1])
            return q, self.open_fraction.copy()
        if cfg.mode == "ee_delta":
            d_rot = np.clip(action[:, 0:3], -cfg.max_rotation_rad, cfg.max_rotation_rad)
            d_pos = np.clip(action[:, 3:6], -cfg.max_translation_m, cfg.max_translation_m)
            if cfg.delta_origin == "measured":
                origin_pos, origin_rot = ee_pos_b, ee_rot_b
            else:
                origin_pos, origin_rot = self.target_pos, self.target_rot
            self.target_pos, self.target_rot = apply_delta(origin_pos, origin_rot, d_rot, d_pos,
                                                           cfg.rotation, cfg.frame)
            lead = self.target_pos - ee_pos_b
            n = np.linalg.norm(lead, axis=1, keepdims=True)
            self.target_pos = ee_pos_b + lead * np.minimum(1.0, cfg.max_target_lead_m
                                                           / np.maximum(n, 1e-12))
        else:  # ee_abs
            self.target_pos = action[:, 3:6].copy()
            self.target_rot = rotation_to_matrix(action[:, 0:3], cfg.rotation)
        pos_w = self.target_pos @ self.base_rot_w.T + self.base_pos_w
        rot_w = self.base_rot_w @ self.target_rot
        q = np.stack([self.ik.solve(q_robot[i], pos_w[i], rot_w[i])
                      for i in range(len(action))])
        return np.clip(q, self.limits[:, 0], self.limits[:, 1]), self.open_fraction.copy()


def make_mink_ik(robot_name: str, base_pos_w: np.ndarray, ee_body: str,
                 ee_offset: np.ndarray, arm_joint_names: tuple[str, ...],
                 dt: float, **kwargs) -> IKSolver:
    """The MuJoCo + mink IK solver (imported lazily: this module stays simulator-free)."""
    from twin.controllers.mink_ik import MinkIK

    return MinkIK(robot_name, base_pos_w, ee_body, ee_offset, arm_joint_names, dt, **kwargs)
