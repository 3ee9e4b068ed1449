"""Tracker training: a smoke run improves the return, resumes, and exports equal actions."""

import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="needs the train extra (stable-baselines3)")
torch = pytest.importorskip("torch", reason="needs the train extra (torch)")

from twin.controllers.tracking_policy import TrackingController

from twin.motion.robot_motion import save_robot_motion
from twin.train.tracker import KLAdaptiveLR, load_train_config, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from test_g1_tracking_env import wave_motion

    root = tmp_path_factory.mktemp("train")
    save_robot_motion(wave_motion(T=250), root / "wave.npz")
    overrides = [f"motions={root / 'wave.npz'}", f"run_dir={root / 'run'}", "num_envs=8",
                 "total_env_steps=2048", "checkpoint_every_env_steps=1024",
                 "ppo.batch_size=256", "ppo.n_steps=32", "net_arch=[64,64]", "gains=tracking"]
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

    # asymmetric actor-critic (config default): the critic also read 3 + 14 * 9 privileged
    # inputs, whose statistics are kept for fine-tuning; the actor reads the 518 of the layout
    with np.load(out) as z:
        assert z["critic_W0"].shape == (64, 518 + 129) and z["W0"].shape == (64, 518)
        assert z["critic_obs_mean"].shape == (129,) and z["obs_mean"].shape == (518,)
        stored_critic = json.loads(str(z["critic_obs_layout"]))
    from twin.envs.tracking.g1_tracking import default_critic_layout

    assert [tuple(t) for t in stored_critic] == list(default_critic_layout())

    model = PPO.load(root / "run" / "checkpoints" / "latest.zip", device="cpu")
    obs = np.random.default_rng(0).normal(size=(5, 518)).astype(np.float32)
    with torch.no_grad():
        expect = model.policy._predict(torch.as_tensor(ctrl.normalise(obs), dtype=torch.float32),
                                       deterministic=True).numpy()
    np.testing.assert_allclose(ctrl(obs), expect, atol=1e-4)


def test_warm_start_reads_the_critic_layout_the_file_stores(trained, tmp_path):
    """A tracker whose critic read its privileged terms in another order is mapped by the
    stored layout, not assumed to be the default."""
    from stable_baselines3 import PPO

    from twin.train.export import load_into_sb3

    root, _, out = trained
    with np.load(out) as z:
        arrays = dict(z)
    layout = [tuple(t) for t in json.loads(str(arrays["critic_obs_layout"]))]
    starts = np.cumsum([0] + [w for _, w in layout])
    perm = np.concatenate([np.arange(starts[i], starts[i + 1])
                           for i in reversed(range(len(layout)))])
    d = len(arrays["obs_mean"])
    swapped = dict(arrays, critic_obs_mean=arrays["critic_obs_mean"][perm],
                   critic_obs_var=arrays["critic_obs_var"][perm],
                   critic_W0=np.concatenate([arrays["critic_W0"][:, :d],
                                             arrays["critic_W0"][:, d:][:, perm]], axis=1),
                   critic_obs_layout=np.array(json.dumps(layout[::-1])))
    np.savez(tmp_path / "swapped.npz", **swapped)
    model = PPO.load(root / "run" / "checkpoints" / "latest.zip", device="cpu")
    actor_layout = TrackingController.load(out).metadata.obs_layout
    mean, _var = load_into_sb3(model, tmp_path / "swapped.npz", actor_layout, tuple(layout))
    np.testing.assert_allclose(mean[d:], arrays["critic_obs_mean"], rtol=1e-6)
    w0 = next(m for m in model.policy.mlp_extractor.value_net.modules()
              if isinstance(m, torch.nn.Linear)).weight.detach().numpy()
    np.testing.assert_allclose(w0, arrays["critic_W0"], rtol=1e-6)


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


def test_a_resumed_run_keeps_the_adaptive_samplers_failure_rates(trained, caplog):
    """The checkpoint carries the sampler's failure rates by clip; resuming restores them."""
    root, overrides, _ = trained
    z = np.load(root / "run" / "checkpoints" / "latest_sampler.npz")
    assert z["names"].tolist() == ["wave"] and z["bins"].tolist() == [5]  # 5 s of clip
    assert z["rates"].shape == (5,) and 0 < z["rates"].max() <= 1
    over = [o for o in overrides if not o.startswith("total_env_steps")]
    with caplog.at_level("INFO", logger="twin.train.tracker"):
        train(load_train_config(over + ["total_env_steps=4096", "val_every_env_steps=1024",
                                        f"val_motions={root / 'wave.npz'}"]),
              progress_bar=False)
    assert "failure rates of 1 of 1 saved clips restored" in caplog.text
    # each validation also says where episodes start: one clip family holds them all
    assert "episode starts by family (share, mean bin failure rate): wave 100% (" in caplog.text


def test_a_resumed_run_takes_a_fixed_rate_from_the_config(trained, tmp_path):
    """``ppo.desired_kl=null ppo.learning_rate=X`` on resume trains at X, not at the rate the
    KL rule had adapted to (the carry-over with the rule on: the test below)."""
    import shutil

    from stable_baselines3.common.save_util import load_from_zip_file

    root, overrides, _ = trained
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    start = json.loads((run / "progress.json").read_text())["env_steps"]
    over = [o for o in overrides if not o.startswith(("run_dir", "total_env_steps"))]
    over += [f"run_dir={run}", f"total_env_steps={start + 256}",
             "ppo.desired_kl=null", "ppo.learning_rate=7e-7"]
    train(load_train_config(over), progress_bar=False)
    lr = load_from_zip_file(run / "checkpoints" / "latest.zip", device="cpu")[0]["lr_schedule"]
    assert lr.value == pytest.approx(7e-7) and lr.desired_kl is None


def test_resumed_rate_carries_over_inside_the_configs_bounds():
    from twin.train.tracker import PPOConfig, resumed_learning_rate

    adapted = KLAdaptiveLR(2e-6, desired_kl=0.004, lr_min=2e-6, lr_max=1e-2)
    campaign = PPOConfig(desired_kl=0.004, learning_rate_min=2e-6)
    assert resumed_learning_rate(adapted, campaign) == 2e-6
    assert resumed_learning_rate(adapted, PPOConfig(learning_rate_min=5e-6)) == 5e-6
    assert resumed_learning_rate(adapted, PPOConfig(learning_rate_max=1e-6)) == 1e-6
    fixed = PPOConfig(desired_kl=None, learning_rate=4e-7)
    assert resumed_learning_rate(adapted, fixed) == 4e-7
    assert resumed_learning_rate(None, PPOConfig(learning_rate=3e-5)) == 3e-5


def test_the_time_split_log_names_the_rate_and_the_kl(caplog):
    """Every 50 updates the log says the rate the updates ran at and their mean approximate
    KL: the KL rule settles on another rate when the update's dtype changes."""
    from twin.train.tracker import _ppo_class

    cls = _ppo_class()
    ppo = object.__new__(cls)
    ppo.n_steps, ppo.n_envs = 64, 32
    with caplog.at_level("INFO", logger="twin.train.tracker"):
        for k in range(50):  # 0.75 s of rollout, 0.25 s of update each; KL 0, 0.001, 0, ...
            ppo._time_split(float(k), k + 0.25, 2e-6, 0.001 * (k % 2) if k else None)
    assert ("last 50 updates: rollout 37 s, update 12 s (2079 env-steps/s); learning rate "
            "2.0e-06, approximate KL 0.0005 per update") in caplog.text


def test_missing_motions_is_a_clear_error():
    with pytest.raises(ValueError, match="motions is required"):
        load_train_config([])


def test_keys_inside_open_dict_fields_need_no_plus():
    """``reward``, ``dr_terms`` and ``clip_weights`` hold keys the schema does not list;
    Hydra alone refuses ``reward.x=...`` there without a ``+``."""
    cfg = load_train_config(["motions=x.npz", "reward.anchor_pos.weight=2.0",
                             "dr_terms.friction_scale=null", "clip_weights={amp_*: 2}",
                             "+reward.action_rate=0.01"])
    assert cfg.reward == {"anchor_pos": {"weight": 2.0}, "action_rate": 0.01}
    assert cfg.dr_terms == {"friction_scale": None} and cfg.clip_weights == {"amp_*": 2.0}
    from twin.envs.tracking.terms import TrackingRewardConfig

    with pytest.raises(ValueError, match=r"reward: unknown terms \['nope'\]"):
        TrackingRewardConfig.from_overrides(load_train_config(["motions=x.npz",
                                                               "reward.nope=1"]).reward)


def test_unknown_tracker_name():
    with pytest.raises(FileNotFoundError, match="no shipped tracker 'nope'"):
        TrackingController.load("nope")


def _deterministic_return(tracker, motion_path) -> tuple[float, int]:
    """Reward summed over one play of the clip from its first frame, policy mean actions."""
    from twin.envs.tracking.g1_tracking import G1TrackingTask

    ctrl = TrackingController.load(tracker)
    task = G1TrackingTask(motion_path, num_envs=1, random_start=False, dr=False, num_threads=1,
                          gains=ctrl.metadata.gains)
    task.fixed_clips = np.arange(1)
    task.reset()
    obs, total, steps = task.observe(), 0.0, 0
    while True:
        r = task.step(ctrl(obs))
        obs, total, steps = r.obs, total + float(r.reward[0]), steps + 1
        if r.terminated[0] or r.truncated[0]:
            return total, steps


def test_smoke_training_raises_the_return(tmp_path):
    # Measured on 2 cores: 266 -> 289 (32k steps) -> 313 (65k); the soft tracking gains
    # cannot hold the wave clip without feedback, so the return rises as PPO learns it.
    from test_g1_tracking_env import wave_motion

    save_robot_motion(wave_motion(T=250), tmp_path / "wave.npz")
    base = [f"motions={tmp_path / 'wave.npz'}", f"run_dir={tmp_path / 'run'}", "num_envs=16",
            "ppo.n_steps=32", "ppo.batch_size=256", "net_arch=[128,128]",
            "checkpoint_every_env_steps=1000000", "gains=tracking"]
    before = _deterministic_return(train(load_train_config(base + ["total_env_steps=0"]),
                                         progress_bar=False), tmp_path / "wave.npz")
    after = _deterministic_return(train(load_train_config(base + ["total_env_steps=49152"]),
                                        progress_bar=False), tmp_path / "wave.npz")
    assert after[0] > 1.05 * before[0] and after[1] >= before[1]


def test_learning_rate_adapts_to_kl():
    lr = KLAdaptiveLR(3e-4, desired_kl=0.01, lr_min=1e-5, lr_max=1e-2)
    lr.update(0.05)
    assert lr(1.0) == pytest.approx(2e-4)
    lr.update(0.012)  # inside [desired/2, 2 desired]: unchanged
    assert lr(0.5) == pytest.approx(2e-4)
    lr.update(0.001)
    assert lr(0.0) == pytest.approx(3e-4)
    for _ in range(50):
        lr.update(1.0)
    assert lr(0.0) == 1e-5
    fixed = KLAdaptiveLR(3e-4, desired_kl=None, lr_min=1e-5, lr_max=1e-2)
    fixed.update(1.0)
    assert fixed(0.0) == 3e-4


def test_finetuning_keeps_the_init_trackers_gains(trained):
    from twin.train.tracker import with_init_controller_settings

    _, _, out = trained  # trained with gains=tracking
    cfg = load_train_config(["motions=x.npz", f"init={out}", "gains=stiff"])
    assert with_init_controller_settings(cfg).gains == "tracking"
    assert load_train_config(["motions=x.npz"]).gains == "stiff"  # the config default


def test_validator_keeps_the_best_snapshot(tmp_path, residual_tracker):
    """Scores go to val.jsonl; best.npz is the highest-success, then lowest-MPJPE snapshot,
    and a resumed validator remembers the best from the log."""
    from pathlib import Path

    from twin.train.tracker import TrackerTrainConfig, Validator

    squat = str(Path(__file__).resolve().parents[2] / "assets/motions/heldout_small"
                / "heldout_small_squat.npz")
    cfg = TrackerTrainConfig(motions=squat, val_motions=squat, run_dir=str(tmp_path))
    frozen = residual_tracker
    v = Validator(cfg, tmp_path)
    first = v(frozen, 1000)
    assert first["success_rate"] == 1.0 and first["clips"] == 1 and first["failed"] == []
    assert 0.5 < first["mpjpe_local_mm"] < 20.0
    assert (tmp_path / "best.npz").read_bytes() == frozen.read_bytes()
    # the same policy later is not better (equal key), so the best stays at 1000 steps
    again = Validator(cfg, tmp_path)(frozen, 2000)
    assert again["best"] == 1000
    rows = [json.loads(x) for x in (tmp_path / "val.jsonl").read_text().splitlines()]
    assert [r["env_steps"] for r in rows] == [1000, 2000]
    assert (tmp_path / "snapshots" / "tracker_000002000.npz").exists()
    # other clips: their scores are not compared with the squat's, so the best restarts
    both = str(Path(squat).parent)  # the squat and a walk
    other = Validator(TrackerTrainConfig(motions=squat, val_motions=both,
                                         run_dir=str(tmp_path)), tmp_path)
    assert other.best is None and other.val_set != v.val_set
    third = other(frozen, 3000)
    assert third["clips"] == 2 and third["best"] == 3000
    assert (tmp_path / "best.npz").read_bytes() == (
        tmp_path / "snapshots" / "tracker_000003000.npz").read_bytes()
    assert Validator(cfg, tmp_path).best["env_steps"] == 1000  # the squat's rows still count


def test_symmetric_tracker_initialises_the_asymmetric_critic_unchanged(tmp_path, residual_tracker):
    """Fine-tuning a symmetric tracker (critic reads the actor's observation only) with the
    privileged critic: the widened critic gives the same values as the stored one, whatever
    the privileged inputs hold."""
    from pathlib import Path

    from stable_baselines3 import PPO

    squat = (Path(__file__).resolve().parents[2] / "assets/motions/heldout_small"
             / "heldout_small_squat.npz")
    base = [f"motions={squat}", "num_envs=2", "total_env_steps=0"]
    sym = train(load_train_config(base + [f"init={residual_tracker}", f"run_dir={tmp_path / 'sym'}",
                                          "critic_obs=false", "symmetric_policy=false"]), progress_bar=False)
    with np.load(sym) as z:
        assert z["critic_W0"].shape[1] == 518 and "critic_obs_mean" not in z.files
    cfg = load_train_config(base + [f"init={sym}", f"run_dir={tmp_path / 'run'}",
                                    "critic_obs=true", "symmetric_policy=false"])
    train(cfg, progress_bar=False)
    model = PPO.load(tmp_path / "run" / "checkpoints" / "latest.zip", device="cpu")
    obs = np.random.default_rng(2).normal(size=(4, 518 + 129)).astype(np.float32)
    with torch.no_grad():
        values = model.policy.predict_values(torch.as_tensor(obs)).numpy()[:, 0]
    with np.load(sym) as z:
        h = obs[:, :518].astype(np.float64)
        n = sum(1 for k in z.files if k.startswith("critic_W"))
        for i in range(n):
            h = h @ z[f"critic_W{i}"].T + z[f"critic_b{i}"]
            if i < n - 1:
                h = np.where(h > 0, h, np.expm1(h))  # ELU
    np.testing.assert_allclose(values, h[:, 0], rtol=1e-4, atol=1e-4)
    # the actor is the symmetric tracker's: same actions on the actor's observation
    before = TrackingController.load(sym)
    tuned = TrackingController.load(tmp_path / "run" / "tracker.npz")
    np.testing.assert_allclose(tuned(obs[:, :518]), before(obs[:, :518]), atol=1e-5)
    # lineage: the fine-tuned file counts the init's training in its total
    t0, t1 = before.metadata.training, tuned.metadata.training
    assert t1["init"] == str(before.source) and t1["env_steps"] == 0
    assert t1["total_env_steps"] == t0["total_env_steps"] >= 4_500_000


def test_a_larger_action_scale_keeps_the_init_trackers_joint_targets(tmp_path, residual_tracker):
    """init= with action_scale_factor=4: the action head is rescaled, so the fine-tuned
    tracker asks for the same joint targets as the frozen one; resuming that run with
    another factor is refused in one line."""
    clip = "assets/motions/heldout_small/heldout_small_squat.npz"
    common = [f"motions={clip}", f"init={residual_tracker}", f"run_dir={tmp_path}",
              "num_envs=2", "total_env_steps=0", "symmetric_policy=false"]
    train(load_train_config(common + ["action_scale_factor=4"]), progress_bar=False)
    frozen = TrackingController.load(residual_tracker)
    tuned = TrackingController.load(tmp_path / "tracker.npz")
    np.testing.assert_allclose(np.array(tuned.metadata.action_scale),
                               4 * np.array(frozen.metadata.action_scale), rtol=1e-6)
    obs = np.random.default_rng(3).normal(size=(4, 518)).astype(np.float32)
    # the frozen tracker averages its network with its mirror image; fine-tuning trains
    # (and exports) the network alone
    assert frozen.metadata.mirror_average and not tuned.metadata.mirror_average
    np.testing.assert_allclose(tuned(obs) * np.array(tuned.metadata.action_scale),
                               frozen.network(obs) * np.array(frozen.metadata.action_scale),
                               atol=1e-5)
    assert not np.allclose(tuned(obs), frozen(obs))
    (tmp_path / "checkpoints" / "latest.zip").touch(exist_ok=True)
    with pytest.raises(ValueError, match="action_scale_factor=4.0; resume with the same"):
        train(load_train_config(common + ["action_scale_factor=1"]), progress_bar=False)
    with pytest.raises(ValueError, match=r"proprio_obs=\['base_ang_vel_b', .*'last_action'\]; "
                                         r"resume with the same value "
                                         r"\(asked \['base_lin_vel_b'\]\)"):
        train(load_train_config(common + ["action_scale_factor=4",
                                          "proprio_obs=[base_lin_vel_b]"]), progress_bar=False)


def test_the_lookahead_window_is_a_training_setting(tmp_path, residual_tracker):
    """obs_window_steps shapes the actor's reference terms: a run without init= trains and
    exports that window (eval then builds the same observation); from init= unset keeps the
    init's window and another one is refused in one line."""
    from twin.envs.tracking.g1_tracking import tracker_task_kwargs

    clip = "assets/motions/heldout_small/heldout_small_squat.npz"
    common = [f"motions={clip}", "num_envs=2", "total_env_steps=0"]
    short = TrackingController.load(train(load_train_config(
        common + [f"run_dir={tmp_path / 'short'}", "obs_window_steps=[1,10]"]),
        progress_bar=False))
    frozen = TrackingController.load(residual_tracker)
    assert tuple(short.metadata.window_steps) == (1, 10)
    assert tracker_task_kwargs(short.metadata)["window_steps"] == (1, 10)
    # every reference term is read at 2 offsets instead of 5
    ref_width = {n: w for n, w in frozen.metadata.obs_layout if n.startswith("ref_")}
    short_width = {n: w for n, w in short.metadata.obs_layout if n.startswith("ref_")}
    assert short_width == {n: w * 2 // 5 for n, w in ref_width.items()}
    kept = TrackingController.load(train(load_train_config(
        common + [f"run_dir={tmp_path / 'kept'}", f"init={residual_tracker}"]),
        progress_bar=False))
    assert tuple(kept.metadata.window_steps) == tuple(frozen.metadata.window_steps)
    with pytest.raises(ValueError, match=r"obs_window_steps=\[1\]: init .* reads the window "
                                         r"\[1, 2, 5, 10, 25\]; another window needs a run "
                                         r"without init="):
        train(load_train_config(common + [f"run_dir={tmp_path / 'no'}", f"init={residual_tracker}",
                                          "obs_window_steps=[1]"]), progress_bar=False)
    assert not (tmp_path / "no" / "checkpoints").exists()


def _fine_tuned_with(setting: str, clip: str, run_dir, init):
    """(the init tracker, the same network written by a 0-step run with ``setting``)."""
    train(load_train_config([f"motions={clip}", f"init={init}", f"run_dir={run_dir}",
                             "num_envs=2", "total_env_steps=0", "symmetric_policy=false",
                             setting]), progress_bar=False)
    return TrackingController.load(init), TrackingController.load(run_dir / "tracker.npz")


def test_a_new_observation_term_starts_with_zero_weights(tmp_path, residual_tracker):
    """init= with the pelvis velocity added to the actor's observation: the old inputs keep
    their weights and statistics by name, the new term starts with zero weights, so the
    tracker acts as before whatever the velocity reads; eval builds the same layout."""
    from twin.envs.tracking.g1_tracking import tracker_task_kwargs

    clip = "assets/motions/heldout_small/heldout_small_squat.npz"
    proprio = "[base_lin_vel_b,base_ang_vel_b,projected_gravity_b,joint_pos_rel,joint_vel,last_action]"
    frozen, tuned = _fine_tuned_with(f"proprio_obs={proprio}", clip, tmp_path, residual_tracker)
    assert tuned.metadata.obs_layout[0] == ("base_lin_vel_b", 3)
    assert tuned.metadata.obs_layout[1:] == frozen.metadata.obs_layout
    assert tracker_task_kwargs(tuned.metadata)["proprio"][0] == "base_lin_vel_b"
    obs = np.random.default_rng(4).normal(size=(4, 518)).astype(np.float32)
    vel = np.random.default_rng(5).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(tuned(np.concatenate([vel, obs], axis=1)),
                               frozen.network(obs), atol=1e-5)  # the network: no mirror average
    # fine-tuning it with init= alone keeps its terms; without the velocity it would drop an
    # input it uses: refused in one line
    again = [f"motions={clip}", f"init={tmp_path / 'tracker.npz'}", "num_envs=2",
             "total_env_steps=0"]
    kept = TrackingController.load(train(load_train_config(
        again + [f"run_dir={tmp_path / 'kept'}"]), progress_bar=False))
    assert kept.metadata.obs_layout == tuned.metadata.obs_layout
    with pytest.raises(ValueError, match=r"its actor reads \['base_lin_vel_b'\]"):
        train(load_train_config(again + [
            f"run_dir={tmp_path / 'again'}",
            "proprio_obs=[base_ang_vel_b,projected_gravity_b,joint_pos_rel,joint_vel,last_action]"
        ]), progress_bar=False)


def test_the_reference_root_velocity_is_a_training_setting(tmp_path, residual_tracker):
    """reference_obs adds the reference anchor's velocity to every window step: from init=
    the old inputs keep their weights by name and the new ones start at zero (the same
    actions whatever they read); eval builds the same layout and init= alone keeps it."""
    from twin.envs.tracking.g1_tracking import tracker_task_kwargs
    from twin.envs.tracking.observations import DEFAULT_REFERENCE

    clip = "assets/motions/heldout_small/heldout_small_squat.npz"
    terms = (*DEFAULT_REFERENCE, "anchor_lin_vel_in_ref_anchor", "anchor_ang_vel_in_ref_anchor")
    frozen, tuned = _fine_tuned_with(f"reference_obs=[{','.join(terms)}]", clip, tmp_path,
                                     residual_tracker)
    assert tracker_task_kwargs(tuned.metadata)["reference"] == terms
    layout = tuned.metadata.obs_layout
    assert ("ref[+25].anchor_ang_vel_in_ref_anchor", 3) in layout
    assert sum(w for _, w in layout) == sum(w for _, w in frozen.metadata.obs_layout) + 30
    rng = np.random.default_rng(4)
    obs = rng.normal(size=(4, sum(w for _, w in layout))).astype(np.float32)
    edges = np.cumsum([0] + [w for _, w in layout])
    old = [(a, b) for (n, _), a, b in zip(layout, edges[:-1], edges[1:])
           if "_vel_in_ref_anchor" not in n]
    np.testing.assert_allclose(tuned(obs), frozen.network(
        np.concatenate([obs[:, a:b] for a, b in old], axis=1)), atol=1e-5)
    kept = TrackingController.load(train(load_train_config(
        [f"motions={clip}", f"init={tmp_path / 'tracker.npz'}", "num_envs=2",
         "total_env_steps=0", f"run_dir={tmp_path / 'kept'}"]), progress_bar=False))
    assert kept.metadata.obs_layout == layout


def test_a_proprio_history_is_a_training_setting(tmp_path, residual_tracker):
    """proprio_history_steps reads the proprio terms again 1 and 3 control steps back: from
    init= the history starts at zero weight (same actions), eval rebuilds it from the
    tracker's metadata and init= alone keeps it."""
    from twin.envs.tracking.g1_tracking import tracker_task_kwargs
    from twin.envs.tracking.observations import DEFAULT_PROPRIO

    clip = "assets/motions/heldout_small/heldout_small_squat.npz"
    frozen, tuned = _fine_tuned_with("proprio_history_steps=[1,3]", clip, tmp_path,
                                     residual_tracker)
    assert tracker_task_kwargs(tuned.metadata)["history_steps"] == (1, 3)
    assert tracker_task_kwargs(tuned.metadata)["proprio"] == DEFAULT_PROPRIO
    layout = tuned.metadata.obs_layout
    assert layout[5] == ("hist[-1].base_ang_vel_b", 3) and layout[14][0] == "hist[-3].last_action"
    assert sum(w for _, w in layout) == sum(w for _, w in frozen.metadata.obs_layout) + 2 * 93
    obs = np.random.default_rng(4).normal(size=(4, sum(w for _, w in layout))).astype(np.float32)
    np.testing.assert_allclose(tuned(obs), frozen.network(
        np.concatenate([obs[:, :93], obs[:, 93 + 2 * 93:]], axis=1)), atol=1e-5)
    kept = TrackingController.load(train(load_train_config(
        [f"motions={clip}", f"init={tmp_path / 'tracker.npz'}", "num_envs=2",
         "total_env_steps=0", f"run_dir={tmp_path / 'kept'}"]), progress_bar=False))
    assert kept.metadata.obs_layout == layout


def _first_update_kl(run_dir) -> float:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = sorted(run_dir.glob("tb/*/events.*"))
    acc = EventAccumulator(str(events[0]))
    acc.Reload()
    return acc.Scalars("train/approx_kl")[0].value


def test_finetuning_from_a_tracker_does_not_throw_its_policy_away(tmp_path, residual_tracker):
    """From a trained tracker the first update starts at the lowest learning rate: its KL
    stays near the 0.01 target (at the 3e-4 starting rate it was > 100: Adam's first steps
    move every weight by about the rate)."""
    pytest.importorskip("tensorboard", reason="reads the run's tensorboard log")
    clip = "assets/motions/heldout_small/heldout_small_walk_0p35.npz"
    common = [f"motions={clip}", f"init={residual_tracker}", "symmetric_policy=false",
              "num_envs=16", "total_env_steps=3072",
              "ppo.n_steps=64", "checkpoint_every_env_steps=100000000", "dr=false"]
    train(load_train_config(common + [f"run_dir={tmp_path / 'warm'}"]), progress_bar=False)
    warm = _first_update_kl(tmp_path / "warm")
    assert warm < 0.1, warm
    from twin.train.tracker import cpu_has_bf16_matmul

    if cpu_has_bf16_matmul():
        # bf16 autocast in the update moves the policy as float32 does; with autocast's weight
        # cache on it reused the first minibatch's weights and its KL read 70x lower
        train(load_train_config(common + [f"run_dir={tmp_path / 'bf16'}",
                                          "ppo.update_dtype=bfloat16"]), progress_bar=False)
        bf16 = _first_update_kl(tmp_path / "bf16")
        assert 0.5 < bf16 / warm < 2.0, (bf16, warm)
    # the same run at a fixed 3e-4 (the adaptive rule off) moves the policy far more
    train(load_train_config(common + [f"run_dir={tmp_path / 'cold'}", "ppo.desired_kl=null"]),
          progress_bar=False)
    cold = _first_update_kl(tmp_path / "cold")
    assert cold > 10 * warm, (warm, cold)


def test_a_signal_stops_training_with_a_checkpoint(trained, tmp_path):
    """SIGTERM (as `kill` sends) mid-run: the run stops after the current step, writes its
    checkpoint and tracker, exits 0 and resumes from there."""
    import signal
    import subprocess
    import sys
    import time

    _root, overrides, _ = trained
    run = tmp_path / "run"
    args = [o for o in overrides if not o.startswith(("run_dir", "total_env_steps",
                                                         "checkpoint_every"))]
    proc = subprocess.Popen(
        [sys.executable, "-m", "twin.cli.main", "train", "tracker", *args, f"run_dir={run}",
         "total_env_steps=10000000", "checkpoint_every_env_steps=256", "progress=false"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (run / "progress.json").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert "SIGTERM: stopping after this env step" in err
    steps = json.loads((run / "progress.json").read_text())["env_steps"]
    assert 256 <= steps < 10_000_000
    assert f"stopped by SIGTERM at {steps} env-steps" in err
    assert TrackingController.load(run / "tracker.npz").metadata.training["env_steps"] == steps
    assert (run / "checkpoints" / "latest.zip").exists() and "tracker written to" in out


def test_reward_overrides_reach_the_training_env(tmp_path):
    """``reward.action_rate=0`` removes exactly the action-rate penalty from the env's
    reward: 0.1 x the summed squared action change, per env and step."""
    from test_g1_tracking_env import wave_motion

    from twin.train.tracker import make_env

    save_robot_motion(wave_motion(T=60), tmp_path / "wave.npz")
    base = [f"motions={tmp_path / 'wave.npz'}", "num_envs=2", "dr=false"]
    rewards, actions = {}, np.random.default_rng(0).normal(0, 0.5, (5, 2, 29))
    for label, extra in (("default", []), ("off", ["reward.action_rate=0"])):
        venv, sb3 = make_env(load_train_config(base + extra))
        assert venv.task.reward_cfg.action_rate == (0.1 if label == "default" else 0.0)
        venv.reset(seed=3)
        steps = [venv.step(a) for a in actions]
        rewards[label] = np.array([s[1] for s in steps])
        ended = np.array([s[2] | s[3] for s in steps])
        sb3.close()
    # an episode that ended restarts with a zero previous action: compare until then
    first = np.cumsum(ended, axis=0) - ended == 0
    prev = np.concatenate([np.zeros((1, 2, 29)), actions[:-1]])
    penalty = 0.1 * ((actions - prev) ** 2).sum(axis=-1)
    diff = rewards["off"] - rewards["default"]
    np.testing.assert_allclose(diff[first], penalty[first], rtol=1e-6)
    assert first.sum() >= 6 and penalty[first].min() > 0.4  # a penalty that can be missed


def test_adaptive_sampling_is_a_training_setting(tmp_path):
    """adaptive_sampling=false draws episode starts uniformly over the clips' frames,
    whatever the bins' failure rates; the default follows them (BeyondMimic)."""
    from test_g1_tracking_env import wave_motion

    from twin.train.tracker import make_env

    save_robot_motion(wave_motion(T=60), tmp_path / "short.npz")
    save_robot_motion(wave_motion(T=240), tmp_path / "long.npz")
    base = [f"motions={tmp_path}", "num_envs=1", "dr=false"]
    share_of_short = {}
    for label, extra in (("adaptive", []), ("uniform", ["adaptive_sampling=false"])):
        venv, sb3 = make_env(load_train_config(base + extra))
        lib = venv.task.library
        assert len(lib.clip_len) == 2
        short = int(np.argmin(lib.clip_len))
        lib.failure_rate[:] = 0.0
        lib.failure_rate[lib.bin_offset[short]:lib.bin_offset[short] + lib.num_bins[short]] = 1.0
        rng = np.random.default_rng(0)
        clips = [lib.sample_start(rng, venv.task.adaptive)[0] for _ in range(2000)]
        share_of_short[label] = float(np.mean(np.array(clips) == short))
        sb3.close()
    assert share_of_short["uniform"] == pytest.approx(60 / 300, abs=0.03)
    assert share_of_short["adaptive"] > 0.8


def test_a_drift_termination_ends_episodes_that_fall_behind(tmp_path):
    """``terminations.anchor_xy_m``: off by default; set, an episode whose torso is farther
    than that from the reference's (horizontally) ends with reason ``anchor_xy``."""
    from test_g1_tracking_env import wave_motion
    from twin.envs.tracking.terms import TerminationThresholds

    from twin.train.tracker import make_env

    save_robot_motion(wave_motion(T=60), tmp_path / "wave.npz")
    base = [f"motions={tmp_path / 'wave.npz'}", "num_envs=2", "dr=false"]
    venv, sb3 = make_env(load_train_config(base))
    assert venv.task.thresholds == TerminationThresholds()
    assert venv.task.thresholds.anchor_xy_m is None
    sb3.close()
    venv, sb3 = make_env(load_train_config(base + ["terminations.anchor_xy_m=0.004"]))
    venv.reset(seed=3)
    reasons = []
    for a in np.random.default_rng(0).normal(0, 2.0, (25, 2, 29)):
        _, _, term, _, info = venv.step(a)
        reasons += list(info["final_info"]["termination"][term]) if term.any() else []
    sb3.close()
    assert "anchor_xy" in reasons
    with pytest.raises(ValueError, match=r"terminations.anchor_xy_m: expected a number > 0 "
                                         r"or null, got -1"):
        make_env(load_train_config(base + ["terminations.anchor_xy_m=-1"]))
    with pytest.raises(ValueError, match=r"terminations: unknown thresholds \['drift'\]"):
        make_env(load_train_config(base + ["terminations.drift=1"]))


def _benchmark(name: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gradient_noise_scale_separates_signal_from_noise(trained, capsys):
    """Synthetic minibatch gradients G + noise give back |G|^2 and the noise; a real run's
    checkpoint gives a finite ratio."""
    bench = _benchmark("ppo_gradient_noise")
    rng = np.random.default_rng(0)
    signal = np.zeros(400)
    signal[:4] = 0.5  # |G|^2 = 1
    grads = signal + rng.normal(0, 0.25, (200, 400))  # E|g - G|^2 = 400 x 0.0625 = 25
    s = bench.noise_scale(grads)
    assert abs(s["signal"] - 1.0) < 0.1 and abs(s["noise"] - 25.0) < 0.5
    assert 22 < s["noise_over_signal"] < 28 and abs(s["mean_pairwise_cos"] - 1 / 26) < 0.01
    assert 0 < s["signal_se"] < 0.5 and s["signal_upper"] > s["signal"]
    hidden = bench.noise_scale(signal * 0.01 + rng.normal(0, 0.25, (20, 400)))
    assert hidden["signal"] < 2 * hidden["signal_se"]  # reported as a bound
    root, _, _ = trained
    assert bench.main([str(root / "run"), "--rollouts", "2", "--minibatch", "64"]) == 0
    out = capsys.readouterr().out
    assert "minibatches of 64 samples" in out and "B_simple" in out


def test_history_gains_a_column_without_losing_rows(tmp_path):
    """A learning curve written before ``real_window_time_up_s`` existed is rewritten with
    the new header: every old value kept, the new column empty for old rows, LF line ends."""
    bench = _benchmark("tracker_eval")
    old_cols = [c for c in bench.HISTORY_COLUMNS if c != "real_window_time_up_s"]
    path = tmp_path / "history.csv"
    old_row = {c: f"v_{c}" for c in old_cols} | {"note": 'with "quotes", and commas'}
    import csv

    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=old_cols, lineterminator="\n")
        w.writeheader()
        w.writerow(old_row)
    new_row = {c: f"n_{c}" for c in bench.HISTORY_COLUMNS}
    bench.write_history_row(path, new_row)
    bench.write_history_row(path, new_row)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [tuple(r) for r in rows] == [bench.HISTORY_COLUMNS] * 3
    assert rows[0] == old_row | {"real_window_time_up_s": ""}
    assert rows[1] == rows[2] == new_row
    assert b"\r\n" not in path.read_bytes()
    (tmp_path / "bad.csv").write_text("date,tracker,bogus\n")
    with pytest.raises(ValueError, match="'bogus'"):
        bench.write_history_row(tmp_path / "bad.csv", new_row)


def test_ship_gate_names_each_criterion():
    """The campaign's ship gate: longer up from mid-clip starts, frame-0 at most 0.02 lower,
    procedural (success, tracked) not lower, the demo a go."""
    bench = _benchmark("tracker_eval")
    shipped = {"real_windows_s": 1.30, "real_tracked_fraction": 0.213,
               "procedural_success": 0.91, "procedural_tracked_fraction": 0.952}
    good = {"real_windows_s": 1.44, "real_tracked_fraction": 0.200, "procedural_success": 0.91,
            "procedural_tracked_fraction": 0.960, "demo_verdict": "go"}
    ok, lines = bench.ship_gate(good, shipped)
    assert ok and len(lines) == 4 and all(line.startswith("pass: ") for line in lines)
    for change, failing in (({"real_windows_s": 1.30}, 0),  # equal is not higher
                            ({"real_tracked_fraction": 0.19}, 1),
                            ({"procedural_tracked_fraction": 0.95}, 2),
                            ({"procedural_success": 0.82, "procedural_tracked_fraction": 1.0}, 2),
                            ({"demo_verdict": "caution"}, 3), ({"demo_verdict": "no-go"}, 3)):
        ok, lines = bench.ship_gate(good | change, shipped)
        assert not ok and [i for i, x in enumerate(lines) if x.startswith("FAIL")] == [failing]


def test_unset_terms_and_symmetry_follow_the_init_tracker(residual_tracker):
    """init= alone fine-tunes the policy the tracker runs: its proprio terms, and a symmetric
    policy when it is mirror-averaged (its network alone is not the policy); set values win,
    and ppo.symmetry (mirrored samples) is the other kind of symmetry."""
    from twin.train.tracker import with_init_controller_settings

    def resolved(*extra):
        cfg = with_init_controller_settings(load_train_config(["motions=x.npz", *extra]))
        return cfg.symmetric_policy, cfg.proprio_obs

    shipped = TrackingController.load("default").metadata
    assert shipped.mirror_average and shipped.obs_layout[0] == ("base_lin_vel_b", 3)
    assert resolved("init=default") == (True, [n for n, _ in shipped.obs_layout[:6]])
    assert resolved(f"init={residual_tracker}") == (True, None)  # the default five
    assert resolved(f"init={residual_tracker}", "symmetric_policy=false") == (False, None)
    assert resolved(f"init={residual_tracker}", "ppo.symmetry=true")[0] is False
    assert resolved() == (False, None)


def test_ppo_std_sets_the_exploration_std_and_nothing_else(tmp_path, residual_tracker):
    """ppo.std sets every action's exploration std as a run starts and again as it resumes
    (at the campaign's learning rate the learned std no longer moves); the mean policy is
    the init tracker's. A non-positive std is refused before anything is written."""
    clip = "assets/motions/heldout_small/heldout_small_squat.npz"
    common = [f"motions={clip}", f"init={residual_tracker}", f"run_dir={tmp_path}",
              "num_envs=2", "total_env_steps=0", "symmetric_policy=false"]
    frozen = TrackingController.load(residual_tracker)

    def std(path):
        return np.exp(np.load(path)["log_std"])

    assert not np.allclose(std(residual_tracker), 0.25)
    train(load_train_config(common + ["ppo.std=0.25"]), progress_bar=False)
    tuned = TrackingController.load(tmp_path / "tracker.npz")
    np.testing.assert_allclose(std(tmp_path / "tracker.npz"), 0.25, rtol=1e-6)
    obs = np.random.default_rng(5).normal(size=(4, 518)).astype(np.float32)
    np.testing.assert_allclose(tuned(obs), frozen.network(obs), atol=1e-5)
    assert (tmp_path / "checkpoints" / "latest.zip").exists()
    train(load_train_config(common + ["ppo.std=0.1"]), progress_bar=False)  # resumes
    np.testing.assert_allclose(std(tmp_path / "tracker.npz"), 0.1, rtol=1e-6)
    with pytest.raises(ValueError, match=r"^ppo.std: expected a positive number"):
        train(load_train_config(common[:2] + [f"run_dir={tmp_path / 'bad'}", "num_envs=2",
                                             "ppo.std=0"]), progress_bar=False)
    assert not (tmp_path / "bad").exists()


def test_a_wider_net_arch_starts_as_the_init_tracker(tmp_path, residual_tracker):
    """From init=, a net_arch with the same depth and wider layers starts as the same policy
    (the new units' outgoing weights are zero) and trains its new units; a narrower or
    deeper one is refused in one line before anything is written."""
    clip = "assets/motions/heldout_small/heldout_small_squat.npz"
    common = [f"motions={clip}", f"init={residual_tracker}", "num_envs=2",
              "symmetric_policy=false"]
    frozen = TrackingController.load(residual_tracker)
    assert [w.shape[0] for w, _ in frozen.weights[:-1]] == [512, 256, 128]
    run = tmp_path / "wide"
    train(load_train_config(common + [f"run_dir={run}", "total_env_steps=0",
                                      "net_arch=[640,320,160]"]), progress_bar=False)
    wide = TrackingController.load(run / "tracker.npz")
    assert [w.shape[0] for w, _ in wide.weights[:-1]] == [640, 320, 160]
    obs = np.random.default_rng(7).normal(size=(16, 518)).astype(np.float32)
    np.testing.assert_allclose(wide(obs), frozen.network(obs), atol=1e-5)
    with np.load(run / "tracker.npz") as z:
        # what the new units feed the stored ones: zero; what they read: fresh weights
        assert np.abs(z["W1"][:256, 512:]).max() == 0.0 and np.abs(z["W3"][:, 128:]).max() == 0
        assert np.abs(z["W0"][512:]).max() > 0.01 and np.abs(z["W1"][256:]).max() > 0.01
        assert np.abs(z["critic_W3"][:, 128:]).max() == 0.0
    train(load_train_config(common + [f"run_dir={run}", "total_env_steps=256",
                                      "net_arch=[640,320,160]"]),
          progress_bar=False)  # resumes: one update reaches the new units
    with np.load(run / "tracker.npz") as z:
        assert np.abs(z["W1"][:256, 512:]).max() > 0.0
    with pytest.raises(ValueError, match=r"the run trained with net_arch=\[640, 320, 160\]"):
        train(load_train_config(common + [f"run_dir={run}"]), progress_bar=False)
    for bad in ("[256,256,128]", "[512,256,128,64]"):
        with pytest.raises(ValueError, match=r"hidden layers \[512, 256, 128\], the policy has"):
            train(load_train_config(common + [f"run_dir={tmp_path / 'bad'}",
                                              f"net_arch={bad}"]), progress_bar=False)
        assert not (tmp_path / "bad" / "checkpoints" / "latest.zip").exists()


def test_resume_refuses_a_network_other_than_the_runs(tmp_path):
    """Every key that shapes the network is fixed for a resumed run; a run whose saved
    config predates a key counts as having trained with the key's default."""
    from twin.train.tracker import check_resume_config

    m = "motions=assets/motions/heldout_small"
    saved = tmp_path / "config.yaml"
    saved.write_text("action_mode: reference_holding\n")  # older than net_arch
    check_resume_config(load_train_config([m, "action_mode=reference_holding"]), saved)
    with pytest.raises(ValueError, match=r"config.yaml: the run trained with "
                                         r"net_arch=\[512, 256, 128\]; .*asked \[768, 384, 192\]"):
        check_resume_config(load_train_config([m, "action_mode=reference_holding",
                                               "net_arch=[768,384,192]"]), saved)
    with pytest.raises(ValueError, match=r"the run trained with action_mode=reference_holding"):
        check_resume_config(load_train_config([m]), saved)
    # the lookahead: unset (and a config older than the key) is the default window
    held = [m, "action_mode=reference_holding"]
    check_resume_config(load_train_config(held + ["obs_window_steps=[1,2,5,10,25]"]), saved)
    with pytest.raises(ValueError, match=r"obs_window_steps=\[1, 2, 5, 10, 25\]; .*asked \[1\]"):
        check_resume_config(load_train_config(held + ["obs_window_steps=[1]"]), saved)
    # the reference terms likewise: unset is the default five
    five = "[joint_pos_rel,joint_vel,anchor_pos_in_robot_anchor,anchor_rot6d_in_robot_anchor,"
    check_resume_config(load_train_config(
        held + [f"reference_obs={five}key_body_pos_in_ref_anchor]"]), saved)
    with pytest.raises(ValueError, match=r"the run trained with reference_obs=\['joint_pos_rel', "
                                         r".*anchor_lin_vel_in_ref_anchor"):
        check_resume_config(load_train_config(held + [
            f"reference_obs={five}key_body_pos_in_ref_anchor,anchor_lin_vel_in_ref_anchor]"]),
            saved)
    # and the proprio history: unset is none
    check_resume_config(load_train_config(held + ["proprio_history_steps=[]"]), saved)
    with pytest.raises(ValueError, match=r"proprio_history_steps=\[\]; .*asked \[1, 2\]"):
        check_resume_config(load_train_config(held + ["proprio_history_steps=[1,2]"]), saved)


def test_the_snapshot_screen_scores_seeded_rollouts(residual_tracker):
    """The screen scores frame-0 over seeded noisy rollouts: the same seed, the same score;
    with one clip, a rollout's mean is that clip's fraction."""
    from pathlib import Path

    from twin.envs.tracking.g1_tracking import load_motions

    bench = _benchmark("tracker_eval")  # the home of the screen's and the gate's rollouts
    root = Path(__file__).resolve().parents[2]
    clip = load_motions([root / "assets/motions/heldout_small_real/"
                                "amp_walk_forward_loop_002__A024.npz"])[0].frames(0, 120)
    means, per_clip = bench.frame0_rollouts([clip], str(residual_tracker), range(100, 102))
    assert len(means) == 2 and per_clip == {clip.clip_name(): means}
    assert all(0 < m <= 1 for m in means)
    again, _ = bench.frame0_rollouts([clip], str(residual_tracker), range(101, 102))
    assert again == means[1:]


def test_the_heading_probe_sums_both_signs_per_offset_size(residual_tracker):
    """Per |offset|: the mean seconds up of the 4-s horizon and the share that fell, over
    both signs; no clips, no probe."""
    from pathlib import Path

    screen = _benchmark("tracker_screen")
    walk = (Path(__file__).resolve().parents[2]
            / "assets/motions/heldout_small_real/amp_walk_forward_loop_002__A024.npz")
    probe = screen.heading_probe(str(residual_tracker), [walk])
    assert list(probe) == [0.0, 0.5, 1.0, 1.5]
    for up, fell in probe.values():
        assert 0 < up <= screen.HEADING_HORIZON_S and fell in (0.0, 0.5, 1.0)
    assert screen.heading_probe(str(residual_tracker), []) == {}


def test_the_phase_probe_counts_the_starts_fallen_per_offset(residual_tracker):
    """Per offset (s; negative: the robot behind): the share of the 3-s starts (every second,
    after 0.3 s of room for the offsets) that fell; no clips, no probe."""
    from pathlib import Path

    from twin.envs.tracking.g1_tracking import load_motions

    screen = _benchmark("tracker_screen")
    walk = (Path(__file__).resolve().parents[2]
            / "assets/motions/heldout_small_real/amp_walk_forward_loop_002__A024.npz")
    frames = load_motions([walk])[0].num_frames
    starts = len(range(15, frames - 150, 50))
    probe = screen.phase_probe(str(residual_tracker), [walk])
    assert list(probe) == list(screen.PHASE_OFFSETS_S) and starts >= 5
    for fell in probe.values():
        assert 0 <= fell <= 1 and abs(fell * starts - round(fell * starts)) < 1e-9
    assert screen.phase_probe(str(residual_tracker), []) == {}


def test_the_screen_takes_zero_rollouts_and_refuses_negative_ones(residual_tracker, capsys):
    """--rollouts 0 runs no frame-0 rollouts (the heading probe or the windows alone) and
    prints the tracker's line without a score; a negative count is one clear line."""
    screen = _benchmark("tracker_screen")
    assert screen.main([str(residual_tracker), "--rollouts", "0"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"{residual_tracker}:" and "nan" not in out
    with pytest.raises(SystemExit):
        screen.main([str(residual_tracker), "--rollouts", "-1"])
    assert "--rollouts -1: expected 0 (no frame-0 rollouts) or more" in capsys.readouterr().err
