"""Distil a teacher controller into a tracker network by DAgger (Ross et al. 2011): roll out
the student on the training clips (the teacher in the first round), label every visited
observation with the teacher's action, fit the student's actor to all labels so far.

Used to turn a mirror-averaged tracker (two network passes, ``twin.train.symmetry``) into one
network that is (nearly) its own mirror image, so that symmetric PPO (``ppo.symmetry``) can
start from it: each observation also enters with its mirror image and the teacher's action
for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistillConfig:
    """rounds: DAgger rounds (the first rolls out the teacher); steps: env-steps per round;
    num_envs: parallel envs; epochs, batch_size, learning_rate: the actor's fit per round;
    seed: env and fit seed. Rollouts use the training task (random starts, adaptive bins,
    domain randomisation)."""

    rounds: int = 2
    steps: int = 40_000
    num_envs: int = 32
    epochs: int = 10
    batch_size: int = 1024
    learning_rate: float = 1e-4
    seed: int = 0


def collect(motions, actor, task_kwargs: dict, steps: int, num_envs: int, seed: int
            ) -> np.ndarray:
    """(steps, D) raw observations visited by ``actor`` (obs -> action) in the training task."""
    from twin.envs.tracking.g1_tracking import G1MotionTrackingVectorEnv

    env = G1MotionTrackingVectorEnv(motions, num_envs=num_envs, dr=True, **task_kwargs)
    obs, _ = env.reset(seed=seed)
    out = []
    for _ in range(max(1, steps // num_envs)):
        out.append(obs)
        obs, *_ = env.step(actor(obs))
    env.close()
    return np.concatenate(out).astype(np.float64)


def fit_actor(student, obs: np.ndarray, target: np.ndarray, cfg: DistillConfig
              ) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """``student``'s (a ``TrackingController``) network weights fitted to ``target`` actions
    (Adam from its weights, mean squared error in action units), and the last epoch's
    loss."""
    import torch
    from torch import nn

    torch.manual_seed(cfg.seed)
    x = torch.as_tensor(student.normalise(obs), dtype=torch.float32)
    y = torch.as_tensor(target, dtype=torch.float32)
    act = {"elu": nn.ELU, "relu": nn.ReLU, "tanh": nn.Tanh}[student.metadata.activation]
    layers: list[nn.Module] = []
    for i, (W, b) in enumerate(student.weights):
        lin = nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W))
            lin.bias.copy_(torch.as_tensor(b))
        layers += [lin] + ([act()] if i < len(student.weights) - 1 else [])
    net = nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate)
    loss_value = float("nan")
    for _ in range(cfg.epochs):
        perm = torch.randperm(len(x))
        total = 0.0
        for start in range(0, len(x), cfg.batch_size):
            idx = perm[start:start + cfg.batch_size]
            loss = ((net(x[idx]) - y[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        loss_value = total / len(x)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    return [(m.weight.detach().numpy().astype(np.float64),
             m.bias.detach().numpy().astype(np.float64)) for m in linears], loss_value


def distill_mirror_average(src: str | Path, motions, dst: str | Path,
                           cfg: DistillConfig = DistillConfig()) -> dict:
    """Write ``dst``: the tracker file ``src`` (critic and all) with its actor distilled from
    ``src``'s mirror-averaged action (``mirror_average`` off: one network pass). Returns the
    per-round fit losses and how far the student is from the teacher and from its own mirror
    image on the last round's observations (action units, RMS)."""
    from dataclasses import replace

    from twin.controllers.tracking_policy import MirrorMaps, TrackerMetadata, TrackingController
    from twin.envs.tracking.g1_tracking import load_motions, tracker_task_kwargs
    from twin.train.export import write_tracker_arrays
    from twin.train.symmetry import mirror_maps

    with np.load(src, allow_pickle=False) as z:
        arrays = dict(z)
    meta = TrackerMetadata.from_json(str(arrays["metadata"]), str(src))
    maps = mirror_maps(meta)
    net = TrackingController.load(src)

    def controller(mirror_average: bool, where: str) -> TrackingController:
        return TrackingController(net.weights, net.obs_mean, net.obs_std ** 2 - 1e-8,
                                  net.obs_clip, replace(meta, mirror_average=mirror_average),
                                  where, maps)

    teacher = controller(True, str(src))  # averages, whatever the file says
    student = controller(False, str(dst))
    clips = load_motions(motions)
    task = tracker_task_kwargs(meta)

    def mirror_obs(o):
        return o[..., maps.obs_source] * maps.obs_sign

    seen: list[np.ndarray] = []
    losses = []
    for r in range(cfg.rounds):
        actor = teacher if r == 0 else student
        obs = collect(clips, actor, task, cfg.steps, cfg.num_envs, cfg.seed + r)
        seen += [obs, mirror_obs(obs)]
        all_obs = np.concatenate(seen)
        weights, loss = fit_actor(student, all_obs, teacher(all_obs), cfg)
        student = student.with_weights(weights)
        losses.append(loss)
        log.info("distil round %d: %d observations, loss %.4g", r, len(all_obs), losses[-1])
    last = seen[-2]

    def mirror_gap(f) -> float:  # RMS of f(obs) minus the mirror image of f(mirrored obs)
        return rms(f(last) - f(mirror_obs(last))[..., maps.action_source] * maps.action_sign)

    rms = lambda d: float(np.sqrt(np.mean(d ** 2)))  # noqa: E731
    W = {f"W{i}": w.astype(np.float32) for i, (w, _) in enumerate(student.weights)}
    W.update({f"b{i}": b.astype(np.float32) for i, (_, b) in enumerate(student.weights)})
    arrays.update(W)
    arrays["metadata"] = np.array(student.metadata.to_json())
    for k in MirrorMaps.KEYS:
        arrays.pop(k, None)
    write_tracker_arrays(dst, arrays)
    return {"losses": losses, "student_vs_teacher_rms": rms(student(last) - teacher(last)),
            "student_mirror_gap_rms": mirror_gap(student),
            "network_mirror_gap_rms": mirror_gap(net.network)}
