"""Typed config of ``twin validate [MOTION] KEY=VALUE...`` (the keys its ``--help`` lists),
how a command line becomes a checked ``ValidateConfig``, and the old ``--flag`` spellings
(read for one release, with a deprecation line).

The validation keys are ``twin.validate.config.ValidateConfig`` with the values of the Hydra
preset ``configs/validate/default.yaml`` (``demo=scene``: ``demo_scene.yaml``); the command
adds the keys that choose what is validated: ``motion`` (or the positional MOTION), ``demo``,
``batch`` and ``workers``. Every value is checked before a report folder is written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from twin import checks
from twin.cli.validate_cmds import DEMO_FPS, DEMOS, demo_motion_path
from twin.errors import ConfigError, InputError
from twin.validate.config import ValidateConfig, check_validate_config

COMMAND = "validate"
WORKERS_MAX = 1024


@dataclass
class ValidateCommandConfig(ValidateConfig):
    """``twin validate [MOTION] KEY=VALUE...``: the validation keys and what to validate.

    demo: validate a bundled demo instead of a file: basic (GVHMR layout, 30 fps, empty
        scene) or scene (a walk-to-the-table plan placed in the cell by its camera;
        preset configs/validate/demo_scene.yaml); null = none
    batch: validate every motion file in this folder (a report folder each under out, and
        out/summary.json); null = one motion
    workers: processes for batch=, 1..1024; null = one per core
    """

    demo: str | None = None
    batch: str | None = None
    workers: int | None = None


# Keys of the command itself, taken out before the Hydra preset is composed.
COMMAND_KEYS = ("motion", "demo", "batch", "workers")

# Meanings for keys whose YAML and dataclass lines carry none (or only a terse one).
MEANINGS = {
    "motion": "the motion file (any format `twin retarget` reads, or a RobotMotion .npz); "
              "also the positional MOTION",
    "finetune_num_envs": "parallel envs of the fine-tuning (finetune_env_steps > 0), 1..1024",
    "fps": "frame rate of a motion file that does not store it (GVHMR: 30 assumed, with a "
           "note), > 0",
    "body_model": "SMPL/SMPL-X model file for exact joints; null = built-in skeleton",
    "video": "also write video.mp4 (the reference as a translucent ghost)",
    "video_camera": "camera of video.mp4; null = the scene's first camera",
    "video_size": "[width, height] of video.mp4 in pixels, each 16..4096",
    "render_profile": "renderer profile of the video: full or fast",
    "out": "report folder (report.json, report.html, executed.npz/.csv); -o DIR is short",
    "record": "a LeRobot dataset folder to append the execution to (twin.record.validation); "
              "null = none",
    "progress": "a progress line per second of motion; null = only on a terminal",
    "predicates": "task predicates, e.g. [{name: reach, kind: at, body: pelvis, point: "
                  "[1.0, 0.0], distance_m: 0.1}]",
    "plan_checks.root_height_max_m": "pelvis z below this",
    "plan_checks.root_speed_m_s": "root (and subject pelvis) speed below this",
    "plan_checks.quat_norm_tolerance": "root quaternion norm within 1 +- this",
    "plan_checks.ik_residual_m": "per-frame IK residual of a retargeted plan below this",
}

# flag -> key; each is read for one release, with a deprecation line on stderr.
OLD_FLAGS = {"--demo": "demo", "--video": "video", "--fps": "fps", "--strict": "strict",
             "--batch": "batch", "--workers": "workers"}
OLD_SWITCHES = ("--video", "--strict")  # took no value
OLD_OPTIONAL = {"--demo": "basic"}  # a bare --demo meant demo=basic


def preset_path(name: str = "default") -> Path:
    from twin.scene.config import configs_dir

    return configs_dir() / "validate" / f"{name}.yaml"


def preset_values() -> dict:
    """The values of ``configs/validate/default.yaml`` (the defaults ``--help`` shows)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(preset_path()))


def meanings() -> dict[str, str]:
    from twin.cli.grammar import yaml_comment_meanings

    return {**yaml_comment_meanings(preset_path()), **MEANINGS}


# --- from a command line to a checked config ------------------------------------------------
def _key(item: str) -> str:
    return item.partition("=")[0].lstrip("+~")


def compose(overrides: list[str], preset: str = "default") -> ValidateConfig:
    """The Hydra preset ``configs/validate/PRESET.yaml`` with ``overrides``, typed as a
    ``ValidateConfig``; a bad key or value is one ``InputError`` line."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    from twin.cli.grammar import hydra_errors

    with hydra_errors(COMMAND, ValidateCommandConfig):
        with initialize_config_dir(str(preset_path().parent), version_base=None):
            cfg = hydra_compose(config_name=preset, overrides=list(overrides))
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ValidateConfig), cfg))


def load_validate_command(items: list[str]) -> tuple[ValidateConfig, ValidateCommandConfig]:
    """``[MOTION] KEY=VALUE...`` -> the checked ``ValidateConfig`` (motion set, demo applied)
    and the command's own keys (``demo``, ``batch``, ``workers``); nothing is written."""
    from twin.cli.grammar import parse_config

    files = [i for i in items if "=" not in i]
    pairs = [i for i in items if "=" in i]
    own = [i for i in pairs if _key(i) in COMMAND_KEYS]
    keys = parse_config(ValidateCommandConfig, own, COMMAND)
    if len(files) > 1:
        raise InputError(f"{COMMAND}: one motion file at a time (got {files}); use batch=DIR "
                         "for a folder")
    if files and keys.motion is not None:
        raise ConfigError("motion", keys.motion, f"one motion (the positional {files[0]!r} "
                          "was given too)")
    motion = files[0] if files else keys.motion
    check_command_keys(keys, motion)
    preset = DEMOS[keys.demo][1] if keys.demo else "default"
    cfg = compose([i for i in pairs if _key(i) not in COMMAND_KEYS], preset)
    if keys.demo:
        motion = str(demo_motion_path(keys.demo))
        cfg = replace(cfg, fps=DEMO_FPS if cfg.fps is None else cfg.fps)
    cfg = replace(cfg, motion=motion)
    check_validate_config(cfg)
    check_run_values(cfg)
    return cfg, keys


def check_command_keys(keys: ValidateCommandConfig, motion: str | None) -> None:
    """``demo``, ``workers`` and what to validate: one of a motion, ``demo=``, ``batch=``
    (the batch folder is checked by ``validate_batch``)."""
    if keys.demo is not None:
        checks.one_of("demo", keys.demo, tuple(DEMOS))
    checks.integer("workers", keys.workers, 1, WORKERS_MAX, optional=True)
    given = [name for name, v in (("a motion file", motion), ("demo=", keys.demo),
                                  ("batch=", keys.batch)) if v is not None]
    if not given:
        raise InputError(f"{COMMAND}: give a motion file (MOTION or motion=FILE), demo=basic|"
                         "scene, or batch=DIR (see `twin validate --help`)")
    if len(given) > 1:
        raise InputError(f"{COMMAND}: give one of a motion file, demo= and batch= (got "
                         f"{' and '.join(given)})")


def check_run_values(cfg: ValidateConfig) -> None:
    """The string-valued keys ``check_validate_config`` leaves to the run, checked before a
    report folder exists."""
    from twin.sim.mujoco_render import RENDER_PROFILES
    from twin.validate.placement import PLACEMENT_ANCHORS, PLACEMENT_MODES

    checks.one_of("placement", cfg.placement, PLACEMENT_MODES)
    checks.one_of("placement_anchor", cfg.placement_anchor, PLACEMENT_ANCHORS)
    checks.one_of("render_profile", cfg.render_profile, RENDER_PROFILES)
    if cfg.start_pose is not None and len(cfg.start_pose) != 3:
        raise ConfigError("start_pose", cfg.start_pose, "[x, y, yaw] (m, m, rad) or null")
    checks.writable_dir("out", cfg.out)
    if cfg.record is not None:
        checks.writable_dir("record", cfg.record)
