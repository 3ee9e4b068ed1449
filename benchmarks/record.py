"""Recording throughput: frames/s that LeRobotV3Writer writes, one camera, synthetic frames.

Measures add_frame (validation + streaming video encode) and save_episode (remux into the
dataset mp4, parquet, metadata, fsync) over whole episodes; frames are generated before the
clock starts. Usage:

    python benchmarks/record.py                      # 256x256, 5 episodes x 200 frames
    python benchmarks/record.py --size 128 --codec libx264
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
    args = parser.parse_args()

    features = {
        "observation.images.front": video_feature(args.size, args.size),
        "observation.state": FeatureSpec("float32", (6,)),
        "action": FeatureSpec("float32", (6,)),
    }
    frames = synthetic_frames(min(args.frames, 100), args.size)
    rng = np.random.default_rng(1)
    states = rng.normal(size=(args.frames, 6)).astype(np.float32)
    video = VideoEncoding(codec=args.codec) if args.codec else None

    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp) / "ds"
        t_add = t_save = 0.0
        with LeRobotV3Writer(root, args.fps, features, "benchmark", video=video) as writer:
            codec = writer.encoding.codec
            for _ in range(args.episodes):
                t0 = time.perf_counter()
                for t in range(args.frames):
                    writer.add_frame(
                        {
                            "observation.images.front": frames[t % len(frames)],
                            "observation.state": states[t],
                            "action": states[t],
                        }
                    )
                t1 = time.perf_counter()
                writer.save_episode("benchmark", success=True)
                t2 = time.perf_counter()
                t_add += t1 - t0
                t_save += t2 - t1
        total = args.episodes * args.frames
        check_dataset(root)
        size_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
    print(
        f"record {args.size}x{args.size}, 1 camera, {codec}: "
        f"{total / (t_add + t_save):.0f} frames/s written "
        f"({args.episodes} episodes x {args.frames} frames; add_frame {total / t_add:.0f} "
        f"frames/s, save_episode {1e3 * t_save / args.episodes:.0f} ms/episode, "
        f"{size_mb:.2f} MB on disk)"
    )


if __name__ == "__main__":
    main()
