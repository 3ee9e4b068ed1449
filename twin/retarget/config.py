"""Retargeting settings (schema) and the G1 presets (values): which human joint drives
which robot link, with which costs, and the joint velocity limits.

Costs are relative weights in mink's least-squares objective: position costs per metre,
orientation costs per radian. The pelvis and the ankles carry the largest position costs:
the pelvis because the human's path (root drift) is what navigation needs most, the ankles
because a foot the human plants must stay on the floor. With the ankles at 0.4x the pelvis,
a deep bend the G1 cannot copy exactly (OMOMO ``sub3_largebox_003``: torso pitched 0.9 rad
over an ankle at its dorsiflexion limit) kept the pelvis target and lifted both feet 6-7 cm
off the floor for 0.5 s while the human's stayed planted; weighted as the pelvis (as GMR
weights feet and pelvis), the feet stay down and the pelvis gives 5 mm (p95 23 -> 28 mm).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Unitree G1 overall height, m (datasheet: 1320 mm standing).
G1_HEIGHT_M = 1.32

# Joint speed limits by motor model, rad/s (Unitree g1_29dof URDF <limit velocity>).
G1_MOTOR_VELOCITY_LIMIT_RAD_S: dict[str, float] = {
    "7520-14": 32.0, "7520-22": 20.0, "5020": 37.0, "2x5020": 37.0, "4010": 22.0,
}


@dataclass(frozen=True)
class LinkTarget:
    """One mink ``FrameTask``: robot ``link`` follows human joint ``position_from`` (scaled)
    and the derived human frame ``orientation_from`` (``twin.retarget.human_frames``)."""

    link: str
    position_from: str | None
    orientation_from: str | None
    position_cost: float
    orientation_cost: float


G1_LINK_TARGETS: tuple[LinkTarget, ...] = (
    LinkTarget("pelvis", "pelvis", "pelvis", 10.0, 5.0),
    LinkTarget("torso_link", None, "torso", 0.0, 3.0),
    LinkTarget("left_knee_link", "left_knee", None, 1.0, 0.0),
    LinkTarget("right_knee_link", "right_knee", None, 1.0, 0.0),
    LinkTarget("left_ankle_roll_link", "left_ankle", "left_foot", 10.0, 1.0),
    LinkTarget("right_ankle_roll_link", "right_ankle", "right_foot", 10.0, 1.0),
    LinkTarget("left_elbow_link", "left_elbow", None, 1.0, 0.0),
    LinkTarget("right_elbow_link", "right_elbow", None, 1.0, 0.0),
    LinkTarget("left_wrist_yaw_link", "left_wrist", None, 2.0, 0.0),
    LinkTarget("right_wrist_yaw_link", "right_wrist", None, 2.0, 0.0),
)


@dataclass(frozen=True)
class RetargetConfig:
    """How ``retarget_to_g1`` solves the IK.

    Attributes:
        robot: registry name of the body model to solve on (29 body joints).
        robot_height_m: divides the subject's height to give the position scale.
        iterations_first_frame: IK steps for frame 0, from the default pose (no velocity
            limit: the robot may start anywhere).
        iterations_per_frame: IK steps per later frame, warm-started from the previous.
        solver: QP solver name for mink (``daqp`` is the fastest here).
        damping: Levenberg-Marquardt damping of the QP (regularises near singularities).
        posture_cost: weight pulling joints towards the default pose in the null space.
        velocity_limit_scale: multiplies the motor speed limits (1 = the robot's limits).
        joint_limit_margin_rad: joints stay this far inside their position limits, so a
            plan never asks a PD controller to drive a joint into its hard stop.
        hand_transition_frames: length of the ramp between hand presets.
        links: the link targets (``G1_LINK_TARGETS``).
    """

    robot: str = "g1"
    robot_height_m: float = G1_HEIGHT_M
    iterations_first_frame: int = 60
    iterations_per_frame: int = 2
    solver: str = "daqp"
    damping: float = 1e-3
    posture_cost: float = 1e-2
    velocity_limit_scale: float = 1.0
    joint_limit_margin_rad: float = 0.03
    hand_transition_frames: int = 5
    links: tuple[LinkTarget, ...] = field(default=G1_LINK_TARGETS)
