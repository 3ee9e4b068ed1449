"""Resource bounds for reading motion files: frame rates, frame counts and bytes.

A motion file is untrusted input. A few bytes can claim a frame rate of 1e-6 (billions of
frames after resampling), a compressed array of gigabytes, or a pickle that allocates from
a number. Every reader checks against these bounds *before* allocating, so that no input
under 1 MB makes twin allocate more than about 1 GB, and each refusal is one line naming
the file, the field and the bound.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from twin.motion.errors import MotionFormatError

FPS_RANGE: tuple[float, float] = (1.0, 1000.0)  # frames/s a motion file may declare
MAX_SOURCE_FRAMES = 200_000  # frames in a file (1.8 h at 30 fps, 3.3 min at 1 kHz)
MAX_FRAMES = 90_000  # frames after resampling (30 min at 50 Hz)
MIN_ALLOC_BUDGET_BYTES = 64 << 20  # any file may decode to this much
ALLOC_BUDGET_PER_FILE_BYTE = 16  # ... plus this many bytes per byte of the file
MAX_ALLOC_BYTES = 1 << 30  # and never more than this


class ResourceLimitError(MotionFormatError):
    """A file asks for more frames, frames per second or memory than twin allows."""


def alloc_budget_bytes(file_bytes: int) -> int:
    """Bytes that decoding a file of ``file_bytes`` may allocate for its arrays."""
    return int(min(MAX_ALLOC_BYTES, MIN_ALLOC_BUDGET_BYTES + ALLOC_BUDGET_PER_FILE_BYTE
                   * max(0, int(file_bytes))))


class AllocBudget:
    """Running total of the bytes one file's decoding has allocated."""

    def __init__(self, path: str | Path, file_bytes: int) -> None:
        self.path = str(path)
        self.limit = alloc_budget_bytes(file_bytes)
        self.used = 0

    def charge(self, nbytes: int, what: str) -> None:
        nbytes = int(nbytes)
        if nbytes < 0 or self.used + nbytes > self.limit:
            raise ResourceLimitError(
                self.path, None, f"{what} needs {_mb(nbytes)} (already {_mb(self.used)}); "
                f"expected at most {_mb(self.limit)} for a file of this size")
        self.used += nbytes


def array_nbytes(shape: tuple, dtype: np.dtype) -> int:
    """Bytes of an array of ``shape`` and ``dtype`` (Python ints: no overflow)."""
    n = 1
    for s in shape:
        s = int(s)
        if s < 0:
            return -1
        n *= s
    return n * int(np.dtype(dtype).itemsize)


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n} bytes"


def check_fps(path: str | Path | None, fps: float, key: str = "fps") -> float:
    """``fps`` as a float inside ``FPS_RANGE``, or a one-line error."""
    try:
        value = float(fps)
    except (TypeError, ValueError) as exc:
        raise MotionFormatError(path, key, f"is {fps!r}; expected frames/s as a number") from exc
    lo, hi = FPS_RANGE
    if not np.isfinite(value) or not lo <= value <= hi:
        raise ResourceLimitError(path, key, f"is {value:g} frames/s; expected a positive number from {lo:g} to "
                                 f"{hi:g} (pass fps=N if the file's value is wrong)")
    return value


def check_source_frames(path: str | Path | None, frames: int, key: str = "frames") -> None:
    if frames > MAX_SOURCE_FRAMES:
        raise ResourceLimitError(path, key, f"has {frames} frames; expected at most "
                                 f"{MAX_SOURCE_FRAMES}")


def resampled_frames(path: str | Path | None, frames: int, fps: float, target_fps: float) -> int:
    """Frame count after resampling ``frames`` at ``fps`` to ``target_fps``, checked against
    ``MAX_FRAMES`` before anything is allocated."""
    duration = (frames - 1) / fps
    n = int(np.floor(duration * target_fps + 1e-9)) + 1
    if n > MAX_FRAMES:
        raise ResourceLimitError(path, "fps", f"{frames} frames at {fps:g} frames/s last "
                                 f"{duration:.0f} s = {n} frames at {target_fps:g} Hz; expected "
                                 f"at most {MAX_FRAMES} ({MAX_FRAMES / target_fps:.0f} s)")
    return n


def check_npz_budget(path: str | Path) -> None:
    """Refuse an ``.npz`` whose arrays decompress to more than the file's budget.

    Reads only each member's ``.npy`` header (shape and dtype), never the data."""
    path = Path(path)
    budget = AllocBudget(path, path.stat().st_size)
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                with zf.open(info) as fh:
                    try:
                        version = np.lib.format.read_magic(fh)
                        if version == (1, 0):
                            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                        else:
                            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                    except ValueError:
                        continue  # not an array: np.load reports it
                nbytes = max(array_nbytes(shape, dtype), info.file_size if dtype.hasobject
                             else 0)
                budget.charge(nbytes, f"array {info.filename!r} {tuple(shape)} {dtype}")
    except zipfile.BadZipFile as exc:
        raise MotionFormatError(path, None, f"not a readable npz ({exc})") from exc


MAX_JSON_BYTES = 16 << 20  # motion bundles and joint maps are a few kB


def read_json(path: str | Path, key: str | None = None) -> object:
    """A small JSON file's content; too large, nested too deep or not JSON is one
    ``MotionFormatError`` line naming the file (json recurses once per nesting level)."""
    import json

    path = Path(path)
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ResourceLimitError(path, key, f"is a {_mb(size)} JSON file; expected at most "
                                 f"{_mb(MAX_JSON_BYTES)}")
    try:
        return json.loads(path.read_text())
    except RecursionError as exc:
        raise ResourceLimitError(path, key, "JSON nested too deeply; expected a flat "
                                 "object") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise MotionFormatError(path, key, f"not valid JSON ({exc})") from exc
