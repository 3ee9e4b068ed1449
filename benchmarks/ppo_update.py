"""CPU cost of one PPO update of the tracker, float32 vs bfloat16 autocast, in one run.

Collects one rollout of the default training config (shipped-size actor and asymmetric
critic, 32 envs x 64 steps = 2048 samples) and times ``PPO.train()`` on it alternately with
``ppo.update_dtype=float32`` and ``bfloat16`` (1 torch thread), in CPU-seconds of the
updating thread, so other load on the machine barely moves the figures. Beside it, per
dtype, the same update written as a bare torch loop (plain ``nn.Sequential`` actor and
critic of the same sizes, the clipped PPO loss, value loss, entropy, gradient clipping,
Adam; no SB3): the floor any PPO library (rsl-rl included) could reach with these networks
and minibatches. Prints min / median per variant and, last, SB3 / bare torch.

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


def bare_update(obs, actions, old_logp, adv, ret, dims, net_arch, n_epochs, batch_size,
                bf16: bool):
    """One PPO update (``n_epochs`` over minibatches of ``batch_size``) in plain torch."""
    import torch
    from torch import nn

    def mlp(n_in: int, n_out: int) -> nn.Sequential:
        layers, d = [], n_in
        for h in net_arch:
            layers += [nn.Linear(d, h), nn.ELU()]
            d = h
        return nn.Sequential(*layers, nn.Linear(d, n_out))

    actor_dim, obs_dim, act_dim = dims
    actor, critic = mlp(actor_dim, act_dim), mlp(obs_dim, 1)
    log_std = nn.Parameter(torch.full((act_dim,), -1.0))
    params = [*actor.parameters(), *critic.parameters(), log_std]
    opt = torch.optim.Adam(params, lr=1e-5)
    n = obs.shape[0]
    for _ in range(n_epochs):
        for idx in torch.randperm(n).split(batch_size):
            o = obs[idx]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16, cache_enabled=False):
                mu = actor(o[:, :actor_dim]).float()
                v = critic(o).float()[:, 0]
            dist = torch.distributions.Normal(mu, log_std.exp())
            logp = dist.log_prob(actions[idx]).sum(-1)
            ratio = torch.exp(logp - old_logp[idx])
            a = adv[idx]
            a = (a - a.mean()) / (a.std() + 1e-8)
            policy_loss = -torch.min(ratio * a, ratio.clamp(0.8, 1.2) * a).mean()
            loss = policy_loss + ((ret[idx] - v) ** 2).mean() - 0.005 * dist.entropy().mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=4)
    p.add_argument("--motions", default="assets/motions/heldout_small")
    args = p.parse_args()
    import torch
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.logger import configure

    run = tempfile.mkdtemp()
    cfg = load_train_config([f"motions={args.motions}", f"run_dir={run}",
                             "total_env_steps=2048", "checkpoint_every_env_steps=100000000"])
    train(cfg, progress_bar=False)  # a checkpoint with the default networks
    venv, env = make_env(cfg)
    model = _ppo_class().load(f"{run}/checkpoints/latest.zip", env=env, device="cpu",
                              **ppo_hyperparameters(cfg.ppo))
    model.set_logger(configure(None, []))
    model._setup_learn(2048, CallbackList([]), reset_num_timesteps=False)
    callback = CallbackList([])
    callback.init_callback(model)
    model.collect_rollouts(model.env, callback, model.rollout_buffer,
                           n_rollout_steps=cfg.ppo.n_steps)
    model.update_threads = 1
    torch.set_num_threads(1)
    buf = model.rollout_buffer
    flat = lambda x: torch.as_tensor(x.reshape(x.shape[0] * x.shape[1], *x.shape[2:]))  # noqa: E731
    data = (flat(buf.observations).float(), flat(buf.actions).float(),
            flat(buf.log_probs).float(), flat(buf.advantages).float(),
            flat(buf.returns).float())
    dims = (venv.task.actor_obs_dim, data[0].shape[1], data[1].shape[1])
    dtypes = ["float32"] + (["bfloat16"] if cpu_has_bf16_matmul() else [])
    cpu: dict[str, list[float]] = {f"{k} {d}": [] for d in dtypes for k in ("sb3", "bare")}
    for _ in range(args.repeats):
        for d in dtypes:
            model.update_dtype = d
            t0 = time.thread_time()
            model.train()
            cpu[f"sb3 {d}"].append(time.thread_time() - t0)
            t0 = time.thread_time()
            bare_update(*data, dims, list(cfg.net_arch), cfg.ppo.n_epochs, cfg.ppo.batch_size,
                        bf16=d == "bfloat16")
            cpu[f"bare {d}"].append(time.thread_time() - t0)
    samples = cfg.num_envs * cfg.ppo.n_steps
    print(f"PPO update of {samples} samples ({cfg.ppo.n_epochs} epochs x "
          f"{samples // cfg.ppo.batch_size} minibatches), actor {dims[0]} -> {cfg.net_arch} -> "
          f"{dims[2]}, critic {dims[1]} -> {cfg.net_arch} -> 1, CPU-seconds, "
          f"{args.repeats} repeats")
    med = {k: statistics.median(v) for k, v in cpu.items()}
    for k, v in cpu.items():
        print(f"  {k:14s} min {min(v):.3f}  median {med[k]:.3f}")
    if len(dtypes) == 2:
        print(f"float32 / bfloat16 (sb3): {med['sb3 float32'] / med['sb3 bfloat16']:.2f}x")
    else:
        print("bfloat16: this CPU has no native bf16 matmul; not measured")
    for d in dtypes:
        print(f"sb3 / bare torch ({d}): {med[f'sb3 {d}'] / med[f'bare {d}']:.2f}")


if __name__ == "__main__":
    main()
