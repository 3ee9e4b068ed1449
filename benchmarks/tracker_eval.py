"""Tracker evaluation on both held-out splits, against the stiff-PD baseline.

- real: data/motion_library/heldout_real (motion-capture G1 locomotion and retargeted
  human box-carrying clips; scripts/build_motion_library.py);
- procedural: data/motion_library/heldout (LIPM walks, squats, reaches, human scripts).
Falls back to the committed small clips (assets/motions/heldout_small_real and
heldout_small) when the library is not built. Then two GVHMR-layout plans (foot-locked
walks from twin.motion.procedural.smpl_walk: 0.8 m/s straight, and a quarter circle of
radius 1.4 m at 0.8 m/s) go through `twin validate` with the tracker. Targets (issue 12)
are printed last.

    python benchmarks/tracker_eval.py [--tracker default|PATH.npz] [--out DIR]
        [--history assets/tracker/history.csv --wall-hours H --cores N --note TEXT]
        [--gate-against default] [--rollouts 8]

``--history`` appends one row to the tracker campaign's learning curve: total env-steps
(from the tracker's metadata, its init's included), wall hours and cores spent, and both
splits' numbers. ``--gate-against`` also scores that tracker (the shipped one) and prints
the campaign's ship gate (docs/tracker.md, "The campaign") for ``--tracker`` against it.
``--rollouts K`` (default 8) also plays the real split K more times with seeded sensor noise
(``twin.evaluate.tracker.noisy_policy``) and reports the means of its frame-0 tracked
fraction and mid-clip windows; the gate compares those means, both trackers scored alike.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import time
from pathlib import Path

import numpy as np

import twin  # noqa: F401
from twin.envs.tracking.g1_tracking import load_motions
from twin.evaluate.tracker import (
    evaluate_with_baseline,
    format_table,
    window_time_up_s,
    write_report,
)

ROOT = Path(__file__).resolve().parents[1]
SPLITS = {"real": ("data/motion_library/heldout_real", "assets/motions/heldout_small_real"),
          "procedural": ("data/motion_library/heldout", "assets/motions/heldout_small")}


# mid-clip starts on the real split (``window_time_up_s``): every part of a clip, not only
# the part before its first fall from frame 0
WINDOW_S, WINDOW_EVERY_S = 3.0, 0.5


def real_windows_mean_s(tracker: str, noise_seed: int | None = None) -> float:
    """Mean seconds up over every mid-clip window of the real held-out split (``noise_seed``:
    one seeded noisy rollout, ``twin.evaluate.tracker.noisy_policy``)."""
    return float(np.concatenate(list(window_time_up_s(
        split_folder("real"), tracker, WINDOW_S, WINDOW_EVERY_S,
        noise_seed=noise_seed).values())).mean())


def frame0_rollouts(clips, tracker: str, seeds: range) -> tuple[list[float], dict[str, list]]:
    """Frame-0 tracked fraction of ``tracker`` on ``clips`` per seeded noisy rollout, and per
    clip the fraction in each rollout."""
    from twin.evaluate.tracker import aggregate, evaluate_named

    means, per_clip = [], {}
    for seed in seeds:
        results = evaluate_named(clips, tracker, noise_seed=seed)[0]
        means.append(aggregate(results)["tracked_fraction"])
        for r in results:
            per_clip.setdefault(r.clip, []).append(r.frames_tracked / r.frames_total)
    return means, per_clip


def real_rollouts(tracker: str, rollouts: int) -> dict[str, list[float]]:
    """The real split's frame-0 tracked fraction and mid-clip windows' mean time up over
    ``rollouts`` seeded noisy rollouts (seeds 0, 1, ...): one rollout is a noisy score."""
    frame0 = frame0_rollouts(load_motions(split_folder("real")), tracker, range(rollouts))[0]
    windows = [real_windows_mean_s(tracker, noise_seed=k) for k in range(rollouts)]
    return {"tracked_fraction": frame0, "windows_s": windows}


def rollout_line(r: dict[str, list[float]]) -> str:
    f, w = np.array(r["tracked_fraction"]), np.array(r["windows_s"])
    return (f"frame-0 tracked fraction {f.mean():.3f} (sd {f.std():.3f}), mid-clip windows "
            f"{w.mean():.3f} s (sd {w.std():.3f}) over {len(f)} noisy rollouts")


def split_folder(split: str) -> Path:
    full, small = SPLITS[split]
    return ROOT / full if (ROOT / full).is_dir() else ROOT / small


WALK_PLANS = {
    "walk_0p8_straight": dict(speed_mps=0.8, walk_s=6.0),
    # 7 steps of 0.55 s, the first two and last two ramped: 5 full steps' turn = 90 deg
    "walk_0p8_quarter_circle": dict(speed_mps=0.8, yaw_rate_rad_s=(np.pi / 2) / (5 * 0.55),
                                    walk_s=7 * 0.55),
}


def validate_walks(tracker: str) -> dict[str, dict]:
    """Write each walk plan as a GVHMR ``hmr4d_results.pt`` and run ``twin validate`` on it."""
    import subprocess
    import sys
    import tempfile

    import torch

    from twin.motion.procedural.smpl_walk import WalkSpec, walk_gvhmr

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kw in WALK_PLANS.items():
            d = walk_gvhmr(WalkSpec(**kw))
            plan = Path(tmp) / f"{name}.pt"
            torch.save({k: ({kk: torch.tensor(vv) for kk, vv in v.items()}
                            if isinstance(v, dict) else torch.tensor(v))
                        for k, v in d.items()}, plan)
            proc = subprocess.run([sys.executable, "-m", "twin.cli.main", "validate", str(plan),
                                   f"controller={tracker}", f"out={Path(tmp) / name}",
                                   "fps=30", "progress=false"],
                                  capture_output=True, text=True, check=False)
            report_path = Path(tmp) / name / "report.json"
            if not report_path.exists():
                out[name] = {"verdict": "error", "rc": proc.returncode,
                             "stderr": proc.stderr.strip().splitlines()[-1:]}
                continue
            r = json.loads(report_path.read_text())
            m = r["metrics"]
            out[name] = {"verdict": r["verdict"], "rc": proc.returncode,
                         "fall_time_s": m.get("fall_time_s"), "duration_s": m.get("duration_s"),
                         "mpjpe_local_mm": m.get("mpjpe_local_mm"),
                         "reasons": list(r.get("reasons", []))}
    return out


# The ship gate (docs/tracker.md): real frame-0 tracked fraction may drop at most this much
REAL_FRAME0_SLACK = 0.02
# seeded noisy rollouts whose means the gate compares (twin.evaluate.tracker.noisy_policy)
ROLLOUTS = 8


def ship_gate(candidate: dict, shipped: dict) -> tuple[bool, list[str]]:
    """Whether ``candidate`` may replace ``shipped``, with one line per criterion. Each is a
    dict of ``real_windows_s``, ``real_tracked_fraction``, ``procedural_success``,
    ``procedural_tracked_fraction`` and (candidate) ``demo_verdict``."""
    c, s = candidate, shipped
    checks = [
        (c["real_windows_s"] > s["real_windows_s"],
         (f"real time up from mid-clip starts {c['real_windows_s']:.3f} s vs "
          f"{s['real_windows_s']:.3f} s (must be higher)")),
        (c["real_tracked_fraction"] >= s["real_tracked_fraction"] - REAL_FRAME0_SLACK,
         (f"real frame-0 tracked fraction {c['real_tracked_fraction']:.3f} vs "
          f"{s['real_tracked_fraction']:.3f} (at most {REAL_FRAME0_SLACK} lower)")),
        ((c["procedural_success"], c["procedural_tracked_fraction"])
         >= (s["procedural_success"], s["procedural_tracked_fraction"]),
         (f"procedural success {c['procedural_success']:.2f} (tracked "
          f"{c['procedural_tracked_fraction']:.3f}) vs {s['procedural_success']:.2f} "
          f"({s['procedural_tracked_fraction']:.3f}) (not lower)")),
        (c["demo_verdict"] == "go", f"demo=basic verdict {c['demo_verdict']} (must stay a go)"),
    ]
    return all(ok for ok, _ in checks), [f"{'pass' if ok else 'FAIL'}: {line}"
                                         for ok, line in checks]


def gate_numbers(tracker: str, rollouts: int = 0) -> dict:
    """The ship gate's numbers for ``tracker`` (no PD baseline, no walks); with
    ``rollouts`` the real split's two are means over that many noisy rollouts."""
    from twin.evaluate.tracker import aggregate, evaluate_named

    out = {}
    for split in SPLITS:
        agg = aggregate(evaluate_named(load_motions(split_folder(split)), tracker)[0])
        out[f"{split}_tracked_fraction"] = agg["tracked_fraction"]
        out[f"{split}_success"] = agg["success_rate"]
    if rollouts:
        r = real_rollouts(tracker, rollouts)
        out["real_tracked_fraction"] = float(np.mean(r["tracked_fraction"]))
        out["real_windows_s"] = float(np.mean(r["windows_s"]))
        out["rollouts"] = r
    else:
        out["real_windows_s"] = real_windows_mean_s(tracker)
    return out


def demo_verdict(tracker: str) -> str:
    import tempfile

    from twin.cli.validate_cmds import demo_motion_path
    from twin.validate import ValidateConfig, validate

    with tempfile.TemporaryDirectory() as tmp:
        return validate(ValidateConfig(motion=str(demo_motion_path("basic")),
                                       controller=tracker, out=tmp))["verdict"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracker", default="default")
    p.add_argument("--out", default=None, help="write report.json/.md per split under DIR")
    p.add_argument("--history", default=None, help="append a learning-curve row to this CSV")
    p.add_argument("--wall-hours", type=float, default=None)
    p.add_argument("--cores", type=int, default=None)
    p.add_argument("--note", default="")
    p.add_argument("--gate-against", default=None,
                   help="also score this tracker and print the ship gate against it")
    p.add_argument("--rollouts", type=int, default=ROLLOUTS,
                   help="seeded noisy rollouts averaged for the real split's frame-0 and "
                        "window numbers (the gate's; 0: the noise-free rollout alone)")
    args = p.parse_args()
    summary = {}
    for split in SPLITS:
        folder = split_folder(split)
        t0 = time.perf_counter()
        report = evaluate_with_baseline(load_motions(folder), args.tracker)
        print(f"\n== {split} held-out split: {folder.relative_to(ROOT)}, tracker "
              f"{args.tracker}, {time.perf_counter() - t0:.1f} s")
        print(format_table(report))
        summary[split] = {k: report[k]["aggregate"] for k in report}
        if args.out:
            write_report(report, Path(args.out) / split, title=f"{split} held-out split")
    t0 = time.perf_counter()
    summary["real_windows"] = {label: real_windows_mean_s(name) for label, name in
                               (("tracker", args.tracker), ("pd_baseline", "pd"))}
    print(f"\n== real held-out split from mid-clip starts ({WINDOW_S:g}-s windows every "
          f"{WINDOW_EVERY_S:g} s), {time.perf_counter() - t0:.1f} s: mean time up tracker "
          f"{summary['real_windows']['tracker']:.2f} s vs PD "
          f"{summary['real_windows']['pd_baseline']:.2f} s")
    if args.rollouts:
        t0 = time.perf_counter()
        summary["real_rollouts"] = real_rollouts(args.tracker, args.rollouts)
        print(f"\n== real held-out split, {time.perf_counter() - t0:.1f} s: "
              + rollout_line(summary["real_rollouts"]))
    walks = validate_walks(args.tracker)
    summary["walks"] = walks
    print("\n== GVHMR-layout walk plans through twin validate")
    for name, w in walks.items():
        if w["verdict"] == "error":
            print(f"{name:26s} error    rc {w['rc']}: {' '.join(w['stderr'])}")
            continue
        fell = "no fall" if w["fall_time_s"] is None else f"fell at {w['fall_time_s']:.2f} s"
        print(f"{name:26s} {w['verdict']:8s} {fell} of {w['duration_s']:.1f} s; "
              f"local MPJPE {w['mpjpe_local_mm']:.1f} mm")
        for reason in w.get("reasons", [])[:3]:
            print(f"{'':26s}   {reason}")
    print("\n== targets (issue 12)")
    for split, target_s in (("real", 0.9), ("procedural", 0.95)):
        a, b = summary[split]["tracker"], summary[split]["pd_baseline"]
        print(f"{split:10s} success: tracker {a['success_rate']:.2f} vs PD {b['success_rate']:.2f}"
              f" (target >= {target_s}); tracked fraction {a['tracked_fraction']:.3f} vs PD "
              f"{b['tracked_fraction']:.3f}" + (" (target >= 0.97)" if split == "real" else "")
              + f"; local MPJPE {a['mpjpe_local_mm']:.1f} mm (common window "
              f"{a['mpjpe_local_common_mm']:.1f} vs PD {b['mpjpe_local_common_mm']:.1f})"
              + (" (target <= 35 mm)" if split == "real" else "")
              + f"; root drift at the last tracked frame {a['root_drift_m']:.2f} m vs PD "
              f"{b['root_drift_m']:.2f}")
    print("walks      " + ", ".join(f"{n}: {w['verdict']}" for n, w in walks.items())
          + " (target: go for both)")
    if args.gate_against:
        real, proc = summary["real"]["tracker"], summary["procedural"]["tracker"]
        rolled = summary.get("real_rollouts")
        candidate = {"real_windows_s": (float(np.mean(rolled["windows_s"])) if rolled
                                        else summary["real_windows"]["tracker"]),
                     "real_tracked_fraction": (float(np.mean(rolled["tracked_fraction"]))
                                               if rolled else real["tracked_fraction"]),
                     "procedural_success": proc["success_rate"],
                     "procedural_tracked_fraction": proc["tracked_fraction"],
                     "demo_verdict": demo_verdict(args.tracker)}
        shipped = gate_numbers(args.gate_against, args.rollouts)
        passed, lines = ship_gate(candidate, shipped)
        summary["ship_gate"] = {"against": args.gate_against, "pass": passed, "lines": lines,
                                "rollouts": args.rollouts}
        print(f"\n== ship gate against {args.gate_against}"
              + (f" (real numbers: means of {args.rollouts} noisy rollouts)"
                 if args.rollouts else "") + f": {'PASS' if passed else 'FAIL'}")
        if args.rollouts:
            print(f"  {args.gate_against}: {rollout_line(shipped['rollouts'])}")
        for line in lines:
            print(f"  {line}")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=2))
    if args.history:
        append_history(Path(args.history), args, summary)


HISTORY_COLUMNS = ("date", "tracker", "env_steps", "wall_hours", "cores", "real_success",
                   "real_tracked_fraction", "real_local_mpjpe_mm",
                   "real_local_mpjpe_common_mm", "procedural_success",
                   "procedural_tracked_fraction", "real_window_time_up_s", "note",
                   "rollouts", "real_tracked_fraction_rollouts",
                   "real_window_time_up_s_rollouts")


def append_history(path: Path, args, summary: dict) -> None:
    from twin.controllers.tracking_policy import TrackingController

    meta = TrackingController.load(args.tracker).metadata.training
    real, proc = summary["real"]["tracker"], summary["procedural"]["tracker"]
    row = {"date": datetime.date.today().isoformat(), "tracker": args.tracker,
           "env_steps": int(meta.get("total_env_steps", meta.get("env_steps", 0))),
           "wall_hours": args.wall_hours, "cores": args.cores,
           "real_success": round(real["success_rate"], 3),
           "real_tracked_fraction": round(real["tracked_fraction"], 3),
           "real_local_mpjpe_mm": round(real["mpjpe_local_mm"], 1),
           "real_local_mpjpe_common_mm": round(real["mpjpe_local_common_mm"], 1),
           "procedural_success": round(proc["success_rate"], 3),
           "procedural_tracked_fraction": round(proc["tracked_fraction"], 3),
           "real_window_time_up_s": round(summary["real_windows"]["tracker"], 2),
           "note": args.note}
    rolled = summary.get("real_rollouts")
    if rolled:
        row |= {"rollouts": len(rolled["windows_s"]),
                "real_tracked_fraction_rollouts": round(float(np.mean(
                    rolled["tracked_fraction"])), 3),
                "real_window_time_up_s_rollouts": round(float(np.mean(rolled["windows_s"])), 2)}
    write_history_row(path, row)
    print(f"appended to {path}: {row}")


def write_history_row(path: Path, row: dict) -> None:
    """Append ``row`` to the CSV ``path`` (LF line ends, as in git). A file written before a
    column was added is rewritten with the current header first (its rows keep their
    values; the new column stays empty for them)."""
    rewrite, rows = not path.exists(), []
    if path.exists():
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != HISTORY_COLUMNS:
                unknown = set(reader.fieldnames or ()) - set(HISTORY_COLUMNS)
                if unknown:
                    raise ValueError(f"{path}: columns {sorted(unknown)} are not history "
                                     f"columns; expected {list(HISTORY_COLUMNS)}")
                rewrite, rows = True, list(reader)
    if rewrite:
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    with path.open("a", newline="") as f:
        csv.DictWriter(f, fieldnames=HISTORY_COLUMNS, lineterminator="\n").writerow(row)


if __name__ == "__main__":
    main()
