"""Human motion in: readers for video-estimator and mocap files, SMPL skeleton and FK, and
normalisation into ``HumanMotion``; plus the ``RobotMotion`` file format that
``twin.retarget`` writes and envs read.

Entry points: ``load_human_motion(path, ...)`` -> ``HumanMotion``;
``load_robot_motion(path, ...)`` / ``save_robot_motion(motion, path)``.
"""

from twin.motion.errors import MotionFormatError
from twin.motion.human_motion import HumanMotion, save_human_motion
from twin.motion.normalise import load_human_motion, normalise
from twin.motion.readers import FORMATS, detect_format, read_raw_motion

__all__ = [
    "FORMATS", "HumanMotion", "MotionFormatError", "detect_format", "load_human_motion",
    "normalise", "read_raw_motion", "save_human_motion",
]
