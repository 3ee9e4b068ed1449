"""``twin render-observation scene=CELL [camera=... width=... height=...] -o first.png``: the
picture a scene's calibrated camera sees at the initial state, and ``scene.json`` describing
it (camera K and extrinsics, objects with poses and sizes, the robot's pose)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from twin.cli.grammar import lazy_help, parse_config


@dataclass
class ObservationConfig:
    """``twin render-observation KEY=VALUE...``.

    scene: a bundled scene name or a scene YAML path
    camera: camera to render; null = the scene's first calibrated camera (else its first)
    width: image width in pixels; null = the camera's calibrated width
    height: image height in pixels; null = the camera's calibrated height
    render_profile: fast (no shadows or anti-aliasing, decimated meshes) or full
    out: image path (.png); scene.json is written next to it unless json= says otherwise
    json: path of the scene description; null = scene.json beside the image
    """

    scene: str = "cell"
    camera: str | None = None
    width: int | None = None
    height: int | None = None
    render_profile: str = "fast"
    out: str = "first.png"
    json: str | None = None


def add_scene_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render-observation", help="render a scene's initial observation from "
                       "its calibrated camera, with scene.json (camera K and extrinsics, "
                       "objects, robot pose)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="The picture a video model is conditioned on: the scene's "
                       "initial state seen by its calibrated camera.")
    p.epilog_fn = lazy_help("twin.cli.scene_cmds.ObservationConfig",
                            "example: twin render-observation scene=cell -o first.png")
    p.add_argument("items", nargs="*", metavar="KEY=VALUE", help="keys listed below")
    p.add_argument("-o", "--out", default=None, help="image path (same as out=)")
    p.set_defaults(func=run_render_observation)


def run_render_observation(args: argparse.Namespace) -> int:
    from twin.scene.config import load_scene_config
    from twin.scene.observation import initial_observation, write_observation

    items = list(args.items) + ([f"out={args.out}"] if args.out else [])
    cfg = parse_config(ObservationConfig, items, "render-observation")
    for key in ("width", "height"):
        value = getattr(cfg, key)
        if value is not None and not 16 <= value <= 4096:
            raise ValueError(f"render-observation: {key}={value}; expected 16..4096 pixels")
    if cfg.render_profile not in ("fast", "full"):
        raise ValueError(f"render-observation: render_profile={cfg.render_profile!r}; "
                         "expected fast or full")
    scene = load_scene_config(cfg.scene)
    obs, _ = initial_observation(scene, cfg.camera, cfg.width, cfg.height, cfg.render_profile)
    image, desc = write_observation(obs, Path(cfg.out), cfg.json)
    cam = obs.description["camera"]
    print(f"camera {cam['name']} ({cam['width']}x{cam['height']}, "
          f"{'calibrated' if cam['calibrated'] else 'posed'}); "
          f"{sum(o['in_view'] for o in obs.description['objects'])} of "
          f"{len(obs.description['objects'])} objects in view")
    print(f"wrote {image} and {desc}")
    return 0
