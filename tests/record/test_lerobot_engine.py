"""lerobot reads a 20-episode oracle dataset of twin/PandaPickCube-v0 with prompts the way a
trainer would (skipped where lerobot is not installed; checked by hand with lerobot 0.4.4 in
a separate environment, see the module docstring of test_lerobot_compat.py).

Checks: every vector feature named; LeRobot's own feature selection takes the prompt videos
as VISUAL inputs and ``lerobot_input_features`` leaves them out; q01/q99 stats loaded; tasks
looked up by index; a DataLoader iterates batches.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("lerobot.datasets.lerobot_dataset", reason="lerobot is not installed here")

from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.datasets.utils import dataset_to_policy_features

from twin.record.consumers import lerobot_input_features
from twin.record.engine import RecordConfig, record

EPISODES = int(os.environ.get("TWIN_LEROBOT_EPISODES", "20"))


@pytest.fixture(scope="module")
def pick(tmp_path_factory):
    root = tmp_path_factory.mktemp("lerobot") / "pick"
    s = record(RecordConfig(env="twin/PandaPickCube-v0", out=str(root), episodes=EPISODES,
                            policy="oracle", prompts=True, size=64, only_success=True))
    assert s.episodes == EPISODES
    return root


def test_lerobot_loads_and_a_dataloader_iterates(pick):
    import torch

    ds = LeRobotDataset("local/pick", root=pick, video_backend="pyav")
    assert ds.num_episodes == EPISODES
    for key, ft in ds.meta.features.items():
        if key not in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
            assert ft["names"] is not None, key
    item = ds[0]
    assert item["task"].startswith("pick up the") and item["observation.images.wrist"].shape == (
        3, 64, 64)
    stats = ds.meta.stats["action"]
    assert stats["q01"].shape == (7,) and np.all(np.asarray(stats["q01"]) <= np.asarray(
        stats["q99"]))
    loader = torch.utils.data.DataLoader(ds, batch_size=16, shuffle=True, num_workers=0)
    n = 0
    for i, batch in enumerate(loader):
        assert batch["action"].shape[1:] == (7,)
        assert batch["observation.prompts.third_person.skeleton"].shape[1:] == (3, 64, 64)
        n += batch["action"].shape[0]
        if i == 3:
            break
    assert n == 64


def test_prompt_videos_are_kept_out_of_policy_inputs(pick):
    ds = LeRobotDataset("local/pick", root=pick, video_backend="pyav")
    theirs = dataset_to_policy_features(ds.meta.features)
    prompts = [k for k in theirs if k.startswith("observation.prompts.") and k.endswith(
        (".skeleton", ".mask", ".depth"))]  # the videos, not keypoint_depth (a vector)
    assert len(prompts) == 6 and all(theirs[k].type.name == "VISUAL" for k in prompts)
    ours = lerobot_input_features(pick)
    assert set(ours) == {"observation.images.third_person", "observation.images.wrist",
                         "observation.state"}
    assert [f.type.name for f in ours.values()].count("VISUAL") == 2
