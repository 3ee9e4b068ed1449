"""Scene configs: bundled scenes build, overrides apply, bad configs fail with one clear line."""

import numpy as np
import pytest

from twin.scene.config import SceneConfigError, load_scene_config, scene_config_from_dict
from twin.sim.mujoco_scene import build_scene


def test_bundled_scenes_build():
    for name, robot, ncam in [("empty", "g1", 1), ("panda_table", "panda", 2),
                              ("panda_reach", "panda", 1)]:
        built = build_scene(load_scene_config(name))
        assert built.config.robot == robot and built.model.ncam == ncam


def test_panda_table_contents():
    built = build_scene(load_scene_config("panda_table"))
    m = built.model
    assert m.opt.timestep == pytest.approx(0.002)
    assert m.body("cube_red").mass[0] == pytest.approx(0.05)
    assert m.geom("cube_red_geom").friction[0] == pytest.approx(1.0)
    assert m.body("link0").pos[2] == pytest.approx(0.4)  # robot mounted on the table
    top = m.geom("table_top")
    assert top.pos[2] + top.size[2] == pytest.approx(0.4)


def test_overrides():
    cfg = load_scene_config("panda_table", ["table.height=0.7", "physics.dt=0.001"])
    assert cfg.table.height == 0.7 and cfg.physics.dt == 0.001


def test_yaml_file_path(tmp_path):
    p = tmp_path / "cell.yaml"
    p.write_text("robot: panda\nobjects:\n  - {name: mug, type: cylinder, size: [0.04, 0.05]}\n")
    built = build_scene(load_scene_config(p))
    assert built.model.body("mug").mass[0] == pytest.approx(0.1)


@pytest.mark.parametrize("text,match", [
    ("robot: atlas\n", r"robot: unknown robot 'atlas'; expected one of"),
    ("robot: g1\ncameras:\n  - {name: c, pos: [1, 0, 1]}\n", r"cameras\[0\] \(c\): no intrinsics"),
    ("robot: g1\ncameras:\n  - {name: c, K: [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}\n",
     "needs both K"),
    ("robot: g1\nobjects:\n  - {name: a, type: cone}\n", r"objects\[0\] \(a\): type 'cone'"),
    ("robot: g1\nobjects:\n  - {name: a}\n  - {name: a}\n", "duplicate object name"),
    ("robot: g1\nphysics: {dt: -1}\n", "expected dt > 0"),
    ("robot: g1\ntable: {height: tall}\n", r"table.height"),
    ("robot: g1\nfloor: [1, 2\n", "not valid YAML"),
    ("robot: g1\nbogus_key: 1\n", "bogus_key"),
])
def test_bad_configs_name_the_file_and_field(tmp_path, text, match):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(SceneConfigError, match=match) as info:
        load_scene_config(p)
    assert str(p) in str(info.value) and "\n" not in str(info.value)


def test_unknown_scene_name_lists_bundled():
    with pytest.raises(SceneConfigError, match=r"unknown scene 'kitchen'.*'empty'"):
        load_scene_config("kitchen")


def test_non_rotation_extrinsics_rejected():
    with pytest.raises(SceneConfigError, match="not a rotation"):
        scene_config_from_dict({"robot": "panda", "cameras": [{
            "name": "c", "K": np.eye(3).tolist(), "world_from_camera": (2 * np.eye(4)).tolist()}]})
