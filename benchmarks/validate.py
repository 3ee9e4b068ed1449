"""Wall time of `twin validate` per second of motion, without and with video.

Target: <= 0.2 s per second of motion without video (>= 5x faster than real time) on 2
cores. Runs the bundled demo (GVHMR layout: read, normalise, retarget, execute, report).

    python benchmarks/validate.py [--controller default|pd|PATH.npz]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace

import twin  # noqa: F401
from twin.cli.validate_cmds import DEMO_FPS, demo_motion_path
from twin.validate import ValidateConfig, validate


def timed(cfg: ValidateConfig) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    report = validate(cfg)
    return time.perf_counter() - t0, report["metrics"]["executed_s"], report["verdict"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--controller", default="pd")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ValidateConfig(motion=str(demo_motion_path()), fps=DEMO_FPS,
                             controller=args.controller, out=tmp, progress=False)
        timed(cfg)  # warm-up: mesh cache, imports
        wall, motion_s, verdict = timed(cfg)
        wall_v, motion_v, _ = timed(replace(cfg, video=True))
    print(f"demo motion, controller {args.controller}: {motion_s:.2f} s executed, {verdict}")
    print(f"  without video: {wall:.2f} s wall = {wall / motion_s:.3f} s per motion second "
          f"({motion_s / wall:.1f}x real time)")
    print(f"  with video ({cfg.video_size[0]}x{cfg.video_size[1]}): {wall_v:.2f} s wall = "
          f"{wall_v / motion_v:.3f} s per motion second")
    print(f"s per motion second without video: {wall / motion_s:.3f}  (target <= 0.2)")


if __name__ == "__main__":
    main()
