"""Distil a teacher controller into a tracker network by DAgger (Ross et al. 2011): roll out
the student on the training clips (the teacher in the first round), label every visited
observation with the teacher's action, fit the student's actor to all labels so far.

Used to turn a mirror-averaged tracker (two network passes, ``twin.train.symmetry``) into one
network that is (nearly) its own mirror image, so that symmetric PPO (``ppo.symmetry``) can
start from it: each observation also enters with its mirror image and the teacher's action
for it. And to merge per-clip specialists into the generalist (``distill_specialists``): each
clip's observations are labelled by its specialist, the other clips' by the generalist.
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
    return collect_with_clips(motions, lambda obs, _clip: actor(obs), task_kwargs, steps,
                              num_envs, seed)[0]


def collect_with_clips(motions, actor, task_kwargs: dict, steps: int, num_envs: int, seed: int,
                       clip_weights: dict[str, float] | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, D) raw observations visited by ``actor`` (obs, clip names -> action) in the
    training task, (steps,) the name of the clip each row's env was playing and (steps, J)
    the actions taken.
    ``clip_weights``: sampling weights by name pattern, as ``clip_weights`` in training."""
    from twin.envs.tracking.g1_tracking import G1MotionTrackingVectorEnv

    env = G1MotionTrackingVectorEnv(motions, num_envs=num_envs, dr=True, **task_kwargs)
    lib = env.task.library
    if clip_weights:
        lib.weight_clips(clip_weights)
    names = np.asarray(lib.names)
    obs, _ = env.reset(seed=seed)
    out, clips, actions = [], [], []
    for _ in range(max(1, steps // num_envs)):
        playing = names[env.task.clip]
        out.append(obs)
        clips.append(playing)
        actions.append(actor(obs, playing))
        obs, *_ = env.step(actions[-1])
    env.close()
    return (np.concatenate(out).astype(np.float64), np.concatenate(clips),
            np.concatenate(actions).astype(np.float64))


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

    seen: list[np.ndarray] = []
    losses = []
    for r in range(cfg.rounds):
        actor = teacher if r == 0 else student
        obs = collect(clips, actor, task, cfg.steps, cfg.num_envs, cfg.seed + r)
        seen += [obs, maps.mirror_obs(obs)]
        all_obs = np.concatenate(seen)
        weights, loss = fit_actor(student, all_obs, teacher(all_obs), cfg)
        student = student.with_weights(weights)
        losses.append(loss)
        log.info("distil round %d: %d observations, loss %.4g", r, len(all_obs), losses[-1])
    last = seen[-2]

    def mirror_gap(f) -> float:  # RMS of f(obs) minus the mirror image of f(mirrored obs)
        return rms(f(last) - maps.mirror_action(f(maps.mirror_obs(last))))

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


def distill_specialists(generalist: str | Path, specialists: dict[str, str | Path], motions,
                        dst: str | Path, cfg: DistillConfig = DistillConfig(),
                        specialist_weight: float = 1.0) -> dict:
    """Write ``dst``: the tracker file ``generalist`` (critic and all) with its actor fitted by
    DAgger to per-clip teachers: ``specialists[clip]`` (a tracker file) labels the observations
    of that training clip and of its augmented copies, the generalist those of every other
    clip. The first round rolls out the teachers, later rounds the student; a mirror-averaged
    generalist also learns every observation's mirror image with the mirrored label.
    ``specialist_weight`` multiplies how often the specialists' clips (by name) are sampled.
    Returns the per-round fit losses, the share of rows each teacher labelled and the
    student's RMS distance (action units) from its teachers on the last round's observations,
    per teacher."""
    from dataclasses import replace

    from twin.controllers.tracking_policy import TrackingController, tracker_path
    from twin.envs.tracking.g1_tracking import load_motions, tracker_task_kwargs
    from twin.motion.augment import base_clip_name
    from twin.train.export import write_tracker_arrays
    from twin.train.symmetry import mirror_maps

    gen = TrackingController.load(generalist)
    meta = gen.metadata
    teachers = {name: TrackingController.load(path) for name, path in specialists.items()}
    for name, t in teachers.items():
        m = t.metadata
        if (m.obs_layout, m.joint_names, m.action_mode, m.gains, m.action_scale) != (
                meta.obs_layout, meta.joint_names, meta.action_mode, meta.gains,
                meta.action_scale):
            raise ValueError(f"{specialists[name]}: specialist for {name!r} runs another task "
                             f"than the generalist {generalist} (observations, joints, action "
                             "mode, gains or action scale differ); expected a fine-tune of it")
    clips = load_motions(motions)
    known = {base_clip_name(c.clip_name("clip")) for c in clips}
    unknown = sorted(set(teachers) - known)
    if unknown:
        raise ValueError(f"specialists for {unknown}: no such training clip in {motions}")
    maps = mirror_maps(meta) if meta.mirror_average else None

    def owner(clip_names: np.ndarray) -> np.ndarray:  # the teacher of each row's clip
        base = np.array([base_clip_name(str(n)) for n in clip_names])
        return np.where(np.isin(base, list(teachers)), base, "generalist")

    def label(obs: np.ndarray, clip_names: np.ndarray) -> np.ndarray:
        who = owner(clip_names)
        y = gen(obs).astype(np.float64)
        for name, t in teachers.items():
            if (who == name).any():
                y[who == name] = t(obs[who == name])
        return y

    student = gen
    weights = {name: specialist_weight for name in teachers} if specialist_weight != 1 else None
    task = tracker_task_kwargs(meta)
    X, Y, losses = [], [], []
    for r in range(cfg.rounds):
        actor = label if r == 0 else (lambda o, _c, s=student: s(o))
        obs, names, acted = collect_with_clips(clips, actor, task, cfg.steps, cfg.num_envs,
                                               cfg.seed + r, weights)
        y = acted if r == 0 else label(obs, names)  # the first round acted on the labels
        X.append(obs)
        Y.append(y)
        if maps is not None:
            X.append(maps.mirror_obs(obs))
            Y.append(maps.mirror_action(y))
        w, loss = fit_actor(student, np.concatenate(X), np.concatenate(Y), cfg)
        student = student.with_weights(w)
        losses.append(loss)
        log.info("distil round %d: %d observations, loss %.4g", r, sum(map(len, X)), loss)
    who, gap = owner(names), student(obs) - y
    report = {"losses": losses,
              "rows": {k: float(np.mean(who == k)) for k in ["generalist", *teachers]},
              "student_vs_teacher_rms": {k: float(np.sqrt(np.mean(gap[who == k] ** 2)))
                                         for k in ["generalist", *teachers] if (who == k).any()}}
    with np.load(tracker_path(generalist), allow_pickle=False) as z:
        arrays = dict(z)
    for i, (W, b) in enumerate(student.weights):
        arrays[f"W{i}"], arrays[f"b{i}"] = W.astype(np.float32), b.astype(np.float32)
    training = {**meta.training, "distilled": {
        "generalist": str(generalist), "specialists": {k: str(v) for k, v in specialists.items()},
        "rounds": cfg.rounds, "env_steps_per_round": cfg.steps}}
    arrays["metadata"] = np.array(replace(meta, training=training).to_json())
    write_tracker_arrays(dst, arrays)
    return report
