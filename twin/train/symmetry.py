"""Left-right symmetry for the tracker's PPO update: the mirror image of every rollout
sample joins its minibatch (rsl-rl's symmetry data augmentation, Mittal et al. 2024).

The G1, its tracking task and the training clips' distribution (``augment.mirror``) are
symmetric under reflection through the robot's sagittal plane, so a sample (s, a) with its
advantage and return has a mirror image (M s, M a) with the same advantage and return. The
maps here are signed permutations built from the observation layout's terms (each declares
how it mirrors: ``envs/tracking/observations.py``) and the robot model's joint axes
(``twin.motion.mirror``). Unlike rsl-rl, the mirrored sample's old log-probability is the
old policy's own, evaluated before the first gradient step, so the importance ratios and the
approximate KL stay exact when the policy is not (yet) symmetric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.controllers.tracking_policy import MirrorMaps
from twin.motion.mirror import REFLECT_Y, SignedPermutation, joint_mirror, mirror_names

_PSEUDOVECTOR = np.array([-1.0, 1.0, -1.0])
# R[..., :2] row-major (R00, R01, R10, R11, R20, R21); M R M flips entry (i, j) by s_i s_j
_ROT6D = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0])


def _bodies(names: Sequence[str], per_body: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    width = len(per_body)
    partner = mirror_names(tuple(names))
    source = (partner[:, None] * width + np.arange(width)).ravel()
    return source, np.tile(per_body, len(names))


def observation_mirror(layout: Sequence[tuple[str, int]], robot: str,
                       joint_names: Sequence[str], obs_key_bodies: Sequence[str],
                       key_bodies: Sequence[str]) -> SignedPermutation:
    """The mirror map of an observation with ``layout`` ((name, width) slices: the actor's,
    then the critic's), for ``robot``'s ``joint_names`` (the task's body joints, in order),
    the observed key bodies and all key bodies (the critic's)."""
    from twin.envs.tracking.observations import term_of

    joints = joint_mirror(robot, tuple(joint_names))
    # mirror kind -> (source, sign) within the term
    maps = {"vector": (np.arange(3), REFLECT_Y),
            "pseudovector": (np.arange(3), _PSEUDOVECTOR),
            "joints": (joints.source, joints.sign),
            "rot6d": (np.arange(6), _ROT6D),
            "obs_bodies_vector": _bodies(obs_key_bodies, REFLECT_Y),
            "bodies_vector": _bodies(key_bodies, REFLECT_Y),
            "bodies_rot6d": _bodies(key_bodies, _ROT6D)}
    sources, signs, start = [], [], 0
    for name, width in layout:
        kind = term_of(name).mirror
        if kind not in maps:
            raise ValueError(f"observation term {name}: mirror kind {kind!r} is not known")
        src, sgn = maps[kind]
        if len(src) != width:
            raise ValueError(f"observation term {name}: {width} wide; its mirror ({kind}) "
                             f"maps {len(src)} entries")
        sources.append(start + np.asarray(src))
        signs.append(np.asarray(sgn, dtype=np.float64))
        start += width
    return SignedPermutation(np.concatenate(sources), np.concatenate(signs))


def action_mirror(robot: str, joint_names: Sequence[str],
                  action_scale: Sequence[float]) -> SignedPermutation:
    """The mirror map of a joint-space action; partners must share their action scale (else
    a mirrored action would not be the mirrored joint command)."""
    jm = joint_mirror(robot, tuple(joint_names))
    scale = np.asarray(action_scale, dtype=np.float64)
    if not np.allclose(scale[jm.source], scale):
        raise ValueError("action_scale differs between left and right joints; the action "
                         "has no mirror image")
    return jm


@dataclass(frozen=True)
class TaskMirror:
    """The observation and action mirrors of one tracking task."""

    obs: SignedPermutation
    action: SignedPermutation

    @classmethod
    def of_task(cls, task) -> TaskMirror:
        """From a ``G1TrackingTask`` (its layouts, joints, key bodies and action scale)."""
        layout = tuple(task.obs_layout) + tuple(task.critic_layout)
        obs_bodies = [task.body_names[i] for i in task.obs_body_idx]
        return cls(observation_mirror(layout, task.robot.name, task.body_joint_names,
                                      obs_bodies, task.body_names),
                   action_mirror(task.robot.name, task.body_joint_names, task.action_scale))

    def normalized_obs(self, obs_n: np.ndarray, mean: np.ndarray, std: np.ndarray
                       ) -> np.ndarray:
        """The mirror image of observations normalised as ``(obs - mean) / std`` (SB3's
        VecNormalize), normalised the same way."""
        raw = obs_n * std + mean
        return (self.obs.apply(raw) - mean) / std


def mirror_maps(metadata) -> MirrorMaps:
    """The actor observation's and the action's mirror maps of a tracker (its
    ``TrackerMetadata``)."""
    from twin.envs.tracking.g1_tracking import G1_KEY_BODY_NAMES
    from twin.envs.tracking.observations import OBS_KEY_BODIES

    obs = observation_mirror(metadata.obs_layout, metadata.robot, metadata.joint_names,
                             OBS_KEY_BODIES, G1_KEY_BODY_NAMES)
    act = action_mirror(metadata.robot, metadata.joint_names, metadata.action_scale)
    return MirrorMaps(obs.source, obs.sign, act.source, act.sign)


def write_mirror_averaged(src: str | Path, dst: str | Path) -> Path:
    """Copy the tracker file ``src`` to ``dst`` with ``mirror_average`` on: the same network
    (and critic, for fine-tuning), its action averaged with its mirror image's."""
    from dataclasses import replace

    from twin.controllers.tracking_policy import TrackerMetadata
    from twin.train.export import write_tracker_arrays

    with np.load(src, allow_pickle=False) as z:
        arrays = dict(z)
    meta = TrackerMetadata.from_json(str(arrays["metadata"]), str(src))
    meta = replace(meta, mirror_average=True)
    arrays["metadata"] = np.array(meta.to_json())
    arrays.update(mirror_maps(meta).arrays())
    return write_tracker_arrays(dst, arrays)


def symmetric_statistics(mirror: SignedPermutation, mean: np.ndarray, var: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the observations pooled with their mirror images (what
    ``symmetric_policy.MirroredRunningMeanStd`` accumulates), from the statistics of the
    observations alone."""
    mean_m, var_m = mirror.apply(mean), var[mirror.source]
    pooled = 0.5 * (mean + mean_m)
    second = 0.5 * (var + mean ** 2 + var_m + mean_m ** 2)
    return pooled, np.maximum(second - pooled ** 2, 0.0)
