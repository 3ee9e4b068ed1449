"""Write a copy of a tracker whose action is the average of its network's and the network's
left-right mirror image's (``twin.train.symmetry.write_mirror_averaged``).

    python scripts/mirror_average_tracker.py IN.npz OUT.npz [--onnx OUT.onnx]
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--onnx", default=None, help="also export the averaged tracker to ONNX")
    args = ap.parse_args(argv)
    from twin.controllers.tracking_policy import TrackingController
    from twin.train.export import export_onnx
    from twin.train.symmetry import write_mirror_averaged

    out = write_mirror_averaged(args.src, args.dst)
    print(f"wrote {out}")
    if args.onnx:
        print(f"wrote {export_onnx(TrackingController.load(out), args.onnx)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
