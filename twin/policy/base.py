"""The one-method policy interface evaluation knows (after openpi-client's ``BasePolicy``).

``infer(obs)`` takes one observation dict (as a twin env returns it: ``instruction``,
proprioception, optional ``images``) and returns ``{"actions": (K, D) float array, ...}``;
an optional ``"video"`` holds predicted frames (T, H, W, 3) uint8 for the
imagination-vs-execution metric. ``reset()`` is called at the start of every episode.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class PolicyError(RuntimeError):
    """The policy returned something evaluation cannot use (a policy failure)."""


class Policy(ABC):
    metadata: dict[str, Any] = {}

    @abstractmethod
    def infer(self, obs: dict) -> dict:
        """One observation in, ``{"actions": (K, D), optional "video": frames}`` out."""

    def reset(self) -> None:
        """Start of an episode (stateful policies clear their state)."""

    def close(self) -> None:
        """Release connections."""


def validate_policy_output(out: Any, action_dim: int | None = None) -> dict:
    """Check a policy result: a dict with a finite 2-D ``actions`` array (a 1-D action is
    promoted to a chunk of one). Raises ``PolicyError`` naming what is wrong."""
    if not isinstance(out, dict) or "actions" not in out:
        raise PolicyError(f"policy output must be a dict with 'actions', got "
                          f"{type(out).__name__}{' keys ' + str(list(out)) if isinstance(out, dict) else ''}")
    a = np.asarray(out["actions"])
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise PolicyError(f"policy actions: expected a numeric dtype, got {a.dtype}")
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or a.shape[0] < 1:
        raise PolicyError(f"policy actions: expected shape (K, D), got {a.shape}")
    if action_dim is not None and a.shape[1] != action_dim:
        raise PolicyError(f"policy actions: expected D = {action_dim}, got shape {a.shape}")
    out = dict(out)
    out["actions"] = a.astype(np.float64)
    if "video" in out and out["video"] is not None:
        v = np.asarray(out["video"])
        if v.ndim != 4 or v.shape[-1] != 3:
            raise PolicyError(f"policy video: expected (T, H, W, 3) frames, got {v.shape}")
        out["video"] = v
    return out
