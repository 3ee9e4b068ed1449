"""Retargeting throughput: frames/s of ``twin.retarget.retarget_to_g1`` on one core.

Runs the mink G1 retargeter on a procedural 10 s walking clip at 50 Hz (or on a file given
with ``--input``), pinned to one thread, for each IK iteration count requested, and prints
frames/s, IK residuals and root drift. Target: >= 200 frames/s.

    python benchmarks/retarget.py [--iterations 1 2 3] [--input FILE --fps N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # one core: no BLAS threads

import numpy as np

TARGET_FPS = 200.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, nargs="+", default=[1, 2, 3, 5])
    p.add_argument("--seconds", type=float, default=10.0, help="procedural clip length")
    p.add_argument("--input", default=None, help="a human motion file instead")
    p.add_argument("--fps", type=float, default=None, help="frame rate of --input if needed")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    from twin.motion import load_human_motion
    from twin.motion.normalise import normalise
    from twin.motion.synthetic import procedural_walk
    from twin.retarget import RetargetConfig, retarget_to_g1

    if args.input:
        human = load_human_motion(args.input, fps=args.fps)
        label = args.input
    else:
        human = normalise(procedural_walk(args.seconds, 1.0, 50.0))
        label = f"procedural walk {args.seconds:g} s at 1 m/s"
    print(f"{platform.processor() or platform.machine()}, 1 core; clip: {label}, "
          f"{human.num_frames} frames at {human.fps:g} Hz")
    retarget_to_g1(human, RetargetConfig(iterations_per_frame=1))  # warm caches
    print(f"{'iters':>5s} {'frames/s':>9s} {'wall s':>7s} {'pos mean mm':>11s} "
          f"{'pos p95 mm':>10s} {'ori mean deg':>12s} {'drift max cm':>12s}")
    best_default = 0.0
    for it in args.iterations:
        runs = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            res = retarget_to_g1(human, RetargetConfig(iterations_per_frame=it))
            runs.append((human.num_frames / (time.perf_counter() - t0), res))
        fps, res = max(runs, key=lambda r: r[0])
        s = res.summary()
        if it == RetargetConfig().iterations_per_frame:
            best_default = fps
        print(f"{it:5d} {fps:9.0f} {human.num_frames / fps:7.2f} "
              f"{1000 * s['position_residual_mean_m']:11.1f} "
              f"{1000 * s['position_residual_p95_m']:10.1f} "
              f"{np.degrees(s['orientation_residual_mean_rad']):12.2f} "
              f"{100 * s['root_drift_xy_max_m']:12.2f}")
    if best_default:
        verdict = "meets" if best_default >= TARGET_FPS else "MISSES"
        print(f"default ({RetargetConfig().iterations_per_frame} iterations/frame, end to end "
              f"incl. FK and frame 0): {best_default:.0f} frames/s, {verdict} the "
              f"{TARGET_FPS:.0f} frames/s target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
