"""An actor-critic that is left-right symmetric by construction: its action mean is the
average of the network's action and the mirror image of the network's action for the
mirrored observation, pi(M_a a | M_s s) = pi(a | s), and its value is the average of the
critic's values of s and M_s s.

This is the shipped tracker's inference-time mirror average (``TrackerMetadata
.mirror_average``) moved into training, so PPO optimises the averaged policy it will ship
(a network trained alone drifts from its mirror image: measured 0.1 -> 0.3 action units
within 0.4M env-steps of symmetric PPO). The mirror acts on the *normalised* observation
as a signed permutation, which is exact when the normalisation statistics are themselves
mirror symmetric (``MirroredRunningMeanStd`` keeps them so).

Modules keep SB3's names and ``nn.Linear`` parameters (``action_net.weight`` ...), so
checkpoints, the numpy/ONNX export and ``load_into_sb3`` read them as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from stable_baselines3.common.running_mean_std import RunningMeanStd
from torch import nn

from twin.motion.mirror import SignedPermutation
from twin.train.asymmetric import AsymmetricActorCriticPolicy, SlicedMlpExtractor
from twin.train.symmetry import symmetric_statistics


def _index(values: Sequence[float], dtype) -> torch.Tensor:
    return torch.as_tensor(list(values), dtype=dtype)


class MirrorAveragedLinear(nn.Linear):
    """A linear head on two latents side by side, ``[h(s), h(M s)]`` (N, 2 in_features):
    ``0.5 * (W h(s) + b + P(W h(M s) + b))`` with ``P`` the output's signed permutation."""

    def __init__(self, linear: nn.Linear, source: Sequence[int], sign: Sequence[float]):
        super().__init__(linear.in_features, linear.out_features)
        if len(source) != linear.out_features:
            raise ValueError(f"mirror map of {len(source)} outputs for a head of "
                             f"{linear.out_features}")
        with torch.no_grad():
            self.weight.copy_(linear.weight)
            self.bias.copy_(linear.bias)
        self.register_buffer("source", _index(source, torch.long), persistent=False)
        self.register_buffer("sign", _index(sign, torch.float32), persistent=False)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        own, mirrored = latents.split(self.in_features, dim=1)
        out_m = super().forward(mirrored)
        return 0.5 * (super().forward(own)
                      + out_m.index_select(1, self.source) * self.sign.to(out_m.dtype))


class MirroredMlpExtractor(SlicedMlpExtractor):
    """``SlicedMlpExtractor`` whose latents are ``[h(s), h(M s)]`` side by side."""

    def __init__(self, *args, obs_source: Sequence[int], obs_sign: Sequence[float], **kwargs):
        super().__init__(*args, **kwargs)
        self.register_buffer("obs_source", _index(obs_source, torch.long), persistent=False)
        self.register_buffer("obs_sign", _index(obs_sign, torch.float32), persistent=False)

    def _both(self, net: nn.Module, x: torch.Tensor, dim: int) -> torch.Tensor:
        mirrored = (x.index_select(1, self.obs_source[:dim])
                    * self.obs_sign[:dim].to(x.dtype))
        h = net(torch.cat([x, mirrored]))
        return torch.cat(h.split(len(x)), dim=1)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self._both(self.policy_net, features[:, :self.actor_obs_dim], self.actor_obs_dim)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self._both(self.value_net, features, features.shape[1])


class SymmetricActorCriticPolicy(AsymmetricActorCriticPolicy):
    """``policy_kwargs``: those of ``AsymmetricActorCriticPolicy`` plus the mirror maps of
    the whole observation (actor's then critic's; each term maps within itself, so its first
    ``actor_obs_dim`` entries are the actor's map) and of the action."""

    extractor_class = MirroredMlpExtractor

    def __init__(self, *args, obs_mirror_source: Sequence[int],
                 obs_mirror_sign: Sequence[float], action_mirror_source: Sequence[int],
                 action_mirror_sign: Sequence[float], **kwargs):
        self.obs_mirror = ([int(i) for i in obs_mirror_source],
                           [float(s) for s in obs_mirror_sign])
        self.action_mirror = ([int(i) for i in action_mirror_source],
                              [float(s) for s in action_mirror_sign])
        super().__init__(*args, **kwargs)

    def _extractor_kwargs(self) -> dict:
        source, sign = self.obs_mirror
        if len(source) != self.features_dim:
            raise ValueError(f"observation mirror map of {len(source)} entries for an "
                             f"observation of {self.features_dim}")
        if sorted(source[:self.actor_obs_dim]) != list(range(self.actor_obs_dim)):
            raise ValueError("the observation mirror map mixes the actor's entries with the "
                             "critic's")
        return dict(obs_source=source, obs_sign=sign)

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        # the heads read both latents; the optimizer is rebuilt on the replaced parameters
        self.action_net = MirrorAveragedLinear(self.action_net, *self.action_mirror)
        self.value_net = MirrorAveragedLinear(self.value_net, [0], [1.0])
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1),
                                              **self.optimizer_kwargs)

    def _symmetric_log_std(self) -> torch.Tensor:
        source = self.action_net.source
        return 0.5 * (self.log_std + self.log_std.index_select(0, source))

    def symmetrize_log_std_(self) -> None:
        """Set the log-std parameter to its symmetric value (e.g. after loading an init
        tracker's): the policy is unchanged, and since partners then get equal gradients the
        stored parameter stays the std the policy uses."""
        with torch.no_grad():
            self.log_std.copy_(self._symmetric_log_std())

    def _get_action_dist_from_latent(self, latent_pi: torch.Tensor):
        return self.action_dist.proba_distribution(self.action_net(latent_pi),
                                                   self._symmetric_log_std())

    def _get_constructor_parameters(self) -> dict:
        data = super()._get_constructor_parameters()
        data.update(obs_mirror_source=self.obs_mirror[0], obs_mirror_sign=self.obs_mirror[1],
                    action_mirror_source=self.action_mirror[0],
                    action_mirror_sign=self.action_mirror[1])
        return data


class MirroredRunningMeanStd(RunningMeanStd):
    """SB3's running observation statistics, each batch pooled with its mirror images: the
    statistics stay mirror symmetric, so the mirror of a normalised observation is the
    signed permutation of it (what ``SymmetricActorCriticPolicy`` applies)."""

    def __init__(self, mirror: SignedPermutation, shape: tuple[int, ...]):
        super().__init__(shape=shape)
        self.mirror = mirror

    def update(self, arr: np.ndarray) -> None:
        super().update(np.concatenate([arr, self.mirror.apply(arr)]))


def mirrored_running_mean_std(mirror: SignedPermutation, mean: np.ndarray, var: np.ndarray,
                              count: float) -> MirroredRunningMeanStd:
    """A ``MirroredRunningMeanStd`` starting from ``mean``/``var`` (made symmetric) and
    ``count``."""
    stats = MirroredRunningMeanStd(mirror, np.shape(mean))
    stats.mean, stats.var = symmetric_statistics(mirror, np.asarray(mean, np.float64),
                                                 np.asarray(var, np.float64))
    stats.count = float(count)
    return stats


def renormalize_first_layers(policy, old: tuple[np.ndarray, np.ndarray],
                             new: tuple[np.ndarray, np.ndarray], epsilon: float) -> None:
    """Re-express the actor's and critic's first layers for inputs normalised with the
    statistics ``new`` (mean, var) instead of ``old``, so both networks compute the same
    functions of the raw observation (up to the normalised inputs' clipping).

    ``W (x - m) / s + b = (W s'/s) (x - m') / s' + W (m' - m) / s + b``; the actor reads
    the first ``policy.actor_obs_dim`` entries, the critic all of them."""
    std_old = np.sqrt(np.asarray(old[1], np.float64) + epsilon)
    std_new = np.sqrt(np.asarray(new[1], np.float64) + epsilon)
    scale = std_new / std_old
    shift = (np.asarray(new[0], np.float64) - np.asarray(old[0], np.float64)) / std_old
    ext = policy.mlp_extractor
    with torch.no_grad():
        for net, dim in ((ext.policy_net, policy.actor_obs_dim), (ext.value_net, len(scale))):
            first = net[0]
            W = first.weight.detach().double()
            first.bias.add_((W @ torch.as_tensor(shift[:dim])).to(first.bias.dtype))
            first.weight.mul_(torch.as_tensor(scale[:dim], dtype=first.weight.dtype))


def make_symmetric(model, env, obs_mirror: SignedPermutation) -> None:
    """Finish a PPO ``model`` with a ``SymmetricActorCriticPolicy`` whose weights were just
    built or loaded: ``env``'s (VecNormalize) observation statistics are pooled with their
    mirror images from now on, the first layers re-expressed for them (the same functions),
    and the stored log-std set to the symmetric one the policy uses."""
    old = env.obs_rms
    pooled = mirrored_running_mean_std(obs_mirror, old.mean, old.var, old.count)
    renormalize_first_layers(model.policy, (old.mean, old.var), (pooled.mean, pooled.var),
                             env.epsilon)
    env.obs_rms = pooled
    model.policy.symmetrize_log_std_()
