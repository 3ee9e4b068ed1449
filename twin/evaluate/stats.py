"""Statistics for success rates and their relation to other per-episode quantities."""

from __future__ import annotations

import math

import numpy as np


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054
                    ) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % by default); (0, 1) when n = 0."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, {n}], got {successes}")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def point_biserial(values: np.ndarray, success: np.ndarray) -> float | None:
    """Pearson correlation between a continuous score and a 0/1 outcome (None if either is
    constant or fewer than 3 episodes)."""
    v = np.asarray(values, dtype=np.float64)
    s = np.asarray(success, dtype=np.float64)
    if v.size < 3 or np.std(v) == 0 or np.std(s) == 0:
        return None
    return float(np.corrcoef(v, s)[0, 1])
