"""Every Gymnasium id twin provides, registered in this one place.

Entry points are strings, so registering imports no simulator; ``gym.make`` imports the env
module on first use. ``vector_entry_point`` gives ``gym.make_vec(id, num_envs=N,
vectorization_mode="vector_entry_point")`` twin's batched, thread-stepped vector env.
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
}


def register_envs() -> None:
    """Register twin's ids with Gymnasium; calling it again is harmless."""
    for env_id, kwargs in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, **kwargs)
