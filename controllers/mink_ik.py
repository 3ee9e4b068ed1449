"""Differential IK with mink on a robot-only MuJoCo model (no scene objects).

The one controller module that imports MuJoCo (mink is built on it): it compiles the robot
alone, mounted where the scene mounts it, adds an end-effector site at ``ee_offset`` in
``ee_body``, and solves a frame task + weak posture task under joint limits with DAQP.
"""

from __future__ import annotations

import mink
import mujoco
import numpy as np

import twin.robots
from twin.sim.mujoco_robot import robot_mjspec

EE_SITE = "twin_ee"


class MinkIK:
    """Arm joint targets that move ``ee_body`` + ``ee_offset`` to a world pose.

    ``joint_names``: the robot joints in this solver's model order; ``solve`` takes all of
    them (measured) and returns the arm joints (``arm_joint_names`` order).
    """

    def __init__(self, robot_name: str, base_pos_w: np.ndarray, ee_body: str,
                 ee_offset: np.ndarray, arm_joint_names: tuple[str, ...], dt: float,
                 iterations: int = 2, position_cost: float = 1.0,
                 orientation_cost: float = 0.5, posture_cost: float = 1e-3,
                 damping: float = 1e-4, gain_profile: str | None = None,
                 ee_quat_offset: np.ndarray | None = None):
        robot = twin.robots.get(robot_name)
        spec = robot_mjspec(robot, gain_profile)
        if base_pos_w is not None:  # where the scene mounts the base (as build_scene does)
            spec.body(robot.root_body_name).pos = np.asarray(base_pos_w, dtype=np.float64)
        body = spec.body(ee_body)
        if body is None:
            raise KeyError(f"unknown end-effector body {ee_body!r}")
        site = body.add_site(name=EE_SITE, pos=np.asarray(ee_offset, dtype=np.float64))
        if ee_quat_offset is not None:  # tool frame rotated in the body (wxyz)
            site.quat = np.asarray(ee_quat_offset, dtype=np.float64)
        self.model = spec.compile()
        m = self.model
        hinge_slide = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
        self.joint_names = tuple(m.joint(i).name for i in range(m.njnt)
                                 if int(m.jnt_type[i]) in hinge_slide)
        if m.nq != len(self.joint_names):
            raise ValueError(f"IK model of {robot_name!r} must be fixed-base (nq={m.nq})")
        col = {n: i for i, n in enumerate(self.joint_names)}
        self.arm_cols = np.array([col[n] for n in arm_joint_names])
        self.dt = float(dt)
        self.iterations = int(iterations)
        self.damping = float(damping)
        self.configuration = mink.Configuration(m)
        self.frame_task = mink.FrameTask(EE_SITE, "site", position_cost=position_cost,
                                         orientation_cost=orientation_cost, lm_damping=1e-6)
        self.posture_task = mink.PostureTask(m, cost=posture_cost)
        self.limits = [mink.ConfigurationLimit(m)]
        self._posture_set = False

    def set_posture(self, q_robot: np.ndarray) -> None:
        """The joint configuration the weak posture task pulls towards (null space)."""
        self.posture_task.set_target(np.asarray(q_robot, dtype=np.float64))
        self._posture_set = True

    def ee_pose(self, q_robot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.configuration.update(np.asarray(q_robot, dtype=np.float64))
        d = self.configuration.data
        sid = self.model.site(EE_SITE).id
        return d.site_xpos[sid].copy(), d.site_xmat[sid].reshape(3, 3).copy()

    def solve(self, q_robot: np.ndarray, target_pos_w: np.ndarray,
              target_rot_w: np.ndarray) -> np.ndarray:
        cfg = self.configuration
        q = np.asarray(q_robot, dtype=np.float64)
        lo, hi = self.model.jnt_range[:, 0], self.model.jnt_range[:, 1]
        limited = self.model.jnt_limited.astype(bool)
        q = np.where(limited, np.clip(q, lo, hi), q)  # the QP needs a feasible start
        cfg.update(q)
        if not self._posture_set:
            self.set_posture(q)
        self.frame_task.set_target(mink.SE3.from_rotation_and_translation(
            mink.SO3.from_matrix(np.asarray(target_rot_w, dtype=np.float64)),
            np.asarray(target_pos_w, dtype=np.float64)))
        tasks = [self.frame_task, self.posture_task]
        for _ in range(self.iterations):
            v = mink.solve_ik(cfg, tasks, self.dt, solver="daqp", damping=self.damping,
                              limits=self.limits)
            cfg.integrate_inplace(v, self.dt)
        return cfg.q[self.arm_cols].copy()
