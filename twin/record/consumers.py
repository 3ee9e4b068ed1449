"""What a training consumer should read from a twin dataset as policy inputs.

LeRobot turns every ``video``/``image`` feature into a VISUAL policy input
(``lerobot.datasets.utils.dataset_to_policy_features``), whatever its name, so the visual
action prompts (``observation.prompts.<cam>.{skeleton,mask,depth}``) would become image
inputs of a LeRobot policy by default. They are conditioning channels for video models, not
camera views: ``policy_input_keys`` names the features a policy should take (RGB cameras,
``observation.state``, ``observation.environment_state``), and ``lerobot_input_features``
gives LeRobot's own ``PolicyFeature``s for exactly those, to set as
``policy.input_features`` (LeRobot keeps input features that are set and derives them from
the dataset only when they are empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

CAMERA_PREFIX = "observation.images."
PROMPT_PREFIX = "observation.prompts."
STATE_KEYS = ("observation.state", "observation.environment_state")


def policy_input_keys(features: Mapping[str, Any]) -> list[str]:
    """Feature names a policy should read: RGB cameras and the state vectors."""
    return [k for k in features if k.startswith(CAMERA_PREFIX) or k in STATE_KEYS]


def prompt_keys(features: Mapping[str, Any]) -> list[str]:
    return [k for k in features if k.startswith(PROMPT_PREFIX)]


def lerobot_input_features(root: str | Path) -> dict[str, Any]:
    """LeRobot ``PolicyFeature``s of the policy inputs of the dataset at ``root`` (needs
    lerobot): its own ``dataset_to_policy_features`` restricted to ``policy_input_keys``."""
    try:
        from lerobot.datasets.utils import dataset_to_policy_features
    except ImportError as exc:
        raise ImportError("lerobot_input_features needs lerobot (pip install lerobot)") from exc
    from twin.record.layout import load_info

    info = load_info(root)
    features = {k: {**spec.to_info()} for k, spec in info.features.items()}
    keep = set(policy_input_keys(features))
    return {k: v for k, v in dataset_to_policy_features(features).items() if k in keep}
