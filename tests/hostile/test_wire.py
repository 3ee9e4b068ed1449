"""Hostile bytes on the policy wire: the decoder, the server and the client.

Every case here once crashed, hung or misled (issue 16): an object-dtype array segfaulted
the server, the server bound every interface without authentication and sent tracebacks,
slow policies with many clients timed out silently, garbage from a server counted as a
policy failure and leaked sockets. All on 127.0.0.1 with port 0.
"""

from __future__ import annotations

import gc
import inspect
import os
import threading
import time

import msgpack
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect
from websockets.sync.server import serve as ws_serve

from twin.policy import PolicyError, msgpack_numpy
from twin.policy.msgpack_numpy import ProtocolError
from twin.policy.server import PolicyServer, serve_policy
from twin.policy.websocket_client import InfrastructureError, WebsocketClientPolicy, healthz

pytestmark = pytest.mark.timeout(60)


def _array_msg(dtype, data: bytes, shape) -> bytes:
    return msgpack.packb({b"__ndarray__": True, b"data": data, b"dtype": dtype,
                          b"shape": shape}, use_bin_type=True)


# The 60-byte message that segfaulted `twin eval serve`: an object array from raw bytes.
SEGFAULT_MSG = msgpack.packb({"x": {b"__ndarray__": True, b"data": b"\x41" * 16,
                                    b"dtype": "|O", b"shape": [2]}}, use_bin_type=True)

HOSTILE = {
    "object dtype": _array_msg("|O", b"\x01" * 16, [2]),
    "void dtype": _array_msg("|V8", b"\x01" * 16, [2]),
    "complex dtype": _array_msg("<c16", b"\x01" * 32, [2]),
    "unicode dtype": _array_msg("<U2", b"\x01" * 16, [2]),
    "datetime dtype": _array_msg("<M8[s]", b"\x01" * 16, [2]),
    "structured dtype": _array_msg([["a", "<f8"]], b"\x01" * 16, [2]),
    "not a dtype": _array_msg("zz9", b"\x01" * 16, [2]),
    "short data": _array_msg("<f8", b"\x01" * 15, [2]),
    "long data": _array_msg("<f8", b"\x01" * 24, [2]),
    "negative shape": _array_msg("<f8", b"\x01" * 16, [-2, -1]),
    "float shape": _array_msg("<f8", b"\x01" * 16, [2.0]),
    "too many dims": _array_msg("|u1", b"\x01", [1] * 40),
    "data not bytes": _array_msg("<f8", "abcdefgh", [1]),
    "scalar overflow": msgpack.packb({b"__npgeneric__": True, b"data": 300, b"dtype": "|u1"}),
    "scalar object": msgpack.packb({b"__npgeneric__": True, b"data": [1], b"dtype": "|O"}),
    "nested 5000 deep": b"\x91" * 5000 + b"\xc0",
    "truncated bin": b"\xc6\xff\xff\xff\xff",
    "trailing bytes": b"\xc0\xc0",
    "empty": b"",
    "reserved byte": b"\xc1",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_decoder_refuses_hostile_messages(name):
    with pytest.raises(ProtocolError):
        msgpack_numpy.unpackb(HOSTILE[name])


def test_decoder_segfault_message_and_size_limit():
    assert len(SEGFAULT_MSG) < 64
    with pytest.raises(ProtocolError, match="only bool, integer and float"):
        msgpack_numpy.unpackb(SEGFAULT_MSG)
    big = msgpack_numpy.packb({"img": np.zeros(5000, np.uint8)})
    with pytest.raises(ProtocolError, match="exceeds the limit of 4096"):
        msgpack_numpy.unpackb(big, max_bytes=4096)
    assert msgpack_numpy.unpackb(big, max_bytes=len(big))["img"].shape == (5000,)
    assert msgpack_numpy.DEFAULT_MAX_BYTES == 256 * 2**20


def test_every_numeric_dtype_round_trips():
    for dt in ("?", "u1", "i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8", "<f2", "<f4", "<f8",
               ">f8", ">i4"):
        a = (np.arange(24) % 2 if dt == "?" else np.arange(24)).astype(dt).reshape(2, 3, 4)
        back = msgpack_numpy.unpackb(msgpack_numpy.packb({"a": a, "s": a.flat[1]}))
        assert back["a"].dtype == a.dtype and back["a"].shape == (2, 3, 4)
        np.testing.assert_array_equal(back["a"], a)
        assert back["s"] == a.flat[1]  # np.float64 is a Python float: msgpack's own float
        assert np.asarray(back["s"]).dtype == a.dtype.newbyteorder("=")
    empty = msgpack_numpy.unpackb(msgpack_numpy.packb(np.zeros((0, 7), np.float32)))
    assert empty.shape == (0, 7)
    with pytest.raises(TypeError):  # the encoder refuses what the decoder would
        msgpack_numpy.packb({"c": np.zeros(2, np.complex128)})


# --- server ---------------------------------------------------------------------------------
def _echo(obs):
    return {"actions": np.full((2, 3), float(np.sum(obs.get("x", 0))))}


def _raw_exchange(url: str, payload: bytes | str, headers=None):
    """Send one frame after the metadata; return (reply, close code)."""
    with ws_connect(url, additional_headers=headers, max_size=None) as ws:
        ws.recv(timeout=5)
        ws.send(payload)
        try:
            reply = ws.recv(timeout=5)
        except ConnectionClosed as exc:
            return None, exc.rcvd.code if exc.rcvd else None
        try:
            ws.recv(timeout=2)
        except ConnectionClosed as exc:
            return reply, exc.rcvd.code if exc.rcvd else None
        except TimeoutError:
            return reply, None
        return reply, None


def test_server_survives_hostile_requests_and_answers_protocol_errors():
    with PolicyServer(_echo, port=0) as srv:
        for payload in [SEGFAULT_MSG, *HOSTILE.values(), "a text frame",
                        msgpack_numpy.packb([1, 2, 3])]:
            reply, code = _raw_exchange(srv.url, payload)
            assert isinstance(reply, str) and reply.startswith("twin-error protocol: ")
            assert "Traceback" not in reply and "\n" not in reply
            assert code == 1008
        assert srv.stats["protocol"] == len(HOSTILE) + 3
        client = WebsocketClientPolicy(srv.url, timeout_s=5)
        assert client.infer({"x": np.ones(4)})["actions"][0, 0] == 4.0
        client.close()


def test_server_binds_loopback_by_default():
    assert inspect.signature(serve_policy).parameters["host"].default == "127.0.0.1"
    srv = PolicyServer(_echo, port=0)
    try:
        assert srv._server.socket.getsockname()[0] == "127.0.0.1"
    finally:
        srv.stop()


def test_token_auth_401_without_or_with_a_wrong_token(monkeypatch):
    monkeypatch.delenv("TWIN_POLICY_TOKEN", raising=False)
    with PolicyServer(_echo, port=0, token="s3cret-token") as srv:
        assert healthz(srv.url)  # liveness stays open
        for headers in (None, {"Authorization": "Api-Key wrong-token"},
                        {"Authorization": "s3cret-token"}):
            with pytest.raises(InvalidStatus) as info:
                ws_connect(srv.url, additional_headers=headers).close()
            assert info.value.response.status_code == 401
        t0 = time.monotonic()
        with pytest.raises(InfrastructureError, match="HTTP 401"):
            WebsocketClientPolicy(srv.url, connect_timeout_s=30).infer({"x": np.ones(1)})
        assert time.monotonic() - t0 < 5  # no retrying a refusal for 30 s
        for key in ("s3cret-token",):
            client = WebsocketClientPolicy(srv.url, api_key=key, timeout_s=5)
            assert client.infer({"x": np.ones(2)})["actions"][0, 0] == 2.0
            client.close()
        monkeypatch.setenv("TWIN_POLICY_TOKEN", "s3cret-token")
        client = WebsocketClientPolicy(srv.url, timeout_s=5)
        assert client.infer({"x": np.ones(3)})["actions"][0, 0] == 3.0
        client.close()
        with ws_connect(srv.url, additional_headers={"Authorization": "Bearer s3cret-token"}
                        ) as ws:
            assert msgpack_numpy.unpackb(ws.recv(timeout=5)) == {}
        assert srv.stats["unauthorized"] == 4


def test_no_traceback_on_the_wire_unless_debug():
    def broken(obs):
        raise RuntimeError("model exploded")

    for debug in (False, True):
        with PolicyServer(broken, port=0, debug=debug) as srv:
            reply, code = _raw_exchange(srv.url, msgpack_numpy.packb({"x": 1}))
            assert reply.startswith("twin-error policy: RuntimeError: model exploded")
            assert ("Traceback" in reply) is debug and code == 1011
            client = WebsocketClientPolicy(srv.url, timeout_s=5)
            with pytest.raises(PolicyError, match="model exploded"):
                client.infer({"x": np.zeros(1)})
            client.close()


def test_oversized_message_closes_the_connection_server_keeps_serving():
    with PolicyServer(_echo, port=0, max_message_bytes=64 * 1024) as srv:
        client = WebsocketClientPolicy(srv.url, timeout_s=5)
        with pytest.raises(InfrastructureError, match="1009|too big"):
            client.infer({"x": np.zeros(200_000, np.uint8)})
        assert client.infer({"x": np.ones(5)})["actions"][0, 0] == 5.0
        client.close()


class _Gate:
    """A policy that blocks until released; counts the calls it started."""

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def infer(self, obs):
        self.calls += 1
        self.entered.set()
        assert self.release.wait(20)
        return {"actions": np.zeros((1, 3))}


def test_bounded_queue_answers_busy_at_once():
    gate = _Gate()
    with PolicyServer(gate, port=0, max_queue=1, request_timeout_s=20) as srv:
        results: dict[str, object] = {}

        def ask(name):
            c = WebsocketClientPolicy(srv.url, timeout_s=20)
            try:
                results[name] = c.infer({"x": np.ones(1)})["actions"].shape
            except Exception as exc:  # noqa: BLE001 (recorded for the assertions)
                results[name] = exc
            finally:
                c.close()

        first = threading.Thread(target=ask, args=("computing",))
        first.start()
        assert gate.entered.wait(10)
        second = threading.Thread(target=ask, args=("queued",))
        second.start()
        deadline = time.monotonic() + 10
        while srv._queue.qsize() < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        t0 = time.monotonic()
        ask("third")
        ask("fourth")
        assert time.monotonic() - t0 < 3  # answered at once, not after the slow policy
        for name in ("third", "fourth"):
            assert isinstance(results[name], InfrastructureError)
            assert "busy" in str(results[name])
        gate.release.set()
        first.join(20)
        second.join(20)
        assert results["computing"] == (1, 3) and results["queued"] == (1, 3)
        assert srv.stats["busy"] == 2 and srv.stats["served"] == 2 and gate.calls == 2


def test_request_timeout_and_abandoned_requests_are_not_computed():
    gate = _Gate()
    with PolicyServer(gate, port=0, max_queue=4, request_timeout_s=0.3) as srv:
        a = WebsocketClientPolicy(srv.url, timeout_s=10)
        b = WebsocketClientPolicy(srv.url, timeout_s=10)
        with pytest.raises(InfrastructureError, match="timeout: no answer within "
                           r"request_timeout_s=0.3 s \(still computing\)"):
            a.infer({"x": np.ones(1)})
        with pytest.raises(InfrastructureError, match=r"never started"):
            b.infer({"x": np.ones(1)})  # queued behind a's, gives up first
        gate.release.set()
        deadline = time.monotonic() + 10
        while srv.stats["dropped"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert srv.stats["dropped"] == 1 and srv.stats["timeout"] == 2 and gate.calls == 1
        # the connection stays usable after a timeout: the late answer is never sent
        assert b.infer({"x": np.ones(1)})["actions"].shape == (1, 3)
        a.close()
        b.close()


def test_server_rejects_bad_settings():
    from twin.errors import ConfigError

    for kw, key in [({"port": 99999}, "port"), ({"max_queue": 0}, "max_queue"),
                    ({"request_timeout_s": -1}, "request_timeout_s"),
                    ({"token": "short"}, "token"), ({"workers": 0}, "workers")]:
        with pytest.raises(ConfigError, match=f"^{key}="):
            PolicyServer(_echo, **{"port": 0, **kw})


# --- client against hostile servers ---------------------------------------------------------
def _garbage_server(first: bytes | str, reply: bytes | str | None = None):
    def handler(ws):
        try:
            ws.send(first)
            if reply is not None:
                ws.recv()
                ws.send(reply)
            ws.recv()
        except ConnectionClosed:
            pass

    srv = ws_serve(handler, "127.0.0.1", 0, max_size=None)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"ws://127.0.0.1:{srv.socket.getsockname()[1]}"


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_garbage_metadata_is_infrastructure_and_leaks_no_sockets():
    srv, url = _garbage_server(b"\xc1 not msgpack")
    try:
        client = WebsocketClientPolicy(url, connect_timeout_s=0, timeout_s=5)
        with pytest.raises(InfrastructureError, match="undecodable metadata"):
            client.infer({"x": np.ones(1)})
        gc.collect()
        before = _fds()
        for _ in range(100):
            with pytest.raises(InfrastructureError):
                client.infer({"x": np.ones(1)})
        deadline = time.monotonic() + 5
        while _fds() > before + 2 and time.monotonic() < deadline:
            gc.collect()
            time.sleep(0.05)
        assert _fds() <= before + 2, f"{_fds() - before} descriptors leaked"
    finally:
        srv.shutdown()
    refused = WebsocketClientPolicy(url, connect_timeout_s=0, timeout_s=5)  # server gone
    before = _fds()
    for _ in range(100):
        with pytest.raises(InfrastructureError, match="cannot connect"):
            refused.infer({"x": np.ones(1)})
    assert _fds() <= before + 2


@pytest.mark.parametrize("first,reply,match", [
    (msgpack_numpy.packb([1, 2]), None, "metadata of type list"),
    (msgpack_numpy.packb({}), b"\x93\x01", "undecodable reply"),
    (msgpack_numpy.packb({}), SEGFAULT_MSG, "undecodable reply"),
    (msgpack_numpy.packb({}), msgpack_numpy.packb("actions"), "reply of type str"),
    (msgpack_numpy.packb({}), "twin-error busy: 4 requests already queued", "busy"),
    (msgpack_numpy.packb({}), "twin-error protocol: bad", "protocol"),
])
def test_client_classifies_garbage_as_infrastructure(first, reply, match):
    srv, url = _garbage_server(first, reply)
    try:
        client = WebsocketClientPolicy(url, connect_timeout_s=0, timeout_s=5)
        with pytest.raises(InfrastructureError, match=match):
            client.infer({"x": np.ones(1)})
        client.close()
    finally:
        srv.shutdown()


def test_client_keeps_openpi_tracebacks_as_policy_errors():
    srv, url = _garbage_server(msgpack_numpy.packb({}), "Traceback ...\nValueError: boom")
    try:
        client = WebsocketClientPolicy(url, connect_timeout_s=0, timeout_s=5)
        with pytest.raises(PolicyError, match="boom"):
            client.infer({"x": np.ones(1)})
        client.close()
    finally:
        srv.shutdown()


def test_busy_reply_survives_a_socket_closed_before_the_client_reads_it(monkeypatch):
    """A busy server sends its error frame and closes at once; when the connection's reader
    has already closed the socket, the client must still report 'busy' (it said 'Bad file
    descriptor' on a loaded CI machine)."""
    import twin.policy.websocket_client as wc

    real_connect = wc.connect

    def connect_then_wait_for_the_close(*args, **kwargs):
        ws = real_connect(*args, **kwargs)
        deadline = time.monotonic() + 5
        while ws.socket.fileno() != -1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ws.socket.fileno() == -1  # the race, made certain
        return ws

    with PolicyServer(_echo, port=0, max_connections=1) as srv:
        first = WebsocketClientPolicy(srv.url, timeout_s=5)
        first.connect()
        monkeypatch.setattr(wc, "connect", connect_then_wait_for_the_close)
        refused = WebsocketClientPolicy(srv.url, timeout_s=5, connect_timeout_s=0)
        with pytest.raises(InfrastructureError, match="busy: too many connections"):
            refused.infer({"x": np.ones(1)})
        first.close()


def test_connection_limit_answers_busy_and_frees_its_slot():
    with PolicyServer(_echo, port=0, max_connections=2) as srv:
        a = WebsocketClientPolicy(srv.url, timeout_s=5)
        b = WebsocketClientPolicy(srv.url, timeout_s=5)
        a.connect()
        b.connect()
        with ws_connect(srv.url) as ws:
            assert ws.recv(timeout=5) == "twin-error busy: too many connections; retry later"
        third = WebsocketClientPolicy(srv.url, timeout_s=5, connect_timeout_s=0)
        with pytest.raises(InfrastructureError, match="busy: too many connections"):
            third.infer({"x": np.ones(1)})
        a.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the server notices the close asynchronously
            try:
                assert third.infer({"x": np.ones(2)})["actions"][0, 0] == 2.0
                break
            except InfrastructureError:
                time.sleep(0.05)
        else:
            pytest.fail("the freed slot was never reused")
        b.close()
        third.close()


def test_action_chunks_of_timedelta_or_complex_are_refused():
    import gymnasium as gym

    from twin.policy import ActionChunk

    class _Env(gym.Env):
        observation_space = gym.spaces.Box(-1, 1, (1,))
        action_space = gym.spaces.Box(-1, 1, (2,))

        def reset(self, *, seed=None, options=None):
            return np.zeros(1, np.float32), {}

        def step(self, a):
            return np.zeros(1, np.float32), 1.0, False, False, {}

    env = ActionChunk(_Env(), execute_steps=2)
    env.reset()
    for dtype in ("m8[s]", "c16", "?", "O"):
        with pytest.raises(ValueError, match="expected a numeric dtype"):
            env.step(np.zeros((3, 2), dtype))
    assert env.step(np.zeros((3, 2), np.int16))[1] == 2.0
