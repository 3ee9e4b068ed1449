"""Visual action prompts: the agent's skeleton, mask, depth and keypoints in every camera.

Twin gets exactly from simulation what the VAP line of work estimates from video: per
camera and frame, a skeleton image (OpenPose-style body and hand skeletons, gripper
skeletons for arms), an agent-only mask and depth, 2D keypoints with COCO visibility, and
the camera's intrinsics and extrinsics. Keypoint definitions live in
``twin.robots.keypoints``. ``PromptGenerator``/``prompts_from_state`` compute prompts of one
state; ``LivePrompts`` of a running env; ``twin.record.prompts.observation`` adds cameras and
prompts to an env's observations so the recorders store them as dataset features.
"""

from twin.record.prompts.depth import DepthEncoding
from twin.record.prompts.draw import draw_skeleton
from twin.record.prompts.generator import (
    CameraPrompts,
    LivePrompts,
    PromptGenerator,
    mocap_poses,
    prompts_from_state,
)
from twin.record.prompts.keypoints import (
    VIS_ABSENT,
    VIS_OCCLUDED,
    VIS_VISIBLE,
    BoundKeypoints,
    subtree_body_ids,
)
from twin.record.prompts.observation import (
    CameraObservations,
    CameraObservationsEnv,
    load_prompts_metadata,
    write_prompts_metadata,
)

__all__ = [
    "VIS_ABSENT",
    "VIS_OCCLUDED",
    "VIS_VISIBLE",
    "BoundKeypoints",
    "CameraObservations",
    "CameraObservationsEnv",
    "CameraPrompts",
    "DepthEncoding",
    "LivePrompts",
    "PromptGenerator",
    "draw_skeleton",
    "load_prompts_metadata",
    "mocap_poses",
    "prompts_from_state",
    "subtree_body_ids",
    "write_prompts_metadata",
]
