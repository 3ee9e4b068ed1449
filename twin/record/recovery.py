"""Bringing a dataset back to its last finished episode after an interrupted recording.

This module owns what a resumed writer needs to know and what it must clean first. The
writer renames an episode's files into place with ``meta/info.json`` last, so ``info.json``
always names the finished episodes (``total_episodes``, ``total_frames``, ``total_tasks``).
A crash between two of those renames can leave data rows, an episode row, a task, pooled
stats or a whole new file belonging to the unfinished episode; ``repair`` removes exactly
those (atomically, file by file) and the scratch files of unsaved episodes. Trailing frames
of an unfinished episode inside an mp4 are left alone: no episode points at them, and a
resumed writer starts new files.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from twin.record import stats as stats_mod
from twin.record.layout import (
    EPISODES_DIR,
    SCRATCH_DIR,
    STATS_PATH,
    TASKS_PATH,
    DatasetFormatError,
    DatasetInfo,
    Transaction,
    json_bytes,
    load_info,
    load_tasks,
    remove_stale_staging,
    tasks_table,
)


@dataclass(frozen=True)
class RepairReport:
    """Files ``repair`` deleted or rewrote (paths relative to the dataset root)."""

    removed: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.rewritten)


@dataclass
class ResumeState:
    """What a writer continuing a dataset starts from."""

    info: DatasetInfo
    tasks: list[str]
    stats: dict[str, stats_mod.FeatureStats]
    last_data_loc: tuple[int, int]
    last_episodes_loc: tuple[int, int]
    last_video_loc: dict[str, tuple[int, int]]


def _chunk_file(path: Path) -> tuple[int, int]:
    # .../chunk-012/file-034.ext -> (12, 34)
    return int(path.parent.name.split("-")[1]), int(path.stem.split("-")[1])


def episode_files(root: Path) -> list[Path]:
    return sorted((Path(root) / EPISODES_DIR).glob("chunk-*/file-*.parquet"), key=_chunk_file)


def read_episode_rows(root: Path) -> list[dict[str, Any]]:
    """All rows of ``meta/episodes``, in file order (which is episode order)."""
    rows: list[dict[str, Any]] = []
    for path in episode_files(root):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def repair(root: str | Path) -> RepairReport:
    """Drop everything on disk that belongs to episodes ``meta/info.json`` does not count."""
    root = Path(root)
    info = load_info(root)
    removed = [str(p.relative_to(root)) for p in remove_stale_staging(root)]
    if (root / SCRATCH_DIR).exists():
        shutil.rmtree(root / SCRATCH_DIR, ignore_errors=True)
        removed.append(SCRATCH_DIR)
    rewritten: list[str] = []
    tx = Transaction(root)
    deletions: list[Path] = []

    kept_rows: list[dict[str, Any]] = []
    for path in episode_files(root):
        table = pq.read_table(path)
        keep = pc.less(table.column("episode_index"), info.total_episodes)
        kept = table.filter(keep)
        if kept.num_rows == 0:
            deletions.append(path)
        elif kept.num_rows < table.num_rows:
            tx.stage_parquet(path, kept)
        kept_rows.extend(kept.to_pylist())
    indices = [r["episode_index"] for r in kept_rows]
    if indices != list(range(info.total_episodes)):
        raise DatasetFormatError(
            f"{root / EPISODES_DIR}: episodes {indices[:5]}... do not match "
            f"total_episodes={info.total_episodes} in meta/info.json"
        )

    for path in sorted((root / "data").glob("chunk-*/file-*.parquet")):
        table = pq.read_table(path)
        kept = table.filter(pc.less(table.column("index"), info.total_frames))
        if kept.num_rows == 0:
            deletions.append(path)
        elif kept.num_rows < table.num_rows:
            tx.stage_parquet(path, kept)

    referenced = {
        root
        / "videos"
        / key
        / f"chunk-{r[f'videos/{key}/chunk_index']:03d}"
        / f"file-{r[f'videos/{key}/file_index']:03d}.mp4"
        for r in kept_rows
        for key in info.video_keys
    }
    deletions += [p for p in (root / "videos").glob("*/chunk-*/file-*.mp4") if p not in referenced]

    tasks = load_tasks(root)
    if len(tasks) > info.total_tasks:
        tx.stage_parquet(root / TASKS_PATH, tasks_table(tasks[: info.total_tasks]))

    pooled = pooled_stats(kept_rows)
    stats_path = root / STATS_PATH
    on_disk = stats_mod.from_json(_read_json(stats_path)) if stats_path.exists() else {}
    counted = int(np.asarray(on_disk.get("index", {}).get("count", [-1]))[0])
    if kept_rows and counted != info.total_frames:
        tx.stage_bytes(stats_path, json_bytes(stats_mod.to_json(pooled)))

    rewritten += [str(p.relative_to(root)) for p in tx.staged_targets]
    tx.commit()
    for path in deletions:
        path.unlink(missing_ok=True)
        removed.append(str(path.relative_to(root)))
    return RepairReport(removed=removed, rewritten=rewritten)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def pooled_stats(rows: list[dict[str, Any]]) -> dict[str, stats_mod.FeatureStats]:
    per_episode = [stats_mod.unflatten_episode_stats(r) for r in rows]
    return stats_mod.aggregate(per_episode) if per_episode else {}


def load_resume_state(root: Path, info: DatasetInfo) -> ResumeState:
    """Repair ``root``, then read where its last finished episode left each file."""
    repair(root)
    info = load_info(root)
    rows = read_episode_rows(root)
    if not rows:
        return ResumeState(info, load_tasks(root), {}, (0, -1), (0, -1), {})
    last = rows[-1]
    return ResumeState(
        info=info,
        tasks=load_tasks(root),
        stats=pooled_stats(rows),
        last_data_loc=(last["data/chunk_index"], last["data/file_index"]),
        last_episodes_loc=(last["meta/episodes/chunk_index"], last["meta/episodes/file_index"]),
        last_video_loc={
            k: (last[f"videos/{k}/chunk_index"], last[f"videos/{k}/file_index"])
            for k in info.video_keys
        },
    )
