"""Rollout workers (``num_workers``): the sharded envs step exactly as the envs of one
process do, a run trains and resumes through them, and a bad split or a broken worker is
one clear error."""

import os

import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="needs the train extra (stable-baselines3)")
pytest.importorskip("torch", reason="needs the train extra (torch)")

from twin.motion.robot_motion import save_robot_motion
from twin.train.sharded import shard_sizes
from twin.train.tracker import load_train_config, make_env, train


@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    from test_g1_tracking_env import wave_motion

    path = tmp_path_factory.mktemp("sharded") / "wave.npz"
    save_robot_motion(wave_motion(T=250), path)
    return path


def _rollout(cfg, steps: int = 60):
    """Raw observations, rewards, dones and failures (done, not by the time limit)."""
    _, env = make_env(cfg)
    inner = env.venv.venv  # under VecNormalize and VecMonitor: the raw observations
    try:
        inner.seed(7)
        obs, rews, dones, fails = [inner.reset()], [], [], []
        rng = np.random.default_rng(0)
        for _ in range(steps):
            inner.step_async(0.3 * rng.normal(size=(cfg.num_envs, env.action_space.shape[0]))
                             .astype(np.float32))
            o, r, d, infos = inner.step_wait()
            obs.append(o), rews.append(r), dones.append(d)
            fails.append([bool(x) and not infos[i]["TimeLimit.truncated"]
                          for i, x in enumerate(d)])
            for i in np.flatnonzero(d):
                assert infos[i]["terminal_observation"].shape == o[i].shape
    finally:
        env.close()
    return np.array(obs), np.array(rews), np.array(dones), np.array(fails)


def test_shards_step_like_one_process(wave):
    """Bit-identical up to the first failure: from there on each worker's adaptive start
    sampling (failure rate per 1-s bin) has seen only its own envs' failures."""
    base = [f"motions={wave}", "num_envs=5", "gains=tracking", "augment.copies=1"]
    one = _rollout(load_train_config(base))
    two = _rollout(load_train_config(base + ["num_workers=2"]))
    assert one[0].shape == two[0].shape and one[2].sum() >= 2  # episodes ended and restarted
    first_fail = int(np.argmax(one[3].any(axis=1))) if one[3].any() else len(one[3])
    assert first_fail >= 20
    np.testing.assert_array_equal(one[0][:first_fail + 1], two[0][:first_fail + 1])
    for a, b in zip(one[1:], two[1:]):
        np.testing.assert_array_equal(a[:first_fail + 1], b[:first_fail + 1])


def test_workers_start_with_one_blas_thread(monkeypatch):
    from twin.train.sharded import THREAD_POOL_VARS, single_threaded_children

    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with single_threaded_children():
        assert all(os.environ[k] == "1" for k in THREAD_POOL_VARS)
    assert os.environ["OMP_NUM_THREADS"] == "4" and "OPENBLAS_NUM_THREADS" not in os.environ


def test_a_parent_that_exits_without_closing_its_workers_does_not_hang(wave, tmp_path):
    """Workers leave the parent's process group (so `timeout` and Ctrl-C reach only the
    parent) yet still end when the parent exits without closing them."""
    import subprocess
    import sys

    script = tmp_path / "leave.py"
    script.write_text(
        "import os\n"
        "from twin.train.tracker import load_train_config, make_env\n"
        "if __name__ == '__main__':\n"
        f"    _, env = make_env(load_train_config(['motions={wave}', 'num_envs=2', "
        "'num_workers=2']))\n"
        "    workers = env.venv.venv.procs\n"
        "    groups = {os.getpgid(p.pid) for p in workers} - {os.getpgrp()}\n"
        "    print('own groups', len(groups))\n")  # and exits without env.close()
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "own groups 2" in out.stdout  # each worker in a group of its own


def test_asking_one_workers_library_leaves_the_others_in_step(wave):
    from twin.train.tracker import call_libraries

    cfg = load_train_config([f"motions={wave}", "num_envs=4", "num_workers=2",
                             "augment.copies=1"])
    _, env = make_env(cfg)
    try:
        first = call_libraries(env, "start_shares", first_only=True)
        both = call_libraries(env, "start_shares")  # a worker left unanswered would answer here
        assert len(first) == 1 and len(both) == 2 and first[0] == both[0]
        assert list(first[0]) == ["wave"] and first[0]["wave"][0] == pytest.approx(1.0)
        env.reset()
        env.step(np.zeros((4, env.action_space.shape[0]), np.float32))
    finally:
        env.close()


def test_shard_sizes():
    assert shard_sizes(10, 3) == [4, 3, 3] and shard_sizes(4, 4) == [1, 1, 1, 1]
    with pytest.raises(ValueError, match=r"num_workers: expected 1..num_envs \(4\), got 5"):
        shard_sizes(4, 5)


def test_training_through_workers_resumes(wave, tmp_path, caplog):
    over = [f"motions={wave}", f"run_dir={tmp_path / 'run'}", "num_envs=4", "num_workers=2",
            "ppo.n_steps=32", "ppo.batch_size=64", "net_arch=[32,32]", "gains=tracking",
            "checkpoint_every_env_steps=1000000"]
    train(load_train_config(over + ["total_env_steps=128"]), progress_bar=False)
    with caplog.at_level("INFO", logger="twin.train.tracker"):  # the workers' samplers too
        out = train(load_train_config(over + ["total_env_steps=256"]), progress_bar=False)
    assert "failure rates of 1 of 1 saved clips restored" in caplog.text
    from twin.controllers.tracking_policy import TrackingController

    assert TrackingController.load(out).metadata.training["env_steps"] == 256


def test_a_worker_that_cannot_build_its_envs_is_one_error(tmp_path):
    import gymnasium as gym

    from twin.motion.errors import MotionFormatError
    from twin.train.sharded import ShardedVecEnv

    missing = tmp_path / "none.npz"
    cfg = load_train_config([f"motions={missing}", "num_envs=2", "num_workers=2"])
    with pytest.raises(MotionFormatError, match="none.npz: file does not exist"):
        make_env(cfg)  # the parent's one-env copy meets bad clips first, before any spawn
    box = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    env = ShardedVecEnv(cfg, 2, box, box)  # the workers on their own
    with pytest.raises(RuntimeError, match=r"rollout worker 0 of 2: .*none\.npz"):
        env.wait_ready()
    assert all(not p.is_alive() for p in env.procs)
