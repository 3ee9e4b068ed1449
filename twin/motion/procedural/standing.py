"""Standing G1 motions with the feet planted: arm reaches, waves, torso bends, squats,
crouch-and-lift, stoop-and-lift from the floor, sit-down-like lowering. Each is whole-body
IK over smooth target trajectories: both feet fixed flat on the floor, the whole-body CoM
held over the centre of the support polygon (so every frame is statically balanced), and per
motion the pelvis height and pitch, the torso orientation, hand targets and an arm posture.

Target trajectories are piecewise minimum-jerk between keyframes (zero velocity and
acceleration at every keyframe). A hand target is active while its weight ``w`` > 0: its
target is ``(1 - w) * anchor + w * goal``, the anchor being where the hand was when ``w``
left 0, so hands leave and return to the posture's rest without a jump. Randomness (target
points, depths, timings) comes from ``numpy.random.default_rng(seed)``; the drawn values are
stored in the motion's ``source``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from twin.motion.procedural.g1_body import FEET, HANDS, g1_body
from twin.motion.procedural.ik import IKSettings, WholeBodyIK, rpy_quat
from twin.motion.procedural.swing import min_jerk
from twin.motion.robot_motion import RobotMotion
from twin.retarget.kinematics import robot_motion_from_qpos

GENERATOR = "twin.motion.procedural.standing"
HAND_COST = 3.0  # below feet (50) and CoM (30): an unreachable hand target never moves a foot
STANCE_HALF_WIDTH_M = 0.1185  # default pose ankles, Menagerie g1
SHOULDER_IN_STANCE = {HANDS[0]: np.array([0.0, 0.14, 1.044]),
                      HANDS[1]: np.array([0.0, -0.14, 1.044])}


def keyframes(t: np.ndarray, times: list[float], values: list) -> np.ndarray:
    """Piecewise minimum-jerk interpolation through ``(times[i], values[i])``; values may
    be scalars or arrays; held before the first and after the last key."""
    v = np.asarray(values, dtype=float)
    out = np.empty((t.size,) + v.shape[1:])
    out[:] = v[0]
    for i in range(len(times) - 1):
        t0, t1 = times[i], times[i + 1]
        sel = (t >= t0) & (t < t1) if t1 > t0 else np.zeros(t.size, bool)
        s = min_jerk((t[sel] - t0) / max(t1 - t0, 1e-9))
        s = s.reshape((-1,) + (1,) * (v.ndim - 1))
        out[sel] = (1 - s) * v[i] + s * v[i + 1]
    out[t >= times[-1]] = v[-1]
    return out


@dataclass
class StandScript:
    """Target trajectories over ``t`` (T,) for ``solve_standing``; None = not constrained."""

    t: np.ndarray
    pelvis_z: np.ndarray
    pelvis_pitch: np.ndarray
    torso_rpy: np.ndarray  # (T, 3)
    hand_goal: dict[str, np.ndarray] = field(default_factory=dict)  # (T, 3) world
    hand_weight: dict[str, np.ndarray] = field(default_factory=dict)  # (T,) in [0, 1]
    posture_delta: dict[str, np.ndarray] = field(default_factory=dict)  # joint -> (T,) rad
    com_shift_xy: np.ndarray | None = None  # (T, 2) from the support centre


def _script(duration_s: float, fps: float) -> StandScript:
    T = int(round(duration_s * fps)) + 1
    t = np.arange(T) / fps
    body = g1_body()
    return StandScript(t=t, pelvis_z=np.full(T, body.default_pelvis_height_m),
                       pelvis_pitch=np.zeros(T), torso_rpy=np.zeros((T, 3)))


def solve_standing(script: StandScript, kind: str, params: dict, fps: float = 50.0,
                   settings: IKSettings = IKSettings(), name: str | None = None
                   ) -> tuple[RobotMotion, dict[str, np.ndarray]]:
    """IK of ``script``; returns the motion and per-frame residuals (m): feet, CoM, hands,
    pelvis height shortfall."""
    body = g1_body()
    ik = WholeBodyIK(FEET + HANDS + ("pelvis", "torso_link"), settings, tight=FEET)
    feet = {f: np.array([0.0, s * STANCE_HALF_WIDTH_M, body.sole_below_ankle_m])
            for f, s in zip(FEET, (1.0, -1.0))}
    centre = 0.5 * (feet[FEET[0]][:2] + feet[FEET[1]][:2]) + body.foot_center_in_ankle
    q0 = body.default_qpos.copy()
    q0[:2] = centre - (body.default_com_w[:2] - body.default_qpos[:2])
    ik.reset(q0)
    default = ik.spec.default_joint_pos_array()
    jidx = {n: i for i, n in enumerate(ik.spec.joint_names)}
    T = script.t.size
    qpos = np.empty((T, ik.model.nq))
    res = {k: np.zeros(T) for k in (*FEET, "com", *HANDS, "pelvis_z")}
    anchor: dict[str, np.ndarray | None] = {h: None for h in HANDS}
    for k in range(T):
        for f in FEET:
            ik.set_link(f, feet[f], np.array([1.0, 0, 0, 0]), pos_cost=50.0, ori_cost=20.0)
        ik.set_link("pelvis", np.array([0.0, 0.0, script.pelvis_z[k]]),
                    rpy_quat(0.0, script.pelvis_pitch[k], 0.0),
                    pos_cost=np.array([0.0, 0.0, 5.0]), ori_cost=np.array([5.0, 0.5, 5.0]))
        ik.set_link("torso_link", None, rpy_quat(*script.torso_rpy[k]), ori_cost=3.0)
        shift = script.com_shift_xy[k] if script.com_shift_xy is not None else np.zeros(2)
        ik.set_com(np.array([*(centre + shift), 0.0]), np.array([30.0, 30.0, 0.0]))
        for h in HANDS:
            w = float(script.hand_weight[h][k]) if h in script.hand_weight else 0.0
            if w <= 0.0:
                anchor[h] = None
                ik.set_link(h, None, None)
                continue
            if anchor[h] is None:
                anchor[h] = ik.body_pos(h).copy()
            goal = (1 - w) * anchor[h] + w * script.hand_goal[h][k]
            ik.set_link(h, goal, None, pos_cost=HAND_COST)
        posture = default.copy()
        for joint, delta in script.posture_delta.items():
            posture[jidx[joint]] += delta[k]
        ik.set_posture(posture)
        qpos[k] = ik.solve()
        err = ik.errors_m()
        for key in (*FEET, "com"):
            res[key][k] = err[key]
        for h in HANDS:
            if anchor[h] is not None:
                res[h][k] = float(np.linalg.norm(ik.body_pos(h) - ik._targets[h]))
        res["pelvis_z"][k] = float(ik.body_pos("pelvis")[2] - script.pelvis_z[k])
    source = {
        "generator": GENERATOR, "kind": kind, "name": name, "params": params, "fps": fps,
        "ik": {"feet_residual_max_m": round(float(max(res[f].max() for f in FEET)), 6),
               "com_residual_max_m": round(float(res["com"].max()), 6),
               "hand_residual_max_m": round(float(max(res[h].max() for h in HANDS)), 6),
               "pelvis_height_shortfall_max_m": round(float(res["pelvis_z"].max()), 6)},
    }
    motion = robot_motion_from_qpos(ik.robot, qpos[:, :3], qpos[:, 3:7], qpos[:, ik.adr], fps,
                                    source=source)
    return motion, res


# --- motion scripts ------------------------------------------------------------------------
def _hand_goal(side: str, azimuth: float, elevation: float, dist: float) -> np.ndarray:
    """A point ``dist`` from the shoulder; azimuth from forward towards the arm's side."""
    s = 1.0 if side == HANDS[0] else -1.0
    d = np.array([np.cos(elevation) * np.cos(azimuth), s * np.cos(elevation) * np.sin(azimuth),
                  np.sin(elevation)])
    return SHOULDER_IN_STANCE[side] + dist * d


def reach_script(seed: int, duration_s: float = 8.0, fps: float = 50.0) -> tuple[StandScript, dict]:
    """Reaches to random points (one or both hands); low targets lower the pelvis and
    pitch the torso forward."""
    rng = np.random.default_rng(seed)
    sc = _script(duration_s, fps)
    t = sc.t
    w = {h: np.zeros(t.size) for h in HANDS}
    goal = {h: np.zeros((t.size, 3)) for h in HANDS}
    z_keys_t, z_keys, p_keys = [0.0], [sc.pelvis_z[0]], [0.0]
    reaches = []
    t0 = 0.5
    while t0 + 2.2 < duration_s - 0.3:
        move, hold = rng.uniform(0.7, 1.1), rng.uniform(0.3, 0.8)
        which = rng.choice(["left", "right", "both"], p=[0.4, 0.4, 0.2])
        hands = HANDS if which == "both" else (HANDS[0] if which == "left" else HANDS[1],)
        el = rng.uniform(-0.9, 0.8)
        az = rng.uniform(-0.3, 1.1) if which != "both" else rng.uniform(-0.1, 0.4)
        dist = rng.uniform(0.22, 0.32)
        keys = [t0, t0 + move, t0 + move + hold, t0 + 2 * move + hold]
        for h in hands:
            g = _hand_goal(h, az, el, dist)
            goal[h][(t >= t0) & (t < keys[-1])] = g
            w[h] = np.maximum(w[h], keyframes(t, keys, [0, 1, 1, 0]))
        low = max(0.0, 0.85 - float(_hand_goal(hands[0], az, el, dist)[2]))
        drop = min(0.18, 0.6 * low)
        z_keys_t += [t0, keys[1], keys[2], keys[3]]
        z_keys += [sc.pelvis_z[0], sc.pelvis_z[0] - drop, sc.pelvis_z[0] - drop, sc.pelvis_z[0]]
        p_keys += [0.0, 1.5 * drop, 1.5 * drop, 0.0]
        reaches.append({"hands": which, "azimuth_rad": round(az, 3), "elevation_rad":
                        round(el, 3), "dist_m": round(dist, 3), "t_s": round(t0, 2),
                        "pelvis_drop_m": round(drop, 3)})
        t0 = keys[-1] + rng.uniform(0.1, 0.4)
    sc.pelvis_z = keyframes(t, z_keys_t, z_keys)
    sc.torso_rpy[:, 1] = keyframes(t, z_keys_t, p_keys)
    sc.hand_goal, sc.hand_weight = goal, w
    return sc, {"seed": seed, "duration_s": duration_s, "reaches": reaches}


def wave_script(seed: int, duration_s: float = 6.0, fps: float = 50.0) -> tuple[StandScript, dict]:
    """One or both hands raised beside the head, waving side to side."""
    rng = np.random.default_rng(seed)
    sc = _script(duration_s, fps)
    t = sc.t
    which = str(rng.choice(["left", "right", "both"], p=[0.4, 0.4, 0.2]))
    hands = HANDS if which == "both" else (HANDS[0] if which == "left" else HANDS[1],)
    freq, amp = rng.uniform(1.0, 2.0), rng.uniform(0.04, 0.08)
    up, fwd = rng.uniform(0.14, 0.22), rng.uniform(0.05, 0.15)
    t_up, t_down = 0.9, duration_s - 1.2
    for h in hands:
        s = 1.0 if h == HANDS[0] else -1.0
        base = SHOULDER_IN_STANCE[h] + np.array([fwd, s * 0.1, up])
        osc = amp * np.sin(2 * np.pi * freq * np.clip(t - t_up, 0, None))
        osc *= keyframes(t, [t_up, t_up + 0.4, t_down - 0.4, t_down], [0, 1, 1, 0])
        sc.hand_goal[h] = base + osc[:, None] * np.array([0.0, 1.0, 0.0])
        sc.hand_weight[h] = keyframes(t, [0.3, t_up, t_down, duration_s - 0.2], [0, 1, 1, 0])
    return sc, {"seed": seed, "duration_s": duration_s, "hands": which,
                "freq_hz": round(freq, 3), "amp_m": round(amp, 3)}


def bend_script(seed: int, duration_s: float = 8.0, fps: float = 50.0) -> tuple[StandScript, dict]:
    """A sequence of torso bends: forward (pitch), sideways (roll), twists (yaw); the
    waist takes up to its +-0.52 rad pitch/roll limits, the hips the rest of a forward bend."""
    rng = np.random.default_rng(seed)
    sc = _script(duration_s, fps)
    t = sc.t
    keys_t, keys = [0.0], [np.zeros(3)]
    pelvis_pitch = [0.0]
    bends = []
    t0 = 0.4
    while t0 + 2.0 < duration_s - 0.3:
        axis = int(rng.choice(3, p=[0.45, 0.3, 0.25]))
        amp = {0: rng.uniform(0.15, 0.35), 1: rng.uniform(0.25, 0.8),
               2: rng.uniform(0.3, 0.9)}[axis] * (rng.choice([-1, 1]) if axis != 1 else 1)
        move, hold = rng.uniform(0.8, 1.2), rng.uniform(0.2, 0.6)
        target = np.zeros(3)
        target[axis] = amp
        keys_t += [t0, t0 + move, t0 + move + hold, t0 + 2 * move + hold]
        keys += [np.zeros(3), target, target, np.zeros(3)]
        pp = max(0.0, amp - 0.4) if axis == 1 else 0.0
        pelvis_pitch += [0.0, pp, pp, 0.0]
        bends.append({"axis": "rpy"[axis], "amp_rad": round(float(amp), 3), "t_s": round(t0, 2)})
        t0 += 2 * move + hold + rng.uniform(0.1, 0.4)
    sc.torso_rpy = keyframes(t, keys_t, keys)
    sc.pelvis_pitch = keyframes(t, keys_t, pelvis_pitch)
    return sc, {"seed": seed, "duration_s": duration_s, "bends": bends}


def squat_script(seed: int, duration_s: float = 8.0, fps: float = 50.0) -> tuple[StandScript, dict]:
    """Repeated squats to a random depth, torso pitched slightly, arms forward or down."""
    rng = np.random.default_rng(seed)
    sc = _script(duration_s, fps)
    t = sc.t
    z0 = sc.pelvis_z[0]
    depth = rng.uniform(0.53, 0.63)
    arms_forward = bool(rng.random() < 0.5)
    down, hold, up = rng.uniform(0.9, 1.4), rng.uniform(0.3, 1.0), rng.uniform(0.9, 1.4)
    keys_t, zs, ps = [0.0], [z0], [0.0]
    t0, n = 0.5, 0
    pitch = rng.uniform(0.1, 0.3)
    fit = (duration_s - 0.8) / (down + hold + up)
    if fit < 1.0:  # a short clip still holds one (faster) squat
        down, hold, up = fit * down, fit * hold, fit * up
    while t0 + down + hold + up < duration_s - 0.3:
        keys_t += [t0, t0 + down, t0 + down + hold, t0 + down + hold + up]
        zs += [z0, depth, depth, z0]
        ps += [0.0, pitch, pitch, 0.0]
        t0 += down + hold + up + rng.uniform(0.2, 0.6)
        n += 1
    sc.pelvis_z = keyframes(t, keys_t, zs)
    sc.torso_rpy[:, 1] = keyframes(t, keys_t, ps)
    if arms_forward:
        lift = keyframes(t, keys_t, [0.0] + [0.0, -1.2, -1.2, 0.0] * n)
        for side in ("left", "right"):
            sc.posture_delta[f"{side}_shoulder_pitch_joint"] = lift
            sc.posture_delta[f"{side}_elbow_joint"] = -0.5 * lift / 1.2
    return sc, {"seed": seed, "duration_s": duration_s, "depth_pelvis_z_m": round(depth, 3),
                "squats": n, "arms_forward": arms_forward, "torso_pitch_rad": round(pitch, 3)}


def _lift_twice(sc: StandScript, k: list[float], duration_s: float, depth: float,
                pitch: float) -> list[float]:
    """A lift's timeline, twice: from 8 keyframe times ``k`` (start, down, held, up, carried,
    down, held, up), squeezed into the clip, the pelvis goes down to ``depth`` with the torso
    pitched by ``pitch`` and back up. Returns the keyframe times used."""
    scale = min(1.0, (duration_s - 0.3) / k[-1])
    k = [x * scale for x in k]
    z0 = sc.pelvis_z[0]
    sc.pelvis_z = keyframes(sc.t, k, [z0, depth, depth, z0, z0, depth, depth, z0])
    sc.torso_rpy[:, 1] = keyframes(sc.t, k, [0.0, pitch, pitch, 0.0, 0.0, pitch, pitch, 0.0])
    return k


def crouch_lift_script(seed: int, duration_s: float = 9.0, fps: float = 50.0
                       ) -> tuple[StandScript, dict]:
    """Crouch, take a (virtual) box in front with both hands, stand up holding it at the
    chest, hold, crouch again to put it down, stand."""
    rng = np.random.default_rng(seed)
    sc = _script(duration_s, fps)
    t = sc.t
    depth = rng.uniform(0.52, 0.58)
    half_w = rng.uniform(0.12, 0.16)
    box_low = np.array([rng.uniform(0.22, 0.28), 0.0, rng.uniform(0.5, 0.56)])
    box_high = np.array([rng.uniform(0.22, 0.28), 0.0, rng.uniform(0.8, 0.9)])
    k = [0.4, 1.8, 2.3, 3.8, 4.2 + rng.uniform(0.0, 1.0)]
    k += [k[-1] + 1.5, k[-1] + 2.0, k[-1] + 3.4]
    k = _lift_twice(sc, k, duration_s, depth, 0.6)
    sc.pelvis_pitch = 0.5 * sc.torso_rpy[:, 1]
    for h, s in zip(HANDS, (1.0, -1.0)):
        off = np.array([0.0, s * half_w, 0.0])
        sc.hand_goal[h] = keyframes(t, k, [box_low, box_low, box_low, box_high, box_high,
                                           box_low, box_low, box_low]) + off
        sc.hand_weight[h] = keyframes(t, [k[0], k[1], k[6], k[7]], [0, 1, 1, 0])
    return sc, {"seed": seed, "duration_s": duration_s, "depth_pelvis_z_m": round(depth, 3),
                "box_half_width_m": round(half_w, 3), "box_low": box_low.round(3).tolist(),
                "box_high": box_high.round(3).tolist()}


def stoop_lift_script(seed: int, duration_s: float = 8.0, fps: float = 50.0
                      ) -> tuple[StandScript, dict]:
    """Stoop to a (virtual) box on the floor, the torso pitched 0.9-1.4 rad over bent knees
    and the arms hanging to it; stand up carrying it in front of the chest (arms forward,
    elbows bent), hold, stoop to put it down, stand. Deeper and faster than ``crouch_lift``
    (torso 0.6 rad, hands at 0.5 m), as people lift: the held-out motion-capture box lifts
    pitch the torso 0.9-1.6 rad with the pelvis at 0.45-0.55 m and rise in 0.5-0.7 s. The
    arms are postures, not hand targets: a hand target 0.5 m below the shoulder pulled the
    whole-body IK from one branch to another between frames."""
    rng = np.random.default_rng(seed)
    sc = _script(duration_s, fps)
    t = sc.t
    depth = rng.uniform(0.5, 0.62)
    pitch = rng.uniform(0.9, 1.4)
    pelvis_share = rng.uniform(0.55, 0.75)
    carry_shoulder = rng.uniform(0.5, 1.0)
    carry_elbow = rng.uniform(0.3, 0.8)
    down, hold, up = rng.uniform(0.7, 1.3), rng.uniform(0.2, 0.7), rng.uniform(0.5, 1.1)
    carry = rng.uniform(0.8, 2.0)
    k = [0.4, 0.4 + down, 0.4 + down + hold, 0.4 + down + hold + up]
    k += [k[-1] + carry, k[-1] + carry + down, k[-1] + carry + down + hold,
          k[-1] + carry + down + hold + up]
    k = _lift_twice(sc, k, duration_s, depth, pitch)
    sc.pelvis_pitch = pelvis_share * sc.torso_rpy[:, 1]
    hang, cs, ce = -0.9 * pitch, -carry_shoulder, -carry_elbow
    shoulder = keyframes(t, k, [0.0, hang, hang, cs, cs, hang, hang, 0.0])
    elbow = keyframes(t, k, [0.0, 0.0, 0.0, ce, ce, 0.0, 0.0, 0.0])
    for side in ("left", "right"):
        sc.posture_delta[f"{side}_shoulder_pitch_joint"] = shoulder
        sc.posture_delta[f"{side}_elbow_joint"] = elbow
    return sc, {"seed": seed, "duration_s": duration_s, "depth_pelvis_z_m": round(depth, 3),
                "torso_pitch_rad": round(pitch, 3), "pelvis_pitch_share": round(pelvis_share, 3),
                "carry_shoulder_rad": round(carry_shoulder, 3),
                "carry_elbow_rad": round(carry_elbow, 3),
                "down_hold_up_s": [round(b - a, 2) for a, b in pairwise(k[:4])]}


def sit_script(seed: int, duration_s: float = 8.0, fps: float = 50.0) -> tuple[StandScript, dict]:
    """Sit-down-like lowering: the pelvis drops and moves back (the CoM stays over the
    feet), hips flex, the torso pitches forward and the arms reach forward; hold; rise."""
    rng = np.random.default_rng(seed)
    sc = _script(duration_s, fps)
    t = sc.t
    z0 = sc.pelvis_z[0]
    depth = rng.uniform(0.5, 0.56)
    pitch = rng.uniform(0.35, 0.55)
    down, up = rng.uniform(1.4, 2.0), rng.uniform(1.4, 2.0)
    hold = max(0.5, duration_s - 1.0 - down - up)
    k = [0.5, 0.5 + down, 0.5 + down + hold, 0.5 + down + hold + up]
    sc.pelvis_z = keyframes(t, k, [z0, depth, depth, z0])
    sc.torso_rpy[:, 1] = keyframes(t, k, [0.0, pitch, pitch, 0.0])
    sc.pelvis_pitch = keyframes(t, k, [0.0, 0.5 * pitch, 0.5 * pitch, 0.0])
    arms = keyframes(t, k, [0.0, -1.3, -1.3, 0.0])
    for side in ("left", "right"):
        sc.posture_delta[f"{side}_shoulder_pitch_joint"] = arms
        sc.posture_delta[f"{side}_elbow_joint"] = 0.4 * arms
    return sc, {"seed": seed, "duration_s": duration_s, "depth_pelvis_z_m": round(depth, 3),
                "torso_pitch_rad": round(pitch, 3), "hold_s": round(hold, 2)}


STAND_SCRIPTS = {"reach": reach_script, "wave": wave_script, "bend": bend_script,
                 "squat": squat_script, "crouch_lift": crouch_lift_script, "sit": sit_script,
                 "stoop_lift": stoop_lift_script}


@dataclass(frozen=True)
class StandResult:
    motion: RobotMotion
    ik_residual_m: dict[str, np.ndarray]
    seconds: float


def generate_standing(kind: str, seed: int, duration_s: float, fps: float = 50.0,
                      settings: IKSettings = IKSettings(), name: str | None = None
                      ) -> StandResult:
    """One standing motion of ``kind`` (a key of ``STAND_SCRIPTS``)."""
    start = time.perf_counter()
    script, params = STAND_SCRIPTS[kind](seed, duration_s, fps)
    motion, res = solve_standing(script, kind, params, fps, settings, name)
    return StandResult(motion, res, time.perf_counter() - start)
