"""``twin retarget`` and ``twin motion show`` on generated files: exit codes, outputs, one-line
errors, the KEY=VALUE grammar and the old ``--flag`` spellings (deprecated, same results)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import motion_synth as ms
import numpy as np
import pytest

from twin.cli.main import main
from twin.motion.robot_motion import load_robot_motion
from twin.motion.smpl import mean_shape_rest_joints

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def gvhmr(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    return ms.write_gvhmr(ms.make_motion(T=45), d / "hmr4d_results.pt")


def _ok(capsys, argv) -> tuple[str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 0, (argv, err)
    return out, err


def test_retarget_writes_a_robot_motion(gvhmr, tmp_path, capsys):
    out = tmp_path / "g1.npz"
    text, err = _ok(capsys, ["retarget", str(gvhmr), f"out={out}", "fps=30",
                             f"csv={tmp_path / 'g1.csv'}", f"residuals={tmp_path / 'res.csv'}"])
    assert err == ""  # no deprecation line for the KEY=VALUE spelling
    assert "as gvhmr" in text and "root drift" in text and "repaired NaN/Inf frames: 0" in text
    m = load_robot_motion(out)
    assert m.fps == 50.0 and m.joint_pos.shape == (74, 29)  # 45 frames at 30 Hz -> 50 Hz
    res = np.genfromtxt(tmp_path / "res.csv", delimiter=",", names=True)
    assert len(res) == 74 and res["root_drift_xy_m"].max() < 0.05
    assert res["pos_pelvis_m"].mean() < 0.01
    csv = load_robot_motion(tmp_path / "g1.csv", csv_quat_order="xyzw")
    assert np.abs(csv.joint_pos - m.joint_pos).max() < 1e-6
    # csv_quat_order=wxyz writes (w, x, y, z): the same rotation, columns 3..6 rolled
    _ok(capsys, ["retarget", str(gvhmr), f"out={out}", "fps=30", "csv_quat_order=wxyz",
                 f"csv={tmp_path / 'w.csv'}"])
    xyzw, wxyz = np.loadtxt(tmp_path / "g1.csv", delimiter=","), np.loadtxt(
        tmp_path / "w.csv", delimiter=",")
    assert np.array_equal(np.roll(xyzw[:, 3:7], 1, axis=1), wxyz[:, 3:7])


def test_retarget_old_flags_give_the_same_files_with_deprecation_lines(gvhmr, tmp_path,
                                                                       capsys):
    new, old = tmp_path / "new", tmp_path / "old"
    _, err = _ok(capsys, ["retarget", str(gvhmr), f"out={new}.npz", "fps=30", "iterations=3",
                          f"csv={new}.csv", "csv_quat_order=wxyz", f"residuals={new}_r.csv"])
    assert err == ""
    _, err = _ok(capsys, ["retarget", str(gvhmr), "--output", f"{old}.npz", "--fps", "30",
                          "--iterations", "3", "--csv", f"{old}.csv", "--csv-quat-order",
                          "wxyz", "--residuals", f"{old}_r.csv"])
    lines = err.strip().splitlines()
    assert sorted(lines) == sorted([
        f"twin retarget: --output is deprecated; use out={old}.npz",
        "twin retarget: --fps is deprecated; use fps=30",
        "twin retarget: --iterations is deprecated; use iterations=3",
        f"twin retarget: --csv is deprecated; use csv={old}.csv",
        "twin retarget: --csv-quat-order is deprecated; use csv_quat_order=wxyz",
        f"twin retarget: --residuals is deprecated; use residuals={old}_r.csv"])
    assert Path(f"{new}.csv").read_bytes() == Path(f"{old}.csv").read_bytes()
    a, b = np.load(f"{new}.npz"), np.load(f"{old}.npz")
    assert a.files == b.files
    for key in a.files:
        if key != "source":
            assert np.array_equal(a[key], b[key]), key
    sa, sb = json.loads(str(a["source"])), json.loads(str(b["source"]))
    assert sa["iterations_per_frame"] == sb["iterations_per_frame"] == 3
    for s in (sa, sb):  # the measured IK speed is the one thing that may differ
        del s["residuals"]["frames_per_s"]
    assert sa == sb
    ra = np.genfromtxt(f"{new}_r.csv", delimiter=",", names=True)
    rb = np.genfromtxt(f"{old}_r.csv", delimiter=",", names=True)
    assert np.array_equal(ra, rb) and len(ra) == 74


def test_retarget_short_out_flag_and_key_value_after_options(gvhmr, tmp_path, capsys):
    # `-o` stays, as in `twin validate` and `twin render-observation`: no deprecation line
    _, err = _ok(capsys, ["retarget", str(gvhmr), "-o", str(tmp_path / "a.npz"), "fps=30"])
    assert err == ""
    assert load_robot_motion(tmp_path / "a.npz").joint_pos.shape == (74, 29)
    # an explicit out= wins over -o
    _ok(capsys, ["retarget", str(gvhmr), "-o", str(tmp_path / "b.npz"), "fps=30",
                 f"out={tmp_path / 'c.npz'}"])
    assert (tmp_path / "c.npz").exists() and not (tmp_path / "b.npz").exists()


def test_retarget_gvhmr_defaults_to_30_fps_with_a_note(gvhmr, tmp_path, capsys):
    # GVHMR results carry no frame rate: README's `twin retarget hmr4d_results.pt out=walk.npz`
    text, _ = _ok(capsys, ["retarget", str(gvhmr), f"out={tmp_path / 'x.npz'}"])
    assert "note: gvhmr results carry no frame rate; assuming 30 fps" in text
    assert load_robot_motion(tmp_path / "x.npz").joint_pos.shape == (74, 29)
    # fps=N is spelled as in `twin validate`; 25 fps stretches 45 frames to 1.76 s
    text, _ = _ok(capsys, ["retarget", str(gvhmr), "fps=25", f"out={tmp_path / 'y.npz'}"])
    assert "note:" not in text
    assert load_robot_motion(tmp_path / "y.npz").joint_pos.shape == (89, 29)


def test_retarget_repair_reports_count(tmp_path, capsys):
    m = ms.make_motion(T=30)
    path = ms.write_amass_smplx(m, mean_shape_rest_joints(), tmp_path / "a.npz")
    data = dict(np.load(path))
    data["pose_body"][7, 3] = np.nan
    np.savez(path, **data)
    assert main(["retarget", str(path), f"out={tmp_path / 'o.npz'}"]) == 3  # NaN: refused
    capsys.readouterr()
    text, _ = _ok(capsys, ["retarget", str(path), f"out={tmp_path / 'o.npz'}", "repair=true"])
    assert "repaired NaN/Inf frames: 1" in text
    text, err = _ok(capsys, ["retarget", str(path), "-o", str(tmp_path / "p.npz"), "--repair"])
    assert "repaired NaN/Inf frames: 1" in text
    assert err.strip() == "twin retarget: --repair is deprecated; use repair=true"


def test_motion_show_robot_and_human(gvhmr, tmp_path, capsys):
    out = tmp_path / "g1.npz"
    _ok(capsys, ["retarget", str(gvhmr), f"out={out}", "fps=30"])
    text, err = _ok(capsys, ["motion", "show", str(out), "json=true"])
    assert err == ""
    summary = json.loads(text)
    assert summary["kind"] == "robot_motion" and summary["frames"] == 74
    assert summary["joints"] == 29 and summary["human_skeleton"] is True
    old_text, err = _ok(capsys, ["motion", "show", str(out), "--json"])
    assert old_text == text
    assert err.strip() == "twin motion show: --json is deprecated; use json=true"
    summary = json.loads(_ok(capsys, ["motion", "show", str(gvhmr), "fps=30", "json=true"])[0])
    assert summary["kind"] == "human_motion" and summary["joints"] == 22
    assert summary["frames"] == 74 and summary["fps"] == 50.0


def test_motion_show_csv_needs_its_quaternion_order(gvhmr, tmp_path, capsys):
    csv = tmp_path / "g1.csv"
    _ok(capsys, ["retarget", str(gvhmr), f"out={tmp_path / 'g1.npz'}", "fps=30", f"csv={csv}"])
    assert main(["motion", "show", str(csv)]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "csv_quat_order=xyzw" in err and str(csv) in err
    summary = json.loads(_ok(capsys, ["motion", "show", str(csv), "csv_quat_order=xyzw",
                                      "json=true"])[0])
    assert summary["frames"] == 74 and summary["joints"] == 29


def test_main_entry_point_prints_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "motion.npz"
    bad.write_bytes(b"not a zip")
    assert main(["retarget", str(bad), f"out={tmp_path / 'o.npz'}"]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "motion.npz" in err
    assert not (tmp_path / "o.npz").exists()


def test_motion_show_video(gvhmr, tmp_path, capsys):
    pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "g1.npz"
    _ok(capsys, ["retarget", str(gvhmr), f"out={out}", "fps=30"])
    video = tmp_path / "g1.mp4"
    text, err = _ok(capsys, ["motion", "show", str(out), f"video={video}", "video_width=320",
                             "video_height=192", "video_fps=10"])
    assert err == "" and f"wrote {video}: 15 frames at 10 fps" in text
    import av

    with av.open(str(video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 15 and frames[0].shape == (192, 320, 3)  # 1.5 s at 10 fps
    # Both the robot (grey) and the skeleton (orange capsules) are in the picture.
    f = frames[5].astype(int)
    orange = f[..., 0] - f[..., 2] > 60
    assert orange.sum() > 50  # measured ~150 px at 320x192
    # the old spelling renders the same video (max_seconds=1: 11 frames at 10 fps)
    old = tmp_path / "old.mp4"
    _ok(capsys, ["motion", "show", str(out), f"video={tmp_path / 'n1.mp4'}", "video_width=320",
                 "video_height=192", "video_fps=10", "max_seconds=1"])
    _, err = _ok(capsys, ["motion", "show", str(out), "--video", str(old), "--video-width",
                          "320", "--video-height", "192", "--video-fps", "10",
                          "--max-seconds", "1"])
    assert len(err.strip().splitlines()) == 5 and "--max-seconds is deprecated; use " \
        "max_seconds=1" in err
    with av.open(str(old)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 11
    assert old.read_bytes() == (tmp_path / "n1.mp4").read_bytes()


def test_retarget_defaults_and_help_match_the_library():
    from twin.cli.motion_config import HumanInputConfig, RetargetCommandConfig
    from twin.motion.joint_maps import BUILTIN_JOINT_MAPS
    from twin.motion.readers import FORMATS
    from twin.retarget import RetargetConfig

    assert RetargetCommandConfig().iterations == RetargetConfig().iterations_per_frame
    meaning = {f: HumanInputConfig.__dataclass_fields__[f].metadata["help"]
               for f in ("format", "joint_map")}
    assert all(name in meaning["format"] for name in FORMATS)
    assert all(name in meaning["joint_map"] for name in BUILTIN_JOINT_MAPS)


def _readme_commands(prefix: str) -> list[list[str]]:
    lines = [ln.split("#")[0].strip() for ln in README.read_text().splitlines()]
    return [shlex.split(ln)[1:] for ln in lines if ln.startswith(prefix)]


def test_readme_commands_run_as_written(tmp_path, monkeypatch, capsys):
    """Every `twin retarget` / `twin motion show` line of README's command block, on the
    bundled GVHMR demo copied under the name the README uses."""
    import shutil

    from twin.cli.main import build_parser
    from twin.cli.motion_cmds import load_show_config

    retarget = _readme_commands("twin retarget ")
    show = _readme_commands("twin motion show ")
    assert retarget and show
    demo = README.parent / "assets" / "demo" / "hmr4d_results.pt"
    monkeypatch.chdir(tmp_path)
    shutil.copy(demo, tmp_path / "hmr4d_results.pt")
    for argv in retarget:
        _, err = _ok(capsys, argv)
        assert err == "", argv  # no deprecated spelling in the README
    written = load_robot_motion(tmp_path / "walk.npz")
    assert written.joint_pos.shape == (401, 29)  # the demo: 8 s at 50 Hz
    for argv in show:  # parsed and checked (the video render itself is tested above)
        args = build_parser().parse_args(argv)
        cfg = load_show_config(args)
        assert capsys.readouterr().err == ""
        assert Path(args.file).exists() and re.fullmatch(r"\w+\.mp4", cfg.video or "x.mp4")
