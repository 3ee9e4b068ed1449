"""More hostile input: validate settings out of range, env kwargs an env refuses, deeply
nested JSON and pickles, a non-numeric bundle frame rate, zero IK iterations. Each ends in
one line and exit 3 with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from twin.cli.main import main

DEMO = Path(__file__).resolve().parents[2] / "assets/demo/hmr4d_results.pt"


def _one_line(capsys, argv, *needles) -> str:
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 3, (argv, rc, err)
    assert "Traceback" not in err and err.splitlines()[-1].startswith("twin: error: "), err
    for needle in needles:
        assert needle in err.splitlines()[-1], (needle, err)
    return err


@pytest.mark.parametrize("override,needle", [
    ("settle_s=-5", "settle_s=-5.0: expected a finite number >= 0"),
    ("thresholds.fall_pelvis_height_m=-1", "thresholds.fall_pelvis_height_m=-1.0: expected"),
    ("thresholds.root_drift_m=abc", "thresholds.root_drift_m='abc': expected a number"),
    ("caution.torque_saturation_fraction=2", "caution.torque_saturation_fraction=2.0"),
    ("video_size=[0,10]", "video_size=[0, 10]: expected [width, height]"),
    ("finetune_env_steps=-1", "finetune_env_steps=-1"),
])
def test_validate_settings_out_of_range(override, needle, tmp_path, capsys):
    _one_line(capsys, ["validate", "--demo", override, f"out={tmp_path / 'v'}"], needle)
    assert not (tmp_path / "v").exists()


def test_record_env_kwargs_an_env_refuses(tmp_path, capsys):
    _one_line(capsys, ["record", "twin/PandaReach-v0", "-o", str(tmp_path / "ds"), "--episodes",
                       "1", "--env-arg", "bogus=1"],
              "env_kwargs={'bogus': 1}: refused by twin/PandaReach-v0", "bogus")
    assert not (tmp_path / "ds").exists()


def test_deep_json_and_pickle_and_bad_bundle_fps(tmp_path, capsys):
    deep_json = tmp_path / "deep.json"
    deep_json.write_text('{"a":' * 50000 + "1" + "}" * 50000)
    deep_pkl = tmp_path / "deep.pkl"
    n = 100_000  # EMPTY_LIST x n, then APPEND x (n - 1): lists nested n deep
    deep_pkl.write_bytes(b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b".")
    shutil.copy(DEMO, tmp_path / "demo.pt")
    bundle = tmp_path / "fps.json"
    bundle.write_text(json.dumps({"schema": "twin.exoactor_bundle", "body": "demo.pt",
                                  "body_format": "gvhmr", "fps": "abc"}))
    out = tmp_path / "out.npz"
    _one_line(capsys, ["retarget", str(deep_json), "-o", str(out)], "JSON nested too deeply")
    _one_line(capsys, ["retarget", str(deep_pkl), "-o", str(out), "fps=30"],
              "nested deeper than 64 levels")
    _one_line(capsys, ["retarget", str(bundle), "-o", str(out)],
              "key 'fps': is 'abc'; expected a number")
    _one_line(capsys, ["retarget", str(tmp_path / "demo.pt"), "-o", str(out), "--iterations",
                       "0"], "iterations=0: expected an integer in 1..100")
    assert not out.exists()


def test_hostile_bvh_files(tmp_path, capsys):
    """Deep hierarchies (parsed without recursion), absurd frame counts and binary junk
    behind a .bvh name: one line each, nothing written."""
    out = tmp_path / "out.npz"
    deep = tmp_path / "deep.bvh"
    deep.write_text("HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation "
                    "Zrotation\n" + "JOINT j\n{\nOFFSET 0 1 0\n" * 600 + "}\n" * 601
                    + "MOTION\nFrames: 1\nFrame Time: 0.03\n0 0 0\n")
    _one_line(capsys, ["retarget", str(deep), "-o", str(out)], "more than 512 joints")
    many = tmp_path / "many.bvh"
    many.write_text("HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation "
                    "Zrotation\n}\nMOTION\nFrames: 999999999\nFrame Time: 0.03\n0 0 0\n")
    _one_line(capsys, ["retarget", str(many), "-o", str(out)], "key 'frames'")
    junk = tmp_path / "junk.bvh"
    junk.write_bytes(b"HIERARCHY\n\xff\xfe\x00" * 100)
    _one_line(capsys, ["retarget", str(junk), "-o", str(out)], "is not text")
    assert not out.exists()
