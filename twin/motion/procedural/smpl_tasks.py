"""Procedural human standing tasks on the SMPL skeleton, retargeted like a video estimate.

A seeded script of ExoActor-like upper-body work: relaxed arms (random abduction and elbow
flexion), one to three reaches with either or both arms in random directions, waves,
knee bends, forward torso bends and twists, with smooth onsets and holds. It is written as
SMPL parameters the way GVHMR stores them (y-up, facing +z before the root yaw, 30 fps,
pelvis = J0 + transl), then goes through the same path as `twin validate` inputs
(``normalise`` + ``retarget_to_g1``), so the tracker trains on references shaped like
the ones it will execute. The bundled demo (``scripts/make_demo_motion.py``) uses the same
conventions with one fixed script.
"""

from __future__ import annotations

import numpy as np

from twin.motion.readers import SmplParams
from twin.motion.rotations import R_ZUP_FROM_YUP
from twin.motion.smpl import SMPL_JOINT_NAMES, mean_shape_rest_joints

SMPL_FPS = 30.0
_J = {n: SMPL_JOINT_NAMES.index(n) - 1 for n in SMPL_JOINT_NAMES[1:22]}  # body_pose rows
# mirror sign of z (abduction) and y rotations: elbow flexion (forearm towards the front)
# is s * (+y); the opposite sign hyperextends the elbow
_SIDE_SIGN = {"left": -1.0, "right": 1.0}


def smooth_step(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """0 before t0, 1 after t1, a C1 cubic in between."""
    x = np.clip((t - t0) / max(t1 - t0, 1e-6), 0.0, 1.0)
    return x * x * (3 - 2 * x)


def pulse(t: np.ndarray, start: float, rise: float, hold: float, fall: float) -> np.ndarray:
    """Smoothly 0 -> 1 over ``rise`` s from ``start``, held ``hold`` s, back over ``fall`` s."""
    return (smooth_step(t, start, start + rise)
            - smooth_step(t, start + rise + hold, start + rise + hold + fall))


def root_params(yaw_rad: float, pelvis_z: np.ndarray, height_m: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """GVHMR-style (global_orient (T, 3) axis-angle, transl (T, 3)) for a subject facing
    ``yaw_rad`` in a z-up world with its pelvis at height ``pelvis_z`` (T,), stored y-up."""
    rz = np.array([[np.cos(yaw_rad), -np.sin(yaw_rad), 0.0],
                   [np.sin(yaw_rad), np.cos(yaw_rad), 0.0], [0.0, 0.0, 1.0]])
    r_root_y = R_ZUP_FROM_YUP.T @ rz @ R_ZUP_FROM_YUP
    angle = np.arccos(np.clip((np.trace(r_root_y) - 1) / 2, -1, 1))
    if angle < 1e-9:
        aa = np.zeros(3)
    else:
        axis = np.array([r_root_y[2, 1] - r_root_y[1, 2], r_root_y[0, 2] - r_root_y[2, 0],
                         r_root_y[1, 0] - r_root_y[0, 1]]) / (2 * np.sin(angle))
        aa = axis * angle
    rest = mean_shape_rest_joints(height_m)
    pelvis_w = np.zeros((len(pelvis_z), 3))
    pelvis_w[:, 2] = pelvis_z
    transl = pelvis_w @ R_ZUP_FROM_YUP - rest[0]  # z-up -> y-up is R^T, row vectors: @ R
    return np.tile(aa, (len(pelvis_z), 1)), transl


def knee_bend_drop_m(bend_rad: np.ndarray, height_m: float) -> np.ndarray:
    """Pelvis drop when the thigh tilts forward and the shank back by ``bend_rad`` each."""
    rest = mean_shape_rest_joints(height_m)
    hip, knee, ankle = (SMPL_JOINT_NAMES.index(f"left_{n}") for n in ("hip", "knee", "ankle"))
    thigh = np.linalg.norm(rest[knee] - rest[hip])
    shank = np.linalg.norm(rest[ankle] - rest[knee])
    return (thigh + shank) * (1.0 - np.cos(bend_rad))


def smpl_task_params(seed: int, duration_s: float, fps: float = SMPL_FPS,
                     height_m: float = 1.70) -> dict[str, np.ndarray]:
    """SMPL parameters (GVHMR ``smpl_params_global`` keys) of one random standing task."""
    rng = np.random.default_rng(seed)
    T = int(round(duration_s * fps)) + 1
    t = np.arange(T) / fps
    body = np.zeros((T, 21, 3))
    for side, s in _SIDE_SIGN.items():
        body[:, _J[f"{side}_shoulder"], 2] = s * rng.uniform(1.05, 1.35)  # arms down
        body[:, _J[f"{side}_elbow"], 1] = s * rng.uniform(0.05, 0.6)  # elbow flexion
    bend = np.zeros(T)
    if rng.random() < 0.7:
        start = rng.uniform(0.5, duration_s * 0.4)
        bend = rng.uniform(0.1, 0.45) * pulse(t, start, rng.uniform(0.8, 1.5),
                                              rng.uniform(1.0, duration_s * 0.5),
                                              rng.uniform(0.8, 1.5))
    for side in _SIDE_SIGN:
        body[:, _J[f"{side}_hip"], 0] = -bend
        body[:, _J[f"{side}_knee"], 0] = 2 * bend
        body[:, _J[f"{side}_ankle"], 0] = -bend
    if rng.random() < 0.35:  # forward torso bend, spread over the three spine joints
        lean = rng.uniform(0.08, 0.35) * pulse(t, rng.uniform(0.5, duration_s * 0.5),
                                                1.2, rng.uniform(0.5, 2.0), 1.2)
        for j in ("spine1", "spine2", "spine3"):
            body[:, _J[j], 0] += lean / 3
    if rng.random() < 0.35:  # torso twist
        twist = rng.uniform(-0.35, 0.35) * pulse(t, rng.uniform(0.5, duration_s * 0.5),
                                                  1.0, rng.uniform(0.5, 2.0), 1.0)
        for j in ("spine1", "spine2", "spine3"):
            body[:, _J[j], 1] += twist / 3
    cursor = rng.uniform(0.3, 1.5)
    for _ in range(int(rng.integers(1, 4))):
        rise, hold, fall = rng.uniform(0.7, 1.5), rng.uniform(0.4, 1.8), rng.uniform(0.7, 1.5)
        if cursor + rise + hold + fall > duration_s - 0.3:
            break
        w = pulse(t, cursor, rise, hold, fall)
        sides = {0: ("left",), 1: ("right",), 2: ("left", "right")}[int(rng.integers(3))]
        forward, abduct, flex = rng.uniform(0.2, 1.4), rng.uniform(0.0, 0.9), rng.uniform(0.0, 1.2)
        wave = None
        if rng.random() < 0.35:
            freq, amp = rng.uniform(0.8, 1.6), rng.uniform(0.2, 0.45)
            wave = amp * np.sin(2 * np.pi * freq * (t - cursor - rise)) * \
                ((t > cursor + rise) & (t < cursor + rise + hold))
        for side in sides:
            s = _SIDE_SIGN[side]
            sh, el = _J[f"{side}_shoulder"], _J[f"{side}_elbow"]
            body[:, sh, 2] = body[:, sh, 2] * (1 - w) + s * (1.25 - 1.25 * abduct) * w
            body[:, sh, 1] += s * forward * w
            body[:, el, 1] += s * flex * w + (s * wave * w if wave is not None else 0.0)
        cursor += rise + hold + fall + rng.uniform(0.0, 0.8)
    for side, s in _SIDE_SIGN.items():  # a wave swings about a bent elbow, never past straight
        el = _J[f"{side}_elbow"]
        body[:, el, 1] = s * np.maximum(s * body[:, el, 1], 0.0)
    pelvis_z = mean_shape_rest_joints(height_m)[0, 1] - knee_bend_drop_m(bend, height_m)
    orient, transl = root_params(float(rng.uniform(-np.pi, np.pi)), pelvis_z, height_m)
    return {"global_orient": orient, "body_pose": body.reshape(T, 63),
            "betas": np.zeros((T, 10)), "transl": transl}


def smpl_task_raw(seed: int, duration_s: float, fps: float = SMPL_FPS) -> SmplParams:
    """The script as a raw reader record (what reading its ``hmr4d_results.pt`` gives)."""
    p = smpl_task_params(seed, duration_s, fps)
    T = p["transl"].shape[0]
    return SmplParams(path=f"<smpl_task seed={seed}>", format="gvhmr", model="smpl",
                      root_orient_aa=p["global_orient"], body_pose_aa=p["body_pose"].reshape(T, 21, 3),
                      betas=p["betas"].mean(axis=0), transl=p["transl"], up_axis="y", fps=fps)


def generate_smpl_task(seed: int, duration_s: float, fps: float = 50.0, name: str = "smpl_task"):
    """Retargeted G1 ``RobotMotion`` of one script and the retargeting summary."""
    from twin.motion.normalise import normalise
    from twin.retarget import retarget_to_g1

    human = normalise(smpl_task_raw(seed, duration_s), target_fps=fps, height_m=1.70)
    res = retarget_to_g1(human)
    motion = res.motion
    motion.source.update({"name": name, "generator": "twin.motion.procedural.smpl_tasks",
                          "seed": int(seed)})
    return motion, res.summary()
