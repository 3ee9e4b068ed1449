"""A progress line while a validation simulates: one update per second of motion.

On a terminal (or when asked), a tqdm bar on stderr counts seconds of motion executed; without
tqdm (the base install) a plain line per second is printed instead. Off in batch workers and
when stderr is not a terminal, unless ``progress=true``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def progress_enabled(setting: bool | None) -> bool:
    return bool(setting) if setting is not None else sys.stderr.isatty()


@contextmanager
def motion_progress(duration_s: float, setting: bool | None = None
                    ) -> Iterator[Callable[[float], None] | None]:
    """Yield ``update(t_s)`` (seconds of motion executed so far), or None when disabled."""
    if not progress_enabled(setting):
        yield None
        return
    total = max(1, math.ceil(duration_s))
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(total=total, unit="s", desc="simulating", file=sys.stderr,
                   bar_format="{desc}: {n:.0f}/{total} s of motion |{bar}| {elapsed}")
        done = [0.0]

        def update(t_s: float) -> None:
            t = min(float(t_s), total)
            bar.update(t - done[0])
            done[0] = t

        try:
            yield update
        finally:
            bar.close()
        return

    def line(t_s: float) -> None:
        print(f"simulating: {min(t_s, total):.0f}/{total} s of motion", file=sys.stderr,
              flush=True)

    yield line
