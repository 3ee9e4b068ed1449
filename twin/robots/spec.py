"""Backend-neutral robot descriptions: which MJCF, which edits, which gains, which names.

A ``RobotSpec`` is data only. ``twin.sim.mujoco_model`` turns it into a MuJoCo model; an
Isaac Sim backend would turn the same spec into its own asset. Joint and body order is the
MJCF model order, carried by the name tuples here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class GainProfile:
    """Per-actuated-joint PD gains. Missing joints keep the MJCF's own actuator.

    ``kp`` in N m/rad, ``kd`` in N m s/rad, ``armature`` in kg m^2, ``effort_limit`` in N m,
    ``action_scale`` in rad per unit policy action.
    """

    name: str
    description: str
    kp: dict[str, float] = field(default_factory=dict)
    kd: dict[str, float] = field(default_factory=dict)
    armature: dict[str, float] = field(default_factory=dict)
    effort_limit: dict[str, float] = field(default_factory=dict)
    action_scale: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """Another MJCF attached at a site of the robot (e.g. a gripper at the flange)."""

    mjcf_path: Path
    site: str
    prefix: str


@dataclass(frozen=True)
class RobotSpec:
    """Everything twin needs to know about one robot variant.

    Attributes:
        joint_names: actuated-or-passive hinge/slide joints in model order (no free joint).
        actuated_joint_names: joints driven by a position actuator, in actuator order.
        default_joint_pos: joint name -> rad (or m for slides); unnamed joints are 0.
        default_root_pos_w / default_root_quat_wxyz: floating-base pose in the world
            (z-up, m); for fixed-base robots, where the base is welded.
        ee_body_names: end effectors (hands/feet for G1, flange/hand for arms).
        ee_site_names: tool-centre sites, when the robot has them.
        key_body_names: bodies that motion tracking and reports follow.
    """

    name: str
    description: str
    mjcf_path: Path
    licence_path: Path
    floating_base: bool
    joint_names: tuple[str, ...]
    actuated_joint_names: tuple[str, ...]
    default_joint_pos: dict[str, float]
    default_root_pos_w: tuple[float, float, float]
    default_root_quat_wxyz: tuple[float, float, float, float]
    ee_body_names: tuple[str, ...]
    key_body_names: tuple[str, ...]
    gain_profiles: dict[str, GainProfile]
    default_gain_profile: str
    ee_site_names: tuple[str, ...] = ()
    root_body_name: str = ""
    remove_bodies: tuple[str, ...] = ()
    lock_joints: tuple[str, ...] = ()
    fix_base: bool = False
    attachments: tuple[Attachment, ...] = ()
    gripper_joint_names: tuple[str, ...] = ()
    gripper_open_ctrl: dict[str, float] = field(default_factory=dict)
    gripper_closed_ctrl: dict[str, float] = field(default_factory=dict)

    @property
    def num_dof(self) -> int:
        return len(self.joint_names)

    def default_joint_pos_array(self, joint_names: tuple[str, ...] | None = None) -> np.ndarray:
        """Default pose as an array in ``joint_names`` order (model order by default)."""
        names = self.joint_names if joint_names is None else joint_names
        return np.array([self.default_joint_pos.get(n, 0.0) for n in names], dtype=np.float64)

    def gains(self, profile: str | None = None) -> GainProfile:
        """The named gain profile, or the robot's default one."""
        key = profile or self.default_gain_profile
        if key not in self.gain_profiles:
            raise ValueError(
                f"robot {self.name!r} has no gain profile {key!r}; "
                f"expected one of {sorted(self.gain_profiles)}"
            )
        return self.gain_profiles[key]
