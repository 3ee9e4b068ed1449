"""The simulator backend interface: batched state in and out as numpy arrays.

Envs, validation and recording talk to this interface only; ``twin/sim/mujoco_*`` is the
default implementation, ``twin/sim/newton_backend.py`` (NVIDIA Newton, the physics of Isaac
Lab 3) the second. Every array is batched over environments on axis 0 (``N = num_envs``);
``env_ids`` selects a subset. ``tests/backends`` holds every backend to this contract.

Frames and units: world frame z-up, metres, radians, seconds, kg, N; quaternions wxyz.
Velocities returned by the named accessors (``body_vel_w``, ``root_state``) are world frame.
Derived quantities (body/site poses, cameras, contacts) are exact after ``set_state``; after
``step`` a backend may report them from the start of the last physics step (MuJoCo computes
them before integrating), i.e. up to one ``physics_dt`` behind ``qpos``.

The generalised state ``qpos`` (N, nq) / ``qvel`` (N, nv) has one layout in every backend,
addressed only through the index methods (never by literal offsets):

- hinge/slide joint: 1 entry each in qpos and qvel (rad or m; rad/s or m/s);
- free joint: qpos ``[pos_w (3), quat_wxyz (4)]`` (``free_joint_qpos_index``), qvel
  ``[lin_vel_w (3) of the body origin, world frame; ang_vel_b (3), body frame]``
  (``free_joint_qvel_index``). This is MuJoCo's convention; a backend whose native state
  differs converts at its boundary.

Static geometry (the floor, fixed scenery) belongs to the body named ``WORLD_BODY`` in
``Contact.body1/body2`` in every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from twin.robots.spec import RobotSpec
from twin.rotations import quat_apply
from twin.scene.camera import CameraParams
from twin.scene.config import SceneConfig

RenderMode = Literal["rgb", "depth", "segmentation"]
EnvIds = Sequence[int] | np.ndarray | None

# The body that owns static geometry (floor, fixed scenery) in contacts, in every backend.
WORLD_BODY = "world"


@dataclass(frozen=True)
class Contact:
    """One active contact in one environment. ``force_normal_n`` is >= 0 (pushing apart)."""

    geom1: str
    geom2: str
    body1: str
    body2: str
    pos_w: np.ndarray  # (3,)
    force_normal_n: float
    distance_m: float


@dataclass(frozen=True)
class RootState:
    """Pose and velocity of a floating body (a robot's root), all (N, 3) or (N, 4)."""

    pos_w: np.ndarray  # m, body origin, world
    quat_wxyz: np.ndarray  # world-from-body
    lin_vel_w: np.ndarray  # m/s, body origin, world frame
    ang_vel_w: np.ndarray  # rad/s, world frame
    ang_vel_b: np.ndarray  # rad/s, body frame (= R_wb^T ang_vel_w)


class SimBackend(ABC):
    """Batched rigid-body simulation of ``num_envs`` copies of one scene."""

    num_envs: int
    physics_dt: float  # s

    # --- what was built ------------------------------------------------------------------
    @property
    @abstractmethod
    def robot(self) -> RobotSpec | None:
        """The robot this backend's scene was built around (None for a bare model)."""

    @property
    @abstractmethod
    def scene_config(self) -> SceneConfig | None:
        """The scene configuration this backend was built from (None for a bare model)."""

    @property
    @abstractmethod
    def nq(self) -> int:
        """Width of ``qpos``."""

    @property
    @abstractmethod
    def nv(self) -> int:
        """Width of ``qvel``."""

    @property
    @abstractmethod
    def nu(self) -> int:
        """Width of ``ctrl`` (number of actuators)."""

    # --- names (model order) -------------------------------------------------------------
    @property
    @abstractmethod
    def joint_names(self) -> tuple[str, ...]:
        """Hinge and slide joints, model order (free joints excluded)."""

    @property
    @abstractmethod
    def body_names(self) -> tuple[str, ...]: ...

    @property
    @abstractmethod
    def actuator_names(self) -> tuple[str, ...]: ...

    @abstractmethod
    def joint_qpos_index(self, names: Sequence[str]) -> np.ndarray:
        """Indices into qpos of the named hinge/slide joints."""

    @abstractmethod
    def joint_qvel_index(self, names: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def actuator_index(self, names: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def actuator_index_for_joints(self, joint_names: Sequence[str]) -> np.ndarray:
        """Actuator ids driving the named joints, in the given joint order."""

    @abstractmethod
    def joint_limits(self, names: Sequence[str]) -> np.ndarray:
        """(J, 2) position limits; (-inf, inf) for unlimited joints."""

    @abstractmethod
    def body_index(self, names: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def site_index(self, names: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def body_parent_index(self) -> np.ndarray:
        """(nbody,) parent body id of every body (the world's parent is itself, 0)."""

    @abstractmethod
    def free_joint_qpos_index(self, body_name: str) -> np.ndarray | None:
        """qpos slice (7,) [x y z qw qx qy qz] of a body's free joint, or None if it has none."""

    @abstractmethod
    def free_joint_qvel_index(self, body_name: str) -> np.ndarray | None:
        """qvel slice (6,) [lin_vel_w (3), ang_vel_b (3)] of a body's free joint, or None."""

    @abstractmethod
    def actuator_joint_names(self) -> tuple[str, ...]:
        """The joint each actuator drives ('' for tendon/site actuators), actuator order."""

    @abstractmethod
    def actuator_force_limits(self) -> np.ndarray:
        """(nu,) symmetric force/torque limit per actuator, N or N m (inf when unlimited)."""

    # --- state ---------------------------------------------------------------------------
    @abstractmethod
    def get_qpos(self, env_ids: EnvIds = None) -> np.ndarray: ...

    @abstractmethod
    def get_qvel(self, env_ids: EnvIds = None) -> np.ndarray: ...

    @abstractmethod
    def set_state(self, qpos: np.ndarray, qvel: np.ndarray, env_ids: EnvIds = None) -> None:
        """Set positions/velocities, zero warm starts and recompute derived quantities."""

    @abstractmethod
    def set_ctrl(self, ctrl: np.ndarray, env_ids: EnvIds = None) -> None: ...

    @abstractmethod
    def get_ctrl(self, env_ids: EnvIds = None) -> np.ndarray: ...

    @abstractmethod
    def step(self, nsubsteps: int = 1, env_ids: EnvIds = None) -> None:
        """Advance ``nsubsteps`` physics steps with the current controls."""

    @abstractmethod
    def time(self, env_ids: EnvIds = None) -> np.ndarray: ...

    @abstractmethod
    def set_mocap_pose(self, body_name: str, pos_w: np.ndarray, quat_wxyz: np.ndarray | None = None,
                       env_ids: EnvIds = None) -> None:
        """Place a kinematic (mocap) body: pos_w (N, 3), quat_wxyz (N, 4)."""

    # --- derived quantities --------------------------------------------------------------
    @abstractmethod
    def body_pos_w(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        """(N, B, 3)."""

    @abstractmethod
    def body_quat_wxyz(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        """(N, B, 4)."""

    @abstractmethod
    def site_pos_w(self, site_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        """(N, S, 3)."""

    @abstractmethod
    def site_rotmat_w(self, site_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        """(N, S, 3, 3) world-from-site rotation matrices."""

    def root_state(self, body_name: str, env_ids: EnvIds = None) -> RootState:
        """Pose and velocities of a body with a free joint, from the generalised state."""
        qpos_idx = self.free_joint_qpos_index(body_name)
        qvel_idx = self.free_joint_qvel_index(body_name)
        if qpos_idx is None or qvel_idx is None:
            raise ValueError(f"body {body_name!r} has no free joint: it is not a floating root")
        root = self.get_qpos(env_ids)[:, qpos_idx]
        vel = self.get_qvel(env_ids)[:, qvel_idx]
        quat = root[:, 3:7]
        ang_b = vel[:, 3:6]
        return RootState(pos_w=root[:, :3], quat_wxyz=quat, lin_vel_w=vel[:, :3],
                         ang_vel_w=quat_apply(quat, ang_b), ang_vel_b=ang_b)

    @abstractmethod
    def body_vel_w(self, body_ids: np.ndarray, env_ids: EnvIds = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Linear velocity of each body origin and angular velocity, world frame: (N, B, 3) x 2."""

    @abstractmethod
    def actuator_pd_gains(self, actuator_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(kp N m/rad, kd N m s/rad) of position actuators as simulated."""

    def static_holding_forces(self, qpos: np.ndarray, support_body_ids: np.ndarray,
                              support_point_b: np.ndarray, in_support: np.ndarray) -> np.ndarray:
        """(F, nv) generalized forces that hold each configuration ``qpos[f]`` (F, nq) still
        against gravity (zero velocity and acceleration) on its supports: the free root's
        share is carried by 6-D wrenches at ``support_point_b`` (body frame) of the bodies
        ``support_body_ids[k]`` where ``in_support[f, k]`` (minimum-norm split between
        supports); the joint entries are what the actuators must apply. Frames without a
        support get the bare gravity forces. Nominal model (no domain randomisation)."""
        raise NotImplementedError(f"{type(self).__name__} does not compute static holding forces")

    @abstractmethod
    def actuator_force(self, env_ids: EnvIds = None) -> np.ndarray:
        """(N, nu) actuator forces/torques after clamping, N or N m."""

    @abstractmethod
    def contacts(self, env_id: int) -> list[Contact]: ...

    @abstractmethod
    def diverged(self, env_ids: EnvIds = None) -> np.ndarray:
        """(N,) bool: state is non-finite or exploded (a reason to end the episode)."""

    # --- per-env physics (domain randomisation) -------------------------------------------
    @abstractmethod
    def geom_index_of_bodies(self, body_ids: np.ndarray) -> np.ndarray:
        """Indices of the collision/visual geoms attached to these bodies."""

    @abstractmethod
    def set_friction_scale(self, scale: np.ndarray, geom_ids: np.ndarray | None = None,
                           env_ids: EnvIds = None) -> None:
        """Sliding friction of ``geom_ids`` (all geoms: None) := nominal x scale[k] in env k."""

    @abstractmethod
    def set_body_com_offset(self, body_ids: np.ndarray, offset_b: np.ndarray,
                            env_ids: EnvIds = None) -> None:
        """Body centre of mass := nominal + offset_b[k, j] (m, body frame) in env k."""

    @abstractmethod
    def friction(self, geom_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        """(N, G) sliding friction coefficients now in effect."""

    @abstractmethod
    def body_mass(self, body_ids: np.ndarray) -> np.ndarray:
        """(B,) nominal body masses, kg."""

    @abstractmethod
    def body_com_b(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        """(N, B, 3) body centres of mass in effect, m, body frame."""

    # --- cameras -------------------------------------------------------------------------
    @property
    @abstractmethod
    def camera_names(self) -> tuple[str, ...]: ...

    @abstractmethod
    def camera_params(self, camera: str, width: int | None = None, height: int | None = None,
                      env_id: int = 0) -> CameraParams: ...

    @abstractmethod
    def render(self, camera: str, width: int, height: int, mode: RenderMode = "rgb",
               env_id: int = 0, ghost_qpos: np.ndarray | None = None) -> np.ndarray:
        """rgb: (H, W, 3) uint8; depth: (H, W) float32 m; segmentation: (H, W) int32 body id
        (-1 = background). ``ghost_qpos``: also draw that state translucent (a reference)."""

    def replay_backend(self, render_profile: str = "full") -> SimBackend:
        """A one-env MuJoCo backend of the same scene, for posing stored ``qpos`` (the
        interface's layout is MuJoCo's) and rendering it, e.g. by recorders. Never steps
        this backend's physics."""
        from twin.sim import make_backend

        if self.scene_config is None:
            raise ValueError("a replay backend needs a backend made from a scene config")
        return make_backend(self.scene_config, num_envs=1, render_profile=render_profile)

    def close(self) -> None:
        """Release threads and renderers."""


class HostStateBuffers:
    """For backends that mirror every env's state in host arrays ``_qpos`` (N, nq), ``_qvel``
    (N, nv) and ``_ctrl`` (N, nu): the getters, copying (callers may keep what they get)."""

    num_envs: int
    _qpos: np.ndarray
    _qvel: np.ndarray
    _ctrl: np.ndarray

    def _ids(self, env_ids: EnvIds) -> range | np.ndarray:
        return range(self.num_envs) if env_ids is None else np.asarray(env_ids, dtype=np.int64)

    def _sel(self, buf: np.ndarray, env_ids: EnvIds) -> np.ndarray:
        return buf.copy() if env_ids is None else buf[np.asarray(env_ids, dtype=np.int64)]

    def get_qpos(self, env_ids: EnvIds = None) -> np.ndarray:
        return self._sel(self._qpos, env_ids)

    def get_qvel(self, env_ids: EnvIds = None) -> np.ndarray:
        return self._sel(self._qvel, env_ids)

    def get_ctrl(self, env_ids: EnvIds = None) -> np.ndarray:
        return self._sel(self._ctrl, env_ids)
