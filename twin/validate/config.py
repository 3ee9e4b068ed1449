"""Validation settings (``configs/validate/default.yaml``): scene, controller, thresholds,
task predicates."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Thresholds:
    """A plan is no-go when any of these is exceeded (or the robot falls)."""

    fall_pelvis_height_m: float = 0.35  # pelvis below this = fallen
    fall_tilt_rad: float = 1.2  # torso tilt from vertical beyond this = fallen
    mpjpe_local_mm: float = 100.0  # mean body-local position error
    root_drift_m: float = 0.5  # max horizontal pelvis distance to the reference
    torque_saturation_fraction: float = 0.2  # any joint at its torque limit longer than this
    joint_limit_margin_rad: float = 0.0  # closer than this to a limit counts as a violation
    foot_slip_m_s: float = 0.15  # mean horizontal foot speed while in floor contact
    self_collision_steps: int = 5  # self-contact in more control steps than this


@dataclass
class Predicate:
    """A task condition checked on the executed motion.

    kinds: ``near`` (body within ``distance_m`` of object/point at the end), ``lifted``
    (object raised by >= ``height_m`` at the end), ``at`` (body within ``distance_m`` of
    ``point`` at the end).
    """

    name: str = ""
    kind: str = "near"
    body: str | None = None
    object: str | None = None
    point: list[float] | None = None
    distance_m: float = 0.05
    height_m: float = 0.1


@dataclass
class ValidateConfig:
    motion: str | None = None
    scene: str = "empty"
    controller: str = "default"  # a shipped tracker name, a tracker .npz, or "pd" (stiff replay)
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
    settle_s: float = 1.0  # keep simulating after a fall, to show it
    thresholds: Thresholds = field(default_factory=Thresholds)
    predicates: list[Predicate] = field(default_factory=list)
