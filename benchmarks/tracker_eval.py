"""Tracker evaluation on both held-out splits, against the stiff-PD baseline.

- real: data/motion_library/heldout_real (motion-capture G1 locomotion and retargeted
  human box-carrying clips; scripts/build_motion_library.py);
- procedural: data/motion_library/heldout (LIPM walks, squats, reaches, human scripts).
Falls back to the committed small clips (assets/motions/heldout_small_real and
heldout_small) when the library is not built. Targets (issue 12) are printed last.

    python benchmarks/tracker_eval.py [--tracker default|PATH.npz] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import twin  # noqa: F401
from twin.envs.tracking.g1_tracking import load_motions
from twin.evaluate.tracker import evaluate_with_baseline, format_table, write_report

ROOT = Path(__file__).resolve().parents[1]
SPLITS = {"real": ("data/motion_library/heldout_real", "assets/motions/heldout_small_real"),
          "procedural": ("data/motion_library/heldout", "assets/motions/heldout_small")}


def split_folder(split: str) -> Path:
    full, small = SPLITS[split]
    return ROOT / full if (ROOT / full).is_dir() else ROOT / small


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tracker", default="default")
    p.add_argument("--out", default=None, help="write report.json/.md per split under DIR")
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
    print("\n== targets (issue 12)")
    for split, target_s in (("real", 0.9), ("procedural", 0.95)):
        a, b = summary[split]["tracker"], summary[split]["pd_baseline"]
        print(f"{split:10s} success: tracker {a['success_rate']:.2f} vs PD {b['success_rate']:.2f}"
              f" (target >= {target_s}); tracked fraction {a['tracked_fraction']:.3f} vs PD "
              f"{b['tracked_fraction']:.3f}" + (" (target >= 0.97)" if split == "real" else "")
              + f"; local MPJPE {a['mpjpe_local_mm']:.1f} mm (common window "
              f"{a['mpjpe_local_common_mm']:.1f} vs PD {b['mpjpe_local_common_mm']:.1f})"
              + (" (target <= 35 mm)" if split == "real" else ""))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
