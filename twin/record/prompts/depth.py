"""Agent-only depth as an 8-bit grey video: the encoding, its inverse, and its precision.

Depth maps travel as video features so that action-to-video models read them like any
other conditioning video. Encoding (``DepthEncoding``): camera depth d (m, along the
optical axis) of agent pixels maps linearly onto grey levels 1..255 over
``[near_m, far_m]`` (clipped), ``grey = 1 + round(254 (d - near) / (far - near))``; pixels
without the agent are 0. R = G = B = grey: only the luma plane carries information, which
video codecs (yuv420p) compress most gently. One level is (far - near) / 254 (1.97 cm for
the default 0.1..5.1 m).

Precision after AV1/h264 compression is a few levels inside the agent's silhouette
(measured in ``tests/record/test_prompts.py``) and worse on its border. Exact per-pixel
depth can always be re-rendered from the logged ``observation.sim.qpos`` with
``twin.record.prompts.prompts_from_state``, and exact keypoint depths are stored as
``observation.prompts.<cam>.keypoint_depth``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DepthEncoding:
    near_m: float = 0.1
    far_m: float = 5.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.near_m < self.far_m:
            raise ValueError(f"depth range [{self.near_m}, {self.far_m}] m: need 0 <= near < far")

    @property
    def step_m(self) -> float:
        """Depth of one grey level, m."""
        return (self.far_m - self.near_m) / 254.0

    def encode(self, depth_m: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(H, W) depth (m) and agent mask -> (H, W, 3) uint8 grey image (0 = no agent)."""
        x = (np.asarray(depth_m, dtype=np.float64) - self.near_m) / self.step_m
        grey = (1 + np.clip(np.round(x), 0, 254)).astype(np.uint8)
        grey = np.where(mask, grey, 0).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)

    def decode(self, image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """(H, W, 3) or (H, W) grey image -> (H, W) float32 depth (m), 0 off the agent.

        ``mask`` (e.g. the decoded mask video > 127) selects agent pixels; without it, grey
        levels >= 1 count (after lossy compression, pass the mask).
        """
        img = np.asarray(image, dtype=np.float64)
        grey = img.mean(axis=2) if img.ndim == 3 else img
        on = grey >= 0.5 if mask is None else np.asarray(mask, dtype=bool)
        depth = self.near_m + (np.clip(grey, 1.0, 255.0) - 1.0) * self.step_m
        return np.where(on, depth, 0.0).astype(np.float32)

    def to_json(self) -> dict:
        return {"encoding": "grey_linear", "near_m": self.near_m, "far_m": self.far_m,
                "zero_means": "no agent",
                "decode": "depth_m = near_m + (grey - 1) * (far_m - near_m) / 254"}
