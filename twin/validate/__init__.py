"""Validate a plan in simulation before hardware: ``twin validate``.

A video-derived motion (any human-motion format twin reads, or a ``RobotMotion``) is
retargeted to the G1 when needed, executed by a tracking controller in a scene, and reported
on: verdict with reasons, fall time, tracking errors over time, joint-limit margins, torque
saturation, collisions, foot slip, task predicates, and the executed (physics-filtered) joint
trajectory to send to the robot.
"""

from twin.validate.config import ValidateConfig
from twin.validate.run import validate

__all__ = ["ValidateConfig", "validate"]
