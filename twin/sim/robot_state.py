"""Robot poses as backend state vectors (backend-neutral: uses only ``SimBackend``)."""

from __future__ import annotations

import numpy as np

from twin.robots.spec import RobotSpec
from twin.sim.backend import SimBackend


def default_qpos(backend: SimBackend, robot: RobotSpec) -> np.ndarray:
    """(nq,) qpos with the robot in its default pose; other bodies as the backend has them."""
    qpos = backend.get_qpos([0])[0]
    qpos[backend.joint_qpos_index(robot.joint_names)] = robot.default_joint_pos_array()
    if robot.floating_base:
        root = backend.free_joint_qpos_index(robot.root_body_name)
        qpos[root] = np.array(robot.default_root_pos_w + robot.default_root_quat_wxyz)
    return qpos


def default_ctrl(backend: SimBackend, robot: RobotSpec) -> np.ndarray:
    """(nu,) controls that hold the default pose (position actuators) and open the gripper."""
    ctrl = np.zeros(len(backend.actuator_names))
    joints = [j for j in robot.actuated_joint_names]
    ctrl[backend.actuator_index_for_joints(joints)] = robot.default_joint_pos_array(tuple(joints))
    for name, value in robot.gripper_open_ctrl.items():
        if name in backend.actuator_names:
            ctrl[backend.actuator_index([name])[0]] = value
    return ctrl


def set_default_pose(backend: SimBackend, robot: RobotSpec) -> None:
    """Every env: default pose, zero velocity, holding controls."""
    n = backend.num_envs
    nv = backend.get_qvel([0]).shape[1]
    backend.set_ctrl(np.tile(default_ctrl(backend, robot), (n, 1)))
    backend.set_state(np.tile(default_qpos(backend, robot), (n, 1)), np.zeros((n, nv)))
