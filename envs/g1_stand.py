"""``twin/G1Stand-v0``: keep the Unitree G1 upright near its default pose.

Task Description:
    The G1 (29-DoF, ``tracking`` gain profile: soft motor-physics PD, so balance must be
    learned) starts in its knees-bent default pose and must stay standing. Action: 29 joint
    position offsets in [-1, 1], target = default pose + action_scale * action (action_scale
    = 0.25 * effort_limit / Kp per joint). Control at 50 Hz (dt 0.005, decimation 4).
Observation (93, float32), layout in ``OBS_LAYOUT``: pelvis angular velocity (body frame,
    rad/s), projected gravity (body frame), joint positions minus default (rad), joint
    velocities (rad/s), last action.
Reward: 1 (alive) + exp(-|q - q_default|^2 / 0.25) + exp(-|pelvis height - 0.755|^2 / 0.01)
    - 0.01 |a_t - a_{t-1}|^2.
Randomizations: initial joint positions default + U(-0.05, 0.05) rad, joint velocities
    U(-0.05, 0.05) rad/s, seeded per environment.
Backends: ``backend="mujoco"`` (default) or ``"newton"`` (``gym.make("twin/G1Stand-v0",
    backend="newton")``; see README for what runs where).
Success Conditions: ``info["is_success"]`` is True while the pelvis is above 0.6 m and
    tilted less than 0.5 rad. Terminates on a fall (pelvis below 0.5 m or tilt > 1.0 rad,
    ``info["termination"] == "fall"``) or divergence (``"nan"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from twin.envs.batched_task import BatchedTask
from twin.envs.single import TwinEnv
from twin.envs.vector import TwinVectorEnv

from twin.measures import tilt_rad
from twin.rotations import projected_gravity
from twin.scene.config import load_scene_config
from twin.sim import make_backend

OBS_LAYOUT: tuple[tuple[str, int], ...] = (
    ("base_ang_vel_b", 3), ("projected_gravity_b", 3), ("joint_pos_rel", 29),
    ("joint_vel", 29), ("last_action", 29),
)
@dataclass(frozen=True)
class StandConfig:
    """Reward weights and the fall / success limits of the standing task.

    alive: reward per step while standing.
    pose: weight of exp(-|q - q_default|^2 / pose_scale_rad2).
    height: weight of exp(-(h - stand_height_m)^2 / height_scale_m2), h = pelvis height.
    action_rate: penalty weight on the squared change of the action.
    fall_height_m, fall_tilt_rad: the episode ends below / beyond these.
    success_height_m, success_tilt_rad: ``is_success`` above / within these.
    """

    alive: float = 1.0
    pose: float = 1.0
    pose_scale_rad2: float = 0.25
    height: float = 1.0
    stand_height_m: float = 0.755
    height_scale_m2: float = 0.01
    action_rate: float = 0.01
    fall_height_m: float = 0.5
    fall_tilt_rad: float = 1.0
    success_height_m: float = 0.6
    success_tilt_rad: float = 0.5




class G1StandTask(BatchedTask):
    render_camera = "front"

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = 1000,
                 scene: str = "empty", gains: str = "tracking", num_threads: int | None = None,
                 render_profile: str = "fast", backend: str = "mujoco",
                 stand: StandConfig = StandConfig()):
        cfg = load_scene_config(scene, ["robot=g1", f"gains={gains}"])
        backend = make_backend(cfg, num_envs=num_envs, backend=backend, num_threads=num_threads,
                               render_profile=render_profile)
        super().__init__(backend, cfg.physics.decimation, max_episode_steps)
        self.stand = stand
        robot = backend.robot
        self.joint_names = robot.actuated_joint_names
        self.qpos_idx = backend.joint_qpos_index(self.joint_names)
        self.qvel_idx = backend.joint_qvel_index(self.joint_names)
        self.act_idx = backend.actuator_index_for_joints(self.joint_names)
        self.root_qpos = backend.free_joint_qpos_index(robot.root_body_name)
        # [lin_vel_w (3), ang_vel_b (3)] (twin.sim.backend's free-joint layout)
        self.root_ang_vel_b_idx = backend.free_joint_qvel_index(robot.root_body_name)[3:6]
        self.default_q = robot.default_joint_pos_array(self.joint_names)
        gains_profile = robot.gains(gains)
        self.action_scale = np.array([gains_profile.action_scale[n] for n in self.joint_names])
        self.default_root = np.array(robot.default_root_pos_w + robot.default_root_quat_wxyz)
        n_act = len(self.joint_names)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (n_act,), np.float32)
        obs_dim = sum(n for _, n in OBS_LAYOUT)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.last_action = np.zeros((self.num_envs, n_act))
        self.prev_action = np.zeros((self.num_envs, n_act))
        self._ctrl = np.zeros((self.num_envs, backend.nu))

    def _reset_envs(self, env_ids: np.ndarray) -> None:
        b = self.backend
        qpos = b.get_qpos(env_ids)
        qvel = np.zeros((len(env_ids), b.nv))
        for k, i in enumerate(env_ids):
            rng = self.rngs[i]
            qpos[k, self.root_qpos] = self.default_root
            qpos[k, self.qpos_idx] = self.default_q + rng.uniform(-0.05, 0.05, self.default_q.size)
            qvel[k, self.qvel_idx] = rng.uniform(-0.05, 0.05, self.default_q.size)
        b.set_state(qpos, qvel, env_ids)
        self.last_action[env_ids] = 0.0
        self.prev_action[env_ids] = 0.0
        ctrl = b.get_ctrl(env_ids)
        ctrl[:, self.act_idx] = self.default_q
        b.set_ctrl(ctrl, env_ids)

    def _apply_action(self, action: np.ndarray) -> None:
        a = np.clip(action, -1.0, 1.0)
        self.prev_action = self.last_action
        self.last_action = a
        self._ctrl[:, self.act_idx] = self.default_q + self.action_scale * a
        self.backend.set_ctrl(self._ctrl)

    def _root_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        qpos, qvel = self.backend.get_qpos(), self.backend.get_qvel()
        root = qpos[:, self.root_qpos]
        return qpos, qvel, root, qvel[:, self.root_ang_vel_b_idx]

    def _observe(self) -> np.ndarray:
        qpos, qvel, root, ang_vel_b = self._root_state()
        obs = np.concatenate([
            ang_vel_b, projected_gravity(root[:, 3:7]),
            qpos[:, self.qpos_idx] - self.default_q, qvel[:, self.qvel_idx], self.last_action,
        ], axis=1)
        return obs.astype(np.float32)

    def _evaluate(self):
        qpos, _, root, _ = self._root_state()
        height = root[:, 2]
        tilt = tilt_rad(root[:, 3:7])
        pose_err = np.sum((qpos[:, self.qpos_idx] - self.default_q) ** 2, axis=1)
        rate = np.sum((self.last_action - self.prev_action) ** 2, axis=1)
        c = self.stand
        reward = (c.alive + c.pose * np.exp(-pose_err / c.pose_scale_rad2)
                  + c.height * np.exp(-(height - c.stand_height_m) ** 2 / c.height_scale_m2)
                  - c.action_rate * rate)
        fell = (height < c.fall_height_m) | (tilt > c.fall_tilt_rad)
        info = {
            "is_success": (height > c.success_height_m) & (tilt < c.success_tilt_rad),
            "pelvis_height_m": height,
            "tilt_rad": tilt,
            "termination_reason": "fall",
        }
        return reward, fell, info


class G1StandEnv(TwinEnv):
    def __init__(self, render_mode: str | None = None, **task_kwargs):
        task_kwargs.setdefault("max_episode_steps", None)  # gym.make adds TimeLimit
        super().__init__(G1StandTask(num_envs=1, **task_kwargs), render_mode=render_mode)


class G1StandVectorEnv(TwinVectorEnv):
    def __init__(self, num_envs: int = 1, render_mode: str | None = None, **task_kwargs):
        super().__init__(G1StandTask(num_envs=num_envs, **task_kwargs), render_mode=render_mode)
