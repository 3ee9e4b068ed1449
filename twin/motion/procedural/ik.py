"""Whole-body IK of the G1 for procedural motions, on the mink machinery of
``twin.retarget.g1_mink`` (same model, solver, ``ConfigurationLimit``).

Per frame the generator sets targets (link poses with per-axis costs, the whole-body CoM,
a posture) and ``solve()`` iterates Gauss-Newton steps (mink's QP with task gain 1, so one
step corrects the full linearised error) warm-started from the previous frame until the
feet and CoM are within ``tol_m`` or ``max_iters`` is reached. Joint limits hold at every
iteration. Targets: world frame, metres, quaternions (w, x, y, z).

Imports ``mujoco`` because mink needs an ``MjModel`` (the exception accepted for
``twin.retarget``); the model is built by ``twin.retarget.kinematics.robot_model``.
"""

from __future__ import annotations

from dataclasses import dataclass

import mink
import numpy as np

from twin.retarget.kinematics import qpos_addresses, robot_model
from twin.robots import get


@dataclass(frozen=True)
class IKSettings:
    """Solver settings: ``tol_m`` on feet / CoM / hands position error; ``first_iters``
    from the initial guess; ``posture_cost`` pulls the null space towards a posture."""

    solver: str = "daqp"
    damping: float = 1e-4
    max_iters: int = 12
    first_iters: int = 80
    tol_m: float = 5e-4
    posture_cost: float = 0.05


def yaw_quat(yaw: float | np.ndarray) -> np.ndarray:
    yaw = np.asarray(yaw, dtype=float)
    return np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=-1)


def rpy_quat(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """(w, x, y, z) of R = Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr = np.cos(roll / 2), np.sin(roll / 2)
    cp, sp = np.cos(pitch / 2), np.sin(pitch / 2)
    cy, sy = np.cos(yaw / 2), np.sin(yaw / 2)
    return np.array([cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy,
                     cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy])


class WholeBodyIK:
    """Frame-by-frame IK; ``links`` name the bodies that get ``FrameTask``s."""

    def __init__(self, links: tuple[str, ...], settings: IKSettings = IKSettings(),
                 robot: str = "g1", com: bool = True, tight: tuple[str, ...] = ()):
        self.settings = settings
        self.robot = robot
        self.spec = get(robot)
        self.model = robot_model(robot)
        self.adr = qpos_addresses(self.model, self.spec.joint_names)
        self.config = mink.Configuration(self.model)
        self.tasks = {name: mink.FrameTask(name, "body", position_cost=0.0,
                                           orientation_cost=0.0, lm_damping=1e-3)
                      for name in links}
        self.com_task = mink.ComTask(cost=np.zeros(3)) if com else None
        self.posture = mink.PostureTask(self.model, cost=settings.posture_cost)
        self.limits = [mink.ConfigurationLimit(self.model)]
        self.tight = tuple(tight)  # links whose position error gates convergence
        self._targets: dict[str, np.ndarray] = {}
        self._com_target: np.ndarray | None = None
        self._com_cost = np.zeros(3)
        self._first = True

    # --- targets -------------------------------------------------------------------------
    def reset(self, qpos: np.ndarray) -> None:
        self.config.update(qpos.copy())
        self._first = True

    def set_link(self, name: str, pos: np.ndarray | None, quat_wxyz: np.ndarray | None,
                 pos_cost: float | np.ndarray = 0.0, ori_cost: float | np.ndarray = 0.0) -> None:
        task = self.tasks[name]
        cur = self.config.get_transform_frame_to_world(name, "body")
        p = cur.translation() if pos is None else np.asarray(pos, dtype=float)
        q = cur.rotation().wxyz if quat_wxyz is None else np.asarray(quat_wxyz, dtype=float)
        task.set_position_cost(0.0 if pos is None else pos_cost)
        task.set_orientation_cost(0.0 if quat_wxyz is None else ori_cost)
        task.set_target(mink.SE3(np.concatenate([q / np.linalg.norm(q), p])))
        self._targets[name] = p

    def set_com(self, com_w: np.ndarray, cost: np.ndarray) -> None:
        self._com_target = np.asarray(com_w, dtype=float)
        self._com_cost = np.asarray(cost, dtype=float)
        self.com_task.set_cost(self._com_cost)
        self.com_task.set_target(self._com_target)

    def set_posture(self, joint_pos: np.ndarray) -> None:
        """``joint_pos`` in ``spec.joint_names`` order."""
        q = self.config.q.copy()
        q[self.adr] = joint_pos
        self.posture.set_target(q)

    # --- solve ---------------------------------------------------------------------------
    def errors_m(self) -> dict[str, float]:
        """Position error of each tight link and of the weighted CoM axes, m."""
        err = {}
        for name in self.tight:
            p = self.config.get_transform_frame_to_world(name, "body").translation()
            err[name] = float(np.linalg.norm(p - self._targets[name]))
        if self._com_target is not None:
            c = self.config.data.subtree_com[1]
            mask = self._com_cost > 0
            err["com"] = float(np.linalg.norm((c - self._com_target)[mask]))
        return err

    def solve(self) -> np.ndarray:
        s = self.settings
        tasks = [*self.tasks.values(), self.posture]
        if self.com_task is not None and self._com_target is not None:
            tasks.append(self.com_task)
        iters = s.first_iters if self._first else s.max_iters
        for _ in range(iters):
            v = mink.solve_ik(self.config, tasks, 1.0, s.solver, s.damping, limits=self.limits)
            self.config.integrate_inplace(v, 1.0)
            if not self._first and max(self.errors_m().values(), default=0.0) < s.tol_m:
                break
        self._first = False
        return self.config.q.copy()

    def body_pos(self, name: str) -> np.ndarray:
        return self.config.get_transform_frame_to_world(name, "body").translation()

    def com(self) -> np.ndarray:
        return self.config.data.subtree_com[1].copy()

    def joint_pos(self) -> np.ndarray:
        return self.config.q[self.adr].copy()
