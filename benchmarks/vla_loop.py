"""Time per control step of the VLA evaluation loop, excluding the policy.

Splits ``env.step`` of ``twin/PandaPickCube-v0`` (ee_delta actions, two 256x256 cameras,
render profile ``fast``) into physics + controller (IK and ``mj_step`` x decimation),
rendering (both cameras), and twin's own overhead (everything else: action checks,
observation assembly, success predicate, Gymnasium wrappers, ``ActionChunk``). The last
line is overhead / (physics + controller); target <= 0.10.

    python benchmarks/vla_loop.py [--steps 150] [--profile fast]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import twin  # noqa: F401  (MUJOCO_GL before mujoco)
from twin.policy.chunk import ActionChunk
from twin.policy.oracle import OraclePolicy


class _Timer:
    def __init__(self):
        self.total = 0.0

    def wrap(self, fn):
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.total += time.perf_counter() - t0
        return timed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--profile", default="fast")
    p.add_argument("--size", type=int, default=256)
    args = p.parse_args()

    env = ActionChunk(gym.make("twin/PandaPickCube-v0", render_profile=args.profile,
                               image_size=args.size, disable_env_checker=True), 3)
    task = env.unwrapped.task
    physics, controller, render = _Timer(), _Timer(), _Timer()
    task.backend.step = physics.wrap(task.backend.step)
    task.controller.compute = controller.wrap(task.controller.compute)
    task.backend.render = render.wrap(task.backend.render)

    obs, _ = env.reset(seed=0)
    policy = OraclePolicy(task)
    chunks = []
    for seed in range(50):  # precompute chunks: the policy is not part of the loop timed
        obs, _ = env.reset(seed=seed)
        policy.reset()
        done = False
        while not done and len(chunks) * 3 < args.steps:
            c = policy.infer(obs)["actions"]
            chunks.append(c)
            obs, _, te, tr, _ = env.step(c)
            done = te or tr
        if len(chunks) * 3 >= args.steps:
            break
    env.reset(seed=0)
    for t in (physics, controller, render):
        t.total = 0.0
    steps = 0
    t0 = time.perf_counter()
    for c in chunks:
        _, _, te, tr, info = env.step(c)
        steps += len(info["step_rewards"])
        if te or tr:
            env.reset(seed=steps)
    wall = time.perf_counter() - t0
    # resets in the loop also step physics and render: count them as their own categories
    pc = physics.total + controller.total
    overhead = wall - pc - render.total
    ms = 1e3 / steps
    print(f"steps: {steps}  (control {1 / task.control_dt:.0f} Hz, decimation {task.decimation},"
          f" profile {args.profile}, 2 cameras {args.size}x{args.size})")
    print(f"physics:    {physics.total * ms:7.3f} ms/step")
    print(f"controller: {controller.total * ms:7.3f} ms/step (mink IK)")
    print(f"render:     {render.total * ms:7.3f} ms/step")
    print(f"overhead:   {overhead * ms:7.3f} ms/step")
    print(f"total:      {wall * ms:7.3f} ms/step")
    print(f"overhead / (physics + controller) = {overhead / pc:.3f}  (target <= 0.10)")


if __name__ == "__main__":
    main()
