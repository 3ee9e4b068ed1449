"""Per-clip fine-tuning budget: success and tracking error of a specialist vs env steps.

Fine-tunes a tracker (default: the shipped one) on one clip with the repo's training command
(``twin train tracker motions=CLIP init=default``), resuming in stages, and evaluates the
specialist after each stage on the same clip (deterministic, no randomisation, relaxed
thresholds as in ``twin eval tracker``). Prints one row per stage and the env steps at which
the clip was first tracked to its end.

    python benchmarks/tracker_finetune.py CLIP.npz [--stages 50000,100000,200000]
        [--num-envs 16] [--init default|none|PATH] [--run-dir runs/finetune_CLIP]
        [--set KEY=VALUE ...]

``--init none`` trains from scratch; ``--set`` passes training-config overrides (e.g.
``--set action_scale_factor=4``), so two recipes can be compared on the same clip and budget.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from twin.controllers.tracking_policy import TrackingController
from twin.envs.tracking.g1_tracking import load_motions

import twin  # noqa: F401
from twin.evaluate.tracker import evaluate_controller
from twin.train.tracker import load_train_config, train


def evaluate(tracker: str | Path, clip: Path):
    return evaluate_controller(load_motions(clip), TrackingController.load(tracker))[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clip", type=Path)
    p.add_argument("--stages", default="50000,100000,200000,300000")
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--init", default="default")
    p.add_argument("--run-dir", default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="training-config override (repeatable)")
    p.add_argument("--out", default=None, help="write the rows as JSON here")
    args = p.parse_args()
    run_dir = args.run_dir or f"runs/finetune_{args.clip.stem}"
    scratch = args.init.lower() in ("none", "null")
    base = [f"motions={args.clip}", f"init={'null' if scratch else args.init}",
            f"run_dir={run_dir}", f"num_envs={args.num_envs}",
            "checkpoint_every_env_steps=100000000", *args.set]
    rows = []
    if not scratch:
        r = evaluate(args.init, args.clip)
        rows.append(dict(env_steps=0, wall_s=0.0, success=r.success, termination=r.termination,
                         tracked_s=r.tracked_s, mpjpe_local_mm=r.mpjpe_local_mm))
    t0 = time.perf_counter()
    for steps in (int(s) for s in args.stages.split(",")):
        out = train(load_train_config(base + [f"total_env_steps={steps}"]), progress_bar=False)
        r = evaluate(out, args.clip)
        rows.append(dict(env_steps=steps, wall_s=time.perf_counter() - t0, success=r.success,
                         termination=r.termination, tracked_s=r.tracked_s,
                         mpjpe_local_mm=r.mpjpe_local_mm))
        print(f"{steps:>9d} steps {rows[-1]['wall_s']:7.0f} s  success {r.success!s:5}  "
              f"tracked {rows[-1]['tracked_s']:5.2f} s  local MPJPE {r.mpjpe_local_mm:6.1f} mm",
              flush=True)
    first = next((row["env_steps"] for row in rows if row["success"]), None)
    print(f"clip {args.clip.name}: first row ({args.init}, {rows[0]['env_steps']} steps) "
          f"success {rows[0]['success']}, "
          f"tracked {rows[0]['tracked_s']:.2f} s, {rows[0]['mpjpe_local_mm']:.1f} mm; "
          f"first success after {first} env steps" if first is not None else
          f"clip {args.clip.name}: not tracked to the end within {rows[-1]['env_steps']} steps")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
