"""``twin train tracker KEY=VALUE ...``: train or fine-tune the G1 tracking policy."""

from __future__ import annotations

import argparse


def add_train_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train learned controllers (Hydra overrides)")
    tsub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    t = tsub.add_parser("tracker", help="PPO on twin/G1MotionTracking-v0; re-run to resume",
                        description="Overrides of configs/train/tracker.yaml, e.g. "
                        "motions=clip.npz init=default total_env_steps=500000")
    t.add_argument("overrides", nargs="*", help="KEY=VALUE (Hydra syntax)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(func=run_train_tracker)


def run_train_tracker(args: argparse.Namespace) -> int:
    from twin.train.tracker import load_train_config, train

    cfg = load_train_config(args.overrides)
    out = train(cfg, progress_bar=not args.no_progress)
    print(f"tracker written to {out}")
    return 0
