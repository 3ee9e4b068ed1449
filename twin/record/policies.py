"""What drives a recorded episode: one spec string, one small interface.

``make_driver(spec, env, ...)`` turns a spec into an ``EpisodeDriver``: ``reset(seed)`` at
the start of every episode, ``__call__(obs) -> (K, D)`` actions for the env's current
observation (a chunk; the recorder executes the first ``execute_steps`` of it). Specs:

- ``random`` / ``zero``: uniform samples of the action space (seeded per episode) / zeros;
- ``oracle``: the task's scripted privileged oracle (``twin.policy.oracle``);
- ``ws://HOST:PORT``: an openpi-protocol policy server (``twin.policy.websocket_client``);
  envs with a flat (Box) observation send it as ``{"state": obs}``;
- ``python:MODULE:FACTORY``: a factory returning a ``Policy`` or a callable;
- ``tracker`` or ``tracker:NAME_OR_PATH``: the learned G1 tracking controller executing the
  env's reference motions (``twin/G1MotionTracking-v0``, ``twin/G1Dex3MotionTracking-v0``).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class EpisodeDriver(Protocol):
    name: str

    def reset(self, seed: int) -> None: ...

    def __call__(self, obs: Any) -> np.ndarray: ...

    def close(self) -> None: ...


class ZeroDriver:
    name = "zero"

    def __init__(self, action_space: Any) -> None:
        self._zero = np.zeros((1, *action_space.shape), dtype=np.float64)

    def reset(self, seed: int) -> None:
        pass

    def __call__(self, obs: Any) -> np.ndarray:
        return self._zero.copy()

    def close(self) -> None:
        pass


class RandomDriver:
    """Uniform in the action space's bounds ([-1, 1] where a bound is infinite)."""

    name = "random"

    def __init__(self, action_space: Any) -> None:
        lo = np.asarray(action_space.low, np.float64)
        hi = np.asarray(action_space.high, np.float64)
        self.low = np.where(np.isfinite(lo), lo, -1.0)
        self.high = np.where(np.isfinite(hi), hi, 1.0)
        self._rng = np.random.default_rng(0)

    def reset(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def __call__(self, obs: Any) -> np.ndarray:
        return self._rng.uniform(self.low, self.high)[None]

    def close(self) -> None:
        pass


class PolicyDriver:
    """A ``twin.policy.Policy`` (oracle, server, callable): checked (K, D) chunks."""

    def __init__(self, policy: Any, action_dim: int, name: str) -> None:
        self.policy = policy
        self.action_dim = action_dim
        self.name = name

    def reset(self, seed: int) -> None:
        self.policy.reset()

    def __call__(self, obs: Any) -> np.ndarray:
        from twin.policy.base import validate_policy_output

        if not isinstance(obs, dict):  # a flat observation travels as a map, like openpi's
            obs = {"state": np.asarray(obs)}
        return validate_policy_output(self.policy.infer(obs), self.action_dim)["actions"]

    def close(self) -> None:
        self.policy.close()


class TrackerDriver:
    """A ``TrackingController`` on one tracking env's proprioceptive observation."""

    def __init__(self, controller: Any, name: str) -> None:
        self.controller = controller
        self.name = name

    def reset(self, seed: int) -> None:
        pass

    def __call__(self, obs: Any) -> np.ndarray:
        return np.asarray(self.controller(np.asarray(obs, np.float64)[None]), np.float64)

    def close(self) -> None:
        pass


def tracker_name(spec: str) -> str | None:
    """The tracker a ``tracker[:NAME]`` spec names, else None."""
    if spec == "tracker":
        return "default"
    if spec.startswith("tracker:"):
        return spec[len("tracker:"):]
    return None


def make_driver(spec: str, env: Any, *, timeout_s: float = 30.0,
                controller: Any = None) -> EpisodeDriver:
    """The driver of ``spec`` for single env ``env`` (see the module docstring)."""
    space = env.action_space
    if spec == "zero":
        return ZeroDriver(space)
    if spec == "random":
        return RandomDriver(space)
    if tracker_name(spec) is not None:
        if controller is None:
            raise ValueError(f"policy {spec!r}: the tracker drives only the G1 tracking envs "
                             "(twin/G1MotionTracking-v0, twin/G1Dex3MotionTracking-v0)")
        return TrackerDriver(controller, spec)
    if spec == "oracle" or spec.startswith(("ws://", "wss://", "python:")):
        from twin.evaluate.runner import EvalConfig, make_policy

        cfg = EvalConfig(policy=spec, timeout_s=timeout_s, connect_timeout_s=timeout_s)
        return PolicyDriver(make_policy(spec, env, cfg), int(np.prod(space.shape)), spec)
    raise ValueError(f"policy {spec!r}: expected random, zero, oracle, tracker[:NAME], "
                     "ws://HOST:PORT or python:MODULE:FACTORY")
