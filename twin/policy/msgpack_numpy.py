"""msgpack with numpy arrays, wire-compatible with openpi-client's ``msgpack_numpy``.

An ndarray travels as a map {b"__ndarray__": True, b"data": raw bytes, b"dtype": dtype.str,
b"shape": shape}; a numpy scalar as {b"__npgeneric__": True, b"data": item, b"dtype": ...}.
Object, void and complex arrays are refused (they have no portable byte layout).
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np


def _pack_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in ("V", "O", "c"):
            raise TypeError(f"cannot serialise a numpy array of dtype {obj.dtype}")
        return {b"__ndarray__": True, b"data": np.ascontiguousarray(obj).tobytes(),
                b"dtype": obj.dtype.str, b"shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def _unpack_hook(obj: dict) -> Any:
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]),
                          shape=tuple(obj[b"shape"])).copy()
    if b"__npgeneric__" in obj:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def packb(obj: Any) -> bytes:
    return msgpack.packb(obj, default=_pack_default, use_bin_type=True)


def unpackb(data: bytes) -> Any:
    return msgpack.unpackb(data, object_hook=_unpack_hook, raw=False, strict_map_key=False)


class Packer:
    """openpi-style ``Packer().pack(obj)``."""

    def pack(self, obj: Any) -> bytes:
        return packb(obj)
