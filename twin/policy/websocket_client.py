"""``WebsocketClientPolicy``: a ``Policy`` served over openpi's websocket protocol.

Protocol (openpi-client ``websocket_client_policy``): connect to ``ws://host:port``; the
server's first message is a msgpack metadata dict; then each request is a msgpack obs dict
and each reply a msgpack dict with ``actions``. A text frame instead is an error: twin's
server writes ``twin-error KIND: message`` (``policy`` is the policy's failure; ``busy``,
``timeout`` and ``protocol`` are the server's), openpi's server a bare traceback (a policy
failure). ``GET /healthz`` answers 200. Arrays use ``twin.policy.msgpack_numpy``, which
accepts numeric arrays only.

Failures of the transport (refused connection, lost connection, timeout, HTTP 401, busy
server, a reply or metadata that does not decode) raise ``InfrastructureError``;
evaluation records the episode in flight as an infrastructure failure, not a policy
failure. Every socket opened is closed on every failure path. The next ``infer``
reconnects with exponential backoff.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.request
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from twin.errors import ConfigError
from twin.policy import msgpack_numpy
from twin.policy.base import Policy, PolicyError
from twin.policy.server import ERROR_PREFIX

log = logging.getLogger(__name__)

TOKEN_ENV = "TWIN_POLICY_TOKEN"


class InfrastructureError(RuntimeError):
    """The policy server could not be reached, refused us, answered too late or sent
    something that is not a valid message (not a policy failure)."""


def parse_address(url_or_host: str, port: int | None = None) -> str:
    url = url_or_host if "://" in url_or_host else f"ws://{url_or_host}"
    if port is not None and url.count(":") < 2:
        url = f"{url}:{port}"
    if not url.startswith(("ws://", "wss://")):
        raise ConfigError("policy", url_or_host, "ws://HOST:PORT")
    return url


def classify_error_frame(text: str, url: str) -> Exception:
    """The exception a text reply stands for (see the module docstring)."""
    if text.startswith(ERROR_PREFIX):
        kind, _, message = text[len(ERROR_PREFIX):].partition(": ")
        if kind == "policy":
            return PolicyError(f"policy server error: {message}")
        return InfrastructureError(f"policy server {url}: {kind}: {message.splitlines()[0]}")
    return PolicyError(f"policy server error:\n{text}")  # openpi: a traceback of infer


class WebsocketClientPolicy(Policy):
    def __init__(self, url: str = "ws://127.0.0.1:8000", timeout_s: float = 30.0,
                 connect_timeout_s: float = 30.0, backoff_s: float = 0.1,
                 max_backoff_s: float = 2.0, api_key: str | None = None,
                 max_message_bytes: int = msgpack_numpy.DEFAULT_MAX_BYTES):
        self.url = parse_address(url)
        if not timeout_s > 0:
            raise ConfigError("timeout_s", timeout_s, "a number > 0 (seconds)")
        if not connect_timeout_s >= 0:
            raise ConfigError("connect_timeout_s", connect_timeout_s, "a number >= 0 (seconds)")
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_message_bytes = max_message_bytes
        api_key = api_key or os.environ.get(TOKEN_ENV) or None
        self._headers = {"Authorization": f"Api-Key {api_key}"} if api_key else None
        self._ws: ClientConnection | None = None
        self.metadata: dict[str, Any] = {}
        self.reconnects = 0
        self._connected_once = False

    # --- connection ----------------------------------------------------------------------
    def _open(self) -> tuple[ClientConnection, dict]:
        """One attempt: the connection and the server's metadata; closes what it opened
        when anything fails."""
        ws = connect(self.url, max_size=self.max_message_bytes, compression=None,
                     ping_interval=None, open_timeout=min(5.0, max(self.connect_timeout_s, 0.1)),
                     additional_headers=self._headers, proxy=None, legacy=True)
        try:
            try:
                ws.socket.settimeout(None)
            except OSError:
                # A server that refuses us (busy) sends its error frame and closes at once;
                # the connection's reader may have closed the socket already. The frame is
                # still queued: recv returns it (or ConnectionClosed), not EBADF.
                pass
            raw = ws.recv(timeout=self.timeout_s)
            if isinstance(raw, str):
                raise classify_error_frame(raw, self.url)
            try:
                metadata = msgpack_numpy.unpackb(raw, max_bytes=self.max_message_bytes)
            except msgpack_numpy.ProtocolError as exc:
                raise InfrastructureError(f"policy server {self.url} sent undecodable "
                                          f"metadata: {exc}") from None
            if not isinstance(metadata, dict):
                raise InfrastructureError(f"policy server {self.url} sent metadata of type "
                                          f"{type(metadata).__name__}, expected a map")
            return ws, metadata
        except BaseException:
            ws.close()
            raise

    def connect(self) -> dict:
        """Connect (retrying with exponential backoff up to ``connect_timeout_s``) and return
        the server's metadata."""
        self._drop()
        deadline = time.monotonic() + self.connect_timeout_s
        delay = self.backoff_s
        last: Exception | None = None
        while True:
            try:
                self._ws, self.metadata = self._open()
                self._connected_once = True
                return self.metadata
            except InvalidURI as exc:
                raise ConfigError("policy", self.url, f"ws://HOST:PORT ({exc})") from None
            except InvalidStatus as exc:
                code = exc.response.status_code
                if code in (401, 403):  # retrying cannot help
                    raise InfrastructureError(
                        f"policy server {self.url} refused us (HTTP {code}): give its token "
                        f"(token=... or ${TOKEN_ENV})") from None
                last = exc
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError,
                    InfrastructureError, PolicyError) as exc:
                last = exc
            if time.monotonic() + delay > deadline:
                raise InfrastructureError(f"cannot connect to policy server {self.url} within "
                                          f"{self.connect_timeout_s:g} s: {last}")
            log.info("policy server %s not reachable (%s); retrying in %.2f s", self.url, last,
                     delay)
            time.sleep(delay)
            delay = min(2 * delay, self.max_backoff_s)

    def _drop(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:  # noqa: BLE001, S110 (the socket may already be gone)
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
            # after busy / timeout twin's server keeps the connection and never sends the
            # late answer; after any other error the server closes it
            if not reply.startswith((ERROR_PREFIX + "busy:", ERROR_PREFIX + "timeout:")):
                self._drop()
            raise classify_error_frame(reply, self.url)
        try:
            out = msgpack_numpy.unpackb(reply, max_bytes=self.max_message_bytes)
        except msgpack_numpy.ProtocolError as exc:
            self._drop()
            raise InfrastructureError(f"policy server {self.url} sent an undecodable reply: "
                                      f"{exc}") from None
        if not isinstance(out, dict):
            self._drop()
            raise InfrastructureError(f"policy server {self.url} sent a reply of type "
                                      f"{type(out).__name__}, expected a map")
        return out

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
