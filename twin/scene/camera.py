"""Camera models in numpy: intrinsics, extrinsics (OpenCV convention) and projection.

Conventions: ``world_from_camera`` is a 4x4 transform whose rotation columns are the camera
axes in the world in OpenCV's convention (x right, y down, z forward). MuJoCo cameras look
along their -z with y up; ``opencv_from_mujoco_rotation`` converts. Pixel coordinates are
continuous with the top-left corner of the top-left pixel at (0, 0), so pixel (u, v) lies
in column ``floor(u)``, row ``floor(v)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# MuJoCo camera frame (x right, y up, z backward) -> OpenCV (x right, y down, z forward).
_FLIP_YZ = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics in pixels for an image of ``width`` x ``height``."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def fovy_deg(self) -> float:
        return math.degrees(2.0 * math.atan(0.5 * self.height / self.fy))

    @classmethod
    def from_fovy(cls, fovy_deg: float, width: int, height: int) -> CameraIntrinsics:
        """Square pixels, principal point at the image centre (MuJoCo's fovy cameras)."""
        if not 0.0 < fovy_deg < 180.0:
            raise ValueError(f"fovy must be in (0, 180) degrees, got {fovy_deg}")
        f = 0.5 * height / math.tan(math.radians(fovy_deg) / 2.0)
        return cls(f, f, width / 2.0, height / 2.0, int(width), int(height))

    @classmethod
    def from_K(cls, K: np.ndarray, width: int, height: int) -> CameraIntrinsics:
        K = np.asarray(K, dtype=np.float64)
        if K.shape != (3, 3):
            raise ValueError(f"K must be 3x3, got shape {K.shape}")
        if K[0, 0] <= 0 or K[1, 1] <= 0:
            raise ValueError(f"K focal lengths must be > 0, got fx={K[0, 0]}, fy={K[1, 1]}")
        return cls(float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]),
                   int(width), int(height))

    def scaled(self, width: int, height: int) -> CameraIntrinsics:
        """The same camera rendered at another resolution."""
        sx, sy = width / self.width, height / self.height
        return CameraIntrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy,
                                int(width), int(height))


@dataclass(frozen=True)
class CameraParams:
    """Everything needed to project world points into one camera's image."""

    name: str
    intrinsics: CameraIntrinsics
    world_from_camera: np.ndarray  # (4, 4), OpenCV axes

    @property
    def camera_from_world(self) -> np.ndarray:
        return invert_transform(self.world_from_camera)

    def project(self, points_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return project_points(points_w, self.intrinsics, self.world_from_camera)

    def as_dict(self) -> dict[str, np.ndarray]:
        i = self.intrinsics
        return {"K": i.K, "width": np.int64(i.width), "height": np.int64(i.height),
                "world_from_camera": self.world_from_camera}


def invert_transform(T: np.ndarray) -> np.ndarray:
    R, t = T[:3, :3], T[:3, 3]
    out = np.eye(4)
    out[:3, :3] = R.T
    out[:3, 3] = -R.T @ t
    return out


def opencv_from_mujoco_rotation(R_world_cam_mujoco: np.ndarray) -> np.ndarray:
    return np.asarray(R_world_cam_mujoco) @ _FLIP_YZ


def mujoco_from_opencv_rotation(R_world_cam_opencv: np.ndarray) -> np.ndarray:
    return np.asarray(R_world_cam_opencv) @ _FLIP_YZ


def look_at_rotation_opencv(pos_w: np.ndarray, target_w: np.ndarray,
                            up_w: np.ndarray = np.array([0.0, 0.0, 1.0])) -> np.ndarray:
    """World-from-camera rotation (OpenCV axes) of a camera at ``pos_w`` looking at ``target_w``."""
    z = np.asarray(target_w, float) - np.asarray(pos_w, float)
    n = np.linalg.norm(z)
    if n < 1e-9:
        raise ValueError("camera position and look-at target coincide")
    z /= n
    up = np.asarray(up_w, float)
    if abs(np.dot(z, up)) > 0.999:  # looking straight up/down: pick another up
        up = np.array([0.0, 1.0, 0.0])
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def project_points(points_w: np.ndarray, intrinsics: CameraIntrinsics,
                   world_from_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project world points (..., 3) to pixels (..., 2); also returns camera depth (...,) in m.

    Points behind the camera get depth <= 0; their pixels are meaningless (NaN is not used so
    callers can vectorise; mask with ``depth > 0``).
    """
    p = np.asarray(points_w, dtype=np.float64)
    T = invert_transform(np.asarray(world_from_camera, dtype=np.float64))
    pc = p @ T[:3, :3].T + T[:3, 3]
    z = pc[..., 2]
    safe_z = np.where(np.abs(z) < 1e-9, 1e-9, z)
    u = intrinsics.fx * pc[..., 0] / safe_z + intrinsics.cx
    v = intrinsics.fy * pc[..., 1] / safe_z + intrinsics.cy
    return np.stack([u, v], axis=-1), z


# Depth a prompt camera must cover: a camera on a robot body sees the robot's own links from
# about a centimetre (the Panda wrist camera sees its fingers at 0.085-0.115 m); a camera in
# the world sees the robot around its base, within an arm's or a step's reach.
MOUNTED_DEPTH_RANGE_M = (0.01, 1.0)
WORLD_DEPTH_MARGIN_M = 1.5


def default_depth_range_m(body_mounted: bool, distance_to_robot_m: float) -> tuple[float, float]:
    """[near, far] m for a camera's agent-depth prompt when its scene gives none.

    ``distance_to_robot_m``: from the camera to the robot's root body in the default pose.
    """
    if body_mounted:
        return MOUNTED_DEPTH_RANGE_M
    d = float(distance_to_robot_m)
    return max(0.05, d - WORLD_DEPTH_MARGIN_M), d + WORLD_DEPTH_MARGIN_M
