"""Visual action prompts of one simulated state: skeleton, agent mask, agent depth, keypoints.

``PromptGenerator`` computes, for each requested camera, the prompts of the state a backend
holds in one environment: 2D keypoints with COCO visibility and camera depth (see
``keypoints``), the skeleton image (``draw``), the agent-only mask (segmentation pixels of
any robot body) and agent-only depth, plus the camera's intrinsics and extrinsics.
``prompts_from_state`` sets a state first: replaying logged ``qpos`` through it reproduces
what was recorded live (the live path, ``LivePrompts``, goes through the same call on a
private copy of the env's scene, so the env's own physics is never touched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twin.record.prompts.depth import DepthEncoding
from twin.record.prompts.draw import draw_skeleton
from twin.record.prompts.keypoints import (
    DEFAULT_OCCLUSION_TOLERANCE_M,
    BoundKeypoints,
    project,
    visibility,
)
from twin.robots.keypoints import KeypointTable, keypoint_table
from twin.sim.backend import SimBackend


@dataclass
class CameraPrompts:
    """One camera's prompts for one frame. Pixel arrays are (H, W[, 3]); K keypoints.

    ``keypoints_uv`` (K, 2) float32 pixels (OpenCV convention), 0 where the keypoint is
    absent or behind the camera; ``keypoint_depth`` (K,) float32 m along the optical axis,
    0 where absent or behind; ``visibility`` (K,) uint8 COCO code (0 absent / out of view,
    1 occluded, 2 visible); ``mask`` bool agent pixels; ``depth`` float32 m on agent pixels,
    0 elsewhere; ``segmentation`` int32 body ids (-1 background); ``intrinsics`` (3, 3) K;
    ``world_from_camera`` (4, 4), OpenCV axes. Rendered fields are None when not rendered.
    """

    camera: str
    keypoints_uv: np.ndarray
    keypoint_depth: np.ndarray
    visibility: np.ndarray | None
    skeleton: np.ndarray
    mask: np.ndarray | None
    depth: np.ndarray | None
    segmentation: np.ndarray | None
    intrinsics: np.ndarray
    world_from_camera: np.ndarray


def robot_name_and_root(backend: SimBackend) -> tuple[str, str]:
    scene = getattr(backend, "scene", None)
    robot = getattr(scene, "robot", None)
    if robot is None:
        raise ValueError("backend has no scene robot; pass table= and root_body=")
    return robot.name, robot.root_body_name


class PromptGenerator:
    """Prompts of the current state of ``backend`` (env ``env_id``) for ``cameras``.

    Args:
        backend: holds the state; body poses must be current (``set_state`` makes them so).
        cameras: camera names; width, height: image size in pixels (even, for video).
        table: keypoints; default the table of the backend scene's robot.
        root_body: the robot's root body (its subtree is "the agent").
        render: render depth and segmentation (mask, agent depth, visibility); without it
            only keypoints and skeletons (no renderer needed).
    """

    def __init__(self, backend: SimBackend, cameras: Sequence[str], width: int, height: int,
                 *, table: KeypointTable | None = None, root_body: str | None = None,
                 render: bool = True,
                 occlusion_tolerance_m: float = DEFAULT_OCCLUSION_TOLERANCE_M) -> None:
        if table is None or root_body is None:
            name, root = robot_name_and_root(backend)
            table = table or keypoint_table(name)
            root_body = root_body or root
        unknown = [c for c in cameras if c not in backend.camera_names]
        if unknown:
            raise KeyError(f"unknown cameras {unknown}; the scene has {list(backend.camera_names)}")
        self.backend = backend
        self.cameras = tuple(cameras)
        self.width, self.height = int(width), int(height)
        self.table = table
        self.bound = BoundKeypoints.bind(table, backend, root_body)
        self.render = render
        self.tolerance = occlusion_tolerance_m
        self._robot_lut: np.ndarray | None = None

    def _is_robot(self, segmentation: np.ndarray) -> np.ndarray:
        if self._robot_lut is None:
            lut = np.zeros(len(self.backend.body_names) + 1, dtype=bool)
            lut[self.bound.robot_body_ids + 1] = True  # index 0 <- body id -1 (background)
            self._robot_lut = lut
        return self._robot_lut[segmentation + 1]

    def __call__(self, env_id: int = 0) -> dict[str, CameraPrompts]:
        points_w = self.bound.world_positions(self.backend, env_id)
        return {cam: self._camera(cam, points_w, env_id) for cam in self.cameras}

    def _camera(self, cam: str, points_w: np.ndarray, env_id: int) -> CameraPrompts:
        b = self.backend
        params = b.camera_params(cam, self.width, self.height, env_id)
        uv, depth, in_view = project(points_w, params, self.bound.present)
        # Round to the stored precision first, so that the pixel each keypoint is drawn and
        # tested at is the one a reader of the float32 dataset finds.
        uv = uv.astype(np.float32).astype(np.float64)
        in_view &= (uv[:, 0] < self.width) & (uv[:, 1] < self.height)
        front = self.bound.present & (depth > 1e-6)
        skeleton = draw_skeleton(self.table, uv, depth, self.bound.present, self.height,
                                 self.width)
        vis = mask = agent_depth = seg = None
        if self.render:
            seg = b.render(cam, self.width, self.height, "segmentation", env_id)
            depth_img = b.render(cam, self.width, self.height, "depth", env_id)
            mask = self._is_robot(seg)
            agent_depth = np.where(mask, depth_img, 0.0).astype(np.float32)
            vis = visibility(self.bound, uv, depth, in_view, depth_img, seg, self.tolerance)
        return CameraPrompts(
            camera=cam,
            keypoints_uv=np.where(front[:, None], uv, 0.0).astype(np.float32),
            keypoint_depth=np.where(front, depth, 0.0).astype(np.float32),
            visibility=vis,
            skeleton=skeleton,
            mask=mask,
            depth=agent_depth,
            segmentation=seg,
            intrinsics=params.intrinsics.K,
            world_from_camera=np.asarray(params.world_from_camera, dtype=np.float64),
        )

    def from_state(self, qpos: np.ndarray, mocap: dict | None = None, env_id: int = 0
                   ) -> dict[str, CameraPrompts]:
        """Set env ``env_id`` of the backend to ``qpos`` (zero velocity), then compute.

        ``mocap``: {body name: (pos_w (3,), quat_wxyz (4,))} for kinematic bodies (targets)
        that can occlude the robot; others keep the model's default pose.
        """
        b = self.backend
        qpos = np.asarray(qpos, dtype=np.float64)
        nv = b.get_qvel([env_id]).shape[1]
        b.set_state(qpos[None], np.zeros((1, nv)), [env_id])
        for name, (pos, quat) in (mocap or {}).items():
            b.set_mocap_pose(name, np.asarray(pos)[None], np.asarray(quat)[None], [env_id])
        return self(env_id)


def prompts_from_state(backend: SimBackend, qpos: np.ndarray, camera: str | Sequence[str],
                       width: int | None = None, height: int | None = None, *,
                       table: KeypointTable | None = None, root_body: str | None = None,
                       mocap: dict | None = None, render: bool = True
                       ) -> CameraPrompts | dict[str, CameraPrompts]:
    """Prompts of logged state ``qpos`` (nq,) seen from ``camera`` (or a list of cameras).

    Overwrites the state of env 0 of ``backend``: use a backend made for replay
    (``twin.sim.make_backend(scene)``). Image size defaults to the camera's native size.
    For many frames, build one ``PromptGenerator`` and call ``from_state``.
    """
    cams = [camera] if isinstance(camera, str) else list(camera)
    if width is None or height is None:
        intr = backend.camera_params(cams[0]).intrinsics
        width, height = width or intr.width, height or intr.height
    gen = PromptGenerator(backend, cams, width, height, table=table, root_body=root_body,
                          render=render)
    out = gen.from_state(qpos, mocap)
    return out[camera] if isinstance(camera, str) else out


def mocap_poses(backend: SimBackend, env_id: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{mocap body: (pos_w, quat_wxyz)} of one env. ``SimBackend`` has no getter for these
    yet; the MuJoCo backend exposes its datas (empty dict for other backends)."""
    model, datas = getattr(backend, "model", None), getattr(backend, "datas", None)
    if model is None or datas is None or not hasattr(model, "body_mocapid"):
        return {}
    d = datas[env_id]
    out = {}
    for b, m in enumerate(np.asarray(model.body_mocapid)):
        if m >= 0:
            out[backend.body_names[b]] = (d.mocap_pos[m].copy(), d.mocap_quat[m].copy())
    return out


class LivePrompts:
    """Prompts of a running env's states, computed on a private replay copy of its scene.

    Each call reads the env's ``qpos`` (and mocap poses) and runs ``from_state`` on the copy,
    so live prompts and prompts replayed from logged ``qpos`` come from the same code.
    """

    def __init__(self, env_backend: SimBackend, cameras: Sequence[str], width: int,
                 height: int, *, render_profile: str | None = None, render: bool = True,
                 table: KeypointTable | None = None,
                 depth_encoding: DepthEncoding | None = None) -> None:
        from twin.sim import make_backend

        scene = getattr(env_backend, "scene", None)
        if scene is None:
            raise ValueError("LivePrompts: the env's backend has no scene to copy")
        profile = render_profile or getattr(env_backend, "_render_profile", "full")
        self.env_backend = env_backend
        self.replay_backend = make_backend(scene.config, num_envs=1, render_profile=profile)
        self.generator = PromptGenerator(self.replay_backend, cameras, width, height,
                                         table=table, render=render)
        self.depth_encoding = depth_encoding or DepthEncoding()

    @property
    def table(self) -> KeypointTable:
        return self.generator.table

    def __call__(self, env_id: int = 0) -> tuple[np.ndarray, dict[str, CameraPrompts]]:
        """(qpos (nq,), prompts per camera) of env ``env_id``'s current state."""
        qpos = self.env_backend.get_qpos([env_id])[0]
        return qpos, self.generator.from_state(qpos, mocap_poses(self.env_backend, env_id))

    def close(self) -> None:
        self.replay_backend.close()
