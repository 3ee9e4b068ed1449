"""Tracker training: a smoke run improves the return, resumes, and exports equal actions."""

import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="needs the train extra (stable-baselines3)")
torch = pytest.importorskip("torch", reason="needs the train extra (torch)")

from twin.controllers.tracking_policy import TrackingController

from twin.motion.robot_motion import save_robot_motion
from twin.train.tracker import load_train_config, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from test_g1_tracking_env import wave_motion

    root = tmp_path_factory.mktemp("train")
    save_robot_motion(wave_motion(T=250), root / "wave.npz")
    overrides = [f"motions={root / 'wave.npz'}", f"run_dir={root / 'run'}", "num_envs=8",
                 "total_env_steps=2048", "checkpoint_every_env_steps=1024",
                 "ppo.batch_size=256", "ppo.n_steps=32", "net_arch=[64,64]"]
    out = train(load_train_config(overrides), progress_bar=False)
    return root, overrides, out


def test_export_is_self_describing_and_matches_torch(trained):
    root, _, out = trained
    ctrl = TrackingController.load(out)
    meta = ctrl.metadata
    assert meta.joint_names[0] == "left_hip_pitch_joint" and len(meta.kp) == 29
    assert meta.kp[3] == pytest.approx(99.10, abs=0.01)  # left knee, 7520-22
    assert meta.obs_dim == 518 and meta.window_steps == (1, 2, 5, 10, 25)
    assert meta.training["env_steps"] == 2048
    from stable_baselines3 import PPO

    model = PPO.load(root / "run" / "checkpoints" / "latest.zip", device="cpu")
    obs = np.random.default_rng(0).normal(size=(5, 518)).astype(np.float32)
    with torch.no_grad():
        expect = model.policy._predict(torch.as_tensor(ctrl.normalise(obs), dtype=torch.float32),
                                       deterministic=True).numpy()
    np.testing.assert_allclose(ctrl(obs), expect, atol=1e-4)


def test_onnx_export_matches_numpy(trained):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (export extra)")
    import onnx

    root, _, out = trained
    ctrl = TrackingController.load(out)
    path = root / "run" / "tracker.onnx"
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["twin_tracker"])["joint_names"] == list(ctrl.metadata.joint_names)
    sess = ort.InferenceSession(str(path))
    obs = np.random.default_rng(1).normal(size=(3, 518)).astype(np.float32)
    np.testing.assert_allclose(sess.run(None, {"obs": obs})[0], ctrl(obs), atol=1e-4)


def test_resume_continues_from_checkpoint(trained):
    root, overrides, _ = trained
    over = [o for o in overrides if not o.startswith("total_env_steps")]
    train(load_train_config(over + ["total_env_steps=3072"]), progress_bar=False)
    progress = json.loads((root / "run" / "progress.json").read_text())
    assert progress["env_steps"] == 3072  # 2048 earlier + 1024 now, not 3072 fresh


def test_missing_motions_is_a_clear_error():
    with pytest.raises(ValueError, match="motions is required"):
        load_train_config([])


def test_unknown_tracker_name():
    with pytest.raises(FileNotFoundError, match="no shipped tracker 'nope'"):
        TrackingController.load("nope")
