"""``twin eval policy ... record=DIR``: the evaluated episodes become a dataset whose episode
columns carry each episode's success, termination and seed."""

from __future__ import annotations

import json

from twin.evaluate.runner import EvalConfig, run_eval
from twin.record import check_dataset, load_info
from twin.record.recovery import read_episode_rows


def test_eval_records_its_episodes_with_success_and_termination(tmp_path):
    cfg = EvalConfig(policy="oracle", task="panda_pick_cube", episodes=2, seed=3,
                     out=str(tmp_path / "eval"), max_episode_steps=30,
                     env_kwargs={"image_size": 32}, record=str(tmp_path / "ds"))
    summary = run_eval(cfg)
    records = [json.loads(line) for line in (tmp_path / "eval/episodes.jsonl").read_text()
               .splitlines()]
    info = check_dataset(tmp_path / "ds")
    rows = read_episode_rows(tmp_path / "ds")
    assert info.total_episodes == 2 == summary["episodes_ran"]
    assert [r["seed"] for r in rows] == [r["seed"] for r in records] == [3, 4]
    assert [r["success"] for r in rows] == [r["success"] for r in records]
    assert [r["termination"] for r in rows] == [r["termination"] for r in records]
    assert sum(r["length"] for r in rows) == sum(r["steps"] for r in records)
    assert load_info(tmp_path / "ds").features["observation.images.wrist"].shape == (32, 32, 3)
