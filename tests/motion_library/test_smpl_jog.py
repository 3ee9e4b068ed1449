"""SMPL jogs (GVHMR layout): cadence, planted stances, flight, the commanded path, and their
place in the procedural catalog."""

from __future__ import annotations

import numpy as np
import pytest

from twin.motion.procedural.checks import physical_report
from twin.motion.procedural.library import (
    HUMAN_JOG_GATES,
    SMPL_JOG,
    build_catalog,
    passes,
)
from twin.motion.procedural.smpl_jog import JogSpec, generate_smpl_jog, jog_gvhmr, jog_world
from twin.retarget.config import G1_HEIGHT_M


def _stances(contact: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], contact.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2], strict=True))


def test_straight_jog_cadence_planted_stances_flight_and_distance():
    spec = JogSpec(speed_mps=2.0, jog_s=3.0, step_s=0.36, flight_frac=0.2, fps=50.0)
    w = jog_world(spec)
    assert w["ik_residual_max_m"] < 1e-3
    feet, contact, pelvis = w["feet_w"], w["contact"], w["pelvis_w"]
    from twin.motion.smpl import ANKLE_HEIGHT_FRACTION

    h = ANKLE_HEIGHT_FRACTION * spec.height_m
    touchdowns = []
    for side in ("left", "right"):
        pitch = w["foot_pitch_rad"][side]
        for a, b in _stances(contact[side]):
            if a == 0 or b == len(pitch):
                continue  # a stance cut by the clip's start or end
            # a stance foot stays put (to the float precision of the plan): flat, its ankle;
            # heel up (the last 40 % of the stance), its ball, which the ankle turns about
            flat = np.arange(a, b)[pitch[a:b] == 0.0]
            heel_up = np.arange(a, b)[pitch[a:b] > 0.0]
            assert len(flat) >= 5 and len(heel_up) >= 3
            assert np.abs(feet[side][flat] - feet[side][a]).max() < 1e-9
            th = pitch[heel_up]
            ball_x = feet[side][heel_up, 0] + w["ball_in_ankle_m"] * np.cos(th) - h * np.sin(th)
            ball_z = feet[side][heel_up, 2] - w["ball_in_ankle_m"] * np.sin(th) - h * np.cos(th)
            assert np.abs(ball_x - (feet[side][a, 0] + w["ball_in_ankle_m"])).max() < 1e-9
            assert np.abs(ball_z - (feet[side][a, 2] - h)).max() < 1e-9  # at the floor
            assert th.max() > 0.3  # heel up by ~0.45 rad at lift-off
            touchdowns.append(a)
    steps = np.diff(np.sort(touchdowns)) / spec.fps
    assert np.median(steps) == pytest.approx(0.36, abs=0.021)  # one frame at 50 fps
    airborne = ~contact["left"] & ~contact["right"]
    assert airborne.mean() == pytest.approx(0.2, abs=0.05)  # flight_frac of every step
    # in flight the pelvis is ballistic at the G1's scale: -g there, -g x 1.70 / 1.32 in this
    # human-scale plan (finite differences)
    z = pelvis[:, 2] * G1_HEIGHT_M / spec.height_m
    acc = (z[2:] - 2 * z[1:-1] + z[:-2]) * spec.fps ** 2
    inner = airborne[1:-1] & airborne[:-2] & airborne[2:]
    assert inner.sum() >= 5
    assert np.abs(acc[inner] + 9.81).max() < 0.05
    # the pelvis passes over the stance ankle 30 % into the stance (over_foot_frac)
    for a, b in _stances(contact["left"])[1:-1]:
        over = a + int(round(0.3 * (b - a)))
        assert pelvis[over, 0] == pytest.approx(feet["left"][a, 0], abs=2.0 / spec.fps)
    # the pelvis moves at the commanded speed and stays on its line
    assert pelvis[-1, 0] - pelvis[0, 0] == pytest.approx(2.0 * 3.0, rel=1e-6)
    assert np.abs(pelvis[:, 1]).max() < 1e-9


def test_double_support_when_the_flight_share_is_negative_and_arcs_turn():
    w = jog_world(JogSpec(speed_mps=1.4, jog_s=3.0, flight_frac=-0.2, fps=50.0))
    both = w["contact"]["left"] & w["contact"]["right"]
    airborne = ~w["contact"]["left"] & ~w["contact"]["right"]
    assert both.mean() == pytest.approx(0.2, abs=0.05) and not airborne.any()
    spec = JogSpec(speed_mps=2.0, yaw_rate_rad_s=0.6, jog_s=3.0)
    w = jog_world(spec)
    R = w["root_rot_w"][-1] @ np.linalg.inv(w["root_rot_w"][0])
    assert np.arctan2(R[1, 0], R[0, 0]) == pytest.approx(0.6 * 3.0, abs=1e-6)
    T = w["pelvis_w"].shape[0]
    d = jog_gvhmr(spec)
    assert d["smpl_params_global"]["body_pose"].shape == (T, 63)


def test_retargeted_jog_runs_at_the_g1_speed_and_passes_the_jog_gates():
    spec = JogSpec(speed_mps=-1.5, jog_s=3.0, step_s=0.38, flight_frac=-0.1, lean_rad=0.05)
    motion, summary = generate_smpl_jog(spec, 50.0, "jog_backward")
    speed = np.diff(motion.root_pos_w[:, 0]) * motion.fps
    g1_speed = -1.5 * G1_HEIGHT_M / spec.height_m
    assert np.median(speed) == pytest.approx(g1_speed, rel=0.05)
    checks = {**physical_report(motion).as_dict(),
              "retarget_position_residual_p95_m": summary["position_residual_p95_m"]}
    assert passes(checks, HUMAN_JOG_GATES) == []
    assert checks["stance_frac"] > 0.9  # soles on the floor between swings, not floating
    assert motion.source["generator"] == "twin.motion.procedural.smpl_jog"


def test_catalog_draws_jogs_last_so_earlier_clips_keep_their_parameters():
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load((Path(__file__).resolve().parents[2]
                          / "configs/motion_library/default.yaml").read_text())
    counts = dict(cfg["procedural"]["counts"])
    assert list(counts)[-1] == SMPL_JOG and counts[SMPL_JOG] == 0  # off by default
    without = build_catalog(cfg)
    cfg["procedural"]["counts"] = {**counts, SMPL_JOG: 24}
    with_jogs = build_catalog(cfg)
    jogs = [s for s in with_jogs if s.category == SMPL_JOG]
    assert len(jogs) == 24 and [s for s in with_jogs if s.category != SMPL_JOG] == without
    speeds = np.array([s.params["speed_mps"] for s in jogs])
    assert (speeds < 0).any() and speeds.max() > 2.0
    assert all(0.30 <= s.params["step_s"] <= 0.42 for s in jogs)


def test_bad_jog_spec_is_one_line():
    with pytest.raises(ValueError, match=r"JogSpec.step_s: is 0.9; expected 0.25-0.6 s"):
        JogSpec(step_s=0.9)
