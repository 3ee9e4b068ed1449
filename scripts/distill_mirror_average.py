"""Distil a tracker's mirror-averaged action into one network (DAgger on the training
clips; ``twin.train.distill``), keeping its critic, so symmetric PPO can start from it.

    python scripts/distill_mirror_average.py IN.npz MOTIONS OUT.npz [--rounds 2]
        [--steps 40000] [--epochs 10]
"""

from __future__ import annotations

import argparse
import json
import logging


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("motions", help="training clips: a folder, file or glob")
    ap.add_argument("dst")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=40_000, help="env-steps per round")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from twin.train.distill import DistillConfig, distill_mirror_average

    cfg = DistillConfig(rounds=args.rounds, steps=args.steps, epochs=args.epochs)
    print(json.dumps(distill_mirror_average(args.src, args.motions, args.dst, cfg)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
