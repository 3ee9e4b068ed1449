"""``twin validate batch=DIR``: every motion in a folder, in parallel over cores.

Every motion gets a row, whatever happens to it: a bad file or an exception inside its
validation is a row with verdict ``error`` and the reason (its report folder holds a
``report.json`` saying the same), and a worker process that dies (killed for memory, say)
is an ``error`` row too, so that ``summary.json`` always lists every motion.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

from twin.validate.config import ValidateConfig

MOTION_SUFFIXES = (".npz", ".pt", ".pkl", ".npy", ".csv", ".json")


def _row(cfg: ValidateConfig, verdict: str, reasons: list[str], m: dict | None = None) -> dict:
    m = m or {}
    return {"motion": cfg.motion, "verdict": verdict, "reasons": reasons,
            "fall_time_s": m.get("fall_time_s"), "mpjpe_local_mm": m.get("mpjpe_local_mm"),
            "root_drift_max_m": m.get("root_drift_max_m"), "out": cfg.out}


def _one(cfg: ValidateConfig) -> dict:
    from twin.validate.report import error_report
    from twin.validate.run import validate

    try:
        report = validate(cfg)
    except Exception as exc:  # noqa: BLE001 - reported in the row and its report.json
        return _row(cfg, "error", error_report(exc, {})["reasons"])
    return _row(cfg, report["verdict"], report["reasons"], report["metrics"])


def validate_batch(folder: str | Path, cfg: ValidateConfig, workers: int | None = None
                   ) -> list[dict]:
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix in MOTION_SUFFIXES
                   and p.is_file()) if folder.is_dir() else []
    if not files:
        from twin.errors import ConfigError

        raise ConfigError("batch", str(folder), "a folder holding motion files ("
                          + ", ".join(MOTION_SUFFIXES) + ")")
    jobs = [replace(cfg, motion=str(f), out=str(Path(cfg.out) / f.stem), progress=False)
            for f in files]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers == 1:
        return [_one(j) for j in jobs]
    rows: list[dict] = []
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(_one, j) for j in jobs]
        for job, fut in zip(jobs, futures):
            try:
                rows.append(fut.result())
            except BrokenProcessPool:
                rows.append(_row(job, "error", [("its worker process died (killed, out of "
                                                 "memory?) before it finished")]))
            except Exception as exc:  # noqa: BLE001 - not sent to or from the worker
                rows.append(_row(job, "error", [f"{type(exc).__name__}: {exc}"]))
    return rows


def format_summary(rows: list[dict]) -> str:
    lines = [(f"{'motion':32s} {'verdict':8s} {'fall s':>7s} {'local mm':>9s} {'drift m':>8s}  "
              "first reason")]
    for r in rows:
        fall = "-" if r["fall_time_s"] is None else f"{r['fall_time_s']:.2f}"
        mm = "-" if r["mpjpe_local_mm"] is None else f"{r['mpjpe_local_mm']:.0f}"
        drift = "-" if r["root_drift_max_m"] is None else f"{r['root_drift_max_m']:.2f}"
        reason = r["reasons"][0] if r["reasons"] else ""
        lines.append(f"{Path(r['motion']).name[:32]:32s} {r['verdict']:8s} {fall:>7s} {mm:>9s} "
                     f"{drift:>8s}  {reason}")
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("go", "caution", "no-go", "error")}
    lines.append(f"{counts['go']} of {len(rows)} go, {counts['caution']} caution, "
                 f"{counts['no-go']} no-go, {counts['error']} error")
    return "\n".join(lines)
