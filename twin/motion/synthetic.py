"""Procedural human motions for tests, benchmarks and demos (no data files needed).

``procedural_walk`` makes an SMPL parameter sequence of straight walking: the pelvis moves
forward at a constant speed with a small vertical bob, hips swing in antiphase, the swing
knee flexes, arms hang and swing opposite to the legs. It is kinematically plausible, not
dynamically exact; its value is that every joint angle and the pelvis path are known.
"""

from __future__ import annotations

import numpy as np

from twin.motion.readers import SmplParams
from twin.motion.rotations import (
    R_ZUP_FROM_YUP,
    axis_angle_to_matrix,
    matrix_to_quat,
    quat_to_rotvec,
)
from twin.motion.smpl import SMPL_JOINT_NAMES, mean_shape_rest_joints


def procedural_walk(duration_s: float = 10.0, speed_m_s: float = 1.0, fps: float = 50.0,
                    height_m: float = 1.70, heading_rad: float = 0.0,
                    stride_hz: float = 0.9, yaw_rate_rad_s: float = 0.0) -> SmplParams:
    """Walking in a z-up (AMASS-style) world, starting along ``heading_rad`` from +x; with
    ``yaw_rate_rad_s`` the heading turns at that rate (an arc of radius speed / rate)."""
    T = round(duration_s * fps) + 1
    t = np.arange(T) / fps
    phase = 2.0 * np.pi * stride_hz * t
    body = np.zeros((T, 21, 3))
    j = {n: SMPL_JOINT_NAMES.index(n) - 1 for n in SMPL_JOINT_NAMES[1:22]}
    swing = 0.4 * np.sin(phase)
    body[:, j["left_hip"], 0] = -swing  # negative x rotation brings the leg forward
    body[:, j["right_hip"], 0] = swing
    body[:, j["left_knee"], 0] = 0.15 + 0.55 * np.clip(np.cos(phase), 0, None)
    body[:, j["right_knee"], 0] = 0.15 + 0.55 * np.clip(-np.cos(phase), 0, None)
    body[:, j["left_ankle"], 0] = -0.1 * np.sin(phase)
    body[:, j["right_ankle"], 0] = 0.1 * np.sin(phase)
    body[:, j["left_shoulder"], 2] = -1.25  # arms down from the T-pose
    body[:, j["right_shoulder"], 2] = 1.25
    body[:, j["left_shoulder"], 1] = 0.3 * np.sin(phase)  # arm swing opposite the leg
    body[:, j["right_shoulder"], 1] = 0.3 * np.sin(phase)
    body[:, j["left_elbow"], 1] = -0.3  # flexion: -y for the left elbow, +y for the right
    body[:, j["right_elbow"], 1] = 0.3

    # Root: SMPL faces +z (y up); R_zup turns that to -y, a yaw of 90 deg + heading to +x.
    heading = heading_rad + yaw_rate_rad_s * t
    yaw = heading + np.pi / 2
    c, s_ = np.cos(yaw), np.sin(yaw)
    Rz = np.zeros((T, 3, 3))
    Rz[:, 0, 0], Rz[:, 0, 1], Rz[:, 1, 0], Rz[:, 1, 1], Rz[:, 2, 2] = c, -s_, s_, c, 1.0
    R_root = Rz @ R_ZUP_FROM_YUP
    root = quat_to_rotvec(matrix_to_quat(R_root))
    rest = mean_shape_rest_joints(height_m)
    velocity = speed_m_s * np.stack([np.cos(heading), np.sin(heading), 0 * t], axis=1)
    pelvis = np.concatenate([np.zeros((1, 3)), np.cumsum(
        0.5 * (velocity[1:] + velocity[:-1]) / fps, axis=0)])
    pelvis[:, 2] = 0.02 * np.cos(2 * phase)
    transl = pelvis - rest[0]  # pelvis = J0 + transl
    return SmplParams(path="<procedural_walk>", format="procedural", model="smpl",
                      root_orient_aa=root, body_pose_aa=body, betas=np.zeros(10),
                      transl=transl, up_axis="z", fps=fps,
                      info={"speed_m_s": f"{speed_m_s:g}", "duration_s": f"{duration_s:g}",
                            "yaw_rate_rad_s": f"{yaw_rate_rad_s:g}"})


def gvhmr_result_in_camera(root_rot_w: np.ndarray, pelvis_w: np.ndarray, body_pose: np.ndarray,
                           world_from_camera: np.ndarray, K: np.ndarray, height_m: float = 1.70,
                           global_yaw_rad: float = 0.0,
                           global_offset_m: tuple[float, float] = (0.0, 0.0),
                           noise_m: float = 0.0, noise_rad: float = 0.0, seed: int = 0
                           ) -> dict[str, dict[str, np.ndarray] | np.ndarray]:
    """A GVHMR ``hmr4d_results.pt`` dict of a subject whose motion is known in a scene.

    Args:
        root_rot_w: (T, 3, 3) SMPL root orientation in the z-up world (a subject facing yaw
            ``h`` has ``Rz(h + pi/2) @ R_ZUP_FROM_YUP``).
        pelvis_w: (T, 3) pelvis position in the world, m.
        body_pose: (T, 21, 3) axis-angle, rad.
        world_from_camera: (4, 4), OpenCV axes: the filming camera.
        K: (3, 3) its intrinsics (stored per frame as ``K_fullimg``).
        global_yaw_rad, global_offset_m: where the gravity-aligned global estimate starts
            (GVHMR's global frame has its own origin and heading): world = Rz(yaw) g + offset.
        noise_m, noise_rad: per-frame Gaussian noise on the camera-frame estimate.

    Returns the dict with ``smpl_params_global`` (y-up), ``smpl_params_incam`` (OpenCV
    camera axes) and ``K_fullimg`` (T, 3, 3); pelvis = J0 + transl in both.
    """
    rng = np.random.default_rng(seed)
    T = pelvis_w.shape[0]
    J0 = mean_shape_rest_joints(height_m)[0]
    c, s = np.cos(global_yaw_rad), np.sin(global_yaw_rad)
    Rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    off = np.array([global_offset_m[0], global_offset_m[1], 0.0])
    pelvis_g = (pelvis_w - off) @ Rz  # Rz^T (p - off), row vectors
    rot_g = Rz.T @ root_rot_w
    R_wc, t_wc = world_from_camera[:3, :3], world_from_camera[:3, 3]
    pelvis_c = (pelvis_w - t_wc) @ R_wc + rng.normal(0.0, noise_m, (T, 3))
    rot_c = R_wc.T @ root_rot_w
    if noise_rad > 0:
        rot_c = axis_angle_to_matrix(rng.normal(0.0, noise_rad, (T, 3))) @ rot_c

    def aa(R: np.ndarray) -> np.ndarray:
        return quat_to_rotvec(matrix_to_quat(R))

    def group(orient: np.ndarray, transl: np.ndarray) -> dict[str, np.ndarray]:
        return {"global_orient": orient.astype(np.float32),
                "body_pose": body_pose.reshape(T, 63).astype(np.float32),
                "betas": np.zeros((T, 10), np.float32), "transl": transl.astype(np.float32)}

    return {"smpl_params_global": group(aa(R_ZUP_FROM_YUP.T @ rot_g),
                                        pelvis_g @ R_ZUP_FROM_YUP - J0),
            "smpl_params_incam": group(aa(rot_c), pelvis_c - J0),
            "K_fullimg": np.repeat(np.asarray(K, np.float32)[None], T, axis=0)}
