#!/bin/bash
# Runs ON the lent machine (prepared by scripts/device/prepare.sh, .dev carried): installs the
# wheels and twin under /tmp, unpacks the library, resumes the run for SECONDS of training
# (SIGTERM writes its checkpoint) and leaves the checkpoint in $OUT.
# Rollouts run in WORKERS processes (default: one per core but one) of 16 envs each; the
# main process's policy inference and the update use every core (the workers wait then).
#   usage: [WORKERS=N] bash scripts/device/train.sh SECONDS [NUM_ENVS] [N_STEPS] [KEY=VALUE ...]
set -u
C=$(nproc); WORKERS=${WORKERS:-$(( C > 1 ? C - 1 : 1 ))}
T=${1:?usage: train.sh SECONDS [NUM_ENVS] [N_STEPS] [overrides]}; NE=${2:-$(( 16 * WORKERS ))}
NS=${3:-32}; BS=$(( NE * NS / 4 ))  # 4 minibatches per epoch, as the 2-core campaign
shift $(( $# < 3 ? $# : 3 ))
source "$(dirname "$0")/setup.sh"
mkdir -p $W/run/checkpoints && cp $R/.dev/run/latest.zip $R/.dev/run/latest_obs_rms.npz \
  $W/run/checkpoints/ && cp $R/.dev/run/config.yaml $R/.dev/run/lineage.json $W/run/ || exit 7
echo "setup $(( $(date +%s) - t0 )) s on $C cores: $NE envs in $WORKERS workers, $NS steps, minibatch $BS"
# PROFILE=1: cProfile of the main process (rollout driver and update) into $OUT/main.prof
PROF=(); [ -z "${PROFILE:-}" ] || PROF=(-m cProfile -o $OUT/main.prof)
timeout -s TERM $T python3 "${PROF[@]}" -m twin.cli.main \
  train tracker motions=$W/train run_dir=$W/run \
  total_env_steps=1000000000 num_envs=$NE ppo.n_steps=$NS ppo.batch_size=$BS \
  num_workers=$WORKERS torch_threads=$C torch_update_threads=null \
  augment.copies=2 collision=no_self ppo.update_dtype=bfloat16 action_mode=reference_holding \
  symmetric_policy=true \
  "proprio_obs=[base_lin_vel_b,base_ang_vel_b,projected_gravity_b,joint_pos_rel,joint_vel,last_action]" \
  reward.foot_slip=1.0 ppo.learning_rate_min=2e-6 ppo.desired_kl=0.004 val_motions=null \
  progress=false "$@" 2>&1 | tee $OUT/train.log
echo "train rc ${PIPESTATUS[0]}; $(( $(date +%s) - t0 )) s in all"
cp $W/run/checkpoints/latest.zip $W/run/checkpoints/latest_obs_rms.npz $W/run/tracker.npz \
  $W/run/progress.json $W/run/config.yaml $OUT/
cat $W/run/progress.json
