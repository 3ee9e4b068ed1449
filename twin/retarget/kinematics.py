"""Robot forward kinematics for reference motions: qpos tracks -> ``RobotMotion``.

Imports ``mujoco`` (an exception to "only twin/sim imports the simulator", accepted for
retargeting because mink needs an ``MjModel``); the model itself comes from
``twin.sim.mujoco_robot.robot_mjspec`` so that robot edits live in one place.
"""

from __future__ import annotations

from functools import lru_cache

import mujoco
import numpy as np

from twin.motion.robot_motion import RobotMotion
from twin.motion.rotations import angular_velocity_w, quat_make_continuous
from twin.robots import get
from twin.sim.mujoco_robot import robot_mjspec


@lru_cache(maxsize=4)
def robot_model(robot: str = "g1") -> mujoco.MjModel:
    """Compiled MjModel of a registered robot (stiff gains; kinematics only)."""
    spec = get(robot)
    return robot_mjspec(spec, "stiff" if "stiff" in spec.gain_profiles else None).compile()


def qpos_addresses(model: mujoco.MjModel, joint_names: tuple[str, ...]) -> np.ndarray:
    return np.array([model.joint(n).qposadr[0] for n in joint_names])


def body_names(model: mujoco.MjModel) -> tuple[str, ...]:
    """All bodies but the world, in model order."""
    return tuple(model.body(i).name for i in range(1, model.nbody))


def robot_motion_from_qpos(
    robot: str,
    root_pos_w: np.ndarray,
    root_quat_wxyz: np.ndarray,
    joint_pos: np.ndarray,
    fps: float,
    *,
    hand_joint_names: tuple[str, ...] = (),
    hand_joint_pos: np.ndarray | None = None,
    hand_state: np.ndarray | None = None,
    human_joint_names: tuple[str, ...] = (),
    human_joint_pos_w: np.ndarray | None = None,
    source: dict | None = None,
) -> RobotMotion:
    """Fill body poses and velocities of every body by MuJoCo FK of ``robot``.

    ``joint_pos`` (T, J) is in ``get(robot).joint_names`` order; velocities are central
    finite differences (world frame).
    """
    spec = get(robot)
    model = robot_model(robot)
    data = mujoco.MjData(model)
    adr = qpos_addresses(model, spec.joint_names)
    T = joint_pos.shape[0]
    names = body_names(model)
    pos = np.empty((T, len(names), 3))
    quat = np.empty((T, len(names), 4))
    root_quat = quat_make_continuous(root_quat_wxyz / np.linalg.norm(
        root_quat_wxyz, axis=-1, keepdims=True), axis=0)
    for t in range(T):
        data.qpos[:3] = root_pos_w[t]
        data.qpos[3:7] = root_quat[t]
        data.qpos[adr] = joint_pos[t]
        mujoco.mj_kinematics(model, data)
        pos[t] = data.xpos[1:]
        quat[t] = data.xquat[1:]
    quat = quat_make_continuous(quat, axis=0)
    dt = 1.0 / fps
    grad = (lambda x: np.gradient(x, dt, axis=0)) if T > 1 else np.zeros_like
    return RobotMotion(
        fps=float(fps), robot=robot, joint_names=spec.joint_names, body_names=names,
        joint_pos=joint_pos, joint_vel=grad(joint_pos), root_pos_w=root_pos_w,
        root_quat_wxyz=root_quat, body_pos_w=pos, body_quat_wxyz=quat,
        body_lin_vel_w=grad(pos), body_ang_vel_w=angular_velocity_w(quat, fps),
        hand_joint_names=hand_joint_names if hand_joint_pos is not None else (),
        hand_joint_pos=hand_joint_pos, hand_state=hand_state,
        human_joint_names=human_joint_names if human_joint_pos_w is not None else (),
        human_joint_pos_w=human_joint_pos_w, source=dict(source or {}),
    )
