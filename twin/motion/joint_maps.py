"""Joint-name maps from foreign skeletons (keypoint lifters, mocap, demo data) to SMPL names.

A ``JointMap`` lists the foreign joint names in the order a bare ``(T, J, 3)`` array uses,
maps the ones twin needs onto SMPL body-joint names, and states the data's up axis, so
that nothing about a joints file is implied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from twin.motion.errors import MotionFormatError
from twin.motion.smpl import SMPL_BODY_JOINT_NAMES, SMPL_JOINT_NAMES


@dataclass(frozen=True)
class JointMap:
    """``names``: foreign names in array order; ``to_smpl``: foreign -> SMPL body name;
    ``up_axis``: "y" or "z" for the data this map describes ("" when unknown)."""

    name: str
    names: tuple[str, ...]
    to_smpl: dict[str, str]
    up_axis: str = ""


def _side_map(pairs: dict[str, str], left: str, right: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for foreign, smpl in pairs.items():
        if "{s}" in foreign:
            out[foreign.format(s=left)] = smpl.format(s="left")
            out[foreign.format(s=right)] = smpl.format(s="right")
        else:
            out[foreign] = smpl
    return out


_SMPLH_DEMO_NAMES = (
    "Pelvis", "L_Hip", "L_Knee", "L_Ankle", "L_Toe", "R_Hip", "R_Knee", "R_Ankle", "R_Toe",
    "Torso", "Spine", "Chest", "Neck", "Head", "L_Thorax", "L_Shoulder", "L_Elbow", "L_Wrist",
    *[f"L_{f}{i}" for f in ("Index", "Middle", "Pinky", "Ring", "Thumb") for i in (1, 2, 3)],
    "R_Thorax", "R_Shoulder", "R_Elbow", "R_Wrist",
    *[f"R_{f}{i}" for f in ("Index", "Middle", "Pinky", "Ring", "Thumb") for i in (1, 2, 3)],
)
_MOCAP_DEMO_NAMES = (
    "Hips", "Spine", "Spine1", "Neck", "Head", "LeftShoulder", "LeftArm", "LeftForeArm",
    "LeftHand",
    *[f"LeftHand{f}{i}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for i in (1, 2, 3)],
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    *[f"RightHand{f}{i}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for i in (1, 2, 3)],
    "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightLeg", "RightFoot",
    "RightToeBase", "LeftFootMod", "RightFootMod",
)
# holosoma-retargeting's LAFAN demo order (y-up, as the BVH files).
_LAFAN_NAMES = (
    "Hips", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase", "LeftUpLeg", "LeftLeg",
    "LeftFoot", "LeftToeBase", "Spine", "Spine1", "Spine2", "Neck", "Head", "RightShoulder",
    "RightArm", "RightForeArm", "RightHand", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
)
_MIXAMO_STYLE = {
    "Hips": "pelvis", "{s}UpLeg": "{s}_hip", "{s}Leg": "{s}_knee", "{s}Foot": "{s}_ankle",
    "{s}Shoulder": "{s}_collar", "{s}Arm": "{s}_shoulder", "{s}ForeArm": "{s}_elbow",
    "{s}Hand": "{s}_wrist", "Neck": "neck", "Head": "head",
}

BUILTIN_JOINT_MAPS: dict[str, JointMap] = {
    "smpl": JointMap("smpl", SMPL_JOINT_NAMES,
                     {n: n for n in SMPL_BODY_JOINT_NAMES}, ""),
    "smpl_body": JointMap("smpl_body", SMPL_BODY_JOINT_NAMES,
                          {n: n for n in SMPL_BODY_JOINT_NAMES}, ""),
    # holosoma-retargeting OMOMO/InterMimic SMPL-H joint positions (z-up).
    "smplh_demo": JointMap("smplh_demo", _SMPLH_DEMO_NAMES, _side_map({
        "Pelvis": "pelvis", "{s}_Hip": "{s}_hip", "{s}_Knee": "{s}_knee",
        "{s}_Ankle": "{s}_ankle", "{s}_Toe": "{s}_foot", "Torso": "spine1", "Spine": "spine2",
        "Chest": "spine3", "Neck": "neck", "Head": "head", "{s}_Thorax": "{s}_collar",
        "{s}_Shoulder": "{s}_shoulder", "{s}_Elbow": "{s}_elbow", "{s}_Wrist": "{s}_wrist",
    }, "L", "R"), "z"),
    # holosoma-retargeting mocap climbing sequences, (T, 53, 3), z-up.
    "mocap_demo": JointMap("mocap_demo", _MOCAP_DEMO_NAMES, _side_map({
        **_MIXAMO_STYLE, "Spine": "spine1", "Spine1": "spine3", "{s}ToeBase": "{s}_foot",
    }, "Left", "Right"), "z"),
    # LAFAN1 BVH joint positions (y-up in the original files).
    "lafan": JointMap("lafan", _LAFAN_NAMES, _side_map({
        **_MIXAMO_STYLE, "Spine": "spine1", "Spine1": "spine2", "Spine2": "spine3",
        "{s}ToeBase": "{s}_foot",
    }, "Left", "Right"), "y"),
}


def get_joint_map(spec: str | Path | JointMap) -> JointMap:
    """A built-in map by name, or a JSON file ``{"names": [...], "to_smpl": {...},
    "up_axis": "z"}``."""
    if isinstance(spec, JointMap):
        return spec
    if str(spec) in BUILTIN_JOINT_MAPS:
        return BUILTIN_JOINT_MAPS[str(spec)]
    path = Path(spec)
    if not path.is_file():
        raise MotionFormatError(None, "joint_map", f"{spec!r} is neither a built-in map "
                                f"{sorted(BUILTIN_JOINT_MAPS)} nor a JSON file")
    try:
        from twin.motion.limits import read_json

        data = read_json(path, "joint_map")
        names = tuple(str(n) for n in data["names"])
        to_smpl = {str(k): str(v) for k, v in data["to_smpl"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MotionFormatError(path, "names/to_smpl", "expected JSON with a 'names' list and "
                                "a 'to_smpl' object") from exc
    bad = sorted(set(to_smpl.values()) - set(SMPL_BODY_JOINT_NAMES))
    if bad:
        raise MotionFormatError(path, "to_smpl", f"targets {bad} are not SMPL body joints; "
                                f"expected names from {list(SMPL_BODY_JOINT_NAMES)}")
    return JointMap(path.stem, names, to_smpl, str(data.get("up_axis", "")))
