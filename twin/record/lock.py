"""One writer per dataset: an advisory lock file at the dataset root.

``WriterLock.acquire(root)`` takes an exclusive ``flock`` on ``root/.twin_writer.lock`` and
writes the holder (pid, host, start time) into it; a second writer, in this process or any
other on the same file system, is refused with one line naming the holder. The operating
system drops the lock when its process dies, so a killed recording never leaves a stale
lock behind (the file itself stays, harmlessly, until the next writer removes it).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from twin.errors import TwinError
from twin.record.layout import DatasetWriteError

LOCK_FILE = ".twin_writer.lock"


class DatasetLockedError(TwinError, RuntimeError):
    """Another writer holds the dataset."""


class WriterLock:
    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, root: str | Path) -> WriterLock:
        root = Path(root)
        path = root / LOCK_FILE
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise DatasetWriteError(
                e.errno or errno.EACCES,
                f"cannot create dataset directory {root} ({e.strerror or e})") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(path)
            os.close(fd)
            raise DatasetLockedError(
                f"{root}: another writer is recording into this dataset ({holder}); wait for "
                "it to finish or choose another output directory") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since_unix_s": round(time.time(), 3)}).encode())
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _read_holder(path: Path) -> str:
    try:
        h = json.loads(path.read_text() or "{}")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(h["since_unix_s"]))
        return f"pid {h['pid']} on {h['host']} since {since}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
