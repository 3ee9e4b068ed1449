"""A minimal policy server speaking openpi's websocket protocol, for wrapping a model.

```python
from twin.policy.server import serve_policy

class MyVLA:                       # VideoVLA, CogACT, ... : load the model once
    def __init__(self): self.model = load_model()
    def infer(self, obs):          # obs: instruction, images, proprioception
        chunk = self.model.predict(obs["images"]["third_person"], obs["instruction"])
        return {"actions": chunk}  # (K, 7); optional "video": (T, H, W, 3) uint8

serve_policy(MyVLA(), port=8000)   # blocks; ws://HOST:8000, GET /healthz -> 200
```

On connect the server sends the metadata dict; each request is answered with the policy's
output plus ``server_timing`` (``infer_ms``). An exception in ``infer`` is sent back as a
text frame with the traceback and the connection is closed (openpi's behaviour).
"""

from __future__ import annotations

import http
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from twin.policy import msgpack_numpy
from twin.policy.base import Policy
from twin.policy.callable import CallablePolicy

log = logging.getLogger(__name__)


class PolicyServer:
    """Serves one policy; ``start()`` runs it on a background thread, ``stop()`` ends it."""

    def __init__(self, policy: Policy | Callable[[dict], Any], host: str = "127.0.0.1",
                 port: int = 8000, metadata: dict | None = None):
        if not hasattr(policy, "infer"):
            policy = CallablePolicy(policy)
        self.policy = policy
        self.host = host
        self.metadata = dict(metadata if metadata is not None
                             else getattr(policy, "metadata", {}) or {})
        self._server: Server = serve(self._handle, host, port, max_size=None,
                                     compression=None, ping_interval=None,
                                     process_request=self._process_request)
        self.port = self._server.socket.getsockname()[1]
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one inference at a time: models are rarely re-entrant

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def _process_request(self, connection: ServerConnection, request):
        if request.path == "/healthz":
            return connection.respond(http.HTTPStatus.OK, "OK\n")
        return None

    def _handle(self, ws: ServerConnection) -> None:
        ws.send(msgpack_numpy.packb(self.metadata))
        while True:
            try:
                obs = msgpack_numpy.unpackb(ws.recv())
            except ConnectionClosed:
                return
            t0 = time.perf_counter()
            try:
                with self._lock:
                    out = self.policy.infer(obs)
                if not isinstance(out, dict):
                    out = {"actions": out}
                out = dict(out)
                out["server_timing"] = {"infer_ms": 1e3 * (time.perf_counter() - t0)}
                ws.send(msgpack_numpy.packb(out))
            except ConnectionClosed:
                return
            except Exception:
                log.exception("policy inference failed")
                try:
                    ws.send(traceback.format_exc())
                    ws.close(1011, "internal error")
                except ConnectionClosed:
                    pass
                return

    def serve_forever(self) -> None:
        log.info("serving policy on %s", self.url)
        self._server.serve_forever()

    def start(self) -> PolicyServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"policy-server-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def __enter__(self) -> PolicyServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_policy(policy: Policy | Callable[[dict], Any], host: str = "0.0.0.0",
                 port: int = 8000, metadata: dict | None = None) -> None:
    """Serve ``policy`` until interrupted (the ten-line path for a model author)."""
    PolicyServer(policy, host, port, metadata).serve_forever()
