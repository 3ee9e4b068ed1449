"""``twin validate``: execute a video-derived motion in sim and report go / caution / no-go.

Exit codes (a script can gate on them: ``twin validate plan.pt && deploy``): 0 go (and
caution unless ``strict=true``), 1 no-go, 2 caution with ``strict=true``, 3 input or usage
error (the report folder still holds a ``report.json`` with verdict ``error``). ``--batch``
exits with the worst of its motions (3, then 1, then 2) and always writes ``summary.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEMO_FPS = 30.0  # GVHMR's frame rate
USAGE_ERROR = 3
EXIT_CODES_HELP = ("exit codes: 0 go (also caution, unless strict=true), 1 no-go, "
                   "2 caution with strict=true, 3 input or usage error (report.json says "
                   "verdict error). --batch: the worst over its motions; summary.json always.")


# --demo NAME -> (file under twin/assets/demo, validate config preset)
DEMOS = {"basic": ("hmr4d_results.pt", "default"),
         "scene": ("scene_plan/plan.json", "demo_scene")}


def demo_motion_path(name: str = "basic") -> Path:
    import twin.assets

    return Path(twin.assets.__file__).resolve().parent / "demo" / DEMOS[name][0]


def add_validate_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="validate a motion plan in sim before hardware",
                       description="KEY=VALUE overrides of configs/validate/default.yaml, e.g. "
                       "scene=panda_table controller=pd fps=30 thresholds.root_drift_m=0.3 "
                       "caution.joint_limit_margin_rad=0.1 strict=true",
                       epilog=EXIT_CODES_HELP)
    p.add_argument("items", nargs="*", metavar="MOTION | KEY=VALUE",
                   help="a motion file (any format `twin retarget` reads, or a RobotMotion "
                   ".npz) and KEY=VALUE overrides, in any order")
    p.add_argument("--demo", nargs="?", const="basic", default=None, metavar="NAME",
                   help="validate a bundled demo: basic (default; GVHMR layout, 30 fps, empty "
                   "scene) or scene (a walk-to-the-table plan placed by the cell's camera)")
    p.add_argument("--video", action="store_true", help="also write video.mp4")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate of a motion file that does not store it; also spelled "
                   "fps=N (GVHMR defaults to 30)")
    p.add_argument("--strict", action="store_true", help="exit 2 on a caution (strict=true)")
    p.add_argument("-o", "--out", default=None, help="report folder (default validate_out)")
    p.add_argument("--batch", type=Path, default=None, help="validate every motion in DIR")
    p.add_argument("--workers", type=int, default=None, help="--batch processes (default: cores)")
    p.set_defaults(func=run_validate)

    def usage_error(message: str) -> None:  # argparse's own errors: exit 3, not 2
        p.print_usage(sys.stderr)
        p.exit(USAGE_ERROR, f"twin validate: error: {message}\n")

    p.error = usage_error


def load_validate_config(overrides: list[str], config_name: str = "default"):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from twin.scene.config import configs_dir
    from twin.validate.config import ValidateConfig

    try:
        with initialize_config_dir(str(configs_dir() / "validate"), version_base=None):
            cfg = compose(config_name=config_name, overrides=list(overrides))
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ValidateConfig), cfg))
    except Exception as exc:
        from omegaconf.errors import OmegaConfBaseException

        from twin.cli.grammar import one_line

        if isinstance(exc, OmegaConfBaseException) and getattr(exc, "full_key", None):
            raise ValueError(f"validate: {one_line(exc)}") from exc
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"validate: bad override in {list(overrides)}: {msg}") from exc


def _fail(message: str, out: Path | None = None) -> int:
    where = f" (wrote {out / 'report.json'})" if out is not None and (
        out / "report.json").exists() else ""
    print(f"twin: error: {message}{where}", file=sys.stderr)
    return USAGE_ERROR


def run_validate(args: argparse.Namespace) -> int:
    """Exit status: see ``EXIT_CODES_HELP``; never a traceback for a bad input."""
    from dataclasses import replace

    from twin.validate.verdict import batch_exit_code, exit_code

    try:
        if args.demo is not None and args.demo not in DEMOS:
            if "=" not in args.demo:
                raise ValueError(f"--demo {args.demo!r}; expected one of {list(DEMOS)}")
            args.items = [args.demo, *args.items]  # `--demo KEY=VALUE`: a bare --demo
            args.demo = "basic"
        overrides = [i for i in args.items if "=" in i]
        files = [i for i in args.items if "=" not in i]
        if len(files) > 1:
            raise ValueError(f"validate: one motion file at a time (got {files}); use --batch "
                             "DIR")
        motion = files[0] if files else None
        cfg = load_validate_config(overrides, DEMOS[args.demo][1] if args.demo else "default")
        if args.fps is not None:
            cfg = replace(cfg, fps=args.fps)
        if args.demo:
            motion = str(demo_motion_path(args.demo))
            cfg = replace(cfg, fps=cfg.fps or DEMO_FPS)
        cfg = replace(cfg, video=cfg.video or args.video, out=args.out or cfg.out,
                      strict=cfg.strict or args.strict)
        if args.batch is None and not motion:
            raise ValueError("validate: give a motion file, --demo, or --batch DIR")
        from twin.validate.config import check_validate_config

        check_validate_config(cfg)
    except (ValueError, KeyError, FileNotFoundError, ImportError) as exc:
        return _fail(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))
    out = Path(cfg.out)
    if args.batch is not None:
        from twin.validate.batch import format_summary, validate_batch

        try:
            rows = validate_batch(args.batch, cfg, args.workers)
        except (ValueError, FileNotFoundError, OSError) as exc:
            rows, failure = [], str(exc)
        else:
            failure = ""
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(rows, indent=2))
        if failure:
            return _fail(f"{failure} (wrote an empty {out / 'summary.json'})")
        print(format_summary(rows))
        print(f"wrote {out / 'summary.json'}")
        return batch_exit_code([r["verdict"] for r in rows], cfg.strict)
    from twin.validate.run import validate

    try:
        report = validate(replace(cfg, motion=motion))
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
