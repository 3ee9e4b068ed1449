"""Task terms are configs, not inline constants: changing a weight changes exactly its term."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from twin.envs.g1_stand import G1StandTask, StandConfig
from twin.envs.tracking.terms import (
    Kernel,
    TerminationThresholds,
    TrackingRewardConfig,
    reward_terms,
    termination_reasons,
    total_reward,
)


def _rewards(stand: StandConfig) -> np.ndarray:
    task = G1StandTask(num_envs=2, stand=stand)
    task.seed(np.arange(2), [4, 5])
    task.reset()
    rng = np.random.default_rng(0)
    out = [task.step(rng.normal(0, 0.5, (2, 29))).reward for _ in range(20)]
    task.close()
    return np.array(out)


def test_stand_alive_weight_shifts_every_step_by_itself():
    base = _rewards(StandConfig())
    shifted = _rewards(replace(StandConfig(), alive=0.0))
    np.testing.assert_allclose(base - shifted, 1.0, atol=1e-12)


def test_tracking_terms_are_gaussian_kernels_and_ordered_checks():
    e = {"anchor_pos_m": np.array([0.0, 0.3]), "anchor_ori_rad": np.zeros(2),
         "body_pos_m": np.zeros((2, 3)), "body_ori_rad": np.zeros((2, 3)),
         "body_lin_vel": np.zeros((2, 3)), "body_ang_vel": np.zeros((2, 3)),
         "anchor_height_m": np.array([0.3, 0.0]), "tilt": np.array([0.9, 0.0]),
         "ee_height_m": np.array([0.3, 0.3])}
    a = np.zeros((2, 4))
    terms = reward_terms(e, a, a + 1.0, np.zeros(2), TrackingRewardConfig())
    assert terms["anchor_pos"][0] == 0.5 and terms["anchor_pos"][1] == 0.5 * np.exp(-1.0)
    np.testing.assert_allclose(terms["action_rate"], -0.4)  # 0.1 x four unit changes
    cfg = replace(TrackingRewardConfig(), anchor_pos=Kernel(2.0, 0.3))
    t2 = reward_terms(e, a, a, np.zeros(2), cfg)
    assert t2["anchor_pos"][0] == 2.0 and total_reward(t2)[0] == 2.0 + 0.5 + 4.0
    reasons = termination_reasons(e, TerminationThresholds())
    assert list(reasons) == ["anchor_height", "ee_height"]  # height wins over tilt and ee
