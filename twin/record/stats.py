"""Normalisation statistics in LeRobot's form: per episode, and pooled over the dataset.

This module owns the numbers in ``meta/stats.json`` and in the ``stats/<feature>/<stat>``
columns of ``meta/episodes``: min, max, mean, std, count and the quantiles q01, q10, q50,
q90, q99. Vectors get per-element stats of shape (D,), scalars (1,); videos get per-channel
stats of shape (3, 1, 1) on pixel values scaled to [0, 1], from at most 100 frames spread
over the episode (as LeRobot samples them). Episode quantiles are exact (``np.quantile``)
where LeRobot uses a 5000-bin histogram; pooled quantiles are the count-weighted mean of
episode quantiles, as in LeRobot's ``aggregate_stats``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
QUANTILE_KEYS = tuple(f"q{round(q * 100):02d}" for q in QUANTILES)
STAT_KEYS = ("min", "max", "mean", "std", "count", *QUANTILE_KEYS)

MAX_SAMPLED_FRAMES = 100

FeatureStats = dict[str, np.ndarray]


def _stats_over_axis0(samples: np.ndarray, count: int) -> FeatureStats:
    """Stats of (N, ...) samples over axis 0; ``count`` is what LeRobot reports as count."""
    x = samples.astype(np.float64)
    stats: FeatureStats = {
        "min": x.min(axis=0),
        "max": x.max(axis=0),
        "mean": x.mean(axis=0),
        "std": x.std(axis=0),
        "count": np.array([count], dtype=np.int64),
    }
    if x.shape[0] < 2:
        for k in QUANTILE_KEYS:
            stats[k] = stats["mean"].copy()
    else:
        qs = np.quantile(x, QUANTILES, axis=0)
        for k, q in zip(QUANTILE_KEYS, qs, strict=True):
            stats[k] = q
    return stats


def vector_stats(values: np.ndarray) -> FeatureStats:
    """Stats of one episode's (T,) or (T, *shape) values, element-wise."""
    if values.ndim == 1:
        values = values[:, None]  # scalars: stats of shape (1,), as LeRobot's keepdims
    return _stats_over_axis0(values, count=values.shape[0])


def sample_indices(num_frames: int) -> np.ndarray:
    """Up to ``MAX_SAMPLED_FRAMES`` frame indices spread evenly over an episode."""
    n = min(num_frames, MAX_SAMPLED_FRAMES)
    return np.round(np.linspace(0, num_frames - 1, n)).astype(int)


def video_stats(thumbnails: np.ndarray) -> FeatureStats:
    """Per-channel stats of sampled uint8 frames (N, h, w, 3), scaled to [0, 1], (3, 1, 1)."""
    n = thumbnails.shape[0]
    pixels = thumbnails.reshape(-1, 3).astype(np.float64) / 255.0
    stats = _stats_over_axis0(pixels, count=n)
    return {k: v if k == "count" else v.reshape(3, 1, 1) for k, v in stats.items()}


def aggregate(stats_list: Sequence[Mapping[str, FeatureStats]]) -> dict[str, FeatureStats]:
    """Pool per-episode stats: exact min/max/mean/std, count-weighted mean of quantiles."""
    keys = {k for s in stats_list for k in s}
    out: dict[str, FeatureStats] = {}
    for key in sorted(keys):
        parts = [s[key] for s in stats_list if key in s]
        counts = np.stack([p["count"] for p in parts]).astype(np.float64)  # (E, 1)
        means = np.stack([p["mean"] for p in parts])
        w = counts.reshape(counts.shape[0], *([1] * (means.ndim - 1)))
        total = counts.sum()
        mean = (means * w).sum(axis=0) / total
        var = ((np.stack([p["std"] for p in parts]) ** 2 + (means - mean) ** 2) * w).sum(
            axis=0
        ) / total
        pooled: FeatureStats = {
            "min": np.min(np.stack([p["min"] for p in parts]), axis=0),
            "max": np.max(np.stack([p["max"] for p in parts]), axis=0),
            "mean": mean,
            "std": np.sqrt(var),
            "count": np.array([int(total)], dtype=np.int64),
        }
        for q in QUANTILE_KEYS:
            if all(q in p for p in parts):
                pooled[q] = (np.stack([p[q] for p in parts]) * w).sum(axis=0) / total
        out[key] = pooled
    return out


def to_json(stats: Mapping[str, FeatureStats]) -> dict[str, dict[str, Any]]:
    return {k: {s: np.asarray(v).tolist() for s, v in fs.items()} for k, fs in stats.items()}


def from_json(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, FeatureStats]:
    return {k: {s: np.asarray(v) for s, v in fs.items()} for k, fs in raw.items()}


def flatten_episode_stats(stats: Mapping[str, FeatureStats]) -> dict[str, Any]:
    """``{"stats/<feature>/<stat>": nested list}``: the columns LeRobot writes per episode."""
    return {
        f"stats/{k}/{s}": np.asarray(v).tolist() for k, fs in stats.items() for s, v in fs.items()
    }


def unflatten_episode_stats(row: Mapping[str, Any]) -> dict[str, FeatureStats]:
    out: dict[str, FeatureStats] = {}
    for col, value in row.items():
        if not col.startswith("stats/") or value is None:
            continue
        feature, stat = col[len("stats/") :].rsplit("/", 1)
        out.setdefault(feature, {})[stat] = np.asarray(value)
    return out
