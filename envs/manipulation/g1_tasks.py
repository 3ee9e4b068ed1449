"""G1 arm tasks: the fixed-base G1 upper body (``g1_upper``) picks and places with its right
arm, the Dex3-1 hand as the gripper (``configs/scene/manip_g1.yaml``: a table at 0.76 m in
front of the robot, a red and a green 5 cm cube and a plate).

Common to every task here:

Action: ``ee_delta`` by default (see ``twin.controllers.ee_control``), 20 Hz control,
    differential IK (mink) of the right arm's 7 joints to the *tool frame*: the point
    between the Dex3 fingers and thumb (13 cm along the fingers and 4 cm towards the palm
    side from ``right_wrist_yaw_link``), its z axis along the fingers, its y axis the
    closing direction (as for a parallel gripper; tool z pointing down = fingers down).
    Gripper 1 = open (``DEX3_OPEN``: straight fingers), 0 = closed (``DEX3_CLOSED``),
    in between linearly; the left arm and hand hold their default pose.
Randomizations (per environment, from its seed): which cube is the source (a coin flip);
    each cube's xy uniformly in x [0.20, 0.28], y [-0.26, -0.12] m (world; pelvis at
    (0, 0, 0.793), table top z = 0.76 m), >= 8 cm apart; cube yaw U(-0.25, 0.25) rad;
    the plate's xy in x [0.19, 0.29], y [-0.30, -0.08], >= 12 cm from both cubes.
    Initial arm pose: ``G1_RIGHT_ARM_HOME`` (hand above the table, fingers down), hand open.
"""

from __future__ import annotations

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

from twin.robots.g1 import (
    DEX3_CLOSED,
    DEX3_OPEN,
    G1_RIGHT_ARM_JOINT_NAMES,
    G1_RIGHT_HAND_JOINT_NAMES,
)

CUBES = ("cube_red", "cube_green")
COLOR = {c: c.split("_")[1] for c in CUBES}
CUBE_HALF_M = 0.025
TABLE_TOP_Z = 0.76
PLATE_RADIUS_M = 0.07
PLATE_TOP_Z = TABLE_TOP_Z + 0.01
REGION_LOW = np.array([0.20, -0.26])
REGION_HIGH = np.array([0.28, -0.12])
PLATE_LOW = np.array([0.19, -0.30])
PLATE_HIGH = np.array([0.29, -0.08])
MIN_CUBE_DIST_M = 0.08
MIN_PLATE_DIST_M = 0.12
CUBE_YAW = 0.0  # the right hand's comfortable top-down tool yaw (modulo the cube's symmetry)
CUBE_YAW_JITTER = 0.25

# Right arm home: the tool 10 cm above the table at (0.24, -0.19), fingers down, tool yaw 0
# (an IK solution of that pose; every corner of the cube region at tool yaw +-0.25 rad is
# then reachable from it, which is not so at other yaws or a lower table).
G1_RIGHT_ARM_HOME: dict[str, float] = {
    "right_shoulder_pitch_joint": -0.71, "right_shoulder_roll_joint": -0.86,
    "right_shoulder_yaw_joint": 0.80, "right_elbow_joint": 0.10,
    "right_wrist_roll_joint": -0.56, "right_wrist_pitch_joint": -0.99,
    "right_wrist_yaw_joint": 1.47,
}
# Tool frame in right_wrist_yaw_link: fingers along +x, palm side (closing) +y.
TOOL_OFFSET_M = (0.13, 0.04, 0.0)
TOOL_QUAT_WXYZ = (np.sqrt(0.5), 0.0, np.sqrt(0.5), 0.0)  # Ry(90 deg): tool z = link x


class G1TableTask(PandaTableTask):
    """Shared layout of the G1 cube tasks (not registered itself)."""

    default_scene = "manip_g1"
    cubes = CUBES

    def arm_setup(self) -> ArmSetup:
        hand = G1_RIGHT_HAND_JOINT_NAMES
        return ArmSetup(
            arm_joints=G1_RIGHT_ARM_JOINT_NAMES, gripper_joints=hand,
            ee_body="right_wrist_yaw_link", ee_offset=TOOL_OFFSET_M,
            ee_quat_offset=TOOL_QUAT_WXYZ,
            gripper_open={n: DEX3_OPEN.get(n, 0.0) for n in hand},
            gripper_closed={n: DEX3_CLOSED[n] for n in hand},
            gripper_q_open=tuple(DEX3_OPEN.get(n, 0.0) for n in hand),
            gripper_q_closed=tuple(DEX3_CLOSED[n] for n in hand),
            home=dict(G1_RIGHT_ARM_HOME),
        )

    def _setup_arm(self, arm: ArmSetup) -> None:
        super(PandaTableTask, self)._setup_arm(arm)
        b = self.backend
        self.cube_qpos = {c: b.free_joint_qpos_index(c) for c in CUBES}
        self.cube_body_ids = b.body_index(CUBES)
        self._rows = np.arange(self.num_envs)
        self.roles = np.zeros((self.num_envs, len(CUBES)), dtype=np.int64)
        self.plate_pos_w = np.tile([0.45, -0.2, TABLE_TOP_Z + 0.005], (self.num_envs, 1))
        self.init_pos_w = np.zeros((self.num_envs, len(CUBES), 3))

    def _place_objects(self, i: int, rng: np.random.Generator, qpos: np.ndarray) -> None:
        self.roles[i] = rng.permutation(len(CUBES))
        xy = sample_positions(rng, len(CUBES), REGION_LOW, REGION_HIGH,
                              np.full((2, 2), MIN_CUBE_DIST_M))
        yaws = CUBE_YAW + rng.uniform(-CUBE_YAW_JITTER, CUBE_YAW_JITTER, len(CUBES))
        for k, c in enumerate(CUBES):
            p = np.array([xy[k, 0], xy[k, 1], TABLE_TOP_Z + CUBE_HALF_M + 5e-4])
            qpos[self.cube_qpos[c]] = np.concatenate([p, yaw_quat(yaws[k])])
            self.init_pos_w[i, k] = p
        for _ in range(200):
            plate = rng.uniform(PLATE_LOW, PLATE_HIGH)
            if np.all(np.linalg.norm(xy - plate, axis=1) >= MIN_PLATE_DIST_M):
                break
        self.plate_pos_w[i] = [plate[0], plate[1], TABLE_TOP_Z + 0.005]
        self.instructions[i] = self.instruction(i)

    def role(self, env_id: int, k: int) -> str:
        return CUBES[self.roles[env_id, k]]

    def _cube_grasp(self, env_id: int, name: str) -> dict:
        out = super()._cube_grasp(env_id, name)
        out["grasp_dz"] = 0.004
        return out


class G1PickCubeTask(G1TableTask):
    """``twin/G1PickCube-v0``: pick up the named cube with the right hand.

    Task Description:
        "pick up the {colour} cube": grasp the source cube with the Dex3 hand and lift it;
        the other cube and the plate are distractors.
    Randomizations: see the module docstring.
    Success Conditions: the source cube's centre is >= 5 cm above its resting height and
        within 5 cm of the tool point (held, not knocked up). Time limit 100 steps.
    """

    default_max_steps = 100
    LIFT_M = 0.05

    def instruction(self, env_id: int) -> str:
        return f"pick up the {COLOR[self.role(env_id, 0)]} cube"

    def _success(self):
        pos = self._cube_pos_role(0)
        lift = pos[:, 2] - (TABLE_TOP_Z + CUBE_HALF_M)
        d = pos - self._tcp_w()
        near = np.sqrt((d * d).sum(axis=1))
        return (lift >= self.LIFT_M) & (near < 0.05), {"lift_m": lift, "tcp_dist_m": near}

    def oracle_targets(self, env_id: int) -> dict:
        return {"kind": "pick", **self._cube_grasp(env_id, self.role(env_id, 0))}


class G1PlaceOnPlateTask(G1TableTask):
    """``twin/G1PlaceOnPlate-v0``: put the named cube on the plate with the right hand.

    Task Description:
        "put the {colour} cube on the plate"; the other cube is a distractor.
    Randomizations: see the module docstring.
    Success Conditions: the source cube's centre is within 5 cm of the plate centre in xy,
        resting on the plate (|z - (plate top + 2.5 cm)| < 1 cm), slower than 5 cm/s, and
        the hand is open (measured open fraction > 0.7). Time limit 160 steps.
    """

    default_max_steps = 160

    def instruction(self, env_id: int) -> str:
        return f"put the {COLOR[self.role(env_id, 0)]} cube on the plate"

    def _success(self):
        pos, speed = self._cube_pos_role(0), self._cube_speed_role(0)
        xy = np.linalg.norm(pos[:, :2] - self.plate_pos_w[:, :2], axis=1)
        dz = np.abs(pos[:, 2] - (PLATE_TOP_Z + CUBE_HALF_M))
        ok = (xy < PLATE_RADIUS_M - 0.02) & (dz < 0.01) & (speed < STATIC_SPEED_M_S)
        released = self.state().gripper_open > RELEASED_OPEN_FRACTION
        return ok & released, {"xy_dist_m": xy, "dz_m": dz}

    def oracle_targets(self, env_id: int) -> dict:
        place = self.plate_pos_w[env_id] + [0.0, 0.0, 0.005 + CUBE_HALF_M + 0.008]
        return {"kind": "pick_place", **self._cube_grasp(env_id, self.role(env_id, 0)),
                "place_pos": self.to_base(place)}


class G1PickCubeEnv(ManipulationEnv):
    task_cls = G1PickCubeTask


class G1PickCubeVectorEnv(ManipulationVectorEnv):
    task_cls = G1PickCubeTask


class G1PlaceOnPlateEnv(ManipulationEnv):
    task_cls = G1PlaceOnPlateTask


class G1PlaceOnPlateVectorEnv(ManipulationVectorEnv):
    task_cls = G1PlaceOnPlateTask
