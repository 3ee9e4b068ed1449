"""Place a plan in the scene's world frame: from the camera that filmed it, from an explicit
start pose, or at the robot's pose in the scene.

A video estimate lives in its own gravity-aligned frame (GVHMR ``smpl_params_global``: y-up,
origin and heading arbitrary) and, frame by frame, in the frame of the camera that filmed
it (``smpl_params_incam``, OpenCV axes). The scene's calibration of that camera
(``world_from_camera``) brings the camera-frame pelvis path and heading into the world; the
rigid motion about z that best maps the global path onto them (least squares over every
frame: heading = circular mean of the per-frame heading differences, offset = mean of the
position differences) places the smooth global motion where the camera saw the subject.
The fit's residuals (pelvis path in m, heading in deg, and the tilt between the two
gravity directions in deg) say how far the two estimates disagree; a large tilt means the
calibration or the estimate's gravity is off.

The retargeted robot path is the human path scaled by robot / subject height about the
motion's origin, so the robot motion is anchored at one frame (``anchor``: the first by
default, or the last): its root there lands on the placed human pelvis; elsewhere the
robot path keeps the retarget's scale, and the distance between the robot's and the
subject's pelvis at the other end is reported.

Frames: world z-up, metres; yaw in rad about world z; quaternions wxyz.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from twin.motion.robot_motion import RobotMotion
from twin.rotations import quat_from_yaw, quat_mul, yaw_from_quat
from twin.scene.camera import (
    CameraIntrinsics,
    look_at_rotation_opencv,
)
from twin.scene.config import CameraConfig, SceneConfig

log = logging.getLogger(__name__)

PLACEMENT_MODES = ("auto", "camera", "start_pose", "robot", "motion")
PLACEMENT_ANCHORS = ("start", "end")
INTRINSICS_TOLERANCE = 0.02  # relative disagreement of fx, fy, cx, cy that warrants a warning


@dataclass(frozen=True)
class SE2:
    """``world = Rz(yaw_rad) @ p + [x_m, y_m, 0]`` for points of the plan's frame."""

    yaw_rad: float
    x_m: float
    y_m: float

    def apply(self, p: np.ndarray) -> np.ndarray:
        c, s = np.cos(self.yaw_rad), np.sin(self.yaw_rad)
        p = np.asarray(p, dtype=np.float64)
        out = p.copy()
        out[..., 0] = c * p[..., 0] - s * p[..., 1] + self.x_m
        out[..., 1] = s * p[..., 0] + c * p[..., 1] + self.y_m
        return out

    def rotate(self, v: np.ndarray) -> np.ndarray:
        return replace(self, x_m=0.0, y_m=0.0).apply(v)


@dataclass(frozen=True)
class CameraFit:
    """The plan-frame -> world transform fitted from the camera, and its residuals."""

    transform: SE2
    path_residual_rms_m: float
    path_residual_max_m: float
    heading_residual_rms_deg: float
    heading_residual_max_deg: float
    gravity_tilt_max_deg: float  # rotation between the two estimates that is not about z
    camera_pelvis_height_m: float  # median pelvis height the calibrated camera implies

    def as_dict(self) -> dict:
        return {"path_residual_rms_m": round(self.path_residual_rms_m, 4),
                "path_residual_max_m": round(self.path_residual_max_m, 4),
                "heading_residual_rms_deg": round(self.heading_residual_rms_deg, 3),
                "heading_residual_max_deg": round(self.heading_residual_max_deg, 3),
                "gravity_tilt_max_deg": round(self.gravity_tilt_max_deg, 3),
                "camera_pelvis_height_m": round(self.camera_pelvis_height_m, 4)}


def _wrap(a: np.ndarray) -> np.ndarray:
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def fit_camera_placement(pelvis_plan: np.ndarray, rot_plan: np.ndarray,
                         pelvis_world: np.ndarray, rot_world: np.ndarray) -> CameraFit:
    """Rigid motion about z mapping the plan's pelvis track onto the camera's, in the world.

    Args:
        pelvis_plan: (T, 3) pelvis in the plan's z-up frame, m.
        rot_plan: (T, 3, 3) root orientation in the plan's frame.
        pelvis_world: (T, 3) pelvis in the world as the calibrated camera sees it, m.
        rot_world: (T, 3, 3) root orientation in the world as the camera sees it.
    """
    D = rot_world @ np.swapaxes(rot_plan, -1, -2)  # ideally one rotation about z
    yaw_t = np.arctan2(D[:, 1, 0] - D[:, 0, 1], D[:, 0, 0] + D[:, 1, 1])
    yaw = float(np.arctan2(np.sin(yaw_t).mean(), np.cos(yaw_t).mean()))
    c, s = np.cos(yaw), np.sin(yaw)
    rz = np.array([[c, -s], [s, c]])
    offset = (pelvis_world[:, :2] - pelvis_plan[:, :2] @ rz.T).mean(axis=0)
    se2 = SE2(yaw, float(offset[0]), float(offset[1]))
    path = np.linalg.norm(se2.apply(pelvis_plan)[:, :2] - pelvis_world[:, :2], axis=1)
    heading = np.degrees(np.abs(_wrap(yaw_t - yaw)))
    # what is left of D after removing its yaw: the disagreement of the two "up"s
    rz3 = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    rest = np.swapaxes(rz3, -1, -2) @ D
    tilt = np.degrees(np.arccos(np.clip(rest[:, 2, 2], -1.0, 1.0)))
    return CameraFit(se2, float(np.sqrt((path ** 2).mean())), float(path.max()),
                     float(np.sqrt((heading ** 2).mean())), float(heading.max()),
                     float(tilt.max()), float(np.median(pelvis_world[:, 2])))


def camera_world_from_camera(cam: CameraConfig) -> tuple[np.ndarray, CameraIntrinsics]:
    """``world_from_camera`` (4x4, OpenCV axes) and intrinsics of a world-mounted scene camera."""
    if cam.body is not None:
        raise ValueError(f"placement_camera {cam.name!r} is mounted on body {cam.body!r}; "
                         "expected a camera fixed in the world")
    if cam.K is not None:
        T = np.asarray(cam.world_from_camera, dtype=np.float64)
        return T, CameraIntrinsics.from_K(np.asarray(cam.K, float), cam.width, cam.height)
    T = np.eye(4)
    pos = np.asarray(cam.pos, dtype=np.float64)
    if cam.lookat is not None:
        T[:3, :3] = look_at_rotation_opencv(pos, np.asarray(cam.lookat, float))
    else:
        from twin.rotations import quat_to_matrix
        from twin.scene.camera import opencv_from_mujoco_rotation

        T[:3, :3] = opencv_from_mujoco_rotation(quat_to_matrix(np.asarray(cam.quat_wxyz, float)))
    T[:3, 3] = pos
    return T, CameraIntrinsics.from_fovy(float(cam.fovy), cam.width, cam.height)


def check_intrinsics(K_file: np.ndarray, intr: CameraIntrinsics, camera: str,
                     tol: float = INTRINSICS_TOLERANCE) -> str | None:
    """A warning when the plan's ``K_fullimg`` and the scene camera's K disagree (None if
    they agree within ``tol``, possibly up to a uniform change of image resolution)."""
    f = np.array([K_file[0, 0], K_file[1, 1], K_file[0, 2], K_file[1, 2]])
    c = np.array([intr.fx, intr.fy, intr.cx, intr.cy])
    rel = np.abs(f - c) / np.abs(c)
    if rel.max() <= tol:
        return None
    scale = f[2] / c[2] if c[2] else 1.0
    if np.abs(f - scale * c).max() <= tol * np.abs(scale * c).max():
        return None  # same camera filmed at another resolution: the rays agree
    return (f"plan K_fullimg (fx {f[0]:.1f}, fy {f[1]:.1f}, cx {f[2]:.1f}, cy {f[3]:.1f}) "
            f"disagrees with scene camera {camera!r} K (fx {c[0]:.1f}, fy {c[1]:.1f}, "
            f"cx {c[2]:.1f}, cy {c[3]:.1f}) by up to {100 * rel.max():.0f} %: the video was not "
            "filmed (or generated) with this calibration, so the camera-frame depth may be off")


def camera_tracks(plan_path: str | Path, world_from_camera: np.ndarray, J0: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(pelvis_plan, rot_plan, pelvis_world, rot_world, K_file) from a GVHMR/GEM result.

    ``J0``: the rest pelvis joint (3,) of the skeleton the plan is normalised with; pelvis =
    J0 + transl in both the global (y-up) and the camera frame.
    """
    from twin.motion.errors import MotionFormatError
    from twin.motion.readers import SmplParams, read_camera_frame_params, read_raw_motion
    from twin.motion.rotations import R_ZUP_FROM_YUP, axis_angle_to_matrix

    cam = read_camera_frame_params(plan_path)
    raw = read_raw_motion(plan_path)
    if cam is None or not isinstance(raw, SmplParams):
        raise ValueError(f"placement=camera: {plan_path} has no camera-frame estimate "
                         "(GVHMR smpl_params_incam / GEM body_params_incam)")
    if cam.transl.shape[0] != raw.num_frames:
        raise MotionFormatError(plan_path, "smpl_params_incam.transl", f"has "
                                f"{cam.transl.shape[0]} frames; expected {raw.num_frames} like "
                                "the global estimate")
    pelvis_plan = (raw.transl + J0) @ R_ZUP_FROM_YUP.T
    rot_plan = R_ZUP_FROM_YUP @ axis_angle_to_matrix(raw.root_orient_aa)
    R_wc, t_wc = world_from_camera[:3, :3], world_from_camera[:3, 3]
    pelvis_world = (cam.transl + J0) @ R_wc.T + t_wc
    rot_world = R_wc @ axis_angle_to_matrix(cam.root_orient_aa)
    return pelvis_plan, rot_plan, pelvis_world, rot_world, cam.K


def rest_pelvis(plan_path: str | Path, height_m: float, body_model: str | None) -> np.ndarray:
    """J0 of the skeleton ``twin.motion.normalise`` uses for this plan."""
    from twin.motion.smpl import load_body_model, mean_shape_rest_joints

    if body_model:
        from twin.motion.readers import read_raw_motion

        return load_body_model(body_model).rest_joints(read_raw_motion(plan_path).betas)[0]
    return mean_shape_rest_joints(height_m)[0]


def _r(a: np.ndarray) -> list[float]:
    return np.round(np.asarray(a, dtype=np.float64), 4).tolist()


def place_robot_motion(motion: RobotMotion, se2: SE2, placement: dict | None = None
                       ) -> RobotMotion:
    """The motion moved rigidly by ``se2`` (positions, orientations, velocities)."""
    q = quat_from_yaw(np.float64(se2.yaw_rad))
    human = None if motion.human_joint_pos_w is None else se2.apply(motion.human_joint_pos_w)
    source = dict(motion.source)
    if placement is not None:
        source["placement"] = placement
    return replace(
        motion, root_pos_w=se2.apply(motion.root_pos_w),
        root_quat_wxyz=quat_mul(np.broadcast_to(q, motion.root_quat_wxyz.shape),
                                motion.root_quat_wxyz),
        body_pos_w=se2.apply(motion.body_pos_w),
        body_quat_wxyz=quat_mul(np.broadcast_to(q, motion.body_quat_wxyz.shape),
                                motion.body_quat_wxyz),
        body_lin_vel_w=se2.rotate(motion.body_lin_vel_w),
        body_ang_vel_w=se2.rotate(motion.body_ang_vel_w),
        human_joint_pos_w=human, source=source)


def _start_at(motion: RobotMotion, pose: tuple[float, float, float]) -> SE2:
    yaw = pose[2] - float(yaw_from_quat(motion.root_quat_wxyz[0]))
    c, s = np.cos(yaw), np.sin(yaw)
    r0 = motion.root_pos_w[0]
    return SE2(float(yaw), float(pose[0] - (c * r0[0] - s * r0[1])),
               float(pose[1] - (s * r0[0] + c * r0[1])))


def robot_pose_in_scene(scene: SceneConfig) -> tuple[float, float, float]:
    x, y = (0.0, 0.0) if scene.robot_base_pos is None else scene.robot_base_pos[:2]
    return float(x), float(y), float(scene.robot_base_yaw)


def scene_camera(scene: SceneConfig, name: str | None) -> CameraConfig | None:
    """The named camera, or the scene's first calibrated world camera (None if none)."""
    if name is not None:
        for cam in scene.cameras:
            if cam.name == name:
                return cam
        raise ValueError(f"placement_camera {name!r}; the scene has "
                         f"{[c.name for c in scene.cameras]}")
    return next((c for c in scene.cameras if c.K is not None and c.body is None), None)


def resolve_mode(mode: str, start_pose: list[float] | None, plan_has_camera: bool,
                 camera: CameraConfig | None) -> str:
    if mode not in PLACEMENT_MODES:
        raise ValueError(f"placement {mode!r}; expected one of {list(PLACEMENT_MODES)}")
    if start_pose is not None and len(start_pose) != 3:
        raise ValueError(f"start_pose {list(start_pose)}: expected [x, y, yaw] (m, m, rad)")
    if mode == "auto":
        if start_pose is not None:
            return "start_pose"
        return "camera" if plan_has_camera and camera is not None else "robot"
    if mode == "start_pose" and start_pose is None:
        raise ValueError("placement=start_pose needs start_pose=[x, y, yaw] (m, m, rad)")
    if mode == "camera" and camera is None:
        raise ValueError("placement=camera: the scene has no calibrated camera (K + "
                         "world_from_camera); name one with placement_camera=NAME")
    return mode


def place_plan(motion: RobotMotion, scene: SceneConfig, *, mode: str = "auto",
               start_pose: list[float] | None = None, camera_name: str | None = None,
               anchor: str = "start", plan_path: str | Path | None = None,
               subject_height_m: float | None = None, body_model: str | None = None
               ) -> tuple[RobotMotion, dict]:
    """The plan in the scene's world frame and what was done (for the report).

    ``plan_path``/``subject_height_m``: the human-motion file the robot motion was retargeted
    from (None for a robot motion file: no camera placement).
    """
    if anchor not in PLACEMENT_ANCHORS:
        raise ValueError(f"placement_anchor {anchor!r}; expected one of "
                         f"{list(PLACEMENT_ANCHORS)}")
    plan_has_camera = False
    if plan_path is not None and subject_height_m is not None:
        from twin.motion.readers import read_camera_frame_params

        plan_has_camera = read_camera_frame_params(plan_path) is not None
    cam = scene_camera(scene, camera_name) if mode in ("auto", "camera") else None
    mode = resolve_mode(mode, start_pose, plan_has_camera, cam)
    info: dict = {"mode": mode}
    if mode == "motion":
        return motion, info
    if mode == "start_pose":
        pose = tuple(float(v) for v in start_pose)  # type: ignore[union-attr]
        se2 = _start_at(motion, pose)
        info["start_pose"] = list(pose)
    elif mode == "robot":
        pose = robot_pose_in_scene(scene)
        se2 = _start_at(motion, pose)
        info["start_pose"] = list(pose)
    else:
        if not plan_has_camera:
            raise ValueError("placement=camera: the plan has no camera-frame estimate "
                             "(GVHMR smpl_params_incam / GEM body_params_incam)")
        assert cam is not None and plan_path is not None and subject_height_m is not None
        T_wc, intr = camera_world_from_camera(cam)
        J0 = rest_pelvis(plan_path, subject_height_m, body_model)
        pg, rg, pw, rw, K_file = camera_tracks(plan_path, T_wc, J0)
        fit = fit_camera_placement(pg, rg, pw, rw)
        info.update(camera=cam.name, fit=fit.as_dict())
        if K_file is not None:
            warning = check_intrinsics(K_file, intr, cam.name)
            info["intrinsics_warning"] = warning
            if warning:
                log.warning(warning)
        else:
            info["intrinsics_warning"] = "the plan has no K_fullimg to check against"
        # anchor the (scaled) robot path on the placed subject's pelvis
        k_h = 0 if anchor == "start" else len(pg) - 1
        k_r = 0 if anchor == "start" else motion.num_frames - 1
        target = fit.transform.apply(pg[k_h])
        r_rot = fit.transform.rotate(motion.root_pos_w[k_r])
        se2 = SE2(fit.transform.yaw_rad, float(target[0] - r_rot[0]),
                  float(target[1] - r_rot[1]))
        other_h, other_r = (len(pg) - 1, motion.num_frames - 1) if anchor == "start" else (0, 0)
        gap = se2.apply(motion.root_pos_w[other_r])[:2] - fit.transform.apply(pg[other_h])[:2]
        info.update(anchor=anchor, robot_vs_subject_other_end_m=round(float(
            np.linalg.norm(gap)), 4),
            subject_start_w=_r(fit.transform.apply(pg[0])[:2]),
            subject_end_w=_r(fit.transform.apply(pg[-1])[:2]))
    info["transform"] = {"yaw_rad": round(se2.yaw_rad, 6), "x_m": round(se2.x_m, 5),
                         "y_m": round(se2.y_m, 5)}
    placed = place_robot_motion(motion, se2, info)
    r0 = placed.root_pos_w[0]
    info["robot_start_pose"] = [round(float(r0[0]), 4), round(float(r0[1]), 4),
                                round(float(yaw_from_quat(placed.root_quat_wxyz[0])), 5)]
    return placed, info


def place_in_scene(motion: RobotMotion, scene: SceneConfig, cfg, info: dict
                   ) -> tuple[RobotMotion, dict]:
    """``place_plan`` with a ``ValidateConfig``'s settings and ``load_plan_motion``'s info."""
    human = info.get("kind") == "human_motion"
    return place_plan(motion, scene, mode=cfg.placement, start_pose=cfg.start_pose,
                      camera_name=cfg.placement_camera, anchor=cfg.placement_anchor,
                      plan_path=cfg.motion if human else None,
                      subject_height_m=info.get("subject_height_m") if human else None,
                      body_model=cfg.body_model)
