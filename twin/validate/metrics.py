"""Report metrics from an ``ExecutionLog``, and the go / no-go verdict with every reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from twin.rotations import quat_apply_inverse, quat_from_yaw, yaw_from_quat
from twin.validate.config import Predicate, ValidateConfig
from twin.validate.execute import ExecutionLog

FOOT_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link")


@dataclass
class Metrics:
    duration_s: float
    executed_s: float
    fell: bool
    fall_time_s: float | None
    diverged: bool
    mpjpe_local_mm: float
    mpjpe_global_mm: float
    joint_error_rad: float
    root_drift_max_m: float
    root_drift_final_m: float
    min_joint_limit_margin_rad: dict[str, float]
    joint_limit_violations: list[str]
    torque_saturation_fraction: dict[str, float]
    self_collisions: dict[str, int]  # "bodyA|bodyB" -> control steps in contact
    unexpected_contacts: dict[str, int]
    foot_slip_mean_m_s: float
    foot_slip_max_m_s: float
    executed_vs_reference_joint_rmse_rad: float
    predicates: dict[str, bool] = field(default_factory=dict)
    series: dict[str, list[float]] = field(default_factory=dict)  # for plots (per step)


def _local(pos: np.ndarray, quat_root: np.ndarray) -> np.ndarray:
    rel = pos - pos[:, :1]
    yaw = quat_from_yaw(yaw_from_quat(quat_root))
    return quat_apply_inverse(np.repeat(yaw[:, None], pos.shape[1], 1), rel)


def compute_metrics(log: ExecutionLog, cfg: ValidateConfig, duration_s: float) -> Metrics:
    T = len(log.joint_pos)
    # errors up to the fall (after it they measure the fall, not tracking)
    n = log.fall_step + 1 if log.fall_step is not None else T
    n = max(1, min(n, T))
    local = np.linalg.norm(_local(log.body_pos_w, log.body_quat_wxyz[:, 0])
                           - _local(log.ref_body_pos_w, log.ref_body_quat_wxyz[:, 0]), axis=-1)
    glob = np.linalg.norm(log.body_pos_w - log.ref_body_pos_w, axis=-1)
    drift = np.linalg.norm(log.root_pos_w[:, :2] - log.ref_body_pos_w[:, 0, :2], axis=1)
    jerr = np.abs(log.joint_pos - log.ref_joint_pos)
    lo, hi = log.joint_limits[:, 0], log.joint_limits[:, 1]
    margin = np.minimum(log.joint_pos - lo, hi - log.joint_pos).min(axis=0)
    names = log.joint_names
    sat = (np.abs(log.actuator_force) >= 0.99 * log.force_limit).mean(axis=0)
    self_c, unexpected = _contacts(log, cfg)
    slip = log.foot_speed_in_contact[:n]
    slip = slip[np.isfinite(slip)]
    th = cfg.thresholds
    return Metrics(
        duration_s=duration_s, executed_s=T / log.fps, fell=log.fall_step is not None,
        fall_time_s=None if log.fall_step is None else (log.fall_step + 1) / log.fps,
        diverged=log.diverged,
        mpjpe_local_mm=float(1000 * local[:n].mean()), mpjpe_global_mm=float(1000 * glob[:n].mean()),
        joint_error_rad=float(jerr[:n].mean()), root_drift_max_m=float(drift[:n].max()),
        root_drift_final_m=float(drift[n - 1]),
        min_joint_limit_margin_rad={j: float(m) for j, m in zip(names, margin)},
        joint_limit_violations=[j for j, m in zip(names, margin) if m < th.joint_limit_margin_rad],
        torque_saturation_fraction={j: float(s) for j, s in zip(names, sat)},
        self_collisions=self_c, unexpected_contacts=unexpected,
        foot_slip_mean_m_s=float(slip.mean()) if slip.size else 0.0,
        foot_slip_max_m_s=float(slip.max()) if slip.size else 0.0,
        executed_vs_reference_joint_rmse_rad=float(np.sqrt((jerr[:n] ** 2).mean())),
        predicates={p.name or f"{p.kind}_{k}": check_predicate(p, log)
                    for k, p in enumerate(cfg.predicates)},
        series={"time_s": (np.arange(T) / log.fps).round(3).tolist(),
                "mpjpe_local_mm": (1000 * local.mean(axis=1)).round(1).tolist(),
                "root_drift_m": drift.round(4).tolist(),
                "joint_error_rad": jerr.mean(axis=1).round(4).tolist(),
                "pelvis_height_m": log.root_pos_w[:, 2].round(4).tolist()},
    )


def _contacts(log: ExecutionLog, cfg: ValidateConfig) -> tuple[dict, dict]:
    robot = log.robot_bodies
    allowed_objects = {p.object for p in cfg.predicates if p.object}
    self_c: dict[str, int] = {}
    unexpected: dict[str, int] = {}
    for step in log.contacts:
        seen_self, seen_other = set(), set()
        for b1, b2, _ in step:
            r1, r2 = b1 in robot, b2 in robot
            if r1 and r2:
                seen_self.add("|".join(sorted((b1, b2))))
            elif r1 or r2:
                body, other = (b1, b2) if r1 else (b2, b1)
                if other == "world" and body in FOOT_BODIES:
                    continue  # feet on the floor
                if other in allowed_objects:
                    continue  # touching what the task is about
                seen_other.add(f"{body}|{other}")
        for k in seen_self:
            self_c[k] = self_c.get(k, 0) + 1
        for k in seen_other:
            unexpected[k] = unexpected.get(k, 0) + 1
    return self_c, unexpected


def check_predicate(p: Predicate, log: ExecutionLog) -> bool:
    if p.kind == "lifted":
        z = log.object_pos_w[p.object][:, 2]
        return bool(z[-1] - z[0] >= p.height_m)
    body = log.body_names.index(p.body)
    end = log.body_pos_w[-1, body]
    target = (log.object_pos_w[p.object][-1] if p.object else np.asarray(p.point, float))
    return bool(np.linalg.norm(end - target) <= p.distance_m)


def verdict(m: Metrics, cfg: ValidateConfig) -> tuple[bool, list[str]]:
    """(go, reasons): every threshold a plan breaks is a reason."""
    th = cfg.thresholds
    reasons = []
    if m.diverged:
        reasons.append("simulation diverged (NaN or explosion)")
    if m.fell:
        reasons.append(f"robot fell at t = {m.fall_time_s:.2f} s")
    if m.mpjpe_local_mm > th.mpjpe_local_mm:
        reasons.append(f"body-local tracking error {m.mpjpe_local_mm:.0f} mm > "
                       f"{th.mpjpe_local_mm:.0f} mm")
    if m.root_drift_max_m > th.root_drift_m:
        reasons.append(f"root drift {m.root_drift_max_m:.2f} m > {th.root_drift_m:.2f} m")
    for j in m.joint_limit_violations:
        reasons.append(f"{j} reaches its position limit (margin "
                       f"{m.min_joint_limit_margin_rad[j]:.3f} rad)")
    for j, s in m.torque_saturation_fraction.items():
        if s > th.torque_saturation_fraction:
            reasons.append(f"{j} at its torque limit {100 * s:.0f} % of the time")
    for pair, steps in m.self_collisions.items():
        if steps > th.self_collision_steps:
            reasons.append(f"self-collision {pair.replace('|', ' / ')} in {steps} steps")
    for pair, steps in m.unexpected_contacts.items():
        reasons.append(f"unexpected contact {pair.replace('|', ' / ')} in {steps} steps")
    if m.foot_slip_mean_m_s > th.foot_slip_m_s:
        reasons.append(f"foot slip {m.foot_slip_mean_m_s:.2f} m/s > {th.foot_slip_m_s:.2f} m/s")
    for name, ok in m.predicates.items():
        if not ok:
            reasons.append(f"task predicate {name!r} not met")
    return not reasons, reasons


def metrics_dict(m: Metrics) -> dict:
    return asdict(m)
