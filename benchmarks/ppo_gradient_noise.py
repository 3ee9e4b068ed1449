"""How much of a PPO minibatch gradient is signal: the gradient noise scale of a training
run's policy loss at its latest checkpoint (McCandlish et al. 2018, "An Empirical Model of
Large-Batch Training").

Collects ``--rollouts`` rollouts with the run's own config (envs, clips, normalisation,
policy) and, on each, the policy-loss gradient (PPO's clipped surrogate at ratio 1, i.e. the
first gradient step's, advantages normalised per minibatch as SB3 does) of every minibatch
of ``--minibatch`` samples. From the K gradients g_k with mean G:

- noise E|g - G|^2 and signal |G|^2 (unbiased: the mean dot product of two minibatches'
  gradients; bounded from above at 2 standard errors when noise hides it),
- their ratio: how many times the squared noise of one minibatch's gradient exceeds the
  squared true gradient,
- B_simple = minibatch x ratio, the batch size at which noise and signal are equal,
- the mean cosine between two minibatches' gradients (0: unrelated directions).

Adam normalises each step's size, so when noise dominates, a step moves the policy as far
as ever, mostly in a random direction. The run's checkpoint is only read.

    python benchmarks/ppo_gradient_noise.py RUN_DIR [--rollouts 8] [--minibatch 512]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import twin  # noqa: F401


def minibatch_gradients(run: Path, rollouts: int, minibatch: int | None
                        ) -> tuple[np.ndarray, int]:
    """(K, P) policy-loss gradients of the actor's parameters, one row per minibatch, and
    the minibatch size used."""
    import torch
    from stable_baselines3 import PPO

    from twin.train.tracker import load_run_config, make_env, restore_normalization

    cfg = load_run_config(run)
    _, env = make_env(cfg)
    model = PPO.load(run / "checkpoints" / "latest.zip", env=env, device="cpu")
    restore_normalization(env, run / "checkpoints")
    torch.set_num_threads(1)
    _, callback = model._setup_learn(10**12, None)
    callback.on_training_start(locals(), globals())
    params = [p for n, p in model.policy.named_parameters()
              if p.requires_grad and not n.startswith(("value_net", "mlp_extractor.value_net"))]
    minibatch = minibatch or cfg.ppo.batch_size
    out = []
    for _ in range(rollouts):
        model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
        for data in model.rollout_buffer.get(minibatch):
            _, logp, _ = model.policy.evaluate_actions(data.observations, data.actions)
            adv = (data.advantages - data.advantages.mean()) / (data.advantages.std() + 1e-8)
            loss = -(adv * torch.exp(logp - data.old_log_prob)).mean()
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            out.append(torch.cat([(g if g is not None else torch.zeros_like(p)).flatten()
                                  for g, p in zip(grads, params)]).numpy().astype(np.float64))
    env.close()
    return np.stack(out), minibatch


def noise_scale(grads: np.ndarray) -> dict[str, float]:
    """Signal, noise and their ratio from (K, P) minibatch gradients. The signal |G|^2 is the
    mean dot product of two different minibatches' gradients (unbiased); its standard error
    comes from disjoint pairs, and ``signal_upper`` (2 s.e. above) bounds it when noise
    hides it."""
    k = len(grads)
    mean = grads.mean(axis=0)
    noise = float(((grads - mean) ** 2).sum(axis=1).sum() / (k - 1))
    dots = grads @ grads.T
    signal = float(dots[np.triu_indices(k, 1)].mean())
    disjoint = np.einsum("ij,ij->i", grads[0:k - 1:2], grads[1:k:2])
    se = float(disjoint.std(ddof=1) / np.sqrt(len(disjoint))) if len(disjoint) > 1 else np.inf
    norms = np.sqrt(np.diag(dots))
    cos = dots / np.outer(norms, norms)
    return {"minibatches": k, "signal": signal, "signal_se": se,
            "signal_upper": signal + 2 * se, "noise": noise,
            "noise_over_signal": noise / signal if signal > 0 else float("inf"),
            "mean_pairwise_cos": float(cos[np.triu_indices(k, 1)].mean())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--rollouts", type=int, default=8)
    ap.add_argument("--minibatch", type=int, default=None,
                    help="samples per minibatch (default: the run's ppo.batch_size)")
    args = ap.parse_args(argv)
    if args.rollouts < 1:
        ap.error(f"--rollouts {args.rollouts}: expected >= 1")
    grads, b = minibatch_gradients(args.run_dir, args.rollouts, args.minibatch)
    if len(grads) < 2:
        ap.error("fewer than 2 minibatches: raise --rollouts or lower --minibatch")
    s = noise_scale(grads)
    print(f"{s['minibatches']} minibatches of {b} samples: signal |G|^2 {s['signal']:.3g} "
          f"(s.e. {s['signal_se']:.2g}), noise E|g-G|^2 {s['noise']:.3g}, "
          f"mean pairwise cosine {s['mean_pairwise_cos']:.3f}")
    if s["signal"] > 2 * s["signal_se"]:
        print(f"noise / signal per minibatch: {s['noise_over_signal']:.1f}x; "
              f"B_simple = {b * s['noise_over_signal']:.0f} samples")
    else:  # the signal is within noise of zero: bound it
        ratio = s["noise"] / s["signal_upper"]
        print(f"signal not resolved (|G|^2 < {s['signal_upper']:.3g} at 2 s.e.): noise / "
              f"signal per minibatch > {ratio:.1f}x; B_simple > {b * ratio:.0f} samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
