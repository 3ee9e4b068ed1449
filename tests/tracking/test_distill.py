"""DAgger distillation: a mirror-averaged tracker into one network; specialists into one."""

from __future__ import annotations

import numpy as np
import pytest
from twin.controllers.tracking_policy import TrackingController

from twin.train.distill import DistillConfig, distill_mirror_average, distill_specialists

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


def _biased_copy(src, dst, shift: float):
    """A tracker file whose action is ``src``'s plus ``shift`` on every joint (output bias)."""
    with np.load(src) as z:
        arrays = dict(z)
    last = int(arrays["num_layers"]) - 1
    arrays[f"b{last}"] = arrays[f"b{last}"] + np.float32(shift)
    np.savez(dst, **arrays)
    return dst


def test_specialists_label_their_clip_and_the_generalist_the_rest(tmp_path, residual_tracker):
    """A specialist for the walk acting 0.5 units above the generalist: after DAgger the
    student follows it on the walk and the generalist on the squat."""
    spec = _biased_copy(residual_tracker, tmp_path / "walk.npz", 0.5)
    out = tmp_path / "student.npz"
    cfg = DistillConfig(rounds=2, steps=512, num_envs=8, epochs=30, learning_rate=3e-4)
    report = distill_specialists(residual_tracker, {"heldout_small_walk_0p35": spec},
                                 "assets/motions/heldout_small", out, cfg)
    assert 0.2 < report["rows"]["heldout_small_walk_0p35"] < 0.8, report
    # the two teachers are 0.35 units apart (RMS; the mirror average cancels the shift on
    # the roll and yaw joints); the student is within 0.06 of each on its own clip
    obs = TrackingController.load(residual_tracker).obs_mean[None]
    apart = TrackingController.load(spec)(obs) - TrackingController.load(residual_tracker)(obs)
    assert np.sqrt(np.mean(apart ** 2)) > 0.3
    gap = report["student_vs_teacher_rms"]
    assert gap["heldout_small_walk_0p35"] < 0.06 and gap["generalist"] < 0.06, report
    student = TrackingController.load(out)
    assert student.metadata.training["distilled"]["specialists"] == {
        "heldout_small_walk_0p35": str(spec)}
    with np.load(out) as z:
        assert "critic_W0" in z and "log_std" in z


def test_a_specialist_for_a_clip_not_trained_on_is_refused(tmp_path, residual_tracker):
    with pytest.raises(ValueError, match=r"specialists for \['no_such_clip'\]: no such"):
        distill_specialists(residual_tracker, {"no_such_clip": residual_tracker},
                            "assets/motions/heldout_small", tmp_path / "s.npz")
    assert not (tmp_path / "s.npz").exists()
