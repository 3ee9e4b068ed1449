"""Render throughput of the ``full`` and ``fast`` profiles, and how close ``fast`` looks.

For G1 on the empty floor (camera ``front``) and Panda on its table (camera ``third_person``)
at --size pixels: frames/s of RGB, depth and segmentation with each profile, measured
interleaved (alternating short bursts, so both profiles see the same machine load: figures
on shared hosts drift by ~30 % run to run, their ratios much less), the fast/full ratios, the
SSIM of fast RGB to full RGB (Gaussian window, sigma 1.5, as in Wang et al. 2004), the share
of pixels whose segmentation ids agree and the median depth difference. Both robots stand in
their default pose. Targets from the issue: RGB fast/full >= 5 and SSIM >= 0.9; ``--check``
exits 1 when one is missed. Usage:

    python benchmarks/render.py                     # 256x256, 3 s per profile and mode
    python benchmarks/render.py --lp-threads 1      # llvmpipe rasteriser threads
    python benchmarks/render.py --json out.json --check
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np

SCENES = (("g1", "empty", "front"), ("panda", "panda_table", "third_person"))
MODES = ("rgb", "depth", "segmentation")
TARGET_RGB_RATIO = 5.0
TARGET_SSIM = 0.9
SCHEMA_VERSION = 1


@dataclass
class SceneResult:
    robot: str
    scene: str
    camera: str
    size: int
    full_fps: dict[str, float]
    fast_fps: dict[str, float]
    ratio: dict[str, float]
    ssim_rgb: float
    segmentation_agreement: float  # share of pixels with equal body ids (-1: background)
    depth_median_abs_diff_m: float  # over pixels where both depths are finite
    render_faces_full: int  # triangles of the meshes drawn by visual geoms
    render_faces_fast: int
    build_s_cold: float  # decimate every visual mesh and compile the render model
    build_s_disk_cache: float  # same, decimated meshes read from the disk cache
    gl_renderer: str


# --- SSIM ------------------------------------------------------------------------------------
def _gaussian_filter(img: np.ndarray, sigma: float = 1.5, truncate: float = 3.5) -> np.ndarray:
    """Separable Gaussian blur of a 2-D float image (11 taps for sigma 1.5), edges mirrored
    like scipy.ndimage's "reflect", which scikit-image uses."""
    r = int(truncate * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    h, w = img.shape
    p = np.pad(img, r, mode="symmetric")  # scipy's "reflect" is numpy's "symmetric"
    rows = sum(k[i] * p[i:i + h, :] for i in range(2 * r + 1))
    return sum(k[i] * rows[:, i:i + w] for i in range(2 * r + 1))


def ssim_numpy(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Mean SSIM of two (H, W[, C]) images: Gaussian window (sigma 1.5, 11 taps), K1 0.01,
    K2 0.03, population covariances, channels averaged, a 5-pixel border left out (the same
    numbers as scikit-image with gaussian_weights=True, use_sample_covariance=False)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    pad = 5  # half the window
    out = []
    for ch in range(a.shape[-1]):
        x, y = a[..., ch], b[..., ch]
        mx, my = _gaussian_filter(x), _gaussian_filter(y)
        vx = _gaussian_filter(x * x) - mx * mx
        vy = _gaussian_filter(y * y) - my * my
        cxy = _gaussian_filter(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        out.append(s[pad:-pad, pad:-pad].mean())
    return float(np.mean(out))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two uint8 images: scikit-image when installed, else ``ssim_numpy`` (same
    formulation)."""
    try:
        from skimage.metrics import structural_similarity
    except ImportError:
        return ssim_numpy(a, b)
    return float(structural_similarity(a, b, channel_axis=2 if a.ndim == 3 else None,
                                       gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=255))


# --- measurement -----------------------------------------------------------------------------
def interleaved_fps(render_full, render_fast, seconds: float) -> tuple[float, float]:
    """Frames/s of two render callables, alternating bursts of ~0.2 s until each has run
    ``seconds``."""
    elapsed = [0.0, 0.0]
    frames = [0, 0]
    bursts = []
    for f in (render_full, render_fast):
        t = time.perf_counter()
        f()
        bursts.append(max(1, int(0.2 / max(time.perf_counter() - t, 1e-4))))
    while min(elapsed) < seconds:
        for i, f in enumerate((render_full, render_fast)):
            t = time.perf_counter()
            for _ in range(bursts[i]):
                f()
            elapsed[i] += time.perf_counter() - t
            frames[i] += bursts[i]
    return frames[0] / elapsed[0], frames[1] / elapsed[1]


def drawn_faces(model) -> int:
    """Triangles of the meshes referenced by never-colliding (visual) geoms."""
    from twin.sim.mujoco_fast_render import visual_geom_mask

    mesh_ids = {int(model.geom_dataid[g]) for g in np.flatnonzero(visual_geom_mask(model))}
    return int(sum(model.mesh_facenum[m] for m in mesh_ids))


def build_times(built_scene, profile) -> tuple[float, float]:
    """(cold, from disk cache) seconds to build the decimated render model."""
    from twin.sim import mujoco_fast_render as fr

    saved = os.environ.get(fr.CACHE_ENV)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[fr.CACHE_ENV] = tmp
        times = []
        for _ in range(2):
            fr.clear_memory_cache()
            t = time.perf_counter()
            fr.decimated_render_model(built_scene, profile)
            times.append(time.perf_counter() - t)
    if saved is None:
        os.environ.pop(fr.CACHE_ENV)
    else:
        os.environ[fr.CACHE_ENV] = saved
    fr.clear_memory_cache()
    return times[0], times[1]


def run_scene(robot: str, scene: str, camera: str, size: int, seconds: float) -> SceneResult:
    from twin.sim.mujoco_backend import MujocoBackend
    from twin.sim.mujoco_render import get_render_profile
    from twin.sim.robot_state import set_default_pose

    full = MujocoBackend.from_scene(scene, render_profile="full")
    fast = MujocoBackend.from_scene(scene, render_profile="fast")
    for b in (full, fast):
        set_default_pose(b, b.scene.robot)
    cold, warm = build_times(fast.scene, get_render_profile("fast"))
    images = {}
    full_fps, fast_fps = {}, {}
    for mode in MODES:
        render_full = partial(full.render, camera, size, size, mode)
        render_fast = partial(fast.render, camera, size, size, mode)
        images[mode] = (render_full(), render_fast())
        full_fps[mode], fast_fps[mode] = interleaved_fps(render_full, render_fast, seconds)
    (rgb_a, rgb_b), (dep_a, dep_b), (seg_a, seg_b) = (images[m] for m in MODES)
    finite = np.isfinite(dep_a) & np.isfinite(dep_b)
    result = SceneResult(
        robot, scene, camera, size, full_fps, fast_fps,
        ratio={m: fast_fps[m] / full_fps[m] for m in MODES},
        ssim_rgb=ssim(rgb_a, rgb_b),
        segmentation_agreement=float(np.mean(seg_a == seg_b)),
        depth_median_abs_diff_m=float(np.median(np.abs(dep_a - dep_b)[finite])),
        render_faces_full=drawn_faces(full.model),
        render_faces_fast=drawn_faces(fast._get_renderer().model),
        build_s_cold=cold, build_s_disk_cache=warm,
        gl_renderer=gl_renderer_name())  # the fast renderer's context is still current
    full.close()
    fast.close()
    return result


def gl_renderer_name() -> str:
    """The current GL context's renderer and version (informational; '?' without PyOpenGL)."""
    try:
        from OpenGL import GL
    except ImportError:
        return "?"
    try:
        name, version = GL.glGetString(GL.GL_RENDERER), GL.glGetString(GL.GL_VERSION)
    except GL.GLError:
        return "?"
    return f"{name.decode()}, GL {version.decode()}" if name and version else "?"


def print_report(results: list[SceneResult]) -> None:
    size, gl_name = results[0].size, results[0].gl_renderer
    print(f"\nRender benchmark, {size}x{size}: MUJOCO_GL={os.environ.get('MUJOCO_GL')}, "
          f"LP_NUM_THREADS={os.environ.get('LP_NUM_THREADS')}, GL renderer: {gl_name}, "
          f"{os.cpu_count()} cores\n")
    print(f"{'robot':<6} {'camera':<13} {'mode':<13} {'full fps':>9} {'fast fps':>9}")
    for r in results:
        for m in MODES:
            print(f"{r.robot:<6} {r.camera:<13} {m:<13} {r.full_fps[m]:9.1f} {r.fast_fps[m]:9.1f}")
    print(f"\n{'robot':<6} {'faces full':>10} {'faces fast':>10} {'build cold s':>12} "
          f"{'build cached s':>14} {'seg agree':>9} {'depth |d| mm':>12}")
    for r in results:
        print(f"{r.robot:<6} {r.render_faces_full:10d} {r.render_faces_fast:10d} "
              f"{r.build_s_cold:12.2f} {r.build_s_disk_cache:14.2f} "
              f"{100 * r.segmentation_agreement:8.2f}% {1000 * r.depth_median_abs_diff_m:12.2f}")
    print(f"\nfast/full ({'target':s} rgb >= {TARGET_RGB_RATIO:g}x, SSIM >= {TARGET_SSIM:g})")
    print(f"{'robot':<6} {'rgb':>7} {'depth':>7} {'seg':>7} {'SSIM':>6}  verdict")
    for r in results:
        ok = r.ratio["rgb"] >= TARGET_RGB_RATIO and r.ssim_rgb >= TARGET_SSIM
        print(f"{r.robot:<6} {r.ratio['rgb']:6.1f}x {r.ratio['depth']:6.1f}x "
              f"{r.ratio['segmentation']:6.1f}x {r.ssim_rgb:6.3f}  {'PASS' if ok else 'FAIL'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="square image side, pixels")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="rendering time per profile and mode")
    parser.add_argument("--lp-threads", type=int, default=None,
                        help="llvmpipe rasteriser threads (LP_NUM_THREADS); default: twin's "
                             "(the core count)")
    parser.add_argument("--robots", nargs="+", default=[s[0] for s in SCENES],
                        choices=[s[0] for s in SCENES])
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    if args.lp_threads is not None:
        if "mujoco" in sys.modules:
            raise RuntimeError("--lp-threads must be applied before mujoco is imported")
        os.environ["LP_NUM_THREADS"] = str(args.lp_threads)
    import twin  # noqa: F401  (sets MUJOCO_GL / LP_NUM_THREADS before mujoco loads)

    results = [run_scene(robot, scene, cam, args.size, args.seconds)
               for robot, scene, cam in SCENES if robot in args.robots]
    print_report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"schema_version": SCHEMA_VERSION, "writer": "benchmarks/render.py",
                       "mujoco_gl": os.environ.get("MUJOCO_GL"),
                       "lp_num_threads": os.environ.get("LP_NUM_THREADS"),
                       "results": [asdict(r) for r in results]},
                      f, indent=2)
    missed = [r.robot for r in results
              if r.ratio["rgb"] < TARGET_RGB_RATIO or r.ssim_rgb < TARGET_SSIM]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
