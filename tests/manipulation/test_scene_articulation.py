"""Scene schema fields the manipulation tasks need: grasp contact physics (friction cone,
impratio, condim) and articulated drawers (slide joint, travel, handle)."""

import numpy as np
import pytest

from twin.scene.config import SceneConfigError, load_scene_config, scene_config_from_dict
from twin.sim.mujoco_scene import build_scene


def test_grasp_physics_fields_reach_the_model():
    m = build_scene(load_scene_config("manip_panda")).model
    assert m.opt.cone == 1 and m.opt.impratio == pytest.approx(10.0)  # mjCONE_ELLIPTIC
    assert m.geom("cube_red_geom").condim == 4 and m.geom("plate_geom").condim == 3
    default = build_scene(load_scene_config("panda_table")).model  # defaults unchanged
    assert default.opt.cone == 0 and default.opt.impratio == pytest.approx(1.0)


@pytest.mark.parametrize("raw,match", [
    ({"physics": {"cone": "round"}}, r"physics.cone: 'round'"),
    ({"physics": {"impratio": 0}}, "impratio must be > 0"),
    ({"objects": [{"name": "a", "condim": 2}]}, r"objects\[0\] \(a\): condim 2"),
    ({"drawers": [{"name": "d", "travel": 0.5}]}, r"drawers\[0\] \(d\): travel"),
    ({"drawers": [{"name": "d", "handle_standoff": 0.005}]}, "handle_standoff"),
])
def test_bad_fields_name_the_field(raw, match):
    with pytest.raises(SceneConfigError, match=match):
        scene_config_from_dict({"robot": "panda", **raw})


def test_drawer_slides_within_its_travel():
    cfg = scene_config_from_dict({"robot": "panda", "drawers": [
        {"name": "cab", "pos": [0.7, 0.0, 0.0], "yaw": 0.0, "travel": 0.15}]})
    import mujoco

    m = build_scene(cfg).model
    j = m.joint("cab_slide")
    assert j.type == mujoco.mjtJoint.mjJNT_SLIDE and tuple(j.range) == pytest.approx((0.0, 0.15))
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    handle0 = d.site("cab_handle").xpos.copy()
    d.qpos[m.jnt_qposadr[j.id]] = 0.1
    mujoco.mj_forward(m, d)
    # yaw 0: the drawer and its handle move along +x by the joint value
    np.testing.assert_allclose(d.site("cab_handle").xpos - handle0, [0.1, 0.0, 0.0], atol=1e-9)
    # pulling on the drawer stops at the travel limit (joint limit, no cabinet contact)
    d.qpos[:] = 0
    d.qvel[:] = 0
    for _ in range(1500):
        d.xfrc_applied[m.body("cab_drawer").id, 0] = 30.0
        mujoco.mj_step(m, d)
    assert 0.14 < d.qpos[m.jnt_qposadr[j.id]] < 0.16
