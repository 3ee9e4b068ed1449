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
