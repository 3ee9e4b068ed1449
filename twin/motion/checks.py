"""Plan plausibility: can this robot reference motion be physical at all?

One place for the checks that ``twin retarget``, ``twin validate`` and ``twin eval tracker``
share, run before any simulation on a ``RobotMotion`` (a frame rate and length within
``twin.motion.limits``, enough frames, a known robot, unit root quaternions, root height and
root speed within bounds) and, for retargeted human motion, on the subject's pelvis speed and
the per-frame IK residual. Each failed check is
one ``PlanIssue`` naming the measure, the worst frame and its time, the value and the bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.limits import FPS_RANGE, MAX_FRAMES
from twin.motion.robot_motion import RobotMotion

CONTROL_HZ = 50.0  # the rate plans are executed at (tracking env, validation)


@dataclass
class PlanBounds:
    """What a plan for a floor-standing humanoid may contain (SI units, world z-up)."""

    min_frames: int = 2  # one control step needs two reference frames
    root_height_min_m: float = 0.05  # pelvis z above the floor
    root_height_max_m: float = 1.6
    root_speed_m_s: float = 10.0  # pelvis speed between frames (G1 runs at ~3 m/s)
    quat_norm_tolerance: float = 1e-3  # | |q| - 1 | of root quaternions
    ik_residual_m: float = 0.2  # mean position residual over the tracked links, per frame


@dataclass(frozen=True)
class PlanIssue:
    """One failed plausibility check."""

    check: str  # fps | frames | robot | root_quat_norm | root_height | root_speed | ik_residual
    message: str  # one line, with the worst frame and the bound
    value: float | None = None
    limit: float | None = None
    frame: int | None = None
    time_s: float | None = None

    def as_dict(self) -> dict:
        return {"check": self.check, "message": self.message, "value": self.value,
                "limit": self.limit, "frame": self.frame, "time_s": self.time_s}


class ImplausiblePlanError(MotionFormatError):
    """A plan that cannot be physical; ``issues`` lists every failed check."""

    def __init__(self, path: str | None, issues: list[PlanIssue]) -> None:
        self.issues = issues
        super().__init__(path, None, "implausible plan: " + "; ".join(i.message for i in issues))


def _at(frame: int, fps: float) -> str:
    return f"frame {frame} (t = {frame / fps:.2f} s)"


def check_robot_motion(motion: RobotMotion, robots: tuple[str, ...] | None = None,
                       bounds: PlanBounds | None = None) -> list[PlanIssue]:
    """Every plausibility issue of ``motion`` (empty when it may be physical).

    ``robots``: the robot names the caller can execute (default: any robot twin knows)."""
    from twin.robots import names as robot_names

    bounds = bounds or PlanBounds()
    issues: list[PlanIssue] = []
    known = tuple(robots) if robots is not None else tuple(robot_names())
    if motion.robot not in known:
        issues.append(PlanIssue("robot", f"robot {motion.robot!r} is not one of {list(known)}"))
    T, fps = motion.num_frames, motion.fps
    lo_fps, hi_fps = FPS_RANGE
    if not lo_fps <= fps <= hi_fps:
        issues.append(PlanIssue("fps", f"frame rate {fps:g} frames/s; expected {lo_fps:g} to "
                                f"{hi_fps:g}", float(fps), hi_fps if fps > hi_fps else lo_fps))
        return issues  # durations and speeds below would be meaningless (or huge)
    control_frames = int((T - 1) / fps * CONTROL_HZ) + 1
    if control_frames > MAX_FRAMES:
        issues.append(PlanIssue(
            "frames", f"{motion.duration_s:.0f} s of motion = {control_frames} control steps; "
            f"expected at most {MAX_FRAMES} ({MAX_FRAMES / CONTROL_HZ:.0f} s)",
            float(control_frames), float(MAX_FRAMES)))
    if T < bounds.min_frames:
        issues.append(PlanIssue(
            "frames", f"{T} frame(s) ({motion.duration_s:.3f} s); expected at least "
            f"{bounds.min_frames} frames", float(T), float(bounds.min_frames)))
    norm = np.linalg.norm(motion.root_quat_wxyz, axis=1)
    dev = np.abs(norm - 1.0)
    k = int(np.argmax(dev))
    if dev[k] > bounds.quat_norm_tolerance:
        issues.append(PlanIssue(
            "root_quat_norm", f"root quaternion norm {norm[k]:.3f} at {_at(k, fps)}; expected "
            f"unit quaternions (within {bounds.quat_norm_tolerance:g})", float(norm[k]), 1.0,
            k, k / fps))
    z = motion.root_pos_w[:, 2]
    lo, hi = bounds.root_height_min_m, bounds.root_height_max_m
    for k, bad, word, lim in ((int(np.argmax(z)), z.max() > hi, "above", hi),
                              (int(np.argmin(z)), z.min() < lo, "below", lo)):
        if bad:
            issues.append(PlanIssue(
                "root_height", f"root height {z[k]:.2f} m at {_at(k, fps)} is {word} "
                f"{lim:g} m; expected {lo:g}..{hi:g} m", float(z[k]), float(lim), k, k / fps))
    if T >= 2:
        speed = np.linalg.norm(np.diff(motion.root_pos_w, axis=0), axis=1) * fps
        k = int(np.argmax(speed))
        if speed[k] > bounds.root_speed_m_s:
            jump = speed[k] / fps
            issues.append(PlanIssue(
                "root_speed", f"root moves {jump:.2f} m in one frame ({speed[k]:.1f} m/s) at "
                f"{_at(k + 1, fps)}; expected at most {bounds.root_speed_m_s:g} m/s",
                float(speed[k]), bounds.root_speed_m_s, k + 1, (k + 1) / fps))
    return issues


def check_human_motion(human, bounds: PlanBounds | None = None) -> list[PlanIssue]:
    """Pelvis speed of a ``HumanMotion`` (before retargeting): a subject that moves faster
    than ``root_speed_m_s`` between frames is a tracking glitch (a teleport), not a plan."""
    bounds = bounds or PlanBounds()
    names = tuple(human.joint_names)
    pelvis = human.joint_pos_w[:, names.index("pelvis") if "pelvis" in names else 0]
    if len(pelvis) < 2:
        return []
    speed = np.linalg.norm(np.diff(pelvis, axis=0), axis=1) * human.fps
    k = int(np.argmax(speed))
    if speed[k] <= bounds.root_speed_m_s:
        return []
    return [PlanIssue(
        "root_speed", f"the subject's pelvis moves {speed[k] / human.fps:.2f} m in one frame "
        f"({speed[k]:.1f} m/s) at {_at(k + 1, human.fps)}; expected at most "
        f"{bounds.root_speed_m_s:g} m/s", float(speed[k]), bounds.root_speed_m_s, k + 1,
        (k + 1) / human.fps)]


def check_ik_residuals(position_residual_m: np.ndarray, fps: float,
                       bounds: PlanBounds | None = None) -> list[PlanIssue]:
    """Per-frame IK residual (mean over the position-tracked links, (T, L) m) bound."""
    bounds = bounds or PlanBounds()
    res = np.asarray(position_residual_m, dtype=float)
    if res.size == 0:
        return []
    per_frame = res.reshape(res.shape[0], -1).mean(axis=1)
    k = int(np.argmax(per_frame))
    if per_frame[k] <= bounds.ik_residual_m:
        return []
    n_bad = int((per_frame > bounds.ik_residual_m).sum())
    return [PlanIssue(
        "ik_residual", f"IK residual {per_frame[k]:.2f} m at {_at(k, fps)} ({n_bad} of "
        f"{len(per_frame)} frames above {bounds.ik_residual_m:g} m; mean "
        f"{per_frame.mean():.2f} m): the robot cannot follow this human motion",
        float(per_frame[k]), bounds.ik_residual_m, k, k / fps)]


def check_retarget_result(result, human=None, bounds: PlanBounds | None = None
                          ) -> list[PlanIssue]:
    """``check_human_motion`` on the source (if given), ``check_robot_motion`` on a
    ``RetargetResult``'s motion, and its IK residuals."""
    m = result.motion
    return ((check_human_motion(human, bounds) if human is not None else [])
            + check_robot_motion(m, bounds=bounds)
            + check_ik_residuals(result.position_residual_m, m.fps, bounds))


def require_plausible_clips(motions, robots: tuple[str, ...] = ("g1", "g1_dex3"),
                            bounds: PlanBounds | None = None) -> None:
    """Raise ``ImplausiblePlanError`` for the first of ``motions`` (``RobotMotion``s) that
    cannot be physical (``twin eval tracker`` and training inputs)."""
    for m in motions:
        require_plausible(check_robot_motion(m, robots, bounds), m.source.get("file"))


def require_plausible(issues: list[PlanIssue], path: str | None) -> None:
    """Raise ``ImplausiblePlanError`` when ``issues`` is not empty."""
    if issues:
        raise ImplausiblePlanError(path, issues)
