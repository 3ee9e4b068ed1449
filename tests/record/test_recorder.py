"""Gymnasium recorders: frames follow LeRobot's convention, vector envs keep episodes apart."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from record_fakes import FPS, H, SmoothCameraEnv, W, smooth_frame

from twin.record import (
    FeatureError,
    RecordEpisodes,
    RecordVectorEpisodes,
    check_dataset,
    load_episode,
    load_info,
    record_vector_env,
)

VIDEO = "observation.images.front"


def check_episode_against_env(root, index: int) -> tuple[int, int]:
    """Frames of one episode come from one (env, episode) with t = 0..T-1, images to match.

    Returns (env_id, env_episode) read from the state.
    """
    ep = load_episode(root, index)
    state = ep.data["observation.state"]
    env_id, env_ep = int(state[0, 0]), int(state[0, 1])
    np.testing.assert_array_equal(state[:, 0], env_id)
    np.testing.assert_array_equal(state[:, 1], env_ep)
    np.testing.assert_array_equal(state[:, 2], np.arange(ep.length))  # t, no gaps or repeats
    np.testing.assert_array_equal(ep.data["next.reward"], np.arange(1, ep.length + 1))
    done = np.zeros(ep.length, bool)
    done[-1] = True
    np.testing.assert_array_equal(ep.data["next.done"], done)
    np.testing.assert_array_equal(ep.data["next.success"], np.full(ep.length, env_ep % 2 == 0))
    assert ep.success == (env_ep % 2 == 0)
    phase = 7.0 * env_id + 13.0 * env_ep
    expected = np.stack([smooth_frame(t, phase=phase) for t in range(ep.length)])
    mae = np.abs(ep.frames[VIDEO].astype(np.int16) - expected.astype(np.int16)).mean()
    assert mae < 3.0, f"episode {index}: MAE {mae:.2f}"
    return env_id, env_ep


def test_wrapper_records_each_episode_with_actions_and_success(tmp_path):
    root = tmp_path / "ds"
    env = RecordEpisodes(
        SmoothCameraEnv(),
        root,
        task="push the block",
        camera_keys=["front"],
        state_key="state",
        robot_type="fake",
    )
    rng = np.random.default_rng(0)
    actions: list[list[np.ndarray]] = []
    for _ in range(3):
        env.reset(seed=len(actions))
        actions.append([])
        done = False
        while not done:
            a = rng.uniform(-1, 1, 6).astype(np.float32)
            actions[-1].append(a)
            _, _, term, trunc, _ = env.step(a)
            done = term or trunc
    env.close()

    info = check_dataset(root, decode_videos=True)
    assert info.total_episodes == 3
    assert list(info.features)[:6] == [
        "observation.images.front",
        "observation.state",
        "action",
        "next.reward",
        "next.done",
        "next.success",
    ]
    assert info.features["observation.state"].dtype == "float64"  # the env's own dtype
    assert info.features[VIDEO].shape == (H, W, 3)
    for i in range(3):
        assert check_episode_against_env(root, i) == (0, i)
        ep = load_episode(root, i)
        np.testing.assert_array_equal(ep.data["action"], np.stack(actions[i]))
        assert ep.task == "push the block"
    assert [s.success for s in env.saved] == [True, False, True]


@pytest.mark.parametrize("save_unfinished", [False, True])
def test_reset_mid_episode_drops_or_saves_the_partial_episode(tmp_path, save_unfinished):
    root = tmp_path / "ds"
    env = RecordEpisodes(
        SmoothCameraEnv(min_len=20, max_len=20),
        root,
        task="t",
        camera_keys=["front"],
        save_unfinished=save_unfinished,
    )
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.zeros(6, np.float32))
    env.reset()  # abandons the first episode after 5 steps
    for _ in range(20):
        env.step(np.zeros(6, np.float32))
    env.close()
    info = check_dataset(root)
    if save_unfinished:
        assert info.total_episodes == 2
        first = load_episode(root, 0)
        assert first.length == 5
        np.testing.assert_array_equal(first.data["next.done"], [False] * 4 + [True])
    else:
        assert info.total_episodes == 1
        assert load_episode(root, 0).length == 20


def test_wrapper_refuses_non_image_camera_and_bad_step_before_writing(tmp_path):
    with pytest.raises(FeatureError, match=r"camera 'state'.*uint8 Box of shape \(H, W, 3\)"):
        RecordEpisodes(SmoothCameraEnv(), tmp_path / "a", task="t", camera_keys=["state"])
    root = tmp_path / "b"
    env = RecordEpisodes(SmoothCameraEnv(), root, task="t", camera_keys=["front"])
    env.reset(seed=0)
    with pytest.raises(FeatureError, match=r"frame\['action'\]: expected shape \(6,\)"):
        env.step(np.zeros(5, np.float32))
    env.close()
    assert load_info(root).total_episodes == 0
    assert not (root / "data").exists()


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_env_buffers_each_sub_env_separately(tmp_path, mode):
    root = tmp_path / "ds"
    envs = gym.vector.SyncVectorEnv(
        [lambda i=i: SmoothCameraEnv(env_id=i, min_len=3, max_len=11) for i in range(3)],
        autoreset_mode=mode,
    )
    rng = np.random.default_rng(1)
    saved = record_vector_env(
        envs,
        lambda obs: rng.uniform(-1, 1, (3, 6)).astype(np.float32),
        root,
        num_episodes=7,
        task="reach",
        seed=5,
        camera_keys=["front"],
        fps=FPS,
    )
    envs.close()
    assert [s.episode_index for s in saved] == list(range(7))
    info = check_dataset(root, decode_videos=True)
    assert info.total_episodes == 7
    sources = [check_episode_against_env(root, i) for i in range(7)]
    assert len(set(sources)) == 7  # no episode recorded twice or merged
    assert {env_id for env_id, _ in sources} == {0, 1, 2}  # all sub-envs contributed
    # Episodes of one sub-env are saved in the order they ran, starting with its first.
    for env_id in range(3):
        eps = [e for i, e in sources if i == env_id]
        assert eps == list(range(len(eps)))


def test_vector_env_with_autoreset_disabled_uses_reset_mask(tmp_path):
    root = tmp_path / "ds"
    envs = gym.vector.SyncVectorEnv(
        [lambda i=i: SmoothCameraEnv(env_id=i, min_len=3, max_len=6) for i in range(2)],
        autoreset_mode=AutoresetMode.DISABLED,
    )
    rec = RecordVectorEpisodes(envs, root, task="t", camera_keys=["front"], max_episodes=4)
    rec.reset(seed=0)
    while not rec.done_recording:
        _, _, term, trunc, _ = rec.step(np.zeros((2, 6), np.float32))
        done = term | trunc
        if done.any():
            rec.reset(options={"reset_mask": done})
    rec.close()
    assert check_dataset(root, decode_videos=True).total_episodes == 4
    sources = [check_episode_against_env(root, i) for i in range(4)]
    assert len(set(sources)) == 4
