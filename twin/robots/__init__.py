"""Robot registry: ``twin.robots.get("g1")`` -> ``RobotSpec``; ``names()`` lists them.

Specs are data (files, names, default pose, gains); ``twin.sim`` builds models from them.
"""

from __future__ import annotations

from collections.abc import Callable

from twin.robots.g1 import g1_dex3_spec, g1_spec, g1_upper_spec
from twin.robots.panda import panda_2f85_spec, panda_spec
from twin.robots.spec import GainProfile, RobotSpec

_REGISTRY: dict[str, Callable[[], RobotSpec]] = {
    "g1": g1_spec,
    "g1_dex3": g1_dex3_spec,
    "g1_upper": g1_upper_spec,
    "g1_upper_waist": lambda: g1_upper_spec(lock_waist=False),
    "panda": panda_spec,
    "panda_2f85": panda_2f85_spec,
}


class UnknownRobotError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; keep it one readable line
        return str(self.args[0])


def names() -> list[str]:
    return list(_REGISTRY)


def get(name: str) -> RobotSpec:
    """The spec of a registered robot; unknown names list the accepted ones."""
    if name not in _REGISTRY:
        raise UnknownRobotError(f"unknown robot {name!r}; expected one of {names()}")
    return _REGISTRY[name]()


__all__ = ["GainProfile", "RobotSpec", "UnknownRobotError", "get", "names"]
