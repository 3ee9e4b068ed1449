"""``RecordEval``: record the episodes an evaluation runs (``twin eval policy ... record=DIR``).

A ``gymnasium.Wrapper`` around the evaluated single env (inside ``ActionChunk``): every
executed control step becomes a frame (cameras, extrinsics and, with ``prompts``, visual
action prompts for the stored state; the action; reward and flags), and an episode that ends
(terminated or truncated) is saved with its success flag and, as episode columns, its seed,
evaluation episode index (``attempt``), termination reason and policy. An episode cut short
(a policy or server failure, an interruption) is dropped at the next reset; a resumed
evaluation appends to the same dataset (``resume``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

log = logging.getLogger(__name__)


class RecordEval(gym.Wrapper):
    def __init__(self, env: gym.Env, root: str | Path, *, policy: str, base_seed: int = 0,
                 cameras: list[str] | None = None, size: int | tuple[int, int] | None = None,
                 prompts: bool = False) -> None:
        from twin.record import LeRobotV3Writer
        from twin.record.engine import recording_features
        from twin.record.prompts.observation import PROMPTS_META_PATH, _Observer, _task_of

        super().__init__(env)
        self.task_ = _task_of(env)
        # default: the env's own image size (what the evaluated policy saw)
        size = size or getattr(self.task_, "image_size", 256)
        w, h = (size, size) if isinstance(size, int) else size
        self.observer = _Observer(self.task_, cameras, int(w), int(h), prompts, None, None)
        features, self._build = recording_features(self.observer, env.action_space, self.task_)
        fps = int(env.metadata.get("render_fps") or round(1 / self.task_.control_dt))
        robot = getattr(self.task_.backend.robot, "name", None)
        self.writer = LeRobotV3Writer(root, fps, features, robot, resume=True)
        import json

        (Path(root) / PROMPTS_META_PATH).write_text(json.dumps(self.observer.metadata(),
                                                               indent=2))
        self.policy = policy
        self.base_seed = int(base_seed)
        self._obs: Any = None
        self._seed: int | None = None
        self._instruction = ""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        buf = self.writer.current_episode
        if buf is not None and buf.num_frames:
            log.info("record: dropping an unfinished episode of %d frames", buf.num_frames)
            self.writer.discard_episode()
        obs, info = self.env.reset(seed=seed, options=options)
        self._obs, self._seed = obs, seed
        text = ""
        if isinstance(obs, dict) and "instruction" in obs:
            text = str(np.asarray(obs["instruction"]).reshape(-1)[0])
        self._instruction = text or str(self.env.spec.id if self.env.spec else "episode")
        return obs, info

    def step(self, action: Any):
        if self._obs is None:
            raise RuntimeError("RecordEval.step: call reset() first")
        seen = self.observer.observe(self._obs, 0)
        obs, r, te, tr, info = self.env.step(action)
        done = bool(te or tr)
        success = bool(info.get("is_success", False))
        self.writer.add_frame(self._build(seen, action, float(r), done, success))
        if done:
            seed = -1 if self._seed is None else int(self._seed)
            termination = str(info.get("termination", "") or "") or (
                "time_limit" if tr else "terminated")
            self.writer.save_episode(self._instruction, success, metadata={
                "seed": seed, "attempt": seed - self.base_seed if seed >= 0 else -1,
                "termination": termination, "policy": self.policy, "motion": ""})
            self._obs = None
        else:
            self._obs = obs
        return obs, r, te, tr, info

    def close(self) -> None:
        from twin.record.card import write_source_card

        try:
            self.writer.finalize()
            env_id = self.env.spec.id if self.env.spec else type(self.task_).__name__
            write_source_card(self.writer.root, self.observer, env_id,
                              "`twin eval policy ... record=`, `twin.record.eval_hook`", [
                                  f"- env: `{env_id}`, closed-loop evaluation",
                                  f"- policy: `{self.policy}`",
                                  (f"- seeds: evaluation episode i is reset with seed "
                                   f"{self.base_seed} + i (`seed` and `attempt` columns); "
                                   "episodes cut short by a policy or server failure are not "
                                   "recorded")])
            self.observer.close()
        finally:
            super().close()
