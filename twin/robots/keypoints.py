"""Keypoint tables: where each robot's skeleton keypoints sit, one documented table per robot.

A keypoint is a point fixed to one body (``body`` + ``offset`` in that body's frame, metres)
or a named site. Keypoints are grouped into ``Skeleton``s (what is drawn as one figure:
a body, a hand, a gripper), each with its edges and colours. ``keypoint_table(robot)``
returns the ``KeypointTable`` of a registered robot; the flattened keypoint order (skeleton
by skeleton, as listed) is the order of every keypoint array twin records
(``KeypointTable.names``).

Offsets are chosen so that each point lies *inside* the visual mesh of its body (checked in
``tests/record/test_prompts.py``: >= 99 % of visible projected keypoints fall on the
robot's own segmentation pixels), except points flagged ``on_surface=False`` (the TCP
between the fingers: a point in the air by design).

Tables (K = keypoints):

- **G1 body** (``G1_BODY``, 17, OpenPose-like order and limb colours): 0 pelvis, 1 torso
  (chest), 2 head, 3/4 left/right shoulder (shoulder-roll motor), 5/6 elbow, 7/8 wrist
  (wrist-yaw joint), 9/10 hip (hip-roll motor), 11/12 knee, 13/14 ankle, 15/16 toe (front
  of the sole). Robot ``g1``.
- **Dex3-1 hands** (``dex3_hand("left"|"right")``, 21 each, OpenPose hand order: 0 wrist,
  thumb 1-4 (CMC, MCP, IP, tip), index 5-8 (MCP, PIP, DIP, tip), middle 9-12, ring 13-16,
  pinky 17-20; OpenPose hand colours). Dex3-1 has a 3-link thumb and 2-link index and
  middle fingers, so: wrist = the wrist-yaw joint (the body skeleton's wrist); thumb
  CMC/MCP/IP = origins of thumb_0/1/2 links; index/middle MCP = the proximal link's origin,
  PIP = the distal link's origin, DIP = the middle of the distal link (Dex3-1 has no DIP joint: this point only fixes the OpenPose layout); tip = 12 mm
  short of the distal link's end. **Ring (13-16) and pinky (17-20) are not present** on
  Dex3-1: they keep their slots so arrays have the OpenPose shape, with ``present=False``
  (visibility 0 in every frame, never drawn, excluded from the on-segmentation test).
  Robot ``g1_dex3`` = G1 body + left hand + right hand (59).
- ``g1_upper`` / ``g1_upper_waist``: the same 59 slots as ``g1_dex3``; hips, knees,
  ankles and toes are not present (legs removed).
- **Panda gripper** (``PANDA_GRIPPER``, 7): 0 wrist (flange disc of link7), 1 palm (hand
  housing), 2/3 left/right finger base, 4/5 left/right fingertip (centre of the finger
  pad), 6 TCP (site ``tcp``, between the fingertips, ``on_surface=False``).
- **Panda + Robotiq 2F-85** (``PANDA_2F85_GRIPPER``, 7): same slots; palm = gripper base,
  finger base = driver link, fingertip = follower (pad holder) link.

Frames: offsets in the body frame of MuJoCo's model (Menagerie MJCF), metres.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Keypoint:
    """One keypoint: ``offset`` (m) in the frame of ``body``, or the position of ``site``.

    ``present=False``: the robot lacks this part (the slot exists for a fixed layout).
    ``on_surface=False``: a virtual point not inside any mesh (excluded from mesh checks).
    """

    name: str
    body: str | None = None
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    site: str | None = None
    present: bool = True
    on_surface: bool = True

    def __post_init__(self) -> None:
        if self.present and (self.body is None) == (self.site is None):
            raise ValueError(f"keypoint {self.name!r}: give exactly one of body or site")


@dataclass(frozen=True)
class Skeleton:
    """Keypoints drawn as one figure. ``edges`` index into ``keypoints``; colours RGB 0-255."""

    name: str
    keypoints: tuple[Keypoint, ...]
    edges: tuple[tuple[int, int], ...]
    edge_colors: tuple[RGB, ...]
    point_colors: tuple[RGB, ...]

    def __post_init__(self) -> None:
        k = len(self.keypoints)
        if len(self.edge_colors) != len(self.edges) or len(self.point_colors) != k:
            raise ValueError(f"skeleton {self.name!r}: one colour per edge and per keypoint")
        for a, b in self.edges:
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(f"skeleton {self.name!r}: edge ({a}, {b}) out of range")


@dataclass(frozen=True)
class KeypointTable:
    """All skeletons of one robot; keypoints flatten in skeleton order."""

    robot: str
    skeletons: tuple[Skeleton, ...]

    @property
    def keypoints(self) -> tuple[Keypoint, ...]:
        return tuple(kp for s in self.skeletons for kp in s.keypoints)

    @property
    def names(self) -> tuple[str, ...]:
        """``"<skeleton>/<keypoint>"`` in the flattened order of every keypoint array."""
        return tuple(f"{s.name}/{kp.name}" for s in self.skeletons for kp in s.keypoints)

    def __len__(self) -> int:
        return sum(len(s.keypoints) for s in self.skeletons)

    def edges(self) -> list[tuple[int, int, RGB]]:
        """(i, j, colour) over the flattened keypoints."""
        out, base = [], 0
        for s in self.skeletons:
            out += [(base + a, base + b, c) for (a, b), c in zip(s.edges, s.edge_colors)]
            base += len(s.keypoints)
        return out

    def point_colors(self) -> tuple[RGB, ...]:
        return tuple(c for s in self.skeletons for c in s.point_colors)

    def to_json(self) -> dict:
        return {
            "robot": self.robot,
            "names": list(self.names),
            "skeletons": [
                {
                    "name": s.name,
                    "keypoints": [
                        {"name": k.name, "body": k.body, "offset_m": list(k.offset),
                         "site": k.site, "present": k.present, "on_surface": k.on_surface}
                        for k in s.keypoints
                    ],
                    "edges": [list(e) for e in s.edges],
                    "edge_colors_rgb": [list(c) for c in s.edge_colors],
                    "point_colors_rgb": [list(c) for c in s.point_colors],
                }
                for s in self.skeletons
            ],
        }


# --- OpenPose colour conventions -------------------------------------------------------------

# OpenPose's 18 body-limb colours (RGB), in the order of its limb list.
OPENPOSE_LIMB_COLORS: tuple[RGB, ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
OPENPOSE_HAND_EDGES: tuple[tuple[int, int], ...] = tuple(
    (0 if j == 0 else 4 * f + j, 4 * f + j + 1) for f in range(5) for j in range(4)
)


def _hsv(h: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h, 1.0, 1.0)
    return (round(255 * r), round(255 * g), round(255 * b))


# OpenPose hand convention (as in controlnet_aux ``draw_handpose``): edge i of the 20 has hue
# i / 20 (thumb red-orange, index yellow, middle green, ring cyan-blue, pinky purple); joints
# are drawn in pure blue.
OPENPOSE_HAND_EDGE_COLORS: tuple[RGB, ...] = tuple(_hsv(i / 20) for i in range(20))
OPENPOSE_HAND_POINT_COLOR: RGB = (0, 0, 255)


# --- G1 body ---------------------------------------------------------------------------------

def _g1_body(legs: bool = True) -> Skeleton:
    def leg(name: str, body: str, offset=(0.0, 0.0, 0.0)) -> Keypoint:
        return Keypoint(name, body, offset) if legs else Keypoint(name, present=False)

    kps = (
        Keypoint("pelvis", "pelvis", (0.0, 0.0, -0.07)),
        Keypoint("torso", "torso_link", (0.0, 0.0, 0.22)),
        Keypoint("head", "torso_link", (0.0, 0.0, 0.42)),
        Keypoint("left_shoulder", "left_shoulder_roll_link"),
        Keypoint("right_shoulder", "right_shoulder_roll_link"),
        Keypoint("left_elbow", "left_elbow_link"),
        Keypoint("right_elbow", "right_elbow_link"),
        Keypoint("left_wrist", "left_wrist_yaw_link"),
        Keypoint("right_wrist", "right_wrist_yaw_link"),
        leg("left_hip", "left_hip_roll_link"),
        leg("right_hip", "right_hip_roll_link"),
        leg("left_knee", "left_knee_link"),
        leg("right_knee", "right_knee_link"),
        leg("left_ankle", "left_ankle_roll_link"),
        leg("right_ankle", "right_ankle_roll_link"),
        leg("left_toe", "left_ankle_roll_link", (0.12, 0.0, -0.02)),
        leg("right_toe", "right_ankle_roll_link", (0.12, 0.0, -0.02)),
    )
    edges = (
        (0, 1), (1, 2), (1, 3), (3, 5), (5, 7), (1, 4), (4, 6), (6, 8),
        (0, 9), (9, 11), (11, 13), (13, 15), (0, 10), (10, 12), (12, 14), (14, 16),
    )
    return Skeleton(
        "body", kps, edges,
        edge_colors=OPENPOSE_LIMB_COLORS[: len(edges)],
        point_colors=OPENPOSE_LIMB_COLORS[: len(kps)],
    )


G1_BODY = _g1_body()


# --- Dex3-1 hands ----------------------------------------------------------------------------

def dex3_hand(side: str) -> Skeleton:
    """21-keypoint OpenPose hand of the Dex3-1 on the G1's ``side`` ("left"/"right") wrist."""
    if side not in ("left", "right"):
        raise ValueError(f"side {side!r}: expected 'left' or 'right'")
    s = 1.0 if side == "left" else -1.0  # the thumb opens along -y on the left hand, +y right
    p = f"{side}_hand_"
    absent = lambda name: Keypoint(name, present=False)
    kps = (
        Keypoint("wrist", f"{side}_wrist_yaw_link"),
        Keypoint("thumb_cmc", f"{p}thumb_0_link", (0.0, -0.01 * s, 0.0)),
        Keypoint("thumb_mcp", f"{p}thumb_1_link"),
        Keypoint("thumb_ip", f"{p}thumb_2_link"),
        Keypoint("thumb_tip", f"{p}thumb_2_link", (0.0, -0.04 * s, 0.0)),
        Keypoint("index_mcp", f"{p}index_0_link"),
        Keypoint("index_pip", f"{p}index_1_link"),
        Keypoint("index_dip", f"{p}index_1_link", (0.022, 0.0, 0.0)),
        Keypoint("index_tip", f"{p}index_1_link", (0.04, 0.0, 0.0)),
        Keypoint("middle_mcp", f"{p}middle_0_link"),
        Keypoint("middle_pip", f"{p}middle_1_link"),
        Keypoint("middle_dip", f"{p}middle_1_link", (0.022, 0.0, 0.0)),
        Keypoint("middle_tip", f"{p}middle_1_link", (0.04, 0.0, 0.0)),
        absent("ring_mcp"), absent("ring_pip"), absent("ring_dip"), absent("ring_tip"),
        absent("pinky_mcp"), absent("pinky_pip"), absent("pinky_dip"), absent("pinky_tip"),
    )
    return Skeleton(
        f"{side}_hand", kps, OPENPOSE_HAND_EDGES, OPENPOSE_HAND_EDGE_COLORS,
        (OPENPOSE_HAND_POINT_COLOR,) * 21,
    )


# --- arm grippers ----------------------------------------------------------------------------

_GRIPPER_EDGES = ((0, 1), (1, 2), (2, 4), (1, 3), (3, 5), (1, 6))
# wrist-palm white, left finger green, right finger red (like a right-handed x/y/z triad),
# TCP link yellow.
_GRIPPER_EDGE_COLORS: tuple[RGB, ...] = (
    (255, 255, 255), (0, 255, 0), (0, 255, 0), (255, 0, 0), (255, 0, 0), (255, 255, 0),
)
_GRIPPER_POINT_COLORS: tuple[RGB, ...] = (
    (255, 255, 255), (255, 255, 255), (0, 255, 0), (255, 0, 0), (0, 255, 0), (255, 0, 0),
    (255, 255, 0),
)

PANDA_GRIPPER = Skeleton(
    "gripper",
    (
        Keypoint("wrist", "link7", (0.0, 0.0, 0.08)),
        Keypoint("palm", "hand", (0.0, 0.0, 0.04)),
        Keypoint("left_finger_base", "left_finger", (0.0, 0.015, 0.014)),
        Keypoint("right_finger_base", "right_finger", (0.0, 0.015, 0.014)),
        Keypoint("left_fingertip", "left_finger", (0.0, 0.008, 0.045)),
        Keypoint("right_fingertip", "right_finger", (0.0, 0.008, 0.045)),
        Keypoint("tcp", site="tcp", on_surface=False),
    ),
    _GRIPPER_EDGES, _GRIPPER_EDGE_COLORS, _GRIPPER_POINT_COLORS,
)

PANDA_2F85_GRIPPER = Skeleton(
    "gripper",
    (
        Keypoint("wrist", "link7", (0.0, 0.0, 0.08)),
        Keypoint("palm", "gripper/base", (0.0, 0.0, 0.042)),
        Keypoint("left_finger_base", "gripper/left_driver", (-0.018, 0.002, -0.005)),
        Keypoint("right_finger_base", "gripper/right_driver", (-0.018, 0.002, -0.005)),
        Keypoint("left_fingertip", "gripper/left_follower", (0.001, 0.022, -0.009)),
        Keypoint("right_fingertip", "gripper/right_follower", (0.001, 0.022, -0.009)),
        Keypoint("tcp", site="tcp", on_surface=False),
    ),
    _GRIPPER_EDGES, _GRIPPER_EDGE_COLORS, _GRIPPER_POINT_COLORS,
)


_TABLES = {
    "g1": lambda: KeypointTable("g1", (G1_BODY,)),
    "g1_dex3": lambda: KeypointTable("g1_dex3", (G1_BODY, dex3_hand("left"), dex3_hand("right"))),
    "g1_upper": lambda: KeypointTable(
        "g1_upper", (_g1_body(legs=False), dex3_hand("left"), dex3_hand("right"))),
    "g1_upper_waist": lambda: KeypointTable(
        "g1_upper_waist", (_g1_body(legs=False), dex3_hand("left"), dex3_hand("right"))),
    "panda": lambda: KeypointTable("panda", (PANDA_GRIPPER,)),
    "panda_2f85": lambda: KeypointTable("panda_2f85", (PANDA_2F85_GRIPPER,)),
}


def keypoint_table(robot: str) -> KeypointTable:
    """The keypoint table of a registered robot (see the module docstring)."""
    if robot not in _TABLES:
        raise KeyError(f"no keypoint table for robot {robot!r}; expected one of {list(_TABLES)}")
    return _TABLES[robot]()


def keypoint_robots() -> list[str]:
    return list(_TABLES)
