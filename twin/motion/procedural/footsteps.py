"""Footstep planning for procedural G1 walking (numpy only).

A walk is commanded by a body-frame velocity ``(vx, vy, wz)`` (m/s, m/s, rad/s; x forward,
y left, z up) held for a duration: forward, backward, sideways and diagonal walks, curves
(``wz = curvature * speed``) and turning in place (``vx = vy = 0``) are the same planner.
A nominal walking frame is integrated step by step (speed ramped up over the first steps and
down over the last), and each footstep is placed beside it: the ankle of foot ``s`` (+1
left, -1 right) at ``frame + R(yaw) [0, s * a]``. For lateral motion the offset ``a`` grows
with the lateral step so that the feet never come closer than the nominal width.

Timing (``GaitTiming``): every step is a double-support phase (the ZMP moves to the new
stance foot) followed by a single-support phase (the other foot swings). Step duration,
length and width follow from the commanded speed (``gait_timing``). Positions are ankle
(``*_ankle_roll_link`` origin) positions in the world, xy, metres; yaws in radians.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.motion.procedural.g1_body import FEET

SIDES = {FEET[0]: 1.0, FEET[1]: -1.0}


@dataclass(frozen=True)
class WalkCommand:
    """Body-frame velocity (m/s, m/s, rad/s), held for ``walk_s`` seconds of stepping, with
    ``stand_before_s`` / ``stand_after_s`` of standing around it."""

    vx: float = 0.0
    vy: float = 0.0
    wz: float = 0.0
    walk_s: float = 4.0
    stand_before_s: float = 0.8
    stand_after_s: float = 1.0

    @property
    def speed(self) -> float:
        return float(np.hypot(self.vx, self.vy))


@dataclass(frozen=True)
class GaitTiming:
    """Step timing and geometry: ``step_s`` per step (double + single support),
    ``double_support_s``, nominal ankle separation ``width_m``, swing apex ``apex_m``."""

    step_s: float
    double_support_s: float
    width_m: float
    apex_m: float
    ramp_steps: int = 2

    @property
    def single_support_s(self) -> float:
        return self.step_s - self.double_support_s


def gait_timing(cmd: WalkCommand, apex_m: float = 0.07, width_m: float = 0.2) -> GaitTiming:
    """Faster walks take shorter, longer steps: 0.55 s steps at rest, 0.35 s at 1 m/s
    (cadence 110 -> 170 steps/min; step length = speed * step time); turning steps take
    0.5 s; steps with a lateral component take at most 0.4 s (a lateral step of ``vy * step``
    widens the stance, and flat feet allow only +-15 deg of ankle roll). Double support is
    20 % of a step."""
    v = cmd.speed
    step = float(np.interp(v, [0.0, 0.3, 1.0], [0.55, 0.52, 0.35]))
    if v < 0.05 and abs(cmd.wz) > 0:
        step = 0.5
    if abs(cmd.vy) > 0.05:
        step = min(step, 0.4)
    return GaitTiming(step_s=step, double_support_s=round(0.2 * step, 3), width_m=width_m,
                      apex_m=apex_m)


@dataclass(frozen=True)
class Footstep:
    """Foot ``foot`` is on the floor at ``pos_xy`` (ankle, world) with ``yaw`` from
    ``t_on_s`` to ``t_off_s`` (inf for the last placement)."""

    foot: str
    pos_xy: np.ndarray
    yaw: float
    t_on_s: float
    t_off_s: float


@dataclass(frozen=True)
class FootstepPlan:
    """All placements of both feet, in time order per foot, and the supporting phases.

    ``phases``: list of (t_start, t_end, stance feet tuple, swing foot or None).
    ``frame_xyyaw``: (K, 3) nominal walking frame after each step (for pelvis yaw).
    """

    steps: tuple[Footstep, ...]
    phases: tuple[tuple[float, float, tuple[str, ...], str | None], ...]
    duration_s: float
    timing: GaitTiming
    command: WalkCommand

    def placements(self, foot: str) -> list[Footstep]:
        return [s for s in self.steps if s.foot == foot]

    def contact(self, foot: str, t: float) -> Footstep | None:
        """The placement of ``foot`` at time ``t``, or None while it swings."""
        for s in self.placements(foot):
            if s.t_on_s <= t < s.t_off_s or (s.t_off_s == np.inf and t >= s.t_on_s):
                return s
        return None


def _rot(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s], [s, c]])


def plan_footsteps(cmd: WalkCommand, timing: GaitTiming | None = None,
                   start_xy: tuple[float, float] = (0.0, 0.0), start_yaw: float = 0.0,
                   first_foot: str | None = None) -> FootstepPlan:
    """Footsteps for ``cmd`` starting from a square stance at ``start_xy`` / ``start_yaw``.

    The first swing foot is the one on the side of the lateral motion or turn (so feet
    never cross), else ``first_foot`` (default left).
    """
    timing = timing or gait_timing(cmd)
    T = timing.step_s
    n = max(2, int(round(cmd.walk_s / T)))
    if abs(cmd.vy) > 1e-6:
        first = FEET[0] if cmd.vy > 0 else FEET[1]
    elif abs(cmd.wz) > 1e-6:
        first = FEET[0] if cmd.wz > 0 else FEET[1]
    else:
        first = first_foot or FEET[0]
    other = FEET[1] if first == FEET[0] else FEET[0]
    lateral_step = abs(cmd.vy) * T
    a = 0.5 * (timing.width_m + lateral_step)

    # Speed ramp: the first and last ``ramp_steps`` steps are shorter.
    r = timing.ramp_steps
    scale = np.array([min(1.0, (k + 1) / (r + 1), (n - k) / (r + 1)) for k in range(n)])
    frame = np.array([start_xy[0], start_xy[1], start_yaw], dtype=float)
    frames = []
    for k in range(n):
        dyaw = scale[k] * cmd.wz * T
        mid_yaw = frame[2] + 0.5 * dyaw
        frame = frame + np.concatenate([_rot(mid_yaw) @ (scale[k] * T * np.array([cmd.vx, cmd.vy])),
                                        [dyaw]])
        frames.append(frame.copy())

    t0 = cmd.stand_before_s
    start = np.array(start_xy, dtype=float)
    place = lambda foot, f, off: f[:2] + _rot(f[2]) @ np.array([0.0, SIDES[foot] * off])
    cur = {ft: Footstep(ft, place(ft, np.array([*start, start_yaw]), 0.5 * timing.width_m),
                        start_yaw, 0.0, np.inf) for ft in FEET}
    done: list[Footstep] = []
    phases: list = []
    swing_order = [first if k % 2 == 0 else other for k in range(n + 1)]  # + closing step
    frames.append(frames[-1])  # the closing step squares the feet on the last frame
    t = t0
    phases.append((0.0, t0, FEET, None))
    for k, foot in enumerate(swing_order):
        stance = other_foot(foot)
        lift, land = t + timing.double_support_s, t + T
        phases.append((t, lift, FEET, None))
        phases.append((lift, land, (stance,), foot))
        old = cur[foot]
        done.append(Footstep(foot, old.pos_xy, old.yaw, old.t_on_s, lift))
        f = frames[k]
        cur[foot] = Footstep(foot, place(foot, f, a), float(f[2]), land, np.inf)
        t = land
    end = t + cmd.stand_after_s
    phases.append((t, end, FEET, None))
    steps = sorted(done + list(cur.values()), key=lambda s: (s.t_on_s, s.foot))
    return FootstepPlan(steps=tuple(steps), phases=tuple(phases), duration_s=end,
                        timing=timing, command=cmd)


def other_foot(foot: str) -> str:
    return FEET[1] if foot == FEET[0] else FEET[0]
