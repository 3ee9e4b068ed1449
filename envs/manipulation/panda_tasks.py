"""Panda table-top tasks modelled on SIMPLER / VideoVLA evaluations: pick, place on plate,
stack, move near. One scene (``configs/scene/manip_panda.yaml``): a Panda mounted on a
table, four 4 cm cubes (red, green, blue, yellow) and a plate. Which cube is the source,
which the target and which are distractors is drawn per seed, so the instruction changes
with the seed.

Common to every task here:

Action: ``ee_delta`` by default (see ``twin.controllers.ee_control``), 20 Hz control
    (dt 0.002, decimation 25), differential IK (mink) to joint-position targets.
Randomizations (per environment, from its seed): the cube colours' roles (a permutation);
    every cube's xy uniformly in x [0.36, 0.62], y [-0.22, 0.22] m (world; robot base at
    the origin, table top z = 0.4 m), pairwise >= 8 cm apart; cube yaw U(-pi/4, pi/4);
    the plate's xy in the same region, >= 13 cm from every cube. Initial arm pose: the
    Panda's home pose, gripper open.
"""

from __future__ import annotations

import numpy as np
from twin.envs.manipulation.base import (
    ArmSetup,
    ManipulationEnv,
    ManipulationTask,
    ManipulationVectorEnv,
    sample_positions,
    yaw_quat,
)
from twin.envs.manipulation.terms import (
    LiftSuccess,
    MoveNearSuccess,
    PlaceSuccess,
    StackSuccess,
    lifted_and_held,
    moved_near,
    placed,
    stacked,
    static,
)

from twin.rotations import yaw_from_quat

CUBES = ("cube_red", "cube_green", "cube_blue", "cube_yellow")
COLOR = {c: c.split("_")[1] for c in CUBES}
CUBE_HALF_M = 0.02
TABLE_TOP_Z = 0.4
PLATE_RADIUS_M = 0.07
PLATE_TOP_Z = TABLE_TOP_Z + 0.01
REGION_LOW = np.array([0.36, -0.22])
REGION_HIGH = np.array([0.62, 0.22])
MIN_CUBE_DIST_M = 0.08
MIN_PLATE_DIST_M = 0.13
RELEASED_OPEN_FRACTION = 0.7  # fingers wider than a cube: not squeezing it
STATIC_SPEED_M_S = 0.05
# pairwise minimum distances of the placed objects: the cubes, then the plate
_MIN_DIST = np.full((len(CUBES) + 1, len(CUBES) + 1), MIN_CUBE_DIST_M)
_MIN_DIST[-1, :] = _MIN_DIST[:, -1] = MIN_PLATE_DIST_M


def _norm(v: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis; the same sums as ``np.linalg.norm(v, axis=-1)``,
    without its dispatch (a few microseconds per call in a per-step predicate)."""
    return np.sqrt((v * v).sum(axis=-1))


class PandaTableTask(ManipulationTask):
    """Shared layout and helpers of the Panda cube tasks (not registered itself)."""

    default_scene = "manip_panda"
    uses_plate = False

    def arm_setup(self) -> ArmSetup:
        robot = self.backend.robot  # gripper commands by the robot's actuator names
        return ArmSetup(
            arm_joints=tuple(f"joint{i}" for i in range(1, 8)),
            gripper_joints=("finger_joint1", "finger_joint2"),
            ee_body="hand", ee_offset=(0.0, 0.0, 0.1034),  # the ``tcp`` site of twin's Panda
            gripper_open=dict(robot.gripper_open_ctrl),
            gripper_closed=dict(robot.gripper_closed_ctrl),
            gripper_q_open=(0.04, 0.04), gripper_q_closed=(0.0, 0.0),
        )

    def _setup_arm(self, arm: ArmSetup) -> None:
        super()._setup_arm(arm)
        b = self.backend
        self.cube_qpos = {c: b.free_joint_qpos_index(c) for c in CUBES}
        self._cube_qpos_all = np.concatenate([self.cube_qpos[c] for c in CUBES])
        self.cube_body_ids = b.body_index(CUBES)
        self._rows = np.arange(self.num_envs)
        self.roles = np.zeros((self.num_envs, len(CUBES)), dtype=np.int64)  # permutations
        self.plate_pos_w = np.tile([0.65, 0.0, TABLE_TOP_Z + 0.005], (self.num_envs, 1))
        self.init_pos_w = np.zeros((self.num_envs, len(CUBES), 3))

    def _place_objects(self, i: int, rng: np.random.Generator, qpos: np.ndarray) -> None:
        self.roles[i] = rng.permutation(len(CUBES))
        xy = sample_positions(rng, len(CUBES) + 1, REGION_LOW, REGION_HIGH, _MIN_DIST).tolist()
        yaws = rng.uniform(-np.pi / 4, np.pi / 4, len(CUBES))
        # all cubes' free-joint qpos [pos, quat wxyz] in one write; quats as ``yaw_quat``
        cubes = [[x, y, TABLE_TOP_Z + CUBE_HALF_M + 5e-4] for x, y in xy[:len(CUBES)]]
        qpos[self._cube_qpos_all] = [v for p, yaw in zip(cubes, yaws) for v in
                                     (*p, *yaw_quat(yaw).tolist())]
        self.init_pos_w[i] = cubes
        self.plate_pos_w[i] = [xy[-1][0], xy[-1][1], TABLE_TOP_Z + 0.005]
        self.instructions[i] = self.instruction(i)

    def _post_set_state(self, env_ids: np.ndarray) -> None:
        self.backend.set_mocap_pose("plate", self.plate_pos_w[env_ids], env_ids=env_ids)

    def role(self, env_id: int, k: int) -> str:
        """The k-th cube of env ``env_id``'s permutation (0 = source, 1 = target, ...)."""
        return CUBES[self.roles[env_id, k]]

    def instruction(self, env_id: int) -> str:
        raise NotImplementedError

    def tracked_body_ids(self) -> np.ndarray:
        return self.cube_body_ids

    def _cube_pos(self) -> np.ndarray:
        """World positions (N, 4, 3) of the cubes in ``CUBES`` order (read with the step's
        state)."""
        return self.state().body_pos_w

    def _cube_pos_role(self, k: int) -> np.ndarray:
        """World position (N, 3) of each env's k-th role cube."""
        return self._cube_pos()[self._rows, self.roles[:, k]]

    def _cube_speed_role(self, k: int) -> np.ndarray:
        """Speed (N,) m/s of each env's k-th role cube (once per step)."""
        st = self.state()
        if "cube_speed" not in st.extra:
            lin, _ = self.backend.body_vel_w(self.cube_body_ids)
            st.extra["cube_speed"] = np.sqrt((lin * lin).sum(axis=2))
        return st.extra["cube_speed"][self._rows, self.roles[:, k]]

    def _and_static(self, ok: np.ndarray, k: int, static_speed_mps: float) -> np.ndarray:
        """``ok`` and each env's k-th role cube slower than ``static_speed_mps``; the speed
        (body velocities, the costliest read of a success check) only when some env is ok."""
        if ok.any():
            ok = ok & static(self._cube_speed_role(k), static_speed_mps)
        return ok

    def _tcp_w(self) -> np.ndarray:
        return self.state().ee_pos_b @ self.base_rot_w.T + self.base_pos_w

    def _cube_grasp(self, env_id: int, name: str) -> dict:
        p, q = self.object_pose(name, [env_id])
        grasp = self.to_base(p[0])
        ee, _ = self.ee_pose_b([env_id])
        return {"grasp_pos": grasp, "grasp_yaw": float(yaw_from_quat(q[0])),
                "held_offset": ee[0] - grasp}  # tcp - object centre: meaningful once held


class PandaPickCubeTask(PandaTableTask):
    """``twin/PandaPickCube-v0``: pick up the named cube.

    Task Description:
        "pick up the {colour} cube": grasp the source cube and lift it; three other cubes
        and a plate are distractors.
    Randomizations: see the module docstring (source colour, all cube poses, plate).
    Success Conditions: the source cube's centre is >= 5 cm above its resting height and
        within 3 cm of the tool-centre point (held, not knocked up). Time limit 100 steps.
    """

    default_max_steps = 100
    success_default = LiftSuccess(lift_m=0.05, held_radius_m=0.03)

    def instruction(self, env_id: int) -> str:
        return f"pick up the {COLOR[self.role(env_id, 0)]} cube"

    def _success(self):
        pos = self._cube_pos_role(0)
        lift = pos[:, 2] - (TABLE_TOP_Z + CUBE_HALF_M)
        near = _norm(pos - self._tcp_w())
        return (lifted_and_held(lift, near, self.success_cfg),
                {"lift_m": lift, "tcp_dist_m": near})

    def oracle_targets(self, env_id: int) -> dict:
        return {"kind": "pick", **self._cube_grasp(env_id, self.role(env_id, 0))}


class PandaPlaceOnPlateTask(PandaTableTask):
    """``twin/PandaPlaceOnPlate-v0``: put cube A on the plate.

    Task Description:
        "put the {colour} cube on the plate": carry the source cube onto the plate and let
        go; three other cubes are distractors.
    Randomizations: see the module docstring.
    Success Conditions: the source cube's centre is within 5 cm (plate radius - 2 cm) of
        the plate centre in xy, resting on the plate (|z - (plate top + 2 cm)| < 1 cm),
        moving slower than 5 cm/s, and the gripper is open wider than the cube (released).
        Time limit 160 steps.
    """

    default_max_steps = 160
    success_default = PlaceSuccess(xy_radius_m=PLATE_RADIUS_M - 0.02, dz_tol_m=0.01,
                                   static_speed_mps=STATIC_SPEED_M_S,
                                   released_open_fraction=RELEASED_OPEN_FRACTION)

    def instruction(self, env_id: int) -> str:
        return f"put the {COLOR[self.role(env_id, 0)]} cube on the plate"

    def _success(self):
        c = self.success_cfg
        pos = self._cube_pos_role(0)
        xy = _norm(pos[:, :2] - self.plate_pos_w[:, :2])
        dz = np.abs(pos[:, 2] - (PLATE_TOP_Z + CUBE_HALF_M))
        ok = placed(xy, dz, self.state().gripper_open, c)
        return self._and_static(ok, 0, c.static_speed_mps), {"xy_dist_m": xy, "dz_m": dz}

    def oracle_targets(self, env_id: int) -> dict:
        place = self.plate_pos_w[env_id] + [0.0, 0.0, 0.005 + CUBE_HALF_M + 0.008]
        return {"kind": "pick_place", **self._cube_grasp(env_id, self.role(env_id, 0)),
                "place_pos": self.to_base(place)}


class PandaStackCubeTask(PandaTableTask):
    """``twin/PandaStackCube-v0``: stack cube A on cube B.

    Task Description:
        "stack the {colour A} cube on the {colour B} cube"; two other cubes and the plate
        are distractors.
    Randomizations: see the module docstring (which two colours, all poses).
    Success Conditions: A's centre within 2 cm of B's in xy and 4 cm +- 8 mm above it,
        A slower than 5 cm/s, gripper released. Time limit 160 steps.
    """

    default_max_steps = 160
    success_default = StackSuccess(xy_radius_m=0.02, height_m=2 * CUBE_HALF_M,
                                   height_tol_m=0.008, static_speed_mps=STATIC_SPEED_M_S,
                                   released_open_fraction=RELEASED_OPEN_FRACTION)

    def instruction(self, env_id: int) -> str:
        return (f"stack the {COLOR[self.role(env_id, 0)]} cube on the "
                f"{COLOR[self.role(env_id, 1)]} cube")

    def _success(self):
        c = self.success_cfg
        a, b = self._cube_pos_role(0), self._cube_pos_role(1)
        xy = _norm(a[:, :2] - b[:, :2])
        dz = a[:, 2] - b[:, 2]
        ok = stacked(xy, dz, self.state().gripper_open, c)
        return self._and_static(ok, 0, c.static_speed_mps), {"xy_dist_m": xy, "dz_m": dz}

    def oracle_targets(self, env_id: int) -> dict:
        b, _ = self.object_pose(self.role(env_id, 1), [env_id])
        place = b[0] + [0.0, 0.0, 2 * CUBE_HALF_M + 0.006]
        return {"kind": "pick_place", **self._cube_grasp(env_id, self.role(env_id, 0)),
                "place_pos": self.to_base(place)}


class PandaMoveNearTask(PandaTableTask):
    """``twin/PandaMoveNear-v0``: move cube A near cube B.

    Task Description:
        "move the {colour A} cube near the {colour B} cube"; two other cubes and the plate
        are distractors.
    Randomizations: see the module docstring.
    Success Conditions: A rests on the table (|z - rest| < 1 cm, slower than 5 cm/s) with
        its centre within 8 cm of B's in xy; B and the distractor cubes moved less than
        3 cm in xy; gripper released. Time limit 160 steps.
    """

    default_max_steps = 160
    success_default = MoveNearSuccess(near_m=0.08, rest_tol_m=0.01, others_moved_max_m=0.03,
                                      static_speed_mps=STATIC_SPEED_M_S,
                                      released_open_fraction=RELEASED_OPEN_FRACTION)

    def instruction(self, env_id: int) -> str:
        return (f"move the {COLOR[self.role(env_id, 0)]} cube near the "
                f"{COLOR[self.role(env_id, 1)]} cube")

    def _success(self):
        c = self.success_cfg
        a, b = self._cube_pos_role(0), self._cube_pos_role(1)
        xy = _norm(a[:, :2] - b[:, :2])
        rest_dz = np.abs(a[:, 2] - (TABLE_TOP_Z + CUBE_HALF_M))
        pos = self._cube_pos()
        moved_each = _norm(pos[..., :2] - self.init_pos_w[..., :2])  # (N, 4)
        moved_each[self._rows, self.roles[:, 0]] = 0.0  # the source cube is meant to move
        moved = moved_each.max(axis=1)
        ok = moved_near(xy, rest_dz, moved, self.state().gripper_open, c)
        return (self._and_static(ok, 0, c.static_speed_mps),
                {"xy_dist_m": xy, "others_moved_m": moved})

    def oracle_targets(self, env_id: int) -> dict:
        a, _ = self.object_pose(self.role(env_id, 0), [env_id])
        b, _ = self.object_pose(self.role(env_id, 1), [env_id])
        d = a[0, :2] - b[0, :2]
        goal = b[0].copy()
        goal[:2] += 0.055 * d / max(np.linalg.norm(d), 1e-6)
        goal[2] = TABLE_TOP_Z + CUBE_HALF_M + 0.004
        return {"kind": "pick_place", **self._cube_grasp(env_id, self.role(env_id, 0)),
                "place_pos": self.to_base(goal)}


class PandaPickCubeEnv(ManipulationEnv):
    task_cls = PandaPickCubeTask


class PandaPickCubeVectorEnv(ManipulationVectorEnv):
    task_cls = PandaPickCubeTask


class PandaPlaceOnPlateEnv(ManipulationEnv):
    task_cls = PandaPlaceOnPlateTask


class PandaPlaceOnPlateVectorEnv(ManipulationVectorEnv):
    task_cls = PandaPlaceOnPlateTask


class PandaStackCubeEnv(ManipulationEnv):
    task_cls = PandaStackCubeTask


class PandaStackCubeVectorEnv(ManipulationVectorEnv):
    task_cls = PandaStackCubeTask


class PandaMoveNearEnv(ManipulationEnv):
    task_cls = PandaMoveNearTask


class PandaMoveNearVectorEnv(ManipulationVectorEnv):
    task_cls = PandaMoveNearTask
