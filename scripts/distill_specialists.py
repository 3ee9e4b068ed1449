"""Merge per-clip specialists into the generalist by DAgger (``twin.train.distill``): each
training clip with a specialist is labelled by it, every other clip by the generalist; the
generalist's critic travels along, so PPO (``init=OUT``) can go on from the student.

    python scripts/distill_specialists.py GENERALIST MOTIONS SPECIALISTS OUT [--rounds 3]
        [--steps 60000] [--epochs 8] [--specialist-weight 4]

SPECIALISTS is a folder of ``CLIP.npz`` tracker files or of ``CLIP/tracker.npz`` run folders
(``twin train tracker motions=MOTIONS/CLIP.npz init=GENERALIST run_dir=SPECIALISTS/CLIP``,
or ``scripts/device/specialists.sh`` on a lent machine), named after the clips they track.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def find_specialists(folder: Path) -> dict[str, Path]:
    """clip name -> tracker file, from ``CLIP.npz`` files and ``CLIP/tracker.npz`` runs."""
    found = {p.stem: p for p in sorted(folder.glob("*.npz"))}
    found.update({p.parent.name: p for p in sorted(folder.glob("*/tracker.npz"))})
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("generalist", help="tracker file or shipped name (default)")
    ap.add_argument("motions", help="training clips: a folder, file or glob")
    ap.add_argument("specialists", type=Path)
    ap.add_argument("out")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=60_000, help="env-steps per round")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--specialist-weight", type=float, default=4.0,
                    help="how much more often the specialists' clips are sampled")
    args = ap.parse_args(argv)
    specialists = find_specialists(args.specialists)
    if not specialists:
        print(f"error: {args.specialists}: no CLIP.npz or CLIP/tracker.npz specialists",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from twin.train.distill import DistillConfig, distill_specialists

    cfg = DistillConfig(rounds=args.rounds, steps=args.steps, epochs=args.epochs)
    try:
        report = distill_specialists(args.generalist, specialists, args.motions, args.out, cfg,
                                     args.specialist_weight)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
