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
``_success`` and ``instruction``; ``oracle_targets`` feeds the scripted oracle policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from twin.controllers.ee_control import EEControlConfig, EEController, make_mink_ik
from twin.envs.batched_task import BatchedTask
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
    predicate alike. ``extra`` holds task-specific arrays computed from the same state."""

    qpos: np.ndarray  # (N, nq)
    qvel: np.ndarray  # (N, nv)
    ee_pos_b: np.ndarray  # (N, 3) m, tool-centre point, robot base frame
    ee_rot_b: np.ndarray  # (N, 3, 3) base-from-tool rotation
    ee_quat_b: np.ndarray  # (N, 4) wxyz, w >= 0, same rotation
    gripper_open: np.ndarray  # (N,) measured open fraction (1 open, 0 closed)
    extra: dict = field(default_factory=dict)


class ManipulationTask(BatchedTask):
    """One arm + gripper on a table, objects placed per seed, success by predicate."""

    render_camera = "third_person"
    default_scene: str = ""
    default_max_steps: int = 160

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = None,
                 scene: str | None = None, obs_mode: str = "rgb",
                 image_size: tuple[int, int] | int = 256,
                 cameras: tuple[str, ...] | list[str] = ("third_person", "wrist"),
                 control: EEControlConfig | dict | None = None,
                 invalid_action: str = "raise", terminate_on_success: bool = True,
                 render_profile: str = "fast", num_threads: int | None = None,
                 scene_overrides: list[str] | None = None):
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode {obs_mode!r}; expected one of {list(OBS_MODES)}")
        if invalid_action not in INVALID_ACTION_POLICIES:
            raise ValueError(f"invalid_action {invalid_action!r}; expected one of "
                             f"{list(INVALID_ACTION_POLICIES)}")
        cfg = load_scene_config(scene or self.default_scene, scene_overrides)
        backend = make_backend(cfg, num_envs=num_envs, num_threads=num_threads,
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

    def oracle_targets(self, env_id: int) -> dict:
        """Privileged description of how to solve env ``env_id`` (for the oracle policy)."""
        raise NotImplementedError

    # --- setup ---------------------------------------------------------------------------
    def _setup_arm(self, arm: ArmSetup) -> None:
        b = self.backend
        robot = b.scene.robot
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
            pos, rot, quat = self._ee_pose(None)
            self._state = StepState(qpos, b.get_qvel(), pos, rot, quat,
                                    self._gripper_open(qpos[:, self.grip_qpos_idx]))
        return self._state

    def invalidate_state(self) -> None:
        """Forget the cached ``StepState`` (call after changing the backend state directly)."""
        self._state = None

    def _ee_pose(self, env_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tool pose in the base frame: pos (N, 3), rotation (N, 3, 3), quat wxyz (N, 4).
        Row-wise products and sums only (no BLAS), so one env's result does not depend on
        how many envs are batched with it."""
        b = self.backend
        pos_w = b.body_pos_w(self.ee_body_id, env_ids)[:, 0]
        quat_w = b.body_quat_wxyz(self.ee_body_id, env_ids)[:, 0]
        # tool orientation relative to the base: conj(q_base) * q_ee * q_offset
        quat_b = (quat_w[:, :, None] * self._ee_quat_map).sum(axis=1)
        quat_b *= np.where(quat_b[:, :1] < 0, -1.0, 1.0)  # canonical: w >= 0
        R_w = _quat_to_matrix(quat_w)
        pos_w = pos_w + (R_w * self.ee_offset).sum(axis=2)
        pos_b = ((pos_w - self.base_pos_w)[:, :, None] * self.base_rot_w).sum(axis=1)
        return pos_b, _quat_to_matrix(quat_b), quat_b

    def ee_pose_b(self, env_ids=None) -> tuple[np.ndarray, np.ndarray]:
        """End-effector (tool) pose in the base frame, read now: pos (N, 3) m, rotation
        (N, 3, 3)."""
        pos, rot, _ = self._ee_pose(env_ids)
        return pos, rot

    def to_base(self, p_w: np.ndarray) -> np.ndarray:
        return (np.asarray(p_w) - self.base_pos_w) @ self.base_rot_w

    def gripper_open_measured(self, env_ids=None) -> np.ndarray:
        return self._gripper_open(self.backend.get_qpos(env_ids)[:, self.grip_qpos_idx])

    def _gripper_open(self, q_grip: np.ndarray) -> np.ndarray:
        closed_frac = np.clip(((q_grip - self._grip_q_open) / self._grip_span).mean(axis=1),
                              0.0, 1.0)
        return 1.0 - closed_frac

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
        shape = (self.num_envs,) + tuple(self.action_space.shape)
        a = np.asarray(action)
        if a.shape != shape:
            raise ValueError(f"action: expected shape {shape} ({self.control.mode}: "
                             f"{_describe_action(self.control)}), got {a.shape}")
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"action: expected a numeric dtype, got {a.dtype}")
        a = a.astype(np.float64)
        if not np.isfinite(a).all():  # one check in the common case
            bad = ~np.isfinite(a)
            if self.invalid_action == "raise":
                raise ValueError("action: contains NaN or Inf (set invalid_action='clamp' to "
                                 "replace them by a hold action)")
            self.invalid_action_count += int(bad.any(axis=1).sum())
            log.warning("non-finite action replaced by a hold action (%d so far)",
                        self.invalid_action_count)
            a = np.where(bad, self._hold_action()[None].repeat(len(a), 0), a)
        lo, hi = self.action_space.low, self.action_space.high
        return np.clip(a, lo, hi)

    def _hold_action(self) -> np.ndarray:
        """Per-dimension values that keep the arm still (used to replace NaN in clamp mode)."""
        if self.control.mode == "ee_delta":
            return np.zeros(7)
        return np.zeros(self.action_space.shape[0])

    def _apply_action(self, action: np.ndarray) -> None:
        s = self.state()
        q_robot = s.qpos[:, self._controller_qpos_idx]
        q_arm, open_frac = self.controller.compute(action, q_robot, None, s.ee_pos_b, s.ee_rot_b)
        self._state = None  # the physics step follows
        self._ctrl[:, self.arm_act_idx] = q_arm
        self._ctrl[:, self.grip_act_idx] = (self.grip_closed[None] + open_frac[:, None]
                                            * (self.grip_open - self.grip_closed)[None])
        self.backend.set_ctrl(self._ctrl)

    def _observe(self) -> dict:
        b = self.backend
        s = self.state()
        obs = {
            "instruction": self.instructions.copy(),
            "joint_pos": s.qpos[:, self.obs_qpos_idx].astype(np.float32),
            "joint_vel": s.qvel[:, self.obs_qvel_idx].astype(np.float32),
            "ee_pos": s.ee_pos_b.astype(np.float32),
            "ee_quat_wxyz": s.ee_quat_b.astype(np.float32),
            "gripper": s.gripper_open[:, None].astype(np.float32),
        }
        if self.obs_mode == "rgb":
            w, h = self.image_size
            # one env: a view, not a copy, of the rendered frame
            obs["images"] = {c: (b.render(c, w, h, "rgb", 0)[None] if self.num_envs == 1 else
                                 np.stack([b.render(c, w, h, "rgb", i)
                                           for i in range(self.num_envs)]))
                             for c in self.cameras}
        return obs

    def _evaluate(self):
        success, info = self._success()
        info = dict(info)
        info["is_success"] = success
        info["invalid_actions"] = np.full(self.num_envs, self.invalid_action_count)
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


def _quat_matrix_tensor() -> np.ndarray:
    """M (16, 9) with R.flat = vec(q q^T) @ M for a unit quaternion q (wxyz)."""
    M = np.zeros((4, 4, 9))
    w, x, y, z = range(4)
    for k, (a, b_) in enumerate(((0, 0), (1, 1), (2, 2))):  # diagonal: w^2 +- ...
        signs = {0: (1, 1, -1, -1), 1: (1, -1, 1, -1), 2: (1, -1, -1, 1)}[k]
        for q_i, sg in zip((w, x, y, z), signs):
            M[q_i, q_i, 4 * k] = sg
    for (row, col, terms) in [(0, 1, ((x, y, 1), (w, z, -1))), (0, 2, ((x, z, 1), (w, y, 1))),
                              (1, 0, ((x, y, 1), (w, z, 1))), (1, 2, ((y, z, 1), (w, x, -1))),
                              (2, 0, ((x, z, 1), (w, y, -1))), (2, 1, ((y, z, 1), (w, x, 1)))]:
        for (i, j, sg) in terms:  # 2 q_i q_j, split over both halves of the symmetric outer
            M[i, j, 3 * row + col] += sg
            M[j, i, 3 * row + col] += sg
    return M.reshape(16, 9)


_QUAT_PRODUCT = _quat_product_tensor()
_QUAT_MATRIX = _quat_matrix_tensor()


def _quat_sandwich_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C (4, 4) with a * q * b = q @ C for constant unit quaternions a, b (wxyz)."""
    right = np.einsum("ijk,j->ik", _QUAT_PRODUCT, b)  # q * b = q @ right
    left = np.einsum("i,ijk->jk", a, _QUAT_PRODUCT)  # a * p = p @ left
    return right @ left


def _quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(N, 4) unit wxyz -> (N, 3, 3), from the quadratic form (row-wise, no BLAS)."""
    outer = (q[:, :, None] * q[:, None, :]).reshape(len(q), 16, 1)
    return (outer * _QUAT_MATRIX[None]).sum(axis=1).reshape(len(q), 3, 3)


def _describe_action(c: EEControlConfig) -> str:
    if c.mode == "ee_delta":
        return (f"[d_rotation (3, {c.rotation}, {c.frame} frame), d_translation (3, m, "
                f"{c.frame} frame), gripper (1, {c.gripper})]")
    if c.mode == "ee_abs":
        return f"[rotation (3, {c.rotation}, base frame), position (3, m, base), gripper (1)]"
    return f"[arm joint targets (rad), gripper (1, {c.gripper})]"


_CHARSET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,'-_")


def yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def sample_positions(rng: np.random.Generator, n: int, low: np.ndarray, high: np.ndarray,
                     min_dist: np.ndarray, tries: int = 200) -> np.ndarray:
    """n xy positions uniformly in [low, high] with pairwise distances >= min_dist[i, j]
    (rejection sampling; deterministic given the rng)."""
    out = np.zeros((n, 2))
    for k in range(n):
        for _ in range(tries):
            p = rng.uniform(low, high)
            if all(np.linalg.norm(p - out[j]) >= min_dist[k, j] for j in range(k)):
                break
        out[k] = p
    return out


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
