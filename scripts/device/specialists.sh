#!/bin/bash
# Runs ON the lent machine (prepared by `scripts/device/prepare.sh none`, .dev carried): one
# specialist per training clip matching CLIP_GLOB, each fine-tuned from the shipped tracker in
# its own process (16 envs, one core; as many at once as cores but one) for SECONDS, then
# scored on its clip from frame 0. Leaves $OUT/spec/CLIP.npz (the specialist), CLIP.json (its
# score: `twin eval tracker` report) and CLIP.log; merge them with
# `python scripts/distill_specialists.py default MOTIONS $OUT/spec OUT.npz`.
#   usage: bash scripts/device/specialists.sh SECONDS [CLIP_GLOB] [KEY=VALUE ...]
set -u
T=${1:?usage: specialists.sh SECONDS [CLIP_GLOB] [overrides]}; G=${2:-amp_*}
shift $(( $# < 2 ? $# : 2 ))
source "$(dirname "$0")/setup.sh"
mkdir -p $OUT/spec
clips=$(cd $W/train && ls $G.npz 2>/dev/null)
[ -n "$clips" ] || { echo "error: no training clip matches $G.npz" >&2; exit 8; }
MAX=$(( C > 1 ? C - 1 : 1 ))
echo "setup $(( $(date +%s) - t0 )) s on $C cores: $(echo $clips | wc -w) specialists, $MAX at once"
for c in $clips; do
  while [ $(jobs -rp | wc -l) -ge $MAX ]; do sleep 1; done
  n=${c%.npz}
  OMP_NUM_THREADS=1 timeout -s TERM $T python3 -m twin.cli.main train tracker \
    motions=$W/train/$c init=$R/assets/tracker/default.npz run_dir=$W/spec/$n num_envs=16 \
    num_workers=1 torch_threads=1 torch_update_threads=1 total_env_steps=1000000000 \
    checkpoint_every_env_steps=1000000000 progress=false "$@" > $OUT/spec/$n.log 2>&1 &
done
wait
for c in $clips; do
  n=${c%.npz}
  [ -f $W/spec/$n/tracker.npz ] || { echo "$n: no tracker written (see spec/$n.log)"; continue; }
  cp $W/spec/$n/tracker.npz $OUT/spec/$n.npz
  python3 -m twin.cli.main eval tracker motions=$W/train/$c tracker=$W/spec/$n/tracker.npz \
    baseline=none out=$W/eval/$n > /dev/null 2>&1 && cp $W/eval/$n/report.json $OUT/spec/$n.json
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); s=json.load(open(sys.argv[2])); \
c=r['tracker']['clips'][0]; print(f\"{sys.argv[3]}: {s['env_steps']} env-steps, \
tracked {c['tracked_fraction']:.2f}, {c['mpjpe_local_mm']:.1f} mm\")" $OUT/spec/$n.json \
    $W/spec/$n/progress.json $n 2>/dev/null || echo "$n: not scored"
done
echo "$(( $(date +%s) - t0 )) s in all"
