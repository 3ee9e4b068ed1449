"""Export an SB3 PPO tracking policy to twin's numpy tracker file and to ONNX.

The exported actor includes observation normalisation, so that ``TrackingController``
(numpy) and onnxruntime give the same actions as the torch policy's deterministic mean.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from twin.controllers.tracking_policy import TrackerMetadata, TrackingController

log = logging.getLogger(__name__)

Layout = tuple[tuple[str, int], ...]


def _linears(seq: nn.Module) -> list[nn.Linear]:
    return [m for m in seq.modules() if isinstance(m, nn.Linear)]


def controller_from_sb3(model, obs_mean: np.ndarray, obs_var: np.ndarray, obs_clip: float,
                        metadata: TrackerMetadata) -> TrackingController:
    """The actor as a numpy controller; of the normalisation statistics it keeps the actor's
    part (``metadata.obs_dim`` entries; an asymmetric critic's privileged ones follow)."""
    layers = _linears(model.policy.mlp_extractor.policy_net) + [model.policy.action_net]
    weights = [(l.weight.detach().cpu().numpy().astype(np.float64),
                l.bias.detach().cpu().numpy().astype(np.float64)) for l in layers]
    d = metadata.obs_dim
    mirror = None
    if metadata.mirror_average:  # a SymmetricActorCriticPolicy: its network, averaged
        from twin.train.symmetry import mirror_maps

        mirror = mirror_maps(metadata)
    return TrackingController(weights, np.asarray(obs_mean, np.float64)[:d],
                              np.asarray(obs_var, np.float64)[:d], obs_clip, metadata,
                              mirror=mirror)


def critic_arrays(model) -> dict[str, np.ndarray]:
    layers = _linears(model.policy.mlp_extractor.value_net) + [model.policy.value_net]
    out = {}
    for i, l in enumerate(layers):
        out[f"critic_W{i}"] = l.weight.detach().cpu().numpy()
        out[f"critic_b{i}"] = l.bias.detach().cpu().numpy()
    out["log_std"] = model.policy.log_std.detach().cpu().numpy()
    return out


def write_tracker_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write a tracker file's arrays to ``path`` atomically (a reader never sees half a
    file: a run's tracker.npz is read while the run goes on)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    return path


def save_tracker(model, obs_mean, obs_var, obs_clip, metadata, path: str | Path,
                 critic_layout: Layout = ()) -> Path:
    """Write the numpy tracker (+ critic, its privileged inputs' layout and log-std, used
    only to fine-tune) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ctrl = controller_from_sb3(model, obs_mean, obs_var, obs_clip, metadata)
    tmp = path.with_suffix(".tmp.npz")
    ctrl.save(tmp)
    with np.load(tmp) as z:
        arrays = dict(z)
    # float32 halves the shipped size; inference runs in float64 after loading
    arrays = {k: (v.astype(np.float32) if v.dtype == np.float64 else v) for k, v in arrays.items()}
    arrays.update(critic_arrays(model))
    d = metadata.obs_dim
    if len(obs_mean) > d:  # the critic's privileged inputs: kept to resume fine-tuning
        arrays["critic_obs_mean"] = np.asarray(obs_mean[d:], np.float32)
        arrays["critic_obs_var"] = np.asarray(obs_var[d:], np.float32)
        if critic_layout:
            covered = sum(int(w) for _, w in critic_layout)
            if covered != len(obs_mean) - d:
                raise ValueError(f"critic_layout covers {covered} privileged inputs; the "
                                 f"statistics hold {len(obs_mean) - d}")
            arrays["critic_obs_layout"] = np.array(json.dumps(
                [[str(n), int(w)] for n, w in critic_layout]))
    return write_tracker_arrays(path, arrays)


def _column_map(old: Layout, new: Layout) -> tuple[np.ndarray, np.ndarray]:
    """(new columns, old columns) of the observation slices both layouts name alike."""
    def starts(layout: Layout) -> dict[str, tuple[int, int]]:
        out, at = {}, 0
        for name, width in layout:
            out[name] = (at, int(width))
            at += int(width)
        return out

    o, n = starts(old), starts(new)
    new_cols, old_cols = [], []
    for name, (at, width) in n.items():
        if name in o and o[name][1] == width:
            new_cols += range(at, at + width)
            old_cols += range(o[name][0], o[name][0] + width)
    return np.asarray(new_cols, dtype=np.int64), np.asarray(old_cols, dtype=np.int64)


def _stored_critic_layout(arrays: dict[str, np.ndarray]) -> Layout:
    """The privileged part a stored critic read: its stored layout, or (trackers written
    before the layout was stored keep only its width) the default critic terms when they
    add up to that width."""
    from twin.envs.tracking.g1_tracking import default_critic_layout

    if "critic_obs_layout" in arrays:
        return tuple((str(n), int(w)) for n, w in json.loads(str(arrays["critic_obs_layout"])))
    width = len(arrays["critic_obs_mean"])
    layout = default_critic_layout()
    if sum(w for _, w in layout) != width:
        raise ValueError(f"stored critic statistics have {width} privileged inputs; the "
                         f"default critic terms have {sum(w for _, w in layout)}")
    return layout


def load_into_sb3(model, tracker_path: str | Path, actor_layout: Layout,
                  critic_layout: Layout = ()) -> tuple[np.ndarray, np.ndarray]:
    """Copy a tracker's actor (and critic, when stored) into ``model``, whose observation is
    ``actor_layout`` then ``critic_layout``; returns the obs mean/var for all of it.

    Inputs are matched by name (``TrackerMetadata.obs_layout``): an input the tracker did not
    read (a term added to the observation, the privileged part when a symmetric tracker is
    fine-tuned with the asymmetric critic) gets zero first-layer weights, so the networks
    start as the same functions, and statistics mean 0, variance 1.
    """
    with np.load(tracker_path, allow_pickle=False) as z:
        arrays = dict(z)
    old_actor = TrackingController.load(tracker_path).metadata.obs_layout
    stored = "critic_obs_mean" in arrays
    old_critic = _stored_critic_layout(arrays) if stored else ()
    actor = _linears(model.policy.mlp_extractor.policy_net) + [model.policy.action_net]
    critic = _linears(model.policy.mlp_extractor.value_net) + [model.policy.value_net]
    stored_widths = [int(arrays[f"W{i}"].shape[0]) for i in range(int(arrays["num_layers"]) - 1)]
    widths = [layer.out_features for layer in actor[:-1]]
    if len(stored_widths) != len(widths) or any(a > b for a, b in zip(stored_widths, widths)):
        raise ValueError(f"{tracker_path}: hidden layers {stored_widths}, the policy has "
                         f"{widths}; use net_arch with as many layers, each at least as wide")
    lost = [n for n, _ in old_actor if n not in dict(actor_layout)]
    if lost:
        raise ValueError(f"init {tracker_path}: its actor reads {lost}, which this config's "
                         f"observation lacks; train with the same terms (proprio_obs=, "
                         f"reference_obs=)")
    a_new, a_old = _column_map(old_actor, tuple(actor_layout))
    full_new = tuple(actor_layout) + tuple(critic_layout)
    c_new, c_old = _column_map(tuple(old_actor) + old_critic, full_new)

    def copy_first(layer: nn.Linear, w: np.ndarray, new_cols, old_cols) -> None:
        rows = w.shape[0]  # units beyond them (a wider net_arch) keep their fresh weights
        layer.weight[:rows] = 0.0
        layer.weight[:rows, torch.as_tensor(new_cols)] = torch.as_tensor(w[:, old_cols])

    def copy_widened(layer: nn.Linear, w: np.ndarray) -> None:
        # New units read the layer below through fresh weights, but what they feed up starts
        # at zero, so the network computes the stored function and the new units can learn.
        rows, cols = w.shape
        layer.weight[:rows, cols:] = 0.0
        layer.weight[:rows, :cols] = torch.as_tensor(w)

    def copy_net(layers: list[nn.Linear], prefix: str, new_cols, old_cols) -> None:
        for i, layer in enumerate(layers):
            w = arrays[f"{prefix}W{i}"]
            if i == 0:
                copy_first(layer, w, new_cols, old_cols)
            else:
                copy_widened(layer, w)
            layer.bias[:w.shape[0]] = torch.as_tensor(arrays[f"{prefix}b{i}"])

    with torch.no_grad():
        copy_net(actor, "", a_new, a_old)
        if "critic_W0" in arrays:
            copy_net(critic, "critic_", c_new, c_old)
            model.policy.log_std.copy_(torch.as_tensor(arrays["log_std"]))
    if stored_widths != widths:
        log.info("network widened from %s to %s: the new units start with zero outgoing "
                 "weights (the same policy)", stored_widths, widths)
    old_mean = arrays["obs_mean"].astype(np.float64)
    old_var = arrays["obs_var"].astype(np.float64)
    if stored:
        old_mean = np.concatenate([old_mean, arrays["critic_obs_mean"]])
        old_var = np.concatenate([old_var, arrays["critic_obs_var"]])
    dim = sum(int(w) for _, w in full_new)
    mean, var = np.zeros(dim), np.ones(dim)
    mean[c_new], var[c_new] = old_mean[c_old], old_var[c_old]
    return mean, var


class _Actor(nn.Module):
    def __init__(self, ctrl: TrackingController):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(ctrl.obs_mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(ctrl.obs_std, dtype=torch.float32))
        self.clip = float(ctrl.obs_clip)
        layers: list[nn.Module] = []
        for i, (W, b) in enumerate(ctrl.weights):
            lin = nn.Linear(W.shape[1], W.shape[0])
            lin.weight.data = torch.as_tensor(W, dtype=torch.float32)
            lin.bias.data = torch.as_tensor(b, dtype=torch.float32)
            layers.append(lin)
            if i < len(ctrl.weights) - 1:
                layers.append({"elu": nn.ELU, "relu": nn.ReLU, "tanh": nn.Tanh}[
                    ctrl.metadata.activation]())
        self.net = nn.Sequential(*layers)
        self.mirror = ctrl.mirror is not None
        if self.mirror:
            m = ctrl.mirror
            for name, v, dtype in (("obs_source", m.obs_source, torch.long),
                                   ("obs_sign", m.obs_sign, torch.float32),
                                   ("action_source", m.action_source, torch.long),
                                   ("action_sign", m.action_sign, torch.float32)):
                self.register_buffer(name, torch.as_tensor(np.asarray(v), dtype=dtype))

    def _network(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(torch.clamp((obs - self.mean) / self.std, -self.clip, self.clip))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        action = self._network(obs)
        if self.mirror:
            mirrored = self._network(obs.index_select(1, self.obs_source) * self.obs_sign)
            action = 0.5 * (action + mirrored.index_select(1, self.action_source)
                            * self.action_sign)
        return action


def export_onnx(ctrl: TrackingController, path: str | Path) -> Path:
    """ONNX file with input ``obs`` (N, D), output ``action`` (N, J), metadata_props set."""
    import onnx

    path = Path(path)
    actor = _Actor(ctrl).eval()
    dummy = torch.zeros(1, ctrl.metadata.obs_dim)
    torch.onnx.export(actor, (dummy,), str(path), input_names=["obs"], output_names=["action"],
                      dynamic_axes={"obs": {0: "batch"}, "action": {0: "batch"}},
                      opset_version=17, dynamo=False)
    model = onnx.load(str(path))
    meta = model.metadata_props.add()
    meta.key, meta.value = "twin_tracker", ctrl.metadata.to_json()
    onnx.save(model, str(path))
    return path
