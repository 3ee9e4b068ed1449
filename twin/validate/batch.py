"""``twin validate --batch DIR``: every motion in a folder, in parallel over cores."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from twin.validate.config import ValidateConfig

MOTION_SUFFIXES = (".npz", ".pt", ".pkl", ".npy", ".csv", ".json")


def _one(cfg: ValidateConfig) -> dict:
    from twin.validate.run import validate

    try:
        report = validate(cfg)
        m = report["metrics"]
        return {"motion": cfg.motion, "verdict": report["verdict"],
                "reasons": report["reasons"], "fall_time_s": m["fall_time_s"],
                "mpjpe_local_mm": m["mpjpe_local_mm"], "root_drift_max_m": m["root_drift_max_m"],
                "out": cfg.out}
    except (ValueError, KeyError, FileNotFoundError) as exc:  # bad input: reported, not fatal
        return {"motion": cfg.motion, "verdict": "error", "reasons": [str(exc)],
                "fall_time_s": None, "mpjpe_local_mm": None, "root_drift_max_m": None,
                "out": cfg.out}


def validate_batch(folder: str | Path, cfg: ValidateConfig, workers: int | None = None
                   ) -> list[dict]:
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix in MOTION_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"--batch {folder}: no motion files ({', '.join(MOTION_SUFFIXES)})")
    jobs = [replace(cfg, motion=str(f), out=str(Path(cfg.out) / f.stem)) for f in files]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers == 1:
        return [_one(j) for j in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_one, jobs))


def format_summary(rows: list[dict]) -> str:
    lines = [f"{'motion':32s} {'verdict':8s} {'fall s':>7s} {'local mm':>9s} {'drift m':>8s}  "
             "first reason"]
    for r in rows:
        fall = "-" if r["fall_time_s"] is None else f"{r['fall_time_s']:.2f}"
        mm = "-" if r["mpjpe_local_mm"] is None else f"{r['mpjpe_local_mm']:.0f}"
        drift = "-" if r["root_drift_max_m"] is None else f"{r['root_drift_max_m']:.2f}"
        reason = r["reasons"][0] if r["reasons"] else ""
        lines.append(f"{Path(r['motion']).name[:32]:32s} {r['verdict']:8s} {fall:>7s} {mm:>9s} "
                     f"{drift:>8s}  {reason}")
    go = sum(r["verdict"] == "go" for r in rows)
    lines.append(f"{go} of {len(rows)} go")
    return "\n".join(lines)
