"""Scenes: the config schema, loading from Hydra/YAML, and camera geometry (numpy only).

Building a simulator model from a ``SceneConfig`` is the backend's job
(``twin.sim.mujoco_scene`` for MuJoCo).
"""

from twin.scene.camera import CameraIntrinsics, CameraParams, project_points
from twin.scene.config import (
    CameraConfig,
    ObjectConfig,
    SceneConfig,
    SceneConfigError,
    TableConfig,
    load_scene_config,
    scene_names,
)

__all__ = [
    "CameraConfig", "CameraIntrinsics", "CameraParams", "ObjectConfig", "SceneConfig",
    "SceneConfigError", "TableConfig", "load_scene_config", "project_points", "scene_names",
]
