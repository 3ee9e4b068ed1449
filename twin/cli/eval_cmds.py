"""``twin eval ...`` subcommands: ``policy`` (closed-loop evaluation), ``serve`` (a policy
server) and ``tracker``. Arguments are ``KEY=VALUE`` over a typed config (``--help`` lists
every key), e.g.
``twin eval policy policy=ws://127.0.0.1:8000 task=panda_pick_cube episodes=75 seed=0``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os

from twin.cli.grammar import add_config_command, parse_config


def run_eval_policy(args: argparse.Namespace) -> int:
    from twin.evaluate.runner import EvalConfig, check_eval_config, run_eval

    cfg = parse_config(EvalConfig, args.overrides, "eval policy")
    check_eval_config(cfg)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("OpenGL").setLevel(logging.WARNING)
    summary = run_eval(cfg, progress=True)
    print(json.dumps(summary, indent=2))
    lo, hi = summary["wilson95"]
    rate = summary["success_rate"]
    print(f"success {summary['successes']}/{summary['episodes_ran']} = "
          f"{(rate or 0) * 100:.1f} % (Wilson 95 % CI {lo * 100:.1f}-{hi * 100:.1f} %), "
          f"infra errors {summary['infra_errors']}")
    return 0 if summary["infra_errors"] == 0 and summary["missing"] == 0 else 1


def load_serve_config(items: list[str]):
    from twin import checks
    from twin.errors import ConfigError
    from twin.evaluate.runner import resolve_factory
    from twin.policy.server import ServeConfig, check_server_args
    from twin.policy.websocket_client import TOKEN_ENV

    cfg = parse_config(ServeConfig, items, "eval serve")
    if not cfg.policy.startswith("python:") or cfg.policy.count(":") < 2:
        raise ConfigError("policy", cfg.policy, "python:MODULE:FACTORY")
    checks.number("max_message_mb", cfg.max_message_mb, 0.001)
    if cfg.token is None and os.environ.get(TOKEN_ENV):
        cfg.token = os.environ[TOKEN_ENV]
    kw = cfg.server_kwargs()
    del kw["debug"]
    check_server_args(**kw)
    resolve_factory(cfg.policy)
    return cfg


def run_eval_serve(args: argparse.Namespace) -> int:
    from twin.evaluate.runner import make_policy
    from twin.policy.server import PolicyServer

    cfg = load_serve_config(args.overrides)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if cfg.host not in ("127.0.0.1", "localhost", "::1") and cfg.token is None:
        logging.getLogger("twin.eval.serve").warning(
            "serving on %s without a token: anyone who reaches this port can use the policy "
            "(set token=... or $TWIN_POLICY_TOKEN)", cfg.host)
    from twin.evaluate.interop import serve_metadata

    policy = make_policy(cfg.policy)
    server = PolicyServer(policy, metadata=serve_metadata(policy, cfg.task, cfg.obs_keys),
                          **cfg.server_kwargs())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("twin eval serve: stopped")
    return 0


def add_eval_commands(subparsers) -> None:
    from twin.cli.tracker_eval_cmds import add_tracker_eval

    p = subparsers.add_parser("eval", help="evaluate policies (closed loop) and trackers",
                              description="Closed-loop evaluation of policies and trackers.")
    sub = p.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND", required=True)
    add_tracker_eval(sub)
    add_config_command(
        sub, "policy", schema="twin.evaluate.runner.EvalConfig", func=run_eval_policy,
        help="evaluate a policy on a task: policy=ws://HOST:PORT task=NAME episodes=N seed=S",
        description="Run seeded closed-loop episodes of a task against a policy; results "
        "in OUT/episodes.jsonl and OUT/summary.json (success rate with Wilson 95 % CI; "
        "server failures counted apart as infra errors). Exit 0 when every episode ran, 1 "
        "when some hit infrastructure errors (re-run to resume), 3 for bad input.",
        example="twin eval policy policy=ws://127.0.0.1:8000 task=panda_pick_cube "
        "episodes=75 seed=0")
    add_config_command(
        sub, "serve", schema="twin.policy.server.ServeConfig", func=run_eval_serve,
        help="serve a policy over websockets: policy=python:MODULE:FACTORY port=8000",
        description="Serve a Python policy over openpi's websocket protocol (msgpack-numpy). "
        "Binds 127.0.0.1 unless host= says otherwise; with token= clients must send "
        "'Authorization: Api-Key TOKEN' (HTTP 401 otherwise); GET /healthz answers 200.",
        example="twin eval serve policy=python:my_module:make_policy port=8000")
