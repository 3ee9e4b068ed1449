"""The stiff servos' gravity sag fed forward (``action_mode="reference_holding"``)."""

import numpy as np
import pytest
from test_g1_tracking_env import wave_motion
from twin.envs.tracking.g1_tracking import G1TrackingTask
from twin.envs.tracking.holding import stance_mask

from twin.robots.g1 import G1_FOOT_BODY_NAMES, G1_SOLE_CENTER_B


@pytest.fixture(scope="module")
def motion():
    return wave_motion(T=100)


def replay(motion, mode):
    task = G1TrackingTask(motion, num_envs=1, gains="stiff", action_mode=mode,
                          random_start=False, num_threads=1)
    task.reset()
    for _ in range(99):  # 2 s, zero action
        task.step(np.zeros((1, 29)))
    f = task.library.frame(task.clip, task.t)[0]
    return task, np.abs(task.backend.get_qpos()[0, task.qpos_idx] - task.library.joint_pos[f])


def test_holding_forces_carry_the_root_on_the_soles_and_hang_without_them(motion):
    task = G1TrackingTask(motion, num_envs=1, gains="stiff", random_start=False, num_threads=1)
    task.reset()
    b = task.backend
    qpos = b.get_qpos([0])
    feet = b.body_index(G1_FOOT_BODY_NAMES)
    both = b.static_holding_forces(qpos, feet, np.array(G1_SOLE_CENTER_B), np.ones((1, 2), bool))
    none = b.static_holding_forces(qpos, feet, np.array(G1_SOLE_CENTER_B), np.zeros((1, 2), bool))
    mg = b.model.body_subtreemass[1] * 9.81
    assert np.abs(both[0, task.root_qvel]).max() < 1e-6  # the soles carry the whole weight
    assert none[0, task.root_qvel[2]] == pytest.approx(mg, rel=1e-9)  # 327 N, hanging free
    knees = both[0, task.qvel_idx[[3, 9]]]  # left, right knee
    assert np.all((-12 < knees) & (knees < -9)) and abs(knees[0] - knees[1]) < 0.5
    task.close()


def test_holding_replay_keeps_the_joints_at_the_reference(motion):
    """Zero action for 2 s on a standing reference: the plain stiff replay sags (knees
    0.0125 rad, worst joint 0.016 rad); with the sag fed forward the joints stay within
    0.005 rad. The offset is the holding torque over kp (knees ~ -10.4 N m / 500)."""
    _, plain = replay(motion, "reference_residual")
    task, held = replay(motion, "reference_holding")
    assert plain.max() > 0.014 and plain[3] > 0.010
    assert held.max() < 0.005 and held[3] < 0.004
    off = task.holding_offset_rad
    assert off.shape == task.library.joint_pos.shape
    assert off[0, 3] == pytest.approx(-0.021, abs=0.002)
    task.close()


def test_stance_mask_is_per_clip_and_never_leaves_the_robot_unsupported():
    t = np.arange(8)
    # clip 0 on the floor at 0.03 m, the left foot swinging in frames 2-4; clip 1 the same,
    # 5 cm higher (a floating clip), with a flight frame (both feet up) at its frame 2
    z0 = np.stack([np.where((t >= 2) & (t <= 4), 0.12, 0.03), np.full(8, 0.03)], axis=1)
    z1 = z0 + 0.05
    z1[2] = [0.2, 0.15]
    v = np.zeros((16, 2))
    m = stance_mask(np.concatenate([z0, z1]), v, np.array([0, 8]), np.array([8, 8]))
    assert m[:8, 0].tolist() == [True, True, False, False, False, True, True, True]
    assert m[:8, 1].all() and m[8:, 1].all()  # the flight frame leans on the lower right foot
    assert m[10].tolist() == [False, True] and m[8:, 0].tolist() == m[:8, 0].tolist()
    fast = stance_mask(z0, np.full((8, 2), 1.0), np.array([0]), np.array([8]))
    assert fast.sum(axis=1).tolist() == [1] * 8  # moving feet do not support, but one must


def test_pd_holding_is_a_named_baseline_that_replays_better_than_pd():
    """On the bundled held-out procedural walk and squat the sag feed-forward alone tracks
    both clips to the end (the plain replay: 0.86 of them) at less than half the error
    (11.4 vs 27.2 mm)."""
    from pathlib import Path

    from twin.evaluate.tracker import aggregate, evaluate_named

    clips = str(Path(__file__).resolve().parents[2] / "assets/motions/heldout_small")
    pd, meta_pd = evaluate_named(clips, "pd")
    held, meta = evaluate_named(clips, "pd_holding")
    assert meta == {"source": "stiff-PD replay of the reference with the servos' gravity sag "
                              "fed forward", "gains": "stiff"}
    a, b = aggregate(pd), aggregate(held)
    assert b["success_rate"] == 1.0 and a["success_rate"] < 1.0
    assert b["mpjpe_local_mm"] < 0.5 * a["mpjpe_local_mm"], (a, b)


def test_fine_tuning_a_residual_tracker_may_switch_it_to_holding(residual_tracker):
    from twin.train.tracker import TrackerTrainConfig, with_init_controller_settings

    residual = str(residual_tracker)
    asked = TrackerTrainConfig(motions="m.npz", init=residual, action_mode="reference_holding")
    assert with_init_controller_settings(asked).action_mode == "reference_holding"
    kept = TrackerTrainConfig(motions="m.npz", init=residual)
    assert with_init_controller_settings(kept).action_mode == "reference_residual"
    other = TrackerTrainConfig(motions="m.npz", init=residual, action_mode="default_offset")
    assert with_init_controller_settings(other).action_mode == "reference_residual"
