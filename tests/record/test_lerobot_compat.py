"""The real ``lerobot`` package loads what twin.record writes (skipped where not installed).

Installs nothing: run it in an environment that has lerobot (it was checked with lerobot
0.4.4, ``pip install lerobot``; video decoded with its "pyav" backend).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

# Never reach for the Hub: a local dataset that fails to load must fail here, not download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip(
    "lerobot.datasets.lerobot_dataset",
    reason="lerobot is not installed here; test_writer.py checks the v3.0 layout without it",
)
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from record_fakes import FPS, VIDEO, make_episode

import twin.record.writer as writer_mod
from twin.record import LeRobotV3Writer, load_episode, load_info
from twin.record.features import FeatureSpec
from twin.record.layout import STATS_PATH
from twin.record.stats import from_json


def _features():
    from record_fakes import writer_features

    feats = writer_features()
    feats["observation.images.wrist"] = FeatureSpec("video", (32, 48, 3))
    return feats


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    """5 episodes spread over several data/video files and chunks, plus a resumed session."""
    rng = np.random.default_rng(7)
    monkeypatch.setattr(writer_mod, "MB", 2000)
    root = tmp_path / "ds"
    episodes = [make_episode(rng, n, phase=6.0 * i) for i, n in enumerate((14, 9, 17, 6, 11))]
    for ep in episodes:
        for t, f in enumerate(ep):
            f["observation.images.wrist"] = np.ascontiguousarray(
                f[VIDEO][16:48, 8:56][:, :, ::-1] if t % 2 else f[VIDEO][:32, :48]
            )
    kwargs = {"chunks_size": 2, "data_files_size_in_mb": 3, "video_files_size_in_mb": 2}
    tasks = ["pick the cube", "place it", "pick the cube", "place it", "stack"]
    for session in (range(3), range(3, 5)):
        with LeRobotV3Writer(root, FPS, _features(), "fake_arm", resume=True, **kwargs) as w:
            for i in session:
                for f in episodes[i]:
                    w.add_frame(f)
                w.save_episode(tasks[i], success=i % 2 == 0)
    return root, episodes, tasks


def _backend() -> str | None:
    try:
        import torchvision.io

        return "pyav" if hasattr(torchvision.io, "VideoReader") else None
    except ImportError:
        return None


def test_lerobot_dataset_reads_values_frames_and_tasks(dataset):
    root, episodes, tasks = dataset
    ds = LeRobotDataset("twin/record_test", root=root, video_backend=_backend())
    info = load_info(root)
    assert (len(ds), ds.num_episodes, ds.fps) == (info.total_frames, 5, FPS)
    assert ds.meta.total_tasks == 3
    assert set(ds.meta.video_keys) == {VIDEO, "observation.images.wrist"}
    start = 0
    for e, frames in enumerate(episodes):
        ours = load_episode(root, e)
        for t in sorted({0, len(frames) // 2, len(frames) - 1}):
            item = ds[start + t]
            assert int(item["episode_index"]) == e and int(item["frame_index"]) == t
            assert int(item["index"]) == start + t
            assert item["task"] == tasks[e]
            assert float(item["timestamp"]) == pytest.approx(t / FPS, abs=1e-6)
            for key in ("observation.state", "observation.keypoints"):
                np.testing.assert_array_equal(item[key].numpy(), frames[t][key])
            np.testing.assert_array_equal(
                item["observation.keypoints_visible"].numpy(),
                frames[t]["observation.keypoints_visible"],
            )
            np.testing.assert_array_equal(
                item["action"].numpy(), frames[t]["action"].astype(np.float32)
            )
            for key in (VIDEO, "observation.images.wrist"):
                img = item[key].numpy()  # (3, H, W) float in [0, 1]
                rgb = np.round(img.transpose(1, 2, 0) * 255).astype(np.int16)
                # lerobot decodes the same frame as twin's reader...
                assert np.abs(rgb - ours.frames[key][t]).max() <= 1
                # ...and it is the recorded frame, up to compression.
                assert np.abs(rgb - frames[t][key]).mean() < 3.0
        start += len(frames)

    stats = from_json(__import__("json").loads((root / STATS_PATH).read_text()))
    np.testing.assert_allclose(
        ds.meta.stats["observation.state"]["mean"], stats["observation.state"]["mean"]
    )
    assert ds.meta.stats[VIDEO]["mean"].shape == (3, 1, 1)


def test_lerobot_delta_timestamps_find_neighbouring_frames(dataset):
    root, episodes, _ = dataset
    dt = 1 / FPS
    ds = LeRobotDataset(
        "twin/record_test",
        root=root,
        video_backend=_backend(),
        delta_timestamps={VIDEO: [-dt, 0.0], "action": [0.0, dt, 2 * dt]},
    )
    first = len(episodes[0]) + len(episodes[1])  # episode 2, in a later video file
    item = ds[first + 5]
    frames = episodes[2]
    assert item[VIDEO].shape == (2, 3, 64, 64)
    for k, t in enumerate((4, 5)):
        rgb = np.round(item[VIDEO][k].numpy().transpose(1, 2, 0) * 255)
        assert np.abs(rgb - frames[t][VIDEO]).mean() < 3.0
    np.testing.assert_array_equal(
        item["action"].numpy(), np.stack([frames[t]["action"] for t in (5, 6, 7)]).astype("f4")
    )
    assert not item["action_is_pad"].any()
