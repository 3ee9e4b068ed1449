"""``TwinVectorEnv``: N environments of one ``BatchedTask`` in one process.

Physics runs in C on a thread pool (``mj_step`` releases the GIL); observations and rewards
are numpy arrays over all N. Episodes reset automatically in the same step they end
(Gymnasium's ``AutoresetMode.SAME_STEP``): the returned observation of a finished env is the
first of its next episode, and ``info["final_obs"]`` / ``info["final_info"]`` hold the last
one, masked by ``info["_final_obs"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from twin.envs.batched_task import BatchedTask


class TwinVectorEnv(VectorEnv):
    metadata = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, task: BatchedTask, render_mode: str | None = None,
                 render_size: tuple[int, int] = (256, 256)):
        self.task = task
        self.num_envs = task.num_envs
        self.single_observation_space = task.observation_space
        self.single_action_space = task.action_space
        self.observation_space = batch_space(task.observation_space, self.num_envs)
        self.action_space = batch_space(task.action_space, self.num_envs)
        self.render_mode = render_mode
        self.render_size = render_size
        self.metadata = dict(self.metadata, render_fps=int(round(1.0 / task.control_dt)))

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None):
        """Seeds follow Gymnasium's vector convention: an int ``s`` seeds env i with s + i."""
        if seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else seed
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed: expected {self.num_envs} seeds, got {len(seeds)}")
            self.task.seed(np.arange(self.num_envs), list(seeds))
        self.task.reset()
        return self.task.observe(), {}

    def step(self, actions):
        r = self.task.step(actions)
        done = r.terminated | r.truncated
        info = dict(r.info)
        if done.any():
            ids = np.flatnonzero(done)
            info["final_obs"] = _copy(r.obs)
            info["final_info"] = {k: np.array(v, copy=True) for k, v in r.info.items()}
            info["_final_obs"] = done.copy()
            info["_final_info"] = done.copy()
            self.task.reset(ids)
            obs = _merge(r.obs, self.task.observe(), done)
        else:
            obs = r.obs
        return obs, r.reward, r.terminated, r.truncated, info

    def render(self):
        if self.render_mode is None:
            return None
        return np.stack([self.task.render(i, *self.render_size) for i in range(self.num_envs)])

    def close_extras(self, **kwargs):
        self.task.close()


def _copy(obs):
    return {k: v.copy() for k, v in obs.items()} if isinstance(obs, dict) else obs.copy()


def _merge(old, new, mask):
    if isinstance(old, dict):
        return {k: _merge(old[k], new[k], mask) for k in old}
    out = np.array(old, copy=True)
    out[mask] = new[mask]
    return out
