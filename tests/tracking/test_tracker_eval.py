"""Tracker evaluation: metrics are measured, failures are reasons, not exceptions."""

import pytest
from test_g1_tracking_env import wave_motion

from twin.evaluate.tracker import aggregate, evaluate_tracker


@pytest.fixture(scope="module")
def clips():
    return [wave_motion(T=150, name="w1"), wave_motion(T=100, name="w2")]


def test_stiff_pd_replays_a_standing_clip(clips):
    res = evaluate_tracker(clips, None, gains="stiff")
    assert [r.success for r in res] == [True, True]
    assert [r.frames_tracked for r in res] == [149, 99]
    agg = aggregate(res)
    assert agg["mpjpe_local_mm"] < 15 and agg["joint_error_rad"] < 0.02
    assert agg["root_drift_m"] < 0.05


def test_soft_gains_without_policy_fail_with_reason(clips):
    res = evaluate_tracker(clips, None, gains="tracking")
    assert not any(r.success for r in res)
    assert all(r.termination in ("anchor_height", "tilt", "ee_height") for r in res)
    assert all(r.frames_tracked < 100 for r in res)
    assert all(r.mpjpe_local_mm > 20 for r in res)


def test_a_faster_fall_never_scores_better(clips):
    import numpy as np

    from twin.evaluate.tracker import fill_common_window, score_key

    stiff = evaluate_tracker(clips, None, gains="stiff")
    soft = evaluate_tracker(clips, None, gains="tracking")
    fill_common_window({"stiff": stiff, "soft": soft})
    for s, f in zip(stiff, soft, strict=True):
        k = f.frames_tracked  # the soft replay falls first: the common window is its life
        assert f.local_err_m.size == k and s.local_err_m.size == s.frames_tracked
        assert f.common_window_s == pytest.approx(k / 50.0)
        assert s.mpjpe_local_common_mm == pytest.approx(1000 * s.local_err_m[:k].mean())
        assert f.mpjpe_local_common_mm == pytest.approx(f.mpjpe_local_mm)
        assert s.tracked_fraction == 1.0 and f.tracked_fraction < 0.7
        assert f.first_termination_s == pytest.approx(k / 50.0) and s.first_termination_s is None
    a_stiff, a_soft = aggregate(stiff), aggregate(soft)
    assert score_key(a_stiff) > score_key(a_soft)
    # Even if the faller's errors were zero, it ranks below the controller that lasted longer.
    assert score_key({**a_soft, "success_rate": 0.0, "mpjpe_local_common_mm": 0.0}) < \
        score_key({**a_stiff, "success_rate": 0.0, "mpjpe_local_common_mm": 99.0})
    assert np.isfinite(a_soft["mpjpe_local_common_mm"])


def test_cli_scores_pd_by_name_and_writes_json_and_markdown(tmp_path):
    import json
    from pathlib import Path

    from twin.cli.main import main

    squat = Path(__file__).resolve().parents[2] / "assets/motions/heldout_small/heldout_small_squat.npz"
    rc = main(["eval", "tracker", f"motions={squat}", "tracker=pd", "baseline=none",
               f"out={tmp_path / 'ev'}"])
    assert rc == 0
    report = json.loads((tmp_path / "ev/report.json").read_text())
    (clip,) = report["tracker"]["clips"]
    assert report["tracker"]["source"] == "stiff-PD replay of the reference"
    assert clip["success"] and clip["tracked_fraction"] == 1.0
    assert clip["first_termination_s"] is None and 0 < clip["mpjpe_local_mm"] < 15
    assert 0 <= clip["root_drift_m"] < 0.02  # a squat in place: the pelvis stays over its spot
    md = (tmp_path / "ev/report.md").read_text()
    assert "| heldout_small_squat | tracker | yes | 1.000 | - |" in md
    assert f"| {clip['root_drift_m']:.2f} |" in md.splitlines()[-1]  # the root drift column


def test_window_time_up_plays_every_window_from_its_own_start(clips):
    """Windows of 1 s every 0.5 s: 5 in a 3-s clip, none in a 0.2-s one; the stiff-PD replay
    holds the standing wave through each: every window up for its 49 steps."""
    import numpy as np

    from twin.evaluate.tracker import clip_windows, window_time_up_s

    w1 = clips[0]  # 150 frames at 50 fps
    parts = clip_windows(w1, 1.0, 0.5)
    assert [p.num_frames for p in parts] == [50] * 5
    assert parts[1].joint_pos[0].tolist() == w1.joint_pos[25].tolist()
    short = wave_motion(T=10, name="short")
    up = window_time_up_s([w1, short], "pd", horizon_s=1.0, every_s=0.5)
    assert list(up) == ["w1"]  # the short clip has no window
    np.testing.assert_allclose(up["w1"], 49 / 50)


def test_noisy_rollouts_perturb_the_actor_terms_by_seed_within_the_sensor_ranges():
    """``noise_seed``: the actor reads its observation with 1 % of BeyondMimic's training
    noise, the same for the same seed; the critic's columns and noise-free terms untouched."""
    import numpy as np
    from twin.envs.tracking.observations import BEYONDMIMIC_OBS_NOISE, obs_noise_half_ranges

    from twin.evaluate.tracker import ROLLOUT_NOISE_SCALE, noisy_policy

    layout = (("base_ang_vel_b", 3), ("joint_vel", 29), ("last_action", 29),
              ("ref[+1].anchor_pos_in_robot_anchor", 3))

    class Echo:  # a controller that acts out what it reads
        metadata = type("M", (), {"obs_layout": layout})()

        def __call__(self, obs):
            return obs.copy()

    obs = np.ones((4, 64 + 5), dtype=np.float32)  # 5 columns past the actor's: critic
    h = ROLLOUT_NOISE_SCALE * obs_noise_half_ranges(layout, BEYONDMIMIC_OBS_NOISE)
    seen = noisy_policy(Echo(), 0)(obs) - obs
    assert np.all(np.abs(seen[:, :64]) <= h + 1e-6) and np.abs(seen[:, 3:32]).max() > 0.004
    assert np.all(seen[:, 32:61] == 0) and np.all(seen[:, 64:] == 0)  # last action, critic
    np.testing.assert_array_equal(noisy_policy(Echo(), 0)(obs) - obs, seen)
    assert not np.array_equal(noisy_policy(Echo(), 1)(obs) - obs, seen)


def test_a_seeded_noisy_rollout_of_the_shipped_tracker_still_holds_a_standing_clip(clips):
    from twin.evaluate.tracker import evaluate_named

    plain, _ = evaluate_named(clips, "default")
    noisy, _ = evaluate_named(clips, "default", noise_seed=3)
    assert [r.success for r in plain] == [r.success for r in noisy] == [True, True]
    # different inputs, different (close) motions
    assert noisy[0].mpjpe_local_mm != plain[0].mpjpe_local_mm
    assert abs(noisy[0].mpjpe_local_mm - plain[0].mpjpe_local_mm) < 5.0


def test_a_heading_offset_start_turns_the_robot_about_its_pelvis_and_nothing_else(clips):
    """``StartOffset.yaw_rad``: the stiff-PD replay of a standing clip started 0.6 rad off the
    reference's heading stands as well (it does not turn back), its pose relative to its
    pelvis the same, its bodies turned about the pelvis: the global error grows, the local
    one does not. One offset per clip, else one clear line."""
    import numpy as np

    from twin.evaluate.tracker import StartOffset

    w1 = clips[0]
    straight, turned = evaluate_tracker([w1, w1], None, gains="stiff",
                                        starts=[StartOffset(), StartOffset(yaw_rad=0.6)])
    assert straight.success and turned.success
    assert straight.mpjpe_local_mm < 10 and turned.mpjpe_local_mm < 10  # 6.6 / 4.3 mm
    # the key bodies sit 0.1-0.3 m off the pelvis axis: a 0.6-rad turn moves them 6-18 cm
    assert turned.mpjpe_global_mm - straight.mpjpe_global_mm > 40.0
    with pytest.raises(ValueError,
                       match="starts: 1 start offsets for 2 clips; expected one per clip"):
        evaluate_tracker(clips, None, gains="stiff", starts=[StartOffset(yaw_rad=0.3)])
    from twin.envs.tracking.events import StartNoise
    from twin.envs.tracking.g1_tracking import G1TrackingTask

    from twin.rotations import yaw_from_quat

    task = G1TrackingTask([w1], num_envs=1, gains="stiff", random_start=False)
    task.fixed_clips = np.array([0])
    z = np.zeros(3)
    turn = np.array([0.0, 0.0, -0.9])
    task.fixed_start_noise = [StartNoise(np.zeros(len(task.qpos_idx)), z, turn, z, z)]
    task.reset()
    pos, quat = task._robot_bodies()
    lib = task.library
    yaw_offset = yaw_from_quat(quat[:, 0])[0] - yaw_from_quat(lib.body_quat_wxyz[:1, 0])[0]
    assert yaw_offset == pytest.approx(-0.9)
    np.testing.assert_allclose(pos[0, 0], lib.body_pos_w[0, 0], atol=1e-12)
    task.close()


def test_the_heading_probe_plays_each_offset_over_each_long_enough_clip(clips):
    """Per clip one result per offset over its first ``horizon_s``; the 2-s clip is left out
    of a 2.5-s probe; the stiff-PD replay stands through every offset (124 of 125 frames)."""
    from twin.evaluate.tracker import heading_offset_runs

    runs = heading_offset_runs(clips, "pd", (0.0, 0.6, -1.2), horizon_s=2.5)
    assert list(runs) == ["w1"]
    assert ([(r.frames_tracked, r.frames_total, r.success) for r in runs["w1"]]
            == [(124, 124, True)] * 3)


def test_the_phase_probe_starts_the_robot_off_its_plan_from_every_start(clips):
    """Per clip and offset one result per start (every ``every_s`` after room for the
    largest offset) over ``horizon_s``; the reference's frames before its start are not
    scored; a robot started 0.2 s off the waving reference starts off its arm pose, so its
    first steps' local error is larger than at no offset (7.4 / 7.7 vs 2.9 mm); the
    stiff-PD replay stands through each."""
    import numpy as np

    from twin.evaluate.tracker import phase_offset_runs

    runs = phase_offset_runs(clips, "pd", (0.0, 0.2, -0.2), horizon_s=1.0, every_s=0.5)
    assert list(runs) == ["w1", "w2"]
    assert [len(by_offset) for by_offset in runs["w1"]] == [4, 4, 4]  # starts 0.2 ... 1.7 s
    assert [len(by_offset) for by_offset in runs["w2"]] == [2, 2, 2]  # 0.2, 0.7 s
    for by_offset in runs.values():
        for results in by_offset:
            assert [(r.frames_tracked, r.frames_total, r.success) for r in results] == [
                (50, 50, True)] * len(results)
    first_mm = [np.mean([1000 * r.local_err_m[:3].mean() for r in results])
                for results in runs["w1"]]
    assert first_mm[0] < 4.0 and min(first_mm[1:]) > 2 * first_mm[0]
    with pytest.raises(ValueError, match="phase probe: offsets_s is empty; expected at least"):
        phase_offset_runs(clips, "pd", ())
    with pytest.raises(ValueError, match="starts: reference_step \\[200, 0\\]; expected 0 <= "):
        from twin.evaluate.tracker import StartOffset

        evaluate_tracker(clips, None, gains="stiff",
                         starts=[StartOffset(reference_step=200), StartOffset()])
