"""Retargeting ``HumanMotion`` onto robots: the G1 by mink differential IK, hand states
onto Dex3-1 presets, and robot FK that fills ``RobotMotion`` body tracks.

``retarget_to_g1(human, RetargetConfig())`` -> ``RetargetResult`` (motion + residuals).
Modules here import ``mujoco`` (mink needs an ``MjModel``), an accepted exception to the
rule that only ``twin/sim`` imports the simulator.
"""

from twin.retarget.config import G1_HEIGHT_M, G1_LINK_TARGETS, LinkTarget, RetargetConfig
from twin.retarget.g1_mink import RetargetResult, retarget_to_g1

__all__ = ["G1_HEIGHT_M", "G1_LINK_TARGETS", "LinkTarget", "RetargetConfig", "RetargetResult",
           "retarget_to_g1"]
