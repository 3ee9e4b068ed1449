"""Unitree G1 (29-DoF body, optional Dex3-1 hands) as twin robot specs.

Variants:
- ``g1``: floating-base 29-DoF body (Menagerie ``g1.xml``).
- ``g1_dex3``: 29 body + 2 x 7 Dex3-1 hand joints (``g1_with_hands.xml``).
- ``g1_upper``: ``g1_dex3`` with the pelvis welded to the world, legs removed and (by
  default) the waist locked, so each 7-DoF arm with its Dex3-1 hand is a manipulator.

Gain profiles: ``tracking`` (motor-physics PD of ``g1_constants``; soft, for learned
policies; the default of learning envs) and ``stiff`` (Menagerie's kp=500 servos with
dampratio 1; holds a standing pose without a policy, for kinematic replay and tests).
"""

from __future__ import annotations

from twin.robots.assets import menagerie_dir
from twin.robots.g1_constants import g1_motor_for_joint
from twin.robots.spec import GainProfile, RobotSpec

G1_LEG_JOINT_NAMES: tuple[str, ...] = tuple(
    f"{side}_{j}_joint"
    for side in ("left", "right")
    for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
)
G1_WAIST_JOINT_NAMES: tuple[str, ...] = ("waist_yaw_joint", "waist_roll_joint", "waist_pitch_joint")
G1_ARM_JOINT_SUFFIXES: tuple[str, ...] = (
    "shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow",
    "wrist_roll", "wrist_pitch", "wrist_yaw",
)
G1_LEFT_ARM_JOINT_NAMES = tuple(f"left_{j}_joint" for j in G1_ARM_JOINT_SUFFIXES)
G1_RIGHT_ARM_JOINT_NAMES = tuple(f"right_{j}_joint" for j in G1_ARM_JOINT_SUFFIXES)
G1_HAND_JOINT_SUFFIXES: tuple[str, ...] = (
    "thumb_0", "thumb_1", "thumb_2", "middle_0", "middle_1", "index_0", "index_1",
)
G1_LEFT_HAND_JOINT_NAMES = tuple(f"left_hand_{j}_joint" for j in G1_HAND_JOINT_SUFFIXES)
G1_RIGHT_HAND_JOINT_NAMES = tuple(f"right_hand_{j}_joint" for j in G1_HAND_JOINT_SUFFIXES)
G1_HAND_JOINT_NAMES = G1_LEFT_HAND_JOINT_NAMES + G1_RIGHT_HAND_JOINT_NAMES

# The 29 body joints in Menagerie model order (this is also Unitree's SDK order).
G1_JOINT_NAMES: tuple[str, ...] = (
    G1_LEG_JOINT_NAMES + G1_WAIST_JOINT_NAMES + G1_LEFT_ARM_JOINT_NAMES + G1_RIGHT_ARM_JOINT_NAMES
)
# Model order with Dex3-1 hands: each hand follows its arm's wrist.
G1_DEX3_JOINT_NAMES: tuple[str, ...] = (
    G1_LEG_JOINT_NAMES + G1_WAIST_JOINT_NAMES
    + G1_LEFT_ARM_JOINT_NAMES + G1_LEFT_HAND_JOINT_NAMES
    + G1_RIGHT_ARM_JOINT_NAMES + G1_RIGHT_HAND_JOINT_NAMES
)

# Knees-bent standing pose (the tracking literature's default); the pelvis height is set so
# that the soles touch z=0 (checked in tests).
G1_DEFAULT_JOINT_POS: dict[str, float] = {
    "left_hip_pitch_joint": -0.312, "right_hip_pitch_joint": -0.312,
    "left_knee_joint": 0.669, "right_knee_joint": 0.669,
    "left_ankle_pitch_joint": -0.363, "right_ankle_pitch_joint": -0.363,
    "left_shoulder_pitch_joint": 0.2, "right_shoulder_pitch_joint": 0.2,
    "left_shoulder_roll_joint": 0.2, "right_shoulder_roll_joint": -0.2,
    "left_elbow_joint": 0.6, "right_elbow_joint": 0.6,
}
G1_DEFAULT_ROOT_HEIGHT_M = 0.755
# Bodies carrying the sole contact geoms (4 spheres each in Menagerie's g1.xml).
G1_FOOT_BODY_NAMES: tuple[str, ...] = ("left_ankle_roll_link", "right_ankle_roll_link")
# centre of each sole, in its foot body frame (between the four 5 mm sole spheres, at their
# bottom), m: where a standing foot's ground wrench is taken
G1_SOLE_CENTER_B: tuple[float, float, float] = (0.035, 0.0, -0.035)

# Dex3-1 presets (rad): open hand, half-closed, closed grasp. Signs follow the MJCF ranges
# (left fingers close towards negative angles, right towards positive).
DEX3_OPEN: dict[str, float] = {}
DEX3_CLOSED: dict[str, float] = {
    "left_hand_thumb_0_joint": 0.0, "left_hand_thumb_1_joint": 0.6, "left_hand_thumb_2_joint": 1.2,
    "left_hand_middle_0_joint": -1.2, "left_hand_middle_1_joint": -1.4,
    "left_hand_index_0_joint": -1.2, "left_hand_index_1_joint": -1.4,
    "right_hand_thumb_0_joint": 0.0, "right_hand_thumb_1_joint": -0.6,
    "right_hand_thumb_2_joint": -1.2,
    "right_hand_middle_0_joint": 1.2, "right_hand_middle_1_joint": 1.4,
    "right_hand_index_0_joint": 1.2, "right_hand_index_1_joint": 1.4,
}
DEX3_HALF: dict[str, float] = {k: 0.5 * v for k, v in DEX3_CLOSED.items()}

G1_KEY_BODY_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip_roll_link", "left_knee_link", "left_ankle_roll_link",
    "right_hip_roll_link", "right_knee_link", "right_ankle_roll_link",
    "torso_link",
    "left_shoulder_roll_link", "left_elbow_link", "left_wrist_yaw_link",
    "right_shoulder_roll_link", "right_elbow_link", "right_wrist_yaw_link",
)
G1_EE_BODY_NAMES: tuple[str, ...] = (
    "left_wrist_yaw_link", "right_wrist_yaw_link", "left_ankle_roll_link", "right_ankle_roll_link",
)


def _tracking_profile(joint_names: tuple[str, ...]) -> GainProfile:
    motors = {n: g1_motor_for_joint(n) for n in joint_names if n.split("_")[1] != "hand"}
    return GainProfile(
        name="tracking",
        description="motor-physics PD (armature from rotor inertia, 10 Hz, damping ratio 2); "
        "soft: a learned policy keeps balance",
        kp={n: m.kp for n, m in motors.items()},
        kd={n: m.kd for n, m in motors.items()},
        armature={n: m.armature_kgm2 for n, m in motors.items()},
        effort_limit={n: m.effort_limit_nm for n, m in motors.items()},
        action_scale={n: m.action_scale_rad for n, m in motors.items()},
    )


STIFF_KP = 500.0  # N m/rad, the Menagerie G1 position actuators


def _stiff_profile(joint_names: tuple[str, ...]) -> GainProfile:
    body = [n for n in joint_names if n.split("_")[1] != "hand"]
    return GainProfile(
        name="stiff",
        description="Menagerie position servos (kp 500, damping ratio 1): hold a pose without "
        "a policy; for kinematic replay baselines, tests and residual policies on top",
        effort_limit={n: g1_motor_for_joint(n).effort_limit_nm for n in body},
        # 0.25 effort / kp, as for the tracking profile, but with the stiff kp
        action_scale={n: 0.25 * g1_motor_for_joint(n).effort_limit_nm / STIFF_KP for n in body},
    )


def _profiles(joint_names: tuple[str, ...]) -> dict[str, GainProfile]:
    return {"tracking": _tracking_profile(joint_names), "stiff": _stiff_profile(joint_names)}


def g1_spec() -> RobotSpec:
    folder = menagerie_dir("unitree_g1")
    return RobotSpec(
        name="g1",
        description="Unitree G1, 29-DoF body, floating base",
        mjcf_path=folder / "g1.xml",
        licence_path=folder / "LICENSE",
        floating_base=True,
        joint_names=G1_JOINT_NAMES,
        actuated_joint_names=G1_JOINT_NAMES,
        default_joint_pos=dict(G1_DEFAULT_JOINT_POS),
        default_root_pos_w=(0.0, 0.0, G1_DEFAULT_ROOT_HEIGHT_M),
        default_root_quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ee_body_names=G1_EE_BODY_NAMES,
        key_body_names=G1_KEY_BODY_NAMES,
        gain_profiles=_profiles(G1_JOINT_NAMES),
        default_gain_profile="tracking",
        root_body_name="pelvis",
    )


def g1_dex3_spec() -> RobotSpec:
    folder = menagerie_dir("unitree_g1")
    return RobotSpec(
        name="g1_dex3",
        description="Unitree G1, 29-DoF body + two 7-DoF Dex3-1 hands, floating base",
        mjcf_path=folder / "g1_with_hands.xml",
        licence_path=folder / "LICENSE",
        floating_base=True,
        joint_names=G1_DEX3_JOINT_NAMES,
        actuated_joint_names=G1_DEX3_JOINT_NAMES,
        default_joint_pos=dict(G1_DEFAULT_JOINT_POS),
        default_root_pos_w=(0.0, 0.0, G1_DEFAULT_ROOT_HEIGHT_M),
        default_root_quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ee_body_names=G1_EE_BODY_NAMES,
        key_body_names=G1_KEY_BODY_NAMES,
        gain_profiles=_profiles(G1_DEX3_JOINT_NAMES),
        default_gain_profile="tracking",
        root_body_name="pelvis",
        gripper_joint_names=G1_HAND_JOINT_NAMES,
        gripper_open_ctrl={n: DEX3_OPEN.get(n, 0.0) for n in G1_HAND_JOINT_NAMES},
        gripper_closed_ctrl=dict(DEX3_CLOSED),
    )


def g1_upper_spec(lock_waist: bool = True) -> RobotSpec:
    """Fixed-base upper body: pelvis welded at standing height, legs removed."""
    folder = menagerie_dir("unitree_g1")
    waist = () if lock_waist else G1_WAIST_JOINT_NAMES
    joints = (waist + G1_LEFT_ARM_JOINT_NAMES + G1_LEFT_HAND_JOINT_NAMES
              + G1_RIGHT_ARM_JOINT_NAMES + G1_RIGHT_HAND_JOINT_NAMES)
    arm_default = {k: v for k, v in G1_DEFAULT_JOINT_POS.items() if k in joints}
    return RobotSpec(
        name="g1_upper" if lock_waist else "g1_upper_waist",
        description="Unitree G1 upper body with Dex3-1 hands, base fixed, legs removed, "
        + ("waist locked" if lock_waist else "waist free"),
        mjcf_path=folder / "g1_with_hands.xml",
        licence_path=folder / "LICENSE",
        floating_base=False,
        joint_names=joints,
        actuated_joint_names=joints,
        default_joint_pos=arm_default,
        default_root_pos_w=(0.0, 0.0, 0.793),
        default_root_quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ee_body_names=("left_wrist_yaw_link", "right_wrist_yaw_link"),
        key_body_names=("torso_link", "left_elbow_link", "left_wrist_yaw_link",
                        "right_elbow_link", "right_wrist_yaw_link"),
        gain_profiles={"stiff": _stiff_profile(joints)},
        default_gain_profile="stiff",
        root_body_name="pelvis",
        remove_bodies=("left_hip_pitch_link", "right_hip_pitch_link"),
        lock_joints=G1_WAIST_JOINT_NAMES if lock_waist else (),
        fix_base=True,
        gripper_joint_names=G1_HAND_JOINT_NAMES,
        gripper_open_ctrl={n: DEX3_OPEN.get(n, 0.0) for n in G1_HAND_JOINT_NAMES},
        gripper_closed_ctrl=dict(DEX3_CLOSED),
    )
