"""Tracker evaluation on the held-out split: success and tracking errors vs the stiff-PD
baseline. Targets (issue 4): success >= 0.95 and body-local MPJPE <= 40 mm.

Uses data/motion_library/heldout (built by scripts/build_motion_library.py) when present,
else the small held-out clips committed in assets/motions/heldout_small.

    python benchmarks/tracker_eval.py [--tracker default|PATH.npz] [--motions DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from twin.envs.tracking.g1_tracking import load_motions

import twin  # noqa: F401
from twin.evaluate.tracker import evaluate_with_baseline, format_table

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracker", default="default")
    p.add_argument("--motions", default=None)
    p.add_argument("--out", default=None, help="write the JSON report here")
    args = p.parse_args()
    folder = Path(args.motions) if args.motions else ROOT / "data/motion_library/heldout"
    if not folder.exists():
        folder = ROOT / "assets/motions/heldout_small"
    t0 = time.perf_counter()
    report = evaluate_with_baseline(load_motions(folder), args.tracker)
    print(f"held-out clips from {folder}, tracker {args.tracker}, "
          f"{time.perf_counter() - t0:.1f} s")
    print(format_table(report))
    a, b = report["tracker"]["aggregate"], report["pd_baseline"]["aggregate"]
    print(f"success: tracker {a['success_rate']:.2f} vs PD {b['success_rate']:.2f} "
          f"(target >= 0.95)")
    print(f"local MPJPE: tracker {a['mpjpe_local_mm']:.1f} mm vs PD {b['mpjpe_local_mm']:.1f} mm "
          f"(target <= 40 mm)")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
