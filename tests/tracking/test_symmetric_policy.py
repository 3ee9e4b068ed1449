"""The symmetric-by-construction actor-critic (``symmetric_policy=true``): its actions and
values are their own mirror images', its statistics stay symmetric while it trains, it
starts as the init tracker's mirror average and exports as a mirror-averaged tracker."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from twin.controllers.tracking_policy import TrackingController

import twin.train.tracker as tt
from twin.motion.mirror import SignedPermutation
from twin.train.symmetric_policy import renormalize_first_layers
from twin.train.symmetry import symmetric_statistics

WALK = "assets/motions/heldout_small_real/amp_walk_forward_loop_002__A024.npz"
RESIDUAL = "tests/fixtures/residual_tracker_16m.npz"  # the conftest's frozen residual_tracker


def _config(run_dir, *extra):
    return tt.load_train_config([
        f"motions={WALK}", f"init={RESIDUAL}", f"run_dir={run_dir}", "num_envs=4",
        "ppo.n_steps=16", "ppo.batch_size=32", "checkpoint_every_env_steps=100000",
        "symmetric_policy=true", *extra])


def _walk_observations(ctrl: TrackingController, steps: int = 20) -> np.ndarray:
    from twin.envs.tracking.g1_tracking import G1TrackingTask, load_motions

    task = G1TrackingTask(load_motions(WALK), num_envs=4, critic_obs=False, dr=False,
                          gains=ctrl.metadata.gains, action_mode=ctrl.metadata.action_mode)
    task.seed(np.arange(4), [0, 1, 2, 3])  # start times: fixed, so the tests are repeatable
    task.reset()
    obs = [task.observe()]
    for _ in range(steps):
        obs.append(task.step(ctrl(obs[-1])).obs)
    task.close()
    return np.concatenate(obs)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two PPO updates of the symmetric policy from the frozen residual tracker."""
    run = tmp_path_factory.mktemp("symmetric")
    out = tt.train(_config(run, "total_env_steps=128", "ppo.learning_rate=1e-3"),
                   progress_bar=False)
    return run, out


def test_it_starts_as_the_init_trackers_mirror_average(tmp_path):
    """Zero env-steps: the exported tracker is the init (mirror-averaged) one, although
    the observation statistics were re-pooled with their mirror images and the first
    layers re-expressed for them."""
    start = TrackingController.load(tt.train(_config(tmp_path, "total_env_steps=0"),
                                             progress_bar=False))
    init = TrackingController.load(RESIDUAL)
    assert start.metadata.mirror_average
    assert np.abs(start.obs_mean - init.obs_mean).max() > 1e-3  # the statistics moved
    obs = _walk_observations(init)
    np.testing.assert_allclose(start(obs), init(obs), atol=2e-5)
    assert np.abs(init(obs)).max() > 0.5


def test_the_trained_policy_is_its_own_mirror_image(trained):
    from stable_baselines3 import PPO

    run, _ = trained
    model = PPO.load(run / "checkpoints" / "latest.zip", device="cpu")
    policy = model.policy
    obs_m = SignedPermutation(np.array(policy.obs_mirror[0]), np.array(policy.obs_mirror[1]))
    act_m = SignedPermutation(np.array(policy.action_mirror[0]),
                              np.array(policy.action_mirror[1]))
    x = np.random.default_rng(0).uniform(-3, 3, (64, len(obs_m.source)))
    with torch.no_grad():
        def mean_value(obs):
            t = torch.as_tensor(obs, dtype=torch.float32)
            dist = policy.get_distribution(t).distribution
            return dist.mean.numpy(), dist.stddev.numpy(), policy.predict_values(t).numpy()
        mean, std, value = mean_value(x)
        mean_m, std_m, value_m = mean_value(obs_m.apply(x))
    np.testing.assert_allclose(mean_m, act_m.apply(mean), atol=1e-5)
    np.testing.assert_allclose(std_m, std[:, act_m.source], atol=1e-6)
    # the stored log-std is the one in use (symmetric since the init was loaded)
    log_std = policy.log_std.detach().numpy()
    np.testing.assert_allclose(log_std[act_m.source], log_std, atol=1e-6)
    np.testing.assert_allclose(np.exp(log_std), std[0], rtol=1e-5)
    np.testing.assert_allclose(value_m, value, atol=1e-4)
    # the network alone is not symmetric: the average does the work
    net = policy.action_net
    h = policy.mlp_extractor.forward_actor(torch.as_tensor(x, dtype=torch.float32))
    own = torch.nn.functional.linear(h[:, :net.in_features], net.weight, net.bias)
    assert np.abs(own.detach().numpy() - mean).max() > 0.05
    # the observation statistics stayed symmetric through two rollouts
    stats = np.load(run / "checkpoints" / "latest_obs_rms.npz")
    np.testing.assert_allclose(obs_m.apply(stats["mean"]), stats["mean"], atol=1e-9)
    np.testing.assert_allclose(stats["var"][obs_m.source], stats["var"], rtol=1e-9)
    assert stats["count"] > 1e6  # the init's 1e6 plus the rollouts' samples and mirror images


def test_the_export_runs_the_trained_average(trained):
    """The numpy tracker (raw observation, its own normalisation, the mirror average in the
    raw space) gives the torch policy's deterministic action."""
    from stable_baselines3 import PPO

    run, out = trained
    ctrl = TrackingController.load(out)
    assert ctrl.metadata.mirror_average and ctrl.metadata.training["env_steps"] == 128
    model = PPO.load(run / "checkpoints" / "latest.zip", device="cpu")
    stats = np.load(run / "checkpoints" / "latest_obs_rms.npz")
    raw = _walk_observations(ctrl, steps=5)
    d = ctrl.metadata.obs_dim
    norm = np.clip((raw - stats["mean"][:d]) / np.sqrt(stats["var"][:d] + 1e-8), -10, 10)
    full = np.zeros((len(raw), len(stats["mean"])), np.float32)
    full[:, :d] = norm  # the critic's inputs do not reach the actor
    with torch.no_grad():
        want = model.policy.get_distribution(torch.as_tensor(full)).distribution.mean.numpy()
    np.testing.assert_allclose(ctrl(raw), want, atol=1e-4)


def test_a_symmetric_run_resumes_only_as_one(trained):
    run, _ = trained
    cfg = tt.load_train_config([f"motions={WALK}", f"run_dir={run}", "total_env_steps=128"])
    with pytest.raises(ValueError, match="symmetric_policy=True"):
        tt.train(cfg, progress_bar=False)


def test_mirrored_samples_are_refused_beside_it(tmp_path):
    with pytest.raises(ValueError, match="ppo.symmetry=true adds nothing"):
        tt.train(_config(tmp_path, "ppo.symmetry=true"), progress_bar=False)
    assert not any(tmp_path.iterdir())


def test_pooled_statistics_and_renormalised_layers():
    mirror = SignedPermutation(np.array([1, 0, 2]), np.array([1.0, 1.0, -1.0]))
    mean, var = np.array([1.0, 3.0, 0.5]), np.array([1.0, 4.0, 2.0])
    pooled_mean, pooled_var = symmetric_statistics(mirror, mean, var)
    np.testing.assert_allclose(pooled_mean, [2.0, 2.0, 0.0])
    # entries 0 and 1 pooled: E[x^2] = (1 + 1 + 4 + 9) / 2 = 7.5, minus 2^2; entry 2 flips
    np.testing.assert_allclose(pooled_var, [3.5, 3.5, 2.25])
    samples = np.random.default_rng(1).normal(mean, np.sqrt(var), (200_000, 3))
    both = np.concatenate([samples, mirror.apply(samples)])
    np.testing.assert_allclose(both.mean(0), pooled_mean, atol=0.02)
    np.testing.assert_allclose(both.var(0), pooled_var, rtol=0.02)

    class Policy(torch.nn.Module):
        actor_obs_dim = 2

        def __init__(self):
            super().__init__()
            self.mlp_extractor = torch.nn.Module()
            self.mlp_extractor.policy_net = torch.nn.Sequential(torch.nn.Linear(2, 4))
            self.mlp_extractor.value_net = torch.nn.Sequential(torch.nn.Linear(3, 4))

    policy = Policy()
    raw = torch.as_tensor(samples[:100], dtype=torch.float32)

    def outputs(m, v):
        n = (raw - torch.as_tensor(m, dtype=torch.float32)) / torch.as_tensor(
            np.sqrt(v + 1e-8), dtype=torch.float32)
        ext = policy.mlp_extractor
        return ext.policy_net(n[:, :2]).detach(), ext.value_net(n).detach()

    before = outputs(mean, var)
    renormalize_first_layers(policy, (mean, var), (pooled_mean, pooled_var), 1e-8)
    after = outputs(pooled_mean, pooled_var)
    for b, a in zip(before, after):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
