"""DAgger distillation of a mirror-averaged tracker into one network."""

from __future__ import annotations

import numpy as np

from twin.controllers.tracking_policy import TrackingController
from twin.train.distill import DistillConfig, distill_mirror_average

WALK = "assets/motions/heldout_small/heldout_small_walk_0p35.npz"


def test_the_student_moves_toward_its_own_mirror_image(tmp_path, residual_tracker):
    out = tmp_path / "student.npz"
    cfg = DistillConfig(rounds=2, steps=512, num_envs=8, epochs=30, learning_rate=3e-4)
    report = distill_mirror_average(residual_tracker, WALK, out, cfg)
    assert len(report["losses"]) == 2 and all(np.isfinite(report["losses"]))
    # the student is closer to its own mirror image than the network it started from
    assert report["student_mirror_gap_rms"] < 0.7 * report["network_mirror_gap_rms"], report
    assert report["student_vs_teacher_rms"] < report["network_mirror_gap_rms"], report
    student = TrackingController.load(out)
    assert not student.metadata.mirror_average and student.mirror is None
    with np.load(out) as z:  # the critic travels along, for fine-tuning
        assert "critic_W0" in z and "log_std" in z
