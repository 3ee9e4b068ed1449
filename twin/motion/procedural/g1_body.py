"""G1 quantities the procedural generators need, measured once on the MuJoCo model.

Frames: z-up world, metres. The G1 foot touches the floor through four 5-mm spheres on
``*_ankle_roll_link`` (Menagerie ``g1.xml``); ``sole_polygon_in_ankle`` are their centres'
(x, y) in the ankle frame and ``sole_below_ankle_m`` the ankle's height above the floor when
the foot is flat. ``stance`` is the default pose (``G1_DEFAULT_JOINT_POS``, pelvis at
``G1_DEFAULT_ROOT_HEIGHT_M``): ankle positions and the whole-body centre of mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mujoco
import numpy as np

from twin.retarget.kinematics import qpos_addresses, robot_model
from twin.robots import get
from twin.robots.g1 import G1_FOOT_BODY_NAMES

FEET = G1_FOOT_BODY_NAMES
HANDS = ("left_wrist_yaw_link", "right_wrist_yaw_link")


@dataclass(frozen=True)
class G1Body:
    """Measured G1 geometry (see module docstring)."""

    sole_polygon_in_ankle: np.ndarray  # (4, 2) x, y of the contact spheres, ankle frame
    sole_spheres_in_ankle: np.ndarray  # (4, 3) contact sphere centres, ankle frame
    sole_radius_m: float
    sole_below_ankle_m: float  # ankle origin height above the floor, foot flat
    foot_center_in_ankle: np.ndarray  # (2,) centre of the sole polygon, ankle frame
    default_qpos: np.ndarray  # (nq,) default pose, pelvis at the default height
    default_pelvis_height_m: float
    default_ankle_pos_w: dict[str, np.ndarray]  # (3,) per foot body name
    default_com_w: np.ndarray  # (3,)
    default_hand_pos_w: dict[str, np.ndarray]
    com_minus_pelvis_z_m: float  # CoM height below/above the pelvis in the default pose
    hip_drop_m: float  # hip-pitch joint below the pelvis origin
    leg_length_m: float  # hip pitch -> ankle, straight leg
    mass_kg: float


@lru_cache(maxsize=2)
def g1_body(robot: str = "g1") -> G1Body:
    """Measure the G1 (29-DoF body model, kinematics only)."""
    spec = get(robot)
    model = robot_model(robot)
    data = mujoco.MjData(model)
    qpos = np.zeros(model.nq)
    qpos[:3] = spec.default_root_pos_w
    qpos[3:7] = spec.default_root_quat_wxyz
    qpos[qpos_addresses(model, spec.joint_names)] = spec.default_joint_pos_array()
    data.qpos[:] = qpos
    mujoco.mj_kinematics(model, data)
    mujoco.mj_comPos(model, data)
    foot_id = model.body(FEET[0]).id
    spheres = [g for g in range(model.ngeom) if model.geom_bodyid[g] == foot_id
               and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE
               and (model.geom_contype[g] or model.geom_conaffinity[g])]
    centres = np.array([model.geom_pos[g] for g in spheres])
    radius = float(model.geom_size[spheres[0], 0])
    poly = centres[:, :2]
    hull = poly[np.argsort(np.arctan2(*(poly - poly.mean(0)).T[::-1]))]  # counter-clockwise
    pos = lambda name: data.xpos[model.body(name).id].copy()

    straight = mujoco.MjData(model)
    straight.qpos[3] = 1.0
    mujoco.mj_kinematics(model, straight)
    spos = lambda name: straight.xpos[model.body(name).id]
    return G1Body(
        sole_polygon_in_ankle=hull,
        sole_spheres_in_ankle=centres,
        sole_radius_m=radius,
        sole_below_ankle_m=float(-centres[:, 2].mean() + radius),
        foot_center_in_ankle=hull.mean(axis=0),
        default_qpos=qpos,
        default_pelvis_height_m=float(qpos[2]),
        default_ankle_pos_w={f: pos(f) for f in FEET},
        default_com_w=data.subtree_com[model.body("pelvis").id].copy(),
        default_hand_pos_w={h: pos(h) for h in HANDS},
        com_minus_pelvis_z_m=float(data.subtree_com[1][2] - qpos[2]),
        hip_drop_m=float(spos("pelvis")[2] - spos("left_hip_pitch_link")[2]),
        leg_length_m=float(spos("left_hip_pitch_link")[2] - spos(FEET[0])[2]),
        mass_kg=float(model.body_subtreemass[1]),
    )
