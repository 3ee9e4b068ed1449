"""Offscreen MuJoCo rendering: RGB, depth (m) and per-body segmentation.

Profiles: ``full`` (MuJoCo's defaults: shadows with a 4096 shadow map, reflections, 4x MSAA)
and ``fast`` (visual meshes decimated, see ``mujoco_fast_render``; reflections and MSAA off;
shadows kept, with a 512 shadow map). Shadows stay on because MuJoCo lights each
shadow-casting light in its own additive pass: switching them off changes the brightness of
the whole image, not only the shadowed parts (G1 scene: SSIM 0.87 to ``full`` without shadows,
0.98 with them; see ``benchmarks/render.py``).
Without a GPU both run on Mesa's llvmpipe through EGL (or OSMesa with MUJOCO_GL=osmesa); on a
machine with a GPU, EGL uses it. The GL backend is chosen before mujoco is first imported
(``twin.sim.gl.configure_gl``).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

RENDER_PROFILES = ("full", "fast")


@dataclass(frozen=True)
class RenderProfile:
    name: str
    shadows: bool
    reflections: bool
    msaa_samples: int
    decimate_meshes: bool
    target_faces_per_mesh: int = 800
    shadow_map_size: int | None = None  # texels per side; None keeps the model's (default 4096)


def get_render_profile(name: str) -> RenderProfile:
    if name == "full":
        return RenderProfile("full", shadows=True, reflections=True, msaa_samples=4,
                             decimate_meshes=False)
    if name == "fast":
        return RenderProfile("fast", shadows=True, reflections=False, msaa_samples=0,
                             decimate_meshes=True, target_faces_per_mesh=800,
                             shadow_map_size=512)
    raise ValueError(f"unknown render profile {name!r}; expected one of {RENDER_PROFILES}")


class MujocoRenderer:
    """Renders one model's MjData from named cameras; one GL context per image size."""

    def __init__(self, model: mujoco.MjModel, profile: RenderProfile):
        self.model = model
        self.profile = profile
        model.vis.quality.offsamples = profile.msaa_samples
        if profile.shadow_map_size is not None:
            model.vis.quality.shadowsize = profile.shadow_map_size
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        self._option = mujoco.MjvOption()
        self._option.geomgroup[:] = 0
        self._option.geomgroup[:3] = 1  # groups 0-2: world, visual meshes; 3+ collision/sites

    def _renderer(self, width: int, height: int) -> mujoco.Renderer:
        key = (width, height)
        if key not in self._renderers:
            self._grow_offscreen_buffer(width, height)
            try:
                self._renderers[key] = mujoco.Renderer(self.model, height=height, width=width)
            except mujoco.FatalError as exc:
                raise RuntimeError(
                    f"offscreen rendering unavailable ({exc}); set MUJOCO_GL=egl (or osmesa) "
                    "before mujoco is imported, e.g. import twin first, and install Debian's "
                    "libegl1 libgl1 libegl-mesa0 (or libosmesa6)") from exc
            scn = self._renderers[key].scene
            scn.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = self.profile.shadows
            scn.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = self.profile.reflections
        return self._renderers[key]

    def _grow_offscreen_buffer(self, width: int, height: int) -> None:
        vis = self.model.vis.global_
        vis.offwidth = max(vis.offwidth, width)
        vis.offheight = max(vis.offheight, height)

    def render(self, data: mujoco.MjData, camera: str | int | mujoco.MjvCamera, width: int,
               height: int, mode: str = "rgb", ghost: mujoco.MjData | None = None,
               ghost_rgba: tuple[float, float, float, float] = (1.0, 0.45, 0.0, 0.45),
               ) -> np.ndarray:
        """Render ``data``; with ``ghost``, also draw that state's dynamic geoms translucent."""
        r = self._renderer(width, height)
        if mode == "depth":
            r.enable_depth_rendering()
        elif mode == "segmentation":
            r.enable_segmentation_rendering()
        elif mode != "rgb":
            raise ValueError(f"unknown render mode {mode!r}; expected rgb, depth or segmentation")
        try:
            cam = self._mjv_camera(camera)
            # mjv_updateScene places the infinite floor plane (and its texture tiles) around the
            # scene's camera as the *previous* update left it, and only then moves that camera:
            # place the camera first, so a frame never depends on the frame drawn before it.
            mujoco.mjv_updateCamera(self.model, data, cam, r.scene)
            r.update_scene(data, camera=cam, scene_option=self._option)
            if ghost is not None:
                self._add_ghost(r.scene, ghost, ghost_rgba)
            img = r.render()
        finally:
            r.disable_depth_rendering()
            r.disable_segmentation_rendering()
        if mode == "segmentation":
            return self._segmentation_to_body_ids(img)
        return img.copy() if mode == "rgb" else img.astype(np.float32, copy=True)

    def _mjv_camera(self, camera: str | int | mujoco.MjvCamera) -> mujoco.MjvCamera:
        """``camera`` as an MjvCamera: a model camera by name or id, or -1 for the free camera."""
        if isinstance(camera, mujoco.MjvCamera):
            return camera
        cam_id = camera
        if isinstance(camera, str):
            cam_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
            if cam_id < 0:
                raise ValueError(f"unknown camera {camera!r}")
        if not -1 <= int(cam_id) < self.model.ncam:
            raise ValueError(f"camera id {cam_id} out of range [-1, {self.model.ncam})")
        cam = mujoco.MjvCamera()
        if cam_id == -1:
            mujoco.mjv_defaultFreeCamera(self.model, cam)
        else:
            cam.type = mujoco.mjtCamera.mjCAMERA_FIXED
            cam.fixedcamid = int(cam_id)
        return cam

    def _add_ghost(self, scn: mujoco.MjvScene, ghost: mujoco.MjData, rgba) -> None:
        first = scn.ngeom
        mujoco.mjv_addGeoms(self.model, ghost, self._option, mujoco.MjvPerturb(),
                            int(mujoco.mjtCatBit.mjCAT_DYNAMIC), scn)
        for i in range(first, scn.ngeom):
            g = scn.geoms[i]
            g.rgba[:] = rgba
            g.segid = -1  # the ghost is not part of the segmentation
            g.matid = -1

    def _segmentation_to_body_ids(self, seg: np.ndarray) -> np.ndarray:
        obj_id, obj_type = seg[..., 0], seg[..., 1]
        out = np.full(obj_id.shape, -1, dtype=np.int32)
        is_geom = (obj_type == int(mujoco.mjtObj.mjOBJ_GEOM)) & (obj_id >= 0)
        out[is_geom] = self.model.geom_bodyid[obj_id[is_geom]]
        return out

    def close(self) -> None:
        for r in self._renderers.values():
            r.close()
        self._renderers.clear()
