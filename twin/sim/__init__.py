"""Simulator backends behind one interface (``twin.sim.backend.SimBackend``).

Only ``twin/sim/mujoco_*`` modules import mujoco. ``make_backend`` builds a backend for a
scene; the MuJoCo one is the default, Isaac Sim is the second implementation.
"""

from twin.sim.gl import configure_gl

configure_gl()

from twin.sim.backend import WORLD_BODY, Contact, RootState, SimBackend


def make_backend(scene, num_envs: int = 1, backend: str = "mujoco", **kwargs) -> SimBackend:
    """A backend for ``scene`` (a SceneConfig, a bundled scene name or a YAML path)."""
    if backend == "mujoco":
        from twin.sim.mujoco_backend import MujocoBackend

        return MujocoBackend.from_scene(scene, num_envs=num_envs, **kwargs)
    if backend == "isaac":
        raise NotImplementedError(
            "the Isaac Sim backend is not implemented yet; it needs Python 3.12, the isaacsim "
            "packages and an RTX GPU, and will implement twin.sim.backend.SimBackend")
    raise ValueError(f"unknown backend {backend!r}; expected 'mujoco' or 'isaac'")


__all__ = ["WORLD_BODY", "Contact", "RootState", "SimBackend", "make_backend"]
