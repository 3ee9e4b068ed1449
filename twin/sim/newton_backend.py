"""NVIDIA Newton implementation of ``SimBackend`` (the physics engine under Isaac Lab 3).

What runs where:

- The scene is the same MJCF document the MuJoCo backend compiles
  (``twin.sim.mujoco_scene.scene_mjcf_xml``: robot edits, gain profile, floor, objects),
  imported with ``newton.ModelBuilder.add_mjcf``; every environment is a Newton ``Model``
  with its own ``State``/``Control`` and ``SolverMuJoCo``.
- Physics is Newton's: its model, state, control and ``SolverMuJoCo``. On device ``"cpu"``
  the solver integrates with MuJoCo's C library (``use_mujoco_cpu=True``: Newton simulates
  one world per solver there, hence one model per environment); on CUDA it would run
  MuJoCo-Warp over many worlds, which this class does not do yet (see README).
- Actuators keep MuJoCo's semantics (``ctrl_direct``): ``set_ctrl`` writes the same
  position targets / gripper commands as in the MuJoCo backend.
- Names, the generalised-state layout, sites, cameras and rendering come from a reference
  MuJoCo model of the same scene posed from Newton's state (kinematics only, no stepping).

Newton's native free-joint velocity is [linear velocity of the centre of mass, angular
velocity], both world frame, and its quaternions are xyzw; this module converts to the
interface's layout ([body-origin linear velocity, world; angular velocity, body frame],
wxyz) at the boundary. Newton computes in float32: state round trips hold to ~1e-7.

Warp compiles its kernels on first use (~50 s for the G1 on 2 cores) and caches them under
``~/.cache/warp`` (``WARP_CACHE_PATH``); later processes start in seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import newton
import numpy as np
import warp as wp

from twin.robots.spec import RobotSpec
from twin.rotations import quat_apply, quat_apply_inverse
from twin.scene.camera import CameraParams
from twin.scene.config import SceneConfig, load_scene_config
from twin.sim.backend import WORLD_BODY, Contact, EnvIds, HostStateBuffers, RenderMode, SimBackend
from twin.sim.mujoco_backend import DIVERGENCE_QVEL_LIMIT, MujocoBackend, reset_warm_start
from twin.sim.mujoco_scene import scene_mjcf_xml

wp.config.quiet = True


def _leaf(label: str) -> str:
    return label.rsplit("/", 1)[-1]


class _World:
    """One environment: a Newton model with its own solver, states and control."""

    def __init__(self, builder: newton.ModelBuilder, device: str, dt: float):
        self.model = builder.finalize(device=device)
        with warnings.catch_warnings():
            # Newton 1.8 declares mujoco ~=3.17 and warns on 4.0, which it runs correctly
            # (tests/backends holds it to the same behaviour as the MuJoCo backend)
            warnings.filterwarnings("ignore", message="MuJoCo dependency version mismatch")
            self.solver = newton.solvers.SolverMuJoCo(self.model,
                                                      use_mujoco_cpu=(device == "cpu"))
        self.state = self.model.state()
        self.next_state = self.model.state()
        self.control = self.model.control()
        self.dt = dt
        self.time = 0.0

    def step(self, ctrl: np.ndarray, nsubsteps: int) -> None:
        self.control.mujoco.ctrl.assign(ctrl.astype(np.float32))
        for _ in range(nsubsteps):
            self.solver.step(self.state, self.next_state, self.control, None, self.dt)
            self.state, self.next_state = self.next_state, self.state
        self.time += nsubsteps * self.dt


class NewtonBackend(HostStateBuffers, SimBackend):
    def __init__(self, cfg: SceneConfig, num_envs: int = 1, device: str = "cpu",
                 render_profile: str = "full", num_threads: int | None = None):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if device != "cpu":
            raise NotImplementedError(
                f"device {device!r}: the Newton backend runs one MuJoCo-C world per env on "
                "'cpu' only; batched CUDA worlds (MuJoCo-Warp) are not implemented yet")
        del num_threads  # one process-wide warp runtime; envs step in turn
        self._ref = MujocoBackend.from_scene(cfg, num_envs=1, render_profile=render_profile)
        self.num_envs = int(num_envs)
        self.physics_dt = self._ref.physics_dt
        builder = newton.ModelBuilder()
        # contact detection exactly as the MJCF says (margin, no extra gap): Newton's 0.1 m
        # default gap made MuJoCo track ~17x the contacts (inactive ones) for the standing G1
        builder.rigid_gap = 0.0
        # visuals are drawn by the reference model: import collision geometry only
        builder.add_mjcf(scene_mjcf_xml(cfg), ctrl_direct=True, parse_visuals=False)
        self._worlds = [_World(builder, device, self.physics_dt) for _ in range(self.num_envs)]
        self._map_model(self._worlds[0].model)
        self._ctrl = np.zeros((self.num_envs, self.nu))
        self._qpos = np.tile(self._ref.get_qpos(), (self.num_envs, 1))
        self._qvel = np.zeros((self.num_envs, self.nv))
        nominal = self._ref.friction(np.arange(self._ref_ngeom))[0]
        self._friction = np.tile(nominal, (self.num_envs, 1))
        self._mocap: list[dict[int, tuple]] = [{} for _ in range(self.num_envs)]
        self.set_state(self._qpos, self._qvel)

    @classmethod
    def from_scene(cls, scene: SceneConfig | str | Path, num_envs: int = 1,
                   overrides: list[str] | None = None, **kwargs) -> NewtonBackend:
        cfg = scene if isinstance(scene, SceneConfig) else load_scene_config(scene, overrides)
        return cls(cfg, num_envs=num_envs, **kwargs)

    # --- index maps between the interface's layout and Newton's --------------------------
    def _map_model(self, m: newton.Model) -> None:
        ref = self._ref
        jtype = m.joint_type.numpy()
        q_start, qd_start = m.joint_q_start.numpy(), m.joint_qd_start.numpy()
        child = m.joint_child.numpy()
        body_of = {_leaf(lbl): i for i, lbl in enumerate(m.body_label)}
        self._newton_body = np.array([body_of.get(n, -1) for n in ref.body_names])
        if WORLD_BODY != ref.body_names[0]:
            raise RuntimeError(f"reference model's body 0 is {ref.body_names[0]!r}")
        self._hinge_qpos, self._hinge_q = [], []
        self._hinge_qvel, self._hinge_qd = [], []
        self._free: list[tuple[np.ndarray, np.ndarray, int, int, int]] = []
        free_type = int(newton.JointType.FREE)
        fixed_type = int(newton.JointType.FIXED)
        for j, lbl in enumerate(m.joint_label):
            if int(jtype[j]) == fixed_type:  # welds of fixed bodies: no coordinates
                continue
            if int(jtype[j]) == free_type:
                body = int(child[j])
                name = ref.body_names[int(np.flatnonzero(self._newton_body == body)[0])]
                self._free.append((ref.free_joint_qpos_index(name),
                                   ref.free_joint_qvel_index(name), int(q_start[j]),
                                   int(qd_start[j]), body))
                continue
            name = _leaf(lbl)
            if name not in ref.joint_names:
                raise RuntimeError(f"newton joint {lbl!r} has no counterpart in the scene")
            self._hinge_qpos.append(int(ref.joint_qpos_index([name])[0]))
            self._hinge_qvel.append(int(ref.joint_qvel_index([name])[0]))
            self._hinge_q.append(int(q_start[j]))
            self._hinge_qd.append(int(qd_start[j]))
        for a in ("_hinge_qpos", "_hinge_q", "_hinge_qvel", "_hinge_qd"):
            setattr(self, a, np.asarray(getattr(self, a), dtype=np.int64))
        if len(self._hinge_qpos) + 7 * len(self._free) != self.nq:
            raise RuntimeError("newton and MuJoCo disagree on the scene's joints")
        # collision geoms of the reference -> newton shapes, body by body in model order
        shape_body = m.shape_body.numpy()
        colliding = (m.shape_flags.numpy() & int(newton.ShapeFlags.COLLIDE_SHAPES)) != 0
        ref_bodies, ref_colliding = ref.geom_bodies_and_collision()
        self._ref_ngeom = len(ref_bodies)
        self._geom_shape = np.full(self._ref_ngeom, -1, dtype=np.int64)
        for rb, nb in enumerate(self._newton_body):
            ref_geoms = np.flatnonzero((ref_bodies == rb) & ref_colliding)
            shapes = np.flatnonzero((shape_body == nb) & colliding)
            if len(ref_geoms) == len(shapes):
                self._geom_shape[ref_geoms] = shapes
        self._nominal_mu = m.shape_material_mu.numpy().copy()
        self._nominal_com = m.body_com.numpy().copy()

    # --- what was built ------------------------------------------------------------------
    @property
    def robot(self) -> RobotSpec | None:
        return self._ref.robot

    @property
    def scene_config(self) -> SceneConfig | None:
        return self._ref.scene_config

    @property
    def nq(self) -> int:
        return self._ref.nq

    @property
    def nv(self) -> int:
        return self._ref.nv

    @property
    def nu(self) -> int:
        return self._ref.nu

    # --- names: the reference model's ----------------------------------------------------
    @property
    def joint_names(self) -> tuple[str, ...]:
        return self._ref.joint_names

    @property
    def body_names(self) -> tuple[str, ...]:
        return self._ref.body_names

    @property
    def actuator_names(self) -> tuple[str, ...]:
        return self._ref.actuator_names

    @property
    def camera_names(self) -> tuple[str, ...]:
        return self._ref.camera_names

    def joint_qpos_index(self, names: Sequence[str]) -> np.ndarray:
        return self._ref.joint_qpos_index(names)

    def joint_qvel_index(self, names: Sequence[str]) -> np.ndarray:
        return self._ref.joint_qvel_index(names)

    def actuator_index(self, names: Sequence[str]) -> np.ndarray:
        return self._ref.actuator_index(names)

    def actuator_index_for_joints(self, joint_names: Sequence[str]) -> np.ndarray:
        return self._ref.actuator_index_for_joints(joint_names)

    def actuator_joint_names(self) -> tuple[str, ...]:
        return self._ref.actuator_joint_names()

    def joint_limits(self, names: Sequence[str]) -> np.ndarray:
        return self._ref.joint_limits(names)

    def body_index(self, names: Sequence[str]) -> np.ndarray:
        return self._ref.body_index(names)

    def site_index(self, names: Sequence[str]) -> np.ndarray:
        return self._ref.site_index(names)

    def body_parent_index(self) -> np.ndarray:
        return self._ref.body_parent_index()

    def free_joint_qpos_index(self, body_name: str) -> np.ndarray | None:
        return self._ref.free_joint_qpos_index(body_name)

    def free_joint_qvel_index(self, body_name: str) -> np.ndarray | None:
        return self._ref.free_joint_qvel_index(body_name)

    # --- state ---------------------------------------------------------------------------
    def time(self, env_ids: EnvIds = None) -> np.ndarray:
        return np.array([self._worlds[i].time for i in self._ids(env_ids)])

    def _com_w_offset(self, w: _World, body: int, quat_wxyz: np.ndarray) -> np.ndarray:
        """World-frame vector from a body's origin to its centre of mass."""
        return quat_apply(quat_wxyz, w.model.body_com.numpy()[body].astype(np.float64))

    def _pull(self, i: int) -> None:
        w = self._worlds[i]
        q = w.state.joint_q.numpy().astype(np.float64)
        qd = w.state.joint_qd.numpy().astype(np.float64)
        qpos, qvel = self._qpos[i], self._qvel[i]
        qpos[self._hinge_qpos] = q[self._hinge_q]
        qvel[self._hinge_qvel] = qd[self._hinge_qd]
        for qpos_idx, qvel_idx, qs, qds, body in self._free:
            quat_wxyz = np.concatenate([q[qs + 6:qs + 7], q[qs + 3:qs + 6]])
            qpos[qpos_idx] = np.concatenate([q[qs:qs + 3], quat_wxyz])
            v_com, ang_w = qd[qds:qds + 3], qd[qds + 3:qds + 6]
            v_origin = v_com - np.cross(ang_w, self._com_w_offset(w, body, quat_wxyz))
            qvel[qvel_idx] = np.concatenate([v_origin, quat_apply_inverse(quat_wxyz, ang_w)])

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray, env_ids: EnvIds = None) -> None:
        ids = self._ids(env_ids)
        qpos = np.asarray(qpos, dtype=np.float64).reshape(len(ids), self.nq)
        qvel = np.asarray(qvel, dtype=np.float64).reshape(len(ids), self.nv)
        for k, i in enumerate(ids):
            w = self._worlds[i]
            q = w.state.joint_q.numpy().astype(np.float64)
            qd = w.state.joint_qd.numpy().astype(np.float64)
            q[self._hinge_q] = qpos[k, self._hinge_qpos]
            qd[self._hinge_qd] = qvel[k, self._hinge_qvel]
            for qpos_idx, qvel_idx, qs, qds, body in self._free:
                root = qpos[k, qpos_idx]
                quat_wxyz = root[3:7] / np.linalg.norm(root[3:7])
                q[qs:qs + 7] = np.concatenate([root[:3], quat_wxyz[1:], quat_wxyz[:1]])
                v_origin, ang_b = qvel[k, qvel_idx[:3]], qvel[k, qvel_idx[3:]]
                ang_w = quat_apply(quat_wxyz, ang_b)
                v_com = v_origin + np.cross(ang_w, self._com_w_offset(w, body, quat_wxyz))
                qd[qds:qds + 6] = np.concatenate([v_com, ang_w])
            w.state.joint_q.assign(q.astype(np.float32))
            w.state.joint_qd.assign(qd.astype(np.float32))
            newton.eval_fk(w.model, w.state.joint_q, w.state.joint_qd, w.state)
            reset_warm_start(w.solver.mj_model, w.solver.mj_data)
            w.time = 0.0
            self._mocap[i] = {}  # as in MuJoCo: a set state puts mocap bodies back
            self._pull(i)

    def set_ctrl(self, ctrl: np.ndarray, env_ids: EnvIds = None) -> None:
        ctrl = np.asarray(ctrl, dtype=np.float64)
        if env_ids is None:
            self._ctrl[:] = ctrl.reshape(self.num_envs, self.nu)
        else:
            ids = np.asarray(env_ids, dtype=np.int64)
            self._ctrl[ids] = ctrl.reshape(len(ids), self.nu)

    def step(self, nsubsteps: int = 1, env_ids: EnvIds = None) -> None:
        for i in self._ids(env_ids):
            self._worlds[i].step(self._ctrl[i], nsubsteps)
            self._pull(i)

    def set_mocap_pose(self, body_name: str, pos_w: np.ndarray, quat_wxyz: np.ndarray | None = None,
                       env_ids: EnvIds = None) -> None:
        # Mocap bodies (e.g. the reach target) are kept per env and drawn where set; Newton's
        # physics does not move them (they stay where the scene puts them).
        b = int(self.body_index([body_name])[0])
        ids = self._ids(env_ids)
        pos_w = np.asarray(pos_w, dtype=np.float64).reshape(len(ids), 3)
        quat = None if quat_wxyz is None else np.asarray(quat_wxyz, np.float64).reshape(len(ids), 4)
        for k, i in enumerate(ids):
            old = self._mocap[i].get(b, (None, None))
            self._mocap[i][b] = (pos_w[k].copy(), old[1] if quat is None else quat[k].copy())

        # --- derived quantities --------------------------------------------------------------
    def _body_q(self, env_ids: EnvIds) -> np.ndarray:
        return np.stack([self._worlds[i].state.body_q.numpy() for i in self._ids(env_ids)]
                        ).astype(np.float64)

    def body_pos_w(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        nb = self._newton_body[np.asarray(body_ids)]
        pos = self._body_q(env_ids)[:, nb, :3]
        pos[:, nb < 0] = 0.0
        return pos

    def body_quat_wxyz(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        nb = self._newton_body[np.asarray(body_ids)]
        xyzw = self._body_q(env_ids)[:, nb, 3:7]
        quat = np.concatenate([xyzw[..., 3:], xyzw[..., :3]], axis=-1)
        quat[:, nb < 0] = (1.0, 0.0, 0.0, 0.0)
        return quat

    def _posed_reference(self, env_id: int) -> MujocoBackend:
        """The reference model posed at env ``env_id``'s state (kinematics only)."""
        self._ref.set_ctrl(self._ctrl[env_id:env_id + 1])
        self._ref.set_state(self._qpos[env_id:env_id + 1], self._qvel[env_id:env_id + 1])
        for b, (pos, quat) in self._mocap[env_id].items():
            self._ref.set_mocap_pose(self.body_names[b], pos[None],
                                     None if quat is None else quat[None], [0])
        return self._ref

    def _per_env(self, fn, env_ids: EnvIds) -> np.ndarray:
        return np.concatenate([fn(self._posed_reference(i)) for i in self._ids(env_ids)])

    def site_pos_w(self, site_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        return self._per_env(lambda r: r.site_pos_w(site_ids), env_ids)

    def site_rotmat_w(self, site_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        return self._per_env(lambda r: r.site_rotmat_w(site_ids), env_ids)

    def body_vel_w(self, body_ids: np.ndarray, env_ids: EnvIds = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        pairs = [self._posed_reference(i).body_vel_w(body_ids) for i in self._ids(env_ids)]
        return (np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))

    def actuator_pd_gains(self, actuator_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self._worlds[0].solver.mj_model
        ids = np.asarray(actuator_ids)
        return m.actuator_gainprm[ids, 0].copy(), -m.actuator_biasprm[ids, 2]

    def actuator_force_limits(self) -> np.ndarray:
        m = self._worlds[0].solver.mj_model
        lim = np.abs(m.actuator_forcerange).max(axis=1)
        lim[~m.actuator_forcelimited.astype(bool)] = np.inf
        return lim

    def actuator_force(self, env_ids: EnvIds = None) -> np.ndarray:
        return np.stack([self._worlds[i].solver.mj_data.actuator_force.copy()
                         for i in self._ids(env_ids)])

    def contacts(self, env_id: int) -> list[Contact]:
        w = self._worlds[env_id]
        m, d = w.solver.mj_model, w.solver.mj_data
        geom_shape = w.solver.mjc_geom_to_newton_shape.numpy()[0]
        shape_labels, shape_body = w.model.shape_label, w.model.shape_body.numpy()
        body_labels = w.model.body_label
        out = []
        force = np.zeros(6)
        for k in range(d.ncon):
            c = d.contact[k]
            w.solver._mujoco.mj_contactForce(m, d, k, force)
            names = []
            for g in (int(c.geom1), int(c.geom2)):
                s = int(geom_shape[g])
                b = int(shape_body[s]) if s >= 0 else -1
                names.append((_leaf(shape_labels[s]) if s >= 0 else f"geom{g}",
                              _leaf(body_labels[b]) if b >= 0 else WORLD_BODY))
            out.append(Contact(names[0][0], names[1][0], names[0][1], names[1][1],
                               c.pos.copy(), float(force[0]), float(c.dist)))
        return out

    def diverged(self, env_ids: EnvIds = None) -> np.ndarray:
        qpos, qvel = self._sel(self._qpos, env_ids), self._sel(self._qvel, env_ids)
        ok = (np.abs(qvel) <= DIVERGENCE_QVEL_LIMIT).all(axis=1) & np.isfinite(qpos).all(axis=1)
        return ~ok

    # --- per-env physics (domain randomisation) ------------------------------------------
    def geom_index_of_bodies(self, body_ids: np.ndarray) -> np.ndarray:
        return self._ref.geom_index_of_bodies(body_ids)

    def set_friction_scale(self, scale: np.ndarray, geom_ids: np.ndarray | None = None,
                           env_ids: EnvIds = None) -> None:
        ids = self._ids(env_ids)
        geoms = np.arange(self._ref_ngeom) if geom_ids is None else np.asarray(geom_ids)
        scale = np.asarray(scale, dtype=np.float64).reshape(len(ids))
        nominal = self._ref.friction(geoms, [0])[0]
        shapes = self._geom_shape[geoms]
        mapped = shapes >= 0
        for k, i in enumerate(ids):
            self._friction[i, geoms] = nominal * scale[k]
            w = self._worlds[i]
            mu = w.model.shape_material_mu.numpy()
            mu[shapes[mapped]] = self._nominal_mu[shapes[mapped]] * scale[k]
            w.model.shape_material_mu.assign(mu)
            w.solver.notify_model_changed(newton.ModelFlags.SHAPE_PROPERTIES)
            if w.solver.use_mujoco_cpu:
                # Newton 1.8 updates only its MuJoCo-Warp copy of geom properties on a
                # notification; the MuJoCo C model that steps on the CPU needs them too
                w.solver.mj_model.geom_friction[:] = w.solver.mjw_model.geom_friction.numpy()[0]

    def set_body_com_offset(self, body_ids: np.ndarray, offset_b: np.ndarray,
                            env_ids: EnvIds = None) -> None:
        ids = self._ids(env_ids)
        nb = self._newton_body[np.asarray(body_ids)]
        offset_b = np.asarray(offset_b, dtype=np.float64).reshape(len(ids), len(nb), 3)
        for k, i in enumerate(ids):
            w = self._worlds[i]
            com = w.model.body_com.numpy()
            com[nb] = self._nominal_com[nb] + offset_b[k]
            w.model.body_com.assign(com)
            w.solver.notify_model_changed(
                newton.ModelFlags.BODY_INERTIAL_PROPERTIES)

    def friction(self, geom_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        ids = self._ids(env_ids)
        out = self._friction[np.asarray(ids)][:, np.asarray(geom_ids)]
        shapes = self._geom_shape[np.asarray(geom_ids)]
        mapped = shapes >= 0
        for k, i in enumerate(ids):  # what the physics uses, where a geom collides
            out[k, mapped] = self._worlds[i].model.shape_material_mu.numpy()[shapes[mapped]]
        return out

    def body_mass(self, body_ids: np.ndarray) -> np.ndarray:
        nb = self._newton_body[np.asarray(body_ids)]
        mass = self._worlds[0].model.body_mass.numpy()[nb].astype(np.float64)
        mass[nb < 0] = 0.0
        return mass

    def body_com_b(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        nb = self._newton_body[np.asarray(body_ids)]
        return np.stack([self._worlds[i].model.body_com.numpy()[nb]
                         for i in self._ids(env_ids)]).astype(np.float64)

    # --- cameras and rendering: the reference model posed at this state --------------------
    def camera_params(self, camera: str, width: int | None = None, height: int | None = None,
                      env_id: int = 0) -> CameraParams:
        return self._posed_reference(env_id).camera_params(camera, width, height, 0)

    def render(self, camera: str, width: int, height: int, mode: RenderMode = "rgb",
               env_id: int = 0, ghost_qpos: np.ndarray | None = None) -> np.ndarray:
        return self._posed_reference(env_id).render(camera, width, height, mode, 0, ghost_qpos)

    def close(self) -> None:
        self._ref.close()
