"""The tracking task's observations, critic observations, rewards and terminations are those
of a stored rollout (domain randomisation on, random actions, resets inside): refactors of
the task must keep them bit for bit (the shipped tracker was trained on them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "tracking_rollout.json"
CLIPS = HERE.parents[1] / "assets" / "motions" / "heldout_small"


def rollout() -> dict[str, list]:
    from twin.envs.tracking.g1_tracking import G1TrackingTask, load_motions

    task = G1TrackingTask(load_motions(CLIPS), num_envs=3, gains="stiff", dr=True,
                          critic_obs=True, num_threads=1)
    task.seed(np.arange(3), [11, 12, 13])
    task.reset()
    rng = np.random.default_rng(5)
    w = np.random.default_rng(9).normal(size=task.observation_space.shape[0])
    out: dict[str, list] = {"obs": [], "reward": [], "terminated": [], "reason": []}
    for _ in range(80):
        r = task.step(rng.normal(0.0, 8.0, (3,) + task.action_space.shape))
        out["obs"].append((np.asarray(r.obs, np.float64) @ w).round(9).tolist())
        out["reward"].append(np.asarray(r.reward, np.float64).round(12).tolist())
        out["terminated"].append(np.asarray(r.terminated).astype(int).tolist())
        out["reason"].append([str(x) for x in r.info["termination"]])
    task.close()
    return out


def test_rollout_matches_the_stored_one():
    got = rollout()
    if os.environ.get("TWIN_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got))
    want = json.loads(GOLDEN.read_text())
    assert sum(map(sum, want["terminated"])) >= 1  # the rollout covers terminations + resets
    np.testing.assert_allclose(got["obs"], want["obs"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["reward"], want["reward"], rtol=0, atol=1e-12)
    assert got["terminated"] == want["terminated"] and got["reason"] == want["reason"]
