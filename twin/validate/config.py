"""Validation settings (``configs/validate/default.yaml``): scene, controller, thresholds,
task predicates."""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.motion.checks import PlanBounds


@dataclass
class Thresholds:
    """A plan is no-go when any of these is exceeded (or the robot falls);
    ``foot_slip_min_load_fraction`` says which floor contacts the slip limits count."""

    fall_pelvis_height_m: float = 0.35  # pelvis below this = fallen
    fall_tilt_rad: float = 1.2  # torso tilt from vertical beyond this = fallen
    mpjpe_local_mm: float = 100.0  # mean body-local position error
    root_drift_m: float = 0.5  # max horizontal pelvis distance to the reference
    torque_saturation_fraction: float = 0.2  # any joint at its torque limit longer than this
    joint_limit_margin_rad: float = 0.0  # closer than this to a limit counts as a violation
    foot_slip_m_s: float = 0.15  # mean horizontal foot speed while in floor contact
    foot_slip_peak_m_s: float = 1.0  # peak horizontal foot speed while in floor contact
    # a foot carrying less than this share of the robot's weight is brushing or tapping the
    # floor, not standing on it: its speed is not a slip
    foot_slip_min_load_fraction: float = 0.1
    self_collision_steps: int = 5  # self-contact in more control steps than this


@dataclass
class CautionBands:
    """A plan inside every no-go threshold is a *caution* (not a go) when a value comes this
    close to its limit; ``twin validate strict=true`` then exits 2."""

    joint_limit_margin_rad: float = 0.05  # closer than this (2.9 deg) to a position limit
    torque_saturation_fraction: float = 0.05  # a joint at its torque limit longer than this
    foot_slip_peak_m_s: float = 0.3  # peak foot speed in floor contact above this
    mpjpe_local_mm: float = 60.0  # mean body-local position error above this
    root_drift_m: float = 0.3  # max horizontal pelvis distance above this


@dataclass
class Predicate:
    """A task condition checked on the executed motion.

    kinds: ``near`` (body within ``distance_m`` of object/point at the end), ``lifted``
    (object raised by >= ``height_m`` at the end), and the scene predicates of
    ``twin.validate.predicates``: ``reach``, ``at``, ``touch``, ``moved``, ``not_touch``.
    ``when``: ``any`` (met at some step) or ``end`` (met at the last step); default ``end``
    for ``at``, ``any`` for the others.
    """

    name: str = ""
    kind: str = "near"
    body: str | None = None
    object: str | None = None
    point: list[float] | None = None
    distance_m: float = 0.05
    height_m: float = 0.1
    when: str | None = None


@dataclass
class ValidateConfig:
    motion: str | None = None
    scene: str = "empty"
    # where the plan goes in the scene (twin.validate.placement): auto = start_pose if given,
    # else the calibrated camera for a plan with a camera-frame estimate, else the robot's
    # pose in the scene; or camera | start_pose | robot | motion (the plan's own frame)
    placement: str = "auto"
    start_pose: list[float] | None = None  # [x, y, yaw] (m, m, rad)
    placement_camera: str | None = None  # default: the scene's first calibrated camera
    placement_anchor: str = "start"  # start | end: the frame where robot and subject coincide
    # a shipped tracker name, a tracker .npz, "pd" (stiff replay) or "pd_holding" (its sag fed
    # forward)
    controller: str = "default"
    # > 0: first fine-tune ``controller`` on this motion for that many env steps (a per-clip
    # specialist, BeyondMimic-style; ~300k tracked the demo) and execute with the specialist
    finetune_env_steps: int = 0
    finetune_num_envs: int = 16
    fps: float | None = None  # for motion files without a frame rate
    body_model: str | None = None
    video: bool = False
    video_camera: str | None = None  # default: the scene's first camera
    video_size: list[int] = field(default_factory=lambda: [480, 360])
    render_profile: str = "fast"
    out: str = "validate_out"
    # a LeRobot dataset folder: append the G1 execution with its visual action prompts
    # (twin.record.validation); several validations may share one
    record: str | None = None
    settle_s: float = 1.0  # keep simulating after a fall, to show it
    thresholds: Thresholds = field(default_factory=Thresholds)
    caution: CautionBands = field(default_factory=CautionBands)
    strict: bool = False  # exit 2 on a caution (0 otherwise); no-go is always 1
    plan_checks: PlanBounds = field(default_factory=PlanBounds)  # plausibility before physics
    progress: bool | None = None  # a progress line per second of motion; None: on a terminal
    predicates: list[Predicate] = field(default_factory=list)


def check_validate_config(cfg: ValidateConfig) -> None:
    """Every numeric setting in range before anything runs: one ``ConfigError`` line naming
    the key, the value and what was expected (a negative threshold would silently pass or
    fail every plan)."""
    from dataclasses import fields

    from twin import checks

    checks.number("settle_s", cfg.settle_s, 0.0, 30.0)
    checks.integer("finetune_env_steps", cfg.finetune_env_steps, 0)
    checks.integer("finetune_num_envs", cfg.finetune_num_envs, 1, 1024)
    checks.number("fps", cfg.fps, 0.0, 1000.0, lo_open=True, optional=True)
    if (not isinstance(cfg.video_size, (list, tuple)) or len(cfg.video_size) != 2
            or any(type(v) is not int or not 16 <= v <= 4096 for v in cfg.video_size)):
        from twin.errors import ConfigError

        raise ConfigError("video_size", cfg.video_size, "[width, height], each 16..4096")
    for group, name in ((cfg.thresholds, "thresholds"), (cfg.caution, "caution")):
        for f in fields(group):
            key, value = f"{name}.{f.name}", getattr(group, f.name)
            if f.name == "self_collision_steps":
                checks.integer(key, value, 0)
            elif f.name == "joint_limit_margin_rad":
                checks.number(key, value, 0.0, 0.5)
            elif f.name.endswith("_fraction"):
                checks.number(key, value, 0.0, 1.0)
            elif f.name == "fall_tilt_rad":
                checks.number(key, value, 0.0, 3.1416, lo_open=True)
            else:  # a caution band of 0 flags any value; a no-go threshold of 0 is nonsense
                checks.number(key, value, 0.0, lo_open=name == "thresholds")
