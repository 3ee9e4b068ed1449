"""``twin render-observation``: the picture a scene's calibrated camera sees at the initial
state, and ``scene.json`` describing it (camera, objects, robot)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ObservationConfig:
    scene: str = "cell"  # a bundled scene name or a YAML path
    camera: str | None = None  # default: the scene's first calibrated camera
    width: int | None = None  # default: the camera's calibrated resolution
    height: int | None = None
    render_profile: str = "fast"


def add_scene_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render-observation", help="render a scene's initial observation from "
                       "its calibrated camera, with scene.json (camera K and extrinsics, "
                       "objects, robot pose)",
                       description="KEY=VALUE: scene=NAME|PATH camera=NAME width=W height=H "
                       "render_profile=fast|full")
    p.add_argument("items", nargs="*", metavar="KEY=VALUE")
    p.add_argument("-o", "--out", default="first.png", help="image path (default first.png)")
    p.add_argument("--json", default=None, help="description path (default: scene.json "
                   "next to the image)")
    p.set_defaults(func=run_render_observation)


def parse_observation_config(items: list[str]) -> ObservationConfig:
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    bad = [i for i in items if "=" not in i]
    if bad:
        raise ValueError(f"render-observation: expected KEY=VALUE, got {bad}")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(ObservationConfig),
                                 OmegaConf.from_dotlist(list(items)))
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        msg = str(exc).strip().splitlines()[0]
        raise ValueError(f"render-observation: {msg}; keys are scene, camera, width, height, "
                         "render_profile") from exc


def run_render_observation(args: argparse.Namespace) -> int:
    from twin.scene.config import load_scene_config
    from twin.scene.observation import initial_observation, write_observation

    cfg = parse_observation_config(list(args.items))
    scene = load_scene_config(cfg.scene)
    obs, _ = initial_observation(scene, cfg.camera, cfg.width, cfg.height, cfg.render_profile)
    image, desc = write_observation(obs, Path(args.out), args.json)
    cam = obs.description["camera"]
    print(f"camera {cam['name']} ({cam['width']}x{cam['height']}, "
          f"{'calibrated' if cam['calibrated'] else 'posed'}); "
          f"{sum(o['in_view'] for o in obs.description['objects'])} of "
          f"{len(obs.description['objects'])} objects in view")
    print(f"wrote {image} and {desc}")
    return 0
