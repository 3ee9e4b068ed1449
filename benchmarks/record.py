"""Recording throughput: frames/s that LeRobotV3Writer writes, one camera, synthetic frames.

Measures add_frame (validation + streaming video encode) and save_episode (remux into the
dataset mp4, parquet, metadata, fsync) over whole episodes; frames are generated before the
clock starts. ``--prompts`` also writes the visual-action-prompt features of one camera (3
more videos: skeleton, mask, depth; keypoints, visibility, camera parameters, qpos) from
synthetic values, so the two lines compare the writer's cost with and without prompts.
``--env ID`` measures end to end instead (physics, rendering, prompts, encoding, writing)
by recording that twin env with a random policy through ``CameraObservations``, without and
with prompts; ``--env ID --policy oracle`` runs the data engine (``twin record``:
``twin.record.engine.record``) with that policy, setup (env, renderers) excluded. Usage:

    python benchmarks/record.py                      # 256x256, 5 episodes x 200 frames
    python benchmarks/record.py --size 128 --codec libx264
    python benchmarks/record.py --prompts
    python benchmarks/record.py --env twin/PandaReach-v0 --episodes 2 --frames 50
    python benchmarks/record.py --env twin/PandaPickCube-v0 --policy oracle --episodes 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from twin.record import FeatureSpec, LeRobotV3Writer, VideoEncoding, check_dataset, video_feature


def synthetic_frames(n: int, size: int) -> np.ndarray:
    """Smooth moving sine patterns plus mild noise, like a rendered scene with texture."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    rng = np.random.default_rng(0)
    out = np.empty((n, size, size, 3), np.uint8)
    for t in range(n):
        r = 128 + 60 * np.sin(2 * np.pi * (xx + 3 * t) / 128)
        g = 128 + 60 * np.sin(2 * np.pi * (yy - 2 * t) / 96)
        b = 90 + 80 * (xx + yy) / (2 * size)
        img = np.stack([r, g, b], -1) + rng.normal(0, 2, (size, size, 3))
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="square image side, pixels")
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--frames", type=int, default=200, help="frames per episode")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--codec", default=None, help="ffmpeg encoder; default LeRobot's AV1")
    parser.add_argument("--root", type=Path, default=None, help="default: a temporary dir")
    parser.add_argument("--prompts", action="store_true",
                        help="also measure the writer with one camera's prompt features")
    parser.add_argument("--env", default=None, help="measure end to end on this twin env id")
    parser.add_argument("--policy", default=None,
                        help="with --env: drive the data engine with this policy (oracle, ...)")
    args = parser.parse_args()
    if args.env and args.policy:
        for prompts in (False, True):
            bench_engine(args, prompts)
        return
    if args.env:
        for prompts in (False, True):
            bench_env(args, prompts)
        return
    bench_writer(args, prompts=False)
    if args.prompts:
        bench_writer(args, prompts=True)


K_SYNTHETIC = 17  # keypoints in the synthetic prompt features (the G1 body skeleton)


def bench_writer(args: argparse.Namespace, prompts: bool) -> None:

    features = {
        "observation.images.front": video_feature(args.size, args.size),
        "observation.state": FeatureSpec("float32", (6,)),
        "action": FeatureSpec("float32", (6,)),
    }
    frames = synthetic_frames(min(args.frames, 100), args.size)
    rng = np.random.default_rng(1)
    states = rng.normal(size=(args.frames, 6)).astype(np.float32)
    extra: dict[str, np.ndarray] = {}
    if prompts:
        k = K_SYNTHETIC
        for v in ("skeleton", "mask", "depth"):
            features[f"observation.prompts.front.{v}"] = video_feature(args.size, args.size)
        features["observation.prompts.front.keypoints"] = FeatureSpec("float32", (k, 2))
        features["observation.prompts.front.visibility"] = FeatureSpec("uint8", (k,))
        features["observation.prompts.front.keypoint_depth"] = FeatureSpec("float32", (k,))
        features["observation.cameras.front.intrinsics"] = FeatureSpec("float64", (3, 3))
        features["observation.cameras.front.world_from_camera"] = FeatureSpec("float64", (4, 4))
        features["observation.sim.qpos"] = FeatureSpec("float64", (36,))
        prompt_frames = synthetic_prompt_frames(min(args.frames, 100), args.size)
        extra = {
            "observation.prompts.front.keypoints": rng.uniform(0, args.size, (k, 2)).astype(
                np.float32),
            "observation.prompts.front.visibility": np.full(k, 2, np.uint8),
            "observation.prompts.front.keypoint_depth": np.full(k, 3.0, np.float32),
            "observation.cameras.front.intrinsics": np.eye(3),
            "observation.cameras.front.world_from_camera": np.eye(4),
            "observation.sim.qpos": np.zeros(36),
        }
    video = VideoEncoding(codec=args.codec) if args.codec else None

    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp) / "ds"
        t_add = t_save = 0.0
        with LeRobotV3Writer(root, args.fps, features, "benchmark", video=video) as writer:
            codec = writer.encoding.codec
            for _ in range(args.episodes):
                t0 = time.perf_counter()
                for t in range(args.frames):
                    frame = {
                        "observation.images.front": frames[t % len(frames)],
                        "observation.state": states[t],
                        "action": states[t],
                        **extra,
                    }
                    if prompts:
                        for v, imgs in prompt_frames.items():
                            frame[f"observation.prompts.front.{v}"] = imgs[t % len(imgs)]
                    writer.add_frame(frame)
                t1 = time.perf_counter()
                writer.save_episode("benchmark", success=True)
                t2 = time.perf_counter()
                t_add += t1 - t0
                t_save += t2 - t1
        total = args.episodes * args.frames
        check_dataset(root)
        size_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
    print(
        f"record {args.size}x{args.size}, 1 camera{' + prompts' if prompts else ''}, {codec}: "
        f"{total / (t_add + t_save):.0f} frames/s written "
        f"({args.episodes} episodes x {args.frames} frames; add_frame {total / t_add:.0f} "
        f"frames/s, save_episode {1e3 * t_save / args.episodes:.0f} ms/episode, "
        f"{size_mb:.2f} MB on disk)"
    )


def synthetic_prompt_frames(n: int, size: int) -> dict[str, np.ndarray]:
    """A moving stick figure (skeleton), its blob (mask) and a depth ramp on it (depth)."""
    import cv2

    out = {v: np.zeros((n, size, size, 3), np.uint8) for v in ("skeleton", "mask", "depth")}
    yy, xx = np.mgrid[0:size, 0:size]
    for t in range(n):
        c = size / 2 + size / 8 * np.sin(2 * np.pi * t / 50)
        pts = [(int(c), int(0.2 * size)), (int(c), int(0.5 * size)),
               (int(c - 0.15 * size), int(0.8 * size)), (int(c + 0.15 * size), int(0.8 * size))]
        for (a, b), col in zip(((0, 1), (1, 2), (1, 3)), ((255, 0, 0), (0, 255, 0), (0, 0, 255))):
            cv2.line(out["skeleton"][t], pts[a], pts[b], col, 2)
        blob = ((xx - c) / (0.12 * size)) ** 2 + ((yy - size / 2) / (0.35 * size)) ** 2 < 1
        out["mask"][t][blob] = 255
        out["depth"][t][blob] = (100 + 40 * (yy[blob] / size))[:, None].astype(np.uint8)
    return out


def bench_env(args: argparse.Namespace, prompts: bool) -> None:
    """End to end: physics + render + (prompts) + encode + write, one env, random actions."""
    import gymnasium as gym

    from twin.record import record_vector_env
    from twin.record.prompts import CameraObservations

    envs = gym.make_vec(args.env, num_envs=1, vectorization_mode="vector_entry_point",
                        max_episode_steps=args.frames)
    wrapped = CameraObservations(envs, None, args.size, args.size, prompts=prompts)
    video = VideoEncoding(codec=args.codec) if args.codec else None
    rng = np.random.default_rng(0)
    shape = wrapped.action_space.shape
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root / f"prompts_{prompts}" if args.root else Path(tmp) / "ds"
        # one untimed step builds renderers (and decimated meshes) first
        wrapped.reset(seed=0)
        wrapped.step(np.zeros(shape, np.float32))
        t0 = time.perf_counter()
        saved = record_vector_env(
            wrapped, lambda obs: rng.uniform(-1, 1, shape).astype(np.float32), root,
            num_episodes=args.episodes, task="benchmark", seed=1, video=video,
            **wrapped.recorder_kwargs())
        dt = time.perf_counter() - t0
        wrapped.close()
    frames = sum(s.length for s in saved)
    cams = ", ".join(wrapped.observer.cameras)
    print(f"record {args.env} {args.size}x{args.size} ({cams}), "
          f"{'with' if prompts else 'without'} prompts: {frames / dt:.1f} frames/s end to end "
          f"({len(saved)} episodes, {frames} frames, {dt:.1f} s)")


def bench_engine(args: argparse.Namespace, prompts: bool) -> None:
    """The data engine end to end (policy, physics, render, prompts, encode, write)."""
    from twin.record.engine import RecordConfig, record

    with tempfile.TemporaryDirectory() as tmp:
        root = args.root / f"engine_prompts_{prompts}" if args.root else Path(tmp) / "ds"
        s = record(RecordConfig(env=args.env, out=str(root), episodes=args.episodes,
                                policy=args.policy, prompts=prompts, size=args.size,
                                codec=args.codec))
    dt = s.wall_s - s.setup_s
    print(f"twin record {args.env} policy={args.policy} {args.size}x{args.size}, "
          f"{'with' if prompts else 'without'} prompts: {s.frames / dt:.1f} frames/s "
          f"({s.episodes} episodes, {s.frames} frames, {dt:.1f} s + {s.setup_s:.1f} s setup)")


if __name__ == "__main__":
    main()
