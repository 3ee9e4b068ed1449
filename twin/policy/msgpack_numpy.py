"""msgpack with numpy arrays, wire-compatible with openpi-client's ``msgpack_numpy``.

An ndarray travels as a map {b"__ndarray__": True, b"data": raw bytes, b"dtype": dtype.str,
b"shape": shape}; a numpy scalar as {b"__npgeneric__": True, b"data": item, b"dtype": ...}.

The decoder reads bytes from the network, so it trusts nothing: only bool, integer and
floating dtypes (no object, void, string or complex: an object array built from raw bytes
would dereference attacker-chosen pointers), a shape of at most ``MAX_NDIM`` non-negative
integers whose product times the item size equals the byte length, and a message of at
most ``max_bytes`` (msgpack's own C stack refuses nesting deeper than 1024). Anything else raises
``ProtocolError``. The encoder refuses the same dtypes, so what it writes it can read.
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np

from twin.errors import TwinError

ALLOWED_KINDS = frozenset("biuf")  # bool, signed, unsigned, floating
MAX_NDIM = 32
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # room for a batch of camera images or a video chunk


class ProtocolError(TwinError, ValueError):
    """A message that is not a valid twin/openpi msgpack-numpy message."""


def _check_dtype(raw: Any) -> np.dtype:
    if not isinstance(raw, (str, bytes)) or len(raw) > 16:
        raise ProtocolError(f"array dtype {raw!r:.40}: expected a numpy dtype string like '<f4'")
    try:
        dt = np.dtype(raw.decode("ascii") if isinstance(raw, bytes) else raw)
    except (TypeError, ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"array dtype {raw!r}: not a numpy dtype ({exc})") from None
    if dt.kind not in ALLOWED_KINDS or dt.fields is not None or dt.subdtype is not None:
        raise ProtocolError(f"array dtype {dt.str!r}: only bool, integer and float arrays are "
                            "accepted")
    return dt


def _pack_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in ALLOWED_KINDS:
            raise TypeError(f"cannot serialise a numpy array of dtype {obj.dtype} (bool, "
                            "integer and float arrays only)")
        return {b"__ndarray__": True, b"data": np.ascontiguousarray(obj).tobytes(),
                b"dtype": obj.dtype.str, b"shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        if isinstance(obj, (np.str_, np.bytes_)):
            return obj.item()
        if obj.dtype.kind not in ALLOWED_KINDS:
            raise TypeError(f"cannot serialise a numpy scalar of dtype {obj.dtype}")
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def _decode_array(obj: dict) -> np.ndarray:
    data, shape = obj.get(b"data"), obj.get(b"shape")
    dt = _check_dtype(obj.get(b"dtype"))
    if not isinstance(data, bytes):
        raise ProtocolError(f"array data: expected bytes, got {type(data).__name__}")
    if (not isinstance(shape, (list, tuple)) or len(shape) > MAX_NDIM
            or not all(type(s) is int and s >= 0 for s in shape)):
        raise ProtocolError(f"array shape {shape!r:.80}: expected at most {MAX_NDIM} "
                            "non-negative integers")
    n = 1
    for s in shape:
        n *= s
    if n * dt.itemsize != len(data):
        raise ProtocolError(f"array of shape {tuple(shape)} and dtype {dt.str} needs "
                            f"{n * dt.itemsize} bytes, got {len(data)}")
    return np.frombuffer(data, dtype=dt).reshape(shape).copy()


def _decode_scalar(obj: dict) -> np.generic:
    dt = _check_dtype(obj.get(b"dtype"))
    data = obj.get(b"data")
    if type(data) not in (bool, int, float):
        raise ProtocolError(f"numpy scalar data: expected a number, got {type(data).__name__}")
    try:
        return dt.type(data)
    except (OverflowError, ValueError) as exc:
        raise ProtocolError(f"numpy scalar {data!r} does not fit dtype {dt.str}: {exc}"
                            ) from None


def _unpack_hook(obj: dict) -> Any:
    if b"__ndarray__" in obj:
        return _decode_array(obj)
    if b"__npgeneric__" in obj:
        return _decode_scalar(obj)
    return obj


def packb(obj: Any) -> bytes:
    return msgpack.packb(obj, default=_pack_default, use_bin_type=True)


def unpackb(data: bytes, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Any:
    """Decode one message; ``ProtocolError`` for anything that is not a valid message."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProtocolError(f"expected a binary msgpack message, got {type(data).__name__}")
    if max_bytes is not None and len(data) > max_bytes:
        raise ProtocolError(f"message of {len(data)} bytes exceeds the limit of {max_bytes}")
    try:
        return msgpack.unpackb(data, object_hook=_unpack_hook, raw=False,
                               strict_map_key=False)
    except ProtocolError:
        raise
    except msgpack.StackError:
        raise ProtocolError("msgpack message nested too deep") from None
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as exc:
        raise ProtocolError(f"undecodable msgpack message: {type(exc).__name__}: {exc}"
                            ) from None


class Packer:
    """openpi-style ``Packer().pack(obj)``."""

    def pack(self, obj: Any) -> bytes:
        return packb(obj)
