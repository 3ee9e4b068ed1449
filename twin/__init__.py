"""twin: a simulation digital twin for video-driven robot learning.

Importing twin registers its Gymnasium ids (``gym.make("twin/...")``). Without that import,
``gym.make("twin:twin/G1Stand-v0")`` imports twin itself (Gymnasium 1.x loads no
``gymnasium.envs`` entry points, so twin declares none).
"""

__version__ = "0.1.0"

from twin.sim.gl import configure_gl as _configure_gl

_configure_gl()  # before anything imports mujoco: MUJOCO_GL is read once, at import

from twin.registration import register_envs as _register_envs

_register_envs()
