"""``gym.make("twin/G1Stand-v0", backend="newton")``: the same task on Newton's physics."""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest

import twin  # noqa: F401  (registers the envs)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("newton") is None,
    reason="newton not installed (pip install newton warp-lang mujoco-warp==4.0.0 trimesh)")


def test_g1_stand_runs_on_newton_like_on_mujoco():
    envs = {name: gym.make("twin/G1Stand-v0", backend=name) for name in ("mujoco", "newton")}
    obs = {name: env.reset(seed=5)[0] for name, env in envs.items()}
    np.testing.assert_allclose(obs["newton"], obs["mujoco"], atol=1e-5)  # same start
    zero = np.zeros(envs["mujoco"].action_space.shape, dtype=np.float32)
    heights = {}
    for name, env in envs.items():
        for _ in range(25):  # 0.5 s holding the default pose
            o, _, terminated, _, info = env.step(zero)
            assert not terminated and np.isfinite(o).all()
        heights[name] = info["pelvis_height_m"]
        obs[name] = o
        env.close()
    assert heights["newton"] == pytest.approx(heights["mujoco"], abs=5e-3)
    assert envs["newton"].observation_space.contains(obs["newton"])
