"""Write a twin scene as OpenUSD with UsdPhysics schemas (usd-core), for Isaac Sim / Isaac Lab.

Layout of the stage (z-up, metersPerUnit 1, kilogramsPerUnit 1):

- ``/World/physicsScene``: gravity;
- ``/World/<robot>``: ``ArticulationRootAPI``; one Xform per body (flat, world transforms at
  the model's zero configuration) with ``RigidBodyAPI`` + ``MassAPI`` (mass, centre of mass,
  principal inertia) and its collision geometry; one ``RevoluteJoint``/``PrismaticJoint`` per
  joint, named as in the MuJoCo model, with limits (USD: degrees for revolute joints) and a
  ``DriveAPI`` carrying the gain profile's Kp/Kd/effort limit (USD angular drives: per
  degree, so Kp_usd = Kp * pi / 180) plus ``twin:kp``/``twin:kd`` in SI per radian;
  a fixed base gets a ``FixedJoint`` to the world;
- ``/World/objects/<name>``: objects, table and drawers (rigid bodies when free, static
  colliders otherwise, kinematic when moved by the program), friction as physics materials;
- ``/World/floor``: a collision plane;
- ``/World/cameras/<name>``: ``UsdGeom.Camera`` whose focal length and apertures reproduce
  the pixel intrinsics (1 pixel = ``PIXEL_PITCH_MM``), plus ``twin:K``, ``twin:width``,
  ``twin:height`` as written by ``twin.scene.camera``.

Visual meshes are not written (collision geometry only).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade, Vt

from twin.rotations import quat_conjugate, quat_mul, quat_to_matrix
from twin.sim.mujoco_describe import BodyDesc, GeomDesc, SceneDescription

PIXEL_PITCH_MM = 0.01  # camera aperture per pixel: focal length (mm) = fx * pitch


def _quat(q: np.ndarray) -> Gf.Quatf:
    return Gf.Quatf(float(q[0]), Gf.Vec3f(*(float(v) for v in q[1:])))


def _set_pose(prim, pos: np.ndarray, quat_wxyz: np.ndarray) -> None:
    x = UsdGeom.Xformable(prim)
    x.ClearXformOpOrder()
    x.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*(float(v) for v in pos)))
    x.AddOrientOp(UsdGeom.XformOp.PrecisionFloat).Set(_quat(quat_wxyz))


def _quat_x_to(axis: np.ndarray) -> np.ndarray:
    """wxyz rotation taking +x onto ``axis`` (USD joints turn about their frame's x axis)."""
    a = axis / np.linalg.norm(axis)
    x = np.array([1.0, 0.0, 0.0])
    c = float(np.dot(x, a))
    if c < -1.0 + 1e-12:
        return np.array([0.0, 0.0, 0.0, 1.0])
    v = np.cross(x, a)
    q = np.array([1.0 + c, *v])
    return q / np.linalg.norm(q)


def _safe(name: str) -> str:
    return Sdf.Path.MakeValidIdentifier(name) if hasattr(Sdf.Path, "MakeValidIdentifier") \
        else "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)


class _Materials:
    def __init__(self, stage: Usd.Stage, root: str):
        self.stage, self.root, self.cache = stage, root, {}

    def bind(self, prim, friction: float) -> None:
        key = round(friction, 6)
        if key not in self.cache:
            path = f"{self.root}/friction_{len(self.cache)}"
            mat = UsdShade.Material.Define(self.stage, path)
            api = UsdPhysics.MaterialAPI.Apply(mat.GetPrim())
            api.CreateStaticFrictionAttr(float(friction))
            api.CreateDynamicFrictionAttr(float(friction))
            api.CreateRestitutionAttr(0.0)
            self.cache[key] = mat
        UsdShade.MaterialBindingAPI.Apply(prim).Bind(
            self.cache[key], UsdShade.Tokens.weakerThanDescendants, "physics")


def _add_geom(stage, parent: str, g: GeomDesc, mats: _Materials) -> None:
    path = f"{parent}/{_safe(g.name)}"
    s = g.size
    if g.kind == "sphere":
        geom = UsdGeom.Sphere.Define(stage, path)
        geom.CreateRadiusAttr(float(s[0]))
    elif g.kind in ("capsule", "cylinder"):
        geom = (UsdGeom.Capsule if g.kind == "capsule" else UsdGeom.Cylinder).Define(stage, path)
        geom.CreateRadiusAttr(float(s[0]))
        geom.CreateHeightAttr(float(2 * s[1]))
        geom.CreateAxisAttr("Z")
    elif g.kind == "box":
        geom = UsdGeom.Cube.Define(stage, path)
        geom.CreateSizeAttr(2.0)
    elif g.kind == "plane":
        geom = UsdGeom.Plane.Define(stage, path)
        geom.CreateAxisAttr("Z")
        geom.CreateWidthAttr(100.0)
        geom.CreateLengthAttr(100.0)
    else:  # mesh
        geom = UsdGeom.Mesh.Define(stage, path)
        geom.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(g.vertices.astype(np.float32)))
        geom.CreateFaceVertexCountsAttr(Vt.IntArray([3] * len(g.faces)))
        geom.CreateFaceVertexIndicesAttr(Vt.IntArray(g.faces.reshape(-1).tolist()))
        UsdPhysics.MeshCollisionAPI.Apply(geom.GetPrim()).CreateApproximationAttr("convexHull")
    _set_pose(geom.GetPrim(), g.pos_b, g.quat_wxyz)
    if g.kind == "box":
        UsdGeom.Xformable(geom).AddScaleOp().Set(Gf.Vec3f(*(float(v) for v in s[:3])))
    UsdPhysics.CollisionAPI.Apply(geom.GetPrim())
    mats.bind(geom.GetPrim(), g.friction)


def _add_body(stage, path: str, b: BodyDesc, dynamic: bool) -> None:
    prim = UsdGeom.Xform.Define(stage, path).GetPrim()
    _set_pose(prim, b.pos_w, b.quat_wxyz)
    if not dynamic:
        return
    rb = UsdPhysics.RigidBodyAPI.Apply(prim)
    if b.mocap:
        rb.CreateKinematicEnabledAttr(True)
    mass = UsdPhysics.MassAPI.Apply(prim)
    mass.CreateMassAttr(float(b.mass_kg))
    mass.CreateCenterOfMassAttr(Gf.Vec3f(*(float(v) for v in b.com_b)))
    mass.CreateDiagonalInertiaAttr(Gf.Vec3f(*(float(v) for v in b.inertia_diag)))
    mass.CreatePrincipalAxesAttr(_quat(b.inertia_quat_wxyz))


def write_usd(desc: SceneDescription, path: str | Path) -> Path:
    """Write ``desc`` to ``path`` (.usda text or .usd/.usdc binary); returns the path."""
    path = Path(path)
    if path.suffix not in (".usda", ".usd", ".usdc"):
        raise ValueError(f"{path}: expected a .usda, .usd or .usdc file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.SetStageKilogramsPerUnit(stage, 1.0)
    world = UsdGeom.Xform.Define(stage, "/World").GetPrim()
    stage.SetDefaultPrim(world)
    world.SetCustomDataByKey("twin:scene", desc.name)
    scene = UsdPhysics.Scene.Define(stage, "/World/physicsScene")
    g = np.asarray(desc.gravity_w, dtype=np.float64)
    scene.CreateGravityDirectionAttr(Gf.Vec3f(*(float(v) for v in g / np.linalg.norm(g))))
    scene.CreateGravityMagnitudeAttr(float(np.linalg.norm(g)))
    scene.GetPrim().SetCustomDataByKey("twin:physics_dt_s", desc.physics_dt)
    mats = _Materials(stage, "/World/physicsMaterials")
    UsdGeom.Scope.Define(stage, "/World/physicsMaterials")

    by_name = {b.name: b for b in desc.bodies}
    robot_bodies = _subtree(desc, desc.root_body)
    robot_path = f"/World/{_safe(desc.robot or 'robot')}"
    robot_prim = UsdGeom.Xform.Define(stage, robot_path).GetPrim()
    UsdPhysics.ArticulationRootAPI.Apply(robot_prim)
    robot_prim.SetCustomDataByKey("twin:robot", desc.robot)
    robot_prim.SetCustomDataByKey("twin:gain_profile", desc.gain_profile)
    UsdGeom.Scope.Define(stage, "/World/objects")
    body_path = {}
    for b in desc.bodies:
        in_robot = b.name in robot_bodies
        if in_robot:
            p = f"{robot_path}/{_safe(b.name)}"
        else:
            top = b.name
            while by_name[top].parent != "world":
                top = by_name[top].parent
            p = (f"/World/objects/{_safe(b.name)}" if top == b.name
                 else f"/World/objects/{_safe(top)}_{_safe(b.name)}")
        # a body moves when it (or an ancestor) has a joint, or is kinematic
        dynamic = in_robot or b.free or b.mocap or any(j.child == b.name for j in desc.joints)
        _add_body(stage, p, b, dynamic)
        body_path[b.name] = p
    for gd in desc.geoms:
        if gd.body == "world":
            if gd.kind == "plane":
                floor = UsdGeom.Xform.Define(stage, "/World/floor").GetPrim()
                _set_pose(floor, gd.pos_b, gd.quat_wxyz)
                _add_geom(stage, "/World/floor", GeomDesc(**{**gd.__dict__, "pos_b": np.zeros(3),
                          "quat_wxyz": np.array([1.0, 0, 0, 0])}), mats)
            else:
                UsdGeom.Scope.Define(stage, "/World/static")
                _add_geom(stage, "/World/static", gd, mats)
            continue
        _add_geom(stage, body_path[gd.body], gd, mats)

    joints_scope = f"{robot_path}/joints"
    UsdGeom.Scope.Define(stage, joints_scope)
    for j in desc.joints:
        parent_path = body_path.get(j.parent)
        jp = (f"{joints_scope}/{_safe(j.name)}" if j.child in robot_bodies
              else f"{body_path[j.child]}/{_safe(j.name)}")
        joint = (UsdPhysics.RevoluteJoint if j.kind == "revolute" else UsdPhysics.PrismaticJoint
                 ).Define(stage, jp)
        joint.CreateAxisAttr("X")
        child = by_name[j.child]
        q_axis = _quat_x_to(j.axis_b)  # joint frame in the child frame
        joint.CreateBody1Rel().SetTargets([body_path[j.child]])
        joint.CreateLocalPos1Attr(Gf.Vec3f(*(float(v) for v in j.anchor_b)))
        joint.CreateLocalRot1Attr(_quat(q_axis))
        # the same frame in the parent's: T_parent^-1 T_child T_joint at zero configuration
        anchor_w = child.pos_w + quat_to_matrix(child.quat_wxyz) @ j.anchor_b
        q_joint_w = quat_mul(child.quat_wxyz, q_axis)
        if parent_path is not None:
            par = by_name[j.parent]
            joint.CreateBody0Rel().SetTargets([parent_path])
            pos0 = quat_to_matrix(par.quat_wxyz).T @ (anchor_w - par.pos_w)
            rot0 = quat_mul(quat_conjugate(par.quat_wxyz), q_joint_w)
        else:
            pos0, rot0 = anchor_w, q_joint_w
        joint.CreateLocalPos0Attr(Gf.Vec3f(*(float(v) for v in pos0)))
        joint.CreateLocalRot0Attr(_quat(rot0))
        angular = j.kind == "revolute"
        to_usd = math.degrees(1.0) if angular else 1.0  # USD angles are degrees
        if j.limits is not None:
            joint.CreateLowerLimitAttr(float(j.limits[0] * to_usd))
            joint.CreateUpperLimitAttr(float(j.limits[1] * to_usd))
        prim = joint.GetPrim()
        prim.CreateAttribute("twin:armature", Sdf.ValueTypeNames.Double).Set(j.armature)
        if j.kp is not None:
            drive = UsdPhysics.DriveAPI.Apply(prim, "angular" if angular else "linear")
            drive.CreateTypeAttr("force")
            drive.CreateStiffnessAttr(float(j.kp / to_usd))
            drive.CreateDampingAttr(float(j.kd / to_usd))
            if j.effort_limit is not None:
                drive.CreateMaxForceAttr(float(j.effort_limit))
            prim.CreateAttribute("twin:kp", Sdf.ValueTypeNames.Double).Set(j.kp)
            prim.CreateAttribute("twin:kd", Sdf.ValueTypeNames.Double).Set(j.kd)
    jointed = {j.child for j in desc.joints}
    for b in desc.bodies:  # MuJoCo welds a body without joints to its parent
        if (b.free or b.name in jointed or b.name == desc.root_body or b.parent == "world"
                or b.name not in robot_bodies and not (b.mocap or by_name[b.parent].free)):
            continue
        par = by_name[b.parent]
        scope = joints_scope if b.name in robot_bodies else body_path[b.name]
        weld = UsdPhysics.FixedJoint.Define(stage, f"{scope}/weld_{_safe(b.name)}")
        weld.CreateBody0Rel().SetTargets([body_path[par.name]])
        weld.CreateBody1Rel().SetTargets([body_path[b.name]])
        weld.CreateLocalPos0Attr(Gf.Vec3f(*(float(v) for v in
                                            quat_to_matrix(par.quat_wxyz).T @ (b.pos_w - par.pos_w))))
        weld.CreateLocalRot0Attr(_quat(quat_mul(quat_conjugate(par.quat_wxyz), b.quat_wxyz)))
        weld.CreateLocalPos1Attr(Gf.Vec3f(0.0, 0.0, 0.0))
        weld.CreateLocalRot1Attr(_quat(np.array([1.0, 0.0, 0.0, 0.0])))
    root = by_name[desc.root_body]
    if not root.free:  # a fixed base: weld the root to the world
        fixed = UsdPhysics.FixedJoint.Define(stage, f"{joints_scope}/world_to_{_safe(root.name)}")
        fixed.CreateBody1Rel().SetTargets([body_path[root.name]])
        fixed.CreateLocalPos0Attr(Gf.Vec3f(*(float(v) for v in root.pos_w)))
        fixed.CreateLocalRot0Attr(_quat(root.quat_wxyz))

    UsdGeom.Scope.Define(stage, "/World/cameras")
    for c in desc.cameras:
        _add_camera(stage, f"/World/cameras/{_safe(c.name)}", c)
    stage.GetRootLayer().Save()
    return path


def _add_camera(stage, path: str, c) -> None:
    cam = UsdGeom.Camera.Define(stage, path)
    K = np.asarray(c.K, dtype=np.float64)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    pitch = PIXEL_PITCH_MM
    cam.CreateFocalLengthAttr(float(fx * pitch))
    cam.CreateHorizontalApertureAttr(float(c.width * pitch))
    cam.CreateVerticalApertureAttr(float(c.height * pitch * fx / fy))
    # USD offsets are from the aperture centre, y up; OpenCV's (cx, cy) from the corner, v down
    cam.CreateHorizontalApertureOffsetAttr(float((cx - c.width / 2.0) * pitch))
    cam.CreateVerticalApertureOffsetAttr(float(-(cy - c.height / 2.0) * pitch * fx / fy))
    cam.CreateClippingRangeAttr(Gf.Vec2f(0.01, 100.0))
    T = np.asarray(c.world_from_camera, dtype=np.float64).copy()
    T[:3, :3] = T[:3, :3] @ np.diag([1.0, -1.0, -1.0])  # OpenCV -> USD (y up, looks down -z)
    UsdGeom.Xformable(cam).AddTransformOp().Set(Gf.Matrix4d(T.T.tolist()))  # row vectors
    prim = cam.GetPrim()
    prim.CreateAttribute("twin:K", Sdf.ValueTypeNames.Matrix3d).Set(Gf.Matrix3d(K.T.tolist()))
    prim.CreateAttribute("twin:width", Sdf.ValueTypeNames.Int).Set(int(c.width))
    prim.CreateAttribute("twin:height", Sdf.ValueTypeNames.Int).Set(int(c.height))
    prim.CreateAttribute("twin:body", Sdf.ValueTypeNames.String).Set(c.body)


def _subtree(desc: SceneDescription, root: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for b in desc.bodies:
        children.setdefault(b.parent, []).append(b.name)
    out, todo = set(), [root]
    while todo:
        n = todo.pop()
        out.add(n)
        todo.extend(children.get(n, []))
    return out


def export_scene_usd(scene: str, out: str | Path, overrides: list[str] | None = None) -> Path:
    """Build ``scene`` (a bundled name or YAML path, Hydra-style overrides) and write it."""
    from twin.sim.mujoco_backend import MujocoBackend
    from twin.sim.mujoco_describe import describe_scene

    backend = MujocoBackend.from_scene(scene, overrides=overrides)
    try:
        return write_usd(describe_scene(backend), out)
    finally:
        backend.close()
