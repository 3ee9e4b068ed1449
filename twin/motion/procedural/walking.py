"""Footstep-planned G1 walking: footsteps -> ZMP reference -> LIPM preview control (CoM)
-> swing-foot trajectories -> whole-body IK per frame -> ``RobotMotion`` (FK of all bodies).

IK targets per frame: both ankles (position and yaw, feet flat), the whole-body CoM in xy
(the LIPM trajectory), the pelvis height (constant, chosen so the longest step keeps the
knees bent) and yaw (mean of the feet yaws), the torso upright with the pelvis yaw, and a
posture: the default pose with arms swinging opposite to the legs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from twin.motion.procedural.footsteps import (
    FootstepPlan,
    WalkCommand,
    gait_timing,
    plan_footsteps,
)
from twin.motion.procedural.g1_body import FEET, G1Body, g1_body
from twin.motion.procedural.ik import IKSettings, WholeBodyIK, yaw_quat
from twin.motion.procedural.lipm import LipmTrajectory, track_zmp
from twin.motion.procedural.swing import foot_trajectories, zmp_reference
from twin.motion.robot_motion import RobotMotion
from twin.retarget.kinematics import robot_motion_from_qpos

GENERATOR = "twin.motion.procedural.walking"
# The pelvis height is a soft target: where the feet and CoM cannot all be reached (ankle
# limits on long or wide steps) the pelvis gives way first.
PELVIS_HEIGHT_COST = 2.0
HIP_HALF_WIDTH_M = 0.0645  # hip-pitch joints beside the pelvis centre line (Menagerie g1)
LIPM_DT = 0.005


@dataclass(frozen=True)
class WalkParams:
    """A walk: body-frame velocity (m/s, m/s, rad/s), stepping time, gait shape."""

    vx: float = 0.5
    vy: float = 0.0
    wz: float = 0.0
    walk_s: float = 5.0
    stand_before_s: float = 0.8
    stand_after_s: float = 1.0
    width_m: float = 0.2
    apex_m: float = 0.07
    arm_swing_rad_per_m: float = 0.8
    first_foot: str = FEET[0]


@dataclass(frozen=True)
class WalkResult:
    """The motion and what produced it: plan, ZMP reference and LIPM (at the motion's
    frames), foot targets and contact flags, IK residuals (m) per frame."""

    motion: RobotMotion
    plan: FootstepPlan
    zmp_ref: np.ndarray  # (T, 2)
    lipm: LipmTrajectory  # (T, 2) arrays
    feet: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    ik_residual_m: dict[str, np.ndarray]
    pelvis_height_m: float
    seconds: float


def pelvis_height_for(com_xy: np.ndarray, pelvis_yaw: np.ndarray,
                      feet: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], body: G1Body,
                      knee_margin: float = 0.93, cap_m: float = 0.74) -> float:
    """Highest pelvis (<= ``cap_m``) at which every hip stays within ``knee_margin`` of the
    straight leg length from its ankle target over the whole clip (the pelvis is placed
    from the CoM by the default pose's CoM offset)."""
    c, s = np.cos(pelvis_yaw), np.sin(pelvis_yaw)
    fwd, left = np.stack([c, s], 1), np.stack([-s, c], 1)
    lead = body.default_com_w[0] - body.default_qpos[0]
    pelvis = com_xy - lead * fwd
    leg = knee_margin * body.leg_length_m
    h = cap_m
    for foot, side in zip(FEET, (1.0, -1.0)):
        hip = pelvis + side * HIP_HALF_WIDTH_M * left
        pos = feet[foot][0]
        d = np.linalg.norm(pos[:, :2] - hip, axis=1)
        vertical = np.sqrt(np.maximum(leg ** 2 - d ** 2, (0.5 * leg) ** 2))
        h = min(h, float((body.hip_drop_m + pos[:, 2] + vertical).min()))
    return h


def generate_walk(params: WalkParams, fps: float = 50.0, settings: IKSettings = IKSettings(),
                  name: str | None = None) -> WalkResult:
    start = time.perf_counter()
    body = g1_body()
    cmd = WalkCommand(params.vx, params.vy, params.wz, params.walk_s, params.stand_before_s,
                      params.stand_after_s)
    timing = gait_timing(cmd, apex_m=params.apex_m, width_m=params.width_m)
    plan = plan_footsteps(cmd, timing, first_foot=params.first_foot)
    T = int(np.floor(plan.duration_s * fps + 1e-9)) + 1
    t = np.arange(T) / fps
    feet = foot_trajectories(plan, t, body)
    yaws = np.stack([feet[f][1] for f in FEET], axis=1)
    pelvis_yaw = np.unwrap(np.arctan2(np.sin(yaws).sum(1), np.cos(yaws).sum(1)))

    sub = max(1, int(round(1.0 / (fps * LIPM_DT))))
    t_fine = np.arange((T - 1) * sub + 1) / (fps * sub)
    ref_fine = zmp_reference(plan, t_fine, body)
    h = 0.74
    for _ in range(3):  # the CoM height sets the CoM path, which sets the reachable height
        com_z = h + body.com_minus_pelvis_z_m
        lipm_fine = track_zmp(ref_fine, 1.0 / (fps * sub), com_z)
        h_new = pelvis_height_for(lipm_fine.com[::sub], pelvis_yaw, feet, body)
        if abs(h_new - h) < 0.003:
            break
        h = h_new
    com_z = h + body.com_minus_pelvis_z_m
    pick = lambda a: a[::sub]
    lipm = LipmTrajectory(*(pick(a) for a in (lipm_fine.com, lipm_fine.com_vel,
                                              lipm_fine.com_acc, lipm_fine.zmp)))
    zref = pick(ref_fine)

    ik = WholeBodyIK(FEET + ("pelvis", "torso_link"), settings, tight=FEET)
    q0 = body.default_qpos.copy()
    q0[:2] = lipm.com[0] - body.default_com_w[:2]
    q0[2] = h
    ik.reset(q0)
    default = ik.spec.default_joint_pos_array()
    names = ik.spec.joint_names
    sh_l, sh_r = names.index("left_shoulder_pitch_joint"), names.index("right_shoulder_pitch_joint")
    qpos = np.empty((T, ik.model.nq))
    residual = {f: np.empty(T) for f in FEET} | {"com": np.empty(T)}
    for k in range(T):
        for f in FEET:
            pos, yaw, _ = feet[f]
            ik.set_link(f, pos[k], yaw_quat(yaw[k]), pos_cost=50.0, ori_cost=20.0)
        ik.set_link("pelvis", np.array([0.0, 0.0, h]), yaw_quat(pelvis_yaw[k]),
                    pos_cost=np.array([0.0, 0.0, PELVIS_HEIGHT_COST]), ori_cost=5.0)
        ik.set_link("torso_link", None, yaw_quat(pelvis_yaw[k]), ori_cost=2.0)
        ik.set_com(np.array([*lipm.com[k], com_z]), np.array([30.0, 30.0, 0.0]))
        c, s = np.cos(pelvis_yaw[k]), np.sin(pelvis_yaw[k])
        dxy = feet[FEET[0]][0][k, :2] - feet[FEET[1]][0][k, :2]
        lead = c * dxy[0] + s * dxy[1]  # left foot ahead of the right, pelvis frame
        posture = default.copy()
        posture[sh_l] += params.arm_swing_rad_per_m * lead
        posture[sh_r] -= params.arm_swing_rad_per_m * lead
        ik.set_posture(posture)
        qpos[k] = ik.solve()
        for key, v in ik.errors_m().items():
            residual[key][k] = v
    seconds = time.perf_counter() - start
    source = {
        "generator": GENERATOR, "kind": "walk", "name": name,
        "params": asdict(params), "fps": fps,
        "gait": {"step_s": timing.step_s, "double_support_s": timing.double_support_s,
                 "width_m": timing.width_m, "apex_m": timing.apex_m,
                 "steps": len(plan.steps) - 2, "pelvis_height_m": round(h, 4),
                 "com_height_m": round(com_z, 4)},
        "ik": {"feet_residual_max_m": round(float(max(residual[f].max() for f in FEET)), 6),
               "com_residual_max_m": round(float(residual["com"].max()), 6)},
    }
    motion = robot_motion_from_qpos(ik.robot, qpos[:, :3], qpos[:, 3:7], qpos[:, ik.adr], fps,
                                    source=source)
    return WalkResult(motion, plan, zref, lipm, feet, residual, h, seconds)
