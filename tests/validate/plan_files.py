"""Files that once broke `twin validate` / `twin retarget`, generated for the tests.

``write_torch_zip`` writes a torch zip checkpoint (``torch.save`` layout) from numpy arrays
without torch, opcode by opcode, so that tests can also craft hostile ones.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from twin.retarget.kinematics import robot_motion_from_qpos
from twin.robots import get

_STORAGE = {np.dtype("float32"): "FloatStorage", np.dtype("float64"): "DoubleStorage",
            np.dtype("int64"): "LongStorage"}


def _str(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _int(v: int) -> bytes:
    return b"J" + struct.pack("<i", v)


def _emit(obj, storages: list[np.ndarray], extra_global: bytes | None) -> bytes:
    if isinstance(obj, dict):
        out = b"}"
        for k, v in obj.items():
            out += _str(k) + _emit(v, storages, extra_global) + b"s"
        return out
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        key = str(len(storages))
        storages.append(arr)
        size = b"(" + b"".join(_int(s) for s in arr.shape) + b"t"
        stride, acc = [], 1
        for s in reversed(arr.shape):
            stride.insert(0, acc)
            acc *= s
        strides = b"(" + b"".join(_int(s) for s in stride) + b"t"
        pid = (b"(" + _str("storage") + f"ctorch\n{_STORAGE[arr.dtype]}\n".encode() + _str(key)
               + _str("cpu") + _int(arr.size) + b"tQ")
        return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + _int(0) + size + strides
                + b"\x89ccollections\nOrderedDict\n)Rt" + b"R")
    if obj == "EXTRA" and extra_global is not None:
        return extra_global
    if isinstance(obj, str):
        return _str(obj)
    if isinstance(obj, int):
        return _int(obj)
    raise TypeError(type(obj))


def write_torch_zip(obj: dict, path: Path, extra_global: bytes | None = None) -> Path:
    """``obj``: nested dicts of numpy arrays / str / int; the string "EXTRA" is replaced by
    the raw pickle opcodes ``extra_global`` (to plant a class reference)."""
    storages: list[np.ndarray] = []
    pkl = b"\x80\x02" + _emit(obj, storages, extra_global) + b"."
    name = path.stem
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{name}/data.pkl", pkl)
        zf.writestr(f"{name}/byteorder", "little")
        zf.writestr(f"{name}/version", "3\n")
        for k, arr in enumerate(storages):
            zf.writestr(f"{name}/data/{k}", arr.tobytes())
    return path


def gvhmr_dict(T: int = 45, teleport_m: float = 0.0, seed: int = 0) -> dict:
    """A GVHMR ``hmr4d_results.pt`` layout (y-up, no frame rate): a subject walking forward
    with swinging legs; ``teleport_m`` jumps it sideways half-way."""
    rng = np.random.default_rng(seed)
    t = np.arange(T) / 30.0
    body = np.zeros((T, 21, 3))
    body[:, 0, 0] = -0.3 * np.sin(2 * np.pi * 0.8 * t)  # hips swing
    body[:, 1, 0] = 0.3 * np.sin(2 * np.pi * 0.8 * t)
    transl = np.stack([0.0 * t, 0.0 * t, 0.5 * t], axis=1)  # forward along +z (y-up world)
    transl[T // 2:, 0] += teleport_m
    g = {"global_orient": np.zeros((T, 3), np.float32),
         "body_pose": body.reshape(T, 63).astype(np.float32),
         "betas": np.tile(rng.normal(0, 0.3, 10), (T, 1)).astype(np.float32),
         "transl": transl.astype(np.float32)}
    return {"smpl_params_global": g}


def standing_motion(T: int = 30, root_z: float = 0.755, quat=(1.0, 0, 0, 0), robot: str = "g1",
                    joint_vel: float | None = None, fps: float = 50.0):
    """A G1 standing plan; the keyword arguments make it implausible in one way each."""
    q = np.tile(get("g1").default_joint_pos_array(), (T, 1))
    m = robot_motion_from_qpos("g1", np.tile([0, 0, root_z], (T, 1)),
                               np.tile([1.0, 0, 0, 0], (T, 1)), q, 50.0)
    m = replace(m, fps=fps)
    m = replace(m, root_quat_wxyz=np.tile(np.asarray(quat, float), (T, 1)), robot=robot)
    if joint_vel is not None:
        m = replace(m, joint_vel=np.full_like(m.joint_vel, joint_vel))
    return m
