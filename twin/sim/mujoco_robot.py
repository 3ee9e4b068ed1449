"""Turn a ``RobotSpec`` into a ``mujoco.MjSpec``: variant edits, attachments, gain profile."""

from __future__ import annotations

import mujoco
import numpy as np

from twin.robots.spec import GainProfile, RobotSpec


def robot_mjspec(robot: RobotSpec, gain_profile: str | None = None) -> mujoco.MjSpec:
    """A fresh, uncompiled MjSpec of ``robot`` with its edits and gains applied."""
    spec = mujoco.MjSpec.from_file(str(robot.mjcf_path))
    spec.keys and [spec.delete(k) for k in list(spec.keys)]  # twin sets poses itself
    for body_name in robot.remove_bodies:
        _delete_body_subtree(spec, body_name)
    for joint_name in robot.lock_joints:
        _delete_joint(spec, joint_name)
    if robot.fix_base:
        root = spec.body(robot.root_body_name)
        for j in list(root.joints):
            spec.delete(j)
        root.pos = np.array(robot.default_root_pos_w)
        root.quat = np.array(robot.default_root_quat_wxyz)
    for att in robot.attachments:
        child = mujoco.MjSpec.from_file(str(att.mjcf_path))
        child.option.cone = spec.option.cone  # the parent's solver options win
        site = spec.site(att.site)
        if site is None:
            raise ValueError(f"{robot.mjcf_path}: no site {att.site!r} to attach {att.mjcf_path}")
        site.attach_body(child.worldbody.first_body(), att.prefix, "")
    if robot.name.startswith("panda"):
        _add_panda_tcp(spec, robot)
    _apply_gains(spec, robot.gains(gain_profile))
    return spec


def _delete_body_subtree(spec: mujoco.MjSpec, body_name: str) -> None:
    body = spec.body(body_name)
    if body is None:
        raise ValueError(f"cannot remove body {body_name!r}: not in the model")
    doomed_joints = {j.name for b in _subtree(body) for j in b.joints}
    doomed_sites = {s.name for b in _subtree(body) for s in b.sites}
    _delete_users(spec, doomed_joints, doomed_sites)
    spec.delete(body)


def _subtree(body):
    yield body
    for child in body.bodies:
        yield from _subtree(child)


def _delete_users(spec: mujoco.MjSpec, joints: set[str], sites: set[str]) -> None:
    for act in list(spec.actuators):
        if act.target in joints:
            spec.delete(act)
    for sensor in list(spec.sensors):
        if sensor.objname in sites or sensor.objname in joints:
            spec.delete(sensor)


def _delete_joint(spec: mujoco.MjSpec, joint_name: str) -> None:
    joint = spec.joint(joint_name)
    if joint is None:
        raise ValueError(f"cannot lock joint {joint_name!r}: not in the model")
    _delete_users(spec, {joint_name}, set())
    spec.delete(joint)


def _add_panda_tcp(spec: mujoco.MjSpec, robot: RobotSpec) -> None:
    """Tool-centre point between the fingertips (Franka hand) or pads (2F-85)."""
    if robot.attachments:
        base = spec.body("gripper/base")
        base.add_site(name="tcp", pos=[0.0, 0.0, 0.145], size=[0.005, 0, 0], group=4)
    else:
        spec.body("hand").add_site(name="tcp", pos=[0.0, 0.0, 0.1034], size=[0.005, 0, 0],
                                   group=4)


def _apply_gains(spec: mujoco.MjSpec, gains: GainProfile) -> None:
    """Write Kp/Kd/armature/effort limit into position actuators and joints, by joint name."""
    for act in spec.actuators:
        name = act.target
        if name in gains.kp:
            kp, kd = gains.kp[name], gains.kd[name]
            act.gainprm[0] = kp
            act.biasprm[0], act.biasprm[1], act.biasprm[2] = 0.0, -kp, -kd  # negative kd: not dampratio
        if name in gains.effort_limit:
            lim = gains.effort_limit[name]
            act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.forcerange = np.array([-lim, lim])
    for name, arm in gains.armature.items():
        joint = spec.joint(name)
        if joint is not None:
            joint.armature = arm
