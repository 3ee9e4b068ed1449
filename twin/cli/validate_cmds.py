"""``twin validate [MOTION] KEY=VALUE...``: execute a video-derived motion in sim and report
go / caution / no-go.

Exit codes (a script can gate on them: ``twin validate plan.pt && deploy``): 0 go (and
caution unless ``strict=true``), 1 no-go, 2 caution with ``strict=true``, 3 input or usage
error (a bad key or value: one line, nothing written; a motion that cannot be read: the
report folder holds a ``report.json`` with verdict ``error``). ``batch=DIR`` exits with the
worst of its motions (3, then 1, then 2) and always writes ``summary.json``. The keys are
``twin.cli.validate_config.ValidateCommandConfig``; the old ``--flag`` spellings still work,
with a deprecation line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from twin.cli.grammar import add_config_command, add_deprecated_flags, deprecated_items

DEMO_FPS = 30.0  # GVHMR's frame rate
USAGE_ERROR = 3
EXIT_CODES_HELP = ("exit codes: 0 go (also caution, unless strict=true), 1 no-go, "
                   "2 caution with strict=true, 3 input or usage error (report.json says "
                   "verdict error). batch=DIR: the worst over its motions; summary.json always.")


# demo=NAME -> (file under twin/assets/demo, validate config preset)
DEMOS = {"basic": ("hmr4d_results.pt", "default"),
         "scene": ("scene_plan/plan.json", "demo_scene")}


def demo_motion_path(name: str = "basic") -> Path:
    import twin.assets

    return Path(twin.assets.__file__).resolve().parent / "demo" / DEMOS[name][0]


def add_validate_commands(sub: argparse._SubParsersAction) -> None:
    from twin.cli.validate_config import (
        OLD_FLAGS,
        OLD_OPTIONAL,
        OLD_SWITCHES,
        meanings,
        preset_values,
    )

    p = add_config_command(
        sub, "validate", schema="twin.cli.validate_config.ValidateCommandConfig",
        func=run_validate, help="validate a motion plan in sim before hardware",
        description="Execute a motion plan (any human format `twin retarget` reads, "
        "retargeted on the fly, or a RobotMotion .npz) with a tracking controller in a scene "
        "and report go / caution / no-go (report.json, report.html, executed.npz/.csv). "
        "MOTION may also be given as motion=FILE; demo=basic|scene validates a bundled "
        "demo and batch=DIR a folder. Defaults below are configs/validate/default.yaml's "
        "(demo=scene: demo_scene.yaml); Hydra syntax.",
        example="twin validate plan.pt scene=cell controller=pd fps=30 "
        "thresholds.root_drift_m=0.3 strict=true", notes=EXIT_CODES_HELP,
        defaults_fn=preset_values, extra_help=meanings, items_metavar="MOTION | KEY=VALUE")
    p.add_argument("-o", "--out", dest="out_flag", default=None, metavar="DIR",
                   help="same as out=")
    add_deprecated_flags(p, OLD_FLAGS, OLD_SWITCHES, optional=OLD_OPTIONAL)


def validate_items(args: argparse.Namespace) -> list[str]:
    """The command line as ``[MOTION] KEY=VALUE`` items: old flags first (one deprecation line
    each), then ``-o``, then the user's items (the later spelling wins)."""
    demo = getattr(args, "deprecated_demo", None)
    pushed = []
    if demo is not None and "=" in demo:  # `--demo KEY=VALUE`: a bare --demo, then the item
        args.deprecated_demo, pushed = "basic", [demo]
    items = deprecated_items(args, "validate")
    if args.out_flag is not None:
        items.append(f"out={args.out_flag}")
    return items + pushed + list(args.overrides)


def _fail(message: str, out: Path | None = None) -> int:
    where = f" (wrote {out / 'report.json'})" if out is not None and (
        out / "report.json").exists() else ""
    print(f"twin: error: {message}{where}", file=sys.stderr)
    return USAGE_ERROR


def run_validate(args: argparse.Namespace) -> int:
    """Exit status: see ``EXIT_CODES_HELP``; never a traceback for a bad input."""
    from twin.validate.verdict import batch_exit_code, exit_code

    try:
        from twin.cli.validate_config import load_validate_command

        cfg, keys = load_validate_command(validate_items(args))
    except (ValueError, KeyError, FileNotFoundError, ImportError) as exc:
        return _fail(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))
    out = Path(cfg.out)
    if keys.batch is not None:
        from twin.validate.batch import format_summary, validate_batch

        rows, failure = [], None
        try:
            rows = validate_batch(keys.batch, cfg, keys.workers)
        except (ValueError, FileNotFoundError, OSError) as exc:
            rows, failure = [], str(exc)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(rows, indent=2))
        if failure:
            return _fail(f"{failure} (wrote an empty {out / 'summary.json'})")
        print(format_summary(rows))
        print(f"wrote {out / 'summary.json'}")
        return batch_exit_code([r["verdict"] for r in rows], cfg.strict)
    from twin.validate.run import validate

    try:
        report = validate(cfg)
    except (ValueError, KeyError, FileNotFoundError, ImportError) as exc:
        return _fail(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc),
                     out)
    except Exception as exc:  # noqa: BLE001 - a failure inside validation: one line, exit 3
        return _fail(f"validation failed: {type(exc).__name__}: {exc}", out)
    for note in ("fps_note", "layout_note"):
        if report["input"].get(note):
            print(report["input"][note])
    print(f"verdict: {report['verdict'].upper()}")
    for r in report["reasons"]:
        print(f"  - {r}")
    m = report["metrics"]
    if m is not None:
        fall = "none" if m["fall_time_s"] is None else f"{m['fall_time_s']:.2f} s"
        print(f"fall: {fall}; body-local MPJPE {m['mpjpe_local_mm']:.1f} mm; root drift max "
              f"{m['root_drift_max_m']:.3f} m; foot slip mean {m['foot_slip_mean_m_s']:.3f} / "
              f"peak {m['foot_slip_max_m_s']:.3f} m/s")
        for line in placement_lines(report["input"].get("placement")):
            print(line)
        lowered = report["input"].get("start_lowered_m", 0.0)
        if abs(lowered) >= 0.0005:
            print(f"start: the plan's first frame has its lowest sole {1000 * lowered:+.1f} mm "
                  "from the floor; the robot starts standing on it")
        for name, d in m.get("predicate_details", {}).items():
            when = "" if d["time_s"] is None else f" at t = {d['time_s']:.2f} s"
            dist = "" if d["distance_m"] is None else f", measured {d['distance_m']:.3f} m"
            print(f"predicate {name} ({d['kind']}): {'met' if d['ok'] else 'NOT met'}{when}"
                  f"{dist}")
        print(f"wrote {cfg.out}/report.json, report.html, executed.npz, executed.csv"
              + (", video.mp4" if cfg.video else ""))
    else:
        print(f"wrote {cfg.out}/report.json, report.html (no simulation: the plan was refused)")
    code = exit_code(report["verdict"], cfg.strict)
    if code:
        print(f"exit {code} ({report['verdict']}{', strict' if cfg.strict else ''})")
    return code


def placement_lines(p: dict | None) -> list[str]:
    """How the plan was placed in the scene, for the terminal."""
    if not p or p.get("mode") == "motion":
        return []
    x, y, yaw = p["robot_start_pose"]
    lines = [f"placement: {p['mode']}; robot starts at ({x:.3f}, {y:.3f}) m, yaw {yaw:.3f} rad"]
    if p["mode"] == "camera":
        f = p["fit"]
        lines.append(
            f"  camera {p['camera']} fit: pelvis path residual rms "
            f"{f['path_residual_rms_m']:.3f} m, heading rms {f['heading_residual_rms_deg']:.2f} "
            f"deg, gravity tilt max {f['gravity_tilt_max_deg']:.2f} deg; anchored at the "
            f"{p['anchor']}, robot and subject {p['robot_vs_subject_other_end_m']:.3f} m apart "
            "at the other end")
        if p.get("intrinsics_warning"):
            lines.append(f"  warning: {p['intrinsics_warning']}")
    return lines
