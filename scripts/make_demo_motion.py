"""Make twin's demo input: a short human motion in GVHMR's ``hmr4d_results.pt`` layout.

The motion is procedural SMPL parameters (no data needed): the subject stands, bends the
knees slightly, reaches forward with the right arm, waves, and returns - an ExoActor-like
upper-body task. Written y-up at 30 fps like GVHMR (``smpl_params_global``: global_orient
(L, 3), body_pose (L, 63), betas (L, 10), transl (L, 3)); pelvis = J0 + transl.

    python scripts/make_demo_motion.py  # -> assets/demo/hmr4d_results.pt
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from twin.motion.procedural.smpl_tasks import root_params, smooth_step
from twin.motion.smpl import SMPL_JOINT_NAMES, mean_shape_rest_joints

FPS = 30.0
DURATION_S = 8.0
HEIGHT_M = 1.70


def demo_params() -> dict[str, np.ndarray]:
    T = int(DURATION_S * FPS) + 1
    t = np.arange(T) / FPS
    j = {n: SMPL_JOINT_NAMES.index(n) - 1 for n in SMPL_JOINT_NAMES[1:22]}
    body = np.zeros((T, 21, 3))
    # arms down from the T-pose
    body[:, j["left_shoulder"], 2] = -1.25
    body[:, j["right_shoulder"], 2] = 1.25
    body[:, j["left_elbow"], 1] = -0.2
    body[:, j["right_elbow"], 1] = 0.2
    # slight knee bend 1-2 s, held, released at 6.5-7.5 s
    bend = 0.25 * (smooth_step(t, 1.0, 2.0) - smooth_step(t, 6.5, 7.5))
    for side in ("left", "right"):
        body[:, j[f"{side}_hip"], 0] = -bend
        body[:, j[f"{side}_knee"], 0] = 2 * bend
        body[:, j[f"{side}_ankle"], 0] = -bend
    # right arm: reach forward 2-3 s, wave 3.5-5.5 s, lower 5.5-6.5 s
    reach = smooth_step(t, 2.0, 3.0) - smooth_step(t, 5.5, 6.5)
    body[:, j["right_shoulder"], 2] = 1.25 * (1 - reach) + 0.3 * reach
    body[:, j["right_shoulder"], 1] = 1.1 * reach  # arm forward
    wave = np.where((t > 3.5) & (t < 5.5), np.sin(2 * np.pi * 1.2 * (t - 3.5)), 0.0)
    body[:, j["right_elbow"], 1] = 0.2 + 0.6 * reach + 0.35 * reach * wave
    # root: facing +x in a z-up world, stored y-up like GVHMR; lowered in the knee bend
    rest = mean_shape_rest_joints(HEIGHT_M)
    orient, transl = root_params(np.pi / 2, rest[0, 1] - 0.04 * bend / 0.25, HEIGHT_M)
    return {"global_orient": orient, "body_pose": body.reshape(T, 63),
            "betas": np.zeros((T, 10)), "transl": transl}


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "assets" / "demo" / "hmr4d_results.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    p = {k: torch.tensor(v, dtype=torch.float32) for k, v in demo_params().items()}
    torch.save({"smpl_params_global": p}, out)
    print(f"wrote {out} ({p['transl'].shape[0]} frames at {FPS:g} fps)")


if __name__ == "__main__":
    main()
