"""Typed configs of ``twin retarget`` and ``twin motion show`` (the ``KEY=VALUE`` keys their
``--help`` lists), the checks that refuse a bad value before any file is read or written,
and the old ``--flag`` spellings each key had (read for one release, with a deprecation
line).

``HumanInputConfig`` holds the keys of every command that reads a human motion file
(``fps=30`` means the same in ``twin validate``, ``twin retarget`` and ``twin motion show``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from twin import checks
from twin.errors import ConfigError
from twin.motion.robot_motion import QUAT_ORDERS

UP_AXES = ("y", "z")
HEIGHT_RANGE_M = (0.5, 2.5)  # a subject's standing height
IK_ITERATIONS_RANGE = (1, 100)
VIDEO_FPS_MAX = 240.0
VIDEO_SIDE_RANGE_PX = (16, 4096)


def _help(text: str):
    return field(default=None, metadata={"help": text})


@dataclass
class HumanInputConfig:
    """How a human motion file is read and normalised (z-up, floor at 0, 50 Hz)."""

    fps: float | None = _help("frame rate of a file that does not store it (GEM, WHAM, .npy; "
                              "GVHMR: 30 assumed, with a note), 1..1000")
    format: str | None = _help("input format: gvhmr, gem, wham, amass_smplh, amass_smplx, "
                               "joints, intermimic, deepmimic, bvh, bundle, human_motion; null = "
                               "detected from the content")
    body_model: str | None = _help("SMPL .pkl/.npz or SMPL-X .npz file for exact J(beta); "
                                   "null = built-in mean shape scaled to height (approximate)")
    height: float | None = _help("subject height in m (0.5..2.5); null = from the body model, "
                                 "the limb lengths or 1.70")
    track_id: str | None = _help("WHAM track id; null = the longest track")
    joint_map: str | None = _help("joint names of a joints file: lafan, mocap_demo, smpl, "
                                  "smpl_body, smplh_demo, or a JSON file")
    up_axis: str | None = _help("up axis (y or z) of a joints file that does not say")
    repair: bool = field(default=False, metadata={
        "help": "interpolate isolated NaN/Inf frames instead of failing"})
    smooth: bool = field(default=False, metadata={
        "help": "One-Euro smoothing (off by default: it costs positional accuracy)"})


@dataclass
class RetargetCommandConfig(HumanInputConfig):
    """``twin retarget INPUT out=OUT.npz KEY=VALUE...``.

    out: RobotMotion .npz to write (required; -o OUT.npz is short for it)
    iterations: IK iterations per frame after the first (1..100)
    csv: also write a deployment CSV here (root xyz, root quaternion, 29 joints; no header)
    csv_quat_order: quaternion order of the csv= file: xyzw (Unitree style) or wxyz
    residuals: write per-frame IK residuals and root drift to this CSV
    allow_implausible: write the motion even when plausibility checks fail (root height or
        speed, quaternion norms, per-frame IK residual); they are printed as warnings
    """

    out: str = "???"
    iterations: int = 2  # twin.retarget.RetargetConfig.iterations_per_frame (tested equal)
    csv: str | None = None
    csv_quat_order: str = "xyzw"
    residuals: str | None = None
    allow_implausible: bool = False


@dataclass
class MotionShowConfig(HumanInputConfig):
    """``twin motion show FILE KEY=VALUE...``.

    video: render the G1 replay beside the human skeleton to this .mp4; null = no video
    video_fps: frame rate of the video in frames/s (motion frames are subsampled), > 0
    video_width: video width in pixels (16..4096)
    video_height: video height in pixels (16..4096)
    max_seconds: render at most this many seconds of the motion; null = all of it
    csv_quat_order: quaternion order of a CSV robot motion: xyzw or wxyz (required for CSV)
    json: print the summary as JSON
    """

    video: str | None = None
    video_fps: float = 25.0
    video_width: int = 640
    video_height: int = 360
    max_seconds: float | None = None
    csv_quat_order: str | None = None
    json: bool = False


# --- the old spellings ----------------------------------------------------------------------
# flag -> key; every one is read for one release, with a deprecation line on stderr.
HUMAN_OLD_FLAGS = {"--fps": "fps", "--format": "format", "--body-model": "body_model",
                   "--height": "height", "--track-id": "track_id", "--joint-map": "joint_map",
                   "--up-axis": "up_axis", "--repair": "repair", "--smooth": "smooth"}
RETARGET_OLD_FLAGS = {**HUMAN_OLD_FLAGS, "--output": "out", "--iterations": "iterations",
                      "--csv": "csv", "--csv-quat-order": "csv_quat_order",
                      "--residuals": "residuals", "--allow-implausible": "allow_implausible"}
SHOW_OLD_FLAGS = {**HUMAN_OLD_FLAGS, "--video": "video", "--video-fps": "video_fps",
                  "--video-width": "video_width", "--video-height": "video_height",
                  "--max-seconds": "max_seconds", "--csv-quat-order": "csv_quat_order",
                  "--json": "json"}
OLD_SWITCHES = ("--repair", "--smooth", "--allow-implausible", "--json")  # took no value


# --- checks at the boundary -----------------------------------------------------------------
def check_human_input(cfg: HumanInputConfig) -> None:
    """``ConfigError`` naming the first bad human-input key."""
    from twin.motion.joint_maps import BUILTIN_JOINT_MAPS
    from twin.motion.limits import FPS_RANGE
    from twin.motion.readers import FORMATS

    checks.number("fps", cfg.fps, *FPS_RANGE, optional=True)
    if cfg.format is not None:
        checks.one_of("format", cfg.format, FORMATS)
    if cfg.body_model is not None and not Path(cfg.body_model).is_file():
        raise ConfigError("body_model", cfg.body_model,
                          "an existing SMPL .pkl/.npz or SMPL-X .npz file")
    checks.number("height", cfg.height, *HEIGHT_RANGE_M, optional=True)
    if cfg.joint_map is not None and cfg.joint_map not in BUILTIN_JOINT_MAPS and not Path(
            cfg.joint_map).is_file():
        raise ConfigError("joint_map", cfg.joint_map, "a built-in map ("
                          + ", ".join(sorted(BUILTIN_JOINT_MAPS)) + ") or a JSON file")
    if cfg.up_axis is not None:
        checks.one_of("up_axis", cfg.up_axis, UP_AXES)


def check_retarget_config(cfg: RetargetCommandConfig) -> None:
    """Every key of ``twin retarget``, before the input is read or anything is written."""
    check_human_input(cfg)
    checks.writable_file("out", cfg.out, (".npz",))
    checks.integer("iterations", cfg.iterations, *IK_ITERATIONS_RANGE)
    checks.one_of("csv_quat_order", cfg.csv_quat_order, QUAT_ORDERS)
    for key in ("csv", "residuals"):
        if getattr(cfg, key) is not None:
            checks.writable_file(key, getattr(cfg, key), (".csv",))
    if cfg.csv is not None and cfg.residuals is not None and Path(cfg.csv).resolve() == Path(
            cfg.residuals).resolve():
        raise ConfigError("residuals", cfg.residuals, "a file other than csv=")


def check_show_config(cfg: MotionShowConfig) -> None:
    """Every key of ``twin motion show``, before the file is read or a video is written."""
    check_human_input(cfg)
    if cfg.csv_quat_order is not None:
        checks.one_of("csv_quat_order", cfg.csv_quat_order, QUAT_ORDERS)
    if cfg.video is not None:
        checks.writable_file("video", cfg.video, (".mp4",))
    checks.number("video_fps", cfg.video_fps, 0, VIDEO_FPS_MAX, lo_open=True)
    checks.integer("video_width", cfg.video_width, *VIDEO_SIDE_RANGE_PX)
    checks.integer("video_height", cfg.video_height, *VIDEO_SIDE_RANGE_PX)
    checks.number("max_seconds", cfg.max_seconds, 0, lo_open=True, optional=True)
