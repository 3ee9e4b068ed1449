"""Run evaluation episodes on a Ray cluster (optional; ``ray`` is not a dependency).

Each Ray task builds its own env and policy from the ``EvalConfig`` and runs one episode
with seed ``cfg.seed + episode``, exactly as a local worker does, so results match local
runs for the same seeds (``tests/manipulation/test_eval_ray.py`` checks this against a
local run with ``ray_address="local"``; skipped where ray is not installed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from twin.evaluate.runner import EvalConfig


def run_on_ray(cfg: EvalConfig, episodes: list[int]) -> Iterator[dict]:
    try:
        import ray
    except ImportError as exc:
        raise ImportError("ray_address was given but ray is not installed "
                          "(pip install 'ray[default]')") from exc
    if not ray.is_initialized():
        ray.init(address=cfg.ray_address, ignore_reinit_error=True)
    cfg_dict = dataclasses.asdict(cfg)

    @ray.remote(num_cpus=1)
    def _episode(cfg_dict: dict, episode: int) -> dict:
        from twin.evaluate import runner

        if not runner._WORKER:
            runner._init_worker(cfg_dict)
        return runner._run_in_worker(episode)

    pending = [_episode.remote(cfg_dict, e) for e in episodes]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])
