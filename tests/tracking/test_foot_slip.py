"""The foot-slip reward term (``reward.foot_slip``): the squared horizontal speed of the soles
on the floor, zero for planted and for lifted feet."""

import numpy as np
from test_g1_tracking_env import wave_motion
from twin.envs.tracking.g1_tracking import G1TrackingTask
from twin.envs.tracking.terms import TrackingRewardConfig

from twin.measures import sole_slip_sq
from twin.robots.g1 import G1_SOLE_CENTER_B


def test_sole_slip_counts_the_sole_point_near_the_floor_only():
    sole = np.array(G1_SOLE_CENTER_B)  # 3.5 cm in front of and below the ankle
    pos = np.array([[0.0, 0.0, 0.035], [0.0, 0.0, 0.035], [0.0, 0.0, 0.20]])
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (3, 1))
    lin = np.array([[0.3, 0.4, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    ang = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    # sliding 0.5 m/s; turning about the ankle at 2 rad/s moves the sole point 0.07 m/s
    # sideways; a lifted foot does not count however fast it moves
    np.testing.assert_allclose(sole_slip_sq(pos, quat, lin, ang, sole), [0.25, 0.0049, 0.0])


def test_a_pushed_robot_pays_for_its_sliding_feet_and_a_standing_one_does_not():
    task = G1TrackingTask(wave_motion(T=60), num_envs=2, gains="stiff",
                          action_mode="reference_holding", random_start=False, num_threads=1,
                          reward=TrackingRewardConfig(foot_slip=1.0))
    task.reset()
    for _ in range(10):
        task.step(np.zeros((2, 29)))
    standing = task.tracking_errors()["foot_slip_sq"]
    assert np.all(standing < 1e-3), standing
    b = task.backend
    qpos, qvel = b.get_qpos(), b.get_qvel()
    qvel[1, task.root_qvel[0]] = 1.0  # shove env 1 forward at 1 m/s: its planted feet slide
    b.set_state(qpos, qvel)
    task.step(np.zeros((2, 29)))
    slip = task.tracking_errors()["foot_slip_sq"]
    assert slip[0] < 1e-3 and slip[1] > 0.5, slip  # both feet still sliding ~0.7 m/s
    task.close()
