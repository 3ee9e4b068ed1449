"""Every registered id keeps Gymnasium's promises: ``check_env`` passes, a reset with a seed
gives the same episode however the env was used before (images pixel-exact), and
``gym.make("twin:twin/<id>")`` works without importing twin first.

Parametrised over ``twin.registration.ENV_IDS``, so a new id is covered when it is registered
(ids that need arguments get them from ``REQUIRED_VALUES``). Image envs run at 32x24 pixels.
"""

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence
from gymnasium.utils.passive_env_checker import env_render_passive_checker

from twin.registration import ENV_IDS, REQUIRED_KWARGS
from twin.retarget.kinematics import robot_motion_from_qpos
from twin.robots import get
from twin.robots.g1 import G1_JOINT_NAMES

IMAGE_SIZE = (32, 24)  # (width, height)


def _still_motion(T: int = 60):
    """A 1.2 s G1 clip at 50 fps: default pose, left arm swinging; no hand targets."""
    q = np.tile(get("g1").default_joint_pos_array(), (T, 1))
    q[:, G1_JOINT_NAMES.index("left_shoulder_pitch_joint")] += 0.4 * np.sin(
        np.linspace(0.0, np.pi, T))
    return robot_motion_from_qpos("g1", np.tile([0.0, 0.0, 0.755], (T, 1)),
                                  np.tile([1.0, 0.0, 0.0, 0.0], (T, 1)), q, 50.0,
                                  source={"name": "still"})


REQUIRED_VALUES = {"motions": _still_motion}


def _make(env_id: str, **kwargs) -> gym.Env:
    """``gym.make`` with the arguments an id requires and small camera images where it has any."""
    missing = [k for k in REQUIRED_KWARGS.get(env_id, ()) if k not in REQUIRED_VALUES]
    assert not missing, f"{env_id} requires {missing}: add a value to REQUIRED_VALUES"
    kwargs.update({k: REQUIRED_VALUES[k]() for k in REQUIRED_KWARGS.get(env_id, ())})
    try:
        env = gym.make(env_id, image_size=IMAGE_SIZE, **kwargs)
    except TypeError as exc:  # an env without cameras in its observation
        if "image_size" not in str(exc):
            raise
        env = gym.make(env_id, **kwargs)
    env.unwrapped.render_size = IMAGE_SIZE
    return env


def _images(obs) -> list[np.ndarray]:
    return list(obs["images"].values()) if isinstance(obs, dict) and "images" in obs else []


def _episode_start(env: gym.Env, seed: int, steps: int = 3) -> list:
    """The first observation and rendered frame after ``reset(seed)``, then ``steps`` steps."""
    obs, _ = env.reset(seed=seed)
    out = [obs, env.render()]
    env.action_space.seed(seed)
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        out += [obs, reward, terminated, truncated]
    return out


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_check_env_and_same_seed_same_episode_pixel_exact(env_id):
    """``check_env``, then: two resets with the same seed on one env, used in between, give
    bit-identical observations (camera images included), rendered frames and rewards; the
    very first frame the env's renderer draws included."""
    env = _make(env_id, render_mode="rgb_array")
    first = _episode_start(env, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box observations
        # its render and close checks build the env twice more (at 256x256): done below instead
        check_env(env.unwrapped, skip_render_check=True, skip_close_check=True)
        env_render_passive_checker(env.unwrapped)
    again = _episode_start(env, seed=7)
    assert env.observation_space.contains(first[0])
    for a, b in zip(first, again, strict=True):
        assert data_equivalence(a, b, exact=True)
    frame = first[1]
    assert frame.shape == (IMAGE_SIZE[1], IMAGE_SIZE[0], 3) and frame.dtype == np.uint8
    for img in _images(first[0]) + [frame]:
        assert img.std() > 5  # a real picture, not a blank one
    if _images(first[0]):
        assert [i.shape for i in _images(first[0])] == [(IMAGE_SIZE[1], IMAGE_SIZE[0], 3)] * 2
    env.close()
    env.close()  # Gymnasium: closing twice is allowed


def test_make_without_importing_twin(tmp_path):
    """``gym.make("twin:twin/G1Stand-v0")`` imports twin itself (Gymnasium 1.x loads no
    ``gymnasium.envs`` entry points); plain ``twin/...`` ids need ``import twin``."""
    code = (
        "import sys, gymnasium as gym\n"
        "assert 'twin' not in sys.modules\n"
        "try:\n"
        "    gym.make('twin/G1Stand-v0')\n"
        "except gym.error.NamespaceNotFound:\n"
        "    print('plain id: NamespaceNotFound')\n"
        "env = gym.make('twin:twin/G1Stand-v0')\n"
        "obs, _ = env.reset(seed=0)\n"
        "venv = gym.make_vec('twin:twin/PandaReach-v0', num_envs=2,\n"
        "                    vectorization_mode='vector_entry_point')\n"
        "vobs, _ = venv.reset(seed=0)\n"
        "print(env.spec.id, env.spec.max_episode_steps, obs.shape, type(venv).__name__,"
        " vobs.shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["plain id: NamespaceNotFound",
                                       "twin/G1Stand-v0 1000 (93,) PandaReachVectorEnv (2, 23)"]
