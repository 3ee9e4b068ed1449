"""Make the bundled scene demo plan: an ExoActor-style bundle for the ``cell`` scene.

What a video-to-humanoid pipeline would hand twin after generating a task video from the
cell camera's first picture and estimating the human in it: a GVHMR ``hmr4d_results.pt``
(``smpl_params_global``: gravity-aligned, y-up, its own origin and heading;
``smpl_params_incam``: the same body in the cell camera's frame, OpenCV axes, with
per-frame estimation noise; ``K_fullimg``: the camera intrinsics) plus per-frame hand
states, tied together by ``plan.json``.

The subject (1.70 m, SMPL neutral mean shape) stands at the robot's place facing the
table, walks 1.0 m towards it, leans and reaches for the box with the right hand and
closes the hand on it. The motion is procedural SMPL parameters (no data needed), written
at 30 fps like GVHMR; its ground truth in the world is known, so placement errors can be
measured against it.

    python scripts/make_scene_plan.py  # -> assets/demo/scene_plan/{plan.json,hmr4d_results.pt}
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import least_squares

from twin.motion.procedural.smpl_tasks import knee_bend_drop_m, smooth_step
from twin.motion.rotations import R_ZUP_FROM_YUP
from twin.motion.smpl import (
    ANKLE_HEIGHT_FRACTION,
    SMPL_BODY_PARENTS,
    SMPL_JOINT_NAMES,
    forward_kinematics,
    mean_shape_rest_joints,
)
from twin.motion.synthetic import gvhmr_result_in_camera
from twin.scene.config import load_scene_config

FPS = 30.0
DURATION_S = 7.0
HEIGHT_M = 1.70
WALK_M = 1.0  # pelvis travel along +x
WALK_S = (1.0, 3.4)  # start, end of the walk
REACH_S = (3.8, 5.0)  # arm moves to the box
CLOSE_S = 4.9  # right hand closes
CYCLE_M = 0.8  # pelvis travel per gait cycle (two steps)
GLOBAL_YAW_RAD, GLOBAL_OFFSET_M = 0.7, (0.4, -0.3)  # GVHMR's own global frame
NOISE_M, NOISE_RAD = 0.01, 0.01  # per-frame camera-frame estimation noise
# right wrist relative to the pelvis at the end of the reach (world axes, facing +x), m:
# scaled by the G1's 1.32 m / 1.70 m it lands ~4 cm from the box's near face
WRIST_IN_PELVIS_M = np.array([0.50, -0.23, 0.12])
_J = {n: SMPL_JOINT_NAMES.index(n) - 1 for n in SMPL_JOINT_NAMES[1:22]}


def _reach_pose(rest: np.ndarray, lean_rad: float) -> np.ndarray:
    """Right shoulder (3) and elbow (1) angles that put the wrist at WRIST_IN_PELVIS_M."""
    yaw = np.pi / 2  # facing +x
    Rz = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    R_root = Rz @ R_ZUP_FROM_YUP
    wrist = SMPL_JOINT_NAMES.index("right_wrist")

    def pose(x: np.ndarray) -> np.ndarray:
        body = np.zeros((1, 21, 3))
        body[0, _J["left_shoulder"], 2] = -1.25
        for j in ("spine1", "spine2", "spine3"):
            body[0, _J[j], 0] = lean_rad / 3
        body[0, _J["right_shoulder"]] = x[:3]
        body[0, _J["right_elbow"], 1] = x[3]
        return body

    def residual(x: np.ndarray) -> np.ndarray:
        from twin.motion.rotations import matrix_to_quat, quat_to_rotvec

        aa = quat_to_rotvec(matrix_to_quat(R_root))[None]
        pos, _ = forward_kinematics(rest, SMPL_BODY_PARENTS, aa, pose(x), np.zeros((1, 3)))
        rel = pos[0, wrist] - pos[0, 0]
        return np.concatenate([rel - WRIST_IN_PELVIS_M, 0.05 * x])  # small angles preferred

    sol = least_squares(residual, np.array([0.0, 0.5, 0.5, -0.3]))
    return pose(sol.x)[0]


def world_motion() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(root_rot_w (T,3,3), pelvis_w (T,3), body_pose (T,21,3), hand_state (T,2)) in the cell."""
    T = round(DURATION_S * FPS) + 1
    t = np.arange(T) / FPS
    rest = mean_shape_rest_joints(HEIGHT_M)
    x = WALK_M * smooth_step(t, *WALK_S)
    speed = np.gradient(x, t)
    w = speed / max(speed.max(), 1e-9)  # gait amplitude follows the speed
    phase = 2 * np.pi * x / CYCLE_M
    body = np.zeros((T, 21, 3))
    body[:, _J["left_hip"], 0] = -0.45 * w * np.sin(phase)
    body[:, _J["right_hip"], 0] = 0.45 * w * np.sin(phase)
    body[:, _J["left_knee"], 0] = w * (0.1 + 0.6 * np.clip(np.cos(phase), 0, None))
    body[:, _J["right_knee"], 0] = w * (0.1 + 0.6 * np.clip(-np.cos(phase), 0, None))
    body[:, _J["left_shoulder"], 2] = -1.25
    body[:, _J["right_shoulder"], 2] = 1.25
    body[:, _J["left_shoulder"], 1] = 0.25 * w * np.sin(phase)
    body[:, _J["right_shoulder"], 1] = 0.25 * w * np.sin(phase)
    body[:, _J["left_elbow"], 1] = 0.25
    body[:, _J["right_elbow"], 1] = -0.25
    lean = 0.2
    reach = smooth_step(t, *REACH_S)[:, None]
    target = _reach_pose(rest, lean)
    for j in ("right_shoulder", "right_elbow", "spine1", "spine2", "spine3"):
        body[:, _J[j]] = body[:, _J[j]] * (1 - reach) + target[_J[j]] * reach
    yaw = np.pi / 2  # SMPL faces +z (y-up); R_ZUP turns that to -y, 90 deg more to +x
    Rz = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    root_rot = np.repeat((Rz @ R_ZUP_FROM_YUP)[None], T, axis=0)
    stand_z = rest[0, 1] - rest[7, 1] + ANKLE_HEIGHT_FRACTION * HEIGHT_M  # above the soles
    bob = 0.015 * w * (1 - np.cos(2 * phase)) / 2
    pelvis = np.stack([x, np.zeros(T), stand_z - bob - knee_bend_drop_m(
        0.1 * w, HEIGHT_M)], axis=1)
    hands = np.zeros((T, 2), np.int8)
    hands[t >= CLOSE_S, 1] = 2  # right hand closed on the box
    return root_rot, pelvis, body, hands


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "assets" / "demo" / "scene_plan"
    out.mkdir(parents=True, exist_ok=True)
    scene = load_scene_config("cell")
    cam = next(c for c in scene.cameras if c.K is not None)
    root_rot, pelvis, body, hands = world_motion()
    result = gvhmr_result_in_camera(
        root_rot, pelvis, body, np.asarray(cam.world_from_camera, float),
        np.asarray(cam.K, float), HEIGHT_M, GLOBAL_YAW_RAD, GLOBAL_OFFSET_M, NOISE_M,
        NOISE_RAD, seed=0)

    def tensors(v):
        return {k: torch.tensor(a) for k, a in v.items()} if isinstance(v, dict) \
            else torch.tensor(v)

    torch.save({k: tensors(v) for k, v in result.items()}, out / "hmr4d_results.pt")
    manifest = {
        "schema": "twin.exoactor_bundle", "body": "hmr4d_results.pt", "body_format": "gvhmr",
        "fps": FPS, "hand_state_columns": "anatomical", "hand_state": hands.tolist(),
        "scene": "cell", "camera": cam.name,
        "writer": "scripts/make_scene_plan.py",
        "ground_truth": {"pelvis_start_w": np.round(pelvis[0], 4).tolist(),
                         "pelvis_end_w": np.round(pelvis[-1], 4).tolist(),
                         "heading_rad": 0.0, "subject_height_m": HEIGHT_M},
    }
    (out / "plan.json").write_text(json.dumps(manifest, separators=(",", ":")))
    print(f"wrote {out}/plan.json and hmr4d_results.pt ({len(pelvis)} frames at {FPS:g} fps)")


if __name__ == "__main__":
    main()
