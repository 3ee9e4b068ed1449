"""The simulator backend interface: batched state in and out as numpy arrays.

Envs, validation and recording talk to this interface only; ``twin/sim/mujoco_*`` is the
default implementation and an Isaac Sim backend implements the same methods. Every array is
batched over environments on axis 0 (``N = num_envs``); ``env_ids`` selects a subset.
Quaternions are wxyz, positions metres in the z-up world, velocities in the world frame.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from twin.scene.camera import CameraParams

RenderMode = Literal["rgb", "depth", "segmentation"]
EnvIds = Sequence[int] | np.ndarray | None


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


class SimBackend(ABC):
    """Batched rigid-body simulation of ``num_envs`` copies of one scene."""

    num_envs: int
    physics_dt: float  # s

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

    @abstractmethod
    def body_vel_w(self, body_ids: np.ndarray, env_ids: EnvIds = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Linear velocity of each body origin and angular velocity, world frame: (N, B, 3) x 2."""

    @abstractmethod
    def actuator_pd_gains(self, actuator_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(kp N m/rad, kd N m s/rad) of position actuators as simulated."""

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

    def close(self) -> None:
        """Release threads and renderers."""
