"""Shared test setup: import twin first so MUJOCO_GL is set before mujoco loads."""

from pathlib import Path

import pytest

import twin  # noqa: F401


@pytest.fixture(scope="session")
def residual_tracker() -> Path:
    """A frozen trained tracker for the fine-tuning and distillation mechanics tests: the
    16.6M env-step mirror-averaged residual tracker shipped until Dec 2026 (518-d observation,
    stiff gains). The shipped tracker changes as the campaign goes on; this one does not."""
    return Path(__file__).resolve().parent / "fixtures" / "residual_tracker_16m.npz"
