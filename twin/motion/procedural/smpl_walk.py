"""Foot-locked human walks on the SMPL skeleton, stored the way GVHMR stores estimates.

A walk is planned as footholds along a root path (forward and sideways speed, yaw rate,
with smooth starts and stops): stance feet stay planted, swing feet follow a lifted arc, the
pelvis rides over the feet (their midpoint smoothed over 0.5 s, swaying towards the stance
foot, a few cm lower than standing), and the legs come from inverse kinematics on the SMPL
skeleton (hip flexion and abduction, knee; the ankle keeps the sole level). Unlike a
sinusoidal gait, stance feet do not slide, so a retargeted walk is something a robot can
execute -- what a good video estimate of a real walk looks like.

``walk_world`` gives the motion in a z-up world; ``walk_gvhmr`` the ``hmr4d_results.pt``
dict (``smpl_params_global``/``incam``, ``K_fullimg``) seen by a camera; ``walk_raw`` the
reader record that ``normalise`` + ``retarget_to_g1`` take, as for ``twin validate`` inputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import least_squares

from twin.motion.procedural.smpl_tasks import smooth_step
from twin.motion.readers import SmplParams
from twin.motion.rotations import R_ZUP_FROM_YUP, matrix_to_quat, quat_to_rotvec
from twin.motion.smpl import (
    ANKLE_HEIGHT_FRACTION,
    SMPL_BODY_PARENTS,
    SMPL_JOINT_NAMES,
    forward_kinematics,
    mean_shape_rest_joints,
)
from twin.retarget.config import G1_HEIGHT_M

_J = {n: SMPL_JOINT_NAMES.index(n) - 1 for n in SMPL_JOINT_NAMES[1:22]}  # body_pose rows
SIDES = ("left", "right")
# Horizontal share of the G1's CoM that follows the feet midpoint relative to the pelvis
# (least squares over a retargeted 0.8 m/s walk: 0.126).
LEG_COM_SHARE = 0.126



@dataclass(frozen=True)
class WalkSpec:
    """One walk; speeds are in the walker's heading frame (x forward, y left).

    speed_mps: forward speed (negative walks backward).
    lateral_mps: sideways speed (positive to the left).
    yaw_rate_rad_s: heading rate while walking (an arc of radius speed / rate).
    walk_s: walking time between the standing phases.
    stand_before_s, stand_after_s: standing still before and after.
    step_s: time per step (one foot's swing plus 20 % double support).
    lift_m: swing-foot apex; sink_m: pelvis drop while walking (knees bent).
    """

    speed_mps: float = 0.8
    lateral_mps: float = 0.0
    yaw_rate_rad_s: float = 0.0
    walk_s: float = 6.0
    stand_before_s: float = 1.0
    stand_after_s: float = 1.0
    step_s: float = 0.55
    lift_m: float = 0.08
    sink_m: float = 0.03
    height_m: float = 1.70
    fps: float = 30.0


def _rz(yaw: np.ndarray) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.zeros(yaw.shape + (3, 3))
    R[..., 0, 0], R[..., 0, 1], R[..., 1, 0], R[..., 1, 1], R[..., 2, 2] = c, -s, s, c, 1.0
    return R


def _plan(spec: WalkSpec, scale: float):
    """Frame times, feet (ankle xy, yaw, contact) and LIPM CoM xy at G1 scale, from the
    footstep planner and ZMP preview control of the procedural G1 walks
    (``twin.motion.procedural``); the plan ends after its closing step and standing."""
    from twin.motion.procedural.footsteps import (
        FEET,
        GaitTiming,
        WalkCommand,
        plan_footsteps,
    )
    from twin.motion.procedural.g1_body import g1_body
    from twin.motion.procedural.lipm import track_zmp
    from twin.motion.procedural.swing import foot_trajectories, zmp_reference

    body = g1_body()
    cmd = WalkCommand(spec.speed_mps / scale, spec.lateral_mps / scale, spec.yaw_rate_rad_s,
                      spec.walk_s, spec.stand_before_s, spec.stand_after_s)
    timing = GaitTiming(step_s=spec.step_s, double_support_s=round(0.2 * spec.step_s, 3),
                        width_m=0.2, apex_m=spec.lift_m / scale)
    plan = plan_footsteps(cmd, timing)
    t = np.arange(int(np.floor(plan.duration_s * spec.fps + 1e-9)) + 1) / spec.fps
    feet = foot_trajectories(plan, t, body)
    sub = 4
    t_fine = np.arange((t.size - 1) * sub + 1) / (spec.fps * sub)
    com = track_zmp(zmp_reference(plan, t_fine, body), 1.0 / (spec.fps * sub),
                    0.74 + body.com_minus_pelvis_z_m).com[::sub]
    side = {FEET[0]: "left", FEET[1]: "right"}
    return t, {side[f]: feet[f] for f in FEET}, com, plan


def leg_ik(rest: np.ndarray, aa_root: np.ndarray, pelvis: np.ndarray,
           feet: dict[str, np.ndarray], hip_yaw: dict[str, np.ndarray] | None,
           body: np.ndarray, start: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> float:
    """Hip flexion/abduction and knee flexion putting each ankle (``feet``, world, per side)
    on its target (least squares on SMPL FK of ``rest`` joints with root orientation
    ``aa_root`` (T, 3), warm-started frame to frame from ``start``: hip flexion, abduction,
    knee, rad), written into ``body`` (T, 21, 3); the hip's yaw is ``hip_yaw`` (rad, per
    side; None = 0) and the ankle keeps the sole level. Returns the largest residual, m."""
    if hip_yaw is None:
        hip_yaw = {s: np.zeros(len(pelvis)) for s in SIDES}
    def residual(x, i, side, hip, knee, ankle_joint):
        b = np.zeros((1, 21, 3))
        b[0, hip, 0], b[0, hip, 2], b[0, knee, 0] = x
        b[0, hip, 1] = hip_yaw[side][i]
        pos, _ = forward_kinematics(rest, SMPL_BODY_PARENTS, aa_root[i][None], b,
                                    np.zeros((1, 3)))
        err = pos[0, ankle_joint] - pos[0, 0] - (feet[side][i] - pelvis[i])
        return np.concatenate([err, [0.01 * x[1]]])

    worst = 0.0
    for side in SIDES:
        hip, knee, ankle = (_J[f"{side}_{n}"] for n in ("hip", "knee", "ankle"))
        ankle_joint = SMPL_JOINT_NAMES.index(f"{side}_ankle")
        x = np.array(start, dtype=float)
        for i in range(len(pelvis)):
            sol = least_squares(residual, x, bounds=([-1.5, -0.6, 0.0], [1.0, 0.6, 2.4]),
                                args=(i, side, hip, knee, ankle_joint))
            x = sol.x
            worst = max(worst, float(np.abs(sol.fun[:3]).max()))
            body[i, hip, 0], body[i, hip, 2], body[i, knee, 0] = x
            body[i, hip, 1] = hip_yaw[side][i]  # the foot's yaw relative to the pelvis
            body[i, ankle, 0] = -(x[0] + x[2])  # keep the sole level
    return worst


def swing_arms(body: np.ndarray) -> None:
    """Arms down, elbows slightly bent, swinging opposite the legs (in ``body``)."""
    swing = body[:, _J["left_hip"], 0] - body[:, _J["right_hip"], 0]
    body[:, _J["left_shoulder"], 2] = -1.25
    body[:, _J["right_shoulder"], 2] = 1.25
    body[:, _J["left_shoulder"], 1] = -0.5 * swing
    body[:, _J["right_shoulder"], 1] = -0.5 * swing
    body[:, _J["left_elbow"], 1] = -0.25
    body[:, _J["right_elbow"], 1] = 0.25


def walk_world(spec: WalkSpec) -> dict[str, np.ndarray | float | dict]:
    """The walk in a z-up world: ``root_rot_w`` (T, 3, 3), ``pelvis_w`` (T, 3),
    ``body_pose`` (T, 21, 3) axis-angle, ``feet_w`` (ankle positions per side),
    ``ik_residual_max_m``.

    Footsteps and the centre of mass come from the G1 walk planner at the G1's scale (the
    command divided by height ratio), scaled up to the human; the pelvis follows the CoM.
    """
    scale = spec.height_m / G1_HEIGHT_M
    t, feet_g1, com_g1, plan = _plan(spec, scale)
    T = t.size
    rest = mean_shape_rest_joints(spec.height_m)
    ankle_z = ANKLE_HEIGHT_FRACTION * spec.height_m
    feet, yaw = {}, {}
    for side, (pos, foot_yaw, _contact) in feet_g1.items():
        p = pos[:T].copy()
        p[:, :2] *= scale
        p[:, 2] = ankle_z + (p[:, 2] - p[0, 2]) * scale
        feet[side], yaw[side] = p, np.unwrap(foot_yaw[:T])
    heading = np.unwrap(np.arctan2(np.sin(yaw["left"]) + np.sin(yaw["right"]),
                                   np.cos(yaw["left"]) + np.cos(yaw["right"])))
    root_rot = _rz(heading + np.pi / 2) @ R_ZUP_FROM_YUP  # SMPL faces +z (y-up)
    aa_root = quat_to_rotvec(matrix_to_quat(root_rot))
    t0, t1 = spec.stand_before_s, plan.duration_s - spec.stand_after_s
    walking = smooth_step(t, t0 - 0.3, t0 + 0.3) - smooth_step(t, t1 - 0.3, t1 + 0.3)
    stand_z = rest[0, 1] - rest[SMPL_JOINT_NAMES.index("left_ankle"), 1] + ankle_z
    # The whole-body CoM sits between the pelvis and the feet (swinging legs carry it):
    # CoM ~ pelvis + LEG_COM_SHARE (feet midpoint - pelvis); solve for the pelvis that puts
    # the whole-body CoM on the LIPM path.
    mid_feet = 0.5 * (feet["left"][:, :2] + feet["right"][:, :2]) / scale
    pelvis_g1 = (com_g1[:T] - LEG_COM_SHARE * mid_feet) / (1.0 - LEG_COM_SHARE)
    pelvis = np.concatenate([pelvis_g1 * scale, (stand_z - spec.sink_m * walking)[:, None]],
                            axis=1)
    body = np.zeros((T, 21, 3))
    hip_yaw = {s: yaw[s] - heading for s in SIDES}
    residual = leg_ik(rest, aa_root, pelvis, feet, hip_yaw, body)
    swing_arms(body)
    return {"root_rot_w": root_rot, "pelvis_w": pelvis, "body_pose": body, "feet_w": feet,
            "ik_residual_max_m": residual, "spec": asdict(spec)}


def smpl_world_gvhmr(w: dict, height_m: float, world_from_camera: np.ndarray | None = None,
                     K: np.ndarray | None = None) -> dict:
    """A z-up world motion (``walk_world``'s layout) as a GVHMR ``hmr4d_results.pt`` dict
    filmed by a camera (default: 5 m in front of the start, 1.2 m high, looking back at the
    walker, 1000 px focal length)."""
    from twin.motion.synthetic import gvhmr_result_in_camera

    if world_from_camera is None:
        # OpenCV axes (x right, y down, z forward) in the world, as columns: the camera at
        # (5, 0, 1.2) looks along -x, so its right is +y and its down is -z
        world_from_camera = np.eye(4)
        world_from_camera[:3, :3] = [[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]
        world_from_camera[:3, 3] = [5.0, 0.0, 1.2]
    if K is None:
        K = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
    return gvhmr_result_in_camera(w["root_rot_w"], w["pelvis_w"], w["body_pose"],
                                  world_from_camera, K, height_m)


def smpl_world_raw(w: dict, height_m: float, fps: float, path: str) -> SmplParams:
    """A z-up world motion as the reader record of its GVHMR file (y-up global
    parameters)."""
    g = smpl_world_gvhmr(w, height_m)["smpl_params_global"]
    T = g["transl"].shape[0]
    return SmplParams(path=path, format="gvhmr", model="smpl",
                      root_orient_aa=np.asarray(g["global_orient"], np.float64),
                      body_pose_aa=np.asarray(g["body_pose"], np.float64).reshape(T, 21, 3),
                      betas=np.zeros(10), transl=np.asarray(g["transl"], np.float64),
                      up_axis="y", fps=fps)


def walk_gvhmr(spec: WalkSpec, world_from_camera: np.ndarray | None = None,
               K: np.ndarray | None = None) -> dict:
    """The walk as a GVHMR ``hmr4d_results.pt`` dict (``smpl_world_gvhmr``'s camera)."""
    return smpl_world_gvhmr(walk_world(spec), spec.height_m, world_from_camera, K)


def walk_raw(spec: WalkSpec) -> SmplParams:
    """The walk as the reader record of its GVHMR file (y-up global parameters)."""
    return smpl_world_raw(walk_world(spec), spec.height_m, spec.fps, "<smpl_walk>")


def retarget_smpl(raw: SmplParams, height_m: float, fps: float, source: dict):
    """Retargeted G1 ``RobotMotion`` of a reader record (the ``twin validate`` input path),
    ``source`` added to its own, and the retargeting summary."""
    from twin.motion.normalise import normalise
    from twin.retarget import retarget_to_g1

    res = retarget_to_g1(normalise(raw, target_fps=fps, height_m=height_m))
    res.motion.source.update(source)
    return res.motion, res.summary()


def generate_smpl_walk(spec: WalkSpec, fps: float = 50.0, name: str = "smpl_walk"):
    """Retargeted G1 ``RobotMotion`` of one walk and the retargeting summary."""
    return retarget_smpl(walk_raw(spec), spec.height_m, fps,
                         {"name": name, "generator": "twin.motion.procedural.smpl_walk",
                          "walk": asdict(spec)})
