"""Validation inputs: any motion file -> a G1 ``RobotMotion`` (retargeting human motion)."""

from __future__ import annotations

from pathlib import Path

from twin.motion.robot_motion import RobotMotion, is_robot_motion_file, load_robot_motion


def load_plan_motion(path: str | Path, fps: float | None = None,
                     body_model: str | None = None) -> tuple[RobotMotion, dict]:
    """The reference to execute and what was done to get it (for the report)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"motion file {path} does not exist")
    if is_robot_motion_file(path):
        return load_robot_motion(path), {"input": str(path), "kind": "robot_motion"}
    from twin.motion.normalise import load_human_motion
    from twin.retarget import retarget_to_g1

    human = load_human_motion(path, fps=fps, body_model=body_model)
    result = retarget_to_g1(human)
    summary = {k: float(v) for k, v in result.summary().items()}
    info = {"input": str(path), "kind": "human_motion", "format": human.source.get("format"),
            "subject_height_m": float(human.height_m), "retarget": summary}
    return result.motion, info
