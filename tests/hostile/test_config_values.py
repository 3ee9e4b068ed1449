"""Scene config values that used to build silently broken scenes (a camera with fovy 0
rendered black, a NaN mass simulated garbage): each is refused in one line naming the
file, the field and the value."""

from __future__ import annotations

import copy

import pytest

from twin.errors import InputError
from twin.scene.config import SceneConfigError, scene_config_from_dict

BASE = {"name": "t", "robot": "panda",
        "cameras": [{"name": "c", "pos": [1, 0, 1], "lookat": [0, 0, 0], "fovy": 45}],
        "objects": [{"name": "o"}]}
NAN, INF = float("nan"), float("inf")

BAD = [
    ("cameras", {"fovy": 0}, "fovy must be in (0, 180)"),
    ("cameras", {"fovy": 180}, "fovy must be in (0, 180)"),
    ("cameras", {"fovy": -10}, "got -10"),
    ("cameras", {"fovy": NAN}, "got nan"),
    ("cameras", {"width": 0}, "1..8192"),
    ("cameras", {"height": 100000}, "1..8192"),
    ("objects", {"mass": NAN}, "mass must be a finite number > 0 kg, got nan"),
    ("objects", {"mass": 0}, "mass must be"),
    ("objects", {"mass": -1}, "got -1"),
    ("objects", {"mass": INF}, "got inf"),
    ("objects", {"friction": -1}, "friction"),
    ("objects", {"size": [0.0, 0.02, 0.02]}, "size must be finite numbers > 0"),
    ("objects", {"pos": [0.5, INF, 0.4]}, "pos must be finite"),
    ("objects", {"quat_wxyz": [NAN, 0, 0, 0]}, "quat_wxyz must be finite"),
]


@pytest.mark.parametrize("section,change,needle", BAD,
                         ids=[f"{s}.{next(iter(c))}={next(iter(c.values()))}"
                              for s, c, _ in BAD])
def test_scene_values_refused_in_one_line(section, change, needle):
    raw = copy.deepcopy(BASE)
    raw[section][0].update(change)
    with pytest.raises(SceneConfigError) as info:
        scene_config_from_dict(raw, "bad.yaml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("bad.yaml: ") and needle in msg, msg
    assert isinstance(info.value, InputError)  # the CLI prints it as one line, exit 3


def test_calibrated_camera_needs_positive_focal_lengths():
    raw = copy.deepcopy(BASE)
    raw["cameras"][0] = {"name": "c", "K": [[0, 0, 64], [0, 100, 64], [0, 0, 1]],
                         "world_from_camera": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1],
                                               [0, 0, 0, 1]]}
    with pytest.raises(SceneConfigError, match="fx, fy > 0"):
        scene_config_from_dict(raw, "bad.yaml")


def test_the_base_scene_is_accepted():
    cfg = scene_config_from_dict(copy.deepcopy(BASE), "ok.yaml")
    assert cfg.cameras[0].fovy == 45 and cfg.objects[0].mass == 0.1


def test_complex_actions_are_refused_not_cast():
    import gymnasium as gym
    import numpy as np

    import twin  # noqa: F401  (registers the ids)

    env = gym.make("twin/PandaReach-v0", disable_env_checker=True)
    try:
        env.reset(seed=0)
        with pytest.raises(ValueError, match="expected a real numeric dtype, got complex128"):
            env.step(np.zeros(env.action_space.shape, np.complex128) + 1j)
        _, reward, *_ = env.step(np.zeros(env.action_space.shape, np.float32))
        assert np.isfinite(reward)
    finally:
        env.close()
