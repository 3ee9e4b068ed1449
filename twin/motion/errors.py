"""Errors raised when a motion file is not what a reader expects.

Every message is one line naming the file, the key (or column) and what was expected, so
that a user can fix the file without reading twin's source.
"""

from __future__ import annotations

from pathlib import Path


class MotionFormatError(ValueError):
    """A motion, body-model or robot-motion file is malformed or unsupported."""

    def __init__(self, path: str | Path | None, key: str | None, expected: str) -> None:
        self.path = None if path is None else str(path)
        self.key = key
        self.expected = expected
        where = self.path or "<in-memory motion>"
        if key:
            where += f": key {key!r}"
        super().__init__(f"{where}: {expected}")
