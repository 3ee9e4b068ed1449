"""``RobotMotion``: a robot reference motion, and its versioned ``.npz`` file format.

A ``RobotMotion`` is what ``twin.retarget`` writes and motion-tracking envs read. Frames:
z-up world, metres, radians; quaternions (w, x, y, z); joint order and body order carried
by ``joint_names`` / ``body_names`` (MuJoCo model order when twin wrote the file).

Files (``save_robot_motion``): ``schema`` = "twin.robot_motion", ``version``, ``writer``,
``fps``, ``robot``, ``joint_names``, ``body_names``, ``joint_pos`` (T, J), ``joint_vel``,
``root_pos_w`` (T, 3), ``root_quat_wxyz`` (T, 4), ``body_pos_w`` (T, B, 3),
``body_quat_wxyz`` (T, B, 4), ``body_lin_vel_w``, ``body_ang_vel_w`` (T, B, 3), optional
``hand_joint_names``/``hand_joint_pos`` (T, 14) and ``hand_state`` (T, 2), optional
``human_joint_names``/``human_joint_pos_w`` (T, H, 3) (the source human's joints scaled by
robot height / subject height, for previews and debugging), and ``source``
(a JSON object: input file, reader, retargeting settings, residuals).

``load_robot_motion`` also reads BeyondMimic/mjlab/holosoma-style ``.npz`` (``joint_pos``
(T, J) or qpos-shaped (T, 7 + J), ``body_pos_w``, ``body_quat_w`` wxyz, ...) and Unitree /
SONIC deployment CSVs (one row per frame: root position, root quaternion in a named order,
joint angles); bodies of CSV motions are filled in by MuJoCo FK (``twin.retarget``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.rotations import quat_wxyz_to_xyzw, quat_xyzw_to_wxyz

ROBOT_MOTION_SCHEMA = "twin.robot_motion"
ROBOT_MOTION_VERSION = 1
QUAT_ORDERS = ("wxyz", "xyzw")


@dataclass(frozen=True)
class RobotMotion:
    """A kinematic robot reference motion (see module docstring for frames and units)."""

    fps: float
    robot: str
    joint_names: tuple[str, ...]
    body_names: tuple[str, ...]
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    root_pos_w: np.ndarray
    root_quat_wxyz: np.ndarray
    body_pos_w: np.ndarray
    body_quat_wxyz: np.ndarray
    body_lin_vel_w: np.ndarray
    body_ang_vel_w: np.ndarray
    hand_joint_names: tuple[str, ...] = ()
    hand_joint_pos: np.ndarray | None = None
    hand_state: np.ndarray | None = None
    human_joint_names: tuple[str, ...] = ()
    human_joint_pos_w: np.ndarray | None = None
    source: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = self.source.get("file")
        T, J, B = self.joint_pos.shape[0], len(self.joint_names), len(self.body_names)
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MotionFormatError(where, "fps", f"is {self.fps}; expected a positive number")
        if T == 0:
            raise MotionFormatError(where, "joint_pos", "has zero frames; expected T >= 1")
        expect = {
            "joint_pos": (T, J), "joint_vel": (T, J), "root_pos_w": (T, 3),
            "root_quat_wxyz": (T, 4), "body_pos_w": (T, B, 3), "body_quat_wxyz": (T, B, 4),
            "body_lin_vel_w": (T, B, 3), "body_ang_vel_w": (T, B, 3),
        }
        if self.hand_joint_pos is not None:
            expect["hand_joint_pos"] = (T, len(self.hand_joint_names))
        if self.hand_state is not None:
            expect["hand_state"] = (T, 2)
        if self.human_joint_pos_w is not None:
            expect["human_joint_pos_w"] = (T, len(self.human_joint_names), 3)
        for key, shape in expect.items():
            arr = getattr(self, key)
            if arr.shape != shape:
                raise MotionFormatError(where, key, f"has shape {arr.shape}; expected {shape}")
            if not np.isfinite(arr).all():
                raise MotionFormatError(where, key, "holds NaN/Inf; expected finite values")

    @property
    def num_frames(self) -> int:
        return int(self.joint_pos.shape[0])

    @property
    def duration_s(self) -> float:
        return (self.num_frames - 1) / self.fps

    def frames(self, start: int, stop: int) -> RobotMotion:
        """Frames ``start:stop`` as a motion of their own (its name says which)."""
        T = self.num_frames
        if not 0 <= start < stop <= T:
            raise ValueError(f"frames {start}:{stop} of a {T}-frame motion")
        per_frame = {f.name: getattr(self, f.name)[start:stop] for f in fields(self)
                     if isinstance(getattr(self, f.name), np.ndarray)}
        return replace(self, **per_frame,
                       source={**self.source, "name": f"{self.clip_name()}[{start}:{stop}]"})

    def clip_name(self, default: str = "motion") -> str:
        """The name a library, a report or an augmented copy gives this clip: its source's
        ``name``, else its file's stem, else ``default``."""
        return str(self.source.get("name") or Path(str(self.source.get("file") or default)).stem)

    def body_index(self, name: str) -> int:
        if name not in self.body_names:
            raise MotionFormatError(self.source.get("file"), "body_names",
                                    f"has no body {name!r}")
        return self.body_names.index(name)


def save_robot_motion(motion: RobotMotion, path: str | Path, writer: str = "twin") -> None:
    """Write ``motion`` as a versioned, self-describing ``.npz``."""
    arrays = {
        "schema": np.array(ROBOT_MOTION_SCHEMA), "version": np.array(ROBOT_MOTION_VERSION),
        "writer": np.array(writer), "fps": np.array(float(motion.fps)),
        "robot": np.array(motion.robot), "joint_names": np.array(motion.joint_names),
        "body_names": np.array(motion.body_names), "joint_pos": motion.joint_pos,
        "joint_vel": motion.joint_vel, "root_pos_w": motion.root_pos_w,
        "root_quat_wxyz": motion.root_quat_wxyz, "body_pos_w": motion.body_pos_w,
        "body_quat_wxyz": motion.body_quat_wxyz, "body_lin_vel_w": motion.body_lin_vel_w,
        "body_ang_vel_w": motion.body_ang_vel_w,
        "source": np.array(json.dumps(motion.source, sort_keys=True, default=str)),
    }
    if motion.hand_joint_pos is not None:
        arrays["hand_joint_names"] = np.array(motion.hand_joint_names)
        arrays["hand_joint_pos"] = motion.hand_joint_pos
    if motion.hand_state is not None:
        arrays["hand_state"] = motion.hand_state.astype(np.int8)
    if motion.human_joint_pos_w is not None:
        arrays["human_joint_names"] = np.array(motion.human_joint_names)
        arrays["human_joint_pos_w"] = motion.human_joint_pos_w
    np.savez_compressed(path, **arrays)


def _req(path: Path, z: dict, key: str, ndim: int) -> np.ndarray:
    if key not in z:
        raise MotionFormatError(path, key, f"missing; expected a {ndim}-D array")
    arr = np.asarray(z[key])
    if arr.ndim != ndim:
        raise MotionFormatError(path, key, f"has shape {arr.shape}; expected {ndim} dims")
    return arr.astype(np.float64) if arr.dtype.kind in "fiu" else arr


def _read_twin_npz(path: Path, z: dict) -> RobotMotion:
    version = int(z["version"])
    if version > ROBOT_MOTION_VERSION:
        raise MotionFormatError(path, "version", f"is {version}; this twin reads <= "
                                f"{ROBOT_MOTION_VERSION}")
    try:
        source = json.loads(str(z["source"])) if "source" in z else {}
    except ValueError as exc:
        raise MotionFormatError(path, "source", "is not a JSON object") from exc
    source = {**source, "file": str(path)}
    hand_names = tuple(z["hand_joint_names"].tolist()) if "hand_joint_names" in z else ()
    return RobotMotion(
        fps=float(_req(path, z, "fps", 0)), robot=str(z.get("robot", "g1")),
        joint_names=tuple(_req(path, z, "joint_names", 1).tolist()),
        body_names=tuple(_req(path, z, "body_names", 1).tolist()),
        joint_pos=_req(path, z, "joint_pos", 2), joint_vel=_req(path, z, "joint_vel", 2),
        root_pos_w=_req(path, z, "root_pos_w", 2), root_quat_wxyz=_req(path, z, "root_quat_wxyz", 2),
        body_pos_w=_req(path, z, "body_pos_w", 3), body_quat_wxyz=_req(path, z, "body_quat_wxyz", 3),
        body_lin_vel_w=_req(path, z, "body_lin_vel_w", 3),
        body_ang_vel_w=_req(path, z, "body_ang_vel_w", 3),
        hand_joint_names=hand_names,
        hand_joint_pos=_req(path, z, "hand_joint_pos", 2) if "hand_joint_pos" in z else None,
        hand_state=z["hand_state"].astype(np.int8) if "hand_state" in z else None,
        human_joint_names=tuple(z["human_joint_names"].tolist())
        if "human_joint_names" in z else (),
        human_joint_pos_w=_req(path, z, "human_joint_pos_w", 3)
        if "human_joint_pos_w" in z else None,
        source=source,
    )


def _read_fps(path: Path, z: dict, fps: float | None) -> float:
    if "fps" not in z:
        if fps is None:
            raise MotionFormatError(path, "fps", "missing; expected fps in the file or passed")
        return float(fps)
    values = np.unique(np.asarray(z["fps"], dtype=np.float64).reshape(-1))
    if values.size != 1:
        raise MotionFormatError(path, "fps", f"holds {values.size} different rates "
                                f"{values.tolist()[:4]}; expected one frame rate per clip")
    return float(values[0])


def _is_world_body(bp: np.ndarray, bq: np.ndarray) -> bool:
    """A body column that stays at the origin with the identity orientation in every frame:
    the world body, which some exporters (UniLab) write first."""
    return bool(np.all(bp == 0.0) and np.all(bq == np.array([1.0, 0.0, 0.0, 0.0])))


def _name_unnamed_g1_columns(path: Path, jp: np.ndarray, bp: np.ndarray, bq: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Name the columns of a clip without names by FK against the G1 (MuJoCo vs Isaac Lab
    order); returns joint and body column permutations into MuJoCo order and the finding."""
    from twin.retarget.kinematics import detect_layout, layout_errors, robot_model

    nb = robot_model("g1").nbody - 1
    if bp.shape[1] != nb:
        raise MotionFormatError(path, "body_pos_w", f"has {bp.shape[1]} bodies and no "
                                f"body_names; expected {nb} (the G1's bodies), or {nb + 1} "
                                "with the world body first, to name them")
    match = detect_layout("g1", jp, bp, bq)
    if match is None:
        errs = layout_errors("g1", jp, bp, bq)
        found = ", ".join(f"{k} {v * 100:.1f} cm" for k, v in errs.items())
        raise MotionFormatError(path, "body_pos_w", "matches no known G1 body/joint order by "
                                f"forward kinematics (max error {found}); expected one "
                                "within 1 cm (MuJoCo or Isaac Lab order)")
    from twin.retarget.kinematics import body_names as model_body_names
    from twin.robots.g1 import G1_JOINT_NAMES

    mj_bodies = model_body_names(robot_model("g1"))
    body_perm = np.array([match.body_names.index(n) for n in mj_bodies])
    joint_perm = np.array([match.joint_names.index(n) for n in G1_JOINT_NAMES])
    return joint_perm, body_perm, {
        "layout_order": match.order,
        "layout_fk_error_mm": {k: round(v * 1000, 3) for k, v in match.fk_error_m.items()}}


def _read_beyondmimic_npz(path: Path, z: dict, joint_names: tuple[str, ...] | None,
                          fps: float | None) -> RobotMotion:
    """BeyondMimic / mjlab / holosoma G1 npz (wxyz quaternions, body 0 may be 'world').

    Clips without ``joint_names``/``body_names`` are named from the G1 model: the column
    order (MuJoCo or Isaac Lab) is found by forward kinematics against ``body_pos_w`` and
    recorded in ``source["layout_order"]``; arrays are reordered into MuJoCo order.
    """
    from twin.robots.g1 import G1_JOINT_NAMES

    jp = _req(path, z, "joint_pos", 2)
    jv = _req(path, z, "joint_vel", 2) if "joint_vel" in z else None
    bp = _req(path, z, "body_pos_w", 3)
    bq = _req(path, z, "body_quat_w", 3)
    rate = _read_fps(path, z, fps)
    lin = _req(path, z, "body_lin_vel_w", 3) if "body_lin_vel_w" in z else None
    ang = _req(path, z, "body_ang_vel_w", 3) if "body_ang_vel_w" in z else None
    for key, arr in (("joint_pos", jp), ("joint_vel", jv), ("body_pos_w", bp),
                     ("body_quat_w", bq), ("body_lin_vel_w", lin), ("body_ang_vel_w", ang)):
        if arr is not None and arr.shape[0] != jp.shape[0]:
            raise MotionFormatError(path, key, f"has {arr.shape[0]} frames; expected "
                                    f"{jp.shape[0]} like joint_pos")
        if arr is not None and not np.isfinite(arr).all():
            bad = int(np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(1))[0])
            raise MotionFormatError(path, key, f"holds NaN/Inf (first at frame {bad}); "
                                    "expected finite values")
    found: dict = {}
    unnamed = "joint_names" not in z and "body_names" not in z and joint_names is None
    if unnamed and jp.shape[1] == len(G1_JOINT_NAMES):
        world_first = bp.shape[1] > 1 and _is_world_body(bp[:, 0], bq[:, 0])
        if world_first:
            bp, bq = bp[:, 1:], bq[:, 1:]
            lin = lin[:, 1:] if lin is not None else None
            ang = ang[:, 1:] if ang is not None else None
        joint_perm, body_perm, found = _name_unnamed_g1_columns(path, jp, bp, bq)
        if world_first:
            found["world_body_dropped"] = True
        jp = jp[:, joint_perm]
        jv = jv[:, joint_perm] if jv is not None else None
        bp, bq = bp[:, body_perm], bq[:, body_perm]
        lin = lin[:, body_perm] if lin is not None else None
        ang = ang[:, body_perm] if ang is not None else None
        from twin.retarget.kinematics import body_names as model_body_names
        from twin.retarget.kinematics import robot_model

        names = G1_JOINT_NAMES
        bnames = model_body_names(robot_model("g1"))
    else:
        if "joint_names" in z:
            names = tuple(str(n) for n in z["joint_names"].tolist())
        elif joint_names is not None:
            names = tuple(joint_names)
        elif jp.shape[1] == 36:
            names = G1_JOINT_NAMES  # qpos layout of the G1: mjlab writes MuJoCo order
        else:
            raise MotionFormatError(path, "joint_names", f"missing and joint_pos has "
                                    f"{jp.shape[1]} columns; expected joint names, or the "
                                    f"G1's {len(G1_JOINT_NAMES)} joints")
        if "body_names" in z:
            bnames = tuple(str(n) for n in z["body_names"].tolist())
        else:
            bnames = tuple(f"body_{i}" for i in range(bp.shape[1]))
    J = len(names)
    root_pos = root_quat = None
    if jp.shape[1] == J + 7:  # qpos layout: root position, root quaternion (wxyz), joints
        root_pos, root_quat = jp[:, :3], jp[:, 3:7]
        jp = jp[:, 7:]
        if jv is not None and jv.shape[1] == J + 6:
            jv = jv[:, 6:]
    if jp.shape[1] != J:
        raise MotionFormatError(path, "joint_pos", f"has {jp.shape[1]} columns; expected {J} "
                                f"or {J + 7} (qpos with a floating base)")
    keep = [i for i, n in enumerate(bnames) if n != "world"]
    bp, bq = bp[:, keep], bq[:, keep]
    lin = lin[:, keep] if lin is not None else None
    ang = ang[:, keep] if ang is not None else None
    bnames = tuple(bnames[i] for i in keep)
    if root_pos is None:
        root_i = bnames.index("pelvis") if "pelvis" in bnames else 0
        root_pos, root_quat = bp[:, root_i], bq[:, root_i]
    T = jp.shape[0]
    if jv is None:
        jv = np.gradient(jp, 1.0 / rate, axis=0) if T > 1 else np.zeros_like(jp)
    return RobotMotion(
        fps=rate, robot="g1" if set(names) == set(G1_JOINT_NAMES) else "unknown",
        joint_names=names, body_names=bnames, joint_pos=jp, joint_vel=jv, root_pos_w=root_pos,
        root_quat_wxyz=root_quat, body_pos_w=bp, body_quat_wxyz=bq,
        body_lin_vel_w=lin if lin is not None else np.zeros_like(bp),
        body_ang_vel_w=ang if ang is not None else np.zeros_like(bp),
        source={"file": str(path), "format": "beyondmimic_npz", **found,
                **({"layout_file": str(path)} if found else {})},
    )


def write_robot_csv(motion: RobotMotion, path: str | Path, *, quat_order: str) -> None:
    """Unitree/SONIC-style CSV: per row root xyz, root quaternion in ``quat_order``, joints
    in ``motion.joint_names`` order; no header, no frame rate (the reader is told it)."""
    if quat_order not in QUAT_ORDERS:
        raise ValueError(f"quat_order {quat_order!r}: expected one of {QUAT_ORDERS}")
    q = motion.root_quat_wxyz if quat_order == "wxyz" else quat_wxyz_to_xyzw(motion.root_quat_wxyz)
    np.savetxt(path, np.concatenate([motion.root_pos_w, q, motion.joint_pos], axis=1),
               delimiter=",", fmt="%.9g")


def read_robot_csv(path: str | Path, *, quat_order: str, fps: float = 50.0,
                   robot: str = "g1") -> RobotMotion:
    """Read a root + quaternion + joints CSV; bodies come from MuJoCo FK of ``robot``."""
    path = Path(path)
    if quat_order not in QUAT_ORDERS:
        raise MotionFormatError(path, "quat_order", f"is {quat_order!r}; expected one of "
                                f"{QUAT_ORDERS} (name the CSV's quaternion order)")
    if not (np.isfinite(fps) and fps > 0):
        raise MotionFormatError(path, "fps", f"is {fps}; expected a positive number")
    try:
        rows = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise MotionFormatError(path, None, f"not a numeric CSV ({exc})") from exc
    from twin.robots import get

    names = get(robot).joint_names
    if rows.shape[0] == 0:
        raise MotionFormatError(path, "rows", "has zero frames; expected T >= 1")
    if rows.shape[1] != 7 + len(names):
        raise MotionFormatError(path, "columns", f"has {rows.shape[1]} columns; expected "
                                f"{7 + len(names)} (3 root position, 4 quaternion, "
                                f"{len(names)} joints of {robot})")
    if not np.isfinite(rows).all():
        bad = int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
        raise MotionFormatError(path, f"row {bad}", "holds NaN/Inf; expected finite values")
    quat = rows[:, 3:7] if quat_order == "wxyz" else quat_xyzw_to_wxyz(rows[:, 3:7])
    norms = np.linalg.norm(quat, axis=1)
    if np.abs(norms - 1).max() > 1e-3:
        raise MotionFormatError(path, "quaternion", f"norms range {norms.min():.3f}.."
                                f"{norms.max():.3f}; expected unit quaternions")
    from twin.retarget.kinematics import robot_motion_from_qpos

    return robot_motion_from_qpos(
        robot, rows[:, :3], quat / norms[:, None], rows[:, 7:], fps,
        source={"file": str(path), "format": f"csv_{quat_order}"})


def load_robot_motion(path: str | Path, *, csv_quat_order: str | None = None,
                      fps: float | None = None, joint_names: tuple[str, ...] | None = None
                      ) -> RobotMotion:
    """Read twin's ``.npz``, a BeyondMimic-style ``.npz`` or a deployment CSV."""
    from twin.motion.readers import sniff_container

    path = Path(path)
    if not path.is_file():
        raise MotionFormatError(path, None, "file does not exist")
    container = sniff_container(path)
    if container == "csv" or path.suffix.lower() == ".csv":
        if csv_quat_order is None:
            raise MotionFormatError(path, "quat_order", "a CSV motion needs its quaternion "
                                    "order named: expected 'wxyz' or 'xyzw'")
        return read_robot_csv(path, quat_order=csv_quat_order, fps=fps or 50.0)
    if container != "npz":
        raise MotionFormatError(path, None, f"content is {container!r}; expected a robot "
                                "motion .npz or .csv")
    from twin.motion.limits import check_npz_budget

    check_npz_budget(path)  # before decompressing anything
    with np.load(path, allow_pickle=False) as zf:
        z = {k: zf[k] for k in zf.files}
    if "schema" in z:
        if str(z["schema"]) != ROBOT_MOTION_SCHEMA:
            raise MotionFormatError(path, "schema", f"is {str(z['schema'])!r}; expected "
                                    f"{ROBOT_MOTION_SCHEMA!r}")
        return _read_twin_npz(path, z)
    if "body_quat_w" in z and "joint_pos" in z:
        return _read_beyondmimic_npz(path, z, joint_names, fps)
    raise MotionFormatError(path, "schema", f"missing (keys {sorted(z)[:8]}); expected a twin "
                            "robot motion or a BeyondMimic-style npz (joint_pos, body_quat_w)")


def layout_note(motion: RobotMotion) -> str:
    """One line saying which column order an unnamed clip was found to use ('' if named)."""
    order = motion.source.get("layout_order")
    if not order or motion.source.get("layout_file") != motion.source.get("file"):
        return ""  # named, or a copy twin wrote with names (the order is provenance there)
    err = motion.source.get("layout_fk_error_mm", {}).get(order, float("nan"))
    name = {"mujoco": "MuJoCo", "isaaclab": "Isaac Lab"}.get(order, order)
    return (f"note: {Path(str(motion.source.get('file', ''))).name} has no joint/body names; "
            f"its columns are in {name} order (forward kinematics reproduces body_pos_w "
            f"to {err:.3f} mm)")


def with_source(motion: RobotMotion, **extra: object) -> RobotMotion:
    return replace(motion, source={**motion.source, **extra})


def is_robot_motion_file(path: str | Path) -> bool:
    """True for robot-motion files (twin/BeyondMimic .npz, deployment .csv), by content."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return True
    if path.suffix.lower() != ".npz":
        return False
    from twin.motion.limits import check_npz_budget

    try:
        check_npz_budget(path)
        with np.load(path, allow_pickle=False) as z:
            if "schema" in z.files:
                return str(z["schema"]) == "twin.robot_motion"
            return "body_quat_w" in z.files
    except (ValueError, OSError):
        return False
