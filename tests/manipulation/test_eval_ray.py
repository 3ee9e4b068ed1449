"""``twin eval policy ... ray_address=local`` gives the same per-episode records as a local
run for the same seeds (skipped where ray is not installed: it is an optional extra)."""

import pytest

from twin.evaluate.runner import EvalConfig, load_records, run_eval


def test_ray_matches_local(tmp_path):
    ray = pytest.importorskip("ray")
    base = dict(policy="oracle", task="twin/PandaOpenDrawer-v0", episodes=2, seed=3,
                env_kwargs={"obs_mode": "state"})
    run_eval(EvalConfig(out=str(tmp_path / "local"), **base))
    try:
        run_eval(EvalConfig(out=str(tmp_path / "ray"), ray_address="local", **base))
    finally:
        ray.shutdown()
    key = lambda r: (r["episode"], r["seed"], r["status"], r["success"], r["steps"],
                     r["return"], r["instruction"])
    local = sorted(map(key, load_records(tmp_path / "local")))
    remote = sorted(map(key, load_records(tmp_path / "ray")))
    assert local == remote and len(local) == 2 and all(r[3] for r in local)
