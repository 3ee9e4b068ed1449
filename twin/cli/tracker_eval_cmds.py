"""``twin eval tracker motions=PATH [tracker=default] [baseline=pd] [out=DIR]``."""

from __future__ import annotations

import argparse

KEYS = {
    "motions": "a clip .npz, a folder or a glob (required)",
    "tracker": "default | pd (stiff-PD replay) | PATH.npz/.onnx (default: default)",
    "baseline": "a second controller scored on the same clips: pd | none | a tracker "
                "(default: pd)",
    "out": "folder for report.json and report.md (default: tracker_eval)",
}


def add_tracker_eval(eval_sub: argparse._SubParsersAction) -> None:
    p = eval_sub.add_parser(
        "tracker", help="evaluate a tracking controller on clips, with the stiff-PD baseline",
        description="KEY=VALUE arguments: " + "; ".join(f"{k}: {v}" for k, v in KEYS.items())
        + ". Per clip: success, tracked fraction, first termination (time, reason), "
        "local/global MPJPE over the tracked frames and over the frames every controller "
        "tracked, joint error.")
    p.add_argument("args", nargs="*", help="KEY=VALUE")
    p.set_defaults(func=run_tracker_eval)


def _kv(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"eval tracker: expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        if k not in KEYS:
            raise ValueError(f"eval tracker: unknown key {k!r}; expected one of "
                             f"{', '.join(KEYS)}")
        out[k] = v
    return out


def run_tracker_eval(args: argparse.Namespace) -> int:
    from twin.envs.tracking.g1_tracking import load_motions
    from twin.evaluate.tracker import evaluate_controllers, format_table, write_report

    kv = _kv(args.args)
    if "motions" not in kv:
        raise ValueError("eval tracker: motions=PATH is required")
    controllers = {"tracker": kv.get("tracker", "default")}
    baseline = kv.get("baseline", "pd")
    if baseline != "none":
        controllers["baseline"] = baseline
    report = evaluate_controllers(load_motions(kv["motions"]), controllers)
    print(format_table(report))
    out = write_report(report, kv.get("out", "tracker_eval"),
                       title=f"Tracker evaluation: {kv['motions']}")
    print(f"wrote {out}/report.json and {out}/report.md")
    return 0
