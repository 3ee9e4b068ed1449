"""G1 motion tracking env: layout, reward at the reference, terminations, bad motions."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from twin.envs.tracking.motion_library import MotionLibrary, MotionLibraryError

from twin.retarget.kinematics import robot_motion_from_qpos
from twin.robots import get
from twin.robots.g1 import G1_JOINT_NAMES, G1_KEY_BODY_NAMES


def wave_motion(T=150, fps=50.0, name="wave"):
    g1 = get("g1")
    q = np.tile(g1.default_joint_pos_array(), (T, 1))
    t = np.arange(T) / fps
    q[:, G1_JOINT_NAMES.index("left_shoulder_roll_joint")] += 0.6 * np.sin(np.pi * t)
    q[:, G1_JOINT_NAMES.index("right_elbow_joint")] += 0.4 * np.sin(1.4 * np.pi * t)
    root = np.tile([0.0, 0.0, 0.755], (T, 1))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    return robot_motion_from_qpos("g1", root, quat, q, fps, source={"name": name})


@pytest.fixture(scope="module")
def motion():
    return wave_motion()


def test_obs_layout_is_stable(motion):
    env = gym.make("twin/G1MotionTracking-v0", motions=motion)
    layout = env.unwrapped.task.obs_layout
    assert [n for n, _ in layout[:5]] == ["base_ang_vel_b", "projected_gravity_b",
                                          "joint_pos_rel", "joint_vel", "last_action"]
    assert layout[5] == ("ref[+1].joint_pos_rel", 29)
    assert layout[-1] == ("ref[+25].key_body_pos_in_ref_anchor", 18)
    assert sum(k for _, k in layout) == 518 == env.observation_space.shape[0]
    env.close()


def test_check_env(motion):
    env = gym.make("twin/G1MotionTracking-v0", motions=motion)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped)
    env.close()


def test_reward_is_maximal_at_the_reference(motion):
    env = gym.make("twin/G1MotionTracking-v0", motions=motion)
    env.reset(seed=3)
    task = env.unwrapped.task
    reward, terminated, _ = task._evaluate()
    errors = task.tracking_errors()
    assert errors["body_pos_m"].max() < 1e-9 and errors["joint_pos_rad"].max() < 1e-12
    assert reward[0] == pytest.approx(5.0, abs=1e-3) and not terminated[0]
    # perturb the state: the reward drops
    b = task.backend
    qpos = b.get_qpos()
    qpos[0, task.qpos_idx[3]] += 0.5  # left knee
    b.set_state(qpos, b.get_qvel())
    assert task._evaluate()[0][0] < reward[0] - 0.05
    env.close()


def test_reference_state_initialisation_matches_sampled_frame(motion):
    env = gym.make("twin/G1MotionTracking-v0", motions=motion)
    env.reset(seed=11)
    task = env.unwrapped.task
    f = task.library.frame(task.clip, task.t)[0]
    q = task.backend.get_qpos()[0, task.qpos_idx]
    np.testing.assert_allclose(q, task.library.joint_pos[f])
    assert task.t[0] > 0  # a random phase, not always the first frame
    env.close()


def test_untrained_policy_terminates_with_a_reason(motion):
    env = gym.make("twin/G1MotionTracking-v0", motions=motion, random_start=False)
    env.reset(seed=0)
    for _ in range(300):
        _, _, te, tr, info = env.step(np.zeros(29, np.float32))
        if te or tr:
            break
    assert te and info["termination"] in ("anchor_height", "tilt", "ee_height")
    assert not info["is_success"]
    env.close()


def test_clip_end_truncates_with_success_when_tracked():
    m = wave_motion(T=20)
    env = gym.make("twin/G1MotionTracking-v0", motions=m, random_start=False, gains="stiff")
    env.reset(seed=0)
    for k in range(40):
        _, _, te, tr, info = env.step(np.zeros(29, np.float32))
        if te or tr:
            break
    assert tr and not te and info["is_success"] and k == 18  # 19 steps to the last frame
    env.close()


def test_nan_state_ends_episode_with_nan(motion):
    env = gym.make("twin/G1MotionTracking-v0", motions=motion)
    env.reset(seed=0)
    b = env.unwrapped.task.backend
    qvel = b.get_qvel()
    qvel[0, 7] = np.nan
    b.set_state(b.get_qpos(), qvel)
    obs, _r, te, _, info = env.step(np.zeros(29, np.float32))
    assert te and info["termination"] == "nan" and np.isfinite(obs).all()
    env.close()


def test_other_joint_names_are_a_clear_error(motion):
    from dataclasses import replace

    bad = replace(motion, joint_names=tuple(n.replace("knee", "kn33") for n in motion.joint_names))
    with pytest.raises(MotionLibraryError, match="motion wave: joint_names lack"):
        MotionLibrary([bad], G1_JOINT_NAMES, G1_KEY_BODY_NAMES, fps=50.0)


def test_other_fps_is_resampled(motion):
    m30 = wave_motion(T=90, fps=30.0, name="wave30")
    lib = MotionLibrary([m30], G1_JOINT_NAMES, G1_KEY_BODY_NAMES, fps=50.0)
    assert lib.clip_len[0] == 149  # 2.967 s at 50 Hz
    k = G1_JOINT_NAMES.index("left_shoulder_roll_joint")
    t = np.arange(149) / 50.0
    expect = get("g1").default_joint_pos_array()[k] + 0.6 * np.sin(np.pi * t)
    assert np.abs(lib.joint_pos[:, k] - expect).max() < 0.005


def test_adaptive_sampling_prefers_failing_bins(motion):
    lib = MotionLibrary([motion], G1_JOINT_NAMES, G1_KEY_BODY_NAMES, fps=50.0)
    for _ in range(50):
        lib.record_episode_end(0, 120, failed=True)  # bin 2 (2-3 s) keeps failing
        lib.record_episode_end(0, 20, failed=False)
    rng = np.random.default_rng(0)
    starts = np.array([lib.sample_start(rng)[1] for _ in range(400)])
    assert np.mean(starts >= 100) > 0.6


def test_sampler_state_restores_by_clip_name_and_shares_follow_failures(motion):
    """A resumed run gets its failure rates back by clip name (a clip whose bins changed,
    or one added since, starts at ``NEW_CLIP_FAILURE_RATE``), and the start shares say where
    episodes start, by clip family."""
    from dataclasses import replace

    from twin.envs.tracking.motion_library import NEW_CLIP_FAILURE_RATE

    clips = [replace(motion, source={"name": n}) for n in ("amp_walk", "wave_000")]
    lib = MotionLibrary(clips, G1_JOINT_NAMES, G1_KEY_BODY_NAMES, fps=50.0)
    assert lib.families == ["amp", "wave"]
    for _ in range(50):
        lib.record_episode_end(0, 120, failed=True)
    shares = lib.start_shares()
    assert list(shares) == ["amp", "wave"]
    # bin rates: amp (0, 0, 0.995); floor 0.1 x (mean 0.166 + 1/6) = 0.033 per bin
    assert shares["amp"][0] == pytest.approx(1.095 / 1.195, abs=1e-3)
    assert shares["amp"][1] == pytest.approx(0.995 / 3, abs=1e-3) and shares["wave"][1] == 0
    state = lib.sampler_state()
    fresh = MotionLibrary(clips, G1_JOINT_NAMES, G1_KEY_BODY_NAMES, fps=50.0)
    assert fresh.restore_sampler_state(state) == 2
    np.testing.assert_array_equal(fresh.failure_rate, lib.failure_rate)
    short = MotionLibrary([clips[0].frames(0, 60)], G1_JOINT_NAMES, G1_KEY_BODY_NAMES,
                          fps=50.0)
    # a clip the state does not hold (changed, or added since) starts unmeasured: sampled
    assert short.restore_sampler_state(state) == 0
    assert np.all(short.failure_rate == NEW_CLIP_FAILURE_RATE)
    added = MotionLibrary(clips + [replace(motion, source={"name": "lafan_walk"})],
                          G1_JOINT_NAMES, G1_KEY_BODY_NAMES, fps=50.0)
    assert added.restore_sampler_state(state) == 2
    assert added.start_shares()["lafan"][0] > 0.5  # 3 bins at 0.5 beside (0, 0, 0.995), (0 x3)


def test_clip_weights_scale_sampling_and_refuse_patterns_that_match_nothing(motion):
    from dataclasses import replace

    from twin.envs.tracking.motion_library import MotionLibraryError

    clips = [replace(motion, source={"name": n}) for n in ("amp_walk", "amp_walk__aug0", "wave")]
    lib = MotionLibrary(clips, G1_JOINT_NAMES, G1_KEY_BODY_NAMES, fps=50.0)
    assert lib.weight_clips({"amp_*": 4.0}) == {"amp_*": 2}  # augmented copies too
    rng = np.random.default_rng(0)
    clip = np.array([lib.sample_start(rng)[0] for _ in range(3000)])
    assert np.mean(clip == 2) == pytest.approx(1 / 9, abs=0.02)  # 1 : (4 + 4), no failures
    clip = np.array([lib.sample_start(rng, adaptive=False)[0] for _ in range(3000)])
    assert np.mean(clip == 2) == pytest.approx(1 / 9, abs=0.02)
    with pytest.raises(MotionLibraryError, match=r"clip_weights.walk_\*: matches none of the 3"):
        lib.weight_clips({"walk_*": 2.0})  # case-sensitive fnmatch on the whole name
    with pytest.raises(MotionLibraryError, match=r"clip_weights.wave: -1; expected a number "
                       r">= 0 \(0: never sampled\)"):
        lib.weight_clips({"wave": -1})
    with pytest.raises(MotionLibraryError, match=r"leave no clip to sample"):
        lib.weight_clips({"*": 0})
    lib.weight_clips({"wave": 0})  # in the library, never drawn
    assert not any(lib.sample_start(rng)[0] == 2 for _ in range(500))


def test_dex3_hands_follow_motion_hand_targets():
    from twin.robots.g1 import DEX3_CLOSED, G1_HAND_JOINT_NAMES

    T = 60
    g1 = get("g1")
    q = np.tile(g1.default_joint_pos_array(), (T, 1))
    closed = np.array([DEX3_CLOSED[n] for n in G1_HAND_JOINT_NAMES])
    hands = np.tile(closed, (T, 1))
    hands[:10] = 0.0  # open for 0.2 s, then closed
    m = robot_motion_from_qpos("g1", np.tile([0, 0, 0.755], (T, 1)),
                               np.tile([1.0, 0, 0, 0], (T, 1)), q, 50.0,
                               hand_joint_names=G1_HAND_JOINT_NAMES, hand_joint_pos=hands,
                               hand_state=np.full((T, 2), 2))
    env = gym.make("twin/G1Dex3MotionTracking-v0", motions=m, random_start=False,
                   gains="stiff")
    env.reset(seed=0)
    task = env.unwrapped.task
    assert env.action_space.shape == (29,)  # the policy drives the body only
    assert np.abs(task.backend.get_qpos()[0, task.hand_qpos_idx]).max() < 1e-9
    for _ in range(45):  # closing starts at step 10 and takes ~0.6 s
        env.step(np.zeros(29, np.float32))
    hand_q = task.backend.get_qpos()[0, task.hand_qpos_idx]
    assert np.abs(hand_q - closed).max() < 0.02
    env.close()


def test_domain_randomisation_is_per_env_and_resampled(motion):
    from twin.envs.tracking.g1_tracking import DomainRandomization, G1TrackingTask

    task = G1TrackingTask(motion, num_envs=4, dr=True, num_threads=1)
    task.seed(np.arange(4), [3, 4, 5, 6])
    task.reset()
    b = task.backend
    floor_and_feet = np.arange(b.model.ngeom)
    mu = b.friction(floor_and_feet)
    nominal = b.model.geom_friction[:, 0]
    scale = mu / nominal
    assert np.allclose(scale, scale[:, :1])  # one scale per env, every geom
    assert np.all((scale[:, 0] >= 0.5) & (scale[:, 0] <= 1.25)) and np.ptp(scale[:, 0]) > 0.05
    torso = b.body_index(["torso_link"])
    shift = b.body_com_b(torso)[:, 0] - b.model.body_ipos[torso[0]]
    assert np.all(np.abs(shift) <= [0.025, 0.05, 0.05]) and np.abs(shift).max() > 0.005
    first = scale[:, 0].copy()
    task.reset()
    assert not np.allclose(b.friction(floor_and_feet)[:, 0] / nominal[0], first)
    # terms switch off one by one
    quiet = G1TrackingTask(motion, num_envs=2, num_threads=1,
                           dr=DomainRandomization(friction_scale=None, com_offset_m=None))
    quiet.reset()
    assert all(m is quiet.backend.model for m in quiet.backend.models)
    assert np.abs(quiet.encoder_offset).max() > 0
    with pytest.raises(ValueError, match="dr: unknown fields \\['frictoin'\\]"):
        G1TrackingTask(motion, num_envs=1, dr={"frictoin": (0.1, 0.2)})


def test_start_noise_offsets_the_reference_start_state_within_its_ranges(motion):
    """Reference-state initialisation with noise: each env starts off the sampled frame by
    at most the configured ranges (joint positions clipped to the limits), differently per
    env; with the start terms off the start is the frame exactly."""
    from twin.envs.tracking.g1_tracking import G1TrackingTask

    from twin.motion.rotations import quat_mul, quat_to_rotvec
    from twin.rotations import quat_apply, quat_conjugate

    dr = {"friction_scale": None, "com_offset_m": None, "push_lin_vel_mps": None,
          "start_joint_pos_rad": 0.1, "start_root_pos_m": [0.05, 0.05, 0.01],
          "start_root_rot_rad": [0.1, 0.1, 0.2], "start_root_lin_vel_mps": [0.3, 0.3, 0.1],
          "start_root_ang_vel_rps": [0.5, 0.5, 0.5]}
    n = 8
    task = G1TrackingTask(motion, num_envs=n, dr=dr, num_threads=1)
    task.seed(np.arange(n), list(range(20, 20 + n)))
    task.reset()
    lib, b = task.library, task.backend
    f = lib.frame(task.clip, task.t)
    qpos, qvel = b.get_qpos(), b.get_qvel()
    dj = qpos[:, task.qpos_idx] - lib.joint_pos[f]
    lo, hi = task.joint_limits[:, 0], task.joint_limits[:, 1]
    assert np.all(np.abs(dj) <= 0.1 + 1e-12) and np.abs(dj).max() > 0.09
    assert np.all((qpos[:, task.qpos_idx] >= lo) & (qpos[:, task.qpos_idx] <= hi))
    dp = qpos[:, task.root_qpos[:3]] - lib.body_pos_w[f, 0]
    assert np.all(np.abs(dp) <= [0.05, 0.05, 0.01]) and np.abs(dp[:, 0]).max() > 0.03
    q = qpos[:, task.root_qpos[3:]]
    rotvec = quat_to_rotvec(quat_mul(q, quat_conjugate(lib.body_quat_wxyz[f, 0])))  # world
    assert np.all(np.abs(rotvec) <= np.array([0.1, 0.1, 0.2]) + 1e-9)
    assert np.abs(rotvec[:, 2]).max() > 0.1
    dv = qvel[:, task.root_qvel[:3]] - lib.body_lin_vel_w[f, 0]
    assert np.all(np.abs(dv) <= [0.3, 0.3, 0.1]) and np.abs(dv[:, 0]).max() > 0.15
    dw = quat_apply(q, qvel[:, task.root_qvel[3:]]) - lib.body_ang_vel_w[f, 0]  # world
    assert np.all(np.abs(dw) <= 0.5 + 1e-9) and np.abs(dw).max() > 0.3
    assert np.ptp(dj[:, 0]) > 0.05  # per env
    task.close()
    # off (the default): the start state is the frame, also under the other DR terms
    plain = G1TrackingTask(motion, num_envs=2, dr=True, num_threads=1)
    plain.reset()
    f = plain.library.frame(plain.clip, plain.t)
    np.testing.assert_array_equal(plain.backend.get_qpos()[:, plain.qpos_idx],
                                  plain.library.joint_pos[f])
    assert plain.start_noise == [None, None]
    plain.close()


def test_phase_offset_starts_put_the_robot_behind_or_ahead_of_the_reference(motion):
    """start_phase_s: the robot starts in the whole reference state of a frame up to p s
    from the reference's start frame (held within the clip); the reference clock is not
    moved, the other start terms stay off."""
    from twin.envs.tracking.g1_tracking import G1TrackingTask

    dr = {"friction_scale": None, "com_offset_m": None, "push_lin_vel_mps": None,
          "start_phase_s": 0.3}
    n = 8
    task = G1TrackingTask(motion, num_envs=n, dr=dr, num_threads=1)
    task.seed(np.arange(n), list(range(40, 40 + n)))
    task.reset()
    lib, b = task.library, task.backend
    phase = np.array([z.phase_s for z in task.start_noise])
    assert np.all(np.abs(phase) <= 0.3) and phase.min() < -0.1 and phase.max() > 0.1
    steps = np.round(phase * lib.fps).astype(int)
    f_state = lib.frame(task.clip, task.t + steps)
    assert np.any(f_state != lib.frame(task.clip, task.t))
    qpos, qvel = b.get_qpos(), b.get_qvel()
    np.testing.assert_array_equal(qpos[:, task.qpos_idx], lib.joint_pos[f_state])
    np.testing.assert_array_equal(qpos[:, task.root_qpos[:3]], lib.body_pos_w[f_state, 0])
    np.testing.assert_array_equal(qvel[:, task.qvel_idx], lib.joint_vel[f_state])
    assert all(np.all(z.root_pos_m == 0) and np.all(z.joint_pos_rad == 0)
               for z in task.start_noise)
    task.close()
    with pytest.raises(ValueError, match="dr: start_phase_s=-0.1; expected a number >= 0"):
        G1TrackingTask(motion, num_envs=1, dr={"start_phase_s": -0.1})


def test_critic_observation_is_the_privileged_state_after_the_actors(motion):
    """critic_obs=True appends pelvis linear velocity (pelvis frame) and key-body poses in the
    torso-anchor frame; at a reference state they are the reference's own."""
    from twin.rotations import quat_apply_inverse, quat_conjugate, quat_mul, quat_to_matrix

    env = gym.make("twin/G1MotionTracking-v0", motions=motion, critic_obs=True)
    obs, _ = env.reset(seed=3)
    task = env.unwrapped.task
    assert task.actor_obs_dim == 518 and obs.shape == (518 + 3 + 14 * 3 + 14 * 6,)
    assert [n for n, _ in task.critic_layout] == [
        "critic.base_lin_vel_b", "critic.body_pos_in_robot_anchor",
        "critic.body_rot6d_in_robot_anchor"]
    lib = task.library
    f = lib.frame(task.clip, task.t)[0]
    pos, quat = lib.body_pos_w[f], lib.body_quat_wxyz[f]
    a = task.anchor
    pelvis_v_b = quat_apply_inverse(quat[0], lib.body_lin_vel_w[f][0])
    body_b = quat_apply_inverse(np.repeat(quat[a][None], 14, 0), pos - pos[a])
    rot_b = quat_to_matrix(quat_mul(quat_conjugate(np.repeat(quat[a][None], 14, 0)), quat))
    np.testing.assert_allclose(obs[518:521], pelvis_v_b, atol=1e-5)
    np.testing.assert_allclose(obs[521:563], body_b.reshape(-1), atol=1e-5)
    np.testing.assert_allclose(obs[563:], rot_b[..., :2].reshape(-1), atol=1e-5)
    # a moving pelvis: world-frame free-joint velocity, observed in the pelvis frame
    b = task.backend
    qvel = b.get_qvel()
    qvel[0, :3] = [0.3, -0.2, 0.1]
    b.set_state(b.get_qpos(), qvel)
    moving = task.observe()[0]
    expect = quat_apply_inverse(b.get_qpos()[0, 3:7], np.array([0.3, -0.2, 0.1]))
    np.testing.assert_allclose(moving[518:521], expect, atol=1e-6)
    assert np.linalg.norm(expect) == pytest.approx(np.sqrt(0.14))
    # the actor's part is the plain env's observation
    plain = gym.make("twin/G1MotionTracking-v0", motions=motion)
    np.testing.assert_array_equal(plain.reset(seed=3)[0], obs[:518])
    env.close()
    plain.close()


def test_action_scale_sets_the_joint_target_per_unit_action(motion):
    from twin.envs.tracking.g1_tracking import G1TrackingTask, profile_action_scale

    stiff = np.array(profile_action_scale("g1", "stiff"))
    assert stiff[G1_JOINT_NAMES.index("left_ankle_pitch_joint")] == pytest.approx(0.025, 1e-3)
    task = G1TrackingTask([motion], num_envs=1, gains="stiff", action_scale=tuple(3 * stiff),
                          random_start=False)
    task.reset()
    task.step(np.ones((1, 29), dtype=np.float32))
    ref = task.library.joint_pos[task.library.frame(task.clip, task.t + 1)]  # next target
    np.testing.assert_allclose(task._ctrl[:, task.act_idx], ref + 3 * stiff)
    with pytest.raises(ValueError, match="action_scale: 2 values; expected one per body joint"):
        G1TrackingTask([motion], num_envs=1, action_scale=(0.1, 0.1))


def test_servo_targets_stay_inside_the_joint_ranges(motion):
    """A full-scale action (10 units: 0.44 rad on the hips under default_offset x10 scale)
    drives targets past the joint stops; they are held TARGET_LIMIT_MARGIN_RAD inside."""
    from twin.envs.tracking.g1_tracking import TARGET_LIMIT_MARGIN_RAD, G1TrackingTask

    task = G1TrackingTask([motion], num_envs=1, gains="stiff", random_start=False,
                          action_mode="default_offset",
                          action_scale=tuple([1.0] * 29))
    task.reset()
    lo = task.joint_limits[:, 0] + TARGET_LIMIT_MARGIN_RAD
    hi = task.joint_limits[:, 1] - TARGET_LIMIT_MARGIN_RAD
    for sign, bound in ((1.0, hi), (-1.0, lo)):
        task.step(np.full((1, 29), sign * 10.0, dtype=np.float32))
        np.testing.assert_allclose(task._ctrl[0, task.act_idx], bound)  # every joint clipped
        assert np.all(task.backend.get_ctrl()[0, task.act_idx] == task._ctrl[0, task.act_idx])
    task.close()
