"""G1 actuation constants derived from motor physics, in one place.

The recipe BeyondMimic, mjlab, holosoma and SONIC share: each joint's armature is the rotor
inertia reflected through its two-stage planetary gearbox; a PD loop with natural frequency
``NATURAL_FREQ_HZ`` and damping ratio ``DAMPING_RATIO`` on that armature gives
``Kp = armature * w**2`` and ``Kd = 2 * zeta * armature * w``; the policy's action scale is
``0.25 * effort_limit / Kp`` rad per unit action.

These gains are soft on purpose: a learned policy supplies balance. With them and a constant
standing target the G1 falls within seconds, which is why ``twin.robots`` also offers the
``stiff`` profile (Menagerie's kp=500 position servos) for kinematic replay and tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NATURAL_FREQ_HZ = 10.0
DAMPING_RATIO = 2.0
ACTION_SCALE_EFFORT_FRACTION = 0.25


def reflected_inertia_two_stage_planetary(
    rotor_inertia_kgm2: tuple[float, float, float], gear_ratio: tuple[float, float, float]
) -> float:
    """Inertia seen at the output of a two-stage planetary gearbox, kg m^2.

    Stage inertias are reflected by the square of the gear ratio downstream of them.
    """
    if gear_ratio[0] != 1:
        raise ValueError(f"gear_ratio[0] is the rotor stage and must be 1, got {gear_ratio[0]}")
    i0, i1, i2 = rotor_inertia_kgm2
    _, g1, g2 = gear_ratio
    return i0 * (g1 * g2) ** 2 + i1 * g2**2 + i2


@dataclass(frozen=True)
class MotorType:
    """One Unitree motor model: reflected armature (kg m^2) and peak effort (N m)."""

    name: str
    armature_kgm2: float
    effort_limit_nm: float

    @property
    def natural_freq_rad_s(self) -> float:
        return 2.0 * math.pi * NATURAL_FREQ_HZ

    @property
    def kp(self) -> float:
        """Stiffness, N m / rad."""
        return self.armature_kgm2 * self.natural_freq_rad_s**2

    @property
    def kd(self) -> float:
        """Damping, N m s / rad."""
        return 2.0 * DAMPING_RATIO * self.armature_kgm2 * self.natural_freq_rad_s

    @property
    def action_scale_rad(self) -> float:
        return ACTION_SCALE_EFFORT_FRACTION * self.effort_limit_nm / self.kp


# Rotor inertias (kg m^2, per stage) and gear ratios of Unitree's G1 motors.
_ARMATURE_5020 = reflected_inertia_two_stage_planetary(
    (0.139e-4, 0.017e-4, 0.169e-4), (1.0, 1.0 + 46.0 / 18.0, 1.0 + 56.0 / 16.0)
)
_ARMATURE_7520_14 = reflected_inertia_two_stage_planetary(
    (0.489e-4, 0.098e-4, 0.533e-4), (1.0, 4.5, 1.0 + 48.0 / 22.0)
)
_ARMATURE_7520_22 = reflected_inertia_two_stage_planetary(
    (0.489e-4, 0.109e-4, 0.738e-4), (1.0, 4.5, 5.0)
)
_ARMATURE_4010 = reflected_inertia_two_stage_planetary((0.068e-4, 0.0, 0.0), (1.0, 5.0, 5.0))

MOTOR_5020 = MotorType("5020", _ARMATURE_5020, 25.0)
MOTOR_7520_14 = MotorType("7520-14", _ARMATURE_7520_14, 88.0)
MOTOR_7520_22 = MotorType("7520-22", _ARMATURE_7520_22, 139.0)
MOTOR_4010 = MotorType("4010", _ARMATURE_4010, 5.0)
# Ankle pitch/roll and waist roll/pitch are driven by two 5020s through a linkage.
MOTOR_DOUBLE_5020 = MotorType("2x5020", 2.0 * _ARMATURE_5020, 50.0)

MOTORS = {m.name: m for m in (MOTOR_5020, MOTOR_7520_14, MOTOR_7520_22, MOTOR_4010,
                              MOTOR_DOUBLE_5020)}


def g1_motor_for_joint(joint_name: str) -> MotorType:
    """The motor that drives a G1 body joint (29-DoF naming, e.g. ``left_knee_joint``)."""
    n = joint_name
    if n.endswith(("hip_pitch_joint", "hip_yaw_joint")) or n == "waist_yaw_joint":
        return MOTOR_7520_14
    if n.endswith(("hip_roll_joint", "knee_joint")):
        return MOTOR_7520_22
    if n.endswith(("ankle_pitch_joint", "ankle_roll_joint")) or n in (
        "waist_roll_joint",
        "waist_pitch_joint",
    ):
        return MOTOR_DOUBLE_5020
    if n.endswith(("wrist_pitch_joint", "wrist_yaw_joint")):
        return MOTOR_4010
    if "shoulder" in n or n.endswith(("elbow_joint", "wrist_roll_joint")):
        return MOTOR_5020
    raise KeyError(f"no G1 motor is known for joint {joint_name!r}")
