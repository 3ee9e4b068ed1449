"""``twin retarget`` and ``twin motion show``: human motion files -> G1 reference motions,
and summaries (optionally a video) of motion files.

``twin retarget INPUT -o OUT.npz [--body-model PATH] [--fps N] [--format F] [--repair] ...``
reads any human-motion format ``twin.motion`` knows, normalises it, retargets it onto the
G1 and writes a ``RobotMotion`` ``.npz``; it prints the IK residuals and root drift.
``twin motion show FILE [--video out.mp4]`` summarises a robot motion (twin / BeyondMimic
npz, CSV) or a human motion (any reader format); ``--video`` renders the G1 replaying it
kinematically beside the human skeleton.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from twin.motion.robot_motion import is_robot_motion_file


def add_motion_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``retarget`` and ``motion`` (with ``show``) to the ``twin`` subparsers."""
    r = sub.add_parser("retarget", help="retarget a human motion file onto the G1",
                       description="Read a human motion (GVHMR/GEM .pt, WHAM .pkl, AMASS .npz, "
                       "joint positions, ExoActor bundle .json), normalise it (z-up, floor, "
                       "50 Hz) and retarget it onto the Unitree G1 with mink.")
    r.add_argument("input", type=Path, help="human motion file")
    _override_items(r)
    r.add_argument("-o", "--output", type=Path, required=True, help="RobotMotion .npz to write")
    _human_args(r)
    r.add_argument("--allow-implausible", action="store_true",
                   help="write the motion even when plausibility checks fail (root height or "
                   "speed, quaternion norms, per-frame IK residual); they are printed")
    r.add_argument("--residuals", type=Path, default=None,
                   help="write per-frame IK residuals and root drift to this CSV")
    r.add_argument("--iterations", type=int, default=None,
                   help="IK iterations per frame (default 2)")
    r.add_argument("--csv", type=Path, default=None,
                   help="also write a deployment CSV (root xyz, quaternion, 29 joints)")
    r.add_argument("--csv-quat-order", choices=("wxyz", "xyzw"), default="xyzw",
                   help="quaternion order of --csv (default xyzw, Unitree style)")
    r.set_defaults(func=run_retarget)

    m = sub.add_parser("motion", help="inspect motion files")
    msub = m.add_subparsers(dest="motion_command", metavar="ACTION")
    show = msub.add_parser("show", help="summarise a robot or human motion file")
    show.add_argument("file", type=Path)
    _override_items(show)
    show.add_argument("--video", type=Path, default=None,
                      help="render the G1 replay beside the human skeleton to this .mp4")
    show.add_argument("--video-fps", type=float, default=25.0,
                      help="frame rate of the video (motion frames are subsampled)")
    show.add_argument("--video-width", type=int, default=640, help="pixels")
    show.add_argument("--video-height", type=int, default=360, help="pixels")
    show.add_argument("--max-seconds", type=float, default=None,
                      help="render at most this many seconds")
    show.add_argument("--csv-quat-order", choices=("wxyz", "xyzw"), default=None,
                      help="quaternion order of a CSV robot motion (required for CSV)")
    show.add_argument("--json", action="store_true", help="print the summary as JSON")
    _human_args(show)
    show.set_defaults(func=run_motion_show)
    m.set_defaults(func=lambda args: (m.print_help(), 0)[1])


# KEY=VALUE spellings of the human-motion options, as every motion-reading command takes
# them (`twin validate ... fps=30` and `twin retarget ... fps=30` alike): key -> (dest, type)
HUMAN_KEYS: dict[str, tuple[str, type]] = {
    "fps": ("fps", float), "format": ("format", str), "body_model": ("body_model", Path),
    "height": ("height", float), "track_id": ("track_id", str), "joint_map": ("joint_map", str),
    "up_axis": ("up_axis", str)}


def _override_items(p: argparse.ArgumentParser) -> None:
    p.add_argument("items", nargs="*", metavar="KEY=VALUE",
                   help=f"option overrides in KEY=VALUE form ({', '.join(HUMAN_KEYS)}), "
                   "the same as --KEY VALUE")


def apply_overrides(args: argparse.Namespace) -> argparse.Namespace:
    """Fold ``KEY=VALUE`` items into ``args`` (``fps=30`` is ``--fps 30``)."""
    for item in getattr(args, "items", None) or []:
        key, sep, value = item.partition("=")
        key = key.replace("-", "_")
        if not sep or key not in HUMAN_KEYS:
            raise ValueError(f"{item!r}: expected KEY=VALUE with KEY one of "
                             f"{list(HUMAN_KEYS)}")
        dest, kind = HUMAN_KEYS[key]
        try:
            setattr(args, dest, kind(value))
        except ValueError as exc:
            raise ValueError(f"{item!r}: {key} expects a {kind.__name__}") from exc
    if args.format is not None:
        from twin.motion.readers import FORMATS

        if args.format not in FORMATS:
            raise ValueError(f"format={args.format!r}: expected one of {list(FORMATS)}")
    return args


def _human_args(p: argparse.ArgumentParser) -> None:
    from twin.motion.joint_maps import BUILTIN_JOINT_MAPS
    from twin.motion.readers import FORMATS

    p.add_argument("--format", choices=FORMATS, default=None,
                   help="input format (default: detected from the content)")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate, for files that do not store it (GEM, WHAM, .npy; GVHMR "
                   "defaults to 30); also spelled fps=N")
    p.add_argument("--body-model", type=Path, default=None,
                   help="SMPL .pkl/.npz or SMPL-X .npz for exact J(beta) (default: built-in "
                   "mean shape scaled to --height, approximate)")
    p.add_argument("--height", type=float, default=None,
                   help="subject height in m (default: from the body model, limb lengths or "
                   "1.70)")
    p.add_argument("--track-id", default=None, help="WHAM track id (default: the longest)")
    p.add_argument("--joint-map", default=None,
                   help=f"joint names of a joints file: {sorted(BUILTIN_JOINT_MAPS)} or a JSON")
    p.add_argument("--up-axis", choices=("y", "z"), default=None,
                   help="up axis of a joints file that does not say")
    p.add_argument("--repair", action="store_true",
                   help="interpolate isolated NaN/Inf frames instead of failing")
    p.add_argument("--smooth", action="store_true",
                   help="One-Euro smoothing (off by default: it costs positional accuracy)")


def _load_human(args: argparse.Namespace, path: Path):
    from twin.motion import load_human_motion
    from twin.motion.filters import OneEuroConfig

    apply_overrides(args)
    return load_human_motion(
        path, format=args.format, fps=args.fps, body_model=args.body_model,
        height_m=args.height, track_id=args.track_id, joint_map=args.joint_map,
        up_axis=args.up_axis, repair=args.repair,
        smoothing=OneEuroConfig() if args.smooth else None)


def run_retarget(args: argparse.Namespace) -> int:
    from twin.motion.robot_motion import save_robot_motion, write_robot_csv
    from twin.retarget import RetargetConfig, retarget_to_g1

    if args.output.suffix != ".npz":
        raise ValueError(f"{args.output}: expected an output path ending in .npz")
    human = _load_human(args, args.input)
    if args.iterations is not None:
        from twin import checks

        checks.integer("--iterations", args.iterations, 1, 100)
    cfg = RetargetConfig() if args.iterations is None else RetargetConfig(
        iterations_per_frame=args.iterations)
    from twin.motion.normalise import fps_note

    note = fps_note(human.source)
    if note:
        print(note)
    res = retarget_to_g1(human, cfg)
    from twin.motion.checks import ImplausiblePlanError, check_retarget_result

    issues = check_retarget_result(res, human)
    if issues and not args.allow_implausible:
        raise ImplausiblePlanError(str(args.input), issues)
    for issue in issues:
        print(f"warning: implausible plan: {issue.message}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_robot_motion(res.motion, args.output, writer="twin retarget")
    if args.csv is not None:
        write_robot_csv(res.motion, args.csv, quat_order=args.csv_quat_order)
    if args.residuals is not None:
        cols, table = res.per_frame_table()
        np.savetxt(args.residuals, table, delimiter=",", header=",".join(cols), comments="",
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
    extra = [str(p) for p in (args.csv, args.residuals) if p is not None]
    print(f"wrote {args.output}" + (f" and {', '.join(extra)}" if extra else ""))
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

    apply_overrides(args)
    if is_robot_motion_file(args.file):
        motion = load_robot_motion(args.file, csv_quat_order=args.csv_quat_order, fps=args.fps)
        summary = robot_motion_summary(motion)
    else:
        human = _load_human(args, args.file)
        from twin.motion.normalise import fps_note
        from twin.retarget import retarget_to_g1

        summary = human_motion_summary(human)
        note = fps_note(human.source)
        if note and not args.json:
            print(note)
        motion = retarget_to_g1(human).motion if args.video else None
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        for k, v in summary.items():
            print(f"{k:24s} {v}")
    if args.video is not None:
        from twin.motion.preview_video import render_motion_video

        info = render_motion_video(motion, args.video, fps=args.video_fps,
                                   width=args.video_width, height=args.video_height, max_seconds=args.max_seconds)
        print(f"wrote {args.video}: {info['frames']} frames at {info['fps']:g} fps "
              f"({info['render_fps']:.1f} frames/s rendered)")
    return 0
