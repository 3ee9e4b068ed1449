"""Small files that once exhausted memory or needed torch, plans that cannot be physical in
`twin retarget`, and the reference ghost's colour (issue 14)."""

from __future__ import annotations

import sys
import tracemalloc
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from plan_files import gvhmr_dict, standing_motion, write_torch_zip

from twin.cli.main import main
from twin.motion import MotionFormatError, load_human_motion
from twin.motion.checks import ImplausiblePlanError, check_robot_motion, require_plausible
from twin.motion.limits import MAX_FRAMES, ResourceLimitError
from twin.motion.safe_pickle import safe_loads_pickle
from twin.motion.torch_zip import load_torch_zip

MB = 1 << 20


def _peak_mb(fn) -> float:
    """Peak Python/numpy allocation (MB) while ``fn`` runs; numpy reports to tracemalloc."""
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / MB


def _joints_npz(path, T: int, fps: float):
    rng = np.random.default_rng(0)
    names = np.array(["pelvis", "left_hip", "right_hip", "left_knee", "right_knee",
                      "left_ankle", "right_ankle", "neck"])
    pos = rng.normal(0, 0.3, (T, len(names), 3)) + [0, 0, 1.0]
    np.savez_compressed(path, joint_pos=pos, joint_names=names, up_axis=np.array("z"),
                        fps=np.array(fps))
    return path


def test_tiny_fps_is_refused_before_resampling(tmp_path):
    # 34 KB of joints at fps 1e-6 once resampled into billions of frames (killed at ~21 GB)
    p = _joints_npz(tmp_path / "slow.npz", T=140, fps=1e-6)
    assert p.stat().st_size < 64 * 1024

    def load():
        with pytest.raises(ResourceLimitError, match=r"key 'fps': is 1e-06 frames/s; expected a "
                                                     r"positive number from 1 to 1000"):
            load_human_motion(p)

    assert _peak_mb(load) < 20


def test_frame_cap_after_resampling(tmp_path):
    # 2000 frames at 1 fps last 33 min: more than MAX_FRAMES at 50 Hz, refused up front
    p = _joints_npz(tmp_path / "long.npz", T=2000, fps=1.0)

    def load():
        with pytest.raises(ResourceLimitError, match=f"expected at most {MAX_FRAMES}"):
            load_human_motion(p)

    assert _peak_mb(load) < 20


def test_compressed_npz_bomb_is_refused_from_its_headers(tmp_path, monkeypatch):
    from twin.motion import limits

    p = tmp_path / "bomb.npz"
    np.savez_compressed(p, poses=np.zeros((20000, 156)), trans=np.zeros((20000, 3)))
    assert p.stat().st_size < 100 * 1024  # 25 MB of zeros in ~25 KB
    monkeypatch.setattr(limits, "MIN_ALLOC_BUDGET_BYTES", 4 * MB)  # shrink to test scale

    def load():
        with pytest.raises(ResourceLimitError, match=r"array 'poses.npy' \(20000, 156\) "
                                                     r"float64 needs 24 MB"):
            load_human_motion(p, fps=30)

    assert _peak_mb(load) < 2  # headers only: the 25 MB were never decompressed


@pytest.mark.parametrize("raw, words", [
    # 35 bytes: bytearray(2**31 - 1) allocated 2 GB
    (b"\x80\x02c__builtin__\nbytearray\nq\x00J\xff\xff\xff\x7f\x85R.", r"bytearray\(int\)"),
    (b"\x80\x02c__builtin__\nbytes\nJ\xff\xff\xff\x7f\x85R.", r"bytes\(int\)"),
    (b"\x80\x02cnumpy\nndarray\nJ\x00\x00\x00\x40\x85R.", r"numpy\.ndarray\(shape\)"),
    ((b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nJ\x00\x00\x00\x40\x85U\x01b"
      b"\x87R."), r"numpy array \(1073741824,\) needs 1024 MB"),
])
def test_unpickler_refuses_allocating_constructors(tmp_path, raw, words):
    assert len(raw) <= 65

    def load():
        with pytest.raises(ResourceLimitError, match=words):
            safe_loads_pickle(raw, "wham_output.pkl")

    assert _peak_mb(load) < 5
    path = tmp_path / "wham_output.pkl"
    path.write_bytes(raw)
    with pytest.raises(MotionFormatError, match="wham_output.pkl"):
        load_human_motion(path, fps=30)


def test_unpickler_still_reads_plain_data():
    import pickle

    data = {"a": np.arange(6.0).reshape(2, 3), "b": b"xyz", "c": bytearray(b"ab"), "d": [1, 2]}
    for protocol in (2, 4, 5):
        out = safe_loads_pickle(pickle.dumps(data, protocol=protocol))
        assert np.array_equal(out["a"], data["a"]) and out["b"] == b"xyz"
        assert out["c"] == bytearray(b"ab") and out["d"] == [1, 2]


def test_pt_files_are_read_without_torch(tmp_path, monkeypatch):
    pt = write_torch_zip(gvhmr_dict(T=45), tmp_path / "hmr4d_results.pt")
    if "torch" not in sys.modules or sys.modules["torch"] is not None:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:  # the writer's files are real torch checkpoints
            ref = torch.load(pt, weights_only=True)["smpl_params_global"]["transl"].numpy()
            assert np.array_equal(load_torch_zip(pt)["smpl_params_global"]["transl"], ref)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails from here on
    hm = load_human_motion(pt)
    assert hm.num_frames == 74 and hm.source["source_fps_from"] == "default"
    # transposed / strided tensors come back in their logical layout
    t = np.arange(24, dtype=np.float32).reshape(4, 6)
    p2 = write_torch_zip({"t": t}, tmp_path / "t.pt")
    assert np.array_equal(load_torch_zip(p2)["t"], t)


def test_pt_with_code_is_refused_by_name_without_torch(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    evil = b"cos\nsystem\n" + b"X\x04\x00\x00\x00echoR"
    pt = write_torch_zip({"smpl_params_global": "EXTRA"}, tmp_path / "hmr4d_results.pt", evil)
    with pytest.raises(MotionFormatError, match=r"pickle names the class os\.system"):
        load_human_motion(pt)
    # a storage that claims more than the file holds
    ok = write_torch_zip(gvhmr_dict(T=5), tmp_path / "short.pt")
    data = zipfile.ZipFile(ok).read("short/data.pkl").replace(b"J\x0f\x00\x00\x00t", b"J\x00\x00"
                                                              b"\x00\x10t")
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(ok) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename.replace("short/", "bad/"),
                         data if info.filename.endswith("data.pkl") else src.read(info))
    with pytest.raises(MotionFormatError, match="holds 60 bytes; expected 268435456 x 4"):
        load_torch_zip(bad)


def test_retarget_refuses_a_teleport(tmp_path, capsys):
    # a 100 m jump of the subject half-way: the IK residual was 38 m and nothing warned
    pt = write_torch_zip(gvhmr_dict(T=60, teleport_m=100.0), tmp_path / "hmr4d_results.pt")
    out = tmp_path / "walk.npz"
    assert main(["retarget", str(pt), "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "implausible plan: the subject's pelvis moves" in err
    assert "IK residual" in err and "the robot cannot follow this human motion" in err
    assert not out.exists()
    assert main(["retarget", str(pt), "-o", str(out), "--allow-implausible"]) == 0
    assert "warning: implausible plan: IK residual" in capsys.readouterr().out
    # the shared checks (validate, eval tracker) refuse a robot plan that teleports
    m = standing_motion(T=10)
    root = m.root_pos_w.copy()
    root[5:, 0] += 100.0
    with pytest.raises(ImplausiblePlanError, match=r"plan\.npz: implausible plan: root moves "
                                                   r"100\.00 m in one frame \(5000\.0 m/s\) at "
                                                   r"frame 5 \(t = 0\.10 s\)"):
        require_plausible(check_robot_motion(replace(m, root_pos_w=root)), "plan.npz")


def test_eval_tracker_refuses_an_implausible_clip():
    from twin.evaluate.tracker import evaluate_tracker

    good, high = standing_motion(T=10), standing_motion(T=10, root_z=100.0)
    high = replace(high, source={"file": "clips/high.npz"})
    with pytest.raises(ImplausiblePlanError, match=r"clips/high\.npz: implausible plan: root "
                                                   r"height 100\.00 m"):
        evaluate_tracker([good, high], None, gains="stiff")


def test_reference_ghost_is_orange_and_translucent():
    from twin.scene.config import load_scene_config
    from twin.sim import make_backend

    backend = make_backend(load_scene_config("empty", ["robot=g1"]), render_profile="fast")
    try:
        q = backend.get_qpos()[0].copy()
        ghost = q.copy()
        ghost[0] += 0.3  # beside the robot
        cam = backend.camera_names[0]
        plain = backend.render(cam, 160, 120).astype(int)
        with_ghost = backend.render(cam, 160, 120, ghost_qpos=ghost).astype(int)
    finally:
        backend.close()
    orange = lambda img: ((img[..., 0] - img[..., 2] > 80) & (img[..., 1] > 40)).mean()
    assert orange(plain) < 0.001 and orange(with_ghost) > 0.01
