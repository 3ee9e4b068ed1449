"""Shared fixtures for the manipulation tests: tasks without rendering unless a test asks."""

import twin  # noqa: F401  (MUJOCO_GL before mujoco)

PANDA_IDS = ["twin/PandaPickCube-v0", "twin/PandaPlaceOnPlate-v0", "twin/PandaStackCube-v0",
             "twin/PandaMoveNear-v0"]
