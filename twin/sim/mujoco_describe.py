"""A compiled scene as plain data (``SceneDescription``) for exporters (``twin.export.usd``).

Everything is read from the MuJoCo model the MuJoCo backend simulates, at the model's zero
configuration (every hinge/slide joint at 0, free bodies where the scene puts them), so
that a joint angle 0 means the same pose in the export. Frames: world z-up, metres, kg,
quaternions wxyz; joint axes and anchors in the child body's frame; geoms in their body's
frame; cameras as OpenCV ``world_from_camera`` with pixel intrinsics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

from twin.sim.mujoco_backend import MujocoBackend

_GEOM_KINDS = {int(mujoco.mjtGeom.mjGEOM_PLANE): "plane", int(mujoco.mjtGeom.mjGEOM_SPHERE): "sphere",
               int(mujoco.mjtGeom.mjGEOM_CAPSULE): "capsule",
               int(mujoco.mjtGeom.mjGEOM_CYLINDER): "cylinder",
               int(mujoco.mjtGeom.mjGEOM_BOX): "box", int(mujoco.mjtGeom.mjGEOM_MESH): "mesh"}


@dataclass(frozen=True)
class BodyDesc:
    name: str
    parent: str  # "world" for bodies attached to the world
    pos_w: np.ndarray  # (3,) at the zero configuration
    quat_wxyz: np.ndarray  # (4,)
    mass_kg: float
    com_b: np.ndarray  # (3,) m
    inertia_diag: np.ndarray  # (3,) kg m^2, principal moments
    inertia_quat_wxyz: np.ndarray  # (4,) body-from-principal axes
    free: bool  # has a free joint (floating)
    mocap: bool  # kinematic, moved by the program


@dataclass(frozen=True)
class JointDesc:
    name: str
    kind: str  # "revolute" | "prismatic"
    parent: str
    child: str
    anchor_b: np.ndarray  # (3,) in the child body frame
    axis_b: np.ndarray  # (3,) unit, child body frame
    limits: tuple[float, float] | None  # rad or m
    armature: float
    kp: float | None  # N m/rad or N/m (position actuator), None when not actuated
    kd: float | None
    effort_limit: float | None  # N m or N


@dataclass(frozen=True)
class GeomDesc:
    name: str
    body: str
    kind: str  # plane | sphere | capsule | cylinder | box | mesh
    size: np.ndarray  # MuJoCo size (half-extents / radius, half-length)
    pos_b: np.ndarray
    quat_wxyz: np.ndarray
    friction: float
    vertices: np.ndarray | None = None  # (V, 3) mesh vertices, geom frame
    faces: np.ndarray | None = None  # (F, 3)


@dataclass(frozen=True)
class CameraDesc:
    name: str
    body: str
    width: int
    height: int
    K: np.ndarray  # (3, 3) pixels
    world_from_camera: np.ndarray  # (4, 4) OpenCV axes, at the zero configuration


@dataclass(frozen=True)
class SceneDescription:
    name: str
    robot: str
    gain_profile: str
    root_body: str
    gravity_w: np.ndarray
    physics_dt: float
    bodies: list[BodyDesc] = field(default_factory=list)
    joints: list[JointDesc] = field(default_factory=list)
    geoms: list[GeomDesc] = field(default_factory=list)
    cameras: list[CameraDesc] = field(default_factory=list)


def describe_scene(backend: MujocoBackend) -> SceneDescription:
    """The scene of ``backend`` at its model's zero configuration."""
    m = backend.model
    d = mujoco.MjData(m)
    mujoco.mj_kinematics(m, d)
    names = backend.body_names
    cfg, robot = backend.scene_config, backend.robot
    act_of_joint = {j: a for a, j in enumerate(backend.actuator_joint_names()) if j}
    kp_all, kd_all = backend.actuator_pd_gains(np.arange(m.nu))
    force_lim = backend.actuator_force_limits()
    bodies = []
    for b in range(1, m.nbody):
        jnt = range(m.body_jntadr[b], m.body_jntadr[b] + m.body_jntnum[b])
        bodies.append(BodyDesc(
            names[b], names[m.body_parentid[b]], d.xpos[b].copy(), d.xquat[b].copy(),
            float(m.body_mass[b]), m.body_ipos[b].copy(), m.body_inertia[b].copy(),
            m.body_iquat[b].copy(),
            free=any(m.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE for j in jnt),
            mocap=bool(m.body_mocapid[b] >= 0)))
    joints = []
    for j in range(m.njnt):
        t = int(m.jnt_type[j])
        if t == mujoco.mjtJoint.mjJNT_FREE:
            continue
        if t not in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE):
            raise ValueError(f"joint {m.joint(j).name!r}: ball joints are not exported")
        b = int(m.jnt_bodyid[j])
        if m.body_jntnum[b] > 1:
            raise ValueError(f"body {names[b]!r} has {m.body_jntnum[b]} joints; the export "
                             "needs one joint per body")
        name = m.joint(j).name
        a = act_of_joint.get(name)
        joints.append(JointDesc(
            name, "revolute" if t == mujoco.mjtJoint.mjJNT_HINGE else "prismatic",
            names[m.body_parentid[b]], names[b], m.jnt_pos[j].copy(), m.jnt_axis[j].copy(),
            (float(m.jnt_range[j, 0]), float(m.jnt_range[j, 1])) if m.jnt_limited[j] else None,
            float(m.dof_armature[m.jnt_dofadr[j]]),
            None if a is None else float(kp_all[a]), None if a is None else float(kd_all[a]),
            None if a is None or not np.isfinite(force_lim[a]) else float(force_lim[a])))
    geoms = []
    for g in range(m.ngeom):
        if (m.geom_contype[g] | m.geom_conaffinity[g]) == 0:
            continue  # visual only
        kind = _GEOM_KINDS.get(int(m.geom_type[g]))
        if kind is None:
            continue
        verts = faces = None
        if kind == "mesh":
            k = int(m.geom_dataid[g])
            va, vn = m.mesh_vertadr[k], m.mesh_vertnum[k]
            fa, fn = m.mesh_faceadr[k], m.mesh_facenum[k]
            verts = m.mesh_vert[va:va + vn].astype(np.float64).copy()
            faces = m.mesh_face[fa:fa + fn].astype(np.int64).copy()
        geoms.append(GeomDesc(m.geom(g).name or f"geom{g}", names[m.geom_bodyid[g]], kind,
                              m.geom_size[g].copy(), m.geom_pos[g].copy(), m.geom_quat[g].copy(),
                              float(m.geom_friction[g, 0]), verts, faces))
    cameras = []
    for c in backend.camera_names:
        cid = m.camera(c).id
        p = backend.camera_params(c)
        cameras.append(CameraDesc(c, names[m.cam_bodyid[cid]], p.intrinsics.width,
                                  p.intrinsics.height, p.intrinsics.K.copy(),
                                  p.world_from_camera.copy()))
    return SceneDescription(
        name=cfg.name if cfg else m.names.decode()[:0] or "scene",
        robot=robot.name if robot else "", gain_profile=(cfg.gains or "default") if cfg else "",
        root_body=robot.root_body_name if robot else names[1],
        gravity_w=m.opt.gravity.copy(), physics_dt=float(m.opt.timestep),
        bodies=bodies, joints=joints, geoms=geoms, cameras=cameras)
