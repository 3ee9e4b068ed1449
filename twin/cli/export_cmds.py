"""``twin export usd SCENE -o scene.usda [KEY=VALUE...]``: a scene as OpenUSD (UsdPhysics)."""

from __future__ import annotations

import argparse


def add_export_commands(sub) -> None:
    export = sub.add_parser("export", help="write a scene in another tool's format")
    what = export.add_subparsers(dest="what", metavar="FORMAT")
    usd = what.add_parser("usd", help="OpenUSD with UsdPhysics (Isaac Sim / Isaac Lab): robot "
                          "articulation, joint drives and limits, masses, friction, floor, "
                          "cameras")
    usd.add_argument("scene", help="bundled scene name or scene YAML path")
    usd.add_argument("-o", "--output", required=True, help="output .usda/.usd/.usdc file")
    usd.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                     help="scene overrides, e.g. robot=g1 gains=tracking")
    usd.set_defaults(func=run_export_usd)
    export.set_defaults(func=lambda args: export.print_help() or 0)


def run_export_usd(args: argparse.Namespace) -> int:
    try:
        from twin.export.usd import export_scene_usd
    except ImportError as exc:
        raise ImportError(f"twin export usd needs usd-core ({exc}): pip install usd-core") from exc
    path = export_scene_usd(args.scene, args.output, list(args.overrides))
    print(f"wrote {path}")
    return 0
