"""``twin/PandaReach-v0``: move the Panda's tool-centre point to a random target.

Task Description:
    A Franka Panda on the floor moves its tool-centre point (between the fingertips) to a
    target sphere. Action: 7 joint-position target increments in [-1, 1], scaled by
    ``ReachConfig.joint_step_rad`` (0.05 rad) per control step and clipped to the joint
    limits. Control at 20 Hz (dt 0.002, decimation 25).
Observation (23, float32): joint positions (7, rad), joint velocities (7, rad/s), TCP
    position (3, m, world), target position (3, m, world), target - TCP (3, m).
Reward (terms ``distance_penalty`` + ``success_reward``, weights in ``ReachConfig``):
    -|target - TCP| (m), + 1 when within ``success_radius_m`` (0.05 m).
Randomizations: target uniformly in x [0.3, 0.6], y [-0.3, 0.3], z [0.15, 0.6] m; initial
    joints home + U(-0.1, 0.1) rad; seeded per environment (ranges in ``ReachConfig``).
Success Conditions: ``info["is_success"]`` when the TCP is within 0.05 m of the target.
    Never terminates on its own (time limit 200 steps = 10 s), except on divergence.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from twin.envs.batched_task import BatchedTask
from twin.envs.single import TwinEnv
from twin.envs.vector import TwinVectorEnv

from twin.sim import make_backend


@dataclass(frozen=True)
class ReachConfig:
    """Action scale, reward weights, success radius and randomisation ranges of the reach task.

    joint_step_rad: joint-target change per control step at action 1.
    distance: weight of the distance penalty -|target - TCP| (m).
    success_bonus: reward added while the TCP is within ``success_radius_m`` of the target.
    target_low_m, target_high_m: box the target is drawn in (world, m).
    init_joint_noise_rad: initial joints = home + U(-noise, noise).
    """

    joint_step_rad: float = 0.05
    distance: float = 1.0
    success_bonus: float = 1.0
    success_radius_m: float = 0.05
    target_low_m: tuple[float, float, float] = (0.3, -0.3, 0.15)
    target_high_m: tuple[float, float, float] = (0.6, 0.3, 0.6)
    init_joint_noise_rad: float = 0.1


def distance_penalty(dist_m: np.ndarray, cfg: ReachConfig) -> np.ndarray:
    return -(cfg.distance * dist_m)


def success_reward(success: np.ndarray, cfg: ReachConfig) -> np.ndarray:
    return cfg.success_bonus * success.astype(np.float64)


class PandaReachTask(BatchedTask):
    render_camera = "front"

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = 200,
                 scene: str = "panda_reach", num_threads: int | None = None,
                 render_profile: str = "fast", backend: str = "mujoco",
                 reach: ReachConfig = ReachConfig()):
        self.reach = reach
        self._target_low = np.asarray(reach.target_low_m, dtype=np.float64)
        self._target_high = np.asarray(reach.target_high_m, dtype=np.float64)
        backend = make_backend(scene, num_envs=num_envs, backend=backend, num_threads=num_threads,
                               render_profile=render_profile)
        super().__init__(backend, backend.scene_config.physics.decimation, max_episode_steps)
        robot = backend.robot
        self.arm = robot.actuated_joint_names
        self.qpos_idx = backend.joint_qpos_index(self.arm)
        self.qvel_idx = backend.joint_qvel_index(self.arm)
        self.act_idx = backend.actuator_index_for_joints(self.arm)
        self.finger_qpos_idx = backend.joint_qpos_index(robot.gripper_joint_names)
        self.gripper_act = backend.actuator_index(list(robot.gripper_open_ctrl))
        self.gripper_open = np.array(list(robot.gripper_open_ctrl.values()))
        self.tcp = backend.site_index(robot.ee_site_names)
        self.limits = backend.joint_limits(self.arm)
        self.home = robot.default_joint_pos_array(self.arm)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (len(self.arm),), np.float32)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (23,), np.float32)
        self.q_target = np.tile(self.home, (self.num_envs, 1))
        self.target_pos = np.tile((self._target_low + self._target_high) / 2, (self.num_envs, 1))
        self._ctrl = np.zeros((self.num_envs, backend.nu))

    def _reset_envs(self, env_ids: np.ndarray) -> None:
        b = self.backend
        qpos = b.get_qpos(env_ids)
        for k, i in enumerate(env_ids):
            rng = self.rngs[i]
            noise = self.reach.init_joint_noise_rad
            q = np.clip(self.home + rng.uniform(-noise, noise, self.home.size), *self.limits.T)
            qpos[k, self.qpos_idx] = q
            qpos[k, self.finger_qpos_idx] = 0.04
            self.q_target[i] = q
            self.target_pos[i] = rng.uniform(self._target_low, self._target_high)
        b.set_state(qpos, np.zeros((len(env_ids), b.nv)), env_ids)
        b.set_mocap_pose("target", self.target_pos[env_ids], env_ids=env_ids)
        ctrl = b.get_ctrl(env_ids)
        ctrl[:, self.act_idx] = self.q_target[env_ids]
        ctrl[:, self.gripper_act] = self.gripper_open
        b.set_ctrl(ctrl, env_ids)
        self._ctrl[env_ids] = ctrl

    def _apply_action(self, action: np.ndarray) -> None:
        step = self.reach.joint_step_rad * np.clip(action, -1.0, 1.0)
        self.q_target = np.clip(self.q_target + step, self.limits[:, 0], self.limits[:, 1])
        self._ctrl[:, self.act_idx] = self.q_target
        self.backend.set_ctrl(self._ctrl)

    def _tcp_pos(self) -> np.ndarray:
        return self.backend.site_pos_w(self.tcp)[:, 0]

    def _observe(self) -> np.ndarray:
        qpos, qvel = self.backend.get_qpos(), self.backend.get_qvel()
        tcp = self._tcp_pos()
        return np.concatenate([qpos[:, self.qpos_idx], qvel[:, self.qvel_idx], tcp,
                               self.target_pos, self.target_pos - tcp], axis=1).astype(np.float32)

    def _evaluate(self):
        dist = np.linalg.norm(self.target_pos - self._tcp_pos(), axis=1)
        success = dist < self.reach.success_radius_m
        reward = distance_penalty(dist, self.reach) + success_reward(success, self.reach)
        info = {"is_success": success, "distance_m": dist}
        return reward, np.zeros(self.num_envs, dtype=bool), info


class PandaReachEnv(TwinEnv):
    def __init__(self, render_mode: str | None = None, **task_kwargs):
        task_kwargs.setdefault("max_episode_steps", None)  # gym.make adds TimeLimit
        super().__init__(PandaReachTask(num_envs=1, **task_kwargs), render_mode=render_mode)


class PandaReachVectorEnv(TwinVectorEnv):
    def __init__(self, num_envs: int = 1, render_mode: str | None = None, **task_kwargs):
        super().__init__(PandaReachTask(num_envs=num_envs, **task_kwargs),
                         render_mode=render_mode)
