"""The ``twin`` command line: one entry point, one subcommand per job.

Grammar: ``twin CMD [POSITIONAL...] KEY=VALUE...`` over a typed config; ``twin CMD --help``
lists every key with its type, default and meaning.

Exit status: 0 done; 1 and 2 are a command's own verdicts (``twin validate``: 1 no-go,
2 caution; ``twin eval policy``: 1 infrastructure errors); 3 bad input (an unknown key, a
value out of range, a missing or malformed file, an unwritable output, a usage error),
printed as one line ``twin: error: ...``; 4 an internal error (a bug: the traceback and a
line asking to report it); 130 interrupted. ``TWIN_DEBUG=1`` adds the traceback to
bad-input errors too.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

import twin
from twin.errors import TwinError

EXIT_INPUT_ERROR = 3
EXIT_INTERNAL_ERROR = 4

# Bad input from the user's side: one line, exit 3. TwinError is twin's own; the builtin
# ones are what readers and configs raise for malformed values and missing or unwritable
# files (OSError covers FileNotFoundError, PermissionError, IsADirectoryError, a port in use).
USER_ERRORS: tuple[type[BaseException], ...] = (TwinError, ValueError, KeyError, OSError,
                                                ImportError)


class UsageError(TwinError):
    """A command line argparse could not read."""


class TwinArgumentParser(argparse.ArgumentParser):
    """argparse with twin's exit status (3, not argparse's 2, which ``twin validate`` uses
    for 'caution') and key tables built only when --help asks (``epilog_fn``)."""

    epilog_fn = None

    def error(self, message: str):
        where = "" if self.prog == "twin" else f"{self.prog[len('twin '):]}: "
        raise UsageError(f"{where}{message} (see `{self.prog} --help`)")

    def format_help(self) -> str:
        if self.epilog_fn is not None and self.epilog is None:
            self.epilog = self.epilog_fn()
        return super().format_help()


def _config_errors() -> tuple[type[BaseException], ...]:
    """Hydra's and OmegaConf's exceptions (bad overrides, types, missing keys)."""
    out: list[type[BaseException]] = []
    try:
        from omegaconf.errors import OmegaConfBaseException

        out.append(OmegaConfBaseException)
    except ImportError:
        pass
    try:
        from hydra.errors import HydraException

        out.append(HydraException)
    except ImportError:
        pass
    return tuple(out)


def error_line(exc: BaseException) -> str:
    """The one line a user sees for a bad-input exception."""
    from twin.cli.grammar import one_line

    if isinstance(exc, KeyError) and exc.args:
        msg = str(exc.args[0])
    elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        msg = f"{exc.filename}: {exc.strerror}"
    elif isinstance(exc, _config_errors()):
        msg = one_line(exc)
    else:
        msg = str(exc) or type(exc).__name__
    return " ".join(msg.split()) if "\n" in msg else msg


def build_parser() -> argparse.ArgumentParser:
    p = TwinArgumentParser(prog="twin", description="twin: a simulation digital twin for "
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
    ("twin.cli.export_cmds", "add_export_commands"),
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


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None):
    args, extra = parser.parse_known_args(argv)
    # KEY=VALUE items may follow options (`twin validate --video scene=x`); argparse leaves
    # those it could not place after an option, so hand them to the command's list.
    dest = next((d for d in ("items", "overrides", "args") if hasattr(args, d)), None)
    if extra and dest and not any(e.startswith("-") for e in extra):
        setattr(args, dest, list(getattr(args, dest)) + extra)
    elif extra:
        cmd = " ".join(str(getattr(args, d)) for d in ("command", "eval_command", "what",
                                                       "motion_command")
                       if getattr(args, d, None))
        raise UsageError(f"{cmd + ': ' if cmd else ''}unrecognized arguments: "
                         f"{' '.join(extra)} (see `twin {cmd + ' ' if cmd else ''}--help`)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("TWIN_DEBUG", "") not in ("", "0")
    try:
        parser = build_parser()
        args = _parse(parser, argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("twin: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except USER_ERRORS + _config_errors() as exc:
        if debug:
            traceback.print_exc()
        print(f"twin: error: {error_line(exc)}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except Exception:  # noqa: BLE001 (a bug: show it, ask for a report)
        traceback.print_exc()
        print(f"twin: internal error: this is a bug in twin {twin.__version__}, not in your "
              "input; please report it with the command and the traceback above",
              file=sys.stderr)
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
