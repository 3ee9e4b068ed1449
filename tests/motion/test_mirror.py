"""Left-right mirror images of robot motions: a reflection of every body, an involution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.motion.mirror import (joint_mirror, mirror_motion, mirror_name, mirror_names,
                                mirror_quat_wxyz)
from twin.motion.robot_motion import load_robot_motion
from twin.robots import get

WALK = Path(__file__).resolve().parents[2] / \
    "assets/motions/heldout_small_real/amp_walk_forward_loop_002__A024.npz"


@pytest.fixture(scope="module")
def walk():
    m = load_robot_motion(WALK)
    return m.frames(0, 120)


@pytest.fixture(scope="module")
def mirrored(walk):
    return mirror_motion(walk)


def test_joint_signs_come_from_the_model_axes():
    names = tuple(get("g1").joint_names)
    jm = joint_mirror("g1", names)
    sign = dict(zip(names, jm.sign))
    assert [names[j] for j in jm.source[:3]] == ["right_hip_pitch_joint", "right_hip_roll_joint",
                                                 "right_hip_yaw_joint"]
    # pitch axes reflect onto their partner's reversed axis: the angle is kept
    assert sign["left_hip_pitch_joint"] == sign["left_knee_joint"] == sign["waist_pitch_joint"] == 1
    assert sign["left_elbow_joint"] == sign["right_wrist_pitch_joint"] == 1
    # roll and yaw axes reflect onto their partner's own axis: the angle is negated
    for n in ("left_hip_roll_joint", "left_hip_yaw_joint", "right_ankle_roll_joint",
              "waist_yaw_joint", "waist_roll_joint", "left_shoulder_roll_joint",
              "right_wrist_yaw_joint"):
        assert sign[n] == -1, n
    # the default pose (shoulder roll +0.2 left, -0.2 right) is its own mirror image
    q0 = get("g1").default_joint_pos_array(names)
    np.testing.assert_array_equal(jm.apply(q0), q0)


def test_every_body_is_reflected_onto_its_partner(walk, mirrored):
    """Forward kinematics of the mirrored joints puts each body where its partner's
    reflection is: the G1 model is left-right symmetric to 0.02 mm."""
    assert mirrored.source["name"] == f"{WALK.stem}[0:120]__mirror"
    shared = [n for n in walk.body_names if n in mirrored.body_names]
    assert len(shared) == 14
    reflect = np.array([1.0, -1.0, 1.0])
    for n in shared:
        got = mirrored.body_pos_w[:, mirrored.body_index(n)]
        want = walk.body_pos_w[:, walk.body_index(mirror_name(n))] * reflect
        assert np.abs(got - want).max() < 2e-5, n
        q_got = mirrored.body_quat_wxyz[:, mirrored.body_index(n)]
        q_want = mirror_quat_wxyz(walk.body_quat_wxyz[:, walk.body_index(mirror_name(n))])
        assert np.abs(np.abs(np.sum(q_got * q_want, axis=1)) - 1).max() < 1e-6, n
    # the walk's forward speed is kept, its sideways motion and turning reversed
    v, v_m = walk.body_lin_vel_w[:, 0], mirrored.body_lin_vel_w[:, 0]
    np.testing.assert_allclose(v_m[5:-5], v[5:-5] * reflect, atol=2e-3)
    w, w_m = walk.body_ang_vel_w[:, 0], mirrored.body_ang_vel_w[:, 0]
    np.testing.assert_allclose(w_m[5:-5], w[5:-5] * np.array([-1.0, 1.0, -1.0]), atol=2e-2)


def test_mirroring_twice_gives_the_clip_back(walk, mirrored):
    back = mirror_motion(mirrored)
    jidx = [walk.joint_names.index(n) for n in back.joint_names]
    np.testing.assert_array_equal(back.joint_pos, walk.joint_pos[:, jidx])
    np.testing.assert_allclose(back.root_pos_w, walk.root_pos_w, atol=1e-12)
    for n in walk.body_names:
        np.testing.assert_allclose(back.body_pos_w[:, back.body_index(n)],
                                   walk.body_pos_w[:, walk.body_index(n)], atol=2e-5)


def test_hands_swap_sides(walk):
    from dataclasses import replace

    from twin.envs.tracking.g1_tracking import G1_HAND_JOINT_NAMES

    T = walk.num_frames
    hands = np.zeros((T, 14))
    hands[:, G1_HAND_JOINT_NAMES.index("left_hand_index_0_joint")] = -0.8  # left index bent
    states = np.zeros((T, 2), dtype=np.int8)
    states[:, 0] = 2  # left closed
    m = mirror_motion(replace(walk, hand_joint_names=tuple(G1_HAND_JOINT_NAMES),
                              hand_joint_pos=hands, hand_state=states))
    got = dict(zip(m.hand_joint_names, m.hand_joint_pos[0]))
    assert got["right_hand_index_0_joint"] == pytest.approx(0.8)  # the right hand bends +
    assert got["left_hand_index_0_joint"] == 0
    assert m.hand_state[0].tolist() == [0, 2]


def test_names_without_a_partner_are_refused():
    assert mirror_names(("left_a", "b", "right_a")).tolist() == [2, 1, 0]
    with pytest.raises(ValueError, match=r"no mirror partner for \['left_hand'\]"):
        mirror_names(("left_hand", "pelvis"))


def test_training_config_adds_mirror_images_before_copies():
    from twin.train.tracker import load_train_config, training_motions

    cfg = load_train_config([f"motions={WALK}", "augment.mirror=true", "augment.copies=1"])
    names = [m.source.get("name") for m in training_motions(cfg)]
    assert names == [None, f"{WALK.stem}__mirror", f"{WALK.stem}__aug0",
                     f"{WALK.stem}__mirror__aug0"]
    with pytest.raises(ValueError, match=r"augment.mirror: is 'yes'; expected true or false"):
        from twin.motion.augment import AugmentConfig
        AugmentConfig(mirror="yes")
