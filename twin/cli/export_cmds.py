"""``twin export usd SCENE [out=scene.usda] [KEY=VALUE...]``: a scene as OpenUSD (UsdPhysics).

``out=`` (short ``-o``) names the file; every other ``KEY=VALUE`` overrides a key of the
scene (``SceneConfig``), as everywhere else a scene is loaded."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from twin.cli.grammar import add_config_command, add_deprecated_flags, deprecated_items


@dataclass
class ExportUsdConfig:
    """The file ``twin export usd`` writes; the scene's keys follow in --help."""

    out: str = "scene.usda"  # output file: .usda (text), .usd or .usdc


def _scene_keys_help() -> str:
    from twin.cli.grammar import config_help
    from twin.scene.config import SceneConfig

    return config_help(SceneConfig, title="scene keys (override the scene's YAML)")


def add_export_commands(sub) -> None:
    export = sub.add_parser("export", help="write a scene in another tool's format")
    what = export.add_subparsers(dest="what", metavar="FORMAT")
    usd = add_config_command(
        what, "usd", schema="twin.cli.export_cmds.ExportUsdConfig", func=run_export_usd,
        help="OpenUSD with UsdPhysics (Isaac Sim / Isaac Lab): robot articulation, joint "
             "drives and limits, masses, friction, floor, cameras",
        description="Write a scene as OpenUSD with UsdPhysics schemas for Isaac Sim / Isaac "
                    "Lab. KEY=VALUE items are out= and the scene's own keys (listed last).",
        example="twin export usd empty robot=g1 gains=tracking out=g1.usda",
        positionals=[("scene", "bundled scene name or scene YAML path")])
    usd.add_argument("-o", "--out", dest="out_short", metavar="OUT", default=None,
                     help="output file (same as out=)")
    add_deprecated_flags(usd, {"--output": "out"})
    base_epilog = usd.epilog_fn
    usd.epilog_fn = lambda: base_epilog() + "\n\n" + _scene_keys_help()
    export.set_defaults(func=lambda args: export.print_help() or 0)


def run_export_usd(args: argparse.Namespace) -> int:
    items = deprecated_items(args, "export usd")
    if args.out_short is not None:
        items.append(f"out={args.out_short}")
    items += list(args.overrides)
    out = [i.partition("=")[2] for i in items if i.partition("=")[0] == "out"]
    scene_items = [i for i in items if i.partition("=")[0] != "out"]
    cfg = ExportUsdConfig(out=out[-1] if out else ExportUsdConfig.out)
    from twin import checks

    checks.writable_file("out", cfg.out, suffixes=(".usda", ".usd", ".usdc"))
    try:
        from twin.export.usd import export_scene_usd
    except ImportError as exc:
        raise ImportError(f"twin export usd needs usd-core ({exc}): pip install usd-core"
                          ) from exc
    path = export_scene_usd(args.scene, cfg.out, scene_items)
    print(f"wrote {path}")
    return 0
