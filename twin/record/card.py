"""The dataset card: ``README.md`` at the root of every dataset ``twin record`` writes.

It says where the data came from (env, scene, robot, policy, seeds), how good it is (success
over every attempt and over the kept episodes, what the filters rejected), how the cameras
are calibrated, how the prompt videos encode their channels, and how to load it without
feeding prompt channels to a policy as images. Rewritten at the end of every session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CARD_PATH = "README.md"


def _fmt_matrix(m: list[list[float]]) -> str:
    return "[" + ", ".join("[" + ", ".join(f"{v:.4g}" for v in row) + "]" for row in m) + "]"


def write_card(root: str | Path, cfg: Any, runner: Any, progress: dict) -> Path:
    """The card of a ``twin record`` dataset (``twin.record.engine``)."""
    from twin.record.recovery import read_episode_rows

    rows = read_episode_rows(root)
    attempts = progress["attempts"]
    seeds = [int(r["seed"]) for r in rows if r.get("seed") is not None]
    scene = runner.task.backend.scene_config
    source = [
        (f"- env: `{runner.env_id}` (scene `{getattr(scene, 'name', '?')}`, robot "
         f"`{runner.robot_type}`), frames at the control rate"),
        (f"- policy: `{cfg.policy}`, executing up to {runner.execute_steps} action(s) of each "
         "predicted chunk"),
        (f"- seeds: attempt k is reset with seed {cfg.seed} + k; attempts 0-"
         f"{progress['next_attempt'] - 1} ran; the kept episodes' seeds are the `seed` column "
         f"of `meta/episodes` ({', '.join(map(str, seeds[:12]))}"
         f"{' ...' if len(seeds) > 12 else ''})"),
    ]
    if cfg.motions:
        source.append(f"- motions: `{cfg.motions}` (attempt k plays clip k mod clips; "
                      "`motion` column)")
    att_rate = f"{progress['successes'] / attempts:.3f}" if attempts else "n/a"
    quality = [
        f"- success over all {attempts} attempts: {progress['successes']} ({att_rate})",
        (f"- filters: only_success={cfg.only_success}, min_length={cfg.min_length}; "
         f"rejected: {progress['rejected'] or 'none'}"),
    ]
    return write_source_card(root, runner.observer, runner.env_id,
                             "`twin record`, `twin.record.engine`", source, quality)


def write_source_card(root: str | Path, observer: Any, title: str, writer: str,
                      source: list[str], quality: list[str] | None = None) -> Path:
    """A dataset card: ``source`` and ``quality`` lines (markdown bullets) from the caller,
    success over the kept episodes, cameras and prompt encodings from ``observer``, loading
    notes and features from the dataset itself."""
    from twin import __version__
    from twin.record.consumers import policy_input_keys, prompt_keys
    from twin.record.layout import load_info
    from twin.record.recovery import read_episode_rows

    root = Path(root)
    info = load_info(root)
    rows = read_episode_rows(root)
    kept_success = sum(bool(r.get("success")) for r in rows)
    rate = f"{kept_success / len(rows):.3f}" if rows else "n/a"
    obs = observer
    lines = [
        f"# {info.robot_type or 'twin'} / {title}: {info.total_episodes} episodes",
        "",
        (f"Recorded by twin {__version__} ({writer}) as a LeRobotDataset "
         f"{info.codebase_version}, {info.fps} frames/s."),
        "",
        "## Source",
        *source,
        "",
        "## Quality",
        *(quality or []),
        f"- success over the {len(rows)} kept episodes: {kept_success} ({rate})",
        f"- frames: {info.total_frames}; tasks: {info.total_tasks}",
        "",
        "## Cameras",
        ("Intrinsics K in pixels at the recorded size; extrinsics `world_from_camera` (OpenCV "
        "axes: x right, y down, z forward; metres) are stored per frame as "
        "`observation.cameras.<cam>.world_from_camera`, computed for the stored state "
        "(`observation.sim.qpos` with prompts): projecting a stored keypoint with them lands "
        "on its stored pixel."),
        "",
        "| camera | K | mounted on | world_from_camera at the default pose | depth prompt range m |",
        "| --- | --- | --- | --- | --- |",
    ]
    for cam, c in obs.calibration().items():
        lines.append(f"| `{cam}` | {_fmt_matrix(c['K'])} | {c['mounted_on'] or 'world'} | "
                     f"{_fmt_matrix(c['world_from_camera_at_default_pose'])} | "
                     f"{c['depth_range_m'][0]:.3g}-{c['depth_range_m'][1]:.3g} |")
    lines += ["", "## Prompt encodings"]
    if obs.prompts:
        lines += [
            "Per camera (`observation.prompts.<cam>.*`, details in `meta/prompts.json`):",
            "- `skeleton` (video): the robot's keypoint skeleton, OpenPose colours for hands;",
            "- `mask` (video): 255 on robot pixels, 0 elsewhere;",
            ("- `depth` (video): robot-only depth, grey = 1 + round(254 (d - near) / (far - near)),"
            " 0 off the robot; near/far per camera in the table above;"),
            ("- `keypoints` (K, 2) pixels, `visibility` (K,) COCO 0 absent / 1 occluded / 2 "
            "visible, `keypoint_depth` (K,) m."),
        ]
    else:
        lines.append("No prompts (recorded without them).")
    inputs = policy_input_keys(info.features)
    lines += [
        "",
        "## Loading",
        "```python",
        "from lerobot.datasets.lerobot_dataset import LeRobotDataset",
        f"ds = LeRobotDataset('local/{root.name}', root='{root}')",
        "```",
        (f"Policy inputs: {', '.join(f'`{k}`' for k in inputs)}. LeRobot makes every video "
        "feature a VISUAL input; prompt videos are not camera views, so set the policy's "
        "input features to `twin.record.consumers.lerobot_input_features(root)` "
        f"(excludes {len(prompt_keys(info.features))} prompt features)."),
        "",
        "## Features",
        "| name | dtype | shape |",
        "| --- | --- | --- |",
    ]
    for k, spec in info.features.items():
        lines.append(f"| `{k}` | {spec.dtype} | {list(spec.shape)} |")
    path = root / CARD_PATH
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path
