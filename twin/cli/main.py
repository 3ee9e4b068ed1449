"""The ``twin`` command line: one entry point, one subcommand per job.

Errors that come from bad input (unknown names, malformed files, bad configs) print one
line, ``twin: error: ...``, and exit with status 2; nothing else is swallowed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import twin

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, FileNotFoundError,
                                                ImportError)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="twin", description="twin: a simulation digital twin for "
                                "video-driven robot learning")
    p.add_argument("--version", action="version", version=f"twin {twin.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    robots = sub.add_parser("robots", help="list robots with their DoF")
    robots.set_defaults(func=run_robots)

    envs = sub.add_parser("envs", help="list registered Gymnasium ids")
    envs.set_defaults(func=run_envs)

    from twin.cli.view import add_view_command

    add_view_command(sub)
    for module, fn in _OPTIONAL_COMMANDS:
        try:
            mod = __import__(module, fromlist=[fn])
        except ImportError:
            continue
        getattr(mod, fn)(sub)
    return p


# Subcommand groups that live with their feature; each adds its parsers when importable.
_OPTIONAL_COMMANDS: tuple[tuple[str, str], ...] = (
    ("twin.cli.motion_cmds", "add_motion_commands"),
    ("twin.cli.record_cmds", "add_record_commands"),
    ("twin.cli.train_cmds", "add_train_commands"),
    ("twin.cli.validate_cmds", "add_validate_commands"),
    ("twin.cli.eval_cmds", "add_eval_commands"),
    ("twin.cli.scene_cmds", "add_scene_commands"),
)


def run_robots(args: argparse.Namespace) -> int:
    import twin.robots

    print(f"{'name':16s} {'DoF':>4s} {'actuated':>8s}  {'base':8s} description")
    for name in twin.robots.names():
        r = twin.robots.get(name)
        base = "floating" if r.floating_base else "fixed"
        print(f"{name:16s} {r.num_dof:4d} {len(r.actuated_joint_names):8d}  {base:8s} "
              f"{r.description}")
    return 0


def run_envs(args: argparse.Namespace) -> int:
    from twin.registration import ENV_IDS

    for env_id, kw in ENV_IDS.items():
        print(f"{env_id:32s} {kw['entry_point']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # KEY=VALUE overrides may follow options (`twin validate --video scene=x`); argparse
    # leaves those it could not place after an option, so hand them to the command.
    if extra and hasattr(args, "items") and not any(e.startswith("-") for e in extra):
        args.items = list(args.items) + extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"twin: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
