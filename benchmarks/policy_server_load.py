"""Many clients against one slow policy: what each client hears and when.

A policy that takes ``--infer-s`` seconds is served by ``PolicyServer`` (one inference
thread, queue ``--max-queue``, ``--request-timeout-s``); ``--clients`` clients each send
one request at the same moment with client timeout ``--client-timeout-s``. Prints, per
outcome (ok / busy / timeout / other), the count and the slowest answer, and how many
requests the policy computed. Target: every client gets an answer (no silent timeouts),
busy replies come at once, and no abandoned request is computed.

    python benchmarks/policy_server_load.py [--clients 20] [--infer-s 3]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import defaultdict

import numpy as np

from twin.policy.server import PolicyServer
from twin.policy.websocket_client import InfrastructureError, WebsocketClientPolicy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--infer-s", type=float, default=3.0)
    ap.add_argument("--max-queue", type=int, default=4)
    ap.add_argument("--request-timeout-s", type=float, default=60.0)
    ap.add_argument("--client-timeout-s", type=float, default=30.0)
    a = ap.parse_args()

    computed = []

    def slow(obs):
        computed.append(time.monotonic())
        time.sleep(a.infer_s)
        return {"actions": np.zeros((6, 7))}

    outcomes: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    go = threading.Event()
    with PolicyServer(slow, port=0, max_queue=a.max_queue,
                      request_timeout_s=a.request_timeout_s) as srv:
        def client() -> None:
            c = WebsocketClientPolicy(srv.url, timeout_s=a.client_timeout_s,
                                      connect_timeout_s=10)
            c.connect()
            go.wait()
            t0 = time.monotonic()
            try:
                c.infer({"x": np.zeros(3)})
                kind = "ok"
            except InfrastructureError as exc:
                text = str(exc)
                kind = ("busy" if "busy:" in text else "timeout" if "timeout:" in text
                        or "did not answer" in text else "other")
            with lock:
                outcomes[kind].append(time.monotonic() - t0)
            c.close()

        threads = [threading.Thread(target=client) for _ in range(a.clients)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        t_start = time.monotonic()
        go.set()
        for t in threads:
            t.join()
        wall = time.monotonic() - t_start
        deadline = time.monotonic() + a.infer_s + 5  # let the worker drain the queue
        while not srv._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(a.infer_s + 0.2)
        stats = dict(srv.stats)
    print(f"{a.clients} clients, policy {a.infer_s:g} s, max_queue {a.max_queue}, "
          f"request_timeout_s {a.request_timeout_s:g}, client timeout {a.client_timeout_s:g} s")
    for kind in ("ok", "busy", "timeout", "other"):
        ts = outcomes.get(kind, [])
        if ts:
            print(f"  {kind:8s} {len(ts):3d}   slowest answer {max(ts):6.2f} s")
    print(f"  policy calls {len(computed)}, dropped unstarted {stats['dropped']}, "
          f"wall {wall:.1f} s")


if __name__ == "__main__":
    main()
