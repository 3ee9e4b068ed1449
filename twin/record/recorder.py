"""Gymnasium recorders: turn ``reset``/``step`` results into LeRobot v3.0 episodes.

This module owns the mapping from what an env returns to LeRobot's per-frame features, and
the bookkeeping of when episodes start and end, for one env (``RecordEpisodes``, a
``gymnasium.Wrapper``) and for a batched one (``RecordVectorEpisodes``, a
``gymnasium.vector.VectorWrapper``, plus ``record_vector_env`` to drive it with a policy).
Recorders see nothing but observations, the action passed to ``step``, rewards,
terminated/truncated flags and ``info["is_success"]``.

Frame t follows LeRobot's convention: ``observation.*`` is what the policy saw before
acting, ``action`` what it did, and ``next.reward``/``next.done``/``next.success`` what the
step returned. The observation after the last action of an episode is not a frame.

Features written: ``observation.images.<cam>`` (mp4), ``observation.state``, any extra
observation arrays and videos under names you choose (e.g.
``observation.environment_state``, ``observation.prompts.<cam>.skeleton``),
``action``, ``next.reward`` (float32), ``next.done``, ``next.success`` (bool), and the index
features the writer adds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from twin.record.features import FeatureError, FeatureSpec, video_feature
from twin.record.video import VideoEncoding
from twin.record.writer import EpisodeBuffer, LeRobotV3Writer, SavedEpisode

logger = logging.getLogger(__name__)

ObsPath = str | tuple[str, ...]


def _lookup(tree: Any, path: ObsPath, what: str) -> Any:
    keys = (path,) if isinstance(path, str) else tuple(path)
    node = tree
    for k in keys:
        try:
            node = node[k]
        except (KeyError, TypeError, IndexError):
            raise FeatureError(
                f"{what}: observation has no {'/'.join(keys)!r} (missing {k!r})"
            ) from None
    return node


def _camera_paths(camera_keys: Mapping[str, ObsPath] | Sequence[str]) -> dict[str, ObsPath]:
    if isinstance(camera_keys, Mapping):
        return dict(camera_keys)
    return {k: k for k in camera_keys}


def features_from_spaces(
    observation_space: spaces.Space,
    action_space: spaces.Space,
    *,
    camera_keys: Mapping[str, ObsPath] | Sequence[str],
    state_key: ObsPath | None,
    extra_keys: Mapping[str, ObsPath] | None = None,
    state_names: Sequence[str] | None = None,
    action_names: Sequence[str] | None = None,
    video_keys: Mapping[str, ObsPath] | None = None,
    extra_names: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, FeatureSpec]:
    """Declare the recorded features from an env's (single-env) spaces.

    ``video_keys`` (dataset feature name -> observation key) declares further video features
    under names of your choosing (e.g. ``observation.prompts.front.skeleton``);
    ``extra_names`` gives element names of 1-D ``extra_keys`` features.
    """
    features: dict[str, FeatureSpec] = {}
    videos = {
        f"observation.images.{cam}": (path, f"camera {cam!r}")
        for cam, path in _camera_paths(camera_keys).items()
    }
    videos.update({name: (path, f"video {name!r}") for name, path in (video_keys or {}).items()})
    for name, (path, what) in videos.items():
        space = _lookup(observation_space, path, what)
        if (
            not isinstance(space, spaces.Box)
            or space.dtype != np.uint8
            or len(space.shape) != 3
            or space.shape[2] != 3
        ):
            raise FeatureError(
                f"{what} ({path!r}): expected a uint8 Box of shape (H, W, 3), got {space}"
            )
        features[name] = video_feature(space.shape[0], space.shape[1])
    if state_key is not None:
        space = _lookup(observation_space, state_key, "state_key")
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise FeatureError(f"state_key {state_key!r}: expected a 1-D Box, got {space}")
        features["observation.state"] = FeatureSpec(str(space.dtype), space.shape, state_names)
    for name, path in (extra_keys or {}).items():
        space = _lookup(observation_space, path, f"extra_keys[{name!r}]")
        if not isinstance(space, spaces.Box):
            raise FeatureError(f"extra_keys[{name!r}] ({path!r}): expected a Box, got {space}")
        shape = space.shape if space.shape else (1,)
        features[name] = FeatureSpec(str(space.dtype), shape, (extra_names or {}).get(name))
    if isinstance(action_space, spaces.Box):
        shape = action_space.shape if action_space.shape else (1,)
        features["action"] = FeatureSpec(str(action_space.dtype), shape, action_names)
    elif isinstance(action_space, spaces.Discrete):
        features["action"] = FeatureSpec("int64", (1,), action_names)
    else:
        raise FeatureError(f"action space {action_space}: expected Box or Discrete")
    features["next.reward"] = FeatureSpec("float32", (1,))
    features["next.done"] = FeatureSpec("bool", (1,))
    features["next.success"] = FeatureSpec("bool", (1,))
    return features


class _FrameBuilder:
    """Builds one frame dict from a single env's observation, action and step result."""

    def __init__(
        self,
        camera_keys: Mapping[str, ObsPath] | Sequence[str],
        state_key: ObsPath | None,
        extra_keys: Mapping[str, ObsPath] | None,
        video_keys: Mapping[str, ObsPath] | None = None,
    ) -> None:
        self.cameras = _camera_paths(camera_keys)
        self.state_key = state_key
        self.extra_keys = dict(extra_keys or {})
        self.video_keys = dict(video_keys or {})

    def __call__(
        self, obs: Any, action: Any, reward: float, done: bool, success: bool
    ) -> dict[str, Any]:
        frame: dict[str, Any] = {
            f"observation.images.{cam}": _lookup(obs, path, f"camera {cam!r}")
            for cam, path in self.cameras.items()
        }
        for name, path in self.video_keys.items():
            frame[name] = _lookup(obs, path, f"video {name!r}")
        if self.state_key is not None:
            frame["observation.state"] = _lookup(obs, self.state_key, "state_key")
        for name, path in self.extra_keys.items():
            frame[name] = _lookup(obs, path, f"extra_keys[{name!r}]")
        frame["action"] = action
        frame["next.reward"] = np.float32(reward)
        frame["next.done"] = bool(done)
        frame["next.success"] = bool(success)
        return frame


def _builder_and_writer(observation_space, action_space, metadata, root, fps, robot_type,
                        resume, video, camera_keys, state_key, extra_keys, state_names,
                        action_names, video_keys, extra_names, writer_kwargs,
                        ) -> tuple[_FrameBuilder, LeRobotV3Writer]:
    """The frame builder and the dataset writer both recorders use (one env's spaces)."""
    features = features_from_spaces(
        observation_space, action_space, camera_keys=camera_keys, state_key=state_key,
        extra_keys=extra_keys, state_names=state_names, action_names=action_names,
        video_keys=video_keys, extra_names=extra_names)
    builder = _FrameBuilder(camera_keys, state_key, extra_keys, video_keys)
    writer = LeRobotV3Writer(root, _fps_of(metadata, fps), features, robot_type, resume=resume,
                             video=video, **writer_kwargs)
    return builder, writer


def _fps_of(env_metadata: Mapping[str, Any], fps: int | None) -> int:
    fps = fps if fps is not None else env_metadata.get("render_fps")
    if fps is None:
        raise ValueError("fps: pass fps=..., the env's metadata has no 'render_fps'")
    return int(fps)


class RecordEpisodes(gym.Wrapper):
    """Record every episode of ``env`` into a LeRobot v3.0 dataset at ``root``.

    An episode is saved when ``step`` returns terminated or truncated, with
    ``success = info["is_success"]`` of that step. A ``reset`` in the middle of an episode
    saves the partial episode if ``save_unfinished`` (its last frame marked done), else drops
    it; ``close`` does the same, then finalizes the dataset.

    Args:
        env: any Gymnasium env with a Dict observation space.
        root: dataset directory (see ``LeRobotV3Writer``).
        task: language instruction stored with each episode; change ``self.task`` between
            episodes to vary it.
        camera_keys: camera name -> observation key (or nested key tuple), or a list of
            top-level keys used as names; recorded as ``observation.images.<name>``.
        state_key: observation key of the state vector, or None.
        extra_keys: dataset feature name -> observation key, for further arrays.
        video_keys: dataset feature name -> observation key, for further uint8 (H, W, 3)
            videos under any name (e.g. visual action prompts).
        extra_names: dataset feature name -> element names, for 1-D ``extra_keys``.
        fps: recording rate; defaults to ``env.metadata["render_fps"]``.
        writer_kwargs: passed to ``LeRobotV3Writer`` (chunks_size, file size limits).
    """

    def __init__(
        self,
        env: gym.Env,
        root: str | Path,
        *,
        task: str,
        camera_keys: Mapping[str, ObsPath] | Sequence[str] = (),
        state_key: ObsPath | None = "state",
        extra_keys: Mapping[str, ObsPath] | None = None,
        state_names: Sequence[str] | None = None,
        action_names: Sequence[str] | None = None,
        video_keys: Mapping[str, ObsPath] | None = None,
        extra_names: Mapping[str, Sequence[str]] | None = None,
        fps: int | None = None,
        robot_type: str | None = None,
        resume: bool = False,
        video: VideoEncoding | None = None,
        save_unfinished: bool = False,
        **writer_kwargs: Any,
    ) -> None:
        super().__init__(env)
        self.task = task
        self.save_unfinished = save_unfinished
        self._build, self.writer = _builder_and_writer(
            env.observation_space, env.action_space, env.metadata, root, fps, robot_type,
            resume, video, camera_keys, state_key, extra_keys, state_names, action_names,
            video_keys, extra_names, writer_kwargs)
        self.saved: list[SavedEpisode] = []
        self._obs: Any = None

    def _flush_unfinished(self) -> None:
        """Save or drop a partial episode (reset before done, or close)."""
        buf = self.writer.current_episode
        if buf is None or buf.num_frames == 0:
            return
        if self.save_unfinished:
            buf.replace_last("next.done", True)
            success = bool(buf.last("next.success"))
            self.saved.append(self.writer.save_episode(self.task, success))
        else:
            logger.info("dropping an unfinished episode of %d frames", buf.num_frames)
            self.writer.discard_episode()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._flush_unfinished()
        obs, info = self.env.reset(seed=seed, options=options)
        self._obs = obs
        return obs, info

    def step(self, action: Any):
        if self._obs is None:
            raise RuntimeError("RecordEpisodes.step: call reset() first (the episode ended)")
        obs, reward, terminated, truncated, info = self.env.step(action)
        done = bool(terminated or truncated)
        success = bool(info.get("is_success", False))
        self.writer.add_frame(self._build(self._obs, action, float(reward), done, success))
        if done:
            self.saved.append(self.writer.save_episode(self.task, success))
            self._obs = None
        else:
            self._obs = obs
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        try:
            self._flush_unfinished()
        finally:
            self.writer.finalize()
            super().close()


def _info_at(info: Mapping[str, Any], key: str, i: int, default: Any) -> Any:
    """Env i's ``info[key]`` from a vector env's batched info dict."""
    if key not in info:
        return default
    mask = info.get(f"_{key}")
    if mask is not None and not mask[i]:
        return default
    return info[key][i]


def _obs_at(obs: Any, i: int) -> Any:
    if isinstance(obs, Mapping):
        return {k: _obs_at(v, i) for k, v in obs.items()}
    return obs[i]


class RecordVectorEpisodes(VectorWrapper):
    """Record the episodes of all sub-envs of a vector env; each has its own buffer.

    Episodes finish at different times and are numbered in the order they finish. Works
    with the NEXT_STEP (Gymnasium's default) and SAME_STEP autoreset modes, and with
    DISABLED when the caller resets finished envs via ``reset(options={"reset_mask": m})``.
    ``max_episodes`` stops recording (further steps pass through) once that many episodes
    are saved. Unfinished episodes are dropped at ``close``.
    """

    def __init__(
        self,
        envs: VectorEnv,
        root: str | Path,
        *,
        task: str,
        camera_keys: Mapping[str, ObsPath] | Sequence[str] = (),
        state_key: ObsPath | None = "state",
        extra_keys: Mapping[str, ObsPath] | None = None,
        state_names: Sequence[str] | None = None,
        action_names: Sequence[str] | None = None,
        video_keys: Mapping[str, ObsPath] | None = None,
        extra_names: Mapping[str, Sequence[str]] | None = None,
        fps: int | None = None,
        robot_type: str | None = None,
        resume: bool = False,
        video: VideoEncoding | None = None,
        max_episodes: int | None = None,
        task_key: ObsPath | None = None,
        **writer_kwargs: Any,
    ) -> None:
        super().__init__(envs)
        self.task = task
        self.task_key = task_key  # read each episode's task from its first observation
        self.max_episodes = max_episodes
        self.autoreset_mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        self._build, self.writer = _builder_and_writer(
            envs.single_observation_space, envs.single_action_space, envs.metadata, root, fps, robot_type,
            resume, video, camera_keys, state_key, extra_keys, state_names, action_names,
            video_keys, extra_names, writer_kwargs)
        self.saved: list[SavedEpisode] = []
        n = envs.num_envs
        self._buffers: list[EpisodeBuffer | None] = [None] * n
        self._episode_task: list[str | None] = [None] * n
        self._obs: Any = None
        self._resetting = np.zeros(n, dtype=bool)  # NEXT_STEP: next step() resets env i

    @property
    def done_recording(self) -> bool:
        return self.max_episodes is not None and len(self.saved) >= self.max_episodes

    def _restart(self, i: int) -> None:
        buf = self._buffers[i]
        if buf is not None and not buf.closed:
            self.writer.discard_episode(buf)
        self._buffers[i] = None if self.done_recording else self.writer.new_episode()
        self._episode_task[i] = None

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        mask = (options or {}).get("reset_mask")  # read first: SyncVectorEnv pops it
        obs, info = self.env.reset(seed=seed, options=options)
        envs_reset = range(self.num_envs) if mask is None else np.flatnonzero(mask)
        for i in envs_reset:
            self._restart(int(i))
            self._resetting[i] = False
        self._obs = obs
        return obs, info

    def step(self, actions: Any):
        if self._obs is None:
            raise RuntimeError("RecordVectorEpisodes.step: call reset() first")
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        same_step = self.autoreset_mode == AutoresetMode.SAME_STEP
        for i in range(self.num_envs):
            if self._resetting[i]:  # NEXT_STEP: this step only reset env i
                self._resetting[i] = False
                self._restart(i)
                continue
            buf = self._buffers[i]
            done = bool(terminated[i] or truncated[i])
            if buf is not None:
                step_info = info.get("final_info", {}) if (same_step and done) else info
                success = bool(_info_at(step_info, "is_success", i, False))
                action_i = _obs_at(actions, i)
                if self.task_key is not None and self._episode_task[i] is None:
                    self._episode_task[i] = str(_lookup(_obs_at(self._obs, i), self.task_key,
                                                        "task_key"))
                buf.add_frame(
                    self._build(_obs_at(self._obs, i), action_i, float(rewards[i]), done, success)
                )
                if done and self.done_recording:  # several envs finished in this step
                    self.writer.discard_episode(buf)
                elif done:
                    task = self._episode_task[i] or self.task
                    self.saved.append(self.writer.save_episode(task, success, buffer=buf))
            if done:
                if self.autoreset_mode == AutoresetMode.NEXT_STEP:
                    self._resetting[i] = True
                elif same_step:
                    self._restart(i)
                else:  # DISABLED: the caller resets env i with a reset_mask
                    self._buffers[i] = None
        self._obs = obs
        return obs, rewards, terminated, truncated, info

    def close(self, **kwargs: Any) -> None:
        try:
            self.writer.finalize()
        finally:
            super().close(**kwargs)


def record_vector_env(
    envs: VectorEnv,
    policy: Callable[[Any], np.ndarray],
    root: str | Path,
    *,
    num_episodes: int,
    task: str,
    seed: int | None = None,
    max_steps: int = 1_000_000,
    **recorder_kwargs: Any,
) -> list[SavedEpisode]:
    """Step ``envs`` with ``policy(batched_obs) -> batched_actions`` until ``num_episodes``
    episodes are saved at ``root``; return them in the order they finished."""
    rec = RecordVectorEpisodes(envs, root, task=task, max_episodes=num_episodes, **recorder_kwargs)
    try:
        obs, _ = rec.reset(seed=seed)
        for _ in range(max_steps):
            if rec.done_recording:
                break
            obs, *_ = rec.step(policy(obs))
        else:
            raise RuntimeError(
                f"record_vector_env: {len(rec.saved)} of {num_episodes} episodes after "
                f"{max_steps} steps"
            )
        return list(rec.saved)
    finally:
        rec.writer.finalize()
