"""Foot and ZMP reference trajectories from a footstep plan (numpy only).

Swing feet follow a quintic (minimum-jerk) time law from lift-off to touch-down in xy and
yaw, with zero velocity and acceleration at both ends, and a height bump
``h(s) = apex * 64 s^3 (1 - s)^3`` (zero height, velocity and acceleration at lift-off and
touch-down; apex at mid-swing). Feet stay flat (roll = pitch = 0): flat-foot landing, no
heel-toe roll. Ankle heights are ``sole_below_ankle_m`` above the floor during stance.

The ZMP reference sits at the centre of the stance foot's sole during single support and
moves linearly between feet during double support; while standing it is the midpoint of
the two soles.
"""

from __future__ import annotations

import numpy as np

from twin.motion.procedural.footsteps import FootstepPlan, other_foot
from twin.motion.procedural.g1_body import FEET, G1Body


def min_jerk(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    return s ** 3 * (10 - 15 * s + 6 * s ** 2)


def _rot(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s], [s, c]])


def sole_center(pos_xy: np.ndarray, yaw: float, body: G1Body) -> np.ndarray:
    return pos_xy + _rot(yaw) @ body.foot_center_in_ankle


def foot_trajectories(plan: FootstepPlan, t: np.ndarray, body: G1Body
                      ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per foot: ankle position (T, 3), yaw (T,), in-contact flag (T,) bool."""
    out = {}
    apex = plan.timing.apex_m
    z0 = body.sole_below_ankle_m
    for foot in FEET:
        places = plan.placements(foot)
        pos = np.zeros((t.size, 3))
        yaw = np.zeros(t.size)
        contact = np.zeros(t.size, dtype=bool)
        pos[:, 2] = z0
        for i, p in enumerate(places):
            on = (t >= p.t_on_s) & (t < p.t_off_s)
            pos[on, :2] = p.pos_xy
            yaw[on] = p.yaw
            contact[on] = True
            if i + 1 < len(places):
                q = places[i + 1]
                sw = (t >= p.t_off_s) & (t < q.t_on_s)
                s = (t[sw] - p.t_off_s) / (q.t_on_s - p.t_off_s)
                w = min_jerk(s)[:, None]
                pos[sw, :2] = (1 - w) * p.pos_xy + w * q.pos_xy
                dyaw = np.angle(np.exp(1j * (q.yaw - p.yaw)))
                yaw[sw] = p.yaw + w[:, 0] * dyaw
                pos[sw, 2] = z0 + apex * 64 * s ** 3 * (1 - s) ** 3
        out[foot] = (pos, yaw, contact)
    return out


def zmp_reference(plan: FootstepPlan, t: np.ndarray, body: G1Body,
                  settle_s: float = 0.4) -> np.ndarray:
    """(T, 2) ZMP reference (see module docstring)."""
    key_t: list[float] = []
    key_p: list[np.ndarray] = []

    def centre(foot: str, time: float) -> np.ndarray:
        s = plan.contact(foot, time)
        return sole_center(s.pos_xy, s.yaw, body)

    def mid(time: float) -> np.ndarray:
        return 0.5 * (centre(FEET[0], time) + centre(FEET[1], time))

    for t_start, t_end, stance, swing in plan.phases:
        if swing is None and len(key_t) == 0:  # initial standing
            key_t += [t_start, t_end]
            key_p += [mid(t_start), mid(t_start)]
        elif swing is not None:
            c = centre(stance[0], t_start)
            key_t += [t_start, t_end]
            key_p += [c, c]
    t_last = plan.phases[-1][0]
    last_stance = plan.phases[-2][2][0] if plan.phases[-2][3] else FEET[0]
    key_t += [t_last, min(t_last + settle_s, plan.duration_s), plan.duration_s + 1.0]
    end_mid = mid(t_last + 1e-6)
    key_p += [centre(last_stance, t_last - 1e-6), end_mid, end_mid]
    kt = np.array(key_t)
    kp = np.array(key_p)
    # Double-support ramps are the gaps between consecutive keys.
    return np.stack([np.interp(t, kt, kp[:, i]) for i in range(2)], axis=1)


def stance_foot(plan: FootstepPlan, time: float) -> tuple[str, ...]:
    for t_start, t_end, stance, _ in plan.phases:
        if t_start <= time < t_end:
            return stance
    return FEET


__all__ = [
    "foot_trajectories",
    "min_jerk",
    "other_foot",
    "sole_center",
    "stance_foot",
    "zmp_reference",
]
