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
The no-learning baseline replays the reference joint angles through the ``stiff`` PD servos.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from twin.rotations import quat_apply_inverse, quat_from_yaw, yaw_from_quat

RELAXED = dict(anchor_height_m=0.25, tilt=1.0, ee_height_m=0.25)


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


def _local(pos: np.ndarray, quat_root: np.ndarray) -> np.ndarray:
    """(N, B, 3) positions relative to body 0, in body 0's yaw frame."""
    rel = pos - pos[:, :1]
    yaw_q = quat_from_yaw(yaw_from_quat(quat_root))
    return quat_apply_inverse(np.repeat(yaw_q[:, None], pos.shape[1], 1), rel)


def evaluate_tracker(motions, policy: Callable[[np.ndarray], np.ndarray] | None,
                     gains: str = "tracking", action_mode: str = "reference_residual",
                     robot: str = "g1", num_threads: int | None = None) -> list[ClipResult]:
    """Play every clip once with ``policy`` (obs -> action; None = zero action)."""
    from twin.envs.tracking.g1_tracking import G1TrackingTask, TerminationThresholds, load_motions

    clips = load_motions(motions) if not isinstance(motions, list) else motions
    task = G1TrackingTask(clips, num_envs=len(clips), robot=robot, gains=gains,
                          action_mode=action_mode, dr=False, random_start=False,
                          thresholds=TerminationThresholds(**RELAXED), num_threads=num_threads)
    lib = task.library
    n = task.num_envs
    task.fixed_clips = np.arange(n)
    task.reset()
    obs = task.observe()
    alive = np.ones(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    sums = {k: np.zeros(n) for k in ("local", "global", "joint")}
    frames = np.zeros(n, dtype=np.int64)
    drift = np.zeros(n)
    for _ in range(int(lib.clip_len.max())):
        action = np.zeros((n,) + task.action_space.shape) if policy is None else policy(obs)
        r = task.step(np.asarray(action))
        obs = r.obs
        f = lib.frame(task.clip, task.t)
        pos = task.backend.body_pos_w(task.body_ids)
        quat = task.backend.body_quat_wxyz(task.body_ids)
        ref_pos, ref_quat = lib.body_pos_w[f], lib.body_quat_wxyz[f]
        local_err = np.linalg.norm(_local(pos, quat[:, 0]) - _local(ref_pos, ref_quat[:, 0]), axis=-1)
        joint_err = np.abs(task.backend.get_qpos()[:, task.qpos_idx] - lib.joint_pos[f])
        live = alive & ~r.terminated
        sums["local"] += np.where(live, local_err.mean(axis=1), 0)
        sums["global"] += np.where(live, np.linalg.norm(pos - ref_pos, axis=-1).mean(axis=1), 0)
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
            frames_tracked=int(frames[i]), frames_total=int(lib.clip_len[i] - 1),
            mpjpe_local_mm=float(1000 * sums["local"][i] / k),
            mpjpe_global_mm=float(1000 * sums["global"][i] / k),
            joint_error_rad=float(sums["joint"][i] / k), root_drift_m=float(drift[i])))
    return out


def evaluate_controller(motions, ctrl, num_threads: int | None = None) -> list[ClipResult]:
    """``evaluate_tracker`` with a ``TrackingController``, under the gain profile, action
    mode and robot its metadata names."""
    m = ctrl.metadata
    return evaluate_tracker(motions, ctrl, gains=m.gains, action_mode=m.action_mode,
                            robot=m.robot, num_threads=num_threads)


def aggregate(results: list[ClipResult]) -> dict[str, float]:
    return {
        "clips": len(results),
        "success_rate": float(np.mean([r.success for r in results])),
        "mpjpe_local_mm": float(np.mean([r.mpjpe_local_mm for r in results])),
        "mpjpe_global_mm": float(np.mean([r.mpjpe_global_mm for r in results])),
        "joint_error_rad": float(np.mean([r.joint_error_rad for r in results])),
        "root_drift_m": float(np.mean([r.root_drift_m for r in results])),
    }


def evaluate_with_baseline(motions, tracker: str = "default") -> dict:
    """Tracker and stiff-PD baseline results, as a JSON-ready dict."""
    from twin.controllers.tracking_policy import TrackingController

    clips = motions
    ctrl = TrackingController.load(tracker)
    res = evaluate_controller(clips, ctrl)
    base = evaluate_tracker(clips, None, gains="stiff", action_mode="reference_residual",
                            robot=ctrl.metadata.robot)
    return {"tracker": {"source": ctrl.source, "aggregate": aggregate(res),
                        "clips": [asdict(r) for r in res]},
            "pd_baseline": {"gains": "stiff", "aggregate": aggregate(base),
                            "clips": [asdict(r) for r in base]}}


def format_table(report: dict) -> str:
    rows = [f"{'controller':12s} {'clip':24s} {'ok':>3s} {'local mm':>9s} {'global mm':>10s} "
            f"{'joint rad':>9s} {'drift m':>8s}"]
    for name in ("tracker", "pd_baseline"):
        for c in report[name]["clips"]:
            rows.append(f"{name:12s} {c['clip'][:24]:24s} {'yes' if c['success'] else 'no':>3s} "
                        f"{c['mpjpe_local_mm']:9.1f} {c['mpjpe_global_mm']:10.1f} "
                        f"{c['joint_error_rad']:9.3f} {c['root_drift_m']:8.3f}")
        a = report[name]["aggregate"]
        rows.append(f"{name:12s} {'ALL':24s} {a['success_rate']:3.2f} {a['mpjpe_local_mm']:9.1f} "
                    f"{a['mpjpe_global_mm']:10.1f} {a['joint_error_rad']:9.3f} "
                    f"{a['root_drift_m']:8.3f}")
    return "\n".join(rows)
