"""Foot-locked SMPL walks (GVHMR layout): planted stance feet, the commanded path."""

from __future__ import annotations

import numpy as np
import pytest

from twin.motion.procedural.smpl_walk import WalkSpec, walk_gvhmr, walk_world


def _planted_slip_m(w) -> float:
    """Largest horizontal ankle motion while the ankle is at its standing height."""
    worst = 0.0
    for p in w["feet_w"].values():
        down = p[:, 2] < p[0, 2] + 1e-6
        edges = np.flatnonzero(np.diff(np.concatenate([[0], down.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            worst = max(worst, float(np.linalg.norm(p[a:b, :2] - p[a, :2], axis=1).max()))
    return worst


def test_straight_walk_keeps_stance_feet_planted_and_covers_the_distance():
    spec = WalkSpec(speed_mps=0.8, walk_s=2.2, stand_before_s=0.5, stand_after_s=0.5)
    w = walk_world(spec)
    assert _planted_slip_m(w) < 0.005
    assert w["ik_residual_max_m"] < 0.04
    # 4 steps, the first and last at 1/3 and 2/3 of full length (the planner's ramp): the
    # pelvis covers two full steps of 0.8 m/s * 0.55 s at the G1's scale, times 1.70 / 1.32
    assert w["pelvis_w"][-1, 0] - w["pelvis_w"][0, 0] == pytest.approx(0.88, abs=0.06)
    assert abs(w["pelvis_w"][-1, 1]) < 0.03
    swing = [p[:, 2].max() - p[0, 2] for p in w["feet_w"].values()]
    assert min(swing) == pytest.approx(0.08, abs=0.01)


def test_arc_turns_by_the_commanded_yaw_and_gvhmr_layout_is_complete():
    spec = WalkSpec(speed_mps=0.6, yaw_rate_rad_s=0.5, walk_s=2.2, stand_before_s=0.5,
                    stand_after_s=0.5)
    w = walk_world(spec)
    R = w["root_rot_w"][-1] @ np.linalg.inv(w["root_rot_w"][0])
    yaw = np.arctan2(R[1, 0], R[0, 0])
    assert yaw == pytest.approx(0.5 * 0.55 * 2, abs=np.radians(3))  # two full steps' turn
    assert _planted_slip_m(w) < 0.005
    d = walk_gvhmr(spec)
    T = w["pelvis_w"].shape[0]
    assert d["smpl_params_global"]["body_pose"].shape == (T, 63)
    assert d["smpl_params_incam"]["transl"].shape == (T, 3)
    assert d["K_fullimg"].shape == (T, 3, 3)
