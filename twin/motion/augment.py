"""Reference-motion augmentation with the artefacts of video estimation and retargeting.

Users feed the tracker motions estimated from (generated) video: stance feet tilted by a
few degrees, the body sunk into or floating above the floor by centimetres, frame-to-frame
jitter, a root that drifts (so stance feet slide), and a tempo that wanders. Training only on
clean clips leaves the tracker brittle to exactly that. ``augment_motion`` applies each
artefact to the root and joint tracks, then recomputes every body pose and velocity by
forward kinematics, so the augmented clip is self-consistent (what a retargeter would
output), just not physically clean.

All noises are seeded; slow artefacts are sums of random sinusoids (periods 1-4 s), fast
jitter is white noise smoothed over three frames.

Besides estimation artefacts, a copy can stand for another performer of the same motion
(``speed_scale``, ``waist_offset_rad``, ``arm_offset_rad``, ``arm_swing_scale``): a constant
tempo, a constant lean and arm carriage, a wider or narrower arm swing (over the 17 real
G1 takes of the library, clip means of waist pitch span 0.09-0.27 rad and of the elbows
-0.55-1.21 rad; median speeds of the same motion differ by up to 3x between performers).
Legs are left alone: changing their angles without the root path would make the stance
feet slide. These draws come from their own seeded stream, so switching them on leaves
every other artefact of a copy as it was.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np

from twin.motion.robot_motion import RobotMotion
from twin.motion.rotations import quat_slerp

_ANKLES = ("left_ankle_pitch_joint", "left_ankle_roll_joint",
           "right_ankle_pitch_joint", "right_ankle_roll_joint")


@dataclass
class AugmentConfig:
    """Augmented copies of every training clip; each artefact's largest amplitude.

    copies: augmented copies per clip, added to the originals (0 = off).
    foot_tilt_deg: slowly varying ankle pitch/roll offsets (stance-foot tilt).
    height_offset_m: constant root height offset per copy, uniform in +-this (feet sunk
        into the floor or floating).
    joint_jitter_rad: std of high-frequency joint-angle noise.
    root_jitter_m: std of high-frequency root-position noise.
    root_drift_mps: largest speed of a slow horizontal root drift (stance feet slide).
    time_warp: largest relative tempo change (0.15 = 0.85x .. 1.15x, slowly varying).
    speed_scale: largest constant tempo change of a copy (0.15 = the whole clip played
        0.85x .. 1.15x as fast), on top of ``time_warp``.
    waist_offset_rad: constant offsets of the waist joints per copy, uniform in +-this
        (a performer's lean).
    arm_offset_rad: constant offsets of the shoulder, elbow and wrist joints per copy,
        uniform in +-this (a performer's arm carriage).
    arm_swing_scale: arm joints' motion about their clip mean scaled by a per-copy factor
        uniform in 1 +- this (a performer's arm swing).
    seed: base seed (copy k of a clip uses seed + 1000 * (CRC-32 of its name mod 10^6) + k:
        a clip's copies stay the same when clips are added to or removed from the library).
    mirror: also train on every clip's left-right mirror image (``twin.motion.mirror``,
        named ``<clip>__mirror``), before the copies are made (so they have copies too).
    """

    copies: int = 0
    foot_tilt_deg: float = 6.0
    height_offset_m: float = 0.04
    joint_jitter_rad: float = 0.015
    root_jitter_m: float = 0.005
    root_drift_mps: float = 0.05
    time_warp: float = 0.15
    speed_scale: float = 0.0
    waist_offset_rad: float = 0.0
    arm_offset_rad: float = 0.0
    arm_swing_scale: float = 0.0
    seed: int = 0
    mirror: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.mirror, bool):
            raise ValueError(f"augment.mirror: is {self.mirror!r}; expected true or false")
        for name in ("copies", "foot_tilt_deg", "height_offset_m", "joint_jitter_rad",
                     "root_jitter_m", "root_drift_mps", "time_warp", "speed_scale",
                     "waist_offset_rad", "arm_offset_rad", "arm_swing_scale"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"augment.{name}: is {v}; expected a finite value >= 0")
        for name in ("time_warp", "speed_scale", "arm_swing_scale"):
            if getattr(self, name) >= 0.9:
                raise ValueError(f"augment.{name}: is {getattr(self, name)}; expected < 0.9")


def smooth_noise(rng: np.random.Generator, t_s: np.ndarray, dims: int = 1,
                 periods_s: tuple[float, float] = (1.0, 4.0), waves: int = 3) -> np.ndarray:
    """(T, dims) slowly varying noise in [-1, 1]: random sinusoids, peak-normalised."""
    out = np.zeros((t_s.size, dims))
    for d in range(dims):
        period = rng.uniform(*periods_s, size=waves)
        phase = rng.uniform(0, 2 * np.pi, size=waves)
        amp = rng.uniform(0.5, 1.0, size=waves)
        out[:, d] = (amp * np.sin(2 * np.pi * t_s[:, None] / period + phase)).sum(axis=1)
        out[:, d] /= max(amp.sum(), 1e-9)
    return out


def _jitter(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    """White noise smoothed over three frames (keeps it high-frequency), scaled to ``std``."""
    if std == 0:
        return np.zeros(shape)
    w = rng.normal(size=(shape[0] + 2,) + shape[1:])
    return std * (w[:-2] + w[1:-1] + w[2:]) / np.sqrt(3.0)


def warp_times(rng: np.random.Generator, duration_s: float, fps: float,
               time_warp: float, speed: float = 1.0) -> np.ndarray:
    """Source times (s) of the output frames when the tempo is ``speed`` x the original's
    and varies about it by up to ``time_warp``."""
    if time_warp == 0 or duration_s <= 0:
        return np.arange(int(np.floor(duration_s * fps / speed + 1e-9)) + 1) * speed / fps
    n_max = int(np.ceil(duration_s * fps / (speed * (1 - time_warp)))) + 2
    t_out = np.arange(n_max) / fps
    speed = speed * (1.0 + time_warp * smooth_noise(rng, t_out)[:, 0])
    t_src = np.concatenate([[0.0], np.cumsum(speed[:-1]) / fps])
    return t_src[t_src <= duration_s + 1e-9]


def _resample(m: RobotMotion, t_src: np.ndarray):
    x = t_src * m.fps
    i0 = np.clip(np.floor(x).astype(int), 0, m.num_frames - 1)
    i1 = np.clip(i0 + 1, 0, m.num_frames - 1)
    a = (x - i0)[:, None]
    lerp = lambda v: (1 - a) * v[i0] + a * v[i1]
    nearest = np.where(a[:, 0] < 0.5, i0, i1)
    return (lerp(m.root_pos_w), quat_slerp(m.root_quat_wxyz[i0], m.root_quat_wxyz[i1], a[:, 0]),
            lerp(m.joint_pos), nearest)


def augment_motion(m: RobotMotion, cfg: AugmentConfig, seed: int, name: str | None = None
                   ) -> RobotMotion:
    """One augmented copy of ``m`` (bodies recomputed by FK of ``m.robot``), named ``name``
    (default: ``augmented_name`` of the clip's name and ``seed``)."""
    from twin.retarget.kinematics import joint_limits, robot_motion_from_qpos
    from twin.robots import get

    rng = np.random.default_rng(seed)
    performer = np.random.default_rng([seed, 1])
    spec = get(m.robot)
    order = np.array([m.joint_names.index(j) for j in spec.joint_names])
    speed = 1.0 + performer.uniform(-cfg.speed_scale, cfg.speed_scale)
    t_src = warp_times(rng, m.duration_s, m.fps, cfg.time_warp, speed)
    root_pos, root_quat, joint_pos, nearest = _resample(m, t_src)
    joint_pos = joint_pos[:, order]
    T = t_src.size
    t_out = np.arange(T) / m.fps

    root_pos = root_pos.copy()
    root_pos[:, 2] += rng.uniform(-cfg.height_offset_m, cfg.height_offset_m)
    drift_v = cfg.root_drift_mps * smooth_noise(rng, t_out, dims=2)
    root_pos[:, :2] += np.cumsum(drift_v, axis=0) / m.fps
    root_pos += _jitter(rng, (T, 3), cfg.root_jitter_m)

    joint_pos = _performer_pose(performer, joint_pos, spec.joint_names, cfg)
    joint_pos = joint_pos + _jitter(rng, joint_pos.shape, cfg.joint_jitter_rad)
    ankles = [spec.joint_names.index(j) for j in _ANKLES if j in spec.joint_names]
    if ankles:
        tilt = np.deg2rad(cfg.foot_tilt_deg) * smooth_noise(rng, t_out, dims=len(ankles))
        joint_pos[:, ankles] += tilt
    lo, hi = joint_limits(m.robot, spec.joint_names)
    joint_pos = np.clip(joint_pos, lo, hi)

    source = {**m.source, "augmented_from": m.source.get("name") or m.source.get("file"),
              "augment": {**cfg.__dict__, "seed": seed},
              "name": name or augmented_name(m.clip_name("clip"), seed)}
    out = robot_motion_from_qpos(
        m.robot, root_pos, root_quat, joint_pos, m.fps,
        hand_joint_names=m.hand_joint_names,
        hand_joint_pos=None if m.hand_joint_pos is None else m.hand_joint_pos[nearest],
        hand_state=None if m.hand_state is None else m.hand_state[nearest], source=source)
    return out


def _performer_pose(rng: np.random.Generator, joint_pos: np.ndarray,
                    joint_names: tuple[str, ...], cfg: AugmentConfig) -> np.ndarray:
    """``joint_pos`` (T, J) with another performer's arm swing, lean and arm carriage."""
    from twin.robots.g1 import (
        G1_LEFT_ARM_JOINT_NAMES,
        G1_RIGHT_ARM_JOINT_NAMES,
        G1_WAIST_JOINT_NAMES,
    )

    waist = np.isin(joint_names, G1_WAIST_JOINT_NAMES)
    arms = np.isin(joint_names, G1_LEFT_ARM_JOINT_NAMES + G1_RIGHT_ARM_JOINT_NAMES)
    out = joint_pos.copy()
    swing = 1.0 + rng.uniform(-cfg.arm_swing_scale, cfg.arm_swing_scale)
    mean = out[:, arms].mean(axis=0)
    out[:, arms] = mean + swing * (out[:, arms] - mean)
    out[:, waist] += rng.uniform(-cfg.waist_offset_rad, cfg.waist_offset_rad, int(waist.sum()))
    out[:, arms] += rng.uniform(-cfg.arm_offset_rad, cfg.arm_offset_rad, int(arms.sum()))
    return out


def augmented_name(base: str, k: int) -> str:
    """The name of augmented copy ``k`` of the clip ``base``."""
    return f"{base}__aug{k}"


def base_clip_name(name: str) -> str:
    """The clip an augmented copy was made from (``name`` itself for an original clip)."""
    head, sep, k = name.rpartition("__aug")
    return head if sep and k.isdigit() else name


def augmented_names(base: str, copies: int) -> list[str]:
    """Names of a clip's augmented copies."""
    return [augmented_name(base, k) for k in range(copies)]


def augmented_copies(motions: list[RobotMotion], cfg: AugmentConfig) -> list[RobotMotion]:
    """``cfg.copies`` augmented copies of every clip (names ``augmented_names``)."""
    out = []
    for i, m in enumerate(motions):
        base = m.clip_name(f"clip{i}")
        m = replace(m, source={**m.source, "name": base})
        clip_seed = cfg.seed + 1000 * (zlib.crc32(base.encode()) % 1_000_000)
        for k, name in enumerate(augmented_names(base, cfg.copies)):
            out.append(augment_motion(m, cfg, clip_seed + k, name=name))
    return out
