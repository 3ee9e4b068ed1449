"""DeepMimic humanoid3d clips: skeleton and FK against the URDF, the shipped clips end to
end (walk and turns -> HumanMotion -> G1), loops, and one-line errors for bad files.

The clips and the URDF are fetched at test time from the ``pybullet==3.2.7`` wheel (zlib
licence) into a cache outside the repository, like ``test_end_to_end``; those tests skip
with the reason when the download fails (offline).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from test_end_to_end import _fetch

from twin.motion import MotionFormatError, detect_format, load_human_motion, read_raw_motion
from twin.motion import deepmimic as dm
from twin.retarget import retarget_to_g1
from twin.retarget.human_frames import link_frames

WHEEL = "pybullet==3.2.7"
IDENTITY = [1.0, 0.0, 0.0, 0.0]


def _frame(dt: float = 1 / 30, root=(0.0, 0.881416, 0.0), knee: float = 0.0,
           elbow: float = 0.0) -> list[float]:
    """One 44-value frame: identity quaternions, both knees / elbows at the given angles."""
    side = IDENTITY + [knee] + IDENTITY + IDENTITY + [elbow]  # hip, knee, ankle, shoulder, elbow
    return [dt, *root, *IDENTITY, *IDENTITY, *IDENTITY, *side, *side]


def _write(tmp_path: Path, frames: list, name: str = "clip.txt", **extra) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Loop": "wrap", **extra, "Frames": frames}))
    return path


@pytest.fixture(scope="session")
def motions() -> Path:
    sub = "pybullet_data/data/motions/"
    return _fetch(WHEEL, sub, (".txt",), sub + "humanoid3d_walk.txt") / sub


@pytest.fixture(scope="session")
def urdf() -> Path:
    rel = "pybullet_data/humanoid/humanoid.urdf"
    return _fetch(WHEEL, "pybullet_data/humanoid/", (".urdf",), rel) / rel


# ----------------------------------------------------------------------------- skeleton
def test_constants_are_the_shipped_urdf(urdf):
    text = urdf.read_text().rstrip("\x00\r\n")  # the shipped file ends in a NUL byte
    joints = {j.get("name"): j for j in ET.fromstring(text).iter("joint")}
    for i, name in enumerate(dm.LINK_NAMES[1:], start=1):
        j = joints[name]
        xyz = np.array(j.find("origin").get("xyz").split(), dtype=float)
        assert np.allclose(dm.URDF_SCALE * xyz, dm.LINK_OFFSETS_M[i], atol=1e-9), name
        assert j.find("parent").get("link") == dm.LINK_NAMES[dm.LINK_PARENTS[i]]
        kind = j.get("type")
        assert kind == ("revolute" if name in dm.HINGE_JOINTS else
                        "fixed" if name.endswith("wrist") else "spherical"), name
        if kind == "revolute":
            assert j.find("axis").get("xyz").split() == ["0.000000", "0.000000", "1.000000"]


def test_zero_pose_is_the_urdf_rest_skeleton(tmp_path):
    clip = dm.parse_clip("zero", {"Loop": "none", "Frames": [_frame()]})
    pos, rot = dm.forward_kinematics(clip)
    p = {n: pos[0, i] for i, n in enumerate(dm.LINK_NAMES)}
    bone = lambda a, b: float(np.linalg.norm(p[a] - p[b]))
    assert bone("left_hip", "left_knee") == pytest.approx(0.421546, abs=1e-6)
    assert bone("left_knee", "left_ankle") == pytest.approx(0.409870, abs=1e-6)
    assert bone("right_shoulder", "right_elbow") == pytest.approx(0.274788, abs=1e-6)
    assert bone("right_elbow", "right_wrist") == pytest.approx(0.258947, abs=1e-6)
    assert bone("left_hip", "right_hip") == pytest.approx(0.169774, abs=1e-6)
    assert bone("left_shoulder", "right_shoulder") == pytest.approx(0.366220, abs=1e-6)
    assert dm.sole_height_m(pos, rot)[0] == pytest.approx(0.0, abs=1e-9)  # root at 0.881416 m
    assert dm.STANDING_HEIGHT_M == pytest.approx(1.619, abs=1e-3)
    assert dm.ANKLE_ABOVE_SOLE_M == pytest.approx(0.05, abs=1e-9)

    human = load_human_motion(_write(tmp_path, [_frame(), _frame()]))
    assert human.height_m == pytest.approx(1.619, abs=1e-3)
    assert human.source["format"] == "deepmimic" and human.source["source_fps"] == "30"
    z = {n: human.joint(n)[0, 2] for n in human.joint_names}
    assert z["left_ankle"] == pytest.approx(0.05, abs=1e-6)  # the file's floor is z = 0
    assert z["pelvis"] == pytest.approx(0.9696, abs=1e-3)  # 8.8 cm above the hip joints
    assert human.joint("left_hip")[0, 1] == pytest.approx(0.0849, abs=1e-4)  # +y is left
    # Standing straight gives the G1's rest frames: feet exact, pelvis and torso within the
    # built-in SMPL skeleton's own asymmetry (its left hip 5 mm below the right: 2.2 deg).
    for name, R in link_frames(human.joint_names, human.joint_pos_w).items():
        angle = np.degrees(np.arccos(np.clip((np.trace(R[0]) - 1) / 2, -1, 1)))
        assert angle < (2.5 if name == "pelvis" else 0.5), f"{name}: {angle:.2f} deg"


def test_knee_and_elbow_angles_flex_the_right_way(tmp_path):
    bent = load_human_motion(_write(tmp_path, [_frame(knee=-np.pi / 2, elbow=np.pi / 2)] * 2))
    j = lambda n: bent.joint(n)[0]
    shin, forearm = j("left_ankle") - j("left_knee"), j("right_wrist") - j("right_elbow")
    assert shin[0] == pytest.approx(-0.40987, abs=1e-5)  # negative knee: ankle goes back
    assert forearm[0] == pytest.approx(0.258947, abs=1e-6)  # positive elbow: hand forward
    assert abs(shin[2]) < 1e-9 and abs(forearm[2]) < 1e-9


def test_uneven_dt_is_resampled_on_the_common_spacing(tmp_path):
    frames = [_frame(0.1, (0.0, 0.881416, 0.0)), _frame(0.2, (0.1, 0.881416, 0.0)),
              _frame(0.1, (0.3, 0.881416, 0.0)), _frame(0.0, (0.4, 0.881416, 0.0))]
    raw = read_raw_motion(_write(tmp_path, frames))
    assert raw.fps == 10.0 and raw.num_frames == 5  # 0.4 s of key frames at 0.1 s
    assert "uneven dt" in raw.info["key_frames"]
    x = raw.positions[:, raw.joint_names.index("left_hip"), 0]
    assert np.allclose(x, [0.0, 0.1, 0.2, 0.3, 0.4])


# ----------------------------------------------------------------------------- shipped clips
def test_shipped_walk_reads_as_a_walk(motions):
    clip = motions / "humanoid3d_walk.txt"
    assert detect_format(clip) == "deepmimic"
    raw = read_raw_motion(clip)
    assert raw.fps == 30.0 and raw.num_frames == 39  # 1.267 s cycle
    assert float(raw.info["lowest_sole_m"]) == pytest.approx(-0.005, abs=0.003)  # measured
    human = load_human_motion(clip, loops=4)
    assert human.fps == 50.0 and human.duration_s == pytest.approx(4 * 38 / 30, abs=0.02)
    pelvis = human.joint("pelvis")
    speed = np.linalg.norm(pelvis[-1, :2] - pelvis[0, :2]) / human.duration_s
    assert speed == pytest.approx(0.97, abs=0.03)  # measured 0.969 m/s
    assert np.ptp(pelvis[:, 2]) < 0.04  # a level walk: the pelvis bobs 2.7 cm
    # Feet on the floor: the lower ankle stands 5 cm (the foot box) above z = 0.
    lower_ankle = np.minimum(human.joint("left_ankle")[:, 2], human.joint("right_ankle")[:, 2])
    assert np.percentile(lower_ankle, 10) == pytest.approx(0.05, abs=0.01)
    # Cadence: each foot lands once a cycle (two steps per 1.267 s: 95 steps/min).
    low = human.joint("left_ankle")[:, 2] < 0.06
    landings = int(np.sum(low[1:] & ~low[:-1]) + low[0])
    steps_per_min = 2 * landings / human.duration_s * 60
    assert steps_per_min == pytest.approx(95, abs=8), landings


def test_walk_looped_retargets_to_a_g1_walk(motions):
    from twin.motion.procedural.checks import FEET, g1_body, sole_points_w

    human = load_human_motion(motions / "humanoid3d_walk.txt", loops=4)
    res = retarget_to_g1(human)
    s = res.summary()
    pos_mm = dict(zip(res.position_links, 1000 * res.position_residual_m.mean(axis=0)))
    assert 100 * s["root_drift_xy_max_m"] < 3.0  # measured 0.25 cm (1.6 before steep swing feet)
    assert pos_mm["pelvis"] < 8  # measured 3.3 mm
    assert max(pos_mm["left_ankle_roll_link"], pos_mm["right_ankle_roll_link"]) < 8  # 3.0
    assert max(pos_mm["left_wrist_yaw_link"], pos_mm["right_wrist_yaw_link"]) < 8  # 1.5
    soles = sole_points_w(res.motion)
    lowest = np.min([soles[f][:, :, 2].min(axis=1) for f in FEET], axis=0) - g1_body().sole_radius_m
    assert abs(np.median(lowest)) < 0.005 and lowest.min() > -0.012  # measured 3.6, -6.0 mm
    root = res.motion.root_pos_w
    assert np.linalg.norm(root[-1, :2] - root[0, :2]) / human.duration_s == pytest.approx(
        0.97 * res.scale, abs=0.03)


def test_loops_carry_the_turn_on(motions):
    clip = motions / "walker" / "turn_left0.txt"
    one = read_raw_motion(clip)
    three = read_raw_motion(clip, loops=3)
    assert three.num_frames == 1 + 3 * (one.num_frames - 1)
    first = dm.parse_clip(clip, json.loads(clip.read_text()))
    turn = np.diff(dm.heading_rad(first.quat_wxyz[[0, -1], 0]))[0]
    assert np.degrees(turn) == pytest.approx(29.9, abs=0.5)  # measured per cycle
    human = load_human_motion(clip, loops=3)
    pelvis = human.joint("pelvis")
    step = np.linalg.norm(np.diff(pelvis, axis=0), axis=1)
    assert step.max() < 2.5 * np.median(step)  # no jump back at the seams
    # z-up heading of the path: it turns left (counter-clockwise) by ~3 x 30 deg.
    v = np.diff(pelvis[:, :2], axis=0)
    heading = np.unwrap(np.arctan2(v[:, 1], v[:, 0]))
    quarter = len(heading) // 6
    assert np.degrees(np.mean(heading[-quarter:]) - np.mean(heading[:quarter])) > 60
    with pytest.raises(MotionFormatError, match="does not wrap"):
        read_raw_motion(motions / "humanoid3d_kick.txt", loops=2)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["Frames"][1].pop(), "frame 1 has 43 values; expected 44"),
    (lambda d: d["Frames"][1].__setitem__(9, float("nan")), "frame 1, column 9 = chest[1]"),
    (lambda d: d["Frames"][0].__setitem__(0, 0.0), "frame 0 has dt 0 s; expected > 0"),
    (lambda d: d["Frames"][0].__setitem__(0, -0.1), "frame 0 has dt -0.1 s; expected > 0"),
    (lambda d: d.__setitem__("Speed", 1), "key 'Speed': unknown key"),
    (lambda d: d.__setitem__("Loop", "mirror"), "is 'mirror'; expected one of"),
    (lambda d: d["Frames"][1].__setitem__(8, 0.01), "chest quaternion has norm 0.01"),
    (lambda d: d.__setitem__("Frames", []), "missing or empty"),
])
def test_a_malformed_clip_is_one_clear_line(tmp_path, mutate, expected):
    data = {"Loop": "wrap", "Frames": [_frame(), _frame()]}
    mutate(data)
    path = tmp_path / "bad.txt"
    path.write_text(json.dumps(data))  # json writes NaN as NaN, which json reads back
    with pytest.raises(MotionFormatError) as err:
        load_human_motion(path, format="deepmimic")
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and expected in msg, msg


# (clip, loops) -> measured: p95 position residual mm, max root drift cm, max knee residual
# mm, mean knee flexion rad (left, right), max G1 foot heading off the pelvis deg, median
# and lowest sole height mm. Before the steep-foot frames and the skeleton's own pelvis
# height: walk 89 mm, 1.6 cm, 379 mm, 0.76 / 0.85 rad, 129 deg; run 360 mm, 10.5 cm,
# 485 mm, 1.78 / 1.14 rad, 163 deg, sole median +33 mm.
RETARGETED = {
    ("humanoid3d_walk.txt", 4): {"p95": 46.3, "drift": 0.25, "knee": 88.0, "flex": (0.41, 0.52),
                                 "heading": 31.5, "sole": (3.6, -6.0)},
    ("humanoid3d_run.txt", 4): {"p95": 39.0, "drift": 0.45, "knee": 91.4, "flex": (0.80, 0.87),
                                "heading": 36.5, "sole": (3.9, -47.8)},
}


@pytest.mark.parametrize("clip, loops", list(RETARGETED))
def test_walk_and_run_retarget_upright_with_steady_swing_feet(motions, clip, loops):
    # The swing foot points 60-82 deg down (past vertical in the run): its heading comes
    # from the leg plane, so the G1 swing leg no longer twists; the pelvis scales by the
    # skeleton's own standing height (0.970 m), so the G1 no longer walks crouched.
    from twin.motion.procedural.checks import FEET, g1_body, sole_points_w
    from twin.motion.rotations import quat_to_matrix
    from twin.retarget.targets import human_standing_pelvis_height

    want = RETARGETED[clip, loops]
    human = load_human_motion(motions / clip, loops=loops)
    assert human_standing_pelvis_height(human) == pytest.approx(0.9696, abs=1e-4)
    res = retarget_to_g1(human)
    m, s = res.motion, res.summary()
    assert 1000 * s["position_residual_p95_m"] < want["p95"] + 10
    assert 100 * s["root_drift_xy_max_m"] < want["drift"] + 0.75
    pelvis = quat_to_matrix(m.body_quat_wxyz[:, m.body_index("pelvis")])
    q = dict(zip(m.joint_names, m.joint_pos.T))
    for side, flex in zip(("left", "right"), want["flex"]):
        knee = res.position_residual_m[:, res.position_links.index(f"{side}_knee_link")]
        assert 1000 * knee.max() < want["knee"] + 25
        assert q[f"{side}_knee_joint"].mean() == pytest.approx(flex, abs=0.06)
        foot = quat_to_matrix(m.body_quat_wxyz[:, m.body_index(f"{side}_ankle_roll_link")])
        rel = np.swapaxes(pelvis, -1, -2) @ foot
        heading = np.degrees(np.arctan2(-rel[:, 0, 1], rel[:, 1, 1]))  # of the lateral axis
        assert np.abs(heading).max() < want["heading"] + 10
    soles = sole_points_w(m)
    lowest = 1000 * (np.min([soles[f][:, :, 2].min(axis=1) for f in FEET], axis=0)
                     - g1_body().sole_radius_m)
    assert abs(np.median(lowest) - want["sole"][0]) < 3
    assert lowest.min() > want["sole"][1] - 8
