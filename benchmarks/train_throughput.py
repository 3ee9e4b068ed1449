"""Tracker training throughput against the physics it runs on, in one run.

(a) raw threaded ``mj_step``: the training env's own MjModel(s) and MjData, ``decimation``
    substeps per env-step, stepped by the env's thread pool, nothing else;
(b) the batched tracking env (``G1TrackingTask`` in ``TwinVectorEnv``, default training
    config: gains, DR, asymmetric critic observation) driven by a fixed random policy;
(c) end-to-end ``twin train tracker`` env-steps/s (rollout + PPO update) over a fixed number
    of PPO updates, once per config given (``--config`` may repeat: old vs new in one run).

All three use the same model, env count and substeps. The machine is usually shared, so
absolute figures drift by tens of percent between runs: compare ratios from one run. Each
rate is printed per wall-clock second and per CPU-second of this process (all its threads):
the second stays comparable when other processes take the cores. Last
line: ``training / raw physics: R``, the last config's training against the raw physics of
the full collision model measured last in the run (target >= 0.6).

    python benchmarks/train_throughput.py [--seconds 4] [--updates 3]
        [--config "torch_update_threads=null" --config "" --config "collision=feet_floor"]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import shlex
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import twin  # noqa: F401  (registers ids, sets MUJOCO_GL)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MOTIONS = ROOT / "data/motion_library/train"
FALLBACK_MOTIONS = ROOT / "assets/motions/heldout_small"


def _cfg(motions: str, run_dir: str, extra: list[str], updates: int | None = None):
    from twin.train.tracker import load_train_config

    over = [f"motions={motions}", f"run_dir={run_dir}"] + extra
    cfg = load_train_config(over)
    if updates is not None:
        steps = updates * cfg.ppo.n_steps * cfg.num_envs
        cfg = load_train_config(over + [f"total_env_steps={steps}",
                                        f"checkpoint_every_env_steps={10 * steps}"])
    return cfg


def _make_venv(cfg):
    from twin.train.tracker import make_env

    venv, _ = make_env(cfg)
    return venv


def raw_physics(venv, seconds: float) -> tuple[float, float]:
    """Threads step the env's models/datas from the reset states; restored every 50 steps
    (1 s) outside the timer so the robots keep the standing/moving contact states that
    training sees (a fallen robot steps faster)."""
    import mujoco

    venv.reset(seed=0)
    b = venv.task.backend
    n, dec = b.num_envs, venv.task.decimation
    start = [(d.qpos.copy(), d.qvel.copy(), d.ctrl.copy()) for d in b.datas]
    pool, chunks, models, datas = b._pool, b._chunks, b.models, b.datas

    def run(chunk):
        for i in chunk:
            mujoco.mj_step(models[i], datas[i], dec)

    def step():
        if pool is None:
            run(range(n))
        else:
            for f in [pool.submit(run, c) for c in chunks]:
                f.result()

    elapsed, cpu, steps = 0.0, 0.0, 0
    while elapsed < seconds:
        for (q, v, c), d, m in zip(start, datas, models):
            mujoco.mj_resetData(m, d)
            d.qpos[:], d.qvel[:], d.ctrl[:] = q, v, c
            mujoco.mj_forward(m, d)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(50):
            step()
        elapsed += time.perf_counter() - t0
        cpu += time.process_time() - c0
        steps += 50 * n
    return steps / elapsed, steps / cpu


def batched_env(venv, seconds: float) -> tuple[float, float]:
    """The vector env with actions ~ N(0, 0.5) from a fixed seed (a fresh policy's scale)."""
    venv.reset(seed=0)
    rng = np.random.default_rng(0)
    shape = venv.action_space.shape
    acts = [rng.normal(0.0, 0.5, shape).astype(np.float32) for _ in range(64)]
    venv.step(acts[0])  # warm-up
    k, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        venv.step(acts[k % 64])
        k += 1
    steps = k * venv.num_envs
    return steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)


def training(motions: str, extra: list[str], updates: int) -> tuple[float, float, float]:
    """(env-steps/s from the first rollout's start to the end of learning, env-steps per
    CPU-second of this process, update share of the wall time)."""
    from stable_baselines3.common.callbacks import BaseCallback

    from twin.train.tracker import train

    class Clock(BaseCallback):
        def __init__(self):
            super().__init__()
            self.t0 = self.steps0 = None
            self.update_s = 0.0
            self._t_end_rollout = None

        def _on_rollout_start(self) -> None:
            now = time.perf_counter()
            if self.t0 is None:
                self.t0, self.steps0 = now, self.num_timesteps
                self.c0 = time.process_time()
            elif self._t_end_rollout is not None:
                self.update_s += now - self._t_end_rollout

        def _on_rollout_end(self) -> None:
            self._t_end_rollout = time.perf_counter()

        def _on_step(self) -> bool:
            return True

        def _on_training_end(self) -> None:
            now = time.perf_counter()
            self.update_s += now - self._t_end_rollout
            self.t1, self.steps1 = now, self.num_timesteps
            self.c1 = time.process_time()

    with tempfile.TemporaryDirectory() as tmp:
        cfg = _cfg(motions, tmp, extra, updates)
        clock = Clock()
        train(cfg, progress_bar=False, callbacks=[clock])
    wall, steps = clock.t1 - clock.t0, clock.steps1 - clock.steps0
    return steps / wall, steps / (clock.c1 - clock.c0), clock.update_s / wall


def measure(motions: str, spec: str, seconds: float, updates: int) -> dict:
    """(a), (b) and (c) of one config. Run in a child process: every env holds one MjModel
    copy per environment for domain randomisation (~76 MB each with the G1's visual meshes),
    which a long-lived process would not hand back between configs."""
    extra = shlex.split(spec)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = _cfg(motions, tmp, extra)
        venv = _make_venv(cfg)
        raw, raw_cpu = raw_physics(venv, seconds)
        env, env_cpu = batched_env(venv, seconds)
        venv.close()
    del venv
    gc.collect()
    train_rate, train_cpu, update_share = training(motions, extra, updates)
    return {"num_envs": cfg.num_envs, "n_steps": cfg.ppo.n_steps, "collision": cfg.collision,
            "raw": raw, "raw_cpu": raw_cpu, "env": env, "env_cpu": env_cpu,
            "train": train_rate, "train_cpu": train_cpu, "update_share": update_share}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--motions", default=None,
                   help=f"clips (default {DEFAULT_MOTIONS.relative_to(ROOT)} if present, "
                        f"else {FALLBACK_MOTIONS.relative_to(ROOT)})")
    p.add_argument("--seconds", type=float, default=4.0, help="per (a) and (b)")
    p.add_argument("--updates", type=int, default=3, help="PPO updates per (c)")
    p.add_argument("--config", action="append", default=None,
                   help="training overrides for (a)-(c), quoted; repeat to compare configs")
    args = p.parse_args()
    motions = args.motions or str(DEFAULT_MOTIONS if DEFAULT_MOTIONS.is_dir()
                                  else FALLBACK_MOTIONS)
    configs = args.config or [""]
    print(f"motions={motions}, {len(os.sched_getaffinity(0))} cores, load "
          f"{os.getloadavg()[0]:.1f}; env-steps/s wall-clock | per CPU-second of this process "
          f"(1 env-step = decimation x physics dt)")
    first = raw_full = None
    for spec in configs:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            m = pool.submit(measure, motions, spec, args.seconds, args.updates).result()
        raw, raw_cpu, env, env_cpu = m["raw"], m["raw_cpu"], m["env"], m["env_cpu"]
        train_rate, train_cpu, update_share = m["train"], m["train_cpu"], m["update_share"]
        hours = 1e7 / train_rate / 3600
        print(f"config [{spec or 'default'}] (num_envs={m['num_envs']}, "
              f"n_steps={m['n_steps']})", flush=True)
        print(f"  (a) raw threaded mj_step        {raw:8.0f} | {raw_cpu:6.0f}")
        print(f"  (b) batched env, random policy  {env:8.0f} | {env_cpu:6.0f}   env / raw "
              f"{env / raw:.2f} | {env_cpu / raw_cpu:.2f}")
        print(f"  (c) training (rollout + update) {train_rate:8.0f} | {train_cpu:6.0f}   update "
              f"share {update_share:.2f}, {hours:.2f} h per 10M env-steps")
        if m["collision"] == "full":
            raw_full = raw
        print(f"  training / raw physics (this config's model) {train_rate / raw:.2f} | "
              f"{train_cpu / raw_cpu:.2f}", flush=True)
        if first is None:
            first = train_rate
        else:
            print(f"  training vs first config: {train_rate / first:.2f}x")
    if raw_full is None:
        print("training / raw physics: n/a (no config with collision=full ran)")
    else:  # the target is stated against the full model's physics
        print(f"training / raw physics: {train_rate / raw_full:.2f}")


if __name__ == "__main__":
    main()
