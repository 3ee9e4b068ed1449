"""Interrupted recordings leave the finished episodes; resume continues after them."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from record_fakes import FPS, assert_episode_matches, make_episode, tree_digest, writer_features

from twin.record import (
    FeatureSpec,
    LeRobotV3Writer,
    ResumeMismatchError,
    check_dataset,
    layout,
    load_info,
    repair,
)

HERE = Path(__file__).parent


def test_killed_process_leaves_valid_dataset_and_resume_continues(tmp_path, rng):
    root = tmp_path / "ds"
    episodes = [make_episode(rng, n, phase=9.0 * i) for i, n in enumerate((15, 9, 11, 8))]
    frames_file = tmp_path / "frames.pkl"
    frames_file.write_bytes(pickle.dumps(episodes[:3]))
    # A separate process records 2 episodes, is halfway through the 3rd, and is SIGKILLed:
    # no finally blocks, no finalize(), scratch files left behind.
    script = textwrap.dedent(
        f"""
        import os, pickle, signal, sys
        sys.path.insert(0, {str(HERE)!r})
        from record_fakes import FPS, writer_features
        from twin.record import LeRobotV3Writer
        eps = pickle.loads(open({str(frames_file)!r}, "rb").read())
        w = LeRobotV3Writer({str(root)!r}, FPS, writer_features(), robot_type="fake_arm")
        for frames in eps[:2]:
            for f in frames:
                w.add_frame(f)
            w.save_episode("pick", success=True)
        for f in eps[2][:6]:
            w.add_frame(f)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    assert (root / layout.SCRATCH_DIR).exists()  # the unfinished episode's mp4

    info = check_dataset(root, decode_videos=True)
    assert (info.total_episodes, info.total_frames) == (2, 24)
    for i in range(2):
        assert_episode_matches(root, i, episodes[i])
    finished = tree_digest(root)

    with LeRobotV3Writer(root, FPS, writer_features(), "fake_arm", resume=True) as w:
        assert (w.num_episodes, w.num_frames) == (2, 24)
        for frames, task in ((episodes[2], "place"), (episodes[3], "pick")):
            for f in frames:
                w.add_frame(f)
            saved = w.save_episode(task, success=False)
    assert (saved.episode_index, saved.dataset_from_index, saved.dataset_to_index) == (3, 35, 43)
    assert not (root / layout.SCRATCH_DIR).exists()
    info = check_dataset(root, decode_videos=True)
    assert (info.total_episodes, info.total_frames, info.total_tasks) == (4, 43, 2)
    for i in range(4):
        assert_episode_matches(root, i, episodes[i])
    # Files of the first session are untouched; the resumed session wrote new ones.
    after = tree_digest(root)
    for rel in (
        "data/chunk-000/file-000.parquet",
        "meta/episodes/chunk-000/file-000.parquet",
        "videos/observation.images.front/chunk-000/file-000.mp4",
    ):
        assert after[rel] == finished[rel]
    assert "data/chunk-000/file-001.parquet" in after
    assert "videos/observation.images.front/chunk-000/file-001.mp4" in after
    stats = load_info(root)
    assert stats.splits == {"train": "0:4"}


def test_crash_between_renames_is_repaired_on_resume(tmp_path, rng, monkeypatch):
    root = tmp_path / "ds"
    episodes = [make_episode(rng, n, phase=4.0 * i) for i, n in enumerate((10, 12, 7))]
    w = LeRobotV3Writer(root, FPS, writer_features())
    for f in episodes[0]:
        w.add_frame(f)
    w.save_episode("pick", success=True)

    real_replace = os.replace

    def die_before_info(src, dst):
        if str(dst).endswith("meta/info.json"):
            raise KeyboardInterrupt  # Ctrl-C after the data and video files were renamed
        return real_replace(src, dst)

    monkeypatch.setattr(layout.os, "replace", die_before_info)
    for f in episodes[1]:
        w.add_frame(f)
    with pytest.raises(KeyboardInterrupt):
        w.save_episode("place", success=False)
    monkeypatch.setattr(layout.os, "replace", real_replace)
    with pytest.raises(RuntimeError, match="re-open the dataset with resume=True"):
        w.add_frame(episodes[2][0])
    w.finalize()
    # On disk now: data rows, an episode row, a task and stats of an episode info.json does
    # not count. A plain reader of info.json still sees 1 episode...
    assert load_info(root).total_episodes == 1

    report = repair(root)
    assert sorted(report.rewritten) == [
        "data/chunk-000/file-000.parquet",
        "meta/episodes/chunk-000/file-000.parquet",
        "meta/stats.json",
        "meta/tasks.parquet",
    ]
    check_dataset(root, decode_videos=True)
    assert_episode_matches(root, 0, episodes[0])
    assert repair(root).changed is False  # idempotent

    with LeRobotV3Writer(root, FPS, writer_features(), resume=True) as w2:
        for f in episodes[2]:
            w2.add_frame(f)
        w2.save_episode("place", success=False)
    check_dataset(root, decode_videos=True)
    assert_episode_matches(root, 0, episodes[0])
    assert_episode_matches(root, 1, episodes[2])


def test_resume_refuses_other_features_fps_or_fresh_root(tmp_path, rng):
    root = tmp_path / "ds"
    with LeRobotV3Writer(root, FPS, writer_features(), "fake_arm") as w:
        for f in make_episode(rng, 5, phase=0.0):
            w.add_frame(f)
        w.save_episode("pick", success=True)
    before = tree_digest(root)
    info_path = str(root / "meta/info.json")
    with pytest.raises(
        ResumeMismatchError, match=f"{info_path}: fps is 30, this recording uses 50"
    ):
        LeRobotV3Writer(root, 50, writer_features(), "fake_arm", resume=True)
    other = writer_features()
    other["observation.state"] = FeatureSpec("float32", (7,))
    with pytest.raises(ResumeMismatchError, match=r"feature 'observation.state'.*\(6,\).*\(7,\)"):
        LeRobotV3Writer(root, FPS, other, "fake_arm", resume=True)
    with pytest.raises(ResumeMismatchError, match="robot_type is 'fake_arm'"):
        LeRobotV3Writer(root, FPS, writer_features(), "g1", resume=True)
    with pytest.raises(FileExistsError, match="pass resume=True"):
        LeRobotV3Writer(root, FPS, writer_features(), "fake_arm")
    assert tree_digest(root) == before
    # resume=True on an absent root simply starts a dataset.
    with LeRobotV3Writer(tmp_path / "new", FPS, writer_features(), resume=True) as w:
        assert w.num_episodes == 0
    assert np.asarray(load_info(tmp_path / "new").total_episodes) == 0
