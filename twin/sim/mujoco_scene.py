"""Build a MuJoCo model from a ``SceneConfig``: the robot's MjSpec plus floor, table, objects,
lights and cameras (pose + fovy, or OpenCV calibration mapped onto MuJoCo's intrinsics)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import mujoco
import numpy as np

import twin.robots
from twin.robots.spec import RobotSpec
from twin.scene.camera import look_at_rotation_opencv, mujoco_from_opencv_rotation
from twin.scene.config import CameraConfig, DrawerConfig, SceneConfig, SceneConfigError

_GEOM_TYPES = {
    "box": mujoco.mjtGeom.mjGEOM_BOX,
    "sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
    "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
    "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
    "mesh": mujoco.mjtGeom.mjGEOM_MESH,
}
_CONES = {
    "pyramidal": mujoco.mjtCone.mjCONE_PYRAMIDAL,
    "elliptic": mujoco.mjtCone.mjCONE_ELLIPTIC,
}
_INTEGRATORS = {
    "implicitfast": mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
    "implicit": mujoco.mjtIntegrator.mjINT_IMPLICIT,
    "euler": mujoco.mjtIntegrator.mjINT_EULER,
    "rk4": mujoco.mjtIntegrator.mjINT_RK4,
}


@dataclass(frozen=True)
class BuiltScene:
    """A compiled scene and what it was built from."""

    model: mujoco.MjModel
    config: SceneConfig
    robot: RobotSpec


def build_scene_mjspec(cfg: SceneConfig, robot: RobotSpec | None = None) -> mujoco.MjSpec:
    from twin.sim.mujoco_robot import robot_mjspec

    robot = robot or twin.robots.get(cfg.robot)
    spec = robot_mjspec(robot, cfg.gains)
    spec.modelname = cfg.name
    if cfg.robot_base_pos is not None:
        spec.body(robot.root_body_name).pos = np.asarray(cfg.robot_base_pos, dtype=np.float64)
    if cfg.robot_base_yaw:
        half = 0.5 * float(cfg.robot_base_yaw)
        spec.body(robot.root_body_name).quat = [np.cos(half), 0.0, 0.0, np.sin(half)]
    spec.option.timestep = cfg.physics.dt
    if cfg.physics.integrator not in _INTEGRATORS:
        raise SceneConfigError(f"physics.integrator {cfg.physics.integrator!r}; expected one of "
                               f"{sorted(_INTEGRATORS)}")
    spec.option.integrator = _INTEGRATORS[cfg.physics.integrator]
    spec.option.cone = _CONES[cfg.physics.cone]
    spec.option.impratio = float(cfg.physics.impratio)
    spec.visual.global_.offwidth = max([640] + [c.width for c in cfg.cameras])
    spec.visual.global_.offheight = max([480] + [c.height for c in cfg.cameras])
    world = spec.worldbody
    spec.add_texture(name="twin_skybox", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
                     builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, width=256, height=256,
                     rgb1=[0.55, 0.7, 0.85], rgb2=[0.1, 0.12, 0.15])
    if cfg.floor.enabled:
        tex = spec.add_texture(name="twin_floor_tex", type=mujoco.mjtTexture.mjTEXTURE_2D,
                               builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER, width=300, height=300,
                               rgb1=cfg.floor.rgba[:3], rgb2=[c * 0.6 for c in cfg.floor.rgba[:3]])
        spec.add_material(name="twin_floor_mat", textures=["", tex.name] + [""] * 8,
                          texrepeat=[5, 5], texuniform=True)
        world.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05],
                       material="twin_floor_mat", friction=[cfg.floor.friction, 0.005, 0.0001])
    if cfg.table is not None:
        t = cfg.table
        top = world.add_body(name="table", pos=[t.pos[0], t.pos[1], 0.0])
        top.add_geom(name="table_top", type=mujoco.mjtGeom.mjGEOM_BOX,
                     size=[t.half_size[0], t.half_size[1], t.thickness / 2],
                     pos=[0, 0, t.height - t.thickness / 2], rgba=t.rgba,
                     friction=[t.friction, 0.005, 0.0001])
        leg_h = (t.height - t.thickness) / 2
        for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
            top.add_geom(name=f"table_leg{i}", type=mujoco.mjtGeom.mjGEOM_BOX,
                         size=[0.025, 0.025, leg_h], rgba=t.rgba,
                         pos=[sx * (t.half_size[0] - 0.04), sy * (t.half_size[1] - 0.04), leg_h])
    for obj in cfg.objects:
        body = world.add_body(name=obj.name, pos=obj.pos, quat=obj.quat_wxyz, mocap=obj.mocap)
        if obj.free and not obj.mocap:
            body.add_freejoint(name=f"{obj.name}_joint")
        kwargs = dict(name=f"{obj.name}_geom", type=_GEOM_TYPES[obj.type], rgba=obj.rgba,
                      mass=obj.mass, friction=[obj.friction, 0.005, 0.0001],
                      condim=obj.condim)
        if not obj.collision:
            kwargs.update(contype=0, conaffinity=0)
        if obj.type == "mesh":
            mesh = spec.add_mesh(name=f"{obj.name}_mesh", file=str(obj.mesh_file),
                                 scale=obj.mesh_scale)
            kwargs.update(meshname=mesh.name)
        else:
            kwargs.update(size=_geom_size(obj.type, obj.size, obj.name))
        body.add_geom(**kwargs)
    for drawer in cfg.drawers:
        _add_drawer(world, drawer)
    for i, light in enumerate(cfg.lights):
        world.add_light(name=f"light{i}", pos=light.pos, dir=light.dir,
                        type=(mujoco.mjtLightType.mjLIGHT_DIRECTIONAL if light.directional
                              else mujoco.mjtLightType.mjLIGHT_SPOT),
                        diffuse=light.diffuse, castshadow=light.castshadow)
    for cam in cfg.cameras:
        _add_camera(spec, cam)
    return spec


def build_scene(cfg: SceneConfig) -> BuiltScene:
    robot = twin.robots.get(cfg.robot)
    spec = build_scene_mjspec(cfg, robot)
    try:
        model = spec.compile()
    except ValueError as exc:
        raise SceneConfigError(f"scene {cfg.name!r} does not compile: {exc}") from exc
    return BuiltScene(model=model, config=cfg, robot=robot)


def scene_mjcf_xml(cfg: SceneConfig) -> str:
    """The scene as one MJCF document (mesh paths absolute), for importers of other engines
    (Newton's ``ModelBuilder.add_mjcf``): the same robot edits, gains, floor, objects and
    cameras as the MuJoCo model."""
    spec = build_scene_mjspec(cfg)
    if spec.meshdir and not os.path.isabs(spec.meshdir):
        spec.meshdir = os.path.join(spec.modelfiledir, spec.meshdir)
    elif not spec.meshdir:
        spec.meshdir = spec.modelfiledir
    return spec.to_xml()


def _geom_size(kind: str, size: list[float], name: str) -> list[float]:
    need = {"box": 3, "sphere": 1, "cylinder": 2, "capsule": 2}[kind]
    if len(size) < need or any(s <= 0 for s in size[:need]):
        raise SceneConfigError(f"objects ({name}): a {kind} needs {need} positive size values "
                               f"(MuJoCo half-sizes), got {list(size)}")
    return list(size[:need]) + [0.0] * (3 - need)


def _add_drawer(world, dr: DrawerConfig) -> None:
    """Cabinet (five panels, open at +x) with a drawer on a slide joint along +x; the drawer
    is the cabinet's child, so MuJoCo's parent filter skips drawer-cabinet contacts and the
    joint range alone bounds the travel."""
    hx, hy, hz = dr.half_size
    w = dr.wall
    box = mujoco.mjtGeom.mjGEOM_BOX
    fr = [dr.friction, 0.005, 0.0001]
    cab = world.add_body(name=dr.name, pos=dr.pos, quat=[np.cos(dr.yaw / 2), 0, 0,
                                                         np.sin(dr.yaw / 2)], mocap=dr.mocap)
    for name, size, pos in (
            ("bottom", [hx, hy, w / 2], [0, 0, w / 2]),
            ("top", [hx, hy, w / 2], [0, 0, 2 * hz - w / 2]),
            ("back", [w / 2, hy, hz], [-hx + w / 2, 0, hz]),
            ("left", [hx, w / 2, hz], [0, hy - w / 2, hz]),
            ("right", [hx, w / 2, hz], [0, -hy + w / 2, hz])):
        cab.add_geom(name=f"{dr.name}_{name}", type=box, size=size, pos=pos, rgba=dr.rgba,
                     friction=fr)
    gap = 0.002  # clearance between drawer and cabinet panels
    dx = hx - w / 2 - gap  # drawer box half depth: from the back panel to the front opening
    dy = hy - w - gap
    dz = hz - w - gap
    cx = w / 2  # drawer box centre x when closed (front of the box at the cabinet front)
    drawer = cab.add_body(name=f"{dr.name}_drawer", pos=[cx, 0, hz])
    drawer.add_joint(name=f"{dr.name}_slide", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[1, 0, 0],
                     range=[0.0, dr.travel], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                     damping=dr.damping, frictionloss=dr.frictionloss, armature=0.01)
    panels = (("bottom", [dx, dy, w / 2], [0, 0, -dz + w / 2]),
              ("back", [w / 2, dy, dz], [-dx + w / 2, 0, 0]),
              ("left", [dx, w / 2, dz], [0, dy - w / 2, 0]),
              ("right", [dx, w / 2, dz], [0, -dy + w / 2, 0]),
              ("front", [w / 2, hy - gap, hz - gap], [dx + w / 2, 0, 0]))
    for name, size, pos in panels:
        drawer.add_geom(name=f"{dr.name}_drawer_{name}", type=box, size=size, pos=pos,
                        rgba=dr.drawer_rgba, friction=fr, mass=dr.drawer_mass / len(panels))
    front_x = dx + w  # outer face of the drawer front, drawer frame
    bar_x = front_x + dr.handle_standoff
    hl = dr.handle_length / 2
    drawer.add_geom(name=f"{dr.name}_handle", type=mujoco.mjtGeom.mjGEOM_CAPSULE,
                    size=[dr.handle_radius, 0, 0], fromto=[bar_x, -hl, dr.handle_height,
                                                           bar_x, hl, dr.handle_height],
                    rgba=dr.handle_rgba, friction=fr, mass=0.02)
    for side in (-1, 1):
        drawer.add_geom(name=f"{dr.name}_handle_post{'lr'[side > 0]}",
                        type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[dr.handle_radius * 0.8, 0, 0],
                        fromto=[front_x, side * hl, dr.handle_height,
                                bar_x, side * hl, dr.handle_height],
                        rgba=dr.handle_rgba, friction=fr, mass=0.01)
    drawer.add_site(name=f"{dr.name}_handle", pos=[bar_x, 0, dr.handle_height],
                    size=[0.005, 0, 0], group=4)


def _add_camera(spec: mujoco.MjSpec, cam: CameraConfig) -> None:
    parent = spec.worldbody
    if cam.body is not None:
        parent = spec.body(cam.body)
        if parent is None:
            raise SceneConfigError(f"cameras ({cam.name}): unknown body {cam.body!r}")
    if cam.K is not None:
        T = np.asarray(cam.world_from_camera, dtype=np.float64)
        R_mj = mujoco_from_opencv_rotation(T[:3, :3])
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, R_mj.flatten())
        K = np.asarray(cam.K, dtype=np.float64)
        # MuJoCo intrinsics in pixel units: sensor = image size, so focal length in "sensor
        # units" equals focal length in pixels. MuJoCo's principal offset is measured from
        # the image centre with the opposite sign of OpenCV's (cx, cy) offset on both axes
        # (checked by rendering: tests/test_camera.py).
        c = parent.add_camera(name=cam.name, pos=T[:3, 3], quat=quat)
        c.resolution = [cam.width, cam.height]
        c.sensor_size = [float(cam.width), float(cam.height)]
        c.focal_pixel = [K[0, 0], K[1, 1]]
        c.principal_pixel = [cam.width / 2.0 - K[0, 2], cam.height / 2.0 - K[1, 2]]
        return
    pos = np.asarray(cam.pos, dtype=np.float64)
    if cam.quat_wxyz is not None:
        quat = np.asarray(cam.quat_wxyz, dtype=np.float64)
    else:
        R_mj = mujoco_from_opencv_rotation(look_at_rotation_opencv(pos, np.asarray(cam.lookat)))
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, R_mj.flatten())
    c = parent.add_camera(name=cam.name, pos=pos, quat=quat, fovy=float(cam.fovy))
    c.resolution = [cam.width, cam.height]  # the image size the config asks for
