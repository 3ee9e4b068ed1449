"""``video.mp4``: the simulated robot with a translucent ghost of the kinematic reference
(the renderer draws ghosts orange at 45 % opacity: unlike the grey G1 and the blue floor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.validate.config import ValidateConfig
from twin.validate.execute import ExecutionLog


def check_video_backend() -> None:
    """Raise ImportError (one line) when ``video.mp4`` could not be encoded; called before
    the simulation so that ``video=true`` never fails after it."""
    try:
        import imageio.v2  # noqa: F401
        import imageio_ffmpeg
    except ImportError as exc:
        raise ImportError(f"video=true needs imageio-ffmpeg ({exc}); install the video extra: "
                          "pip install 'twin-sim[video]'") from exc
    try:
        imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise ImportError(f"video=true: no ffmpeg executable ({exc}); install the video extra: "
                          "pip install 'twin-sim[video]'") from exc


def write_video(log: ExecutionLog, cfg: ValidateConfig, out: Path) -> Path:
    import imageio.v2 as imageio

    from twin.scene.config import load_scene_config
    from twin.sim import make_backend

    robot = "g1_dex3" if log.hand_targets is not None else "g1"
    scene = load_scene_config(cfg.scene, [f"robot={robot}", "gains=stiff"])
    backend = make_backend(scene, render_profile=cfg.render_profile)
    try:
        cams = backend.camera_names
        if not cams:
            raise ValueError(f"scene {cfg.scene}: has no camera to render the video from")
        camera = cfg.video_camera or cams[0]
        if camera not in cams:
            raise ValueError(f"video_camera {camera!r}; the scene has {list(cams)}")
        w, h = (int(v) for v in cfg.video_size)
        ghost_idx = backend.joint_qpos_index(log.joint_names)
        root = backend.free_joint_qpos_index("pelvis")
        path = out / "video.mp4"
        writer = imageio.get_writer(path, fps=log.fps, codec="libx264", quality=7,
                                    macro_block_size=8, ffmpeg_log_level="error")
        try:
            for k in range(len(log.qpos)):
                ghost = log.qpos[k].copy()  # the reference at the same control step
                ghost[root[:3]] = log.ref_body_pos_w[k, 0]
                ghost[root[3:]] = log.ref_body_quat_wxyz[k, 0]
                ghost[ghost_idx] = log.ref_joint_pos[k]
                backend.set_state(log.qpos[k][None], np.zeros((1, backend.get_qvel().shape[1])))
                writer.append_data(backend.render(camera, w, h, ghost_qpos=ghost))
        finally:
            writer.close()
        return path
    finally:
        backend.close()
