"""Conformance suite: what every ``SimBackend`` must do, measured against analytic values and
the scene's configuration (not against another backend). Newton computes in float32, hence
the tolerances of ~1e-5 on state round trips."""

from __future__ import annotations

import numpy as np
import pytest

from twin.rotations import quat_apply
from twin.scene.camera import project_points
from twin.scene.config import load_scene_config
from twin.sim import WORLD_BODY
from twin.sim.robot_state import default_ctrl, default_qpos, set_default_pose

G = 9.81  # m/s^2, the scenes' gravity


def _hold_default(b) -> None:
    set_default_pose(b, b.robot)


def _check_names_and_sizes(b) -> None:
    assert b.get_qpos().shape == (b.num_envs, b.nq)
    assert b.get_qvel().shape == (b.num_envs, b.nv)
    assert b.get_ctrl().shape == (b.num_envs, b.nu) and len(b.actuator_names) == b.nu
    assert b.body_names[0] == WORLD_BODY
    assert set(b.robot.actuated_joint_names) <= set(b.joint_names)
    act = b.actuator_index_for_joints(b.robot.actuated_joint_names)
    assert [b.actuator_joint_names()[a] for a in act] == list(b.robot.actuated_joint_names)
    assert np.all(b.actuator_force_limits() > 0)


def test_panda_names_and_sizes(panda):
    _check_names_and_sizes(panda)
    assert panda.free_joint_qpos_index("link0") is None  # a fixed base


def test_g1_names_sizes_and_layout(g1):
    _check_names_and_sizes(g1)
    assert g1.nq == g1.nv + 1 == 36 and g1.nu == 29
    assert list(g1.free_joint_qpos_index("pelvis")) == list(range(7))
    assert len(g1.free_joint_qvel_index("pelvis")) == 6
    assert g1.free_joint_qpos_index("torso_link") is None
    lim = g1.joint_limits(["left_knee_joint"])[0]
    assert lim[0] < 0.0 < lim[1] < 3.0


def test_state_round_trip_and_world_frame_velocities(g1):
    rng = np.random.default_rng(0)
    b = g1
    qpos, qvel = default_qpos(b, b.robot), np.zeros(b.nv)
    idx = b.joint_qpos_index(b.robot.actuated_joint_names)
    lim = b.joint_limits(b.robot.actuated_joint_names)
    qpos[idx] = rng.uniform(lim[:, 0] * 0.5, lim[:, 1] * 0.5)
    root_q, root_v = b.free_joint_qpos_index("pelvis"), b.free_joint_qvel_index("pelvis")
    quat = np.array([0.9, 0.2, -0.3, 0.25])
    qpos[root_q] = np.concatenate([[0.3, -0.2, 1.5], quat / np.linalg.norm(quat)])
    qvel[:] = rng.uniform(-1.0, 1.0, b.nv)
    qvel[root_v] = [0.4, -0.3, 0.2, 0.7, -0.5, 1.1]  # lin world, ang body
    b.set_state(np.tile(qpos, (2, 1)), np.tile(qvel, (2, 1)))
    np.testing.assert_allclose(b.get_qpos()[1], qpos, atol=2e-6)
    np.testing.assert_allclose(b.get_qvel()[1], qvel, atol=2e-5)

    pelvis = b.body_index(["pelvis"])
    root = b.root_state("pelvis")
    q = qpos[root_q][3:]
    np.testing.assert_allclose(root.ang_vel_w[0], quat_apply(q, qvel[root_v][3:]), atol=2e-5)
    np.testing.assert_allclose(b.body_pos_w(pelvis)[0, 0], qpos[root_q][:3], atol=2e-6)
    got_q = b.body_quat_wxyz(pelvis)[0, 0]
    np.testing.assert_allclose(got_q * np.sign(got_q[0]), q / np.linalg.norm(q), atol=2e-6)
    lin, ang = b.body_vel_w(pelvis)
    np.testing.assert_allclose(lin[0, 0], qvel[root_v][:3], atol=2e-5)  # origin, world frame
    np.testing.assert_allclose(ang[0, 0], root.ang_vel_w[0], atol=2e-5)
    # a child body's origin moves with the root's rotation: v = v_root + w x r (knee fixed)
    torso = b.body_index(["torso_link"])
    qvel0 = qvel.copy()
    qvel0[:] = 0.0
    qvel0[root_v] = [0.0, 0.0, 0.0, *qvel[root_v][3:]]
    b.set_state(qpos[None].repeat(2, 0), qvel0[None].repeat(2, 0))
    r = b.body_pos_w(torso)[0, 0] - qpos[root_q][:3]
    waist = b.joint_qvel_index(["waist_yaw_joint", "waist_roll_joint", "waist_pitch_joint"])
    assert np.all(qvel0[waist] == 0.0)
    lin, _ = b.body_vel_w(torso)
    np.testing.assert_allclose(lin[0, 0], np.cross(root.ang_vel_w[0], r), atol=2e-5)


def test_step_determinism(g1):
    b = g1
    _hold_default(b)
    qpos, qvel = b.get_qpos(), b.get_qvel()
    ctrl = b.get_ctrl()
    ctrl[:, b.actuator_index_for_joints(["left_knee_joint"])] += 0.3
    b.set_ctrl(ctrl)
    b.step(40)
    first = b.get_qpos()
    b.set_state(qpos, qvel)
    b.step(40)
    np.testing.assert_array_equal(b.get_qpos(), first)  # bit-identical repeat
    np.testing.assert_array_equal(first[0], first[1])  # envs are independent copies
    assert np.abs(first[0] - qpos[0]).max() > 1e-3  # and something moved


def test_free_fall_matches_analytic(panda):
    b = panda
    _hold_default(b)
    qpos = b.get_qpos()
    cube = b.free_joint_qpos_index("cube_red")
    z0 = 3.0
    qpos[0, cube] = [1.6, 1.6, z0, 1.0, 0.0, 0.0, 0.0]  # far off the table
    b.set_state(qpos, np.zeros((1, b.nv)))
    n = round(0.3 / b.physics_dt)
    b.step(n)
    t = n * b.physics_dt
    root = b.root_state("cube_red")
    # semi-implicit Euler: v_n = -g t exactly, z_n = z0 - g dt^2 n(n+1)/2
    np.testing.assert_allclose(root.lin_vel_w[0], [0.0, 0.0, -G * t], atol=1e-4)
    z_analytic = z0 - 0.5 * G * t**2
    assert abs(root.pos_w[0, 2] - z_analytic) <= G * t * b.physics_dt  # O(dt) integrator
    assert abs(root.pos_w[0, 2] - (z0 - G * b.physics_dt**2 * n * (n + 1) / 2)) < 1e-4
    np.testing.assert_allclose(root.pos_w[0, :2], [1.6, 1.6], atol=1e-6)


def test_pd_joint_step_response(panda):
    b = panda
    _hold_default(b)
    b.step(250)  # settle under gravity (0.5 s)
    joint = "joint4"
    act = b.actuator_index_for_joints([joint])
    qi, vi = b.joint_qpos_index([joint]), b.joint_qvel_index([joint])
    kp, kd = b.actuator_pd_gains(act)
    gains = b.robot.gains(b.scene_config.gains)
    assert kp[0] > 0 and kd[0] >= 0
    if joint in gains.kp:  # a twin gain profile, else the robot file's own gains
        assert kp[0] == pytest.approx(gains.kp[joint]) and kd[0] == pytest.approx(gains.kd[joint])
    q0 = b.get_qpos()[0, qi][0]
    step_rad = 0.2
    ctrl = b.get_ctrl()
    ctrl[0, act] = default_ctrl(b, b.robot)[act] + step_rad
    b.set_ctrl(ctrl)
    b.step(1)
    # first substep: force = kp (target - q) - kd qdot, the joint has barely moved yet
    q1, v1 = b.get_qpos()[0, qi][0], b.get_qvel()[0, vi][0]
    tau = b.actuator_force()[0, act][0]
    expected = np.clip(kp[0] * (q0 + step_rad - q1) - kd[0] * v1, -b.actuator_force_limits()[act][0],
                       b.actuator_force_limits()[act][0])
    assert tau == pytest.approx(expected, rel=0.05)
    b.step(int(1.5 / b.physics_dt))
    err = abs(b.get_qpos()[0, qi][0] - (q0 + step_rad))
    assert err < 0.1 * step_rad, f"joint4 error {err:.4f} rad after 1.5 s"
    assert abs(b.get_qvel()[0, vi][0]) < 0.05


def test_standing_on_the_floor(g1):
    b = g1
    _hold_default(b)
    b.step(int(0.6 / b.physics_dt))
    robot_bodies = [n for n in b.body_names if n != WORLD_BODY]
    weight = G * b.body_mass(b.body_index(robot_bodies)).sum()
    contacts = b.contacts(0)
    on_floor = [c for c in contacts if WORLD_BODY in (c.body1, c.body2)]
    touching = {c.body2 if c.body1 == WORLD_BODY else c.body1 for c in on_floor
                if c.force_normal_n > 1e-6}
    assert touching == {"left_ankle_roll_link", "right_ankle_roll_link"}
    support = sum(c.force_normal_n for c in on_floor)
    assert support == pytest.approx(weight, rel=0.1), (support, weight)
    assert all(c.force_normal_n >= 0.0 for c in contacts)
    assert 0.70 < b.root_state("pelvis").pos_w[0, 2] < 0.80
    assert not b.diverged().any()


def test_camera_intrinsics_extrinsics_projection(panda):
    b = panda
    _hold_default(b)
    cfg = load_scene_config("panda_table")
    cal = next(c for c in cfg.cameras if c.name == "calibrated")
    p = b.camera_params("calibrated")
    np.testing.assert_allclose(p.intrinsics.K, np.asarray(cal.K), atol=1e-6)
    assert (p.intrinsics.width, p.intrinsics.height) == (320, 240)
    np.testing.assert_allclose(p.world_from_camera, np.asarray(cal.world_from_camera), atol=1e-6)
    # a point 1 m down the optical axis and 0.1 m along +x (OpenCV axes) of the camera
    T = np.asarray(cal.world_from_camera)
    pts_c = np.array([[0.0, 0.0, 1.0], [0.1, -0.05, 1.0]])
    pts_w = pts_c @ T[:3, :3].T + T[:3, 3]
    uv, _ = project_points(pts_w, p.intrinsics, p.world_from_camera)
    np.testing.assert_allclose(uv, [[168.0, 112.0], [168.0 + 28.0, 112.0 - 14.0]], atol=1e-6)

    third = next(c for c in cfg.cameras if c.name == "third_person")
    p3 = b.camera_params("third_person", 200, 100)
    np.testing.assert_allclose(p3.world_from_camera[:3, 3], third.pos, atol=1e-6)
    fy = 100 / 2 / np.tan(np.deg2rad(third.fovy) / 2)  # 100 px high
    assert p3.intrinsics.K[1, 1] == pytest.approx(fy)
    uv, _ = project_points(np.asarray(third.lookat), p3.intrinsics, p3.world_from_camera)
    np.testing.assert_allclose(uv, [100.0, 50.0], atol=1e-6)
    R = p3.world_from_camera[:3, :3]
    np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-9)


def test_domain_randomisation_hooks_are_per_env(g1):
    b = g1
    feet = b.body_index(["left_ankle_roll_link", "right_ankle_roll_link"])
    geoms = b.geom_index_of_bodies(feet)
    pelvis = b.body_index(["pelvis"])
    nominal_f = b.friction(geoms)[0].copy()
    nominal_com = b.body_com_b(pelvis)[0].copy()
    b.set_friction_scale(np.array([1.0, 0.4]), geoms)
    b.set_body_com_offset(pelvis, np.array([[[0.0, 0.0, 0.0]], [[0.04, 0.0, 0.0]]]))
    try:
        f = b.friction(geoms)
        np.testing.assert_allclose(f[0], nominal_f, rtol=1e-6)
        np.testing.assert_allclose(f[1], 0.4 * nominal_f, rtol=1e-6)
        com = b.body_com_b(pelvis)
        np.testing.assert_allclose(com[0], nominal_com, atol=1e-7)
        np.testing.assert_allclose(com[1, 0], nominal_com[0] + [0.04, 0.0, 0.0], atol=1e-7)
        _hold_default(b)
        b.step(100)
        q = b.get_qpos()
        assert np.abs(q[0] - q[1]).max() > 1e-4  # the offset CoM changes the motion
    finally:
        b.set_friction_scale(np.ones(2), geoms)
        b.set_body_com_offset(pelvis, np.zeros((2, 1, 3)))
    _hold_default(b)
    b.step(20)
    q = b.get_qpos()
    np.testing.assert_array_equal(q[0], q[1])  # back to identical copies


@pytest.mark.parametrize("backend_name", ["mujoco", pytest.param("newton", marks=pytest.mark.slow)])
def test_every_bundled_scene_loads_and_steps(backend_name):
    """Every scene in configs/scene builds with the backend, keeps its robot's names, holds
    the default pose for 0.1 s without diverging and reports contacts by body name."""
    import importlib.util

    from twin.scene.config import scene_names
    from twin.sim import make_backend

    if backend_name == "newton" and importlib.util.find_spec("newton") is None:
        pytest.skip("newton not installed (pip install newton warp-lang mujoco-warp==4.0.0 "
                    "trimesh)")
    # on Newton the fixtures g1/panda already cover these two (builds cost ~10 s each)
    covered = {"empty", "panda_table"} if backend_name == "newton" else set()
    for scene in sorted(set(scene_names()) - covered):
        b = make_backend(scene, backend=backend_name, num_threads=1)
        try:
            assert set(b.robot.actuated_joint_names) <= set(b.joint_names), scene
            _hold_default(b)
            b.step(round(0.1 / b.physics_dt))
            assert not b.diverged().any(), scene
            assert all(c.body1 in b.body_names and c.body2 in b.body_names
                       for c in b.contacts(0)), scene
        finally:
            b.close()


def test_friction_scale_changes_sliding_distance(panda):
    """A cube slid over the table stops after v^2 / (2 mu g) (Coulomb); scaling every geom's
    friction (MuJoCo combines a pair by max) changes it accordingly."""
    b = panda
    cube_q, cube_v = b.free_joint_qpos_index("cube_red"), b.free_joint_qvel_index("cube_red")
    pair = b.geom_index_of_bodies(b.body_index(["cube_red", "table"]))
    mu = b.friction(pair)[0].max()
    v0 = 0.8  # m/s along +y
    slid = {}
    try:
        for scale in (0.5, 0.25):
            b.set_friction_scale(np.array([scale]))
            np.testing.assert_allclose(b.friction(pair)[0].max(), mu * scale, rtol=1e-6)
            _hold_default(b)
            q, v = b.get_qpos(), b.get_qvel()
            q[0, cube_q] = [0.3, -0.3, 0.42, 1.0, 0.0, 0.0, 0.0]  # resting on the table top
            v[0, cube_v] = [0.0, v0, 0.0, 0.0, 0.0, 0.0]
            b.set_state(q, v)
            b.step(round(0.5 / b.physics_dt))
            assert abs(b.get_qvel()[0, cube_v[1]]) < 1e-3  # stopped
            slid[scale] = b.get_qpos()[0, cube_q[1]] + 0.3
            assert slid[scale] == pytest.approx(v0**2 / (2 * mu * scale * G), rel=0.1)
    finally:
        b.set_friction_scale(np.ones(1))
    assert slid[0.25] / slid[0.5] == pytest.approx(2.0, rel=0.1)
