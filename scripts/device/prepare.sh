#!/bin/bash
# Prepare .dev/ (git-ignored through .git/info/exclude) for a tracker training run on a lent
# accelerator machine (Python 3.12, PyTorch installed, no network, 64 MiB per upload):
# wheels twin needs there, the G1 model files, the packed training library and the run's
# checkpoint. Then, with the device tool: run `bash scripts/device/train.sh SECONDS` with
# carry [".dev"]. See docs/tracker.md, "Training on a lent machine".
# RUN_DIR `none` carries no run (for scripts/device/specialists.sh, which starts from the
# shipped tracker in the checkout).
#   usage: bash scripts/device/prepare.sh RUN_DIR|none [LIBRARY_DIR]
set -euo pipefail
RUN=${1:?usage: prepare.sh RUN_DIR|none [LIBRARY_DIR]}; LIB=${2:-data/motion_library/train}
[ "$RUN" = none ] || [ -f "$RUN/checkpoints/latest.zip" ] || { echo "error: $RUN/checkpoints/latest.zip: no checkpoint to resume" >&2; exit 1; }
grep -qx "/.dev/" .git/info/exclude 2>/dev/null || echo "/.dev/" >> .git/info/exclude
rm -rf .dev && mkdir -p .dev/whl .dev/run
v() { python -c "import importlib.metadata as m; print(m.version('$1'))"; }
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .dev/whl \
  mujoco==$(v mujoco) mujoco-core==$(v mujoco-core) glfw \
  stable-baselines3==$(v stable-baselines3) gymnasium==$(v gymnasium) farama-notifications \
  hydra-core==$(v hydra-core) omegaconf==$(v omegaconf) \
  mink==$(v mink) qpsolvers==$(v qpsolvers) daqp==$(v daqp)
python -m pip wheel -q --no-deps -w .dev/whl antlr4-python3-runtime==4.9.3  # sdist only on PyPI
G1=$(python -c "from twin.robots.assets import menagerie_dir; print(menagerie_dir('unitree_g1'))")
tar cJf .dev/g1.tar.xz -C "$(dirname "$G1")" unitree_g1/g1.xml unitree_g1/g1_with_hands.xml \
  unitree_g1/LICENSE unitree_g1/assets
python -m twin.motion.pack pack "$LIB" .dev/library.tar.xz
# lineage.json (written at a run's start) keeps the tracker's env-step count whole there
[ "$RUN" = none ] || cp "$RUN/checkpoints/latest.zip" "$RUN/checkpoints/latest_obs_rms.npz" \
  "$RUN/config.yaml" "$RUN/lineage.json" .dev/run/
total=$(( $(du -sb .dev | cut -f1) + $(git ls-files -z | xargs -0 cat | wc -c) ))
echo "upload: $(( total / 1048576 )) MiB of 64 (tracked files + .dev)"
[ $total -lt 67108864 ] || { echo "error: over the 64 MiB upload limit" >&2; exit 1; }
