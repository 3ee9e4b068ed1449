"""An SB3 actor-critic policy whose actor reads only the first ``actor_obs_dim`` entries of
the observation and whose critic reads all of it (privileged state appended by the env's
``critic_obs=True``): BeyondMimic's asymmetric actor-critic on stable-baselines3's PPO.

The actor's layers keep SB3's names (``mlp_extractor.policy_net``, ``action_net``), so the
export to a numpy/ONNX tracker is the same as for the symmetric policy.
"""

from __future__ import annotations

import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import create_mlp
from torch import nn


class SlicedMlpExtractor(nn.Module):
    """``MlpExtractor``'s interface; the policy net sees ``features[:, :actor_obs_dim]``."""

    def __init__(self, feature_dim: int, actor_obs_dim: int, pi: list[int], vf: list[int],
                 activation_fn: type[nn.Module]):
        super().__init__()
        if not 0 < actor_obs_dim <= feature_dim:
            raise ValueError(f"actor_obs_dim {actor_obs_dim}: expected 1 ... {feature_dim}")
        self.actor_obs_dim = actor_obs_dim
        # output_dim -1: hidden layers only, as SB3's MlpExtractor builds them
        self.policy_net = nn.Sequential(*create_mlp(actor_obs_dim, -1, pi, activation_fn))
        self.value_net = nn.Sequential(*create_mlp(feature_dim, -1, vf, activation_fn))
        self.latent_dim_pi = pi[-1] if pi else actor_obs_dim
        self.latent_dim_vf = vf[-1] if vf else feature_dim

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self.policy_net(features[:, :self.actor_obs_dim])

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.value_net(features)


class AsymmetricActorCriticPolicy(ActorCriticPolicy):
    """``policy_kwargs``: ``actor_obs_dim`` plus the usual ones (``net_arch`` as
    ``dict(pi=[...], vf=[...])``, ``activation_fn``, ``log_std_init``)."""

    extractor_class = SlicedMlpExtractor

    def __init__(self, *args, actor_obs_dim: int, **kwargs):
        self.actor_obs_dim = int(actor_obs_dim)
        super().__init__(*args, **kwargs)

    def _extractor_kwargs(self) -> dict:
        """Keyword arguments of ``extractor_class`` beyond ``SlicedMlpExtractor``'s."""
        return {}

    def _build_mlp_extractor(self) -> None:
        arch = self.net_arch
        pi, vf = (arch.get("pi", []), arch.get("vf", [])) if isinstance(arch, dict) else (
            list(arch), list(arch))
        self.mlp_extractor = self.extractor_class(self.features_dim, self.actor_obs_dim, pi, vf,
                                                  self.activation_fn, **self._extractor_kwargs())

    def _get_constructor_parameters(self) -> dict:
        data = super()._get_constructor_parameters()
        data["actor_obs_dim"] = self.actor_obs_dim
        return data
