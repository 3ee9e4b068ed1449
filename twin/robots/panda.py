"""Franka Emika Panda (7-DoF) with its own parallel gripper or a Robotiq 2F-85."""

from __future__ import annotations

from twin.robots.assets import menagerie_dir
from twin.robots.spec import Attachment, GainProfile, RobotSpec

PANDA_ARM_JOINT_NAMES: tuple[str, ...] = tuple(f"joint{i}" for i in range(1, 8))
PANDA_HOME_JOINT_POS: dict[str, float] = {
    "joint1": 0.0, "joint2": 0.0, "joint3": 0.0, "joint4": -1.57079,
    "joint5": 0.0, "joint6": 1.57079, "joint7": -0.7853,
}
_MENAGERIE_GAINS = GainProfile(
    name="default",
    description="Menagerie's position servos (kp 2000-4500 N m/rad, kd 10 % of kp)",
    effort_limit={**{f"joint{i}": 87.0 for i in range(1, 5)},
                  **{f"joint{i}": 12.0 for i in range(5, 8)}},
)


def panda_spec() -> RobotSpec:
    folder = menagerie_dir("franka_emika_panda")
    fingers = ("finger_joint1", "finger_joint2")
    return RobotSpec(
        name="panda",
        description="Franka Emika Panda, 7-DoF arm + Franka hand (2 coupled fingers)",
        mjcf_path=folder / "panda.xml",
        licence_path=folder / "LICENSE",
        floating_base=False,
        joint_names=PANDA_ARM_JOINT_NAMES + fingers,
        actuated_joint_names=PANDA_ARM_JOINT_NAMES,
        default_joint_pos={**PANDA_HOME_JOINT_POS, "finger_joint1": 0.04, "finger_joint2": 0.04},
        default_root_pos_w=(0.0, 0.0, 0.0),
        default_root_quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ee_body_names=("hand",),
        ee_site_names=("tcp",),
        key_body_names=("link1", "link3", "link5", "link7", "hand", "left_finger", "right_finger"),
        gain_profiles={"default": _MENAGERIE_GAINS},
        default_gain_profile="default",
        root_body_name="link0",
        gripper_joint_names=fingers,
        gripper_open_ctrl={"actuator8": 255.0},
        gripper_closed_ctrl={"actuator8": 0.0},
    )


def panda_2f85_spec() -> RobotSpec:
    folder = menagerie_dir("franka_emika_panda")
    gripper = menagerie_dir("robotiq_2f85_v4")
    return RobotSpec(
        name="panda_2f85",
        description="Franka Emika Panda, 7-DoF arm + Robotiq 2F-85 gripper",
        mjcf_path=folder / "panda_nohand.xml",
        licence_path=folder / "LICENSE",
        floating_base=False,
        joint_names=PANDA_ARM_JOINT_NAMES + (
            "gripper/left_driver_joint", "gripper/left_spring_link_joint", "gripper/left_follower",
            "gripper/right_driver_joint", "gripper/right_spring_link_joint",
            "gripper/right_follower_joint",
        ),
        actuated_joint_names=PANDA_ARM_JOINT_NAMES,
        default_joint_pos=dict(PANDA_HOME_JOINT_POS),
        default_root_pos_w=(0.0, 0.0, 0.0),
        default_root_quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ee_body_names=("gripper/base",),
        ee_site_names=("tcp",),
        key_body_names=("link1", "link3", "link5", "link7", "gripper/base"),
        gain_profiles={"default": _MENAGERIE_GAINS},
        default_gain_profile="default",
        root_body_name="link0",
        attachments=(Attachment(gripper / "2f85.xml", site="attachment_site", prefix="gripper/"),),
        gripper_joint_names=("gripper/right_driver_joint", "gripper/left_driver_joint"),
        gripper_open_ctrl={"gripper/fingers_actuator": 0.0},
        gripper_closed_ctrl={"gripper/fingers_actuator": 255.0},
    )
