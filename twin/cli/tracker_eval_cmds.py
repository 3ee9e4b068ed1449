"""``twin eval tracker motions=PATH [tracker=default] [baseline=pd] [out=DIR]``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from twin.cli.grammar import add_config_command, parse_config


@dataclass
class TrackerEvalConfig:
    """``twin eval tracker KEY=VALUE...``.

    motions: clips to play: a RobotMotion .npz, a folder of them, or a glob (required)
    tracker: default (the shipped tracker), a name, a tracker .npz path, pd (the stiff-PD
        replay of the reference) or pd_holding (the same with the servos' gravity sag fed
        forward)
    baseline: a second controller scored on the same clips (same forms as tracker), or none
    out: folder for report.json and report.md (per clip and aggregated)
    """

    motions: str = "???"
    tracker: str = "default"
    baseline: str = "pd"
    out: str = "tracker_eval"


def add_tracker_eval(eval_sub: argparse._SubParsersAction) -> None:
    add_config_command(
        eval_sub, "tracker", schema="twin.cli.tracker_eval_cmds.TrackerEvalConfig",
        func=run_tracker_eval,
        help="evaluate a tracking controller on clips, with the stiff-PD baseline",
        description="Play clips with a tracking controller and a baseline (default: the "
        "stiff-PD replay); per clip: success, tracked fraction, first termination (time, "
        "reason), body-local and global MPJPE over the tracked frames and over the frames "
        "every controller tracked, joint error.",
        example="twin eval tracker motions=assets/motions/heldout_small_real "
        "tracker=default baseline=pd out=tracker_eval")


def load_tracker_eval_config(items: list[str]) -> TrackerEvalConfig:
    from twin import checks

    cfg = parse_config(TrackerEvalConfig, items, "eval tracker")
    checks.writable_dir("out", cfg.out)
    return cfg


def run_tracker_eval(args: argparse.Namespace) -> int:
    from twin.envs.tracking.g1_tracking import load_motions
    from twin.evaluate.tracker import evaluate_controllers, format_table, write_report
    from twin.motion.robot_motion import layout_note

    cfg = load_tracker_eval_config(args.overrides)
    clips = load_motions(cfg.motions)
    for clip in clips:
        if layout_note(clip):
            print(layout_note(clip))
    controllers = {"tracker": cfg.tracker}
    if cfg.baseline != "none":
        controllers["baseline"] = cfg.baseline
    report = evaluate_controllers(clips, controllers)
    print(format_table(report))
    out = write_report(report, cfg.out, title=f"Tracker evaluation: {cfg.motions}")
    print(f"wrote {out}/report.json and {out}/report.md")
    return 0
