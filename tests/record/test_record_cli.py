"""``twin record``: the CLI writes a valid LeRobot v3.0 dataset, with or without prompts;
``KEY=VALUE`` is the one spelling (the old ``--flags`` give the same dataset, with a
deprecation line each); a bad value is one line, exit 3, nothing written."""

from __future__ import annotations

import numpy as np
import pytest

from twin.cli.main import main
from twin.record import check_dataset, load_episode, load_info
from twin.record.prompts import load_prompts_metadata
from twin.record.recovery import read_episode_rows
from twin.robots.keypoints import keypoint_table


def test_record_with_prompts_writes_every_feature(tmp_path, capsys):
    root = tmp_path / "reach"
    rc = main(["record", "twin/PandaReach-v0", "-o", str(root), "episodes=3", "prompts=true",
               "size=64", "seed=5", "max_episode_steps=4"])
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
    assert main(["record", "twin/PandaReach-v0", f"out={root}", "episodes=1", "policy=zero",
                 "size=32", "max_episode_steps=3"]) == 0
    info = check_dataset(root)
    assert not any(k.startswith("observation.prompts") for k in info.features)
    assert "observation.cameras.front.intrinsics" in info.features
    ep = load_episode(root, 0)
    assert np.all(ep.data["action"] == 0) and ep.length == 3
    assert load_prompts_metadata(root)["prompts"] is False
    # resume=true continues the seed sequence up to the requested total
    assert main(["record", "twin/PandaReach-v0", f"out={root}", "episodes=2", "policy=zero",
                 "size=32", "max_episode_steps=3", "resume=true"]) == 0
    assert check_dataset(root).total_episodes == 2
    assert [r["seed"] for r in read_episode_rows(root)] == [0, 1]


def test_old_flags_record_the_same_dataset_with_a_deprecation_line_each(tmp_path, capsys):
    new, old = tmp_path / "new", tmp_path / "old"
    assert main(["record", "twin/PandaReach-v0", f"out={new}", "episodes=2", "policy=random",
                 "seed=7", "size=32", "cameras=[front]", "depth_range=[0.1,2.0]",
                 "min_length=2", "max_episode_steps=3", "env_kwargs.scene=panda_reach",
                 "task=reach the target"]) == 0
    assert capsys.readouterr().err.count("deprecated") == 0
    assert main(["record", "twin/PandaReach-v0", "--output", str(old), "--episodes", "2",
                 "--policy", "random", "--seed", "7", "--size", "32", "--cameras", "front",
                 "--depth-range", "0.1", "2.0", "--min-length", "2",
                 "--env-arg", "max_episode_steps=3", "--env-arg", "scene=panda_reach",
                 "--task", "reach the target"]) == 0
    err = capsys.readouterr().err.splitlines()
    deprecations = [ln for ln in err if "is deprecated" in ln]
    assert deprecations == [
        f"twin record: --output is deprecated; use out={old}",
        "twin record: --episodes is deprecated; use episodes=2",
        "twin record: --policy is deprecated; use policy=random",
        "twin record: --cameras is deprecated; use cameras=[front]",
        "twin record: --size is deprecated; use size=32",
        "twin record: --seed is deprecated; use seed=7",
        "twin record: --task is deprecated; use task=reach the target",
        "twin record: --depth-range is deprecated; use depth_range=[0.1,2.0]",
        "twin record: --min-length is deprecated; use min_length=2",
        "twin record: --env-arg is deprecated; use max_episode_steps=3",
        "twin record: --env-arg is deprecated; use env_kwargs.scene=panda_reach",
    ]
    a, b = check_dataset(new), check_dataset(old)
    assert a.total_episodes == b.total_episodes == 2 and a.total_frames == b.total_frames == 6
    for k in range(2):
        ea, eb = load_episode(new, k), load_episode(old, k)
        for key in ("action", "observation.state", "next.reward"):
            np.testing.assert_array_equal(ea.data[key], eb.data[key])
    assert [r["seed"] for r in read_episode_rows(new)] == [7, 8]
    assert read_episode_rows(new) == read_episode_rows(old)
    # switches and -o: --prompts --only-success --resume are prompts= only_success= resume=
    from twin.cli.main import build_parser
    from twin.cli.record_cmds import load_record_config

    parse = build_parser().parse_args
    cfg_old = load_record_config(parse(["record", "twin/PandaReach-v0", "-o", str(old),
                                        "--prompts", "--only-success", "--resume",
                                        "--workers", "2", "--codec", "libx264",
                                        "--render-profile", "fast"]))
    cfg_new = load_record_config(parse(["record", "twin/PandaReach-v0", f"out={old}",
                                        "prompts=true", "only_success=true", "resume=true",
                                        "workers=2", "codec=libx264", "render_profile=fast"]))
    assert cfg_old == cfg_new and cfg_new.prompts and cfg_new.only_success and cfg_new.resume
    assert (cfg_new.workers, cfg_new.codec, cfg_new.out) == (2, "libx264", str(old))


def test_help_lists_the_keys_and_hides_the_old_flags(capsys):
    from twin.cli.grammar import iter_keys
    from twin.record.engine import RecordConfig

    assert main(["record", "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: twin record [-h] [-o DIR] env_id [KEY=VALUE ...]" in out
    for flag in ("--episodes", "--policy", "--cameras", "--prompts", "--size", "--seed",
                 "--workers", "--task", "--codec", "--render-profile", "--depth-range",
                 "--env-arg", "--only-success", "--min-length", "--resume", "--output"):
        assert flag not in out, flag
    rows = {ln.split()[0]: ln.split() for ln in out.split("keys (KEY=VALUE")[1].splitlines()[1:]
            if ln.strip()}
    assert list(rows) == [k.key for k in iter_keys(RecordConfig)]
    assert rows["episodes"][1:3] == ["int", "10"] and rows["size"][1:3] == ["int", "256"]
    assert rows["only_success"][1:3] == ["bool", "false"]
    assert rows["cameras"][1:5] == ["list[str]", "|", "null", "null"]
    assert rows["env_kwargs"][1:3] == ["dict", "{}"]
    assert all(len(r) > 3 for r in rows.values()), "every key has a meaning"


BAD = [
    (["env=twin/NoSuchEnv-v0"], ["env='twin/NoSuchEnv-v0'", "registered id"]),
    (["episodes=0"], ["episodes=0", ">= 1"]),
    (["--episodes", "abc"], ["episodes='abc'", "an integer"]),
    (["size=63"], ["size=63", "even integer"]),
    (["--size", "63"], ["size=63", "even integer"]),
    (["size=0"], ["size=0"]),
    (["seed=-1"], ["seed=-1"]),
    (["workers=0"], ["workers=0"]),
    (["min_length=0"], ["min_length=0"]),
    (["max_attempts=0"], ["max_attempts=0"]),
    (["max_episode_steps=-3"], ["max_episode_steps=-3"]),
    (["execute_steps=0"], ["execute_steps=0"]),
    (["timeout_s=nan"], ["timeout_s=nan", "finite"]),
    (["policy=foo"], ["policy='foo'", "ws://HOST:PORT"]),
    (["render_profile=ultra"], ["render_profile='ultra'", "full, fast"]),
    (["--render-profile", "ultra"], ["render_profile='ultra'"]),
    (["depth_range=[2,1]"], ["depth_range=[2.0, 1.0]", "near_m < far_m"]),
    (["depth_range=[1]"], ["depth_range=[1.0]"]),
    (["cameras=[]"], ["cameras=[]", "non-empty"]),
    (["cameras=[nope]", "size=32"], ["unknown cameras ['nope']", "front"]),
    (["motions=no_such_clips"], ["motions='no_such_clips'"]),
    (["only_succes=true"], ["unknown key 'only_succes'", "did you mean 'only_success'"]),
    (["only_success=maybe"], ["only_success='maybe'", "true or false"]),
    (["env_kwargs=3"], ["env_kwargs"]),
    (["env_kwargs.bogus=1"], ["bogus", "refused by twin/PandaReach-v0"]),
    (["--env-arg", "novalue"], ["--env-arg 'novalue'", "KEY=VALUE"]),
    (["episodes"], ["expected KEY=VALUE", "'episodes'"]),
]


@pytest.mark.parametrize("items,needles", BAD, ids=[" ".join(i) for i, _ in BAD])
def test_record_bad_values_are_one_line_exit_3_nothing_written(items, needles, tmp_path,
                                                               capsys):
    out = tmp_path / "ds"
    rc = main(["record", "twin/PandaReach-v0", f"out={out}", "episodes=1", *items])
    err = capsys.readouterr().err.strip()
    last = err.splitlines()[-1]
    assert rc == 3 and last.startswith("twin: error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in last, (needle, last)
    assert not out.exists()


def test_record_output_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["record", "twin/PandaReach-v0", "-o", str(f)]) == 3
    assert "out=" in capsys.readouterr().err and f.read_text() == "x"
