"""BVH motion capture: parsing, the rotation convention, the unit, SMPL joints placed on the
rig with the upright posture calibrated, the clip end to end onto the G1, and one line per
malformed file.

The rig is LAFAN1's (22 joints, cm, y up, bones along each link's x axis), written here: the
test files of the ``bvhTools`` source archive (LAFAN1 takes) are not fetched by the tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.motion import MotionFormatError, bvh, detect_format, load_human_motion, read_raw_motion
from twin.motion.smpl import SMPL_JOINT_NAMES, mean_shape_rest_joints

# (name, parent, offset cm): LAFAN1's skeleton, symmetric.
LAFAN = [
    ("Hips", None, (0.0, 0.0, 0.0)),
    ("LeftUpLeg", "Hips", (0.103, 1.858, 10.549)),
    ("LeftLeg", "LeftUpLeg", (43.5, 0.0, 0.0)),
    ("LeftFoot", "LeftLeg", (42.372, 0.0, 0.0)),
    ("LeftToe", "LeftFoot", (17.3, 0.0, 0.0)),
    ("RightUpLeg", "Hips", (0.103, 1.858, -10.549)),
    ("RightLeg", "RightUpLeg", (43.5, 0.0, 0.0)),
    ("RightFoot", "RightLeg", (42.372, 0.0, 0.0)),
    ("RightToe", "RightFoot", (17.3, 0.0, 0.0)),
    ("Spine", "Hips", (6.902, -2.604, 0.0)),
    ("Spine1", "Spine", (12.588, 0.0, 0.0)),
    ("Spine2", "Spine1", (12.343, 0.0, 0.0)),
    ("Neck", "Spine2", (25.833, 0.0, 0.0)),
    ("Head", "Neck", (11.767, 0.0, 0.0)),
    ("LeftShoulder", "Spine2", (19.746, -1.480, 6.000)),
    ("LeftArm", "LeftShoulder", (11.284, 0.0, 0.0)),
    ("LeftForeArm", "LeftArm", (33.0, 0.0, 0.0)),
    ("LeftHand", "LeftForeArm", (25.2, 0.0, 0.0)),
    ("RightShoulder", "Spine2", (19.746, -1.480, -6.000)),
    ("RightArm", "RightShoulder", (11.284, 0.0, 0.0)),
    ("RightForeArm", "RightArm", (33.0, 0.0, 0.0)),
    ("RightHand", "RightForeArm", (25.2, 0.0, 0.0)),
]
ROT = "Zrotation Yrotation Xrotation"


def _hierarchy(rig=LAFAN, scale: float = 1.0, rot: str = ROT) -> str:
    children: dict[str | None, list] = {}
    for name, parent, off in rig:
        children.setdefault(parent, []).append((name, off))
    out = ["HIERARCHY"]

    def block(name: str, off, depth: int, root: bool) -> None:
        pad = "\t" * depth
        out.append(f"{pad}{'ROOT' if root else 'JOINT'} {name}")
        out.append(pad + "{")
        out.append(f"{pad}\tOFFSET " + " ".join(f"{scale * v:.6f}" for v in off))
        chans = f"6 Xposition Yposition Zposition {rot}" if root else f"3 {rot}"
        out.append(f"{pad}\tCHANNELS {chans}")
        kids = children.get(name, [])
        for kid, koff in kids:
            block(kid, koff, depth + 1, False)
        if not kids:
            out.extend([f"{pad}\tEnd Site", pad + "\t{", f"{pad}\t\tOFFSET 0 0 0", pad + "\t}"])
        out.append(pad + "}")

    (root, off), = children[None]
    block(root, off, 0, True)
    return "\n".join(out)


KNEE_DEG = 10.0  # thighs 5 deg forward of vertical, shins 5 deg back: knees a little bent
ROOT_Y_CM = (43.5 + 42.372) * np.cos(np.deg2rad(KNEE_DEG / 2)) + 17.3 * np.sin(
    np.deg2rad(25.0)) - 0.103  # toes on y = 0


def _standing_frame(rig=LAFAN, root_cm=(0.0, ROOT_Y_CM, 0.0)) -> np.ndarray:
    """Channel values (Z, Y, X degrees per joint) that stand the LAFAN rig upright, y up,
    facing +z: legs (knees ``KNEE_DEG`` bent) and arms down, spine up, ankle -> toe 25 deg
    below the horizon and 15 deg out, toes on the floor. Every link's x axis runs along its
    bone, its z axis to the subject's left (collar bones, running left-right: forward)."""
    down, up = (0.0, -1.0, 0.0), (0.0, 1.0, 0.0)
    a, h = np.deg2rad(25.0), np.deg2rad(KNEE_DEG / 2)
    thigh, shin = (0.0, -np.cos(h), np.sin(h)), (0.0, -np.cos(h), -np.sin(h))
    out = np.deg2rad(15.0)  # toes turned out, as SMPL's rest and LAFAN1's stance (13-23 deg)

    def foot(side: str) -> tuple[float, float, float]:
        lateral = np.sin(out) if side == "Left" else -np.sin(out)
        return (np.cos(a) * lateral, -np.sin(a), np.cos(a) * np.cos(out))

    bone = {"Hips": up, "Spine": up, "Spine1": up, "Spine2": up, "Neck": up, "Head": up,
            "LeftShoulder": (1.0, 0.0, 0.0), "RightShoulder": (-1.0, 0.0, 0.0)}
    for side in ("Left", "Right"):
        bone.update({f"{side}UpLeg": thigh, f"{side}Leg": shin, f"{side}Arm": down,
                     f"{side}ForeArm": down, f"{side}Hand": down,
                     f"{side}Foot": foot(side), f"{side}Toe": (0, 0, 1.0)})
    world = {}
    for name, _, _ in rig:
        x = np.array(bone[name])
        z = np.array([1.0, 0.0, 0.0]) if abs(x[0]) < 0.5 else np.array([0.0, 0.0, 1.0])
        world[name] = np.stack([x, np.cross(z, x), z], axis=1)
    vals = list(root_cm)
    parent = {n: p for n, p, _ in rig}
    for name, _, _ in rig:
        local = world[name] if parent[name] is None else world[parent[name]].T @ world[name]
        vals += _to_zyx(local)
    return np.array(vals)


def _zyx(deg) -> np.ndarray:
    z, y, x = np.deg2rad(deg)
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    return rz @ ry @ rx


def _to_zyx(r: np.ndarray) -> list[float]:
    y = np.arcsin(-np.clip(r[2, 0], -1, 1))
    if abs(r[2, 0]) > 1 - 1e-9:  # y at +-90 deg: only z -+ x is defined, take x = 0
        return list(np.rad2deg([np.arctan2(-r[0, 1], r[1, 1]), y, 0.0]))
    z = np.arctan2(r[1, 0], r[0, 0])
    x = np.arctan2(r[2, 1], r[2, 2])
    return list(np.rad2deg([z, y, x]))


def _write(path: Path, frames: np.ndarray, fps: float = 30.0, **kw) -> Path:
    body = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in frames)
    path.write_text(f"{_hierarchy(**kw)}\nMOTION\nFrames: {len(frames)}\n"
                    f"Frame Time: {1 / fps:.6f}\n{body}\n")
    return path


def _walk(T: int = 90, speed_cm_s: float = 100.0, fps: float = 30.0) -> np.ndarray:
    frames = np.repeat(_standing_frame()[None], T, axis=0)
    frames[:, 2] = speed_cm_s * np.arange(T) / fps  # root z: walking forward along +z
    return frames


def test_fk_follows_the_channel_order_and_the_root_position(tmp_path):
    """ZYX channels multiply in file order about the parent's axes; the root is placed by
    its position channels (LAFAN1 writes its first position as the OFFSET too)."""
    frames = _walk(T=3)
    frames[:, 6:9] = [30.0, -20.0, 10.0]  # LeftUpLeg (the first joint after the root) Z, Y, X
    clip = bvh.read_bvh(_write(tmp_path / "a.bvh", frames))
    pos, rot = bvh.forward_kinematics(clip)
    hips, thigh = clip.skeleton.names.index("Hips"), clip.skeleton.names.index("LeftUpLeg")
    np.testing.assert_allclose(rot[1, thigh], rot[1, hips] @ _zyx((30.0, -20.0, 10.0)),
                               atol=1e-9)
    np.testing.assert_allclose(pos[:, hips], frames[:, :3], atol=1e-9)
    knee = clip.skeleton.names.index("LeftLeg")
    np.testing.assert_allclose(pos[1, knee] - pos[1, thigh], rot[1, thigh] @ [43.5, 0, 0],
                               atol=1e-9)


def test_a_standing_walk_becomes_smpl_joints_in_metres_z_up(tmp_path):
    human = load_human_motion(_write(tmp_path / "walk.bvh", _walk()))
    assert human.fps == 50.0 and human.source["format"] == "bvh"
    assert "unit cm (from the leg, 0.859 m)" in human.source["skeleton"]
    j = human.joint
    # the rig's geometry in metres, z up: the ankle 17.3 cm from the toe, 25 deg above it
    assert np.median(j("left_ankle")[:, 2] - j("left_foot")[:, 2]) == pytest.approx(
        0.173 * np.sin(np.deg2rad(25.0)), abs=1e-4)
    # SMPL's pelvis sits above the hip joints (LAFAN1's "Hips" is level with them)
    rest = mean_shape_rest_joints()
    r = lambda n: rest[SMPL_JOINT_NAMES.index(n)]
    k = 0.859 / _smpl_leg()
    drop = k * (r("pelvis")[1] - 0.5 * (r("left_hip")[1] + r("right_hip")[1]))
    hips = 0.5 * (j("left_hip") + j("right_hip"))
    assert drop == pytest.approx(0.09, abs=0.01)
    assert np.median(j("pelvis")[:, 2] - hips[:, 2]) == pytest.approx(drop, abs=0.003)
    v = np.diff(j("pelvis")[:, :2], axis=0) * human.fps
    assert np.median(np.linalg.norm(v, axis=1)) == pytest.approx(1.0, abs=1e-3)
    assert human.height_m == pytest.approx(1.70 * k, rel=0.01)


def _smpl_leg() -> float:
    r = mean_shape_rest_joints()
    p = lambda n: r[SMPL_JOINT_NAMES.index(n)]
    return float(np.linalg.norm(p("left_hip") - p("left_knee"))
                 + np.linalg.norm(p("left_knee") - p("left_ankle")))


def _lean_deg(a: np.ndarray, b: np.ndarray, fwd: np.ndarray, up: np.ndarray) -> float:
    d = b - a
    return float(np.degrees(np.arctan2(-(d @ fwd), d @ up)))


def test_upright_frames_take_smpls_rest_leans_whatever_the_rigs_spine(tmp_path):
    """The rig's trunk leans 20 deg forward in every upright frame: SMPL's pelvis->spine1
    (13.5 deg back) and spine1->neck (1.2 deg back) leans come out all the same, so the G1
    stands as SMPL's rest does; a bow 30 deg deeper in crouched frames (not upright, so not
    calibrated on) stays 30 deg deeper."""
    frames = _walk(T=60)
    spine = 3 + 3 * [n for n, _, _ in LAFAN].index("Spine")
    frames[:, spine] += 20.0  # Spine Z rotation, about the left axis: the trunk leans forward
    bow = frames.copy()
    bow[:, spine] += 30.0
    bow[:, 1] -= 12.0  # crouched: the pelvis 12 cm lower
    frames = np.concatenate([frames, bow[:10]])
    raw = read_raw_motion(_write(tmp_path / "lean.bvh", frames))
    names = raw.joint_names
    j = lambda n, t: raw.positions[t, names.index(n)]
    up, fwd = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
    rest = mean_shape_rest_joints()
    smpl = lambda a, b: _lean_deg(rest[SMPL_JOINT_NAMES.index(a)],
                                  rest[SMPL_JOINT_NAMES.index(b)], fwd, up)
    assert _lean_deg(j("pelvis", 0), j("spine1", 0), fwd, up) == pytest.approx(
        smpl("pelvis", "spine1"), abs=0.2)
    assert _lean_deg(j("spine1", 0), j("neck", 0), fwd, up) == pytest.approx(
        smpl("spine1", "neck"), abs=0.2)
    # the rig bends 30 deg more at its lowest spine joint, below SMPL's spine1: seen from
    # spine1 the neck turns further (39.5 deg here, measured), never less
    bowed = _lean_deg(j("spine1", 65), j("neck", 65), fwd, up)
    assert bowed == pytest.approx(smpl("spine1", "neck") - 39.5, abs=1.0)


def test_the_unit_comes_from_the_leg(tmp_path):
    cm = read_raw_motion(_write(tmp_path / "cm.bvh", _walk(T=5)))
    frames = _walk(T=5)
    frames[:, :3] /= 100.0
    m = read_raw_motion(_write(tmp_path / "m.bvh", frames, scale=0.01))
    np.testing.assert_allclose(m.positions, cm.positions, atol=1e-5)
    frames[:, :3] *= 10.0
    with pytest.raises(MotionFormatError, match=r"tiny\.bvh: key 'OFFSET': leg \(thigh \+ "
                       r"shin\) is 0\.0858\d* file units, an adult's in none of"):
        read_raw_motion(_write(tmp_path / "tiny.bvh", frames / 10, scale=0.001))


def _knees(m) -> np.ndarray:
    return m.joint_pos[:, [m.joint_names.index(f"{s}_knee_joint") for s in ("left", "right")]]


def test_a_cmu_rig_reads_as_the_same_body(tmp_path):
    """CMU's conversions hang each thigh from a hip joint of its own (LHipJoint) and keep the
    ASF unit (1/0.45 inch): the same body written that way gives the same joints."""
    cmu = []
    for name, parent, off in LAFAN:
        if name.endswith("UpLeg"):
            hip = ("L" if name.startswith("Left") else "R") + "HipJoint"
            cmu += [(hip, "Hips", off), (name, hip, (0.0, 0.0, 0.0))]
        else:
            cmu.append((name, parent, off))
    frames = _walk(T=6)
    at = 6 + 3 * [n for n, _, _ in LAFAN].index("RightUpLeg")
    frames = np.insert(frames, [6, at], 0.0, axis=1)  # the hip joints' channels
    frames = np.insert(frames, [6, 6, at + 1, at + 1], 0.0, axis=1)
    unit = 0.01 / bvh.UNITS_M["cmu_asf"]
    frames[:, :3] *= unit
    lafan = read_raw_motion(_write(tmp_path / "lafan.bvh", _walk(T=6)))
    raw = read_raw_motion(_write(tmp_path / "cmu.bvh", frames, rig=cmu, scale=unit))
    assert "unit cmu_asf" in raw.info["skeleton"]
    assert raw.joint_names == lafan.joint_names
    np.testing.assert_allclose(raw.positions, lafan.positions, atol=1e-6)


def test_a_clip_walks_the_g1(tmp_path):
    from twin.retarget import retarget_to_g1

    human = load_human_motion(_write(tmp_path / "walk.bvh", _walk()))
    assert human.source["skeleton_symmetric"] == "true"
    res = retarget_to_g1(human)
    m = res.motion
    v = np.diff(m.root_pos_w[:, :2], axis=0) * m.fps
    assert np.median(np.linalg.norm(v, axis=1)) == pytest.approx(res.scale, abs=0.01)
    worst = dict(zip(res.position_links, res.position_residual_m.max(axis=0)))
    # pelvis, ankles, elbows, hands where the human puts them; the knees, as on every
    # reader's clips (the G1's hips sit elsewhere in its pelvis), within 6 cm
    assert max(v for k, v in worst.items() if "knee" not in k) < 0.01
    assert max(worst["left_knee_link"], worst["right_knee_link"]) < 0.06
    knees = _knees(m)  # as bent as the human's 0.17 rad, both alike: a symmetric stance
    assert knees.min() > 0.15 and knees.max() < 0.19
    assert np.abs(knees[:, 0] - knees[:, 1]).max() < 0.005
    assert np.abs(m.joint_pos[:, m.joint_names.index("waist_roll_joint")]).max() < 0.005
    # calibrated on the mean shape as it is (its left hip 5 mm low) the same rig rolls the
    # G1's pelvis and bends one knee 0.2 rad more than the other (measured 0.09 / 0.29)
    human.source["skeleton_symmetric"] = "false"
    lopsided = _knees(retarget_to_g1(human).motion)
    assert np.abs(lopsided[:, 0] - lopsided[:, 1]).min() > 0.1
    assert detect_format(tmp_path / "walk.bvh") == "bvh"


def test_a_rig_is_symmetric_when_its_right_limbs_mirror_its_left(tmp_path):
    """Bone lengths alone (within 2 mm) would call a rig with one hip 1 cm off its mirror
    place symmetric: its hip bone is 1.3 mm shorter than the other."""
    def symmetric(rig) -> str:
        path = _write(tmp_path / "rig.bvh", _walk(T=4), rig=rig)
        return load_human_motion(path).source["skeleton_symmetric"]

    hip_off = [(n, p, (o[0], o[1] - 1.0, o[2]) if n == "RightUpLeg" else o)
               for n, p, o in LAFAN]
    long_arm = [(n, p, (o[0] + 1.0, o[1], o[2]) if n == "LeftForeArm" else o)
                for n, p, o in LAFAN]
    assert symmetric(LAFAN) == "true"
    assert symmetric(hip_off) == "false"
    assert symmetric(long_arm) == "false"


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace("HIERARCHY", "HIERARCHX", 1),
     r"content is 'unknown' but the extension '.bvh' promises bvh"),
    (lambda t: "\n" + t.replace("ROOT Hips", "ROOT"), r"line 3': ROOT without a name"),
    (lambda t: t.replace("CHANNELS 3 Zrotation Yrotation Xrotation", "CHANNELS 2 Zrotation", 1),
     r"line \d+': CHANNELS '2 Zrotation'; expected a count \(3 or 6\)"),
    (lambda t: t.replace("OFFSET 43.500000 0.000000 0.000000", "OFFSET 43.5 nan 0", 1),
     r"line \d+': OFFSET '43.5 nan 0'; expected three finite numbers"),
    (lambda t: t.replace("Frames: 4", "Frames: 5"), r"key 'Frames': says 5 but 4 frame lines"),
    (lambda t: t.replace("Frame Time: 0.033333", "Frame Time: 0"),
     r"Frame Time: '0'; expected seconds > 0"),
    (lambda t: t.rsplit("\n", 2)[0] + "\n" + " ".join(["1"] * 5) + "\n",
     r"key 'frame 3': has 5 values; the hierarchy declares 69 channels"),
    (lambda t: t.rsplit("\n", 2)[0] + "\n" + " ".join(["nan"] * 69) + "\n",
     r"key 'frame 3': holds NaN or Inf"),
    (lambda t: t.split("MOTION")[0], r"no 'MOTION' section"),
    (lambda t: t.replace("JOINT LeftHand", "JOINT LeftPaw"),
     (r"key 'HIERARCHY': has no joint for SMPL's left_wrist; expected rig names such as "
      r"lefthand")),
])
def test_a_malformed_file_is_one_line(tmp_path, edit, match):
    good = _write(tmp_path / "good.bvh", _walk(T=4))
    bad = tmp_path / "bad.bvh"
    bad.write_text(edit(good.read_text()))
    with pytest.raises(MotionFormatError, match=match) as err:
        load_human_motion(bad)
    assert "\n" not in str(err.value) and str(bad) in str(err.value)


def test_bvh_content_is_sniffed_and_the_extension_checked(tmp_path):
    good = _write(tmp_path / "good.bvh", _walk(T=4))
    as_txt = tmp_path / "clip.txt"
    as_txt.write_text(good.read_text())
    assert detect_format(as_txt) == "bvh"
    fake = tmp_path / "fake.bvh"
    fake.write_text('{"Frames": []}')
    with pytest.raises(MotionFormatError, match=r"content is 'json' but the extension '.bvh'"):
        detect_format(fake)
