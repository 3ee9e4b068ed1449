"""How long trackers keep the G1 up from mid-clip starts: a balance check that the standing
start of every clip cannot flatter.

Every clip is cut into windows of ``--horizon`` seconds starting every ``--every`` seconds;
each window is played from its first frame (reference state: pose and velocities, as in
training's reference-state initialisation) with no randomisation and the relaxed thresholds
of ``twin eval tracker``. Prints, per clip and per controller, the mean time up and the share
of windows tracked to their end; last, the means over all windows.

    python benchmarks/tracker_survival.py CLIP.npz|DIR [...] [--tracker default|pd|PATH ...]
        [--horizon 3] [--every 0.5]
"""

from __future__ import annotations

import argparse

import numpy as np
from twin.envs.tracking.g1_tracking import load_motions

import twin  # noqa: F401
from twin.evaluate.tracker import window_time_up_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("motions", nargs="+")
    p.add_argument("--tracker", action="append", default=None,
                   help="default, pd (stiff-PD replay) or a tracker .npz; repeatable")
    p.add_argument("--horizon", type=float, default=3.0, help="window length, s")
    p.add_argument("--every", type=float, default=0.5, help="spacing of window starts, s")
    args = p.parse_args()
    trackers = args.tracker or ["default"]
    clips = load_motions(list(args.motions))
    print(f"windows of {args.horizon:g} s every {args.every:g} s; mean time up (s) / share "
          f"tracked to the end")
    print(f"{'clip':42s} {'windows':>7s} " + " ".join(f"{t[-24:]:>24s}" for t in trackers))
    ups: dict[str, list[np.ndarray]] = {t: [] for t in trackers}
    per = {t: window_time_up_s(clips, t, args.horizon, args.every) for t in trackers}
    for clip in clips:
        name = clip.clip_name()
        if name not in per[trackers[0]]:
            print(f"{name[:42]:42s} shorter than {args.horizon:g} s")
            continue
        row = []
        for t in trackers:
            up = per[t][name]
            ups[t].append(up)
            row.append(f"{up.mean():6.2f} / {np.mean(up >= args.horizon - 0.03):4.2f}")
        print(f"{name[:42]:42s} {len(up):7d} " + " ".join(f"{r:>24s}" for r in row))
    for t in trackers:
        if ups[t]:
            up = np.concatenate(ups[t])
            print(f"{t}: {len(up)} windows, mean time up {up.mean():.2f} s of "
                  f"{args.horizon:g}, tracked to the end {np.mean(up >= args.horizon - 0.03):.2f}")


if __name__ == "__main__":
    main()
