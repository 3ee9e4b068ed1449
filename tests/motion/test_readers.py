"""Every reader on a synthetic SMPL motion with known joint angles: formats agree, angles
come back, y-up/z-up and the pelvis = J0(beta) + transl trap are handled."""

from __future__ import annotations

import motion_synth as ms
import numpy as np
import pytest

from twin.motion import detect_format, load_human_motion, read_raw_motion
from twin.motion.human_motion import load_human_motion_npz, save_human_motion
from twin.motion.normalise import normalise
from twin.motion.rotations import quat_conj, quat_mul, quat_to_matrix, quat_to_rotvec
from twin.motion.smpl import MEAN_SHAPE_HEIGHT_M, mean_shape_rest_joints

REST = mean_shape_rest_joints()


@pytest.fixture(scope="module")
def motion() -> ms.SynthMotion:
    return ms.make_motion(T=60)


@pytest.fixture(scope="module")
def files(tmp_path_factory, motion):
    d = tmp_path_factory.mktemp("readers")
    out = {
        "gvhmr": ms.write_gvhmr(motion, d / "hmr4d_results.pt"),
        "gem": ms.write_gvhmr(motion, d / "gem_demo.pt", key="body_params_global"),
        "wham": ms.write_wham(motion, d / "wham_output.pkl"),
        "amass_smplh": ms.write_amass_smplh(motion, REST, d / "amass_smplh.npz"),
        "amass_smplx": ms.write_amass_smplx(motion, REST, d / "amass_smplx.npz"),
        "joints": ms.write_joints_npz(motion, REST, d / "joints.npz"),
    }
    return out


def _load(path, fmt, target_fps=None):
    # GVHMR/GEM/WHAM files carry no frame rate: pass it explicitly, as a user would.
    fps = ms.FPS if fmt in ("gvhmr", "gem", "wham") else None
    return load_human_motion(path, fps=fps, target_fps=target_fps)


@pytest.mark.parametrize("fmt", ["gvhmr", "gem", "wham", "amass_smplh", "amass_smplx", "joints"])
def test_detect_format_from_content(files, fmt):
    assert detect_format(files[fmt]) == fmt


@pytest.mark.parametrize("fmt", ["gvhmr", "gem", "wham", "amass_smplh", "amass_smplx", "joints"])
def test_every_reader_gives_the_reference_joints(files, motion, fmt):
    hm = _load(files[fmt], fmt)
    ref = ms.reference_joints_zup(motion, REST)
    ref[..., 2] -= ref[..., 2].min() - 0  # compare up to the floor offset
    got = hm.joint_pos_w - hm.joint_pos_w[..., 2].min() * np.array([0, 0, 1])
    err_mm = 1000 * np.abs(got - ref).max()
    # float32 storage in the .pt files bounds the agreement at ~1e-4 m.
    assert err_mm < 0.2, f"{fmt}: max joint error {err_mm:.3f} mm"
    assert hm.num_frames == motion.T and hm.fps == ms.FPS
    assert hm.joint_pos_w[..., 2].min() >= -1e-9  # feet at or above the floor


@pytest.mark.parametrize("fmt", ["gvhmr", "amass_smplh", "amass_smplx"])
def test_known_knee_and_elbow_angles_come_back(files, motion, fmt):
    hm = _load(files[fmt], fmt)
    q = hm.joint_quat_wxyz
    i = hm.joint_names.index
    knee = np.linalg.norm(quat_to_rotvec(quat_mul(quat_conj(q[:, i("left_hip")]),
                                                  q[:, i("left_knee")])), axis=-1)
    elbow = np.linalg.norm(quat_to_rotvec(quat_mul(quat_conj(q[:, i("right_shoulder")]),
                                                   q[:, i("right_elbow")])), axis=-1)
    assert np.degrees(np.abs(knee - motion.knee_angle)).max() < 0.01
    assert np.degrees(np.abs(elbow - motion.elbow_angle)).max() < 0.01


def test_y_up_becomes_z_up_and_frames_face_forward(files):
    hm = _load(files["gvhmr"], "gvhmr")
    head_above_pelvis = hm.joint("head")[:, 2] - hm.joint("pelvis")[:, 2]
    assert head_above_pelvis.min() > 0.4  # standing: head ~0.58 m above the pelvis
    # Frame 0 has zero root rotation: SMPL faces +z (y-up) -> -y in the z-up world.
    R0 = quat_to_matrix(hm.joint_quat_wxyz[0, 0])
    assert np.allclose(R0[:, 0], [0, -1, 0], atol=1e-6)  # pelvis x axis = forward
    left = hm.joint("left_hip")[0] - hm.joint("right_hip")[0]
    cos = left @ R0[:, 1] / np.linalg.norm(left)
    assert cos > 0.99  # pelvis y axis points to the subject's left hip


def test_pelvis_is_J0_plus_transl_not_transl(files, motion):
    raw = read_raw_motion(files["amass_smplx"])
    hm = normalise(raw, target_fps=None, floor=False)
    _, transl_z = ms.amass_params(motion, REST)
    err = np.abs(hm.joint("pelvis") - (transl_z + REST[0])).max()
    assert err < 1e-9
    assert np.linalg.norm(REST[0]) > 0.2  # the trap is real: J0 is 22 cm from the origin


def test_resampling_to_50_hz_keeps_duration_and_slerps(files, motion):
    hm = _load(files["amass_smplh"], "amass_smplh", target_fps=50.0)
    assert hm.fps == 50.0
    assert hm.num_frames == int(np.floor((motion.T - 1) / ms.FPS * 50 + 1e-9)) + 1
    native = _load(files["amass_smplh"], "amass_smplh")
    # Source frame 3k is at t = 0.1 k s = output frame 5k: identical there.
    assert np.abs(hm.joint_pos_w[::5] - native.joint_pos_w[::3][: len(hm.joint_pos_w[::5])]).max() < 1e-9
    norms = np.linalg.norm(hm.joint_quat_wxyz, axis=-1)
    assert np.abs(norms - 1).max() < 1e-9


def test_wham_picks_longest_or_named_track(files, motion):
    assert read_raw_motion(files["wham"]).num_frames == motion.T
    assert read_raw_motion(files["wham"], track_id=0).num_frames == 5


def test_human_motion_npz_round_trip(files, tmp_path):
    hm = _load(files["gvhmr"], "gvhmr", target_fps=50.0)
    save_human_motion(hm, tmp_path / "hm.npz")
    back = load_human_motion_npz(tmp_path / "hm.npz")
    assert back.joint_names == hm.joint_names and back.fps == hm.fps
    assert np.array_equal(back.joint_pos_w, hm.joint_pos_w)
    assert np.array_equal(back.joint_quat_wxyz, hm.joint_quat_wxyz)
    assert back.source == hm.source
    assert load_human_motion(tmp_path / "hm.npz").num_frames == hm.num_frames


def test_joint_positions_height_estimate(files):
    hm = _load(files["joints"], "joints")
    assert abs(hm.height_m - MEAN_SHAPE_HEIGHT_M) < 0.01  # within 1 cm of the true 1.70 m
    assert hm.joint_quat_wxyz is None


def test_npy_with_joint_map_and_mocap_map(tmp_path, motion):
    from twin.motion.joint_maps import BUILTIN_JOINT_MAPS
    from twin.motion.smpl import SMPL_BODY_JOINT_NAMES, SMPL_PARENTS, forward_kinematics

    pos, _ = forward_kinematics(REST[:22], SMPL_PARENTS[:22], motion.root_orient,
                                motion.body_pose, motion.transl)
    jm = BUILTIN_JOINT_MAPS["mocap_demo"]
    inv = {v: k for k, v in jm.to_smpl.items()}
    arr = np.zeros((motion.T, len(jm.names), 3))
    for j, n in enumerate(SMPL_BODY_JOINT_NAMES):
        if n in inv:
            arr[:, jm.names.index(inv[n]), :] = pos[:, j]
    np.save(tmp_path / "mocap.npy", arr.astype(np.float32))
    hm = load_human_motion(tmp_path / "mocap.npy", joint_map="mocap_demo", up_axis="y",
                           fps=ms.FPS, target_fps=None)
    assert "spine2" not in hm.joint_names and "left_wrist" in hm.joint_names
    assert len(hm.joint_names) == 21  # all SMPL body joints but spine2


@pytest.mark.parametrize("columns,facing,swap", [("anatomical", "front", False),
                                                 ("image_plane", "front", True),
                                                 ("image_plane", "back", False)])
def test_bundle_hand_state_columns(tmp_path, motion, columns, facing, swap):
    body = ms.write_amass_smplx(motion, REST, tmp_path / "body.npz")
    hs = np.zeros((motion.T, 2), dtype=np.int8)
    hs[20:, 0] = 2  # the first column closes at frame 20
    hs[40:, 1] = 1
    bundle = ms.write_bundle(body, hs, tmp_path / "bundle.json", columns, facing)
    assert detect_format(bundle) == "bundle"
    hm = load_human_motion(bundle, target_fps=None)
    expected = hs[:, ::-1] if swap else hs
    assert np.array_equal(hm.hand_state, expected)
    hm50 = load_human_motion(bundle)
    # Nearest-frame resampling: the switch at t = 20/30 s lands on 50 Hz frame 33.
    col = 1 if swap else 0
    assert hm50.hand_state[33, col] == 2 and hm50.hand_state[32, col] == 0


def test_one_euro_reduces_jitter():
    from twin.motion.filters import OneEuroConfig, one_euro

    t = np.arange(500) / 50.0
    truth = 0.05 * np.sin(2 * np.pi * 0.1 * t)[:, None] * np.ones((1, 3))  # slow sway
    noisy = truth + np.random.default_rng(0).normal(0, 0.01, truth.shape)
    smooth = one_euro(noisy, 50.0, OneEuroConfig(min_cutoff_hz=1.0, beta=0.5))
    rms = lambda x: float(np.sqrt(np.mean((x - truth) ** 2)))
    assert rms(smooth) < 0.5 * rms(noisy), (rms(noisy), rms(smooth))


def test_smoothing_is_off_by_default_and_recorded(files):
    from twin.motion.filters import OneEuroConfig

    plain = _load(files["joints"], "joints")
    assert "smoothing" not in plain.source
    sm = load_human_motion(files["joints"], smoothing=OneEuroConfig())
    assert sm.source["smoothing"].startswith("one_euro")


def test_wham_written_by_joblib_reads_without_joblib_code(tmp_path, motion):
    joblib = pytest.importorskip("joblib", reason="joblib not installed")
    pose = np.concatenate([motion.root_orient, motion.body_pose.reshape(motion.T, 63),
                           np.zeros((motion.T, 6))], 1)
    path = tmp_path / "wham_output.pkl"
    joblib.dump({0: {"pose_world": pose, "trans_world": np.asfortranarray(motion.transl),
                     "betas": np.tile(motion.betas, (motion.T, 1)).astype(np.float32)}}, path)
    raw = read_raw_motion(path)
    assert np.array_equal(raw.transl, motion.transl)
    assert np.array_equal(raw.root_orient_aa, motion.root_orient)
