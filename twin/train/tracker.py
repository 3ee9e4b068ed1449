"""Train the G1 tracking policy with stable-baselines3 PPO on the batched tracking env.

One command, configured by Hydra (``configs/train/tracker.yaml``): resumable (re-running
with the same ``run_dir`` continues from ``run_dir/checkpoints/latest``), TensorBoard logs in
``run_dir/tb``, a progress bar, seeded. Physics runs on all cores (thread pool); torch uses
``torch_threads`` while collecting rollouts (1 is fastest for small MLPs on few cores, next
to the physics threads) and ``torch_update_threads`` in the gradient update, when the
physics threads are idle (default 1: on a shared machine, more threads than free cores make
each update several times slower; null = all cores). ``collision`` picks a lighter contact
model for training (``twin.sim.mujoco_collision``). Each checkpoint also writes
``run_dir/tracker.npz`` (+ ``tracker.onnx``), the self-describing numpy/ONNX controller.

With ``val_motions`` set, every ``val_every_env_steps`` the current policy plays those clips
once (as ``twin eval tracker`` does); the scores go to ``run_dir/val.jsonl``, a snapshot to
``run_dir/snapshots/`` and the best one so far on the same clips (success rate, then
tracked fraction, then lower local MPJPE) to ``run_dir/best.npz``. PPO on a generalist
tracker oscillates between checkpoints, so the last one is not necessarily the one to ship.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import threading
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Self

import numpy as np
from omegaconf import OmegaConf

from twin.motion.augment import AugmentConfig

log = logging.getLogger(__name__)


@dataclass
class PPOConfig:
    n_steps: int = 32
    batch_size: int = 1024
    n_epochs: int = 5
    learning_rate: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.005
    vf_coef: float = 1.0
    max_grad_norm: float = 1.0
    log_std_init: float = -1.0
    # Exploration std (action units) of every action at the start of this run or resumed
    # part; None keeps the network's (the init tracker's or the checkpoint's).
    std: float | None = None
    target_kl: float | None = None
    desired_kl: float | None = 0.01
    learning_rate_min: float = 1e-5
    learning_rate_max: float = 1e-2
    # Matmul precision of the gradient update: float32, or bfloat16 (autocast; weights,
    # optimizer and losses stay float32) on CPUs with bf16 matmul units (AVX512-BF16/AMX).
    update_dtype: str = "float32"
    # Add every sample's left-right mirror image to its minibatch (twin.train.symmetry):
    # twice the samples per gradient step, the update costs about twice as much.
    symmetry: bool = False


# approximate KL reported by a bfloat16 update that barely moves the policy (lr 1e-7)
BF16_KL_FLOOR = 0.0015


@dataclass
class TrackerTrainConfig:
    motions: str = "???"
    robot: str = "g1"
    action_mode: str = "reference_residual"
    gains: str = "stiff"          # robot gain profile: stiff (kp 500) or tracking (soft, BeyondMimic)
    # rad per unit action = factor x the gain profile's 0.25 effort / Kp (see tracker.yaml)
    action_scale_factor: float = 1.0
    # the actor's proprio terms (envs/tracking/observations.py); None = the init tracker's,
    # else the default five
    proprio_obs: list[str] | None = None
    # reference lookahead of the observation, control steps ahead of now; None = the init
    # tracker's, else DEFAULT_WINDOW_STEPS (1, 2, 5, 10, 25)
    obs_window_steps: list[int] | None = None
    # the actor's reference terms, read at every window step; None = the init tracker's, else
    # DEFAULT_REFERENCE (the five shipped ones)
    reference_obs: list[str] | None = None
    # control steps back at which the actor reads its proprio terms again (1 = the previous
    # observation); None = the init tracker's, else none
    proprio_history_steps: list[int] | None = None
    dr: bool = True
    dr_terms: dict = field(default_factory=dict)  # DomainRandomization fields; null = term off
    # TrackingRewardConfig overrides, e.g. {action_rate: 0.01} or {body_pos: {weight: 2.0}}
    reward: dict = field(default_factory=dict)
    # TerminationThresholds overrides, e.g. {anchor_xy_m: 0.5}: end episodes that fall behind
    terminations: dict = field(default_factory=dict)
    # additive uniform noise on the actor's observation terms while training, half range per
    # term (reference terms prefixed ref_), e.g. {joint_vel: 0.5}; `beyondmimic: 1` adds
    # BeyondMimic's ranges (observations.BEYONDMIMIC_OBS_NOISE), which other keys override
    obs_noise: dict = field(default_factory=dict)
    num_envs: int = 32
    num_threads: int | None = None
    # rollout worker processes, each with num_envs / num_workers envs (twin.train.sharded);
    # 1 = the envs in this process
    num_workers: int = 1
    total_env_steps: int = 2_000_000
    seed: int = 0
    init: str | None = None
    run_dir: str = "runs/tracker"
    checkpoint_every_env_steps: int = 200_000
    torch_threads: int = 1
    torch_update_threads: int | None = 1  # None = all cores
    net_arch: list[int] = field(default_factory=lambda: [512, 256, 128])
    critic_obs: bool = True  # asymmetric actor-critic: the value net also sees privileged state
    # twin.train.symmetric_policy (mirror-averaged actor, critic); None = the init tracker's
    # mirror_average (what keeps its behaviour), False without init
    symmetric_policy: bool | None = None
    collision: str = "full"  # contact model in training: full | no_self | feet_floor
    ppo: PPOConfig = field(default_factory=PPOConfig)
    # Augmented copies of every training clip with video-estimation artefacts (foot tilt,
    # floor offset, jitter, drift, time warp): twin.motion.augment.AugmentConfig.
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    # clip-name pattern -> sampling weight (e.g. {amp_*: 4}: motion capture sampled 4x more)
    clip_weights: dict[str, float] | None = None
    # episode starts drawn by the failure rates of 1-s bins (BeyondMimic); false = uniform over
    # the frames of every clip (clip_weights still apply)
    adaptive_sampling: bool = True
    val_motions: str | None = None   # clips (path or glob) scored periodically; None = off
    val_every_env_steps: int = 400_000


def load_train_config(overrides: list[str] | None = None) -> TrackerTrainConfig:
    """Compose ``configs/train/tracker.yaml`` with Hydra-style ``key=value`` overrides."""
    from hydra import compose, initialize_config_dir

    from twin.scene.config import configs_dir

    # ``motion=FILE`` (one clip, the per-clip fine-tuning spelling) means ``motions=FILE``
    overrides = [_open_dict_override(("motions=" + o[len("motion="):])
                                     if o.startswith("motion=") else o)
                 for o in overrides or []]
    with initialize_config_dir(str(configs_dir() / "train"), version_base=None):
        cfg = compose(config_name="tracker", overrides=overrides)
    merged = OmegaConf.merge(OmegaConf.structured(TrackerTrainConfig), cfg)
    if OmegaConf.is_missing(merged, "motions"):
        raise ValueError("train tracker: motions is required (motions=PATH to a RobotMotion "
                         ".npz, a folder or a glob)")
    return OmegaConf.to_object(merged)  # type: ignore[return-value]


# config fields that are open dicts (their keys are not in the schema): Hydra refuses
# `reward.action_rate=0.01` there unless told to add (`+`) or add-or-override (`++`)
OPEN_DICT_FIELDS = ("reward", "terminations", "dr_terms", "clip_weights", "obs_noise")


def _open_dict_override(item: str) -> str:
    key = item.partition("=")[0]
    if key.split(".")[0] in OPEN_DICT_FIELDS and "=" in item:
        return "++" + item
    return item


def init_lineage(cfg: TrackerTrainConfig, run: Path) -> dict:
    """Where a run started: its init tracker and the env-steps that one had been trained
    for. Written to ``run_dir/lineage.json`` when the run starts and read back on resume, so
    it stays the same even if the init name later points at another file."""
    path = run / "lineage.json"
    if path.exists():
        return json.loads(path.read_text())
    lineage = {"init": None, "init_total_env_steps": 0}
    if cfg.init:
        from twin.controllers.tracking_policy import TrackingController, tracker_path

        src = tracker_path(cfg.init)
        t = TrackingController.load(src).metadata.training
        lineage = {"init": str(src),
                   "init_total_env_steps": int(t.get("total_env_steps", t.get("env_steps", 0)))}
    path.write_text(json.dumps(lineage))
    return lineage


def tracker_metadata(task, cfg: TrackerTrainConfig, env_steps: int, lineage: dict):
    """``lineage``: ``init_lineage``'s record of where the run started."""
    from twin.controllers.tracking_policy import TrackerMetadata

    names = task.body_joint_names
    kp, kd = task.backend.actuator_pd_gains(task.act_idx)  # what the model really uses
    return TrackerMetadata(
        joint_names=names, default_joint_pos=tuple(float(x) for x in task.default_q),
        kp=tuple(float(x) for x in kp), kd=tuple(float(x) for x in kd),
        action_scale=tuple(float(x) for x in task.action_scale), action_mode=task.action_mode,
        obs_layout=task.obs_layout, window_steps=tuple(int(k) for k in task.window),
        control_dt=float(task.control_dt), robot=task.robot.name, activation="elu",
        gains=task.gains, mirror_average=bool(cfg.symmetric_policy),
        training={"env_steps": int(env_steps), "init": lineage["init"],
                  "total_env_steps": int(env_steps) + int(lineage["init_total_env_steps"]),
                  "motions": cfg.motions, "seed": cfg.seed,
                  "clips": list(task.library.names), "collision": task.collision,
                  "dr": asdict(task.dr) if task.dr is not None else None,
                  "terminations": asdict(task.thresholds)},
    )


class KLAdaptiveLR:
    """A learning-rate "schedule" that PPO updates adjust after each update (rsl_rl style).

    After an update whose mean approximate KL exceeds 2x ``desired_kl`` the rate is divided
    by 1.5; below half of it, multiplied by 1.5; clamped to [lr_min, lr_max]. A plain class
    (not a closure) so that SB3 can pickle it into checkpoints.
    """

    def __init__(self, value: float, desired_kl: float | None, lr_min: float, lr_max: float):
        self.value, self.desired_kl, self.lr_min, self.lr_max = value, desired_kl, lr_min, lr_max

    def __call__(self, progress_remaining: float) -> float:
        return self.value

    def update(self, approx_kl: float | None) -> None:
        if self.desired_kl is None or approx_kl is None or not np.isfinite(approx_kl):
            return
        if approx_kl > 2.0 * self.desired_kl:
            self.value = max(self.lr_min, self.value / 1.5)
        elif approx_kl < 0.5 * self.desired_kl:
            self.value = min(self.lr_max, self.value * 1.5)


def resumed_learning_rate(saved, p: PPOConfig) -> float:
    """The rate a resumed run goes on with: an adapted rate carries over (``saved``, the
    checkpoint's KLAdaptiveLR), inside the config's [learning_rate_min, learning_rate_max];
    a fixed one (``desired_kl: null``) is the config's ``learning_rate``."""
    if p.desired_kl is None or not isinstance(saved, KLAdaptiveLR):
        return p.learning_rate
    return min(max(saved.value, p.learning_rate_min), p.learning_rate_max)


class StopOnSignal:
    """While entered (in the main thread), SIGINT and SIGTERM ask training to stop after the
    current env step; ``train`` then writes its checkpoint as at the end of a run, so
    stopping loses nothing. A second signal interrupts at once (``KeyboardInterrupt``)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict = {}

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _handle(self, signum: int, _frame) -> None:
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        log.warning("%s: stopping after this env step and writing the checkpoint (a second "
                    "signal interrupts without one)", self.requested)


@dataclass
class UpdateTimeSplit:
    """Wall time of PPO iterations since the last log line: rollout (from the end of one
    update to the start of the next) and update, with the updates' approximate KL."""

    last_end_s: float  # perf_counter at the end of the last update (or the first start)
    updates: int = 0
    rollout_s: float = 0.0
    update_s: float = 0.0
    kl_sum: float = 0.0
    kl_count: int = 0

    def add(self, start_s: float, end_s: float, approx_kl: float | None) -> None:
        self.updates += 1
        self.rollout_s += start_s - self.last_end_s
        self.update_s += end_s - start_s
        self.last_end_s = end_s
        if approx_kl is not None and np.isfinite(approx_kl):
            self.kl_sum += float(approx_kl)
            self.kl_count += 1

    @property
    def mean_kl(self) -> float | None:
        return self.kl_sum / self.kl_count if self.kl_count else None


def _ppo_class():
    from stable_baselines3 import PPO

    class AdaptiveKLPPO(PPO):
        """PPO whose learning rate follows ``KLAdaptiveLR`` when one is installed."""

        def _setup_lr_schedule(self) -> None:
            if isinstance(self.learning_rate, KLAdaptiveLR):
                self.lr_schedule = self.learning_rate
            else:
                super()._setup_lr_schedule()

        # torch threads in the gradient update (the physics threads are idle then); the
        # rollout keeps ``torch_threads``, since there torch and physics share the cores
        update_threads: int | None = None
        update_dtype: str = "float32"
        symmetry = None  # a twin.train.symmetry.TaskMirror: mirrored samples join the update

        def _excluded_save_params(self) -> list[str]:
            return [*super()._excluded_save_params(), "symmetry", "_split"]

        def train(self) -> None:
            import torch

            t_update = time.perf_counter()
            rollout_threads = torch.get_num_threads()
            if self.update_threads:
                torch.set_num_threads(self.update_threads)
            if self.symmetry is not None:
                self.rollout_buffer.get = self._mirrored_minibatches()
            bf16 = self.update_dtype == "bfloat16"
            # The heads' outputs go back to float32, so the Gaussian's log-probabilities,
            # entropy and the value loss are computed in float32. The autocast weight cache
            # is off: it would keep the first minibatch's bf16 weights for the whole update
            # while the optimizer moves the float32 ones (KL then reads ~0, the adaptive rate
            # climbs and the policy collapses; measured).
            hooks = [head.register_forward_hook(lambda _m, _i, out: out.float())
                     for head in (self.policy.action_net, self.policy.value_net)] if bf16 else []
            try:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16,
                                    cache_enabled=False):
                    super().train()
            finally:
                for h in hooks:
                    h.remove()
                torch.set_num_threads(rollout_threads)
                self.rollout_buffer.__dict__.pop("get", None)
            # SB3's update records the rate it ran at and its KL; the KL rule reads the same.
            approx_kl = self.logger.name_to_value.get("train/approx_kl")
            learning_rate = self.logger.name_to_value.get("train/learning_rate", float("nan"))
            if isinstance(self.lr_schedule, KLAdaptiveLR):
                self.lr_schedule.update(approx_kl)
            self._time_split(t_update, time.perf_counter(), learning_rate, approx_kl)

        _split: UpdateTimeSplit | None = None

        def _time_split(self, start: float, end: float, learning_rate: float,
                        approx_kl: float | None, every: int = 50) -> None:
            """Log, every ``every`` updates, where the wall time went (rollout vs update) and
            the rate the updates ran at with their mean approximate KL: the KL rule's rate
            depends on the update's dtype (bf16 reads a KL floor of ~0.0015), so it is shown."""
            if self._split is None:
                self._split = UpdateTimeSplit(last_end_s=start)
            s = self._split
            s.add(start, end, approx_kl)
            if s.updates == every:
                n = every * self.n_steps * self.n_envs
                kl = "n/a" if s.mean_kl is None else f"{s.mean_kl:.4f}"
                log.info("last %d updates: rollout %.0f s, update %.0f s (%.0f env-steps/s); "
                         "learning rate %.1e, approximate KL %s per update", every,
                         s.rollout_s, s.update_s, n / (s.rollout_s + s.update_s),
                         learning_rate, kl)
                self._split = UpdateTimeSplit(last_end_s=end)

        def _mirrored_minibatches(self):
            """A replacement for the rollout buffer's ``get``: each minibatch followed by
            the mirror images of its samples (same advantages, returns and value targets;
            old log-probabilities of the mirrored actions under the policy that collected
            the rollout, evaluated here, before the first gradient step)."""
            import torch
            from stable_baselines3.common.type_aliases import RolloutBufferSamples

            buf, venv = self.rollout_buffer, self.get_env()
            if not buf.generator_ready:
                next(buf.get())  # flattens the (steps, envs) arrays in place
            std = np.sqrt(venv.obs_rms.var + venv.epsilon)
            obs_m = np.clip(self.symmetry.normalized_obs(buf.observations, venv.obs_rms.mean,
                                                         std), -venv.clip_obs, venv.clip_obs)
            obs_m = obs_m.astype(np.float32)
            act_m = self.symmetry.action.apply(buf.actions).astype(np.float32)
            with torch.no_grad():
                logp_m = np.concatenate([
                    self.policy.evaluate_actions(torch.as_tensor(obs_m[i:i + 8192]),
                                                 torch.as_tensor(act_m[i:i + 8192]))[1].numpy()
                    for i in range(0, len(obs_m), 8192)])

            def get(batch_size: int | None = None):
                n = buf.buffer_size * buf.n_envs
                order = np.random.permutation(n)
                for start in range(0, n, batch_size or n):
                    idx = order[start:start + (batch_size or n)]
                    d = buf._get_samples(idx)
                    yield RolloutBufferSamples(
                        torch.cat([d.observations, buf.to_torch(obs_m[idx])]),
                        torch.cat([d.actions, buf.to_torch(act_m[idx])]),
                        d.old_values.repeat(2), torch.cat([d.old_log_prob,
                                                           buf.to_torch(logp_m[idx])]),
                        d.advantages.repeat(2), d.returns.repeat(2))

            return get

    return AdaptiveKLPPO


UPDATE_DTYPES = ("float32", "bfloat16")


def cpu_has_bf16_matmul() -> bool:
    """Whether oneDNN runs bfloat16 matmuls natively here (else autocast emulates them,
    several times slower than float32)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def ppo_hyperparameters(p: PPOConfig, learning_rate: float | None = None) -> dict:
    """The PPO keyword arguments of a config; on resume they replace the checkpoint's."""
    lr = KLAdaptiveLR(p.learning_rate if learning_rate is None else learning_rate,
                      p.desired_kl, p.learning_rate_min, p.learning_rate_max)
    return {"n_steps": p.n_steps, "batch_size": p.batch_size, "n_epochs": p.n_epochs,
            "learning_rate": lr, "gamma": p.gamma, "gae_lambda": p.gae_lambda,
            "clip_range": p.clip_range, "ent_coef": p.ent_coef, "vf_coef": p.vf_coef,
            "max_grad_norm": p.max_grad_norm, "target_kl": p.target_kl}


def set_exploration_std(model, std: float) -> None:
    """Every action's exploration std to ``std`` action units. At a low learning rate the
    learned std hardly moves (at 2e-6 its mean went 0.4617 -> 0.4613 in 2.7M env-steps), so
    it is a setting, not something the run finds."""
    import torch

    with torch.no_grad():
        model.policy.log_std.fill_(float(np.log(std)))
    log.info("exploration std set to %g action units", std)


def with_init_controller_settings(cfg: TrackerTrainConfig) -> TrackerTrainConfig:
    """Fine-tuning keeps the init tracker's gain profile and action mode (its network only
    makes sense with them); a residual on the reference may move to ``reference_holding``
    when asked (the same residual on a base that holds the pose). Unset ``proprio_obs``,
    ``reference_obs``, ``proprio_history_steps``, ``obs_window_steps`` and
    ``symmetric_policy`` become the init's terms, history, window and mirror average, so
    ``init=`` alone starts from the policy that tracker runs."""
    from dataclasses import replace

    if not cfg.init:
        return replace(cfg, symmetric_policy=bool(cfg.symmetric_policy))

    from twin.controllers.tracking_policy import TrackingController
    from twin.envs.tracking.g1_tracking import REFERENCE_MODES, tracker_task_kwargs
    from twin.envs.tracking.observations import DEFAULT_PROPRIO, DEFAULT_REFERENCE

    meta = TrackingController.load(cfg.init).metadata
    task = tracker_task_kwargs(meta)
    if cfg.symmetric_policy is None:  # ppo.symmetry asks for the other kind of symmetry
        cfg = replace(cfg, symmetric_policy=bool(meta.mirror_average) and not cfg.ppo.symmetry)
    # unset observation keys take the init's value where it is not what unset trains with
    for key, task_key, unset_trains in (("proprio_obs", "proprio", DEFAULT_PROPRIO),
                                        ("reference_obs", "reference", DEFAULT_REFERENCE),
                                        ("proprio_history_steps", "history_steps", ())):
        if getattr(cfg, key) is None and tuple(task[task_key]) != unset_trains:
            cfg = replace(cfg, **{key: list(task[task_key])})
    if cfg.obs_window_steps is None:
        cfg = replace(cfg, obs_window_steps=list(task["window_steps"]))
    elif tuple(cfg.obs_window_steps) != tuple(task["window_steps"]):
        raise ValueError(f"obs_window_steps={list(cfg.obs_window_steps)}: init {cfg.init} "
                         f"reads the window {list(task['window_steps'])}; another window "
                         f"needs a run without init=")
    if meta.mirror_average and not cfg.symmetric_policy:
        log.info("init %s averages its action with its mirror image's; fine-tuning trains and "
                 "exports its network alone (symmetric_policy=true trains the average; "
                 "twin.train.symmetry.write_mirror_averaged adds it back)", cfg.init)
    mode = task["action_mode"]
    # a residual on the reference stays one with the servos' sag fed forward: the same
    # network, now on a base that already holds the pose
    if mode in REFERENCE_MODES and cfg.action_mode == "reference_holding":
        mode = cfg.action_mode
    if (task["gains"], mode) != (cfg.gains, cfg.action_mode):
        log.info("init %s: using its gains=%s action_mode=%s", cfg.init, task["gains"], mode)
    elif mode != task["action_mode"]:
        log.info("init %s: action_mode %s -> %s", cfg.init, task["action_mode"], mode)
    return replace(cfg, gains=task["gains"], action_mode=mode)


def dr_setting(cfg: TrackerTrainConfig):
    from twin.envs.tracking.g1_tracking import DomainRandomization

    return DomainRandomization.coerce(dict(cfg.dr_terms)) if cfg.dr else None


def training_motions(cfg: TrackerTrainConfig) -> list:
    """The clips of ``cfg.motions``, their mirror images (``cfg.augment.mirror``) and the
    augmented copies of both (``cfg.augment``)."""
    from twin.envs.tracking.g1_tracking import load_motions
    from twin.envs.tracking.motion_library import clip_weight_matches
    from twin.motion.augment import augmented_copies, augmented_names
    from twin.motion.mirror import mirror_motion, mirrored_name
    from twin.motion.robot_motion import layout_note

    clips = load_motions(cfg.motions)
    for clip in clips:
        if layout_note(clip):
            log.info(layout_note(clip))
    names = [m.clip_name(f"clip{i}") for i, m in enumerate(clips)]
    if cfg.augment.mirror:
        names += [mirrored_name(n) for n in names]
    if cfg.clip_weights:  # refused before the mirroring's and augmentation's seconds
        clip_weight_matches(names + [a for n in names
                                     for a in augmented_names(n, cfg.augment.copies)],
                            dict(cfg.clip_weights))
    if cfg.augment.mirror:
        t0 = time.perf_counter()
        clips = clips + [mirror_motion(m, f"clip{i}") for i, m in enumerate(clips)]
        log.info("mirrored %d clips in %.1f s", len(clips) // 2, time.perf_counter() - t0)
    if cfg.augment.copies:
        t0 = time.perf_counter()
        extra = augmented_copies(clips, cfg.augment)
        log.info("augmented %d clips x %d copies in %.1f s", len(clips), cfg.augment.copies,
                 time.perf_counter() - t0)
        clips = clips + extra
    return clips


def check_resume_config(cfg: TrackerTrainConfig, saved_yaml: Path) -> None:
    """A resumed run's network only makes sense with the action scale, observation and
    layer sizes it was trained with."""
    if not saved_yaml.exists():
        return
    from twin.envs.tracking.observations import (
        DEFAULT_PROPRIO,
        DEFAULT_REFERENCE,
        DEFAULT_WINDOW_STEPS,
    )

    # what an unset value (None: no init) trains with, so that unset and spelled out match
    trains_as = {"symmetric_policy": bool,
                 "proprio_obs": lambda v: list(v or DEFAULT_PROPRIO),
                 "reference_obs": lambda v: list(v or DEFAULT_REFERENCE),
                 "obs_window_steps": lambda v: list(v or DEFAULT_WINDOW_STEPS),
                 "proprio_history_steps": lambda v: list(v or [])}
    saved = OmegaConf.to_container(OmegaConf.load(saved_yaml))
    fixed = ("action_scale_factor", "proprio_obs", "reference_obs", "obs_window_steps",
             "proprio_history_steps", "action_mode", "symmetric_policy", "net_arch")
    defaults = {f.name: f.default_factory() if f.default is MISSING else f.default
                for f in fields(TrackerTrainConfig) if f.name in fixed}
    for key in fixed:
        before = saved.get(key, defaults[key])  # runs older than the key
        asked = getattr(cfg, key)
        if key in trains_as:
            before, asked = trains_as[key](before), trains_as[key](asked)
        if before != asked:
            raise ValueError(f"{saved_yaml}: the run trained with {key}={before}; resume with "
                             f"the same value (asked {asked}) or start a new run_dir with "
                             f"init=")


def rescale_action_head(model, init_scale, new_scale) -> None:
    """Make a policy trained with ``init_scale`` (rad per unit) issue the same joint targets
    under ``new_scale``: the action layer's rows are multiplied by init/new per joint, so the
    mean policy is unchanged. The exploration std stays in action units, so it grows in
    radians with the scale: a larger scale is asked for to explore larger corrections."""
    import torch

    ratio = np.asarray(init_scale, dtype=np.float64) / np.asarray(new_scale, dtype=np.float64)
    if np.allclose(ratio, 1.0):
        return
    log.info("init action scale differs: action head rescaled by %.3g-%.3g per joint",
             ratio.min(), ratio.max())
    r = torch.as_tensor(ratio, dtype=torch.float32)
    head = model.policy.action_net
    with torch.no_grad():
        head.weight.mul_(r[:, None])
        head.bias.mul_(r)


def restore_normalization(env, ckpt: Path) -> None:
    """The VecNormalize ``env``'s observation and return statistics as checkpointed in
    ``ckpt`` (``latest_obs_rms.npz``)."""
    stats = np.load(ckpt / "latest_obs_rms.npz")
    env.obs_rms.mean, env.obs_rms.var = stats["mean"], stats["var"]
    env.obs_rms.count = float(stats["count"])
    env.ret_rms.var = stats["ret_var"]


def load_run_config(run: str | Path) -> TrackerTrainConfig:
    """The config a run was started with (``run_dir/config.yaml``; keys it predates take
    their defaults)."""
    path = Path(run) / "config.yaml"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file; expected the config.yaml of a "
                                f"`twin train tracker` run_dir")
    merged = OmegaConf.merge(OmegaConf.structured(TrackerTrainConfig), OmegaConf.load(path))
    return OmegaConf.to_object(merged)  # type: ignore[return-value]


def obs_noise_of(cfg: TrackerTrainConfig) -> dict[str, float] | None:
    """The actor observation noise ``cfg.obs_noise`` asks for (term -> half range), None
    for none; ``beyondmimic: 1`` expands to BeyondMimic's ranges, other keys override them."""
    from twin.envs.tracking.observations import BEYONDMIMIC_OBS_NOISE

    asked = dict(cfg.obs_noise or {})
    preset = asked.pop("beyondmimic", 0)
    if preset not in (0, 1, True, False):
        raise ValueError(f"obs_noise.beyondmimic: expected 0 or 1, got {preset!r}")
    noise = {**(BEYONDMIMIC_OBS_NOISE if preset else {}), **{k: float(v) for k, v in asked.items()}}
    return {k: v for k, v in noise.items() if v > 0} or None


def build_vector_env(cfg: TrackerTrainConfig, num_envs: int):
    """``num_envs`` tracking envs of ``cfg`` in this process (clips, DR, clip weights)."""
    from twin.envs.tracking.g1_tracking import G1MotionTrackingVectorEnv, profile_action_scale
    from twin.envs.tracking.observations import DEFAULT_WINDOW_STEPS
    from twin.envs.tracking.terms import TerminationThresholds, TrackingRewardConfig

    venv = G1MotionTrackingVectorEnv(training_motions(cfg), num_envs=num_envs,
                                     robot=cfg.robot,
                                     action_mode=cfg.action_mode, dr=dr_setting(cfg),
                                     action_scale=profile_action_scale(
                                         cfg.robot, cfg.gains, cfg.action_scale_factor),
                                     gains=cfg.gains, critic_obs=cfg.critic_obs,
                                     proprio=cfg.proprio_obs, reference=cfg.reference_obs,
                                     history_steps=tuple(cfg.proprio_history_steps or ()),
                                     obs_noise=obs_noise_of(cfg),
                                     window_steps=tuple(cfg.obs_window_steps
                                                        or DEFAULT_WINDOW_STEPS),
                                     num_threads=cfg.num_threads, collision=cfg.collision,
                                     adaptive_sampling=cfg.adaptive_sampling,
                                     reward=TrackingRewardConfig.from_overrides(cfg.reward),
                                     thresholds=TerminationThresholds.from_overrides(
                                         cfg.terminations))
    if venv.task.obs_noise_half_range is not None:
        log.info("actor observation noise (uniform half ranges): %s", obs_noise_of(cfg))
    if cfg.clip_weights:
        counts = venv.task.library.weight_clips(dict(cfg.clip_weights))
        log.info("clip weights: %s", ", ".join(f"{p} x{cfg.clip_weights[p]:g} ({n} clips)"
                                               for p, n in counts.items()))
    return venv


SAMPLER_FILE = "latest_sampler.npz"  # the adaptive sampler's failure rates, by clip


def call_libraries(env, method: str, *args, first_only: bool = False) -> list:
    """``method(*args)`` of the motion library of every process that steps training envs
    (``env``: the SB3-wrapped training envs of ``make_env``), or of the first one only."""
    from twin.train.sharded import ShardedVecEnv

    inner = env.unwrapped
    if isinstance(inner, ShardedVecEnv):
        return inner.call_libraries(method, *args, workers=[0] if first_only else None)
    return [getattr(inner.venv.task.library, method)(*args)]


def save_sampler_state(env, path: Path) -> None:
    """The failure rates by clip, averaged over the rollout workers' samplers."""
    states = call_libraries(env, "sampler_state")
    names = sorted(states[0])
    rates = [np.mean([s[n] for s in states], axis=0) for n in names]
    np.savez(path, names=np.array(names), bins=np.array([len(r) for r in rates]),
             rates=np.concatenate(rates))


def restore_sampler_state(env, path: Path) -> None:
    """Restore failure rates saved by ``save_sampler_state`` (clips matched by name)."""
    z = np.load(path)
    ends = np.cumsum(z["bins"])
    state = {str(n): z["rates"][e - k:e] for n, k, e in zip(z["names"], z["bins"], ends)}
    restored = call_libraries(env, "restore_sampler_state", state)[0]
    log.info("adaptive sampler: failure rates of %d of %d saved clips restored", restored,
             len(state))


def log_start_shares(env) -> None:
    """Where episodes start, by clip family (the first worker's sampler)."""
    shares = call_libraries(env, "start_shares", first_only=True)[0]
    log.info("episode starts by family (share, mean bin failure rate): %s", ", ".join(
        f"{f} {100 * p:.0f}% ({r:.2f})" for f, (p, r) in list(shares.items())[:8]))


def make_env(cfg: TrackerTrainConfig):
    """The envs to train on, wrapped for SB3 (monitor, normalisation), and a vector env of
    this process whose ``task`` describes them (with ``num_workers`` > 1 a one-env copy:
    the training envs live in the workers)."""
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    from twin.envs.sb3 import SB3VecEnv

    if cfg.num_workers > 1:
        from twin.train.sharded import ShardedVecEnv, shard_sizes

        shard_sizes(cfg.num_envs, cfg.num_workers)  # refuses a bad split before any spawn
        inner = None
        try:
            venv = build_vector_env(cfg, 1)  # refuses bad clips with their own message
            inner = ShardedVecEnv(cfg, cfg.num_workers, venv.single_observation_space,
                                  venv.single_action_space)
            inner.wait_ready()
        except BaseException:
            if inner is not None:
                inner.close()
            raise
        log.info("rollouts in %d worker processes (%s envs)", cfg.num_workers,
                 "+".join(map(str, inner.sizes)))
    else:
        venv = build_vector_env(cfg, cfg.num_envs)
        inner = SB3VecEnv(venv)
    sb3 = VecNormalize(VecMonitor(inner), norm_obs=True, norm_reward=True,
                       clip_obs=10.0, gamma=cfg.ppo.gamma)
    return venv, sb3


def train(cfg: TrackerTrainConfig, progress_bar: bool = True,
          callbacks: list | None = None) -> Path:
    """Train (or resume) and return the path of the exported tracker. ``callbacks``: extra
    SB3 callbacks (e.g. a benchmark's clock), run after the checkpointing one."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    from twin.train.export import export_onnx, load_into_sb3, save_tracker

    torch.set_num_threads(cfg.torch_threads)
    cfg = with_init_controller_settings(cfg)
    if cfg.symmetric_policy and cfg.ppo.symmetry:
        raise ValueError("ppo.symmetry=true adds nothing to symmetric_policy=true (a symmetric "
                         "policy's mirrored samples give the same gradients) and doubles the "
                         "update; set one of them (symmetric_policy=false)")
    if cfg.ppo.std is not None and not (np.isfinite(cfg.ppo.std) and cfg.ppo.std > 0):
        raise ValueError(f"ppo.std: expected a positive number of action units (or null), "
                         f"got {cfg.ppo.std}")
    if cfg.symmetric_policy and not cfg.critic_obs:
        raise ValueError("symmetric_policy=true needs critic_obs=true (the mirrored "
                         "actor-critic builds on the asymmetric one; or symmetric_policy=false)")
    run = Path(cfg.run_dir)
    ckpt = run / "checkpoints"
    latest = ckpt / "latest.zip"
    if latest.exists():
        check_resume_config(cfg, run / "config.yaml")
    venv, env = make_env(cfg)  # before anything is written: it refuses bad clips and weights
    ckpt.mkdir(parents=True, exist_ok=True)
    (run / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.structured(cfg)))
    task = venv.task
    PPO = _ppo_class()
    mirror = None
    if cfg.symmetric_policy or cfg.ppo.symmetry:
        from twin.train.symmetry import TaskMirror

        mirror = TaskMirror.of_task(task)
    if latest.exists():
        log.info("resuming from %s", latest)
        # The config's PPO settings replace the checkpoint's, so a long run can change its
        # rollout size or learning rate between parts; an adapted rate carries over.
        from stable_baselines3.common.save_util import load_from_zip_file

        saved = load_from_zip_file(latest, device="cpu", load_data=True)[0].get("lr_schedule")
        model = PPO.load(latest, env=env, device="cpu", tensorboard_log=str(run / "tb"),
                         **ppo_hyperparameters(cfg.ppo, resumed_learning_rate(saved, cfg.ppo)))
        restore_normalization(env, ckpt)
        if (ckpt / SAMPLER_FILE).exists():
            restore_sampler_state(env, ckpt / SAMPLER_FILE)
        if cfg.symmetric_policy:
            from twin.train.symmetric_policy import make_symmetric

            make_symmetric(model, env, mirror.obs)
    else:
        p = cfg.ppo
        policy_kwargs = {"net_arch": {"pi": list(cfg.net_arch), "vf": list(cfg.net_arch)},
                         "activation_fn": torch.nn.ELU, "log_std_init": p.log_std_init}
        policy = "MlpPolicy"
        if cfg.symmetric_policy:
            from twin.train.symmetric_policy import SymmetricActorCriticPolicy

            policy = SymmetricActorCriticPolicy
            policy_kwargs.update(
                actor_obs_dim=task.actor_obs_dim,
                obs_mirror_source=mirror.obs.source.tolist(),
                obs_mirror_sign=mirror.obs.sign.tolist(),
                action_mirror_source=mirror.action.source.tolist(),
                action_mirror_sign=mirror.action.sign.tolist())
        elif task.critic_layout:
            from twin.train.asymmetric import AsymmetricActorCriticPolicy

            policy = AsymmetricActorCriticPolicy
            policy_kwargs["actor_obs_dim"] = task.actor_obs_dim
        # From an init tracker, start at the lowest rate and let the KL rule raise it: Adam's
        # first steps move every weight by about the rate, which at 3e-4 threw the shipped
        # tracker's policy 146 nats (approx KL of the first update) away from itself.
        warm_lr = p.learning_rate_min if cfg.init and p.desired_kl else None
        model = PPO(policy, env, **ppo_hyperparameters(p, warm_lr), seed=cfg.seed, device="cpu",
                    tensorboard_log=str(run / "tb"), verbose=0, policy_kwargs=policy_kwargs)
        env.seed(cfg.seed)
        if cfg.init:
            from twin.controllers.tracking_policy import TrackingController, tracker_path

            init = tracker_path(cfg.init)
            mean, var = load_into_sb3(model, init, task.obs_layout, task.critic_layout)
            env.obs_rms.mean, env.obs_rms.var, env.obs_rms.count = mean, var, 1e6
            rescale_action_head(model, TrackingController.load(init).metadata.action_scale,
                                task.action_scale)
        if cfg.symmetric_policy:
            from twin.train.symmetric_policy import make_symmetric

            make_symmetric(model, env, mirror.obs)

    if cfg.ppo.std is not None:
        set_exploration_std(model, cfg.ppo.std)
    lineage = init_lineage(cfg, run)
    model.update_threads = cfg.torch_update_threads or len(os.sched_getaffinity(0))
    model.update_dtype = cfg.ppo.update_dtype
    if (cfg.ppo.update_dtype == "bfloat16" and cfg.ppo.desired_kl is not None
            and cfg.ppo.desired_kl < BF16_KL_FLOOR * 2):
        log.warning("ppo.desired_kl=%g under bfloat16: the reported KL has a floor of about "
                    "%g, so the rate will sit at ppo.learning_rate_min; use float32 or a fixed "
                    "rate (ppo.desired_kl=null)", cfg.ppo.desired_kl, BF16_KL_FLOOR)
    model.symmetry = mirror if cfg.ppo.symmetry else None
    if cfg.ppo.symmetry:
        log.info("symmetry: every sample's mirror image joins its minibatch")
    if cfg.symmetric_policy:
        log.info("symmetric policy: actions and values averaged with their mirror images'")

    def checkpoint() -> Path:
        model.save(latest)
        np.savez(ckpt / "latest_obs_rms.npz", mean=env.obs_rms.mean, var=env.obs_rms.var,
                 count=env.obs_rms.count, ret_var=env.ret_rms.var)
        save_sampler_state(env, ckpt / SAMPLER_FILE)
        meta = tracker_metadata(task, cfg, model.num_timesteps, lineage)
        out = save_tracker(model, env.obs_rms.mean, env.obs_rms.var, env.clip_obs, meta,
                           run / "tracker.npz", critic_layout=task.critic_layout)
        try:
            from twin.controllers.tracking_policy import TrackingController

            export_onnx(TrackingController.load(out), run / "tracker.onnx")
        except ImportError:
            log.info("onnx not installed: skipped tracker.onnx")
        (run / "progress.json").write_text(json.dumps({
            "env_steps": int(model.num_timesteps), "time": time.time(),
            "ep_rew_mean": _mean([e["r"] for e in model.ep_info_buffer or ()]),
            "ep_len_mean": _mean([e["l"] for e in model.ep_info_buffer or ()]),
        }))
        return out

    validator = Validator(cfg, run) if cfg.val_motions else None

    class Checkpoints(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next = model.num_timesteps + cfg.checkpoint_every_env_steps
            self.next_val = model.num_timesteps + cfg.val_every_env_steps

        def _on_step(self) -> bool:
            if stop.requested:
                return False  # learn() returns; the checkpoint below is written
            due = self.num_timesteps >= self.next
            due_val = validator is not None and self.num_timesteps >= self.next_val
            if due or due_val:
                out = checkpoint()  # once, also when both are due
                if due:
                    self.next += cfg.checkpoint_every_env_steps
                if due_val:
                    validator(out, int(model.num_timesteps))
                    log_start_shares(env)
                    self.next_val += cfg.val_every_env_steps
            return True

    remaining = cfg.total_env_steps - model.num_timesteps
    with StopOnSignal() as stop:
        if remaining > 0:
            model.learn(remaining, callback=[Checkpoints(), *(callbacks or [])],
                        reset_num_timesteps=False,
                        progress_bar=progress_bar, tb_log_name="ppo")
        out = checkpoint()
    if stop.requested:
        log.info("stopped by %s at %d env-steps; resume with the same run_dir",
                 stop.requested, model.num_timesteps)
    env.close()
    return out


class Validator:
    """Scores exported trackers on ``cfg.val_motions`` and keeps the best as ``best.npz``."""

    def __init__(self, cfg: TrackerTrainConfig, run: Path):
        from twin.envs.tracking.g1_tracking import load_motions

        self.clips = load_motions(cfg.val_motions)
        self.run = run
        self.log = run / "val.jsonl"
        self.val_set = val_set_id(m.clip_name(f"clip{k}") for k, m in enumerate(self.clips))
        self.best = _best_so_far(self.log, self.val_set)
        if self.best is None and self.log.exists():
            log.info("validation clips differ from the earlier rows of %s: the best restarts",
                     self.log)

    def __call__(self, tracker_npz: Path, env_steps: int) -> dict:
        import shutil

        from twin.controllers.tracking_policy import TrackingController
        from twin.evaluate.tracker import aggregate, evaluate_controller

        t0 = time.perf_counter()
        results = evaluate_controller(self.clips, TrackingController.load(tracker_npz))
        agg = aggregate(results)
        snap = self.run / "snapshots" / f"tracker_{env_steps:09d}.npz"
        snap.parent.mkdir(exist_ok=True)
        shutil.copyfile(tracker_npz, snap)
        row = {"env_steps": env_steps, "success_rate": agg["success_rate"],
               "tracked_fraction": agg["tracked_fraction"],
               "mpjpe_local_mm": agg["mpjpe_local_mm"], "clips": agg["clips"],
               "failed": [r.clip for r in results if not r.success], "val_set": self.val_set,
               "snapshot": str(snap), "seconds": round(time.perf_counter() - t0, 1)}
        if self.best is None or _val_key(row) > _val_key(self.best):
            self.best = row
            shutil.copyfile(tracker_npz, self.run / "best.npz")
            onnx = tracker_npz.with_suffix(".onnx")
            if onnx.exists():
                shutil.copyfile(onnx, self.run / "best.onnx")
        row["best"] = self.best["env_steps"]
        with self.log.open("a") as f:
            f.write(json.dumps(row) + "\n")
        log.info("validation at %d env-steps: success %.2f, local MPJPE %.1f mm (best at %d)",
                 env_steps, row["success_rate"], row["mpjpe_local_mm"], row["best"])
        return row


def _val_key(row: dict) -> tuple[float, float, float]:
    """Success, then the fraction tracked (rows before it count 0), then lower MPJPE."""
    return (row["success_rate"], row.get("tracked_fraction", 0.0), -row["mpjpe_local_mm"])


def val_set_id(clip_names) -> str:
    """Names the set of validation clips: scores on different sets are not compared."""
    return hashlib.sha1("\n".join(sorted(clip_names)).encode()).hexdigest()[:12]


def _best_so_far(log_path: Path, val_set: str) -> dict | None:
    """The best row scored on the same clips (rows written before sets were recorded
    have no ``val_set`` and are not compared)."""
    if not log_path.exists():
        return None
    rows = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("val_set") == val_set]
    return max(rows, key=_val_key) if rows else None


def _mean(xs) -> float | None:
    return float(np.mean(xs)) if len(xs) else None
