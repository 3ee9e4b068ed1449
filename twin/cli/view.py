"""``twin view ROBOT [out=robot.png width=640 height=480 profile=full]``: render a robot in
its default pose."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.cli.grammar import lazy_help, parse_config


@dataclass
class ViewConfig:
    """``twin view ROBOT KEY=VALUE...``.

    out: image path (.png or .jpg); null = ROBOT.png
    width: image width in pixels (16..4096)
    height: image height in pixels (16..4096)
    profile: render profile: full (shadows, anti-aliasing) or fast
    """

    out: str | None = None
    width: int = 640
    height: int = 480
    profile: str = "full"


# Flags of the earlier grammar: still read for one release, with a deprecation line.
_DEPRECATED_FLAGS = {"output": "out", "width": "width", "height": "height",
                     "profile": "profile"}


def add_view_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="render a robot in its default pose to a PNG",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Render a robot in its default pose from a third-person "
                       "camera.")
    p.epilog_fn = lazy_help("twin.cli.view.ViewConfig", "example: twin view g1 out=g1.png")
    p.add_argument("robot", help="robot name (see `twin robots`)")
    p.add_argument("items", nargs="*", metavar="KEY=VALUE", help="keys listed below")
    p.add_argument("-o", "--output", default=None, help=argparse.SUPPRESS)
    p.add_argument("--width", default=None, help=argparse.SUPPRESS)
    p.add_argument("--height", default=None, help=argparse.SUPPRESS)
    p.add_argument("--profile", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=run_view)


def load_view_config(robot: str, items: list[str], flags: dict | None = None) -> ViewConfig:
    """``KEY=VALUE`` items (and deprecated flags) -> a checked ``ViewConfig``."""
    from twin import checks

    items = list(items)
    for flag, key in _DEPRECATED_FLAGS.items():
        value = (flags or {}).get(flag)
        if value is not None:
            spelled = "-o/--output" if flag == "output" else f"--{flag}"
            print(f"twin view: {spelled} is deprecated; use {key}={value}", file=sys.stderr)
            items.insert(0, f"{key}={value}")
    cfg = parse_config(ViewConfig, items, "view")
    checks.integer("width", cfg.width, 16, 4096)
    checks.integer("height", cfg.height, 16, 4096)
    checks.one_of("profile", cfg.profile, ("full", "fast"))
    if cfg.out is None:
        cfg.out = f"{robot}.png"
    checks.writable_file("out", cfg.out, (".png", ".jpg", ".jpeg"))
    return cfg


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
        # backends expose the robot directly (older ones under .scene)
        robot = backend.robot if hasattr(backend, "robot") else backend.scene.robot
        set_default_pose(backend, robot)
        return backend.render("view", width, height)
    finally:
        backend.close()


def run_view(args: argparse.Namespace) -> int:
    import imageio.v3 as iio

    cfg = load_view_config(args.robot, args.items,
                           {f: getattr(args, f, None) for f in _DEPRECATED_FLAGS})
    img = render_robot(args.robot, cfg.width, cfg.height, cfg.profile)
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.part{out.suffix}")
    iio.imwrite(tmp, img)
    tmp.replace(out)  # never a half-written image under the real name
    print(f"wrote {out} ({img.shape[1]}x{img.shape[0]})")
    return 0
