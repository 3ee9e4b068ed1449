"""Stiff-PD kinematic replay (no balance control) of procedural clips: a baseline of
physical plausibility. Squats stay up; walks are expected to fall after a few steps without
a balance policy (measured: the 0.35 m/s walk keeps ~2.5 s of its 3.5 s, then an ankle
drops below its reference), so the walk assertion is a floor, not success."""

from __future__ import annotations

import twin  # noqa: F401
from twin.evaluate.tracker import evaluate_tracker
from twin.motion.procedural import WalkParams, generate_standing, generate_walk


def test_mlib_stiff_pd_replay_of_squat_and_slow_walk():
    walk = generate_walk(WalkParams(vx=0.35, walk_s=2.0, stand_before_s=0.5,
                                    stand_after_s=0.5), name="walk").motion
    squat = generate_standing("squat", seed=3, duration_s=5.0, name="squat").motion
    walk.source["name"], squat.source["name"] = "walk", "squat"
    res = {r.clip: r for r in evaluate_tracker([walk, squat], None, gains="stiff")}
    for r in res.values():
        print(r)
    sq, wk = res["squat"], res["walk"]
    assert sq.success and sq.frames_tracked == sq.frames_total  # measured: all 250 frames
    assert sq.mpjpe_local_mm < 20 and sq.root_drift_m < 0.05  # measured ~5 mm, ~0.005 m
    assert wk.frames_tracked >= 0.6 * wk.frames_total  # measured 127 / 176 frames
    assert wk.mpjpe_local_mm < 80
