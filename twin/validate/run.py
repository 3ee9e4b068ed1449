"""One validation: motion + scene + controller -> report folder.

Order: settings, motion (read, retarget, place), plausibility checks (a plan that cannot
be physical is a no-go without simulating it), video backend (checked before the
simulation, not after), execution with a progress line, metrics, verdict, report. Any
exception on the way still writes ``report.json`` (verdict ``error``, the reason) before it
propagates."""

from __future__ import annotations

import time
from pathlib import Path

from twin.validate.config import ValidateConfig
from twin.validate.execute import execute
from twin.validate.inputs import load_plan_motion
from twin.validate.metrics import compute_metrics, metrics_dict
from twin.validate.placement import place_in_scene
from twin.validate.predicates import (
    apply_scene_predicates,
    check_scene_predicates,
    explain_predicate_reasons,
    legacy_predicates_only,
    robot_body_names,
)
from twin.validate.report import (
    build_report,
    error_report,
    write_executed,
    write_html,
    write_json,
)
from twin.validate.verdict import assess, thresholds_dict

PREDICATE_KINDS = ("near", "lifted", "reach", "at", "touch", "moved", "not_touch")


def check_predicates(cfg: ValidateConfig, body_names: tuple[str, ...], objects: list[str]) -> None:
    for k, p in enumerate(cfg.predicates):
        where = f"predicates[{k}] ({p.name or p.kind})"
        if p.kind not in PREDICATE_KINDS:
            raise ValueError(f"{where}: kind {p.kind!r}; expected one of {PREDICATE_KINDS}")
        if p.kind not in ("near", "lifted"):
            continue  # scene predicates: checked against the robot model once it is known
        if p.kind in ("near", "at") and p.body not in body_names:
            raise ValueError(f"{where}: unknown body {p.body!r}; expected one of "
                             f"{list(body_names)}")
        if p.kind in ("near", "lifted") and p.object not in objects:
            raise ValueError(f"{where}: unknown object {p.object!r}; the scene has {objects}")
        if p.kind == "at" and (p.point is None or len(p.point) != 3):
            raise ValueError(f"{where}: kind 'at' needs point: [x, y, z]")


def finetune_specialist(motion, cfg: ValidateConfig, out: Path) -> tuple[ValidateConfig, dict]:
    """Fine-tune ``cfg.controller`` on ``motion`` (``out/finetune``); the config now uses it."""
    from dataclasses import replace

    from twin.envs.tracking.g1_tracking import REPLAY_CONTROLLERS

    if cfg.controller in REPLAY_CONTROLLERS:
        raise ValueError(f"validate: finetune_env_steps needs a learned controller, not "
                         f"{cfg.controller}")
    try:
        import stable_baselines3  # noqa: F401

        from twin.train.tracker import load_train_config, train
    except ImportError as e:
        raise ImportError("validate: finetune_env_steps needs the train extra "
                          "(pip install 'twin-sim[train]')") from e
    from twin.motion.robot_motion import save_robot_motion

    ref = out / "reference.npz"
    save_robot_motion(motion, ref)
    t0 = time.perf_counter()
    tracker = train(load_train_config([
        f"motions={ref}", f"init={cfg.controller}", f"run_dir={out / 'finetune'}",
        f"total_env_steps={cfg.finetune_env_steps}", f"num_envs={cfg.finetune_num_envs}",
        "checkpoint_every_env_steps=1000000000"]), progress_bar=False)
    info = {"init": cfg.controller, "env_steps": cfg.finetune_env_steps,
            "num_envs": cfg.finetune_num_envs, "wall_s": round(time.perf_counter() - t0, 1),
            "tracker": str(tracker)}
    return replace(cfg, controller=str(tracker)), info


ACTUATOR_MODELS = {
    "stiff": "stiff position servos (kp 500, Menagerie's G1 actuators): a simulation "
             "profile, not the G1's motor physics; a go here does not validate the soft "
             "hardware-like profile (gains=tracking)",
    "tracking": "armature-derived motor-physics PD (BeyondMimic's G1 gains), the "
                "hardware-like profile",
}


def actuator_model(controller: str) -> dict:
    """The gain profile the plan was executed under, so a report says what it validated."""
    from twin.controllers.tracking_policy import TrackingController

    from twin.envs.tracking.g1_tracking import REPLAY_CONTROLLERS

    gains = (REPLAY_CONTROLLERS[controller][0]["gains"] if controller in REPLAY_CONTROLLERS
             else TrackingController.load(controller).metadata.gains)
    return {"gains": gains, "description": ACTUATOR_MODELS.get(gains, gains)}


def validate(cfg: ValidateConfig) -> dict:
    """Run one validation and write its report folder; returns the report dict (verdict
    go / caution / no-go). Any exception writes ``report.json`` with verdict ``error`` and
    the reason, then propagates."""
    info: dict = {"input": cfg.motion, "scene": cfg.scene, "controller": cfg.controller}
    try:
        return _validate(cfg, info)
    except Exception as exc:
        out = Path(cfg.out)
        report = error_report(exc, info, thresholds_dict(cfg))
        try:
            out.mkdir(parents=True, exist_ok=True)
            write_json(report, out)
            write_html(report, out, cfg)
        except OSError:
            pass  # the out folder itself is the problem: the exception says what failed
        raise


def _validate(cfg: ValidateConfig, info: dict) -> dict:
    from twin.motion.checks import check_robot_motion
    from twin.robots.g1 import G1_KEY_BODY_NAMES
    from twin.scene.config import load_scene_config

    if not cfg.motion:
        raise ValueError("validate: a motion file is required (or demo=basic|scene)")
    scene = load_scene_config(cfg.scene)
    check_predicates(cfg, G1_KEY_BODY_NAMES, [o.name for o in scene.objects])
    t0 = time.perf_counter()
    motion, loaded = load_plan_motion(cfg.motion, cfg.fps, cfg.body_model, cfg.plan_checks)
    info.update(loaded)
    motion, info["placement"] = place_in_scene(motion, scene, cfg, info)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    issues = info.pop("plan_issues", []) + [
        i.as_dict() for i in check_robot_motion(motion, ("g1", "g1_dex3"), cfg.plan_checks)]
    if issues:  # cannot be physical: a no-go without simulating it
        report = build_report("no-go", [f"implausible plan: {i['message']}" for i in issues],
                              None, info, thresholds=thresholds_dict(cfg), plan_issues=issues)
        write_json(report, out)
        write_html(report, out, cfg)
        return report
    check_scene_predicates(cfg.predicates, robot_body_names(motion), scene)
    if cfg.video:
        from twin.validate.video import check_video_backend

        check_video_backend()
    if cfg.finetune_env_steps > 0:
        cfg, info["finetune"] = finetune_specialist(motion, cfg, out)
        info["controller"] = cfg.controller
    from twin.validate.progress import motion_progress

    with motion_progress(motion.duration_s, cfg.progress) as progress:
        log = execute(motion, cfg, progress)
    metrics = compute_metrics(log, legacy_predicates_only(cfg), motion.duration_s)
    scene_results = apply_scene_predicates(log, cfg, motion, metrics)
    assessment = assess(metrics, cfg)
    reasons = explain_predicate_reasons(assessment.reasons, scene_results)
    info.update(scene=cfg.scene, controller=cfg.controller, wall_s=time.perf_counter() - t0,
                actuator_model=actuator_model(cfg.controller),
                start_lowered_m=round(log.start_lowered_m, 4))
    write_executed(log, out)
    if cfg.video:
        from twin.validate.video import write_video

        write_video(log, cfg, out)
    report = build_report(assessment.level, reasons, metrics_dict(metrics), info,
                          assessment.checks, thresholds_dict(cfg))
    report["metrics"]["predicate_details"] = {k: r.as_dict() for k, r in scene_results.items()}
    if cfg.record:
        from twin.record.validation import record_execution

        report["record"] = {"dataset": cfg.record, "episode": record_execution(
            log, cfg.record, scene=cfg.scene, controller=cfg.controller,
            robot="g1_dex3" if motion.hand_joint_pos is not None else "g1",
            motion_name=Path(cfg.motion).name, verdict=assessment.level,
            render_profile=cfg.render_profile)}
    write_json(report, out)
    write_html(report, out, cfg)
    return report
