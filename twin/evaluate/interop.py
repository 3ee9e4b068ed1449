"""Speaking a stock policy server's dialect: observation keys in, action layout out.

openpi's example servers expect flat keys (LIBERO: ``observation/image``,
``observation/wrist_image``, ``observation/state``, ``prompt``; DROID:
``observation/exterior_image_1_left``, ``observation/wrist_image_left``,
``observation/joint_position``, ``observation/gripper_position``, ``prompt``) where twin
sends its nested observation (``images``: {camera: image}, ``instruction``, proprioception).
``InteropPolicy`` wraps any ``Policy``: it builds the server's observation from a key map
(a preset, ``obs_keys=libero|droid``), and turns the returned chunk into twin's action
layout: ``action_order`` picks twin's action element i from the policy's element
``order[i]`` (LIBERO predicts [d-pos, d-rot, gripper], twin's ``ee_delta`` is [d-rot, d-pos,
gripper]), and ``action_gripper`` names the policy's gripper convention (LIBERO: -1 open,
+1 closed = ``signed_close``), converted to the task's (``control.gripper``).

Key map sources: ``images.<camera>``, a top-level observation key (``instruction``,
``joint_pos``, ``ee_pos``, ``gripper`` ...), ``KEY[:n]`` (the first n elements), and the
derived ``ee_axis_angle`` (the end effector's rotation vector from ``ee_quat_wxyz``) and
``gripper_closed`` (1 - open fraction); a list concatenates vectors.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from twin.policy.base import Policy

OBS_PRESETS: dict[str, dict[str, Any]] = {
    "libero": {"observation/image": "images.third_person",
               "observation/wrist_image": "images.wrist",
               "observation/state": ["ee_pos", "ee_axis_angle", "gripper", "gripper"],
               "prompt": "instruction"},
    "droid": {"observation/exterior_image_1_left": "images.third_person",
              "observation/wrist_image_left": "images.wrist",
              "observation/joint_position": "joint_pos[:7]",
              "observation/gripper_position": "gripper_closed",
              "prompt": "instruction"},
}
# the action layout each preset's servers return (None: twin's own)
ACTION_PRESETS: dict[str, dict[str, Any]] = {
    "libero": {"order": [3, 4, 5, 0, 1, 2, 6], "gripper": "signed_close"},
    "droid": {"order": None, "gripper": None},
}
_GRIPPERS = ("open01", "close01", "signed_open", "signed_close")


def _open_fraction(g: np.ndarray, convention: str) -> np.ndarray:
    return {"open01": g, "close01": 1 - g, "signed_open": (g + 1) / 2,
            "signed_close": (1 - g) / 2}[convention]


def _from_open_fraction(f: np.ndarray, convention: str) -> np.ndarray:
    return {"open01": f, "close01": 1 - f, "signed_open": 2 * f - 1,
            "signed_close": 1 - 2 * f}[convention]


def _source(obs: dict, src: str) -> Any:
    if src.startswith("images."):
        cam = src[len("images."):]
        images = obs.get("images") or {}
        if cam not in images:
            raise KeyError(f"obs_keys: the observation has no image {cam!r} (has "
                           f"{sorted(images)}); add it to env_kwargs.cameras")
        return np.asarray(images[cam])
    if src == "ee_axis_angle":
        from scipy.spatial.transform import Rotation

        w, x, y, z = np.asarray(obs["ee_quat_wxyz"], np.float64)
        return Rotation.from_quat([x, y, z, w]).as_rotvec().astype(np.float32)
    if src == "gripper_closed":
        return (1.0 - np.asarray(obs["gripper"], np.float32)).reshape(-1)
    m = re.fullmatch(r"(\w+)\[:(\d+)\]", src)
    key, n = (m.group(1), int(m.group(2))) if m else (src, None)
    if key not in obs:
        raise KeyError(f"obs_keys: the observation has no {key!r} (has {sorted(obs)})")
    value = obs[key]
    if key == "instruction":
        return str(np.asarray(value).reshape(-1)[0]) if not isinstance(value, str) else value
    value = np.asarray(value)
    return value[:n] if n is not None else value


def map_observation(obs: dict, key_map: dict[str, Any]) -> dict:
    out = {}
    for key, src in key_map.items():
        if isinstance(src, (list, tuple)):
            out[key] = np.concatenate([np.asarray(_source(obs, s), np.float32).reshape(-1)
                                       for s in src])
        else:
            out[key] = _source(obs, src)
    return out


class InteropPolicy(Policy):
    """``policy`` behind a key map and an action post-processing step (module docstring)."""

    def __init__(self, policy: Policy, key_map: dict[str, Any] | None,
                 order: list[int] | None = None, gripper: str | None = None,
                 task_gripper: str = "open01", gripper_index: int = -1) -> None:
        if gripper is not None and (gripper not in _GRIPPERS or task_gripper not in _GRIPPERS):
            raise ValueError(f"action_gripper {gripper!r} -> task {task_gripper!r}: both must "
                             f"be one of {list(_GRIPPERS)}")
        self.policy = policy
        self.key_map = key_map
        self.order = None if order is None else [int(i) for i in order]
        self.gripper = gripper
        self.task_gripper = task_gripper
        self.gripper_index = gripper_index
        self.metadata = getattr(policy, "metadata", {})

    def infer(self, obs: dict) -> dict:
        out = self.policy.infer(map_observation(obs, self.key_map) if self.key_map else obs)
        if not isinstance(out, dict) or "actions" not in out:
            return out  # the caller's validation names what is wrong
        a = np.array(out["actions"], dtype=np.float64, ndmin=2)
        if self.order is not None:
            if a.shape[1] <= max(self.order):
                from twin.policy.base import PolicyError

                raise PolicyError(f"action_order {self.order}: the policy returned "
                                  f"{a.shape[1]}-D actions")
            a = a[:, self.order]
        if self.gripper is not None and self.gripper != self.task_gripper:
            g = a[:, self.gripper_index]
            a[:, self.gripper_index] = _from_open_fraction(
                np.clip(_open_fraction(g, self.gripper), 0.0, 1.0), self.task_gripper)
        return {**out, "actions": a}

    def reset(self) -> None:
        self.policy.reset()

    def close(self) -> None:
        self.policy.close()


def wrap_for_server(policy: Policy, env: Any, obs_keys: str | None,
                    action_order: list[int] | None, action_gripper: str | None) -> Policy:
    """``policy`` as the eval config's interop settings say (unchanged when none are set)."""
    if obs_keys is None and action_order is None and action_gripper is None:
        return policy
    if obs_keys is not None and obs_keys not in OBS_PRESETS:
        raise ValueError(f"obs_keys {obs_keys!r}: expected one of {sorted(OBS_PRESETS)}")
    preset = ACTION_PRESETS.get(obs_keys or "", {})
    order = action_order if action_order is not None else preset.get("order")
    gripper = action_gripper if action_gripper is not None else preset.get("gripper")
    control = getattr(getattr(env, "unwrapped", env).task, "control", None)
    task_gripper = getattr(control, "gripper", "open01")
    return InteropPolicy(policy, OBS_PRESETS.get(obs_keys or ""), order, gripper, task_gripper)


def serve_metadata(policy: Any, task: str | None, obs_keys: str | None = None) -> dict:
    """What ``twin eval serve`` tells each client: the policy's own metadata, plus with
    ``task`` the action dimension and layout, the chunk length (measured on one inference
    from the task's first observation), the camera keys and image size a client must send."""
    from twin import __version__

    meta = {**dict(getattr(policy, "metadata", {}) or {}), "server": f"twin {__version__}"}
    if not task:
        return meta
    import gymnasium as gym

    import twin  # noqa: F401
    from twin.evaluate.tasks import load_task

    preset = load_task(task)
    env = gym.make(preset.env_id, disable_env_checker=True, **preset.env_kwargs)
    try:
        obs, _ = env.reset(seed=0)
        sent = map_observation(obs, OBS_PRESETS[obs_keys]) if obs_keys else obs
        out = policy.infer(sent)
        policy.reset()
        chunk = np.array(out["actions"] if isinstance(out, dict) else out, ndmin=2)
        task_obj = env.unwrapped.task
        control = getattr(task_obj, "control", None)
        cams = list((obs.get("images") or {}).keys()) if isinstance(obs, dict) else []
        meta.update({
            "task": preset.name, "env_id": preset.env_id,
            "action_dim": int(np.prod(env.action_space.shape)),
            "action_horizon": int(chunk.shape[0]),
            "execute_steps": int(preset.execute_steps),
            "camera_keys": ([k for k, v in OBS_PRESETS[obs_keys].items()
                             if isinstance(v, str) and v.startswith("images.")]
                            if obs_keys else [f"images/{c}" for c in cams]),
            "image_size": list(getattr(task_obj, "image_size", ())) or None,
            "obs_keys": obs_keys or "twin",
        })
        if control is not None:
            meta["action_layout"] = {"mode": control.mode, "rotation": control.rotation,
                                     "frame": control.frame, "gripper": control.gripper}
    finally:
        env.close()
    return meta
