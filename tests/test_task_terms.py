"""Task terms are configs, not inline constants: changing a weight changes exactly its term."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
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
         "ee_height_m": np.array([0.3, 0.3]), "foot_slip_sq": np.array([0.0, 4.0])}
    a = np.zeros((2, 4))
    terms = reward_terms(e, a, a + 1.0, np.zeros(2), TrackingRewardConfig())
    assert terms["anchor_pos"][0] == 0.5 and terms["anchor_pos"][1] == 0.5 * np.exp(-1.0)
    np.testing.assert_allclose(terms["action_rate"], -0.4)  # 0.1 x four unit changes
    cfg = replace(TrackingRewardConfig(), anchor_pos=Kernel(2.0, 0.3))
    t2 = reward_terms(e, a, a, np.zeros(2), cfg)
    assert t2["anchor_pos"][0] == 2.0 and total_reward(t2)[0] == 2.0 + 0.5 + 4.0
    assert total_reward(t2)[1] == total_reward(reward_terms(  # foot slip is off by default
        {**e, "foot_slip_sq": np.zeros(2)}, a, a, np.zeros(2), cfg))[1]
    slip = replace(cfg, foot_slip=0.05)
    assert reward_terms(e, a, a, np.zeros(2), slip)["foot_slip"].tolist() == [0.0, -0.2]
    reasons = termination_reasons(e, TerminationThresholds())
    assert list(reasons) == ["anchor_height", "ee_height"]  # height wins over tilt and ee
    e["anchor_xy_m"] = np.array([0.6, 0.6])
    e["ee_height_m"] = np.array([0.3, 0.0])
    assert list(termination_reasons(e, TerminationThresholds())) == ["anchor_height", ""]
    drift = TerminationThresholds.from_overrides({"anchor_xy_m": 0.5})
    assert list(termination_reasons(e, drift)) == ["anchor_height", "anchor_xy"]


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


CLIPS = Path(__file__).resolve().parent.parent / "assets" / "motions" / "heldout_small"


def test_tracking_observation_terms_are_chosen_by_config():
    """A config with fewer terms gives exactly the matching slices of the full observation."""
    from twin.envs.tracking.g1_tracking import G1TrackingTask, load_motions
    from twin.envs.tracking.observations import TrackingObservationConfig

    motions = load_motions(CLIPS)
    small = TrackingObservationConfig(window_steps=(2, 10), proprio=("projected_gravity_b",),
                                      reference=("joint_vel", "anchor_pos_in_robot_anchor"))
    obs = {}
    for name, cfg in (("full", None), ("small", small)):
        task = G1TrackingTask(motions, num_envs=2, num_threads=1, dr=True, observations=cfg)
        task.seed(np.arange(2), [7, 8])
        task.reset()
        rng = np.random.default_rng(1)
        for _ in range(5):
            r = task.step(rng.normal(0.0, 1.0, (2, 29)))
        obs[name] = r.obs
        obs[name + "_layout"] = task.obs_layout
        task.close()
    assert obs["small_layout"] == (("projected_gravity_b", 3), ("ref[+2].joint_vel", 29),
                                   ("ref[+2].anchor_pos_in_robot_anchor", 3),
                                   ("ref[+10].joint_vel", 29),
                                   ("ref[+10].anchor_pos_in_robot_anchor", 3))
    starts, at = {}, 0
    for n, k in obs["full_layout"]:
        starts[n], at = (at, k), at + k
    want = np.concatenate([obs["full"][:, s:s + k] for s, k in
                           (starts[n] for n, _ in obs["small_layout"])], axis=1)
    np.testing.assert_array_equal(obs["small"], want)
    assert obs["small"].shape == (2, 67)


def test_the_proprio_history_repeats_what_was_observed_steps_back():
    """history_steps=(1, 3): after each control step the history slots hold the proprio
    columns observed 1 and 3 steps before, through an automatic reset too; an episode's
    first observation repeats its present."""
    from twin.envs.tracking.g1_tracking import G1MotionTrackingVectorEnv, load_motions
    from twin.envs.tracking.observations import TrackingObservationConfig

    cfg = TrackingObservationConfig(proprio=("projected_gravity_b", "joint_vel"),
                                    reference=("joint_vel",), window_steps=(1,),
                                    history_steps=(1, 3))
    venv = G1MotionTrackingVectorEnv(load_motions(CLIPS), num_envs=2, num_threads=1,
                                     observations=cfg, max_episode_steps=6, gains="stiff",
                                     random_start=False)
    task, p = venv.task, 3 + 29
    assert [n for n, _ in task.obs_layout][2:6] == [
        "hist[-1].projected_gravity_b", "hist[-1].joint_vel", "hist[-3].projected_gravity_b",
        "hist[-3].joint_vel"]
    obs, _ = venv.reset(seed=3)
    now = [obs[:, :p]]
    np.testing.assert_array_equal(obs[:, p:2 * p], obs[:, :p])
    np.testing.assert_array_equal(obs[:, 2 * p:3 * p], obs[:, :p])
    rng = np.random.default_rng(2)
    for step in range(1, 9):
        obs, _, terminated, truncated, info = venv.step(rng.normal(0.0, 0.5, (2, 29)))
        if step == 6:  # the 6-step episodes end; their first observation repeats the present
            assert truncated.all() and not terminated.any()
            np.testing.assert_array_equal(info["final_obs"][:, p:2 * p], now[5])
            now = []
        else:
            assert not (terminated | truncated).any()
        if not now:
            np.testing.assert_array_equal(obs[:, 2 * p:3 * p], obs[:, :p])
        else:
            np.testing.assert_array_equal(obs[:, p:2 * p], now[-1])
            np.testing.assert_array_equal(obs[:, 2 * p:3 * p], now[max(0, len(now) - 3)])
        now.append(obs[:, :p])
    assert np.abs(obs[:, p:2 * p] - obs[:, :p]).max() > 0.01  # the past is not the present
    venv.close()


def test_the_reference_root_velocity_is_read_in_the_reference_anchors_frame():
    """The optional reference terms give the reference anchor's own velocity: with the
    anchor yawed +90 deg, moving along world +x reads as -y (to its right), and a roll
    rate about world x reads about its -y axis; the yaw rate stays about z."""
    from twin.envs.tracking.observations import REFERENCE_TERMS, ObsInputs

    n, w, b, j = 1, 2, 3, 4
    yaw90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
    ref_quat = np.tile([1.0, 0.0, 0.0, 0.0], (n, w, b, 1))
    ref_quat[:, :, 1] = yaw90
    lin, ang = np.zeros((n, w, 3)), np.zeros((n, w, 3))
    lin[:, 0], lin[:, 1] = [1.0, 0.0, 0.0], [0.0, 0.5, 0.2]
    ang[:, 0], ang[:, 1] = [0.3, 0.0, 0.0], [0.0, 0.0, 0.5]
    x = ObsInputs(
        root_quat_wxyz=np.array([[1.0, 0, 0, 0]]), root_lin_vel_w=np.zeros((n, 3)),
        root_ang_vel_b=np.zeros((n, 3)), joint_pos_rad=np.zeros((n, j)),
        joint_vel=np.zeros((n, j)), default_joint_pos_rad=np.zeros(j),
        encoder_offset_rad=np.zeros((n, j)), last_action=np.zeros((n, j)),
        body_pos_w=np.zeros((n, b, 3)), body_quat_wxyz=np.tile([1.0, 0, 0, 0], (n, b, 1)),
        anchor=1, obs_body_idx=np.array([0]), ref_joint_pos_rad=np.zeros((n, w, j)),
        ref_joint_vel=np.zeros((n, w, j)), ref_body_pos_w=np.zeros((n, w, b, 3)),
        ref_body_quat_wxyz=ref_quat, ref_anchor_lin_vel_w=lin, ref_anchor_ang_vel_w=ang)
    np.testing.assert_allclose(REFERENCE_TERMS["anchor_lin_vel_in_ref_anchor"].fn(x),
                               [[[0.0, -1.0, 0.0], [0.5, 0.0, 0.2]]], atol=1e-12)
    np.testing.assert_allclose(REFERENCE_TERMS["anchor_ang_vel_in_ref_anchor"].fn(x),
                               [[[0.0, -0.3, 0.0], [0.0, 0.0, 0.5]]], atol=1e-12)


def test_tracking_observation_config_rejects_unknown_terms_and_double_windows():
    from twin.envs.tracking.g1_tracking import G1TrackingTask, load_motions
    from twin.envs.tracking.observations import TrackingObservationConfig

    with pytest.raises(ValueError, match=r"observations.reference: unknown terms \['jont_vel'\]"):
        TrackingObservationConfig(reference=("jont_vel",))
    with pytest.raises(ValueError, match="observations.window_steps"):
        TrackingObservationConfig(window_steps=(1.5,))
    # the window's whole rule lives here (the training CLI asks the same function)
    for bad in ((), (5, 2), (0, 1), (1, 251), (2, 2)):
        with pytest.raises(ValueError, match=r"observations.window_steps: expected "):
            TrackingObservationConfig(window_steps=bad)
    TrackingObservationConfig(window_steps=(1, 250))
    for bad in ((0,), (3, 2), (51,), (1.0,)):
        with pytest.raises(ValueError, match=r"observations.history_steps: expected "):
            TrackingObservationConfig(history_steps=bad)
    TrackingObservationConfig(history_steps=(1, 50))
    with pytest.raises(ValueError, match=r"observations.reference: \['joint_vel', "
                                         r"'joint_vel'\] names a term twice"):
        TrackingObservationConfig(reference=("joint_vel", "joint_vel"))
    with pytest.raises(ValueError, match="not also as window_steps"):
        G1TrackingTask(load_motions(CLIPS), window_steps=(1, 2),
                       observations=TrackingObservationConfig())


class _RecordingBackend:
    """Only the two SimBackend methods the physics events may call."""

    def __init__(self):
        self.calls = []

    def set_friction_scale(self, scale, geom_ids=None, env_ids=None):
        self.calls.append(("friction", np.array(scale), geom_ids, list(env_ids)))

    def set_body_com_offset(self, body_ids, offset_b, env_ids=None):
        self.calls.append(("com", np.array(offset_b), list(body_ids), list(env_ids)))


def test_dr_events_draw_in_order_and_ask_the_backend_for_a_scale():
    from twin.envs.tracking.events import (
        NEVER,
        DomainRandomization,
        apply_physics_events,
        sample_reset_events,
    )

    dr = DomainRandomization()
    d = sample_reset_events(np.random.default_rng(3), dr, 29)
    rng = np.random.default_rng(3)  # the same draws by hand, in the documented order
    np.testing.assert_array_equal(d.encoder_offset_rad, rng.uniform(-0.01, 0.01, 29))
    assert d.friction_scale == rng.uniform(0.5, 1.25)
    np.testing.assert_array_equal(d.com_offset_m, rng.uniform(-1, 1, 3) * [0.025, 0.05, 0.05])
    assert d.first_push_step == rng.integers(50, 150)
    off = sample_reset_events(np.random.default_rng(3), None, 29)
    assert off.encoder_offset_rad == 0.0 and off.first_push_step == NEVER
    no_push = sample_reset_events(np.random.default_rng(3), replace(dr, push_lin_vel_mps=None), 29)
    assert no_push.first_push_step == NEVER and no_push.friction_scale == d.friction_scale

    b = _RecordingBackend()
    scale, com = np.array([0.6, 0.9, 1.2]), np.arange(9.0).reshape(3, 3)
    apply_physics_events(b, dr, np.array([0, 2]), scale, np.array([15]), com)
    (k1, s, geoms, ids1), (k2, off_b, bodies, ids2) = b.calls
    assert (k1, geoms, ids1) == ("friction", None, [0, 2])  # every geom, one scale per env
    np.testing.assert_array_equal(s, [0.6, 1.2])
    assert (k2, bodies, ids2) == ("com", [15], [0, 2]) and off_b.shape == (2, 1, 3)
    b2 = _RecordingBackend()
    apply_physics_events(b2, replace(dr, friction_scale=None), np.array([1]), scale,
                         np.array([15]), com)
    assert [c[0] for c in b2.calls] == ["com"]


def test_reach_reward_terms_follow_their_config():
    """The success bonus weight moves the reward by exactly bonus x success; the distance
    weight scales the penalty; the radius decides success."""
    from twin.envs.panda_reach import ReachConfig

    def run(cfg):
        from twin.envs.panda_reach import PandaReachTask

        task = PandaReachTask(num_envs=2, num_threads=1, reach=cfg)
        task.seed(np.arange(2), [21, 22])
        task.reset()
        task.target_pos[0] = task.backend.site_pos_w(task.tcp)[0, 0] + [0.03, 0.0, 0.0]
        rng = np.random.default_rng(3)
        out = [task.step(rng.uniform(-0.3, 0.3, (2, 7))) for _ in range(10)]
        task.close()
        return (np.array([r.reward for r in out]), np.array([r.info["distance_m"] for r in out]),
                np.array([r.info["is_success"] for r in out]))

    base, dist, ok = run(ReachConfig())
    assert ok[:, 0].all() and not ok[:, 1].any()
    np.testing.assert_array_equal(base, -dist + ok)
    bonus, _, _ = run(replace(ReachConfig(), success_bonus=3.0, distance=2.0))
    np.testing.assert_allclose(bonus, -2.0 * dist + 3.0 * ok, rtol=0, atol=1e-15)
    _, _, tight = run(replace(ReachConfig(), success_radius_m=0.01))
    assert not tight.any()
