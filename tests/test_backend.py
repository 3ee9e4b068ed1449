"""MuJoCo backend: batched state, threaded stepping, velocities, contacts, divergence."""

import mujoco
import numpy as np
import pytest

from twin.sim.mujoco_backend import MujocoBackend
from twin.sim.robot_state import set_default_pose


@pytest.fixture(scope="module")
def g1():
    b = MujocoBackend.from_scene("empty", num_envs=4, overrides=["gains=stiff"], num_threads=2)
    yield b
    b.close()


def test_threaded_step_equals_serial_step(g1):
    rng = np.random.default_rng(0)
    set_default_pose(g1, g1.scene.robot)
    qvel = rng.normal(0, 0.2, (4, g1.model.nv))
    g1.set_state(g1.get_qpos(), qvel)
    serial = MujocoBackend(g1.model, num_envs=4, num_threads=1)
    serial.set_ctrl(g1.get_ctrl())
    serial.set_state(g1.get_qpos(), qvel)
    g1.step(50)
    serial.step(50)
    np.testing.assert_array_equal(g1.get_qpos(), serial.get_qpos())
    np.testing.assert_array_equal(g1.get_qvel(), serial.get_qvel())
    # the batched mirrors equal the MjData contents
    np.testing.assert_array_equal(g1.get_qpos()[2], g1.datas[2].qpos)
    serial.close()


def test_body_velocity_matches_mujoco(g1):
    rng = np.random.default_rng(1)
    set_default_pose(g1, g1.scene.robot)
    g1.set_state(g1.get_qpos(), rng.normal(0, 0.5, (4, g1.model.nv)))
    ids = g1.body_index(["pelvis", "left_wrist_yaw_link", "right_ankle_roll_link"])
    lin, ang = g1.body_vel_w(ids)
    v = np.zeros(6)
    for k, bid in enumerate(ids):
        mujoco.mj_objectVelocity(g1.model, g1.datas[3], mujoco.mjtObj.mjOBJ_XBODY, bid, v, 0)
        np.testing.assert_allclose(ang[3, k], v[:3], atol=1e-10)
        np.testing.assert_allclose(lin[3, k], v[3:], atol=1e-10)


def test_standing_contacts_are_feet_on_floor(g1):
    set_default_pose(g1, g1.scene.robot)
    g1.step(200)
    totals = []
    for _ in range(200):  # contact forces chatter step to step; their mean carries the weight
        g1.step(1)
        contacts = g1.contacts(0)
        bodies = {frozenset((c.body1, c.body2)) for c in contacts}
        assert all("world" in b and any("ankle_roll" in x for x in b) for b in bodies)
        totals.append(sum(c.force_normal_n for c in contacts))
    weight = g1.model.body_subtreemass[1] * 9.81
    assert np.mean(totals) == pytest.approx(weight, rel=0.05)


def test_divergence_is_detected_not_raised(g1):
    set_default_pose(g1, g1.scene.robot)
    qvel = g1.get_qvel()
    qvel[1, 10] = np.nan
    qvel[2, 10] = 1e6
    g1.set_state(g1.get_qpos(), qvel)
    g1.step(4)
    assert g1.diverged().tolist() == [False, True, True, False]
    set_default_pose(g1, g1.scene.robot)
    assert not g1.diverged().any()


def test_names_and_errors(g1):
    assert g1.joint_names[:3] == ("left_hip_pitch_joint", "left_hip_roll_joint",
                                  "left_hip_yaw_joint")
    assert g1.free_joint_qpos_index("pelvis").tolist() == list(range(7))
    assert g1.free_joint_qpos_index("torso_link") is None
    with pytest.raises(KeyError, match="unknown bodies \\['tail'\\]"):
        g1.body_index(["tail"])
    with pytest.raises(KeyError, match="unknown camera 'top'; expected one of \\['front'\\]"):
        g1.render("top", 64, 64)


def test_backend_choice_errors():
    from twin.sim import make_backend

    with pytest.raises(ValueError, match="unknown backend 'bullet'"):
        make_backend("empty", backend="bullet")
    with pytest.raises(NotImplementedError, match="no Isaac Sim backend"):
        make_backend("empty", backend="isaac")


INCLINE_XML = """
<mujoco>
  <option timestep="0.002"/>
  <worldbody>
    <geom name="ramp" type="plane" size="2 2 0.1" euler="0 20 0" friction="1 0.005 0.0001"/>
    <body name="box" pos="0 0 0.06" euler="0 20 0">
      <freejoint/>
      <geom name="box" type="box" size="0.05 0.05 0.05" mass="1" friction="1 0.005 0.0001"/>
    </body>
  </worldbody>
</mujoco>
"""


def test_per_env_friction_changes_only_that_env():
    # tan(20 deg) = 0.36: a box holds with friction 1 and slides down with 0.3
    model = mujoco.MjModel.from_xml_string(INCLINE_XML)
    b = MujocoBackend(model, num_envs=2, num_threads=1)
    b.set_friction_scale(np.array([1.0, 0.3]))
    np.testing.assert_allclose(b.friction(np.arange(2)), [[1.0, 1.0], [0.3, 0.3]])
    assert model.geom_friction[0, 0] == 1.0  # the nominal model is untouched
    b.step(500)
    moved = np.linalg.norm(b.get_qpos()[:, :3] - [0, 0, 0.06], axis=1)
    slide_1s = 0.5 * 9.81 * (np.sin(np.radians(20)) - 0.3 * np.cos(np.radians(20)))  # 0.29 m
    assert moved[0] < 0.01
    assert moved[1] == pytest.approx(slide_1s, rel=0.1)
    b.close()


def test_per_env_com_offset(g1):
    torso = g1.body_index(["torso_link"])
    nominal = g1.model.body_ipos[torso].copy()
    offset = np.zeros((4, 1, 3))
    offset[2, 0] = [0.02, -0.04, 0.03]
    g1.set_body_com_offset(torso, offset)
    com = g1.body_com_b(torso)
    np.testing.assert_allclose(com[2, 0], nominal[0] + [0.02, -0.04, 0.03])
    np.testing.assert_allclose(com[0, 0], nominal[0])
    np.testing.assert_array_equal(g1.model.body_ipos[torso], nominal)
    set_default_pose(g1, g1.scene.robot)
    g1.forward()
    x = np.stack([d.xipos[torso[0]] for d in g1.datas])
    assert np.linalg.norm(x[2] - x[0]) == pytest.approx(np.linalg.norm([0.02, -0.04, 0.03]), abs=1e-9)
    g1.set_body_com_offset(torso, np.zeros((4, 1, 3)))
