"""DeepMimic ``humanoid3d`` motion clips: frame layout, skeleton, clock, loops and FK.

Owns everything specific to the clips that pybullet ships under
``pybullet_data/data/motions/`` (JSON ``{"Loop": ..., "Frames": [[...44 values], ...]}``):
the frame layout (per-frame dt in s; root position in m; root, chest, neck, hip, ankle and
shoulder quaternions (w, x, y, z), each relative to its parent link; knee and elbow angles
in rad about the link z axis), the skeleton (the joint offsets of
``pybullet_data/humanoid/humanoid.urdf``, which DeepMimic loads with ``globalScaling=0.25``,
so that the clips' root positions are metres), resampling a clip's per-frame dt onto a
uniform clock, repeating a looping clip, forward kinematics and the SMPL-named joints twin
derives from the links. All positions here are in the clips' own world: y up, floor at
y = 0; at the zero pose a link frame is x forward, y up, z to the character's right.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.limits import check_fps, check_source_frames
from twin.motion.rotations import quat_mul, quat_slerp, quat_to_matrix
from twin.motion.smpl import (
    FOOT_HEIGHT_FRACTION,
    MEAN_SHAPE_HEIGHT_M,
    SMPL_JOINT_NAMES,
    mean_shape_rest_joints,
)

FRAME_WIDTH = 44
# (name, first column, width) in a frame, in file order (pybullet's
# humanoid_pose_interpolator.Slerp reads the same columns, quaternions as w, x, y, z).
FRAME_LAYOUT: tuple[tuple[str, int, int], ...] = (
    ("dt", 0, 1), ("root_pos", 1, 3), ("root", 4, 4), ("chest", 8, 4), ("neck", 12, 4),
    ("right_hip", 16, 4), ("right_knee", 20, 1), ("right_ankle", 21, 4),
    ("right_shoulder", 25, 4), ("right_elbow", 29, 1), ("left_hip", 30, 4),
    ("left_knee", 34, 1), ("left_ankle", 35, 4), ("left_shoulder", 39, 4),
    ("left_elbow", 43, 1),
)
BALL_JOINTS = tuple(n for n, _, w in FRAME_LAYOUT if w == 4)  # "root" first
HINGE_JOINTS = tuple(n for n, _, w in FRAME_LAYOUT if w == 1 and n != "dt")
LOOP_MODES = ("none", "wrap")
QUAT_NORM_RANGE = (0.25, 4.0)  # outside: not a rotation; inside: normalised on read
KNOWN_KEYS = ("Loop", "Frames", "RightJoints", "LeftJoints")  # the last two: mirror indices

URDF_SCALE = 0.25  # pybullet deep_mimic: loadURDF("humanoid/humanoid.urdf", globalScaling=0.25)
# Link -> (parent, joint origin in the parent link frame, URDF units); parents come first.
# Every joint origin has rpy = 0; knees and elbows turn about z (knee limits [-3.14, 0],
# elbow [0, 3.14]: negative knee and positive elbow angles flex); wrists are fixed.
_URDF_JOINTS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "root": ("", (0.0, 0.0, 0.0)),
    "chest": ("root", (0.0, 0.944604, 0.0)),
    "neck": ("chest", (0.0, 0.895576, 0.0)),
    "right_hip": ("root", (0.0, 0.0, 0.339548)),
    "right_knee": ("right_hip", (0.0, -1.686184, 0.0)),
    "right_ankle": ("right_knee", (0.0, -1.639480, 0.0)),
    "right_shoulder": ("chest", (-0.096200, 0.974000, 0.732440)),
    "right_elbow": ("right_shoulder", (0.0, -1.099152, 0.0)),
    "right_wrist": ("right_elbow", (0.0, -1.035788, 0.0)),
    "left_hip": ("root", (0.0, 0.0, -0.339548)),
    "left_knee": ("left_hip", (0.0, -1.686184, 0.0)),
    "left_ankle": ("left_knee", (0.0, -1.639480, 0.0)),
    "left_shoulder": ("chest", (-0.096200, 0.974000, -0.732440)),
    "left_elbow": ("left_shoulder", (0.0, -1.099152, 0.0)),
    "left_wrist": ("left_elbow", (0.0, -1.035788, 0.0)),
}
LINK_NAMES: tuple[str, ...] = tuple(_URDF_JOINTS)
LINK_PARENTS: tuple[int, ...] = tuple(
    LINK_NAMES.index(p) if p else -1 for p, _ in _URDF_JOINTS.values())
LINK_OFFSETS_M = np.array([o for _, o in _URDF_JOINTS.values()]) * URDF_SCALE
# Ankle-link foot box (URDF collision: centre (0.18, -0.09, 0), size 0.708 x 0.22 x 0.36).
FOOT_BOX_CENTER_M = np.array([0.18, -0.09, 0.0]) * URDF_SCALE
FOOT_BOX_SIZE_M = np.array([0.708, 0.22, 0.36]) * URDF_SCALE
# Neck-link head sphere (URDF collision: centre (0, 0.7, 0), radius 0.41).
HEAD_CENTER_M = np.array([0.0, 0.7, 0.0]) * URDF_SCALE
HEAD_RADIUS_M = 0.41 * URDF_SCALE
ANKLE_ABOVE_SOLE_M = float(FOOT_BOX_SIZE_M[1] / 2 - FOOT_BOX_CENTER_M[1])


def _rest_link_positions() -> np.ndarray:
    pos = np.zeros((len(LINK_NAMES), 3))
    for i, p in enumerate(LINK_PARENTS):
        pos[i] = LINK_OFFSETS_M[i] + (pos[p] if p >= 0 else 0.0)
    return pos


REST_LINK_POS_M = _rest_link_positions()  # zero pose, root at the origin
# Sole to crown at the zero pose: 1.619 m.
STANDING_HEIGHT_M = float(REST_LINK_POS_M[LINK_NAMES.index("neck"), 1] + HEAD_CENTER_M[1]
                          + HEAD_RADIUS_M - REST_LINK_POS_M[LINK_NAMES.index("left_ankle"), 1]
                          + ANKLE_ABOVE_SOLE_M)


@dataclass(frozen=True)
class DeepMimicClip:
    """Key poses on a clock, in the clip's y-up world.

    ``time_s`` (T,) increasing from 0; ``root_pos_m`` (T, 3); ``quat_wxyz`` (T, 9, 4) unit
    quaternions of ``BALL_JOINTS`` ("root" in the world, the others in their parent link);
    ``hinge_rad`` (T, 4) angles of ``HINGE_JOINTS``; ``loop`` is the file's "Loop" mode;
    ``fps`` the rate of its most common key-frame spacing (``uniform`` says whether all
    key frames are spaced so).
    """

    path: str
    loop: str
    fps: float
    uniform: bool
    time_s: np.ndarray
    root_pos_m: np.ndarray
    quat_wxyz: np.ndarray
    hinge_rad: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.time_s.shape[0])


def parse_clip(path: str | Path, data: object) -> DeepMimicClip:
    """Validate a clip's JSON content; every problem is one ``MotionFormatError`` line."""
    if not isinstance(data, dict):
        raise MotionFormatError(path, None, f"holds a JSON {type(data).__name__}; expected an "
                                "object with 'Loop' and 'Frames'")
    unknown = sorted(set(map(str, data)) - set(KNOWN_KEYS))
    if unknown:
        raise MotionFormatError(path, unknown[0], f"unknown key; expected only {list(KNOWN_KEYS)}")
    loop = data.get("Loop", "none")
    if loop not in LOOP_MODES:
        raise MotionFormatError(path, "Loop", f"is {loop!r}; expected one of {list(LOOP_MODES)}")
    frames = data.get("Frames")
    if not isinstance(frames, list) or not frames:
        raise MotionFormatError(path, "Frames", "missing or empty; expected a list of frames of "
                                f"{FRAME_WIDTH} numbers")
    check_source_frames(path, len(frames), "Frames")
    for i, f in enumerate(frames):
        if not isinstance(f, list) or len(f) != FRAME_WIDTH:
            n = len(f) if isinstance(f, list) else type(f).__name__
            raise MotionFormatError(path, "Frames", f"frame {i} has {n} values; expected "
                                    f"{FRAME_WIDTH} (dt, root position 3, root/chest/neck "
                                    "quaternions, per side hip quat, knee angle, ankle quat, "
                                    "shoulder quat, elbow angle)")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in f):
            raise MotionFormatError(path, "Frames", f"frame {i} holds a non-number; expected "
                                    f"{FRAME_WIDTH} numbers")
    arr = np.asarray(frames, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        t, c = (int(v) for v in np.argwhere(bad)[0])
        raise MotionFormatError(path, "Frames", f"{int(bad.any(axis=1).sum())} frame(s) hold "
                                f"NaN/Inf (first: frame {t}, column {c} = {_column_name(c)}); "
                                "expected finite numbers")
    dt = arr[:, 0]
    if (dt[:-1] <= 0).any() or dt[-1] < 0 or (arr.shape[0] == 1 and dt[0] <= 0):
        t = int(np.flatnonzero(dt <= 0)[0])
        raise MotionFormatError(path, "Frames", f"frame {t} has dt {dt[t]:g} s; expected > 0 "
                                "(only the last frame's dt may be 0)")
    quat = np.stack([arr[:, c:c + 4] for n, c, w in FRAME_LAYOUT if w == 4], axis=1)
    norm = np.linalg.norm(quat, axis=-1)
    # Shipped clips hold norms from 0.58 (kick) to 1.12 (backflip); DeepMimic normalises.
    off = np.argwhere((norm < QUAT_NORM_RANGE[0]) | (norm > QUAT_NORM_RANGE[1]))
    if off.size:
        t, j = (int(v) for v in off[0])
        raise MotionFormatError(path, "Frames", f"frame {t}: {BALL_JOINTS[j]} quaternion has "
                                f"norm {norm[t, j]:.3g}; expected a rotation (w, x, y, z) of "
                                f"norm {QUAT_NORM_RANGE[0]:g} to {QUAT_NORM_RANGE[1]:g}")
    spacing = dt[:-1] if dt.shape[0] > 1 else dt
    fps = _clip_fps(path, spacing)
    uniform = bool(np.allclose(spacing, 1.0 / fps, rtol=1e-3, atol=0.0))
    time_s = np.concatenate([[0.0], np.cumsum(dt[:-1])])
    hinge = np.stack([arr[:, c] for n, c, w in FRAME_LAYOUT if n in HINGE_JOINTS], axis=1)
    return DeepMimicClip(str(path), str(loop), fps, uniform, time_s, arr[:, 1:4].copy(),
                         quat / norm[..., None], hinge)


def _column_name(c: int) -> str:
    for name, first, width in FRAME_LAYOUT:
        if first <= c < first + width:
            return name if width == 1 else f"{name}[{c - first}]"
    return "?"


def _clip_fps(path: str | Path, spacing_s: np.ndarray) -> float:
    """Frames/s of the most common key-frame spacing. The files store dt with 6-7 digits
    (0.0333332), so a rate within 0.01 frames/s of an integer is that integer."""
    values, counts = np.unique(np.round(spacing_s, 6), return_counts=True)
    fps = 1.0 / float(values[np.argmax(counts)])
    fps = float(round(fps)) if abs(fps - round(fps)) < 1e-2 else fps
    return check_fps(path, fps, "Frames[:, 0] (dt)")


def repeat_cycles(clip: DeepMimicClip, loops: int) -> DeepMimicClip:
    """A looping clip played ``loops`` times, as DeepMimic plays it: a cycle lasts from the
    first key frame to the last, and cycle k + 1 starts from its first frame with the root
    moved and turned (yaw about y) by k + 1 times the first -> last change, so the root
    path and heading continue. The last key frame is reached only at the very end (the
    shipped clips' last frame differs from the first by up to 58 deg in some joint, the
    seam DeepMimic also jumps across)."""
    if isinstance(loops, bool) or not isinstance(loops, (int, np.integer)) or loops < 1:
        raise MotionFormatError(clip.path, "loops", f"is {loops!r}; expected an integer >= 1")
    if loops == 1:
        return clip
    if clip.loop != "wrap" or clip.num_frames < 2:
        raise MotionFormatError(clip.path, "loops", f"is {loops} but the clip's Loop is "
                                f"{clip.loop!r}; expected loops=1 for a clip that does not wrap")
    check_source_frames(clip.path, 1 + loops * (clip.num_frames - 1), "loops")
    yaw = heading_rad(clip.quat_wxyz[[0, -1], 0])
    d_yaw = float(yaw[1] - yaw[0])
    p0 = clip.root_pos_m[0]
    cycle_s = float(clip.time_s[-1])
    times, roots, quats, hinges = [], [], [], []
    start, turn = p0.copy(), 0.0
    for k in range(loops):
        keep = slice(None) if k == loops - 1 else slice(0, -1)
        rel = (clip.root_pos_m[keep] - p0) @ _yaw_matrix(turn).T
        rel[:, 1] = clip.root_pos_m[keep, 1] - p0[1]  # heights repeat as stored
        q = clip.quat_wxyz[keep].copy()
        q[:, 0] = quat_mul(_yaw_quat(turn), q[:, 0])
        times.append(k * cycle_s + clip.time_s[keep])
        roots.append(start + rel)
        quats.append(q)
        hinges.append(clip.hinge_rad[keep])
        step = (clip.root_pos_m[-1] - p0) @ _yaw_matrix(turn).T
        start, turn = start + step * np.array([1.0, 0.0, 1.0]), turn + d_yaw
    return replace(clip, time_s=np.concatenate(times), root_pos_m=np.concatenate(roots),
                   quat_wxyz=np.concatenate(quats), hinge_rad=np.concatenate(hinges))


def heading_rad(quat_wxyz: np.ndarray) -> np.ndarray:
    """Yaw about +y of a y-up frame's x (forward) axis, rad, 0 along world +x."""
    fwd = quat_to_matrix(quat_wxyz)[..., :, 0]
    return np.arctan2(-fwd[..., 2], fwd[..., 0])


def _yaw_matrix(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, np.sin(yaw / 2), 0.0])


def resample_uniform(clip: DeepMimicClip) -> DeepMimicClip:
    """The clip on a uniform clock at ``clip.fps`` over its duration (linear root position
    and hinge angles, slerped quaternions, as DeepMimic interpolates between key frames).
    Only the clock is renumbered when the key frames are already uniform."""
    T, fps = clip.num_frames, clip.fps
    if clip.uniform or T == 1:
        return replace(clip, time_s=np.arange(T) / fps, uniform=True)
    dt = np.diff(clip.time_s)
    n = int(np.floor(clip.time_s[-1] * fps + 1e-6)) + 1
    check_source_frames(clip.path, n, "Frames[:, 0] (dt)")
    t = np.arange(n) / fps
    i0 = np.clip(np.searchsorted(clip.time_s, t, side="right") - 1, 0, T - 2)
    frac = np.clip((t - clip.time_s[i0]) / dt[i0], 0.0, 1.0)
    lerp = lambda x: x[i0] + (x[i0 + 1] - x[i0]) * frac.reshape((-1,) + (1,) * (x.ndim - 1))
    quat = quat_slerp(clip.quat_wxyz[i0], clip.quat_wxyz[i0 + 1],
                      np.repeat(frac[:, None], len(BALL_JOINTS), axis=1))
    return replace(clip, uniform=True, time_s=t, root_pos_m=lerp(clip.root_pos_m),
                   quat_wxyz=quat, hinge_rad=lerp(clip.hinge_rad))


def _hinge_matrix(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(angle.shape + (3, 3))
    m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1] = c, -s, s, c
    m[..., 2, 2] = 1.0
    return m


def forward_kinematics(clip: DeepMimicClip) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, L, 3) m and rotations (T, L, 3, 3) of the ``LINK_NAMES`` frames
    (joint origins; the wrists are the hand centres), y-up."""
    T = clip.num_frames
    pos = np.zeros((T, len(LINK_NAMES), 3))
    rot = np.zeros((T, len(LINK_NAMES), 3, 3))
    local = {n: quat_to_matrix(clip.quat_wxyz[:, i]) for i, n in enumerate(BALL_JOINTS)}
    local.update({n: _hinge_matrix(clip.hinge_rad[:, i]) for i, n in enumerate(HINGE_JOINTS)})
    for i, (name, parent) in enumerate(zip(LINK_NAMES, LINK_PARENTS)):
        if parent < 0:
            pos[:, i], rot[:, i] = clip.root_pos_m, local[name]
            continue
        pos[:, i] = pos[:, parent] + rot[:, parent] @ LINK_OFFSETS_M[i]
        rot[:, i] = rot[:, parent] @ local[name] if name in local else rot[:, parent]
    return pos, rot


def sole_height_m(pos: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """(T,) height (y) of the lowest corner of either foot box, m."""
    corners = FOOT_BOX_CENTER_M + 0.5 * FOOT_BOX_SIZE_M * np.array(
        [[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
    lows = []
    for side in ("left", "right"):
        i = LINK_NAMES.index(f"{side}_ankle")
        lows.append((pos[:, i, None, :] + corners @ rot[:, i].transpose(0, 2, 1))[..., 1]
                    .min(axis=1))
    return np.minimum(*lows)


def _smpl_rest_dm(name: str, scale: float) -> np.ndarray:
    """An SMPL mean-shape rest joint in DeepMimic axes (x fwd, y up, z right), scaled."""
    x_left, y_up, z_fwd = mean_shape_rest_joints()[SMPL_JOINT_NAMES.index(name)]
    return scale * np.array([z_fwd, y_up, -x_left])


def _derived_offsets() -> dict[str, tuple[str, np.ndarray]]:
    """Twin joints that humanoid3d has no joint for: name -> (link, offset in that link).

    ``twin.retarget.human_frames`` calibrates pelvis, torso and foot frames on SMPL's rest
    skeleton, so the zero pose here reproduces SMPL's rest directions: pelvis -> spine1
    leans 13.5 deg back, spine1 -> neck 1.2 deg back, ankle -> toe ball 26 deg down and
    15 deg out. Pelvis, spine1 and head take SMPL's offsets (scaled to this skeleton's
    height); the neck keeps humanoid3d's height but moves 2.6 cm back in the chest frame
    (humanoid3d's neck stands straight above its root, SMPL's 3.5 cm behind its pelvis):
    left where it is, a standing zero pose would lean the G1's torso 5.6 deg forward.
    """
    k = STANDING_HEIGHT_M / MEAN_SHAPE_HEIGHT_M
    hips = 0.5 * (_smpl_rest_dm("left_hip", k) + _smpl_rest_dm("right_hip", k))
    pelvis, spine1, neck = (_smpl_rest_dm(n, k) - hips for n in ("pelvis", "spine1", "neck"))
    midline = np.array([1.0, 1.0, 0.0])
    chest_dm = REST_LINK_POS_M[LINK_NAMES.index("chest")]
    neck_up = REST_LINK_POS_M[LINK_NAMES.index("neck"), 1]
    d_chest = neck - spine1
    neck_dm = spine1 + d_chest * (neck_up - spine1[1]) / d_chest[1]
    out = {"pelvis": ("root", pelvis * midline), "spine1": ("root", spine1 * midline),
           "neck": ("chest", (neck_dm - chest_dm) * midline)}
    for side in ("left", "right"):
        toe = _smpl_rest_dm(f"{side}_foot", k) - _smpl_rest_dm(f"{side}_ankle", k)
        # Same direction as SMPL's, reaching down to SMPL's toe-ball height above the sole.
        drop = ANKLE_ABOVE_SOLE_M - FOOT_HEIGHT_FRACTION * STANDING_HEIGHT_M
        out[f"{side}_foot"] = (f"{side}_ankle", toe * drop / -toe[1])
    head = _smpl_rest_dm("head", k) - _smpl_rest_dm("neck", k)
    out["head"] = ("neck", head * midline)
    return out


DERIVED_OFFSETS_M = _derived_offsets()
# Twin (SMPL) joint name -> humanoid3d link whose origin it is.
LINK_FOR_SMPL: dict[str, str] = {
    "left_hip": "left_hip", "right_hip": "right_hip", "spine2": "chest",
    "left_knee": "left_knee", "right_knee": "right_knee", "left_ankle": "left_ankle",
    "right_ankle": "right_ankle", "left_shoulder": "left_shoulder",
    "right_shoulder": "right_shoulder", "left_elbow": "left_elbow",
    "right_elbow": "right_elbow", "left_wrist": "left_wrist", "right_wrist": "right_wrist",
}


# Height of the pelvis joint (a ``DERIVED_OFFSETS_M`` point of the root link) above the
# soles at the zero pose: 0.970 m. SMPL proportions estimate 1.010 m for this skeleton,
# a retargeted G1 then walks crouched (mean knee flexion 0.76 / 0.85 rad on the walk).
STANDING_PELVIS_HEIGHT_M = float(
    DERIVED_OFFSETS_M["pelvis"][1][1] - REST_LINK_POS_M[LINK_NAMES.index("left_ankle"), 1]
    + ANKLE_ABOVE_SOLE_M)
# What this skeleton fixes exactly, under the ``HumanMotion.source`` keys that
# ``twin.retarget.targets`` prefers over its SMPL-proportion estimates (m).
SKELETON_PROPORTIONS_M: dict[str, float] = {
    "standing_pelvis_height_m": STANDING_PELVIS_HEIGHT_M, "ankle_height_m": ANKLE_ABOVE_SOLE_M}


def smpl_joints(pos: np.ndarray, rot: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """SMPL-named joints (in SMPL order) from humanoid3d link frames: (names, (T, J, 3)).

    The chest joint (0.24 m above the hips; SMPL's spine1 and spine2 sit 0.19 and 0.32 m
    above at this height) is ``spine2``; pelvis, spine1, neck, toe balls (``*_foot``) and
    head are ``DERIVED_OFFSETS_M`` in their links; there are no collars.
    """
    named = {s: pos[:, LINK_NAMES.index(link)] for s, link in LINK_FOR_SMPL.items()}
    for s, (link, off) in DERIVED_OFFSETS_M.items():
        i = LINK_NAMES.index(link)
        named[s] = pos[:, i] + rot[:, i] @ off
    names = tuple(n for n in SMPL_JOINT_NAMES if n in named)
    return names, np.stack([named[n] for n in names], axis=1)
