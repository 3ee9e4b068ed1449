"""Cameras and visual action prompts as observations, so twin's recorders store them.

``CameraObservations`` (a Gymnasium ``VectorWrapper`` for twin's batched envs) and
``CameraObservationsEnv`` (a ``gymnasium.Wrapper`` for one env) turn an env's observation
into a flat Dict: ``state`` (the env's own observation), ``images.<cam>`` (RGB),
``cameras.<cam>.intrinsics`` / ``.world_from_camera``, and with ``prompts=True``
``prompts.<cam>.{skeleton,mask,depth,keypoints,visibility,keypoint_depth}`` and
``sim.qpos``. Every value describes the state the observation was taken in, so recorded
frame t pairs the image with the prompt of the same instant. ``recorder_kwargs()`` maps these
keys onto dataset features for ``RecordEpisodes``/``RecordVectorEpisodes``/
``record_vector_env``:

=========================================== ====================== =========================
feature                                      dtype, shape           meaning
=========================================== ====================== =========================
observation.images.<cam>                     video (H, W, 3)        RGB
observation.prompts.<cam>.skeleton           video (H, W, 3)        skeleton image (``draw``)
observation.prompts.<cam>.mask               video (H, W, 3)        255 on agent pixels, else 0
observation.prompts.<cam>.depth              video (H, W, 3)        agent depth, ``DepthEncoding``
observation.prompts.<cam>.keypoints          float32 (K, 2)         pixels, OpenCV convention
observation.prompts.<cam>.visibility         uint8 (K,)             COCO: 0 absent, 1 occluded,
                                                                    2 visible
observation.prompts.<cam>.keypoint_depth     float32 (K,)           m along the optical axis
observation.cameras.<cam>.intrinsics         float64 (3, 3)         K, pixels
observation.cameras.<cam>.world_from_camera  float64 (4, 4)         OpenCV axes, m
observation.sim.qpos                         float64 (nq,)          backend state (replay)
=========================================== ====================== =========================

``write_prompts_metadata`` stores the keypoint table (names, edges, colours), the depth
encoding and the visibility codes in ``meta/prompts.json`` beside the dataset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorEnv, VectorWrapper
from gymnasium.vector.utils import batch_space

from twin.record.prompts.depth import DepthEncoding
from twin.record.prompts.generator import PromptGenerator, mocap_poses
from twin.sim.backend import SimBackend

PROMPTS_SCHEMA_VERSION = 1
PROMPTS_META_PATH = "meta/prompts.json"
PROMPT_VIDEOS = ("skeleton", "mask", "depth")
MATRIX_AXES = ("row", "col")
KEYPOINT_AXES = ("keypoint", "uv")


def qpos_names(backend: SimBackend) -> tuple[str, ...]:
    """A name per qpos coordinate: ``<joint>`` for hinges/slides, ``<body>/x`` .. ``/qz`` for
    free joints, ``qpos[i]`` for anything else."""
    nq = backend.get_qpos([0]).shape[1]
    names = [f"qpos[{i}]" for i in range(nq)]
    for j, i in zip(backend.joint_names, backend.joint_qpos_index(backend.joint_names)):
        names[int(i)] = j
    for body in backend.body_names:
        idx = backend.free_joint_qpos_index(body)
        if idx is not None:
            for i, c in zip(idx, ("x", "y", "z", "qw", "qx", "qy", "qz")):
                names[int(i)] = f"{body}/{c}"
    return tuple(names)


def _flat_state(space: spaces.Space) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None,
                                              spaces.Space]:
    """A dict observation's numeric 1-D entries (sorted by key) as one float32 state vector;
    images and text are left out (cameras are rendered by the observer, the instruction
    becomes the episode's task). A Box space is used as it is."""
    if not isinstance(space, spaces.Dict):
        return None, None, space
    keys = tuple(k for k, s in sorted(space.spaces.items())
                 if isinstance(s, spaces.Box) and len(s.shape) == 1)
    if not keys:
        raise ValueError(f"observation space {space}: no 1-D Box entries to record as state")
    names = tuple(f"{k}[{i}]" for k in keys for i in range(space.spaces[k].shape[0]))
    box = spaces.Box(-np.inf, np.inf, (len(names),), np.float32)
    return keys, names, box


def camera_depth_encodings(backend: SimBackend, cameras: Sequence[str],
                           override: DepthEncoding | Mapping[str, DepthEncoding] | None = None
                           ) -> dict[str, DepthEncoding]:
    """Each camera's depth-prompt range: ``override`` (one for all, or per camera), else the
    scene's ``depth_range_m``, else ``twin.scene.camera.default_depth_range_m``."""
    from twin.scene.camera import default_depth_range_m

    if isinstance(override, DepthEncoding):
        return {c: override for c in cameras}
    override = dict(override or {})
    scene = getattr(backend, "scene", None)
    configs = {c.name: c for c in getattr(getattr(scene, "config", None), "cameras", [])}
    robot = getattr(scene, "robot", None)
    root_w = None
    if robot is not None:
        root_w = backend.body_pos_w(backend.body_index([robot.root_body_name]), [0])[0, 0]
    out: dict[str, DepthEncoding] = {}
    for c in cameras:
        if c in override:
            out[c] = override[c]
            continue
        cfg = configs.get(c)
        if cfg is not None and cfg.depth_range_m is not None:
            out[c] = DepthEncoding(*(float(v) for v in cfg.depth_range_m))
            continue
        mounted = cfg is not None and cfg.body is not None
        cam_w = backend.camera_params(c, env_id=0).world_from_camera[:3, 3]
        dist = float(np.linalg.norm(cam_w - root_w)) if root_w is not None else 1.5
        out[c] = DepthEncoding(*default_depth_range_m(mounted, dist))
    return out


def _box_state_names(task: Any, space: spaces.Box) -> tuple[str, ...]:
    """Element names of a flat observation: from the task's ``obs_layout`` ((name, size)
    blocks, e.g. the tracking envs') or ``state_names``, else ``state[i]``."""
    n = int(np.prod(space.shape))
    names = getattr(task, "state_names", None)
    if names is not None and len(names) == n:
        return tuple(str(x) for x in names)
    layout = getattr(task, "obs_layout", None)
    if layout:
        out = [f"{name}[{i}]" if size > 1 else str(name) for name, size in layout
               for i in range(int(size))]
        if len(out) == n:
            return tuple(out)
    return tuple(f"state[{i}]" for i in range(n))


def _replay_backend(backend: SimBackend, render_profile: str) -> SimBackend:
    """A one-env MuJoCo backend of ``backend``'s scene for posing and rendering stored
    states (``SimBackend.replay_backend``: a MuJoCo backend shares its compiled model; any
    other backend, e.g. Newton, gets a MuJoCo replay of the same scene config)."""
    return backend.replay_backend(render_profile)


class _Observer:
    """Renders cameras (and prompts) of env i of a ``BatchedTask``'s backend.

    Every recorded value describes the stored state: env i's ``qpos`` (and mocap poses) are
    copied into a private replay backend of the same scene, kinematics run there, and the
    images, camera extrinsics and prompts are all taken from it. (The env's own data holds
    body and camera poses from the last physics substep's forward pass, one substep behind
    its ``qpos``: a moving wrist camera's pose read there reprojected keypoints up to 8 px
    off.) The env's physics is never touched.
    """

    def __init__(self, task: Any, cameras: Sequence[str] | None, width: int, height: int,
                 prompts: bool, depth_encoding: DepthEncoding | Mapping[str, DepthEncoding]
                 | None, render_profile: str | None) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"image size {width}x{height}: width and height must be even")
        self.backend: SimBackend = task.backend
        self.cameras = tuple(cameras) if cameras else tuple(self.backend.camera_names)
        unknown = [c for c in self.cameras if c not in self.backend.camera_names]
        if unknown:
            raise KeyError(f"unknown cameras {unknown}; the scene has "
                           f"{list(self.backend.camera_names)}")
        if not self.cameras:
            raise ValueError("the scene has no cameras to record")
        scene = getattr(self.backend, "scene", None)
        if scene is None:
            raise ValueError("camera observations need a backend made from a scene")
        self.width, self.height = int(width), int(height)
        self.depth_encodings = camera_depth_encodings(self.backend, self.cameras,
                                                      depth_encoding)
        profile = render_profile or getattr(self.backend, "_render_profile", "full")
        self.replay: SimBackend = _replay_backend(self.backend, profile)
        self.generator = (PromptGenerator(self.replay, self.cameras, width, height)
                          if prompts else None)
        self.state_keys, self.state_names, state_space = _flat_state(task.observation_space)
        if self.state_names is None and isinstance(state_space, spaces.Box):
            self.state_names = _box_state_names(task, state_space)
        self.has_instruction = (isinstance(task.observation_space, spaces.Dict)
                                and "instruction" in task.observation_space.spaces)
        self.space = self._space(state_space)

    @property
    def prompts(self) -> bool:
        return self.generator is not None

    @property
    def depth_encoding(self) -> DepthEncoding:
        """The first camera's depth encoding (each camera has its own: ``depth_encodings``)."""
        return self.depth_encodings[self.cameras[0]]

    def _space(self, state_space: spaces.Space) -> spaces.Dict:
        h, w = self.height, self.width
        img = spaces.Box(0, 255, (h, w, 3), np.uint8)
        d: dict[str, spaces.Space] = {"state": state_space}
        for c in self.cameras:
            d[f"images.{c}"] = img
            d[f"cameras.{c}.intrinsics"] = spaces.Box(-np.inf, np.inf, (3, 3), np.float64)
            d[f"cameras.{c}.world_from_camera"] = spaces.Box(-np.inf, np.inf, (4, 4), np.float64)
        if self.generator is not None:
            k = len(self.generator.table)
            for c in self.cameras:
                for v in PROMPT_VIDEOS:
                    d[f"prompts.{c}.{v}"] = img
                d[f"prompts.{c}.keypoints"] = spaces.Box(-np.inf, np.inf, (k, 2), np.float32)
                d[f"prompts.{c}.visibility"] = spaces.Box(0, 2, (k,), np.uint8)
                d[f"prompts.{c}.keypoint_depth"] = spaces.Box(0, np.inf, (k,), np.float32)
            nq = self.backend.get_qpos([0]).shape[1]
            d["sim.qpos"] = spaces.Box(-np.inf, np.inf, (nq,), np.float64)
        return spaces.Dict(d)

    def _pose_replay(self, env_id: int) -> np.ndarray:
        """Copy env ``env_id``'s state into the replay backend; return its qpos."""
        qpos = self.backend.get_qpos([env_id])[0]
        r = self.replay
        nv = r.get_qvel([0]).shape[1]
        r.set_state(qpos[None], np.zeros((1, nv)), [0])
        for name, (pos, quat) in mocap_poses(self.backend, env_id).items():
            r.set_mocap_pose(name, np.asarray(pos)[None], np.asarray(quat)[None], [0])
        return qpos

    def observe(self, state: Any, env_id: int) -> dict[str, np.ndarray]:
        r = self.replay
        qpos = self._pose_replay(env_id)
        out: dict[str, Any] = {"state": self._state_vector(state)}
        if self.has_instruction:
            out["instruction"] = state["instruction"]
        for c in self.cameras:
            out[f"images.{c}"] = r.render(c, self.width, self.height, "rgb", 0)
            p = r.camera_params(c, self.width, self.height, 0)
            out[f"cameras.{c}.intrinsics"] = p.intrinsics.K
            out[f"cameras.{c}.world_from_camera"] = np.asarray(p.world_from_camera, np.float64)
        if self.generator is not None:
            for c, cp in self.generator(0).items():
                out[f"prompts.{c}.skeleton"] = cp.skeleton
                out[f"prompts.{c}.mask"] = np.repeat(
                    np.where(cp.mask, 255, 0).astype(np.uint8)[..., None], 3, axis=2)
                out[f"prompts.{c}.depth"] = self.depth_encodings[c].encode(cp.depth, cp.mask)
                out[f"prompts.{c}.keypoints"] = cp.keypoints_uv
                out[f"prompts.{c}.visibility"] = cp.visibility
                out[f"prompts.{c}.keypoint_depth"] = cp.keypoint_depth
            out["sim.qpos"] = qpos
        return out

    def _state_vector(self, state: Any) -> np.ndarray:
        if self.state_keys is None:
            return state
        return np.concatenate([np.asarray(state[k], np.float32).ravel() for k in self.state_keys])

    def recorder_kwargs(self) -> dict[str, Any]:
        cams = {c: f"images.{c}" for c in self.cameras}
        videos: dict[str, str] = {}
        extra: dict[str, str] = {}
        names: dict[str, tuple[str, ...]] = {}
        for c in self.cameras:
            for a, axes in (("intrinsics", MATRIX_AXES), ("world_from_camera", MATRIX_AXES)):
                extra[f"observation.cameras.{c}.{a}"] = f"cameras.{c}.{a}"
                names[f"observation.cameras.{c}.{a}"] = axes
        if self.generator is not None:
            kp_names = self.generator.table.names
            for c in self.cameras:
                for v in PROMPT_VIDEOS:
                    videos[f"observation.prompts.{c}.{v}"] = f"prompts.{c}.{v}"
                for a in ("keypoints", "visibility", "keypoint_depth"):
                    extra[f"observation.prompts.{c}.{a}"] = f"prompts.{c}.{a}"
                names[f"observation.prompts.{c}.keypoints"] = KEYPOINT_AXES
                names[f"observation.prompts.{c}.visibility"] = kp_names
                names[f"observation.prompts.{c}.keypoint_depth"] = kp_names
            extra["observation.sim.qpos"] = "sim.qpos"
            names["observation.sim.qpos"] = qpos_names(self.backend)
        kwargs = {"camera_keys": cams, "state_key": "state", "video_keys": videos,
                  "extra_keys": extra, "extra_names": names}
        if self.state_names is not None:
            kwargs["state_names"] = self.state_names
        if self.has_instruction:
            kwargs["task_key"] = "instruction"  # each episode's language instruction
        return kwargs

    def calibration(self) -> dict[str, Any]:
        """Per camera: intrinsics at the recorded size, whether it moves with the robot, and
        its extrinsics in the default pose (moving cameras: per frame in the dataset)."""
        configs = {c.name: c for c in self.backend.scene_config.cameras}
        out = {}
        for c in self.cameras:
            p = self.replay.camera_params(c, self.width, self.height, 0)
            body = getattr(configs.get(c), "body", None)
            out[c] = {"K": p.intrinsics.K.tolist(), "width": self.width, "height": self.height,
                      "mounted_on": body,
                      "world_from_camera_at_default_pose": np.asarray(
                          p.world_from_camera).tolist(),
                      "depth_range_m": [self.depth_encodings[c].near_m,
                                        self.depth_encodings[c].far_m]}
        return out

    def metadata(self) -> dict[str, Any]:
        from twin import __version__

        meta: dict[str, Any] = {
            "schema_version": PROMPTS_SCHEMA_VERSION,
            "writer": "twin.record.prompts.observation",
            "twin_version": __version__,
            "cameras": list(self.cameras),
            "image_size": {"width": self.width, "height": self.height},
            "pixel_convention": "OpenCV: pixel (u, v) lies in column floor(u), row floor(v); "
                                "world_from_camera has x right, y down, z forward",
            "calibration": self.calibration(),
            "prompts": self.generator is not None,
        }
        if self.generator is not None:
            meta.update({
                "keypoints": self.generator.table.to_json(),
                "visibility": {"0": "absent, behind the camera or outside the image",
                               "1": "inside the image, occluded",
                               "2": "visible"},
                "depth": {**{k: v for k, v in self.depth_encoding.to_json().items()
                             if k not in ("near_m", "far_m")},
                          "per_camera": {c: {"near_m": e.near_m, "far_m": e.far_m}
                                         for c, e in self.depth_encodings.items()}},
                "mask": "255 where the pixel shows a body of the robot, 0 elsewhere",
                "occlusion_tolerance_m": self.generator.tolerance,
            })
        return meta

    def close(self) -> None:
        self.replay.close()


def _task_of(env: Any) -> Any:
    task = getattr(getattr(env, "unwrapped", env), "task", None)
    if task is None or not hasattr(task, "backend"):
        raise TypeError(f"{type(env).__name__}: expected a twin env (with .task.backend)")
    return task


class CameraObservations(VectorWrapper):
    """Adds camera images (and, with ``prompts=True``, visual action prompts) to every
    observation of a twin vector env (``gym.make_vec(..., vectorization_mode=
    "vector_entry_point")``)."""

    def __init__(self, envs: VectorEnv, cameras: Sequence[str] | None = None,
                 width: int = 256, height: int = 256, *, prompts: bool = False,
                 depth_encoding: DepthEncoding | None = None,
                 render_profile: str | None = None) -> None:
        super().__init__(envs)
        self.observer = _Observer(_task_of(envs), cameras, width, height, prompts,
                                  depth_encoding, render_profile)
        self.single_observation_space = self.observer.space
        self.observation_space = batch_space(self.observer.space, self.num_envs)

    def _batch(self, obs: Any) -> dict[str, np.ndarray]:
        per_env = [self.observer.observe(_index(obs, i), i) for i in range(self.num_envs)]
        return {k: np.stack([o[k] for o in per_env]) for k in per_env[0]}

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        return self._batch(obs), info

    def step(self, actions: Any):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        return self._batch(obs), reward, terminated, truncated, info

    def recorder_kwargs(self) -> dict[str, Any]:
        return self.observer.recorder_kwargs()

    def close(self, **kwargs: Any) -> None:
        try:
            self.observer.close()
        finally:
            super().close(**kwargs)


class CameraObservationsEnv(gym.ObservationWrapper):
    """``CameraObservations`` for a single twin env (``gym.make("twin/...")``)."""

    def __init__(self, env: gym.Env, cameras: Sequence[str] | None = None, width: int = 256,
                 height: int = 256, *, prompts: bool = False,
                 depth_encoding: DepthEncoding | None = None,
                 render_profile: str | None = None) -> None:
        super().__init__(env)
        self.observer = _Observer(_task_of(env), cameras, width, height, prompts,
                                  depth_encoding, render_profile)
        self.observation_space = self.observer.space

    def observation(self, observation: Any) -> dict[str, np.ndarray]:
        return self.observer.observe(observation, 0)

    def recorder_kwargs(self) -> dict[str, Any]:
        return self.observer.recorder_kwargs()

    def close(self) -> None:
        try:
            self.observer.close()
        finally:
            super().close()


def _index(obs: Any, i: int) -> Any:
    if isinstance(obs, dict):
        return {k: _index(v, i) for k, v in obs.items()}
    return obs[i]


def write_prompts_metadata(root: str | Path, wrapper: CameraObservations | CameraObservationsEnv
                           ) -> Path:
    """Write ``meta/prompts.json`` (keypoint table, encodings, cameras) into a dataset."""
    path = Path(root) / PROMPTS_META_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(wrapper.observer.metadata(), indent=2))
    tmp.replace(path)
    return path


def load_prompts_metadata(root: str | Path) -> dict[str, Any]:
    return json.loads((Path(root) / PROMPTS_META_PATH).read_text())


def depth_encoding_of(meta: Mapping[str, Any], camera: str) -> DepthEncoding:
    """The ``DepthEncoding`` of ``camera``'s depth prompt from ``meta/prompts.json``."""
    per = meta["depth"].get("per_camera") or {}
    if camera not in per:
        raise KeyError(f"meta/prompts.json: no depth range for camera {camera!r}; it has "
                       f"{sorted(per)}")
    return DepthEncoding(per[camera]["near_m"], per[camera]["far_m"])
