"""Record a validated G1 execution as a LeRobot episode (``twin validate ... record=DIR``).

The executed trajectory (``twin.validate.execute.ExecutionLog``: the physics-filtered qpos
of every control step) is replayed kinematically into the scene, and each step becomes a
frame: camera images, extrinsics and visual action prompts (the G1 body skeleton and, on
``g1_dex3``, the Dex3-1 hand keypoints in OpenPose layout) for the stored state,
``observation.state`` = the executed joint angles, ``action`` = the joint position targets
the controller commanded next (body joints, then hand joints), so a motion estimated from a
(generated) video becomes humanoid training data. Frame t is state t and the target of step
t + 1 (LeRobot's convention: the observation, then what was done). The episode's success is
a "go" verdict; its columns hold the verdict, the controller and the motion. Several
validations can append to one dataset (same robot, scene cameras and size).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from gymnasium import spaces


def record_execution(log: Any, root: str | Path, *, scene: str, robot: str, motion_name: str,
                     controller: str, verdict: str, size: tuple[int, int] = (256, 256),
                     render_profile: str = "fast") -> int:
    """Append the execution in ``log`` to the dataset at ``root``; returns its episode index."""
    import json

    from twin.record import LeRobotV3Writer
    from twin.record.card import write_source_card
    from twin.record.engine import recording_features
    from twin.record.prompts.observation import PROMPTS_META_PATH, _Observer
    from twin.scene.config import load_scene_config
    from twin.sim import make_backend

    qpos = np.asarray(log.qpos, np.float64)
    if qpos.shape[0] < 2:
        raise ValueError(f"record: the execution has {qpos.shape[0]} control steps; need >= 2")
    backend = make_backend(load_scene_config(scene, [f"robot={robot}"]), num_envs=1,
                           render_profile=render_profile)
    if backend.get_qpos([0]).shape[1] != qpos.shape[1]:
        backend.close()
        raise ValueError(f"record: executed qpos has {qpos.shape[1]} coordinates, the {robot} "
                         f"scene {scene!r} has {backend.get_qpos([0]).shape[1]}")
    joints = tuple(log.joint_names) + tuple(log.hand_joint_names)
    state_idx = backend.joint_qpos_index(joints)
    targets = np.asarray(log.joint_target, np.float64)
    if log.hand_targets is not None and len(log.hand_joint_names):
        targets = np.concatenate([targets, np.asarray(log.hand_targets, np.float64)], axis=1)
    state_space = spaces.Box(-np.inf, np.inf, (len(joints),), np.float32)
    action_space = spaces.Box(-np.inf, np.inf, (targets.shape[1],), np.float32)
    shim = SimpleNamespace(backend=backend, observation_space=state_space, state_names=joints,
                           joint_names=joints[:targets.shape[1]])
    observer = _Observer(shim, None, size[0], size[1], True, None, render_profile)
    features, build = recording_features(observer, action_space, shim)
    writer = LeRobotV3Writer(root, round(log.fps), features, robot, resume=True)
    try:
        nv = backend.get_qvel([0]).shape[1]
        n = qpos.shape[0] - 1
        success = verdict == "go"
        for t in range(n):
            backend.set_state(qpos[t][None], np.zeros((1, nv)), [0])
            seen = observer.observe(qpos[t, state_idx].astype(np.float32), 0)
            last = t == n - 1
            writer.add_frame(build(seen, targets[t + 1].astype(np.float32), 0.0, last,
                                   success and last))
        termination = ("nan" if log.diverged else "fall" if log.fall_step is not None
                       else "end_of_motion")
        saved = writer.save_episode(f"execute the motion {motion_name}", success, metadata={
            "seed": 0, "attempt": writer.num_episodes, "termination": termination,
            "policy": controller, "motion": motion_name})
        (Path(root) / PROMPTS_META_PATH).write_text(json.dumps(observer.metadata(), indent=2))
        writer.finalize()
        write_source_card(root, observer, f"`twin validate` on {scene}",
                          "`twin validate ... record=`, `twin.record.validation`", [
                              (f"- scene `{scene}`, robot `{robot}`; one episode per validated "
                              "motion (`motion` column), executed by `policy` (the controller)"),
                              ("- state: executed joint angles; action: the joint targets "
                              "commanded at the next control step; success: a go verdict"),
                          ])
        return saved.episode_index
    finally:
        writer.finalize()
        observer.close()
        backend.close()
