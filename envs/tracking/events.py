"""The motion-tracking task's domain-randomisation events: each a small function of an env's
random generator and the typed ``DomainRandomization`` config (BeyondMimic-like ranges; a
term set to None is off).

Reset events, drawn per episode in this fixed order (one env's generator, so the draws of
one env never depend on another's): joint encoder offsets, a friction scale, the CoM
offset of one body, the delay to the first push. Physical parameters go to the simulator
through the ``SimBackend`` interface only (``set_friction_scale``,
``set_body_com_offset``): the task asks for a scale of every geom's nominal friction; how
two touching geoms' coefficients combine is the backend's business, not the task's.

Interval event: a push, a random horizontal kick of the root's linear velocity, then the
delay to the next push.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from twin.sim.backend import SimBackend

NEVER = np.iinfo(np.int64).max  # the step of a push that never comes


@dataclass(frozen=True)
class DomainRandomization:
    """Per-episode randomisation; a term set to None is off (BeyondMimic-like ranges).

    encoder_offset_rad: joint encoder offsets U(-e, e) per joint, added to the observed
        joint positions.
    friction_scale: every geom's sliding friction x U(lo, hi) (floor included).
    com_body, com_offset_m: that body's centre of mass shifted by U(-d, d) per axis (m,
        body frame).
    push_lin_vel_mps: root linear-velocity kick U(-v, v) in x and y (world).
    push_interval_steps: control steps between pushes, U{lo, hi - 1}.
    start_*: noise on the reference state an episode starts from (reference-state
        initialisation with noise; all off by default): joint positions U(-e, e) (rad,
        clipped to the limits), root position U(-d, d) per world axis (m), root orientation
        U(-r, r) per world axis (rad, applied as a rotation vector), root linear and angular
        velocity U(-v, v) per world axis (m/s, rad/s). Holosoma's G1 preset: 0.1 rad,
        (0.05, 0.05, 0.01) m, (0.1, 0.1, 0.2) rad, (0.1, 0.1, 0.05) m/s, 0.1 rad/s.
    start_phase_s: the robot starts in the reference state U(-p, p) s away from the
        frame the reference starts at (its whole state: pose, place on the path,
        velocities; held within the clip), a plan it is behind or ahead of.
    """

    encoder_offset_rad: float | None = 0.01
    friction_scale: tuple[float, float] | None = (0.5, 1.25)
    com_body: str = "torso_link"
    com_offset_m: tuple[float, float, float] | None = (0.025, 0.05, 0.05)
    push_lin_vel_mps: float | None = 0.5
    push_interval_steps: tuple[int, int] = (50, 150)
    start_joint_pos_rad: float | None = None
    start_root_pos_m: tuple[float, float, float] | None = None
    start_root_rot_rad: tuple[float, float, float] | None = None
    start_root_lin_vel_mps: tuple[float, float, float] | None = None
    start_root_ang_vel_rps: tuple[float, float, float] | None = None
    start_phase_s: float | None = None

    def __post_init__(self) -> None:
        def bad(name: str, expected: str):
            return ValueError(f"dr: {name}={getattr(self, name)!r}; expected {expected} "
                              f"or null (off)")

        def number(v) -> bool:
            return not isinstance(v, bool) and isinstance(v, (int, float)) and 0 <= v < np.inf

        for name in ("encoder_offset_rad", "push_lin_vel_mps", "start_joint_pos_rad",
                     "start_phase_s"):
            v = getattr(self, name)
            if v is not None and not number(v):
                raise bad(name, "a number >= 0")
        for name in ("com_offset_m", "start_root_pos_m", "start_root_rot_rad",
                     "start_root_lin_vel_mps", "start_root_ang_vel_rps"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, tuple) and len(v) == 3
                                      and all(number(x) for x in v)):
                raise bad(name, "3 numbers >= 0 (x, y, z)")
        f = self.friction_scale
        if f is not None and not (isinstance(f, tuple) and len(f) == 2
                                  and all(number(x) for x in f) and 0 < f[0] <= f[1]):
            raise bad("friction_scale", "[lo, hi] with 0 < lo <= hi")
        i = self.push_interval_steps
        if not (isinstance(i, tuple) and len(i) == 2
                and all(type(x) is int for x in i) and 1 <= i[0] < i[1]):
            raise bad("push_interval_steps", "[lo, hi] steps with 1 <= lo < hi")

    @classmethod
    def coerce(cls, dr: bool | DomainRandomization | dict | None) -> DomainRandomization | None:
        if isinstance(dr, DomainRandomization) or dr is None:
            return dr
        if isinstance(dr, bool):
            return cls() if dr else None
        if isinstance(dr, dict):
            unknown = set(dr) - set(cls.__dataclass_fields__)
            if unknown:
                raise ValueError(f"dr: unknown fields {sorted(unknown)}; expected "
                                 f"{sorted(cls.__dataclass_fields__)}")
            return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in dr.items()})
        raise TypeError(f"dr: expected bool, dict or DomainRandomization, got {type(dr).__name__}")


# --- reset events (one env, its generator) ------------------------------------------------
def encoder_offset(rng: np.random.Generator, dr: DomainRandomization,
                   n_joints: int) -> np.ndarray | float:
    """(J,) joint encoder offsets, rad (0.0 when off)."""
    e = dr.encoder_offset_rad
    return rng.uniform(-e, e, n_joints) if e else 0.0


def friction_scale(rng: np.random.Generator, dr: DomainRandomization) -> float:
    return rng.uniform(*dr.friction_scale)


def com_offset(rng: np.random.Generator, dr: DomainRandomization) -> np.ndarray:
    """(3,) CoM offset of ``dr.com_body``, m (body frame)."""
    return rng.uniform(-1.0, 1.0, 3) * np.asarray(dr.com_offset_m)


def push_delay(rng: np.random.Generator, dr: DomainRandomization) -> int:
    """Control steps until the next push."""
    return int(rng.integers(*dr.push_interval_steps))


@dataclass(frozen=True)
class StartNoise:
    """Offsets added to one env's reference start state (zeros for the terms that are off);
    world frame, SI."""

    joint_pos_rad: np.ndarray  # (J,)
    root_pos_m: np.ndarray  # (3,)
    root_rotvec_rad: np.ndarray  # (3,), applied before the reference orientation
    root_lin_vel_mps: np.ndarray  # (3,)
    root_ang_vel_rps: np.ndarray  # (3,)
    phase_s: float = 0.0  # s along the clip from the reference's start frame


def start_noise(rng: np.random.Generator, dr: DomainRandomization,
                n_joints: int) -> StartNoise | None:
    """None when every start term is off (the generator is then not advanced)."""
    terms = (dr.start_joint_pos_rad, dr.start_root_pos_m, dr.start_root_rot_rad,
             dr.start_root_lin_vel_mps, dr.start_root_ang_vel_rps)
    if all(t is None for t in terms) and dr.start_phase_s is None:
        return None

    def draw(half_range, n: int) -> np.ndarray:
        if half_range is None:
            return np.zeros(n)
        return rng.uniform(-1.0, 1.0, n) * np.broadcast_to(np.asarray(half_range, float), n)

    noise = StartNoise(draw(terms[0], n_joints), draw(terms[1], 3), draw(terms[2], 3),
                       draw(terms[3], 3), draw(terms[4], 3))
    if dr.start_phase_s is None:  # drawn last: the other terms' draws stay as they were
        return noise
    return replace(noise, phase_s=float(rng.uniform(-1.0, 1.0) * dr.start_phase_s))


@dataclass(frozen=True)
class ResetDraw:
    """One env's draws for a new episode (None: the term is off)."""

    encoder_offset_rad: np.ndarray | float
    friction_scale: float | None
    com_offset_m: np.ndarray | None
    first_push_step: int  # episode step of the first push (NEVER when pushes are off)
    start: StartNoise | None = None


def sample_reset_events(rng: np.random.Generator, dr: DomainRandomization | None,
                        n_joints: int) -> ResetDraw:
    """The reset events of one env, drawn in the order the shipped tracker was trained with."""
    if dr is None:
        return ResetDraw(0.0, None, None, NEVER)
    enc = encoder_offset(rng, dr, n_joints)
    fr = friction_scale(rng, dr) if dr.friction_scale is not None else None
    com = com_offset(rng, dr) if dr.com_offset_m is not None else None
    first_push = push_delay(rng, dr) if dr.push_lin_vel_mps else NEVER
    return ResetDraw(enc, fr, com, first_push, start_noise(rng, dr, n_joints))


def apply_physics_events(backend: SimBackend, dr: DomainRandomization | None,
                         env_ids: np.ndarray, friction_scale_per_env: np.ndarray,
                         com_body_id: np.ndarray, com_offset_b: np.ndarray) -> None:
    """Send the envs' friction scale (N,) and CoM offset (N, 3) to the backend (the terms
    that are on)."""
    if dr is None:
        return
    if dr.friction_scale is not None:
        backend.set_friction_scale(friction_scale_per_env[env_ids], env_ids=env_ids)
    if dr.com_offset_m is not None:
        backend.set_body_com_offset(com_body_id, com_offset_b[env_ids, None], env_ids=env_ids)


# --- interval event -----------------------------------------------------------------------
def push_kick(rng: np.random.Generator, dr: DomainRandomization) -> np.ndarray:
    """(2,) root linear-velocity change in world x, y, m/s."""
    v = dr.push_lin_vel_mps
    return rng.uniform(-v, v, 2)
