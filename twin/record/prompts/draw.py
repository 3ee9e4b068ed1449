"""Rasterising skeleton prompts: edges and joints of a ``KeypointTable`` on a black image.

Drawn with OpenCV (``cv2.line``/``cv2.circle``, 8-connected, anti-aliasing off), so the image
is a pure function of the keypoints' pixel coordinates and depths: a skeleton drawn again
from logged states is identical to the one drawn live. Each point is drawn at the pixel that
holds it (``floor(u), floor(v)``, see ``twin.scene.camera``). Edges are drawn far to near
(by the mean camera depth of their ends), then joints far to near, so nearer limbs cover
farther ones. Keypoints behind the camera or not present are not drawn; points outside the
image are drawn (clipped) so limbs entering the frame stay visible. Occlusion does not hide a
limb: the skeleton is the agent's full pose, its visibility codes are stored beside it.
"""

from __future__ import annotations

import cv2
import numpy as np

from twin.robots.keypoints import KeypointTable

# Coordinates passed to OpenCV are clipped to this many pixels beyond the image.
_CLIP_PX = 4096


def line_widths(height: int, width: int) -> tuple[int, int]:
    """(edge thickness, joint radius) in pixels: 2 and 3 at 256 px, scaled with image size."""
    side = min(height, width)
    return max(1, round(side / 128)), max(1, round(1.5 * side / 128))


def draw_skeleton(table: KeypointTable, uv: np.ndarray, depth: np.ndarray,
                  present: np.ndarray, height: int, width: int,
                  edge_thickness: int | None = None, joint_radius: int | None = None
                  ) -> np.ndarray:
    """(H, W, 3) uint8 RGB skeleton image of one camera's keypoints.

    Args:
        uv: (K, 2) pixel coordinates (OpenCV convention); depth: (K,) camera depth (m).
        present: (K,) bool, keypoints that exist on this robot.
    """
    t_default, r_default = line_widths(height, width)
    thickness = edge_thickness or t_default
    radius = joint_radius or r_default
    img = np.zeros((height, width, 3), dtype=np.uint8)
    drawable = present & (depth > 1e-6) & np.isfinite(uv).all(axis=1)
    px = np.clip(np.floor(uv), -_CLIP_PX, _CLIP_PX + max(height, width))
    px = np.where(np.isfinite(px), px, 0).astype(np.int64)
    edges = [(i, j, c) for i, j, c in table.edges() if drawable[i] and drawable[j]]
    edges.sort(key=lambda e: -(depth[e[0]] + depth[e[1]]))  # stable: far first
    for i, j, color in edges:
        cv2.line(img, (int(px[i, 0]), int(px[i, 1])), (int(px[j, 0]), int(px[j, 1])),
                 color, thickness, lineType=cv2.LINE_8)
    colors = table.point_colors()
    for i in sorted(np.flatnonzero(drawable).tolist(), key=lambda k: -depth[k]):
        cv2.circle(img, (int(px[i, 0]), int(px[i, 1])), radius, colors[i], -1,
                   lineType=cv2.LINE_8)
    return img
