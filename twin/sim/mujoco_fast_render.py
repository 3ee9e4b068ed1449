"""Render-only copies of a scene with decimated visual meshes (the ``fast`` render profile).

This module owns the visual-mesh decimation: which meshes may be simplified (those drawn only
by geoms that never collide), simplifying them with ``fast_simplification`` (quadric edge
collapse), the caches of simplified meshes (per process, and on disk under
``$TWIN_CACHE_DIR/meshes``, default ``~/.cache/twin/meshes``), and compiling the render
``MjModel``. That model is rebuilt from the scene's MjSpec, so its kinematic tree, bodies,
geoms, cameras and lights are those of the physics model (checked on every build): a physics
``qpos`` poses it and segmentation ids mean the same bodies. Collision meshes are never
changed; a mesh shared by a collision geom and a visual geom (all of Menagerie G1's collision
meshes) gets a decimated twin that only the visual geom points to. Meshes with texture
coordinates are left whole (the simplifier does not carry UVs).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import fast_simplification
import mujoco
import numpy as np

from twin.sim.mujoco_render import RenderProfile
from twin.sim.mujoco_scene import BuiltScene, build_scene_mjspec

log = logging.getLogger(__name__)

CACHE_ENV = "TWIN_CACHE_DIR"
CACHE_SCHEMA_VERSION = 1
# fast_simplification's aggressiveness (its default is 7). Measured on G1 and Panda at 800
# target faces: 7 moves some bounding-box faces by up to 26 mm (G1 hand, torso), 3 by at most
# 2 mm for about as many faces. On CAD meshes with sliver triangles the simplifier stops above
# the target whatever the setting (G1 torso: 51k -> ~5k faces).
SIMPLIFY_AGGRESSIVENESS = 3.0
RENDER_MESH_SUFFIX = "__render"


@dataclass(frozen=True)
class TriangleMesh:
    """A triangle mesh: ``vert`` (V, 3) float32 in metres, ``face`` (F, 3) int32 vertex indices
    (counter-clockwise seen from outside). Frame: stated by whoever returns one."""

    vert: np.ndarray
    face: np.ndarray

    @property
    def nface(self) -> int:
        return int(self.face.shape[0])


_memory_cache: dict[str, TriangleMesh] = {}


def clear_memory_cache() -> None:
    """Forget the decimated meshes held by this process (the disk cache stays)."""
    _memory_cache.clear()


def cache_dir() -> Path:
    """Folder of cached decimated meshes: ``$TWIN_CACHE_DIR/meshes``, else
    ``${XDG_CACHE_HOME:-~/.cache}/twin/meshes``; read at call time."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                            "twin")
    return Path(root) / "meshes"


def visual_geom_mask(model: mujoco.MjModel) -> np.ndarray:
    """(ngeom,) bool: mesh geoms that never collide (contype = conaffinity = 0), i.e. drawn only."""
    return ((model.geom_type == mujoco.mjtGeom.mjGEOM_MESH)
            & (model.geom_contype == 0) & (model.geom_conaffinity == 0))


def compiled_mesh(model: mujoco.MjModel, mesh_id: int) -> TriangleMesh:
    """Mesh ``mesh_id`` as compiled: vertices in MuJoCo's mesh frame (re-centred at the mesh's
    centroid and rotated to its principal axes, scale applied), faces welded by position."""
    va, vn = model.mesh_vertadr[mesh_id], model.mesh_vertnum[mesh_id]
    fa, fn = model.mesh_faceadr[mesh_id], model.mesh_facenum[mesh_id]
    vert = np.asarray(model.mesh_vert[va:va + vn], dtype=np.float32)
    face = np.asarray(model.mesh_face[fa:fa + fn], dtype=np.int64)
    # OBJ meshes come with a vertex per face corner (split normals); the simplifier needs
    # shared vertices to collapse edges, so weld exact duplicates.
    uniq, inverse = np.unique(vert, axis=0, return_inverse=True)
    face = inverse.reshape(-1)[face]
    keep = (face[:, 0] != face[:, 1]) & (face[:, 1] != face[:, 2]) & (face[:, 0] != face[:, 2])
    return TriangleMesh(uniq.astype(np.float32), face[keep].astype(np.int32))


def mesh_file_frame(model: mujoco.MjModel, mesh_id: int, vert: np.ndarray) -> np.ndarray:
    """Map vertices from the compiled mesh frame back to the (scaled) frame of the asset file,
    where a geom's own pos/quat apply: v_file = R(mesh_quat) v + mesh_pos."""
    rot = np.zeros(9)
    mujoco.mju_quat2Mat(rot, model.mesh_quat[mesh_id])
    return np.asarray(vert, np.float64) @ rot.reshape(3, 3).T + model.mesh_pos[mesh_id]


def simplify_mesh(mesh: TriangleMesh, target_faces: int) -> TriangleMesh:
    """Quadric-collapse ``mesh`` to about ``target_faces`` faces (same frame as the input)."""
    if mesh.nface <= target_faces:
        return mesh
    vert, face = fast_simplification.simplify(mesh.vert.astype(np.float64), mesh.face,
                                              target_count=int(target_faces),
                                              agg=SIMPLIFY_AGGRESSIVENESS)
    return TriangleMesh(np.asarray(vert, np.float32), np.asarray(face, np.int32))


def _cache_key(mesh: TriangleMesh, target_faces: int) -> str:
    h = hashlib.sha1()
    h.update(f"twin-mesh-v{CACHE_SCHEMA_VERSION};fast_simplification "
             f"{getattr(fast_simplification, '__version__', '?')};agg {SIMPLIFY_AGGRESSIVENESS};"
             f"target {int(target_faces)};".encode())
    h.update(np.ascontiguousarray(mesh.vert, np.float32).tobytes())
    h.update(np.ascontiguousarray(mesh.face, np.int32).tobytes())
    return h.hexdigest()


def decimated_mesh(mesh: TriangleMesh, target_faces: int) -> TriangleMesh:
    """``simplify_mesh`` through the per-process and on-disk caches (keyed by the SHA-1 of the
    input vertices, faces, target and simplifier version)."""
    key = _cache_key(mesh, target_faces)
    if key in _memory_cache:
        return _memory_cache[key]
    path = cache_dir() / f"{key}.npz"
    out = _load_cached(path)
    if out is None:
        out = simplify_mesh(mesh, target_faces)
        _store_cached(path, out, mesh.nface, target_faces)
    _memory_cache[key] = out
    return out


def _load_cached(path: Path) -> TriangleMesh | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            if int(z["schema_version"]) != CACHE_SCHEMA_VERSION:
                return None
            return TriangleMesh(z["vert"].astype(np.float32), z["face"].astype(np.int32))
    except (OSError, KeyError, ValueError) as exc:  # truncated or foreign file: recompute
        log.warning("ignoring unreadable mesh cache %s: %s", path, exc)
        return None


def _store_cached(path: Path, mesh: TriangleMesh, source_faces: int, target_faces: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # write-then-rename: concurrent builders never see a half-written file
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, vert=mesh.vert, face=mesh.face, schema_version=CACHE_SCHEMA_VERSION,
                     source_faces=source_faces, target_faces=target_faces,
                     writer="twin.sim.mujoco_fast_render",
                     frame="MuJoCo compiled mesh frame, metres")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not write mesh cache %s: %s", path, exc)


def decimated_render_model(scene: BuiltScene, profile: RenderProfile) -> mujoco.MjModel:
    """A model for drawing ``scene`` with visual meshes of more than
    ``profile.target_faces_per_mesh`` faces decimated to about that many.

    Same bodies, joints, geoms (ids and order), cameras and lights as ``scene.model``;
    only mesh assets differ. Not meant for stepping physics.
    """
    phys = scene.model
    target = int(profile.target_faces_per_mesh)
    spec = build_scene_mjspec(scene.config, scene.robot)
    visual = visual_geom_mask(phys)
    drawn_by = {int(phys.geom_dataid[g]) for g in np.flatnonzero(visual)}
    collides = {int(phys.geom_dataid[g]) for g in np.flatnonzero(
        (phys.geom_type == mujoco.mjtGeom.mjGEOM_MESH) & ~visual)}

    replaced: dict[str, str] = {}  # original mesh name -> decimated twin's name
    for smesh in list(spec.meshes):
        mid = mujoco.mj_name2id(phys, mujoco.mjtObj.mjOBJ_MESH, smesh.name)
        if mid < 0 or mid not in drawn_by or phys.mesh_facenum[mid] <= target:
            continue
        if phys.mesh_texcoordnum[mid] > 0:  # the simplifier would drop the UVs: keep it whole
            continue
        small = decimated_mesh(compiled_mesh(phys, mid), target)
        twin_mesh = spec.add_mesh(
            name=smesh.name + RENDER_MESH_SUFFIX,
            uservert=mesh_file_frame(phys, mid, small.vert).reshape(-1).tolist(),
            userface=small.face.reshape(-1).tolist())
        # A surface, not necessarily closed after collapsing: a shell inertia never fails
        # on zero or negative volume, and inertia does not matter for drawing.
        twin_mesh.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL
        twin_mesh.material = smesh.material
        replaced[smesh.name] = twin_mesh.name
        if mid not in collides:
            spec.delete(smesh)

    for g in spec.geoms:
        if (g.type == mujoco.mjtGeom.mjGEOM_MESH and g.meshname in replaced
                and g.contype == 0 and g.conaffinity == 0):
            g.meshname = replaced[g.meshname]
    model = spec.compile()
    assert_same_structure(phys, model)
    # Extent and centre set the clip planes (hence depth precision and the far value of empty
    # pixels) and the shadow-map frustum: keep the physics model's, not the decimated meshes'.
    for field in ("meaninertia", "meanmass", "meansize", "extent", "center"):
        setattr(model.stat, field, getattr(phys.stat, field))
    return model


def assert_same_structure(physics: mujoco.MjModel, render: mujoco.MjModel) -> None:
    """Raise unless ``render`` has ``physics``'s tree, joints, geoms, cameras and lights, so that
    qpos/mocap copy over and segmentation ids name the same bodies."""
    sizes = ("nbody", "njnt", "nq", "nmocap", "ngeom", "ncam", "nlight")
    diff = [f"{s}: {getattr(physics, s)} vs {getattr(render, s)}" for s in sizes
            if getattr(physics, s) != getattr(render, s)]
    if not diff:
        arrays = ("body_parentid", "body_jntadr", "jnt_type", "jnt_qposadr", "geom_bodyid",
                  "geom_type", "geom_group", "cam_bodyid")
        diff = [a for a in arrays if not np.array_equal(getattr(physics, a), getattr(render, a))]
        diff += [f"body {i} name" for i in range(physics.nbody)
                 if physics.body(i).name != render.body(i).name]
    if diff:
        raise RuntimeError(f"decimated render model differs from the physics model: {diff}")
