"""Shared test setup: import twin first so MUJOCO_GL is set before mujoco loads."""

import twin  # noqa: F401
