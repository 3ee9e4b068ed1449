"""Backends under test: every test in tests/backends that takes ``g1``/``panda`` runs once per
backend. Newton is skipped, with the reason, where its packages are not installed."""

from __future__ import annotations

import importlib.util

import pytest

BACKENDS = ("mujoco", "newton")


def _skip_reason(name: str) -> str | None:
    if name == "newton" and any(importlib.util.find_spec(p) is None for p in ("newton", "warp")):
        return ("newton not installed (pip install newton warp-lang mujoco-warp==4.0.0 "
                "trimesh): the Newton backend is optional")
    return None


def _build(request, scene: str, overrides: list[str], num_envs: int):
    name = request.param
    reason = _skip_reason(name)
    if reason:
        pytest.skip(reason)
    from twin.sim import make_backend

    backend = make_backend(scene, num_envs=num_envs, backend=name, overrides=overrides,
                           num_threads=1)
    yield backend
    backend.close()


@pytest.fixture(scope="session", params=BACKENDS)
def g1(request):
    """The G1 standing scene (floor, 'front' camera), two environments."""
    yield from _build(request, "empty", ["robot=g1", "gains=tracking"], 2)


@pytest.fixture(scope="session", params=BACKENDS)
def panda(request):
    """The Panda on a table with a calibrated camera (OpenCV K), one environment."""
    yield from _build(request, "panda_table", [], 1)
