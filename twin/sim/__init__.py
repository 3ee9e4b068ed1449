"""Simulator backends behind one interface (``twin.sim.backend.SimBackend``).

Only ``twin/sim/mujoco_*`` modules import mujoco and only ``twin/sim/newton_*`` imports
newton/warp (``tests/backends/test_import_boundary.py``). ``make_backend`` builds a backend
for a scene: ``"mujoco"`` (default) or ``"newton"`` (NVIDIA Newton, ``pip install newton
warp-lang mujoco-warp trimesh``). Isaac Sim itself does not run on our machines; scenes
reach it as OpenUSD (``twin export usd``).
"""

from twin.sim.gl import configure_gl

configure_gl()

from twin.sim.backend import WORLD_BODY, Contact, RootState, SimBackend


def make_backend(scene, num_envs: int = 1, backend: str = "mujoco", **kwargs) -> SimBackend:
    """A backend for ``scene`` (a SceneConfig, a bundled scene name or a YAML path)."""
    if backend == "mujoco":
        from twin.sim.mujoco_backend import MujocoBackend

        return MujocoBackend.from_scene(scene, num_envs=num_envs, **kwargs)
    if backend == "newton":
        try:
            from twin.sim.newton_backend import NewtonBackend
        except ImportError as exc:
            raise ImportError(f"backend 'newton' needs the newton packages ({exc}); install "
                              "them with: pip install newton warp-lang mujoco-warp==4.0.0 "
                              "trimesh") from exc
        return NewtonBackend.from_scene(scene, num_envs=num_envs, **kwargs)
    if backend == "isaac":
        raise NotImplementedError(
            "there is no Isaac Sim backend: Isaac Sim needs Python 3.12 and an RTX GPU; use "
            "backend='newton' (Isaac Lab 3's physics) or open `twin export usd` output in Isaac")
    raise ValueError(f"unknown backend {backend!r}; expected 'mujoco' or 'newton'")


__all__ = ["WORLD_BODY", "Contact", "RootState", "SimBackend", "make_backend"]
