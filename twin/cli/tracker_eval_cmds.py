"""``twin eval tracker motions=PATH [tracker=default] [out=report.json]``."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from twin.cli.grammar import lazy_help, parse_config


@dataclass
class TrackerEvalConfig:
    """``twin eval tracker KEY=VALUE...``.

    motions: clips to play: a RobotMotion .npz, a folder of them, or a glob (required)
    tracker: default (the shipped tracker), a name, or a tracker .npz path
    out: JSON report written after the table
    """

    motions: str = "???"
    tracker: str = "default"
    out: str = "tracker_eval.json"


def add_tracker_eval(eval_sub: argparse._SubParsersAction) -> None:
    p = eval_sub.add_parser(
        "tracker", formatter_class=argparse.RawDescriptionHelpFormatter,
        help="evaluate a tracking controller on clips, with the stiff-PD baseline",
        description="Play clips with a tracking controller and with the stiff-PD replay "
        "baseline; prints success, fall time and body-local MPJPE per clip.")
    p.epilog_fn = lazy_help("twin.cli.tracker_eval_cmds.TrackerEvalConfig",
                            "example: twin eval tracker motions=assets/motions/heldout_small "
                            "tracker=runs/tracker/tracker.npz")
    p.add_argument("args", nargs="*", metavar="KEY=VALUE", help="keys listed below")
    p.set_defaults(func=run_tracker_eval)


def load_tracker_eval_config(items: list[str]) -> TrackerEvalConfig:
    from twin import checks

    cfg = parse_config(TrackerEvalConfig, items, "eval tracker")
    checks.writable_file("out", cfg.out, (".json",))
    return cfg


def run_tracker_eval(args: argparse.Namespace) -> int:
    from twin.envs.tracking.g1_tracking import load_motions
    from twin.evaluate.tracker import evaluate_with_baseline, format_table

    cfg = load_tracker_eval_config(args.args)
    report = evaluate_with_baseline(load_motions(cfg.motions), cfg.tracker)
    print(format_table(report))
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(out)  # a crash mid-write leaves no half report
    print(f"wrote {out}")
    return 0
