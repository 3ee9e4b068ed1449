"""Every Gymnasium id twin provides, registered in this one place.

Entry points are strings, so registering imports no simulator; ``gym.make`` imports the env
module on first use. ``vector_entry_point`` gives ``gym.make_vec(id, num_envs=N,
vectorization_mode="vector_entry_point")`` twin's batched, thread-stepped vector env.

``import twin`` calls ``register_envs``; ``gym.make("twin:twin/<id>")`` does the import itself,
the one import-free form Gymnasium 1.x honours (it no longer loads ``gymnasium.envs`` entry
points). Ids without ``max_episode_steps`` (motion tracking) end at the clip's end.
"""

from __future__ import annotations

import gymnasium as gym

ENV_IDS: dict[str, dict] = {
    "twin/G1Stand-v0": dict(
        entry_point="twin.envs.g1_stand:G1StandEnv",
        vector_entry_point="twin.envs.g1_stand:G1StandVectorEnv",
        max_episode_steps=1000,
    ),
    "twin/PandaReach-v0": dict(
        entry_point="twin.envs.panda_reach:PandaReachEnv",
        vector_entry_point="twin.envs.panda_reach:PandaReachVectorEnv",
        max_episode_steps=200,
    ),
    "twin/G1MotionTracking-v0": dict(
        entry_point="twin.envs.tracking.g1_tracking:G1MotionTrackingEnv",
        vector_entry_point="twin.envs.tracking.g1_tracking:G1MotionTrackingVectorEnv",
        kwargs={"robot": "g1"},
    ),
    "twin/G1Dex3MotionTracking-v0": dict(
        entry_point="twin.envs.tracking.g1_tracking:G1MotionTrackingEnv",
        vector_entry_point="twin.envs.tracking.g1_tracking:G1MotionTrackingVectorEnv",
        kwargs={"robot": "g1_dex3"},
    ),
    "twin/PandaPickCube-v0": dict(
        entry_point="twin.envs.manipulation.panda_tasks:PandaPickCubeEnv",
        vector_entry_point="twin.envs.manipulation.panda_tasks:PandaPickCubeVectorEnv",
        max_episode_steps=100,
    ),
    "twin/PandaPlaceOnPlate-v0": dict(
        entry_point="twin.envs.manipulation.panda_tasks:PandaPlaceOnPlateEnv",
        vector_entry_point="twin.envs.manipulation.panda_tasks:PandaPlaceOnPlateVectorEnv",
        max_episode_steps=160,
    ),
    "twin/PandaStackCube-v0": dict(
        entry_point="twin.envs.manipulation.panda_tasks:PandaStackCubeEnv",
        vector_entry_point="twin.envs.manipulation.panda_tasks:PandaStackCubeVectorEnv",
        max_episode_steps=160,
    ),
    "twin/PandaMoveNear-v0": dict(
        entry_point="twin.envs.manipulation.panda_tasks:PandaMoveNearEnv",
        vector_entry_point="twin.envs.manipulation.panda_tasks:PandaMoveNearVectorEnv",
        max_episode_steps=160,
    ),
    "twin/PandaOpenDrawer-v0": dict(
        entry_point="twin.envs.manipulation.panda_drawer:PandaOpenDrawerEnv",
        vector_entry_point="twin.envs.manipulation.panda_drawer:PandaOpenDrawerVectorEnv",
        max_episode_steps=100,
    ),
    "twin/PandaCloseDrawer-v0": dict(
        entry_point="twin.envs.manipulation.panda_drawer:PandaCloseDrawerEnv",
        vector_entry_point="twin.envs.manipulation.panda_drawer:PandaCloseDrawerVectorEnv",
        max_episode_steps=100,
    ),
    "twin/G1PickCube-v0": dict(
        entry_point="twin.envs.manipulation.g1_tasks:G1PickCubeEnv",
        vector_entry_point="twin.envs.manipulation.g1_tasks:G1PickCubeVectorEnv",
        max_episode_steps=100,
    ),
    "twin/G1PlaceOnPlate-v0": dict(
        entry_point="twin.envs.manipulation.g1_tasks:G1PlaceOnPlateEnv",
        vector_entry_point="twin.envs.manipulation.g1_tasks:G1PlaceOnPlateVectorEnv",
        max_episode_steps=160,
    ),
}


# Ids that cannot be made without arguments, and which ones (e.g. the motions to track).
REQUIRED_KWARGS: dict[str, tuple[str, ...]] = {
    "twin/G1MotionTracking-v0": ("motions",),
    "twin/G1Dex3MotionTracking-v0": ("motions",),
}


def register_envs() -> None:
    """Register twin's ids with Gymnasium; calling it again is harmless."""
    for env_id, kwargs in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, **kwargs)


def make_with_user_kwargs(env_id: str, user_kwargs: dict, **kwargs) -> gym.Env:
    """``gym.make(env_id, **kwargs)`` where ``kwargs`` include keyword arguments a user
    typed (``user_kwargs``, for the message): an env that refuses them is one ``InputError``
    line naming them, not a traceback."""
    try:
        return gym.make(env_id, **kwargs)
    except (TypeError, ValueError) as exc:
        if not user_kwargs:
            raise
        from twin.errors import InputError

        why = str(exc).splitlines()[0].split(" was raised from the environment creator")[0]
        raise InputError(f"env_kwargs={user_kwargs}: refused by {env_id} "
                         f"({type(exc).__name__}: {why})") from exc
