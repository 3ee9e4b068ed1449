"""Evaluate a tracking controller on reference clips: success and tracking errors.

Each clip plays once from its first frame (no domain randomisation), all clips batched in
one vector env. Success means no termination under the relaxed thresholds (anchor height
0.25 m, tilt 1.0, end-effector height 0.25 m) until the clip's end. Errors are averaged over
the frames before termination:
- local MPJPE (mm): key-body positions relative to the pelvis, each expressed in its own
  pelvis heading (yaw) frame, robot vs reference;
- global MPJPE (mm): world positions;
- joint error (rad): mean absolute joint-angle difference;
- root drift (m): horizontal pelvis distance at the last tracked frame.
The no-learning baseline replays the reference joint angles through the ``stiff`` PD servos
(controller name ``pd``).

Scoring that cannot flatter: a controller that falls early is scored on fewer, easier
frames, so ``evaluate_controllers`` also reports each clip's MPJPE over the first frames
that *every* compared controller tracked (``*_common_mm``, window ``common_window_s``), the
fraction of the clip tracked before the first termination, and its time and reason;
aggregates rank by success, then tracked fraction, never by MPJPE alone.

Repeated rollouts (``noise_seed``): whether and when a tracker falls on a hard clip turns on
tiny differences, so one rollout per clip is a noisy score (the 81.3M tracker's real frame-0
tracked fraction is 0.491 noise-free, 0.37-0.46 over six rollouts whose actor observations
carry 1 % of BeyondMimic's training noise). A seeded rollout adds that sensor noise
(``ROLLOUT_NOISE_SCALE`` x ``BEYONDMIMIC_OBS_NOISE``); averaging seeds gives a steadier
score than the noise-free rollout alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from twin.measures import local_position_errors_m

RELAXED = dict(anchor_height_m=0.25, tilt=1.0, ee_height_m=0.25)
ROLLOUT_NOISE_SCALE = 0.01  # of BeyondMimic's training observation noise, per seeded rollout


@dataclass(frozen=True)
class StartOffset:
    """How one evaluated clip starts off its reference (all zero: the reference's own start).

    yaw_rad: the robot turned this far off the reference's heading (about the world z axis
        through the pelvis).
    phase_s: the robot's whole start state this far along the clip from the reference's
        start (negative: the robot behind its plan).
    reference_step: the reference starts at this step of the clip (room for a negative
        phase); the clip's frames before it are not scored.
    """

    yaw_rad: float = 0.0
    phase_s: float = 0.0
    reference_step: int = 0


@dataclass
class ClipResult:
    clip: str
    success: bool
    termination: str
    frames_tracked: int
    frames_total: int
    mpjpe_local_mm: float
    mpjpe_global_mm: float
    joint_error_rad: float
    root_drift_m: float
    fps: float = 50.0
    # Per-frame errors (m) over the tracked frames, for windowed scores; not serialised.
    local_err_m: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    global_err_m: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    mpjpe_local_common_mm: float = float("nan")
    mpjpe_global_common_mm: float = float("nan")
    common_window_s: float = float("nan")

    @property
    def tracked_fraction(self) -> float:
        return self.frames_tracked / max(self.frames_total, 1)

    @property
    def tracked_s(self) -> float:
        """Seconds tracked before the first termination (the whole clip on a success)."""
        return self.frames_tracked / self.fps

    @property
    def first_termination_s(self) -> float | None:
        """Time of the first termination (None when the clip was tracked to its end)."""
        return None if self.success else self.tracked_s

    def window_mpjpe_mm(self, frames: int) -> tuple[float, float]:
        """Local and global MPJPE (mm) over the first ``frames`` tracked frames."""
        k = max(min(frames, self.local_err_m.size), 1)
        if self.local_err_m.size == 0:
            return float("nan"), float("nan")
        return (float(1000 * self.local_err_m[:k].mean()),
                float(1000 * self.global_err_m[:k].mean()))

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("local_err_m", "global_err_m")}
        d["tracked_fraction"] = round(self.tracked_fraction, 4)
        d["first_termination_s"] = self.first_termination_s
        return d


def evaluate_tracker(motions, policy: Callable[[np.ndarray], np.ndarray] | None,
                     gains: str = "tracking", robot: str = "g1",
                     num_threads: int | None = None, starts: Sequence[StartOffset] | None = None,
                     **task_settings) -> list[ClipResult]:
    """Play every clip once with ``policy`` (obs -> action; None = zero action).
    ``starts``: per clip, how it starts off its reference (``StartOffset``; None: the
    reference's start state at the clip's first frame).
    ``task_settings``: the rest of the task a tracker runs in (``tracker_task_kwargs``:
    action mode, window, action scale, proprio terms); omitted ones take the task's
    defaults."""
    from twin.envs.tracking.events import StartNoise
    from twin.envs.tracking.g1_tracking import G1TrackingTask, TerminationThresholds, load_motions

    clips = load_motions(motions) if not isinstance(motions, list) else motions
    from twin.motion.checks import require_plausible_clips

    require_plausible_clips(clips)  # a plan that cannot be physical is refused, not scored
    task = G1TrackingTask(clips, num_envs=len(clips), robot=robot, gains=gains,
                          **task_settings, dr=False, random_start=False,
                          thresholds=TerminationThresholds(**RELAXED), num_threads=num_threads)
    lib = task.library
    n = task.num_envs
    task.fixed_clips = np.arange(n)
    first = np.zeros(n, dtype=np.int64)
    if starts is not None:
        if len(starts) != n:
            raise ValueError(f"starts: {len(starts)} start offsets for {n} clips; "
                             "expected one per clip")
        first = np.array([s.reference_step for s in starts], dtype=np.int64)
        if np.any((first < 0) | (first >= lib.clip_len - 1)):
            raise ValueError(f"starts: reference_step {first.tolist()}; expected 0 <= step < "
                             f"the clip's frames - 1 ({(lib.clip_len - 1).tolist()})")
        zero3 = np.zeros(3)
        task.fixed_start_noise = [StartNoise(np.zeros(len(task.qpos_idx)), zero3,
                                             np.array([0.0, 0.0, float(s.yaw_rad)]), zero3,
                                             zero3, phase_s=float(s.phase_s))
                                  for s in starts]
        task.fixed_start_steps = first
    task.reset()
    obs = task.observe()
    alive = np.ones(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    sums = {k: np.zeros(n) for k in ("local", "global", "joint")}
    frames = np.zeros(n, dtype=np.int64)
    drift = np.zeros(n)
    T = int(lib.clip_len.max())
    per_local = np.zeros((T, n))
    per_global = np.zeros((T, n))
    for step in range(T):
        action = np.zeros((n,) + task.action_space.shape) if policy is None else policy(obs)
        r = task.step(np.asarray(action))
        obs = r.obs
        f = lib.frame(task.clip, task.t)
        pos = task.backend.body_pos_w(task.body_ids)
        quat = task.backend.body_quat_wxyz(task.body_ids)
        ref_pos, ref_quat = lib.body_pos_w[f], lib.body_quat_wxyz[f]
        local_err = local_position_errors_m(pos, quat[:, 0], ref_pos, ref_quat[:, 0])
        joint_err = np.abs(task.backend.get_qpos()[:, task.qpos_idx] - lib.joint_pos[f])
        live = alive & ~r.terminated
        global_err = np.linalg.norm(pos - ref_pos, axis=-1).mean(axis=1)
        per_local[step], per_global[step] = local_err.mean(axis=1), global_err
        sums["local"] += np.where(live, local_err.mean(axis=1), 0)
        sums["global"] += np.where(live, global_err, 0)
        sums["joint"] += np.where(live, joint_err.mean(axis=1), 0)
        drift = np.where(live, np.linalg.norm(pos[:, 0, :2] - ref_pos[:, 0, :2], axis=1), drift)
        frames += live
        reason[alive & r.terminated] = r.info["termination"][alive & r.terminated]
        alive &= ~(r.terminated | r.truncated)
        if not alive.any():
            break
    task.close()
    out = []
    for i in range(n):
        k = max(int(frames[i]), 1)
        out.append(ClipResult(
            clip=lib.names[i], success=reason[i] == "", termination=str(reason[i]),
            frames_tracked=int(frames[i]), frames_total=int(lib.clip_len[i] - 1 - first[i]),
            mpjpe_local_mm=float(1000 * sums["local"][i] / k),
            mpjpe_global_mm=float(1000 * sums["global"][i] / k),
            joint_error_rad=float(sums["joint"][i] / k), root_drift_m=float(drift[i]),
            fps=float(lib.fps),
            local_err_m=per_local[:frames[i], i].copy(),
            global_err_m=per_global[:frames[i], i].copy()))
    return out


def noisy_policy(ctrl, noise_seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """``ctrl`` reading observations with seeded sensor noise on its actor terms:
    U(-h, h) per column, h = ``ROLLOUT_NOISE_SCALE`` x BeyondMimic's training range."""
    from twin.envs.tracking.observations import (
        BEYONDMIMIC_OBS_NOISE,
        add_obs_noise,
        obs_noise_half_ranges,
    )

    h = ROLLOUT_NOISE_SCALE * obs_noise_half_ranges(ctrl.metadata.obs_layout,
                                                    BEYONDMIMIC_OBS_NOISE)
    rng = np.random.default_rng(noise_seed)

    def act(obs: np.ndarray) -> np.ndarray:
        noisy = np.array(obs, dtype=np.float32, copy=True)
        add_obs_noise(noisy, h, rng)
        return ctrl(noisy)

    return act


def evaluate_controller(motions, ctrl, num_threads: int | None = None,
                        noise_seed: int | None = None,
                        starts: Sequence[StartOffset] | None = None) -> list[ClipResult]:
    """``evaluate_tracker`` with a ``TrackingController``, in the task its metadata names
    (``tracker_task_kwargs``) on its robot; ``noise_seed``: one seeded rollout with sensor
    noise (``noisy_policy``), None: noise-free."""
    from twin.envs.tracking.g1_tracking import tracker_task_kwargs

    policy = ctrl if noise_seed is None else noisy_policy(ctrl, noise_seed)
    return evaluate_tracker(motions, policy, robot=ctrl.metadata.robot,
                            num_threads=num_threads, starts=starts,
                            **tracker_task_kwargs(ctrl.metadata))


def aggregate(results: list[ClipResult]) -> dict[str, float]:
    def mean(vals) -> float:
        vals = [v for v in vals if v is not None and np.isfinite(v)]
        return float(np.mean(vals)) if vals else float("nan")

    return {
        "clips": len(results),
        "success_rate": float(np.mean([r.success for r in results])),
        "tracked_fraction": float(np.mean([r.tracked_fraction for r in results])),
        "tracked_s": float(np.mean([r.tracked_s for r in results])),
        "mpjpe_local_mm": mean(r.mpjpe_local_mm for r in results),
        "mpjpe_global_mm": mean(r.mpjpe_global_mm for r in results),
        "mpjpe_local_common_mm": mean(r.mpjpe_local_common_mm for r in results),
        "mpjpe_global_common_mm": mean(r.mpjpe_global_common_mm for r in results),
        "joint_error_rad": mean(r.joint_error_rad for r in results),
        "root_drift_m": mean(r.root_drift_m for r in results),
    }


def score_key(agg: dict) -> tuple[float, float, float]:
    """Ranking of aggregates: success, then tracked fraction, then (lower) common-window local
    MPJPE -- so a controller that falls sooner never ranks above one that falls later."""
    err = agg.get("mpjpe_local_common_mm", float("nan"))
    return (agg["success_rate"], agg["tracked_fraction"], -err if np.isfinite(err) else -1e9)


def fill_common_window(results: dict[str, list[ClipResult]]) -> None:
    """Per clip, score every controller's MPJPE on the frames all of them tracked."""
    names = list(results)
    for i in range(len(results[names[0]])):
        frames = min(results[n][i].frames_tracked for n in names)
        for n in names:
            r = results[n][i]
            r.mpjpe_local_common_mm, r.mpjpe_global_common_mm = r.window_mpjpe_mm(frames)
            r.common_window_s = max(frames, 1) / r.fps


def controller_source(name: str) -> str:
    from twin.envs.tracking.g1_tracking import REPLAY_CONTROLLERS

    return REPLAY_CONTROLLERS[name][1] if name in REPLAY_CONTROLLERS else name


def evaluate_named(motions, controller: str, num_threads: int | None = None,
                   noise_seed: int | None = None, starts: Sequence[StartOffset] | None = None
                   ) -> tuple[list[ClipResult], dict]:
    """Results of one controller by name: ``pd`` (stiff-PD replay), ``pd_holding`` (the same
    with the servos' sag fed forward), ``default`` or a tracker ``.npz``/``.onnx`` path; also
    returns what was run (gains, source). ``noise_seed``: a seeded noisy rollout of a
    tracker (``noisy_policy``; the replays read no observation); ``starts``: as in
    ``evaluate_tracker``."""
    from twin.envs.tracking.g1_tracking import REPLAY_CONTROLLERS

    if controller in REPLAY_CONTROLLERS:
        task = REPLAY_CONTROLLERS[controller][0]
        res = evaluate_tracker(motions, None, **task, num_threads=num_threads, starts=starts)
        return res, {"source": controller_source(controller), "gains": task["gains"]}
    from twin.controllers.tracking_policy import TrackingController

    ctrl = TrackingController.load(controller)
    res = evaluate_controller(motions, ctrl, num_threads=num_threads, noise_seed=noise_seed,
                              starts=starts)
    return res, {"source": ctrl.source, "gains": ctrl.metadata.gains}


def evaluate_controllers(motions, controllers: dict[str, str],
                         num_threads: int | None = None) -> dict:
    """Every named controller on the same clips, with common-window scores; JSON-ready."""
    from twin.envs.tracking.g1_tracking import load_motions

    clips = load_motions(motions) if not isinstance(motions, list) else motions
    results, meta = {}, {}
    for label, name in controllers.items():
        results[label], meta[label] = evaluate_named(clips, name, num_threads)
    fill_common_window(results)
    return {label: {**meta[label], "controller": controllers[label],
                    "aggregate": aggregate(results[label]),
                    "clips": [r.as_dict() for r in results[label]]}
            for label in controllers}


def clip_windows(motion, horizon_s: float, every_s: float, lead_frames: int = 0) -> list:
    """``motion`` cut into windows of ``horizon_s`` seconds starting every ``every_s``
    seconds (none when it is shorter than one window), each with the ``lead_frames``
    before its start in front (the first start leaves room for them)."""
    n, step = int(round(horizon_s * motion.fps)), max(1, int(round(every_s * motion.fps)))
    return [motion.frames(s - lead_frames, s + n)
            for s in range(lead_frames, motion.num_frames - n + 1, step)]


def window_time_up_s(motions, controller: str, horizon_s: float = 3.0, every_s: float = 0.5,
                     num_threads: int | None = None, noise_seed: int | None = None
                     ) -> dict[str, np.ndarray]:
    """Per clip, the seconds ``controller`` keeps the robot up in each of its windows
    (``clip_windows``), each played from its first frame (reference-state start, as training
    starts mid-clip) with no randomisation and the relaxed thresholds: balance through every
    part of a clip, where a frame-0 start scores only the part before its first fall.
    ``noise_seed``: as in ``evaluate_named``."""
    from twin.envs.tracking.g1_tracking import load_motions

    clips = load_motions(motions) if not isinstance(motions, list) else motions
    windows = [(clip, clip_windows(clip, horizon_s, every_s)) for clip in clips]
    runs = _runs_by_clip([(c, parts) for c, parts in windows if parts], controller,
                         num_threads, noise_seed)
    return {name: np.array([r.tracked_s for r in rs]) for name, rs in runs.items()}


def _runs_by_clip(clip_parts: list, controller: str, num_threads: int | None = None,
                  noise_seed: int | None = None, starts: Sequence[StartOffset] | None = None
                  ) -> dict[str, list[ClipResult]]:
    """Per clip of ``clip_parts`` ((clip, parts) pairs), ``controller``'s result on each
    part; ``starts``: each part's ``StartOffset``, parts in order (None: none offset)."""
    flat = iter(starts or ())
    start_of = [[next(flat, StartOffset()) for _ in parts] for _, parts in clip_parts]
    out = {}
    # one task per frame rate (one model compile, one batch) instead of one per clip
    for fps in dict.fromkeys(clip.fps for clip, _ in clip_parts):
        batch = [(clip, parts, st) for (clip, parts), st in zip(clip_parts, start_of)
                 if clip.fps == fps]
        results, _ = evaluate_named([p for _, parts, _ in batch for p in parts], controller,
                                    num_threads, noise_seed,
                                    [v for *_, st in batch for v in st] if starts else None)
        k = 0
        for clip, parts, _ in batch:
            out[clip.clip_name()] = results[k:k + len(parts)]
            k += len(parts)
    return {clip.clip_name(): out[clip.clip_name()] for clip, _ in clip_parts}


def heading_offset_runs(motions, controller: str, offsets_rad: Sequence[float],
                        horizon_s: float = 4.0, num_threads: int | None = None
                        ) -> dict[str, list[ClipResult]]:
    """Per clip, ``controller``'s result (one per offset of ``offsets_rad``) over the clip's
    first ``horizon_s`` seconds started turned that far off the reference's heading
    (noise-free, relaxed thresholds): how it turns onto a heading it lags, as on a plan
    turning faster than the robot can. A result's ``success`` says it stood to the horizon.
    Clips shorter than the horizon are left out."""
    from twin.envs.tracking.g1_tracking import load_motions

    clips = load_motions(motions) if not isinstance(motions, list) else motions
    keep = [(clip, int(round(horizon_s * clip.fps))) for clip in clips]
    clip_parts = [(clip, [clip.frames(0, k)] * len(offsets_rad))
                  for clip, k in keep if clip.num_frames >= k]
    return _runs_by_clip(clip_parts, controller, num_threads,
                         starts=[StartOffset(yaw_rad=float(y))
                                 for _ in clip_parts for y in offsets_rad])


def phase_offset_runs(motions, controller: str, offsets_s: Sequence[float],
                      horizon_s: float = 3.0, every_s: float = 1.0,
                      num_threads: int | None = None) -> dict[str, list[list[ClipResult]]]:
    """Per clip, per offset of ``offsets_s``, ``controller``'s results over ``horizon_s``
    from a start every ``every_s`` seconds, each with the robot's start state that far along
    the clip from the reference's (negative: the robot behind its plan; noise-free, relaxed
    thresholds): how it falls back into step with a plan it lags or leads, as when its gait
    drifts out of phase with the reference's. The first start leaves room for the largest
    offset; a result's ``success`` says it stood to the horizon. Clips too short for one
    start are left out."""
    from twin.envs.tracking.g1_tracking import load_motions

    if not offsets_s:
        raise ValueError("phase probe: offsets_s is empty; expected at least one offset (s)")
    clips = load_motions(motions) if not isinstance(motions, list) else motions
    clip_parts, starts = [], []
    for clip in clips:
        lead = int(np.ceil(max(abs(o) for o in offsets_s) * clip.fps))
        # horizon_s of control steps from the reference's start: one frame more than that
        windows = clip_windows(clip, horizon_s + 1 / clip.fps, every_s, lead)
        if not windows:
            continue
        clip_parts.append((clip, windows * len(offsets_s)))
        starts += [StartOffset(phase_s=float(o), reference_step=lead)
                   for o in offsets_s for _ in windows]
    runs = _runs_by_clip(clip_parts, controller, num_threads, starts=starts)
    k = len(offsets_s)
    return {name: [rs[j * len(rs) // k:(j + 1) * len(rs) // k] for j in range(k)]
            for name, rs in runs.items()}


def evaluate_with_baseline(motions, tracker: str = "default") -> dict:
    """Tracker and stiff-PD baseline results, as a JSON-ready dict."""
    return evaluate_controllers(motions, {"tracker": tracker, "pd_baseline": "pd"})


def _fmt_t(c: dict) -> str:
    t = c["first_termination_s"]
    return "-" if t is None else f"{t:.2f} s {c['termination']}"


def format_table(report: dict) -> str:
    rows = [f"{'controller':12s} {'clip':32s} {'ok':>3s} {'tracked':>7s} {'first termination':>22s} "
            f"{'local mm':>9s} {'common':>7s} {'global mm':>10s} {'joint rad':>9s} {'drift m':>7s}"]
    for name in report:
        for c in report[name]["clips"]:
            rows.append(f"{name:12s} {c['clip'][:32]:32s} {'yes' if c['success'] else 'no':>3s} "
                        f"{c['tracked_fraction']:7.2f} {_fmt_t(c)[:22]:>22s} "
                        f"{c['mpjpe_local_mm']:9.1f} {c['mpjpe_local_common_mm']:7.1f} "
                        f"{c['mpjpe_global_mm']:10.1f} {c['joint_error_rad']:9.3f} "
                        f"{c['root_drift_m']:7.2f}")
        a = report[name]["aggregate"]
        rows.append(f"{name:12s} {'ALL':32s} {a['success_rate']:3.2f} {a['tracked_fraction']:7.2f} "
                    f"{'':>22s} {a['mpjpe_local_mm']:9.1f} {a['mpjpe_local_common_mm']:7.1f} "
                    f"{a['mpjpe_global_mm']:10.1f} {a['joint_error_rad']:9.3f} "
                    f"{a['root_drift_m']:7.2f}")
    return "\n".join(rows)


def format_markdown(report: dict, title: str = "Tracker evaluation") -> str:
    """The report as Markdown: an aggregate table, then one row per clip and controller."""
    lines = [f"# {title}", "",
             "MPJPE over the tracked frames, and over the common window (the first frames every "
             "controller tracked, so a faster fall cannot score better). Root drift: the "
             "pelvis's horizontal distance from the reference's at the last tracked frame "
             "(no termination checks it).", "",
             "| controller | source | gains | success | tracked fraction | mean tracked s | "
             "local MPJPE mm | local MPJPE common mm | global MPJPE mm | global common mm | "
             "joint err rad | root drift m |", "|" + "---|" * 12]
    for name, r in report.items():
        a = r["aggregate"]
        lines.append(f"| {name} | {r['source']} | {r['gains']} | {a['success_rate']:.2f} | "
                     f"{a['tracked_fraction']:.3f} | {a['tracked_s']:.2f} | "
                     f"{a['mpjpe_local_mm']:.1f} | {a['mpjpe_local_common_mm']:.1f} | "
                     f"{a['mpjpe_global_mm']:.1f} | {a['mpjpe_global_common_mm']:.1f} | "
                     f"{a['joint_error_rad']:.3f} | {a['root_drift_m']:.2f} |")
    lines += ["", "| clip | controller | success | tracked fraction | first termination | "
              "local mm | local common mm | global mm | common window s | root drift m |",
              "|" + "---|" * 10]
    names = list(report)
    for i in range(len(report[names[0]]["clips"])):
        for name in names:
            c = report[name]["clips"][i]
            lines.append(f"| {c['clip']} | {name} | {'yes' if c['success'] else 'no'} | "
                         f"{c['tracked_fraction']:.3f} | {_fmt_t(c)} | "
                         f"{c['mpjpe_local_mm']:.1f} | {c['mpjpe_local_common_mm']:.1f} | "
                         f"{c['mpjpe_global_mm']:.1f} | {c['common_window_s']:.2f} | "
                         f"{c['root_drift_m']:.2f} |")
    return "\n".join(lines) + "\n"


def write_report(report: dict, out_dir: str | Path, title: str = "Tracker evaluation") -> Path:
    """``out_dir/report.json`` and ``out_dir/report.md``; returns the folder."""
    import json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("report.json", json.dumps(report, indent=2, default=float)),
                       ("report.md", format_markdown(report, title))):
        tmp = out / (name + ".part")
        tmp.write_text(text)
        tmp.replace(out / name)  # an interrupted write leaves no half report
    return out
