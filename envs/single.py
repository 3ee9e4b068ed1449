"""``TwinEnv``: a Gymnasium ``Env`` that runs a ``BatchedTask`` with one environment."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from twin.envs.batched_task import BatchedTask


def _first(x):
    """Environment 0's entry of a batched array, or of every array in a (nested) dict."""
    if type(x) is np.ndarray:  # the common case first: no conversion to check
        return x[0]
    if isinstance(x, dict):
        return {k: v[0] if type(v) is np.ndarray else _first(v) for k, v in x.items()}
    return np.asarray(x)[0]


class TwinEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, task: BatchedTask, render_mode: str | None = None,
                 render_size: tuple[int, int] = (256, 256)):
        if task.num_envs != 1:
            raise ValueError(f"TwinEnv runs one environment, the task has {task.num_envs}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r}; expected None or 'rgb_array'")
        self.task = task
        self.observation_space = task.observation_space
        self.action_space = task.action_space
        self.render_mode = render_mode
        self.render_size = render_size
        self.metadata = dict(self.metadata, render_fps=int(round(1.0 / task.control_dt)))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.task.seed(np.array([0]), [seed])
        self.task.reset()
        return _first(self.task.observe()), {}

    def step(self, action):
        r = self.task.step(np.asarray(action)[None])
        info = {}
        for k, v in r.info.items():  # one pass: env 0's entry, numpy scalars as Python ones
            v = v[0] if type(v) is np.ndarray else _first(v)
            info[k] = v.item() if isinstance(v, np.generic) else v
        return (_first(r.obs), float(r.reward[0]), bool(r.terminated[0]), bool(r.truncated[0]),
                info)

    def observe(self):
        """The current observation, complete (e.g. after a step with deferred images)."""
        return _first(self.task.observe())

    def defer_images(self) -> bool:
        """Leave camera images out of the next ``step``'s observation; see
        ``BatchedTask.defer_images``."""
        return self.task.defer_images()

    def render(self):
        if self.render_mode is None:
            return None
        return self.task.render(0, *self.render_size)

    def close(self):
        self.task.close()
