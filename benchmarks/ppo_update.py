"""CPU cost of one PPO update of the tracker, float32 vs bfloat16 autocast, in one run.

Collects one rollout of the default training config (shipped-size actor and asymmetric
critic, 32 envs x 64 steps = 2048 samples) and times ``PPO.train()`` on it alternately with
``ppo.update_dtype=float32`` and ``bfloat16`` (1 torch thread), in CPU-seconds of the
updating thread, so other load on the machine barely moves the figures. Prints min / median
per dtype and the ratio of medians.

    python benchmarks/ppo_update.py [--repeats 4] [--motions assets/motions/heldout_small]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import twin  # noqa: F401
from twin.train.tracker import (
    _ppo_class,
    cpu_has_bf16_matmul,
    load_train_config,
    make_env,
    ppo_hyperparameters,
    train,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=4)
    p.add_argument("--motions", default="assets/motions/heldout_small")
    args = p.parse_args()
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.logger import configure

    run = tempfile.mkdtemp()
    cfg = load_train_config([f"motions={args.motions}", f"run_dir={run}",
                             "total_env_steps=2048", "checkpoint_every_env_steps=100000000"])
    train(cfg, progress_bar=False)  # a checkpoint with the default networks
    _, env = make_env(cfg)
    model = _ppo_class().load(f"{run}/checkpoints/latest.zip", env=env, device="cpu",
                              **ppo_hyperparameters(cfg.ppo))
    model.set_logger(configure(None, []))
    model._setup_learn(2048, CallbackList([]), reset_num_timesteps=False)
    callback = CallbackList([])
    callback.init_callback(model)
    model.collect_rollouts(model.env, callback, model.rollout_buffer,
                           n_rollout_steps=cfg.ppo.n_steps)
    model.update_threads = 1
    dtypes = ["float32"] + (["bfloat16"] if cpu_has_bf16_matmul() else [])
    cpu: dict[str, list[float]] = {d: [] for d in dtypes}
    for _ in range(args.repeats):
        for d in dtypes:
            model.update_dtype = d
            t0 = time.thread_time()
            model.train()
            cpu[d].append(time.thread_time() - t0)
    samples = cfg.num_envs * cfg.ppo.n_steps
    print(f"PPO update of {samples} samples ({cfg.ppo.n_epochs} epochs x "
          f"{samples // cfg.ppo.batch_size} minibatches), CPU-seconds, {args.repeats} repeats")
    for d in dtypes:
        print(f"  {d:9s} min {min(cpu[d]):.3f}  median {statistics.median(cpu[d]):.3f}")
    if len(dtypes) == 2:
        print(f"float32 / bfloat16: {statistics.median(cpu['float32']) / statistics.median(cpu['bfloat16']):.2f}x")
    else:
        print("bfloat16: this CPU has no native bf16 matmul; not measured")


if __name__ == "__main__":
    main()
