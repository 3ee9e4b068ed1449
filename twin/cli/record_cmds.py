"""``twin record ENV KEY=VALUE...``: record the episodes worth training on (LeRobot v3.0).

``twin record twin/PandaPickCube-v0 out=data/pick episodes=20 policy=oracle prompts=true
only_success=true`` resets attempt k with seed ``seed`` + k, drives the env with the policy
(``random``, ``zero``, ``oracle``, ``ws://HOST:PORT``, ``python:MODULE:FACTORY``, or
``tracker[:NAME]`` on the G1 tracking envs with ``motions=...``), records cameras
(``cameras=[...]``, default every camera of the scene, ``size`` pixels square) and with
``prompts=true`` the visual action prompts, and keeps the episodes that pass the filters
(``only_success``, ``min_length``). ``resume=true`` continues an interrupted or shorter
dataset where its seed sequence stopped. The keys are those of
``twin.record.engine.RecordConfig`` (``--help`` lists them, ``-o DIR`` is short for
``out=DIR``, ``env_kwargs.KEY=VALUE`` passes a keyword argument to the env); every value is
checked before anything is written. The old ``--flag`` spellings still work for a release,
each with a deprecation line.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from twin.cli.grammar import (
    add_config_command,
    add_deprecated_flags,
    deprecated_items,
    parse_config,
)

if TYPE_CHECKING:
    from twin.record.engine import RecordConfig


# flag -> key; each is read for one release, with a deprecation line on stderr.
OLD_FLAGS = {"--output": "out", "--episodes": "episodes", "--policy": "policy",
             "--cameras": "cameras", "--prompts": "prompts", "--size": "size", "--seed": "seed",
             "--workers": "workers", "--task": "task", "--codec": "codec",
             "--render-profile": "render_profile", "--depth-range": "depth_range",
             "--only-success": "only_success", "--min-length": "min_length",
             "--resume": "resume"}
OLD_SWITCHES = ("--prompts", "--only-success", "--resume")  # took no value
OLD_LISTS = {"--cameras": "+", "--depth-range": 2}  # took several values
# --env-arg KEY=VALUE (repeatable, JSON values) -> env_kwargs.KEY=VALUE; these keys were
# gym.make arguments, not env kwargs, and are RecordConfig keys of their own
ENV_ARG_KEYS = ("max_episode_steps",)
ENV_HELP = "Gymnasium id (see `twin envs`) or an eval task preset, as env="
POLICY_FORMS = "random, zero, oracle, ws://HOST:PORT, python:MODULE:FACTORY or tracker[:NAME]"
SEED_MAX = 2**32 - 1
SIZE_MAX_PX = 4096
WORKERS_MAX = 1024


def add_record_commands(sub: argparse._SubParsersAction) -> None:
    p = add_config_command(
        sub, "record", schema="twin.record.engine.RecordConfig", func=run_record,
        help="record env rollouts as a LeRobotDataset v3.0",
        description=__doc__.split("\n\n")[1].replace("``", "`"),
        example="twin record twin/PandaReach-v0 out=ds episodes=10 prompts=true",
        positionals=[("env_id", ENV_HELP)])
    p.add_argument("-o", "--out", dest="out_flag", default=None, metavar="DIR",
                   help="same as out=")
    add_deprecated_flags(p, OLD_FLAGS, OLD_SWITCHES, lists=OLD_LISTS)
    p.add_argument("--env-arg", dest="deprecated_env_arg", action="append", default=[],
                   help=argparse.SUPPRESS)


def env_arg_items(values: list[str]) -> list[str]:
    """``--env-arg KEY=VALUE`` (deprecated) -> ``env_kwargs.KEY=VALUE`` items, one
    deprecation line each."""
    import sys

    from twin.errors import InputError

    items = []
    for value in values:
        key, eq, v = value.partition("=")
        if not eq or not key:
            raise InputError(f"record: --env-arg {value!r}: expected KEY=VALUE")
        item = f"{key}={v}" if key in ENV_ARG_KEYS else f"env_kwargs.{key}={v}"
        print(f"twin record: --env-arg is deprecated; use {item}", file=sys.stderr)
        items.append(item)
    return items


def record_items(args: argparse.Namespace) -> list[str]:
    """The ``KEY=VALUE`` items of a command line: old flags first, then ``-o``, then the
    user's items (the later spelling wins)."""
    items = deprecated_items(args, "record") + env_arg_items(args.deprecated_env_arg)
    if args.out_flag is not None:
        items.append(f"out={args.out_flag}")
    return items + list(args.overrides)


def load_record_config(args: argparse.Namespace) -> RecordConfig:
    """The checked ``RecordConfig`` of a ``twin record`` command line."""
    from twin.record.engine import RecordConfig

    cfg = parse_config(RecordConfig, record_items(args), "record", base={"env": args.env_id})
    check_record_config(cfg)
    return cfg


def _known_env(env: str) -> bool:
    from twin.evaluate.tasks import task_names
    from twin.registration import ENV_IDS

    return env in ENV_IDS or env in task_names() or (
        env.endswith((".yaml", ".yml")) and Path(env).is_file())


def check_record_config(cfg: RecordConfig) -> None:
    """``ConfigError`` naming the first bad key, before the env is built or ``out`` is
    created."""
    import glob

    from twin import checks
    from twin.errors import ConfigError

    if not _known_env(cfg.env):
        from twin.evaluate.tasks import task_names

        raise ConfigError("env", cfg.env, "a registered id (`twin envs`), a task preset ("
                          + ", ".join(task_names()) + ") or a task .yaml file")
    checks.writable_dir("out", cfg.out)
    checks.integer("episodes", cfg.episodes, 1)
    p = cfg.policy
    if not (p in ("random", "zero", "oracle", "tracker") or p.startswith("tracker:")
            or (p.startswith(("ws://", "wss://")) and len(p.split("://", 1)[1]) > 0)
            or (p.startswith("python:") and p.count(":") >= 2)):
        raise ConfigError("policy", p, POLICY_FORMS)
    checks.integer("seed", cfg.seed, 0, SEED_MAX)
    if cfg.cameras is not None and (not cfg.cameras or not all(cfg.cameras)):
        raise ConfigError("cameras", cfg.cameras, "a non-empty list of camera names or null")
    if type(cfg.size) is not int or not 2 <= cfg.size <= SIZE_MAX_PX or cfg.size % 2:
        raise ConfigError("size", cfg.size, f"an even integer in 2..{SIZE_MAX_PX} (video)")
    if cfg.render_profile is not None:
        checks.one_of("render_profile", cfg.render_profile, ("full", "fast"))
    if cfg.depth_range is not None and (len(cfg.depth_range) != 2 or not (
            0 <= cfg.depth_range[0] < cfg.depth_range[1] < float("inf"))):
        raise ConfigError("depth_range", cfg.depth_range, "[near_m, far_m] with 0 <= "
                              "near_m < far_m, or null")
    checks.integer("max_episode_steps", cfg.max_episode_steps, 1, optional=True)
    checks.integer("execute_steps", cfg.execute_steps, 1, optional=True)
    checks.integer("min_length", cfg.min_length, 1)
    checks.integer("max_attempts", cfg.max_attempts, 1, optional=True)
    checks.integer("workers", cfg.workers, 1, WORKERS_MAX)
    if cfg.motions is not None and not (Path(cfg.motions).exists() or glob.glob(cfg.motions)):
        raise ConfigError("motions", cfg.motions, "an existing RobotMotion file, folder or glob")
    checks.number("timeout_s", cfg.timeout_s, 0, lo_open=True)


def run_record(args: argparse.Namespace) -> int:
    from twin.record.engine import record

    cfg = load_record_config(args)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    s = record(cfg)
    rej = ", ".join(f"{v} {k}" for k, v in s.rejected.items()) or "none"
    print(f"wrote {s.episodes} episodes ({s.frames} frames) to {s.out}: {s.attempts} attempts "
          f"so far, {s.successes} successful, rejected {rej}; next attempt {s.next_attempt} "
          f"(seed {cfg.seed + s.next_attempt})")
    if s.episodes < cfg.episodes:
        print(f"only {s.episodes} of {cfg.episodes} episodes after max_attempts; re-run with "
              "resume=true (and a larger max_attempts=) to record the rest")
        return 1
    return 0
