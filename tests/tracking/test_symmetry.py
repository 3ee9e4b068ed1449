"""Left-right symmetry of the tracking task and the PPO update's mirrored samples."""

from __future__ import annotations

import numpy as np
import pytest
from twin.envs.tracking.g1_tracking import G1TrackingTask, load_motions
from twin.envs.tracking.observations import (
    CRITIC_TERMS,
    PROPRIO_TERMS,
    REFERENCE_TERMS,
    TrackingObservationConfig,
)

from twin.motion.mirror import mirror_motion
from twin.train.symmetry import TaskMirror, observation_mirror

WALK = "assets/motions/heldout_small_real/amp_walk_forward_loop_002__A024.npz"


@pytest.fixture(scope="module")
def walks():
    m = load_motions(WALK)[0].frames(0, 150)
    return m, mirror_motion(m)


@pytest.mark.parametrize("action_mode", ["reference_residual", "reference_holding"])
def test_the_mirrored_episode_observes_the_mirrored_observation(walks, action_mode):
    """Env 1 plays the mirror image of env 0's clip with the mirror image of env 0's
    actions: every observation term there is (actor and critic, the optional ones and a
    proprio history too) of env 1 is the mirror image of env 0's, at the start and after
    10 steps of random actions (the model is symmetric to 0.02 mm; start velocities come
    from finite differences)."""
    every_term = TrackingObservationConfig(proprio=tuple(PROPRIO_TERMS),
                                           reference=tuple(REFERENCE_TERMS),
                                           critic=tuple(CRITIC_TERMS), history_steps=(1, 4))
    task = G1TrackingTask(list(walks), num_envs=2, observations=every_term, random_start=False,
                          dr=False, gains="stiff", action_mode=action_mode)
    mirror = TaskMirror.of_task(task)
    task.fixed_clips = np.arange(2)
    task.reset()
    layout = list(task.obs_layout) + list(task.critic_layout)

    def worst_term(obs):
        diff = np.abs(mirror.obs.apply(obs[0]) - obs[1])
        edges = np.cumsum([0] + [w for _, w in layout])
        return max((float(diff[a:b].max()), name) for (name, _), a, b
                   in zip(layout, edges[:-1], edges[1:]))

    assert worst_term(task.observe())[0] < 0.012
    rng = np.random.default_rng(0)
    for _ in range(10):
        a = 0.5 * rng.standard_normal(len(task.body_joint_names))
        r = task.step(np.stack([a, mirror.action.apply(a)]))
    assert not r.terminated.any()
    err, name = worst_term(r.obs)
    assert err < 0.012, name
    # a wrong sign anywhere would show: e.g. not negating the roll/yaw joints
    assert np.abs(r.obs[0] - r.obs[1]).max() > 0.1
    task.close()


def test_a_term_without_a_mirror_rule_is_refused():
    with pytest.raises(ValueError, match="critic.base_lin_vel_b: 4 wide"):
        observation_mirror((("critic.base_lin_vel_b", 4),), "g1", (), (), ())


def test_mirrored_samples_join_each_minibatch(tmp_path, monkeypatch, residual_tracker):
    """The update's first minibatch: the original samples, then their mirror images with
    the same advantages and returns and the collecting policy's own log-probabilities of the
    mirrored actions (so the first gradient step sees importance ratios of exactly 1)."""
    import torch

    import twin.train.tracker as tt

    seen = {}
    make = tt._ppo_class

    def recording_ppo():
        base = make()

        class Recording(base):
            def _mirrored_minibatches(self):
                get = super()._mirrored_minibatches()

                def recorded(batch_size=None):
                    for d in get(batch_size):
                        if not seen:
                            with torch.no_grad():
                                lp = self.policy.evaluate_actions(d.observations, d.actions)[1]
                            env = self.get_env()
                            seen.update(d=d, lp=lp, mirror=self.symmetry, mean=env.obs_rms.mean,
                                        std=np.sqrt(env.obs_rms.var + env.epsilon))
                        yield d
                return recorded
        return Recording

    monkeypatch.setattr(tt, "_ppo_class", recording_ppo)
    tt.train(tt.load_train_config([
        f"motions={WALK}", f"init={residual_tracker}", f"run_dir={tmp_path}", "num_envs=4",
        "ppo.n_steps=16", "ppo.batch_size=32", "total_env_steps=64", "ppo.symmetry=true",
        "augment.mirror=true", "checkpoint_every_env_steps=100000"]), progress_bar=False)
    d, lp, mirror = seen["d"], seen["lp"].numpy(), seen["mirror"]
    assert d.observations.shape[0] == 64  # 32 samples and their 32 mirror images
    obs, act = d.observations.numpy(), d.actions.numpy()
    want = mirror.normalized_obs(obs[:32], seen["mean"], seen["std"])
    np.testing.assert_allclose(obs[32:], np.clip(want, -10, 10), atol=1e-4)
    np.testing.assert_allclose(act[32:], mirror.action.apply(act[:32]), atol=1e-6)
    np.testing.assert_allclose(d.old_log_prob.numpy(), lp, atol=1e-3)
    for key in ("advantages", "returns", "old_values"):
        v = getattr(d, key).numpy()
        np.testing.assert_array_equal(v[32:], v[:32])
    # the init's network was trained without symmetry: its mirrored actions are less likely
    assert not np.allclose(lp[32:], lp[:32], atol=1e-3)
