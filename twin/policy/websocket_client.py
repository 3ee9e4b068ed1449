"""``WebsocketClientPolicy``: a ``Policy`` served over openpi's websocket protocol.

Protocol (openpi-client ``websocket_client_policy``): connect to ``ws://host:port``; the
server's first message is a msgpack metadata dict; then each request is a msgpack obs dict
and each reply a msgpack dict with ``actions`` (a text frame instead is a server-side error
traceback). ``GET /healthz`` answers 200. Arrays use ``twin.policy.msgpack_numpy``.

Failures of the transport (refused connection, lost connection, timeout) raise
``InfrastructureError``; evaluation records the episode in flight as an infrastructure
failure, not a policy failure. The next ``infer`` reconnects with exponential backoff.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from twin.policy import msgpack_numpy
from twin.policy.base import Policy, PolicyError

log = logging.getLogger(__name__)


class InfrastructureError(RuntimeError):
    """The policy server could not be reached or answered too late (not a policy failure)."""


def parse_address(url_or_host: str, port: int | None = None) -> str:
    url = url_or_host if "://" in url_or_host else f"ws://{url_or_host}"
    if port is not None and url.count(":") < 2:
        url = f"{url}:{port}"
    if not url.startswith(("ws://", "wss://")):
        raise ValueError(f"policy address {url_or_host!r}: expected ws://HOST:PORT")
    return url


class WebsocketClientPolicy(Policy):
    def __init__(self, url: str = "ws://127.0.0.1:8000", timeout_s: float = 30.0,
                 connect_timeout_s: float = 30.0, backoff_s: float = 0.1,
                 max_backoff_s: float = 2.0, api_key: str | None = None):
        self.url = parse_address(url)
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._headers = {"Authorization": f"Api-Key {api_key}"} if api_key else None
        self._ws: ClientConnection | None = None
        self.metadata: dict[str, Any] = {}
        self.reconnects = 0
        self._connected_once = False

    # --- connection ----------------------------------------------------------------------
    def connect(self) -> dict:
        """Connect (retrying with exponential backoff up to ``connect_timeout_s``) and return
        the server's metadata."""
        deadline = time.monotonic() + self.connect_timeout_s
        delay = self.backoff_s
        last: Exception | None = None
        while True:
            try:
                ws = connect(self.url, max_size=None, compression=None, ping_interval=None,
                             open_timeout=min(5.0, self.connect_timeout_s),
                             additional_headers=self._headers, legacy=True)
                ws.socket.settimeout(None)
                self.metadata = msgpack_numpy.unpackb(ws.recv(timeout=self.timeout_s))
                self._ws = ws
                self._connected_once = True
                return self.metadata
            except InvalidURI as exc:
                raise ValueError(f"policy address {self.url!r}: {exc}") from exc
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
                last = exc
            if time.monotonic() + delay > deadline:
                raise InfrastructureError(f"cannot connect to policy server {self.url} within "
                                          f"{self.connect_timeout_s:.0f} s: {last}")
            log.info("policy server %s not reachable (%s); retrying in %.2f s", self.url, last,
                     delay)
            time.sleep(delay)
            delay = min(2 * delay, self.max_backoff_s)

    def _drop(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:  # the socket may already be gone
                pass
        self._ws = None

    # --- Policy --------------------------------------------------------------------------
    def infer(self, obs: dict) -> dict:
        if self._ws is None:
            if self._connected_once:
                self.reconnects += 1
            self.connect()
        ws = self._ws
        try:
            ws.send(msgpack_numpy.packb(obs))
            reply = ws.recv(timeout=self.timeout_s)
        except TimeoutError as exc:
            self._drop()  # a late reply would be mistaken for the next one
            raise InfrastructureError(f"policy server {self.url} did not answer within "
                                      f"{self.timeout_s} s") from exc
        except (ConnectionClosed, OSError) as exc:
            self._drop()
            raise InfrastructureError(f"lost connection to policy server {self.url}: {exc}"
                                      ) from exc
        if isinstance(reply, str):
            self._drop()
            raise PolicyError(f"policy server error:\n{reply}")
        return msgpack_numpy.unpackb(reply)

    def close(self) -> None:
        self._drop()


def healthz(url: str, timeout_s: float = 2.0) -> bool:
    """True when the server's ``/healthz`` answers 200."""
    http = parse_address(url).replace("ws://", "http://").replace("wss://", "https://")
    try:
        with urllib.request.urlopen(http.rstrip("/") + "/healthz", timeout=timeout_s) as r:
            return r.status == 200
    except OSError:
        return False
