"""Report metrics from an ``ExecutionLog``: what the robot did, measured up to the fall.

Tracking errors, joint-limit margins, torque saturation, contacts and foot slip are
measured over the control steps *before* the fall (or divergence): after it they measure
the fall, not the plan. Contacts and saturation after the fall are kept apart
(``after_fall_*``) as consequences. Each measure also records when and where it was worst
or first crossed its threshold, so that ``twin.validate.verdict`` can order reasons by time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from twin.measures import local_position_errors_m
from twin.robots.g1 import G1_FOOT_BODY_NAMES
from twin.sim.backend import WORLD_BODY
from twin.validate.config import Predicate, ValidateConfig
from twin.validate.execute import ExecutionLog

SATURATION_FRACTION_OF_LIMIT = 0.99  # |tau| at or above this share of the limit = saturated


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
    # when and where (all times in s from the start of the motion)
    fall_measure: str = ""  # e.g. "pelvis height 0.31 m < 0.35 m"
    diverged_time_s: float | None = None
    assessed_s: float = 0.0  # the span measured as the plan's (up to the fall)
    min_joint_limit_margin_time_s: dict[str, float] = field(default_factory=dict)
    torque_saturation_first_time_s: dict[str, float] = field(default_factory=dict)
    contact_first_time_s: dict[str, float] = field(default_factory=dict)  # self + unexpected
    foot_slip_peak_time_s: float | None = None
    foot_slip_peak_body: str | None = None
    mpjpe_local_first_exceed_time_s: float | None = None  # per-step error above the limit
    root_drift_first_exceed_time_s: float | None = None
    after_fall_contacts: dict[str, int] = field(default_factory=dict)
    after_fall_saturated_joints: list[str] = field(default_factory=list)
    pelvis_height_min_m: float | None = None  # up to and including the fall step
    torso_tilt_max_rad: float | None = None


def _first_time(mask: np.ndarray, fps: float) -> float | None:
    idx = np.flatnonzero(mask)
    return None if idx.size == 0 else float((idx[0] + 1) / fps)


def compute_metrics(log: ExecutionLog, cfg: ValidateConfig, duration_s: float) -> Metrics:
    T = len(log.joint_pos)
    fps = log.fps
    th = cfg.thresholds
    # measured up to the fall / divergence (after it they measure the fall, not tracking)
    n = log.fall_step + 1 if log.fall_step is not None else T
    n = max(0, min(n, T))
    names = log.joint_names
    diverged_time = None if log.diverged_step is None else (log.diverged_step + 1) / fps
    if n == 0:  # nothing executed (physics diverged in the first step)
        return Metrics(
            duration_s=duration_s, executed_s=0.0, fell=False, fall_time_s=None,
            diverged=log.diverged, mpjpe_local_mm=0.0, mpjpe_global_mm=0.0,
            joint_error_rad=0.0, root_drift_max_m=0.0, root_drift_final_m=0.0,
            min_joint_limit_margin_rad={}, joint_limit_violations=[],
            torque_saturation_fraction={}, self_collisions={}, unexpected_contacts={},
            foot_slip_mean_m_s=0.0, foot_slip_max_m_s=0.0,
            executed_vs_reference_joint_rmse_rad=0.0,
            predicates={p.name or f"{p.kind}_{k}": False for k, p in enumerate(cfg.predicates)},
            series={k: [] for k in ("time_s", "mpjpe_local_mm", "root_drift_m",
                                    "joint_error_rad", "pelvis_height_m")},
            diverged_time_s=diverged_time)
    local = local_position_errors_m(log.body_pos_w, log.body_quat_wxyz[:, 0],
                                    log.ref_body_pos_w, log.ref_body_quat_wxyz[:, 0])
    glob = np.linalg.norm(log.body_pos_w - log.ref_body_pos_w, axis=-1)
    drift = np.linalg.norm(log.root_pos_w[:, :2] - log.ref_body_pos_w[:, 0, :2], axis=1)
    jerr = np.abs(log.joint_pos - log.ref_joint_pos)
    lo, hi = log.joint_limits[:, 0], log.joint_limits[:, 1]
    margin_t = np.minimum(log.joint_pos[:n] - lo, hi - log.joint_pos[:n])
    margin = margin_t.min(axis=0)
    margin_at = margin_t.argmin(axis=0)
    saturated = np.abs(log.actuator_force) >= SATURATION_FRACTION_OF_LIMIT * log.force_limit
    sat = saturated[:n].mean(axis=0)
    self_c, unexpected, first_contact = _contacts(log.contacts[:n], log, cfg)
    after_self, after_other, _ = _contacts(log.contacts[n:], log, cfg)
    after_contacts = {**after_other, **after_self}
    slip_t = log.foot_speed_in_contact[:n]
    finite = np.isfinite(slip_t)
    slip = slip_t[finite]
    peak_time = peak_body = None
    if slip.size:
        k, foot = np.unravel_index(np.nanargmax(np.where(finite, slip_t, -1.0)), slip_t.shape)
        peak_time, peak_body = float((k + 1) / fps), G1_FOOT_BODY_NAMES[int(foot)]
    local_step = local.mean(axis=1)
    return Metrics(
        duration_s=duration_s, executed_s=T / fps, fell=log.fall_step is not None,
        fall_time_s=None if log.fall_step is None else (log.fall_step + 1) / fps,
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
        series={"time_s": (np.arange(1, T + 1) / fps).round(3).tolist(),
                "mpjpe_local_mm": (1000 * local_step).round(1).tolist(),
                "root_drift_m": drift.round(4).tolist(),
                "joint_error_rad": jerr.mean(axis=1).round(4).tolist(),
                "pelvis_height_m": log.root_pos_w[:, 2].round(4).tolist()},
        fall_measure=log.fall_measure, diverged_time_s=diverged_time, assessed_s=n / fps,
        min_joint_limit_margin_time_s={j: float((k + 1) / fps)
                                       for j, k in zip(names, margin_at)},
        torque_saturation_first_time_s={
            j: t for j, t in ((j, _first_time(saturated[:n, i], fps))
                              for i, j in enumerate(names)) if t is not None},
        contact_first_time_s=first_contact,
        foot_slip_peak_time_s=peak_time, foot_slip_peak_body=peak_body,
        mpjpe_local_first_exceed_time_s=_first_time(
            1000 * local_step[:n] > th.mpjpe_local_mm, fps),
        root_drift_first_exceed_time_s=_first_time(drift[:n] > th.root_drift_m, fps),
        after_fall_contacts=after_contacts,
        after_fall_saturated_joints=[j for i, j in enumerate(names) if saturated[n:, i].any()],
        pelvis_height_min_m=float(log.root_pos_w[:n, 2].min()),
        torso_tilt_max_rad=float(log.tilt_rad[:n].max()),
    )


def _contacts(steps: list, log: ExecutionLog, cfg: ValidateConfig
              ) -> tuple[dict[str, int], dict[str, int], dict[str, float]]:
    """(self-contacts, unexpected contacts, first time of each) over ``steps``."""
    robot = log.robot_bodies
    allowed_objects = {p.object for p in cfg.predicates if p.object}
    self_c: dict[str, int] = {}
    unexpected: dict[str, int] = {}
    first: dict[str, float] = {}
    for k, step in enumerate(steps):
        seen_self, seen_other = set(), set()
        for b1, b2, _ in step:
            r1, r2 = b1 in robot, b2 in robot
            if r1 and r2:
                seen_self.add("|".join(sorted((b1, b2))))
            elif r1 or r2:
                body, other = (b1, b2) if r1 else (b2, b1)
                if other == WORLD_BODY and body in G1_FOOT_BODY_NAMES:
                    continue  # feet on the floor
                if other in allowed_objects:
                    continue  # touching what the task is about
                seen_other.add(f"{body}|{other}")
        for key in seen_self:
            self_c[key] = self_c.get(key, 0) + 1
            first.setdefault(key, (k + 1) / log.fps)
        for key in seen_other:
            unexpected[key] = unexpected.get(key, 0) + 1
            first.setdefault(key, (k + 1) / log.fps)
    return self_c, unexpected, first


def check_predicate(p: Predicate, log: ExecutionLog) -> bool:
    if p.kind == "lifted":
        z = log.object_pos_w[p.object][:, 2]
        return bool(z[-1] - z[0] >= p.height_m)
    body = log.body_names.index(p.body)
    end = log.body_pos_w[-1, body]
    target = (log.object_pos_w[p.object][-1] if p.object else np.asarray(p.point, float))
    return bool(np.linalg.norm(end - target) <= p.distance_m)


def verdict(m: Metrics, cfg: ValidateConfig) -> tuple[bool, list[str]]:
    """(go, reasons); ``twin.validate.verdict.assess`` gives the three levels and checks."""
    from twin.validate.verdict import assess

    a = assess(m, cfg)
    return a.level == "go", a.reasons


def metrics_dict(m: Metrics) -> dict:
    return asdict(m)
