"""Helpers for twin.record tests: smooth synthetic frames and a tiny Gymnasium env.

Frames are smooth colour gradients shifted over time, so lossy video stays within a few
grey levels of the original and a decoded frame can be matched to the frame it came from.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from twin.record import FeatureSpec, load_episode, video_feature

FPS = 30
H, W = 64, 64
VIDEO = "observation.images.front"


def smooth_frame(t: float, h: int = H, w: int = W, phase: float = 0.0) -> np.ndarray:
    """uint8 RGB: long-wavelength sine waves moving 3 px per ``t`` over a gradient.

    Smooth enough that AV1/h264 at CRF 30 stay within ~2.5 grey levels, moving enough that
    each decoded frame is nearest to its own original (neighbours differ by ~10 levels).
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 128 + 60 * np.sin(2 * np.pi * (xx + 3.0 * t + phase) / 128)
    g = 128 + 60 * np.sin(2 * np.pi * (yy - 2.1 * t + 0.5 * phase) / 154)
    b = 90 + 80 * (xx + yy) / (h + w)
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


def writer_features(h: int = H, w: int = W) -> dict[str, FeatureSpec]:
    return {
        "observation.images.front": video_feature(h, w),
        "observation.state": FeatureSpec("float32", (6,), tuple(f"joint{i}" for i in range(6))),
        "observation.keypoints": FeatureSpec("float32", (5, 2)),
        "observation.keypoints_visible": FeatureSpec("bool", (5,)),
        "action": FeatureSpec("float32", (6,)),
        "next.done": FeatureSpec("bool", (1,)),
    }


def make_episode(rng: np.random.Generator, length: int, phase: float) -> list[dict]:
    frames = []
    for t in range(length):
        frames.append(
            {
                "observation.images.front": smooth_frame(t, phase=phase),
                "observation.state": rng.normal(size=6).astype(np.float32),
                "observation.keypoints": rng.uniform(0, 64, size=(5, 2)).astype(np.float32),
                "observation.keypoints_visible": rng.random(5) > 0.3,
                "action": rng.normal(size=6),  # float64: the writer casts to float32
                "next.done": t == length - 1,
            }
        )
    return frames


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under root (hidden scratch/staging files excluded)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def assert_episode_matches(root: Path, index: int, frames: list[dict]) -> float:
    """Exact parquet values, decoded video within a few grey levels; returns video MAE."""
    ep = load_episode(root, index)
    n = len(frames)
    assert ep.length == n
    for key in ("observation.state", "observation.keypoints", "observation.keypoints_visible"):
        np.testing.assert_array_equal(ep.data[key], np.stack([f[key] for f in frames]))
    np.testing.assert_array_equal(
        ep.data["action"], np.stack([f["action"] for f in frames]).astype(np.float32)
    )
    np.testing.assert_array_equal(ep.data["next.done"], [f["next.done"] for f in frames])
    np.testing.assert_array_equal(ep.data["frame_index"], np.arange(n))
    np.testing.assert_array_equal(ep.data["timestamp"], (np.arange(n) / FPS).astype(np.float32))
    np.testing.assert_array_equal(ep.data["episode_index"], np.full(n, index))
    original = np.stack([f[VIDEO] for f in frames]).astype(np.int16)
    decoded = ep.frames[VIDEO]
    assert decoded.shape == (n, H, W, 3) and decoded.dtype == np.uint8
    mae = float(np.abs(decoded.astype(np.int16) - original).mean())
    assert mae < 3.0, f"episode {index}: video MAE {mae:.2f} grey levels"
    return mae


class SmoothCameraEnv(gym.Env):
    """A 6-D state random walk seen by one 64x64 camera; episodes of random length.

    The state's first three entries are (env_id, episode counter, t), so a recorded frame
    says which env and episode it came from; the image is ``smooth_frame(t, phase)`` with a
    phase per (env, episode), so decoded video can be matched to its state.
    Success: the episode number is even.
    """

    metadata: ClassVar[dict] = {"render_fps": FPS}

    def __init__(self, env_id: int = 0, min_len: int = 4, max_len: int = 12):
        self.env_id = env_id
        self.min_len, self.max_len = min_len, max_len
        self.observation_space = spaces.Dict(
            {
                "front": spaces.Box(0, 255, (H, W, 3), np.uint8),
                "state": spaces.Box(-np.inf, np.inf, (6,), np.float64),
            }
        )
        self.action_space = spaces.Box(-1, 1, (6,), np.float32)
        self.episode = -1

    def phase(self) -> float:
        return 7.0 * self.env_id + 13.0 * self.episode

    def _obs(self) -> dict:
        state = np.concatenate([[self.env_id, self.episode, self.t], self._walk])
        return {"front": smooth_frame(self.t, phase=self.phase()), "state": state}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        self.length = int(self.np_random.integers(self.min_len, self.max_len + 1))
        self._walk = self.np_random.normal(size=3)
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        self._walk = self._walk + 0.1 * np.asarray(action[:3], dtype=np.float64)
        terminated = self.t >= self.length
        return self._obs(), float(self.t), terminated, False, {"is_success": self.episode % 2 == 0}
