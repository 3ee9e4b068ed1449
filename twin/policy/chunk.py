"""``ActionChunk``: run (K, D) action chunks in a single Gymnasium env (VideoVLA / openpi
style: execute the first ``m`` of ``K`` actions, then re-plan).

``step(chunk)`` executes up to ``execute_steps`` actions (fewer if the episode ends) and
returns the observation after them, the summed reward, and the episode flags; ``info``
holds the last step's info plus ``step_rewards`` (list) and ``step_infos`` (list of dicts),
and with ``keep_step_obs`` every intermediate observation (``step_obs``).
Without ``keep_step_obs``, nobody reads the observations inside a chunk, so when the env
supports it (twin's envs, wrapped only in wrappers that pass observations through) the
steps before the last render no camera images: the last step's observation, or the one
where the episode ends, is complete. Physics, rewards and infos are unchanged; a chunk of 3
renders once instead of three times.
With ``temporal_ensemble`` (ACT's scheme), each executed action is the weighted mean of
every stored chunk's prediction for that time step, weights exp(-k * age_index) with the
oldest prediction weighted most, as ACT does.
"""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import numpy as np
from gymnasium import wrappers

# Wrappers that hand the inner env's observations through unchanged (the passive env
# checker only after its first step, which checks the observation against the space).
_OBS_TRANSPARENT = (wrappers.TimeLimit, wrappers.OrderEnforcing,
                    wrappers.RecordEpisodeStatistics)


def _image_deferral_target(env: gym.Env):
    """The unwrapped env if images can be deferred through ``env``'s wrappers, else None."""
    w = env
    while isinstance(w, gym.Wrapper):
        if isinstance(w, wrappers.PassiveEnvChecker):
            if not w.checked_step:
                return None
        elif type(w) not in _OBS_TRANSPARENT:  # not subclasses: they may change observations
            return None
        w = w.env
    return w if hasattr(w, "defer_images") and hasattr(w, "observe") else None


class ActionChunk(gym.Wrapper):
    def __init__(self, env: gym.Env, execute_steps: int = 3, temporal_ensemble: bool = False,
                 ensemble_k: float = 0.01, keep_step_obs: bool = False):
        super().__init__(env)
        self.keep_step_obs = keep_step_obs  # info["step_obs"]: every intermediate observation
        if execute_steps < 1:
            raise ValueError(f"execute_steps must be >= 1, got {execute_steps}")
        self.execute_steps = int(execute_steps)
        self.temporal_ensemble = temporal_ensemble
        self.ensemble_k = float(ensemble_k)
        self.action_dim = int(np.prod(env.action_space.shape))
        # the wrapped env's action dtype and shape, read once (each read walks the wrappers)
        self._act_dtype = env.action_space.dtype
        self._act_shape = tuple(env.action_space.shape)
        self._t = 0
        self._chunks: deque[tuple[int, np.ndarray]] = deque()

    def reset(self, **kwargs):
        self._t = 0
        self._chunks.clear()
        return self.env.reset(**kwargs)

    def _check(self, chunk) -> np.ndarray:
        a = np.asarray(chunk)
        if a.ndim == 1 and a.shape[0] == self.action_dim:
            a = a[None]
        if a.ndim != 2 or a.shape[1] != self.action_dim or a.shape[0] < 1:
            raise ValueError(f"action chunk: expected shape (K, {self.action_dim}), got "
                             f"{a.shape}")
        if a.dtype.kind not in "fiu":  # np.floating or np.integer (not complex, not timedelta)
            raise ValueError(f"action chunk: expected a numeric dtype, got {a.dtype}")
        return a.astype(np.float64)

    def _ensembled(self, t: int) -> np.ndarray:
        preds = [c[t - t0] for t0, c in self._chunks if 0 <= t - t0 < len(c)]
        w = np.exp(-self.ensemble_k * np.arange(len(preds)))  # oldest first
        return (w[:, None] * np.asarray(preds)).sum(0) / w.sum()

    def step(self, chunk):
        a = self._check(chunk)
        if self.temporal_ensemble:
            self._chunks.append((self._t, a))
            while self._chunks and self._chunks[0][0] + len(self._chunks[0][1]) <= self._t:
                self._chunks.popleft()
        rewards, infos, step_obs = [], [], []
        obs = None
        terminated = truncated = False
        info: dict = {}
        dtype, shape = self._act_dtype, self._act_shape
        n = min(self.execute_steps, len(a))
        if not self.temporal_ensemble:  # convert the executed actions once per chunk
            acts = a[:n].astype(dtype).reshape((n,) + shape)
        inner = None if self.keep_step_obs or n == 1 else _image_deferral_target(self.env)
        deferred = False
        for k in range(n):
            if self.temporal_ensemble:
                act = np.asarray(self._ensembled(self._t), dtype=dtype).reshape(shape)
            else:
                act = acts[k]
            if inner is not None and k < n - 1:
                deferred = inner.defer_images()
            obs, r, terminated, truncated, info = self.env.step(act)
            self._t += 1
            rewards.append(float(r))
            infos.append(info)
            if self.keep_step_obs:
                step_obs.append(obs)
            if terminated or truncated:
                break
        if deferred and k < n - 1:  # the episode ended on a step that rendered nothing
            obs = inner.observe()
        info = dict(info)
        info["step_rewards"] = rewards
        info["step_infos"] = infos
        if self.keep_step_obs:
            info["step_obs"] = step_obs
        return obs, float(sum(rewards)), terminated, truncated, info
