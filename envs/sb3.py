"""Adapter from ``TwinVectorEnv`` to stable-baselines3's ``VecEnv``.

SB3 resets finished envs itself in the same step and expects the last observation of a
finished episode in ``infos[i]["terminal_observation"]`` and time-limit truncation in
``infos[i]["TimeLimit.truncated"]``; twin's vector env already autoresets in the same step,
so this adapter only reshapes infos. Import it only where stable-baselines3 is installed
(``pip install twin-sim[train]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv
from twin.envs.vector import TwinVectorEnv


class SB3VecEnv(VecEnv):
    def __init__(self, venv: TwinVectorEnv):
        self.venv = venv
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None
        self._seed: int | None = None

    def reset(self):
        obs, _ = self.venv.reset(seed=self._seed)
        self._seed = None
        return obs

    def seed(self, seed: int | None = None):
        self._seed = seed
        return [None if seed is None else seed + i for i in range(self.num_envs)]

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.venv.step(self._actions)
        done = terminated | truncated
        infos: list[dict[str, Any]] = []
        for i in range(self.num_envs):
            src = info["final_info"] if done[i] else info
            d = {k: _scalar(v[i]) for k, v in src.items() if not k.startswith("_")
                 and k not in ("final_obs", "final_info")}
            if done[i]:
                d["terminal_observation"] = info["final_obs"][i]
                d["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            infos.append(d)
        return obs, reward.astype(np.float32), done, infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self.venv, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
        return [getattr(self.venv, method_name)(*args, **kwargs)] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [self.venv.task.render(i) for i in range(self.num_envs)]

    def _indices(self, indices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)


def _scalar(v):
    return v.item() if isinstance(v, np.generic) else v
