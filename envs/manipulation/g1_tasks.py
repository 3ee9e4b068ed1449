"""G1 arm tasks: the fixed-base G1 upper body (``g1_upper``) picks and places with its right
arm, the Dex3-1 hand as the gripper (``configs/scene/manip_g1.yaml``: a table at 0.76 m in
front of the robot, a red and a green upright can (5.4 cm wide, 11 cm tall) and a plate).

Why cans and a side grasp: the Dex3-1 thumb sits at the base of the palm and closes towards
the fingers along the finger direction; with the fingers down, the fingertips reach 7 cm
past the grasp point while the thumb closes 5 cm from the wrist, so a 5 cm cube on the table
cannot be pinched. The hand therefore grasps an upright can from the side, palm against the
can, thumb on the near side, index and middle (one above the other) wrapping the far side
(measured from the MJCF: palm face at y = +2.4 cm in ``right_wrist_yaw_link``; closed, the
thumb tip spans x 8.3-14.2 cm and the fingertips x 9.2-14.3 cm, y 3-7 cm: a can centred at
(11.5, 5.2) cm is squeezed between them).

Common to every task here:

Action: ``ee_delta`` by default (see ``twin.controllers.ee_control``), 20 Hz control,
    differential IK (mink) of the right arm's 7 joints to the *tool frame*: the centre of
    the grasped can, 11.5 cm along the fingers and 5.2 cm out of the palm from
    ``right_wrist_yaw_link``; its x axis along the fingers, its z axis along the link's -z
    (index finger above the middle finger when tool z points down), its y axis out of the
    back of the hand (the hand closes on the can moving along tool -y). Tool z pointing down
    with tool yaw -0.8 rad (fingers forward-right, palm facing forward-left) is the grasp
    pose (the oracle turns it to -1.0 rad for cans at the far right and towards -0.3 rad
    to place near the body: ``grasp_yaw_at``, ``place_yaw_at``); every ``ee_delta``
    rotation refers to this frame.
    Gripper 1 = open (``DEX3_OPEN``: straight fingers), 0 = closed (``DEX3_CLOSED``),
    in between linearly; the left arm and hand hold their default pose.
Randomizations (per environment, from its seed): which can is the source (a coin flip);
    the two cans' and the plate's xy uniformly in x [0.19, 0.31], y [-0.36, -0.08] m (world;
    pelvis at (0, 0, 0.793), table top z = 0.76 m), the cans at y <= -0.12, >= 10 cm apart,
    the plate >= 13 cm from both, the distractor not in the hand's approach corridor to the
    source (rejection sampling).
    Initial arm pose: ``G1_RIGHT_ARM_HOME`` (hand above and behind the object region, in the
    grasp orientation), hand open.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
from twin.envs.manipulation.base import (
    ArmSetup,
    ManipulationEnv,
    ManipulationVectorEnv,
    sample_positions,
    yaw_quat,
)
from twin.envs.manipulation.panda_tasks import (
    RELEASED_OPEN_FRACTION,
    STATIC_SPEED_M_S,
    PandaTableTask,
)
from twin.envs.manipulation.terms import LiftSuccess, PlaceSuccess, lifted_and_held, placed, static

from twin.robots.g1 import (
    DEX3_CLOSED,
    DEX3_OPEN,
    G1_RIGHT_ARM_JOINT_NAMES,
    G1_RIGHT_HAND_JOINT_NAMES,
)

CANS = ("can_red", "can_green")
COLOR = {c: c.split("_")[1] for c in CANS}
CAN_RADIUS_M = 0.027
CAN_HALF_HEIGHT_M = 0.055
TABLE_TOP_Z = 0.76
PLATE_RADIUS_M = 0.07
PLATE_TOP_Z = TABLE_TOP_Z + 0.01
# cans and plate share one region (world xy, m), reachable with the hand in the grasp pose
# at the can's grasp height, 7 cm behind it and 12 cm above both (IK scan over a 4 cm grid);
# cans stay right of CAN_MAX_Y: nearer the body, the raised forearm meets the torso
REGION_LOW = np.array([0.19, -0.36])
REGION_HIGH = np.array([0.31, -0.08])
CAN_MAX_Y = -0.12
MIN_CAN_DIST_M = 0.10
MIN_PLATE_DIST_M = 0.13
# Tool yaw of the side grasp (fingers forward-right, palm facing forward-left), in IK
# solutions near ``G1_RIGHT_ARM_HOME`` (scanned over yaw in [-3, 3] rad: [-1.0, -0.6] works
# over most of the region). Measured with the oracle (seeds 0-59): at -0.8 the pre-grasp
# point 7 cm behind a can at the far right (y < -0.33 m, x > 0.27 m) is out of reach (the
# arm stops 2-3 cm short), at -1.0 it is not; a can held above a plate near the body
# (y > -0.12 m) needs the fingers turned forward (-0.3: at -0.8 the wrist meets the torso).
GRASP_YAW = -0.8
GRASP_YAW_Y = ((-0.35, -1.0), (-0.25, GRASP_YAW))  # (can y (m, world), tool yaw (rad)), linear
PLACE_YAW_Y = ((-0.25, GRASP_YAW), (-0.10, -0.3))  # (plate y, tool yaw), linear
# A can set down nearer the body than this is out of reach (as for CAN_MAX_Y); the oracle
# aims for the plate's part right of it (<= 3.5 cm from the plate's centre: inside the
# 5 cm success radius)
PLACE_MAX_Y = -0.115
APPROACH_M = 0.07  # pre-grasp distance behind the can, along the palm normal
HOVER_M = 0.14  # the hand reaches the pre-grasp point from this far above it
# Grasp with the tool point at the can's centre: the closed index finger then spans 1.6-4.1
# cm above it and the middle finger as far below; the can still slides ~1 cm down in the
# hand once lifted. Grasped 1 cm higher, the index finger ends on the rim, the can pivots
# in the hand while carried and cans set down tilted > 10 deg tip over when released (place
# oracle, seeds 0-39: 34/40 at +1 cm, 39/40 here). The hand's lowest point (the wrist, 4.4
# cm below the tool point) stays 1.1 cm above the table.
GRASP_DZ_M = 0.0
# Closing pulls the can about 3 cm towards the palm's base and it settles 1-3 cm lower in
# the hand: a held can's centre is up to ~4.5 cm from the tool point (the oracle starts over
# beyond this)
HELD_TOL_M = 0.06
# The lift leans away from the torso (0.4 m forward per 1 m up): lifting straight up from a
# can near the body (x < 0.21 m, y > -0.16 m) drives the elbow into the torso.
LIFT_DIR = np.array([0.4, 0.0, 1.0]) / np.hypot(0.4, 1.0)

# Right arm home: the tool at (0.16, -0.27, 0.97) m (world), tool z down, yaw GRASP_YAW
# (an IK solution of that pose; behind the object region, the hand's lower edge 10 cm above
# the cans' tops).
G1_RIGHT_ARM_HOME: dict[str, float] = {
    "right_shoulder_pitch_joint": 0.742, "right_shoulder_roll_joint": -0.029,
    "right_shoulder_yaw_joint": -0.438, "right_elbow_joint": -0.941,
    "right_wrist_roll_joint": 0.384, "right_wrist_pitch_joint": 0.29,
    "right_wrist_yaw_joint": -0.395,
}
# The hand's open pose for these tasks: DEX3_OPEN with the thumb turned back, away from the
# fingers (thumb_1 opens towards positive angles on the right hand). With DEX3_OPEN's straight
# thumb, which points out of the palm through where the held can sits, opening the hand
# kicks a placed can over.
HAND_OPEN: dict[str, float] = {**DEX3_OPEN, "right_hand_thumb_1_joint": 0.6}

# Tool frame in right_wrist_yaw_link: the can's centre when held; Rx(180 deg).
TOOL_OFFSET_M = (0.115, 0.052, 0.0)
TOOL_QUAT_WXYZ = (0.0, 1.0, 0.0, 0.0)


def grasp_yaw_at(can_y: float) -> float:
    """Tool yaw (rad) of the side grasp of a can at world y ``can_y`` (``GRASP_YAW_Y``)."""
    (y0, a0), (y1, a1) = GRASP_YAW_Y
    return float(np.interp(can_y, [y0, y1], [a0, a1]))


def place_yaw_at(plate_y: float) -> float:
    """Tool yaw (rad) to set a held can down on a plate at world y ``plate_y``."""
    (y0, a0), (y1, a1) = PLACE_YAW_Y
    return float(np.interp(plate_y, [y0, y1], [a0, a1]))


def palm_normal_b(yaw: float) -> np.ndarray:
    """Unit direction (robot base frame) the palm faces at tool yaw ``yaw``, tool z down:
    -(tool y) = -Rz(yaw) @ (0, -1, 0)."""
    return np.array([-np.sin(yaw), np.cos(yaw), 0.0])


class G1TableTask(PandaTableTask):
    """Shared layout of the G1 can tasks (not registered itself)."""

    default_scene = "manip_g1"
    # OraclePolicy: plan from the commanded target (the G1 arm lags its target by 2-3 cm: a
    # measured-pose plan overshot the grasp point by up to 3 cm and the palm pushed the can
    # over), carry at 1.2 cm/step (at 2 cm/step the held can tilts more in the hand: p90 of
    # its largest tilt 12.6 deg instead of 8.6, seeds 0-39)
    oracle_settings = MappingProxyType({"plan_from_command": True, "carry_step_m": 0.012})

    def arm_setup(self) -> ArmSetup:
        hand = G1_RIGHT_HAND_JOINT_NAMES
        return ArmSetup(
            arm_joints=G1_RIGHT_ARM_JOINT_NAMES, gripper_joints=hand,
            ee_body="right_wrist_yaw_link", ee_offset=TOOL_OFFSET_M,
            ee_quat_offset=TOOL_QUAT_WXYZ,
            gripper_open={n: HAND_OPEN.get(n, 0.0) for n in hand},
            gripper_closed={n: DEX3_CLOSED[n] for n in hand},
            gripper_q_open=tuple(HAND_OPEN.get(n, 0.0) for n in hand),
            gripper_q_closed=tuple(DEX3_CLOSED[n] for n in hand),
            home=dict(G1_RIGHT_ARM_HOME),
        )

    def _setup_arm(self, arm: ArmSetup) -> None:
        super(PandaTableTask, self)._setup_arm(arm)
        b = self.backend
        self.cube_qpos = {c: b.free_joint_qpos_index(c) for c in CANS}
        self.cube_body_ids = b.body_index(CANS)
        self._rows = np.arange(self.num_envs)
        self.roles = np.zeros((self.num_envs, len(CANS)), dtype=np.int64)
        self.plate_pos_w = np.tile([0.45, -0.2, TABLE_TOP_Z + 0.005], (self.num_envs, 1))
        self.init_pos_w = np.zeros((self.num_envs, len(CANS), 3))

    def _place_objects(self, i: int, rng: np.random.Generator, qpos: np.ndarray) -> None:
        self.roles[i] = rng.permutation(len(CANS))
        src = self.roles[i, 0]
        min_dist = np.full((3, 3), MIN_CAN_DIST_M)  # rows: the cans, then the plate
        min_dist[-1, :] = min_dist[:, -1] = MIN_PLATE_DIST_M
        for _ in range(500):
            xy = sample_positions(rng, 3, REGION_LOW, REGION_HIGH, min_dist)
            spread = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(3)
            if (np.all(spread >= min_dist - 1e-9) and np.all(xy[:2, 1] <= CAN_MAX_Y)
                    and _clear_of_approach(xy[src], xy[1 - src])):
                break
        for k, c in enumerate(CANS):
            p = np.array([xy[k, 0], xy[k, 1], TABLE_TOP_Z + CAN_HALF_HEIGHT_M + 5e-4])
            qpos[self.cube_qpos[c]] = np.concatenate([p, yaw_quat(0.0)])
            self.init_pos_w[i, k] = p
        self.plate_pos_w[i] = [xy[-1, 0], xy[-1, 1], TABLE_TOP_Z + 0.005]
        self.instructions[i] = self.instruction(i)

    def role(self, env_id: int, k: int) -> str:
        return CANS[self.roles[env_id, k]]

    def _can_grasp(self, env_id: int, name: str) -> dict:
        """Side grasp of an upright can: the tool point at the can's axis, approached along
        the palm normal at ``grasp_yaw_at`` (the can is round: its own yaw does not matter)."""
        p, _ = self.object_pose(name, [env_id])
        grasp = self.to_base(p[0])
        ee, _ = self.ee_pose_b([env_id])
        yaw = grasp_yaw_at(float(p[0, 1]))
        return {"grasp_pos": grasp, "grasp_yaw": yaw, "yaw_period": 2 * np.pi,
                "grasp_dz": GRASP_DZ_M, "approach_dir": palm_normal_b(yaw),
                "approach_m": APPROACH_M, "hover_m": HOVER_M, "held_tol_m": HELD_TOL_M,
                "lift_dir": self.base_rot_w.T @ LIFT_DIR,
                "held_offset": ee[0] - grasp}  # tcp - can centre: meaningful once held


def _clear_of_approach(src_xy: np.ndarray, other_xy: np.ndarray) -> bool:
    """Whether a can at ``other_xy`` stays clear of the hand's path to ``src_xy``: the hand
    (about 9 cm wide) comes in along the palm normal from ``APPROACH_M`` behind the can."""
    n = palm_normal_b(grasp_yaw_at(float(src_xy[1])))[:2]
    d = other_xy - src_xy
    along = float(d @ n)  # > 0: beyond the source, < 0: on the approach side
    across = abs(float(d @ np.array([-n[1], n[0]])))
    return along > 0.0 or across > 0.08


class G1PickCubeTask(G1TableTask):
    """``twin/G1PickCube-v0``: pick up the named can with the right hand (the id keeps its
    historical name; the object is an upright can, see the module docstring).

    Task Description:
        "pick up the {colour} can": grasp the source can with the Dex3 hand from the side
        and lift it; the other can and the plate are distractors.
    Randomizations: see the module docstring.
    Success Conditions: the source can's centre is >= 5 cm above its resting height and
        within 5 cm of the tool point (held in the hand, not knocked up). Time limit 100
        steps.
    """

    default_max_steps = 100
    success_default = LiftSuccess(lift_m=0.05, held_radius_m=0.05)

    def instruction(self, env_id: int) -> str:
        return f"pick up the {COLOR[self.role(env_id, 0)]} can"

    def _success(self):
        pos = self._cube_pos_role(0)
        lift = pos[:, 2] - (TABLE_TOP_Z + CAN_HALF_HEIGHT_M)
        d = pos - self._tcp_w()
        near = np.sqrt((d * d).sum(axis=1))
        return (lifted_and_held(lift, near, self.success_cfg),
                {"lift_m": lift, "tcp_dist_m": near})

    def oracle_targets(self, env_id: int) -> dict:
        return {"kind": "pick", **self._can_grasp(env_id, self.role(env_id, 0))}


class G1PlaceOnPlateTask(G1TableTask):
    """``twin/G1PlaceOnPlate-v0``: put the named can on the plate with the right hand.

    Task Description:
        "put the {colour} can on the plate"; the other can is a distractor.
    Randomizations: see the module docstring.
    Success Conditions: the source can's centre is within 5 cm of the plate centre in xy,
        standing on the plate (|z - (plate top + 5.5 cm)| < 1 cm: upright), slower than
        5 cm/s, and the hand is open (measured open fraction > 0.7). Time limit 160 steps.
    """

    default_max_steps = 160
    success_default = PlaceSuccess(xy_radius_m=PLATE_RADIUS_M - 0.02, dz_tol_m=0.01,
                                   static_speed_mps=STATIC_SPEED_M_S,
                                   released_open_fraction=RELEASED_OPEN_FRACTION)

    def instruction(self, env_id: int) -> str:
        return f"put the {COLOR[self.role(env_id, 0)]} can on the plate"

    def _success(self):
        c = self.success_cfg
        pos, speed = self._cube_pos_role(0), self._cube_speed_role(0)
        xy = np.linalg.norm(pos[:, :2] - self.plate_pos_w[:, :2], axis=1)
        dz = np.abs(pos[:, 2] - (PLATE_TOP_Z + CAN_HALF_HEIGHT_M))
        ok = placed(xy, dz, self.state().gripper_open, c) & static(speed, c.static_speed_mps)
        return ok, {"xy_dist_m": xy, "dz_m": dz}

    def oracle_targets(self, env_id: int) -> dict:
        place = self.plate_pos_w[env_id] + [0.0, 0.0, 0.005 + CAN_HALF_HEIGHT_M + 0.008]
        place[1] = min(place[1], PLACE_MAX_Y)
        return {"kind": "pick_place", **self._can_grasp(env_id, self.role(env_id, 0)),
                "place_pos": self.to_base(place),
                "place_yaw": place_yaw_at(float(self.plate_pos_w[env_id, 1]))}


class G1PickCubeEnv(ManipulationEnv):
    task_cls = G1PickCubeTask


class G1PickCubeVectorEnv(ManipulationVectorEnv):
    task_cls = G1PickCubeTask


class G1PlaceOnPlateEnv(ManipulationEnv):
    task_cls = G1PlaceOnPlateTask


class G1PlaceOnPlateVectorEnv(ManipulationVectorEnv):
    task_cls = G1PlaceOnPlateTask
