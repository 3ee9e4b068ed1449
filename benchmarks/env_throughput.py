"""Env-steps/s of twin/G1Stand-v0: single env, SyncVectorEnv, AsyncVectorEnv, the batched
vector env, and raw threaded mj_step on the same model with the same substeps.

The robot uses the ``stiff`` gain profile and zero actions so that every variant simulates
the same standing contact state (a falling/lying robot steps ~40 % faster and would skew
the comparison). Last line: batched / raw ratio (target >= 0.85 on 2 cores).

    python benchmarks/env_throughput.py [--num-envs 16] [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import gymnasium as gym
import mujoco
import numpy as np

import twin  # noqa: F401  (registers ids, sets MUJOCO_GL)

ENV_ID = "twin/G1Stand-v0"
KW = dict(gains="stiff")


def _rate(step_fn, n_per_call: int, seconds: float) -> float:
    step_fn()  # warm-up
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step_fn()
        calls += 1
    return calls * n_per_call / (time.perf_counter() - t0)


def single(seconds: float) -> float:
    env = gym.make(ENV_ID, **KW)
    env.reset(seed=0)
    a = np.zeros(env.action_space.shape, np.float32)

    def step():
        _, _, te, tr, _ = env.step(a)
        if te or tr:
            env.reset()

    r = _rate(step, 1, seconds)
    env.close()
    return r


def vector(mode: str, n: int, seconds: float) -> float:
    env = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode=mode, **KW)
    env.reset(seed=0)
    a = np.zeros(env.action_space.shape, np.float32)
    r = _rate(lambda: env.step(a), n, seconds)
    env.close()
    return r


def raw_threaded(n: int, seconds: float) -> float:
    """Threads stepping N MjData of the env's own model, `decimation` substeps, nothing else."""
    env = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **KW)
    env.reset(seed=0)
    backend, decimation = env.task.backend, env.task.decimation
    model, datas = backend.model, backend.datas
    threads = min(n, os.cpu_count() or 1)
    bounds = np.linspace(0, n, threads + 1).astype(int)
    chunks = [datas[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    pool = ThreadPoolExecutor(threads)

    def run(chunk):
        for d in chunk:
            mujoco.mj_step(model, d, decimation)

    r = _rate(lambda: [f.result() for f in [pool.submit(run, c) for c in chunks]], n, seconds)
    pool.shutdown()
    env.close()
    return r


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--seconds", type=float, default=3.0)
    args = p.parse_args()
    n, s = args.num_envs, args.seconds
    print(f"{ENV_ID} ({KW}), N={n}, {os.cpu_count()} cores, env-steps/s (1 env-step = 4 x 5 ms)")
    rows = {
        "single env (gym.make)": single(s),
        f"SyncVectorEnv x{n}": vector("sync", n, s),
        f"AsyncVectorEnv x{n}": vector("async", n, s),
        f"twin batched x{n}": vector("vector_entry_point", n, s),
        f"raw threaded mj_step x{n}": raw_threaded(n, s),
    }
    for name, rate in rows.items():
        print(f"  {name:28s} {rate:9.0f}")
    batched, raw = rows[f"twin batched x{n}"], rows[f"raw threaded mj_step x{n}"]
    print(f"batched / SyncVectorEnv: {batched / rows[f'SyncVectorEnv x{n}']:.2f}")
    print(f"batched / raw threaded mj_step: {batched / raw:.3f}  (target >= 0.85)")


if __name__ == "__main__":
    main()
