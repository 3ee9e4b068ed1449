"""ActionChunk renders camera images only for the observation it returns (the last step of a
chunk, or the step where the episode ends), unless every step's observation is kept."""

import gymnasium as gym
import numpy as np
import pytest

import twin  # noqa: F401
from twin.policy.chunk import ActionChunk
from twin.policy.oracle import OraclePolicy


def _rollout(keep_step_obs: bool, max_episode_steps: int, chunks: int = 4,
             checker: bool = False):
    env = ActionChunk(gym.make("twin/PandaPickCube-v0", image_size=48,
                               max_episode_steps=max_episode_steps,
                               disable_env_checker=not checker),
                      execute_steps=3, keep_step_obs=keep_step_obs)
    backend = env.unwrapped.task.backend
    calls = []
    render = backend.render
    backend.render = lambda *a, **kw: calls.append(a[0]) or render(*a, **kw)
    obs, _ = env.reset(seed=3)
    policy = OraclePolicy(env.unwrapped.task)
    out = []
    for _ in range(chunks):
        obs, r, te, tr, info = env.step(policy.infer(obs)["actions"])
        out.append((obs, r, te, tr, len(info["step_rewards"])))
        if te or tr:
            break
    env.close()
    return out, calls


def _assert_same(a, b):
    assert len(a) == len(b)
    for (oa, ra, tea, tra, na), (ob, rb, teb, trb, nb) in zip(a, b):
        assert (ra, tea, tra, na) == (rb, teb, trb, nb)
        assert oa.keys() == ob.keys() and oa["images"].keys() == ob["images"].keys()
        for c in oa["images"]:
            np.testing.assert_array_equal(oa["images"][c], ob["images"][c])
        np.testing.assert_array_equal(oa["joint_pos"], ob["joint_pos"])


def test_chunk_renders_only_the_observation_it_returns():
    deferred, calls_d = _rollout(keep_step_obs=False, max_episode_steps=100)
    kept, calls_k = _rollout(keep_step_obs=True, max_episode_steps=100)
    _assert_same(deferred, kept)
    cameras = 2
    # reset + 4 chunks: 1 + 4 renders per camera, against 1 + 12 when every step is kept
    assert len(calls_d) == cameras * (1 + 4) and len(calls_k) == cameras * (1 + 12)
    # Gymnasium's passive checker validates the first step's observation against the space,
    # so the first chunk renders every step
    checked, calls_c = _rollout(keep_step_obs=False, max_episode_steps=100, checker=True)
    _assert_same(checked, kept)
    assert len(calls_c) == cameras * (1 + 3 + 3)


def test_episode_ending_inside_a_chunk_still_returns_images():
    # TimeLimit ends the episode on step 4, the first step of the second chunk
    deferred, calls_d = _rollout(keep_step_obs=False, max_episode_steps=4)
    kept, _ = _rollout(keep_step_obs=True, max_episode_steps=4)
    assert deferred[-1][3] and deferred[-1][4] == 1
    _assert_same(deferred, kept)
    assert len(calls_d) == 2 * 3  # reset, end of chunk 1, the re-observation after step 4


def test_a_failed_step_does_not_leave_images_deferred():
    env = gym.make("twin/PandaPickCube-v0", image_size=48, disable_env_checker=True)
    env.reset(seed=0)
    assert env.unwrapped.defer_images()
    with pytest.raises(ValueError, match="action"):
        env.step(np.zeros(3))
    obs, *_ = env.step(np.zeros(7, np.float32))
    assert obs["images"]["third_person"].shape == (48, 48, 3)
    env.close()


def test_state_only_envs_have_nothing_to_defer():
    env = gym.make("twin/PandaPickCube-v0", obs_mode="state", disable_env_checker=True)
    env.reset(seed=0)
    assert env.unwrapped.defer_images() is False
    env.close()
