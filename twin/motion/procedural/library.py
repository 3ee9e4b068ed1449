"""The procedural part of the motion library: which clips to make (a deterministic catalog
drawn from a config and a seed), making one clip, gating it on physical checks, and writing
it compactly.

A ``ClipSpec`` names a clip, its category, its generator parameters and its split
(``train`` / ``heldout``). Training walks are drawn from the config's ranges but rejected
near any held-out walk's (vx, vy, wz), so held-out walks are unseen speed/curvature
combinations. ``make_clip`` retries with the next seed when a clip fails the gates (IK
residual, ZMP outside the support polygon); the attempt count is kept in ``source``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np

from twin.motion.procedural.checks import physical_report
from twin.motion.procedural.g1_body import FEET, HANDS
from twin.motion.procedural.standing import STAND_SCRIPTS, generate_standing
from twin.motion.procedural.walking import WalkParams, generate_walk
from twin.motion.robot_motion import RobotMotion

WALK_CATEGORIES = ("walk_forward", "walk_backward", "walk_sideways", "walk_diagonal",
                   "walk_curve", "turn_in_place")
SMPL_TASK = "smpl_task"  # a procedural human script retargeted like a video estimate
SMPL_WALK = "smpl_walk"  # a foot-locked human walk retargeted like a video estimate
SMPL_JOG = "smpl_jog"  # a human jog (flight or double support) retargeted like one
SEEDED_CATEGORIES = (*STAND_SCRIPTS, SMPL_TASK)


@dataclass(frozen=True)
class ClipSpec:
    name: str
    category: str  # a WALK_CATEGORIES entry, a STAND_SCRIPTS key, SMPL_TASK, _WALK or _JOG
    split: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Gates:
    """A clip is kept when IK met the feet/CoM targets and its ZMP stayed in support."""

    feet_residual_m: float = 0.002
    com_residual_m: float = 0.01
    hand_residual_m: float = 0.05
    zmp_outside_max_m: float = 0.02
    sole_min_z_m: float = -0.005
    stance_slide_m: float = 0.005
    retarget_p95_m: float = 0.03
    max_attempts: int = 4


# Retargeted human scripts have no planned ZMP/contacts: only gross violations are rejected.
HUMAN_GATES = Gates(zmp_outside_max_m=0.05, stance_slide_m=0.01)
# Retargeted human walks: the G1's multibody ZMP leaves the feet for short moments (the
# human's CoM is planned, the robot's follows through retargeting); real motion-capture
# walks leave it more (manifest: 40-80 % of frames).
HUMAN_WALK_GATES = Gates(zmp_outside_max_m=0.35, stance_slide_m=0.05, sole_min_z_m=-0.015)
# Retargeted human jogs, as loose as the G1 motion-capture jog takes are (manifest: ZMP up to
# 0.49 m outside the feet, stance feet sliding 0.10-0.45 m, soles down to -0.038 m).
HUMAN_JOG_GATES = Gates(zmp_outside_max_m=0.7, stance_slide_m=0.2, sole_min_z_m=-0.04,
                        retarget_p95_m=0.07)


def _smpl_walk_params(rng: np.random.Generator, r: dict) -> dict:
    """A human walk command like the ones video estimates show (speeds at human scale)."""
    u = lambda lo_hi: float(rng.uniform(*lo_hi))
    kind = rng.choice(["forward", "backward", "sideways", "arc", "turn"],
                      p=[0.35, 0.15, 0.15, 0.25, 0.10])
    p = dict(speed_mps=0.0, lateral_mps=0.0, yaw_rate_rad_s=0.0)
    if kind == "forward":
        p["speed_mps"] = u(r["forward_speed"])
    elif kind == "backward":
        p["speed_mps"] = -u(r["backward_speed"])
    elif kind == "sideways":
        p["speed_mps"] = u((-0.1, 0.3))
        p["lateral_mps"] = float(rng.choice([-1.0, 1.0])) * u(r["sideways_speed"])
    elif kind == "arc":
        p["speed_mps"] = u(r["forward_speed"])
        p["yaw_rate_rad_s"] = float(rng.choice([-1.0, 1.0])) * u(r["yaw_rate"])
    else:
        p["yaw_rate_rad_s"] = float(rng.choice([-1.0, 1.0])) * u(r["turn_rate"])
    speed = np.hypot(p["speed_mps"], p["lateral_mps"])
    p["step_s"] = float(np.interp(speed, [0.0, 1.5], [0.6, 0.42]))
    p["walk_s"] = u(r["walk_s"])
    p["lift_m"] = u((0.06, 0.1))
    return {k: round(v, 4) for k, v in p.items()}


def _smpl_jog_params(rng: np.random.Generator, r: dict) -> dict:
    """A human jog like the motion-capture jog takes (speeds at human scale)."""
    u = lambda lo_hi: float(rng.uniform(*lo_hi))
    kind = rng.choice(["forward", "backward", "arc"], p=[0.5, 0.25, 0.25])
    p = dict(speed_mps=u(r["forward_speed"]), yaw_rate_rad_s=0.0, lean_rad=u((0.03, 0.15)),
             over_foot_frac=u((0.25, 0.4)), heel_off_rad=u((0.3, 0.6)))
    if kind == "backward":  # landing behind, pushing off in front: no heel-off to speak of
        p.update(speed_mps=-u(r["backward_speed"]), lean_rad=u((0.0, 0.08)),
                 over_foot_frac=u((0.5, 0.65)), heel_off_rad=u((0.0, 0.1)))
    elif kind == "arc":
        p["yaw_rate_rad_s"] = float(rng.choice([-1.0, 1.0])) * u(r["yaw_rate"])
    p["step_s"] = float(np.interp(abs(p["speed_mps"]), [1.0, 2.6], [0.40, 0.33])) + u(
        (-0.02, 0.02))
    p["flight_frac"] = u(r["flight_frac"])
    p["bounce_m"] = u((0.02, 0.05))
    p["lift_m"] = u(r["lift_m"])
    p["width_m"] = u((0.14, 0.24))
    p["elbow_rad"] = u((0.8, 1.3))
    p["jog_s"] = u(r["jog_s"])
    return {k: round(v, 4) for k, v in p.items()}


def _walk_params(category: str, rng: np.random.Generator, r: dict) -> dict:
    u = lambda lo_hi: float(rng.uniform(*lo_hi))
    sign = lambda: float(rng.choice([-1.0, 1.0]))
    walk_s = u(r["walk_s"])
    if category == "walk_forward":
        p = dict(vx=u(r["forward_speed"]))
    elif category == "walk_backward":
        p = dict(vx=-u(r["backward_speed"]))
    elif category == "walk_sideways":
        p = dict(vx=u((-0.05, 0.05)), vy=sign() * u(r["sideways_speed"]), width_m=0.15)
    elif category == "walk_diagonal":
        p = dict(vx=u(r["diagonal_forward"]) * sign(), vy=sign() * u(r["sideways_speed"]),
                 width_m=0.16)
    elif category == "walk_curve":
        v = u(r["curve_speed"])
        wz = sign() * min(u(r["curvature"]) * v, r["max_yaw_rate"])
        p = dict(vx=v, wz=wz)
    elif category == "turn_in_place":
        p = dict(vx=0.0, wz=sign() * u(r["turn_rate"]), width_m=0.2)
    else:
        raise ValueError(category)
    p["walk_s"] = walk_s
    p["arm_swing_rad_per_m"] = u((0.5, 1.0))
    p["apex_m"] = u(r["apex"])
    p["first_foot"] = FEET[int(rng.integers(2))]
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in p.items()}


def _near(p: dict, q: dict, tol: dict) -> bool:
    return all(abs(p.get(k, 0.0) - q.get(k, 0.0)) < tol[k] for k in ("vx", "vy", "wz"))


def build_catalog(cfg: dict) -> list[ClipSpec]:
    """All clip specs of the procedural library (``configs/motion_library/default.yaml``)."""
    rng = np.random.default_rng(int(cfg["seed"]))
    proc = cfg["procedural"]
    held = [ClipSpec(h["name"], h["category"], "heldout", dict(h["params"]))
            for h in proc.get("heldout", [])]
    held_walks = [h.params for h in held if h.category in WALK_CATEGORIES]
    held_seeds = {h.params.get("seed") for h in held if h.category in SEEDED_CATEGORIES}
    tol = proc["heldout_exclusion"]
    specs: list[ClipSpec] = []
    for category, n in proc["counts"].items():
        for i in range(int(n)):
            if category in WALK_CATEGORIES:
                while True:
                    p = _walk_params(category, rng, proc["ranges"])
                    if not any(_near(p, h, tol) for h in held_walks):
                        break
            elif category == SMPL_WALK:
                while True:
                    p = _smpl_walk_params(rng, proc["smpl_walk"])
                    if not any(_near({"vx": p["speed_mps"], "vy": p["lateral_mps"],
                                      "wz": p["yaw_rate_rad_s"]}, h, tol)
                               for h in proc["smpl_walk"].get("exclude", [])):
                        break
            elif category == SMPL_JOG:
                p = _smpl_jog_params(rng, proc["smpl_jog"])
            elif category in SEEDED_CATEGORIES:
                while True:
                    seed = int(rng.integers(1 << 30))
                    if seed not in held_seeds:
                        break
                p = dict(seed=seed, duration_s=round(float(rng.uniform(
                    *proc["ranges"]["stand_duration_s"])), 2))
            else:
                raise ValueError(f"unknown category {category!r}")
            specs.append(ClipSpec(f"{category}_{i:03d}", category, "train", p))
    return specs + held


def _generate(spec: ClipSpec, fps: float) -> tuple[RobotMotion, dict]:
    if spec.category in WALK_CATEGORIES:
        res = generate_walk(WalkParams(**spec.params), fps=fps, name=spec.name)
        contact = {f: res.feet[f][2] for f in FEET}
        resid = {"feet": max(float(res.ik_residual_m[f].max()) for f in FEET),
                 "com": float(res.ik_residual_m["com"].max()), "hands": 0.0}
        zmp_err = float(np.linalg.norm(res.lipm.zmp - res.zmp_ref, axis=1).max())
        extra = {"lipm_zmp_error_max_m": round(zmp_err, 5)}
    elif spec.category in (SMPL_WALK, SMPL_JOG):
        from twin.motion.procedural.smpl_jog import JogSpec, generate_smpl_jog
        from twin.motion.procedural.smpl_walk import WalkSpec, generate_smpl_walk

        if spec.category == SMPL_WALK:
            motion, summary = generate_smpl_walk(WalkSpec(**spec.params), fps, spec.name)
        else:
            motion, summary = generate_smpl_jog(JogSpec(**spec.params), fps, spec.name)
        report = physical_report(motion).as_dict()
        return motion, {**report, "retarget_position_residual_p95_m":
                        round(summary["position_residual_p95_m"], 5)}
    elif spec.category == SMPL_TASK:
        from twin.motion.procedural.smpl_tasks import generate_smpl_task

        motion, summary = generate_smpl_task(int(spec.params["seed"]),
                                             float(spec.params["duration_s"]), fps, spec.name)
        report = physical_report(motion).as_dict()
        return motion, {**report, "retarget_position_residual_p95_m":
                        round(summary["position_residual_p95_m"], 5)}
    else:
        p = spec.params
        res = generate_standing(spec.category, int(p["seed"]), float(p["duration_s"]), fps,
                                name=spec.name)
        contact = None
        resid = {"feet": max(float(res.ik_residual_m[f].max()) for f in FEET),
                 "com": float(res.ik_residual_m["com"].max()),
                 "hands": max(float(res.ik_residual_m[h].max()) for h in HANDS)}
        extra = {}
    report = physical_report(res.motion, contact=contact).as_dict()
    return res.motion, {**report, **{f"ik_{k}_residual_max_m": round(v, 6)
                                     for k, v in resid.items()}, **extra}


def passes(checks: dict, gates: Gates) -> list[str]:
    """Names of the failed gates (empty when the clip passes)."""
    fails = []
    if checks.get("ik_feet_residual_max_m", 0.0) > gates.feet_residual_m:
        fails.append("ik_feet")
    if checks.get("ik_com_residual_max_m", 0.0) > gates.com_residual_m:
        fails.append("ik_com")
    if checks.get("ik_hands_residual_max_m", 0.0) > gates.hand_residual_m:
        fails.append("ik_hands")
    if checks.get("retarget_position_residual_p95_m", 0.0) > gates.retarget_p95_m:
        fails.append("retarget")
    if checks["zmp_outside_max_m"] > gates.zmp_outside_max_m:
        fails.append("zmp")
    if checks["sole_min_z_m"] < gates.sole_min_z_m:
        fails.append("penetration")
    if checks["stance_slide_max_m"] > gates.stance_slide_m:
        fails.append("slide")
    return fails


def make_clip(spec: ClipSpec, fps: float = 50.0, gates: Gates = Gates()
              ) -> tuple[RobotMotion, dict, ClipSpec]:
    """Generate ``spec``; on a failed gate, standing clips retry with seed + 1 and walks
    with 10 % lower speeds. Returns the motion, its checks and the spec actually used."""
    tried = []
    if spec.category == SMPL_TASK and gates == Gates():
        gates = HUMAN_GATES
    if spec.category == SMPL_WALK and gates == Gates():
        gates = HUMAN_WALK_GATES
    if spec.category == SMPL_JOG and gates == Gates():
        gates = HUMAN_JOG_GATES
    for attempt in range(gates.max_attempts):
        motion, checks = _generate(spec, fps)
        fails = passes(checks, gates)
        if not fails:
            break
        tried.append({"params": dict(spec.params), "failed": fails})
        p = dict(spec.params)
        if spec.category in WALK_CATEGORIES:
            for k in ("vx", "vy", "wz"):
                if k in p:
                    p[k] = round(0.9 * p[k], 4)
        elif spec.category in (SMPL_WALK, SMPL_JOG):
            for k in ("speed_mps", "lateral_mps", "yaw_rate_rad_s"):
                if k in p:
                    p[k] = round(0.9 * p[k], 4)
        else:
            p["seed"] = int(p["seed"]) + 1
        spec = replace(spec, params=p)
    checks["gates_failed"] = fails
    checks["attempts"] = len(tried) + 1
    motion.source.update({"name": spec.name, "category": spec.category, "split": spec.split,
                          "params": dict(spec.params), "checks": checks,
                          "rejected_attempts": tried})
    return motion, checks, spec


def compact(motion: RobotMotion, body_names: tuple[str, ...], dtype=np.float32) -> RobotMotion:
    """Keep only ``body_names`` (in the motion's order) and store arrays as ``dtype``
    (``load_robot_motion`` reads them back as float64)."""
    idx = [motion.body_index(b) for b in motion.body_names if b in body_names]
    cast = lambda a: a.astype(dtype)
    return replace(
        motion, body_names=tuple(motion.body_names[i] for i in idx),
        joint_pos=cast(motion.joint_pos), joint_vel=cast(motion.joint_vel),
        root_pos_w=cast(motion.root_pos_w), root_quat_wxyz=cast(motion.root_quat_wxyz),
        body_pos_w=cast(motion.body_pos_w[:, idx]), body_quat_wxyz=cast(motion.body_quat_wxyz[:, idx]),
        body_lin_vel_w=cast(motion.body_lin_vel_w[:, idx]),
        body_ang_vel_w=cast(motion.body_ang_vel_w[:, idx]),
        source={**motion.source, "compacted": {"bodies": len(idx), "dtype": np.dtype(dtype).name}})


def content_sha1(motion: RobotMotion) -> str:
    """SHA-1 of the motion's arrays (reproducible, unlike a zip file's bytes)."""
    h = hashlib.sha1()
    for key in ("joint_pos", "root_pos_w", "root_quat_wxyz", "body_pos_w", "body_quat_wxyz"):
        h.update(np.ascontiguousarray(getattr(motion, key), dtype=np.float64).round(9).tobytes())
    h.update("|".join(motion.joint_names + motion.body_names).encode())
    return h.hexdigest()


def file_sha1(path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
