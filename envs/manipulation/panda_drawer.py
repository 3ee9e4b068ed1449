"""Panda drawer tasks: open or close the drawer of a cabinet standing on the table
(``configs/scene/manip_panda_drawer.yaml``: a cabinet with one drawer on an 18 cm slide
joint and a bar handle standing 5 cm off the drawer front).

Common to both tasks:

Action: ``ee_delta`` by default (see ``twin.controllers.ee_control``), 20 Hz control.
Randomizations (per environment, from its seed): the cabinet's bottom centre x in
    [0.72, 0.80] m, y in [-0.12, 0.12] m (world; robot base at the origin, table top at
    z = 0.4 m), yaw pi + U(-0.2, 0.2) rad (the drawer opens towards the robot); the drawer's
    initial opening (per task). Initial arm pose: the Panda's home pose, gripper open.
Observation: the manipulation observation (``twin.envs.manipulation.base``); the drawer's
    opening is visible in the images only (``info["opening_m"]`` reports it).
"""

from __future__ import annotations

import numpy as np
from twin.envs.manipulation.base import ManipulationEnv, ManipulationVectorEnv, yaw_quat
from twin.envs.manipulation.panda_tasks import PandaTableTask
from twin.envs.manipulation.terms import (
    DrawerClosedSuccess,
    DrawerOpenSuccess,
    drawer_closed,
    drawer_open,
)

DRAWER = "cabinet"
CABINET_X = (0.72, 0.80)
CABINET_Y = (-0.12, 0.12)
CABINET_YAW_JITTER = 0.2  # rad


class PandaDrawerTask(PandaTableTask):
    """Shared cabinet layout, state and oracle hints of the drawer tasks (not registered)."""

    default_scene = "manip_panda_drawer"
    default_max_steps = 100
    open_range = (0.0, 0.0)  # initial opening, fractions of the travel

    def _setup_arm(self, arm) -> None:
        super(PandaTableTask, self)._setup_arm(arm)  # no cubes in this scene
        b = self.backend
        dr = next(d for d in self.scene_cfg.drawers if d.name == DRAWER)
        self.drawer_cfg = dr
        self.travel = float(dr.travel)
        self.slide_qpos = b.joint_qpos_index([f"{DRAWER}_slide"])[0]
        self.handle_site = b.site_index([f"{DRAWER}_handle"])
        self.cabinet_pos_w = np.tile(np.asarray(dr.pos, dtype=np.float64), (self.num_envs, 1))
        self.cabinet_yaw = np.full(self.num_envs, float(dr.yaw))

    def tracked_body_ids(self) -> np.ndarray:
        return np.zeros(0, dtype=np.int64)  # the opening is a joint position (qpos)

    def _place_objects(self, i: int, rng: np.random.Generator, qpos: np.ndarray) -> None:
        x = rng.uniform(*CABINET_X)
        y = rng.uniform(*CABINET_Y)
        self.cabinet_yaw[i] = np.pi + rng.uniform(-CABINET_YAW_JITTER, CABINET_YAW_JITTER)
        self.cabinet_pos_w[i] = [x, y, self.drawer_cfg.pos[2]]
        qpos[self.slide_qpos] = self.travel * rng.uniform(*self.open_range)
        self.instructions[i] = self.instruction(i)

    def _post_set_state(self, env_ids: np.ndarray) -> None:
        quats = np.stack([yaw_quat(y) for y in self.cabinet_yaw[env_ids]])
        self.backend.set_mocap_pose(DRAWER, self.cabinet_pos_w[env_ids], quats, env_ids=env_ids)

    def opening(self) -> np.ndarray:
        """(N,) how far the drawer is out, m (0 closed, ``travel`` fully open)."""
        return self.state().qpos[:, self.slide_qpos]

    def _axis_w(self, env_id: int) -> np.ndarray:
        """Unit vector along which the drawer opens (world)."""
        yaw = self.cabinet_yaw[env_id]
        return np.array([np.cos(yaw), np.sin(yaw), 0.0])

    def _slide_vec(self, env_id: int, opening: float) -> np.ndarray:
        raise NotImplementedError

    def oracle_targets(self, env_id: int) -> dict:
        """Hook a closed gripper between the bar and the drawer front, then slide along the
        drawer's axis."""
        dr = self.drawer_cfg
        handle = self.backend.site_pos_w(self.handle_site, [env_id])[0, 0]
        u = self._axis_w(env_id)
        gap_mid = (dr.handle_standoff + dr.handle_radius) / 2  # bar axis -> middle of the gap
        hook_w = handle - u * gap_mid + np.array([0.0, 0.0, -0.012])
        opening = float(self.backend.get_qpos([env_id])[0, self.slide_qpos])
        # the goal moves with the drawer as much as the remaining slide shrinks: constant
        goal_w = hook_w + self._slide_vec(env_id, opening)
        return {"kind": "hook_slide", "hook_pos": self.to_base(hook_w),
                "grasp_yaw": float(self.cabinet_yaw[env_id]), "yaw_period": np.pi,
                "slide_goal": self.to_base(goal_w)}


class PandaOpenDrawerTask(PandaDrawerTask):
    """``twin/PandaOpenDrawer-v0``: open the drawer.

    Task Description:
        "open the drawer": pull the drawer out of the cabinet by its handle.
    Randomizations: see the module docstring; the drawer starts closed (0-2 % of travel).
    Success Conditions: the drawer is out by >= 80 % of its travel (>= 14.4 cm of 18 cm).
        Time limit 100 steps.
    """

    open_range = (0.0, 0.02)
    success_default = DrawerOpenSuccess(open_fraction=0.8)

    def instruction(self, env_id: int) -> str:
        return "open the drawer"

    def _success(self):
        q = self.opening()
        return drawer_open(q, self.travel, self.success_cfg), {"opening_m": q}

    def _slide_vec(self, env_id: int, opening: float) -> np.ndarray:
        return self._axis_w(env_id) * (self.travel - opening + 0.02)


class PandaCloseDrawerTask(PandaDrawerTask):
    """``twin/PandaCloseDrawer-v0``: close the drawer.

    Task Description:
        "close the drawer": push the open drawer back into the cabinet.
    Randomizations: see the module docstring; the drawer starts open by 60-100 % of its
        travel.
    Success Conditions: the drawer is closed to within 1 cm (opening <= 0.01 m).
        Time limit 100 steps.
    """

    open_range = (0.6, 1.0)
    success_default = DrawerClosedSuccess(max_opening_m=0.01)

    def instruction(self, env_id: int) -> str:
        return "close the drawer"

    def _success(self):
        q = self.opening()
        return drawer_closed(q, self.success_cfg), {"opening_m": q}

    def _slide_vec(self, env_id: int, opening: float) -> np.ndarray:
        return -self._axis_w(env_id) * (opening + 0.02)


class PandaOpenDrawerEnv(ManipulationEnv):
    task_cls = PandaOpenDrawerTask


class PandaOpenDrawerVectorEnv(ManipulationVectorEnv):
    task_cls = PandaOpenDrawerTask


class PandaCloseDrawerEnv(ManipulationEnv):
    task_cls = PandaCloseDrawerTask


class PandaCloseDrawerVectorEnv(ManipulationVectorEnv):
    task_cls = PandaCloseDrawerTask
