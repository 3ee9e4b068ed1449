"""Keypoints bound to a backend: world positions by forward kinematics, projection, visibility.

This module owns turning a ``KeypointTable`` (``twin.robots.keypoints``) into per-frame
arrays for one camera: world positions (K, 3) from body poses (or sites), pixel coordinates
(K, 2) in OpenCV's convention (``twin.scene.camera``: pixel (u, v) lies in column
``floor(u)``, row ``floor(v)``), camera depth (K,) in metres, and a COCO-style visibility
code per keypoint:

- ``0``: not present on this robot, behind the camera, or outside the image;
- ``1``: inside the image but occluded;
- ``2``: visible.

A keypoint inside the image is *visible* when the surface rendered at its pixel belongs to
its own link or a link next to it in the kinematic tree (the keypoint lies inside that
link's mesh, whose front surface is what the camera sees), or when the rendered surface is
no more than ``tolerance_m`` (default 2 cm) in front of the keypoint. Anything else in front
(another link, an object, the table) occludes it.

The robot's bodies are the kinematic subtree of ``RobotSpec.root_body_name``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.robots.keypoints import KeypointTable
from twin.rotations import quat_apply
from twin.scene.camera import CameraParams
from twin.sim.backend import SimBackend

VIS_ABSENT, VIS_OCCLUDED, VIS_VISIBLE = 0, 1, 2
DEFAULT_OCCLUSION_TOLERANCE_M = 0.02


def body_parent_ids(backend: SimBackend) -> np.ndarray:
    """(nbody,) parent body id of every body (world's parent is itself).

    ``SimBackend`` has no such method yet; the MuJoCo backend exposes its model.
    """
    fn = getattr(backend, "body_parent_index", None)
    if fn is not None:
        return np.asarray(fn(), dtype=np.int64)
    model = getattr(backend, "model", None)
    if model is None or not hasattr(model, "body_parentid"):
        raise NotImplementedError(
            f"{type(backend).__name__}: need body_parent_index() to find the robot's bodies")
    return np.asarray(model.body_parentid, dtype=np.int64)


def subtree_body_ids(backend: SimBackend, root_body: str) -> np.ndarray:
    """Ids of ``root_body`` and every body below it (sorted)."""
    parent = body_parent_ids(backend)
    root = int(backend.body_index([root_body])[0])
    inside = np.zeros(parent.size, dtype=bool)
    inside[root] = True
    for b in range(parent.size):  # MuJoCo orders bodies parents first
        if b != root and b != 0 and inside[parent[b]]:
            inside[b] = True
    return np.flatnonzero(inside)


@dataclass
class BoundKeypoints:
    """A ``KeypointTable`` resolved against one backend's body and site ids."""

    table: KeypointTable
    present: np.ndarray  # (K,) bool
    on_surface: np.ndarray  # (K,) bool
    body_ids: np.ndarray  # (K,) int, -1 for site / absent keypoints
    offsets: np.ndarray  # (K, 3) m, body frame
    site_ids: np.ndarray  # (K,) int, -1 for body / absent keypoints
    robot_body_ids: np.ndarray  # (B,) every body of the robot
    neighbour_ids: list[np.ndarray]  # per keypoint: its body, its parent and its children

    @classmethod
    def bind(cls, table: KeypointTable, backend: SimBackend, root_body: str) -> BoundKeypoints:
        kps = table.keypoints
        k = len(kps)
        present = np.array([kp.present for kp in kps])
        body_ids = np.full(k, -1, dtype=np.int64)
        site_ids = np.full(k, -1, dtype=np.int64)
        offsets = np.zeros((k, 3))
        for i, kp in enumerate(kps):
            if not kp.present:
                continue
            if kp.site is not None:
                site_ids[i] = int(backend.site_index([kp.site])[0])
            else:
                body_ids[i] = int(backend.body_index([kp.body])[0])
                offsets[i] = kp.offset
        parent = body_parent_ids(backend)
        robot = subtree_body_ids(backend, root_body)
        neighbours = []
        for i, kp in enumerate(kps):
            b = body_ids[i]
            if b < 0:  # absent, or a site: visible by the depth test alone
                neighbours.append(np.zeros(0, dtype=np.int64))
                continue
            near = {int(b), int(parent[b])} | set(np.flatnonzero(parent == b).tolist())
            near.discard(0)
            neighbours.append(np.array(sorted(near), dtype=np.int64))
        return cls(table, present, np.array([kp.on_surface for kp in kps]), body_ids, offsets,
                   site_ids, robot, neighbours)

    def __len__(self) -> int:
        return self.present.size

    def world_positions(self, backend: SimBackend, env_id: int = 0) -> np.ndarray:
        """(K, 3) world positions (m); absent keypoints are 0."""
        out = np.zeros((len(self), 3))
        on_body = self.body_ids >= 0
        if on_body.any():
            ids = self.body_ids[on_body]
            pos = backend.body_pos_w(ids, [env_id])[0]
            quat = backend.body_quat_wxyz(ids, [env_id])[0]
            out[on_body] = pos + quat_apply(quat, self.offsets[on_body])
        on_site = self.site_ids >= 0
        if on_site.any():
            out[on_site] = backend.site_pos_w(self.site_ids[on_site], [env_id])[0]
        return out


def project(points_w: np.ndarray, camera: CameraParams, present: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels (K, 2), camera depth (K,) m, and in-view mask (K,): present, in front of the
    camera and inside the image."""
    uv, depth = camera.project(points_w)
    intr = camera.intrinsics
    in_view = (present & (depth > 1e-6) & (uv[:, 0] >= 0) & (uv[:, 0] < intr.width)
               & (uv[:, 1] >= 0) & (uv[:, 1] < intr.height))
    return uv, depth, in_view


def pixel_of(uv: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of the pixel holding each point (clipped into the image)."""
    col = np.clip(np.floor(uv[:, 0]), 0, width - 1).astype(np.int64)
    row = np.clip(np.floor(uv[:, 1]), 0, height - 1).astype(np.int64)
    return col, row


def visibility(bound: BoundKeypoints, uv: np.ndarray, depth: np.ndarray, in_view: np.ndarray,
               depth_image: np.ndarray, segmentation: np.ndarray,
               tolerance_m: float = DEFAULT_OCCLUSION_TOLERANCE_M) -> np.ndarray:
    """(K,) uint8 COCO visibility (0 absent/out of view, 1 occluded, 2 visible)."""
    h, w = segmentation.shape
    col, row = pixel_of(uv, w, h)
    seen_body = segmentation[row, col]
    seen_depth = depth_image[row, col]
    vis = np.zeros(len(bound), dtype=np.uint8)
    for i in np.flatnonzero(in_view):
        own = seen_body[i] in bound.neighbour_ids[i]
        vis[i] = VIS_VISIBLE if (own or depth[i] <= seen_depth[i] + tolerance_m) else VIS_OCCLUDED
    return vis
