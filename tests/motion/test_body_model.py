"""Exact rest joints J(beta) = J_regressor (v_template + shapedirs beta) from body-model
files: npz, pickle with a scipy sparse regressor, legacy chumpy pickles (without chumpy);
FK through a body model; optional cross-check against ``smplx`` when installed."""

from __future__ import annotations

import motion_synth as ms
import numpy as np
import pytest

from twin.motion import MotionFormatError
from twin.motion.normalise import normalise
from twin.motion.readers import read_raw_motion
from twin.motion.safe_pickle import safe_loads_pickle
from twin.motion.smpl import SMPL_PARENTS, forward_kinematics, load_body_model


@pytest.fixture(scope="module")
def synth_bm() -> ms.SynthBodyModel:
    return ms.make_body_model()


@pytest.mark.parametrize("kind", ["npz", "pkl_sparse", "chumpy_p2", "chumpy_p0"])
def test_rest_joints_match_regressor_formula(tmp_path, synth_bm, kind):
    writer = {
        "npz": lambda p: ms.write_body_model_npz(synth_bm, p.with_suffix(".npz")),
        "pkl_sparse": lambda p: ms.write_body_model_pkl_sparse(synth_bm, p.with_suffix(".pkl")),
        "chumpy_p2": lambda p: ms.write_body_model_chumpy(synth_bm, p.with_suffix(".pkl"), 2),
        "chumpy_p0": lambda p: ms.write_body_model_chumpy(synth_bm, p.with_suffix(".pkl"), 0),
    }[kind]
    path = writer(tmp_path / "model")
    bm = load_body_model(path)
    betas = np.linspace(-2, 2, 10)
    expected = synth_bm.joints(betas)
    assert bm.parents == SMPL_PARENTS
    assert np.abs(bm.rest_joints(betas) - expected).max() < 1e-12
    # Shape matters: the same model with beta = 0 differs by centimetres.
    assert np.abs(bm.rest_joints(None) - expected).max() > 0.005


def test_motion_through_a_body_model_uses_J_of_beta(tmp_path, synth_bm):
    motion = ms.make_motion(T=20)
    bm_path = ms.write_body_model_npz(synth_bm, tmp_path / "smpl.npz")
    rest = synth_bm.joints(motion.betas)
    pt = ms.write_gvhmr(motion, tmp_path / "hmr4d_results.pt")
    hm = normalise(read_raw_motion(pt), fps=ms.FPS, body_model=bm_path, target_fps=None,
                   floor=False)
    ref = ms.reference_joints_zup(motion, rest)
    assert 1000 * np.abs(hm.joint_pos_w - ref).max() < 0.2  # float32 .pt storage
    assert "exact" in hm.source["skeleton"]
    y = (synth_bm.v_template + synth_bm.shapedirs @ motion.betas)[:, 1]
    assert abs(hm.height_m - (y.max() - y.min())) < 1e-9


def test_chumpy_without_x_is_rejected(tmp_path):
    import pickle
    raw = pickle.dumps({"a": 1}, protocol=2).replace(b"}", b"}", 1)
    # Hand-made protocol-0 stream: a chumpy.ch.Ch built with a state lacking 'x'.
    raw = b"ccopy_reg\n_reconstructor\n(cchumpy.ch\nCh\nc__builtin__\nobject\nNtR(dS'y'\nI1\nsb."
    with pytest.raises(MotionFormatError, match="without array data 'x'"):
        safe_loads_pickle(raw, "legacy.pkl")


def test_foreign_class_in_pickle_is_refused(tmp_path):
    raw = b"cos\nsystem\n(S'echo pwned'\ntR."
    with pytest.raises(MotionFormatError, match=r"evil\.pkl.*os\.system"):
        safe_loads_pickle(raw, "evil.pkl")


def test_smplx_cross_check(tmp_path, synth_bm):
    smplx = pytest.importorskip("smplx", reason="smplx not installed (optional cross-check)")
    torch = pytest.importorskip("torch")
    import pickle

    # smplx picks extra joints from fixed SMPL vertex ids: pad to SMPL's 6890 vertices.
    V0, V = synth_bm.v_template.shape[0], 6890
    pad = V - V0
    model = {"v_template": np.concatenate([synth_bm.v_template, np.zeros((pad, 3))]),
             "shapedirs": np.concatenate([synth_bm.shapedirs, np.zeros((pad, 3, 10))]),
             "J_regressor": np.concatenate([synth_bm.J_regressor, np.zeros((24, pad))], 1),
             "kintree_table": synth_bm.kintree_table,
             "posedirs": np.zeros((V, 3, 207), dtype=np.float32),
             "weights": np.eye(24)[np.arange(V) % 24], "f": np.array([[0, 1, 2]])}
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    with open(path, "wb") as fh:
        pickle.dump(model, fh)
    m = smplx.SMPL(model_path=str(path), num_betas=10)
    motion = ms.make_motion(T=8)
    out = m(betas=torch.tensor(motion.betas[None], dtype=torch.float32).repeat(8, 1),
            global_orient=torch.tensor(motion.root_orient, dtype=torch.float32),
            body_pose=torch.tensor(np.concatenate([motion.body_pose.reshape(8, 63),
                                                   np.zeros((8, 6))], 1), dtype=torch.float32),
            transl=torch.tensor(motion.transl, dtype=torch.float32))
    ours, _ = forward_kinematics(load_body_model(path).rest_joints(motion.betas)[:22],
                                 SMPL_PARENTS[:22], motion.root_orient, motion.body_pose,
                                 motion.transl)
    err_mm = 1000 * np.abs(out.joints.detach().numpy()[:, :22] - ours).max()
    print(f"smplx vs twin FK: max joint difference {err_mm:.5f} mm")
    assert err_mm < 0.1, err_mm  # float32 in smplx: measured 0.0002 mm
