"""``twin eval ...`` subcommands: ``policy`` (closed-loop evaluation) and ``serve`` (a policy
server). Arguments are Hydra-style ``key=value`` overrides, e.g.
``twin eval policy policy=ws://127.0.0.1:8000 task=panda_pick_cube episodes=75 seed=0``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from typing import Any

from omegaconf import OmegaConf


def _parse_overrides(pairs: list[str], allowed: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in pairs:
        if "=" not in p:
            raise ValueError(f"expected key=value, got {p!r}")
        key, value = p.split("=", 1)
        top = key.split(".")[0]
        if top not in allowed:
            raise ValueError(f"unknown option {key!r}; expected one of {sorted(allowed)}")
        parsed = OmegaConf.to_container(OmegaConf.from_dotlist([f"{key}={value}"]))
        _merge(out, parsed)
    return out


def _merge(dst: dict, src: dict) -> None:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v


def run_eval_policy(args: argparse.Namespace) -> int:
    from twin.evaluate.runner import EvalConfig, run_eval

    fields = {f.name: f for f in dataclasses.fields(EvalConfig)}
    kwargs = _parse_overrides(args.overrides, fields)
    for k in ("policy", "task", "out", "ray_address", "motion_camera"):
        if k in kwargs and kwargs[k] is not None:
            kwargs[k] = str(kwargs[k])
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    summary = run_eval(EvalConfig(**kwargs), progress=True)
    print(json.dumps(summary, indent=2))
    lo, hi = summary["wilson95"]
    rate = summary["success_rate"]
    print(f"success {summary['successes']}/{summary['episodes_ran']} = "
          f"{(rate or 0) * 100:.1f} % (Wilson 95 % CI {lo * 100:.1f}-{hi * 100:.1f} %), "
          f"infra errors {summary['infra_errors']}")
    return 0 if summary["infra_errors"] == 0 and summary["missing"] == 0 else 1


def run_eval_serve(args: argparse.Namespace) -> int:
    from twin.evaluate.runner import make_policy
    from twin.policy.server import serve_policy

    kw = _parse_overrides(args.overrides, {"policy": 1, "host": 1, "port": 1})
    if "policy" not in kw:
        raise ValueError("serve needs policy=python:MODULE:FACTORY")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    serve_policy(make_policy(str(kw["policy"])), host=str(kw.get("host", "0.0.0.0")),
                 port=int(kw.get("port", 8000)))
    return 0


def add_eval_commands(subparsers) -> None:
    from twin.cli.tracker_eval_cmds import add_tracker_eval

    p = subparsers.add_parser("eval", help="evaluate policies (closed loop) and trackers")
    sub = p.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND", required=True)
    add_tracker_eval(sub)
    pol = sub.add_parser("policy", help="evaluate a policy on a task: policy=ws://HOST:PORT "
                         "task=NAME episodes=N seed=S [workers=W out=DIR video=true ...]")
    pol.add_argument("overrides", nargs="*", help="key=value (EvalConfig fields)")
    pol.set_defaults(func=run_eval_policy)
    srv = sub.add_parser("serve", help="serve a policy over websockets: "
                         "policy=python:MODULE:FACTORY port=8000")
    srv.add_argument("overrides", nargs="*")
    srv.set_defaults(func=run_eval_serve)
