"""``twin train tracker KEY=VALUE ...``: train or fine-tune the G1 tracking policy.

Keys are those of ``TrackerTrainConfig`` with the values of ``configs/train/tracker.yaml``
(Hydra overrides); ``--help`` lists them. Every value is checked before training starts.
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

from twin.cli.grammar import hydra_errors, lazy_help, split_items, yaml_comment_meanings

# Meanings for keys whose YAML line carries no comment (or a terse one).
_MEANINGS = {
    "motions": "a RobotMotion .npz, a folder of them, or a glob (required; motion=FILE too)",
    "robot": "robot name (see `twin robots`)",
    "action_mode": "reference_residual (a residual on the reference), reference_holding (the "
    "same with the servos' gravity sag fed forward) or default_offset",
    "gains": "robot gain profile: stiff (kp 500 servos, PPO learns a residual) or tracking "
             "(soft, BeyondMimic's)",
    "action_scale_factor": "rad per unit action = this x the gain profile's 0.25 effort/Kp "
                           "(> 0; init= with another scale rescales the action head)",
    "proprio_obs": "the actor's proprio terms (null = the init tracker's, else the default "
                   "five; add base_lin_vel_b for the pelvis velocity)",
    "reference_obs": "the actor's reference terms, read at every window step (null = the init "
                     "tracker's, else the default five; add anchor_lin_vel_in_ref_anchor and "
                     "anchor_ang_vel_in_ref_anchor for the reference root velocity)",
    "proprio_history_steps": "control steps back at which the actor reads its proprio terms "
                             "again, e.g. [1,2,3] (null = the init tracker's, else none; from "
                             "init= new history inputs start at zero weight)",
    "obs_window_steps": "the reference lookahead the actor reads, control steps ahead (null = "
                        "the init tracker's, else [1, 2, 5, 10, 25]; another one needs a run "
                        "without init=)",
    "reward": "reward overrides (TrackingRewardConfig), e.g. reward.action_rate=0.01 or "
              "reward.body_pos.weight=2.0",
    "num_envs": "parallel envs stepped by the batched env",
    "total_env_steps": "env-steps to train (a resumed run counts its earlier ones)",
    "seed": "random seed (>= 0)",
    "run_dir": "output folder; re-running with the same one resumes",
    "checkpoint_every_env_steps": "env-steps between checkpoints (tracker.npz/.onnx too)",
    "net_arch": "hidden layer sizes of actor and critic (from init=: as many, as wide or wider)",
    "critic_obs": "asymmetric actor-critic: the value net also reads privileged state",
    "symmetric_policy": "true: a left-right symmetric policy (action and value averaged with "
                        "their mirror images'); exports a mirror-averaged tracker (null = "
                        "true when the init tracker is mirror-averaged)",
    "val_motions": "clips scored periodically (path or glob); null = off",
    "adaptive_sampling": "episode starts by the failure rates of 1-s bins (true) or uniform over "
                         "the clips' frames (false); clip_weights apply to both",
    "val_every_env_steps": "env-steps between validation scores",
    "progress": "show a progress bar (CLI only)",
    "ppo.n_epochs": "passes over each rollout",
    "ppo.gamma": "discount factor",
    "ppo.gae_lambda": "GAE lambda",
    "ppo.clip_range": "PPO clip range",
    "ppo.ent_coef": "entropy bonus coefficient",
    "ppo.vf_coef": "value loss coefficient",
    "ppo.max_grad_norm": "gradient norm clip",
    "ppo.log_std_init": "initial log standard deviation of the action noise",
    "ppo.learning_rate_min": "lower bound of the adaptive learning rate",
    "ppo.learning_rate_max": "upper bound of the adaptive learning rate",
    "ppo.update_dtype": "matmul precision of the gradient update: float32 | bfloat16 (autocast, "
                        "CPUs with AVX512-BF16/AMX)",
    "ppo.symmetry": "true: each sample's left-right mirror image joins its minibatch (pair "
                    "with augment.mirror=true; not with symmetric_policy=true)",
    "augment.mirror": "true: also train on every clip's left-right mirror image",
}

GAIN_PROFILES = ("stiff", "tracking")


def _preset_path():
    from twin.scene.config import configs_dir

    return configs_dir() / "train" / "tracker.yaml"


def _preset_values() -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(_preset_path()))


def _meanings() -> dict[str, str]:
    return {**yaml_comment_meanings(_preset_path()), **_MEANINGS}


def add_train_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train learned controllers (KEY=VALUE overrides)",
                       description="Train learned controllers.")
    tsub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    t = tsub.add_parser(
        "tracker", help="PPO on twin/G1MotionTracking-v0; re-run to resume",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="PPO (stable-baselines3) on the batched G1 motion-tracking env. "
        "KEY=VALUE overrides of configs/train/tracker.yaml (Hydra syntax; dr_terms.KEY=... "
        "adds a domain-randomisation override, reward.KEY=... a reward one). Re-running with the same run_dir resumes.")
    t.epilog_fn = lazy_help(
        "twin.train.tracker.TrackerTrainConfig",
        "example: twin train tracker motions=data/motion_library/train "
        "total_env_steps=500000\n  progress=false   no progress bar (was --no-progress)",
        defaults_fn=_preset_values, extra_help=_meanings)
    t.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="keys listed below")
    t.add_argument("--no-progress", action="store_true",
                   help="deprecated spelling of progress=false")
    t.set_defaults(func=run_train_tracker)


def check_train_config(cfg) -> None:
    """``ConfigError`` naming the first bad value of a ``TrackerTrainConfig``."""
    from twin import checks
    from twin.errors import ConfigError, InputError

    for key in ("motions", "val_motions"):
        value = getattr(cfg, key)
        if value is not None and not (Path(value).exists() or glob.glob(value)):
            raise ConfigError(key, value, "an existing .npz, folder or glob of RobotMotion "
                              "files")
    from twin.envs.tracking.g1_tracking import ACTION_MODES

    checks.one_of("action_mode", cfg.action_mode, ACTION_MODES)
    checks.one_of("gains", cfg.gains, GAIN_PROFILES)
    checks.number("action_scale_factor", cfg.action_scale_factor, 0, 100, lo_open=True)
    from twin.envs.tracking.observations import (
        PROPRIO_TERMS,
        REFERENCE_TERMS,
        history_steps_problem,
        terms_problem,
        window_steps_problem,
    )

    # a list by now (OmegaConf refuses anything else for a list[int] field)
    window = cfg.obs_window_steps
    problem = None if window is None else window_steps_problem(list(window))
    if problem:
        raise ConfigError("obs_window_steps", list(window), "null or " + problem)
    history = cfg.proprio_history_steps
    problem = None if history is None else history_steps_problem(list(history))
    if problem:
        raise ConfigError("proprio_history_steps", list(history), "null or " + problem)

    for key, known in (("proprio_obs", PROPRIO_TERMS), ("reference_obs", REFERENCE_TERMS)):
        terms = getattr(cfg, key)
        if terms is not None and (not terms or terms_problem(list(terms), known)):
            raise ConfigError(key, list(terms),
                              f"null or a list of distinct terms from {list(known)}")
    from twin.envs.tracking.events import DomainRandomization

    try:
        DomainRandomization.coerce(dict(cfg.dr_terms))
    except (TypeError, ValueError) as exc:
        msg = str(exc).removeprefix("dr: ")  # 'NAME=VALUE; expected ...' or 'unknown fields'
        raise InputError(f"dr_terms: {msg}" if msg.startswith("unknown")
                         else f"dr_terms.{msg}") from None
    from twin.envs.tracking.terms import TrackingRewardConfig

    try:
        TrackingRewardConfig.from_overrides(dict(cfg.reward))
    except ValueError as exc:
        raise InputError(str(exc)) from None
    for pattern, w in (cfg.clip_weights or {}).items():
        checks.number(f"clip_weights.{pattern}", w, 0)  # 0: in the library, never sampled
    checks.integer("num_envs", cfg.num_envs, 1, 65536)
    checks.integer("num_threads", cfg.num_threads, 1, 1024, optional=True)
    checks.integer("total_env_steps", cfg.total_env_steps, 1)
    checks.integer("seed", cfg.seed, 0, 2**32 - 1)
    checks.writable_dir("run_dir", cfg.run_dir)
    checks.integer("checkpoint_every_env_steps", cfg.checkpoint_every_env_steps, 1)
    checks.integer("torch_threads", cfg.torch_threads, 1, 1024)
    checks.integer("torch_update_threads", cfg.torch_update_threads, 1, 1024, optional=True)
    if not cfg.net_arch or not all(type(n) is int and n >= 1 for n in cfg.net_arch):
        raise ConfigError("net_arch", cfg.net_arch, "a non-empty list of layer sizes >= 1")
    checks.integer("val_every_env_steps", cfg.val_every_env_steps, 1)
    p = cfg.ppo
    checks.integer("ppo.n_steps", p.n_steps, 1)
    checks.integer("ppo.batch_size", p.batch_size, 2)
    checks.integer("ppo.n_epochs", p.n_epochs, 1)
    checks.number("ppo.learning_rate", p.learning_rate, 0, lo_open=True)
    checks.number("ppo.gamma", p.gamma, 0, 1, lo_open=True)
    checks.number("ppo.gae_lambda", p.gae_lambda, 0, 1)
    checks.number("ppo.clip_range", p.clip_range, 0, lo_open=True)
    checks.number("ppo.ent_coef", p.ent_coef, 0)
    checks.number("ppo.vf_coef", p.vf_coef, 0)
    checks.number("ppo.max_grad_norm", p.max_grad_norm, 0, lo_open=True)
    checks.number("ppo.log_std_init", p.log_std_init, -20, 5)
    checks.number("ppo.target_kl", p.target_kl, 0, lo_open=True, optional=True)
    checks.number("ppo.desired_kl", p.desired_kl, 0, lo_open=True, optional=True)
    checks.number("ppo.learning_rate_min", p.learning_rate_min, 0, lo_open=True)
    checks.number("ppo.learning_rate_max", p.learning_rate_max, p.learning_rate_min)
    from twin.train.tracker import UPDATE_DTYPES, cpu_has_bf16_matmul

    checks.one_of("ppo.update_dtype", p.update_dtype, UPDATE_DTYPES)
    if p.update_dtype == "bfloat16" and not cpu_has_bf16_matmul():
        raise ConfigError("ppo.update_dtype", p.update_dtype,
                          "float32 on this CPU (no native bf16 matmul: AVX512-BF16 or AMX)")


def load_checked_config(items: list[str]):
    """``KEY=VALUE`` items -> a checked ``TrackerTrainConfig``; also returns ``progress``."""
    from twin.train.tracker import TrackerTrainConfig, load_train_config

    # Hydra's append prefix is accepted; dr_terms and reward entries (empty dicts in the
    # YAML) are appended whether or not the '+' is written
    items = [item.lstrip("+") for item in items]
    split_items(items, "train tracker")
    progress = True
    rest = []
    for item in items:
        key, _, value = item.partition("=")
        if key.startswith(("dr_terms.", "reward.")):
            item = "+" + item
        if key == "progress":
            if value.lower() not in ("true", "false"):
                from twin.errors import ConfigError

                raise ConfigError("progress", value, "true or false")
            progress = value.lower() == "true"
        else:
            rest.append(item)
    with hydra_errors("train tracker", TrackerTrainConfig):
        cfg = load_train_config(rest)
    check_train_config(cfg)
    return cfg, progress


def run_train_tracker(args: argparse.Namespace) -> int:
    from twin.train.tracker import train

    cfg, progress = load_checked_config(args.overrides)
    if args.no_progress:
        print("twin train tracker: --no-progress is deprecated; use progress=false",
              file=sys.stderr)
        progress = False
    import logging

    # what training decides on its own (resume, unnamed clips' column order, augmentation,
    # validation snapshots) goes to stderr
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("OpenGL").setLevel(logging.WARNING)
    out = train(cfg, progress_bar=progress)
    print(f"tracker written to {out}")
    return 0
