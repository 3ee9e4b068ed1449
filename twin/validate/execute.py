"""Execute a reference motion with a tracking controller and log what happened.

The rollout uses the G1 tracking task (same observations, gains and control rate as
training) with its own terminations disabled: validation decides a fall itself and keeps
simulating ``settle_s`` after it, so the report and video show the fall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from twin.measures import tilt_rad
from twin.motion.procedural.checks import lowest_sole_height_m
from twin.motion.robot_motion import RobotMotion
from twin.robots.g1 import G1_FOOT_BODY_NAMES
from twin.sim.backend import WORLD_BODY
from twin.validate.config import ValidateConfig

_NEVER = 1e9


@dataclass
class ExecutionLog:
    """Per control step arrays (T steps at ``fps``) of one rollout, world frame, SI units."""

    fps: float
    joint_names: tuple[str, ...]
    body_names: tuple[str, ...]
    qpos: np.ndarray  # (T, nq) full simulator state positions
    joint_pos: np.ndarray  # (T, J) executed joint angles, G1 order
    joint_target: np.ndarray  # (T, J) commanded position targets
    ref_joint_pos: np.ndarray  # (T, J)
    root_pos_w: np.ndarray  # (T, 3) pelvis
    root_quat_wxyz: np.ndarray  # (T, 4)
    body_pos_w: np.ndarray  # (T, B, 3) tracked bodies
    ref_body_pos_w: np.ndarray  # (T, B, 3)
    ref_body_quat_wxyz: np.ndarray  # (T, B, 4)
    body_quat_wxyz: np.ndarray  # (T, B, 4)
    actuator_force: np.ndarray  # (T, J) N m
    force_limit: np.ndarray  # (J,)
    joint_limits: np.ndarray  # (J, 2)
    tilt_rad: np.ndarray  # (T,) torso tilt from vertical
    contacts: list[list[tuple[str, str, float]]]  # per step: (body1, body2, normal force N)
    # (T, 2) horizontal speed at floor contact, feet in G1_FOOT_BODY_NAMES order; NaN in the air
    foot_speed_in_contact: np.ndarray
    object_pos_w: dict[str, np.ndarray] = field(default_factory=dict)  # (T, 3) per object
    hand_targets: np.ndarray | None = None  # (T, 14) Dex3-1
    hand_joint_names: tuple[str, ...] = ()
    fall_step: int | None = None
    fall_measure: str = ""  # what crossed its threshold at the fall, with the values
    diverged: bool = False
    diverged_step: int | None = None  # the control step whose physics went NaN
    robot_bodies: frozenset[str] = frozenset()
    qpos_names: tuple[str, ...] = ()
    # how far the robot's start was lowered below the plan's first frame, m (see _rollout)
    start_lowered_m: float = 0.0


def execute(motion: RobotMotion, cfg: ValidateConfig,
            progress: Callable[[float], None] | None = None) -> ExecutionLog:
    """Roll ``motion`` out; ``progress(t_s)`` is called once per second of motion."""
    from twin.controllers.tracking_policy import TrackingController
    from twin.envs.tracking.g1_tracking import (
        REPLAY_CONTROLLERS,
        G1TrackingTask,
        TerminationThresholds,
        tracker_task_kwargs,
    )

    policy = None
    if cfg.controller in REPLAY_CONTROLLERS:
        settings = REPLAY_CONTROLLERS[cfg.controller][0]
    else:
        policy = TrackingController.load(cfg.controller)
        settings = tracker_task_kwargs(policy.metadata)
    robot = "g1_dex3" if motion.hand_joint_pos is not None else "g1"
    task = G1TrackingTask([motion], num_envs=1, robot=robot, **settings, dr=False,
                          random_start=False, scene=cfg.scene,
                          thresholds=TerminationThresholds(_NEVER, _NEVER, _NEVER),
                          render_profile=cfg.render_profile)
    if policy is not None and policy.metadata.obs_dim != task.observation_space.shape[0]:
        raise ValueError(f"controller {cfg.controller}: observation size "
                         f"{policy.metadata.obs_dim} != this env's "
                         f"{task.observation_space.shape[0]}")
    try:
        return _rollout(task, policy, cfg, progress, lowest_sole_height_m(motion, 0))
    finally:
        task.close()


def _rollout(task, policy, cfg: ValidateConfig,
             progress: Callable[[float], None] | None = None,
             start_sole_height_m: float = 0.0) -> ExecutionLog:
    """``start_sole_height_m``: the plan's lowest sole point above the floor at its first
    frame. The robot starts that much lower, standing on the floor as it would on hardware:
    started in the air (a video estimate's height is a few mm off) it drops and lands with
    its feet sliding, a slip of the start, not of the plan."""
    b, lib = task.backend, task.library
    th = cfg.thresholds
    task.fixed_clips = np.array([0])
    task.reset()
    if start_sole_height_m:
        env0 = np.array([0])
        qpos, qvel = b.get_qpos(env0), b.get_qvel(env0)
        qpos[:, task.root_qpos[2]] -= start_sole_height_m
        b.set_state(qpos, qvel, env0)
    obs = task.observe()
    J = len(task.body_joint_names)
    torso = b.body_index(["torso_link"])
    foot_names = G1_FOOT_BODY_NAMES
    feet = b.body_index(list(foot_names))
    robot_bodies = _robot_bodies(b, task.robot.root_body_name)
    weight_n = 9.81 * float(b.body_mass(b.body_index(sorted(robot_bodies))).sum())
    slip_min_load_n = th.foot_slip_min_load_fraction * weight_n
    objects = [o.name for o in b.scene_config.objects]
    object_ids = b.body_index(objects) if objects else np.zeros(0, dtype=np.int64)
    rows: dict[str, list] = {k: [] for k in (
        "qpos", "joint_pos", "joint_target", "ref_joint_pos", "root_pos", "root_quat",
        "body_pos", "body_quat", "ref_body_pos", "ref_body_quat", "force", "tilt", "foot_speed",
        "objects", "hands")}
    contacts: list[list[tuple[str, str, float]]] = []
    fall_step, fall_measure, diverged, diverged_step = None, "", False, None
    n_steps = int(lib.clip_len[0]) - 1
    settle = round(cfg.settle_s / task.control_dt)
    per_second = max(1, round(1.0 / task.control_dt))
    for step in range(n_steps):
        if progress is not None and step and step % per_second == 0:
            progress(step * task.control_dt)
        action = np.zeros((1, J)) if policy is None else policy(obs)
        r = task.step(action)
        obs = r.obs
        if r.info["termination"][0] == "nan":
            diverged, diverged_step = True, step
            break
        f = lib.frame(task.clip, task.t)[0]
        qpos = b.get_qpos()[0]
        lin, ang = b.body_vel_w(feet)
        step_contacts = b.contacts(0)
        slip = foot_slip_speeds(step_contacts, foot_names, b.body_pos_w(feet)[0], lin[0], ang[0],
                                slip_min_load_n)
        tilt = float(tilt_rad(b.body_quat_wxyz(torso)[0, 0]))
        rows["qpos"].append(qpos)
        rows["joint_pos"].append(qpos[task.qpos_idx])
        rows["joint_target"].append(task._ctrl[0, task.act_idx].copy())
        rows["ref_joint_pos"].append(lib.joint_pos[f])
        rows["root_pos"].append(qpos[task.root_qpos[:3]])
        rows["root_quat"].append(qpos[task.root_qpos[3:]])
        rows["body_pos"].append(b.body_pos_w(task.body_ids)[0])
        rows["body_quat"].append(b.body_quat_wxyz(task.body_ids)[0])
        rows["ref_body_pos"].append(lib.body_pos_w[f])
        rows["ref_body_quat"].append(lib.body_quat_wxyz[f])
        rows["force"].append(b.actuator_force()[0, task.act_idx])
        rows["tilt"].append(tilt)
        rows["foot_speed"].append(slip)
        rows["objects"].append(b.body_pos_w(object_ids)[0] if len(object_ids) else np.zeros((0, 3)))
        if lib.hand_joint_pos is not None and len(task.hand_act_idx):
            rows["hands"].append(task._ctrl[0, task.hand_act_idx].copy())
        contacts.append([(c.body1, c.body2, c.force_normal_n) for c in step_contacts])
        pelvis_z = float(qpos[task.root_qpos[2]])
        fell = pelvis_z < th.fall_pelvis_height_m or tilt > th.fall_tilt_rad
        if fall_step is None and fell:
            fall_step = step
            fall_measure = (f"pelvis height {pelvis_z:.2f} m < {th.fall_pelvis_height_m:g} m"
                            if pelvis_z < th.fall_pelvis_height_m else
                            f"torso tilt {tilt:.2f} rad > {th.fall_tilt_rad:g} rad")
        if fall_step is not None and step - fall_step >= settle:
            break
    if progress is not None:
        progress(len(rows["qpos"]) * task.control_dt)
    B, nq = len(task.body_ids), b.get_qpos().shape[1]
    empty = {"qpos": (nq,), "joint_pos": (J,), "joint_target": (J,), "ref_joint_pos": (J,),
             "root_pos": (3,), "root_quat": (4,), "body_pos": (B, 3), "body_quat": (B, 4),
             "ref_body_pos": (B, 3), "ref_body_quat": (B, 4), "force": (J,), "tilt": (),
             "foot_speed": (2,)}  # shapes of one step: a rollout may execute none
    arr = {k: np.asarray(v) if v else np.zeros((0, *empty[k]))
           for k, v in rows.items() if k not in ("objects", "hands")}
    obj = np.asarray(rows["objects"]) if rows["objects"] else np.zeros((0, len(objects), 3))
    return ExecutionLog(
        fps=1.0 / task.control_dt, joint_names=task.body_joint_names,
        body_names=task.body_names, qpos=arr["qpos"], joint_pos=arr["joint_pos"],
        joint_target=arr["joint_target"], ref_joint_pos=arr["ref_joint_pos"],
        root_pos_w=arr["root_pos"], root_quat_wxyz=arr["root_quat"], body_pos_w=arr["body_pos"],
        body_quat_wxyz=arr["body_quat"], ref_body_pos_w=arr["ref_body_pos"],
        ref_body_quat_wxyz=arr["ref_body_quat"], actuator_force=arr["force"],
        force_limit=b.actuator_force_limits()[task.act_idx],
        joint_limits=b.joint_limits(task.body_joint_names), tilt_rad=arr["tilt"],
        contacts=contacts, foot_speed_in_contact=arr["foot_speed"],
        object_pos_w={n: obj[:, k] for k, n in enumerate(objects)},
        hand_targets=np.asarray(rows["hands"]) if rows["hands"] else None,
        hand_joint_names=task.hand_joint_names if rows["hands"] else (),
        fall_step=fall_step, fall_measure=fall_measure, diverged=diverged,
        diverged_step=diverged_step, robot_bodies=robot_bodies,
        start_lowered_m=start_sole_height_m,
    )


def _robot_bodies(backend, root: str) -> frozenset[str]:
    parent = backend.body_parent_index()
    names = backend.body_names
    root_id = int(backend.body_index([root])[0])
    out = set()
    for i in range(len(names)):
        j = i
        while j > 0 and j != root_id:
            j = int(parent[j])
        if j == root_id:
            out.add(names[i])
    return frozenset(out)


def foot_slip_speeds(contacts, foot_names: tuple[str, ...], foot_pos_w: np.ndarray,
                     lin_vel_w: np.ndarray, ang_vel_w: np.ndarray,
                     min_load_n: float = 0.0) -> np.ndarray:
    """(feet,) horizontal speed (m/s) of each foot's material point at its centre of pressure
    on the floor, NaN for a foot off the floor or carrying less than ``min_load_n`` (a brush
    or a tap, not a stance). The point, not the ankle: a foot rolling onto its toe or heel
    moves its ankle while its contact stays put, and that is not a slip."""
    speeds = np.full(len(foot_names), np.nan)
    for k, name in enumerate(foot_names):
        touching = [c for c in contacts if {c.body1, c.body2} == {name, WORLD_BODY}]
        load_n = sum(c.force_normal_n for c in touching)
        if touching and load_n >= min_load_n:
            weights = (np.array([c.force_normal_n for c in touching]) if load_n > 0
                       else np.ones(len(touching)))
            cop = np.average([c.pos_w for c in touching], axis=0, weights=weights)
            r = cop - foot_pos_w[k]
            v = lin_vel_w[k] + np.cross(ang_vel_w[k], r)
            speeds[k] = float(np.hypot(v[0], v[1]))
    return speeds
