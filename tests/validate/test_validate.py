"""twin validate: reports, verdicts with reasons, executed trajectories, bad input."""

import json
from dataclasses import replace

import numpy as np
import pytest

from twin.motion.procedural.checks import lowest_sole_height_m
from twin.motion.robot_motion import save_robot_motion
from twin.retarget.kinematics import robot_motion_from_qpos
from twin.robots import get
from twin.robots.g1 import G1_JOINT_NAMES
from twin.validate import ValidateConfig, validate
from twin.validate.config import Predicate


def standing_clip(T=100, arm=0.0):
    q = np.tile(get("g1").default_joint_pos_array(), (T, 1))
    q[:, G1_JOINT_NAMES.index("right_shoulder_pitch_joint")] += arm * np.linspace(0, 1, T)
    return robot_motion_from_qpos("g1", np.tile([0, 0, 0.755], (T, 1)),
                                  np.tile([1.0, 0, 0, 0], (T, 1)), q, 50.0,
                                  source={"name": "stand"})


@pytest.fixture(scope="module")
def stand_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("val") / "stand.npz"
    save_robot_motion(standing_clip(arm=-0.8), p)
    return p


def test_go_report_files_and_numbers(stand_file, tmp_path):
    cfg = ValidateConfig(motion=str(stand_file), controller="pd", out=str(tmp_path / "r"),
                         predicates=[Predicate(name="hand_up", kind="at",
                                               body="right_wrist_yaw_link",
                                               point=[0.0, 0.0, 0.0], distance_m=10.0)])
    report = validate(cfg)
    assert report["verdict"] == "go", report["reasons"]
    assert report["reasons"] == [] and all(c["status"] == "ok" for c in report["checks"])
    m = report["metrics"]
    assert not m["fell"] and m["mpjpe_local_mm"] < 20 and m["root_drift_max_m"] < 0.05
    assert m["predicates"] == {"hand_up": True}
    assert len(m["series"]["time_s"]) == 99
    out = tmp_path / "r"
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["schema"] == "twin.validate_report" and on_disk["verdict"] == "go"
    assert "GO" in (out / "report.html").read_text()
    ex = np.load(out / "executed.npz")
    assert ex["joint_pos"].shape == (99, 29) and float(ex["fps"]) == 50.0
    assert tuple(ex["joint_names"]) == G1_JOINT_NAMES
    header = (out / "executed.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["time_s", "root_x", "root_y", "root_z"] and len(header) == 8 + 29
    # the executed trajectory follows the reference within a few centiradians
    ref = standing_clip(arm=-0.8).joint_pos[1:]
    assert np.abs(ex["joint_pos"] - ref).mean() < 0.03


def test_fall_is_a_no_go_with_reasons_not_an_exception(stand_file, tmp_path):
    T = 80
    q = np.tile(get("g1").default_joint_pos_array(), (T, 1))
    m = robot_motion_from_qpos("g1", np.tile([0, 0, 0.755], (T, 1)),
                               np.tile([1.0, 0, 0, 0], (T, 1)), q, 50.0)
    p = tmp_path / "m.npz"
    save_robot_motion(m, p)
    # soft tracking gains with no policy (zero residual) cannot hold the robot up
    from twin.controllers.tracking_policy import TrackerMetadata, TrackingController

    class ZeroPolicy:
        def __call__(self, obs):
            return np.zeros((len(obs), 29), np.float32)

    import twin.validate.execute as ex

    orig = TrackingController.load
    TrackingController.load = classmethod(lambda cls, name: _zero_controller())
    try:
        report = validate(ValidateConfig(motion=str(p), controller="zero",
                                         out=str(tmp_path / "f")))
    finally:
        TrackingController.load = orig
    assert report["verdict"] == "no-go"
    m = report["metrics"]
    assert m["fall_time_s"] < 1.6
    # the first failure event leads; what the fall caused is one grouped line, not causes
    fall = next(r for r in report["reasons"] if r.startswith("robot fell at t = "))
    assert f"{m['fall_time_s']:.2f} s (pelvis height" in fall or "(torso tilt" in fall
    timed = [float(r.split(" at t = ")[1].split(" s")[0]) for r in report["reasons"]
             if " at t = " in r]
    assert timed == sorted(timed) and timed[0] <= m["fall_time_s"]
    assert m["after_fall_contacts"], "the fallen robot lies on the floor"
    after = [r for r in report["reasons"] if r.startswith("consequences after the fall")]
    assert len(after) == 1 and "not counted as causes" in after[0]
    for pair in m["after_fall_contacts"]:
        assert pair not in m["unexpected_contacts"]
    assert not any(r.startswith("unexpected contact") and "world" in r
                   for r in report["reasons"] if r not in after)
    html = (tmp_path / "f" / "report.html").read_text()
    assert f"fall {m['fall_time_s']:.2f} s</text>" in html
    rows = {c["measure"]: c for c in report["checks"]}
    height, tilt = rows["pelvis height (min)"], rows["torso tilt from vertical (max)"]
    assert (height["limit"], tilt["limit"]) == (0.35, 1.2)
    assert (height["value"] < 0.35) == (height["status"] == "no-go")
    assert (tilt["value"] > 1.2) == (tilt["status"] == "no-go")
    assert "no-go" in (height["status"], tilt["status"])
    assert ex and TrackerMetadata and ZeroPolicy


def _zero_controller():
    from twin.controllers.tracking_policy import TrackerMetadata, TrackingController
    from twin.envs.tracking.g1_tracking import G1TrackingTask

    layout = G1TrackingTask([standing_clip(T=10)]).obs_layout
    meta = TrackerMetadata(joint_names=G1_JOINT_NAMES, default_joint_pos=(0.0,) * 29,
                           kp=(1.0,) * 29, kd=(1.0,) * 29, action_scale=(1.0,) * 29,
                           action_mode="reference_residual", obs_layout=layout,
                           window_steps=(1, 2, 5, 10, 25), control_dt=0.02, robot="g1",
                           activation="elu", training={})
    D = sum(k for _, k in layout)
    return TrackingController([(np.zeros((29, D)), np.zeros(29))], np.zeros(D), np.ones(D),
                              10.0, meta, "zero")


def test_predicate_errors_name_what_is_valid(stand_file, tmp_path):
    base = ValidateConfig(motion=str(stand_file), controller="pd", out=str(tmp_path))
    with pytest.raises(ValueError, match=r"predicates\[0\] \(p\): unknown body 'tail'"):
        validate(replace(base, predicates=[Predicate(name="p", kind="at", body="tail",
                                                     point=[0, 0, 0])]))
    with pytest.raises(ValueError, match="unknown object 'cup'; the scene has \\[\\]"):
        validate(replace(base, predicates=[Predicate(name="q", kind="lifted", object="cup")]))
    with pytest.raises(ValueError, match="kind 'touch'"):
        validate(replace(base, predicates=[Predicate(name="r", kind="touch")]))


def test_missing_motion_and_bad_scene(tmp_path):
    from twin.scene.config import SceneConfigError

    with pytest.raises(FileNotFoundError, match="does not exist"):
        validate(ValidateConfig(motion=str(tmp_path / "nope.npz"), controller="pd",
                                out=str(tmp_path / "a")))
    with pytest.raises(SceneConfigError, match="unknown scene 'kitchen'"):
        validate(ValidateConfig(motion="x.npz", scene="kitchen", controller="pd",
                                out=str(tmp_path / "b")))
    # both still leave a report saying why
    for sub, words in (("a", "does not exist"), ("b", "unknown scene 'kitchen'")):
        report = json.loads((tmp_path / sub / "report.json").read_text())
        assert report["verdict"] == "error" and words in report["reasons"][0]


def test_cli_demo_with_pd_baseline_and_video(tmp_path, capsys):
    from twin.cli.main import main

    out = tmp_path / "demo"
    rc = main(["validate", "demo=basic", "controller=pd", "video=true", "-o", str(out),
               "video_size=[160,120]"])
    text = capsys.readouterr().out
    assert text.startswith("verdict: ")
    report = json.loads((out / "report.json").read_text())
    # the stiff-PD replay falls near the end of the demo: no-go, exit 1
    assert report["verdict"] == "no-go" and rc == 1 and text.rstrip().endswith("exit 1 (no-go)")
    assert report["input"]["kind"] == "human_motion"
    assert report["input"]["retarget"]["root_drift_xy_max_m"] < 0.05
    import av

    with av.open(str(out / "video.mp4")) as c:
        s = c.streams.video[0]
        assert (s.width, s.height) == (160, 120) and s.frames > 50
    # the old spelling `--demo KEY=VALUE` (a bare --demo, then the item) still runs the same
    # validation, with one deprecation line
    rc_old = main(["validate", "--demo", "controller=pd", "-o", str(tmp_path / "old")])
    err = capsys.readouterr().err
    assert err == "twin validate: --demo is deprecated; use demo=basic\n" and rc_old == 1
    old = json.loads((tmp_path / "old" / "report.json").read_text())
    assert old["verdict"] == "no-go" and old["metrics"] == report["metrics"]
    assert old["reasons"] == report["reasons"]


def test_batch_summary(tmp_path, stand_file):
    import shutil

    from twin.validate.batch import format_summary, validate_batch

    d = tmp_path / "many"
    d.mkdir()
    shutil.copy(stand_file, d / "a.npz")
    (d / "broken.npz").write_bytes(b"not a zip")
    rows = validate_batch(d, ValidateConfig(controller="pd", out=str(tmp_path / "o")), workers=2)
    verdicts = {r["motion"].split("/")[-1]: r["verdict"] for r in rows}
    assert verdicts == {"a.npz": "go", "broken.npz": "error"}
    assert "1 of 2 go, 0 caution, 0 no-go, 1 error" in format_summary(rows)


def test_finetune_makes_a_specialist_first(stand_file, tmp_path):
    pytest.importorskip("stable_baselines3", reason="needs the train extra")
    out = tmp_path / "ft"
    report = validate(ValidateConfig(motion=str(stand_file), controller="default", out=str(out),
                                     finetune_env_steps=1024, finetune_num_envs=8))
    ft = report["input"]["finetune"]
    assert ft["init"] == "default" and ft["env_steps"] == 1024
    assert report["input"]["controller"] == ft["tracker"] == str(out / "finetune" / "tracker.npz")
    progress = json.loads((out / "finetune" / "progress.json").read_text())
    assert progress["env_steps"] == 1024
    assert (out / "reference.npz").exists() and (out / "executed.npz").exists()
    with pytest.raises(ValueError, match="finetune_env_steps needs a learned controller"):
        validate(ValidateConfig(motion=str(stand_file), controller="pd", out=str(out),
                                finetune_env_steps=1024))


def test_demo_is_a_go_with_the_shipped_tracker_and_runs_without_torch(tmp_path, capsys,
                                                                      monkeypatch):
    # README's main command on the base install (no torch: the .pt is read torch-free): the
    # bundled GVHMR demo (stand, bend the knees, reach, wave with the elbow), retargeted and
    # executed by the shipped learned tracker, stays inside every caution band: a go (exit 0).
    import sys

    from twin.cli.main import main

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    out = tmp_path / "demo"
    assert main(["validate", "demo=basic", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "go", report["reasons"]
    assert report["input"]["actuator_model"]["gains"] == "stiff"  # what the go covers
    assert "not the G1's motor physics" in report["input"]["actuator_model"]["description"]
    assert "actuator model validated: stiff position servos" in \
        (out / "report.html").read_text()
    m = report["metrics"]
    assert not m["fell"] and m["executed_s"] > 7.9
    # measured with the 204.1M tracker: 14.8 mm, 0.068 m, 0.03 m/s, 0.17 rad, 0.5 %
    # (the 197.8M one: 16.2 mm, 0.075 m, 0.09 m/s, 0.16 rad, 0.5 %)
    assert m["mpjpe_local_mm"] < 25 and m["root_drift_max_m"] < 0.15
    # the plan's first frame floats 6.5 mm (8.3 before per-foot ankle grounding); started in
    # the air, the robot landed with its left sole slipping 0.21 m/s (124.5M tracker) or
    # 0.39 m/s (149.6M, a caution); started on the floor, 0.11 and 0.18 m/s (the peak of the
    # whole demo; 151.7M: 0.04, 163.9M: 0.13, 176.5M: 0.05, 197.8M: 0.09, 204.1M: 0.03).
    # The caution limit is 0.3
    assert report["input"]["start_lowered_m"] == pytest.approx(0.0065, abs=2e-4)
    assert m["foot_slip_max_m_s"] < 0.2
    assert min(m["min_joint_limit_margin_rad"].values()) > 0.1
    assert max(m["torque_saturation_fraction"].values()) < 0.03
    assert all(c["status"] == "ok" for c in report["checks"]), report["checks"]
    # the wave is the elbow's (the retargeted reference bends it 0.2-1.1 rad), not the wrist's
    run = np.load(out / "executed.npz")
    names = [str(n) for n in run["joint_names"]]
    elbow = run["joint_pos"][:, names.index("right_elbow_joint")]
    wrist = run["joint_pos"][:, names.index("right_wrist_pitch_joint")]
    assert np.ptp(elbow) > 0.6 and np.abs(wrist).max() < 0.5
    text = capsys.readouterr().out
    assert text.startswith("verdict: GO")
    assert "lowest sole +6.5 mm from the floor; the robot starts standing on it" in text


def test_a_plan_starting_above_the_floor_starts_standing_on_it(tmp_path):
    clip = standing_clip(arm=-0.8)
    up = np.array([0.0, 0.0, 0.02])
    lifted = replace(clip, root_pos_w=clip.root_pos_w + up, body_pos_w=clip.body_pos_w + up)
    assert lowest_sole_height_m(lifted) - lowest_sole_height_m(clip) == pytest.approx(0.02)
    save_robot_motion(lifted, tmp_path / "lifted.npz")
    report = validate(ValidateConfig(motion=str(tmp_path / "lifted.npz"),
                                     out=str(tmp_path / "r")))
    assert report["input"]["start_lowered_m"] == pytest.approx(0.018, abs=1e-4)
    root_z = np.load(tmp_path / "r" / "executed.npz")["root_pos_w"][:, 2]
    assert root_z[0] < 0.76  # the plan's pelvis is at 0.775 m: the robot did not drop 2 cm
    # measured 0.045 m/s; dropped from 2 cm, the shipped tracker landed slipping 0.39 m/s at
    # t = 0.06 s, a caution
    assert report["verdict"] == "go" and report["metrics"]["foot_slip_max_m_s"] < 0.15


def test_foot_slip_is_the_speed_at_the_contact_not_at_the_ankle():
    """A foot rolling onto its toe moves its ankle at 0.2 m/s while the toe stays put: no
    slip. A flat foot sliding at 0.5 m/s slips at 0.5 m/s; a foot off the floor reads NaN."""
    from twin.sim.backend import WORLD_BODY, Contact
    from twin.validate.execute import foot_slip_speeds

    feet = ("left_ankle_roll_link", "right_ankle_roll_link")
    ankle = np.array([[0.0, 0.1, 0.05], [0.0, -0.1, 0.05]])
    toe = np.array([0.12, 0.1, 0.0])

    def touch(body, pos):
        return Contact("floor", "sole", WORLD_BODY, body, np.asarray(pos), 100.0, 0.0)

    ang = np.array([[0.0, 4.0, 0.0], [0.0, 0.0, 0.0]])  # left: pitching about the toe
    lin = np.array([-np.cross(ang[0], toe - ankle[0]), [0.3, 0.4, 0.0]])
    assert np.linalg.norm(lin[0, :2]) == pytest.approx(0.2)  # the ankle moves forward
    contacts = [touch(feet[0], toe), touch(feet[1], [0.05, -0.1, 0.0]),
                touch(feet[1], [-0.05, -0.1, 0.0]),
                Contact("a", "b", "box", feet[1], np.zeros(3), 5.0, 0.0)]  # not the floor
    np.testing.assert_allclose(foot_slip_speeds(contacts, feet, ankle, lin, ang), [0.0, 0.5],
                               atol=1e-12)
    assert np.isnan(foot_slip_speeds(contacts[:1], feet, ankle, lin, ang)[1])


def test_foot_slip_counts_loaded_stances_at_their_centre_of_pressure():
    """A foot turning at 3 rad/s on its toe, which carries 300 N while the heel grazes the
    floor with 0.1 N, does not slip: the point is the centre of pressure (the plain mean of
    the two contacts would move at 0.26 m/s). A foot tapping the floor with 7 N (under
    ``min_load_n``) is not standing, so its speed is no slip (NaN)."""
    from twin.sim.backend import WORLD_BODY, Contact
    from twin.validate.execute import foot_slip_speeds

    feet = ("left_ankle_roll_link", "right_ankle_roll_link")
    ankle = np.array([[0.0, 0.1, 0.05], [0.0, -0.1, 0.05]])
    toe, heel = np.array([0.12, 0.1, 0.0]), np.array([-0.05, 0.1, 0.0])
    ang = np.array([[0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])  # left: yawing about its toe
    lin = np.array([-np.cross(ang[0], toe - ankle[0]), [0.3, 0.0, 0.0]])
    contacts = [Contact("f", "s", WORLD_BODY, feet[0], toe, 300.0, 0.0),
                Contact("f", "s", WORLD_BODY, feet[0], heel, 0.1, 0.0),
                Contact("f", "s", WORLD_BODY, feet[1], np.array([0.0, -0.1, 0.0]), 7.0, 0.0)]
    speeds = foot_slip_speeds(contacts, feet, ankle, lin, ang, min_load_n=34.0)
    assert speeds[0] == pytest.approx(3.0 * 0.17 * 0.1 / 300.1, rel=1e-6)  # CoP 0.06 mm off
    assert speeds[0] < 1e-3 < np.linalg.norm(np.cross(ang[0], 0.5 * (heel - toe)))
    assert np.isnan(speeds[1])
    assert foot_slip_speeds(contacts, feet, ankle, lin, ang)[1] == pytest.approx(0.3)
