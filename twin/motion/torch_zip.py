"""Reading torch ``.pt`` checkpoints without torch: tensors become numpy arrays.

A torch zip checkpoint (``torch.save`` since 1.6) is a zip holding ``<name>/data.pkl`` (a
pickle whose tensors are ``torch._utils._rebuild_tensor_v2`` calls on persistent storage
ids), ``<name>/byteorder`` and one raw file per storage, ``<name>/data/<key>``. This module
unpickles ``data.pkl`` with ``twin.motion.safe_pickle``'s restricted unpickler, extended
only by the tensor rebuild functions and storage classes, and rebuilds each tensor as a
numpy array over the storage bytes (checked offsets and strides). Any other class is
refused by name, as in ``safe_pickle``; storages are charged against the file's allocation
budget before they are read. bfloat16 storages become float32.
"""

from __future__ import annotations

import io
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from twin.motion.errors import MotionFormatError
from twin.motion.limits import AllocBudget, ResourceLimitError
from twin.motion.safe_pickle import _resolve, _RestrictedUnpickler

STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2",
    "BFloat16Storage": "bfloat16", "LongStorage": "<i8", "IntStorage": "<i4",
    "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?",
}


class _StorageType:
    """Stand-in for ``torch.<X>Storage``: only its element type is used."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Tensor:
    """Stand-in for the ``torch.Tensor`` / ``torch.nn.Parameter`` class objects."""


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple, path: str
                    ) -> np.ndarray:
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    offset = int(offset)
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise MotionFormatError(path, None, f"tensor size {size} / stride {stride} are not a "
                                "valid layout")
    if 0 in size:
        return np.zeros(size, dtype=storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or last >= storage.size:
        raise MotionFormatError(path, None, f"tensor of size {size} at offset {offset} reads "
                                f"past its storage of {storage.size} elements")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                           strides=tuple(s * item for s in stride))
    return np.array(view)  # a copy, C-contiguous


class _TorchZipUnpickler(_RestrictedUnpickler):
    def __init__(self, file: io.BufferedIOBase, path: str, budget: AllocBudget,
                 zf: zipfile.ZipFile, prefix: str, byteorder: str) -> None:
        super().__init__(file, path, budget)
        self._zf = zf
        self._prefix = prefix
        self._byteorder = byteorder
        self._storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return self._rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, requires_grad=False, hooks=None: data
        if module == "torch._tensor" and name == "_rebuild_from_type_v2":
            return self._rebuild_from_type_v2
        if (module, name) in (("torch", "Tensor"), ("torch.nn.parameter", "Parameter")):
            return _Tensor
        return super().find_class(module, name)

    def _rebuild_tensor_v2(self, storage: Any, offset: int, size: tuple, stride: tuple,
                           requires_grad: bool = False, hooks: Any = None,
                           metadata: Any = None) -> np.ndarray:
        if not isinstance(storage, np.ndarray):
            raise MotionFormatError(self._path, None, "tensor without a storage; expected a "
                                    "torch zip checkpoint")
        return _rebuild_tensor(storage, offset, size, stride, self._path)

    def _rebuild_from_type_v2(self, func: Any, new_type: Any, args: tuple, state: Any) -> Any:
        if func != self._rebuild_tensor_v2 or new_type is not _Tensor:
            raise MotionFormatError(self._path, None, "tensor subclass rebuild; expected plain "
                                    "tensors")
        return func(*args)

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise MotionFormatError(self._path, None, f"persistent id {str(pid)[:60]}; "
                                    "expected ('storage', type, key, location, numel)")
        _, stype, key, _, numel = pid
        key = str(key)
        if key in self._storages:
            return self._storages[key]
        name = f"{self._prefix}data/{key}"
        try:
            info = self._zf.getinfo(name)
        except KeyError as exc:
            raise MotionFormatError(self._path, name, "missing storage file") from exc
        kind = STORAGE_DTYPES[stype.name]
        dtype = np.dtype("<u2" if kind == "bfloat16" else kind)
        if self._byteorder == "big":
            dtype = dtype.newbyteorder(">")
        self.budget.charge(info.file_size * (2 if kind == "bfloat16" else 1),
                           f"storage {key} ({stype.name})")
        raw = self._zf.read(name)
        count = int(numel)
        if count < 0 or count * dtype.itemsize > len(raw):
            raise MotionFormatError(self._path, name, f"holds {len(raw)} bytes; expected "
                                    f"{count} x {dtype.itemsize}")
        arr = np.frombuffer(raw, dtype=dtype, count=count)
        if kind == "bfloat16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        else:
            arr = arr.astype(dtype.newbyteorder("="))
        self._storages[key] = arr
        return arr


def is_torch_zip(path: str | Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("data.pkl") for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def load_torch_zip(path: str | Path) -> Any:
    """The object of a torch zip checkpoint, tensors as numpy arrays; never runs its code."""
    path = Path(path)
    budget = AllocBudget(path, path.stat().st_size)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise MotionFormatError(path, None, f"not a readable zip ({exc})") from exc
    with zf:
        pkl = [n for n in zf.namelist() if n.endswith("data.pkl")]
        if len(pkl) != 1:
            raise MotionFormatError(path, "data.pkl", f"{len(pkl)} found; expected one torch "
                                    "checkpoint per file")
        prefix = pkl[0][: -len("data.pkl")]
        info = zf.getinfo(pkl[0])
        budget.charge(info.file_size, "data.pkl")
        raw = zf.read(pkl[0])
        byteorder = "little"
        if f"{prefix}byteorder" in zf.namelist():
            byteorder = zf.read(f"{prefix}byteorder")[:16].decode("ascii", "replace").strip()
        up = _TorchZipUnpickler(io.BytesIO(raw), str(path), budget, zf, prefix, byteorder)
        try:
            obj = up.load()
        except MotionFormatError:
            raise
        except (MemoryError, RecursionError) as exc:
            raise ResourceLimitError(path, None, f"data.pkl exhausts "
                                     f"{type(exc).__name__[:-5]}") from exc
        except Exception as exc:
            raise MotionFormatError(path, "data.pkl", f"not a readable pickle ({exc})") from exc
    return _resolve(_plain(obj), str(path), {}, budget)


def _plain(obj: Any) -> Any:
    return dict(obj) if isinstance(obj, OrderedDict) else obj
