"""Checks of configuration values at a boundary (a command line, a config file, a server).

Each check raises ``ConfigError`` naming the key, the value and what was expected, so a
bad value ends in one line before any work starts, never in a traceback or in a silently
wrong run.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from twin.errors import ConfigError


def integer(key: str, value: Any, lo: int | None = None, hi: int | None = None,
            optional: bool = False) -> None:
    """An int (not a bool) in ``[lo, hi]``; ``None`` allowed when ``optional``."""
    if value is None and optional:
        return
    ok = type(value) is int and (lo is None or value >= lo) and (hi is None or value <= hi)
    if not ok:
        rng = (f">= {lo}" if hi is None else f"in {lo}..{hi}") if lo is not None else (
            f"<= {hi}" if hi is not None else "")
        raise ConfigError(key, value, f"an integer {rng}".rstrip()
                          + (" or null" if optional else ""))


def number(key: str, value: Any, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, optional: bool = False) -> None:
    """A finite number within the bounds (open or closed)."""
    if value is None and optional:
        return
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
          and math.isfinite(value)
          and (lo is None or (value > lo if lo_open else value >= lo))
          and (hi is None or (value < hi if hi_open else value <= hi)))
    if not ok:
        parts = []
        if lo is not None:
            parts.append(f"{'>' if lo_open else '>='} {lo:g}")
        if hi is not None:
            parts.append(f"{'<' if hi_open else '<='} {hi:g}")
        raise ConfigError(key, value, "a finite number" + (" " + " and ".join(parts)
                                                           if parts else "")
                          + (" or null" if optional else ""))


def one_of(key: str, value: Any, choices: tuple | list) -> None:
    if value not in choices:
        raise ConfigError(key, value, "one of " + ", ".join(map(str, choices)))


def port(key: str, value: Any, allow_zero: bool = True) -> None:
    integer(key, value, 0 if allow_zero else 1, 65535)


def _existing_parent(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def writable_dir(key: str, value: Any) -> Path:
    """A folder that exists and is writable, or can be created."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(key, value, "a folder path")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ConfigError(key, str(value), "a folder (a file of that name exists)")
    base = _existing_parent(path)
    if not base.is_dir():
        raise ConfigError(key, str(value), f"a folder path ({base} is a file)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ConfigError(key, str(value), f"a writable folder ({base} is not writable)")
    return path


def writable_file(key: str, value: Any, suffixes: tuple[str, ...] = ()) -> Path:
    """A file path that can be written: not a folder, parent writable or creatable."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(key, value, "a file path")
    path = Path(value)
    if path.is_dir() or str(value).endswith(os.sep):
        raise ConfigError(key, str(value), "a file path (that is a folder)")
    if suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(key, str(value), "a file ending in " + " or ".join(suffixes))
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(key, str(value), "a writable file (permission denied)")
    base = _existing_parent(path.parent)
    if not base.is_dir():
        raise ConfigError(key, str(value), f"a file path ({base} is a file, not a folder)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ConfigError(key, str(value), f"a file in a writable folder ({base} is not "
                          "writable)")
    return path
