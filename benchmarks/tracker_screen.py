"""Screen campaign snapshots before the ship gate, on noise seeds the gate never uses.

For each tracker: the real held-out split's frame-0 tracked fraction over ``--rollouts``
seeded noisy rollouts (seeds ``--first-seed`` on; the gate in ``tracker_eval.py`` uses
0 ... ROLLOUTS - 1, so a snapshot picked here is not picked on the gate's own draws), and
with ``--windows`` the noise-free mid-clip windows (3 s every 0.5 s) on the held-out AMP
takes and on the training AMP takes, the campaign's learning curve between gates.
``--per-clip`` adds each clip's frame-0 tracked fraction, rollout by rollout. ``--heading``
adds the heading probe: every AMP take of both splits started from its first frame with the
robot turned by each of ``HEADING_OFFSETS_RAD`` from the reference (noise-free, 4 s): the
mean seconds up and how many fall, by offset size, where a plan turns faster than the robot.
``--phase`` adds the phase probe: the held-out AMP takes from a start every second, with the
robot started each of ``PHASE_OFFSETS_S`` along the take from the reference (noise-free,
3 s): the fraction fallen behind and ahead of the plan, where a gait drifts out of step.

    python benchmarks/tracker_screen.py TRACKER [TRACKER ...] [--rollouts 4]
        [--first-seed 100] [--windows] [--per-clip] [--heading] [--phase]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
from twin.envs.tracking.g1_tracking import load_motions

import twin  # noqa: F401
from twin.evaluate.tracker import heading_offset_runs, phase_offset_runs, window_time_up_s

ROOT = Path(__file__).resolve().parents[1]
# the AMP takes of both splits: the same performers' gaits held out and trained on
WINDOW_SETS = {"held-out AMP": "data/motion_library/heldout_real",
               "training AMP": "data/motion_library/train"}


def _tracker_eval():
    spec = importlib.util.spec_from_file_location("tracker_eval",
                                                  Path(__file__).with_name("tracker_eval.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def noise_free_windows_s(tracker: str, bench) -> dict[str, float | None]:
    """Mean seconds up over the windows (the gate's, ``bench`` = ``tracker_eval``) of each
    ``WINDOW_SETS`` folder's AMP takes (None where the library is not built)."""
    out = {}
    for label, folder in WINDOW_SETS.items():
        files = sorted((ROOT / folder).glob("amp_*.npz"))
        out[label] = (float(np.concatenate(list(window_time_up_s(
            load_motions(files), tracker, bench.WINDOW_S, bench.WINDOW_EVERY_S).values())).mean())
                      if files else None)
    return out


HEADING_OFFSETS_RAD = (0.0, -0.5, 0.5, -1.0, 1.0, -1.5, 1.5)
HEADING_HORIZON_S = 4.0


def heading_probe(tracker: str, files: list[Path] | None = None
                  ) -> dict[float, tuple[float, float]]:
    """Per offset size |rad|: (mean seconds up of ``HEADING_HORIZON_S``, fraction fallen)
    over both offset signs and ``files`` (default: the AMP takes of both ``WINDOW_SETS``
    folders; empty where the library is not built)."""
    if files is None:
        files = [f for folder in WINDOW_SETS.values()
                 for f in sorted((ROOT / folder).glob("amp_*.npz"))]
    runs = list(heading_offset_runs(load_motions(files), tracker, HEADING_OFFSETS_RAD,
                                    HEADING_HORIZON_S).values()) if files else []
    if not runs:
        return {}
    up = np.array([[r.tracked_s for r in rs] for rs in runs])
    fell = np.array([[not r.success for r in rs] for rs in runs])
    size = np.abs(np.array(HEADING_OFFSETS_RAD))
    return {float(m): (float(up[:, size == m].mean()), float(fell[:, size == m].mean()))
            for m in sorted(set(size))}


PHASE_OFFSETS_S = (0.0, -0.15, 0.15, -0.3, 0.3)
PHASE_HORIZON_S = 3.0


def phase_probe(tracker: str, files: list[Path] | None = None) -> dict[float, float]:
    """Per offset of ``PHASE_OFFSETS_S`` (s; negative: the robot behind its plan): the
    fraction of ``PHASE_HORIZON_S`` starts fallen, over ``files`` (default: the held-out AMP
    takes; empty where the library is not built)."""
    if files is None:
        files = sorted((ROOT / WINDOW_SETS["held-out AMP"]).glob("amp_*.npz"))
    runs = list(phase_offset_runs(load_motions(files), tracker, PHASE_OFFSETS_S,
                                  PHASE_HORIZON_S).values()) if files else []
    return {float(o): float(np.mean([not r.success for by_offset in runs
                                     for r in by_offset[j]]))
            for j, o in enumerate(PHASE_OFFSETS_S)} if runs else {}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trackers", nargs="+", help="default or tracker .npz/.onnx paths")
    p.add_argument("--rollouts", type=int, default=4,
                   help="noisy frame-0 rollouts per tracker; 0: none (only the probes / windows)")
    p.add_argument("--first-seed", type=int, default=100)
    p.add_argument("--windows", action="store_true",
                   help="also the noise-free windows on the held-out and training AMP takes")
    p.add_argument("--per-clip", action="store_true")
    p.add_argument("--heading", action="store_true",
                   help="also the heading probe (start turned from the reference, AMP takes)")
    p.add_argument("--phase", action="store_true",
                   help="also the phase probe (start behind / ahead of the reference)")
    args = p.parse_args(argv)
    if args.rollouts < 0:
        p.error(f"--rollouts {args.rollouts}: expected 0 (no frame-0 rollouts) or more")
    bench = _tracker_eval()
    seeds = range(args.first_seed, args.first_seed + args.rollouts)
    if seeds and seeds.start < bench.ROLLOUTS:
        print(f"note: seeds {seeds.start}-{seeds.stop - 1} overlap the gate's 0-"
              f"{bench.ROLLOUTS - 1}; a snapshot picked on them is picked on the gate's draws")
    folder = bench.split_folder("real")
    clips = load_motions(folder)
    if seeds:
        print(f"real split {folder.relative_to(ROOT)} ({len(clips)} clips); frame-0 tracked "
              f"fraction over noisy rollouts with seeds {seeds.start}-{seeds.stop - 1}")
    for tracker in args.trackers:
        means, per_clip = bench.frame0_rollouts(clips, tracker, seeds) if seeds else ([], {})
        line = (f"{tracker}: frame-0 {np.mean(means):.3f} (sd {np.std(means):.3f}; "
                + " ".join(f"{m:.3f}" for m in means) + ")") if means else f"{tracker}:"
        if args.windows:
            w = noise_free_windows_s(tracker, bench)
            line += "; noise-free windows " + ", ".join(
                f"{label} {'n/a' if v is None else f'{v:.3f} s'}" for label, v in w.items())
        print(line, flush=True)
        if args.heading:
            probe = heading_probe(tracker)
            print("  heading probe (|offset| rad: seconds up of "
                  f"{HEADING_HORIZON_S:g}, fraction fallen): " + (", ".join(
                      f"{m:g}: {up:.2f} s, {fell:.2f}" for m, (up, fell) in probe.items())
                      or "n/a (library not built)"), flush=True)
        if args.phase:
            probe = phase_probe(tracker)
            print(f"  phase probe (offset s, - = behind: fraction of {PHASE_HORIZON_S:g}-s "
                  "starts fallen): " + (", ".join(f"{o:+g}: {fell:.2f}"
                                                  for o, fell in probe.items())
                                        or "n/a (library not built)"), flush=True)
        if args.per_clip:
            for clip, fractions in per_clip.items():
                print(f"  {clip[:40]:40s} {np.mean(fractions):.2f}  "
                      + " ".join(f"{x:.2f}" for x in fractions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
