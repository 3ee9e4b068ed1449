"""The distribution installs one top-level package, twin, with envs/controllers under it."""

import importlib
import importlib.metadata
from pathlib import Path

import twin


def test_top_level_is_only_twin():
    top = importlib.metadata.distribution("twin-sim").read_text("top_level.txt").split()
    assert top == ["twin"]


def test_namespaced_packages_import_from_sibling_folders():
    root = Path(__file__).resolve().parents[1]
    for name, folder in [("twin.envs", "envs"), ("twin.controllers", "controllers"),
                         ("twin.assets", "assets"), ("twin.configs", "configs")]:
        mod = importlib.import_module(name)
        assert Path(mod.__file__).resolve().parent == root / folder


def test_setup_lists_every_package_folder():
    import runpy

    import setuptools

    captured = {}
    orig = setuptools.setup
    setuptools.setup = lambda **kw: captured.update(kw)
    try:
        runpy.run_path(str(Path(__file__).resolve().parents[1] / "setup.py"))
    finally:
        setuptools.setup = orig
    assert all(p == "twin" or p.startswith("twin.") for p in captured["packages"])
    root = Path(twin.__file__).resolve().parent
    expected = {"twin." + ".".join(p.parent.relative_to(root).parts)
                for p in root.rglob("__init__.py") if p.parent != root}
    assert expected <= set(captured["packages"])


def test_scene_configs_ship_as_package_data():
    from twin.scene.config import scene_names

    assert {"empty", "panda_table", "panda_reach"} <= set(scene_names())
