"""A quick-look video of a ``RobotMotion``: the G1 replaying it kinematically beside the
human skeleton it was retargeted from (when the file carries ``human_joint_pos_w``).

This module imports ``mujoco`` (rendering, like ``twin.sim``): an accepted exception for a
preview tool. Offscreen GL is EGL by default (``twin.sim.gl.configure_gl``), which runs on
Mesa's llvmpipe without a GPU; shadows, reflections and MSAA are off to keep it fast. The
skeleton is drawn as capsules and spheres added to the ``MjvScene``, offset sideways from
the robot by ``skeleton_offset_m`` so the two do not overlap.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from twin.motion.robot_motion import RobotMotion
from twin.motion.smpl import SMPL_BODY_JOINT_NAMES, SMPL_BODY_PARENTS


def _skeleton_edges(names: tuple[str, ...]) -> list[tuple[int, int]]:
    edges = []
    for i, n in enumerate(names):
        if n not in SMPL_BODY_JOINT_NAMES:
            continue
        p = SMPL_BODY_PARENTS[SMPL_BODY_JOINT_NAMES.index(n)]
        while p >= 0 and SMPL_BODY_JOINT_NAMES[p] not in names:
            p = SMPL_BODY_PARENTS[p]
        if p >= 0:
            edges.append((names.index(SMPL_BODY_JOINT_NAMES[p]), i))
    return edges


def _side_offset(root_xy: np.ndarray, distance: float) -> np.ndarray:
    d = root_xy[-1] - root_xy[0]
    if np.linalg.norm(d) < 0.2:
        return np.array([0.0, distance, 0.0])
    d = d / np.linalg.norm(d)
    return distance * np.array([-d[1], d[0], 0.0])


def render_motion_video(motion: RobotMotion, path: str | Path, *, fps: float = 25.0,
                        width: int = 640, height: int = 360, max_seconds: float | None = None,
                        skeleton_offset_m: float = 0.9) -> dict[str, float]:
    """Write an H.264 ``.mp4`` of ``motion``; returns frames written and render speed."""
    from twin.sim.gl import configure_gl

    configure_gl()
    import imageio_ffmpeg
    import mujoco

    from twin.retarget.kinematics import qpos_addresses
    from twin.robots import get
    from twin.sim.mujoco_robot import robot_mjspec

    with_hands = motion.hand_joint_pos is not None
    spec_r = get("g1_dex3" if with_hands and motion.robot == "g1" else motion.robot)
    spec = robot_mjspec(spec_r, "stiff" if "stiff" in spec_r.gain_profiles else None)
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05],
                            rgba=[0.82, 0.84, 0.86, 1.0])
    light = spec.worldbody.add_light(pos=[0, 0, 4.0], dir=[0.3, 0.2, -1.0])
    light.type = mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
    light.diffuse = [0.7, 0.7, 0.7]
    model = spec.compile()
    model.vis.quality.offsamples = 0
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    data = mujoco.MjData(model)
    adr = qpos_addresses(model, motion.joint_names)
    hand_adr = qpos_addresses(model, motion.hand_joint_names) if with_hands else None

    n_src = motion.num_frames if max_seconds is None else min(
        motion.num_frames, int(max_seconds * motion.fps) + 1)
    idx = np.unique(np.round(np.arange(0, n_src, motion.fps / fps)).astype(int).clip(0, n_src - 1))
    offset = _side_offset(motion.root_pos_w[:, :2], skeleton_offset_m)
    human = motion.human_joint_pos_w
    edges = _skeleton_edges(motion.human_joint_names) if human is not None else []

    renderer = mujoco.Renderer(model, height=height, width=width)
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.distance, cam.elevation = 3.2, -12.0
    heading = np.arctan2(*(motion.root_pos_w[-1, 1::-1] - motion.root_pos_w[0, 1::-1]))
    # Look at the robot's front from 30 degrees off its heading: robot and skeleton (offset
    # to the robot's left) then stand side by side in the image.
    cam.azimuth = float(np.degrees(heading)) + 180.0 + 30.0
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, quality=7,
                                         macro_block_size=8)
    writer.send(None)
    start = time.perf_counter()
    eye = np.eye(3).flatten()
    try:
        for t in idx:
            data.qpos[:3] = motion.root_pos_w[t]
            data.qpos[3:7] = motion.root_quat_wxyz[t]
            data.qpos[adr] = motion.joint_pos[t]
            if hand_adr is not None:
                data.qpos[hand_adr] = motion.hand_joint_pos[t]
            mujoco.mj_kinematics(model, data)
            cam.lookat[:] = motion.root_pos_w[t] + 0.5 * offset * (human is not None)
            cam.lookat[2] = 0.7
            renderer.update_scene(data, camera=cam)
            scn = renderer.scene
            scn.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
            scn.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
            if human is not None:
                pts = human[t] + offset
                for a, b in edges:
                    if scn.ngeom >= scn.maxgeom:
                        break
                    g = scn.geoms[scn.ngeom]
                    mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3),
                                        np.zeros(3), eye, np.array([0.9, 0.45, 0.2, 1.0]))
                    mujoco.mjv_connector(g, mujoco.mjtGeom.mjGEOM_CAPSULE, 0.018, pts[a], pts[b])
                    scn.ngeom += 1
                for p in pts:
                    if scn.ngeom >= scn.maxgeom:
                        break
                    mujoco.mjv_initGeom(scn.geoms[scn.ngeom], mujoco.mjtGeom.mjGEOM_SPHERE,
                                        np.array([0.03, 0, 0]), p, eye,
                                        np.array([0.2, 0.3, 0.8, 1.0]))
                    scn.ngeom += 1
            writer.send(np.ascontiguousarray(renderer.render()))
    finally:
        writer.close()
        renderer.close()
    elapsed = time.perf_counter() - start
    return {"frames": float(len(idx)), "fps": float(fps),
            "render_fps": len(idx) / elapsed if elapsed > 0 else float("inf")}
