"""The SMPL kinematic tree, body-model files and forward kinematics in numpy.

Owns: the 24-joint SMPL tree (the 22 body joints that SMPL-H and SMPL-X share are its first
22), ``BodyModel`` (rest joints ``J(beta) = J_regressor (v_template + shapedirs beta)``
read from SMPL ``.pkl``/``.npz`` or SMPL-X ``.npz`` files, legacy chumpy pickles included,
through ``safe_pickle``), and ``forward_kinematics``.

Without a body-model file the built-in ``mean_shape_rest_joints`` is used: the SMPL neutral
template's rest joints (public J_regressor @ v_template values, rounded to mm) scaled to the
subject's height. It is approximate: shape-dependent proportions (beta) are ignored, and
SMPL-X's neutral skeleton differs from SMPL's by ~1-2 cm at the hips and spine.

Coordinates here are SMPL's canonical frame (y up, subject facing +z, x to the subject's
left), metres; axis-angle in radians.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.rotations import axis_angle_to_matrix
from twin.motion.safe_pickle import safe_load_pickle

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)
SMPL_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)
# SMPL, SMPL-H and SMPL-X share these 22 body joints (same order, same parents).
SMPL_BODY_JOINT_NAMES: tuple[str, ...] = SMPL_JOINT_NAMES[:22]
SMPL_BODY_PARENTS: tuple[int, ...] = SMPL_PARENTS[:22]
NUM_BODY_JOINTS = 22

# SMPL neutral template rest joints (J_regressor @ v_template), canonical frame, metres.
_NEUTRAL_REST_JOINTS = np.array([
    [-0.0018, -0.2233, 0.0282], [0.0695, -0.3185, 0.0242], [-0.0677, -0.3133, 0.0231],
    [-0.0025, -0.1146, 0.0020], [0.1040, -0.7034, 0.0163], [-0.1055, -0.7003, 0.0116],
    [0.0057, 0.0168, 0.0264], [0.0875, -1.1280, -0.0266], [-0.0847, -1.1331, -0.0260],
    [0.0014, 0.0633, 0.0300], [0.1198, -1.1893, 0.0969], [-0.1190, -1.1936, 0.1019],
    [-0.0146, 0.2819, -0.0064], [0.0732, 0.1924, -0.0061], [-0.0802, 0.1910, -0.0094],
    [0.0089, 0.3543, 0.0393], [0.1720, 0.2411, -0.0164], [-0.1742, 0.2413, -0.0193],
    [0.4329, 0.2262, -0.0406], [-0.4353, 0.2249, -0.0427], [0.6990, 0.2361, -0.0452],
    [-0.7010, 0.2355, -0.0459], [0.7820, 0.2270, -0.0606], [-0.7851, 0.2265, -0.0621],
])
# Extent of the neutral template mesh along y (sole to crown), metres.
_NEUTRAL_SOLE_Y = -1.2065
_NEUTRAL_CROWN_Y = 0.4935
MEAN_SHAPE_HEIGHT_M = _NEUTRAL_CROWN_Y - _NEUTRAL_SOLE_Y
# Heights of the ankle and foot (toe-ball) joints above the sole, template metres.
ANKLE_HEIGHT_FRACTION = (_NEUTRAL_REST_JOINTS[7, 1] - _NEUTRAL_SOLE_Y) / MEAN_SHAPE_HEIGHT_M
FOOT_HEIGHT_FRACTION = (_NEUTRAL_REST_JOINTS[10, 1] - _NEUTRAL_SOLE_Y) / MEAN_SHAPE_HEIGHT_M


def mean_shape_rest_joints(height_m: float = MEAN_SHAPE_HEIGHT_M) -> np.ndarray:
    """(24, 3) rest joints of the built-in neutral skeleton scaled to ``height_m`` (approximate)."""
    if not np.isfinite(height_m) or height_m <= 0.5 or height_m > 2.6:
        raise ValueError(f"subject height {height_m!r} m: expected a value in (0.5, 2.6]")
    return _NEUTRAL_REST_JOINTS * (height_m / MEAN_SHAPE_HEIGHT_M)


@dataclass(frozen=True)
class BodyModel:
    """Shape part of an SMPL-family body model: enough to compute rest joints exactly.

    ``v_template`` (V, 3) and ``shapedirs`` (V, 3, S) in metres, canonical frame;
    ``J_regressor`` (J, V) dense; ``parents`` (J,), root -1; ``kind`` is "smpl", "smplh"
    or "smplx" (by joint count).
    """

    path: str
    kind: str
    v_template: np.ndarray
    shapedirs: np.ndarray
    J_regressor: np.ndarray
    parents: tuple[int, ...]

    def shaped_vertices(self, betas: np.ndarray | None) -> np.ndarray:
        v = self.v_template
        if betas is None:
            return v
        b = np.asarray(betas, dtype=np.float64).reshape(-1)
        n = min(b.shape[0], self.shapedirs.shape[2])
        return v + self.shapedirs[:, :, :n] @ b[:n]

    def rest_joints(self, betas: np.ndarray | None = None) -> np.ndarray:
        """(J, 3) rest joints J(beta) = J_regressor (v_template + shapedirs beta)."""
        return self.J_regressor @ self.shaped_vertices(betas)

    def height_m(self, betas: np.ndarray | None = None) -> float:
        """Sole-to-crown extent of the shaped mesh along the canonical y axis."""
        y = self.shaped_vertices(betas)[:, 1]
        return float(y.max() - y.min())


def load_body_model(path: str | Path) -> BodyModel:
    """Read an SMPL ``.pkl``/``.npz`` or SMPL-X ``.npz`` model (never executes pickles)."""
    path = Path(path)
    if not path.is_file():
        raise MotionFormatError(path, None, "body-model file does not exist")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        if not zipfile.is_zipfile(path):
            raise MotionFormatError(path, None, "not a readable .npz archive")
        from twin.motion.limits import check_npz_budget

        check_npz_budget(path)  # before decompressing anything
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    elif head[:1] == b"\x80" or head[:1] in (b"(", b"}", b"]"):
        data = safe_load_pickle(path)
        if not isinstance(data, dict):
            raise MotionFormatError(path, None, f"pickle holds a {type(data).__name__}; "
                                    "expected a dict of body-model arrays")
    else:
        raise MotionFormatError(path, None, "content is neither a .npz archive nor a pickle; "
                                "expected an SMPL/SMPL-X body-model file")

    def get(key: str, ndim: int) -> np.ndarray:
        if key not in data:
            raise MotionFormatError(path, key, f"missing; body-model files need {key!r}")
        arr = np.asarray(data[key], dtype=np.float64)
        if arr.ndim != ndim:
            raise MotionFormatError(path, key, f"has shape {arr.shape}; expected {ndim} dims")
        return arr

    v = get("v_template", 2)
    sd = get("shapedirs", 3)
    jr = get("J_regressor", 2)
    if v.shape[1] != 3 or sd.shape[:2] != v.shape or jr.shape[1] != v.shape[0]:
        raise MotionFormatError(path, "shapedirs", f"shapes v_template {v.shape}, shapedirs "
                                f"{sd.shape}, J_regressor {jr.shape} do not agree; expected "
                                "(V,3), (V,3,S), (J,V)")
    if "kintree_table" in data:
        kt = np.asarray(data["kintree_table"]).astype(np.int64)
        parents = tuple(int(p) if i else -1 for i, p in enumerate(kt[0]))
    else:
        parents = SMPL_PARENTS
    nj = jr.shape[0]
    if nj < NUM_BODY_JOINTS or tuple(parents[:NUM_BODY_JOINTS]) != SMPL_BODY_PARENTS:
        raise MotionFormatError(path, "kintree_table", f"{nj} joints with parents "
                                f"{parents[:NUM_BODY_JOINTS]}; expected the SMPL body tree")
    kind = {24: "smpl", 52: "smplh", 55: "smplx"}.get(nj, "smpl")
    return BodyModel(str(path), kind, v, sd, jr, tuple(parents))


def forward_kinematics(
    rest_joints: np.ndarray,
    parents: tuple[int, ...],
    root_orient_aa: np.ndarray,
    local_pose_aa: np.ndarray,
    transl: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """SMPL forward kinematics of the first ``1 + local_pose_aa.shape[1]`` joints.

    Args:
        rest_joints: (J, 3) or (T, J, 3) rest joints J(beta), canonical frame, m.
        parents: parent index per joint (root -1).
        root_orient_aa: (T, 3) global orientation, axis-angle, rad.
        local_pose_aa: (T, K, 3) joint rotations of joints 1..K relative to their parent.
        transl: (T, 3) translation, m. The root rotates about J0, so the pelvis lands at
            ``J0(beta) + transl``, not at ``transl``.

    Returns:
        positions (T, K+1, 3) and global rotation matrices (T, K+1, 3, 3) in the input's
        world frame.
    """
    T, K = local_pose_aa.shape[0], local_pose_aa.shape[1]
    n = K + 1
    rest = np.asarray(rest_joints, dtype=np.float64)
    rest = np.broadcast_to(rest if rest.ndim == 3 else rest[None], (T,) + rest.shape[-2:])
    rot_local = axis_angle_to_matrix(
        np.concatenate([root_orient_aa[:, None], local_pose_aa], axis=1))
    rot_g = np.empty((T, n, 3, 3))
    pos = np.empty((T, n, 3))
    rot_g[:, 0] = rot_local[:, 0]
    pos[:, 0] = rest[:, 0] + transl
    for j in range(1, n):
        p = parents[j]
        rot_g[:, j] = rot_g[:, p] @ rot_local[:, j]
        offset = rest[:, j] - rest[:, p]
        pos[:, j] = pos[:, p] + np.einsum("tij,tj->ti", rot_g[:, p], offset)
    return pos, rot_g
