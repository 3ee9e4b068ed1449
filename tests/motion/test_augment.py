"""Video-estimation artefacts on reference clips: bounded, seeded, FK-consistent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from twin.motion.augment import AugmentConfig, augment_motion, augmented_copies, warp_times
from twin.motion.robot_motion import load_robot_motion

CLIP = Path(__file__).resolve().parents[2] / \
    "assets/motions/heldout_small_real/amp_idle_turn_360_001__A047.npz"


@pytest.fixture(scope="module")
def clip():
    return load_robot_motion(CLIP)


def _foot_tilt_deg(m):
    out = []
    for foot in ("left_ankle_roll_link", "right_ankle_roll_link"):
        q = m.body_quat_wxyz[:, m.body_index(foot)]
        w, x, y, z = q.T
        zz = 1 - 2 * (x * x + y * y)  # world z of the foot's z axis
        out.append(np.degrees(np.arccos(np.clip(zz, -1, 1))))
    return np.stack(out, 1)


def test_each_artefact_stays_within_its_bound(clip):
    cfg = AugmentConfig(copies=1, joint_jitter_rad=0.0, root_jitter_m=0.0)
    a = augment_motion(clip, cfg, seed=3)
    # time warp: +-15 % tempo -> the clip lasts between 1/1.15 and 1/0.85 of the original
    ratio = a.duration_s / clip.duration_s
    assert 1 / 1.15 - 0.01 < ratio < 1 / 0.85 + 0.01 and abs(ratio - 1) > 1e-3
    # height offset: constant within +-4 cm (the original's mean height differs by it)
    dz = a.root_pos_w[:, 2].mean() - clip.root_pos_w[:, 2].mean()
    assert 0 < abs(dz) <= 0.04 + 0.005
    # drift: at most 5 cm/s of extra horizontal root motion
    tilt_extra = _foot_tilt_deg(a).max() - _foot_tilt_deg(clip).max()
    assert 0.5 < tilt_extra < 6.0 + 1.0
    # bodies are forward kinematics of the augmented joints (pelvis = root)
    np.testing.assert_allclose(a.body_pos_w[:, a.body_index("pelvis")], a.root_pos_w, atol=1e-9)
    assert a.source["augment"]["seed"] == 3 and a.joint_names == clip.joint_names


def test_jitter_is_high_frequency_and_seeded(clip):
    cfg = AugmentConfig(copies=1, foot_tilt_deg=0, height_offset_m=0, root_drift_mps=0,
                        time_warp=0, root_jitter_m=0, joint_jitter_rad=0.02)
    a, b = augment_motion(clip, cfg, seed=1), augment_motion(clip, cfg, seed=1)
    np.testing.assert_array_equal(a.joint_pos, b.joint_pos)
    noise = a.joint_pos - clip.joint_pos
    assert a.num_frames == clip.num_frames
    assert 0.015 < noise.std() < 0.025
    # smoothed over 3 frames: neighbours correlate (~2/3), frames 3 apart do not
    c1 = np.corrcoef(noise[1:].ravel(), noise[:-1].ravel())[0, 1]
    c3 = np.corrcoef(noise[3:].ravel(), noise[:-3].ravel())[0, 1]
    assert 0.55 < c1 < 0.8 and abs(c3) < 0.1


def test_copies_are_named_and_config_is_checked(clip):
    out = augmented_copies([clip], AugmentConfig(copies=2))
    assert [m.source["name"] for m in out] == [f"{CLIP.stem}__aug0", f"{CLIP.stem}__aug1"]
    assert not np.allclose(out[0].root_pos_w[:50], out[1].root_pos_w[:50])
    # a clip's copies do not depend on which clips come before it in the library
    other = replace(clip, source={**clip.source, "name": "another_clip"})
    again = augmented_copies([other, clip], AugmentConfig(copies=2))
    assert np.array_equal(again[2].root_pos_w, out[0].root_pos_w)
    assert not np.allclose(again[0].root_pos_w[:50], out[0].root_pos_w[:50])
    with pytest.raises(ValueError, match=r"augment.time_warp: is 0.95; expected < 0.9"):
        AugmentConfig(time_warp=0.95)
    with pytest.raises(ValueError, match=r"augment.copies: is -1"):
        AugmentConfig(copies=-1)
    assert warp_times(np.random.default_rng(0), 2.0, 50.0, 0.0).size == 101


def test_training_config_adds_augmented_copies():
    from twin.train.tracker import load_train_config, training_motions

    cfg = load_train_config([f"motions={CLIP}", "augment.copies=1", "augment.seed=5"])
    clips = training_motions(cfg)
    assert [m.source.get("name") for m in clips[1:]] == [f"{CLIP.stem}__aug0"]
    import zlib

    assert clips[1].source["augment"]["seed"] == 5 + 1000 * (zlib.crc32(CLIP.stem.encode())
                                                             % 1_000_000)
    assert len(training_motions(load_train_config([f"motions={CLIP}",
                                                   "augment.copies=0"]))) == 1


def test_performer_variation_changes_tempo_posture_and_arm_swing_only(clip):
    from twin.robots import get

    quiet = {"copies": 1, "foot_tilt_deg": 0, "height_offset_m": 0, "root_drift_mps": 0,
             "time_warp": 0, "root_jitter_m": 0, "joint_jitter_rad": 0}
    names = list(get(clip.robot).joint_names)
    col = [clip.joint_names.index(j) for j in names]
    legs = [i for i, j in enumerate(names) if any(k in j for k in ("hip", "knee", "ankle"))]
    arms = [i for i, j in enumerate(names) if "shoulder" in j or "elbow" in j]
    base = clip.joint_pos[:, col]

    fast = augment_motion(clip, AugmentConfig(**quiet, speed_scale=0.15), seed=2)
    ratio = clip.duration_s / fast.duration_s
    assert 0.85 - 0.01 < ratio < 1.15 + 0.01 and abs(ratio - 1) > 0.01
    # a constant tempo: frame k of the copy is the original at frame k * speed, one speed
    k = np.arange(fast.num_frames)
    hip = fast.joint_pos[:, fast.joint_names.index(names[legs[0]])]

    def misfit(speed):
        return np.abs(np.interp(k * speed, np.arange(clip.num_frames), base[:, legs[0]])
                      - hip).max()

    speeds = np.linspace(0.85, 1.15, 30001)
    best = speeds[np.argmin([misfit(v) for v in speeds])]
    assert misfit(best) < 1e-4 and abs(best - ratio) < 0.01

    pose = augment_motion(clip, AugmentConfig(**quiet, waist_offset_rad=0.1,
                                              arm_offset_rad=0.3), seed=2)
    d = pose.joint_pos[:, col] - base
    np.testing.assert_allclose(d[:, legs], 0.0, atol=1e-12)
    # one constant offset per joint (joint limits may clip it): waist within +-0.1 rad,
    # arms within +-0.3 rad
    waist, upper_arms = [12, 13, 14], list(range(15, 29))
    assert np.ptp(d, axis=0).max() < 1e-9
    assert 0.05 < np.abs(d[:, waist]).max() <= 0.1 + 1e-12
    assert 0.15 < np.abs(d[:, upper_arms]).max() <= 0.3 + 1e-12

    swing = augment_motion(clip, AugmentConfig(**quiet, arm_swing_scale=0.3), seed=2)
    s = swing.joint_pos[:, col]
    np.testing.assert_allclose(s[:, legs + [12, 13, 14]], base[:, legs + [12, 13, 14]],
                               atol=1e-12)
    moving = base[:, arms].std(axis=0) > 0.01
    factor = s[:, arms].std(axis=0)[moving] / base[:, arms].std(axis=0)[moving]
    assert 0.7 - 1e-6 <= factor.min() and factor.max() <= 1.3 + 1e-6
    assert np.ptp(factor) < 1e-6 and abs(factor[0] - 1) > 0.02  # one factor for both arms
    np.testing.assert_allclose(s[:, arms].mean(axis=0), base[:, arms].mean(axis=0), atol=1e-9)


def test_performer_variation_leaves_every_other_artefact_as_it_was(clip):
    cfg = AugmentConfig(copies=1)
    a = augment_motion(clip, cfg, seed=4)
    b = augment_motion(clip, AugmentConfig(copies=1, arm_offset_rad=0.1), seed=4)
    np.testing.assert_array_equal(a.root_pos_w, b.root_pos_w)
    assert a.num_frames == b.num_frames
    with pytest.raises(ValueError, match=r"augment.speed_scale: is 0.95; expected < 0.9"):
        AugmentConfig(speed_scale=0.95)
    with pytest.raises(ValueError, match=r"augment.waist_offset_rad: is -0.1; expected a fin"):
        AugmentConfig(waist_offset_rad=-0.1)
