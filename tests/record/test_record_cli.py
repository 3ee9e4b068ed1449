"""``twin record``: the CLI writes a valid LeRobot v3.0 dataset, with or without prompts."""

from __future__ import annotations

import numpy as np

from twin.cli.main import main
from twin.record import check_dataset, load_episode, load_info
from twin.record.prompts import load_prompts_metadata
from twin.record.recovery import read_episode_rows
from twin.robots.keypoints import keypoint_table


def test_record_with_prompts_writes_every_feature(tmp_path, capsys):
    root = tmp_path / "reach"
    rc = main(["record", "twin/PandaReach-v0", "-o", str(root), "--episodes", "3",
               "--prompts", "--size", "64", "--seed", "5", "--env-arg", "max_episode_steps=4"])
    assert rc == 0
    assert "wrote 3 episodes (12 frames)" in capsys.readouterr().out
    info = check_dataset(root, decode_videos=True)
    assert info.total_episodes == 3 and info.total_frames == 12
    assert info.robot_type == "panda"
    assert set(info.video_keys) == {
        "observation.images.front", "observation.prompts.front.skeleton",
        "observation.prompts.front.mask", "observation.prompts.front.depth"}
    ep = load_episode(root, 1)
    k = len(keypoint_table("panda"))
    assert ep.data["observation.prompts.front.keypoints"].shape == (4, k, 2)
    assert ep.data["observation.prompts.front.visibility"].max() == 2
    assert ep.frames["observation.prompts.front.skeleton"].shape == (4, 64, 64, 3)
    assert ep.data["observation.sim.qpos"].shape[1] == len(
        load_info(root).features["observation.sim.qpos"].names)
    assert load_prompts_metadata(root)["prompts"] is True


def test_record_without_prompts_and_zero_policy(tmp_path):
    root = tmp_path / "zero"
    assert main(["record", "twin/PandaReach-v0", "-o", str(root), "--episodes", "1",
                 "--policy", "zero", "--size", "32", "--env-arg", "max_episode_steps=3"]) == 0
    info = check_dataset(root)
    assert not any(k.startswith("observation.prompts") for k in info.features)
    assert "observation.cameras.front.intrinsics" in info.features
    ep = load_episode(root, 0)
    assert np.all(ep.data["action"] == 0) and ep.length == 3
    assert load_prompts_metadata(root)["prompts"] is False
    # --resume continues the seed sequence up to the requested total
    assert main(["record", "twin/PandaReach-v0", "-o", str(root), "--episodes", "2",
                 "--policy", "zero", "--size", "32", "--env-arg", "max_episode_steps=3",
                 "--resume"]) == 0
    assert check_dataset(root).total_episodes == 2
    assert [r["seed"] for r in read_episode_rows(root)] == [0, 1]


def test_record_rejects_bad_input_with_one_line(tmp_path, capsys):
    bad_input = (2, 3)  # twin's bad-input exit status (3 once the CLI grammar lands)
    assert main(["record", "twin/NoSuchEnv-v0", "-o", str(tmp_path / "a"),
                 "--episodes", "1"]) in bad_input
    assert "unknown env" in capsys.readouterr().err
    assert main(["record", "twin/PandaReach-v0", "-o", str(tmp_path / "b"), "--episodes", "1",
                 "--size", "63"]) in bad_input
    assert "even" in capsys.readouterr().err
    assert main(["record", "twin/PandaReach-v0", "-o", str(tmp_path / "c"), "--episodes", "1",
                 "--cameras", "nope", "--size", "32"]) in bad_input
    assert "unknown cameras" in capsys.readouterr().err
    assert main(["record", "twin/PandaReach-v0", "-o", str(tmp_path / "d"), "--episodes", "1",
                 "only_succes=true"]) in bad_input
    assert "unknown key 'only_succes'" in capsys.readouterr().err
