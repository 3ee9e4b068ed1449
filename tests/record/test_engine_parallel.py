"""Attempts spread over worker processes or a Ray cluster give the dataset a local run gives:
the same episodes (seeds, filters) and the same frames."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from twin.record import load_episode, load_info
from twin.record.engine import RecordConfig, record
from twin.record.recovery import read_episode_rows


def _cfg(out, **kw):
    return RecordConfig(env="twin/PandaReach-v0", out=str(out), episodes=3, size=32,
                        max_episode_steps=4, **kw)


def _same(a, b):
    rows_a, rows_b = read_episode_rows(a), read_episode_rows(b)
    assert [r["seed"] for r in rows_a] == [r["seed"] for r in rows_b]
    assert load_info(a).total_frames == load_info(b).total_frames
    for e in range(len(rows_a)):
        ea, eb = load_episode(a, e), load_episode(b, e)
        for k in ("action", "observation.state", "observation.cameras.front.world_from_camera"):
            np.testing.assert_array_equal(ea.data[k], eb.data[k])
        # rendered frames: llvmpipe may sample textures differently on a process's first frame
        diff = np.abs(ea.frames["observation.images.front"].astype(int)
                      - eb.frames["observation.images.front"].astype(int))
        assert diff.mean() < 2.0


def test_worker_processes_record_the_local_dataset(tmp_path):
    record(_cfg(tmp_path / "local"))
    s = record(_cfg(tmp_path / "pool", workers=2))
    assert s.episodes == 3
    _same(tmp_path / "local", tmp_path / "pool")


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")
def test_ray_cluster_records_the_local_dataset(tmp_path):
    import ray

    record(_cfg(tmp_path / "local"))
    try:
        s = record(_cfg(tmp_path / "ray", ray_address="local"))
    finally:
        ray.shutdown()
    assert s.episodes == 3
    _same(tmp_path / "local", tmp_path / "ray")
