"""Raw reader records -> ``HumanMotion``: FK, z-up, floor, NaN repair, 50 Hz, smoothing.

The steps, in order: resolve fps (file first, then the explicit argument; error if
neither or if they disagree); check for NaN/Inf frames (error, or interpolate isolated
runs when ``repair=True``); SMPL forward kinematics with rest joints ``J(beta)`` from a
body-model file or the built-in mean-shape skeleton (the pelvis lands at
``J0(beta) + transl``); y-up -> z-up; lowest foot sole onto z = 0 (the file's own floor
where the format has one: DeepMimic); resample to ``target_fps`` (linear positions, slerp
rotations, nearest hand states); optional One-Euro.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.filters import OneEuroConfig, one_euro
from twin.motion.human_motion import HumanMotion, load_human_motion_npz
from twin.motion.joint_maps import JointMap
from twin.motion.limits import check_fps, check_npz_budget, resampled_frames
from twin.motion.readers import (
    JointPositions,
    RawMotion,
    SmplParams,
    read_raw_motion,
    sniff_container,
)
from twin.motion.rotations import R_ZUP_FROM_YUP, matrix_to_quat, quat_make_continuous, quat_slerp
from twin.motion.smpl import (
    ANKLE_HEIGHT_FRACTION,
    FOOT_HEIGHT_FRACTION,
    MEAN_SHAPE_HEIGHT_M,
    NUM_BODY_JOINTS,
    SMPL_BODY_JOINT_NAMES,
    SMPL_BODY_PARENTS,
    BodyModel,
    forward_kinematics,
    load_body_model,
    mean_shape_rest_joints,
)

DEFAULT_FPS = 50.0
# Joint frame of SMPL (x left, y up, z forward) -> robot-link convention (x fwd, y left, z up).
R_LINK_FROM_SMPL_FRAME = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
REQUIRED_FOR_HEIGHT = ("pelvis", "left_hip", "left_knee", "left_ankle", "right_hip",
                       "right_knee", "right_ankle", "neck")


def load_human_motion(
    path: str | Path,
    *,
    format: str | None = None,
    fps: float | None = None,
    body_model: str | Path | BodyModel | None = None,
    height_m: float | None = None,
    track_id: int | str | None = None,
    joint_map: str | Path | JointMap | None = None,
    up_axis: str | None = None,
    repair: bool = False,
    max_repair_gap: int = 5,
    smoothing: OneEuroConfig | None = None,
    target_fps: float | None = DEFAULT_FPS,
    loops: int = 1,
) -> HumanMotion:
    """Read any supported human-motion file and normalise it (see module docstring).

    ``loops`` repeats a looping DeepMimic clip (root path and heading carried over)."""
    p = Path(path)
    if p.is_file() and p.suffix == ".npz" and sniff_container(p) == "npz" and format in (
            None, "human_motion"):
        check_npz_budget(p)
        with np.load(p, allow_pickle=False) as z:
            is_ours = "schema" in z.files and str(z["schema"]) == "twin.human_motion"
        if is_ours:
            return load_human_motion_npz(p)
    raw = read_raw_motion(path, format, track_id=track_id, joint_map=joint_map, up_axis=up_axis,
                          loops=loops)
    return normalise(raw, fps=fps, body_model=body_model, height_m=height_m, repair=repair,
                     max_repair_gap=max_repair_gap, smoothing=smoothing, target_fps=target_fps)


def resolve_fps(raw: RawMotion, fps: float | None) -> float:
    """The source frame rate: the file's, else the argument, else the format's default
    (GVHMR: 30, recorded as ``source_fps_from`` = "default"); checked against
    ``twin.motion.limits.FPS_RANGE``."""
    file_fps = raw.fps
    if file_fps is not None and fps is not None and abs(file_fps - fps) > 1e-6:
        raise MotionFormatError(raw.path, "fps", f"file says {file_fps} frames/s but {fps} was "
                                "passed; expected them to agree (drop the argument)")
    value = file_fps if file_fps is not None else fps
    if value is None and "default_fps" in raw.info:
        value = float(raw.info["default_fps"])
    if value is None:
        raise MotionFormatError(raw.path, "fps", "the file has no frame rate; expected one "
                                "passed as fps=N")
    return check_fps(raw.path, value)


def fps_origin(raw: RawMotion, fps: float | None) -> str:
    """Where ``resolve_fps`` took the frame rate from: file, argument or default."""
    if raw.fps is not None:
        return "file"
    return "argument" if fps is not None else "default"


def fps_note(source: dict) -> str | None:
    """The line to print when a motion's frame rate is its format's default (GVHMR: 30)."""
    if source.get("source_fps_from") != "default":
        return None
    return (f"note: {source.get('format')} results carry no frame rate; assuming "
            f"{source.get('source_fps')} fps (GVHMR's rate); pass fps=N if the video had "
            "another")


def _bad_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, t, T = [], 0, mask.shape[0]
    while t < T:
        if mask[t]:
            s = t
            while t < T and mask[t]:
                t += 1
            runs.append((s, t))
        t += 1
    return runs


def _check_bad_frames(raw: RawMotion, repair: bool, max_gap: int) -> np.ndarray:
    T = raw.num_frames
    mask = np.zeros(T, dtype=bool)
    for m in raw.bad_frames.values():
        mask |= m
    if not mask.any():
        return mask
    key = next(iter(raw.bad_frames))
    first = int(np.flatnonzero(raw.bad_frames[key])[0])
    if not repair:
        raise MotionFormatError(raw.path, key, f"{int(mask.sum())} frame(s) hold NaN/Inf (first "
                                f"at frame {first}); expected finite values (--repair "
                                "interpolates isolated frames)")
    for s, e in _bad_runs(mask):
        if s == 0 or e == T or e - s > max_gap:
            raise MotionFormatError(raw.path, key, f"NaN/Inf frames {s}..{e - 1} are not isolated "
                                    f"(at an end or longer than {max_gap}); expected isolated "
                                    "frames to repair")
    return mask


def _interp_positions(pos: np.ndarray, mask: np.ndarray) -> np.ndarray:
    good = np.flatnonzero(~mask)
    out = pos.copy()
    flat = out.reshape(out.shape[0], -1)
    for c in range(flat.shape[1]):
        flat[mask, c] = np.interp(np.flatnonzero(mask), good, flat[good, c])
    return out


def _interp_quats(q: np.ndarray, mask: np.ndarray) -> np.ndarray:
    good = np.flatnonzero(~mask)
    out = q.copy()
    for t in np.flatnonzero(mask):
        i1 = np.searchsorted(good, t)
        a, b = good[i1 - 1], good[i1]
        out[t] = quat_slerp(q[a], q[b], np.full(q.shape[1], (t - a) / (b - a)))
    return out


def _smpl_fk(raw: SmplParams, body_model: BodyModel | None, height_m: float | None
             ) -> tuple[np.ndarray, np.ndarray, float, str]:
    if body_model is not None:
        rest = body_model.rest_joints(raw.betas)[:NUM_BODY_JOINTS]
        height = body_model.height_m(raw.betas)
        skeleton = f"body model {body_model.path} ({body_model.kind}, exact J(beta))"
    else:
        height = float(height_m) if height_m is not None else MEAN_SHAPE_HEIGHT_M
        rest = mean_shape_rest_joints(height)[:NUM_BODY_JOINTS]
        skeleton = f"built-in SMPL neutral mean shape scaled to {height:.3f} m (approximate)"
    with np.errstate(invalid="ignore"):
        pos, rot = forward_kinematics(rest, SMPL_BODY_PARENTS, _finite(raw.root_orient_aa),
                                      _finite(raw.body_pose_aa), _finite(raw.transl))
    return pos, rot, height, skeleton


def _finite(x: np.ndarray) -> np.ndarray:
    """Zeros in place of NaN/Inf: those frames are overwritten by the repair afterwards."""
    return np.where(np.isfinite(x), x, 0.0)


def estimate_height_m(joint_names: tuple[str, ...], pos: np.ndarray) -> float:
    """Subject height from leg and trunk lengths relative to the mean-shape template."""
    missing = [n for n in REQUIRED_FOR_HEIGHT if n not in joint_names]
    if missing:
        return MEAN_SHAPE_HEIGHT_M
    idx = {n: joint_names.index(n) for n in REQUIRED_FOR_HEIGHT}
    tmpl = mean_shape_rest_joints()
    tidx = {n: SMPL_BODY_JOINT_NAMES.index(n) for n in REQUIRED_FOR_HEIGHT}

    def chain(p: np.ndarray, ix: dict[str, int]) -> np.ndarray:
        d = lambda a, b: np.linalg.norm(p[..., ix[a], :] - p[..., ix[b], :], axis=-1)
        legs = 0.5 * (d("left_hip", "left_knee") + d("left_knee", "left_ankle")
                      + d("right_hip", "right_knee") + d("right_knee", "right_ankle"))
        return legs + d("pelvis", "neck")

    measured = float(np.nanmedian(chain(pos, idx)))
    return MEAN_SHAPE_HEIGHT_M * measured / float(chain(tmpl, tidx))


def _floor_offset(names: tuple[str, ...], pos_z: np.ndarray, height: float) -> float:
    soles = []
    for side in ("left", "right"):
        if f"{side}_ankle" in names:
            soles.append(pos_z[:, names.index(f"{side}_ankle")] - ANKLE_HEIGHT_FRACTION * height)
        if f"{side}_foot" in names:
            soles.append(pos_z[:, names.index(f"{side}_foot")] - FOOT_HEIGHT_FRACTION * height)
    if not soles:
        return float(np.nanmin(pos_z))
    return float(np.nanmin(np.stack(soles)))


def resample(pos: np.ndarray, quat: np.ndarray | None, hands: np.ndarray | None, fps: float,
             target_fps: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Resample (T, ...) tracks from ``fps`` to ``target_fps`` over the same duration."""
    T = pos.shape[0]
    if T == 1 or abs(fps - target_fps) < 1e-9:
        return pos, quat, hands
    n = resampled_frames(None, T, fps, target_fps)
    f = np.arange(n) / target_fps * fps
    i0 = np.clip(np.floor(f).astype(int), 0, T - 1)
    i1 = np.clip(i0 + 1, 0, T - 1)
    frac = f - i0
    pos_r = pos[i0] + (pos[i1] - pos[i0]) * frac[:, None, None]
    quat_r = None
    if quat is not None:
        quat_r = quat_slerp(quat[i0], quat[i1], np.repeat(frac[:, None], quat.shape[1], axis=1))
    hands_r = None if hands is None else hands[np.clip(np.rint(f).astype(int), 0, T - 1)]
    return pos_r, quat_r, hands_r


def normalise(
    raw: RawMotion,
    *,
    fps: float | None = None,
    body_model: str | Path | BodyModel | None = None,
    height_m: float | None = None,
    repair: bool = False,
    max_repair_gap: int = 5,
    smoothing: OneEuroConfig | None = None,
    target_fps: float | None = DEFAULT_FPS,
    floor: bool = True,
) -> HumanMotion:
    """One ``HumanMotion`` from a raw record (module docstring lists the steps)."""
    src_fps = resolve_fps(raw, fps)
    if target_fps is not None and (not np.isfinite(target_fps) or target_fps <= 0):
        raise MotionFormatError(raw.path, "target_fps", f"is {target_fps}; expected > 0")
    if target_fps is not None:  # refuse before FK allocates anything
        resampled_frames(raw.path, raw.num_frames, src_fps, float(target_fps))
    mask = _check_bad_frames(raw, repair, max_repair_gap)
    bm = load_body_model(body_model) if isinstance(body_model, (str, Path)) else body_model
    source = {"file": raw.path, "format": raw.format, "source_fps": f"{src_fps:g}",
              "source_fps_from": fps_origin(raw, fps),
              "up_axis_in_file": raw.up_axis, **raw.info}
    if isinstance(raw, SmplParams):
        pos, rot, height, skeleton = _smpl_fk(raw, bm, height_m)
        names: tuple[str, ...] = SMPL_BODY_JOINT_NAMES
        source.update(skeleton=skeleton, smpl_model=raw.model)
    else:
        pos, rot = raw.positions.copy(), None
        names = raw.joint_names
        given = height_m if height_m is not None else raw.height_m
        height = float(given) if given is not None else estimate_height_m(names, pos)
        if "skeleton" not in raw.info:
            source["skeleton"] = "joint positions as given" + (
                "" if given is not None else " (height estimated from limb lengths)")
    if raw.up_axis == "y":
        pos = pos @ R_ZUP_FROM_YUP.T
        rot = None if rot is None else R_ZUP_FROM_YUP @ rot
    quat = None if rot is None else quat_make_continuous(
        matrix_to_quat(rot @ R_LINK_FROM_SMPL_FRAME), axis=0)
    if mask.any():
        pos[mask] = np.nan
        pos = _interp_positions(pos, mask)
        if quat is not None:
            quat = _interp_quats(quat, mask)
    source["repaired_frames"] = str(int(mask.sum()))
    if floor:
        file_floor = raw.floor_height_m if isinstance(raw, JointPositions) else None
        pos[..., 2] -= (_floor_offset(names, pos[..., 2], height) if file_floor is None
                        else file_floor)
    hands = raw.hands.states if raw.hands is not None else None
    if raw.hands is not None:
        source["hand_state_columns_in_file"] = raw.hands.columns_in_file
    out_fps = src_fps if target_fps is None else float(target_fps)
    pos, quat, hands = resample(pos, quat, hands, src_fps, out_fps)
    if smoothing is not None:
        pos = one_euro(pos, out_fps, smoothing)
        if quat is not None:
            q = one_euro(quat_make_continuous(quat, axis=0), out_fps, smoothing)
            quat = q / np.linalg.norm(q, axis=-1, keepdims=True)
        source["smoothing"] = f"one_euro {smoothing}"
    return HumanMotion(fps=out_fps, joint_names=names, joint_pos_w=pos, height_m=float(height),
                       joint_quat_wxyz=quat, hand_state=hands, source=source)
