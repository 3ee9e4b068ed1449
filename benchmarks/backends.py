"""Physics steps/s per backend on the same scenes: the G1 standing (``empty``, tracking
gains, holding its default pose) and the Panda (``panda_reach``), one env, one thread.

Backends that are not installed are reported as such. Newton's first run in a fresh cache
compiles warp kernels (~50 s); builds are excluded from the timing.

    python benchmarks/backends.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import time

from twin.sim import make_backend
from twin.sim.robot_state import set_default_pose

SCENES = (("G1", "empty", ["robot=g1", "gains=tracking"]), ("Panda", "panda_reach", []))


def steps_per_s(backend_name: str, scene: str, overrides: list[str], seconds: float) -> float:
    b = make_backend(scene, backend=backend_name, overrides=overrides, num_threads=1)
    try:
        set_default_pose(b, b.robot)
        b.step(20)  # warm-up
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            b.step(10)
            n += 10
        return n / (time.perf_counter() - t0)
    finally:
        b.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    print(f"{'backend':8s} " + " ".join(f"{label:>10s}" for label, _, _ in SCENES))
    for name in ("mujoco", "newton"):
        try:
            rates = [steps_per_s(name, scene, ov, args.seconds) for _, scene, ov in SCENES]
        except ImportError as exc:
            print(f"{name:8s} not installed ({exc})")
            continue
        print(f"{name:8s} " + " ".join(f"{r:10.0f}" for r in rates))


if __name__ == "__main__":
    main()
