"""Hand states (open / half-open / closed per hand) -> Dex3-1 joint targets.

Each state selects a preset of ``twin.robots.g1`` (``DEX3_OPEN``, ``DEX3_HALF``,
``DEX3_CLOSED``); switches are smoothed by a centred moving average over
``transition_frames`` frames, i.e. a linear ramp of that length centred on the switch,
so the fingers never jump between presets.
"""

from __future__ import annotations

import numpy as np

from twin.robots.g1 import (
    DEX3_CLOSED,
    DEX3_HALF,
    DEX3_OPEN,
    G1_HAND_JOINT_NAMES,
    G1_LEFT_HAND_JOINT_NAMES,
    G1_RIGHT_HAND_JOINT_NAMES,
)

_PRESETS = (DEX3_OPEN, DEX3_HALF, DEX3_CLOSED)


def preset_table() -> np.ndarray:
    """(3, 14) joint targets, rad: rows open/half/closed, columns ``G1_HAND_JOINT_NAMES``."""
    return np.array([[p.get(n, 0.0) for n in G1_HAND_JOINT_NAMES] for p in _PRESETS])


def hand_joint_targets(hand_state: np.ndarray, transition_frames: int = 5) -> np.ndarray:
    """(T, 2) states (left, right) in {0, 1, 2} -> (T, 14) Dex3-1 targets in
    ``G1_HAND_JOINT_NAMES`` order (left hand's 7 joints, then the right's)."""
    hs = np.asarray(hand_state)
    if hs.ndim != 2 or hs.shape[1] != 2 or not np.isin(hs, (0, 1, 2)).all():
        raise ValueError(f"hand_state has shape {hs.shape} / values {np.unique(hs)[:5]}; "
                         "expected (T, 2) in {0, 1, 2}")
    table = preset_table()
    n_left = len(G1_LEFT_HAND_JOINT_NAMES)
    raw = np.empty((hs.shape[0], len(G1_HAND_JOINT_NAMES)))
    raw[:, :n_left] = table[hs[:, 0].astype(int), :n_left]
    raw[:, n_left:] = table[hs[:, 1].astype(int), n_left:]
    assert len(G1_RIGHT_HAND_JOINT_NAMES) == raw.shape[1] - n_left
    k = int(transition_frames)
    if k <= 1 or hs.shape[0] < 2:
        return raw
    pad_l, pad_r = k // 2, k - 1 - k // 2
    padded = np.concatenate([np.repeat(raw[:1], pad_l, 0), raw, np.repeat(raw[-1:], pad_r, 0)])
    csum = np.cumsum(np.concatenate([np.zeros((1, raw.shape[1])), padded]), axis=0)
    return (csum[k:] - csum[:-k]) / k
