"""``twin view ROBOT -o robot.png``: render a robot in its default pose."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def add_view_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="render a robot in its default pose to a PNG")
    p.add_argument("robot", help="robot name (see `twin robots`)")
    p.add_argument("-o", "--output", type=Path, default=None, help="PNG path (default ROBOT.png)")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--profile", choices=("full", "fast"), default="full", help="render profile")
    p.set_defaults(func=run_view)


def camera_for(robot_name: str) -> dict:
    """A third-person camera framing the robot's default pose."""
    if robot_name.startswith("g1"):
        return dict(name="view", pos=[2.4, -1.5, 1.3], lookat=[0.0, 0.0, 0.7], fovy=45)
    return dict(name="view", pos=[1.5, -1.0, 1.0], lookat=[0.25, 0.0, 0.35], fovy=45)


def render_robot(robot_name: str, width: int, height: int, profile: str = "full") -> np.ndarray:
    from twin.scene.config import scene_config_from_dict
    from twin.sim import make_backend
    from twin.sim.robot_state import set_default_pose

    cam = dict(camera_for(robot_name), width=width, height=height)
    cfg = scene_config_from_dict({"name": f"view_{robot_name}", "robot": robot_name,
                                  "cameras": [cam]}, source="twin view")
    backend = make_backend(cfg, render_profile=profile)
    try:
        set_default_pose(backend, backend.scene.robot)
        return backend.render("view", width, height)
    finally:
        backend.close()


def run_view(args: argparse.Namespace) -> int:
    import imageio.v3 as iio

    out = args.output or Path(f"{args.robot}.png")
    img = render_robot(args.robot, args.width, args.height, args.profile)
    out.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(out, img)
    print(f"wrote {out} ({img.shape[1]}x{img.shape[0]})")
    return 0
