"""Procedural G1 reference motions for the tracking library: footstep-planned walking
(``footsteps`` -> ``swing`` ZMP and foot references -> ``lipm`` preview control -> ``ik``
whole-body IK, assembled by ``walking``), standing motions with planted feet
(``standing``), physical-consistency measures (``checks``) and the library catalog
(``library``). Every generator returns a 50 Hz ``RobotMotion`` whose ``source`` names the
generator and its parameters.
"""

from twin.motion.procedural.checks import PhysicalReport, physical_report
from twin.motion.procedural.footsteps import WalkCommand, gait_timing, plan_footsteps
from twin.motion.procedural.lipm import preview_gains, track_zmp
from twin.motion.procedural.standing import STAND_SCRIPTS, generate_standing
from twin.motion.procedural.walking import WalkParams, generate_walk

__all__ = [
           "STAND_SCRIPTS",
           "PhysicalReport",
           "WalkCommand",
           "WalkParams",
           "gait_timing",
           "generate_standing",
           "generate_walk",
           "physical_report",
           "plan_footsteps",
           "preview_gains",
           "track_zmp",
]
