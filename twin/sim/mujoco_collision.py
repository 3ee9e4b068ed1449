"""Lighter collision models for training: which robot geoms may touch what.

Menagerie's G1 collides ~36 convex-mesh geoms with each other and the floor; most of that
work never changes a tracking episode (self-contacts are rare in reference motions and the
episode ends once the torso, hands or feet leave the reference). As in mjlab, training can
drop the contacts that do not matter:

- ``full``: the model as built (evaluation and ``twin validate`` always use this);
- ``no_self``: every robot geom still touches the world (floor, objects), never another
  robot geom;
- ``feet_floor``: only the foot geoms (those of ``foot_bodies``) collide, with the world.

The variant only changes ``geom_contype`` / ``geom_conaffinity`` of the robot's geoms in
the backend's model(s): masses, inertias, joints and actuators are the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

COLLISION_MODELS = ("full", "no_self", "feet_floor")
# Robot geoms get this bit as their type (and bit 0 as affinity) so that the world, whose
# geoms keep contype = conaffinity = 1, touches them and they do not touch each other:
# contact iff (type1 & aff2) or (type2 & aff1).
_ROBOT_ONLY_BIT = 2


def apply_collision_model(backend, variant: str, robot_root_body: str,
                          foot_bodies: Sequence[str]) -> int:
    """Restrict the robot's collisions in ``backend`` (a ``MujocoBackend``) to ``variant``;
    returns how many robot geoms still collide (-1 for ``full``: the model is left as is). Call before stepping: per-env model copies
    made later (domain randomisation) inherit the change."""
    if variant not in COLLISION_MODELS:
        raise ValueError(f"collision: {variant!r}; expected one of {COLLISION_MODELS}")
    if variant == "full":  # nothing to change (and no MuJoCo model needed: any backend)
        return -1
    m = backend.model
    root = int(backend.body_index([robot_root_body])[0])
    robot_bodies = np.flatnonzero(_in_subtree(m.body_parentid, root))
    robot_geoms = np.flatnonzero(np.isin(m.geom_bodyid, robot_bodies))
    colliding = robot_geoms[(m.geom_contype[robot_geoms] != 0)
                            | (m.geom_conaffinity[robot_geoms] != 0)]
    if variant == "feet_floor":
        feet = backend.body_index(list(foot_bodies))
        off = colliding[~np.isin(m.geom_bodyid[colliding], feet)]
        colliding = colliding[np.isin(m.geom_bodyid[colliding], feet)]
    else:
        off = colliding[:0]
    for model in {id(x): x for x in [m, *backend.models]}.values():
        model.geom_contype[colliding] = _ROBOT_ONLY_BIT
        model.geom_conaffinity[colliding] = 1
        model.geom_contype[off] = 0
        model.geom_conaffinity[off] = 0
    return len(colliding)


def _in_subtree(parent: np.ndarray, root: int) -> np.ndarray:
    inside = np.zeros(len(parent), dtype=bool)
    inside[root] = True
    for b in range(root + 1, len(parent)):  # MuJoCo orders bodies parents first
        inside[b] = inside[parent[b]]
    return inside
