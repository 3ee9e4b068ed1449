"""``twin validate ... record=DIR``: the G1 execution becomes a LeRobot episode with body
skeleton prompts, executed joint angles as state and the commanded targets as actions."""

from __future__ import annotations

import json

import numpy as np

from twin.cli.main import main
from twin.motion.robot_motion import save_robot_motion
from twin.record import check_dataset, load_episode, load_info
from twin.record.recovery import read_episode_rows
from twin.retarget.kinematics import robot_motion_from_qpos
from twin.robots import get
from twin.robots.g1 import G1_JOINT_NAMES
from twin.robots.keypoints import keypoint_table


def test_validation_records_the_execution_with_prompts(tmp_path):
    T = 12
    q = np.tile(get("g1").default_joint_pos_array(), (T, 1))
    q[:, G1_JOINT_NAMES.index("right_shoulder_pitch_joint")] -= np.linspace(0, 0.5, T)
    motion = robot_motion_from_qpos("g1", np.tile([0, 0, 0.755], (T, 1)),
                                    np.tile([1.0, 0, 0, 0], (T, 1)), q, 50.0,
                                    source={"name": "raise"})
    save_robot_motion(motion, tmp_path / "raise.npz")
    # through the command line, as a user runs it (record= is a key of configs/validate)
    rc = main(["validate", str(tmp_path / "raise.npz"), "controller=pd",
               f"out={tmp_path / 'report'}", f"record={tmp_path / 'ds'}", "settle_s=0",
               "progress=false"])
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert rc == {"go": 0, "no-go": 1, "caution": 2}[report["verdict"]]
    info = check_dataset(tmp_path / "ds")
    assert report["record"] == {"dataset": str(tmp_path / "ds"), "episode": 0}
    ep = load_episode(tmp_path / "ds", 0)
    f = load_info(tmp_path / "ds").features
    assert info.robot_type == "g1" and ep.length == T - 2  # T - 1 steps, the last has no next
    assert f["observation.state"].names == tuple(G1_JOINT_NAMES)
    assert f["action"].names == tuple(G1_JOINT_NAMES)
    # state t is the executed joint angles, action t the target commanded at step t + 1
    i = G1_JOINT_NAMES.index("right_shoulder_pitch_joint")
    assert ep.data["action"][-1, i] < ep.data["action"][0, i] - 0.3
    k = len(keypoint_table("g1"))
    assert ep.data["observation.prompts.front.keypoints"].shape == (T - 2, k, 2)
    assert (ep.data["observation.prompts.front.visibility"] > 0).mean() > 0.9
    row = read_episode_rows(tmp_path / "ds")[0]
    assert row["policy"] == "pd" and row["motion"] == "raise.npz"
    assert row["success"] == (report["verdict"] == "go")
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "success over the 1 kept episodes" in card and "`front`" in card
