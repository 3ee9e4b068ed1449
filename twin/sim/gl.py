"""Choosing MuJoCo's offscreen GL backend before mujoco is imported.

``MUJOCO_GL`` is read once, at import. twin defaults it to ``egl`` (GPU when present, Mesa's
llvmpipe otherwise); users may set ``osmesa`` themselves. llvmpipe rasterises with
``LP_NUM_THREADS`` threads; twin defaults that to the number of cores.
"""

from __future__ import annotations

import os
import sys


def configure_gl() -> None:
    if "mujoco" in sys.modules:
        return
    os.environ.setdefault("MUJOCO_GL", "egl")
    if os.environ["MUJOCO_GL"] == "egl":
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    os.environ.setdefault("LP_NUM_THREADS", str(os.cpu_count() or 1))
