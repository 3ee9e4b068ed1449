"""A ``Policy`` from any Python callable ``fn(obs) -> (K, D) array | {"actions": ...}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from twin.policy.base import Policy


class CallablePolicy(Policy):
    def __init__(self, fn: Callable[[dict], Any], reset: Callable[[], None] | None = None,
                 metadata: dict | None = None):
        self.fn = fn
        self._reset = reset
        self.metadata = dict(metadata or {})

    def infer(self, obs: dict) -> dict:
        out = self.fn(obs)
        if isinstance(out, dict):
            return out
        return {"actions": np.asarray(out)}

    def reset(self) -> None:
        if self._reset is not None:
            self._reset()
