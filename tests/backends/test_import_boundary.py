"""The simulator boundary: only ``twin/sim/mujoco_*`` imports mujoco (and ``newton_*``
imports newton/warp); everything else goes through ``twin.sim.backend.SimBackend``.

The MuJoCo-only tools below are named exceptions: they are built on libraries that take an
``MjModel`` (mink IK) or measure/render with MuJoCo directly, and are not run by envs,
validation or recording through a second backend. The list is checked both ways: a module
that stops importing mujoco must leave it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Source trees that ship inside the ``twin`` package (envs/ and controllers/ install as
# twin.envs and twin.controllers).
SOURCE_DIRS = ("twin", "envs", "controllers")

MUJOCO_ONLY_TOOLS = {
    "controllers/mink_ik.py": "mink differential IK needs an MjModel",
    "twin/retarget/g1_mink.py": "mink retargeting IK needs an MjModel",
    "twin/retarget/kinematics.py": "forward kinematics of reference motions for mink",
    "twin/motion/procedural/g1_body.py": "G1 foot geometry measured once on the MuJoCo model",
    "twin/motion/procedural/checks.py": "MuJoCo forward kinematics of generated motions",
    "twin/motion/preview_video.py": "kinematic preview render of a motion file",
}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def _sources() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py"))


def test_only_mujoco_modules_import_mujoco():
    offenders = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("twin/sim/mujoco_") or rel in MUJOCO_ONLY_TOOLS:
            continue
        if "mujoco" in _imported_roots(path) or "mujoco_warp" in _imported_roots(path):
            offenders.append(rel)
    assert offenders == [], (
        f"{offenders} import mujoco; go through twin.sim.backend.SimBackend (or add a "
        "twin/sim/mujoco_* function)")


def test_mujoco_only_tool_list_is_true():
    stale = [rel for rel in MUJOCO_ONLY_TOOLS
             if not (ROOT / rel).exists() or "mujoco" not in _imported_roots(ROOT / rel)]
    assert stale == [], f"{stale} no longer import mujoco: remove them from MUJOCO_ONLY_TOOLS"


def test_only_newton_modules_import_newton_or_warp():
    offenders = [p.relative_to(ROOT).as_posix() for p in _sources()
                 if not p.relative_to(ROOT).as_posix().startswith("twin/sim/newton_")
                 and {"newton", "warp"} & _imported_roots(p)]
    assert offenders == [], f"{offenders} import newton/warp outside twin/sim/newton_*"


def test_envs_reach_no_simulator_internals():
    """Envs, validation and recording see the interface only: no ``.model``, ``.scene``,
    ``.datas`` of a backend."""
    offenders = []
    for d in ("envs", "twin/validate", "twin/record", "twin/evaluate"):
        for path in sorted((ROOT / d).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Attribute) and node.attr in ("model", "scene", "datas")
                        and isinstance(node.value, (ast.Name, ast.Attribute))
                        and (getattr(node.value, "id", None) in ("backend", "b")
                             or getattr(node.value, "attr", None) == "backend")):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert offenders == [], f"backend internals reached past SimBackend: {offenders}"
