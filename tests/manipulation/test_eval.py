"""``twin eval policy``: Wilson intervals, records, resume, infrastructure failures, motion
similarity between imagined and executed video."""

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from twin.evaluate.motion_similarity import motion_similarity
from twin.evaluate.runner import EvalConfig, load_records, run_eval
from twin.evaluate.stats import point_biserial, wilson_interval

sys.path.insert(0, str(Path(__file__).parent))


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(15, 20)  # textbook: 0.531 - 0.888
    assert lo == pytest.approx(0.5313, abs=1e-3) and hi == pytest.approx(0.8881, abs=1e-3)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-3)
    assert point_biserial(np.array([0.1, 0.2, 0.9, 0.8]), np.array([0, 0, 1, 1])) > 0.9


def _cfg(tmp_path, **kw):
    base = dict(policy="oracle", task="panda_pick_cube", episodes=3, seed=0,
                out=str(tmp_path / "run"), env_kwargs={"obs_mode": "state"})
    base.update(kw)
    return EvalConfig(**base)


def test_oracle_eval_records_and_resume(tmp_path):
    s = run_eval(_cfg(tmp_path, episodes=2))
    assert s["episodes_ran"] == 2 and s["successes"] == 2 and s["wilson95"][1] == 1.0
    s = run_eval(_cfg(tmp_path, episodes=4))  # resume: only episodes 2 and 3 run
    recs = load_records(tmp_path / "run")
    assert [r["episode"] for r in recs] == [0, 1, 2, 3]
    assert [r["seed"] for r in recs] == [0, 1, 2, 3] and s["successes"] == 4
    assert all(r["instruction"].startswith("pick up the") for r in recs)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["episodes_ran"] == 4 and summary["env_ms_per_step"] > 0
    with pytest.raises(ValueError, match="different evaluation"):
        run_eval(_cfg(tmp_path, seed=5))


def test_same_seeds_same_records_across_workers(tmp_path):
    a = run_eval(_cfg(tmp_path, out=str(tmp_path / "a"), episodes=2, workers=1))
    b = run_eval(_cfg(tmp_path, out=str(tmp_path / "b"), episodes=2, workers=2))
    ra, rb = (sorted(load_records(tmp_path / d), key=lambda r: r["episode"]) for d in "ab")
    assert [(r["success"], r["steps"], r["return"]) for r in ra] == \
           [(r["success"], r["steps"], r["return"]) for r in rb]
    assert a["successes"] == b["successes"]


def test_server_restart_mid_run_is_an_infrastructure_failure(tmp_path):
    from twin.policy.server import PolicyServer

    calls = {"n": 0}
    reached = threading.Event()

    def policy(obs):
        calls["n"] += 1
        if calls["n"] == 5:
            reached.set()
        return np.tile(np.array([0, 0, 0, 0, 0, 0, 1.0], np.float32), (6, 1))

    srv = PolicyServer(policy, port=0).start()
    port = srv.port
    cfg = _cfg(tmp_path, policy=srv.url, episodes=3, timeout_s=5, connect_timeout_s=20,
               max_episode_steps=30)
    result = {}
    t = threading.Thread(target=lambda: result.update(run_eval(cfg)))
    t.start()
    assert reached.wait(30)
    srv.stop()  # episode 0 is in flight
    new = PolicyServer(policy, port=port).start()
    t.join(120)
    new.stop()
    recs = {r["episode"]: r for r in load_records(tmp_path / "run")}
    assert recs[0]["status"] == "infra_error" and "connection" in recs[0]["error"]
    assert recs[1]["status"] == "ok" and recs[2]["status"] == "ok"
    assert result["infra_errors"] == 1 and result["episodes_ran"] == 2
    # resume re-runs only the infrastructure failure
    again = PolicyServer(policy, port=port).start()
    s = run_eval(cfg)
    again.stop()
    assert s["infra_errors"] == 0 and s["episodes_ran"] == 3


def test_policy_errors_count_as_failures(tmp_path):
    s = run_eval(_cfg(tmp_path, policy="python:eval_policies:hold", episodes=1,
                      max_episode_steps=12))
    assert s["successes"] == 0 and s["episodes_ran"] == 1 and s["policy_errors"] == 0


def _moving_square(dx, dy, T=8):
    frames = []
    for t in range(T):
        f = np.full((96, 96, 3), 30, np.uint8)
        x, y = 30 + int(dx * t), 30 + int(dy * t)
        f[y:y + 20, x:x + 20] = [200, 50, 50]
        f[y + 5:y + 10, x + 5:x + 10] = [20, 200, 20]
        frames.append(f)
    return np.stack(frames)


def test_motion_similarity_matches_direction():
    same = motion_similarity(_moving_square(3, 0), _moving_square(3, 0))
    opposite = motion_similarity(_moving_square(3, 0), _moving_square(-3, 0))
    orthogonal = motion_similarity(_moving_square(3, 0), _moving_square(0, 3))
    assert same > 0.99 and opposite < -0.99 and abs(orthogonal) < 0.1
    assert motion_similarity(_moving_square(0, 0), _moving_square(3, 0)) is None  # no motion
