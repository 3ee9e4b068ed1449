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


def _box_corners(pos, half):
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    return np.asarray(pos) + signs * np.asarray(half)


def test_initial_observation_reprojects_objects_exactly():
    # The calibrated camera's picture of the cell: object centres and silhouettes projected
    # with scene.json's K and world_from_camera land on the rendered pixels (< 1 px).
    from dataclasses import replace

    from twin.scene.config import ObjectConfig
    from twin.scene.observation import initial_observation

    cell = load_scene_config("cell")
    marker = ObjectConfig(name="marker", type="sphere", size=[0.08], pos=[0.9, -0.5, 1.2],
                          free=False, collision=False, rgba=[0.1, 0.9, 0.1, 1])
    scene = replace(cell, objects=[*cell.objects, marker])
    obs, masks = initial_observation(scene, width=160, height=120, segmentation=True)
    d = obs.description
    assert obs.image.shape == (120, 160, 3) and d["camera"]["calibrated"]
    K = np.asarray(d["camera"]["K"])
    assert K[0, 0] == pytest.approx(520.0 / 4) and K[0, 2] == pytest.approx(320.0 / 4)
    objs = {o["name"]: o for o in d["objects"]}
    assert all(o["in_view"] for o in objs.values())
    assert d["robot"]["pos_w"][:2] == [0.0, 0.0] and d["robot"]["yaw_rad"] == 0.0
    # sphere: its silhouette's centroid is its projected centre
    v, u = np.nonzero(masks["marker"])
    centroid = np.array([u.mean() + 0.5, v.mean() + 0.5])
    assert masks["marker"].sum() > 20
    assert np.linalg.norm(centroid - objs["marker"]["pixel_uv"]) < 0.5
    # boxes: the silhouette's bounding box is the bounding box of the projected corners
    from twin.scene.camera import CameraIntrinsics, project_points

    intr = CameraIntrinsics.from_K(K, 160, 120)
    T = np.asarray(d["camera"]["world_from_camera"])
    for name in ("box", "chair"):
        uv, _ = project_points(_box_corners(objs[name]["pos_w"], objs[name]["size"]), intr, T)
        v, u = np.nonzero(masks[name])
        visible = np.array([u.min(), v.min(), u.max() + 1, v.max() + 1])
        projected = np.array([*uv.min(axis=0), *uv.max(axis=0)])
        assert np.abs(visible - projected).max() < 1.0, (name, visible, projected)


def test_render_observation_cli_writes_picture_and_scene_json(tmp_path):
    import json

    from twin.cli.main import main

    out = tmp_path / "obs" / "first.png"
    assert main(["render-observation", "scene=cell", "width=160", "height=120",
                 "-o", str(out)]) == 0
    import imageio.v2 as imageio

    assert imageio.imread(out).shape == (120, 160, 3)
    d = json.loads((tmp_path / "obs" / "scene.json").read_text())
    assert d["schema"] == "twin.scene_observation" and d["camera"]["name"] == "cell_cam"
    assert [o["name"] for o in d["objects"]] == ["box", "chair", "chair_back"]
    assert d["objects"][0]["size"] == [0.05, 0.05, 0.05]
    assert main(["render-observation", "scene=cell", "camera=nope", "-o", str(out)]) != 0
    assert main(["render-observation", "scene=cell", "widht=3", "-o", str(out)]) != 0
