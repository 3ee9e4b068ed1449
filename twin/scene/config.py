"""Scene description schema (dataclasses) and loading from Hydra/YAML configs.

A scene is a robot, a floor, an optional table, objects, lights and cameras: enough to
describe a digital twin of a real cell in YAML (``configs/scene/*.yaml``). Cameras are given
either by pose (``pos`` + ``lookat`` or ``quat_wxyz``) and ``fovy``, or by a real
calibration: OpenCV intrinsics ``K``, image size, and ``world_from_camera`` (4x4, OpenCV
axes). Positions are metres in the z-up world; quaternions are wxyz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from twin.errors import InputError

OBJECT_TYPES = ("box", "sphere", "cylinder", "capsule", "mesh")
FRICTION_CONES = ("pyramidal", "elliptic")
CONDIMS = (1, 3, 4, 6)  # MuJoCo contact dimensions: frictionless, tangential, + torsional, + rolling


class SceneConfigError(InputError):
    """A scene config that cannot be built; the message names the file and field."""


@dataclass
class PhysicsConfig:
    dt: float = 0.005  # s, physics step
    decimation: int = 4  # physics steps per control step (0.005 * 4 = 50 Hz)
    integrator: str = "implicitfast"
    # Contact model. Pinch grasps hold without slip with elliptic cones and impratio ~10
    # (MuJoCo's defaults, pyramidal and 1, let a squeezed cube creep out of the fingers).
    cone: str = "pyramidal"  # one of FRICTION_CONES
    impratio: float = 1.0  # frictional-to-normal constraint impedance ratio (>= 1 is usual)


@dataclass
class FloorConfig:
    enabled: bool = True
    friction: float = 1.0
    rgba: list[float] = field(default_factory=lambda: [0.2, 0.3, 0.4, 1.0])


@dataclass
class TableConfig:
    pos: list[float] = field(default_factory=lambda: [0.5, 0.0, 0.0])  # centre of the foot print
    half_size: list[float] = field(default_factory=lambda: [0.4, 0.6])  # x, y half extents, m
    height: float = 0.4  # top surface height, m
    thickness: float = 0.04
    friction: float = 1.0
    rgba: list[float] = field(default_factory=lambda: [0.55, 0.42, 0.3, 1.0])


@dataclass
class ObjectConfig:
    name: str = MISSING
    type: str = "box"  # one of OBJECT_TYPES
    size: list[float] = field(default_factory=lambda: [0.02, 0.02, 0.02])  # MuJoCo geom size
    mesh_file: str | None = None  # for type=mesh: .obj/.stl path
    mesh_scale: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    pos: list[float] = field(default_factory=lambda: [0.5, 0.0, 0.45])
    quat_wxyz: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0])
    mass: float = 0.1  # kg
    friction: float = 1.0
    condim: int = 3  # one of CONDIMS; 4 adds torsional friction (a pinched object cannot spin)
    rgba: list[float] = field(default_factory=lambda: [0.8, 0.2, 0.2, 1.0])
    free: bool = True  # free-floating (has a freejoint) or fixed to the world
    mocap: bool = False  # kinematic body posed by the env (targets, markers); implies not free
    collision: bool = True  # False: visual only (no contacts)


@dataclass
class DrawerConfig:
    """An articulated cabinet: a box open at its front, one drawer on a slide (prismatic)
    joint, and a bar handle on the drawer front.

    Frame: the cabinet's origin is the centre of its bottom face at ``pos`` (world, m),
    turned by ``yaw`` (rad) about z; the drawer slides out along the cabinet's local +x
    (its front). Names: body ``{name}`` (cabinet), body ``{name}_drawer``, joint
    ``{name}_slide`` (0 = closed, ``travel`` = fully open, m), geom ``{name}_handle``, site
    ``{name}_handle`` (the bar's centre).
    """

    name: str = MISSING
    pos: list[float] = field(default_factory=lambda: [0.7, 0.0, 0.4])
    yaw: float = 0.0  # rad; pi makes the drawer open towards world -x
    half_size: list[float] = field(default_factory=lambda: [0.15, 0.18, 0.07])  # outer, m
    wall: float = 0.01  # panel thickness, m
    travel: float = 0.18  # slide range, m
    drawer_mass: float = 0.5  # kg
    damping: float = 4.0  # slide damping, N s/m
    frictionloss: float = 0.5  # dry friction of the slide, N
    handle_length: float = 0.1  # bar length along the front, m
    handle_radius: float = 0.008  # m
    handle_standoff: float = 0.05  # front face to bar axis, m
    handle_height: float = 0.0  # bar above the drawer front's centre, m
    friction: float = 1.0
    mocap: bool = False  # cabinet posed by the env at reset (e.g. randomised per seed)
    rgba: list[float] = field(default_factory=lambda: [0.45, 0.5, 0.55, 1.0])
    drawer_rgba: list[float] = field(default_factory=lambda: [0.75, 0.62, 0.45, 1.0])
    handle_rgba: list[float] = field(default_factory=lambda: [0.15, 0.15, 0.15, 1.0])


@dataclass
class LightConfig:
    pos: list[float] = field(default_factory=lambda: [0.0, 0.0, 3.0])
    dir: list[float] = field(default_factory=lambda: [0.0, 0.0, -1.0])
    directional: bool = True
    diffuse: list[float] = field(default_factory=lambda: [0.7, 0.7, 0.7])
    castshadow: bool = True


@dataclass
class CameraConfig:
    name: str = MISSING
    width: int = 256
    height: int = 256
    # Pose form: pos + (lookat | quat_wxyz of the MuJoCo camera frame) + fovy.
    pos: list[float] | None = None
    lookat: list[float] | None = None
    quat_wxyz: list[float] | None = None
    fovy: float | None = None  # degrees
    # Calibration form: OpenCV K (3x3 rows) + world_from_camera (4x4 rows, OpenCV axes).
    K: list[Any] | None = None
    world_from_camera: list[Any] | None = None
    # Mount on a robot body instead of the world (pos/quat then relative to that body).
    body: str | None = None
    # [near, far] m mapped onto the depth prompt's grey levels (twin.record.prompts.depth);
    # None: derived from where the camera sits (twin.scene.camera.default_depth_range_m)
    depth_range_m: list[float] | None = None


@dataclass
class SceneConfig:
    name: str = "scene"  # the scene's name (model and file names)
    robot: str = "g1"  # robot name (see `twin robots`)
    gains: str | None = None  # gain profile; None = the robot's default
    robot_base_pos: list[float] | None = None  # [x, y, z] m: fixed base mount / floating start
    robot_base_yaw: float = 0.0  # rad about z: the robot's heading in the scene
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)
    floor: FloorConfig = field(default_factory=FloorConfig)
    table: TableConfig | None = None
    objects: list[ObjectConfig] = field(default_factory=list)
    drawers: list[DrawerConfig] = field(default_factory=list)
    lights: list[LightConfig] = field(default_factory=lambda: [LightConfig()])
    cameras: list[CameraConfig] = field(default_factory=list)


def configs_dir() -> Path:
    """The installed ``twin.configs`` folder (Hydra config root)."""
    import twin.configs

    return Path(twin.configs.__file__).resolve().parent


def scene_names() -> list[str]:
    return sorted(p.stem for p in (configs_dir() / "scene").glob("*.yaml"))


def load_scene_config(name_or_path: str | Path = "empty", overrides: list[str] | None = None,
                      ) -> SceneConfig:
    """A validated ``SceneConfig`` from a bundled scene name or a YAML path, plus overrides.

    Overrides are Hydra/OmegaConf dotlist strings, e.g. ``["robot=panda", "table.height=0.7"]``.
    """
    source = str(name_or_path)
    path = Path(source)
    if not (path.suffix in (".yaml", ".yml") or path.exists()):
        path = configs_dir() / "scene" / f"{source}.yaml"
        if not path.exists():
            raise SceneConfigError(f"unknown scene {source!r}; expected a YAML path or one of "
                                   f"{scene_names()}")
    elif not path.exists():
        raise SceneConfigError(f"scene file {source} does not exist")
    try:
        raw = OmegaConf.load(path)
    except Exception as exc:  # yaml errors come in several types
        raise SceneConfigError(f"{path}: not valid YAML ({_one_line(exc)})") from exc
    if not isinstance(raw, DictConfig):
        raise SceneConfigError(f"{path}: expected a mapping at the top level")
    raw.pop("defaults", None)
    if overrides:
        try:
            raw = OmegaConf.merge(raw, OmegaConf.from_dotlist(list(overrides)))
        except OmegaConfBaseException as exc:
            raise SceneConfigError(f"{path}: bad override in {overrides}: {_one_line(exc)}") from exc
    return scene_config_from_dict(raw, source=str(path))


def scene_config_from_dict(raw: Any, source: str = "<dict>") -> SceneConfig:
    """Validate a plain or OmegaConf mapping against the schema."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(SceneConfig), raw)
        cfg: SceneConfig = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except OmegaConfBaseException as exc:
        raise SceneConfigError(f"{source}: {_one_line(exc)}") from exc
    validate_scene_config(cfg, source)
    return cfg


def validate_scene_config(cfg: SceneConfig, source: str = "<scene>") -> None:
    import twin.robots

    if cfg.robot not in twin.robots.names():
        raise SceneConfigError(f"{source}: robot: unknown robot {cfg.robot!r}; expected one of "
                               f"{twin.robots.names()}")
    if not (math.isfinite(cfg.physics.dt) and cfg.physics.dt > 0) or cfg.physics.decimation < 1:
        raise SceneConfigError(f"{source}: physics: expected dt > 0 and decimation >= 1, got "
                               f"dt={cfg.physics.dt}, decimation={cfg.physics.decimation}")
    if cfg.physics.cone not in FRICTION_CONES:
        raise SceneConfigError(f"{source}: physics.cone: {cfg.physics.cone!r}; expected one of "
                               f"{list(FRICTION_CONES)}")
    if not (math.isfinite(cfg.physics.impratio) and cfg.physics.impratio > 0):
        raise SceneConfigError(f"{source}: physics.impratio must be > 0, got "
                               f"{cfg.physics.impratio}")
    names: set[str] = set()
    for i, obj in enumerate(cfg.objects):
        where = f"{source}: objects[{i}] ({obj.name})"
        if obj.name in names:
            raise SceneConfigError(f"{where}: duplicate object name")
        names.add(obj.name)
        if obj.type not in OBJECT_TYPES:
            raise SceneConfigError(f"{where}: type {obj.type!r}; expected one of {OBJECT_TYPES}")
        if obj.type == "mesh" and not obj.mesh_file:
            raise SceneConfigError(f"{where}: type mesh needs mesh_file")
        if not (math.isfinite(obj.mass) and obj.mass > 0):
            raise SceneConfigError(f"{where}: mass must be a finite number > 0 kg, got "
                                   f"{obj.mass}")
        if not (math.isfinite(obj.friction) and obj.friction >= 0):
            raise SceneConfigError(f"{where}: friction must be a finite number >= 0, got "
                                   f"{obj.friction}")
        if obj.type != "mesh" and not all(math.isfinite(v) and v > 0 for v in obj.size):
            raise SceneConfigError(f"{where}: size must be finite numbers > 0, got "
                                   f"{list(obj.size)}")
        if obj.condim not in CONDIMS:
            raise SceneConfigError(f"{where}: condim {obj.condim}; expected one of {list(CONDIMS)}")
        _check_len(where, "pos", obj.pos, 3)
        _check_len(where, "quat_wxyz", obj.quat_wxyz, 4)
    for i, dr in enumerate(cfg.drawers):
        where = f"{source}: drawers[{i}] ({dr.name})"
        if dr.name in names:
            raise SceneConfigError(f"{where}: name already used by another object or drawer")
        names.add(dr.name)
        _check_len(where, "pos", dr.pos, 3)
        _check_len(where, "half_size", dr.half_size, 3)
        hx, hy, hz = dr.half_size
        if min(dr.half_size) <= 0 or dr.wall <= 0 or 2 * dr.wall >= min(hy, hz):
            raise SceneConfigError(f"{where}: expected positive half_size and a wall thinner "
                                   f"than a quarter of the front, got half_size={list(dr.half_size)}, "
                                   f"wall={dr.wall}")
        if not 0 < dr.travel < 2 * hx - 2 * dr.wall:
            raise SceneConfigError(f"{where}: travel must be in (0, depth - 2 walls) = "
                                   f"(0, {2 * hx - 2 * dr.wall:.3f}) m, got {dr.travel}")
        if not (math.isfinite(dr.drawer_mass) and dr.drawer_mass > 0):
            raise SceneConfigError(f"{where}: drawer_mass must be a finite number > 0 kg, got "
                                   f"{dr.drawer_mass}")
        if dr.handle_standoff <= dr.handle_radius or dr.handle_length <= 0:
            raise SceneConfigError(f"{where}: the handle needs handle_standoff > handle_radius "
                                   "and a positive handle_length")
    cam_names: set[str] = set()
    for i, cam in enumerate(cfg.cameras):
        where = f"{source}: cameras[{i}] ({cam.name})"
        if cam.name in cam_names:
            raise SceneConfigError(f"{where}: duplicate camera name")
        cam_names.add(cam.name)
        calibrated = cam.K is not None or cam.world_from_camera is not None
        if calibrated:
            if cam.K is None or cam.world_from_camera is None:
                raise SceneConfigError(f"{where}: a calibrated camera needs both K (3x3) and "
                                       "world_from_camera (4x4)")
            _check_matrix(where, "K", cam.K, 3)
            _check_matrix(where, "world_from_camera", cam.world_from_camera, 4)
            R = np.asarray(cam.world_from_camera, dtype=np.float64)[:3, :3]
            if not np.allclose(R.T @ R, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
                raise SceneConfigError(f"{where}: world_from_camera[:3,:3] is not a rotation")
        else:
            if cam.pos is None or cam.fovy is None or (cam.lookat is None and cam.quat_wxyz is None):
                raise SceneConfigError(
                    f"{where}: no intrinsics: give pos + lookat (or quat_wxyz) + fovy, or a "
                    "calibration (K + world_from_camera)")
        if cam.fovy is not None and not (math.isfinite(cam.fovy) and 0 < cam.fovy < 180):
            raise SceneConfigError(f"{where}: fovy must be in (0, 180) degrees, got {cam.fovy}")
        if calibrated and not (cam.K[0][0] > 0 and cam.K[1][1] > 0):
            raise SceneConfigError(f"{where}: K needs focal lengths fx, fy > 0 (pixels)")
        if not (0 < cam.width <= 8192 and 0 < cam.height <= 8192):
            raise SceneConfigError(f"{where}: width/height must be in 1..8192 pixels, got "
                                   f"{cam.width}x{cam.height}")
        if cam.depth_range_m is not None and (
                len(cam.depth_range_m) != 2
                or not 0 <= float(cam.depth_range_m[0]) < float(cam.depth_range_m[1])):
            raise SceneConfigError(f"{where}: depth_range_m must be [near, far] m with "
                                   f"0 <= near < far, got {list(cam.depth_range_m)}")


def _check_matrix(where: str, field_name: str, rows: Any, n: int) -> None:
    try:
        arr = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (n, n) or not np.all(np.isfinite(arr)):
        raise SceneConfigError(f"{where}: {field_name} must be {n}x{n} finite numbers (rows)")


def _check_len(where: str, field_name: str, value: list, n: int) -> None:
    if len(value) != n:
        raise SceneConfigError(f"{where}: {field_name} must have {n} numbers, got {len(value)}")
    if not all(math.isfinite(float(v)) for v in value):
        raise SceneConfigError(f"{where}: {field_name} must be finite numbers, got "
                               f"{list(value)}")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    key = getattr(exc, "full_key", None)
    return f"{key}: {msg}" if key else msg
