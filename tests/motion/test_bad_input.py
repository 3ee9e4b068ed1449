"""Bad input gives one clear MotionFormatError naming the file, the key and the expectation;
isolated NaN frames are repaired only on request, and the repair is counted."""

from __future__ import annotations

import pickle

import motion_synth as ms
import numpy as np
import pytest

from twin.motion import MotionFormatError, load_human_motion
from twin.motion.smpl import mean_shape_rest_joints

REST = mean_shape_rest_joints()


def _amass(tmp_path, name="a.npz", **override):
    m = ms.make_motion(T=30)
    path = ms.write_amass_smplx(m, REST, tmp_path / name)
    data = dict(np.load(path))
    data.update(override)
    for k in [k for k, v in override.items() if v is None]:
        data.pop(k)
    np.savez(path, **data)
    return path, m


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_missing_key(tmp_path):
    path, _ = _amass(tmp_path, pose_body=None, poses=None)
    with pytest.raises(MotionFormatError) as e:
        load_human_motion(path, format="amass_smplx")
    msg = _one_line(e)
    assert "a.npz" in msg and "'pose_body'" in msg and "(T, 63)" in msg


def test_wrong_shape(tmp_path):
    path, _ = _amass(tmp_path, pose_body=np.zeros((30, 60)))
    with pytest.raises(MotionFormatError, match=r"a\.npz: key 'pose_body': has shape \(30, 60\); "
                                                r"expected \(T, 63\)"):
        load_human_motion(path)


def test_frame_count_mismatch(tmp_path):
    path, _ = _amass(tmp_path, trans=np.zeros((29, 3)))
    with pytest.raises(MotionFormatError, match="'trans': has 29 frames"):
        load_human_motion(path)


def test_zero_length(tmp_path):
    path, _ = _amass(tmp_path, root_orient=np.zeros((0, 3)), pose_body=np.zeros((0, 63)),
                     trans=np.zeros((0, 3)))
    with pytest.raises(MotionFormatError, match="zero frames"):
        load_human_motion(path)


@pytest.mark.parametrize("fps", [0.0, -30.0, float("nan")])
def test_nonpositive_fps_in_file(tmp_path, fps):
    path, _ = _amass(tmp_path, mocap_frame_rate=np.array(fps))
    with pytest.raises(MotionFormatError, match="'fps'.*expected a positive number"):
        load_human_motion(path)


def test_fps_missing_everywhere(tmp_path):
    pkl = ms.write_wham(ms.make_motion(T=10), tmp_path / "wham_output.pkl")
    with pytest.raises(MotionFormatError, match=r"wham_output\.pkl: key 'fps'.*fps=N"):
        load_human_motion(pkl)
    pt = ms.write_gvhmr(ms.make_motion(T=10), tmp_path / "hmr4d_results.pt")
    with pytest.raises(MotionFormatError, match="expected a positive number"):
        load_human_motion(pt, fps=-1)
    # GVHMR results carry no frame rate; GVHMR works at 30 fps
    hm = load_human_motion(pt)
    assert hm.source["source_fps"] == "30" and hm.source["source_fps_from"] == "default"


def test_nan_frames_error_then_repair(tmp_path):
    m = ms.make_motion(T=30)
    body = m.body_pose.reshape(30, 63).copy()
    body[10, 5] = np.nan
    body[20] = np.inf
    path, _ = _amass(tmp_path, pose_body=body)
    with pytest.raises(MotionFormatError, match=r"'pose_body': 2 frame\(s\) hold NaN/Inf \(first "
                                                r"at frame 10\).*--repair"):
        load_human_motion(path)
    hm = load_human_motion(path, repair=True, target_fps=None)
    assert hm.source["repaired_frames"] == "2"
    clean = load_human_motion(_amass(tmp_path, "clean.npz")[0], target_fps=None)
    err_mm = 1000 * np.abs(hm.joint_pos_w - clean.joint_pos_w).max()
    assert err_mm < 15.0  # linear interpolation over one 33 ms frame
    assert np.isfinite(hm.joint_pos_w).all()


def test_nan_at_the_end_is_not_repaired(tmp_path):
    m = ms.make_motion(T=30)
    tr = ms.amass_params(m, REST)[1]
    tr[-1] = np.nan
    path, _ = _amass(tmp_path, trans=tr)
    with pytest.raises(MotionFormatError, match="not isolated"):
        load_human_motion(path, repair=True)


def test_unknown_joints(tmp_path):
    np.savez(tmp_path / "j.npz", joint_pos=np.zeros((5, 2, 3)), joint_names=np.array(["foo", "bar"]),
             fps=np.array(30.0), up_axis=np.array("z"))
    with pytest.raises(MotionFormatError, match=r"j\.npz: key 'joint_names'.*SMPL body joint"):
        load_human_motion(tmp_path / "j.npz")


def test_bare_npy_needs_a_joint_map(tmp_path):
    np.save(tmp_path / "j.npy", np.zeros((5, 53, 3)))
    with pytest.raises(MotionFormatError, match="expected a joint map"):
        load_human_motion(tmp_path / "j.npy", fps=30)


def test_extension_lies(tmp_path):
    path, _ = _amass(tmp_path)
    fake = tmp_path / "motion.pkl"
    fake.write_bytes(path.read_bytes())
    with pytest.raises(MotionFormatError, match=r"motion\.pkl: content is 'npz' but the extension "
                                                r"'\.pkl' promises pickle"):
        load_human_motion(fake)
    fake_pt = tmp_path / "hmr4d_results.pt"
    fake_pt.write_text("hello, world")
    with pytest.raises(MotionFormatError, match="promises torch_zip or pickle"):
        load_human_motion(fake_pt)


def test_pickle_naming_foreign_class(tmp_path):
    class Evil:
        def __reduce__(self):
            import os
            return (os.getcwd, ())

    path = tmp_path / "wham_output.pkl"
    path.write_bytes(pickle.dumps({0: {"pose_world": Evil()}}))
    with pytest.raises(MotionFormatError, match=r"wham_output\.pkl: pickle names the class "
                                                r"(posix|nt|os)\.getcwd"):
        load_human_motion(path, fps=30)


def test_torch_file_with_code_is_refused(tmp_path):
    torch = pytest.importorskip("torch")

    class Evil:
        def __reduce__(self):
            import os
            return (os.getcwd, ())

    path = tmp_path / "hmr4d_results.pt"
    torch.save({"smpl_params_global": Evil()}, path)
    with pytest.raises(MotionFormatError, match=r"hmr4d_results\.pt: torch\.load\(weights_only=True\) "
                                                "refused it"):
        load_human_motion(path, fps=30)


def test_wrong_hand_states(tmp_path):
    m = ms.make_motion(T=30)
    body = ms.write_amass_smplx(m, REST, tmp_path / "body.npz")
    bundle = ms.write_bundle(body, np.full((30, 2), 3), tmp_path / "b.json")
    with pytest.raises(MotionFormatError, match=r"b\.json: key 'hand_state'.*0 \(open\)"):
        load_human_motion(bundle)
    bundle = ms.write_bundle(body, np.zeros((29, 2)), tmp_path / "c.json")
    with pytest.raises(MotionFormatError, match=r"expected \(30, 2\)"):
        load_human_motion(bundle)
    bundle = ms.write_bundle(body, np.zeros((30, 2)), tmp_path / "d.json", columns="image_plane",
                             facing="")
    with pytest.raises(MotionFormatError, match="'subject_facing'"):
        load_human_motion(bundle)
