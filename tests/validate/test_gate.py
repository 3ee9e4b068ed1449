"""`twin validate` as a gate: exit codes, three verdict levels with every threshold in the
report, plans that cannot be physical, and no crash without a report (issue 14)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from plan_files import gvhmr_dict, standing_motion, write_torch_zip

from twin.cli.main import main
from twin.motion.robot_motion import save_robot_motion
from twin.validate import ValidateConfig, validate
from twin.validate.metrics import compute_metrics
from twin.validate.verdict import assess, batch_exit_code, exit_code


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gate")
    out = {}
    plans = {"stand": standing_motion(T=30), "one_frame": standing_motion(T=1),
             "high": standing_motion(root_z=100.0), "zero_quat": standing_motion(quat=(0, 0, 0, 0)),
             "half_quat": standing_motion(quat=(0.5, 0, 0, 0)), "h1": standing_motion(robot="h1"),
             "diverges": standing_motion(joint_vel=1e12), "slow": standing_motion(fps=1e-6)}
    for name, m in plans.items():
        save_robot_motion(m, d / f"{name}.npz")
        out[name] = d / f"{name}.npz"
    out["fps10000"] = d / "fps10000" / "hmr4d_results.pt"
    out["fps10000"].parent.mkdir()
    write_torch_zip({**gvhmr_dict(T=45), "fps": np.array([10000.0], np.float32)},
                    out["fps10000"])
    return out


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["validate", *map(str, argv)])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _report(folder) -> dict:
    return json.loads((folder / "report.json").read_text())


def test_exit_codes_and_levels(files, tmp_path, capsys):
    # go: exit 0, and every threshold is in the report next to its measured value
    rc, out, _ = _run(capsys, files["stand"], "controller=pd", "-o", tmp_path / "go")
    rep = _report(tmp_path / "go")
    assert (rc, rep["verdict"]) == (0, "go") and out.startswith("verdict: GO")
    th = rep["thresholds"]
    assert th["no_go"]["mpjpe_local_mm"] == 100.0 and th["caution"]["mpjpe_local_mm"] == 60.0
    assert th["no_go"]["foot_slip_peak_m_s"] == 1.0 and th["strict"] is False
    rows = {c["measure"]: c for c in rep["checks"]}
    local = rows["body-local tracking error (mean)"]
    assert local["limit"] == 100.0 and local["caution"] == 60.0
    assert local["value"] == pytest.approx(rep["metrics"]["mpjpe_local_mm"])
    html = (tmp_path / "go" / "report.html").read_text()
    assert "Checks and thresholds" in html and "no-go 100 mm</text>" in html
    assert "caution 60 mm</text>" in html and ">0.5 s</text>" in html  # labelled time axis

    # caution (inside the no-go threshold, within the band): 0 by default, 2 when strict
    band = "caution.root_drift_m=0.0"
    rc, _, _ = _run(capsys, files["stand"], "controller=pd", band, "-o", tmp_path / "c")
    rep = _report(tmp_path / "c")
    assert (rc, rep["verdict"]) == (0, "caution")
    assert rep["reasons"][0].startswith("caution: root drift")
    rc, out, _ = _run(capsys, files["stand"], "controller=pd", band, "strict=true",
                      "-o", tmp_path / "s")
    assert rc == 2 and out.rstrip().endswith("exit 2 (caution, strict)")

    # no-go: 1
    rc, out, _ = _run(capsys, files["stand"], "controller=pd", "thresholds.mpjpe_local_mm=0.01",
                      "-o", tmp_path / "n")
    assert (rc, _report(tmp_path / "n")["verdict"]) == (1, "no-go")
    assert "body-local tracking error" in out

    # input / usage errors: 3, one line, and a report saying why where there is a folder
    rc, _, err = _run(capsys, tmp_path / "missing.npz", "-o", tmp_path / "e")
    assert rc == 3 and err.count("\n") == 1 and "does not exist" in err
    assert _report(tmp_path / "e")["verdict"] == "error"
    rc, _, err = _run(capsys, files["stand"], "thresholds.nope=1", "-o", tmp_path / "e2")
    assert rc == 3 and "unknown key 'thresholds.nope'" in err
    assert not (tmp_path / "e2").exists()  # a bad key: nothing written
    assert main(["validate", "demo=basic", "workers=many"]) == 3
    assert "workers='many': expected an integer" in capsys.readouterr().err
    assert main(["validate", "--help"]) == 0
    assert "exit codes: 0 go" in capsys.readouterr().out


def test_old_flags_give_the_same_report_with_a_deprecation_line_each(files, tmp_path, capsys):
    # strict caution: exit 2 in both spellings, the same verdict and measured values
    band = "caution.root_drift_m=0.0"
    rc, out, err = _run(capsys, files["stand"], "controller=pd", band, "strict=true",
                        f"out={tmp_path / 'new'}")
    assert (rc, err) == (2, "")
    rc_old, out_old, err_old = _run(capsys, files["stand"], "controller=pd", band, "--strict",
                                    "--out", tmp_path / "old")
    assert err_old == "twin validate: --strict is deprecated; use strict=true\n"
    new, old = _report(tmp_path / "new"), _report(tmp_path / "old")
    assert rc_old == 2 and old["verdict"] == new["verdict"] == "caution"
    assert old["metrics"] == new["metrics"] and old["thresholds"] == new["thresholds"]
    assert old["checks"] == new["checks"]
    assert out_old.replace(str(tmp_path / "old"), "OUT") == out.replace(str(tmp_path / "new"),
                                                                        "OUT")


def test_exit_code_tables():
    assert [exit_code(v) for v in ("go", "caution", "no-go", "error")] == [0, 0, 1, 3]
    assert exit_code("caution", strict=True) == 2
    assert batch_exit_code(["go", "caution"]) == 0
    assert batch_exit_code(["go", "caution"], strict=True) == 2
    assert batch_exit_code(["caution", "no-go"], strict=True) == 1
    assert batch_exit_code(["no-go", "error"]) == 3 and batch_exit_code([]) == 3


def test_caution_bands_on_measured_metrics(files, tmp_path):
    """Each caution band turns a go into a caution, and a no-go threshold wins over it."""
    from twin.motion.robot_motion import load_robot_motion
    from twin.validate.execute import execute

    cfg = ValidateConfig(motion=str(files["stand"]), controller="pd", out=str(tmp_path))
    motion = load_robot_motion(files["stand"])
    m = compute_metrics(execute(motion, cfg), cfg, motion.duration_s)
    assert assess(m, cfg).level == "go"
    worst_joint = min(m.min_joint_limit_margin_rad, key=m.min_joint_limit_margin_rad.get)
    margin = m.min_joint_limit_margin_rad[worst_joint]
    c = cfg.caution
    for band, words in ((replace(c, joint_limit_margin_rad=margin + 0.01),
                         f"caution: {worst_joint} comes within {margin:.3f} rad"),
                        (replace(c, mpjpe_local_mm=0.0), "caution: body-local tracking error"),
                        (replace(c, foot_slip_peak_m_s=-1.0), "slips at")):
        a = assess(m, replace(cfg, caution=band))
        assert a.level == "caution" and any(words in r for r in a.reasons), a.reasons
    a = assess(m, replace(cfg, caution=replace(c, mpjpe_local_mm=0.0),
                          thresholds=replace(cfg.thresholds, mpjpe_local_mm=0.0)))
    assert a.level == "no-go" and not any(r.startswith("caution") for r in a.reasons)


@pytest.mark.parametrize("name, words", [
    ("one_frame", "1 frame(s) (0.000 s); expected at least 2 frames"),
    ("high", "root height 100.00 m at frame 0 (t = 0.00 s) is above 1.6 m"),
    ("zero_quat", "root quaternion norm 0.000 at frame 0"),
    ("half_quat", "root quaternion norm 0.500 at frame 0"),
    ("h1", "robot 'h1' is not one of ['g1', 'g1_dex3']"),
    ("slow", "frame rate 1e-06 frames/s; expected 1 to 1000"),  # 29 frames = 2.9e7 s
])
def test_implausible_plans_are_no_go_without_physics(files, tmp_path, capsys, name, words):
    rc, out, _ = _run(capsys, files[name], "controller=pd", "-o", tmp_path)
    rep = _report(tmp_path)
    assert rc == 1 and rep["verdict"] == "no-go"
    assert rep["reasons"][0] == f"implausible plan: {rep['plan_issues'][0]['message']}"
    assert words in rep["reasons"][0]
    assert rep["metrics"] is None and not (tmp_path / "executed.npz").exists()
    assert "the plan was refused" in out and "No simulation was run" in (
        tmp_path / "report.html").read_text()


def test_divergence_at_t0_and_bad_fps_end_with_a_report(files, tmp_path, capsys):
    rc, _, _ = _run(capsys, files["diverges"], "controller=pd", "-o", tmp_path / "d")
    rep = _report(tmp_path / "d")
    assert rc == 1 and rep["verdict"] == "no-go"
    assert rep["reasons"][0] == "simulation diverged (NaN or explosion) at t = 0.02 s"
    assert rep["metrics"]["executed_s"] == 0.0
    assert np.load(tmp_path / "d" / "executed.npz")["joint_pos"].shape == (0, 29)
    rc, _, err = _run(capsys, files["fps10000"], "-o", tmp_path / "f")
    rep = _report(tmp_path / "f")
    assert rc == 3 and rep["verdict"] == "error" and err.count("\n") == 1
    assert "is 10000 frames/s; expected a positive number from 1 to 1000" in rep["reasons"][0]


def test_an_exception_inside_validation_still_writes_a_report(files, tmp_path, capsys,
                                                              monkeypatch):
    from twin.validate import run

    def broken(*args, **kwargs):
        raise RuntimeError("physics backend lost")

    monkeypatch.setattr(run, "execute", broken)
    rc, _, err = _run(capsys, files["stand"], "controller=pd", "-o", tmp_path)
    rep = _report(tmp_path)
    assert rc == 3 and rep["verdict"] == "error"
    assert rep["reasons"] == ["RuntimeError: physics backend lost"]
    assert "validation failed: RuntimeError: physics backend lost" in err
    assert "ERROR" in (tmp_path / "report.html").read_text()


def test_video_backend_is_checked_before_simulating(files, tmp_path, monkeypatch):
    import imageio_ffmpeg

    from twin.validate import run

    def no_ffmpeg():
        raise RuntimeError("no ffmpeg exe could be found")

    def must_not_run(*a, **k):
        raise AssertionError("simulated although the video cannot be written")

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", no_ffmpeg)
    monkeypatch.setattr(run, "execute", must_not_run)
    with pytest.raises(ImportError, match="video=true: no ffmpeg executable"):
        validate(ValidateConfig(motion=str(files["stand"]), controller="pd", video=True,
                                out=str(tmp_path)))
    assert "pip install 'twin-sim[video]'" in _report(tmp_path)["reasons"][0]


def test_batch_always_writes_a_row_per_motion(files, tmp_path, capsys):
    import shutil

    d = tmp_path / "plans"
    d.mkdir()
    for name in ("stand", "one_frame", "diverges"):
        shutil.copy(files[name], d / f"{name}.npz")
    shutil.copy(files["fps10000"], d / "fast.pt")
    (d / "broken.npz").write_bytes(b"PK\x03\x04 not a zip")
    rc, out, _ = _run(capsys, f"batch={d}", "controller=pd", "workers=1", "-o", tmp_path / "o")
    rows = json.loads((tmp_path / "o" / "summary.json").read_text())
    verdicts = {r["motion"].split("/")[-1]: r["verdict"] for r in rows}
    assert verdicts == {"stand.npz": "go", "one_frame.npz": "no-go", "diverges.npz": "no-go",
                        "fast.pt": "error", "broken.npz": "error"}
    assert rc == 3 and "1 of 5 go, 0 caution, 2 no-go, 2 error" in out
    assert all(r["reasons"] for r in rows if r["verdict"] != "go")
    # every motion has its own report folder, errors included
    assert _report(tmp_path / "o" / "fast")["verdict"] == "error"
    # an empty folder: exit 3 and still a summary.json
    (tmp_path / "empty").mkdir()
    rc, _, err = _run(capsys, f"batch={tmp_path / 'empty'}", "-o", tmp_path / "o2")
    assert rc == 3 and json.loads((tmp_path / "o2" / "summary.json").read_text()) == []
    assert "batch=" in err and "expected a folder holding motion files" in err
    # the old spelling: the same rows, a deprecation line per flag
    rc_old, out_old, err_old = _run(capsys, "--batch", d, "controller=pd", "--workers", "1",
                                    "-o", tmp_path / "old")
    old = json.loads((tmp_path / "old" / "summary.json").read_text())
    assert rc_old == rc and out_old.splitlines()[0] == out.splitlines()[0]
    assert [{k: v for k, v in r.items() if k != "out"} for r in old] == [
        {k: v for k, v in r.items() if k != "out"} for r in rows]
    assert err_old.splitlines()[:2] == [
        f"twin validate: --batch is deprecated; use batch={d}",
        "twin validate: --workers is deprecated; use workers=1"]


def test_progress_line_per_second_of_motion(tmp_path, capsys):
    p = tmp_path / "two_s.npz"
    save_robot_motion(standing_motion(T=101), p)  # 2 s at 50 Hz
    validate(ValidateConfig(motion=str(p), controller="pd", out=str(tmp_path / "o"),
                            progress=True))
    err = capsys.readouterr().err
    assert "2/2 s of motion" in err


def test_gvhmr_without_fps_defaults_to_30_with_a_note(tmp_path, capsys):
    pt = write_torch_zip(gvhmr_dict(T=45), tmp_path / "hmr4d_results.pt")
    rc, out, _ = _run(capsys, pt, "controller=pd", "-o", tmp_path / "o")
    rep = _report(tmp_path / "o")
    assert rep["input"]["source_fps"] == "30" and rep["input"]["source_fps_from"] == "default"
    assert out.startswith("note: gvhmr results carry no frame rate; assuming 30 fps")
    # fps=N overrides the default; --fps N is its deprecated spelling, same report
    rc, out, err = _run(capsys, pt, "controller=pd", "fps=25", "-o", tmp_path / "p")
    assert _report(tmp_path / "p")["input"]["source_fps"] == "25" and "note:" not in out
    assert rc in (0, 1, 2) and "deprecated" not in err
    rc_old, out_old, err_old = _run(capsys, pt, "controller=pd", "--fps", "25",
                                    "-o", tmp_path / "q")
    assert err_old == "twin validate: --fps is deprecated; use fps=25\n"
    assert out_old.replace(str(tmp_path / "q"), "OUT") == out.replace(str(tmp_path / "p"), "OUT")
    assert (rc_old, _report(tmp_path / "q")["metrics"]) == (rc, _report(tmp_path / "p")[
        "metrics"])


def test_batch_survives_a_worker_that_dies(files, tmp_path, monkeypatch):
    import os
    import shutil

    from twin.validate import run
    from twin.validate.batch import validate_batch

    def killed(cfg):  # as the kernel's OOM killer would
        os._exit(137)

    monkeypatch.setattr(run, "validate", killed)  # forked workers inherit the patch
    d = tmp_path / "plans"
    d.mkdir()
    shutil.copy(files["stand"], d / "a.npz")
    shutil.copy(files["stand"], d / "b.npz")
    rows = validate_batch(d, ValidateConfig(controller="pd", out=str(tmp_path / "o")), workers=2)
    assert [r["motion"].split("/")[-1] for r in rows] == ["a.npz", "b.npz"]
    assert all(r["verdict"] == "error" and "worker process died" in r["reasons"][0]
               for r in rows)
