"""The motion-tracking task's reward and termination terms, each a small function of the
tracking errors (``G1TrackingTask.tracking_errors``) with its weight and scale in a typed
config (BeyondMimic's terms; mjlab writes them as manager terms, we write them as functions).

Reward: a sum of Gaussian kernels ``weight * exp(-err^2 / std^2)`` of the anchor (torso)
position and orientation errors and of the mean squared body position, orientation, linear
and angular velocity errors (bodies re-anchored at the robot), minus an action-rate penalty
and a joint-limit penalty. Terminations: the anchor's height, its tilt (difference of the
projected gravity's z), and the end effectors' heights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Kernel:
    """A Gaussian reward term: ``weight * exp(-err^2 / std^2)``."""

    weight: float
    std: float


@dataclass(frozen=True)
class TrackingRewardConfig:
    """Weights and scales of the tracking reward.

    anchor_pos: anchor (torso) position error, m (world).
    anchor_ori: anchor orientation error, rad.
    body_pos: mean squared key-body position error, m (re-anchored at the robot).
    body_ori: mean squared key-body orientation error, rad.
    body_lin_vel: mean squared key-body linear velocity error, m/s.
    body_ang_vel: mean squared key-body angular velocity error, rad/s.
    action_rate: penalty weight on the squared change of the action.
    joint_limit: penalty weight on the summed joint-limit overshoot, rad.
    foot_slip: penalty weight on the summed squared horizontal speed, (m/s)^2, of the soles
        on the floor (off by default; what ``twin validate``'s foot-slip limits measure).
    """

    anchor_pos: Kernel = field(default_factory=lambda: Kernel(0.5, 0.3))
    anchor_ori: Kernel = field(default_factory=lambda: Kernel(0.5, 0.4))
    body_pos: Kernel = field(default_factory=lambda: Kernel(1.0, 0.3))
    body_ori: Kernel = field(default_factory=lambda: Kernel(1.0, 0.4))
    body_lin_vel: Kernel = field(default_factory=lambda: Kernel(1.0, 1.0))
    body_ang_vel: Kernel = field(default_factory=lambda: Kernel(1.0, 3.14))
    action_rate: float = 0.1
    joint_limit: float = 10.0
    foot_slip: float = 0.0

    @classmethod
    def from_overrides(cls, overrides: dict | None) -> TrackingRewardConfig:
        """The default config with ``overrides`` applied: ``{"action_rate": 0.01}``, or a
        kernel's ``{"body_pos": {"weight": 2.0}}`` (its other field kept)."""
        fields = cls.__dataclass_fields__
        unknown = sorted(set(overrides or {}) - set(fields))
        if unknown:
            raise ValueError(f"reward: unknown terms {unknown}; expected some of {sorted(fields)}")

        def number(key: str, value, positive: bool = False) -> float:
            return _checked_number(f"reward.{key}", value, positive)

        base, out = cls(), {}
        for name, value in (overrides or {}).items():
            current = getattr(base, name)
            if isinstance(current, Kernel):
                if not isinstance(value, dict) or set(value) - {"weight", "std"}:
                    raise ValueError(f"reward.{name}: expected {{weight: W, std: S}} (either "
                                     f"or both), got {value!r}")
                out[name] = Kernel(number(f"{name}.weight", value.get("weight", current.weight)),
                                   number(f"{name}.std", value.get("std", current.std), True))
            else:
                out[name] = number(name, value)
        return cls(**{**{k: getattr(base, k) for k in fields}, **out})


@dataclass(frozen=True)
class TerminationThresholds:
    """An episode ends when a measure exceeds its threshold (see ``termination_reasons``)."""

    anchor_height_m: float = 0.25
    tilt: float = 0.8  # |projected gravity z difference| of the anchor
    ee_height_m: float = 0.25
    # horizontal distance of the anchor from the reference's, m; None = unchecked (as in
    # BeyondMimic, whose rewards alone pull the robot along the reference's path)
    anchor_xy_m: float | None = None

    @classmethod
    def from_overrides(cls, overrides: dict | None) -> TerminationThresholds:
        """The defaults with ``overrides`` applied, e.g. ``{"anchor_xy_m": 0.5}``."""
        fields = cls.__dataclass_fields__
        unknown = sorted(set(overrides or {}) - set(fields))
        if unknown:
            raise ValueError(f"terminations: unknown thresholds {unknown}; expected some of "
                             f"{sorted(fields)}")
        return cls(**{key: None if value is None and key == "anchor_xy_m" else
                      _checked_number(f"terminations.{key}", value, positive=True,
                                      null_ok=key == "anchor_xy_m")
                      for key, value in (overrides or {}).items()})


def _checked_number(where: str, value, positive: bool = False, null_ok: bool = False) -> float:
    """``value`` as a float, or one line naming ``where`` and what was expected."""
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not np.isfinite(value) or (positive and value <= 0)):
        what = ("a number > 0" if positive else "a number") + (" or null" if null_ok else "")
        raise ValueError(f"{where}: expected {what}, got {value!r}")
    return float(value)


def _kernel(k: Kernel, err_sq: np.ndarray) -> np.ndarray:
    return k.weight * np.exp(-err_sq / k.std ** 2)


def reward_terms(e: dict[str, np.ndarray], action: np.ndarray, prev_action: np.ndarray,
                 joint_overshoot_rad: np.ndarray, cfg: TrackingRewardConfig
                 ) -> dict[str, np.ndarray]:
    """Each term's (N,) contribution, in summation order (penalties negative)."""
    return {
        "anchor_pos": _kernel(cfg.anchor_pos, e["anchor_pos_m"] ** 2),
        "anchor_ori": _kernel(cfg.anchor_ori, e["anchor_ori_rad"] ** 2),
        "body_pos": _kernel(cfg.body_pos, np.mean(e["body_pos_m"] ** 2, axis=1)),
        "body_ori": _kernel(cfg.body_ori, np.mean(e["body_ori_rad"] ** 2, axis=1)),
        "body_lin_vel": _kernel(cfg.body_lin_vel, np.mean(e["body_lin_vel"] ** 2, axis=1)),
        "body_ang_vel": _kernel(cfg.body_ang_vel, np.mean(e["body_ang_vel"] ** 2, axis=1)),
        "action_rate": -(cfg.action_rate * np.sum((action - prev_action) ** 2, axis=1)),
        "joint_limit": -(cfg.joint_limit * joint_overshoot_rad),
        "foot_slip": -(cfg.foot_slip * e["foot_slip_sq"]),
    }


def total_reward(terms: dict[str, np.ndarray]) -> np.ndarray:
    """The sum of the terms, left to right (the order the shipped tracker was trained on)."""
    values = iter(terms.values())
    total = next(values)
    for v in values:
        total = total + v
    return total


def joint_limit_overshoot(joint_pos: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """(N,) summed distance beyond the (J, 2) position limits, rad."""
    lo, hi = limits[:, 0], limits[:, 1]
    return np.sum(np.clip(lo - joint_pos, 0, None) + np.clip(joint_pos - hi, 0, None), axis=1)


def termination_reasons(e: dict[str, np.ndarray], th: TerminationThresholds) -> np.ndarray:
    """(N,) reason per env ('' = none); when several hold, the later checks win:
    ``anchor_height`` over ``tilt`` over ``ee_height`` over ``anchor_xy``."""
    reasons = np.full(len(e["anchor_height_m"]), "", dtype=object)
    if th.anchor_xy_m is not None:
        reasons[e["anchor_xy_m"] > th.anchor_xy_m] = "anchor_xy"
    reasons[e["ee_height_m"] > th.ee_height_m] = "ee_height"
    reasons[e["tilt"] > th.tilt] = "tilt"
    reasons[e["anchor_height_m"] > th.anchor_height_m] = "anchor_height"
    return reasons
