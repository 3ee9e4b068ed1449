"""Shared fixtures for the manipulation tests: tasks without rendering unless a test asks."""

import twin  # noqa: F401  (MUJOCO_GL before mujoco)

PANDA_IDS = ["twin/PandaPickCube-v0", "twin/PandaPlaceOnPlate-v0", "twin/PandaStackCube-v0",
             "twin/PandaMoveNear-v0", "twin/PandaOpenDrawer-v0", "twin/PandaCloseDrawer-v0"]
G1_IDS = ["twin/G1PickCube-v0", "twin/G1PlaceOnPlate-v0"]
