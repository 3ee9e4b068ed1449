"""Human jogs on the SMPL skeleton, stored the way GVHMR stores estimates.

A jog is a gait at a jogging cadence (0.33-0.40 s per step) along a root path (forward or
backward speed, heading rate), already under way from the first frame to the last, as the
motion-capture jog takes are. Each step has one stance foot planted under the pelvis's path
at mid-stance (a lateral offset either side); consecutive stances overlap (double support)
or leave a flight phase between them. The pelvis bounces once per step: lowest at mid-stance
and, with a flight phase, ballistic in the air (take-off speed g * flight / 2), so its
height and vertical speed are continuous. Swing feet travel between stances with a lift of
10-30 cm, the torso leans into the run, the arms swing bent at the elbow. Legs come from
the walk's leg IK on the SMPL skeleton (``smpl_walk.leg_ik``).

Everything is planned at the G1's scale and scaled up to the human, as the walks are, so the
retargeted jog moves at the G1 speeds and heights planned here (``speed_mps`` and ``lift_m``
are at human scale, like ``WalkSpec``'s).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import pairwise

import numpy as np

from twin.motion.procedural.smpl_walk import (
    _J,
    SIDES,
    _rz,
    leg_ik,
    retarget_smpl,
    smpl_world_gvhmr,
    smpl_world_raw,
    swing_arms,
)
from twin.motion.procedural.swing import min_jerk
from twin.motion.readers import SmplParams
from twin.motion.rotations import R_ZUP_FROM_YUP, matrix_to_quat, quat_to_rotvec
from twin.motion.smpl import ANKLE_HEIGHT_FRACTION, SMPL_JOINT_NAMES, mean_shape_rest_joints
from twin.retarget.config import G1_HEIGHT_M

GRAVITY_MPS2 = 9.81


@dataclass(frozen=True)
class JogSpec:
    """One jog; speeds are in the jogger's heading frame, at human scale.

    speed_mps: forward speed (negative jogs backward).
    yaw_rate_rad_s: heading rate (an arc of radius speed / rate).
    jog_s: duration.
    step_s: time from one foot's touchdown to the other's.
    flight_frac: share of a step with both feet in the air; negative: that share of a step
        in double support.
    bounce_m: pelvis drop at mid-stance without a flight phase (with one, the ballistic
        flight sets it).
    lift_m: swing-foot apex above the floor; width_m: lateral distance between the feet.
    lean_rad: forward lean of the trunk over a level pelvis (people lean forward jogging
        backward too); elbow_rad: elbow flexion.
    over_foot_frac: when, as a share of a stance, the pelvis passes over the stance foot.
    heel_off_rad: how far the heel has risen (foot pitch about the ball) at lift-off, over the
        last ``heel_off_frac`` of the stance.
    sink_m: pelvis below its standing height at touchdown (knees bent).
    """

    speed_mps: float = 2.0
    yaw_rate_rad_s: float = 0.0
    jog_s: float = 5.0
    step_s: float = 0.36
    flight_frac: float = 0.1
    bounce_m: float = 0.04
    lift_m: float = 0.2
    width_m: float = 0.2
    lean_rad: float = 0.1
    over_foot_frac: float = 0.3
    heel_off_rad: float = 0.45
    heel_off_frac: float = 0.4
    elbow_rad: float = 1.1
    sink_m: float = 0.02
    height_m: float = 1.70
    fps: float = 30.0

    def __post_init__(self) -> None:
        if not 0.25 <= self.step_s <= 0.6:
            raise ValueError(f"JogSpec.step_s: is {self.step_s}; expected 0.25-0.6 s")
        if not -0.5 < self.flight_frac < 0.5:
            raise ValueError(f"JogSpec.flight_frac: is {self.flight_frac}; expected in "
                             "(-0.5, 0.5)")


def _root_path(spec: JogSpec, t: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis xy (N, 2) at G1 scale and heading (N,) at times ``t`` (may be negative):
    constant speed along an arc starting at the origin facing +x at t = 0."""
    v = spec.speed_mps / scale
    w = spec.yaw_rate_rad_s
    heading = w * t
    if abs(w) < 1e-9:
        xy = np.stack([v * t, np.zeros_like(t)], axis=1)
    else:
        xy = np.stack([v / w * np.sin(heading), v / w * (1.0 - np.cos(heading))], axis=1)
    return xy, heading


def _bump(s: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 over s in [0, 1] with zero slope at both ends."""
    return np.sin(np.pi * np.clip(s, 0.0, 1.0)) ** 2


def _heel_off_ankle(foothold: np.ndarray, fwd: np.ndarray, ball: float, h: float, theta):
    """Ankle xy and its height above the flat-foot ankle height when a foot planted with its
    ankle at ``foothold`` (xy) and facing ``fwd`` has turned its heel up by ``theta`` (rad)
    about its ball, ``ball`` ahead of the ankle on the floor; ``h``: flat ankle height."""
    x = -ball * np.cos(theta) + h * np.sin(theta)
    z = ball * np.sin(theta) + h * np.cos(theta)
    return foothold + np.multiply.outer(ball + x, fwd), z - h


def _ball_in_ankle_m(rest: np.ndarray) -> float:
    """Horizontal distance from the ankle to the ball of the foot (SMPL's foot joint), m."""
    d = rest[SMPL_JOINT_NAMES.index("left_foot")] - rest[SMPL_JOINT_NAMES.index("left_ankle")]
    return float(np.hypot(d[0], d[2]))  # rest joints are y-up


def _overreach_m(rest: np.ndarray, feet: dict[str, np.ndarray], pelvis_xy: np.ndarray,
                 pelvis_z: np.ndarray, reach: float = 1.0) -> float:
    """How much lower the pelvis must be for every ankle target to lie within ``reach`` of
    the straight leg's length from its hip (human scale, m; hips taken level beside the
    pelvis)."""
    worst = 0.0
    for side in SIDES:
        hip = rest[SMPL_JOINT_NAMES.index(f"{side}_hip")]
        ankle = rest[SMPL_JOINT_NAMES.index(f"{side}_ankle")]
        leg = reach * float(np.linalg.norm(ankle - hip))
        hip_z = pelvis_z + (hip[1] - rest[0, 1])  # rest joints are y-up
        horiz = np.linalg.norm(feet[side][:, :2] - pelvis_xy, axis=1)
        vert = hip_z - feet[side][:, 2]
        allowed = np.sqrt(np.maximum(leg ** 2 - horiz ** 2, 0.0))
        worst = max(worst, float((vert - allowed).max()))
    return max(worst, 0.0)


def jog_world(spec: JogSpec) -> dict[str, np.ndarray | float | dict]:
    """The jog in a z-up world, in ``smpl_walk.walk_world``'s layout: ``root_rot_w``
    (T, 3, 3), ``pelvis_w`` (T, 3), ``body_pose`` (T, 21, 3) axis-angle, ``feet_w`` (ankle
    positions per side), ``contact`` (per side, (T,) bool), ``ik_residual_max_m``."""
    scale = spec.height_m / G1_HEIGHT_M
    T = round(spec.jog_s * spec.fps) + 1
    t = np.arange(T) / spec.fps
    rest = mean_shape_rest_joints(spec.height_m)
    ankle_z = ANKLE_HEIGHT_FRACTION * spec.height_m
    stand_z = rest[0, 1] - rest[SMPL_JOINT_NAMES.index("left_ankle"), 1] + ankle_z
    step = spec.step_s
    stance = step * (1.0 - spec.flight_frac)  # one foot's ground time
    flight = max(0.0, step - stance)
    # steps k = -2 ... cover the clip; step k's stance starts at k * step, left foot on even k
    ks = np.arange(-2, int(np.ceil(spec.jog_s / step)) + 3)
    # the pelvis passes over the stance foot a third into the stance: the foot lands a little
    # ahead of the body and pushes off far behind it, as in the motion-capture jogs (ankle
    # 0.05-0.19 m ahead of the pelvis at touchdown, 0.24-0.34 m behind at lift-off)
    t_mid = ks * step + spec.over_foot_frac * stance
    mid_xy, mid_heading = _root_path(spec, t_mid, scale)
    side_sign = np.where(ks % 2 == 0, 1.0, -1.0)  # left of the path on even steps
    lateral = np.stack([-np.sin(mid_heading), np.cos(mid_heading)], axis=1)
    foothold = mid_xy + (0.5 * spec.width_m / scale) * side_sign[:, None] * lateral
    pelvis_xy, heading = _root_path(spec, t, scale)
    # late in a stance the heel rises about the ball of the foot (ball_m ahead of the ankle,
    # at the floor), which lifts the ankle: the leg reaches back further without a deeper
    # pelvis; the swing brings the foot level again by touchdown
    ball = _ball_in_ankle_m(rest) / scale
    h = ankle_z / scale
    feet, contact, yaw, pitch = {}, {}, {}, {}
    for side, parity in zip(SIDES, (0, 1)):
        own = np.flatnonzero(ks % 2 == parity)
        p = np.zeros((T, 3))
        c = np.zeros(T, bool)
        hdg = np.zeros(T)
        th = np.zeros(T)
        for a, b in pairwise(own):
            on, off, nxt = ks[a] * step, ks[a] * step + stance, ks[b] * step
            fwd = np.array([np.cos(mid_heading[a]), np.sin(mid_heading[a])])
            heel_on = off - spec.heel_off_frac * stance
            sel = (t >= on) & (t < off)
            th[sel] = spec.heel_off_rad * min_jerk((t[sel] - heel_on) / (off - heel_on))
            p[sel, :2], p[sel, 2] = _heel_off_ankle(foothold[a], fwd, ball, h, th[sel])
            hdg[sel], c[sel] = mid_heading[a], True
            # a swing foot moves with the pelvis, from behind it to ahead of it: interpolated
            # in the world it would trail ever further behind the pelvis after lift-off
            sel = (t >= off) & (t < nxt)
            s = (t[sel] - off) / (nxt - off)
            m = min_jerk(s)[:, None]
            at_off, _ = _root_path(spec, np.array([off]), scale)
            at_nxt, _ = _root_path(spec, np.array([nxt]), scale)
            xy_off, z_off = _heel_off_ankle(foothold[a], fwd, ball, h, spec.heel_off_rad)
            p[sel, :2] = pelvis_xy[sel] + (1 - m) * (xy_off - at_off) + m * (
                foothold[b] - at_nxt)
            p[sel, 2] = (1 - m[:, 0]) * z_off + (spec.lift_m / scale) * _bump(s ** 0.7)
            hdg[sel] = (1 - m[:, 0]) * mid_heading[a] + m[:, 0] * mid_heading[b]
            th[sel] = spec.heel_off_rad * (1 - m[:, 0])
        feet[side], contact[side], yaw[side], pitch[side] = p, c, hdg, th
    # pelvis height: once per step, lowest at mid-stance; ballistic between stances
    phase = np.mod(t, step)
    if flight > 0.0:
        v0 = 0.5 * GRAVITY_MPS2 * flight
        in_stance = phase < stance
        tau = np.where(in_stance, phase, phase - stance)
        dz = np.where(in_stance, -(v0 * stance / np.pi) * np.sin(np.pi * tau / stance),
                      v0 * tau - 0.5 * GRAVITY_MPS2 * tau ** 2)
        dz -= dz.max()  # apex at the standing-sink height
    else:
        dz = -spec.bounce_m / scale * 0.5 * (1 - np.cos(2 * np.pi * (phase - 0.5 * stance)
                                                        / step + np.pi))
    for side in SIDES:  # G1 scale -> human scale; ankles at the human's ankle height
        feet[side][:, :2] *= scale
        feet[side][:, 2] = ankle_z + feet[side][:, 2] * scale
    sink = spec.sink_m + _overreach_m(rest, feet, pelvis_xy * scale,
                                      stand_z - spec.sink_m + dz * scale)
    pelvis = np.concatenate([pelvis_xy * scale, (stand_z - sink + dz * scale)[:, None]],
                            axis=1)
    root_rot = _rz(heading + np.pi / 2) @ R_ZUP_FROM_YUP  # SMPL faces +z (y-up)
    aa_root = quat_to_rotvec(matrix_to_quat(root_rot))
    body = np.zeros((T, 21, 3))
    hip_yaw = {sd: yaw[sd] - heading for sd in SIDES}
    residual = leg_ik(rest, aa_root, pelvis, feet, hip_yaw, body, start=(-0.4, 0.0, 0.8))
    swing_arms(body)
    for side in SIDES:  # leg_ik keeps the sole level; the heel rises (toes down) on top
        body[:, _J[f"{side}_ankle"], 0] += pitch[side]
    for joint in ("spine1", "spine2", "spine3"):  # the trunk leans, the pelvis stays level
        body[:, _J[joint], 0] = spec.lean_rad / 3
    body[:, _J["left_elbow"], 1] = -spec.elbow_rad
    body[:, _J["right_elbow"], 1] = spec.elbow_rad
    return {"root_rot_w": root_rot, "pelvis_w": pelvis, "body_pose": body, "feet_w": feet,
            "contact": contact, "foot_pitch_rad": pitch, "ball_in_ankle_m": ball * scale,
            "ik_residual_max_m": residual, "sink_m": sink,
            "spec": asdict(spec)}


def jog_gvhmr(spec: JogSpec, world_from_camera: np.ndarray | None = None,
              K: np.ndarray | None = None) -> dict:
    """The jog as a GVHMR ``hmr4d_results.pt`` dict (``smpl_walk.walk_gvhmr``'s camera)."""
    return smpl_world_gvhmr(jog_world(spec), spec.height_m, world_from_camera, K)


def jog_raw(spec: JogSpec) -> SmplParams:
    """The jog as the reader record of its GVHMR file (y-up global parameters)."""
    return smpl_world_raw(jog_world(spec), spec.height_m, spec.fps, "<smpl_jog>")


def generate_smpl_jog(spec: JogSpec, fps: float = 50.0, name: str = "smpl_jog"):
    """Retargeted G1 ``RobotMotion`` of one jog and the retargeting summary."""
    return retarget_smpl(jog_raw(spec), spec.height_m, fps,
                         {"name": name, "generator": "twin.motion.procedural.smpl_jog",
                          "jog": asdict(spec)})
