"""Task presets for evaluation (``configs/task/*.yaml``): env id, episodes, chunk execution,
env kwargs. A task is named by its preset (``panda_pick_cube``) or by a registered id."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from twin.scene.config import configs_dir


@dataclass
class TaskPreset:
    name: str
    env_id: str
    episodes: int = 75
    execute_steps: int = 3
    max_episode_steps: int | None = None
    env_kwargs: dict = field(default_factory=dict)


def task_names() -> list[str]:
    return sorted(p.stem for p in (configs_dir() / "task").glob("*.yaml"))


def load_task(name: str) -> TaskPreset:
    """A preset by name, a YAML path, or a registered Gymnasium id (defaults for the rest)."""
    from twin.registration import ENV_IDS

    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = configs_dir() / "task" / f"{name}.yaml"
    if path.exists():
        raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        return TaskPreset(name=path.stem, **raw)
    if name in ENV_IDS:
        return TaskPreset(name=name, env_id=name,
                          max_episode_steps=ENV_IDS[name].get("max_episode_steps"))
    raise ValueError(f"unknown task {name!r}; expected one of {task_names()} or a registered "
                     f"id ({', '.join(i for i in ENV_IDS if 'Panda' in i or 'G1' in i)})")
