"""LeRobotV3Writer: round trips, the v3.0 layout, file rolling, and refusing bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from record_fakes import (
    FPS,
    VIDEO,
    H,
    W,
    assert_episode_matches,
    make_episode,
    smooth_frame,
    tree_digest,
    writer_features,
)

import twin.record.writer as writer_mod
from twin.record import (
    DatasetWriteError,
    FeatureError,
    FeatureSpec,
    LeRobotV3Writer,
    VideoEncoding,
    check_dataset,
    layout,
    load_episode,
    load_info,
)
from twin.record.video import can_encode

LENGTHS = (20, 33, 7)


def record(root: Path, episodes: list[list[dict]], tasks: list[str], **kwargs) -> None:
    with LeRobotV3Writer(root, FPS, writer_features(), robot_type="fake_arm", **kwargs) as w:
        for frames, task in zip(episodes, tasks, strict=True):
            for f in frames:
                w.add_frame(f)
            w.save_episode(task, success=task == "pick")


@pytest.fixture
def episodes(rng) -> list[list[dict]]:
    return [make_episode(rng, n, phase=11.0 * i) for i, n in enumerate(LENGTHS)]


def test_round_trip_values_and_frames(tmp_path, episodes):
    record(tmp_path / "ds", episodes, ["pick", "place", "pick"])
    root = tmp_path / "ds"
    info = check_dataset(root, decode_videos=True)
    assert (info.total_episodes, info.total_frames, info.total_tasks) == (3, sum(LENGTHS), 2)
    for i, frames in enumerate(episodes):
        assert_episode_matches(root, i, frames)
    ep1 = load_episode(root, 1)
    assert ep1.task == "place" and ep1.success is False
    np.testing.assert_array_equal(ep1.data["index"], np.arange(LENGTHS[0], sum(LENGTHS[:2])))
    np.testing.assert_array_equal(ep1.data["task_index"], np.ones(LENGTHS[1]))
    # Each decoded frame is nearer its own original than the neighbouring frames, i.e. the
    # episode's time range points at exactly its frames in the shared mp4.
    orig = np.stack([f[VIDEO] for f in episodes[1]]).astype(np.int16)
    dec = ep1.frames[VIDEO].astype(np.int16)
    err = np.abs(dec[:, None] - orig[None]).mean(axis=(2, 3, 4))
    np.testing.assert_array_equal(err.argmin(axis=1), np.arange(LENGTHS[1]))


def test_meta_files_follow_the_v3_layout(tmp_path, episodes):
    root = tmp_path / "ds"
    record(root, episodes, ["pick", "place", "pick"])
    files = set(tree_digest(root))
    assert files == {
        "meta/info.json",
        "meta/stats.json",
        "meta/tasks.parquet",
        "meta/twin_record.json",
        "meta/episodes/chunk-000/file-000.parquet",
        "data/chunk-000/file-000.parquet",
        f"videos/{VIDEO}/chunk-000/file-000.mp4",
    }
    raw = json.loads((root / "meta/info.json").read_text())
    assert raw["codebase_version"] == "v3.0"
    assert raw["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert raw["video_path"] == (
        "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    )
    assert raw["splits"] == {"train": "0:3"}
    assert (raw["chunks_size"], raw["data_files_size_in_mb"], raw["video_files_size_in_mb"]) == (
        1000,
        100,
        200,
    )
    assert (raw["fps"], raw["robot_type"], raw["total_frames"]) == (FPS, "fake_arm", 60)
    assert list(raw["features"])[-5:] == [
        "timestamp",
        "frame_index",
        "episode_index",
        "index",
        "task_index",
    ]
    video = raw["features"][VIDEO]
    assert video["dtype"] == "video" and video["shape"] == [H, W, 3]
    assert video["names"] == ["height", "width", "channels"]
    expected_codec = "av1" if can_encode("libsvtav1") else "h264"
    assert video["info"] == {
        "video.height": H,
        "video.width": W,
        "video.codec": expected_codec,
        "video.pix_fmt": "yuv420p",
        "video.is_depth_map": False,
        "video.fps": FPS,
        "video.channels": 3,
        "has_audio": False,
    }
    assert raw["features"]["observation.state"]["names"] == [f"joint{i}" for i in range(6)]
    assert raw["features"]["index"] == {"dtype": "int64", "shape": [1], "names": None}

    tasks = pq.read_table(root / "meta/tasks.parquet")
    assert tasks.column("task").to_pylist() == ["pick", "place"]
    assert tasks.column("task_index").to_pylist() == [0, 1]
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]

    rows = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [r["episode_index"] for r in rows] == [0, 1, 2]
    assert [r["tasks"] for r in rows] == [["pick"], ["place"], ["pick"]]
    assert [(r["dataset_from_index"], r["dataset_to_index"]) for r in rows] == [
        (0, 20),
        (20, 53),
        (53, 60),
    ]
    assert [r[f"videos/{VIDEO}/from_timestamp"] for r in rows] == [0.0, 20 / FPS, 53 / FPS]
    assert [r[f"videos/{VIDEO}/to_timestamp"] for r in rows] == [20 / FPS, 53 / FPS, 60 / FPS]
    for col in (
        "data/chunk_index",
        "data/file_index",
        "meta/episodes/chunk_index",
        f"videos/{VIDEO}/chunk_index",
        f"videos/{VIDEO}/file_index",
        "length",
    ):
        assert col in rows[0]
    assert np.asarray(rows[1]["stats/observation.state/mean"]).shape == (6,)
    assert np.asarray(rows[1][f"stats/{VIDEO}/mean"]).shape == (3, 1, 1)

    stats = json.loads((root / "meta/stats.json").read_text())
    state = np.concatenate([np.stack([f["observation.state"] for f in ep]) for ep in episodes])
    s = {k: np.asarray(v) for k, v in stats["observation.state"].items()}
    np.testing.assert_allclose(s["mean"], state.mean(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(s["std"], state.std(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(s["min"], state.min(0))
    np.testing.assert_array_equal(s["max"], state.max(0))
    assert s["count"].tolist() == [60]
    assert {"q01", "q10", "q50", "q90", "q99"} <= set(s)
    v = {k: np.asarray(x) for k, x in stats[VIDEO].items()}
    assert v["mean"].shape == (3, 1, 1) and 0.0 <= v["min"].min() <= v["max"].max() <= 1.0
    pixels = np.concatenate([np.stack([f[VIDEO] for f in ep]) for ep in episodes])
    np.testing.assert_allclose(
        v["mean"].ravel(), pixels.reshape(-1, 3).mean(0) / 255, atol=0.01
    )  # stats come from subsampled thumbnails: within 1 %
    np.testing.assert_allclose(stats["index"]["max"], [59])


def test_rolls_data_and_video_files_past_size_limits(tmp_path, rng, monkeypatch):
    # Limits are whole MB in info.json; shrink the unit so a few episodes overflow a file.
    monkeypatch.setattr(writer_mod, "MB", 1500)
    root = tmp_path / "ds"
    eps = [make_episode(rng, 12, phase=5.0 * i) for i in range(5)]
    record(
        root, eps, ["pick"] * 5, chunks_size=2, data_files_size_in_mb=4, video_files_size_in_mb=1
    )
    info = check_dataset(root, decode_videos=True)
    assert info.total_episodes == 5
    rows = [load_episode(root, i, load_videos=False).meta for i in range(5)]
    data_locs = {(r["data/chunk_index"], r["data/file_index"]) for r in rows}
    video_locs = {(r[f"videos/{VIDEO}/chunk_index"], r[f"videos/{VIDEO}/file_index"]) for r in rows}
    assert len(data_locs) >= 3 and len(video_locs) >= 3
    assert max(c for c, _ in data_locs) >= 1  # chunks_size=2 -> chunk-001 exists
    for i, frames in enumerate(eps):
        assert_episode_matches(root, i, frames)


def test_inconsistent_shapes_are_refused_before_anything_is_written(tmp_path, rng, episodes):
    root = tmp_path / "ds"
    w = LeRobotV3Writer(root, FPS, writer_features())
    for f in episodes[0]:
        w.add_frame(f)
    w.save_episode("pick", success=True)
    before = tree_digest(root)

    good = make_episode(rng, 3, phase=0.0)
    for f in good[:2]:
        w.add_frame(f)
    bad_state = dict(good[2], **{"observation.state": np.zeros(7, np.float32)})
    with pytest.raises(FeatureError, match=r"observation\.state.*\(6,\).*\(7,\)"):
        w.add_frame(bad_state)
    bad_image = dict(good[2], **{VIDEO: smooth_frame(0, h=H, w=W + 2)})
    with pytest.raises(FeatureError, match=r"observation\.images\.front.*\(64, 64, 3\)"):
        w.add_frame(bad_image)
    float_image = dict(good[2], **{VIDEO: good[2][VIDEO] / 255.0})
    with pytest.raises(FeatureError, match="expected uint8"):
        w.add_frame(float_image)
    with pytest.raises(FeatureError, match=r"missing \['action'\]"):
        w.add_frame({k: v for k, v in good[2].items() if k != "action"})
    with pytest.raises(FeatureError, match=r"undeclared \['extra'\]"):
        w.add_frame(dict(good[2], extra=1.0))
    with pytest.raises(FeatureError, match="NaN"):
        w.add_frame(dict(good[2], action=np.full(6, np.nan)))
    with pytest.raises(FeatureError, match="expected int64|expected float32"):
        w.add_frame(dict(good[2], action=np.array(["a"] * 6)))
    assert tree_digest(root) == before
    assert w.current_episode.num_frames == 2  # refused frames left no trace

    w.discard_episode()
    w.finalize()
    assert tree_digest(root) == before
    assert load_info(root).total_episodes == 1
    with pytest.raises(FeatureError, match=r"features\['index'\].*filled by the writer"):
        LeRobotV3Writer(tmp_path / "other", FPS, {"index": FeatureSpec("int64", (1,))})
    with pytest.raises(FeatureError, match="height and width must be even"):
        FeatureSpec("video", (63, 64, 3))


def test_unwritable_root_is_one_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(DatasetWriteError, match=f"cannot create dataset directory {blocker}/ds"):
        LeRobotV3Writer(blocker / "ds", FPS, writer_features())


@pytest.mark.skipif(
    hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0,
    reason="root ignores directory permissions; the ENOSPC test covers the same path",
)
def test_read_only_data_directory_keeps_finished_episodes(tmp_path, episodes):
    root = tmp_path / "ds"
    w = LeRobotV3Writer(root, FPS, writer_features())
    for f in episodes[0]:
        w.add_frame(f)
    w.save_episode("pick", success=True)
    before = tree_digest(root)
    (root / "data/chunk-000").chmod(0o500)
    try:
        for f in episodes[1]:
            w.add_frame(f)
        with pytest.raises(DatasetWriteError, match="data/chunk-000/file-000.parquet"):
            w.save_episode("place", success=False)
    finally:
        (root / "data/chunk-000").chmod(0o700)
    assert tree_digest(root) == before
    assert_episode_matches(root, 0, episodes[0])


@pytest.mark.parametrize(
    "full_at",
    [
        f"videos/{VIDEO}/chunk-000/file-000.mp4",
        "data/chunk-000/file-000.parquet",
        "meta/episodes/chunk-000/file-000.parquet",
        "meta/tasks.parquet",
        "meta/stats.json",
        "meta/info.json",
    ],
)
def test_full_disk_mid_save_keeps_finished_episodes_and_retry_succeeds(
    tmp_path, episodes, monkeypatch, full_at
):
    root = tmp_path / "ds"
    w = LeRobotV3Writer(root, FPS, writer_features())
    for frames in episodes[:2]:
        for f in frames:
            w.add_frame(f)
        w.save_episode("pick", success=True)
    before = tree_digest(root)

    real_stage = layout.Transaction.stage

    def stage(self, final, write):
        if str(final.relative_to(self.root)) != full_at:
            return real_stage(self, final, write)

        def fill_disk(tmp):
            write(tmp)  # some bytes land, then the disk is full
            raise OSError(28, "No space left on device")

        return real_stage(self, final, fill_disk)

    monkeypatch.setattr(layout.Transaction, "stage", stage)
    for f in episodes[2]:
        w.add_frame(f)
    with pytest.raises(DatasetWriteError) as err:
        w.save_episode("place", success=False)  # a new task: tasks.parquet is rewritten too
    assert err.value.errno == 28
    assert f"cannot write {root / full_at} (No space left on device)" in str(err.value)
    assert tree_digest(root) == before  # byte for byte
    assert not list(root.rglob(".*.tmp"))
    assert check_dataset(root).total_episodes == 2
    for i in range(2):
        assert_episode_matches(root, i, episodes[i])

    monkeypatch.setattr(layout.Transaction, "stage", real_stage)
    saved = w.save_episode("place", success=False)  # same buffer, once there is room
    w.finalize()
    assert saved.episode_index == 2
    check_dataset(root, decode_videos=True)
    for i in range(3):
        assert_episode_matches(root, i, episodes[i])


@pytest.mark.skipif(not can_encode("libx264"), reason="PyAV build without libx264")
def test_h264_encoding_round_trips(tmp_path, episodes):
    root = tmp_path / "ds"
    record(root, episodes[:2], ["pick", "pick"], video=VideoEncoding(codec="libx264"))
    assert load_info(root).video_info[VIDEO]["video.codec"] == "h264"
    check_dataset(root, decode_videos=True)
    for i in range(2):
        assert_episode_matches(root, i, episodes[i])
