"""Camera geometry: projections land on the rendered pixels of what they project."""

import numpy as np
import pytest

from twin.scene.camera import CameraIntrinsics, look_at_rotation_opencv, project_points
from twin.scene.config import scene_config_from_dict
from twin.sim.mujoco_backend import MujocoBackend
from twin.sim.robot_state import set_default_pose

BALL_POS = np.array([0.6, -0.35, 1.0])


def _ball_scene(K):
    return scene_config_from_dict({
        "robot": "panda", "floor": {"enabled": False},
        "objects": [{"name": "ball", "type": "sphere", "size": [0.03], "pos": BALL_POS.tolist(),
                     "free": False}],
        "cameras": [{"name": "cal", "width": 320, "height": 240, "K": K,
                     "world_from_camera": [[0, 0, 1, -0.5], [-1, 0, 0, 0], [0, -1, 0, 0.8],
                                           [0, 0, 0, 1]]}]})


@pytest.mark.parametrize("K", [[[280, 0, 200], [0, 300, 90], [0, 0, 1]],
                               [[280, 0, 120], [0, 300, 150], [0, 0, 1]]])
@pytest.mark.parametrize("size", [(320, 240), (640, 480)])
def test_calibrated_camera_projection_matches_render(K, size):
    b = MujocoBackend.from_scene(_ball_scene(K))
    params = b.camera_params("cal", *size)
    if size == (320, 240):
        np.testing.assert_allclose(params.intrinsics.K, np.array(K, float))
    seg = b.render("cal", *size, mode="segmentation")
    ys, xs = np.nonzero(seg == b.body_index(["ball"])[0])
    uv, depth = params.project(BALL_POS)
    assert depth == pytest.approx(1.1)
    # the sphere's silhouette centroid is its projected centre (to first order)
    assert abs(xs.mean() + 0.5 - uv[0]) < 1.0 and abs(ys.mean() + 0.5 - uv[1]) < 1.0
    b.close()


def test_g1_body_origins_land_on_their_own_pixels():
    """Bodies whose origin lies inside their own visible mesh (a joint origin on the seam
    between two links, like the left knee seen from this side, belongs to either)."""
    b = MujocoBackend.from_scene("empty", overrides=["gains=stiff"])
    set_default_pose(b, b.scene.robot)
    w = h = 256
    seg = b.render("front", w, h, mode="segmentation")
    params = b.camera_params("front", w, h)
    names = ["pelvis", "torso_link", "right_knee_link", "left_ankle_roll_link",
             "right_elbow_link", "left_wrist_yaw_link", "left_shoulder_roll_link"]
    ids = b.body_index(names)
    uv, _ = params.project(b.body_pos_w(ids)[0])
    for name, bid, (u, v) in zip(names, ids, uv):
        r, c = int(v), int(u)
        patch = seg[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2]
        assert (patch == bid).any(), f"{name} projects to ({u:.1f}, {v:.1f}), seg there {patch}"
    b.close()


def test_fovy_intrinsics_and_look_at():
    intr = CameraIntrinsics.from_fovy(90.0, 200, 100)
    assert intr.fy == pytest.approx(50.0) and intr.cx == 100 and intr.cy == 50
    R = look_at_rotation_opencv(np.array([0, 0, 1.0]), np.array([1.0, 0, 1.0]))
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = [0, 0, 1.0]
    uv, z = project_points(np.array([[2.0, 0, 1.0], [2.0, 0, 2.0]]), intr, T)
    np.testing.assert_allclose(uv[0], [100, 50])
    assert uv[1][1] < 50  # a higher point is higher in the image (smaller row)
    np.testing.assert_allclose(z, [2.0, 2.0])


def test_bad_intrinsics():
    with pytest.raises(ValueError, match="fovy"):
        CameraIntrinsics.from_fovy(0, 10, 10)
    with pytest.raises(ValueError, match="3x3"):
        CameraIntrinsics.from_K(np.eye(4), 10, 10)
