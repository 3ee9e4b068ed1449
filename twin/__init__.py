"""twin: a simulation digital twin for video-driven robot learning.

Importing twin registers its Gymnasium ids (``gym.make("twin/...")``); Gymnasium also finds
them through the ``gymnasium.envs`` entry point without an explicit import.
"""

__version__ = "0.1.0"

from twin.sim.gl import configure_gl as _configure_gl

_configure_gl()  # before anything imports mujoco: MUJOCO_GL is read once, at import

from twin.registration import register_envs as _register_envs

_register_envs()
