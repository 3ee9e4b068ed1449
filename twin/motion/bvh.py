"""BioVision Hierarchy (``.bvh``) motion capture: parsing, forward kinematics, SMPL names.

Owns everything specific to BVH files (LAFAN1, CMU as converted by cgspeed, Mixamo-style
rigs): the text layout (``HIERARCHY`` of ``ROOT``/``JOINT``/``End Site`` blocks with
``OFFSET`` and ``CHANNELS``, then ``MOTION`` with ``Frames``, ``Frame Time`` and one line of
channel values per frame), the rotation convention (a joint's local rotation is the product
of its rotation channels in the order listed, degrees: "Zrotation Yrotation Xrotation" is
Rz @ Ry @ Rx), the unit (a file does not say: inferred from the leg length), and which rig
joints twin reads as which SMPL joints (``SMPL_FROM_RIG``). Positions stay in the file's
world (BVH is y up); ``twin.motion.normalise`` turns them z up.

A joint with position channels (the root) is placed by them: they replace its ``OFFSET``
(LAFAN1's root offset is its first frame's position; CMU's is zero).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.human_motion import SYMMETRIC_SKELETON_KEY
from twin.motion.limits import check_fps, check_source_frames
from twin.motion.smpl import (
    ANKLE_HEIGHT_FRACTION,
    MEAN_SHAPE_HEIGHT_M,
    SMPL_JOINT_NAMES,
    mean_shape_rest_joints,
)

MAX_BVH_BYTES = 256 << 20  # text; LAFAN1's longest take is ~5 MB
MAX_JOINTS = 512
ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")
POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
# Thigh + shin length of an adult (m) sets the unit: the file's leg length divided by
# each candidate's factor must land in this range.
LEG_LENGTH_RANGE_M = (0.5, 1.3)
# CMU's BVH conversions keep the ASF unit: 1/0.45 inch (the ASF ":length 0.45").
UNITS_M = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "cmu_asf": 0.0254 / 0.45}

# SMPL joint -> rig joint names that mean it, compared case-insensitively after removing a
# namespace prefix ("mixamorig:") and separators. "LeftShoulder" is the collar bone in
# LAFAN1, CMU and Mixamo rigs; their upper-arm joint is "LeftArm".
SMPL_FROM_RIG: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips", "hip", "pelvis"),
    "left_hip": ("leftupleg", "leftthigh", "lthigh", "lefthip", "thighl"),
    "right_hip": ("rightupleg", "rightthigh", "rthigh", "righthip", "thighr"),
    "left_knee": ("leftleg", "leftshin", "lshin", "leftknee", "shinl"),
    "right_knee": ("rightleg", "rightshin", "rshin", "rightknee", "shinr"),
    "left_ankle": ("leftfoot", "lfoot", "leftankle", "footl"),
    "right_ankle": ("rightfoot", "rfoot", "rightankle", "footr"),
    "left_foot": ("lefttoe", "lefttoebase", "lefttoes", "ltoe", "toel"),
    "right_foot": ("righttoe", "righttoebase", "righttoes", "rtoe", "toer"),
    "neck": ("neck", "neck1"),
    "head": ("head",),
    "left_shoulder": ("leftarm", "leftuparm", "lshldr", "upperarml"),
    "right_shoulder": ("rightarm", "rightuparm", "rshldr", "upperarmr"),
    "left_elbow": ("leftforearm", "lforearm", "leftelbow", "forearml"),
    "right_elbow": ("rightforearm", "rforearm", "rightelbow", "forearmr"),
    "left_wrist": ("lefthand", "lhand", "leftwrist", "handl"),
    "right_wrist": ("righthand", "rhand", "rightwrist", "handr"),
}
REQUIRED = tuple(n for n in SMPL_FROM_RIG if n != "head")  # the head is read when there
SPINE_NAMES = ("spine", "spine1", "spine2", "spine3", "chest", "chest2", "abdomen",
               "lowerback", "upperchest")


@dataclass(frozen=True)
class BvhSkeleton:
    """Joints in file order (parents first): names, parent index (-1: root), ``OFFSET`` in
    the parent's frame (file units), and each joint's channel names and first column."""

    names: tuple[str, ...]
    parents: np.ndarray
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    first_column: np.ndarray

    @property
    def num_channels(self) -> int:
        return int(sum(len(c) for c in self.channels))


@dataclass(frozen=True)
class BvhClip:
    path: str
    skeleton: BvhSkeleton
    frame_time_s: float
    values: np.ndarray  # (T, channels) as stored: degrees and file units

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time_s

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])


def _canon(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name.split(":")[-1]).lower()


def read_bvh(path: str | Path) -> BvhClip:
    """Parse and check one ``.bvh`` file; every problem is one line naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise MotionFormatError(path, None, "file does not exist")
    size = path.stat().st_size
    if size > MAX_BVH_BYTES:
        raise MotionFormatError(path, None, f"is {size >> 20} MB; a BVH file may be at most "
                                f"{MAX_BVH_BYTES >> 20} MB")
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise MotionFormatError(path, None, f"is not text (byte {exc.start}); expected a BVH "
                                "file (HIERARCHY ... MOTION)") from exc
    lines = text.splitlines()
    skeleton, motion_line = _parse_hierarchy(path, lines)
    frame_time, values = _parse_motion(path, lines, motion_line, skeleton.num_channels)
    return BvhClip(str(path), skeleton, frame_time, values)


def _parse_hierarchy(path: Path, lines: list[str]) -> tuple[BvhSkeleton, int]:
    def fail(i: int, what: str) -> MotionFormatError:
        return MotionFormatError(path, f"line {i + 1}", what)

    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines) or lines[i].strip() != "HIERARCHY":
        raise fail(min(i, len(lines) - 1) if lines else 0,
                   "expected 'HIERARCHY' as the first line of a BVH file")
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    stack: list[int] = []  # joint index per open brace; -2 for an End Site
    pending: tuple[str, int] | None = None  # (kind, parent) of a header awaiting "{"
    i += 1
    while i < len(lines):
        tok = lines[i].split()
        if not tok:
            i += 1
            continue
        head = tok[0]
        if head == "MOTION":
            if stack or pending:
                raise fail(i, "'MOTION' before the hierarchy's braces close")
            if not names:
                raise fail(i, "no ROOT joint before 'MOTION'")
            break
        if head in ("ROOT", "JOINT"):
            if pending:
                raise fail(i, f"expected '{{' after the {pending[0]} header")
            if (head == "ROOT") != (not stack):
                raise fail(i, "ROOT must be the one outermost joint" if head == "ROOT"
                           else "JOINT outside any ROOT")
            if head == "ROOT" and names:
                raise fail(i, "a second ROOT; twin reads one skeleton per file")
            if len(tok) < 2:
                raise fail(i, f"{head} without a name")
            if stack and stack[-1] == -2:
                raise fail(i, "a JOINT inside an End Site")
            if len(names) >= MAX_JOINTS:
                raise fail(i, f"more than {MAX_JOINTS} joints")
            names.append(" ".join(tok[1:]))
            parents.append(stack[-1] if stack else -1)
            offsets.append([np.nan] * 3)
            channels.append(())
            pending = (head, len(names) - 1)
        elif head == "End":
            if not stack or stack[-1] == -2:
                raise fail(i, "an End Site outside a joint")
            pending = ("End Site", -2)
        elif head == "{":
            if pending is None:
                raise fail(i, "'{' without a ROOT, JOINT or End Site header")
            stack.append(pending[1])
            pending = None
        elif head == "}":
            if not stack:
                raise fail(i, "'}' without an open block")
            j = stack.pop()
            if j >= 0 and np.isnan(offsets[j][0]):
                raise fail(i, f"joint {names[j]!r} has no OFFSET")
        elif head == "OFFSET":
            if not stack:
                raise fail(i, "OFFSET outside a joint")
            try:
                off = [float(v) for v in tok[1:4]]
            except ValueError:
                off = []
            if len(off) != 3 or not np.all(np.isfinite(off)):
                raise fail(i, f"OFFSET {' '.join(tok[1:])!r}; expected three finite numbers")
            if stack[-1] >= 0:
                offsets[stack[-1]] = off
        elif head == "CHANNELS":
            if not stack or stack[-1] < 0:
                raise fail(i, "CHANNELS outside a joint")
            try:
                n = int(tok[1])
            except (IndexError, ValueError):
                n = -1
            chans = tuple(tok[2:])
            if n != len(chans) or n not in (0, 3, 6) or any(
                    c not in ROTATION_CHANNELS + POSITION_CHANNELS for c in chans):
                raise fail(i, f"CHANNELS {' '.join(tok[1:])!r}; expected a count (3 or 6) "
                           "and that many of Xposition..Zposition, Xrotation..Zrotation")
            if len(set(chans)) != len(chans):
                raise fail(i, f"CHANNELS {' '.join(chans)!r} names a channel twice")
            channels[stack[-1]] = chans
        else:
            raise fail(i, f"unexpected {head!r} in the hierarchy; expected ROOT, JOINT, End "
                       "Site, OFFSET, CHANNELS, braces or MOTION")
        i += 1
    else:
        raise MotionFormatError(path, None, "no 'MOTION' section; expected the frames after "
                                "the hierarchy")
    widths = np.array([len(c) for c in channels])
    skeleton = BvhSkeleton(tuple(names), np.array(parents), np.array(offsets, dtype=np.float64),
                           tuple(channels), np.concatenate([[0], np.cumsum(widths)[:-1]]))
    return skeleton, i


def _parse_motion(path: Path, lines: list[str], at: int, width: int
                  ) -> tuple[float, np.ndarray]:
    def header(i: int, key: str) -> str:
        if i >= len(lines) or not lines[i].strip().startswith(key):
            raise MotionFormatError(path, f"line {min(i, len(lines) - 1) + 1}",
                                    f"expected '{key}' after MOTION")
        return lines[i].split(":", 1)[1].strip()

    i = at + 1
    raw_n = header(i, "Frames:")
    try:
        n = int(raw_n)
    except ValueError:
        n = -1
    if n < 1:
        raise MotionFormatError(path, f"line {i + 1}", f"Frames: {raw_n!r}; expected a count "
                                ">= 1")
    check_source_frames(path, n)
    raw_dt = header(i + 1, "Frame Time:")
    try:
        dt = float(raw_dt)
    except ValueError:
        dt = float("nan")
    if not np.isfinite(dt) or dt <= 0:
        raise MotionFormatError(path, f"line {i + 2}", f"Frame Time: {raw_dt!r}; expected "
                                "seconds > 0")
    check_fps(path, 1.0 / dt, "Frame Time")
    rows = [ln for ln in lines[i + 2:] if ln.strip()]
    if len(rows) != n:
        raise MotionFormatError(path, "Frames", f"says {n} but {len(rows)} frame lines follow")
    try:
        values = np.array([np.array(r.split(), dtype=np.float64) for r in rows], dtype=object)
    except ValueError as exc:
        bad = next(k for k, r in enumerate(rows) if not _numeric(r))
        raise MotionFormatError(path, f"frame {bad}", f"holds a non-number ({exc}); expected "
                                f"{width} channel values") from exc
    lengths = np.array([len(v) for v in values])
    if (lengths != width).any():
        k = int(np.argmax(lengths != width))
        raise MotionFormatError(path, f"frame {k}", f"has {lengths[k]} values; the hierarchy "
                                f"declares {width} channels")
    out = np.stack(values).astype(np.float64) if width else np.zeros((n, 0))
    if not np.isfinite(out).all():
        k = int(np.argmax(~np.isfinite(out).all(axis=1)))
        raise MotionFormatError(path, f"frame {k}", "holds NaN or Inf; expected finite "
                                "channel values")
    return dt, out


def _numeric(row: str) -> bool:
    try:
        np.array(row.split(), dtype=np.float64)
    except ValueError:
        return False
    return True


def _axis_rotation(axis: str, deg: np.ndarray) -> np.ndarray:
    a = np.deg2rad(deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    rows = {"X": ((o, z, z), (z, c, -s), (z, s, c)),
            "Y": ((c, z, s), (z, o, z), (-s, z, c)),
            "Z": ((c, -s, z), (s, c, z), (z, z, o))}[axis]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def forward_kinematics(clip: BvhClip) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, J, 3) in file units and rotations (T, J, 3, 3) of every joint."""
    sk, v = clip.skeleton, clip.values
    T, J = clip.num_frames, len(sk.names)
    pos = np.zeros((T, J, 3))
    rot = np.zeros((T, J, 3, 3))
    for j in range(J):
        local_r = np.broadcast_to(np.eye(3), (T, 3, 3))
        local_t = np.broadcast_to(sk.offsets[j], (T, 3)).copy()
        for k, ch in enumerate(sk.channels[j]):
            col = v[:, sk.first_column[j] + k]
            if ch in ROTATION_CHANNELS:
                local_r = local_r @ _axis_rotation(ch[0], col)
            else:
                local_t[:, "XYZ".index(ch[0])] = col
        p = sk.parents[j]
        if p < 0:
            pos[:, j], rot[:, j] = local_t, local_r
        else:
            pos[:, j] = pos[:, p] + np.einsum("tij,tj->ti", rot[:, p], local_t)
            rot[:, j] = rot[:, p] @ local_r
    return pos, rot


def rig_joint_index(skeleton: BvhSkeleton) -> dict[str, int]:
    """SMPL joint name -> rig joint index for every ``SMPL_FROM_RIG`` joint found."""
    canon = [_canon(n) for n in skeleton.names]
    out = {}
    for smpl, aliases in SMPL_FROM_RIG.items():
        for a in aliases:
            if a in canon:
                out[smpl] = canon.index(a)
                break
    return out


def spine_chain(skeleton: BvhSkeleton, pelvis: int, neck: int) -> list[int]:
    """Rig joints from the pelvis (excluded) up to the neck (excluded), bottom first."""
    chain = []
    j = int(skeleton.parents[neck])
    while j >= 0 and j != pelvis:
        chain.append(j)
        j = int(skeleton.parents[j])
    if j != pelvis:
        raise ValueError("neck is not below the pelvis")
    return chain[::-1]


def _descends(skeleton: BvhSkeleton, joint: int, ancestor: int) -> bool:
    while joint >= 0:
        joint = int(skeleton.parents[joint])
        if joint == ancestor:
            return True
    return False


def leg_length(skeleton: BvhSkeleton, idx: dict[str, int]) -> float:
    """Thigh + shin offsets, the mean of both legs, in file units."""
    return 0.5 * sum(float(np.linalg.norm(skeleton.offsets[idx[f"{s}_{j}"]]))
                     for s in ("left", "right") for j in ("knee", "ankle"))


def infer_unit(path: str | Path, leg: float) -> str:
    """The length unit in which ``leg`` (thigh + shin, file units) is an adult's."""
    for unit, m in UNITS_M.items():
        if LEG_LENGTH_RANGE_M[0] <= leg * m <= LEG_LENGTH_RANGE_M[1]:
            return unit
    raise MotionFormatError(path, "OFFSET", f"leg (thigh + shin) is {leg:g} file units, an "
                            f"adult's in none of {list(UNITS_M)}; expected "
                            f"{LEG_LENGTH_RANGE_M[0]}-{LEG_LENGTH_RANGE_M[1]} m")


SYMMETRY_TOLERANCE_M = 0.002  # mirrored joints this close: a symmetric rig


def rest_positions(skeleton: BvhSkeleton) -> np.ndarray:
    """(J, 3) joint positions of the rest pose (every rotation zero), file units."""
    pos = np.zeros_like(skeleton.offsets)
    for j, parent in enumerate(skeleton.parents):  # parents precede children
        pos[j] = skeleton.offsets[j] + (pos[parent] if parent >= 0 else 0.0)
    return pos


def is_symmetric(skeleton: BvhSkeleton, idx: dict[str, int], unit_m: float) -> bool:
    """Whether the right limbs' joints at rest are the left ones' mirror images in the plane
    that bisects the hips (equal bone lengths alone would pass a hip set lower on one side)."""
    rest = rest_positions(skeleton) * unit_m
    lat = rest[idx["left_hip"]] - rest[idx["right_hip"]]
    mirror = np.eye(3) - 2.0 * np.outer(lat, lat) / max(float(lat @ lat), 1e-12)
    mid = 0.5 * (rest[idx["left_hip"]] + rest[idx["right_hip"]])
    return all(np.linalg.norm(rest[idx[f"left_{n}"]] - mid
                              - mirror @ (rest[idx[f"right_{n}"]] - mid)) < SYMMETRY_TOLERANCE_M
               for n in ("knee", "ankle", "foot", "shoulder", "elbow", "wrist"))


UPRIGHT_FRACTION = 0.95  # frames with the pelvis this high (of its 99th percentile) stand


@dataclass(frozen=True)
class SmplJoints:
    """SMPL-named joints from a rig: ``names`` (SMPL order), ``pos`` (T, J, 3) m in the
    file's world, and what the derivation measured (``info``: strings for the source)."""

    names: tuple[str, ...]
    pos: np.ndarray
    info: dict[str, str]


def _smpl_rest_flu(name: str, scale: float) -> np.ndarray:
    """An SMPL mean-shape rest joint as (forward, left, up), scaled."""
    x_left, y_up, z_fwd = mean_shape_rest_joints()[SMPL_JOINT_NAMES.index(name)]
    return scale * np.array([z_fwd, x_left, y_up])


MIDLINE = np.array([1.0, 0.0, 1.0])  # (forward, left, up): the mean shape's midline joints
# stray up to 3 mm sideways, which would roll a symmetric rig's pelvis 2 deg


def _heading_frames(left_hip: np.ndarray, right_hip: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(T, 3, 3) columns forward, left, up: the hips' heading about the world ``up``."""
    lat = left_hip - right_hip
    lat = lat - (lat @ up)[:, None] * up
    left = lat / np.maximum(np.linalg.norm(lat, axis=1, keepdims=True), 1e-9)
    fwd = np.cross(left, up)
    return np.stack([fwd, left, np.broadcast_to(up, fwd.shape)], axis=-1)


def _mean_rotation(r: np.ndarray) -> np.ndarray:
    """Chordal mean of (N, 3, 3) rotations."""
    u, _, vt = np.linalg.svd(r.mean(axis=0))
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def smpl_joints(clip: BvhClip, up_axis: str = "y") -> SmplJoints:
    """SMPL-named joints (m) from a BVH rig, for ``twin.retarget``.

    Hips, knees, ankles, toes (SMPL's ``*_foot``), upper arms (``*_shoulder``), forearms
    (``*_elbow``), hands (``*_wrist``) and the head are the rig's joints. A rig's pelvis,
    spine and neck joints sit elsewhere than SMPL's (LAFAN1's "Hips" is level with its hip
    joints, SMPL's pelvis 9.5 cm above them), and ``twin.retarget.human_frames`` reads the
    pelvis and torso orientations from the pelvis -> spine1 and spine1 -> neck directions
    calibrated on SMPL's rest skeleton. So twin places SMPL's pelvis and spine1 rigidly in
    the rig's pelvis link and its neck rigidly in the link below the rig's neck, at the
    offsets that make the clip's mean upright posture (frames whose pelvis stands within
    ``UPRIGHT_FRACTION`` of its highest) SMPL's rest posture, scaled by leg length: the
    rig's own bone axes say nothing about which pose is upright.
    """
    sk = clip.skeleton
    idx = rig_joint_index(sk)
    missing = [n for n in REQUIRED if n not in idx]
    if missing:
        raise MotionFormatError(clip.path, "HIERARCHY", f"has no joint for SMPL's "
                                f"{', '.join(missing)}; expected rig names such as "
                                f"{', '.join(SMPL_FROM_RIG[missing[0]][:3])} "
                                f"(joints: {', '.join(sk.names[:12])}...)")
    try:
        chain = spine_chain(sk, idx["pelvis"], idx["neck"])
    except ValueError:
        chain = None
    if not chain or not all(_descends(sk, idx[f"{s}_hip"], idx["pelvis"])
                            for s in ("left", "right")):
        raise MotionFormatError(clip.path, "HIERARCHY", f"{sk.names[idx['neck']]!r} and both "
                                f"thighs must hang from {sk.names[idx['pelvis']]!r} (the neck "
                                "through spine joints)")
    leg_units = leg_length(sk, idx)
    unit = infer_unit(clip.path, leg_units)
    pos, rot = forward_kinematics(clip)
    pos *= UNITS_M[unit]
    up = np.eye(3)["xyz".index(up_axis)]
    J = lambda n: pos[:, idx[n]]
    H = _heading_frames(J("left_hip"), J("right_hip"), up)
    height = J("pelvis") @ up
    upright = height >= UPRIGHT_FRACTION * np.percentile(height, 99)
    leg = leg_units * UNITS_M[unit]
    smpl_leg = sum(np.linalg.norm(_smpl_rest_flu(f"left_{a}", 1.0) - _smpl_rest_flu(f"left_{b}",
                   1.0)) for a, b in (("hip", "knee"), ("knee", "ankle")))
    k = leg / smpl_leg
    hips_mid = 0.5 * (_smpl_rest_flu("left_hip", k) + _smpl_rest_flu("right_hip", k))
    v_pelvis = MIDLINE * (_smpl_rest_flu("pelvis", k) - hips_mid)
    v_spine1 = MIDLINE * (_smpl_rest_flu("spine1", k) - _smpl_rest_flu("pelvis", k))
    v_neck = MIDLINE * (_smpl_rest_flu("neck", k) - _smpl_rest_flu("spine1", k))

    # the pelvis link's upright orientation in the heading frame, and offsets in that link
    p_link = idx["pelvis"]
    Hu = H[upright]
    neutral_pelvis = _mean_rotation(np.swapaxes(Hu, 1, 2) @ rot[upright, p_link])
    # the hip joints' midpoint in the pelvis link (through CMU's LHipJoint/RHipJoint too)
    mid_w = 0.5 * (J("left_hip") + J("right_hip")) - pos[:, p_link]
    mid_in_link = np.median(np.einsum("tji,tj->ti", rot[:, p_link], mid_w), axis=0)
    pelvis_in_link = mid_in_link + neutral_pelvis.T @ v_pelvis
    spine1_in_link = pelvis_in_link + neutral_pelvis.T @ v_spine1
    R_p = rot[:, p_link]
    pelvis = pos[:, p_link] + R_p @ pelvis_in_link
    spine1 = pos[:, p_link] + R_p @ spine1_in_link

    # the neck, rigid in the chest link (the rig's neck's parent), upright = SMPL's lean
    c_link = int(sk.parents[idx["neck"]])
    to_h = lambda x, t: np.einsum("tji,tj->ti", H[t], x[t])
    neutral_chest = _mean_rotation(np.swapaxes(Hu, 1, 2) @ rot[upright, c_link])
    rel = lambda x: np.median(to_h(x - pos[:, c_link], upright), axis=0)
    neck_in_link = neutral_chest.T @ (rel(spine1) + v_neck)
    neck = pos[:, c_link] + rot[:, c_link] @ neck_in_link

    named = {n: J(n) for n in idx if n not in ("pelvis", "neck")}
    named.update(pelvis=pelvis, spine1=spine1, neck=neck)
    names = tuple(n for n in SMPL_JOINT_NAMES if n in named)

    def lean_deg(a: np.ndarray, b: np.ndarray) -> float:  # + leaning back, upright frames
        v = to_h(b - a, upright)
        return float(np.degrees(np.arctan2(-np.median(v[:, 0]), np.median(v[:, 2]))))

    # the rig's straight leg and SMPL's pelvis drop and ankle height at its scale: the
    # retargeter's estimate from hip width (0.85 of the pelvis-hip distance) reads LAFAN1's
    # wide hips 2.5 cm too tall and crouches the G1
    ankle_h = ANKLE_HEIGHT_FRACTION * MEAN_SHAPE_HEIGHT_M * k
    proportions = {"standing_pelvis_height_m": float(v_pelvis[2] + leg + ankle_h),
                   "ankle_height_m": ankle_h}
    symmetric = is_symmetric(sk, idx, UNITS_M[unit])
    info = {"skeleton": f"BVH rig, {len(sk.names)} joints, unit {unit} (from the leg, "
            f"{leg:.3f} m); SMPL pelvis, spine1 and neck placed on the rig's links, upright "
            f"calibrated on {int(upright.sum())} of {clip.num_frames} frames",
            "rig_lean_deg": f"pelvis->{sk.names[chain[-1]]} "
            f"{lean_deg(J('pelvis'), pos[:, chain[-1]]):.1f}, "
            f"{sk.names[chain[-1]]}->{sk.names[idx['neck']]} "
            f"{lean_deg(pos[:, chain[-1]], J('neck')):.1f} (upright frames; + back)",
            **{key: f"{v:.6f}" for key, v in proportions.items()},
            SYMMETRIC_SKELETON_KEY: "true" if symmetric else "false"}
    return SmplJoints(names, np.stack([named[n] for n in names], axis=1), info)
