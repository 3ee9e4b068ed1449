"""``twin retarget`` and ``twin motion show``: human motion files -> G1 reference motions,
and summaries (optionally a video) of motion files.

``twin retarget INPUT out=OUT.npz [fps=30 body_model=PATH repair=true csv=OUT.csv ...]``
reads any human-motion format ``twin.motion`` knows, normalises it, retargets it onto the
G1 and writes a ``RobotMotion`` ``.npz``; it prints the IK residuals and root drift.
``twin motion show FILE [video=out.mp4 json=true ...]`` summarises a robot motion (twin /
BeyondMimic npz, CSV) or a human motion (any reader format); ``video=`` renders the G1
replaying it kinematically beside the human skeleton. The keys are the typed configs of
``twin.cli.motion_config``; the old ``--flag`` spellings still work, with a deprecation line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twin.cli.grammar import (
    add_config_command,
    add_deprecated_flags,
    deprecated_items,
    parse_config,
)
from twin.motion.robot_motion import is_robot_motion_file

if TYPE_CHECKING:
    from twin.cli.motion_config import HumanInputConfig, MotionShowConfig, RetargetCommandConfig


def add_motion_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``retarget`` and ``motion`` (with ``show``) to the ``twin`` subparsers."""
    from twin.cli.motion_config import OLD_SWITCHES, RETARGET_OLD_FLAGS, SHOW_OLD_FLAGS

    r = add_config_command(
        sub, "retarget", schema="twin.cli.motion_config.RetargetCommandConfig",
        func=run_retarget, help="retarget a human motion file onto the G1",
        description="Read a human motion (GVHMR/GEM .pt, WHAM .pkl, AMASS .npz, joint "
        "positions, ExoActor bundle .json), normalise it (z-up, floor, 50 Hz) and retarget "
        "it onto the Unitree G1 with mink; prints the IK residuals and the root drift. "
        "Exit 3 (one line) for a bad value or a plan that cannot be physical.",
        example="twin retarget hmr4d_results.pt out=walk.npz fps=30 csv=walk.csv",
        positionals=[("input", "human motion file")])
    r.add_argument("-o", "--out", dest="out_flag", default=None, metavar="OUT.npz",
                   help="same as out=")
    add_deprecated_flags(r, RETARGET_OLD_FLAGS, OLD_SWITCHES)

    m = sub.add_parser("motion", help="inspect motion files")
    msub = m.add_subparsers(dest="motion_command", metavar="ACTION")
    show = add_config_command(
        msub, "show", schema="twin.cli.motion_config.MotionShowConfig", func=run_motion_show,
        help="summarise a robot or human motion file",
        description="Summarise a robot motion (twin or BeyondMimic .npz, CSV) or a human "
        "motion (any format `twin retarget` reads); video= renders the G1 replaying it "
        "kinematically beside the human skeleton.",
        example="twin motion show walk.npz video=walk.mp4",
        positionals=[("file", "robot or human motion file")])
    add_deprecated_flags(show, SHOW_OLD_FLAGS, OLD_SWITCHES)
    m.set_defaults(func=lambda args: (m.print_help(), 0)[1])


def _load_human(cfg: HumanInputConfig, path: str | Path):
    from twin.motion import load_human_motion
    from twin.motion.filters import OneEuroConfig

    return load_human_motion(
        path, format=cfg.format, fps=cfg.fps, body_model=cfg.body_model,
        height_m=cfg.height, track_id=cfg.track_id, joint_map=cfg.joint_map,
        up_axis=cfg.up_axis, repair=cfg.repair,
        smoothing=OneEuroConfig() if cfg.smooth else None)


def load_retarget_config(args: argparse.Namespace) -> RetargetCommandConfig:
    """The checked ``RetargetCommandConfig`` of a ``twin retarget`` command line (old flags
    first, then ``-o``, then ``KEY=VALUE``: the later spelling wins)."""
    from twin.cli.motion_config import RetargetCommandConfig, check_retarget_config

    items = deprecated_items(args, "retarget")
    if getattr(args, "out_flag", None) is not None:
        items.append(f"out={args.out_flag}")
    cfg = parse_config(RetargetCommandConfig, items + list(args.overrides), "retarget")
    check_retarget_config(cfg)
    return cfg


def load_show_config(args: argparse.Namespace) -> MotionShowConfig:
    """The checked ``MotionShowConfig`` of a ``twin motion show`` command line."""
    from twin.cli.motion_config import MotionShowConfig, check_show_config

    items = deprecated_items(args, "motion show") + list(args.overrides)
    cfg = parse_config(MotionShowConfig, items, "motion show")
    check_show_config(cfg)
    return cfg


def run_retarget(args: argparse.Namespace) -> int:
    from twin.motion.robot_motion import save_robot_motion, write_robot_csv
    from twin.retarget import RetargetConfig, retarget_to_g1

    cfg = load_retarget_config(args)
    human = _load_human(cfg, args.input)
    from twin.motion.normalise import fps_note

    note = fps_note(human.source)
    if note:
        print(note)
    res = retarget_to_g1(human, RetargetConfig(iterations_per_frame=cfg.iterations))
    from twin.motion.checks import ImplausiblePlanError, check_retarget_result

    issues = check_retarget_result(res, human)
    if issues and not cfg.allow_implausible:
        raise ImplausiblePlanError(str(args.input), issues)
    for issue in issues:
        print(f"warning: implausible plan: {issue.message}")
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_robot_motion(res.motion, out, writer="twin retarget")
    if cfg.csv is not None:
        write_robot_csv(res.motion, cfg.csv, quat_order=cfg.csv_quat_order)
    if cfg.residuals is not None:
        cols, table = res.per_frame_table()
        np.savetxt(cfg.residuals, table, delimiter=",", header=",".join(cols), comments="",
                   fmt="%.6g")
    s = res.summary()
    src = human.source
    print(f"read {args.input} as {src.get('format')} ({src.get('source_fps')} fps from "
          f"{src.get('source_fps_from')}), "
          f"{human.num_frames} frames at {human.fps:g} Hz, subject {human.height_m:.2f} m "
          f"({src.get('skeleton')})")
    print(f"repaired NaN/Inf frames: {src.get('repaired_frames', '0')}")
    print(f"retargeted to G1 at scale {s['scale']:.3f}: {s['frames_per_s']:.0f} frames/s")
    print(f"IK position residual mean {1000 * s['position_residual_mean_m']:.1f} mm, p95 "
          f"{1000 * s['position_residual_p95_m']:.1f} mm, max "
          f"{1000 * s['position_residual_max_m']:.1f} mm; orientation mean "
          f"{np.degrees(s['orientation_residual_mean_rad']):.2f} deg")
    print(f"horizontal root drift vs scaled human pelvis: max "
          f"{100 * s['root_drift_xy_max_m']:.2f} cm")
    if human.hand_state is not None:
        print("hand states -> Dex3-1 presets (open/half/closed), columns (left, right) "
              "anatomical")
    extra = [str(p) for p in (cfg.csv, cfg.residuals) if p is not None]
    print(f"wrote {out}" + (f" and {', '.join(extra)}" if extra else ""))
    return 0


def robot_motion_summary(motion) -> dict:
    root = motion.root_pos_w
    return {
        "kind": "robot_motion", "robot": motion.robot, "file": motion.source.get("file"),
        "format": motion.source.get("format", "twin.robot_motion"),
        "fps": motion.fps, "frames": motion.num_frames,
        "duration_s": round(motion.duration_s, 3),
        "joints": len(motion.joint_names), "bodies": len(motion.body_names),
        "root_path_xy_m": round(float(np.linalg.norm(root[-1, :2] - root[0, :2])), 3),
        "root_height_m": [round(float(root[:, 2].min()), 3), round(float(root[:, 2].max()), 3)],
        "max_joint_speed_rad_s": round(float(np.abs(motion.joint_vel).max()), 3),
        "hands": motion.hand_joint_pos is not None,
        "human_skeleton": motion.human_joint_pos_w is not None,
        "residuals": motion.source.get("residuals"),
    }


def human_motion_summary(human) -> dict:
    pelvis = human.joint("pelvis") if "pelvis" in human.joint_names else human.joint_pos_w[:, 0]
    return {
        "kind": "human_motion", "file": human.source.get("file"),
        "format": human.source.get("format"), "fps": human.fps, "frames": human.num_frames,
        "duration_s": round(human.duration_s, 3), "joints": len(human.joint_names),
        "height_m": round(human.height_m, 3), "skeleton": human.source.get("skeleton"),
        "pelvis_path_xy_m": round(float(np.linalg.norm(pelvis[-1, :2] - pelvis[0, :2])), 3),
        "rotations": human.joint_quat_wxyz is not None,
        "hand_states": human.hand_state is not None,
        "repaired_frames": int(human.source.get("repaired_frames", 0)),
    }


def run_motion_show(args: argparse.Namespace) -> int:
    from twin.motion.robot_motion import load_robot_motion

    cfg = load_show_config(args)
    if Path(args.file).suffix.lower() == ".csv" and cfg.csv_quat_order is None:
        from twin.errors import InputError

        raise InputError(f"motion show: {args.file} is a CSV robot motion: name its "
                         "quaternion order, csv_quat_order=xyzw (Unitree style) or wxyz")
    if is_robot_motion_file(args.file):
        motion = load_robot_motion(args.file, csv_quat_order=cfg.csv_quat_order, fps=cfg.fps)
        summary = robot_motion_summary(motion)
    else:
        human = _load_human(cfg, args.file)
        from twin.motion.normalise import fps_note
        from twin.retarget import retarget_to_g1

        summary = human_motion_summary(human)
        note = fps_note(human.source)
        if note and not cfg.json:
            print(note)
        motion = retarget_to_g1(human).motion if cfg.video else None
    if cfg.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        for k, v in summary.items():
            print(f"{k:24s} {v}")
    if cfg.video is not None:
        from twin.motion.preview_video import render_motion_video

        info = render_motion_video(motion, cfg.video, fps=cfg.video_fps, width=cfg.video_width,
                                   height=cfg.video_height, max_seconds=cfg.max_seconds)
        print(f"wrote {cfg.video}: {info['frames']:g} frames at {info['fps']:g} fps "
              f"({info['render_fps']:.1f} frames/s rendered)")
    return 0
