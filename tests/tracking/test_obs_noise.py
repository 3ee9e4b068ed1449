"""Actor observation noise while training (``obs_noise``): which columns it corrupts, by how
much, and that the critic's part and noise-free envs keep the true values."""

import numpy as np
import pytest
from test_g1_tracking_env import wave_motion
from twin.envs.tracking.g1_tracking import G1TrackingTask
from twin.envs.tracking.observations import (
    BEYONDMIMIC_OBS_NOISE,
    ObsDims,
    TrackingObservationConfig,
    obs_noise_half_ranges,
    observation_layout,
)

from twin.motion.robot_motion import save_robot_motion
from twin.train.tracker import build_vector_env, load_train_config, obs_noise_of

PROPRIO = ("base_lin_vel_b", "base_ang_vel_b", "projected_gravity_b", "joint_pos_rel",
           "joint_vel", "last_action")


def _columns(layout, name):
    start = 0
    for n, w in layout:
        if n == name:
            return slice(start, start + w)
        start += w
    raise KeyError(name)


def test_half_ranges_follow_the_layout_term_by_term_and_spare_the_critic():
    cfg = TrackingObservationConfig.default((1, 5), critic_obs=True, proprio=PROPRIO)
    actor, critic = observation_layout(cfg, ObsDims(joints=29, obs_bodies=3, bodies=14))
    layout = actor + critic
    h = obs_noise_half_ranges(layout, BEYONDMIMIC_OBS_NOISE)
    assert len(h) == sum(w for _, w in layout)
    assert np.all(h[_columns(layout, "joint_vel")] == 0.5)
    assert np.all(h[_columns(layout, "base_lin_vel_b")] == 0.5)
    assert np.all(h[_columns(layout, "joint_pos_rel")] == 0.01)
    assert np.all(h[_columns(layout, "last_action")] == 0.0)
    for k in (1, 5):  # every window offset's anchor terms, not the reference's joints
        assert np.all(h[_columns(layout, f"ref[+{k}].anchor_pos_in_robot_anchor")] == 0.25)
        assert np.all(h[_columns(layout, f"ref[+{k}].anchor_rot6d_in_robot_anchor")] == 0.05)
        assert np.all(h[_columns(layout, f"ref[+{k}].joint_pos_rel")] == 0.0)
    assert np.all(h[_columns(layout, "critic.base_lin_vel_b")] == 0.0)


def test_unknown_terms_and_negative_ranges_are_refused_with_the_names():
    cfg = TrackingObservationConfig.default((1,), proprio=PROPRIO)
    actor, _ = observation_layout(cfg, ObsDims(joints=29, obs_bodies=3, bodies=14))
    with pytest.raises(ValueError, match=r"obs_noise: \['joint_vell'\] are not actor"):
        obs_noise_half_ranges(actor, {"joint_vell": 0.5})
    with pytest.raises(ValueError, match="joint_vel.*-0.1"):
        obs_noise_half_ranges(actor, {"joint_vel": -0.1})


def _task(noise, seed):
    task = G1TrackingTask(wave_motion(T=60), num_envs=2, gains="stiff", critic_obs=True,
                          action_mode="reference_holding", random_start=False, num_threads=1,
                          obs_noise=noise)
    task.seed(np.arange(2), [seed, seed + 1])
    task.reset()
    return task


def test_noisy_actor_observation_stays_within_its_ranges_and_the_critic_sees_the_truth():
    clean = _task(None, 0)
    noisy = _task(BEYONDMIMIC_OBS_NOISE, 0)
    layout = clean.obs_layout + clean.critic_layout
    h = obs_noise_half_ranges(layout, BEYONDMIMIC_OBS_NOISE)
    o_clean, o_noisy = clean.observe(), noisy.observe()
    d = o_noisy - o_clean
    assert np.all(np.abs(d) <= h + 1e-6)
    assert np.all(d[:, h == 0] == 0)  # critic, last action, reference joints: untouched
    jv = _columns(layout, "joint_vel")
    # 58 draws of U(-0.5, 0.5): spread over the range, not a constant offset
    assert d[:, jv].std() > 0.2 and np.abs(d[:, jv]).max() > 0.4
    # fresh noise each call, and the same seeds draw the same noise
    assert not np.array_equal(noisy.observe(), o_noisy)
    np.testing.assert_array_equal(_task(BEYONDMIMIC_OBS_NOISE, 0).observe(), o_noisy)
    # the physics is the noise-free env's: the same zero actions reach the same states
    for t in (clean, noisy):
        t.step(np.zeros((2, 29)))
    np.testing.assert_array_equal(clean.backend.get_qpos(), noisy.backend.get_qpos())
    for t in (clean, noisy):
        t.close()


def test_training_config_expands_the_preset_and_reaches_the_envs(tmp_path):
    cfg = load_train_config(["motions=x", "obs_noise.beyondmimic=1", "obs_noise.joint_vel=0.3",
                             "obs_noise.base_lin_vel_b=0"])
    noise = obs_noise_of(cfg)
    assert noise["joint_vel"] == 0.3 and noise["ref_anchor_pos_in_robot_anchor"] == 0.25
    assert "base_lin_vel_b" not in noise  # 0 switches a preset term off
    assert obs_noise_of(load_train_config(["motions=x"])) is None
    with pytest.raises(ValueError, match="obs_noise.beyondmimic: expected 0 or 1"):
        obs_noise_of(load_train_config(["motions=x", "obs_noise.beyondmimic=2"]))
    save_robot_motion(wave_motion(T=60), tmp_path / "wave.npz")
    cfg = load_train_config([f"motions={tmp_path / 'wave.npz'}", "obs_noise.joint_vel=0.5",
                             "num_threads=1", "dr=false", "augment.copies=0"])
    venv = build_vector_env(cfg, 2)
    task = venv.task
    h = task.obs_noise_half_range
    assert np.all(h[_columns(task.obs_layout, "joint_vel")] == 0.5) and h.sum() == 0.5 * 29
    venv.close()
