"""Feature declarations for recorded datasets: what a frame holds, checked before it is kept.

This module owns ``FeatureSpec`` (dtype, shape and axis names of one per-frame feature), the
five index features every LeRobot v3.0 dataset carries, the check that turns one frame value
into a well-typed numpy array (one clear line naming the feature when it does not fit), and
the mapping from a spec to its parquet (Arrow) column type. Video features hold uint8 RGB
frames (H, W, 3) and go to mp4 files; every other feature is a parquet column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

VIDEO_DTYPE = "video"

# dtypes that map one-to-one onto Arrow and onto Hugging Face `datasets.Value` (which
# LeRobot uses to read the parquet files back).
NUMERIC_DTYPES = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
)

VIDEO_AXIS_NAMES = ("height", "width", "channels")


class FeatureError(ValueError):
    """A declared feature or a frame value does not fit the declaration."""


@dataclass(frozen=True)
class FeatureSpec:
    """One per-frame feature, as it appears under ``features`` in ``meta/info.json``.

    Attributes:
        dtype: a numpy dtype name from ``NUMERIC_DTYPES``, or ``"video"`` for uint8 RGB
            frames stored in mp4 files.
        shape: per-frame shape. Scalars are ``(1,)`` (LeRobot's convention); videos are
            ``(height, width, 3)`` in pixels.
        names: axis or element names. For 1-D features, one name per element (e.g. joint
            names in model order); for videos ``("height", "width", "channels")``.
    """

    dtype: str
    shape: tuple[int, ...]
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.shape)
        object.__setattr__(self, "shape", shape)
        if self.names is not None:
            object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        if self.dtype != VIDEO_DTYPE and self.dtype not in NUMERIC_DTYPES:
            raise FeatureError(
                f"dtype {self.dtype!r}: expected 'video' or one of {', '.join(NUMERIC_DTYPES)}"
            )
        if not shape or any(s <= 0 for s in shape):
            raise FeatureError(f"shape {shape}: expected a non-empty tuple of positive sizes")
        if self.dtype == VIDEO_DTYPE:
            if len(shape) != 3 or shape[2] != 3:
                raise FeatureError(f"video shape {shape}: expected (height, width, 3) RGB")
            if shape[0] % 2 or shape[1] % 2:
                # yuv420p subsamples chroma 2x2; odd sizes cannot be encoded losslessly in
                # geometry and most encoders refuse them.
                raise FeatureError(f"video shape {shape}: height and width must be even")
            if self.names is None:
                object.__setattr__(self, "names", VIDEO_AXIS_NAMES)
        elif self.names is not None and len(shape) == 1 and len(self.names) != shape[0]:
            raise FeatureError(
                f"names has {len(self.names)} entries for shape {shape}: expected {shape[0]}"
            )

    @property
    def is_video(self) -> bool:
        return self.dtype == VIDEO_DTYPE

    @property
    def is_scalar(self) -> bool:
        return self.shape == (1,)

    def to_info(self) -> dict[str, Any]:
        """The JSON form used in ``meta/info.json`` (without the video ``info`` block)."""
        return {
            "dtype": self.dtype,
            "shape": list(self.shape),
            "names": list(self.names) if self.names is not None else None,
        }

    @classmethod
    def from_info(cls, entry: Mapping[str, Any]) -> FeatureSpec:
        names = entry.get("names")
        if isinstance(names, Mapping):
            # LeRobot allows {"motors": [...]}: keep the element names, drop the group name.
            names = [n for group in names.values() for n in group]
        return cls(dtype=entry["dtype"], shape=tuple(entry["shape"]), names=names)


def video_feature(height: int, width: int) -> FeatureSpec:
    """An RGB camera stream of ``height`` x ``width`` pixels."""
    return FeatureSpec(VIDEO_DTYPE, (height, width, 3))


# Present in every LeRobot dataset; the writer fills them, frames must not carry them.
INDEX_FEATURES: dict[str, FeatureSpec] = {
    "timestamp": FeatureSpec("float32", (1,)),
    "frame_index": FeatureSpec("int64", (1,)),
    "episode_index": FeatureSpec("int64", (1,)),
    "index": FeatureSpec("int64", (1,)),
    "task_index": FeatureSpec("int64", (1,)),
}


def check_declared_features(features: Mapping[str, FeatureSpec]) -> dict[str, FeatureSpec]:
    """Validate user-declared features; return them followed by the index features."""
    if not features:
        raise FeatureError("features: expected at least one declared feature, got none")
    out: dict[str, FeatureSpec] = {}
    for name, spec in features.items():
        if not isinstance(spec, FeatureSpec):
            raise FeatureError(f"features[{name!r}]: expected a FeatureSpec, got {type(spec)}")
        if "/" in name:
            # LeRobot flattens per-episode stats as "stats/<feature>/<stat>".
            raise FeatureError(f"features[{name!r}]: names must not contain '/'")
        if name in INDEX_FEATURES:
            raise FeatureError(
                f"features[{name!r}]: this index feature is filled by the writer; do not declare it"
            )
        out[name] = spec
    out.update(INDEX_FEATURES)
    return out


def check_frame_value(name: str, spec: FeatureSpec, value: Any) -> np.ndarray:
    """Return ``value`` as an array of ``spec.shape`` and ``spec.dtype``, or raise FeatureError.

    Numbers are cast only within their kind (float64 -> float32 is fine, float -> int is
    not); video frames must already be uint8 (H, W, 3), since a float image in [0, 1]
    cast to uint8 would silently turn black.
    """
    arr = np.asarray(value)
    if spec.is_video:
        if arr.dtype != np.uint8 or arr.shape != spec.shape:
            raise FeatureError(
                f"frame[{name!r}]: expected uint8 image of shape {spec.shape}, "
                f"got {arr.dtype} of shape {arr.shape}"
            )
        return arr
    expected_shape = spec.shape
    if spec.is_scalar and arr.shape == ():
        arr = arr.reshape(1)
    if arr.shape != expected_shape:
        raise FeatureError(
            f"frame[{name!r}]: expected shape {expected_shape} {spec.dtype}, got shape {arr.shape}"
        )
    target = np.dtype(spec.dtype)
    if target == np.bool_:
        if arr.dtype != np.bool_:
            raise FeatureError(f"frame[{name!r}]: expected bool, got {arr.dtype}")
    elif arr.dtype == np.bool_ or not np.can_cast(arr.dtype, target, casting="same_kind"):
        raise FeatureError(f"frame[{name!r}]: expected {spec.dtype}, got {arr.dtype}")
    out = arr.astype(target, copy=True)
    if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        # Stats (and every consumer's normalisation) break on NaN; say so here, not later.
        raise FeatureError(
            f"frame[{name!r}]: contains NaN or inf; record a visibility/valid flag instead"
        )
    return out


def arrow_type(spec: FeatureSpec) -> pa.DataType:
    """The parquet column type that Hugging Face `datasets` reads as this feature.

    Scalars are plain columns (``datasets.Value``), 1-D features fixed-size lists
    (``Sequence(length=n)``), N-D features nested lists (the storage of ``ArrayND``).
    """
    if spec.is_video:
        raise FeatureError("video features have no parquet column")
    base = pa.from_numpy_dtype(np.dtype(spec.dtype))
    if spec.is_scalar:
        return base
    if len(spec.shape) == 1:
        return pa.list_(base, spec.shape[0])
    t = base
    for _ in spec.shape:
        t = pa.list_(t)
    return t


def to_arrow_column(spec: FeatureSpec, values: np.ndarray) -> pa.Array:
    """Turn stacked per-frame values (T, *shape) into the column of ``arrow_type(spec)``."""
    values = np.ascontiguousarray(values, dtype=np.dtype(spec.dtype))
    n = values.shape[0]
    if spec.is_scalar:
        return pa.array(values.reshape(n))
    flat = pa.array(values.reshape(-1))
    if len(spec.shape) == 1:
        return pa.FixedSizeListArray.from_arrays(flat, spec.shape[0])
    # Innermost axis first: each level groups the level below into lists of its size.
    arr: pa.Array = flat
    count = values.size
    for size in reversed(spec.shape):
        count //= size
        offsets = pa.array(np.arange(0, (count + 1) * size, size, dtype=np.int32))
        arr = pa.ListArray.from_arrays(offsets, arr)
    return arr


def from_arrow_column(spec: FeatureSpec, column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Inverse of ``to_arrow_column``: (T, *shape) numpy array (T,) for scalars."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    arr = column
    for _ in range(0 if spec.is_scalar else len(spec.shape)):
        arr = arr.flatten()
    values = arr.to_numpy(zero_copy_only=False).astype(np.dtype(spec.dtype), copy=False)
    return values.reshape(n) if spec.is_scalar else values.reshape(n, *spec.shape)
