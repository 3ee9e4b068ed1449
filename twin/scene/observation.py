"""The initial observation of a scene: what its calibrated camera sees before anything
moves (the picture a video model is conditioned on), and a machine-readable description of
that picture (``scene.json``): the camera's K (at the picture's resolution) and
``world_from_camera`` (OpenCV axes), every object's name, pose, shape and size and where
its centre projects in the picture, the table, and the robot's pose.

The robot stands in its default pose at the scene's robot pose (``robot_base_pos`` /
``robot_base_yaw``; the robot's default root height when no position is given).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin import __version__
from twin.scene.config import SceneConfig

SCENE_JSON_SCHEMA = "twin.scene_observation"
SCENE_JSON_VERSION = 1


@dataclass
class Observation:
    image: np.ndarray  # (H, W, 3) uint8
    description: dict  # scene.json content


def robot_initial_qpos(backend, scene: SceneConfig) -> np.ndarray:
    """Full ``qpos`` of the scene's initial state: robot in its default pose at its pose in
    the scene, objects where the config puts them."""
    import twin.robots

    robot = twin.robots.get(scene.robot)
    qpos = backend.get_qpos()[0].copy()
    names = tuple(n for n in robot.joint_names if n in backend.joint_names)
    qpos[backend.joint_qpos_index(names)] = robot.default_joint_pos_array(names)
    root = backend.free_joint_qpos_index(robot.root_body_name) if robot.floating_base else None
    if root is not None:
        x, y, z = robot.default_root_pos_w
        if scene.robot_base_pos is not None:
            x, y = scene.robot_base_pos[:2]
            z = scene.robot_base_pos[2] if len(scene.robot_base_pos) > 2 else z
        half = 0.5 * scene.robot_base_yaw
        qpos[root[:3]] = [x, y, z]
        qpos[root[3:]] = [np.cos(half), 0.0, 0.0, np.sin(half)]
    return qpos


def _r(a, n: int = 5) -> list:
    return np.round(np.asarray(a, dtype=np.float64), n).tolist()


def initial_observation(scene: SceneConfig, camera: str | None = None, width: int | None = None,
                        height: int | None = None, render_profile: str = "fast",
                        segmentation: bool = False
                        ) -> tuple[Observation, dict[str, np.ndarray] | None]:
    """Render the scene's initial state from ``camera`` (default: the first calibrated
    camera, else the first); with ``segmentation``, also each object's pixel mask (H, W)."""
    from twin.rotations import yaw_from_quat
    from twin.sim import make_backend

    if not scene.cameras:
        raise ValueError(f"scene {scene.name!r} has no camera to render the observation from")
    names = [c.name for c in scene.cameras]
    if camera is None:
        camera = next((c.name for c in scene.cameras if c.K is not None), names[0])
    if camera not in names:
        raise ValueError(f"camera {camera!r}; scene {scene.name!r} has {names}")
    cam_cfg = scene.cameras[names.index(camera)]
    w = int(cam_cfg.width if width is None else width)
    h = int(cam_cfg.height if height is None else height)
    if w <= 0 or h <= 0:
        raise ValueError(f"width/height must be > 0, got {w}x{h}")
    backend = make_backend(scene, render_profile=render_profile)
    try:
        qpos = robot_initial_qpos(backend, scene)
        backend.set_state(qpos[None], np.zeros((1, backend.get_qvel().shape[1])))
        image = backend.render(camera, w, h)
        seg = backend.render(camera, w, h, mode="segmentation") if segmentation else None
        params = backend.camera_params(camera, w, h)
        import twin.robots

        robot = twin.robots.get(scene.robot)
        root_id = backend.body_index([robot.root_body_name])
        root_pos = backend.body_pos_w(root_id)[0, 0]
        root_quat = backend.body_quat_wxyz(root_id)[0, 0]
        objects = []
        obj_names = [o.name for o in scene.objects]
        ids = backend.body_index(obj_names) if obj_names else np.zeros(0, np.int64)
        pos = backend.body_pos_w(ids)[0] if obj_names else np.zeros((0, 3))
        quat = backend.body_quat_wxyz(ids)[0] if obj_names else np.zeros((0, 4))
    finally:
        backend.close()
    masks = None if seg is None else {n: seg == int(i) for n, i in zip(obj_names, ids)}
    uv, depth = params.project(pos) if len(pos) else (np.zeros((0, 2)), np.zeros(0))
    for k, o in enumerate(scene.objects):
        in_view = bool(depth[k] > 0 and 0 <= uv[k, 0] < w and 0 <= uv[k, 1] < h)
        objects.append({"name": o.name, "type": o.type, "size": _r(o.size),
                        "pos_w": _r(pos[k]), "quat_wxyz": _r(quat[k]), "free": o.free,
                        "mass_kg": o.mass, "pixel_uv": _r(uv[k], 3),
                        "depth_m": round(float(depth[k]), 4), "in_view": in_view})
    desc = {
        "schema": SCENE_JSON_SCHEMA, "version": SCENE_JSON_VERSION,
        "writer": f"twin {__version__}", "scene": scene.name,
        "camera": {"name": camera, "width": w, "height": h, "K": _r(params.intrinsics.K, 4),
                   "world_from_camera": _r(params.world_from_camera, 6),
                   "axes": "OpenCV (x right, y down, z forward)",
                   "calibrated": cam_cfg.K is not None},
        "objects": objects,
        "table": None if scene.table is None else {
            "pos_w": _r(scene.table.pos), "half_size": _r(scene.table.half_size),
            "height_m": scene.table.height},
        "robot": {"name": scene.robot, "root_body": robot.root_body_name,
                  "pos_w": _r(root_pos), "quat_wxyz": _r(root_quat),
                  "yaw_rad": round(float(yaw_from_quat(root_quat)), 5)},
        "frames": "world z-up, metres; quaternions wxyz; pixel (0, 0) = top-left corner",
    }
    return Observation(image, desc), masks


def write_observation(obs: Observation, image_path: str | Path,
                      json_path: str | Path | None = None) -> tuple[Path, Path]:
    import imageio.v2 as imageio

    image_path = Path(image_path)
    image_path.parent.mkdir(parents=True, exist_ok=True)
    json_path = Path(json_path) if json_path else image_path.parent / "scene.json"
    imageio.imwrite(image_path, obs.image)
    json_path.write_text(json.dumps(obs.description, indent=2))
    return image_path, json_path
