"""A stock openpi-style server (flat LIBERO keys in, [d-pos, d-rot, gripper -1 open / +1
closed] out) evaluated without an adapter (obs_keys=libero), the server's metadata, and
``twin eval policy ... record=DIR`` writing the evaluated episodes with their seed, success
and termination as episode columns."""

from __future__ import annotations

import json

import numpy as np

from twin.evaluate.interop import OBS_PRESETS, InteropPolicy, map_observation, serve_metadata
from twin.evaluate.runner import EvalConfig, run_eval
from twin.policy.callable import CallablePolicy
from twin.policy.server import PolicyServer
from twin.record import check_dataset, load_info
from twin.record.recovery import read_episode_rows

LIBERO_KEYS = {"observation/image", "observation/wrist_image", "observation/state", "prompt"}
SEEN: list[dict] = []


def stock_libero_policy(obs: dict) -> dict:
    """What a LIBERO openpi server accepts and returns: 2 steps up by 1 cm, gripper closing."""
    assert set(obs) == LIBERO_KEYS, sorted(obs)
    assert obs["observation/image"].ndim == 3 and obs["observation/state"].shape == (8,)
    SEEN.append({"image": obs["observation/image"].shape, "state": obs["observation/state"]})
    return {"actions": np.tile([0.0, 0.0, 0.01, 0.0, 0.0, 0.0, 1.0], (2, 1))}


def test_actions_are_reordered_and_the_gripper_converted():
    twin_obs = {"instruction": "pick up the red cube", "ee_pos": np.array([0.4, 0, 0.9]),
                "ee_quat_wxyz": np.array([0.0, 1.0, 0.0, 0.0]), "gripper": np.array([0.25]),
                "joint_pos": np.zeros(9), "images": {"third_person": np.zeros((4, 4, 3), np.uint8),
                                                     "wrist": np.ones((4, 4, 3), np.uint8)}}
    sent = map_observation(twin_obs, OBS_PRESETS["libero"])
    assert set(sent) == LIBERO_KEYS and sent["prompt"] == "pick up the red cube"
    np.testing.assert_allclose(sent["observation/state"],
                               [0.4, 0, 0.9, np.pi, 0, 0, 0.25, 0.25], atol=1e-6)
    libero = CallablePolicy(lambda o: np.array([[1, 2, 3, 4, 5, 6, -1.0], [0, 0, 0, 0, 0, 0, 1.0]]))
    p = InteropPolicy(libero, OBS_PRESETS["libero"], [3, 4, 5, 0, 1, 2, 6], "signed_close",
                      "open01")
    a = p.infer(twin_obs)["actions"]
    np.testing.assert_allclose(a, [[4, 5, 6, 1, 2, 3, 1.0], [0, 0, 0, 0, 0, 0, 0.0]])


def test_eval_against_a_stock_libero_server_and_its_metadata(tmp_path):
    SEEN.clear()
    policy = CallablePolicy(stock_libero_policy)
    meta = serve_metadata(policy, "panda_pick_cube", "libero")
    assert meta["action_dim"] == 7 and meta["action_horizon"] == 2
    assert meta["camera_keys"] == ["observation/image", "observation/wrist_image"]
    assert meta["action_layout"]["gripper"] == "open01"
    with PolicyServer(policy, port=0, metadata=meta) as server:
        cfg = EvalConfig(policy=server.url, task="panda_pick_cube", episodes=1,
                         out=str(tmp_path / "eval"), max_episode_steps=4, obs_keys="libero",
                         env_kwargs={"image_size": 32}, record=str(tmp_path / "ds"))
        summary = run_eval(cfg)
    rec = json.loads((tmp_path / "eval/episodes.jsonl").read_text().splitlines()[0])
    assert rec["status"] == "ok" and summary["policy_errors"] == 0
    rows = read_episode_rows(tmp_path / "ds")
    assert check_dataset(tmp_path / "ds").total_episodes == 1
    assert [(r["seed"], r["success"], r["termination"], r["length"]) for r in rows] == [
        (rec["seed"], rec["success"], rec["termination"], rec["steps"])]
    assert load_info(tmp_path / "ds").features["observation.images.wrist"].shape == (32, 32, 3)
    assert f"policy: `{server.url}`" in (tmp_path / "ds" / "README.md").read_text()
    assert SEEN[-1]["image"] == (32, 32, 3)
    # LIBERO's [d-pos, ..., +1 = close] executed as twin's [d-rot, d-pos, open fraction]: the
    # tool rose and the gripper closed (state: ee_pos, rotation vector, open fraction x 2)
    first, last = SEEN[1]["state"], SEEN[-1]["state"]
    assert last[2] > first[2] + 0.005 and last[6] < first[6] - 0.1
