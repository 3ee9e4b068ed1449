"""The shared core of twin's arm-manipulation tasks: arm setup, action interface, observations.

``ManipulationTask`` is a ``BatchedTask`` for one arm with a gripper on a table. It owns the
end-effector controller (``twin.controllers.ee_control``), reads actions in the configured
mode (``ee_delta`` by default: [d_rot (3), d_pos (3), gripper (1)], base frame, axis-angle),
and builds dict observations:

- ``instruction``: the language instruction (str);
- ``joint_pos`` / ``joint_vel``: arm then gripper joints (rad, rad/s; names in
  ``task.obs_joint_names``);
- ``ee_pos`` (m) and ``ee_quat_wxyz``: end-effector pose in the robot base frame;
- ``gripper``: measured open fraction (1 open, 0 closed);
- ``images`` (``obs_mode="rgb"`` only): {camera: (H, W, 3) uint8} for ``cameras``.

Camera intrinsics and extrinsics: ``task.camera_params(env_id)`` (and the single env's reset
info ``camera_params``). Subclasses implement ``_place_objects`` (seeded initial state),
``_success`` and ``instruction``; ``oracle_targets`` feeds the scripted oracle policy;
``tracked_body_ids`` names the objects whose positions each step's ``state()`` reads. A task's
success thresholds are a typed config (``twin.envs.manipulation.terms``): the class's
``success_default`` preset, or ``success=`` (a config or a dict of fields to change).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from twin.controllers.ee_control import EEControlConfig, EEController, make_mink_ik
from twin.envs.batched_task import BatchedTask
from twin.envs.manipulation.terms import coerce_success
from twin.envs.single import TwinEnv
from twin.envs.vector import TwinVectorEnv

from twin.rotations import quat_conjugate, quat_to_matrix
from twin.scene.config import load_scene_config
from twin.sim import make_backend

log = logging.getLogger(__name__)

OBS_MODES = ("state", "rgb")
INVALID_ACTION_POLICIES = ("raise", "clamp")
MAX_INSTRUCTION_CHARS = 256


@dataclass(frozen=True)
class ArmSetup:
    """Which joints, end effector and gripper of a robot form the manipulator."""

    arm_joints: tuple[str, ...]
    gripper_joints: tuple[str, ...]
    ee_body: str
    ee_offset: tuple[float, float, float]  # m, in the ee body frame: the tool-centre point
    gripper_open: dict[str, float]  # actuator name -> ctrl when open
    gripper_closed: dict[str, float]
    gripper_q_open: tuple[float, ...]  # gripper joint positions when open (no object)
    gripper_q_closed: tuple[float, ...]  # ... and when closed on nothing
    home: dict[str, float] = field(default_factory=dict)  # arm joint -> rad at reset
    # Tool frame = ee body frame rotated by this (wxyz): the frame ``ee_quat_wxyz`` and the
    # ``ee_delta`` rotations refer to (identity for the Panda; a palm frame for a hand).
    ee_quat_offset: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)


@dataclass
class StepState:
    """What one control step reads from the backend, read once after each physics step
    (``ManipulationTask.state()``): the backend's ``get_qpos`` copies its batched mirrors,
    and the end-effector pose is needed by the controller, the observation and the success
    predicate alike. ``body_pos_w`` holds the bodies a task tracks (its objects), read in
    the same backend call as the end effector; ``extra`` holds task-specific arrays
    computed from the same state."""

    qpos: np.ndarray  # (N, nq)
    qvel: np.ndarray  # (N, nv)
    ee_pos_b: np.ndarray  # (N, 3) m, tool-centre point, robot base frame
    ee_rot_b: np.ndarray  # (N, 3, 3) base-from-tool rotation
    ee_quat_b: np.ndarray  # (N, 4) wxyz, w >= 0, same rotation
    gripper_open: np.ndarray  # (N,) measured open fraction (1 open, 0 closed)
    body_pos_w: np.ndarray  # (N, B, 3) m, world, bodies ``task.tracked_body_ids()``
    extra: dict = field(default_factory=dict)


class ManipulationTask(BatchedTask):
    """One arm + gripper on a table, objects placed per seed, success by predicate."""

    render_camera = "third_person"
    default_scene: str = ""
    default_max_steps: int = 160
    success_default = None  # the task's success-threshold preset (twin.envs.manipulation.terms)

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = None,
                 scene: str | None = None, obs_mode: str = "rgb",
                 image_size: tuple[int, int] | int = 256,
                 cameras: tuple[str, ...] | list[str] = ("third_person", "wrist"),
                 control: EEControlConfig | dict | None = None,
                 invalid_action: str = "raise", terminate_on_success: bool = True,
                 render_profile: str = "fast", num_threads: int | None = None,
                 scene_overrides: list[str] | None = None, backend: str = "mujoco",
                 success=None):
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode {obs_mode!r}; expected one of {list(OBS_MODES)}")
        if invalid_action not in INVALID_ACTION_POLICIES:
            raise ValueError(f"invalid_action {invalid_action!r}; expected one of "
                             f"{list(INVALID_ACTION_POLICIES)}")
        self.success_cfg = (coerce_success(success, self.success_default, type(self).__name__)
                            if self.success_default is not None else None)
        cfg = load_scene_config(scene or self.default_scene, scene_overrides)
        backend = make_backend(cfg, num_envs=num_envs, backend=backend, num_threads=num_threads,
                               render_profile=render_profile)
        super().__init__(backend, cfg.physics.decimation,
                         self.default_max_steps if max_episode_steps is None else max_episode_steps)
        self.scene_cfg = cfg
        self.obs_mode = obs_mode
        w, h = (image_size, image_size) if isinstance(image_size, int) else image_size
        self.image_size = (int(w), int(h))
        self.cameras = tuple(cameras)
        unknown = [c for c in self.cameras if c not in backend.camera_names]
        if unknown:
            raise ValueError(f"unknown cameras {unknown}; expected some of "
                             f"{list(backend.camera_names)}")
        if self.render_camera not in backend.camera_names:
            self.render_camera = backend.camera_names[0]
        self.invalid_action = invalid_action
        self.invalid_action_count = 0
        self.terminate_on_success = terminate_on_success
        if isinstance(control, dict):
            control = EEControlConfig(**control)
        self.control = control or EEControlConfig()
        self._setup_arm(self.arm_setup())
        self.instructions = np.array([""] * self.num_envs, dtype=object)
        self._setup_spaces()
        # what state() reads in one backend call: the end-effector body, then tracked bodies
        self._state_body_ids = np.concatenate([self.ee_body_id, self.tracked_body_ids()])

    # --- subclass hooks ------------------------------------------------------------------
    def arm_setup(self) -> ArmSetup:
        raise NotImplementedError

    def _place_objects(self, i: int, rng: np.random.Generator, qpos: np.ndarray) -> None:
        """Write env ``i``'s initial object poses into its ``qpos`` row (and mocap poses)."""
        raise NotImplementedError

    def _success(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(N,) bool success predicate and diagnostic arrays."""
        raise NotImplementedError

    def _post_set_state(self, env_ids: np.ndarray) -> None:
        """Pose mocap bodies (``set_state`` resets them to the model's defaults)."""

    def tracked_body_ids(self) -> np.ndarray:
        """Bodies whose world positions every ``state()`` reads (``StepState.body_pos_w``),
        e.g. the objects a success predicate looks at. Called once, after ``_setup_arm``."""
        return np.zeros(0, dtype=np.int64)

    def oracle_targets(self, env_id: int) -> dict:
        """Privileged description of how to solve env ``env_id`` (for the oracle policy)."""
        raise NotImplementedError

    # --- setup ---------------------------------------------------------------------------
    def _setup_arm(self, arm: ArmSetup) -> None:
        b = self.backend
        robot = b.robot
        self.arm = arm
        self.robot_joints = robot.joint_names
        self.obs_joint_names = arm.arm_joints + arm.gripper_joints
        self.arm_qpos_idx = b.joint_qpos_index(arm.arm_joints)
        self.arm_qvel_idx = b.joint_qvel_index(arm.arm_joints)
        self.obs_qpos_idx = b.joint_qpos_index(self.obs_joint_names)
        self.obs_qvel_idx = b.joint_qvel_index(self.obs_joint_names)
        self.arm_act_idx = b.actuator_index_for_joints(arm.arm_joints)
        self.grip_act_idx = b.actuator_index(list(arm.gripper_open))
        self.grip_open = np.array([arm.gripper_open[n] for n in arm.gripper_open])
        self.grip_closed = np.array([arm.gripper_closed.get(n, 0.0) for n in arm.gripper_open])
        self.grip_qpos_idx = b.joint_qpos_index(arm.gripper_joints)
        self._grip_q_open = np.asarray(arm.gripper_q_open, dtype=np.float64)
        span = np.asarray(arm.gripper_q_closed, dtype=np.float64) - self._grip_q_open
        self._grip_span = np.where(np.abs(span) > 1e-9, span, 1.0)
        self.ee_body_id = b.body_index([arm.ee_body])
        self.ee_offset = np.asarray(arm.ee_offset, dtype=np.float64)
        self._ee_quat_offset = np.asarray(arm.ee_quat_offset, dtype=np.float64)
        self.arm_limits = b.joint_limits(arm.arm_joints)
        self.base_body_id = b.body_index([robot.root_body_name])
        self.base_pos_w = b.body_pos_w(self.base_body_id)[0, 0].copy()
        base_quat_w = b.body_quat_wxyz(self.base_body_id)[0, 0].copy()
        self.base_rot_w = quat_to_matrix(base_quat_w)
        # tool orientation in the base frame: conj(q_base) * q_ee_body * q_offset
        self._ee_quat_map = _quat_sandwich_map(quat_conjugate(base_quat_w), self._ee_quat_offset)
        self._tool = _ToolFrame(self._ee_quat_map, self.ee_offset, self.base_pos_w,
                                self.base_rot_w)
        self._grip_q_open_t = tuple(self._grip_q_open.tolist())
        self._grip_span_t = tuple(self._grip_span.tolist())
        self.robot_qpos_idx = b.joint_qpos_index(self.robot_joints)
        home = robot.default_joint_pos_array(self.robot_joints)
        for n, v in arm.home.items():
            home[self.robot_joints.index(n)] = v
        self.home_robot_q = home
        ik = None
        if self.control.mode != "joint_pos":
            ik = make_mink_ik(robot.name, self.scene_cfg.robot_base_pos, arm.ee_body,
                              self.ee_offset, arm.arm_joints, self.control_dt,
                              ee_quat_offset=self._ee_quat_offset)
            ik_cols = np.array([self.robot_joints.index(n) for n in ik.joint_names])
            self._controller_qpos_idx = self.robot_qpos_idx[ik_cols]
            ik.set_posture(self.home_robot_q[ik_cols])
        else:
            self._controller_qpos_idx = self.robot_qpos_idx
        self.ik = ik
        self.controller = EEController(self.control, ik, self.num_envs, len(arm.arm_joints),
                                       self.base_pos_w, self.base_rot_w, self.arm_limits)
        self._ctrl = np.zeros((self.num_envs, len(b.actuator_names)))
        self._home_arm_q = self.home_robot_q[[self.robot_joints.index(n) for n in arm.arm_joints]]
        # other actuated joints (e.g. the G1's idle arm and hand) hold their default pose
        others = [n for n in robot.actuated_joint_names
                  if n not in arm.arm_joints and n not in arm.gripper_joints]
        self._idle_act_idx = b.actuator_index_for_joints(others)
        self._idle_q = robot.default_joint_pos_array(tuple(others))
        # per-step index sets as slices where they are contiguous (views, not fancy-index
        # copies); the index arrays above stay the public description
        self._ctrl_q_sel = _as_slice(self._controller_qpos_idx)
        self._arm_act_sel = _as_slice(self.arm_act_idx)
        self._grip_act_sel = _as_slice(self.grip_act_idx)
        self._grip_q_sel = _as_slice(self.grip_qpos_idx)
        self._obs_q_sel = _as_slice(self.obs_qpos_idx)
        self._obs_v_sel = _as_slice(self.obs_qvel_idx)
        self._grip_closed_ctrl = self.grip_closed[None]  # (1, G) actuator ctrl
        self._grip_span_ctrl = (self.grip_open - self.grip_closed)[None]
        self._state: StepState | None = None

    def _setup_spaces(self) -> None:
        c = self.control
        nj = len(self.obs_joint_names)
        if c.mode == "joint_pos":
            lo = np.append(self.arm_limits[:, 0], c.gripper_bounds()[0])
            hi = np.append(self.arm_limits[:, 1], c.gripper_bounds()[1])
        elif c.mode == "ee_delta":
            lo = np.array([-c.max_rotation_rad] * 3 + [-c.max_translation_m] * 3
                          + [c.gripper_bounds()[0]])
            hi = -lo
            hi[6] = c.gripper_bounds()[1]
        else:  # ee_abs: rotation parameters, base-frame position within 2 m
            lo = np.array([-np.pi] * 3 + [-2.0] * 3 + [c.gripper_bounds()[0]])
            hi = np.array([np.pi] * 3 + [2.0] * 3 + [c.gripper_bounds()[1]])
        self.action_space = gym.spaces.Box(lo.astype(np.float32), hi.astype(np.float32),
                                           dtype=np.float32)
        # what validate_action checks every step, computed once: the batched shape and the
        # bounds as float64 (exact: float32 widens without rounding)
        self._action_shape = (self.num_envs,) + tuple(self.action_space.shape)
        self._action_low = self.action_space.low.astype(np.float64)
        self._action_high = self.action_space.high.astype(np.float64)
        f32 = dict(low=-np.inf, high=np.inf, dtype=np.float32)
        spaces = {
            "instruction": gym.spaces.Text(MAX_INSTRUCTION_CHARS, charset=_CHARSET),
            "joint_pos": gym.spaces.Box(shape=(nj,), **f32),
            "joint_vel": gym.spaces.Box(shape=(nj,), **f32),
            "ee_pos": gym.spaces.Box(shape=(3,), **f32),
            "ee_quat_wxyz": gym.spaces.Box(-1.0, 1.0, (4,), np.float32),
            "gripper": gym.spaces.Box(0.0, 1.0, (1,), np.float32),
        }
        if self.obs_mode == "rgb":
            w, h = self.image_size
            spaces["images"] = gym.spaces.Dict({
                c: gym.spaces.Box(0, 255, (h, w, 3), np.uint8) for c in self.cameras})
        self.observation_space = gym.spaces.Dict(spaces)

    # --- kinematics helpers --------------------------------------------------------------
    def state(self) -> StepState:
        """The current ``StepState`` of all N envs, read from the backend once per physics
        step (invalidated when actions are applied and envs reset)."""
        if self._state is None:
            b = self.backend
            qpos = b.get_qpos()
            body_pos = b.body_pos_w(self._state_body_ids)
            pos, rot, quat = self._tool_pose(body_pos[:, 0],
                                             b.body_quat_wxyz(self.ee_body_id)[:, 0])
            self._state = StepState(qpos, b.get_qvel(), pos, rot, quat,
                                    self._gripper_open(qpos[:, self._grip_q_sel]),
                                    body_pos[:, 1:])
        return self._state

    def invalidate_state(self) -> None:
        """Forget the cached ``StepState`` (call after changing the backend state directly)."""
        self._state = None

    def _ee_pose(self, env_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tool pose in the base frame, read now: pos (N, 3), rotation (N, 3, 3), quat wxyz
        (N, 4)."""
        b = self.backend
        return self._tool_pose(b.body_pos_w(self.ee_body_id, env_ids)[:, 0],
                               b.body_quat_wxyz(self.ee_body_id, env_ids)[:, 0])

    def _tool_pose(self, body_pos_w: np.ndarray, body_quat_w: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """End-effector body world poses (N, 3), (N, 4) -> tool pose in the base frame, env
        by env (``_ToolFrame``), so one env's result does not depend on how many envs are
        batched with it."""
        pose_b = self._tool.pose_b
        if len(body_pos_w) == 1:  # the single env: no per-env lists to gather
            pos, rot, quat = pose_b(body_pos_w[0].tolist(), body_quat_w[0].tolist())
            return np.array([pos]), np.array([rot]), np.array([quat])
        poses = [pose_b(p, q) for p, q in zip(body_pos_w.tolist(), body_quat_w.tolist())]
        n = len(poses)
        return (np.array([x[0] for x in poses]).reshape(n, 3),
                np.array([x[1] for x in poses]).reshape(n, 3, 3),
                np.array([x[2] for x in poses]).reshape(n, 4))

    def ee_pose_b(self, env_ids=None) -> tuple[np.ndarray, np.ndarray]:
        """End-effector (tool) pose in the base frame, read now: pos (N, 3) m, rotation
        (N, 3, 3)."""
        pos, rot, _ = self._ee_pose(env_ids)
        return pos, rot

    def to_base(self, p_w: np.ndarray) -> np.ndarray:
        return (np.asarray(p_w) - self.base_pos_w) @ self.base_rot_w

    def gripper_open_measured(self, env_ids=None) -> np.ndarray:
        return self._gripper_open(self.backend.get_qpos(env_ids)[:, self._grip_q_sel])

    def _gripper_open(self, q_grip: np.ndarray) -> np.ndarray:
        """(N, G) gripper joint positions -> (N,) open fraction: 1 - the mean closed
        fraction, clipped to [0, 1]. Plain floats per env (a few numpy calls cost more)."""
        q_open, span = self._grip_q_open_t, self._grip_span_t
        out = []
        for row in q_grip.tolist():
            closed = (row[0] - q_open[0]) / span[0]
            for j in range(1, len(row)):
                closed = closed + (row[j] - q_open[j]) / span[j]
            closed = closed / len(row)
            if closed < 0.0:  # clip to [0, 1]; NaN stays NaN
                closed = 0.0
            elif closed > 1.0:
                closed = 1.0
            out.append(1.0 - closed)
        return np.array(out, dtype=np.float64)

    def object_pose(self, name: str, env_ids=None) -> tuple[np.ndarray, np.ndarray]:
        """World position (N, 3) and quaternion wxyz (N, 4) of a body."""
        bid = self.backend.body_index([name])
        return (self.backend.body_pos_w(bid, env_ids)[:, 0],
                self.backend.body_quat_wxyz(bid, env_ids)[:, 0])

    def camera_params(self, env_id: int = 0) -> dict:
        """{camera: CameraParams} at the observation image size, current poses."""
        w, h = self.image_size
        return {c: self.backend.camera_params(c, w, h, env_id)
                for c in self.backend.camera_names}

    # --- BatchedTask hooks ---------------------------------------------------------------
    def _reset_envs(self, env_ids: np.ndarray) -> None:
        b = self.backend
        self._state = None
        qpos = b.get_qpos(env_ids)
        for k, i in enumerate(env_ids):
            qpos[k, self.robot_qpos_idx] = self.home_robot_q
            self._place_objects(int(i), self.rngs[i], qpos[k])
        b.set_state(qpos, np.zeros_like(b.get_qvel(env_ids)), env_ids)
        self._post_set_state(env_ids)
        ctrl = b.get_ctrl(env_ids)
        ctrl[:, self._idle_act_idx] = self._idle_q
        ctrl[:, self.arm_act_idx] = self._home_arm_q
        ctrl[:, self.grip_act_idx] = self.grip_open
        b.set_ctrl(ctrl, env_ids)
        self._ctrl[env_ids] = ctrl
        # let objects settle onto the table under the holding controls
        b.step(10, env_ids)
        pos, rot = self.ee_pose_b(env_ids)
        self.controller.reset(np.asarray(env_ids), pos, rot, 1.0)
        self._state = None

    def validate_action(self, action: np.ndarray) -> np.ndarray:
        a = np.asarray(action)
        if a.shape != self._action_shape:
            raise ValueError(f"action: expected shape {self._action_shape} ({self.control.mode}: "
                             f"{_describe_action(self.control)}), got {a.shape}")
        if a.dtype.kind not in _REAL_NUMBER_KINDS:
            raise ValueError(f"action: expected a numeric dtype, got {a.dtype}")
        a = a.astype(np.float64)
        if np.count_nonzero(np.isfinite(a)) != a.size:  # one check in the common case
            bad = ~np.isfinite(a)
            if self.invalid_action == "raise":
                raise ValueError("action: contains NaN or Inf (set invalid_action='clamp' to "
                                 "replace them by a hold action)")
            self.invalid_action_count += int(bad.any(axis=1).sum())
            log.warning("non-finite action replaced by a hold action (%d so far)",
                        self.invalid_action_count)
            a = np.where(bad, self._hold_action()[None].repeat(len(a), 0), a)
        return a.clip(self._action_low, self._action_high, out=a)

    def _hold_action(self) -> np.ndarray:
        """Per-dimension values that keep the arm still (used to replace NaN in clamp mode)."""
        if self.control.mode == "ee_delta":
            return np.zeros(7)
        return np.zeros(self.action_space.shape[0])

    def _apply_action(self, action: np.ndarray) -> None:
        s = self.state()
        q_robot = s.qpos[:, self._ctrl_q_sel]
        q_arm, open_frac = self.controller.compute(action, q_robot, None, s.ee_pos_b, s.ee_rot_b)
        self._state = None  # the physics step follows
        ctrl = self._ctrl
        ctrl[:, self._arm_act_sel] = q_arm
        ctrl[:, self._grip_act_sel] = (self._grip_closed_ctrl
                                       + open_frac[:, None] * self._grip_span_ctrl)
        self.backend.set_ctrl(ctrl)

    def _observe(self) -> dict:
        b = self.backend
        s = self.state()
        obs = {
            "instruction": self.instructions.copy(),
            "joint_pos": s.qpos[:, self._obs_q_sel].astype(np.float32),
            "joint_vel": s.qvel[:, self._obs_v_sel].astype(np.float32),
            "ee_pos": s.ee_pos_b.astype(np.float32),
            "ee_quat_wxyz": s.ee_quat_b.astype(np.float32),
            "gripper": s.gripper_open[:, None].astype(np.float32),
        }
        if self.obs_mode == "rgb" and not self.images_deferred:
            w, h = self.image_size
            # one env: a view, not a copy, of the rendered frame
            obs["images"] = {c: (b.render(c, w, h, "rgb", 0)[None] if self.num_envs == 1 else
                                 np.stack([b.render(c, w, h, "rgb", i)
                                           for i in range(self.num_envs)]))
                             for c in self.cameras}
        return obs

    def defer_images(self) -> bool:
        self.images_deferred = self.obs_mode == "rgb"
        return self.images_deferred

    def _evaluate(self):
        success, info = self._success()
        info = dict(info)
        info["is_success"] = success
        info["invalid_actions"] = np.array([self.invalid_action_count] * self.num_envs)
        terminated = success.copy() if self.terminate_on_success else np.zeros_like(success)
        if self.terminate_on_success:
            info["termination_reason"] = "success"
        return success.astype(np.float64), terminated, info

    def privileged_state(self, env_id: int) -> dict:
        """Poses the oracle may use: end effector (base frame), gripper, step counter."""
        pos, rot = self.ee_pose_b([env_id])
        return {"ee_pos": pos[0], "ee_rot": rot[0],
                "gripper": float(self.gripper_open_measured([env_id])[0]),
                "step": int(self.episode_steps[env_id]), **self.oracle_targets(env_id)}


def _quat_product_tensor() -> np.ndarray:
    """T (4, 4, 4) with (a * b)_k = sum_ij a_i b_j T[i, j, k] (Hamilton product, wxyz)."""
    T = np.zeros((4, 4, 4))
    w, x, y, z = range(4)
    for (i, j, k, sgn) in [(w, w, w, 1), (x, x, w, -1), (y, y, w, -1), (z, z, w, -1),
                           (w, x, x, 1), (x, w, x, 1), (y, z, x, 1), (z, y, x, -1),
                           (w, y, y, 1), (x, z, y, -1), (y, w, y, 1), (z, x, y, 1),
                           (w, z, z, 1), (x, y, z, 1), (y, x, z, -1), (z, w, z, 1)]:
        T[i, j, k] = sgn
    return T


_QUAT_PRODUCT = _quat_product_tensor()


def _quat_sandwich_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C (4, 4) with a * q * b = q @ C for constant unit quaternions a, b (wxyz)."""
    right = np.einsum("ijk,j->ik", _QUAT_PRODUCT, b)  # q * b = q @ right
    left = np.einsum("i,ijk->jk", a, _QUAT_PRODUCT)  # a * p = p @ left
    return right @ left


def _quat_matrix(w: float, x: float, y: float, z: float) -> list[list[float]]:
    """Rotation matrix (rows) of a unit quaternion wxyz, from its quadratic form. Each entry
    adds its four q_i q_j terms one at a time in this order; another order rounds
    differently in the last bit, which would change recorded trajectories."""
    ww, xx, yy, zz = w * w, x * x, y * y, z * z
    wx, wy, wz = w * x, w * y, w * z
    xy, xz, yz = x * y, x * z, y * z
    return [[((ww + xx) - yy) - zz, ((xy - wz) + xy) - wz, ((wy + xz) + wy) + xz],
            [((wz + xy) + xy) + wz, ((ww - xx) + yy) - zz, ((-wx - wx) + yz) + yz],
            [((xz - wy) - wy) + xz, ((wx + wx) + yz) + yz, ((ww - xx) - yy) + zz]]


class _ToolFrame:
    """The tool pose in the robot base frame from the end-effector body's world pose.

    Plain Python floats, one env at a time: the ~60 multiply-adds cost less than the ~20
    numpy calls a batched (N, ...) version makes at N = 1, and one env's result cannot
    depend on how many envs are batched with it. Sums run left to right (see
    ``_quat_matrix``).
    """

    def __init__(self, quat_map: np.ndarray, offset: np.ndarray, base_pos_w: np.ndarray,
                 base_rot_w: np.ndarray):
        # quat_b = quat_w @ quat_map (conj(q_base) * q * q_offset); columns, for the sums
        self.quat_cols = tuple(tuple(col) for col in np.asarray(quat_map, float).T.tolist())
        self.offset = tuple(np.asarray(offset, float).tolist())  # m, ee body frame
        self.base_pos = tuple(np.asarray(base_pos_w, float).tolist())
        self.base_cols = tuple(tuple(col) for col in np.asarray(base_rot_w, float).T.tolist())
        # the same numbers flattened: one unpack per call instead of a loop over columns
        self._flat = (sum(self.quat_cols, ()) + self.offset + self.base_pos
                      + sum(self.base_cols, ()))

    def pose_b(self, pos_w: list[float], quat_w: list[float]
               ) -> tuple[list[float], list[list[float]], list[float]]:
        """Body world pos (3,) and quat wxyz (4,) -> tool pos (3,), rotation rows (3, 3)
        and quat wxyz (4,) with w >= 0, all in the base frame."""
        (a0, a1, a2, a3, e0, e1, e2, e3, f0, f1, f2, f3, g0, g1, g2, g3,
         o0, o1, o2, b0, b1, b2, c00, c01, c02, c10, c11, c12, c20, c21, c22) = self._flat
        w, x, y, z = quat_w
        q = [((w * a0 + x * a1) + y * a2) + z * a3, ((w * e0 + x * e1) + y * e2) + z * e3,
             ((w * f0 + x * f1) + y * f2) + z * f3, ((w * g0 + x * g1) + y * g2) + z * g3]
        if q[0] < 0:  # canonical: w >= 0
            q = [-q[0], -q[1], -q[2], -q[3]]
        (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = _quat_matrix(w, x, y, z)
        px, py, pz = pos_w
        d0 = (px + ((r00 * o0 + r01 * o1) + r02 * o2)) - b0  # tool point - base, world
        d1 = (py + ((r10 * o0 + r11 * o1) + r12 * o2)) - b1
        d2 = (pz + ((r20 * o0 + r21 * o1) + r22 * o2)) - b2
        pos = [(d0 * c00 + d1 * c01) + d2 * c02, (d0 * c10 + d1 * c11) + d2 * c12,
               (d0 * c20 + d1 * c21) + d2 * c22]
        return pos, _quat_matrix(*q), q


def _as_slice(idx: np.ndarray) -> slice | np.ndarray:
    """``idx`` as a slice when it is a contiguous ascending run (indexing then gives views,
    not copies), else ``idx`` itself."""
    idx = np.asarray(idx)
    if idx.ndim == 1 and len(idx) > 0 and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
        return slice(int(idx[0]), int(idx[0]) + len(idx))
    return idx


def _describe_action(c: EEControlConfig) -> str:
    if c.mode == "ee_delta":
        return (f"[d_rotation (3, {c.rotation}, {c.frame} frame), d_translation (3, m, "
                f"{c.frame} frame), gripper (1, {c.gripper})]")
    if c.mode == "ee_abs":
        return f"[rotation (3, {c.rotation}, base frame), position (3, m, base), gripper (1)]"
    return f"[arm joint targets (rad), gripper (1, {c.gripper})]"


# dtype kinds ``validate_action`` accepts: what np.floating and np.integer cover
_REAL_NUMBER_KINDS = frozenset("fium")
_CHARSET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,'-_")


def yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def sample_positions(rng: np.random.Generator, n: int, low: np.ndarray, high: np.ndarray,
                     min_dist: np.ndarray, tries: int = 200) -> np.ndarray:
    """n xy positions uniformly in [low, high] with pairwise distances >= min_dist[i, j]
    (rejection sampling; deterministic given the rng)."""
    # rng.uniform(low, high) draws low + (high - low) * rng.random() per element; the same
    # draws and float operations in plain floats skip its per-call argument checks (the
    # positions are bit-identical)
    (lx, ly), (hx, hy) = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    lx, ly, rx, ry = float(lx), float(ly), float(hx - lx), float(hy - ly)
    min_dist = np.asarray(min_dist, dtype=np.float64).tolist()
    out = []
    for k in range(n):
        placed = list(zip(out, min_dist[k]))
        for _ in range(tries):
            ux, uy = rng.random(2).tolist()
            x, y = lx + rx * ux, ly + ry * uy
            if all(math.sqrt((x - ox) * (x - ox) + (y - oy) * (y - oy)) >= d
                   for (ox, oy), d in placed):
                break
        out.append((x, y))
    return np.array(out, dtype=np.float64).reshape(n, 2)


class ManipulationEnv(TwinEnv):
    """Single Gymnasium env of a ``ManipulationTask``; reset info carries camera params."""

    task_cls: type[ManipulationTask] = ManipulationTask

    def __init__(self, render_mode: str | None = None, **task_kwargs):
        task_kwargs.setdefault("max_episode_steps", None)  # gym.make adds TimeLimit
        if task_kwargs["max_episode_steps"] is None:
            task_kwargs["max_episode_steps"] = 0  # sentinel: no internal limit
        task = self.task_cls(num_envs=1, **task_kwargs)
        if task.max_episode_steps == 0:
            task.max_episode_steps = None
        super().__init__(task, render_mode=render_mode)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = super().reset(seed=seed, options=options)
        info["camera_params"] = {k: v.as_dict() for k, v in self.task.camera_params(0).items()}
        return obs, info


class ManipulationVectorEnv(TwinVectorEnv):
    task_cls: type[ManipulationTask] = ManipulationTask

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, **task_kwargs):
        super().__init__(self.task_cls(num_envs=num_envs, **task_kwargs),
                         render_mode=render_mode)
