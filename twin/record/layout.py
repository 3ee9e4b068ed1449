"""The LeRobot v3.0 on-disk layout: paths, ``meta/info.json``, tasks, and atomic file updates.

This module owns the file names and templates of a LeRobotDataset v3.0 (as written by
huggingface/lerobot ``src/lerobot/datasets/utils.py``), the typed ``DatasetInfo`` that
mirrors ``meta/info.json``, the ``meta/tasks.parquet`` table (task string -> task_index,
stored the way pandas stores an indexed frame, which is how LeRobot reads it), and
``Transaction``: every file a finished episode touches is first written beside its target
under a hidden temporary name, and only when all of them are written are they renamed into
place, ``meta/info.json`` last. A write that fails (full disk, read-only directory) therefore
changes nothing, and ``meta/info.json`` is the commit record a reader or a resumed writer
trusts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from twin.record.features import FeatureSpec

CODEBASE_VERSION = "v3.0"

DEFAULT_CHUNK_SIZE = 1000  # files per chunk directory
DEFAULT_DATA_FILE_SIZE_IN_MB = 100
DEFAULT_VIDEO_FILE_SIZE_IN_MB = 200

INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
CHUNK_FILE_PATTERN = "chunk-{chunk_index:03d}/file-{file_index:03d}"
EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE_PATTERN + ".parquet"
DATA_PATH = "data/" + CHUNK_FILE_PATTERN + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE_PATTERN + ".mp4"

# Provenance sidecar: LeRobot warns about unknown keys in info.json, so what wrote the
# dataset is said here instead.
WRITER_PATH = "meta/twin_record.json"
WRITER_SCHEMA_VERSION = 1

# Per-episode video files being encoded live here; LeRobot never looks inside it.
SCRATCH_DIR = ".twin_record_tmp"


class DatasetWriteError(OSError):
    """A dataset file could not be written; the message names the file and the cause."""


class DatasetFormatError(ValueError):
    """A dataset on disk is not the LeRobot v3.0 layout this package reads and writes."""


def next_chunk_file(chunk_index: int, file_index: int, chunks_size: int) -> tuple[int, int]:
    """The (chunk, file) after this one: a chunk holds ``chunks_size`` files."""
    if file_index >= chunks_size - 1:
        return chunk_index + 1, 0
    return chunk_index, file_index + 1


@dataclass
class DatasetInfo:
    """``meta/info.json``, typed. Feature order is the parquet column order."""

    fps: int
    features: dict[str, FeatureSpec]
    robot_type: str | None = None
    codebase_version: str = CODEBASE_VERSION
    total_episodes: int = 0
    total_frames: int = 0
    total_tasks: int = 0
    chunks_size: int = DEFAULT_CHUNK_SIZE
    data_files_size_in_mb: int = DEFAULT_DATA_FILE_SIZE_IN_MB
    video_files_size_in_mb: int = DEFAULT_VIDEO_FILE_SIZE_IN_MB
    data_path: str = DATA_PATH
    video_path: str | None = VIDEO_PATH
    splits: dict[str, str] = field(default_factory=dict)
    # video key -> LeRobot's per-video ``info`` block ("video.codec", "video.fps", ...),
    # probed from the first mp4 once one exists.
    video_info: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def video_keys(self) -> list[str]:
        return [k for k, s in self.features.items() if s.is_video]

    def to_json(self) -> dict[str, Any]:
        features: dict[str, Any] = {}
        for key, spec in self.features.items():
            entry = spec.to_info()
            if spec.is_video and key in self.video_info:
                entry["info"] = self.video_info[key]
            features[key] = entry
        return {
            "codebase_version": self.codebase_version,
            "robot_type": self.robot_type,
            "total_episodes": self.total_episodes,
            "total_frames": self.total_frames,
            "total_tasks": self.total_tasks,
            "chunks_size": self.chunks_size,
            "data_files_size_in_mb": self.data_files_size_in_mb,
            "video_files_size_in_mb": self.video_files_size_in_mb,
            "fps": self.fps,
            "splits": self.splits,
            "data_path": self.data_path,
            "video_path": self.video_path if self.video_keys else None,
            "features": features,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], path: Path) -> DatasetInfo:
        try:
            version = raw["codebase_version"]
            if version != CODEBASE_VERSION:
                raise DatasetFormatError(
                    f"{path}: codebase_version {version!r}, expected {CODEBASE_VERSION!r}"
                )
            features = {k: FeatureSpec.from_info(v) for k, v in raw["features"].items()}
            video_info = {k: dict(v["info"]) for k, v in raw["features"].items() if v.get("info")}
            return cls(
                fps=int(raw["fps"]),
                features=features,
                robot_type=raw.get("robot_type"),
                codebase_version=version,
                total_episodes=int(raw["total_episodes"]),
                total_frames=int(raw["total_frames"]),
                total_tasks=int(raw["total_tasks"]),
                chunks_size=int(raw["chunks_size"]),
                data_files_size_in_mb=int(raw["data_files_size_in_mb"]),
                video_files_size_in_mb=int(raw["video_files_size_in_mb"]),
                data_path=raw["data_path"],
                video_path=raw.get("video_path"),
                splits=dict(raw.get("splits") or {}),
                video_info=video_info,
            )
        except KeyError as e:
            raise DatasetFormatError(f"{path}: missing field {e.args[0]!r}") from None


def load_info(root: Path) -> DatasetInfo:
    path = Path(root) / INFO_PATH
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: not found; is {root} a LeRobot v3.0 dataset?") from None
    except json.JSONDecodeError as e:
        raise DatasetFormatError(f"{path}: not valid JSON ({e})") from None
    return DatasetInfo.from_json(raw, path)


def info_bytes(info: DatasetInfo) -> bytes:
    return (json.dumps(info.to_json(), indent=4, ensure_ascii=False) + "\n").encode()


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=4, ensure_ascii=False) + "\n").encode()


# --- meta/tasks.parquet -------------------------------------------------------------------


def tasks_table(tasks: list[str]) -> pa.Table:
    """Tasks in task_index order, laid out as ``pandas.DataFrame({"task_index"}, index=task)``.

    LeRobot reads this file with ``pd.read_parquet`` and looks tasks up by the index, so
    the pandas metadata naming ``task`` as the index column is part of the format.
    """
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [
            {
                "name": None,
                "field_name": None,
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": {"encoding": "UTF-8"},
            }
        ],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {
                "name": "task",
                "field_name": "task",
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": None,
            },
        ],
        "attributes": {},
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.0",
    }
    schema = pa.schema(
        [pa.field("task_index", pa.int64()), pa.field("task", pa.string())],
        metadata={b"pandas": json.dumps(pandas_meta).encode()},
    )
    return pa.table({"task_index": list(range(len(tasks))), "task": tasks}, schema=schema)


def load_tasks(root: Path) -> list[str]:
    """Task strings, position = task_index."""
    path = Path(root) / TASKS_PATH
    if not path.exists():
        return []
    table = pq.read_table(path)
    names = [n for n in table.column_names if n != "task_index"]
    if "task_index" not in table.column_names or len(names) != 1:
        raise DatasetFormatError(f"{path}: expected columns task_index and one task column")
    order = table.column("task_index").to_pylist()
    tasks = table.column(names[0]).to_pylist()
    if sorted(order) != list(range(len(order))):
        raise DatasetFormatError(f"{path}: task_index is not 0..{len(order) - 1}")
    return [t for _, t in sorted(zip(order, tasks, strict=True))]


# --- atomic multi-file updates ------------------------------------------------------------


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def staging_path(final: Path) -> Path:
    # Hidden and not ending in .parquet/.mp4, so LeRobot's "*/*.parquet" globs skip it.
    return final.parent / f".{final.name}.tmp"


class Transaction:
    """Stage files beside their targets, then rename them all into place.

    ``stage`` may fail (full disk, permissions): the staged files are removed and a
    ``DatasetWriteError`` naming the file is raised, leaving every target untouched.
    ``commit`` only renames, in staging order; stage ``meta/info.json`` last.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._staged: list[tuple[Path, Path]] = []

    def stage(self, final: Path, write: Callable[[Path], None]) -> None:
        tmp = staging_path(final)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            write(tmp)
            _fsync_path(tmp)
        except OSError as e:
            self._discard(tmp)
            raise DatasetWriteError(
                e.errno,
                f"cannot write {final} ({e.strerror or e}); the dataset at {self.root} still "
                "holds only its previously finished episodes",
            ) from e
        except BaseException:
            self._discard(tmp)
            raise
        self._staged.append((tmp, final))

    def _discard(self, tmp: Path) -> None:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only directory: nothing was created there either
        self.abort()

    def stage_bytes(self, final: Path, data: bytes) -> None:
        self.stage(final, lambda tmp: tmp.write_bytes(data))

    def stage_parquet(self, final: Path, table: pa.Table) -> None:
        self.stage(final, lambda tmp: pq.write_table(table, tmp, compression="snappy"))

    @property
    def staged_targets(self) -> list[Path]:
        return [final for _, final in self._staged]

    def abort(self) -> None:
        for tmp, _ in self._staged:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        self._staged.clear()

    def commit(self) -> None:
        dirs: set[Path] = set()
        for tmp, final in self._staged:
            os.replace(tmp, final)
            dirs.add(final.parent)
        for d in dirs:
            _fsync_path(d, directory=True)
        self._staged.clear()


def remove_stale_staging(root: Path) -> list[Path]:
    """Delete staged files a crashed writer left behind; return what was removed."""
    removed = []
    for pattern in ("meta/.*.tmp", "meta/episodes/*/.*.tmp", "data/*/.*.tmp", "videos/*/*/.*.tmp"):
        for p in Path(root).glob(pattern):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed
