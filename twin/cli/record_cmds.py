"""``twin record ENV_ID -o DIR --episodes N``: roll out a policy and write a LeRobot v3.0 dataset.

``twin record twin/PandaReach-v0 -o data/reach --episodes 10 --policy random --prompts``
makes the batched env (``--num-envs``), adds the cameras (``--cameras``, default every camera
of the scene, ``--size`` pixels square) and with ``--prompts`` the visual action prompts
(skeleton, agent mask, agent depth, keypoints, camera parameters; see
``twin.record.prompts``), drives it with a zero or seeded uniform-random policy, and records
finished episodes with ``twin.record.record_vector_env``. ``--env-arg key=value`` passes
keyword arguments to the env (values parsed as JSON when they parse, e.g.
``--env-arg max_episode_steps=50``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def add_record_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="record env rollouts as a LeRobotDataset v3.0",
                       description=__doc__.splitlines()[0])
    p.add_argument("env_id", help="Gymnasium id (see `twin envs`)")
    p.add_argument("-o", "--output", type=Path, required=True, help="dataset directory")
    p.add_argument("--episodes", type=int, required=True, help="episodes to record")
    p.add_argument("--policy", choices=("random", "zero"), default="random")
    p.add_argument("--cameras", nargs="+", default=None, help="camera names (default: all)")
    p.add_argument("--prompts", action="store_true", help="also record visual action prompts")
    p.add_argument("--size", type=int, default=256, help="square image side, pixels (even)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-envs", type=int, default=1)
    p.add_argument("--task", default=None, help="language instruction (default: the env id)")
    p.add_argument("--codec", default=None, help="ffmpeg video encoder (default LeRobot's AV1)")
    p.add_argument("--render-profile", choices=("full", "fast"), default=None,
                   help="renderer profile (default: the env's)")
    p.add_argument("--depth-range", type=float, nargs=2, default=None, metavar=("NEAR", "FAR"),
                   help="metres mapped onto the depth prompt's grey levels (default 0.1 5.1)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument for the env (repeatable)")
    p.add_argument("--max-steps", type=int, default=100_000,
                   help="give up after this many vector steps")
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


def make_policy(kind: str, action_space: Any, seed: int) -> Callable[[Any], np.ndarray]:
    """Batched policy: zeros, or uniform samples of the (batched) action space, seeded."""
    if kind == "zero":
        return lambda obs: np.zeros(action_space.shape, dtype=action_space.dtype)
    if kind == "random":
        action_space.seed(seed)
        return lambda obs: action_space.sample()
    raise ValueError(f"policy {kind!r}: expected 'random' or 'zero'")


def run_record(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from twin.record import VideoEncoding, record_vector_env
    from twin.record.prompts import CameraObservations, DepthEncoding, write_prompts_metadata
    from twin.registration import ENV_IDS

    if args.env_id not in ENV_IDS:
        raise KeyError(f"unknown env {args.env_id!r}; expected one of {list(ENV_IDS)}")
    if args.episodes < 1 or args.num_envs < 1:
        raise ValueError("--episodes and --num-envs must be >= 1")
    if args.size < 2 or args.size % 2:
        raise ValueError(f"--size {args.size}: must be a positive even number (video encoding)")
    env_kwargs = parse_env_args(args.env_arg)
    if args.render_profile:
        env_kwargs.setdefault("render_profile", args.render_profile)
    depth = DepthEncoding(*args.depth_range) if args.depth_range else DepthEncoding()
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs,
                        vectorization_mode="vector_entry_point", **env_kwargs)
    wrapped = CameraObservations(envs, args.cameras, args.size, args.size,
                                 prompts=args.prompts, depth_encoding=depth)
    robot = wrapped.observer.backend.scene.robot.name if hasattr(
        wrapped.observer.backend, "scene") else None
    try:
        saved = record_vector_env(
            wrapped, make_policy(args.policy, wrapped.action_space, args.seed), args.output,
            num_episodes=args.episodes, task=args.task or args.env_id, seed=args.seed,
            max_steps=args.max_steps, robot_type=robot,
            video=VideoEncoding(codec=args.codec) if args.codec else None,
            **wrapped.recorder_kwargs(),
        )
        write_prompts_metadata(args.output, wrapped)
    finally:
        wrapped.close()
    frames = sum(s.length for s in saved)
    print(f"wrote {len(saved)} episodes ({frames} frames, cameras "
          f"{', '.join(wrapped.observer.cameras)}{', with prompts' if args.prompts else ''}) "
          f"to {args.output}")
    return 0
