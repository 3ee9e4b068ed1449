"""Validation inputs: any motion file -> a G1 ``RobotMotion`` (retargeting human motion)."""

from __future__ import annotations

from pathlib import Path

from twin.motion.robot_motion import (
    RobotMotion,
    is_robot_motion_file,
    layout_note,
    load_robot_motion,
)


def load_plan_motion(path: str | Path, fps: float | None = None,
                     body_model: str | None = None, bounds=None) -> tuple[RobotMotion, dict]:
    """The reference to execute and what was done to get it (for the report).

    ``info["plan_issues"]``: failed IK-residual checks of a retargeted human motion
    (``twin.motion.checks``, ``bounds`` a ``PlanBounds``); ``info["fps_note"]``: set when the
    frame rate is a format default rather than the file's."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"motion file {path} does not exist")
    if path.is_dir():
        raise ValueError(f"motion file {path} is a folder; expected a file (batch=DIR "
                         "validates every motion in a folder)")
    if is_robot_motion_file(path):
        motion = load_robot_motion(path)
        info = {"input": str(path), "kind": "robot_motion"}
        if layout_note(motion):  # an unnamed BeyondMimic/mjlab clip, named by FK
            info["layout_order"] = motion.source["layout_order"]
            info["layout_note"] = layout_note(motion)
        return motion, info
    from twin.motion.checks import PlanBounds, check_human_motion, check_ik_residuals
    from twin.motion.normalise import fps_note, load_human_motion
    from twin.retarget import retarget_to_g1

    human = load_human_motion(path, fps=fps, body_model=body_model)
    result = retarget_to_g1(human)
    summary = {k: float(v) for k, v in result.summary().items()}
    bounds = bounds or PlanBounds()
    issues = check_human_motion(human, bounds) + check_ik_residuals(
        result.position_residual_m, result.motion.fps, bounds)
    info = {"input": str(path), "kind": "human_motion", "format": human.source.get("format"),
            "source_fps": human.source.get("source_fps"),
            "source_fps_from": human.source.get("source_fps_from"),
            "subject_height_m": float(human.height_m), "retarget": summary,
            "plan_issues": [i.as_dict() for i in issues]}
    note = fps_note(human.source)
    if note:
        info["fps_note"] = note
    return result.motion, info
