"""``twin record ENV [KEY=VALUE ...]``: record the episodes worth training on (LeRobot v3.0).

``twin record twin/PandaPickCube-v0 -o data/pick --episodes 20 --policy oracle --prompts
only_success=true`` resets attempt k with seed ``--seed`` + k, drives the env with the
policy (``random``, ``zero``, ``oracle``, ``ws://HOST:PORT``, ``python:MODULE:FACTORY``, or
``tracker[:NAME]`` on the G1 tracking envs with ``motions=...``), records cameras
(``--cameras``, default every camera of the scene, ``--size`` pixels square) and with
``--prompts`` the visual action prompts, and keeps the episodes that pass the filters
(``only_success``, ``min_length``). ``--resume`` continues an interrupted or shorter dataset
where its seed sequence stopped. Every ``RecordConfig`` field is also a ``KEY=VALUE``
override (``workers=2``, ``ray_address=auto``, ``max_episode_steps=50`` ...);
``--env-arg key=value`` passes keyword arguments to the env (values parsed as JSON).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path
from typing import Any


def add_record_commands(sub: argparse._SubParsersAction) -> None:
    from twin.cli.grammar import lazy_help

    p = sub.add_parser("record", help="record env rollouts as a LeRobotDataset v3.0",
                       description=__doc__.split("\n\n")[1].replace("``", "`"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.epilog_fn = lazy_help("twin.record.engine.RecordConfig",
                            "Flags and KEY=VALUE set the same RecordConfig keys:")
    p.add_argument("env_id", help="Gymnasium id (see `twin envs`) or an eval task preset")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="RecordConfig fields (policy=, only_success=, min_length=, motions=, "
                        "workers=, ray_address=, ...)")
    p.add_argument("-o", "--output", type=Path, default=None, help="dataset directory")
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes the dataset should hold")
    p.add_argument("--policy", default=None,
                   help="random (default), zero, oracle, ws://HOST:PORT, "
                        "python:MODULE:FACTORY, tracker[:NAME]")
    p.add_argument("--cameras", nargs="+", default=None, help="camera names (default: all)")
    p.add_argument("--prompts", action="store_true", help="also record visual action prompts")
    p.add_argument("--size", type=int, default=None, help="square image side, pixels (even)")
    p.add_argument("--seed", type=int, default=None, help="seed of attempt 0 (default 0)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes running attempts")
    p.add_argument("--task", default=None, help="language instruction (default: the env's)")
    p.add_argument("--codec", default=None, help="ffmpeg video encoder (default LeRobot's AV1)")
    p.add_argument("--render-profile", choices=("full", "fast"), default=None,
                   help="renderer profile (default: the env's)")
    p.add_argument("--depth-range", type=float, nargs=2, default=None, metavar=("NEAR", "FAR"),
                   help="metres mapped onto every camera's depth prompt (default: per camera, "
                        "from the scene)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument for the env (repeatable)")
    p.add_argument("--only-success", action="store_true", help="keep successful episodes only")
    p.add_argument("--min-length", type=int, default=None, help="shortest episode kept (frames)")
    p.add_argument("--resume", action="store_true",
                   help="continue the dataset in --output where its attempts stopped")
    p.set_defaults(func=run_record)


def parse_env_args(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--env-arg {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def parse_overrides(items: list[str], schema: type) -> dict[str, Any]:
    """``KEY=VALUE`` items, typed and checked against the dataclass ``schema`` (OmegaConf);
    returns only the keys given."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    names = {f.name for f in dataclasses.fields(schema)}
    cfg = OmegaConf.structured(schema)
    given: list[str] = []
    for item in items:
        key, eq, _ = item.partition("=")
        if not eq:
            raise ValueError(f"twin record: expected KEY=VALUE, got {item!r}")
        if key.split(".")[0] not in names:
            raise ValueError(f"twin record: unknown key {key!r}; expected one of "
                             f"{sorted(names)}")
        try:
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist([item]))
        except OmegaConfBaseException as exc:
            raise ValueError(f"twin record: {item!r}: {str(exc).splitlines()[0]}") from None
        given.append(key.split(".")[0])
    out = OmegaConf.to_container(cfg, resolve=True)
    return {k: out[k] for k in dict.fromkeys(given)}


def build_config(args: argparse.Namespace):
    """A ``RecordConfig`` from the flags and ``KEY=VALUE`` overrides (overrides win)."""
    from twin.record.engine import RecordConfig

    kw: dict[str, Any] = {"env": args.env_id}
    flags = {"out": args.output, "episodes": args.episodes, "policy": args.policy,
             "cameras": args.cameras, "size": args.size, "seed": args.seed,
             "workers": args.workers, "task": args.task, "codec": args.codec,
             "render_profile": args.render_profile, "min_length": args.min_length,
             "depth_range": list(args.depth_range) if args.depth_range else None}
    kw.update({k: v for k, v in flags.items() if v is not None})
    for name in ("prompts", "only_success", "resume"):
        if getattr(args, name):
            kw[name] = True
    env_kwargs = parse_env_args(args.env_arg)
    if "max_episode_steps" in env_kwargs:  # a gym.make argument, not an env kwarg
        kw["max_episode_steps"] = int(env_kwargs.pop("max_episode_steps"))
    over = parse_overrides(args.overrides, RecordConfig)
    env_kwargs.update(over.pop("env_kwargs", {}) or {})
    kw.update(over)
    kw["env_kwargs"] = env_kwargs
    for k in ("out", "policy", "task", "codec", "ray_address", "motions", "render_profile"):
        if kw.get(k) is not None:
            kw[k] = str(kw[k])
    if "out" not in kw:
        raise ValueError("twin record: give the dataset directory (-o DIR or out=DIR)")
    if "episodes" not in kw:
        raise ValueError("twin record: give the number of episodes (--episodes N or episodes=N)")
    return RecordConfig(**kw)


def run_record(args: argparse.Namespace) -> int:
    from twin.record.engine import record
    from twin.registration import ENV_IDS

    cfg = build_config(args)
    from twin.evaluate.tasks import task_names

    if cfg.env not in ENV_IDS and cfg.env not in task_names() and not cfg.env.endswith(
            (".yaml", ".yml")):
        raise KeyError(f"unknown env {cfg.env!r}; expected one of {list(ENV_IDS)} or a task "
                       f"preset {task_names()}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    s = record(cfg)
    rej = ", ".join(f"{v} {k}" for k, v in s.rejected.items()) or "none"
    print(f"wrote {s.episodes} episodes ({s.frames} frames) to {s.out}: {s.attempts} attempts "
          f"so far, {s.successes} successful, rejected {rej}; next attempt {s.next_attempt} "
          f"(seed {cfg.seed + s.next_attempt})")
    if s.episodes < cfg.episodes:
        print(f"only {s.episodes} of {cfg.episodes} episodes after max_attempts; re-run with "
              "--resume (and a larger max_attempts=) to record the rest")
        return 1
    return 0
