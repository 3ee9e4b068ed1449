"""Make the bundled scene demo plan: an ExoActor-style bundle for the ``cell`` scene.

What a video-to-humanoid pipeline would hand twin after generating a task video from the
cell camera's first picture and estimating the human in it: a GVHMR ``hmr4d_results.pt``
(``smpl_params_global``: gravity-aligned, y-up, its own origin and heading;
``smpl_params_incam``: the same body in the cell camera's frame, OpenCV axes, with
per-frame estimation noise; ``K_fullimg``: the camera intrinsics) plus per-frame hand
states, tied together by ``plan.json``.

The subject (1.70 m, SMPL neutral mean shape) stands at the robot's place facing the
table, walks 1.0 m towards it in five short foot-locked steps, leans and reaches for the box with the right hand and
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

from twin.motion.procedural.smpl_tasks import smooth_step
from twin.motion.procedural.smpl_walk import leg_ik, swing_arms
from twin.motion.rotations import R_ZUP_FROM_YUP, matrix_to_quat, quat_to_rotvec
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
DURATION_S = 7.5
HEIGHT_M = 1.70
WALK_M = 1.0  # pelvis travel along +x
WALK_START_S = 1.0
STEP_M, STEP_S = 0.25, 0.7  # foothold spacing, time per step
SWING_FRACTION = 0.65  # of a step; the rest is double support
LIFT_M, SWAY_M, SINK_M = 0.05, 0.03, 0.04  # swing foot height, pelvis sway, pelvis drop
REACH_S = (4.8, 6.0)  # arm moves to the box
CLOSE_S = 5.9  # right hand closes
LEAN_RAD = 0.2  # forward torso lean in the reach
GLOBAL_YAW_RAD, GLOBAL_OFFSET_M = 0.7, (0.4, -0.3)  # GVHMR's own global frame
NOISE_M, NOISE_RAD = 0.01, 0.01  # per-frame camera-frame estimation noise
# right wrist relative to the pelvis at the end of the reach (world axes, facing +x), m:
# retargeted (the G1's arm along the human's limb directions) the hand meets the box at 5.7 s
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
        aa = quat_to_rotvec(matrix_to_quat(R_root))[None]
        pos, _ = forward_kinematics(rest, SMPL_BODY_PARENTS, aa, pose(x), np.zeros((1, 3)))
        rel = pos[0, wrist] - pos[0, 0]
        return np.concatenate([rel - WRIST_IN_PELVIS_M, 0.05 * x])  # small angles preferred

    sol = least_squares(residual, np.array([0.0, 0.5, 0.5, -0.3]))
    return pose(sol.x)[0]


def _footholds() -> list[tuple[str, float, float, float]]:
    """Steps (side, x_from, x_to, start time): right foot first, STEP_M long, the trailing
    foot closes beside the other at the end."""
    n = int(np.ceil(WALK_M / STEP_M - 1e-9))
    targets = [min(WALK_M, (k + 1) * STEP_M) for k in range(n)] + [WALK_M]
    at = {"left": 0.0, "right": 0.0}
    steps, side = [], "right"
    for k, x in enumerate(targets):
        steps.append((side, at[side], x, WALK_START_S + k * STEP_S))
        at[side] = x
        side = "left" if side == "right" else "right"
    return steps


def _feet(t: np.ndarray, rest_xy: dict[str, np.ndarray], ankle_z: float
          ) -> dict[str, np.ndarray]:
    """Ankle positions (T, 3) per side: planted on their footholds, a smooth arc in swing.
    A foothold x is where the pelvis stands over that foot: the ankle keeps its rest-pose
    offset from the pelvis (``rest_xy``), so standing needs no leg angles."""
    swing_s = SWING_FRACTION * STEP_S
    wait_s = 0.5 * (1 - SWING_FRACTION) * STEP_S  # double support before the swing
    feet = {}
    for side in ("left", "right"):
        p = np.zeros((len(t), 3))
        p[:, 1], p[:, 2] = rest_xy[side][1], ankle_z
        for s, xa, xb, ts in _footholds():
            if s != side:
                continue
            a = smooth_step(t, ts + wait_s, ts + wait_s + swing_s)
            p[:, 0] = np.where(t >= ts + wait_s, xa + (xb - xa) * a, p[:, 0])
            p[:, 2] += LIFT_M * np.sin(np.pi * a) * ((a > 0) & (a < 1))
        p[:, 0] += rest_xy[side][0]
        feet[side] = p
    return feet


def world_motion() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(root_rot_w (T,3,3), pelvis_w (T,3), body_pose (T,21,3), hand_state (T,2)) in the cell.

    The walk is foot-locked: footholds STEP_M apart, stance feet planted, swing feet on an
    arc, the pelvis over the feet (their midpoint smoothed over 0.5 s, swaying towards the
    stance foot, 4 cm lower than standing), legs by IK on the SMPL skeleton.
    """
    T = round(DURATION_S * FPS) + 1
    t = np.arange(T) / FPS
    rest = mean_shape_rest_joints(HEIGHT_M)
    yaw = np.pi / 2  # SMPL faces +z (y-up); R_ZUP turns that to -y, 90 deg more to +x
    Rz = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    R_root = Rz @ R_ZUP_FROM_YUP
    root_rot = np.repeat(R_root[None], T, axis=0)
    aa_root = quat_to_rotvec(matrix_to_quat(R_root))
    rest_xy = {s: (R_root @ (rest[SMPL_JOINT_NAMES.index(f"{s}_ankle")] - rest[0]))[:2]
               for s in ("left", "right")}
    ankle_z = ANKLE_HEIGHT_FRACTION * HEIGHT_M
    feet = _feet(t, rest_xy, ankle_z)
    k = round(0.25 * FPS)  # +-0.25 s moving average
    kernel = np.ones(2 * k + 1) / (2 * k + 1)

    def smooth(v: np.ndarray) -> np.ndarray:
        return np.convolve(np.pad(v, k, mode="edge"), kernel, mode="valid")

    lift = feet["right"][:, 2] - feet["left"][:, 2]  # > 0: right foot in swing
    t_end = _footholds()[-1][3] + STEP_S
    walking = smooth_step(t, WALK_START_S - 0.4, WALK_START_S) - smooth_step(t, t_end,
                                                                              t_end + 0.4)
    stand_z = rest[0, 1] - rest[SMPL_JOINT_NAMES.index("left_ankle"), 1] + ankle_z
    pelvis = np.stack([smooth(0.5 * (feet["left"][:, 0] - rest_xy["left"][0]
                                     + feet["right"][:, 0] - rest_xy["right"][0])),
                       smooth(SWAY_M * np.sign(lift) * (np.abs(lift) > 1e-4)),
                       stand_z - SINK_M * walking], axis=1)
    body = np.zeros((T, 21, 3))
    leg_ik(rest, np.tile(aa_root, (T, 1)), pelvis, feet, None, body)
    swing_arms(body)
    reach = smooth_step(t, *REACH_S)[:, None]
    target = _reach_pose(rest, LEAN_RAD)
    for j in ("right_shoulder", "right_elbow", "spine1", "spine2", "spine3"):
        body[:, _J[j]] = body[:, _J[j]] * (1 - reach) + target[_J[j]] * reach
    hands = np.zeros((T, 2), np.int8)
    hands[t >= CLOSE_S, 1] = 2  # right hand closed on the box
    return root_rot, pelvis, body, hands


def main(out: Path | None = None) -> None:
    out = out or Path(__file__).resolve().parents[1] / "assets" / "demo" / "scene_plan"
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
