"""A policy server speaking openpi's websocket protocol, safe to leave running.

```python
from twin.policy.server import serve_policy

class MyVLA:                       # VideoVLA, CogACT, ... : load the model once
    def __init__(self): self.model = load_model()
    def infer(self, obs):          # obs: instruction, images, proprioception
        chunk = self.model.predict(obs["images"]["third_person"], obs["instruction"])
        return {"actions": chunk}  # (K, 7); optional "video": (T, H, W, 3) uint8

serve_policy(MyVLA(), port=8000)   # blocks; ws://127.0.0.1:8000, GET /healthz -> 200
```

On connect the server sends the metadata dict; each request is answered with the policy's
output plus ``server_timing`` (``infer_ms``).

Safety, since the port is a door into the machine:
- binds 127.0.0.1 unless ``host`` says otherwise (``0.0.0.0`` to serve a network);
- with ``token`` set, the websocket handshake must carry ``Authorization: Api-Key TOKEN``
  (openpi-client's ``api_key``) or ``Bearer TOKEN``, else HTTP 401; ``/healthz`` stays open;
- messages larger than ``max_message_bytes`` close the connection (1009) before they are
  read; requests are decoded by ``msgpack_numpy.unpackb`` (numeric arrays only);
- requests wait in one bounded queue served by ``workers`` threads (1: models are rarely
  re-entrant); a full queue is answered at once with a ``busy`` error, a request not
  answered within ``request_timeout_s`` with a ``timeout`` error, and a request whose
  client gave up is dropped before it is computed;
- errors go back as one text frame, ``twin-error KIND: message`` with KIND in ``policy``,
  ``busy``, ``timeout``, ``protocol``; a Python traceback only with ``debug=True``.
  A ``policy`` or ``protocol`` error closes the connection (openpi's behaviour);
  ``busy`` and ``timeout`` keep it open for a retry.
"""

from __future__ import annotations

import hmac
import http
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from twin.errors import ConfigError
from twin.policy import msgpack_numpy
from twin.policy.base import Policy
from twin.policy.callable import CallablePolicy

log = logging.getLogger(__name__)

ERROR_PREFIX = "twin-error "
ERROR_KINDS = ("policy", "busy", "timeout", "protocol")


def error_frame(kind: str, message: str) -> str:
    return f"{ERROR_PREFIX}{kind}: {message}"


@dataclass
class _Job:
    obs: dict
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: bool = False
    cancelled: bool = False
    result: Any = None
    error: BaseException | None = None
    trace: str = ""
    infer_ms: float = 0.0


@dataclass
class ServeConfig:
    """``twin eval serve KEY=VALUE...``: one policy behind a websocket.

    policy: python:MODULE:FACTORY, a factory returning a Policy or a callable (required)
    host: interface to bind; 0.0.0.0 serves the network (set token= then)
    port: TCP port (0 = any free port)
    token: shared secret clients send as 'Authorization: Api-Key TOKEN'; null = $TWIN_POLICY_TOKEN or open
    debug: send Python tracebacks to clients with errors
    request_timeout_s: seconds one request may wait and compute before a timeout reply
    max_queue: requests waiting at most; more get a busy reply at once
    workers: inference threads (1 unless the policy is re-entrant)
    max_message_mb: largest request accepted, MiB (bigger closes the connection)
    max_connections: clients connected at once
    task: a task preset the policy serves: metadata then carries action_dim, action_horizon,
        camera_keys, image_size and the action layout (one inference at start measures them)
    obs_keys: the observation keys clients send (libero, droid; null = twin's), for task=
    """

    policy: str = "???"
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    debug: bool = False
    request_timeout_s: float = 60.0
    max_queue: int = 4
    workers: int = 1
    max_message_mb: float = msgpack_numpy.DEFAULT_MAX_BYTES / 2**20
    max_connections: int = 64
    task: str | None = None
    obs_keys: str | None = None

    def server_kwargs(self) -> dict:
        return {"host": self.host, "port": self.port, "token": self.token,
                "debug": self.debug, "request_timeout_s": self.request_timeout_s,
                "max_queue": self.max_queue, "workers": self.workers,
                "max_message_bytes": int(self.max_message_mb * 2**20),
                "max_connections": self.max_connections}


def check_server_args(host: str, port: int, token: str | None, request_timeout_s: float,
                      max_queue: int, workers: int, max_message_bytes: int,
                      max_connections: int) -> None:
    """One ``ConfigError`` naming the first bad value."""
    if not isinstance(host, str) or not host:
        raise ConfigError("host", host, "an interface address such as 127.0.0.1")
    if type(port) is not int or not 0 <= port <= 65535:
        raise ConfigError("port", port, "an integer in 0..65535 (0 = any free port)")
    if token is not None and (not isinstance(token, str) or len(token) < 8):
        raise ConfigError("token", "***", "a string of at least 8 characters")
    if not request_timeout_s > 0:
        raise ConfigError("request_timeout_s", request_timeout_s, "a number > 0 (seconds)")
    for key, v in (("max_queue", max_queue), ("workers", workers),
                   ("max_connections", max_connections)):
        if type(v) is not int or v < 1:
            raise ConfigError(key, v, "an integer >= 1")
    if type(max_message_bytes) is not int or max_message_bytes < 1024:
        raise ConfigError("max_message_bytes", max_message_bytes, "an integer >= 1024")


class PolicyServer:
    """Serves one policy; ``start()`` runs it on a background thread, ``stop()`` ends it."""

    def __init__(self, policy: Policy | Callable[[dict], Any], host: str = "127.0.0.1",
                 port: int = 8000, metadata: dict | None = None, *, token: str | None = None,
                 debug: bool = False, request_timeout_s: float = 60.0, max_queue: int = 4,
                 workers: int = 1,
                 max_message_bytes: int = msgpack_numpy.DEFAULT_MAX_BYTES,
                 max_connections: int = 64):
        check_server_args(host, port, token, request_timeout_s, max_queue, workers,
                          max_message_bytes, max_connections)
        if not hasattr(policy, "infer"):
            policy = CallablePolicy(policy)
        self.policy = policy
        self.host = host
        self.metadata = dict(metadata if metadata is not None
                             else getattr(policy, "metadata", {}) or {})
        self._metadata_frame = msgpack_numpy.packb(self.metadata)
        self.token = token
        self.debug = debug
        self.request_timeout_s = float(request_timeout_s)
        self.max_message_bytes = max_message_bytes
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_queue)
        self._workers = [threading.Thread(target=self._work, daemon=True,
                                          name=f"policy-infer-{i}") for i in range(workers)]
        self._connections = threading.BoundedSemaphore(max_connections)
        self.stats = {"served": 0, "busy": 0, "timeout": 0, "dropped": 0, "protocol": 0,
                      "policy_errors": 0, "unauthorized": 0}
        self._server: Server = serve(self._handle, host, port, max_size=max_message_bytes,
                                     compression=None, ping_interval=None,
                                     process_request=self._process_request)
        self.port = self._server.socket.getsockname()[1]
        self._thread: threading.Thread | None = None
        self._serving = False
        for w in self._workers:
            w.start()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    # --- handshake ------------------------------------------------------------------------
    def _authorized(self, request) -> bool:
        if self.token is None:
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() in ("api-key", "bearer") and hmac.compare_digest(
            given.strip().encode(), self.token.encode())

    def _process_request(self, connection: ServerConnection, request):
        if request.path == "/healthz":
            return connection.respond(http.HTTPStatus.OK, "OK\n")
        if not self._authorized(request):
            self.stats["unauthorized"] += 1
            log.warning("refused a connection from %s: bad or missing token",
                        connection.remote_address)
            return connection.respond(http.HTTPStatus.UNAUTHORIZED,
                                      "401 unauthorized: send 'Authorization: Api-Key TOKEN'\n")
        return None

    # --- inference workers ----------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with job.lock:
                if job.cancelled:  # its client stopped waiting: do not compute it
                    self.stats["dropped"] += 1
                    continue
                job.started = True
            t0 = time.perf_counter()
            try:
                job.result = self.policy.infer(job.obs)
            except Exception as exc:  # noqa: BLE001 (any model failure is the reply)
                job.error = exc
                job.trace = traceback.format_exc()
                log.error("policy inference failed:\n%s", job.trace)
            job.infer_ms = 1e3 * (time.perf_counter() - t0)
            job.done.set()

    # --- connections ----------------------------------------------------------------------
    def _send_error(self, ws: ServerConnection, kind: str, message: str, trace: str = "",
                    close: bool = False) -> None:
        text = error_frame(kind, message)
        if self.debug and trace:
            text += "\n" + trace
        try:
            ws.send(text)
            if close:
                ws.close(1011 if kind == "policy" else 1008, kind)
        except ConnectionClosed:
            pass

    def _handle(self, ws: ServerConnection) -> None:
        if not self._connections.acquire(blocking=False):
            self._send_error(ws, "busy", "too many connections; retry later", close=True)
            return
        try:
            ws.send(self._metadata_frame)
            while self._serve_one(ws):
                pass
        except ConnectionClosed:
            pass
        finally:
            self._connections.release()

    def _serve_one(self, ws: ServerConnection) -> bool:
        """Answer one request; False ends the connection."""
        raw = ws.recv()
        try:
            obs = msgpack_numpy.unpackb(raw, max_bytes=self.max_message_bytes)
            if not isinstance(obs, dict):
                raise msgpack_numpy.ProtocolError(
                    f"a request must be a msgpack map (the observation), got "
                    f"{type(obs).__name__}")
        except msgpack_numpy.ProtocolError as exc:
            self.stats["protocol"] += 1
            log.warning("protocol error from %s: %s", ws.remote_address, exc)
            self._send_error(ws, "protocol", str(exc), close=True)
            return False
        job = _Job(obs)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.stats["busy"] += 1
            self._send_error(ws, "busy", f"{self._queue.maxsize} requests already queued; "
                             "retry later")
            return True
        if not job.done.wait(self.request_timeout_s):
            with job.lock:
                job.cancelled = True
                started = job.started
            self.stats["timeout"] += 1
            self._send_error(ws, "timeout", f"no answer within request_timeout_s="
                             f"{self.request_timeout_s:g} s ("
                             f"{'still computing' if started else 'never started'})")
            return True
        if job.error is not None:
            self.stats["policy_errors"] += 1
            self._send_error(ws, "policy", f"{type(job.error).__name__}: {job.error}",
                             job.trace, close=True)
            return False
        out = job.result if isinstance(job.result, dict) else {"actions": job.result}
        out = dict(out)
        out["server_timing"] = {"infer_ms": job.infer_ms}
        try:
            frame = msgpack_numpy.packb(out)
        except (TypeError, ValueError, OverflowError) as exc:
            self.stats["policy_errors"] += 1
            self._send_error(ws, "policy", f"the policy's output cannot be sent: {exc}",
                             traceback.format_exc(), close=True)
            return False
        ws.send(frame)
        self.stats["served"] += 1
        return True

    # --- lifecycle ------------------------------------------------------------------------
    def serve_forever(self) -> None:
        log.info("serving policy on %s%s", self.url,
                 " (token required)" if self.token else "")
        self._serving = True
        try:
            self._server.serve_forever()
        finally:
            self._stop_workers()

    def start(self) -> PolicyServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"policy-server-{self.port}")
        self._thread.start()
        return self

    def _stop_workers(self) -> None:
        for _ in self._workers:
            try:
                self._queue.put(None, timeout=0.1)
            except queue.Full:  # workers are daemons; a stuck policy must not hang stop()
                break

    def stop(self) -> None:
        if self._thread is None and not self._serving:
            self._server.socket.close()  # never served: shutdown() would wait for it
            self._stop_workers()
            return
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._stop_workers()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_policy(policy: Policy | Callable[[dict], Any], host: str = "127.0.0.1",
                 port: int = 8000, metadata: dict | None = None, **kwargs: Any) -> None:
    """Serve ``policy`` until interrupted (the ten-line path for a model author); keyword
    arguments are ``PolicyServer``'s (token, debug, request_timeout_s, max_queue, ...)."""
    PolicyServer(policy, host, port, metadata, **kwargs).serve_forever()
