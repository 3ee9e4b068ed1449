"""Offscreen rendering: image types, metric depth, segmentation ids, and the ``fast`` profile's
decimated render model (same tree and geoms, far fewer faces, placed like the originals,
cached on disk). Speed is measured by benchmarks/render.py, not here."""

import mujoco
import numpy as np
import pytest

from twin.scene.config import load_scene_config, scene_config_from_dict
from twin.sim import mujoco_fast_render as fr
from twin.sim.mujoco_backend import MujocoBackend
from twin.sim.mujoco_render import get_render_profile
from twin.sim.mujoco_scene import build_scene
from twin.sim.robot_state import set_default_pose

PROFILES = ("full", "fast")
SIZE = 256
# Bodies whose origin lies inside their own mesh, visible from the G1 scene's front camera.
G1_VISIBLE_BODIES = ["pelvis", "torso_link", "right_knee_link", "left_ankle_roll_link",
                     "right_elbow_link", "left_wrist_yaw_link", "left_shoulder_roll_link"]


@pytest.fixture(scope="module", autouse=True)
def mesh_cache(tmp_path_factory):
    """Decimated meshes go to a fresh folder, never the user's ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv(fr.CACHE_ENV, str(tmp_path_factory.mktemp("twin_cache")))
    fr.clear_memory_cache()
    yield
    mp.undo()
    fr.clear_memory_cache()


@pytest.fixture(scope="module")
def g1():
    """G1 in its default pose, one backend per profile, and their front-camera segmentations."""
    backends = {}
    for profile in PROFILES:
        b = MujocoBackend.from_scene("empty", render_profile=profile)
        set_default_pose(b, b.scene.robot)
        backends[profile] = b
    seg = {p: b.render("front", SIZE, SIZE, mode="segmentation") for p, b in backends.items()}
    yield backends, seg
    for b in backends.values():
        b.close()


def drawn_faces(model: mujoco.MjModel) -> int:
    mesh_ids = {int(model.geom_dataid[g]) for g in np.flatnonzero(fr.visual_geom_mask(model))}
    return int(sum(model.mesh_facenum[m] for m in mesh_ids))


@pytest.mark.parametrize("profile", PROFILES)
def test_image_shapes_dtypes_and_content(g1, profile):
    b = g1[0][profile]
    w, h = 96, 72  # not square: catches swapped axes
    rgb = b.render("front", w, h, mode="rgb")
    depth = b.render("front", w, h, mode="depth")
    seg = b.render("front", w, h, mode="segmentation")
    assert rgb.shape == (h, w, 3) and rgb.dtype == np.uint8
    assert depth.shape == (h, w) and depth.dtype == np.float32
    assert seg.shape == (h, w) and seg.dtype == np.int32
    assert rgb.std() > 10  # a picture, not a cleared buffer
    assert np.all(np.isfinite(depth)) and depth.min() > 0.5  # camera ~3 m from the robot
    ids = set(np.unique(seg).tolist())
    assert -1 in ids and 0 in ids  # sky (no geom) and the floor (world body)
    assert int(b.body_index(["pelvis"])[0]) in ids
    with pytest.raises(ValueError, match="render mode"):
        b.render("front", w, h, mode="normals")


def _down_camera_scene():
    """A camera 1.5 m above the floor looking straight down (MuJoCo cameras look along their
    -z axis, so the identity quaternion points down) at a fixed 0.2 m cube."""
    return scene_config_from_dict({
        "name": "down", "robot": "panda",
        "objects": [{"name": "block", "type": "box", "size": [0.1, 0.1, 0.1],
                     "pos": [2.0, 2.0, 0.1], "free": False}],
        "cameras": [{"name": "down", "pos": [2.0, 2.0, 1.5], "quat_wxyz": [1, 0, 0, 0],
                     "fovy": 60, "width": 64, "height": 48}]})


@pytest.mark.parametrize("profile", PROFILES)
def test_depth_is_metric_distance_along_the_optical_axis(profile):
    b = MujocoBackend.from_scene(_down_camera_scene(), render_profile=profile)
    depth = b.render("down", 64, 48, mode="depth")
    seg = b.render("down", 64, 48, mode="segmentation")
    block = int(b.body_index(["block"])[0])
    assert np.all(seg[22:26, 30:34] == block)
    np.testing.assert_allclose(depth[22:26, 30:34], 1.5 - 0.2, atol=0.01)  # cube top
    floor = seg == 0
    assert floor.sum() > 0.8 * seg.size
    # z-depth, not ray length: the image corners (rays ~40 deg off axis) read 1.5 m too
    np.testing.assert_allclose(depth[floor], 1.5, atol=0.01)
    b.close()


def test_fast_segmentation_matches_full(g1):
    _, seg = g1
    agree = np.mean(seg["fast"] == seg["full"])
    robot = seg["full"] > 0
    assert agree >= 0.97, f"fast and full segmentations agree on {100 * agree:.2f}% of pixels"
    assert np.mean(seg["fast"][robot] == seg["full"][robot]) >= 0.9  # on the robot itself


@pytest.mark.parametrize("profile", PROFILES)
def test_projected_body_origins_land_on_their_pixels(g1, profile):
    backends, seg = g1
    b = backends[profile]
    params = b.camera_params("front", SIZE, SIZE)
    ids = b.body_index(G1_VISIBLE_BODIES)
    uv, depth = params.project(b.body_pos_w(ids)[0])
    assert np.all(depth > 0)
    for name, bid, (u, v) in zip(G1_VISIBLE_BODIES, ids, uv):
        r, c = int(v), int(u)
        patch = seg[profile][max(r - 1, 0):r + 2, max(c - 1, 0):c + 2]
        assert (patch == bid).any(), f"{name} projects to ({u:.1f}, {v:.1f}); seg there {patch}"


@pytest.mark.parametrize("scene, min_face_ratio", [("empty", 8.0), ("panda_table", 4.0)])
def test_decimated_model_same_tree_fewer_faces_same_place(scene, min_face_ratio):
    built = build_scene(load_scene_config(scene))
    phys = built.model
    render = fr.decimated_render_model(built, get_render_profile("fast"))
    assert (render.nbody, render.ngeom, render.nq) == (phys.nbody, phys.ngeom, phys.nq)
    np.testing.assert_array_equal(render.geom_bodyid, phys.geom_bodyid)
    np.testing.assert_array_equal(render.body_parentid, phys.body_parentid)
    ratio = drawn_faces(phys) / drawn_faces(render)
    assert ratio >= min_face_ratio, f"only {ratio:.1f}x fewer drawn faces"

    d_phys, d_render = mujoco.MjData(phys), mujoco.MjData(render)
    mujoco.mj_kinematics(phys, d_phys)
    mujoco.mj_kinematics(render, d_render)
    visual = fr.visual_geom_mask(phys)
    worst = 0.0
    for g in np.flatnonzero(phys.geom_type == mujoco.mjtGeom.mjGEOM_MESH):
        v_phys = _world_vertices(phys, d_phys, g)
        v_render = _world_vertices(render, d_render, g)
        if not visual[g]:  # collision geoms keep their mesh, vertex for vertex
            np.testing.assert_array_equal(v_render, v_phys)
            continue
        # a decimated mesh sits where its original does: bounding boxes agree to a few mm
        box_error = np.abs(np.r_[v_render.min(0) - v_phys.min(0), v_render.max(0) - v_phys.max(0)])
        worst = max(worst, float(box_error.max()))
    assert worst < 0.004, f"a decimated mesh's bounding box moved {1000 * worst:.1f} mm"


def _world_vertices(model, data, geom_id):
    mesh = model.geom_dataid[geom_id]
    a, n = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
    rot = data.geom_xmat[geom_id].reshape(3, 3)
    return model.mesh_vert[a:a + n] @ rot.T + data.geom_xpos[geom_id]


def test_decimated_meshes_are_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv(fr.CACHE_ENV, str(tmp_path))
    built = build_scene(load_scene_config("panda_table"))
    profile = get_render_profile("fast")
    fr.clear_memory_cache()
    first = fr.decimated_render_model(built, profile)
    files = sorted((tmp_path / "meshes").glob("*.npz"))
    replaced = [m for m in range(first.nmesh) if first.mesh(m).name.endswith(fr.RENDER_MESH_SUFFIX)]
    assert len(files) == len(replaced) > 0

    def no_simplifying(*args, **kwargs):
        raise AssertionError("simplified again instead of reading the cache")

    monkeypatch.setattr(fr, "simplify_mesh", no_simplifying)
    second = fr.decimated_render_model(built, profile)  # from this process's cache
    fr.clear_memory_cache()
    third = fr.decimated_render_model(built, profile)  # from the .npz files
    for m in (second, third):
        np.testing.assert_array_equal(m.mesh_vert, first.mesh_vert)
        np.testing.assert_array_equal(m.mesh_face, first.mesh_face)
    assert sorted((tmp_path / "meshes").glob("*.npz")) == files
    fr.clear_memory_cache()
