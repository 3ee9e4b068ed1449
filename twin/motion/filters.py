"""One-Euro filtering of per-frame signals (Casiez et al., CHI 2012), in numpy.

Off by default in twin: ExoActor found that smoothing (like retargeting) costs the
positional accuracy that navigation and manipulation need. Use it for jittery
keypoint-lifter output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroConfig:
    """``min_cutoff_hz``: cutoff at rest; ``beta``: speed coefficient (s/m);
    ``d_cutoff_hz``: cutoff of the derivative estimate."""

    min_cutoff_hz: float = 1.0
    beta: float = 0.5
    d_cutoff_hz: float = 1.0


def _alpha(cutoff_hz: np.ndarray | float, fps: float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff_hz))
    return 1.0 / (1.0 + tau * fps)


def one_euro(x: np.ndarray, fps: float, cfg: OneEuroConfig = OneEuroConfig()) -> np.ndarray:
    """Filter a (T, ...) signal along time, causally; returns the same shape."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    out[0] = x[0]
    dx_hat = np.zeros_like(x[0])
    a_d = _alpha(cfg.d_cutoff_hz, fps)
    for t in range(1, x.shape[0]):
        dx = (x[t] - out[t - 1]) * fps
        dx_hat = a_d * dx + (1.0 - a_d) * dx_hat
        a = _alpha(cfg.min_cutoff_hz + cfg.beta * np.abs(dx_hat), fps)
        out[t] = a * x[t] + (1.0 - a) * out[t - 1]
    return out
