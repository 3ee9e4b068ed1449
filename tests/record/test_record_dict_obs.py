"""Recording manipulation envs: dict observations -> named state, instructions -> tasks."""

import json

import pyarrow.parquet as pq

from twin.cli.main import main


def test_record_manipulation_env_with_instructions(tmp_path):
    out = tmp_path / "ds"
    rc = main(["record", "twin/PandaMoveNear-v0", "-o", str(out), "--episodes", "3",
               "--size", "64", "--seed", "3", "--env-arg", "obs_mode=state",
               "--env-arg", "max_episode_steps=12"])
    assert rc == 0
    info = json.loads((out / "meta" / "info.json").read_text())
    names = info["features"]["observation.state"]["names"]
    assert "joint_pos[0]" in names and "ee_pos[2]" in names
    assert info["features"]["observation.state"]["shape"] == [len(names)]
    assert "observation.images.third_person" in info["features"]
    eps = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet",
                        columns=["tasks"]).to_pydict()["tasks"]
    assert len(eps) == 3
    assert all(t[0].startswith("move the ") and " cube near the " in t[0] for t in eps)
    tasks = pq.read_table(out / "meta/tasks.parquet").to_pydict()["task"]
    assert set(tasks) == {t[0] for t in eps}
