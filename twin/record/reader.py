"""Reading a LeRobotDataset v3.0 back without lerobot: episodes as numpy arrays and frames.

This module owns ``load_episode`` (parquet columns via pyarrow, camera frames decoded with
PyAV at the episode's ``from_timestamp``..``to_timestamp`` in its mp4) and
``check_dataset``, which verifies the layout invariants LeRobot relies on (contiguous
episode and frame indices, episode rows matching the data rows, every episode's video
segment holding exactly its frames) and says which file breaks them. Used by the tests
and by anyone who wants recorded data without installing lerobot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from twin.record.features import from_arrow_column
from twin.record.layout import (
    DatasetFormatError,
    DatasetInfo,
    load_info,
    load_tasks,
)
from twin.record.recovery import read_episode_rows
from twin.record.video import decode_frames

__all__ = ["RecordedEpisode", "check_dataset", "load_episode", "load_info", "load_tasks"]


@dataclass(frozen=True)
class RecordedEpisode:
    """One episode as stored.

    Attributes:
        data: parquet features, (T, *shape) arrays ((T,) for scalars), in their declared
            dtypes: ``observation.state``, ``action``, ``timestamp`` (s), ``frame_index``,
            ``episode_index``, ``index``, ``task_index``, ...
        frames: video features, (T, H, W, 3) uint8 RGB decoded from the mp4 files.
        meta: the episode's row of ``meta/episodes`` without its ``stats/`` columns.
    """

    episode_index: int
    task: str
    length: int
    success: bool | None
    data: dict[str, np.ndarray]
    frames: dict[str, np.ndarray]
    meta: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Flat ``{feature: array}`` plus ``"task"``, like a LeRobot batch of one episode."""
        return {**self.data, **self.frames, "task": self.task}


def _episode_row(root: Path, info: DatasetInfo, episode_index: int) -> dict[str, Any]:
    if not 0 <= episode_index < info.total_episodes:
        raise IndexError(
            f"episode {episode_index}: {root} holds episodes 0..{info.total_episodes - 1}"
        )
    rows = read_episode_rows(root)
    row = rows[episode_index]
    if row["episode_index"] != episode_index:
        raise DatasetFormatError(
            f"{root}/meta/episodes: row {episode_index} is episode {row['episode_index']}"
        )
    return row


def load_episode(
    root: str | Path, episode_index: int, *, load_videos: bool = True
) -> RecordedEpisode:
    """Load one episode's parquet values and (optionally) its decoded camera frames."""
    root = Path(root)
    info = load_info(root)
    row = _episode_row(root, info, episode_index)
    data_path = root / info.data_path.format(
        chunk_index=row["data/chunk_index"], file_index=row["data/file_index"]
    )
    table = pq.read_table(data_path)
    table = table.filter(pc.equal(table.column("episode_index"), episode_index))
    if table.num_rows != row["length"]:
        raise DatasetFormatError(
            f"{data_path}: {table.num_rows} rows of episode {episode_index}, "
            f"meta/episodes says {row['length']}"
        )
    data = {
        key: from_arrow_column(spec, table.column(key))
        for key, spec in info.features.items()
        if not spec.is_video
    }
    frames: dict[str, np.ndarray] = {}
    if load_videos:
        for key in info.video_keys:
            video_path = root / info.video_path.format(
                video_key=key,
                chunk_index=row[f"videos/{key}/chunk_index"],
                file_index=row[f"videos/{key}/file_index"],
            )
            from_frame = round(row[f"videos/{key}/from_timestamp"] * info.fps)
            frames[key] = decode_frames(video_path, from_frame, row["length"], info.fps)
    tasks = load_tasks(root)
    task_index = int(data["task_index"][0])
    return RecordedEpisode(
        episode_index=episode_index,
        task=tasks[task_index],
        length=int(row["length"]),
        success=row.get("success"),
        data=data,
        frames=frames,
        meta={k: v for k, v in row.items() if not k.startswith("stats/")},
    )


def check_dataset(root: str | Path, *, decode_videos: bool = False) -> DatasetInfo:
    """Verify the v3.0 invariants LeRobot relies on; raise DatasetFormatError naming the file.

    With ``decode_videos``, every episode's frames are decoded and counted too (slow).
    """
    root = Path(root)
    info = load_info(root)
    rows = read_episode_rows(root)
    if [r["episode_index"] for r in rows] != list(range(info.total_episodes)):
        raise DatasetFormatError(
            f"{root}/meta/episodes: episode_index is not 0..{info.total_episodes - 1}"
        )
    expected_from = 0
    for r in rows:
        if r["dataset_from_index"] != expected_from or (
            r["dataset_to_index"] - r["dataset_from_index"] != r["length"]
        ):
            raise DatasetFormatError(
                f"{root}/meta/episodes: episode {r['episode_index']} frame range "
                f"[{r['dataset_from_index']}, {r['dataset_to_index']}) does not follow "
                f"{expected_from} with length {r['length']}"
            )
        expected_from = r["dataset_to_index"]
    if expected_from != info.total_frames:
        raise DatasetFormatError(
            f"{root}/meta/info.json: total_frames {info.total_frames}, episodes hold {expected_from}"
        )
    index_parts = []
    for path in sorted((root / "data").glob("chunk-*/file-*.parquet")):
        index_parts.append(pq.read_table(path, columns=["index"]).column("index").to_numpy())
    index = np.concatenate(index_parts) if index_parts else np.zeros(0, np.int64)
    if not np.array_equal(np.sort(index), np.arange(info.total_frames)):
        raise DatasetFormatError(
            f"{root}/data: rows' index is not exactly 0..{info.total_frames - 1} "
            f"({index.size} rows)"
        )
    tasks = load_tasks(root)
    if len(tasks) != info.total_tasks:
        raise DatasetFormatError(
            f"{root}/meta/tasks.parquet: {len(tasks)} tasks, info.json says {info.total_tasks}"
        )
    for r in rows:
        for key in info.video_keys:
            loc = (r[f"videos/{key}/chunk_index"], r[f"videos/{key}/file_index"])
            path = root / info.video_path.format(
                video_key=key, chunk_index=loc[0], file_index=loc[1]
            )
            if not path.exists():
                raise DatasetFormatError(f"{path}: missing (episode {r['episode_index']})")
            span = r[f"videos/{key}/to_timestamp"] - r[f"videos/{key}/from_timestamp"]
            if abs(span * info.fps - r["length"]) > 1e-6:
                raise DatasetFormatError(
                    f"{root}/meta/episodes: episode {r['episode_index']} {key} spans "
                    f"{span:.6f} s for {r['length']} frames at {info.fps} fps"
                )
            if decode_videos:
                decode_frames(
                    path,
                    round(r[f"videos/{key}/from_timestamp"] * info.fps),
                    r["length"],
                    info.fps,
                )
    return info
