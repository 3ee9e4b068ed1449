"""Physical consistency of the procedural G1 motions (twin.motion.procedural): LIPM ZMP
tracking, flat planted feet, no floor penetration, ZMP inside the support polygon, small IK
residuals, and the committed small held-out clips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import twin  # noqa: F401  (before mujoco)
from twin.motion.procedural import (
    WalkCommand,
    WalkParams,
    generate_standing,
    generate_walk,
    physical_report,
    plan_footsteps,
    track_zmp,
)
from twin.motion.procedural.g1_body import FEET, HANDS, g1_body
from twin.motion.procedural.swing import zmp_reference
from twin.motion.robot_motion import load_robot_motion, save_robot_motion

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "assets/motions/heldout_small"


@pytest.fixture(scope="module")
def slow_walk():
    return generate_walk(WalkParams(vx=0.4, walk_s=3.0, stand_after_s=0.6), name="slow")


@pytest.fixture(scope="module")
def curve_walk():
    return generate_walk(WalkParams(vx=0.9, wz=0.6, walk_s=3.0, stand_after_s=0.6))


@pytest.fixture(scope="module")
def squat():
    return generate_standing("squat", seed=3, duration_s=5.0)


@pytest.mark.parametrize("cmd", [WalkCommand(vx=1.0), WalkCommand(vx=-0.5),
                                 WalkCommand(vy=0.2), WalkCommand(vx=0.6, wz=0.5),
                                 WalkCommand(wz=0.9)], ids=str)
def test_mlib_lipm_zmp_tracks_reference_within_2cm(cmd):
    plan = plan_footsteps(cmd)
    dt = 0.005
    t = np.arange(0, plan.duration_s, dt)
    ref = zmp_reference(plan, t, g1_body())
    traj = track_zmp(ref, dt, 0.64)
    err = np.linalg.norm(traj.zmp - ref, axis=1)
    assert err.max() < 0.02, err.max()  # measured 6-17 mm
    assert err.mean() < 0.002
    # the CoM starts (nearly) at rest and ends over the final support midpoint
    assert np.linalg.norm(traj.com_vel[0]) < 0.01
    assert np.linalg.norm(traj.com[-1] - ref[-1]) < 0.01


def test_mlib_footsteps_alternate_and_never_cross():
    plan = plan_footsteps(WalkCommand(vy=-0.2, walk_s=3.0))
    swings = [p[3] for p in plan.phases if p[3]]
    assert all(a != b for a, b in zip(swings, swings[1:]))
    assert swings[0] == FEET[1]  # moving right: the right foot leads
    for t in np.arange(0, plan.duration_s, 0.02):
        a, b = plan.contact(FEET[0], t), plan.contact(FEET[1], t)
        if a and b:
            lateral = np.array([-np.sin(a.yaw), np.cos(a.yaw)]) @ (a.pos_xy - b.pos_xy)
            assert lateral > 0.14  # left foot stays left of the right, >= 14 cm apart


def _stance_mask(res):
    return {f: res.feet[f][2] for f in FEET}


@pytest.mark.parametrize("which", ["slow_walk", "curve_walk"])
def test_mlib_walk_is_physically_consistent(which, request):
    res = request.getfixturevalue(which)
    m = res.motion
    rep = physical_report(m, contact=_stance_mask(res))
    print(which, rep.as_dict())
    assert m.fps == 50.0 and m.source["generator"] == "twin.motion.procedural.walking"
    assert m.source["params"]["vx"] in (0.4, 0.9)
    assert rep.stance_slide_max_m < 0.005  # measured < 0.3 mm
    assert rep.sole_min_z_m > -0.005  # measured ~0
    assert rep.zmp_outside_max_m < 0.01  # multibody cart-table ZMP inside the support
    assert rep.flight_frames == 0
    for f in FEET:
        assert res.ik_residual_m[f].max() < 0.001
    assert res.ik_residual_m["com"].max() < 0.005
    # the walk covers the commanded distance (speed ramps make it a little shorter)
    if which == "slow_walk":
        travelled = m.root_pos_w[-1, 0] - m.root_pos_w[0, 0]
        assert 0.6 * 0.4 * 3.0 < travelled < 1.1 * 0.4 * 3.0
    # swing feet clear the floor by ~the apex height
    z = np.concatenate([res.feet[f][0][~res.feet[f][2], 2] for f in FEET])
    assert z.max() - g1_body().sole_below_ankle_m == pytest.approx(0.07, abs=0.005)


def test_mlib_standing_motions_keep_feet_and_balance(squat):
    m = squat.motion
    rep = physical_report(m)
    print(rep.as_dict(), m.source["params"])
    assert rep.stance_slide_max_m < 0.001 and rep.sole_min_z_m > -0.005
    assert rep.com_outside_max_m == 0.0 and rep.zmp_outside_max_m < 0.01
    assert m.root_pos_w[:, 2].min() < 0.65  # it squats
    assert squat.ik_residual_m["com"].max() < 0.002
    for kind in ("reach", "sit"):
        r = generate_standing(kind, seed=1, duration_s=4.0)
        rep = physical_report(r.motion)
        assert rep.stance_slide_max_m < 0.001 and rep.zmp_outside_max_m < 0.01, kind
        assert max(r.ik_residual_m[h].max() for h in HANDS) < 0.05, kind


def test_mlib_stoop_lift_pitches_the_torso_like_a_box_lift_and_stays_balanced():
    """A box lift from the floor as people do it (the held-out ones: torso 0.9-1.6 rad):
    deeper than crouch-and-lift (torso 0.6 rad), statically balanced, feet planted."""
    r = generate_standing("stoop_lift", seed=1005, duration_s=7.5)
    m, rep = r.motion, physical_report(r.motion)
    torso = m.body_quat_wxyz[:, m.body_index("torso_link")]
    tilt = np.arccos(np.clip(1 - 2 * (torso[:, 1] ** 2 + torso[:, 2] ** 2), -1, 1))
    print(rep.as_dict(), m.source["params"], tilt.max(), m.root_pos_w[:, 2].min())
    assert tilt.max() > 1.3  # measured 1.36 rad for a 1.365 rad target
    assert m.root_pos_w[:, 2].min() < 0.66
    wrist_z = m.body_pos_w[:, m.body_index("left_wrist_yaw_link"), 2]
    assert wrist_z.min() < 0.45  # arms hanging to the box (0.40 m)
    assert rep.stance_slide_max_m < 0.001 and rep.sole_min_z_m > -0.005
    assert rep.com_outside_max_m == 0.0 and rep.zmp_outside_max_m < 0.01
    assert max(r.ik_residual_m[f].max() for f in FEET) < 0.002
    assert m.source["params"]["down_hold_up_s"][2] < 1.1  # rises within 1.1 s


def test_mlib_generation_is_deterministic():
    a = generate_standing("wave", seed=5, duration_s=2.0).motion
    b = generate_standing("wave", seed=5, duration_s=2.0).motion
    assert np.array_equal(a.joint_pos, b.joint_pos)
    assert a.source["params"] == b.source["params"]


def test_mlib_clip_roundtrips_and_loads_in_tracking_env(slow_walk, tmp_path):
    import gymnasium as gym

    path = tmp_path / "walk.npz"
    save_robot_motion(slow_walk.motion, path)
    back = load_robot_motion(path)
    assert back.source["params"]["vx"] == 0.4
    env = gym.make("twin/G1MotionTracking-v0", motions=str(path))
    obs, _ = env.reset(seed=0)
    assert np.isfinite(obs).all()
    obs, r, _term, _trunc, _info = env.step(np.zeros(env.action_space.shape))
    assert np.isfinite(obs).all() and np.isfinite(r)
    env.close()


@pytest.mark.skipif(not SMALL.is_dir(), reason="small held-out clips not built")
def test_mlib_committed_small_heldout_clips():
    files = sorted(SMALL.glob("*.npz"))
    assert 2 <= len(files) <= 3
    assert sum(f.stat().st_size for f in files) <= 300_000
    manifest = json.loads((REPO / "assets/motions/library_manifest.json").read_text())
    by_name = {c["name"]: c for c in manifest["clips"]}
    for f in files:
        m = load_robot_motion(f)
        assert m.fps == 50.0 and m.joint_pos.dtype == np.float64
        assert by_name[f.stem]["split"] == "heldout"
        rep = physical_report(m)
        assert rep.sole_min_z_m > -0.005 and rep.zmp_outside_max_m < 0.02


def test_self_penetration_flags_an_arm_pushed_into_the_torso():
    """The default pose has no overlapping links; rolling the left arm 0.5 rad into the body
    (half of the frames) overlaps the upper arm and the torso by ~8 cm."""
    from twin.retarget.kinematics import robot_motion_from_qpos
    from twin.robots import get
    from twin.robots.g1 import G1_JOINT_NAMES

    q = np.tile(get("g1").default_joint_pos_array(G1_JOINT_NAMES), (10, 1))
    q[5:, G1_JOINT_NAMES.index("left_shoulder_roll_joint")] = -0.5
    m = robot_motion_from_qpos("g1", np.tile([0.0, 0.0, 0.79], (10, 1)),
                               np.tile([1.0, 0.0, 0.0, 0.0], (10, 1)), q, 50.0)
    rep = physical_report(m)
    assert 0.05 < rep.self_penetration_max_m < 0.12
    assert rep.self_penetration_frac == 0.5
    still = physical_report(robot_motion_from_qpos(
        "g1", m.root_pos_w[:5], m.root_quat_wxyz[:5], q[:5], 50.0))
    assert still.self_penetration_max_m == 0.0 and still.self_penetration_frac == 0.0


def test_mlib_rebuild_keeps_a_small_copy_whose_motion_is_the_same():
    """A rebuild on another CPU differs in the last float32 bits (seen: 6e-8 rad); the
    committed small copy is kept then, and rewritten for a real change (1e-4 rad)."""
    import importlib.util
    from dataclasses import replace

    spec = importlib.util.spec_from_file_location("build_motion_library",
                                                  REPO / "scripts/build_motion_library.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    a = load_robot_motion(SMALL / "heldout_small_walk_0p35.npz")
    noisy = np.nextafter(a.joint_pos.astype(np.float32), np.float32(np.inf))
    assert not np.array_equal(noisy, a.joint_pos)

    assert build.same_motion(a, replace(a, joint_pos=noisy))
    assert not build.same_motion(a, replace(a, joint_pos=a.joint_pos + 1e-4))
    assert not build.same_motion(a, load_robot_motion(SMALL / "heldout_small_squat.npz"))


def test_mlib_rebuild_removes_the_clips_it_no_longer_makes(tmp_path):
    """A category switched off leaves no clip behind: training reads whole folders."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_motion_library",
                                                  REPO / "scripts/build_motion_library.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for split in build.SPLITS:
        (tmp_path / split).mkdir()
    for rel in ("train/walk_forward_000.npz", "train/stoop_lift_000.npz",
                "heldout/heldout_squat.npz"):
        (tmp_path / rel).write_bytes(b"npz")
    (tmp_path / "train/notes.txt").write_text("not a clip")
    entries = [{"file": "train/walk_forward_000.npz"}, {"file": "heldout/heldout_squat.npz"}]
    assert build.remove_stale_clips(tmp_path, entries) == ["train/stoop_lift_000.npz"]
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == [
        "notes.txt", "walk_forward_000.npz"]


def test_mlib_rebuild_keeps_the_committed_manifest_unless_the_library_changed(tmp_path):
    """Another machine's build differs in timings and the generated clips' file/content
    hashes only: the committed manifest stays as it is (a clean checkout after setup) and the
    build's own copy holds this machine's hashes; a changed clip (its duration, or the content
    of a clip copied from a package) rewrites the committed one."""
    import copy
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_motion_library",
                                                  REPO / "scripts/build_motion_library.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    shipped = json.loads((REPO / "assets/motions/library_manifest.json").read_text())
    committed, copy_path = tmp_path / "committed.json", tmp_path / "data/manifest.json"
    committed.write_text(json.dumps(shipped))
    before = committed.read_text()

    rebuilt = copy.deepcopy(shipped)
    rebuilt["timing_s"]["procedural_wall"] += 40.0
    generated = [c for c in rebuilt["clips"] if build.is_generated(c)]
    copied = [c for c in rebuilt["clips"] if not build.is_generated(c)]
    assert len(generated) >= 150 and len(copied) >= 10  # mocap and holosoma clips are copied
    for clip in generated:
        clip["sha1"] = clip["content_sha1"] = "0" * 40
        if "small_copy" in clip:
            clip["small_copy"]["sha1"] = "1" * 40
    assert not build.write_manifest(rebuilt, committed, copy_path)
    assert committed.read_text() == before
    assert json.loads(copy_path.read_text())["clips"][0]["sha1"] == "0" * 40

    copied[0]["content_sha1"] = "2" * 40
    assert build.write_manifest(rebuilt, committed, copy_path)
    committed.write_text(before)
    copied[0]["content_sha1"] = json.loads(before)["clips"][rebuilt["clips"].index(copied[0])][
        "content_sha1"]
    assert not build.write_manifest(rebuilt, committed, copy_path)

    rebuilt["clips"][0]["duration_s"] += 0.02
    assert build.write_manifest(rebuilt, committed, copy_path)
    assert json.loads(committed.read_text())["clips"][0]["duration_s"] == \
        rebuilt["clips"][0]["duration_s"]
    committed.write_text("{not json")
    assert build.write_manifest(rebuilt, committed, copy_path)


def test_mlib_manifest_records_every_real_clips_source_and_keeps_the_heldout_out():
    """Each clip not generated here names its pinned package, its member and a licence; the
    real held-out split holds only such clips, and none of their members trains."""
    manifest = json.loads((REPO / "assets/motions/library_manifest.json").read_text())
    real = [c for c in manifest["clips"] if not c["generator"].startswith("twin.motion.")]
    assert len(real) >= 30  # 10 held out; 9 + 1 G1 takes, 1 OMOMO, 7 DeepMimic, 2 BVH train
    for c in real:
        assert "==" in c["params"]["package"] and c["params"]["clip"], c["name"]
        assert c["params"]["licence"], c["name"]
    held = {(c["params"]["package"], c["params"]["clip"]) for c in real
            if c["split"] == "heldout_real"}
    assert len(held) == 10
    assert {c["name"] for c in manifest["clips"] if c["split"] == "heldout_real"} == {
        c["name"] for c in real if c["split"] == "heldout_real"}
    assert not held & {(c["params"]["package"], c["params"]["clip"]) for c in real
                       if c["split"] == "train"}
    assert all(s["reason"] and s["source"] for s in manifest["skipped"])
