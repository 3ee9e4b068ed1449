"""Policy plumbing: chunk execution and ensembling, msgpack wire format, websocket client and
server (round trip, /healthz, server errors, restart mid-run, timeouts). 127.0.0.1 only."""

import threading
import time

import gymnasium as gym
import numpy as np
import pytest

from twin.policy import (
    ActionChunk,
    CallablePolicy,
    PolicyError,
    msgpack_numpy,
    validate_policy_output,
)
from twin.policy.server import PolicyServer
from twin.policy.websocket_client import InfrastructureError, WebsocketClientPolicy, healthz


class _CountingEnv(gym.Env):
    """Records the actions it receives."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,))
    action_space = gym.spaces.Box(-10, 10, (2,))

    def __init__(self):
        self.seen = []

    def reset(self, *, seed=None, options=None):
        self.seen.clear()
        return np.zeros(1, np.float32), {}

    def step(self, a):
        self.seen.append(np.array(a))
        return np.array([len(self.seen)], np.float32), 1.0, False, False, {"t": len(self.seen)}


def test_chunk_executes_first_m():
    env = ActionChunk(_CountingEnv(), execute_steps=3)
    env.reset()
    chunk = np.arange(12, dtype=np.float64).reshape(6, 2)
    obs, r, _te, _tr, info = env.step(chunk)
    assert r == 3.0 and obs[0] == 3 and info["step_rewards"] == [1.0, 1.0, 1.0]
    np.testing.assert_array_equal(np.array(env.unwrapped.seen), chunk[:3])
    assert all(a.dtype == np.float32 and a.shape == (2,) for a in env.unwrapped.seen)
    assert [i["t"] for i in info["step_infos"]] == [1, 2, 3]
    with pytest.raises(ValueError, match=r"expected shape \(K, 2\)"):
        env.step(np.zeros((6, 7)))


def test_temporal_ensemble_averages_overlapping_chunks():
    env = ActionChunk(_CountingEnv(), execute_steps=3, temporal_ensemble=True, ensemble_k=0.0)
    env.reset()
    env.step(np.zeros((6, 2)))  # predicts t = 0..5 as 0
    env.step(np.ones((6, 2)))  # predicts t = 3..8 as 1
    # t = 3, 4, 5: mean of the two chunks' predictions
    np.testing.assert_allclose(np.array(env.unwrapped.seen[3:6]), 0.5)


def test_msgpack_numpy_round_trip():
    obs = {"instruction": "pick up the red cube", "x": np.arange(6, dtype=np.float32).reshape(2, 3),
           "images": {"wrist": np.full((4, 5, 3), 7, np.uint8)}, "s": np.float64(2.5)}
    back = msgpack_numpy.unpackb(msgpack_numpy.packb(obs))
    assert back["instruction"] == obs["instruction"] and back["s"] == 2.5
    np.testing.assert_array_equal(back["x"], obs["x"])
    assert back["x"].dtype == np.float32 and back["images"]["wrist"].shape == (4, 5, 3)
    with pytest.raises(TypeError):
        msgpack_numpy.packb({"bad": np.array([object()])})


def test_policy_output_validation():
    assert validate_policy_output({"actions": np.zeros(7)}, 7)["actions"].shape == (1, 7)
    with pytest.raises(PolicyError, match="D = 7"):
        validate_policy_output({"actions": np.zeros((6, 6))}, 7)
    with pytest.raises(PolicyError, match="'actions'"):
        validate_policy_output(np.zeros((6, 7)), 7)


def _chunk_policy(obs):
    return {"actions": np.full((6, 7), float(obs["x"].sum()), np.float32)}


def test_websocket_round_trip_metadata_and_healthz():
    with PolicyServer(_chunk_policy, port=0, metadata={"model": "test", "K": 6}) as srv:
        assert healthz(srv.url)
        client = WebsocketClientPolicy(srv.url, timeout_s=5)
        for k in range(3):
            out = client.infer({"x": np.arange(3.0) + k, "instruction": "go"})
            assert out["actions"].shape == (6, 7) and out["actions"][0, 0] == 3.0 + 3 * k
            assert out["server_timing"]["infer_ms"] >= 0
        assert client.metadata == {"model": "test", "K": 6}
        client.close()


def test_server_error_is_a_policy_error():
    def broken(obs):
        raise RuntimeError("model exploded")

    with PolicyServer(broken, port=0) as srv:
        client = WebsocketClientPolicy(srv.url, timeout_s=5)
        with pytest.raises(PolicyError, match="model exploded"):
            client.infer({"x": np.zeros(1)})
        client.close()


def test_timeout_is_clean():
    def slow(obs):
        time.sleep(1.5)
        return {"actions": np.zeros((6, 7))}

    with PolicyServer(slow, port=0) as srv:
        client = WebsocketClientPolicy(srv.url, timeout_s=0.3)
        t0 = time.monotonic()
        with pytest.raises(InfrastructureError, match="did not answer within"):
            client.infer({"x": np.zeros(1)})
        assert time.monotonic() - t0 < 1.0
        client.close()


def test_unreachable_server_fails_within_connect_timeout():
    client = WebsocketClientPolicy("ws://127.0.0.1:9", connect_timeout_s=0.5, backoff_s=0.05)
    t0 = time.monotonic()
    with pytest.raises(InfrastructureError, match="cannot connect"):
        client.infer({"x": np.zeros(1)})
    assert time.monotonic() - t0 < 2.0


def test_client_reconnects_after_server_restart():
    srv = PolicyServer(_chunk_policy, port=0).start()
    port = srv.port
    client = WebsocketClientPolicy(srv.url, timeout_s=5, connect_timeout_s=10, backoff_s=0.05)
    assert client.infer({"x": np.ones(2)})["actions"][0, 0] == 2.0
    srv.stop()
    with pytest.raises(InfrastructureError):
        client.infer({"x": np.ones(2)})
    restarted = threading.Timer(0.3, lambda: holder.append(
        PolicyServer(_chunk_policy, port=port).start()))
    holder: list = []
    restarted.start()
    out = client.infer({"x": np.ones(3)})  # retries with backoff until the server is back
    assert out["actions"][0, 0] == 3.0 and client.reconnects == 1
    client.close()
    restarted.join()
    holder[0].stop()


def test_callable_policy_accepts_bare_arrays():
    p = CallablePolicy(lambda obs: np.zeros((6, 7)))
    assert p.infer({})["actions"].shape == (6, 7)
