"""Procedural human standing scripts (twin.motion.procedural.smpl_tasks): SMPL in GVHMR's
conventions, retargeted to G1 like a video estimate, physically plausible, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

import twin  # noqa: F401  (before mujoco)
from twin.motion.procedural import physical_report
from twin.motion.procedural.library import SMPL_TASK, ClipSpec, build_catalog, make_clip
from twin.motion.procedural.smpl_tasks import knee_bend_drop_m, smpl_task_params, smpl_task_raw
from twin.motion.smpl import (
    SMPL_BODY_PARENTS,
    SMPL_JOINT_NAMES,
    forward_kinematics,
    mean_shape_rest_joints,
)


@pytest.fixture(scope="module")
def clip():
    return make_clip(ClipSpec("smpl_task_test", SMPL_TASK, "train", {"seed": 3, "duration_s": 6.0}))


def test_script_is_gvhmr_shaped_and_deterministic():
    a, b = smpl_task_params(7, 5.0), smpl_task_params(7, 5.0)
    assert a["global_orient"].shape == (151, 3) and a["body_pose"].shape == (151, 63)
    assert a["betas"].shape == (151, 10) and a["transl"].shape == (151, 3)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["body_pose"], smpl_task_params(8, 5.0)["body_pose"])


def test_knee_bend_keeps_feet_on_the_floor():
    # FK of the raw script (y-up): the ankles stay at the same height while the knees bend
    raw = smpl_task_raw(11, 6.0)
    joints, _ = forward_kinematics(mean_shape_rest_joints(1.7)[:22], SMPL_BODY_PARENTS,
                                   raw.root_orient_aa, raw.body_pose_aa, raw.transl)
    ankle = [SMPL_JOINT_NAMES.index(n) for n in ("left_ankle", "right_ankle")]
    knee = SMPL_JOINT_NAMES.index("left_knee")
    y = joints[:, ankle, 1]
    bent = np.abs(raw.body_pose_aa[:, knee - 1, 0]).max()
    assert bent > 0.1  # this seed bends its knees
    assert np.ptp(y) < 0.01
    assert knee_bend_drop_m(np.array([0.0]), 1.7)[0] == 0.0


def test_retargeted_clip_is_plausible(clip):
    motion, checks, _used = clip
    assert motion.fps == 50.0 and motion.joint_pos.shape == (301, 29)
    assert checks["gates_failed"] == []
    rep = physical_report(motion)
    assert rep.sole_min_z_m > -0.005 and rep.stance_slide_max_m < 0.01
    assert rep.zmp_outside_max_m < 0.05
    assert checks["retarget_position_residual_p95_m"] < 0.03
    assert np.ptp(motion.root_pos_w[:, :2], axis=0).max() < 0.05  # stands in place


def test_catalog_has_smpl_tasks_and_holds_two_out():
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load((Path(__file__).resolve().parents[2]
                          / "configs/motion_library/default.yaml").read_text())
    specs = [s for s in build_catalog(cfg) if s.category == SMPL_TASK]
    train = [s for s in specs if s.split == "train"]
    held = [s for s in specs if s.split == "heldout"]
    assert len(train) == 40 and len(held) == 2
    assert not {s.params["seed"] for s in held} & {s.params["seed"] for s in train}


def test_elbows_flex_towards_the_front_and_never_hyperextend(clip):
    # SMPL elbow flexion is +y for the right elbow and -y for the left; the scripts had it
    # the other way, and the retargeted G1 elbows sat at their hyperextension limit.
    from twin.motion.procedural.smpl_walk import swing_arms

    el = {side: SMPL_JOINT_NAMES.index(f"{side}_elbow") - 1 for side in ("left", "right")}
    sign = {"left": -1.0, "right": 1.0}
    for seed in range(12):
        body = smpl_task_params(seed, 8.0)["body_pose"].reshape(-1, 21, 3)
        for side in el:
            flexion = sign[side] * body[:, el[side], 1]
            assert flexion.min() >= 0.0 and flexion.max() > 0.04, (seed, side)
    walk = np.zeros((5, 21, 3))
    swing_arms(walk)
    assert all(sign[s] * walk[0, el[s], 1] > 0.1 for s in el)
    motion, _checks, _used = clip
    q = dict(zip(motion.joint_names, motion.joint_pos.T))
    for side in el:  # the G1 arm is straight at an elbow angle of ~1.3 rad
        assert q[f"{side}_elbow_joint"].max() < 1.3
        assert np.abs(q[f"{side}_wrist_pitch_joint"]).max() < 0.6
