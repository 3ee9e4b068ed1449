"""Rollouts on many cores: the training envs split into shards, one worker process each.

One process steps its envs' physics on a thread pool, but the per-step numpy work
(observations, rewards, resets) stays on one core; on a 16-core machine that capped the
campaign at about 2x the 2-core rate. ``ShardedVecEnv`` gives every shard its own process
(its own ``G1MotionTrackingVectorEnv`` of ``num_envs / num_workers`` envs, one physics
thread), and joins their steps into one SB3 ``VecEnv`` in env order, so PPO, ``VecMonitor``
and ``VecNormalize`` see the same thing as with one process.

Workers are spawned (not forked: the parent holds torch's threads) and build their envs
from the training config themselves, so the clips are loaded and augmented per worker
instead of pickled across; augmentation is seeded, so every shard trains on the same set.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import traceback
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

log = logging.getLogger(__name__)


def shard_sizes(num_envs: int, num_workers: int) -> list[int]:
    """Envs per worker, as even as possible (the first shards take the remainder)."""
    if num_workers < 1 or num_envs < num_workers:
        raise ValueError(f"num_workers: expected 1..num_envs ({num_envs}), got {num_workers}")
    base, extra = divmod(num_envs, num_workers)
    return [base + (k < extra) for k in range(num_workers)]


# read by numpy's OpenBLAS, OpenMP and MKL when a process starts
THREAD_POOL_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def single_threaded_children():
    """Processes started inside get one BLAS/OpenMP thread each: N workers would otherwise
    each start a pool as wide as the machine (15 x 16 threads on a 16-core machine)."""
    saved = {k: os.environ.get(k) for k in THREAD_POOL_VARS}
    os.environ.update({k: "1" for k in THREAD_POOL_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _worker(conn, cfg, num_envs: int) -> None:
    # Ctrl-C and `timeout` signal the whole process group; the parent alone decides when to
    # stop (it finishes the step, writes its checkpoint, then closes us), so we leave its
    # group. Its own SIGTERM (Process.terminate at exit) still ends us, and a parent that
    # dies without closing us ends our recv() with EOFError.
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from twin.envs.sb3 import SB3VecEnv
        from twin.train.tracker import build_vector_env

        env = SB3VecEnv(build_vector_env(cfg, num_envs))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
        _send_or_quit(conn, ("error", _one_line(e)))
        conn.close()
        return
    if not _send_or_quit(conn, ("ready", None)):
        env.close()
        return
    try:
        while True:
            cmd, data = conn.recv()
            if cmd == "step":
                env.step_async(data)
                conn.send(("ok", env.step_wait()))
            elif cmd == "reset":
                if data is not None:
                    env.seed(data)
                conn.send(("ok", env.reset()))
            elif cmd == "library":  # a MotionLibrary method of this worker's envs
                method, args = data
                conn.send(("ok", getattr(env.venv.task.library, method)(*args)))
            elif cmd == "close":
                env.close()
                conn.send(("ok", None))
                break
    except (EOFError, BrokenPipeError):
        pass  # the parent went away: nothing to report to
    except BaseException as e:  # noqa: BLE001
        _send_or_quit(conn, ("error", _one_line(e)))
    finally:
        conn.close()


def _send_or_quit(conn, message) -> bool:
    """Send to the parent; False when it is gone (stopped before we were ready)."""
    try:
        conn.send(message)
        return True
    except (BrokenPipeError, EOFError, OSError):
        return False


def _one_line(e: BaseException) -> str:
    log.debug("rollout worker failed:\n%s", traceback.format_exc())
    return traceback.format_exception_only(e)[-1].strip()


class ShardedVecEnv(VecEnv):
    """``cfg.num_envs`` tracking envs in ``num_workers`` processes, one SB3 ``VecEnv``."""

    def __init__(self, cfg, num_workers: int, observation_space, action_space):
        self.sizes = shard_sizes(cfg.num_envs, num_workers)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        super().__init__(cfg.num_envs, observation_space, action_space)
        # one physics thread per worker unless asked: the workers already fill the cores
        shard_cfg = replace(cfg, num_threads=cfg.num_threads or 1)
        ctx = mp.get_context("spawn")
        self.conns, self.procs = [], []
        with single_threaded_children():
            for n in self.sizes:
                parent, child = ctx.Pipe()
                p = ctx.Process(target=_worker, args=(child, shard_cfg, n), daemon=True)
                p.start()
                child.close()
                self.conns.append(parent)
                self.procs.append(p)
        self._seed: int | None = None
        self._closed = False

    def wait_ready(self) -> None:
        """Block until every worker has built its envs (raises a worker's error)."""
        self._gather()

    def reset(self):
        seeds = [None if self._seed is None else self._seed + int(o) for o in self.offsets[:-1]]
        self._seed = None
        for conn, s in zip(self.conns, seeds):
            conn.send(("reset", s))
        return _concat(self._gather())

    def seed(self, seed: int | None = None):
        self._seed = seed
        return [None if seed is None else seed + i for i in range(self.num_envs)]

    def step_async(self, actions: np.ndarray) -> None:
        for k, conn in enumerate(self.conns):
            conn.send(("step", actions[self.offsets[k]:self.offsets[k + 1]]))

    def step_wait(self):
        parts = self._gather()
        obs = _concat([p[0] for p in parts])
        reward = np.concatenate([p[1] for p in parts])
        done = np.concatenate([p[2] for p in parts])
        infos = [d for p in parts for d in p[3]]
        return obs, reward, done, infos

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for conn, p in zip(self.conns, self.procs):
            try:
                if p.is_alive():
                    conn.send(("close", None))
                    if conn.poll(30):
                        conn.recv()
            except (BrokenPipeError, EOFError, OSError):
                pass
            conn.close()
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()

    def _gather(self, workers: Sequence[int] | None = None) -> list[Any]:
        out = []
        for k in range(len(self.conns)) if workers is None else workers:
            conn = self.conns[k]
            try:
                status, data = conn.recv()
            except EOFError:
                self.procs[k].join(timeout=5)
                status, data = "error", (f"exited with code {self.procs[k].exitcode} before "
                                         f"answering (killed, or out of memory?)")
            if status == "error":
                self.close()
                raise RuntimeError(f"rollout worker {k} of {len(self.conns)}: {data}")
            out.append(data)
        return out

    def call_libraries(self, method: str, *args,
                       workers: Sequence[int] | None = None) -> list[Any]:
        """``method(*args)`` of the motion library of each of ``workers`` (all by default),
        in that order."""
        workers = range(len(self.conns)) if workers is None else workers
        for k in workers:
            self.conns[k].send(("library", (method, args)))
        return self._gather(workers)

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        n = self.num_envs if indices is None else len(np.atleast_1d(indices))
        if attr_name == "render_mode":  # asked by VecEnv.__init__; training renders nothing
            return [None] * n
        raise NotImplementedError("ShardedVecEnv: env attributes live in the worker processes")

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        raise NotImplementedError("ShardedVecEnv: env attributes live in the worker processes")

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
        raise NotImplementedError("ShardedVecEnv: envs live in the worker processes")

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        n = self.num_envs if indices is None else len(np.atleast_1d(indices))
        return [False] * n


def _concat(parts):
    if isinstance(parts[0], dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return np.concatenate(parts)
