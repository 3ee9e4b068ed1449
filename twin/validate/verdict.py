"""The verdict of one validation: go / caution / no-go, every check with its thresholds,
and the reasons ordered by cause.

Levels: *no-go* when a no-go threshold is crossed (``cfg.thresholds``), the robot falls or
the physics diverges; *caution* when every value is inside its no-go threshold but one is
within its caution band (``cfg.caution``); *go* otherwise. Reasons: the no-go events in the
order they happened (time, body or joint, measure, value and threshold), the measures
without a time after them, then one line grouping what happened after the fall (contacts
and torque saturation caused by the fall are not causes), then the cautions.

Exit codes of ``twin validate``: 0 go (and caution unless ``strict``), 1 no-go, 2 caution
with ``strict=true``, 3 input or usage error (verdict ``error``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin.validate.config import ValidateConfig
from twin.validate.metrics import Metrics

LEVELS = ("go", "caution", "no-go", "error")
EXIT_CODES = {"go": 0, "caution": 0, "no-go": 1, "error": 3}
STRICT_CAUTION_EXIT = 2


def exit_code(level: str, strict: bool = False) -> int:
    """The process exit status for a verdict ``level``."""
    if level == "caution" and strict:
        return STRICT_CAUTION_EXIT
    return EXIT_CODES[level]


def batch_exit_code(levels: list[str], strict: bool = False) -> int:
    """Worst first: any error 3, any no-go 1, (strict) any caution 2, else 0."""
    if not levels or "error" in levels:
        return 3
    if "no-go" in levels:
        return 1
    if strict and "caution" in levels:
        return STRICT_CAUTION_EXIT
    return 0


@dataclass
class Check:
    """One measured value against its thresholds (``higher_is_worse`` says the direction)."""

    measure: str
    value: float | None
    unit: str
    limit: float | None
    caution: float | None = None
    higher_is_worse: bool = True
    status: str = "ok"  # ok | caution | no-go
    where: str | None = None  # joint, body or body pair
    time_s: float | None = None

    def grade(self) -> Check:
        if self.value is None:
            return self
        worse = (lambda v, t: v > t) if self.higher_is_worse else (lambda v, t: v < t)
        if self.limit is not None and worse(self.value, self.limit):
            self.status = "no-go"
        elif self.caution is not None and worse(self.value, self.caution):
            self.status = "caution"
        return self


@dataclass
class Assessment:
    level: str
    reasons: list[str]
    checks: list[Check] = field(default_factory=list)


@dataclass
class _Reason:
    text: str
    time_s: float | None


def _t(t: float | None) -> str:
    return f" at t = {t:.2f} s" if t is not None else ""


def _worst(d: dict[str, float], highest: bool = True) -> tuple[str | None, float | None]:
    if not d:
        return None, None
    k = max(d, key=d.get) if highest else min(d, key=d.get)
    return k, float(d[k])


def build_checks(m: Metrics, cfg: ValidateConfig) -> list[Check]:
    th, c = cfg.thresholds, cfg.caution
    margin_joint, margin = _worst(m.min_joint_limit_margin_rad, highest=False)
    sat_joint, sat = _worst(m.torque_saturation_fraction)
    self_pair, self_steps = _worst({k: float(v) for k, v in m.self_collisions.items()})
    other_pair, other_steps = _worst({k: float(v) for k, v in m.unexpected_contacts.items()})
    checks = [
        Check("fall (pelvis height / torso tilt)", m.fall_time_s, "s", None,
              status="no-go" if m.fell else "ok", where=m.fall_measure or None,
              time_s=m.fall_time_s),
        Check("pelvis height (min)", m.pelvis_height_min_m, "m", th.fall_pelvis_height_m,
              higher_is_worse=False),
        Check("torso tilt from vertical (max)", m.torso_tilt_max_rad, "rad", th.fall_tilt_rad),
        Check("physics diverged", m.diverged_time_s, "s", None,
              status="no-go" if m.diverged else "ok", time_s=m.diverged_time_s),
        Check("body-local tracking error (mean)", m.mpjpe_local_mm, "mm", th.mpjpe_local_mm,
              c.mpjpe_local_mm, time_s=m.mpjpe_local_first_exceed_time_s),
        Check("root drift (max)", m.root_drift_max_m, "m", th.root_drift_m, c.root_drift_m,
              time_s=m.root_drift_first_exceed_time_s),
        Check("joint-limit margin (min)", margin, "rad", th.joint_limit_margin_rad,
              c.joint_limit_margin_rad, higher_is_worse=False, where=margin_joint,
              time_s=m.min_joint_limit_margin_time_s.get(margin_joint or "")),
        Check("torque saturation (share of time)", sat, "fraction", th.torque_saturation_fraction,
              c.torque_saturation_fraction, where=sat_joint,
              time_s=m.torque_saturation_first_time_s.get(sat_joint or "")),
        Check("foot slip in contact (mean)", m.foot_slip_mean_m_s, "m/s", th.foot_slip_m_s),
        Check("foot slip in contact (peak)", m.foot_slip_max_m_s, "m/s", th.foot_slip_peak_m_s,
              c.foot_slip_peak_m_s, where=m.foot_slip_peak_body, time_s=m.foot_slip_peak_time_s),
        Check("self-collision (steps)", self_steps or 0.0, "steps",
              float(th.self_collision_steps), where=self_pair,
              time_s=m.contact_first_time_s.get(self_pair or "")),
        Check("unexpected contact (steps)", other_steps or 0.0, "steps", 0.0, where=other_pair,
              time_s=m.contact_first_time_s.get(other_pair or "")),
    ]
    for name, ok in m.predicates.items():
        checks.append(Check(f"task predicate {name!r}", 1.0 if ok else 0.0, "met", 1.0,
                            higher_is_worse=False))
    return [ch.grade() for ch in checks]


def assess(m: Metrics, cfg: ValidateConfig) -> Assessment:
    """The verdict level, its reasons (ordered by cause) and every check."""
    th = cfg.thresholds
    checks = build_checks(m, cfg)
    nogo: list[_Reason] = []
    if m.diverged:
        nogo.append(_Reason(f"simulation diverged (NaN or explosion){_t(m.diverged_time_s)}",
                            m.diverged_time_s))
    if m.fell:
        nogo.append(_Reason(f"robot fell at t = {m.fall_time_s:.2f} s ({m.fall_measure})"
                            if m.fall_measure else f"robot fell at t = {m.fall_time_s:.2f} s",
                            m.fall_time_s))
    if m.mpjpe_local_mm > th.mpjpe_local_mm:
        nogo.append(_Reason(f"body-local tracking error {m.mpjpe_local_mm:.0f} mm > "
                            f"{th.mpjpe_local_mm:g} mm (per-step error first above it"
                            f"{_t(m.mpjpe_local_first_exceed_time_s)})",
                            m.mpjpe_local_first_exceed_time_s))
    if m.root_drift_max_m > th.root_drift_m:
        nogo.append(_Reason(f"root drift {m.root_drift_max_m:.2f} m > {th.root_drift_m:g} m "
                            f"(first{_t(m.root_drift_first_exceed_time_s)})",
                            m.root_drift_first_exceed_time_s))
    for j in m.joint_limit_violations:
        t = m.min_joint_limit_margin_time_s.get(j)
        nogo.append(_Reason(f"{j} reaches its position limit{_t(t)} (margin "
                            f"{m.min_joint_limit_margin_rad[j]:.3f} rad < "
                            f"{th.joint_limit_margin_rad:g} rad)", t))
    for j, s in m.torque_saturation_fraction.items():
        if s > th.torque_saturation_fraction:
            t = m.torque_saturation_first_time_s.get(j)
            nogo.append(_Reason(f"{j} at its torque limit {100 * s:.0f} % of the time > "
                                f"{100 * th.torque_saturation_fraction:g} % (first{_t(t)})", t))
    for pair, steps in m.self_collisions.items():
        if steps > th.self_collision_steps:
            t = m.contact_first_time_s.get(pair)
            nogo.append(_Reason(f"self-collision {pair.replace('|', ' / ')}{_t(t)} ({steps} "
                                f"steps > {th.self_collision_steps})", t))
    for pair, steps in m.unexpected_contacts.items():
        t = m.contact_first_time_s.get(pair)
        nogo.append(_Reason(f"unexpected contact {pair.replace('|', ' / ')}{_t(t)} "
                            f"({steps} steps)", t))
    if m.foot_slip_mean_m_s > th.foot_slip_m_s:
        nogo.append(_Reason(f"foot slip {m.foot_slip_mean_m_s:.2f} m/s > "
                            f"{th.foot_slip_m_s:g} m/s (mean in floor contact)", None))
    if m.foot_slip_max_m_s > th.foot_slip_peak_m_s:
        nogo.append(_Reason(f"{m.foot_slip_peak_body} slips at {m.foot_slip_max_m_s:.2f} m/s"
                            f"{_t(m.foot_slip_peak_time_s)} > {th.foot_slip_peak_m_s:g} m/s "
                            "(peak in floor contact)", m.foot_slip_peak_time_s))
    for name, ok in m.predicates.items():
        if not ok:
            nogo.append(_Reason(f"task predicate {name!r} not met", None))
    reasons = _in_time_order(nogo)
    after = _after_fall(m)
    if after:
        reasons.append(after)
    cautions = _cautions(m, cfg) if not nogo else []
    level = "no-go" if nogo else ("caution" if cautions else "go")
    return Assessment(level, reasons + cautions, checks)


def _after_fall(m: Metrics) -> str:
    if not (m.fell or m.diverged) or not (m.after_fall_contacts or m.after_fall_saturated_joints):
        return ""
    t = m.fall_time_s if m.fell else m.diverged_time_s
    parts = []
    if m.after_fall_contacts:
        pairs = sorted(m.after_fall_contacts, key=lambda k: -m.after_fall_contacts[k])
        shown = ", ".join(p.replace("|", " / ") for p in pairs[:6])
        more = f" and {len(pairs) - 6} more" if len(pairs) > 6 else ""
        parts.append(f"contacts {shown}{more}")
    if m.after_fall_saturated_joints:
        parts.append(f"torque saturation in {len(m.after_fall_saturated_joints)} joint(s)")
    return (f"consequences after the fall (t > {t:.2f} s), not counted as causes: "
            + "; ".join(parts))


def _cautions(m: Metrics, cfg: ValidateConfig) -> list[str]:
    c = cfg.caution
    out: list[_Reason] = []
    for j, margin in m.min_joint_limit_margin_rad.items():
        if margin < c.joint_limit_margin_rad:
            t = m.min_joint_limit_margin_time_s.get(j)
            out.append(_Reason(f"caution: {j} comes within {margin:.3f} rad "
                               f"({np.degrees(margin):.1f} deg) of its position limit{_t(t)} "
                               f"(caution band {c.joint_limit_margin_rad:g} rad)", t))
    for j, s in m.torque_saturation_fraction.items():
        if s > c.torque_saturation_fraction:
            t = m.torque_saturation_first_time_s.get(j)
            out.append(_Reason(f"caution: {j} at its torque limit {100 * s:.1f} % of the time "
                               f"(first{_t(t)}; caution above "
                               f"{100 * c.torque_saturation_fraction:g} %)", t))
    if m.foot_slip_max_m_s > c.foot_slip_peak_m_s:
        out.append(_Reason(f"caution: {m.foot_slip_peak_body} slips at "
                           f"{m.foot_slip_max_m_s:.2f} m/s{_t(m.foot_slip_peak_time_s)} "
                           f"(peak in floor contact; caution above {c.foot_slip_peak_m_s:g} m/s)",
                           m.foot_slip_peak_time_s))
    if m.mpjpe_local_mm > c.mpjpe_local_mm:
        out.append(_Reason(f"caution: body-local tracking error {m.mpjpe_local_mm:.0f} mm "
                           f"(caution above {c.mpjpe_local_mm:g} mm)", None))
    if m.root_drift_max_m > c.root_drift_m:
        out.append(_Reason(f"caution: root drift {m.root_drift_max_m:.2f} m (caution above "
                           f"{c.root_drift_m:g} m)", None))
    return _in_time_order(out)


def _in_time_order(reasons: list[_Reason]) -> list[str]:
    """Texts of the reasons that have a time, earliest first, then the untimed ones."""
    timed = sorted((r for r in reasons if r.time_s is not None), key=lambda r: r.time_s)
    return [r.text for r in timed] + [r.text for r in reasons if r.time_s is None]


def thresholds_dict(cfg: ValidateConfig) -> dict:
    """Every threshold the verdict used, for ``report.json``."""
    from dataclasses import asdict

    return {"no_go": asdict(cfg.thresholds), "caution": asdict(cfg.caution),
            "plan_checks": asdict(cfg.plan_checks), "strict": bool(cfg.strict)}
