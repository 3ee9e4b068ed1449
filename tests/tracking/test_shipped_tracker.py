"""The shipped tracker (twin/assets/tracker/default.npz): loads without torch, is
self-describing, and holds what it has learned so far.

The shipped policy is the tracker campaign's latest to pass the ship gate (docs/tracker.md):
offsets on the stiff PD servos' reference targets with their gravity sag fed forward
(`reference_holding`), reading the pelvis velocity, trained by `twin train tracker` on 2-core
machines as a symmetric policy (its action averaged with its left-right mirror image's). These
floors are below what it measured: it stands, tracks the held-out squat and walks the whole
held-out 0.35 m/s clip. The issue's targets are measured by benchmarks/tracker_eval.py, not
asserted here. Fine-tuning mechanics are tested on a frozen tracker (tests/conftest.py).
"""

from pathlib import Path

import numpy as np
import pytest
from twin.controllers.tracking_policy import TrackingController, shipped_tracker_dir
from twin.envs.tracking.g1_tracking import load_motions

from twin.evaluate.tracker import evaluate_controller, evaluate_tracker
from twin.retarget.kinematics import robot_motion_from_qpos
from twin.robots import get
from twin.robots.g1_constants import g1_motor_for_joint

HELDOUT = Path(__file__).resolve().parents[2] / "assets" / "motions" / "heldout_small"
STAND_MM, SQUAT_MM, WALK_MM = 20.0, 20.0, 40.0  # measured: see the closing note / README


@pytest.fixture(scope="module")
def ctrl():
    return TrackingController.load("default")


def test_metadata_describes_the_network(ctrl):
    meta = ctrl.metadata
    assert meta.joint_names == get("g1").joint_names
    assert meta.obs_dim == sum(n for _, n in meta.obs_layout) == 521
    assert meta.obs_layout[0] == ("base_lin_vel_b", 3)
    assert meta.action_mode == "reference_holding"
    assert meta.gains == "stiff" and meta.kp == (500.0,) * 29
    for name, scale in zip(meta.joint_names, meta.action_scale):
        assert scale == pytest.approx(0.25 * g1_motor_for_joint(name).effort_limit_nm / 500.0)
    t = meta.training
    assert t["total_env_steps"] >= 204_000_000  # its whole lineage
    assert (shipped_tracker_dir() / "default.onnx").exists()
    action = ctrl(np.zeros((2, meta.obs_dim), np.float32))
    assert action.shape == (2, 29) and np.isfinite(action).all()


def test_acts_as_its_own_mirror_image(ctrl):
    """The mirror image of an observation gets the mirror image of the action, exactly; the
    network alone does not (the average is part of the policy it was trained as)."""
    assert ctrl.metadata.mirror_average
    m = ctrl.mirror
    obs = np.random.default_rng(0).standard_normal((8, ctrl.metadata.obs_dim)).astype(np.float32)
    mirrored = obs[:, m.obs_source] * m.obs_sign
    np.testing.assert_allclose(ctrl(mirrored), ctrl(obs)[:, m.action_source] * m.action_sign,
                               atol=1e-5)
    net = ctrl.network(obs)[:, m.action_source] * m.action_sign
    assert np.abs(ctrl.network(mirrored) - net).max() > 0.1


def test_onnx_export_runs_the_mirror_average(ctrl):
    ort = pytest.importorskip("onnxruntime", reason="the export extra")
    session = ort.InferenceSession(str(shipped_tracker_dir() / "default.onnx"))
    obs = np.random.default_rng(1).standard_normal((5, ctrl.metadata.obs_dim)).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {"obs": obs})[0], ctrl(obs), atol=1e-4)


def test_keeps_standing_and_tracks_heldout_squat(ctrl):
    T = 300
    q = np.tile(get("g1").default_joint_pos_array(), (T, 1))
    stand = robot_motion_from_qpos("g1", np.tile([0, 0, 0.755], (T, 1)),
                                   np.tile([1.0, 0, 0, 0], (T, 1)), q, 50.0,
                                   source={"name": "stand"})
    squat = load_motions(HELDOUT / "heldout_small_squat.npz")
    stand_res, squat_res = evaluate_controller([stand, *squat], ctrl)
    assert stand_res.success and stand_res.mpjpe_local_mm < STAND_MM
    assert squat_res.success and squat_res.mpjpe_local_mm < SQUAT_MM


def test_tracks_the_heldout_walk(ctrl):
    (walk,) = evaluate_controller(load_motions(HELDOUT / "heldout_small_walk_0p35.npz"), ctrl)
    assert walk.success and walk.mpjpe_local_mm < WALK_MM  # the whole 3.5 s clip


REAL = Path(__file__).resolve().parents[2] / "assets" / "motions" / "heldout_small_real"
# Seconds tracked before the first termination on real (motion-capture) held-out clips;
# floors below what the shipped tracker measured (204.1M: idle turn 4.72 s, the walk to its
# end, 9.62 s; the 197.8M one 5.64 s and 9.62 s; the 176.5M one both to their end, 7.40 s
# and 9.62 s; the 61.4M-163.9M ones 2.70-4.36 s and 4.54-9.62 s). One noise-free rollout
# of one clip swings by a second between snapshots, so the ship gate weighs all real clips
# over 8 noisy rollouts.
REAL_FLOOR_S = {"amp_idle_turn_360_001__A047": 2.6, "amp_walk_forward_loop_002__A024": 9.0}


def test_real_heldout_clips_hold_their_floor_and_outlast_pd(ctrl):
    clips = load_motions(sorted(str(p) for p in REAL.glob("*.npz")))
    res = evaluate_controller(clips, ctrl)
    pd = evaluate_tracker(clips, None, gains="stiff")
    for r, p in zip(res, pd, strict=True):
        tracked_s = r.frames_tracked / r.fps
        assert tracked_s >= REAL_FLOOR_S[r.clip], (r.clip, tracked_s)
        assert r.frames_tracked > p.frames_tracked, (r.clip, r.frames_tracked, p.frames_tracked)
