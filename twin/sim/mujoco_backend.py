"""MuJoCo implementation of ``SimBackend``: N MjData of one MjModel, stepped in C by threads.

``mj_step`` releases the GIL, so a small pool of Python threads, each stepping a contiguous
chunk of environments for all substeps, runs physics in parallel; observations are then
gathered for all N at once as numpy arrays.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mujoco
import numpy as np

from twin.robots.spec import RobotSpec
from twin.scene.camera import CameraIntrinsics, CameraParams, opencv_from_mujoco_rotation
from twin.scene.config import SceneConfig, load_scene_config
from twin.sim.backend import Contact, EnvIds, HostStateBuffers, RenderMode, SimBackend
from twin.sim.mujoco_render import MujocoRenderer, get_render_profile
from twin.sim.mujoco_scene import BuiltScene, build_scene

# A joint speed beyond this (rad/s or m/s) means the integration has exploded.
DIVERGENCE_QVEL_LIMIT = 1e3


_INSTABILITY_WARNINGS = (int(mujoco.mjtWarning.mjWARN_BADQPOS),
                         int(mujoco.mjtWarning.mjWARN_BADQVEL),
                         int(mujoco.mjtWarning.mjWARN_BADQACC))


_INSTABILITY_IDX = np.array(_INSTABILITY_WARNINGS)


def _instability_warnings(d: mujoco.MjData) -> int:
    """How often MuJoCo has found NaN/Inf/huge qpos, qvel or qacc and reset this data."""
    return int(d.warning.number[_INSTABILITY_IDX].sum())


def reset_warm_start(model: mujoco.MjModel, data: mujoco.MjData) -> None:
    """Forget solver warm starts and contacts of ``data`` (for engines that step MuJoCo
    data themselves, e.g. Newton's MuJoCo solver): a set state then steps like a fresh one."""
    qpos, qvel, ctrl = data.qpos.copy(), data.qvel.copy(), data.ctrl.copy()
    mujoco.mj_resetData(model, data)
    data.qpos[:], data.qvel[:], data.ctrl[:] = qpos, qvel, ctrl


class MujocoBackend(HostStateBuffers, SimBackend):
    def __init__(self, model: mujoco.MjModel, num_envs: int = 1, num_threads: int | None = None,
                 render_profile: str = "full", scene: BuiltScene | None = None):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.model = model
        self.scene = scene
        self.num_envs = int(num_envs)
        self.physics_dt = float(model.opt.timestep)
        self.datas = [mujoco.MjData(model) for _ in range(self.num_envs)]
        # Every env steps with models[i]: the shared model until a domain-randomisation call
        # gives env i its own copy (friction, CoM); the nominal model is never modified.
        self.models = [model] * self.num_envs
        for d in self.datas:
            mujoco.mj_forward(model, d)
        n_threads = num_threads or min(self.num_envs, os.cpu_count() or 1)
        self.num_threads = max(1, min(n_threads, self.num_envs))
        bounds = np.linspace(0, self.num_envs, self.num_threads + 1).astype(int)
        self._chunks = [list(range(a, b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        self._pool = ThreadPoolExecutor(self.num_threads) if self.num_threads > 1 else None
        self._instabilities_seen = np.zeros(self.num_envs, dtype=np.int64)
        # Batched mirrors of every env's ctrl/qpos/qvel/time. Worker threads copy ctrl in
        # before and state out after stepping, so reading state needs no per-env Python loop.
        self._ctrl = np.zeros((self.num_envs, model.nu))
        self._qpos = np.stack([d.qpos for d in self.datas])
        self._qvel = np.zeros((self.num_envs, model.nv))
        self._time = np.zeros(self.num_envs)
        self._render_profile = render_profile
        self._renderer: MujocoRenderer | None = None
        self._render_data: mujoco.MjData | None = None
        self._ghost_data: dict[int, mujoco.MjData] = {}
        self._init_names()

    @classmethod
    def from_scene(cls, scene: SceneConfig | str | Path, num_envs: int = 1,
                   overrides: list[str] | None = None, **kwargs) -> MujocoBackend:
        cfg = scene if isinstance(scene, SceneConfig) else load_scene_config(scene, overrides)
        built = build_scene(cfg)
        return cls(built.model, num_envs=num_envs, scene=built, **kwargs)

    # --- what was built ---------------------------------------------------------------------
    @property
    def robot(self) -> RobotSpec | None:
        return None if self.scene is None else self.scene.robot

    @property
    def scene_config(self) -> SceneConfig | None:
        return None if self.scene is None else self.scene.config

    @property
    def nq(self) -> int:
        return int(self.model.nq)

    @property
    def nv(self) -> int:
        return int(self.model.nv)

    @property
    def nu(self) -> int:
        return int(self.model.nu)

    # --- names -----------------------------------------------------------------------------
    def _init_names(self) -> None:
        m = self.model
        hinge_slide = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
        self._joint_ids = {m.joint(i).name: i for i in range(m.njnt) if int(m.jnt_type[i]) in hinge_slide}
        self._joint_names = tuple(self._joint_ids)
        self._body_names = tuple(m.body(i).name for i in range(m.nbody))
        self._actuator_names = tuple(m.actuator(i).name for i in range(m.nu))
        self._camera_names = tuple(m.camera(i).name for i in range(m.ncam))
        self._site_names = tuple(m.site(i).name for i in range(m.nsite))
        self._geom_names = [m.geom(i).name or f"geom{i}" for i in range(m.ngeom)]

    @property
    def joint_names(self) -> tuple[str, ...]:
        return self._joint_names

    @property
    def body_names(self) -> tuple[str, ...]:
        return self._body_names

    @property
    def actuator_names(self) -> tuple[str, ...]:
        return self._actuator_names

    @property
    def camera_names(self) -> tuple[str, ...]:
        return self._camera_names

    def actuator_joint_names(self) -> tuple[str, ...]:
        """The joint each actuator drives ('' for tendon/site actuators), actuator order."""
        m = self.model
        out = []
        for i in range(m.nu):
            is_joint = m.actuator_trntype[i] == mujoco.mjtTrn.mjTRN_JOINT
            out.append(m.joint(m.actuator_trnid[i, 0]).name if is_joint else "")
        return tuple(out)

    def _lookup(self, names: Sequence[str], table: dict[str, int] | Sequence[str], kind: str
                ) -> np.ndarray:
        index = table if isinstance(table, dict) else {n: i for i, n in enumerate(table)}
        missing = [n for n in names if n not in index]
        if missing:
            raise KeyError(f"unknown {kind} {missing}; the model has {list(index)}")
        return np.array([index[n] for n in names], dtype=np.int64)

    def joint_qpos_index(self, names: Sequence[str]) -> np.ndarray:
        ids = self._lookup(names, self._joint_ids, "joints")
        return self.model.jnt_qposadr[ids].astype(np.int64)

    def joint_qvel_index(self, names: Sequence[str]) -> np.ndarray:
        ids = self._lookup(names, self._joint_ids, "joints")
        return self.model.jnt_dofadr[ids].astype(np.int64)

    def actuator_index(self, names: Sequence[str]) -> np.ndarray:
        return self._lookup(names, self._actuator_names, "actuators")

    def actuator_index_for_joints(self, joint_names: Sequence[str]) -> np.ndarray:
        """Actuator ids driving the named joints, in the given joint order."""
        return self._lookup(joint_names, {j: i for i, j in enumerate(self.actuator_joint_names())
                                          if j}, "actuated joints")

    def body_index(self, names: Sequence[str]) -> np.ndarray:
        return self._lookup(names, self._body_names, "bodies")

    def site_index(self, names: Sequence[str]) -> np.ndarray:
        return self._lookup(names, self._site_names, "sites")

    def body_parent_index(self) -> np.ndarray:
        return self.model.body_parentid.astype(np.int64).copy()

    def _free_joint(self, body_name: str) -> int | None:
        m = self.model
        b = int(self.body_index([body_name])[0])
        for j in range(m.body_jntadr[b], m.body_jntadr[b] + m.body_jntnum[b]):
            if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
                return j
        return None

    def free_joint_qpos_index(self, body_name: str) -> np.ndarray | None:
        j = self._free_joint(body_name)
        if j is None:
            return None
        a = self.model.jnt_qposadr[j]
        return np.arange(a, a + 7)

    def free_joint_qvel_index(self, body_name: str) -> np.ndarray | None:
        # MuJoCo's free-joint qvel is [linear, world frame; angular, body frame]: the
        # interface's layout as is
        j = self._free_joint(body_name)
        if j is None:
            return None
        a = self.model.jnt_dofadr[j]
        return np.arange(a, a + 6)

    def joint_limits(self, names: Sequence[str]) -> np.ndarray:
        """(J, 2) position limits; (-inf, inf) for unlimited joints."""
        ids = self._lookup(names, self._joint_ids, "joints")
        lim = self.model.jnt_range[ids].copy()
        lim[~self.model.jnt_limited[ids].astype(bool)] = (-np.inf, np.inf)
        return lim

    def actuator_force_limits(self) -> np.ndarray:
        """(nu,) symmetric force limit per actuator (inf when unlimited)."""
        m = self.model
        lim = np.abs(m.actuator_forcerange).max(axis=1)
        lim[~m.actuator_forcelimited.astype(bool)] = np.inf
        return lim

    # --- state -----------------------------------------------------------------------------
    def time(self, env_ids: EnvIds = None) -> np.ndarray:
        return self._sel(self._time, env_ids)

    def _pull(self, i: int) -> None:
        d = self.datas[i]
        self._qpos[i] = d.qpos
        self._qvel[i] = d.qvel
        self._time[i] = d.time

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray, env_ids: EnvIds = None) -> None:
        ids = self._ids(env_ids)
        qpos = np.asarray(qpos, dtype=np.float64).reshape(len(ids), self.model.nq)
        qvel = np.asarray(qvel, dtype=np.float64).reshape(len(ids), self.model.nv)
        for k, i in enumerate(ids):
            d, m = self.datas[i], self.models[i]
            mujoco.mj_resetData(m, d)
            d.qpos[:] = qpos[k]
            d.qvel[:] = qvel[k]
            d.ctrl[:] = self._ctrl[i]
            mujoco.mj_forward(m, d)
            self._instabilities_seen[i] = _instability_warnings(d)
            self._pull(i)

    def set_ctrl(self, ctrl: np.ndarray, env_ids: EnvIds = None) -> None:
        ctrl = np.asarray(ctrl, dtype=np.float64)
        if env_ids is None:
            self._ctrl[:] = ctrl.reshape(self.num_envs, self.model.nu)
        else:
            ids = np.asarray(env_ids, dtype=np.int64)
            self._ctrl[ids] = ctrl.reshape(len(ids), self.model.nu)

    def _step_chunk(self, chunk, nsubsteps: int) -> None:
        models, datas, ctrl = self.models, self.datas, self._ctrl
        for i in chunk:
            d = datas[i]
            d.ctrl[:] = ctrl[i]
            mujoco.mj_step(models[i], d, nsubsteps)
            self._pull(i)

    def step(self, nsubsteps: int = 1, env_ids: EnvIds = None) -> None:
        if env_ids is not None or self._pool is None:
            self._step_chunk(self._ids(env_ids), nsubsteps)
            return
        for f in [self._pool.submit(self._step_chunk, c, nsubsteps) for c in self._chunks]:
            f.result()

    def forward(self, env_ids: EnvIds = None) -> None:
        for i in self._ids(env_ids):
            self.datas[i].ctrl[:] = self._ctrl[i]
            mujoco.mj_forward(self.models[i], self.datas[i])
            self._pull(i)

    def set_mocap_pose(self, body_name: str, pos_w: np.ndarray, quat_wxyz: np.ndarray | None = None,
                       env_ids: EnvIds = None) -> None:
        b = int(self.body_index([body_name])[0])
        mocap_id = int(self.model.body_mocapid[b])
        if mocap_id < 0:
            raise ValueError(f"body {body_name!r} is not a mocap body")
        ids = self._ids(env_ids)
        pos_w = np.asarray(pos_w, dtype=np.float64).reshape(len(ids), 3)
        for k, i in enumerate(ids):
            self.datas[i].mocap_pos[mocap_id] = pos_w[k]
            if quat_wxyz is not None:
                self.datas[i].mocap_quat[mocap_id] = np.asarray(quat_wxyz).reshape(len(ids), 4)[k]
            mujoco.mj_kinematics(self.models[i], self.datas[i])

    # --- per-env physics (domain randomisation) ----------------------------------------------
    def _own_model(self, i: int) -> mujoco.MjModel:
        if self.models[i] is self.model:
            self.models[i] = copy.copy(self.model)
        return self.models[i]

    def geom_index_of_bodies(self, body_ids: np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.isin(self.model.geom_bodyid, np.asarray(body_ids)))

    def geom_bodies_and_collision(self) -> tuple[np.ndarray, np.ndarray]:
        """(ngeom,) body id of every geom and (ngeom,) bool: the geom takes part in contacts."""
        m = self.model
        return m.geom_bodyid.astype(np.int64), (m.geom_contype | m.geom_conaffinity) != 0

    def set_friction_scale(self, scale: np.ndarray, geom_ids: np.ndarray | None = None,
                           env_ids: EnvIds = None) -> None:
        ids = self._ids(env_ids)
        geoms = np.arange(self.model.ngeom) if geom_ids is None else np.asarray(geom_ids)
        scale = np.asarray(scale, dtype=np.float64).reshape(len(ids))
        for k, i in enumerate(ids):
            self._own_model(i).geom_friction[geoms, 0] = self.model.geom_friction[geoms, 0] * scale[k]

    def set_body_com_offset(self, body_ids: np.ndarray, offset_b: np.ndarray,
                            env_ids: EnvIds = None) -> None:
        ids = self._ids(env_ids)
        body_ids = np.asarray(body_ids)
        offset_b = np.asarray(offset_b, dtype=np.float64).reshape(len(ids), len(body_ids), 3)
        for k, i in enumerate(ids):
            self._own_model(i).body_ipos[body_ids] = self.model.body_ipos[body_ids] + offset_b[k]

    def friction(self, geom_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        return np.stack([self.models[i].geom_friction[geom_ids, 0] for i in self._ids(env_ids)])

    def body_mass(self, body_ids: np.ndarray) -> np.ndarray:
        return self.model.body_mass[np.asarray(body_ids)].copy()

    def body_com_b(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        return np.stack([self.models[i].body_ipos[body_ids] for i in self._ids(env_ids)])

    # --- derived quantities ----------------------------------------------------------------
    def body_pos_w(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        ids = self._ids(env_ids)
        idx = np.asarray(body_ids)
        if len(ids) == 1 and idx.dtype.kind in "iu":
            # read every control step: for one env and integer ids, ``take`` gathers the
            # rows fancy indexing would at a third of its cost, into a new array
            return self.datas[ids[0]].xpos.take(idx, axis=0)[None]
        return np.stack([self.datas[i].xpos[body_ids] for i in ids])

    def body_quat_wxyz(self, body_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        ids = self._ids(env_ids)
        idx = np.asarray(body_ids)
        if len(ids) == 1 and idx.dtype.kind in "iu":  # as in body_pos_w
            return self.datas[ids[0]].xquat.take(idx, axis=0)[None]
        return np.stack([self.datas[i].xquat[body_ids] for i in ids])

    def site_pos_w(self, site_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        return np.stack([self.datas[i].site_xpos[site_ids] for i in self._ids(env_ids)])

    def site_rotmat_w(self, site_ids: np.ndarray, env_ids: EnvIds = None) -> np.ndarray:
        ids = self._ids(env_ids)
        return np.stack([self.datas[i].site_xmat[site_ids] for i in ids]).reshape(
            len(ids), len(site_ids), 3, 3)

    def body_vel_w(self, body_ids: np.ndarray, env_ids: EnvIds = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        # cvel is [angular, linear] at the subtree CoM of each body's kinematic root, world
        # axes; shift the linear part to the body origin: v_o = v_c + w x (x_o - x_c).
        ids = self._ids(env_ids)
        root = self.model.body_rootid[body_ids]
        cvel = np.stack([self.datas[i].cvel[body_ids] for i in ids])
        xpos = np.stack([self.datas[i].xpos[body_ids] for i in ids])
        com = np.stack([self.datas[i].subtree_com[root] for i in ids])
        ang = cvel[..., :3]
        lin = cvel[..., 3:] + np.cross(ang, xpos - com)
        return lin, ang

    def actuator_pd_gains(self, actuator_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(actuator_ids)
        return self.model.actuator_gainprm[ids, 0].copy(), -self.model.actuator_biasprm[ids, 2]

    def actuator_force(self, env_ids: EnvIds = None) -> np.ndarray:
        return np.stack([self.datas[i].actuator_force for i in self._ids(env_ids)])

    def static_holding_forces(self, qpos: np.ndarray, support_body_ids: np.ndarray,
                              support_point_b: np.ndarray, in_support: np.ndarray) -> np.ndarray:
        m = self.model
        d = mujoco.MjData(m)
        free = np.flatnonzero(m.jnt_type == mujoco.mjtJoint.mjJNT_FREE)
        root = np.concatenate([np.arange(m.jnt_dofadr[j], m.jnt_dofadr[j] + 6) for j in free]) \
            if len(free) else np.zeros(0, dtype=np.int64)
        jacp, jacr = np.zeros((3, m.nv)), np.zeros((3, m.nv))
        point_b = np.asarray(support_point_b, dtype=np.float64)
        out = np.zeros((len(qpos), m.nv))
        for f, q in enumerate(np.asarray(qpos, dtype=np.float64)):
            d.qpos[:] = q
            d.qvel[:] = 0.0
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            mujoco.mj_rne(m, d, 0, out[f])  # gravity (velocity terms vanish at rest)
            rows = []
            for b in np.asarray(support_body_ids)[np.asarray(in_support[f], dtype=bool)]:
                p_w = d.xpos[b] + d.xmat[b].reshape(3, 3) @ point_b
                mujoco.mj_jac(m, d, jacp, jacr, p_w, int(b))
                rows += [jacp.copy(), jacr.copy()]
            if rows and len(root):
                J = np.concatenate(rows)
                wrench = np.linalg.lstsq(J[:, root].T, out[f, root], rcond=None)[0]
                out[f] -= J.T @ wrench
        return out

    def contacts(self, env_id: int) -> list[Contact]:
        m, d = self.models[env_id], self.datas[env_id]
        out = []
        force = np.zeros(6)
        for k in range(d.ncon):
            c = d.contact[k]
            mujoco.mj_contactForce(m, d, k, force)
            g1, g2 = int(c.geom1), int(c.geom2)
            out.append(Contact(self._geom_names[g1], self._geom_names[g2],
                               self._body_names[m.geom_bodyid[g1]],
                               self._body_names[m.geom_bodyid[g2]],
                               c.pos.copy(), float(force[0]), float(c.dist)))
        return out

    def diverged(self, env_ids: EnvIds = None) -> np.ndarray:
        # once per control step: views of the batched mirrors, no copies, no errstate (numpy
        # compares NaN without a warning)
        if env_ids is None:
            ids = range(self.num_envs)
            qpos, qvel, seen = self._qpos, self._qvel, self._instabilities_seen
        else:
            ids = np.asarray(env_ids, dtype=np.int64)
            qpos, qvel, seen = self._qpos[ids], self._qvel[ids], self._instabilities_seen[ids]
        # NaN fails the comparison, so one pass over qvel catches NaN and explosions; MuJoCo
        # resets a data whose state blew up and counts a warning (read as plain ints here:
        # ``_instability_warnings`` without its fancy index and sum)
        a, b, c = _INSTABILITY_WARNINGS
        if len(ids) == 1:  # one env: whole-array counts cost less than row reductions
            n = self.datas[ids[0]].warning.number
            ok = (np.count_nonzero(np.abs(qvel) <= DIVERGENCE_QVEL_LIMIT) == qvel.size
                  and np.count_nonzero(np.isfinite(qpos)) == qpos.size
                  and int(n[a]) + int(n[b]) + int(n[c]) <= seen[0])
            return np.array([not ok])
        ok = (np.abs(qvel) <= DIVERGENCE_QVEL_LIMIT).all(axis=1) & np.isfinite(qpos).all(axis=1)
        counts = [0] * len(ids)
        for k, i in enumerate(ids):
            n = self.datas[i].warning.number
            counts[k] = int(n[a]) + int(n[b]) + int(n[c])
        return ~ok | (np.array(counts, dtype=np.int64) > seen)

    # --- cameras ---------------------------------------------------------------------------
    def camera_params(self, camera: str, width: int | None = None, height: int | None = None,
                      env_id: int = 0) -> CameraParams:
        cam_id = int(self._lookup([camera], self._camera_names, "cameras")[0])
        m, d = self.model, self.datas[env_id]
        native_w, native_h = (int(v) for v in m.cam_resolution[cam_id])
        width = width or native_w
        height = height or native_h
        if m.cam_sensorsize[cam_id, 1] > 0:
            fx_l, fy_l, px_l, py_l = m.cam_intrinsic[cam_id]
            sw, sh = m.cam_sensorsize[cam_id]
            # focal/principal in sensor units -> pixels at the camera's native resolution
            fx, fy = fx_l / sw * native_w, fy_l / sh * native_h
            cx = native_w / 2.0 - px_l / sw * native_w  # sign: see mujoco_scene._add_camera
            cy = native_h / 2.0 - py_l / sh * native_h
            intr = CameraIntrinsics(float(fx), float(fy), float(cx), float(cy), native_w,
                                    native_h).scaled(width, height)
        else:
            intr = CameraIntrinsics.from_fovy(float(m.cam_fovy[cam_id]), width, height)
        T = np.eye(4)
        T[:3, :3] = opencv_from_mujoco_rotation(d.cam_xmat[cam_id].reshape(3, 3))
        T[:3, 3] = d.cam_xpos[cam_id]
        return CameraParams(camera, intr, T)

    def replay_backend(self, render_profile: str = "full") -> MujocoBackend:
        # shares the compiled model (never modified: domain randomisation copies it per env)
        return MujocoBackend(self.model, num_envs=1, render_profile=render_profile,
                             scene=self.scene)

    def _get_renderer(self) -> MujocoRenderer:
        if self._renderer is None:
            profile = get_render_profile(self._render_profile)
            render_model = self.model
            if profile.decimate_meshes and self.scene is not None:
                from twin.sim.mujoco_fast_render import decimated_render_model

                render_model = decimated_render_model(self.scene, profile)
            self._renderer = MujocoRenderer(render_model, profile)
            self._render_data = mujoco.MjData(render_model)
        return self._renderer

    def render(self, camera: str, width: int, height: int, mode: RenderMode = "rgb",
               env_id: int = 0, ghost_qpos: np.ndarray | None = None) -> np.ndarray:
        if camera not in self._camera_names:
            raise KeyError(f"unknown camera {camera!r}; expected one of {list(self._camera_names)}")
        renderer = self._get_renderer()
        data = self.datas[env_id]
        if renderer.model is not self.model:  # decimated copy: same tree, pose it from qpos
            rd = self._render_data
            rd.qpos[:] = data.qpos
            rd.mocap_pos[:] = data.mocap_pos
            rd.mocap_quat[:] = data.mocap_quat
            mujoco.mj_kinematics(renderer.model, rd)
            mujoco.mj_comPos(renderer.model, rd)  # lights that track a CoM need it
            mujoco.mj_camlight(renderer.model, rd)
            data = rd
        ghost = None
        if ghost_qpos is not None:
            ghost = self._ghost_data.get(id(renderer.model))
            if ghost is None:
                ghost = self._ghost_data[id(renderer.model)] = mujoco.MjData(renderer.model)
            ghost.qpos[:] = ghost_qpos
            mujoco.mj_kinematics(renderer.model, ghost)
        return renderer.render(data, camera, width, height, mode, ghost=ghost)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
