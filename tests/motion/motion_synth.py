"""Synthetic SMPL motions, body models and files in every reader's format, for tests.

Everything is generated in code: a motion with known joint angles (a knee and an elbow
flexing by known sinusoids, a yawing root, a translating body), written as GVHMR / GEM
``.pt``, WHAM ``.pkl``, AMASS SMPL+H / SMPL-X ``.npz``, joint-position ``.npz``/``.npy``
and an ExoActor-style bundle; plus small synthetic body-model files (npz, pickle with a
scipy sparse regressor, and a legacy chumpy pickle written without chumpy).
"""

from __future__ import annotations

import json
import pickle
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.motion.rotations import (
    R_ZUP_FROM_YUP,
    axis_angle_to_matrix,
    matrix_to_quat,
    quat_to_rotvec,
)
from twin.motion.smpl import SMPL_PARENTS, forward_kinematics, mean_shape_rest_joints

FPS = 30.0
LEFT_KNEE_BODY_POSE_INDEX = 4 - 1  # joint 4 (left_knee); body_pose starts at joint 1
RIGHT_ELBOW_BODY_POSE_INDEX = 19 - 1


@dataclass
class SynthMotion:
    """SMPL parameters in a y-up world (as GVHMR/WHAM store them) plus the known angles."""

    root_orient: np.ndarray  # (T, 3)
    body_pose: np.ndarray  # (T, 21, 3)
    betas: np.ndarray  # (10,)
    transl: np.ndarray  # (T, 3)
    knee_angle: np.ndarray  # (T,) rad, left knee flexion
    elbow_angle: np.ndarray  # (T,) rad, right elbow flexion
    fps: float = FPS

    @property
    def T(self) -> int:
        return self.transl.shape[0]


def make_motion(T: int = 60, seed: int = 0) -> SynthMotion:
    rng = np.random.default_rng(seed)
    t = np.arange(T) / FPS
    knee = 0.7 + 0.5 * np.sin(2 * np.pi * 0.8 * t)
    elbow = 0.9 + 0.6 * np.sin(2 * np.pi * 0.5 * t + 0.3)
    body = np.zeros((T, 21, 3))
    body[:, LEFT_KNEE_BODY_POSE_INDEX, 0] = knee  # flexion about the x (left) axis
    body[:, RIGHT_ELBOW_BODY_POSE_INDEX, 1] = elbow  # elbow bends about the y axis in T-pose
    body[:, 0, 0] = -0.3 * np.sin(2 * np.pi * 0.8 * t)  # left hip swing
    body[:, 1, 0] = 0.3 * np.sin(2 * np.pi * 0.8 * t)
    root = np.zeros((T, 3))
    root[:, 1] = 0.4 * t  # yaw about the y-up axis
    transl = np.stack([0.5 * t, 0.02 * np.sin(t), 1.0 * t], axis=1)
    return SynthMotion(root, body, rng.normal(0, 0.3, 10), transl, knee, elbow)


def reference_joints_zup(m: SynthMotion, rest: np.ndarray) -> np.ndarray:
    """(T, 22, 3) joints in the z-up world, before floor placement."""
    pos, _ = forward_kinematics(rest[:22], SMPL_PARENTS[:22], m.root_orient, m.body_pose, m.transl)
    return pos @ R_ZUP_FROM_YUP.T


def amass_params(m: SynthMotion, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root orientation and translation of the same motion in a z-up (AMASS) world.

    The root rotates about J0, so the translation is not simply R @ transl: the pelvis must
    stay at R (J0 + transl) = J0 + transl_z.
    """
    R = R_ZUP_FROM_YUP @ axis_angle_to_matrix(m.root_orient)
    root_z = quat_to_rotvec(matrix_to_quat(R))
    transl_z = (m.transl + rest[0]) @ R_ZUP_FROM_YUP.T - rest[0]
    return root_z, transl_z


def write_gvhmr(m: SynthMotion, path: Path, key: str = "smpl_params_global") -> Path:
    import torch

    g = {"global_orient": torch.tensor(m.root_orient, dtype=torch.float32),
         "body_pose": torch.tensor(m.body_pose.reshape(m.T, 63), dtype=torch.float32),
         "betas": torch.tensor(np.tile(m.betas, (m.T, 1)), dtype=torch.float32),
         "transl": torch.tensor(m.transl, dtype=torch.float32)}
    torch.save({key: g, "K_fullimg": torch.eye(3)[None].repeat(m.T, 1, 1)}, path)
    return path


def write_wham(m: SynthMotion, path: Path) -> Path:
    pose = np.concatenate([m.root_orient, m.body_pose.reshape(m.T, 63), np.zeros((m.T, 6))], 1)
    short = {"pose_world": pose[:5], "trans_world": m.transl[:5], "betas": np.zeros((5, 10)),
             "frame_ids": np.arange(5)}
    long = {"pose_world": pose, "trans_world": m.transl, "betas": np.tile(m.betas, (m.T, 1)),
            "frame_ids": np.arange(m.T), "pose": pose, "trans": m.transl}
    with open(path, "wb") as fh:
        pickle.dump({0: short, 1: long}, fh, protocol=4)
    return path


def write_amass_smplh(m: SynthMotion, rest: np.ndarray, path: Path) -> Path:
    root_z, transl_z = amass_params(m, rest)
    poses = np.zeros((m.T, 156))
    poses[:, :3] = root_z
    poses[:, 3:66] = m.body_pose.reshape(m.T, 63)
    np.savez(path, poses=poses, trans=transl_z, betas=np.concatenate([m.betas, np.zeros(6)]),
             mocap_framerate=np.array(m.fps), gender=np.array("neutral"))
    return path


def write_amass_smplx(m: SynthMotion, rest: np.ndarray, path: Path) -> Path:
    root_z, transl_z = amass_params(m, rest)
    np.savez(path, root_orient=root_z, pose_body=m.body_pose.reshape(m.T, 63), trans=transl_z,
             betas=m.betas, mocap_frame_rate=np.array(m.fps), gender=np.array("neutral"))
    return path


def write_joints_npz(m: SynthMotion, rest: np.ndarray, path: Path) -> Path:
    pos, _ = forward_kinematics(rest[:22], SMPL_PARENTS[:22], m.root_orient, m.body_pose, m.transl)
    from twin.motion.smpl import SMPL_BODY_JOINT_NAMES

    np.savez(path, joint_pos=pos, joint_names=np.array(SMPL_BODY_JOINT_NAMES),
             fps=np.array(m.fps), up_axis=np.array("y"))
    return path


def write_bundle(body_file: Path, hand_state: np.ndarray, path: Path, columns: str = "anatomical",
                 facing: str = "front") -> Path:
    np.save(path.with_suffix(".hands.npy"), hand_state)
    path.write_text(json.dumps({
        "schema": "twin.exoactor_bundle", "body": body_file.name,
        "hand_state": path.with_suffix(".hands.npy").name, "hand_state_columns": columns,
        "subject_facing": facing}))
    return path


# ----------------------------------------------------------------------------- body models
@dataclass
class SynthBodyModel:
    v_template: np.ndarray
    shapedirs: np.ndarray
    J_regressor: np.ndarray
    kintree_table: np.ndarray

    def joints(self, betas: np.ndarray) -> np.ndarray:
        return self.J_regressor @ (self.v_template + self.shapedirs @ betas)


def make_body_model(seed: int = 1, verts_per_joint: int = 6) -> SynthBodyModel:
    """A tiny SMPL-like model: vertices scattered around a rest skeleton, a sparse regressor
    averaging each joint's vertices, random shape blend shapes."""
    rng = np.random.default_rng(seed)
    rest = mean_shape_rest_joints(1.75)
    verts, reg = [], np.zeros((24, 24 * verts_per_joint))
    for j in range(24):
        for k in range(verts_per_joint):
            verts.append(rest[j] + rng.normal(0, 0.03, 3))
            reg[j, j * verts_per_joint + k] = rng.uniform(0.5, 1.5)
        reg[j] /= reg[j].sum()
    v = np.array(verts)
    # Crown and sole vertices so the mesh has a height.
    v = np.concatenate([v, [[0.0, rest[15, 1] + 0.14, 0.0], [0.0, rest[7, 1] - 0.08, 0.05]]])
    reg = np.concatenate([reg, np.zeros((24, 2))], axis=1)
    sd = rng.normal(0, 0.01, (v.shape[0], 3, 10))
    kt = np.stack([np.array([4294967295] + list(SMPL_PARENTS[1:])), np.arange(24)]).astype(np.int64)
    return SynthBodyModel(v, sd, reg, kt)


def write_body_model_npz(bm: SynthBodyModel, path: Path) -> Path:
    np.savez(path, v_template=bm.v_template, shapedirs=bm.shapedirs, J_regressor=bm.J_regressor,
             kintree_table=bm.kintree_table, f=np.zeros((1, 3), dtype=np.int32))
    return path


def write_body_model_pkl_sparse(bm: SynthBodyModel, path: Path) -> Path:
    import scipy.sparse

    with open(path, "wb") as fh:
        pickle.dump({"v_template": bm.v_template, "shapedirs": bm.shapedirs,
                     "J_regressor": scipy.sparse.csc_matrix(bm.J_regressor),
                     "kintree_table": bm.kintree_table, "bs_style": "lbs"}, fh, protocol=2)
    return path


def write_body_model_chumpy(bm: SynthBodyModel, path: Path, protocol: int = 2) -> Path:
    """A legacy SMPL-style pickle whose arrays are ``chumpy.ch.Ch`` objects, written by
    registering a throwaway ``chumpy.ch`` module (chumpy itself is never imported)."""
    saved = {k: sys.modules.get(k) for k in ("chumpy", "chumpy.ch")}
    mod = types.ModuleType("chumpy.ch")

    class Ch:  # stands in for chumpy.ch.Ch when pickling
        pass

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    mod.Ch = Ch
    sys.modules["chumpy"] = types.ModuleType("chumpy")
    sys.modules["chumpy.ch"] = mod
    try:
        def ch(arr: np.ndarray) -> Ch:
            obj = Ch()
            obj.__dict__.update({"x": arr, "_dirty_vars": set(), "_itr": None})
            return obj

        import scipy.sparse

        payload = {"v_template": ch(bm.v_template), "shapedirs": ch(bm.shapedirs),
                   "J_regressor": scipy.sparse.csc_matrix(bm.J_regressor),
                   "kintree_table": bm.kintree_table, "weights": ch(np.ones((3, 24)))}
        raw = pickle.dumps(payload, protocol=protocol)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    assert b"chumpy.ch" in raw
    path.write_bytes(raw)
    return path
