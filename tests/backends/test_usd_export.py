"""``twin export usd``: read the stage back with pxr and compare it with the MuJoCo model."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

pxr = pytest.importorskip("pxr", reason="usd-core not installed (pip install usd-core)")
from pxr import Usd, UsdGeom, UsdPhysics

from twin.cli.main import main
from twin.sim import make_backend


@pytest.mark.parametrize("scene, overrides", [("panda_table", []), ("empty", ["robot=g1"])])
def test_usd_matches_the_mujoco_model(tmp_path, scene, overrides):
    out = tmp_path / f"{scene}.usda"
    assert main(["export", "usd", scene, f"out={out}", *overrides]) == 0
    stage = Usd.Stage.Open(str(out))
    b = make_backend(scene, overrides=overrides)
    assert UsdGeom.GetStageUpAxis(stage) == "Z"
    roots = [p for p in stage.Traverse() if p.HasAPI(UsdPhysics.ArticulationRootAPI)]
    assert len(roots) == 1 and roots[0].GetName() == b.robot.name

    joints = {p.GetName(): p for p in stage.Traverse()
              if p.IsA(UsdPhysics.RevoluteJoint) or p.IsA(UsdPhysics.PrismaticJoint)}
    assert set(joints) == set(b.joint_names)
    for name, prim in joints.items():
        lim = b.joint_limits([name])[0]
        to_usd = math.degrees(1.0) if prim.IsA(UsdPhysics.RevoluteJoint) else 1.0
        j = (UsdPhysics.RevoluteJoint if prim.IsA(UsdPhysics.RevoluteJoint)
             else UsdPhysics.PrismaticJoint)(prim)
        if np.isfinite(lim).all():
            assert j.GetLowerLimitAttr().Get() == pytest.approx(lim[0] * to_usd, rel=1e-5)
            assert j.GetUpperLimitAttr().Get() == pytest.approx(lim[1] * to_usd, rel=1e-5)
    for name in b.robot.actuated_joint_names:
        act = b.actuator_index_for_joints([name])
        kp, kd = b.actuator_pd_gains(act)
        prim = joints[name]
        kind = "angular" if prim.IsA(UsdPhysics.RevoluteJoint) else "linear"
        drive = UsdPhysics.DriveAPI(prim, kind)
        to_usd = math.degrees(1.0) if kind == "angular" else 1.0
        assert drive.GetStiffnessAttr().Get() == pytest.approx(kp[0] / to_usd, rel=1e-5)
        assert prim.GetAttribute("twin:kd").Get() == pytest.approx(kd[0])
        lim = b.actuator_force_limits()[act][0]
        if np.isfinite(lim):
            assert drive.GetMaxForceAttr().Get() == pytest.approx(lim, rel=1e-5)

    masses = {p.GetName(): UsdPhysics.MassAPI(p).GetMassAttr().Get() for p in stage.Traverse()
              if p.HasAPI(UsdPhysics.MassAPI)}
    robot_bodies = [n for n in b.body_names[1:] if n in masses]
    assert b.robot.root_body_name in robot_bodies
    for name in robot_bodies:
        assert masses[name] == pytest.approx(b.body_mass(b.body_index([name]))[0], rel=1e-5)
    floors = [p for p in stage.Traverse() if p.IsA(UsdGeom.Plane)
              and p.HasAPI(UsdPhysics.CollisionAPI)]
    assert len(floors) == 1

    cams = {p.GetName(): UsdGeom.Camera(p) for p in stage.Traverse() if p.IsA(UsdGeom.Camera)}
    assert set(cams) == set(b.camera_names)
    for name, cam in cams.items():
        p = b.camera_params(name)
        w, h = p.intrinsics.width, p.intrinsics.height
        ha, va = cam.GetHorizontalApertureAttr().Get(), cam.GetVerticalApertureAttr().Get()
        f = cam.GetFocalLengthAttr().Get()
        fx, fy = f / ha * w, f / va * h
        cx = w / 2 + cam.GetHorizontalApertureOffsetAttr().Get() / ha * w
        cy = h / 2 - cam.GetVerticalApertureOffsetAttr().Get() / va * h
        np.testing.assert_allclose([fx, fy, cx, cy], [p.intrinsics.K[0, 0], p.intrinsics.K[1, 1],
                                                      p.intrinsics.K[0, 2], p.intrinsics.K[1, 2]],
                                   rtol=1e-5)
        T = np.array(UsdGeom.Xformable(cam).ComputeLocalToWorldTransform(0)).T
        np.testing.assert_allclose(T[:3, 3], p.world_from_camera[:3, 3], atol=1e-6)
        # USD cameras look down -z: the OpenCV optical axis (+z) is USD's -z
        np.testing.assert_allclose(-T[:3, 2], p.world_from_camera[:3, 2], atol=1e-6)
    b.close()


@pytest.mark.skipif(importlib.util.find_spec("newton") is None
                    or importlib.util.find_spec("newton_usd_schemas") is None,
                    reason="needs newton and newton-usd-schemas (pip install newton "
                           "newton-usd-schemas)")
def test_newton_imports_the_usd_like_isaac_lab_would(tmp_path):
    """Newton's USD importer (the path Isaac Lab 3 takes) reads the export back: the same
    joints with the same limits (rad) and PD stiffness (N m/rad), the same masses."""
    import newton

    out = tmp_path / "panda_table.usda"
    assert main(["export", "usd", "panda_table", "-o", str(out)]) == 0
    builder = newton.ModelBuilder()
    builder.add_usd(str(out))
    model = builder.finalize(device="cpu")
    b = make_backend("panda_table")
    labels = [lbl.rsplit("/", 1)[-1] for lbl in model.joint_label]
    assert set(b.joint_names) <= set(labels)
    q_start = model.joint_qd_start.numpy()
    lower, upper = model.joint_limit_lower.numpy(), model.joint_limit_upper.numpy()
    ke = model.joint_target_ke.numpy()
    for name in b.robot.actuated_joint_names:
        dof = q_start[labels.index(name)]
        lim = b.joint_limits([name])[0]
        np.testing.assert_allclose([lower[dof], upper[dof]], lim, rtol=1e-5)
        kp, _ = b.actuator_pd_gains(b.actuator_index_for_joints([name]))
        assert ke[dof] == pytest.approx(kp[0], rel=1e-4)
    body_labels = [lbl.rsplit("/", 1)[-1] for lbl in model.body_label]
    mass = model.body_mass.numpy()
    for name in ("link3", "hand", "cube_red"):
        assert mass[body_labels.index(name)] == pytest.approx(
            b.body_mass(b.body_index([name]))[0], rel=1e-5)
    b.close()


def test_export_usd_grammar(tmp_path, capsys):
    """out= is the spelling (-o its short form, --output deprecated with one line); --help
    lists out and the scene's keys; a bad suffix or scene key is one line, exit 3, no file."""
    assert main(["export", "usd", "--help"]) == 0
    help_text = capsys.readouterr().out
    for row in ("out", "robot", "physics.dt", "floor.friction"):
        assert f"\n  {row} " in help_text, row
    a, b = tmp_path / "a.usda", tmp_path / "b.usda"
    assert main(["export", "usd", "panda_table", f"out={a}"]) == 0
    assert main(["export", "usd", "panda_table", "--output", str(b)]) == 0
    err = capsys.readouterr().err
    assert f"twin export usd: --output is deprecated; use out={b}" in err
    assert a.read_text() == b.read_text()
    for bad, needle in ((f"out={tmp_path / 'c.txt'}", "expected a file ending in .usda"),
                        ("bogus.key=1", "bogus")):
        code = main(["export", "usd", "panda_table", bad, f"out={tmp_path / 'd.usda'}"]
                    if bad.startswith("bogus") else ["export", "usd", "panda_table", bad])
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 3 and len(lines) == 1 and needle in lines[0], (code, lines)
    assert not (tmp_path / "c.txt").exists() and not (tmp_path / "d.usda").exists()
