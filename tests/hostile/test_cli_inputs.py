"""Bad input at the command line: one line, exit status 3, nothing written; --help lists
every key of the typed config. The CLI's ``main()`` runs in-process (no subprocesses)."""

from __future__ import annotations

import threading
from pathlib import Path

import msgpack
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve as ws_serve

from twin.cli.grammar import keys_of
from twin.cli.main import EXIT_INPUT_ERROR, EXIT_INTERNAL_ERROR, main

pytestmark = pytest.mark.timeout(120)


def _one_line_error(capsys, argv, *needles) -> str:
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == EXIT_INPUT_ERROR, (argv, rc, err)
    lines = err.splitlines()
    assert lines and lines[-1].startswith("twin: error: "), err
    assert "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[-1], (needle, lines[-1])
    return lines[-1]


@pytest.fixture
def afile(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    return f


# --- twin eval policy -----------------------------------------------------------------------
EVAL_BAD = [
    (["episodes=abc"], ["episodes='abc'", "integer"]),
    (["episodes=0"], ["episodes=0", ">= 1"]),
    (["seed=-1"], ["seed=-1"]),
    (["workers=0"], ["workers=0"]),
    (["timeout_s=-1"], ["timeout_s=-1", "> 0"]),
    (["timeout_s=nan"], ["timeout_s=nan", "finite"]),
    (["connect_timeout_s=-5"], ["connect_timeout_s"]),
    (["execute_steps=0"], ["execute_steps=0"]),
    (["max_episode_steps=-3"], ["max_episode_steps=-3"]),
    (["epsiodes=3"], ["unknown key 'epsiodes'", "did you mean 'episodes'"]),
    (["thresholds.bogus=1"], ["unknown key 'thresholds.bogus'"]),
    (["episodes"], ["expected KEY=VALUE", "'episodes'"]),
    (["video=maybe"], ["video='maybe'", "true or false"]),
    (["env_kwargs=3"], ["env_kwargs"]),
    (["policy=[1,2"], ["not valid YAML"]),
    (["policy=foo"], ["policy='foo'", "ws://HOST:PORT"]),
    (["policy=ws://"], ["policy='ws://'", "hostname"]),
    (["policy=ws://:80"], ["policy='ws://:80'"]),
    (["policy=python:no_such_module_x:make"], ["no_such_module_x"]),
    (["policy=python:json:no_factory"], ["no_factory"]),
    (["task=no_such_task"], ["unknown task 'no_such_task'"]),
    (["--episodes", "3"], ["unrecognized arguments", "twin eval policy --help"]),
]


@pytest.mark.parametrize("items,needles", EVAL_BAD, ids=[" ".join(i) for i, _ in EVAL_BAD])
def test_eval_policy_bad_values(items, needles, tmp_path, capsys):
    out = tmp_path / "run"
    _one_line_error(capsys, ["eval", "policy", *items, f"out={out}"], *needles)
    assert not out.exists()  # nothing written


def test_eval_policy_video_needs_the_camera(tmp_path, capsys):
    out = tmp_path / "run"
    _one_line_error(capsys, ["eval", "policy", "video=true", "motion_camera=nope",
                             f"out={out}"], "motion_camera='nope'", "third_person")
    _one_line_error(capsys, ["eval", "policy", "video=true", "env_kwargs.obs_mode=state",
                             f"out={out}"], "no images")
    assert not out.exists()


def test_eval_policy_bad_outputs(afile, capsys):
    _one_line_error(capsys, ["eval", "policy", "out="], "out is empty")
    _one_line_error(capsys, ["eval", "policy", f"out={afile}"], "a file of that name exists")
    _one_line_error(capsys, ["eval", "policy", f"out={afile}/sub"], "is a file")
    assert afile.read_text() == "x"


def test_eval_policy_env_kwargs_refused_by_the_env(tmp_path, capsys):
    out = tmp_path / "run"
    line = _one_line_error(capsys, ["eval", "policy", "env_kwargs.bogus=1", f"out={out}"],
                           "env_kwargs={'bogus': 1}", "refused by twin/PandaPickCube-v0",
                           "bogus")
    assert "was raised from the environment creator" not in line
    assert not out.exists()


def _garbage_server(reply: bytes):
    def handler(ws):
        try:
            ws.send(msgpack.packb({}))
            while True:
                ws.recv()
                ws.send(reply)
        except ConnectionClosed:
            pass

    srv = ws_serve(handler, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"ws://127.0.0.1:{srv.socket.getsockname()[1]}"


def test_garbage_replies_are_infrastructure_errors_not_policy_failures(tmp_path):
    from twin.evaluate.runner import EvalConfig, load_records, run_eval

    hostile = msgpack.packb({"actions": {b"__ndarray__": True, b"data": b"\x41" * 16,
                                         b"dtype": "|O", b"shape": [2]}})
    srv, url = _garbage_server(hostile)
    try:
        s = run_eval(EvalConfig(policy=url, task="panda_pick_cube", episodes=2,
                                out=str(tmp_path / "run"), connect_timeout_s=0,
                                timeout_s=5, max_episode_steps=5,
                                env_kwargs={"obs_mode": "state"}))
    finally:
        srv.shutdown()
    assert s["infra_errors"] == 2 and s["episodes_ran"] == 0 and s["policy_errors"] == 0
    assert s["success_rate"] is None  # no made-up rate from failures of the server
    recs = load_records(tmp_path / "run")
    assert all("undecodable reply" in r["error"] for r in recs)


def test_eval_token_is_never_written(tmp_path):
    import json

    from twin.evaluate.runner import EvalConfig, run_eval

    run_eval(EvalConfig(policy="oracle", task="panda_pick_cube", episodes=1,
                        out=str(tmp_path / "run"), max_episode_steps=3, token="s3cret-token",
                        env_kwargs={"obs_mode": "state"}))
    text = "".join(p.read_text() for p in (tmp_path / "run").iterdir() if p.is_file())
    assert "s3cret-token" not in text
    assert json.loads((tmp_path / "run" / "config.json").read_text())["config"]["token"] == "***"


# --- twin eval serve ------------------------------------------------------------------------
SERVE_BAD = [
    ([], ["policy is required"]),
    (["policy=oracle"], ["policy='oracle'", "python:MODULE:FACTORY"]),
    (["policy=python:json:loads", "port=99999"], ["port=99999", "0..65535"]),
    (["policy=python:json:loads", "port=abc"], ["port='abc'"]),
    (["policy=python:json:loads", "max_queue=0"], ["max_queue=0"]),
    (["policy=python:json:loads", "workers=0"], ["workers=0"]),
    (["policy=python:json:loads", "request_timeout_s=0"], ["request_timeout_s=0"]),
    (["policy=python:json:loads", "max_message_mb=-1"], ["max_message_mb=-1"]),
    (["policy=python:json:loads", "token=short"], ["token="]),
    (["policy=python:json:loads", "hots=0.0.0.0"], ["unknown key 'hots'", "did you mean 'host'"]),
    (["policy=python:no_such_module_x:f"], ["no_such_module_x"]),
    (["policy=python:json:loads", "port=0"], ["the factory raised TypeError", "TWIN_DEBUG"]),
]


@pytest.mark.parametrize("items,needles", SERVE_BAD, ids=[" ".join(i) for i, _ in SERVE_BAD])
def test_eval_serve_bad_values(items, needles, capsys):
    line = _one_line_error(capsys, ["eval", "serve", *items], *needles)
    assert "short" not in line  # a token is never echoed


def test_eval_serve_config_defaults_to_loopback(monkeypatch):
    from twin.cli.eval_cmds import load_serve_config
    from twin.policy.server import PolicyServer

    monkeypatch.setenv("TWIN_POLICY_TOKEN", "from-the-environment")
    cfg = load_serve_config(["policy=python:json:loads", "port=0", "max_message_mb=1"])
    kw = cfg.server_kwargs()
    assert kw["host"] == "127.0.0.1" and kw["token"] == "from-the-environment"
    assert kw["max_message_bytes"] == 2**20
    srv = PolicyServer(lambda obs: np.zeros((1, 2)), **kw)
    try:
        assert srv._server.socket.getsockname()[0] == "127.0.0.1"
    finally:
        srv.stop()


# --- twin train tracker ---------------------------------------------------------------------
TRAIN_BAD = [
    (["foo=1"], ["unknown key 'foo'"]),
    (["motions=M", "ppo.bogus=1"], ["unknown key 'ppo.bogus'"]),
    (["motions=M", "numenvs=3"], ["did you mean 'num_envs'"]),
    (["motions=M", "num_envs=abc"], ["num_envs='abc'", "integer"]),
    (["motions=M", "num_envs=0"], ["num_envs=0"]),
    (["motions=M", "total_env_steps=-1"], ["total_env_steps=-1"]),
    (["motions=M", "gains=soft"], ["gains='soft'", "stiff, tracking"]),
    (["motions=M", "ppo.gamma=1.5"], ["ppo.gamma=1.5"]),
    (["motions=M", "ppo.learning_rate=0"], ["ppo.learning_rate=0"]),
    (["motions=M", "net_arch=[0]"], ["net_arch"]),
    (["motions=M", "action_scale_factor=0"], ["action_scale_factor=0.0", "> 0"]),
    (["motions=M", "proprio_obs=[base_lin_vel_b,foo]"], ["proprio_obs=", "distinct terms"]),
    (["motions=M", "reference_obs=[joint_vel,joint_vel]"], ["reference_obs=", "distinct terms"]),
    (["motions=M", "obs_window_steps=[5,2]"], ["obs_window_steps=[5, 2]", "increasing"]),
    (["motions=M", "obs_window_steps=[0,1]"], ["obs_window_steps=[0, 1]", "1 ... 250"]),
    (["motions=M", "proprio_history_steps=[2,1]"],
     ["proprio_history_steps=[2, 1]", "increasing control steps back, 1 ... 50"]),
    (["motions=M", "progress=maybe"], ["progress='maybe'"]),
    (["motions=M", "clip_weights={amp_*:-1}"], ["clip_weights.amp_*=-1", ">= 0"]),
    (["motions=M", "dr_terms.frictoin=1"], ["dr_terms: unknown fields ['frictoin']"]),
    (["motions=M", "+dr_terms.push_lin_vel_mps=abc"],
     ["dr_terms.push_lin_vel_mps='abc'", "a number >= 0"]),
    (["motions=M", "dr_terms.start_root_pos_m=[0.05,0.05]"],
     ["dr_terms.start_root_pos_m=(0.05, 0.05)", "3 numbers"]),
    (["motions=M", "dr_terms.friction_scale=[1.2,0.5]"], ["0 < lo <= hi"]),
    (["motions=M", "reward.acton_rate=0.01"], ["reward: unknown terms ['acton_rate']"]),
    (["motions=M", "reward.action_rate=abc"], ["reward.action_rate: expected a number"]),
    (["motions=M", "reward.body_pos=3"], ["reward.body_pos: expected {weight: W, std: S}"]),
    (["motions=M", "reward.body_pos.std=0"], ["reward.body_pos.std: expected a number > 0"]),
    (["motions=M", "reward.body_pos.weight=abc"], ["reward.body_pos.weight: expected a number"]),
    (["total_env_steps=100"], ["motions is required"]),
    (["motions=/no/such/clips"], ["motions='/no/such/clips'"]),
]


@pytest.mark.parametrize("items,needles", TRAIN_BAD, ids=[" ".join(i) for i, _ in TRAIN_BAD])
def test_train_tracker_bad_values(items, needles, tmp_path, capsys):
    clip = tmp_path / "clip.npz"
    clip.write_bytes(b"")
    run = tmp_path / "run"
    items = [i.replace("motions=M", f"motions={clip}") for i in items]
    _one_line_error(capsys, ["train", "tracker", *items, f"run_dir={run}"], *needles)
    assert not run.exists()  # checked before anything is created


@pytest.mark.parametrize("item", ["dr_terms.push_lin_vel_mps=null",
                                  "+dr_terms.push_lin_vel_mps=null"])
def test_train_tracker_dr_terms_override_with_or_without_plus(item, tmp_path):
    """dr_terms is an empty dict in the YAML: an entry is appended either way (the CLI used
    to refuse both spellings)."""
    from twin.envs.tracking.events import DomainRandomization

    from twin.cli.train_cmds import load_checked_config

    squat = Path(__file__).resolve().parents[2] / "assets/motions/heldout_small/heldout_small_squat.npz"
    cfg, _ = load_checked_config([f"motions={squat}", item, "dr_terms.start_joint_pos_rad=0.1",
                                  f"run_dir={tmp_path / 'run'}"])
    assert dict(cfg.dr_terms) == {"push_lin_vel_mps": None, "start_joint_pos_rad": 0.1}
    dr = DomainRandomization.coerce(dict(cfg.dr_terms))
    assert dr.push_lin_vel_mps is None and dr.start_joint_pos_rad == 0.1
    assert dr.friction_scale == (0.5, 1.25)  # the other terms keep their defaults


def test_train_tracker_clip_weight_pattern_matching_no_clip(tmp_path, capsys):
    squat = Path(__file__).resolve().parents[2] / "assets/motions/heldout_small/heldout_small_squat.npz"
    run = tmp_path / "run"
    _one_line_error(capsys, ["train", "tracker", f"motions={squat}", "clip_weights={amp_*:4}",
                             f"run_dir={run}"], "clip_weights.amp_*: matches none of the 1")
    assert not run.exists()  # refused before the run folder is made


def test_train_tracker_clip_weight_pattern_refused_before_augmenting(tmp_path, capsys,
                                                                     monkeypatch):
    """The names checked include the augmented copies', but no copy is made first (that
    took ~20 s on the training library)."""
    from twin.motion import augment

    def augmented_copies(*_):
        raise AssertionError("augmented before the clip weights were checked")

    monkeypatch.setattr(augment, "augmented_copies", augmented_copies)
    squat = Path(__file__).resolve().parents[2] / "assets/motions/heldout_small/heldout_small_squat.npz"
    run = tmp_path / "run"
    _one_line_error(capsys, ["train", "tracker", f"motions={squat}", "clip_weights={amp_*:4}",
                             "augment.copies=2", f"run_dir={run}"],
                    "clip_weights.amp_*: matches none of the 3 training clips")
    assert not run.exists()


def test_train_tracker_run_dir_is_a_file(afile, tmp_path, capsys):
    clip = tmp_path / "clip.npz"
    clip.write_bytes(b"")
    _one_line_error(capsys, ["train", "tracker", f"motions={clip}", f"run_dir={afile}"],
                    "run_dir=", "a file of that name exists")


# --- twin validate (Hydra overrides of the preset; checked before a report folder exists) -
VALIDATE_BAD = [
    (["thresholds.bogus=1"], ["unknown key 'thresholds.bogus'"]),
    (["threshold.root_drift_m=0.3"], ["unknown key 'threshold.root_drift_m'",
                                      "did you mean 'thresholds.root_drift_m'"]),
    (["thresholds.root_drift_m=abc"], ["thresholds.root_drift_m='abc'", "a number"]),
    (["thresholds.root_drift_m=-1"], ["thresholds.root_drift_m=-1.0", "> 0"]),
    (["caution.foot_slip_peak_m_s=nan"], ["caution.foot_slip_peak_m_s=nan", "finite"]),
    (["strict=maybe"], ["strict='maybe'", "true or false"]),
    (["video=maybe"], ["video='maybe'", "true or false"]),
    (["fps=0"], ["fps=0.0", "> 0"]),
    (["--fps", "0"], ["fps=0.0"]),
    (["settle_s=-1"], ["settle_s=-1.0"]),
    (["video_size=[1,2]"], ["video_size=[1, 2]", "16..4096"]),
    (["placement=teleport"], ["placement='teleport'", "auto, camera"]),
    (["placement_anchor=middle"], ["placement_anchor='middle'", "start, end"]),
    (["render_profile=ultra"], ["render_profile='ultra'", "full, fast"]),
    (["start_pose=[1,2]"], ["start_pose=[1.0, 2.0]", "[x, y, yaw]"]),
    (["workers=0"], ["workers=0", "1..1024"]),
    (["--workers", "many"], ["workers='many'", "an integer"]),
    (["demo=fancy"], ["demo='fancy'", "basic, scene"]),
    (["--demo", "fancy"], ["demo='fancy'", "basic, scene"]),
    (["plan.npz"], ["give one of a motion file, demo= and batch="]),
    (["motion=plan.npz"], ["motion=", "one motion"]),
]


@pytest.mark.parametrize("items,needles", VALIDATE_BAD,
                         ids=[" ".join(i) for i, _ in VALIDATE_BAD])
def test_validate_bad_values_are_one_line_nothing_written(items, needles, tmp_path, capsys):
    first = ("other.npz" if items[0].startswith("motion=") else None if "demo" in items[0]
             else "demo=basic")
    argv = ["validate", *([first] if first else []), *items, "-o", str(tmp_path / "v")]
    _one_line_error(capsys, argv, *needles)
    assert not (tmp_path / "v").exists()


def test_validate_needs_something_to_validate(tmp_path, afile, capsys):
    _one_line_error(capsys, ["validate", "-o", str(tmp_path / "v")],
                    "give a motion file (MOTION or motion=FILE), demo=basic|scene, or batch=DIR")
    _one_line_error(capsys, ["validate", "a.npz", "b.npz", "-o", str(tmp_path / "v")],
                    "one motion file at a time", "batch=DIR")
    _one_line_error(capsys, ["validate", "demo=basic", f"out={afile}"],
                    "out=", "a file of that name exists")
    assert not (tmp_path / "v").exists() and afile.read_text() == "x"


# --- twin view / twin eval tracker ----------------------------------------------------------
def test_view_bad_values(tmp_path, afile, capsys):
    _one_line_error(capsys, ["view", "panda", f"out={tmp_path}"], "that is a folder")
    _one_line_error(capsys, ["view", "panda", f"out={afile}/x.png"], "is a file")
    _one_line_error(capsys, ["view", "panda", "out=x.gif"], ".png")
    _one_line_error(capsys, ["view", "panda", "width=0"], "width=0", "16..4096")
    _one_line_error(capsys, ["view", "panda", "height=abc"], "height='abc'")
    _one_line_error(capsys, ["view", "panda", "profile=ultra"], "full, fast")
    _one_line_error(capsys, ["view", "atlas", f"out={tmp_path / 'a.png'}"], "atlas")
    _one_line_error(capsys, ["view", "panda", "-o", str(tmp_path)], "that is a folder")
    assert list(tmp_path.iterdir()) == [afile]  # nothing written


def test_view_old_flags_still_work_with_a_deprecation_line(tmp_path, capsys):
    import imageio.v3 as iio

    out = tmp_path / "p.png"
    assert main(["view", "panda", "-o", str(out), "--width", "32", "--height", "24",
                 "--profile", "fast"]) == 0
    err = capsys.readouterr().err
    assert "-o/--output is deprecated; use out=" in err and "--width is deprecated" in err
    assert iio.imread(out).shape == (24, 32, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]  # no temporary left


def test_eval_tracker_bad_values(tmp_path, capsys):
    _one_line_error(capsys, ["eval", "tracker"], "motions is required")
    _one_line_error(capsys, ["eval", "tracker", "motion=x"], "did you mean 'motions'")
    (tmp_path / "r.json").write_text("{}")
    _one_line_error(capsys, ["eval", "tracker", "motions=x", f"out={tmp_path / 'r.json'}"],
                    "a file of that name exists")


# --- twin retarget / twin motion show -------------------------------------------------------
DEMO_PT = Path(__file__).resolve().parents[2] / "assets" / "demo" / "hmr4d_results.pt"

def _exactly_one_error_line(capsys, argv, needles) -> None:
    """Exit 3 and one error line on stderr (besides one deprecation line per old flag)."""
    from twin.cli.motion_config import RETARGET_OLD_FLAGS, SHOW_OLD_FLAGS

    rc = main(argv)
    err = capsys.readouterr().err.splitlines()
    old = [a for a in argv if a in {**RETARGET_OLD_FLAGS, **SHOW_OLD_FLAGS}]
    assert rc == EXIT_INPUT_ERROR and len(err) == 1 + len(old), (argv, rc, err)
    assert all("is deprecated; use" in ln for ln in err[:-1]), err
    assert err[-1].startswith("twin: error: "), err
    for needle in needles:
        assert needle in err[-1], (needle, err[-1])


RETARGET_BAD = [
    (["iterations=0"], ["iterations=0", "1..100"]),
    (["iterations=abc"], ["iterations='abc'", "integer"]),
    (["iterations=1.5"], ["iterations='1.5'", "integer"]),
    (["csv_quat_order=abc"], ["csv_quat_order='abc'", "wxyz, xyzw"]),
    (["fps=0"], ["fps=0.0", ">= 1 and <= 1000"]),
    (["fps=abc"], ["fps='abc'", "a number"]),
    (["height=-1"], ["height=-1.0", ">= 0.5 and <= 2.5"]),
    (["format=foo"], ["format='foo'", "gvhmr"]),
    (["up_axis=x"], ["up_axis='x'", "y, z"]),
    (["body_model=/no/such/smpl.npz"], ["body_model='/no/such/smpl.npz'", "existing"]),
    (["joint_map=nope"], ["joint_map='nope'", "lafan"]),
    (["repair=maybe"], ["repair='maybe'", "true or false"]),
    (["out=OUT/x.txt"], ["out=", "x.txt", ".npz"]),
    (["csv=OUT/x.txt"], ["csv=", ".csv"]),
    (["csv=OUT/r.csv", "residuals=OUT/r.csv"], ["residuals=", "other than csv="]),
    (["iteratons=3"], ["unknown key 'iteratons'", "did you mean 'iterations'"]),
    (["--iterations", "0"], ["iterations=0", "1..100"]),  # an old flag: same check
    (["--bogus"], ["unrecognized arguments: --bogus"]),
]


@pytest.mark.parametrize("items,needles", RETARGET_BAD, ids=[" ".join(i) for i, _ in RETARGET_BAD])
def test_retarget_bad_values(items, needles, tmp_path, capsys):
    out = tmp_path / "out"
    items = [i.replace("OUT", str(out)) for i in items]
    _exactly_one_error_line(capsys, ["retarget", str(DEMO_PT), f"out={out}/g1.npz", *items],
                            needles)
    assert not out.exists()  # checked before the input is read or anything is written


def test_retarget_bad_value_is_exactly_one_line(tmp_path, capsys):
    assert main(["retarget", str(DEMO_PT), f"out={tmp_path / 'g1.npz'}", "iterations=0"]) == 3
    assert capsys.readouterr().err == "twin: error: iterations=0: expected an integer in " \
        "1..100\n"
    # with an old flag: its deprecation line, then the one error line
    assert main(["retarget", str(DEMO_PT), "-o", str(tmp_path / "g1.npz"),
                 "--csv-quat-order", "abc"]) == 3
    assert capsys.readouterr().err.splitlines() == [
        "twin retarget: --csv-quat-order is deprecated; use csv_quat_order=abc",
        "twin: error: csv_quat_order='abc': expected one of wxyz, xyzw"]
    assert list(tmp_path.iterdir()) == []


def test_retarget_needs_out_and_input(capsys):
    _one_line_error(capsys, ["retarget", str(DEMO_PT)], "out is required")
    line = _one_line_error(capsys, ["retarget"], "required: input")
    assert "KEY=VALUE" not in line.split("(see")[0]  # the keys are optional


SHOW_BAD = [
    (["video_fps=-1"], ["video_fps=-1.0", "> 0"]),
    (["video_fps=abc"], ["video_fps='abc'", "a number"]),
    (["video_fps=1000"], ["video_fps=1000.0", "<= 240"]),
    (["video_width=0"], ["video_width=0", "16..4096"]),
    (["video_height=5000"], ["video_height=5000", "16..4096"]),
    (["max_seconds=0"], ["max_seconds=0.0", "> 0"]),
    (["csv_quat_order=abc"], ["csv_quat_order='abc'", "wxyz, xyzw"]),
    (["video=OUT/x.gif"], ["video=", ".mp4"]),
    (["json=maybe"], ["json='maybe'", "true or false"]),
    (["fps=2000"], ["fps=2000.0", "<= 1000"]),
    (["--video-fps", "-1"], ["video_fps=-1.0", "> 0"]),
]


@pytest.mark.parametrize("items,needles", SHOW_BAD, ids=[" ".join(i) for i, _ in SHOW_BAD])
def test_motion_show_bad_values(items, needles, tmp_path, capsys):
    out = tmp_path / "out"
    items = [i.replace("OUT", str(out)) for i in items]
    _exactly_one_error_line(capsys, ["motion", "show", str(DEMO_PT), f"video={out}/v.mp4",
                                     *items], needles)
    assert not out.exists()


# --- help: every key, its type and default --------------------------------------------------
HELP = [
    (["eval", "policy"], "twin.evaluate.runner", "EvalConfig"),
    (["eval", "serve"], "twin.policy.server", "ServeConfig"),
    (["eval", "tracker"], "twin.cli.tracker_eval_cmds", "TrackerEvalConfig"),
    (["train", "tracker"], "twin.train.tracker", "TrackerTrainConfig"),
    (["view"], "twin.cli.view", "ViewConfig"),
    (["retarget"], "twin.cli.motion_config", "RetargetCommandConfig"),
    (["motion", "show"], "twin.cli.motion_config", "MotionShowConfig"),
    (["record"], "twin.record.engine", "RecordConfig"),
    (["validate"], "twin.cli.validate_config", "ValidateCommandConfig"),
]


@pytest.mark.parametrize("argv,module,name", HELP, ids=[" ".join(a) for a, _, _ in HELP])
def test_help_lists_every_key_with_type_default_and_meaning(argv, module, name, capsys):
    import importlib

    from twin.cli.grammar import iter_keys

    assert main([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    schema = getattr(importlib.import_module(module), name)
    rows = {ln.split()[0]: ln for ln in out.split("keys (KEY=VALUE")[1].splitlines()[1:]
            if ln.strip()}
    assert set(rows) == set(keys_of(schema))
    # twin validate's defaults are its Hydra preset's (configs/validate/default.yaml)
    preset = importlib.import_module(module).preset_values() if name == (
        "ValidateCommandConfig") else None
    for k in iter_keys(schema, defaults=preset):
        assert k.type in rows[k.key], rows[k.key]
        if name != "TrackerTrainConfig":  # its defaults come from the YAML preset
            d = k.default
            shown = ("null" if d is None else str(d).lower() if isinstance(d, bool)
                     else "(required)" if d == "???" else str(d))
            cells = rows[k.key].split()
            assert shown in cells or (isinstance(d, list) and f" {shown} " in rows[k.key]), \
                rows[k.key]
    described = [k for k in rows.values() if len(k.split()) > 3]
    assert len(described) == len(rows), "every key has a meaning"


# --- main: usage errors, internal errors, interrupts ----------------------------------------
def test_usage_errors_exit_3_not_argparse_2(capsys):
    _one_line_error(capsys, ["nosuchcommand"], "invalid choice")
    _one_line_error(capsys, ["eval"], "eval")


def test_internal_errors_show_the_traceback_and_ask_for_a_report(monkeypatch, capsys):
    import twin.cli.main as cli

    def boom(args):
        raise RuntimeError("a bug")

    def interrupted(args):
        raise KeyboardInterrupt

    real = cli.run_robots
    monkeypatch.setattr(cli, "run_robots", boom)
    assert main(["robots"]) == EXIT_INTERNAL_ERROR
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug" in err and "please report" in err
    monkeypatch.setattr(cli, "run_robots", interrupted)
    assert main(["robots"]) == 130
    monkeypatch.setattr(cli, "run_robots", real)


def test_twin_debug_adds_the_traceback_to_input_errors(monkeypatch, capsys):
    monkeypatch.setenv("TWIN_DEBUG", "1")
    assert main(["eval", "policy", "workers=0"]) == EXIT_INPUT_ERROR
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("twin: error:")


def test_eval_resume_survives_hostile_records_and_refuses_a_hostile_config(tmp_path, capsys):
    from twin.evaluate.runner import EvalConfig, load_records, run_eval

    out = tmp_path / "run"
    cfg = EvalConfig(policy="oracle", task="panda_pick_cube", episodes=2, out=str(out),
                     max_episode_steps=3, env_kwargs={"obs_mode": "state"})
    run_eval(EvalConfig(**{**cfg.__dict__, "episodes": 1}))
    with open(out / "episodes.jsonl", "a") as f:
        f.write("[" * 200_000 + "\n")           # RecursionError bait
        f.write('{"episode": "1", "status": "ok"}\n')  # wrong types
        f.write("[1, 2, 3]\n")                   # not a record
        f.write('{"episode": 1, "status": "ok"}\n')  # missing fields
        f.write('{"episode": 1, "stat')          # cut by an interruption
    s = run_eval(cfg)
    assert s["episodes_ran"] == 2 and s["missing"] == 0
    assert [r["episode"] for r in load_records(out)] == [0, 1]
    (out / "config.json").write_text("[" * 200_000)
    _one_line_error(capsys, ["eval", "policy", f"out={out}", "episodes=2"],
                    "config.json: not a twin eval config")
