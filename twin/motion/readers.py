"""Readers for human-motion files, auto-detected from content, into raw typed records.

Formats (``FORMATS``): ``gvhmr`` (``hmr4d_results.pt``), ``gem`` (GEM/GENMO demo ``.pt``),
``wham`` (``wham_output.pkl``, pickle or uncompressed joblib), ``amass_smplh`` and
``amass_smplx`` (``.npz``), ``joints`` (``.npz`` with ``joint_pos``/``joint_names``, or a
bare ``(T, J, 3)`` ``.npy`` with a joint map), ``intermimic`` (OMOMO/InterMimic ``(T, 591)``
``.pt`` tensors as shipped by holosoma-retargeting), ``deepmimic`` (DeepMimic ``humanoid3d``
JSON clips as shipped in pybullet_data, joint positions by ``twin.motion.deepmimic``),
``bvh`` (BioVision Hierarchy motion capture: LAFAN1, CMU, Mixamo-style rigs, joint
positions by ``twin.motion.bvh``), ``bundle`` (ExoActor-style JSON: a body file plus
per-frame hand states) and
``human_motion`` (twin's own normalised ``.npz``).

Loading never executes pickled code: ``.pt`` zip checkpoints go through
``twin.motion.torch_zip`` (no torch needed; ``torch.load(weights_only=True)`` only as a
fallback), pickles through ``twin.motion.safe_pickle``, ``.npz`` files are checked against
``twin.motion.limits`` before they are decompressed. GVHMR results carry no frame rate:
they default to ``GVHMR_FPS`` (GVHMR works at 30 fps), noted in the motion's source. The
readers only parse and validate;
``twin.motion.normalise`` turns their records into a ``HumanMotion``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.human_motion import SYMMETRIC_SKELETON_KEY
from twin.motion.joint_maps import JointMap, get_joint_map
from twin.motion.limits import check_npz_budget, check_source_frames
from twin.motion.safe_pickle import safe_load_pickle
from twin.motion.smpl import SMPL_BODY_JOINT_NAMES

FORMATS: tuple[str, ...] = ("gvhmr", "gem", "wham", "amass_smplh", "amass_smplx", "joints",
                            "intermimic", "deepmimic", "bvh", "bundle", "human_motion")
BUNDLE_SCHEMA = "twin.exoactor_bundle"
GVHMR_FPS = 30.0  # GVHMR's output rate; its hmr4d_results.pt does not store it
HAND_STATE_COLUMNS = ("anatomical", "image_plane")


@dataclass
class HandStates:
    """Per-frame hand states (T, 2) int8 in {0, 1, 2}, columns (left, right) anatomical."""

    states: np.ndarray
    columns_in_file: str
    subject_facing: str = ""


@dataclass
class SmplParams:
    """An SMPL-family parameter sequence as stored (no coordinate change applied).

    ``root_orient_aa`` (T, 3) and ``body_pose_aa`` (T, 21, 3) axis-angle rad; ``betas``
    (S,) (per-frame betas are averaged); ``transl`` (T, 3) m; ``up_axis`` of the world the
    parameters live in ("y" or "z"); ``fps`` None when the file does not say.
    ``bad_frames`` maps a key to a (T,) mask of frames holding NaN/Inf.
    """

    path: str
    format: str
    model: str
    root_orient_aa: np.ndarray
    body_pose_aa: np.ndarray
    betas: np.ndarray
    transl: np.ndarray
    up_axis: str
    fps: float | None
    hands: HandStates | None = None
    bad_frames: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.transl.shape[0])


@dataclass
class JointPositions:
    """Joint positions (T, J, 3) m with SMPL body-joint names, in the file's world.

    ``height_m``: the subject's height when the format's skeleton fixes it (else None:
    estimated from limb lengths); ``floor_height_m``: the floor along ``up_axis`` when the
    file's world has one (else None: the lowest estimated sole becomes the floor).
    """

    path: str
    format: str
    joint_names: tuple[str, ...]
    positions: np.ndarray
    up_axis: str
    fps: float | None
    hands: HandStates | None = None
    bad_frames: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    height_m: float | None = None
    floor_height_m: float | None = None

    @property
    def num_frames(self) -> int:
        return int(self.positions.shape[0])


RawMotion = SmplParams | JointPositions


# ----------------------------------------------------------------------------- sniffing
def sniff_container(path: str | Path) -> str:
    """What the bytes are: 'torch_zip', 'npz', 'pickle', 'npy', 'json', 'bvh', 'csv' or
    'unknown'."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile:
            return "unknown"
        if any(n.endswith("data.pkl") for n in names):
            return "torch_zip"
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        return "unknown"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head[:1] == b"\x80":
        return "pickle"
    text = head.lstrip()
    if text[:1] in (b"{",):
        return "json"
    if text.startswith(b"HIERARCHY"):
        return "bvh"
    try:
        line = head.decode("ascii").splitlines()[0] if head else ""
    except UnicodeDecodeError:
        return "unknown"
    return "csv" if "," in line else "unknown"


_EXT_CONTAINERS = {
    ".npz": ("npz",), ".npy": ("npy",), ".pt": ("torch_zip", "pickle"),
    ".pth": ("torch_zip", "pickle"), ".pkl": ("pickle",), ".pickle": ("pickle",),
    ".joblib": ("pickle",), ".json": ("json",), ".csv": ("csv",), ".bvh": ("bvh",),
}


def _check_extension(path: Path, container: str) -> None:
    allowed = _EXT_CONTAINERS.get(path.suffix.lower())
    if allowed is not None and container not in allowed:
        raise MotionFormatError(path, None, f"content is {container!r} but the extension "
                                f"{path.suffix!r} promises {' or '.join(allowed)}")


# ----------------------------------------------------------------------------- helpers
def _to_numpy(obj: Any) -> Any:
    if hasattr(obj, "detach") and hasattr(obj, "cpu"):
        return obj.detach().cpu().numpy()
    if isinstance(obj, dict):
        return {k: _to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and obj and hasattr(obj[0], "detach"):
        return type(obj)(_to_numpy(v) for v in obj)
    return obj


def _load_torch(path: Path) -> Any:
    """A ``.pt`` file's object with numpy arrays: torch-free for zip checkpoints
    (``twin.motion.torch_zip``); ``torch.load(weights_only=True)`` only as a fallback for
    what that reader does not know (legacy non-zip files, tensor subclasses)."""
    from twin.motion.limits import ResourceLimitError
    from twin.motion.torch_zip import is_torch_zip, load_torch_zip

    first: MotionFormatError | None = None
    if is_torch_zip(path):
        try:
            return load_torch_zip(path)
        except ResourceLimitError:
            raise
        except MotionFormatError as exc:
            first = exc
    try:
        import torch
    except ImportError as exc:
        if first is not None:
            raise first from exc
        raise MotionFormatError(path, None, "is a legacy (non-zip) torch file; install torch "
                                "to read it, or re-save it with torch >= 1.6") from exc
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        msg = str(exc).splitlines()[0][:200]
        raise MotionFormatError(path, None, f"torch.load(weights_only=True) refused it ({msg}); "
                                "expected tensors in plain containers") from exc
    return _to_numpy(obj)


def _array(path: Path, data: dict, key: str, shape: tuple, label: str | None = None) -> np.ndarray:
    """Fetch ``data[key]`` as float64 with a shape pattern (-1 = any, 0 = the frame count)."""
    name = label or key
    if not isinstance(data, dict) or key not in data:
        have = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise MotionFormatError(path, name, f"missing; expected an array of shape "
                                f"{_fmt_shape(shape)} (file has {have})")
    try:
        arr = np.asarray(data[key], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MotionFormatError(path, name, f"is not numeric; expected {_fmt_shape(shape)}") from exc
    if arr.ndim != len(shape) or any(s > 0 and a != s for a, s in zip(arr.shape, shape)):
        raise MotionFormatError(path, name, f"has shape {arr.shape}; expected "
                                f"{_fmt_shape(shape)}")
    return arr


def _fmt_shape(shape: tuple) -> str:
    return "(" + ", ".join("T" if s == 0 else ("*" if s < 0 else str(s)) for s in shape) + ")"


def _same_length(path: Path, arrays: dict[str, np.ndarray]) -> int:
    lengths = {k: a.shape[0] for k, a in arrays.items()}
    T = next(iter(lengths.values()))
    for k, n in lengths.items():
        if n != T:
            raise MotionFormatError(path, k, f"has {n} frames but {next(iter(lengths))!r} has "
                                    f"{T}; expected equal frame counts")
    if T == 0:
        raise MotionFormatError(path, next(iter(lengths)), "has zero frames; expected T >= 1")
    check_source_frames(path, T, next(iter(lengths)))
    return T


def _bad_frames(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for k, a in arrays.items():
        bad = ~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1)
        if bad.any():
            out[k] = bad
    return out


def _betas(path: Path, data: dict, key: str) -> np.ndarray:
    if key not in data:
        return np.zeros(10)
    b = np.asarray(data[key], dtype=np.float64)
    if b.ndim == 2:
        b = np.nanmean(b, axis=0)
    if b.ndim != 1:
        raise MotionFormatError(path, key, f"has shape {b.shape}; expected (S,) or (T, S)")
    if not np.isfinite(b).all():
        raise MotionFormatError(path, key, "holds NaN/Inf; expected finite shape coefficients")
    return b


def _file_fps(path: Path, data: dict, keys: tuple[str, ...]) -> float | None:
    for k in keys:
        if k in data:
            try:
                v = float(np.asarray(data[k]).reshape(-1)[0])
            except (TypeError, ValueError, IndexError) as exc:
                raise MotionFormatError(path, k, "is not a number; expected frames/s") from exc
            return v
    return None


def _smpl_record(path: Path, fmt: str, model: str, root: np.ndarray, body: np.ndarray,
                 betas: np.ndarray, transl: np.ndarray, up: str, fps: float | None,
                 keys: tuple[str, str, str]) -> SmplParams:
    arrays = {keys[0]: root, keys[1]: body, keys[2]: transl}
    _same_length(path, arrays)
    return SmplParams(str(path), fmt, model, root, body.reshape(body.shape[0], -1, 3)[:, :21],
                      betas, transl, up, fps, bad_frames=_bad_frames(arrays))


# ----------------------------------------------------------------------------- per format
def _read_hmr_pt(path: Path, data: Any, fmt: str) -> SmplParams:
    group = "smpl_params_global" if fmt == "gvhmr" else "body_params_global"
    if not isinstance(data, dict) or group not in data or not isinstance(data[group], dict):
        raise MotionFormatError(path, group, "missing; expected a dict with global_orient, "
                                "body_pose, betas, transl")
    g = data[group]
    root = _array(path, g, "global_orient", (0, 3), f"{group}.global_orient")
    body = _array(path, g, "body_pose", (0, -1), f"{group}.body_pose")
    if body.shape[1] not in (63, 69):
        raise MotionFormatError(path, f"{group}.body_pose", f"has {body.shape[1]} columns; "
                                "expected 63 (21 body joints x 3)")
    transl = _array(path, g, "transl", (0, 3), f"{group}.transl")
    rec = _smpl_record(path, fmt, "smplx", root, body, _betas(path, g, "betas"), transl, "y",
                       _file_fps(path, data, ("fps", "mocap_framerate")),
                       (f"{group}.global_orient", f"{group}.body_pose", f"{group}.transl"))
    if fmt == "gvhmr" and rec.fps is None:
        rec.info["default_fps"] = f"{GVHMR_FPS:g}"
    return rec


def _read_wham(path: Path, data: Any, track_id: int | str | None) -> SmplParams:
    if not isinstance(data, dict) or not data:
        raise MotionFormatError(path, None, "expected a dict of track id -> results (WHAM)")
    tracks = {k: v for k, v in data.items() if isinstance(v, dict) and "pose_world" in v}
    if not tracks:
        raise MotionFormatError(path, "pose_world", "no track holds 'pose_world'; expected "
                                "WHAM output {track_id: {pose_world, trans_world, betas}}")
    if track_id is None:
        tid = max(tracks, key=lambda k: np.asarray(tracks[k]["pose_world"]).shape[0])
    else:
        matches = [k for k in tracks if str(k) == str(track_id)]
        if not matches:
            raise MotionFormatError(path, str(track_id), f"no such track; expected one of "
                                    f"{sorted(map(str, tracks))}")
        tid = matches[0]
    tr = tracks[tid]
    label = f"[{tid}]."
    pose = _array(path, tr, "pose_world", (0, 72), label + "pose_world")
    transl = _array(path, tr, "trans_world", (0, 3), label + "trans_world")
    rec = _smpl_record(path, "wham", "smpl", pose[:, :3], pose[:, 3:], _betas(path, tr, "betas"),
                       transl, "y", _file_fps(path, data if "fps" in data else tr, ("fps",)),
                       (label + "pose_world", label + "pose_world", label + "trans_world"))
    rec.info["track_id"] = str(tid)
    return rec


def _read_npz_dict(path: Path) -> dict[str, np.ndarray]:
    check_npz_budget(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as exc:
        raise MotionFormatError(path, None, f"npz holds pickled objects ({exc}); expected plain "
                                "numeric arrays") from exc


def _classify_npz(data: dict) -> str:
    if "schema" in data and str(data["schema"]) == "twin.human_motion":
        return "human_motion"
    if "root_orient" in data and "pose_body" in data:
        return "amass_smplx"
    if "poses" in data and "trans" in data:
        return "amass_smplh"
    if "joint_pos" in data or "positions" in data:
        return "joints"
    return ""


def _read_amass(path: Path, data: dict, fmt: str) -> SmplParams:
    fps = _file_fps(path, data, ("mocap_framerate", "mocap_frame_rate", "fps"))
    if fmt == "amass_smplx":
        root = _array(path, data, "root_orient", (0, 3))
        body = _array(path, data, "pose_body", (0, 63))
        transl = _array(path, data, "trans", (0, 3))
        return _smpl_record(path, fmt, "smplx", root, body, _betas(path, data, "betas"), transl,
                            "z", fps, ("root_orient", "pose_body", "trans"))
    poses = _array(path, data, "poses", (0, -1))
    if poses.shape[1] not in (72, 156, 165):
        raise MotionFormatError(path, "poses", f"has {poses.shape[1]} columns; expected 156 "
                                "(SMPL+H), 165 (SMPL-X) or 72 (SMPL)")
    transl = _array(path, data, "trans", (0, 3))
    model = {72: "smpl", 156: "smplh", 165: "smplx"}[poses.shape[1]]
    return _smpl_record(path, fmt, model, poses[:, :3], poses[:, 3:66], _betas(path, data, "betas"),
                        transl, "z", fps, ("poses", "poses", "trans"))


def _map_joints(path: Path, key: str, positions: np.ndarray, names: tuple[str, ...],
                joint_map: JointMap | None) -> tuple[tuple[str, ...], np.ndarray]:
    if positions.shape[1] != len(names):
        raise MotionFormatError(path, key, f"has {positions.shape[1]} joints but the names list "
                                f"has {len(names)}; expected one name per joint")
    to_smpl = joint_map.to_smpl if joint_map else {n: n for n in names}
    pick = {}
    for i, n in enumerate(names):
        smpl = to_smpl.get(n)
        if smpl is not None and smpl in SMPL_BODY_JOINT_NAMES and smpl not in pick:
            pick[smpl] = i
    if not pick:
        raise MotionFormatError(path, "joint_names", f"none of {list(names)[:6]}... maps to an "
                                "SMPL body joint; expected SMPL names or a joint map")
    order = [n for n in SMPL_BODY_JOINT_NAMES if n in pick]
    return tuple(order), positions[:, [pick[n] for n in order]]


def _read_joints_npz(path: Path, data: dict, joint_map: JointMap | None, up_axis: str | None
                     ) -> JointPositions:
    key = "joint_pos" if "joint_pos" in data else "positions"
    pos = _array(path, data, key, (0, -1, 3))
    if "joint_names" in data:
        names = tuple(str(n) for n in np.asarray(data["joint_names"]).tolist())
    elif joint_map is not None:
        names = joint_map.names
    else:
        raise MotionFormatError(path, "joint_names", "missing; expected a joint_names array or "
                                "an explicit joint map")
    up = str(data["up_axis"]) if "up_axis" in data else (up_axis or
                                                       (joint_map.up_axis if joint_map else ""))
    _check_up(path, up)
    order, mapped = _map_joints(path, key, pos, names, joint_map)
    _same_length(path, {key: mapped})
    return JointPositions(str(path), "joints", order, mapped, up,
                          _file_fps(path, data, ("fps", "mocap_framerate")),
                          bad_frames=_bad_frames({key: mapped}))


def _check_up(path: Path, up: str) -> None:
    if up not in ("y", "z"):
        raise MotionFormatError(path, "up_axis", f"is {up!r}; expected 'y' or 'z' (pass "
                                "--up-axis, or store 'up_axis' in the file)")


def _read_joints_array(path: Path, pos: np.ndarray, joint_map: JointMap | None,
                       up_axis: str | None, key: str, fmt: str) -> JointPositions:
    if joint_map is None:
        raise MotionFormatError(path, key, f"is a bare {pos.shape} array; expected a joint map "
                                "(--joint-map NAME|FILE) naming its joints")
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise MotionFormatError(path, key, f"has shape {pos.shape}; expected (T, J, 3)")
    up = up_axis or joint_map.up_axis
    _check_up(path, up)
    order, mapped = _map_joints(path, key, pos.astype(np.float64), joint_map.names, joint_map)
    _same_length(path, {key: mapped})
    return JointPositions(str(path), fmt, order, mapped, up, None,
                          bad_frames=_bad_frames({key: mapped}))


def _read_intermimic(path: Path, data: Any, up_axis: str | None) -> JointPositions:
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 318:
        raise MotionFormatError(path, "tensor", f"has shape {arr.shape}; expected (T, 591) "
                                "InterMimic rows (joint positions in columns 162:318)")
    pos = arr[:, 162:318].reshape(-1, 52, 3)
    return _read_joints_array(path, pos, get_joint_map("smplh_demo"), up_axis, "tensor[:,162:318]",
                              "intermimic")


def _read_deepmimic(path: Path, loops: int) -> JointPositions:
    from twin.motion import deepmimic as dm
    from twin.motion.limits import read_json

    clip = dm.parse_clip(path, read_json(path))
    keys = (f"{clip.num_frames} key frames at {clip.fps:g} fps" if clip.uniform else
            f"{clip.num_frames} key frames, uneven dt, resampled at {clip.fps:g} fps")
    clip = dm.resample_uniform(dm.repeat_cycles(clip, loops))
    pos, rot = dm.forward_kinematics(clip)
    names, joints = dm.smpl_joints(pos, rot)
    info = {"skeleton": f"DeepMimic humanoid3d (pybullet humanoid.urdf x{dm.URDF_SCALE:g}), "
            f"{dm.STANDING_HEIGHT_M:.3f} m; pelvis, spine1, neck, toes, head derived",
            "loop": clip.loop, "loops": str(loops), "key_frames": keys,
            "floor": "the file's y = 0 (DeepMimic's ground plane)",
            "lowest_sole_m": f"{float(dm.sole_height_m(pos, rot).min()):.4f}"}
    # the skeleton fixes its proportions: the retargeter takes them instead of SMPL's
    info.update({k: f"{v:.6f}" for k, v in dm.SKELETON_PROPORTIONS_M.items()})
    info[SYMMETRIC_SKELETON_KEY] = "true"  # the URDF's left and right links mirror each other
    return JointPositions(str(path), "deepmimic", names, joints, "y", clip.fps, info=info,
                          height_m=dm.STANDING_HEIGHT_M, floor_height_m=0.0)


def _read_bvh(path: Path, up_axis: str | None) -> JointPositions:
    from twin.motion import bvh

    up = up_axis or "y"
    if up not in ("y", "z"):
        raise MotionFormatError(path, "up_axis", f"is {up!r}; expected 'y' (BVH's convention) "
                                "or 'z'")
    clip = bvh.read_bvh(path)
    joints = bvh.smpl_joints(clip, up)
    info = dict(joints.info, frames=f"{clip.num_frames} at {clip.fps:g} fps")
    return JointPositions(str(path), "bvh", joints.names, joints.pos, up, clip.fps, info=info)


def _read_hand_states(path: Path, manifest: dict, base: Path, T: int) -> HandStates:
    hs_spec = manifest.get("hand_state")
    if hs_spec is None:
        raise MotionFormatError(path, "hand_state", "missing; expected (T, 2) hand states")
    if isinstance(hs_spec, str):
        hs_path = (base / hs_spec).resolve()
        if not hs_path.is_file():
            raise MotionFormatError(path, "hand_state", f"file {hs_path} does not exist")
        hs = np.load(hs_path, allow_pickle=False)
    else:
        hs = np.asarray(hs_spec)
    return _hand_states(path, hs, manifest.get("hand_state_columns"),
                        manifest.get("subject_facing", ""), T)


def _hand_states(path: Path, hs: np.ndarray, columns: Any, facing: Any, T: int) -> HandStates:
    hs = np.asarray(hs)
    if hs.shape != (T, 2):
        raise MotionFormatError(path, "hand_state", f"has shape {hs.shape}; expected ({T}, 2) "
                                "(one (left, right) pair per body frame)")
    if not np.isfinite(hs.astype(np.float64)).all() or not np.isin(hs, (0, 1, 2)).all():
        raise MotionFormatError(path, "hand_state", f"holds {np.unique(hs)[:6]}; expected "
                                "0 (open), 1 (half-open) or 2 (closed)")
    columns = str(columns) if columns is not None else ""
    if columns not in HAND_STATE_COLUMNS:
        raise MotionFormatError(path, "hand_state_columns", f"is {columns!r}; expected "
                                f"{' or '.join(HAND_STATE_COLUMNS)}")
    states = hs.astype(np.int8)
    facing = str(facing or "")
    if columns == "image_plane":
        if facing not in ("front", "back"):
            raise MotionFormatError(path, "subject_facing", f"is {facing!r}; expected 'front' "
                                    "or 'back' with image-plane hand-state columns")
        if facing == "front":  # image left is the subject's right hand
            states = states[:, ::-1].copy()
    return HandStates(states, columns, facing)


def _read_bundle(path: Path, **kwargs: Any) -> RawMotion:
    from twin.motion.limits import read_json

    manifest = read_json(path)
    if not isinstance(manifest, dict) or manifest.get("schema") != BUNDLE_SCHEMA:
        raise MotionFormatError(path, "schema", f"expected {BUNDLE_SCHEMA!r}")
    if "body" not in manifest:
        raise MotionFormatError(path, "body", "missing; expected the path of the body motion")
    body_path = (path.parent / str(manifest["body"])).resolve()
    if not body_path.is_file():
        raise MotionFormatError(path, "body", f"file {body_path} does not exist")
    kwargs = dict(kwargs)
    kwargs["format"] = manifest.get("body_format") or None
    raw = read_raw_motion(body_path, **kwargs)
    if raw.fps is None and "fps" in manifest:
        fps = manifest["fps"]
        if isinstance(fps, bool) or not isinstance(fps, (int, float)):
            raise MotionFormatError(path, "fps", f"is {fps!r}; expected a number of frames per "
                                    "second")
        raw.fps = float(fps)
    raw.hands = _read_hand_states(path, manifest, path.parent, raw.num_frames)
    raw.info["bundle"] = str(path)
    return raw


# ----------------------------------------------------------------------------- dispatch
def detect_format(path: str | Path) -> str:
    """The format name of ``path`` from its content (see ``FORMATS``)."""
    path = Path(path)
    if not path.is_file():
        raise MotionFormatError(path, None, "file does not exist")
    container = sniff_container(path)
    _check_extension(path, container)
    if container == "json":
        return _classify_json(path)
    if container == "bvh":
        return "bvh"
    if container == "npz":
        fmt = _classify_npz(_read_npz_dict(path))
        if fmt:
            return fmt
        raise MotionFormatError(path, None, "npz keys match no human-motion format; expected "
                                "AMASS (poses/trans or root_orient/pose_body) or joint_pos")
    if container == "npy":
        return "joints"
    if container == "torch_zip" or (container == "pickle" and path.suffix in (".pt", ".pth")):
        data = _load_torch(path)
        return _classify_torch(path, data)
    if container == "pickle":
        return "wham"
    raise MotionFormatError(path, None, f"content is {container!r}; expected a .pt, .pkl, .npz, "
                            ".npy, .bvh, bundle .json or DeepMimic JSON human-motion file")


def _classify_json(path: Path) -> str:
    from twin.motion.limits import read_json

    data = read_json(path)
    if isinstance(data, dict) and "Frames" in data and "schema" not in data:
        return "deepmimic"
    return "bundle"


def _classify_torch(path: Path, data: Any) -> str:
    if isinstance(data, dict):
        if "smpl_params_global" in data:
            return "gvhmr"
        if "body_params_global" in data:
            return "gem"
        raise MotionFormatError(path, "smpl_params_global", f"missing (keys: {sorted(data)[:8]}); "
                                "expected GVHMR or GEM/GENMO results")
    if isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] >= 318:
        return "intermimic"
    raise MotionFormatError(path, None, f"torch file holds {type(data).__name__}; expected a "
                            "GVHMR/GEM result dict or an InterMimic (T, 591) tensor")


def read_raw_motion(
    path: str | Path,
    format: str | None = None,
    *,
    track_id: int | str | None = None,
    joint_map: str | Path | JointMap | None = None,
    up_axis: str | None = None,
    loops: int = 1,
) -> RawMotion:
    """Parse and validate one human-motion file (format auto-detected unless given).

    ``loops``: play a looping DeepMimic clip this many times (``twin.motion.deepmimic``)."""
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise MotionFormatError(path, "format", f"is {fmt!r}; expected one of {list(FORMATS)}")
    if loops != 1 and fmt not in ("deepmimic", "bundle"):
        raise MotionFormatError(path, "loops", f"is {loops!r} but a {fmt} file does not loop; "
                                "expected 1 (only DeepMimic clips with Loop 'wrap' repeat)")
    if not path.is_file():
        raise MotionFormatError(path, None, "file does not exist")
    container = sniff_container(path)
    jm = get_joint_map(joint_map) if joint_map is not None else None
    want = {"gvhmr": ("torch_zip", "pickle"), "gem": ("torch_zip", "pickle"),
            "intermimic": ("torch_zip", "pickle"), "wham": ("pickle",),
            "amass_smplh": ("npz",), "amass_smplx": ("npz",), "joints": ("npz", "npy"),
            "deepmimic": ("json",), "bvh": ("bvh",), "bundle": ("json",),
            "human_motion": ("npz",)}[fmt]
    if container not in want:
        raise MotionFormatError(path, None, f"content is {container!r}; format {fmt!r} expects "
                                f"{' or '.join(want)}")
    if fmt in ("gvhmr", "gem"):
        return _read_hmr_pt(path, _load_torch(path), fmt)
    if fmt == "intermimic":
        return _read_intermimic(path, _load_torch(path), up_axis)
    if fmt == "wham":
        return _read_wham(path, safe_load_pickle(path), track_id)
    if fmt == "deepmimic":
        return _read_deepmimic(path, loops)
    if fmt == "bvh":
        return _read_bvh(path, up_axis)
    if fmt == "bundle":
        return _read_bundle(path, track_id=track_id, joint_map=jm, up_axis=up_axis, loops=loops)
    if container == "npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise MotionFormatError(path, None, f"npy holds objects ({exc}); expected a numeric "
                                    "(T, J, 3) array") from exc
        return _read_joints_array(path, arr, jm, up_axis, "array", "joints")
    data = _read_npz_dict(path)
    if fmt in ("amass_smplh", "amass_smplx"):
        raw: RawMotion = _read_amass(path, data, fmt)
    elif fmt == "joints":
        raw = _read_joints_npz(path, data, jm, up_axis)
    else:
        raise MotionFormatError(path, "format", "human_motion files are read by "
                                "twin.motion.human_motion.load_human_motion_npz")
    if "hand_state" in data:
        raw.hands = _hand_states(path, data["hand_state"], data.get("hand_state_columns"),
                                 data.get("subject_facing", ""), raw.num_frames)
    return raw


# ----------------------------------------------------------------------------- camera frame
@dataclass
class CameraFrameParams:
    """The body estimate in the camera that filmed it (GVHMR ``smpl_params_incam``, GEM
    ``body_params_incam``), same frames as the global record.

    ``root_orient_aa`` (T, 3) and ``transl`` (T, 3) in OpenCV camera axes (x right, y down,
    z forward), m, rad; the pelvis is at ``J0(beta) + transl``. ``K`` (3, 3) pixels: the
    median of the file's per-frame ``K_fullimg`` (None when the file has none).
    """

    path: str
    root_orient_aa: np.ndarray
    transl: np.ndarray
    K: np.ndarray | None


def read_camera_frame_params(path: str | Path) -> CameraFrameParams | None:
    """The camera-frame estimate of a GVHMR/GEM result (or of a bundle's body file), or
    None when the file carries no camera-frame group."""
    path = Path(path)
    fmt = detect_format(path)
    if fmt == "bundle":
        from twin.motion.limits import read_json

        manifest = read_json(path)
        if not isinstance(manifest, dict) or "body" not in manifest:
            raise MotionFormatError(path, "body", "missing; expected the bundle's body file")
        return read_camera_frame_params((path.parent / str(manifest["body"])).resolve())
    if fmt not in ("gvhmr", "gem"):
        return None
    data = _load_torch(path)
    group = "smpl_params_incam" if fmt == "gvhmr" else "body_params_incam"
    if group not in data:
        return None
    g = data[group]
    if not isinstance(g, dict):
        raise MotionFormatError(path, group, "is not a dict; expected global_orient, transl")
    root = _array(path, g, "global_orient", (0, 3), f"{group}.global_orient")
    transl = _array(path, g, "transl", (0, 3), f"{group}.transl")
    _same_length(path, {f"{group}.global_orient": root, f"{group}.transl": transl})
    bad = _bad_frames({group: np.concatenate([root, transl], axis=1)})
    if bad:
        raise MotionFormatError(path, group, f"{int(bad[group].sum())} frame(s) hold NaN/Inf; "
                                "expected finite camera-frame estimates")
    K = None
    if "K_fullimg" in data:
        k = np.asarray(data["K_fullimg"], dtype=np.float64)
        if k.shape == (3, 3):
            k = k[None]
        if k.ndim != 3 or k.shape[1:] != (3, 3) or not np.isfinite(k).all():
            raise MotionFormatError(path, "K_fullimg", f"has shape {k.shape}; expected finite "
                                    "(T, 3, 3) or (3, 3) intrinsics in pixels")
        K = np.median(k, axis=0)
    return CameraFrameParams(str(path), root, transl, K)
