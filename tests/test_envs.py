"""Every registered env is seeded and batches exactly (check_env runs in test_gym_api.py)."""


import gymnasium as gym
import numpy as np
import pytest

from twin.registration import ENV_IDS, REQUIRED_KWARGS

# Ids that need arguments (motions to track) are checked in their own test modules.
IDS = [i for i in ENV_IDS if i not in REQUIRED_KWARGS]


def _assert_equal(a, b):
    """Observations are equal: state arrays exactly; uint8 images to within 1 grey level on
    average with < 0.5 % of pixels off by more than 16 (llvmpipe samples the tiled floor
    texture and shadow maps slightly differently depending on the previous frame drawn; the
    simulated state behind the image is identical)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_equal(a[k], b[k])
    elif np.asarray(a).dtype == np.uint8 and np.asarray(a).ndim >= 3:
        diff = np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16))
        assert diff.mean() < 1.0 and (diff > 16).mean() < 0.005, (diff.mean(), diff.max())
    else:
        np.testing.assert_array_equal(a, b)


def _index(obs, i):
    return {k: _index(v, i) for k, v in obs.items()} if isinstance(obs, dict) else obs[i]


def _rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, _r, te, tr, _info = env.step(a)
        out.append(obs)
        if te or tr:
            break
    return out


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_trajectory(env_id):
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-0.3, 0.3, (30,) + env.action_space.shape).astype(np.float32)
    a, b = _rollout(env, 7, actions), _rollout(env, 7, actions)
    c = _rollout(env, 8, actions)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        _assert_equal(x, y)
    with pytest.raises(AssertionError):
        _assert_equal(a[0], c[0])
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_batched_equals_single_envs(env_id):
    n, steps = 3, 25
    venv = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    rng = np.random.default_rng(1)
    actions = rng.uniform(-0.5, 0.5, (steps, n) + venv.single_action_space.shape)
    vobs, _ = venv.reset(seed=100)
    vtraj, vrew = [vobs], []
    for t in range(steps):
        vobs, r, te, tr, _ = venv.step(actions[t])
        assert not (te | tr).any(), "keep this test inside one episode"
        vtraj.append(vobs)
        vrew.append(r)
    venv.close()
    for i in range(n):
        env = gym.make(env_id)
        obs, _ = env.reset(seed=100 + i)
        _assert_equal(obs, _index(vtraj[0], i))
        for t in range(steps):
            obs, r, *_ = env.step(actions[t, i])
            _assert_equal(obs, _index(vtraj[t + 1], i))
            assert r == pytest.approx(vrew[t][i], rel=1e-12)  # numpy sums may order differently
        env.close()


def test_vector_autoreset_same_step():
    venv = gym.make_vec("twin/G1Stand-v0", num_envs=2, vectorization_mode="vector_entry_point",
                        max_episode_steps=5)
    venv.reset(seed=0)
    for _ in range(4):
        _, _, te, tr, info = venv.step(np.zeros((2, 29)))
    obs, _, _te, tr, info = venv.step(np.zeros((2, 29)))
    assert tr.all() and info["_final_obs"].all()
    assert not np.array_equal(obs, info["final_obs"])  # obs is the next episode's first
    assert venv.task.episode_steps.tolist() == [0, 0]


def test_g1_falls_and_terminates_with_reason():
    env = gym.make("twin/G1Stand-v0")
    env.reset(seed=0)
    for t in range(500):
        _, _, te, _tr, info = env.step(np.zeros(29, np.float32))
        if te:
            break
    assert te and info["termination"] == "fall" and not info["is_success"]
    assert 0.3 < t * 0.02 < 5.0  # soft tracking gains + zero action: down within seconds
    env.close()


def test_divergence_ends_episode_with_nan_reason():
    env = gym.make("twin/PandaReach-v0")
    env.reset(seed=0)
    backend = env.unwrapped.task.backend
    qvel = backend.get_qvel()
    qvel[0, 0] = np.inf
    backend.set_state(backend.get_qpos(), qvel)
    obs, r, te, _tr, info = env.step(np.zeros(7, np.float32))
    assert te and info["termination"] == "nan" and r == 0.0
    assert np.isfinite(obs).all()
    obs, _ = env.reset(seed=1)
    _, _, te, _, _ = env.step(np.zeros(7, np.float32))
    assert not te
    env.close()


@pytest.mark.parametrize("bad,match", [
    (np.zeros(6), r"expected shape \(1, 7\)"),
    (np.array(["a"] * 7), "numeric dtype"),
    (np.full(7, np.nan), "NaN or Inf"),
])
def test_bad_actions_are_clear_errors(bad, match):
    env = gym.make("twin/PandaReach-v0", disable_env_checker=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(bad)
    env.close()


def test_panda_reach_success_when_target_at_tcp():
    env = gym.make("twin/PandaReach-v0")
    obs, _ = env.reset(seed=3)
    task = env.unwrapped.task
    task.target_pos[0] = obs[14:17]  # move the target onto the TCP
    _, r, _, _, info = env.step(np.zeros(7, np.float32))
    assert info["is_success"] and info["distance_m"] < 0.01 and r > 0.99
    env.close()


def test_sb3_adapter_learns_a_few_steps():
    pytest.importorskip("stable_baselines3", reason="stable-baselines3 not installed (train extra)")
    torch = pytest.importorskip("torch")
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_checker import check_env as sb3_check  # noqa: F401
    from stable_baselines3.common.vec_env import VecMonitor
    from twin.envs.sb3 import SB3VecEnv

    torch.set_num_threads(1)
    venv = VecMonitor(SB3VecEnv(gym.make_vec("twin/PandaReach-v0", num_envs=2,
                                             vectorization_mode="vector_entry_point",
                                             max_episode_steps=20)))
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=1, seed=0)
    model.learn(128)
    assert model.num_timesteps == 128
    assert len(model.ep_info_buffer) >= 2  # episodes ended and were logged with terminal obs
    venv.close()
