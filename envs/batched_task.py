"""The core of every twin env: one task, simulated for N environments at once.

A ``BatchedTask`` owns a ``SimBackend`` with N copies of its scene, one numpy random
generator per environment, and computes observations, rewards and terminations for all N
with vectorised numpy. ``TwinEnv`` (Gymnasium ``Env``) runs it with N=1 and
``TwinVectorEnv`` with N>1, so a vector env and N single envs seeded alike produce the same
trajectories.

Subclasses implement ``_reset_envs``, ``_apply_action``, ``_observe`` and ``_evaluate``.
Divergence (NaN, explosion) ends an episode with ``info["termination"] == "nan"``; it never
raises into the caller.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

from twin.sim.backend import SimBackend


@dataclass
class StepResult:
    """Per-env results of one control step (arrays over the N environments)."""

    obs: np.ndarray | dict[str, np.ndarray]
    reward: np.ndarray  # (N,) float64
    terminated: np.ndarray  # (N,) bool
    truncated: np.ndarray  # (N,) bool
    info: dict[str, np.ndarray] = field(default_factory=dict)  # each value (N, ...)


class BatchedTask(ABC):
    """A task over ``backend.num_envs`` environments. Control period = dt * decimation."""

    observation_space: gym.Space  # of ONE environment
    action_space: gym.Space  # of ONE environment
    render_camera: str | None = None
    # Set by ``defer_images`` for one step: that step's observation leaves out camera images
    # (tasks without images ignore it). ``ActionChunk`` uses it for the steps inside a chunk
    # whose observations nobody reads.
    images_deferred: bool = False

    def __init__(self, backend: SimBackend, decimation: int, max_episode_steps: int | None):
        self.backend = backend
        self.num_envs = backend.num_envs
        self.decimation = int(decimation)
        self.control_dt = backend.physics_dt * self.decimation
        self.max_episode_steps = max_episode_steps
        self.episode_steps = np.zeros(self.num_envs, dtype=np.int64)
        self.rngs = [np.random.default_rng() for _ in range(self.num_envs)]

    # --- hooks ---------------------------------------------------------------------------
    @abstractmethod
    def _reset_envs(self, env_ids: np.ndarray) -> None:
        """Sample and set initial states of ``env_ids`` using ``self.rngs[i]``."""

    @abstractmethod
    def _apply_action(self, action: np.ndarray) -> None:
        """Turn (N, A) actions into backend controls (called once per control step)."""

    @abstractmethod
    def _observe(self) -> np.ndarray | dict[str, np.ndarray]:
        """Observations of all N envs."""

    @abstractmethod
    def _evaluate(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(reward (N,), terminated (N,), info arrays) after the physics step."""

    def _time_out(self) -> np.ndarray:
        """(N,) bool: episodes that end for a task-specific time reason (e.g. clip end)."""
        return np.zeros(self.num_envs, dtype=bool)

    # --- driver --------------------------------------------------------------------------
    def seed(self, env_ids: np.ndarray, seeds: list[int | None]) -> None:
        for i, s in zip(env_ids, seeds):
            self.rngs[i] = np.random.default_rng(s)

    def reset(self, env_ids: np.ndarray | None = None) -> None:
        ids = np.arange(self.num_envs) if env_ids is None else np.asarray(env_ids)
        self.episode_steps[ids] = 0
        self.images_deferred = False
        self._reset_envs(ids)

    def validate_action(self, action: np.ndarray) -> np.ndarray:
        shape = (self.num_envs,) + tuple(self.action_space.shape)
        a = np.asarray(action)
        if a.shape != shape:
            raise ValueError(f"action: expected shape {shape}, got {a.shape}")
        if a.dtype.kind not in "iuf":  # complex is a np.number, but has no real meaning here
            raise ValueError(f"action: expected a real numeric dtype, got {a.dtype}")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError("action: contains NaN or Inf")
        return a

    def step(self, action: np.ndarray) -> StepResult:
        try:
            return self._step(action)
        finally:
            self.images_deferred = False  # one step only, also when the step raised

    def _step(self, action: np.ndarray) -> StepResult:
        self._apply_action(self.validate_action(action))
        self.backend.step(self.decimation)
        self.episode_steps += 1
        diverged = self.backend.diverged()
        reward, terminated, info = self._evaluate()
        reason = info.pop("termination_reason", "terminated")
        # count_nonzero(x) > 0 is x.any() for a fraction of its cost (once per step)
        any_diverged = np.count_nonzero(diverged) > 0
        if any_diverged or np.count_nonzero(terminated):
            termination = np.where(terminated, reason, "")  # string arrays only when used
            if any_diverged:  # a blown-up state carries no meaningful reward or observation
                reward = np.where(diverged, 0.0, reward)
                terminated = terminated | diverged
                termination = np.where(diverged, "nan", termination)
                info["is_success"] = np.where(diverged, False, info.get("is_success", False))
        else:
            termination = np.array([""] * self.num_envs)
        truncated = self._time_out()
        if self.max_episode_steps is not None:
            truncated = truncated | (self.episode_steps >= self.max_episode_steps)
        truncated = truncated & ~terminated
        info["termination"] = termination
        obs = self._observe()
        if any_diverged:
            obs = _sanitize(obs, diverged)
        return StepResult(obs, reward.astype(np.float64), terminated, truncated, info)

    def observe(self) -> np.ndarray | dict[str, np.ndarray]:
        return self._observe()

    def defer_images(self) -> bool:
        """Leave camera images out of the next step's observation (its state part is
        complete); ``observe()`` afterwards gives the full one. False: the task has no images,
        so there is nothing to defer."""
        return False

    def render(self, env_id: int = 0, width: int = 256, height: int = 256) -> np.ndarray:
        if self.render_camera is None:
            raise RuntimeError(f"{type(self).__name__} has no camera to render from")
        return self.backend.render(self.render_camera, width, height, "rgb", env_id)

    def close(self) -> None:
        self.backend.close()


def _sanitize(obs, diverged: np.ndarray):
    """Replace observations of diverged envs by zeros so learners never see NaN."""
    if not diverged.any():
        return obs
    if isinstance(obs, dict):
        return {k: _sanitize(v, diverged) for k, v in obs.items()}
    if not np.issubdtype(np.asarray(obs).dtype, np.floating):
        return obs
    obs = np.array(obs, copy=True)
    obs[diverged] = 0.0
    return obs
