"""The learned G1 tracking controller at inference time: numpy only (no torch).

A tracker is stored as one ``.npz``: the actor MLP weights, observation normalisation
(mean/var/clip), and metadata (JSON) that makes it self-describing - joint names, Kp/Kd,
default pose, action scale, action mode, observation layout and reference window. The same
network is exported to ONNX (``twin.train.export``) with that metadata in its
``metadata_props``; ``TrackingController`` runs either (onnxruntime when asked for).
``TrackingController.load("default")`` loads the tracker shipped in ``twin/assets/tracker``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRACKER_SCHEMA = "twin.tracker"
TRACKER_VERSION = 1
ACTIVATIONS = {
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
}


def shipped_tracker_dir() -> Path:
    import twin.assets

    return Path(twin.assets.__file__).resolve().parent / "tracker"


@dataclass(frozen=True)
class TrackerMetadata:
    joint_names: tuple[str, ...]
    default_joint_pos: tuple[float, ...]
    kp: tuple[float, ...]
    kd: tuple[float, ...]
    action_scale: tuple[float, ...]
    action_mode: str
    obs_layout: tuple[tuple[str, int], ...]
    window_steps: tuple[int, ...]
    control_dt: float
    robot: str
    activation: str
    training: dict
    gains: str = "tracking"  # the robot's gain profile the policy was trained with
    # the action is the mean of the network's and its left-right mirror image's (the network
    # applied to the mirrored observation, its action mirrored back; maps in the file)
    mirror_average: bool = False

    def to_json(self) -> str:
        d = self.__dict__.copy()
        d["obs_layout"] = [list(x) for x in self.obs_layout]
        return json.dumps({"schema": TRACKER_SCHEMA, "version": TRACKER_VERSION, **d})

    @classmethod
    def from_json(cls, text: str, where: str = "<tracker>") -> TrackerMetadata:
        d = json.loads(text)
        if d.pop("schema", None) != TRACKER_SCHEMA:
            raise ValueError(f"{where}: not a twin tracker (metadata schema missing)")
        version = d.pop("version")
        if version > TRACKER_VERSION:
            raise ValueError(f"{where}: tracker version {version} is newer than this twin "
                             f"({TRACKER_VERSION})")
        d["obs_layout"] = tuple((n, int(k)) for n, k in d["obs_layout"])
        for key in ("joint_names", "default_joint_pos", "kp", "kd", "action_scale",
                    "window_steps"):
            d[key] = tuple(d[key])
        return cls(**d)

    @property
    def obs_dim(self) -> int:
        return sum(k for _, k in self.obs_layout)


def tracker_path(name_or_path: str | Path) -> Path:
    """A tracker file: a path as given, or a shipped tracker's name (``"default"``)."""
    path = Path(name_or_path)
    if path.suffix:
        return path
    path = shipped_tracker_dir() / f"{name_or_path}.npz"
    if not path.exists():
        avail = sorted(p.stem for p in shipped_tracker_dir().glob("*.npz"))
        raise FileNotFoundError(f"no shipped tracker {name_or_path!r}; available: {avail}")
    return path


@dataclass(frozen=True)
class MirrorMaps:
    """Signed permutations of the actor's observation and of the action that take them to
    their left-right mirror images: ``y[..., k] = sign[k] * x[..., source[k]]``."""

    obs_source: np.ndarray
    obs_sign: np.ndarray
    action_source: np.ndarray
    action_sign: np.ndarray

    KEYS = ("mirror_obs_source", "mirror_obs_sign", "mirror_action_source",
            "mirror_action_sign")

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(zip(self.KEYS, (self.obs_source, self.obs_sign, self.action_source,
                                    self.action_sign)))

    def mirror_obs(self, obs: np.ndarray) -> np.ndarray:
        """The observations' left-right mirror images."""
        return obs[..., self.obs_source] * self.obs_sign

    def mirror_action(self, action: np.ndarray) -> np.ndarray:
        """The actions' left-right mirror images."""
        return action[..., self.action_source] * self.action_sign


class TrackingController:
    """obs (N, D) float32 -> joint-position action (N, J), deterministic (the actor mean;
    with ``metadata.mirror_average``, averaged with its mirror image's)."""

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], obs_mean: np.ndarray,
                 obs_var: np.ndarray, obs_clip: float, metadata: TrackerMetadata,
                 source: str = "", mirror: MirrorMaps | None = None):
        if metadata.mirror_average and mirror is None:
            raise ValueError(f"{source}: mirror_average is set but the mirror maps "
                             f"({', '.join(MirrorMaps.KEYS)}) are missing")
        if mirror is not None and (len(mirror.obs_source) != metadata.obs_dim
                                   or len(mirror.action_source) != len(metadata.joint_names)):
            raise ValueError(f"{source}: mirror maps of {len(mirror.obs_source)} observations "
                             f"and {len(mirror.action_source)} actions; expected "
                             f"{metadata.obs_dim} and {len(metadata.joint_names)}")
        self.mirror = mirror if metadata.mirror_average else None
        self.weights = weights
        self.obs_mean = obs_mean
        self.obs_std = np.sqrt(obs_var + 1e-8)
        self.obs_clip = obs_clip
        self.metadata = metadata
        self.source = source
        self._act = ACTIVATIONS[metadata.activation]
        # float64, pre-transposed and contiguous: a float32 W against float64 inputs would be
        # converted on every call (most of the inference time at batch size 1)
        self._layers = [(np.ascontiguousarray(W.T, dtype=np.float64), np.asarray(b, np.float64))
                        for W, b in weights]
        if weights[0][0].shape[1] != metadata.obs_dim:
            raise ValueError(f"{source}: network input {weights[0][0].shape[1]} != observation "
                             f"layout size {metadata.obs_dim}")

    @classmethod
    def load(cls, name_or_path: str | Path = "default") -> TrackingController:
        path = tracker_path(name_or_path)
        if not path.exists():
            raise FileNotFoundError(f"tracker file {path} does not exist")
        with np.load(path, allow_pickle=False) as z:
            if "metadata" not in z:
                raise ValueError(f"{path}: not a twin tracker (no 'metadata' entry)")
            meta = TrackerMetadata.from_json(str(z["metadata"]), str(path))
            n_layers = int(z["num_layers"])
            weights = [(z[f"W{i}"], z[f"b{i}"]) for i in range(n_layers)]
            mirror = (MirrorMaps(*(z[k] for k in MirrorMaps.KEYS))
                      if all(k in z for k in MirrorMaps.KEYS) else None)
            return cls(weights, z["obs_mean"], z["obs_var"], float(z["obs_clip"]), meta,
                       str(path), mirror)

    def with_weights(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> TrackingController:
        """The same controller (normalisation, metadata, mirror maps) with other weights."""
        return TrackingController(weights, self.obs_mean, self.obs_std ** 2 - 1e-8,
                                  self.obs_clip, self.metadata, self.source, self.mirror)

    def save(self, path: str | Path) -> None:
        arrays = {f"W{i}": w for i, (w, _) in enumerate(self.weights)}
        arrays.update({f"b{i}": b for i, (_, b) in enumerate(self.weights)})
        np.savez_compressed(path, metadata=np.array(self.metadata.to_json()),
                            num_layers=np.array(len(self.weights)), obs_mean=self.obs_mean,
                            obs_var=self.obs_std ** 2 - 1e-8, obs_clip=np.array(self.obs_clip),
                            **arrays, **(self.mirror.arrays() if self.mirror else {}))

    def normalise(self, obs: np.ndarray) -> np.ndarray:
        return np.clip((obs - self.obs_mean) / self.obs_std, -self.obs_clip, self.obs_clip)

    def network(self, obs: np.ndarray) -> np.ndarray:
        """The network's own action, without the mirror average (float64)."""
        x = self.normalise(np.asarray(obs, dtype=np.float64))
        last = len(self._layers) - 1
        for i, (WT, b) in enumerate(self._layers):
            x = x @ WT + b
            if i < last:
                x = self._act(x)
        return x

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        a = self.network(obs)
        if self.mirror is not None:
            m = self.mirror
            obs_m = m.mirror_obs(np.asarray(obs, dtype=np.float64))
            a = 0.5 * (a + m.mirror_action(self.network(obs_m)))
        return a.astype(np.float32)
