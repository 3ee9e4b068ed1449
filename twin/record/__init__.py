"""Recording episodes as LeRobotDataset v3.0: writer, reader, and Gymnasium recorders.

``twin.record`` owns the on-disk dataset format for everything twin records: declared
per-frame features (``FeatureSpec``), the crash-safe ``LeRobotV3Writer`` (parquet via
pyarrow, mp4 via PyAV), ``load_episode``/``check_dataset`` to read it back without
lerobot, and the recorders that turn Gymnasium ``reset``/``step`` results into frames
(``RecordEpisodes`` for one env, ``RecordVectorEpisodes`` for a batched one). The data
engine (``twin.record.engine``: ``RecordConfig``, ``record``) drives an env with any policy
and keeps the episodes worth training on; it is what ``twin record`` runs.
"""

from twin.record.engine import RecordConfig, RecordSummary, record
from twin.record.features import FeatureError, FeatureSpec, video_feature
from twin.record.layout import DatasetFormatError, DatasetInfo, DatasetWriteError, load_info
from twin.record.reader import RecordedEpisode, check_dataset, load_episode
from twin.record.recorder import (
    RecordEpisodes,
    RecordVectorEpisodes,
    features_from_spaces,
    record_vector_env,
)
from twin.record.recovery import RepairReport, repair
from twin.record.video import VideoEncoding
from twin.record.writer import EpisodeBuffer, LeRobotV3Writer, ResumeMismatchError, SavedEpisode

__all__ = [
    "DatasetFormatError",
    "DatasetInfo",
    "DatasetWriteError",
    "EpisodeBuffer",
    "FeatureError",
    "FeatureSpec",
    "LeRobotV3Writer",
    "RecordConfig",
    "RecordEpisodes",
    "RecordSummary",
    "RecordVectorEpisodes",
    "RecordedEpisode",
    "RepairReport",
    "ResumeMismatchError",
    "SavedEpisode",
    "VideoEncoding",
    "check_dataset",
    "features_from_spaces",
    "load_episode",
    "load_info",
    "record",
    "record_vector_env",
    "repair",
    "video_feature",
]
