"""``twin eval tracker motions=PATH [tracker=default] [out=report.json]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_tracker_eval(eval_sub: argparse._SubParsersAction) -> None:
    p = eval_sub.add_parser("tracker", help="evaluate a tracking controller on clips, with the "
                            "stiff-PD baseline",
                            description="KEY=VALUE arguments: motions=PATH|DIR|GLOB (required), "
                            "tracker=default|PATH.npz, out=report.json")
    p.add_argument("args", nargs="*", help="KEY=VALUE")
    p.set_defaults(func=run_tracker_eval)


def _kv(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"eval tracker: expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        if k not in ("motions", "tracker", "out"):
            raise ValueError(f"eval tracker: unknown key {k!r}; expected motions, tracker, out")
        out[k] = v
    return out


def run_tracker_eval(args: argparse.Namespace) -> int:
    from twin.envs.tracking.g1_tracking import load_motions
    from twin.evaluate.tracker import evaluate_with_baseline, format_table

    kv = _kv(args.args)
    if "motions" not in kv:
        raise ValueError("eval tracker: motions=PATH is required")
    report = evaluate_with_baseline(load_motions(kv["motions"]), kv.get("tracker", "default"))
    print(format_table(report))
    out = Path(kv.get("out", "tracker_eval.json"))
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0
