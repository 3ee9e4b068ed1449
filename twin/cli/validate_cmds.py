"""``twin validate``: execute a video-derived motion in sim and report go / no-go."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEMO_FPS = 30.0  # GVHMR's frame rate


def demo_motion_path() -> Path:
    import twin.assets

    return Path(twin.assets.__file__).resolve().parent / "demo" / "hmr4d_results.pt"


def add_validate_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="validate a motion plan in sim before hardware",
                       description="KEY=VALUE overrides of configs/validate/default.yaml, e.g. "
                       "scene=panda_table controller=pd fps=30 thresholds.root_drift_m=0.3")
    p.add_argument("items", nargs="*", metavar="MOTION | KEY=VALUE",
                   help="a motion file (any format `twin retarget` reads, or a RobotMotion "
                   ".npz) and KEY=VALUE overrides, in any order")
    p.add_argument("--demo", action="store_true", help="validate the bundled demo motion "
                   "(GVHMR layout, 30 fps)")
    p.add_argument("--video", action="store_true", help="also write video.mp4")
    p.add_argument("-o", "--out", default=None, help="report folder (default validate_out)")
    p.add_argument("--batch", type=Path, default=None, help="validate every motion in DIR")
    p.add_argument("--workers", type=int, default=None, help="--batch processes (default: cores)")
    p.set_defaults(func=run_validate)


def load_validate_config(overrides: list[str]):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from twin.scene.config import configs_dir
    from twin.validate.config import ValidateConfig

    with initialize_config_dir(str(configs_dir() / "validate"), version_base=None):
        cfg = compose(config_name="default", overrides=list(overrides))
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ValidateConfig), cfg))


def run_validate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    overrides = [i for i in args.items if "=" in i]
    files = [i for i in args.items if "=" not in i]
    if len(files) > 1:
        raise ValueError(f"validate: one motion file at a time (got {files}); use --batch DIR")
    motion = files[0] if files else None
    cfg = load_validate_config(overrides)
    if args.demo:
        motion = str(demo_motion_path())
        cfg = replace(cfg, fps=cfg.fps or DEMO_FPS)
    cfg = replace(cfg, video=cfg.video or args.video, out=args.out or cfg.out)
    if args.batch is not None:
        from twin.validate.batch import format_summary, validate_batch

        rows = validate_batch(args.batch, cfg, args.workers)
        print(format_summary(rows))
        Path(cfg.out).mkdir(parents=True, exist_ok=True)
        (Path(cfg.out) / "summary.json").write_text(json.dumps(rows, indent=2))
        print(f"wrote {Path(cfg.out) / 'summary.json'}")
        return 0
    if not motion:
        raise ValueError("validate: give a motion file, --demo, or --batch DIR")
    from twin.validate.run import validate

    report = validate(replace(cfg, motion=motion))
    m = report["metrics"]
    print(f"verdict: {report['verdict'].upper()}")
    for r in report["reasons"]:
        print(f"  - {r}")
    fall = "none" if m["fall_time_s"] is None else f"{m['fall_time_s']:.2f} s"
    print(f"fall: {fall}; body-local MPJPE {m['mpjpe_local_mm']:.1f} mm; root drift max "
          f"{m['root_drift_max_m']:.3f} m; foot slip {m['foot_slip_mean_m_s']:.3f} m/s")
    print(f"wrote {cfg.out}/report.json, report.html, executed.npz, executed.csv"
          + (", video.mp4" if cfg.video else ""))
    return 0
