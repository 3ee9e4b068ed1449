"""twin: a simulation digital twin for video-driven robot learning.

Importing twin registers its Gymnasium ids (``gym.make("twin/...")``); Gymnasium also finds
them through the ``gymnasium.envs`` entry point without an explicit import.
"""

__version__ = "0.1.0"

from twin.registration import register_envs as _register_envs

_register_envs()
