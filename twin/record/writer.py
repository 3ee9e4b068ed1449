"""``LeRobotV3Writer``: record episodes into a LeRobotDataset v3.0 directory, crash-safely.

This module owns turning finished episodes into the v3.0 files: rows appended to
``data/chunk-XXX/file-XXX.parquet`` (a new file once ``data_files_size_in_mb`` would be
passed), each camera's episode appended to ``videos/<key>/chunk-XXX/file-XXX.mp4`` (new file
past ``video_files_size_in_mb``), one row per episode in ``meta/episodes/...parquet`` with
its file locations, frame range, video time range and ``stats/<feature>/<stat>`` columns,
plus ``meta/tasks.parquet``, ``meta/stats.json`` and ``meta/info.json``.

Frames are checked against the declared ``FeatureSpec``s as they are added, so a frame of the
wrong shape is refused before anything of its episode reaches the dataset. Camera frames are
encoded as they arrive into a scratch mp4 (memory stays flat over long episodes); everything
else waits in memory until ``save_episode``. Each finished episode is one ``Transaction``:
all touched files are rewritten beside their targets and renamed into place, ``info.json``
last, so an interruption at any moment leaves the dataset of the episodes finished before
it, and ``resume=True`` continues after them (see ``twin.record.recovery``).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

import numpy as np
import pyarrow as pa

from twin.record import stats as stats_mod
from twin.record.features import (
    FeatureError,
    FeatureSpec,
    check_declared_features,
    check_frame_value,
    to_arrow_column,
)
from twin.record.layout import (
    CODEBASE_VERSION,
    DATA_PATH,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_DATA_FILE_SIZE_IN_MB,
    DEFAULT_VIDEO_FILE_SIZE_IN_MB,
    EPISODES_PATH,
    INFO_PATH,
    SCRATCH_DIR,
    STATS_PATH,
    TASKS_PATH,
    VIDEO_PATH,
    WRITER_PATH,
    WRITER_SCHEMA_VERSION,
    DatasetInfo,
    DatasetWriteError,
    Transaction,
    info_bytes,
    json_bytes,
    load_info,
    next_chunk_file,
    staging_path,
    tasks_table,
)
from twin.record.lock import LOCK_FILE, WriterLock
from twin.record.recovery import ResumeState, load_resume_state
from twin.record.video import (
    ENCODER_FOR_CODEC,
    EpisodeVideoEncoder,
    VideoEncoding,
    append_episode,
    probe_video_info,
    resolve_encoding,
)

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# Video stats are computed on frames subsampled to at most this many pixels a side: the
# stats barely move, and an episode's thumbnails stay small in memory.
STATS_THUMBNAIL_SIDE = 64

_buffer_ids = itertools.count()
_RESERVED_EPISODE_KEYS = ("episode_index", "tasks", "length", "dataset_from_index",
                          "dataset_to_index", "success")


class ResumeMismatchError(ValueError):
    """``resume=True`` on a dataset declared with other features, fps or robot type."""


@dataclass(frozen=True)
class SavedEpisode:
    """Where a finished episode went. Frame indices are dataset-global ``index`` values."""

    episode_index: int
    length: int
    task: str
    task_index: int
    success: bool
    dataset_from_index: int
    dataset_to_index: int


class EpisodeBuffer:
    """One episode's frames before it is saved; camera frames stream into scratch mp4s.

    Get one from ``LeRobotV3Writer.new_episode()`` when several episodes are recorded at
    once (one per sub-env of a vector env); episodes get their index when they are saved.
    """

    def __init__(self, writer: LeRobotV3Writer) -> None:
        self._writer = writer
        self._id = f"{os.getpid()}-{next(_buffer_ids)}"
        self._values: dict[str, list[np.ndarray]] = {
            k: [] for k, s in writer.user_features.items() if not s.is_video
        }
        self._thumbs: dict[str, list[np.ndarray]] = {
            k: [] for k, s in writer.user_features.items() if s.is_video
        }
        self._encoders: dict[str, EpisodeVideoEncoder] = {}
        self.num_frames = 0
        self.sealed = False  # encoders flushed: no more frames
        self.closed = False  # saved or discarded

    @property
    def scratch_dir(self) -> Path:
        return self._writer.root / SCRATCH_DIR / self._id

    def add_frame(self, frame: Mapping[str, Any]) -> None:
        """Check every value of ``frame`` against its FeatureSpec, then keep it."""
        if self.closed or self.sealed:
            raise RuntimeError("add_frame: this episode was already saved or discarded")
        features = self._writer.user_features
        missing = [k for k in features if k not in frame]
        extra = [k for k in frame if k not in features]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"undeclared {extra}")
            raise FeatureError(
                f"frame {self.num_frames}: {'; '.join(parts)} (declared: {list(features)})"
            )
        checked = {k: check_frame_value(k, spec, frame[k]) for k, spec in features.items()}
        # Everything is valid: only now touch encoders and buffers.
        for key, value in checked.items():
            spec = features[key]
            if spec.is_video:
                self._encoder(key, spec).write(value)
                s = max(1, math.ceil(max(spec.shape[:2]) / STATS_THUMBNAIL_SIDE))
                self._thumbs[key].append(value[::s, ::s].copy())
            else:
                self._values[key].append(value)
        self.num_frames += 1

    def _encoder(self, key: str, spec: FeatureSpec) -> EpisodeVideoEncoder:
        enc = self._encoders.get(key)
        if enc is None:
            path = self.scratch_dir / f"{key}.mp4"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                enc = EpisodeVideoEncoder(
                    path, self._writer.fps, spec.shape[0], spec.shape[1], self._writer.encoding
                )
            except OSError as e:
                raise DatasetWriteError(
                    e.errno, f"cannot write scratch video {path} ({e.strerror or e})"
                ) from e
            self._encoders[key] = enc
        return enc

    def _seal(self) -> dict[str, Path]:
        """Flush the encoders; return each camera's scratch mp4."""
        if not self.sealed:
            for enc in self._encoders.values():
                try:
                    enc.close()
                except OSError as e:
                    raise DatasetWriteError(
                        e.errno, f"cannot write scratch video {enc.path} ({e.strerror or e})"
                    ) from e
            self.sealed = True
        return {k: e.path for k, e in self._encoders.items()}

    def last(self, key: str) -> np.ndarray:
        """The last added value of a non-video feature."""
        return self._values[key][-1]

    def replace_last(self, key: str, value: Any) -> None:
        """Change a non-video value of the last frame (e.g. mark it done), checked as usual."""
        if self.sealed or self.closed or self.num_frames == 0:
            raise RuntimeError("replace_last: no open frame to change")
        spec = self._writer.user_features.get(key)
        if spec is None or spec.is_video:
            raise FeatureError(f"replace_last: {key!r} is not a declared non-video feature")
        self._values[key][-1] = check_frame_value(key, spec, value)

    def columns(self) -> dict[str, np.ndarray]:
        return {k: np.stack(v) for k, v in self._values.items()}

    def thumbnails(self) -> dict[str, np.ndarray]:
        return {k: np.stack(v) for k, v in self._thumbs.items()}

    def discard(self) -> None:
        for enc in self._encoders.values():
            enc.abort()
        shutil.rmtree(self.scratch_dir, ignore_errors=True)
        self._values = {k: [] for k in self._values}
        self._thumbs = {k: [] for k in self._thumbs}
        self.closed = True


class LeRobotV3Writer:
    """Writes a LeRobotDataset v3.0 at ``root``, one finished episode at a time.

    Args:
        root: dataset directory; created if missing. Must be empty or absent unless
            ``resume=True``.
        fps: frames per second of the recording (an integer, as LeRobot requires).
        features: per-frame features in the order wanted (cameras ``"observation.images.
            <cam>"`` as ``FeatureSpec("video", (H, W, 3))``, ``"observation.state"``,
            ``"action"``, ...). The index features (timestamp, frame_index, episode_index,
            index, task_index) are added by the writer.
        robot_type: free text stored in info.json (e.g. "panda").
        resume: continue a dataset recorded earlier at ``root``: its features, fps and robot
            type must match; new episodes go to new files after the last finished episode.
            On an absent or empty ``root`` this starts a new dataset.
        video: encoder settings; default LeRobot's (AV1), h264 where AV1 cannot be encoded.
        chunks_size, data_files_size_in_mb, video_files_size_in_mb: LeRobot's file limits.
    """

    def __init__(
        self,
        root: str | Path,
        fps: int,
        features: Mapping[str, FeatureSpec],
        robot_type: str | None = None,
        *,
        resume: bool = False,
        video: VideoEncoding | None = None,
        chunks_size: int = DEFAULT_CHUNK_SIZE,
        data_files_size_in_mb: int = DEFAULT_DATA_FILE_SIZE_IN_MB,
        video_files_size_in_mb: int = DEFAULT_VIDEO_FILE_SIZE_IN_MB,
    ) -> None:
        self.root = Path(root)
        if int(fps) != fps or fps <= 0:
            raise ValueError(f"fps {fps}: expected a positive integer (LeRobot stores int fps)")
        self.fps = int(fps)
        self.features = check_declared_features(features)
        self.user_features = {k: v for k, v in features.items()}
        self.video_keys = [k for k, s in self.user_features.items() if s.is_video]
        self._buffers: list[EpisodeBuffer] = []
        self._default: EpisodeBuffer | None = None
        self._closed = False
        self._needs_repair = False

        self._lock = WriterLock.acquire(self.root)
        try:
            self._open(resume, robot_type, video, chunks_size, data_files_size_in_mb,
                       video_files_size_in_mb)
        except BaseException:
            self._lock.release()
            raise

    def _open(self, resume: bool, robot_type: str | None, video: VideoEncoding | None,
              chunks_size: int, data_files_size_in_mb: int, video_files_size_in_mb: int
              ) -> None:
        if self._check_root(resume):
            self._resume(robot_type, video)
        else:
            for name, value in (
                ("chunks_size", chunks_size),
                ("data_files_size_in_mb", data_files_size_in_mb),
                ("video_files_size_in_mb", video_files_size_in_mb),
            ):
                if value <= 0:
                    raise ValueError(f"{name} {value}: expected a positive integer")
            self.info = DatasetInfo(
                fps=self.fps,
                features=dict(self.features),
                robot_type=robot_type,
                chunks_size=chunks_size,
                data_files_size_in_mb=data_files_size_in_mb,
                video_files_size_in_mb=video_files_size_in_mb,
            )
            self.encoding = resolve_encoding(video)
            self._start_new_dataset()

    # --- opening -------------------------------------------------------------------------

    def _check_root(self, resume: bool) -> bool:
        """Create ``root`` if needed; return whether it holds a dataset to continue."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            entries = [p.name for p in self.root.iterdir()
                       if p.name not in (SCRATCH_DIR, LOCK_FILE)]
        except OSError as e:
            raise DatasetWriteError(
                e.errno, f"cannot create dataset directory {self.root} ({e.strerror or e})"
            ) from e
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise DatasetWriteError(13, f"dataset directory {self.root} is not writable")
        has_info = (self.root / INFO_PATH).exists()
        if entries and not resume:
            raise FileExistsError(
                f"{self.root}: already holds files ({', '.join(sorted(entries)[:4])}); pass "
                "resume=True to continue that dataset, or choose a new root"
            )
        if entries and not has_info:
            raise FileExistsError(
                f"{self.root}: holds files but no {INFO_PATH}; not a dataset this writer can resume"
            )
        return has_info

    def _start_new_dataset(self) -> None:
        self._tasks: list[str] = []
        self._stats: dict[str, stats_mod.FeatureStats] = {}
        self._data_loc = (0, 0)
        self._data_tables: list[pa.Table] = []
        self._data_bytes = 0
        self._episodes_loc = (0, 0)
        self._episode_rows: list[dict[str, Any]] = []
        self._episodes_bytes = 0
        # per video key: (chunk, file) of the file being filled, frames in it, its size
        self._video_loc: dict[str, tuple[int, int]] = {k: (0, 0) for k in self.video_keys}
        self._video_frames: dict[str, int] = {k: 0 for k in self.video_keys}
        self._video_bytes: dict[str, int] = {k: 0 for k in self.video_keys}
        tx = Transaction(self.root)
        tx.stage_bytes(self.root / WRITER_PATH, json_bytes(self._provenance()))
        tx.stage_bytes(self.root / INFO_PATH, info_bytes(self.info))
        tx.commit()

    def _provenance(self) -> dict[str, Any]:
        from twin import __version__

        return {
            "writer": "twin.record.LeRobotV3Writer",
            "twin_version": __version__,
            "schema_version": WRITER_SCHEMA_VERSION,
            "codebase_version": CODEBASE_VERSION,
            "video_encoder": self.encoding.codec,
            "video_crf": self.encoding.crf,
            "video_gop_size": self.encoding.gop_size,
        }

    def _resume(self, robot_type: str | None, video: VideoEncoding | None) -> None:
        info = load_info(self.root)
        where = self.root / INFO_PATH
        if info.fps != self.fps:
            raise ResumeMismatchError(f"{where}: fps is {info.fps}, this recording uses {self.fps}")
        if list(info.features) != list(self.features):
            raise ResumeMismatchError(
                f"{where}: features are {list(info.features)}, this recording declares "
                f"{list(self.features)}"
            )
        for key, spec in self.features.items():
            if info.features[key] != spec:
                raise ResumeMismatchError(
                    f"{where}: feature {key!r} is {info.features[key]}, this recording "
                    f"declares {spec}"
                )
        if info.robot_type != robot_type:
            raise ResumeMismatchError(
                f"{where}: robot_type is {info.robot_type!r}, this recording uses {robot_type!r}"
            )
        state: ResumeState = load_resume_state(self.root, info)
        self.info = state.info
        if video is None and self.video_keys:
            # Keep the dataset's codec so all of its files decode the same way.
            codec = next(iter(self.info.video_info.values()), {}).get("video.codec")
            video = VideoEncoding(codec=ENCODER_FOR_CODEC[codec]) if codec else None
        self.encoding = resolve_encoding(video)
        self._tasks = state.tasks
        self._stats = state.stats
        # Like LeRobot, continue in new files: the last ones stay exactly as they were.
        self._data_loc = next_chunk_file(*state.last_data_loc, info.chunks_size)
        self._data_tables, self._data_bytes = [], 0
        self._episodes_loc = next_chunk_file(*state.last_episodes_loc, info.chunks_size)
        self._episode_rows, self._episodes_bytes = [], 0
        self._video_loc = {
            k: next_chunk_file(*state.last_video_loc[k], info.chunks_size)
            if k in state.last_video_loc
            else (0, 0)
            for k in self.video_keys
        }
        self._video_frames = {k: 0 for k in self.video_keys}
        self._video_bytes = {k: 0 for k in self.video_keys}
        logger.info(
            "resuming %s after %d episodes (%d frames)",
            self.root,
            self.info.total_episodes,
            self.info.total_frames,
        )

    # --- recording -----------------------------------------------------------------------

    @property
    def num_episodes(self) -> int:
        return self.info.total_episodes

    @property
    def num_frames(self) -> int:
        return self.info.total_frames

    @property
    def current_episode(self) -> EpisodeBuffer | None:
        """The buffer ``add_frame`` fills, if an episode is in progress."""
        if self._default is None or self._default.closed:
            return None
        return self._default

    def new_episode(self) -> EpisodeBuffer:
        """A separate episode buffer (for recording several episodes concurrently)."""
        self._check_open()
        buf = EpisodeBuffer(self)
        self._buffers.append(buf)
        return buf

    def add_frame(self, frame: Mapping[str, Any]) -> None:
        """Add a frame to the current episode (the writer's own buffer)."""
        self._check_open()
        if self._default is None or self._default.closed:
            self._default = self.new_episode()
        self._default.add_frame(frame)

    def discard_episode(self, buffer: EpisodeBuffer | None = None) -> None:
        buf = buffer if buffer is not None else self._default
        if buf is not None:
            buf.discard()
            if buf in self._buffers:
                self._buffers.remove(buf)

    def save_episode(
        self, task: str, success: bool, buffer: EpisodeBuffer | None = None,
        metadata: Mapping[str, bool | int | float | str] | None = None,
    ) -> SavedEpisode:
        """Write the episode (the current one, or ``buffer``) as the next episode.

        ``metadata``: further per-episode columns of ``meta/episodes`` (e.g. ``seed``,
        ``termination``), scalars only; LeRobot ignores columns it does not know. Give every
        episode of a dataset the same keys (its episode files must share one schema).

        Raises ``DatasetWriteError`` (an OSError naming the file) if the disk refuses a
        write; the dataset then still holds exactly its earlier episodes and the episode
        can be saved again once there is room.
        """
        self._check_open()
        buf = buffer if buffer is not None else self._default
        if buf is None or buf.num_frames == 0:
            raise FeatureError("save_episode: the episode has no frames")
        if buf.closed:
            raise RuntimeError("save_episode: this episode was already saved or discarded")
        if not isinstance(task, str) or not task:
            raise FeatureError(f"save_episode: task must be a non-empty string, got {task!r}")
        extra = dict(metadata or {})
        for key, value in extra.items():
            if not isinstance(value, (bool, int, float, str)) or key in _RESERVED_EPISODE_KEYS \
                    or key.startswith(("stats/", "videos/", "data/", "meta/")):
                raise FeatureError(f"save_episode: metadata[{key!r}] = {value!r}: expected a "
                                   "scalar under a name LeRobot does not use")
        scratch_videos = buf._seal()

        info = self.info
        n = buf.num_frames
        ep_index = info.total_episodes
        from_index = info.total_frames
        tasks = list(self._tasks)
        if task not in tasks:
            tasks.append(task)
        task_index = tasks.index(task)

        columns = buf.columns()
        columns["timestamp"] = (np.arange(n, dtype=np.float64) / self.fps).astype(np.float32)
        columns["frame_index"] = np.arange(n, dtype=np.int64)
        columns["episode_index"] = np.full(n, ep_index, dtype=np.int64)
        columns["index"] = np.arange(from_index, from_index + n, dtype=np.int64)
        columns["task_index"] = np.full(n, task_index, dtype=np.int64)

        thumbnails = buf.thumbnails()
        sampled = stats_mod.sample_indices(n)
        ep_stats: dict[str, stats_mod.FeatureStats] = {}
        for key, spec in self.features.items():
            if spec.is_video:
                ep_stats[key] = stats_mod.video_stats(thumbnails[key][sampled])
            else:
                ep_stats[key] = stats_mod.vector_stats(columns[key])

        table = pa.table(
            {k: to_arrow_column(s, columns[k]) for k, s in self.features.items() if not s.is_video}
        )

        tx = Transaction(self.root)
        try:
            new_state = self._stage_episode(
                tx,
                scratch_videos,
                table,
                ep_index,
                n,
                from_index,
                task,
                tasks,
                success,
                ep_stats,
                extra,
            )
        except BaseException:
            tx.abort()
            raise
        try:
            tx.commit()
        except BaseException:
            # Some files were renamed, info.json was not: the dataset on disk is its last
            # finished episode plus debris that only a resume's repair() clears. Appending
            # more now would build on that debris, so this writer stops here.
            tx.abort()
            self._needs_repair = True
            logger.error(
                "%s: interrupted while renaming episode %d into place; re-open with "
                "resume=True to repair and continue",
                self.root,
                ep_index,
            )
            raise
        self._apply(new_state)
        buf.discard()  # removes the scratch mp4s, now copied into the dataset
        if buf in self._buffers:
            self._buffers.remove(buf)
        return SavedEpisode(
            episode_index=ep_index,
            length=n,
            task=task,
            task_index=task_index,
            success=bool(success),
            dataset_from_index=from_index,
            dataset_to_index=from_index + n,
        )

    def _stage_episode(
        self,
        tx: Transaction,
        scratch_videos: dict[str, Path],
        table: pa.Table,
        ep_index: int,
        n: int,
        from_index: int,
        task: str,
        tasks: list[str],
        success: bool,
        ep_stats: dict[str, stats_mod.FeatureStats],
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Stage every file this episode changes; return the writer state after commit."""
        info = self.info
        limit_data = info.data_files_size_in_mb * MB
        limit_video = info.video_files_size_in_mb * MB
        row: dict[str, Any] = {
            "episode_index": ep_index,
            "tasks": [task],
            "length": n,
        }

        # Videos first: the largest writes, the likeliest to hit a full disk.
        video_loc = dict(self._video_loc)
        video_frames = dict(self._video_frames)
        video_bytes = dict(self._video_bytes)
        video_info = dict(info.video_info)
        for key in self.video_keys:
            episode_mp4 = scratch_videos[key]
            ep_bytes = episode_mp4.stat().st_size
            loc = video_loc[key]
            if video_frames[key] > 0 and video_bytes[key] + ep_bytes >= limit_video:
                loc = next_chunk_file(*loc, info.chunks_size)
                video_frames[key], video_bytes[key] = 0, 0
            final = self.root / VIDEO_PATH.format(
                video_key=key, chunk_index=loc[0], file_index=loc[1]
            )
            existing = final if video_frames[key] > 0 else None
            start = video_frames[key]
            tx.stage(
                final,
                lambda tmp, e=existing, m=episode_mp4, s=start: append_episode(
                    e, m, tmp, s, self.fps
                ),
            )
            video_loc[key] = loc
            video_frames[key] = start + n
            video_bytes[key] = staging_path(final).stat().st_size
            if key not in video_info:
                video_info[key] = probe_video_info(episode_mp4)
            row[f"videos/{key}/chunk_index"] = loc[0]
            row[f"videos/{key}/file_index"] = loc[1]
            row[f"videos/{key}/from_timestamp"] = start / self.fps
            row[f"videos/{key}/to_timestamp"] = (start + n) / self.fps

        # Data rows.
        data_loc, data_tables = self._data_loc, list(self._data_tables)
        if data_tables:
            frames_in_file = sum(t.num_rows for t in data_tables)
            if self._data_bytes + self._data_bytes / frames_in_file * n >= limit_data:
                data_loc = next_chunk_file(*data_loc, info.chunks_size)
                data_tables = []
        data_tables.append(table)
        data_path = self.root / DATA_PATH.format(chunk_index=data_loc[0], file_index=data_loc[1])
        tx.stage_parquet(data_path, pa.concat_tables(data_tables))
        data_bytes = staging_path(data_path).stat().st_size
        row["data/chunk_index"] = data_loc[0]
        row["data/file_index"] = data_loc[1]
        row["dataset_from_index"] = from_index
        row["dataset_to_index"] = from_index + n
        # Column order as LeRobot writes it: locations, stats, then the episodes file.
        videos_cols = {k: row.pop(k) for k in list(row) if k.startswith("videos/")}
        row.update(videos_cols)
        row.update(stats_mod.flatten_episode_stats(ep_stats))

        # Episode row.
        ep_loc, ep_rows = self._episodes_loc, list(self._episode_rows)
        if ep_rows and self._episodes_bytes * (1 + 1 / len(ep_rows)) >= limit_data:
            ep_loc = next_chunk_file(*ep_loc, info.chunks_size)
            ep_rows = []
        row["meta/episodes/chunk_index"] = ep_loc[0]
        row["meta/episodes/file_index"] = ep_loc[1]
        row["success"] = bool(success)  # twin extension; LeRobot ignores extra columns
        row.update(extra or {})
        ep_rows.append(row)
        ep_path = self.root / EPISODES_PATH.format(chunk_index=ep_loc[0], file_index=ep_loc[1])
        tx.stage_parquet(ep_path, pa.Table.from_pylist(ep_rows))
        ep_bytes = staging_path(ep_path).stat().st_size

        if len(tasks) != len(self._tasks):
            tx.stage_parquet(self.root / TASKS_PATH, tasks_table(tasks))

        pooled = stats_mod.aggregate([self._stats, ep_stats]) if self._stats else ep_stats
        tx.stage_bytes(self.root / STATS_PATH, json_bytes(stats_mod.to_json(pooled)))

        new_info = replace(
            info,
            total_episodes=ep_index + 1,
            total_frames=from_index + n,
            total_tasks=len(tasks),
            splits={"train": f"0:{ep_index + 1}"},
            video_info=video_info,
        )
        tx.stage_bytes(self.root / INFO_PATH, info_bytes(new_info))  # the commit record: last
        return {
            "info": new_info,
            "_tasks": tasks,
            "_stats": pooled,
            "_data_loc": data_loc,
            "_data_tables": data_tables,
            "_data_bytes": data_bytes,
            "_episodes_loc": ep_loc,
            "_episode_rows": ep_rows,
            "_episodes_bytes": ep_bytes,
            "_video_loc": video_loc,
            "_video_frames": video_frames,
            "_video_bytes": video_bytes,
        }

    def _apply(self, new_state: dict[str, Any]) -> None:
        for name, value in new_state.items():
            setattr(self, name, value)

    # --- closing -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._needs_repair:
            raise RuntimeError(
                f"{self.root}: an episode was interrupted while being renamed into place; "
                "re-open the dataset with resume=True (it repairs, then continues)"
            )
        if self._closed:
            raise RuntimeError(f"{self.root}: this writer was finalized")

    def finalize(self) -> None:
        """Drop unfinished episodes and scratch files. Saved episodes are already durable."""
        if self._closed:
            return
        for buf in list(self._buffers):
            if buf.num_frames and not buf.closed:
                logger.warning(
                    "%s: dropping an unfinished episode of %d frames", self.root, buf.num_frames
                )
            buf.discard()
        self._buffers.clear()
        shutil.rmtree(self.root / SCRATCH_DIR, ignore_errors=True)
        self._closed = True
        self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finalize()

    def __repr__(self) -> str:
        return (
            f"LeRobotV3Writer({str(self.root)!r}, fps={self.fps}, "
            f"episodes={self.num_episodes}, frames={self.num_frames})"
        )
