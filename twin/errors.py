"""twin's own error types: what the command line turns into one line and exit status 3.

``TwinError`` is the base; ``InputError`` is a bad input a user can fix (a file, a value, a
key), ``ConfigError`` a bad configuration value, naming the key, the value and what was
expected. They subclass ``ValueError`` so library callers that catch ``ValueError`` keep
working.
"""

from __future__ import annotations

from typing import Any


class TwinError(Exception):
    """Base of every error twin raises on purpose."""


class InputError(TwinError, ValueError):
    """A bad input: the message names the file or field and what was expected."""


class ConfigError(InputError):
    """A configuration value out of range or of the wrong type."""

    def __init__(self, key: str, value: Any, expected: str):
        self.key, self.value, self.expected = key, value, expected
        super().__init__(f"{key}={value!r}: expected {expected}")
