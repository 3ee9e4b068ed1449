"""``HumanMotion`` -> ``RobotMotion`` for the Unitree G1 by differential IK with mink.

Per frame: the human joints are scaled by robot height / subject height; each
``LinkTarget`` becomes a mink ``FrameTask`` (position and/or orientation); a low-cost
``PostureTask`` keeps the null space near the default pose; ``ConfigurationLimit`` keeps
joints in range and ``VelocityLimit`` bounds joint speeds by the motors' limits (the
per-iteration step is ``1 / (fps * iterations)`` so the limit holds per frame). The
solve is warm-started from the previous frame. Hand states map to Dex3-1 presets.

This module imports ``mujoco`` because mink needs an ``MjModel``: an accepted exception
to "only twin/sim imports the simulator"; the model is built by ``twin.sim.mujoco_robot``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import mink
import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.human_motion import SYMMETRIC_SKELETON_KEY, HumanMotion
from twin.motion.robot_motion import RobotMotion
from twin.motion.rotations import matrix_to_quat
from twin.retarget.config import G1_MOTOR_VELOCITY_LIMIT_RAD_S, RetargetConfig
from twin.retarget.hands import hand_joint_targets
from twin.retarget.human_frames import FRAME_JOINTS, link_frames
from twin.retarget.kinematics import qpos_addresses, robot_model, robot_motion_from_qpos
from twin.retarget.targets import RobotGeometry, compute_targets
from twin.robots import get
from twin.robots.g1 import G1_HAND_JOINT_NAMES
from twin.robots.g1_constants import g1_motor_for_joint


@dataclass(frozen=True)
class RetargetResult:
    """The robot motion and how well it tracks the (scaled) human.

    ``position_residual_m`` (T, L): distance of each position-tracked link from its target
    (links in ``position_links`` order); ``orientation_residual_rad`` (T, O) likewise;
    ``root_drift_xy_m`` (T,): horizontal pelvis distance from the scaled human pelvis path;
    ``scale``: robot height / subject height; ``frames_per_s``: IK throughput.
    """

    motion: RobotMotion
    position_links: tuple[str, ...]
    position_residual_m: np.ndarray
    orientation_links: tuple[str, ...]
    orientation_residual_rad: np.ndarray
    root_drift_xy_m: np.ndarray
    scale: float
    frames_per_s: float

    def per_frame_table(self) -> tuple[list[str], np.ndarray]:
        """Column names and a (T, C) table: time (s), position residual per link (m),
        orientation residual per link (rad), root drift (m)."""
        t = np.arange(self.motion.num_frames) / self.motion.fps
        cols = (["t_s"] + [f"pos_{n}_m" for n in self.position_links]
                + [f"ori_{n}_rad" for n in self.orientation_links] + ["root_drift_xy_m"])
        table = np.column_stack([t, self.position_residual_m, self.orientation_residual_rad,
                                 self.root_drift_xy_m])
        return cols, table

    def summary(self) -> dict[str, float]:
        return {
            "frames": float(self.motion.num_frames),
            "scale": self.scale,
            "frames_per_s": self.frames_per_s,
            "position_residual_mean_m": float(self.position_residual_m.mean()),
            "position_residual_p95_m": float(np.percentile(self.position_residual_m, 95)),
            "position_residual_max_m": float(self.position_residual_m.max()),
            "orientation_residual_mean_rad": float(self.orientation_residual_rad.mean())
            if self.orientation_residual_rad.size else 0.0,
            "root_drift_xy_max_m": float(self.root_drift_xy_m.max()),
        }


def _required_joints(cfg: RetargetConfig) -> set[str]:
    need = {lt.position_from for lt in cfg.links if lt.position_from}
    for lt in cfg.links:
        if lt.orientation_from:
            need |= set(FRAME_JOINTS[lt.orientation_from])
    return need


def _velocity_limits(joint_names: tuple[str, ...], scale: float) -> dict[str, float]:
    return {n: scale * G1_MOTOR_VELOCITY_LIMIT_RAD_S[g1_motor_for_joint(n).name]
            for n in joint_names}


def g1_geometry(robot: str = "g1", robot_height_m: float = 1.32) -> RobotGeometry:
    """Link offsets of the G1 at zero joint angles, measured on the MuJoCo model."""
    import mujoco

    model = robot_model(robot)
    data = mujoco.MjData(model)
    data.qpos[3] = 1.0
    mujoco.mj_kinematics(model, data)
    p = lambda name: data.xpos[model.body(name).id].copy()
    sole = min(data.geom_xpos[g][2] - model.geom_size[g][0] for g in range(model.ngeom)
               if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE
               and "ankle_roll" in model.body(model.geom_bodyid[g]).name)
    return RobotGeometry(
        hip_in_pelvis={s: p(f"{s}_hip_pitch_link") - p("pelvis") for s in ("left", "right")},
        thigh_m=float(np.linalg.norm(p("left_knee_link") - p("left_hip_pitch_link"))),
        torso_in_pelvis=p("torso_link") - p("pelvis"),
        shoulder_in_torso={s: p(f"{s}_shoulder_roll_link") - p("torso_link")
                           for s in ("left", "right")},
        upper_arm_m=float(np.linalg.norm(p("left_elbow_link") - p("left_shoulder_roll_link"))),
        forearm_m=float(np.linalg.norm(p("left_wrist_yaw_link") - p("left_elbow_link"))),
        pelvis_height_m=float(p("pelvis")[2] - sole),
        ankle_height_m=float(p("left_ankle_roll_link")[2] - sole),
        height_m=robot_height_m,
    )


def retarget_to_g1(human: HumanMotion, config: RetargetConfig | None = None) -> RetargetResult:
    """Retarget ``human`` onto the G1 body (29 joints) and, with hand states, Dex3-1 hands."""
    config = config or RetargetConfig()
    missing = sorted(_required_joints(config) - set(human.joint_names))
    if missing:
        raise MotionFormatError(human.source.get("file"), "joint_names", f"lacks {missing}; "
                                "retargeting needs pelvis, hips, knees, ankles, feet, spine1, "
                                "neck, shoulders, elbows and wrists")
    spec = get(config.robot)
    model = robot_model(config.robot)
    adr = qpos_addresses(model, spec.joint_names)
    frames = link_frames(human.joint_names, human.joint_pos_w,
                         human.source.get(SYMMETRIC_SKELETON_KEY) == "true")
    tg = compute_targets(human, g1_geometry(config.robot, config.robot_height_m), frames)
    scale = tg.scale
    T = human.num_frames

    # Targets as (T, L, 7) [w, x, y, z, px, py, pz] for mink's SE3.
    targets = np.zeros((T, len(config.links), 7))
    targets[..., 0] = 1.0
    for li, lt in enumerate(config.links):
        if lt.position_from:
            targets[:, li, 4:] = tg.pos[lt.position_from]
        if lt.orientation_from:
            targets[:, li, :4] = matrix_to_quat(tg.rot[lt.orientation_from])

    configuration = mink.Configuration(model)
    tasks = [mink.FrameTask(lt.link, "body", position_cost=lt.position_cost,
                            orientation_cost=lt.orientation_cost, lm_damping=1.0)
             for lt in config.links]
    posture = mink.PostureTask(model, cost=config.posture_cost)
    q0 = np.zeros(model.nq)
    q0[:3] = targets[0, 0, 4:]
    q0[3:7] = targets[0, 0, :4]
    q0[adr] = spec.default_joint_pos_array()
    configuration.update(q0)
    posture.set_target(q0)
    all_tasks = [*tasks, posture]
    limits_free = [mink.ConfigurationLimit(
        model, min_distance_from_limits=config.joint_limit_margin_rad)]
    limits = [*limits_free, mink.VelocityLimit(
        model, _velocity_limits(spec.joint_names, config.velocity_limit_scale))]
    iters = max(1, int(config.iterations_per_frame))
    dt_iter = 1.0 / (human.fps * iters)

    qpos = np.empty((T, model.nq))
    start = time.perf_counter()
    for t in range(T):
        for task, tgt in zip(tasks, targets[t]):
            task.set_target(mink.SE3(tgt))
        if t == 0:
            for _ in range(config.iterations_first_frame):
                v = mink.solve_ik(configuration, all_tasks, 0.02, config.solver,
                                  config.damping, limits=limits_free)
                configuration.integrate_inplace(v, 0.02)
        else:
            for _ in range(iters):
                v = mink.solve_ik(configuration, all_tasks, dt_iter, config.solver,
                                  config.damping, limits=limits)
                configuration.integrate_inplace(v, dt_iter)
        qpos[t] = configuration.q
    elapsed = time.perf_counter() - start

    hand_pos = hand_state = None
    if human.hand_state is not None:
        hand_state = human.hand_state.astype(np.int8)
        hand_pos = hand_joint_targets(hand_state, config.hand_transition_frames)
    motion = robot_motion_from_qpos(
        config.robot, qpos[:, :3], qpos[:, 3:7], qpos[:, adr], human.fps,
        hand_joint_names=G1_HAND_JOINT_NAMES, hand_joint_pos=hand_pos, hand_state=hand_state,
        human_joint_names=human.joint_names, human_joint_pos_w=human.joint_pos_w * scale,
        source={"human": dict(human.source), "retargeter": "twin.retarget.g1_mink (mink "
                "differential IK)", "scale": scale, "subject_height_m": human.height_m,
                "robot_height_m": config.robot_height_m, "pelvis_height_scale": tg.scale_z,
                "iterations_per_frame": iters, "solver": config.solver})

    pos_links = tuple(lt.link for lt in config.links if lt.position_from)
    ori_links = tuple(lt.link for lt in config.links if lt.orientation_from)
    pos_res = np.stack([np.linalg.norm(
        motion.body_pos_w[:, motion.body_index(lt.link)] - targets[:, li, 4:], axis=-1)
        for li, lt in enumerate(config.links) if lt.position_from], axis=1)
    ori_res = []
    for li, lt in enumerate(config.links):
        if lt.orientation_from:
            q = motion.body_quat_wxyz[:, motion.body_index(lt.link)]
            dot = np.abs(np.sum(q * targets[:, li, :4], axis=-1)).clip(0, 1)
            ori_res.append(2 * np.arccos(dot))
    pelvis_i = motion.body_index("pelvis")
    drift = np.linalg.norm(motion.body_pos_w[:, pelvis_i, :2]
                           - scale * human.joint("pelvis")[:, :2], axis=-1)
    result = RetargetResult(motion, pos_links, pos_res, ori_links,
                            np.stack(ori_res, axis=1) if ori_res else np.zeros((T, 0)),
                            drift, scale, T / elapsed if elapsed > 0 else float("inf"))
    motion.source["residuals"] = {k: round(v, 6) for k, v in result.summary().items()}
    return result
