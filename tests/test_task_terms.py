"""Task terms are configs, not inline constants: changing a weight changes exactly its term."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

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


REACH_GOLDEN = Path(__file__).resolve().parent / "golden" / "panda_reach_rollout.json"


def reach_rollout() -> dict[str, list]:
    """Three seeded envs under small random actions; env 0's target is moved 3 cm from its
    tool-centre point after the reset so that the success bonus is part of the record."""
    from twin.envs.panda_reach import PandaReachTask

    task = PandaReachTask(num_envs=3, num_threads=1)
    task.seed(np.arange(3), [21, 22, 23])
    task.reset()
    task.target_pos[0] = task.backend.site_pos_w(task.tcp)[0, 0] + [0.03, 0.0, 0.0]
    rng = np.random.default_rng(3)
    w = np.random.default_rng(4).normal(size=task.observation_space.shape[0])
    out: dict[str, list] = {"obs": [], "reward": [], "is_success": []}
    for _ in range(40):
        r = task.step(rng.uniform(-0.3, 0.3, (3, 7)))
        out["obs"].append((np.asarray(r.obs, np.float64) @ w).round(9).tolist())
        out["reward"].append(np.asarray(r.reward, np.float64).round(12).tolist())
        out["is_success"].append(np.asarray(r.info["is_success"]).astype(int).tolist())
    task.close()
    return out


def test_reach_rollout_matches_the_stored_one():
    got = reach_rollout()
    if os.environ.get("TWIN_WRITE_GOLDEN"):
        REACH_GOLDEN.write_text(json.dumps(got))
    want = json.loads(REACH_GOLDEN.read_text())
    assert sum(s[0] for s in want["is_success"]) >= 5  # the success bonus is exercised
    np.testing.assert_allclose(got["obs"], want["obs"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["reward"], want["reward"], rtol=0, atol=1e-12)
    assert got["is_success"] == want["is_success"]
