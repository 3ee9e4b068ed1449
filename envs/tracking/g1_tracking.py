"""``twin/G1MotionTracking-v0`` and ``twin/G1Dex3MotionTracking-v0``: follow a reference motion.

Task Description:
    The G1 (``tracking`` gains: soft motor-physics PD) tracks a reference ``RobotMotion``
    drawn from a ``MotionLibrary``. Observation (float32, layout by name in
    ``task.obs_layout``): proprioception (pelvis angular velocity, projected gravity, joint
    positions relative to default, joint velocities, last action; ``proprio`` may add the
    pelvis linear velocity ``base_lin_vel_b``), the same terms as observed
    ``history_steps`` control steps back (none by default) and, for each future
    offset in ``window_steps`` (default 1, 2, 5, 10, 25 steps = 0.02 ... 0.5 s): reference
    joint positions (relative to default) and velocities, the reference torso-anchor
    position and orientation (first two rotation-matrix columns) in the robot's anchor
    frame, and key bodies' positions in the reference anchor frame (``reference`` may add the
    reference root velocity: ``anchor_lin_vel_in_ref_anchor`` and
    ``anchor_ang_vel_in_ref_anchor``, the reference anchor's velocities in its own frame).
    With ``critic_obs=True`` (training an asymmetric actor-critic, as BeyondMimic does)
    privileged state follows for the value function only (``task.critic_layout``; the actor
    reads the first ``task.actor_obs_dim`` entries): pelvis linear velocity, and every key
    body's position and orientation in the robot's anchor frame. Action (29): joint
    position targets, either ``default + scale * a`` (``action_mode="default_offset"``),
    ``reference + scale * a`` (``"reference_residual"``) or ``reference + holding offset +
    scale * a`` (``"reference_holding"``: the servos' gravity sag at the reference pose fed
    forward, ``twin.envs.tracking.holding``), scale = 0.25 effort / Kp of the
    gain profile unless ``action_scale`` (rad per unit, one per body joint) says otherwise.
    ``collision`` picks the contact model (``twin.sim.mujoco_collision``: ``full``,
    ``no_self``, ``feet_floor``; lighter ones are for training only).
    ``G1Dex3MotionTracking-v0`` drives the 14 Dex3-1 hand joints to the motion's hand targets
    by PD, outside the policy.
Reward (BeyondMimic family, anchor = torso): 0.5 exp(-|anchor pos err|^2/0.3^2) +
    0.5 exp(-anchor ori err^2/0.4^2) + exp(-mean body pos err^2/0.3^2) +
    exp(-mean body ori err^2/0.4^2) + exp(-mean body lin vel err^2/1^2) +
    exp(-mean body ang vel err^2/3.14^2) - 0.1 |a_t - a_t-1|^2 - 10 (joint-limit overshoot),
    body errors measured with the reference re-anchored at the robot's anchor (yaw, xy).
Randomizations: clip and start frame (failure-weighted 1-s bins, reference state
    initialisation), optional domain randomisation (``dr=True`` or a ``DomainRandomization``
    with terms switched off by ``None``), resampled per episode: joint encoder offsets
    U(-0.01, 0.01) rad, friction of every geom (floor included) x U(0.5, 1.25), asked of the
    backend as a scale (``SimBackend.set_friction_scale``: how contacts combine two geoms'
    friction is the backend's), torso CoM shift U(+-0.025, +-0.05, +-0.05) m, pushes (pelvis
    velocity kicks up to 0.5 m/s every 1-3 s); optional additive uniform noise on the actor's
    observation terms (``obs_noise``, per term, e.g. ``BEYONDMIMIC_OBS_NOISE``). The events
    are functions in ``twin.envs.tracking.events``, the observation terms in
    ``twin.envs.tracking.observations`` (``TrackingObservationConfig``: window and which
    terms), the reward and termination terms in ``twin.envs.tracking.terms``.
Success Conditions: ``info["is_success"]`` is True at the end of the clip when the episode
    was not terminated. Terminations (``info["termination"]``): ``anchor_height`` (|z err| >
    0.25 m), ``tilt`` (projected-gravity z err > 0.8), ``ee_height`` (an ankle or wrist |z
    err| > 0.25 m), ``anchor_xy`` (horizontal anchor error over ``thresholds.anchor_xy_m``; off
    by default), ``nan`` (divergence). Truncation when the clip ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
from twin.envs.batched_task import BatchedTask
from twin.envs.single import TwinEnv
from twin.envs.tracking.events import (
    NEVER,
    DomainRandomization,
    StartNoise,
    apply_physics_events,
    push_delay,
    push_kick,
    sample_reset_events,
)
from twin.envs.tracking.holding import holding_offsets_rad, stance_mask
from twin.envs.tracking.motion_library import MotionLibrary
from twin.envs.tracking.observations import (
    DEFAULT_WINDOW_STEPS,
    OBS_KEY_BODIES,
    ObsDims,
    ObsInputs,
    TrackingObservationConfig,
    add_obs_noise,
    compute_observation,
    history_steps_of,
    obs_noise_half_ranges,
    observation_layout,
    proprio_terms_of,
    proprio_width,
    reference_terms_of,
)
from twin.envs.tracking.terms import (
    TerminationThresholds,
    TrackingRewardConfig,
    joint_limit_overshoot,
    reward_terms,
    termination_reasons,
    total_reward,
)
from twin.envs.vector import TwinVectorEnv

from twin.measures import sole_slip_sq
from twin.motion.robot_motion import RobotMotion, load_robot_motion
from twin.motion.rotations import quat_from_rotvec
from twin.robots.g1 import (
    G1_FOOT_BODY_NAMES,
    G1_HAND_JOINT_NAMES,
    G1_KEY_BODY_NAMES,
    G1_SOLE_CENTER_B,
)
from twin.rotations import (
    projected_gravity,
    quat_angle,
    quat_apply,
    quat_apply_inverse,
    quat_conjugate,
    quat_from_yaw,
    quat_mul,
    yaw_from_quat,
)
from twin.scene.config import load_scene_config
from twin.sim import make_backend
from twin.sim.mujoco_collision import apply_collision_model

ANCHOR_BODY = "torso_link"
EE_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link", "left_wrist_yaw_link",
             "right_wrist_yaw_link")
ACTION_MODES = ("default_offset", "reference_residual", "reference_holding")
# Servo targets stay this far inside each joint's range: a position servo commanded at or past
# its hard stop presses into it (stiff kp 500: 0.005 rad past the elbow's stop is 2.5 N m held
# against it), and `twin validate` calls a joint at its limit a no-go.
TARGET_LIMIT_MARGIN_RAD = 0.02
# the modes whose action is a residual on the reference (a tracker may move between them)
REFERENCE_MODES = ("reference_residual", "reference_holding")


# Zero-action replays of the reference, accepted wherever a tracker name is (baselines):
# name -> (the task they run in, what they are)
REPLAY_CONTROLLERS: dict[str, tuple[dict, str]] = {
    "pd": ({"gains": "stiff", "action_mode": "reference_residual"},
           "stiff-PD replay of the reference"),
    "pd_holding": ({"gains": "stiff", "action_mode": "reference_holding"},
                   "stiff-PD replay of the reference with the servos' gravity sag fed forward"),
}


def tracker_task_kwargs(metadata) -> dict:
    """The one place that says which tracking task a tracker runs in: the gain profile,
    action mode, action scale, reference window, proprio terms and their history, and
    reference terms it was trained with (from its ``TrackerMetadata``). Evaluation,
    validation and recording build their task with these."""
    return {"gains": metadata.gains, "action_mode": metadata.action_mode,
            "window_steps": tuple(metadata.window_steps),
            "action_scale": tuple(metadata.action_scale),
            "proprio": proprio_terms_of(metadata.obs_layout),
            "reference": reference_terms_of(metadata.obs_layout),
            "history_steps": history_steps_of(metadata.obs_layout)}


def default_critic_layout() -> tuple[tuple[str, int], ...]:
    """The privileged part of the observation with the default critic terms (G1)."""
    dims = ObsDims(joints=0, obs_bodies=len(OBS_KEY_BODIES), bodies=len(G1_KEY_BODY_NAMES))
    return observation_layout(TrackingObservationConfig.default(critic_obs=True), dims)[1]


def profile_action_scale(robot: str, gains: str, factor: float = 1.0) -> tuple[float, ...]:
    """Rad per unit action of each body joint (the order of the task's actions): the gain
    profile's 0.25 effort / Kp, times ``factor``."""
    from twin import robots

    spec = robots.get(robot)
    profile = spec.gains(gains)
    return tuple(factor * profile.action_scale[n] for n in spec.actuated_joint_names
                 if n not in G1_HAND_JOINT_NAMES)


def load_motions(motions: str | Path | RobotMotion | Sequence) -> list[RobotMotion]:
    """RobotMotion objects from a motion, a path, a glob, a folder, or a list of those."""
    if isinstance(motions, RobotMotion):
        return [motions]
    if isinstance(motions, (list, tuple)):
        return [m for item in motions for m in load_motions(item)]
    p = Path(motions)
    if p.is_dir():
        files = sorted(p.glob("*.npz"))
    elif any(c in str(motions) for c in "*?["):
        files = sorted(Path().glob(str(motions))) if not p.is_absolute() else sorted(
            Path(p.anchor).glob(str(p.relative_to(p.anchor))))
    else:
        files = [p]
    if not files:
        raise FileNotFoundError(f"no motion files match {motions}")
    return [load_robot_motion(f) for f in files]


class G1TrackingTask(BatchedTask):
    render_camera = "front"

    def __init__(self, motions, num_envs: int = 1, robot: str = "g1",
                 action_mode: str = "reference_residual",
                 window_steps: tuple[int, ...] = DEFAULT_WINDOW_STEPS,
                 dr: bool | DomainRandomization | dict | None = False,
                 adaptive_sampling: bool = True, random_start: bool = True,
                 thresholds: TerminationThresholds = TerminationThresholds(),
                 max_episode_steps: int | None = None, scene: str = "empty",
                 num_threads: int | None = None, render_profile: str = "fast",
                 gains: str = "tracking", critic_obs: bool = False, collision: str = "full",
                 reward: TrackingRewardConfig = TrackingRewardConfig(),
                 observations: TrackingObservationConfig | None = None,
                 action_scale: Sequence[float] | None = None,
                 proprio: Sequence[str] | None = None,
                 reference: Sequence[str] | None = None,
                 history_steps: Sequence[int] = (),
                 obs_noise: dict[str, float] | None = None):
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode {action_mode!r}; expected one of {ACTION_MODES}")
        cfg = load_scene_config(scene, [f"robot={robot}", f"gains={gains}"])
        backend = make_backend(cfg, num_envs=num_envs, num_threads=num_threads,
                               render_profile=render_profile)
        super().__init__(backend, cfg.physics.decimation, max_episode_steps)
        spec = backend.robot
        self.robot = spec
        # training may use a lighter contact model; evaluation and validation keep "full"
        self.collision = collision
        apply_collision_model(backend, collision, spec.root_body_name, G1_FOOT_BODY_NAMES)
        self.action_mode = action_mode
        self.gains = gains
        if observations is None:
            observations = TrackingObservationConfig.default(
                window_steps, critic_obs, None if proprio is None else tuple(proprio),
                None if reference is None else tuple(reference),
                tuple(int(k) for k in history_steps))
        elif (tuple(window_steps) != DEFAULT_WINDOW_STEPS or critic_obs or proprio is not None
              or reference is not None or tuple(history_steps)):
            raise ValueError("observations: give the window, proprio, reference, history and "
                             "critic terms in the TrackingObservationConfig, not also as "
                             "window_steps/proprio/reference/history_steps/critic_obs")
        self.obs_cfg = observations
        self.window = np.asarray(observations.window_steps, dtype=np.int64)
        self.dr = DomainRandomization.coerce(dr)
        self.adaptive = adaptive_sampling
        self.random_start = random_start
        self.fixed_clips: np.ndarray | None = None
        # evaluation: env i's reference starts at step fixed_start_steps[i] of its fixed clip
        self.fixed_start_steps: np.ndarray | None = None
        # evaluation: env i starts offset by fixed_start_noise[i] (None: as drawn)
        self.fixed_start_noise: list[StartNoise | None] | None = None
        self.thresholds = thresholds
        self.reward_cfg = reward
        self.body_joint_names = tuple(j for j in spec.actuated_joint_names
                                      if j not in G1_HAND_JOINT_NAMES)
        self.hand_joint_names = tuple(j for j in spec.actuated_joint_names
                                      if j in G1_HAND_JOINT_NAMES)
        self.body_names = G1_KEY_BODY_NAMES
        if isinstance(motions, MotionLibrary):
            self.library = motions
        else:
            self.library = MotionLibrary(load_motions(motions), self.body_joint_names,
                                         self.body_names, fps=1.0 / self.control_dt)
        lib = self.library
        if lib.joint_names != self.body_joint_names or lib.body_names != self.body_names:
            raise ValueError("motion library was built for other joints/bodies than this robot")
        if abs(lib.fps - 1.0 / self.control_dt) > 1e-6:
            raise ValueError(f"motion library is at {lib.fps} fps; this env controls at "
                             f"{1.0 / self.control_dt:g} Hz")
        b = backend
        self.qpos_idx = b.joint_qpos_index(self.body_joint_names)
        self.qvel_idx = b.joint_qvel_index(self.body_joint_names)
        self.act_idx = b.actuator_index_for_joints(self.body_joint_names)
        self.hand_act_idx = b.actuator_index_for_joints(self.hand_joint_names)
        self.hand_qpos_idx = b.joint_qpos_index(self.hand_joint_names)
        self.root_qpos = b.free_joint_qpos_index(spec.root_body_name)
        self.root_qvel = b.free_joint_qvel_index(spec.root_body_name)  # world lin, body ang
        # Every episode starts from the built scene's qpos (the hand joints when the motion has
        # no hand targets, any scene objects), never from what the last episode left there.
        self.qpos_at_build = b.get_qpos([0])[0]
        self.body_ids = b.body_index(self.body_names)
        self.anchor = self.body_names.index(ANCHOR_BODY)
        missing = [n for n in observations.key_bodies if n not in self.body_names]
        if missing:
            raise ValueError(f"observations.key_bodies: {missing} are not key bodies of the "
                             f"motion library; expected some of {list(self.body_names)}")
        self.obs_body_idx = np.array([self.body_names.index(n)
                                      for n in observations.key_bodies], dtype=np.int64)
        self.ee_idx = np.array([self.body_names.index(n) for n in EE_BODIES])
        self.foot_idx = np.array([self.body_names.index(n) for n in G1_FOOT_BODY_NAMES])
        self.holding_offset_rad = (self._holding_offsets() if action_mode == "reference_holding"
                                   else None)
        self.default_q = spec.default_joint_pos_array(self.body_joint_names)
        if action_scale is None:
            action_scale = profile_action_scale(robot, gains)
        elif len(action_scale) != len(self.body_joint_names):
            raise ValueError(f"action_scale: {len(action_scale)} values; expected one per "
                             f"body joint ({len(self.body_joint_names)})")
        self.action_scale = np.asarray(action_scale, dtype=np.float64)
        self.joint_limits = b.joint_limits(self.body_joint_names)
        self._target_bounds = (self.joint_limits[:, 0] + TARGET_LIMIT_MARGIN_RAD,
                               self.joint_limits[:, 1] - TARGET_LIMIT_MARGIN_RAD)
        n, J = self.num_envs, len(self.body_joint_names)
        self.clip = np.zeros(n, dtype=np.int64)
        self.t = np.zeros(n, dtype=np.int64)
        self.last_action = np.zeros((n, J))
        self.prev_action = np.zeros((n, J))
        self.encoder_offset = np.zeros((n, J))
        self.next_push_step = np.full(n, NEVER)
        self.friction_scale = np.ones(n)
        self.com_offset_b = np.zeros((n, 3))
        self.start_noise: list[StartNoise | None] = [None] * n
        self.com_body_id = (b.body_index([self.dr.com_body]) if self.dr is not None
                            else np.zeros(0, dtype=np.int64))
        self._ctrl = np.zeros((n, b.nu))
        dims = ObsDims(joints=J, obs_bodies=len(observations.key_bodies),
                       bodies=len(self.body_names))
        self.obs_layout, self.critic_layout = observation_layout(observations, dims)
        # proprio history: [:, k - 1] holds the proprio columns observed k control steps back
        self.history_steps = np.asarray(observations.history_steps, dtype=np.int64)
        self._proprio_cols = proprio_width(observations, dims)
        self._proprio_past = np.zeros((n, max(observations.history_steps, default=0),
                                       self._proprio_cols), dtype=np.float32)
        self._proprio_now: np.ndarray | None = None  # the last observation's (clean)
        self._history_fresh = np.ones(n, dtype=bool)  # fill with the present at next observe
        self.actor_obs_dim = sum(k for _, k in self.obs_layout)
        # training-only corruption of the actor's part (None: the true values)
        self.obs_noise_half_range = (obs_noise_half_ranges(self.obs_layout, dict(obs_noise))
                                     if obs_noise else None)
        self.obs_noise_rng = np.random.default_rng()
        dim = self.actor_obs_dim + sum(k for _, k in self.critic_layout)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)
        self.action_space = gym.spaces.Box(-10.0, 10.0, (J,), np.float32)

    # --- reset ---------------------------------------------------------------------------
    def _reset_envs(self, env_ids: np.ndarray) -> None:
        lib, b = self.library, self.backend
        for i in env_ids:
            rng = self.rngs[i]
            if self.fixed_clips is not None:  # evaluation: env i plays clip fixed_clips[i]
                self.clip[i] = int(self.fixed_clips[i])
                self.t[i] = 0 if self.fixed_start_steps is None else int(self.fixed_start_steps[i])
            elif self.random_start:
                self.clip[i], self.t[i] = lib.sample_start(rng, self.adaptive)
            else:
                self.clip[i], self.t[i] = int(rng.integers(lib.num_clips)), 0
            self._sample_dr(i, rng)
            if self.fixed_start_noise is not None:
                self.start_noise[i] = self.fixed_start_noise[i]
        apply_physics_events(b, self.dr, env_ids, self.friction_scale, self.com_body_id,
                             self.com_offset_b)
        f = self._start_state_frames(env_ids)
        qpos = np.tile(self.qpos_at_build, (len(env_ids), 1))
        qvel = np.zeros((len(env_ids), qvel_dim := b.get_qvel([0]).shape[1]))
        root_quat = lib.body_quat_wxyz[f, 0]
        qpos[:, self.root_qpos[:3]] = lib.body_pos_w[f, 0]
        qpos[:, self.root_qpos[3:]] = root_quat
        qpos[:, self.qpos_idx] = lib.joint_pos[f]
        qvel[:, self.root_qvel[:3]] = lib.body_lin_vel_w[f, 0]
        qvel[:, self.root_qvel[3:]] = quat_apply_inverse(root_quat, lib.body_ang_vel_w[f, 0])
        qvel[:, self.qvel_idx] = lib.joint_vel[f]
        assert qvel.shape[1] == qvel_dim
        self._add_start_noise(env_ids, qpos, qvel)
        if lib.hand_joint_pos is not None and len(self.hand_qpos_idx):
            qpos[:, self.hand_qpos_idx] = lib.hand_joint_pos[f]
        b.set_state(qpos, qvel, env_ids)
        self.last_action[env_ids] = 0.0
        self.prev_action[env_ids] = 0.0
        self._history_fresh[env_ids] = True
        self._ctrl[env_ids] = 0.0
        self._ctrl[np.ix_(env_ids, self.act_idx)] = self._servo_targets(self._reference_targets(f))
        b.set_ctrl(self._ctrl[env_ids], env_ids)

    def _start_state_frames(self, env_ids: np.ndarray) -> np.ndarray:
        """Library frames whose state ``env_ids`` start in: the reference's start frame, or
        ``StartNoise.phase_s`` along the clip from it (held within the clip)."""
        lib = self.library
        steps = np.array([0 if (z := self.start_noise[i]) is None else
                          round(z.phase_s * lib.fps) for i in env_ids], dtype=np.int64)
        return lib.frame(self.clip[env_ids], self.t[env_ids] + steps)

    def _holding_offsets(self) -> np.ndarray:
        """(frames, J) servo-target offsets that hold each library frame's pose (per clip)."""
        lib, b = self.library, self.backend
        feet = [self.body_names.index(n) for n in G1_FOOT_BODY_NAMES]
        stance = stance_mask(lib.body_pos_w[:, feet, 2],
                             np.linalg.norm(lib.body_lin_vel_w[:, feet], axis=-1),
                             lib.clip_start, lib.clip_len)
        out = np.zeros_like(lib.joint_pos)
        foot_ids = b.body_index(G1_FOOT_BODY_NAMES)
        for s, n in zip(lib.clip_start, lib.clip_len):  # one clip at a time: bounded memory
            qpos = np.tile(self.qpos_at_build, (n, 1))
            qpos[:, self.root_qpos[:3]] = lib.body_pos_w[s:s + n, 0]
            qpos[:, self.root_qpos[3:]] = lib.body_quat_wxyz[s:s + n, 0]
            qpos[:, self.qpos_idx] = lib.joint_pos[s:s + n]
            out[s:s + n] = holding_offsets_rad(b, qpos, foot_ids, np.array(G1_SOLE_CENTER_B),
                                               stance[s:s + n], self.qvel_idx, self.act_idx)
        return out

    def _servo_targets(self, targets: np.ndarray) -> np.ndarray:
        """(N, J) joint targets kept ``TARGET_LIMIT_MARGIN_RAD`` inside the joint ranges."""
        return np.clip(targets, *self._target_bounds)

    def _reference_targets(self, frames: np.ndarray) -> np.ndarray:
        """(N, J) servo targets at zero action for library frames ``frames``."""
        q = self.library.joint_pos[frames]
        return q if self.holding_offset_rad is None else q + self.holding_offset_rad[frames]

    def _add_start_noise(self, env_ids: np.ndarray, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Offset the reference start state (rows of ``qpos``/``qvel`` = ``env_ids``) by the
        envs' ``StartNoise`` draws, where drawn."""
        rows = [k for k, i in enumerate(env_ids) if self.start_noise[i] is not None]
        if not rows:
            return
        noise = [self.start_noise[env_ids[k]] for k in rows]
        jp = qpos[np.ix_(rows, self.qpos_idx)] + np.stack([z.joint_pos_rad for z in noise])
        lo, hi = self.joint_limits[:, 0], self.joint_limits[:, 1]
        qpos[np.ix_(rows, self.qpos_idx)] = np.clip(jp, lo, hi)
        pos, quat = self.root_qpos[:3], self.root_qpos[3:]
        qpos[np.ix_(rows, pos)] += np.stack([z.root_pos_m for z in noise])
        dq = quat_from_rotvec(np.stack([z.root_rotvec_rad for z in noise]))
        q_new = quat_mul(dq, qpos[np.ix_(rows, quat)])
        # the free joint's angular velocity is in the root frame: add the world-frame noise
        # there, and re-express the reference's own angular velocity in the rotated frame
        ang = self.root_qvel[3:]
        ang_w = quat_apply(qpos[np.ix_(rows, quat)], qvel[np.ix_(rows, ang)])
        ang_w = ang_w + np.stack([z.root_ang_vel_rps for z in noise])
        qpos[np.ix_(rows, quat)] = q_new
        qvel[np.ix_(rows, ang)] = quat_apply_inverse(q_new, ang_w)
        qvel[np.ix_(rows, self.root_qvel[:3])] += np.stack([z.root_lin_vel_mps for z in noise])

    def _sample_dr(self, i: int, rng: np.random.Generator) -> None:
        d = sample_reset_events(rng, self.dr, self.default_q.size)
        self.start_noise[i] = d.start
        self.encoder_offset[i] = d.encoder_offset_rad
        if d.friction_scale is not None:
            self.friction_scale[i] = d.friction_scale
        if d.com_offset_m is not None:
            self.com_offset_b[i] = d.com_offset_m
        self.next_push_step[i] = d.first_push_step

    # --- step ----------------------------------------------------------------------------
    def _apply_action(self, action: np.ndarray) -> None:
        a = np.clip(action, self.action_space.low, self.action_space.high)
        if len(self.history_steps) and self._proprio_now is not None:  # a control step passes
            self._proprio_past[:, 1:] = self._proprio_past[:, :-1]
            self._proprio_past[:, 0] = self._proprio_now
        self.prev_action, self.last_action = self.last_action, a
        f_next = self.library.frame(self.clip, self.t + 1)
        base = self._reference_targets(f_next) if self.action_mode in REFERENCE_MODES \
            else self.default_q
        self._ctrl[:, self.act_idx] = self._servo_targets(base + self.action_scale * a)
        if self.library.hand_joint_pos is not None and len(self.hand_act_idx):
            self._ctrl[:, self.hand_act_idx] = self.library.hand_joint_pos[f_next]
        self.backend.set_ctrl(self._ctrl)
        if self.dr is not None and self.dr.push_lin_vel_mps:
            self._maybe_push()

    def _maybe_push(self) -> None:
        due = np.flatnonzero(self.episode_steps >= self.next_push_step)
        if not len(due):
            return
        qpos, qvel = self.backend.get_qpos(due), self.backend.get_qvel(due)
        root_lin_xy = self.root_qvel[:2]  # world-frame linear velocity x, y of the root
        for k, i in enumerate(due):
            rng = self.rngs[i]
            qvel[k, root_lin_xy] += push_kick(rng, self.dr)
            self.next_push_step[i] = self.episode_steps[i] + push_delay(rng, self.dr)
        self.backend.set_state(qpos, qvel, due)

    def step(self, action: np.ndarray):
        self.t += 1
        result = super().step(action)
        ended = result.terminated | result.truncated
        for i in np.flatnonzero(ended):
            self.library.record_episode_end(int(self.clip[i]), int(self.t[i]),
                                            bool(result.terminated[i]))
        return result

    # --- observation -----------------------------------------------------------------------
    def _robot_bodies(self):
        b = self.backend
        pos = b.body_pos_w(self.body_ids)
        quat = b.body_quat_wxyz(self.body_ids)
        return pos, quat

    def _observe(self) -> np.ndarray:
        lib, b = self.library, self.backend
        qpos, qvel = b.get_qpos(), b.get_qvel()
        pos, quat = self._robot_bodies()
        fw = lib.frame(self.clip[:, None], self.t[:, None] + self.window[None, :])  # (N, W)
        x = ObsInputs(
            root_quat_wxyz=qpos[:, self.root_qpos[3:]], root_lin_vel_w=qvel[:, self.root_qvel[:3]],
            root_ang_vel_b=qvel[:, self.root_qvel[3:]], joint_pos_rad=qpos[:, self.qpos_idx],
            joint_vel=qvel[:, self.qvel_idx], default_joint_pos_rad=self.default_q,
            encoder_offset_rad=self.encoder_offset, last_action=self.last_action,
            body_pos_w=pos, body_quat_wxyz=quat, anchor=self.anchor,
            obs_body_idx=self.obs_body_idx, ref_joint_pos_rad=lib.joint_pos[fw],
            ref_joint_vel=lib.joint_vel[fw], ref_body_pos_w=lib.body_pos_w[fw],
            ref_body_quat_wxyz=lib.body_quat_wxyz[fw],
            ref_anchor_lin_vel_w=lib.body_lin_vel_w[fw, self.anchor],
            ref_anchor_ang_vel_w=lib.body_ang_vel_w[fw, self.anchor])
        steps = self.history_steps
        obs = compute_observation(self.obs_cfg, x,
                                  self._proprio_past[:, steps - 1] if len(steps) else None)
        if len(steps):
            p = self._proprio_cols
            now = obs[:, :p]
            fresh = np.flatnonzero(self._history_fresh)
            if len(fresh):  # an episode's first observation: its past is its present
                self._proprio_past[fresh] = now[fresh, None, :]
                obs[fresh, p:p * (1 + len(steps))] = np.tile(now[fresh], len(steps))
                self._history_fresh[fresh] = False
            self._proprio_now = now.copy()
        if self.obs_noise_half_range is not None:
            add_obs_noise(obs, self.obs_noise_half_range, self.obs_noise_rng)
        return obs

    def seed(self, env_ids: np.ndarray, seeds: list[int | None]) -> None:
        super().seed(env_ids, seeds)
        given = [int(s) for s in seeds if s is not None]
        if given:
            self.obs_noise_rng = np.random.default_rng(given)

    def _time_out(self) -> np.ndarray:
        return self.t >= self.library.clip_len[self.clip] - 1

    # --- reward / termination ------------------------------------------------------------
    def tracking_errors(self) -> dict[str, np.ndarray]:
        """Per-env errors against the reference at the current step (world frame, SI)."""
        lib, b = self.library, self.backend
        f = lib.frame(self.clip, self.t)
        pos, quat = self._robot_bodies()
        lin, ang = b.body_vel_w(self.body_ids)
        r_pos, r_quat = lib.body_pos_w[f], lib.body_quat_wxyz[f]
        a, ra = pos[:, self.anchor], r_pos[:, self.anchor]
        aq, raq = quat[:, self.anchor], r_quat[:, self.anchor]
        # re-anchor the reference at the robot: same xy, yaw of the robot's anchor
        dyaw = yaw_from_quat(aq) - yaw_from_quat(raq)
        yaw_q = np.repeat(quat_from_yaw(dyaw)[:, None], len(self.body_names), 1)
        offset = np.stack([a[:, 0], a[:, 1], ra[:, 2]], axis=1)
        rel_pos = offset[:, None] + quat_apply(yaw_q, r_pos - ra[:, None])
        rel_quat = quat_mul(yaw_q, r_quat)
        qpos = b.get_qpos()
        feet = self.foot_idx
        return {
            "anchor_pos_m": np.linalg.norm(a - ra, axis=1),
            "anchor_ori_rad": quat_angle(quat_mul(quat_conjugate(raq), aq)),
            "anchor_height_m": np.abs(a[:, 2] - ra[:, 2]),
            "anchor_xy_m": np.linalg.norm(a[:, :2] - ra[:, :2], axis=1),
            "tilt": np.abs(projected_gravity(aq)[:, 2] - projected_gravity(raq)[:, 2]),
            "ee_height_m": np.abs(pos[:, self.ee_idx, 2] - r_pos[:, self.ee_idx, 2]).max(axis=1),
            "body_pos_m": np.linalg.norm(pos - rel_pos, axis=-1),  # (N, B)
            "body_ori_rad": quat_angle(quat_mul(quat_conjugate(rel_quat), quat)),
            "body_lin_vel": np.linalg.norm(lin - quat_apply(yaw_q, lib.body_lin_vel_w[f]), axis=-1),
            "body_ang_vel": np.linalg.norm(ang - quat_apply(yaw_q, lib.body_ang_vel_w[f]), axis=-1),
            "joint_pos_rad": np.abs(qpos[:, self.qpos_idx] - lib.joint_pos[f]),
            "body_pos_global_m": np.linalg.norm(pos - r_pos, axis=-1),
            "foot_slip_sq": sole_slip_sq(pos[:, feet], quat[:, feet], lin[:, feet],
                                         ang[:, feet], np.array(G1_SOLE_CENTER_B)).sum(axis=1),
        }

    def _evaluate(self):
        e = self.tracking_errors()
        qpos = self.backend.get_qpos()[:, self.qpos_idx]
        overshoot = joint_limit_overshoot(qpos, self.joint_limits)
        reward = total_reward(reward_terms(e, self.last_action, self.prev_action, overshoot,
                                          self.reward_cfg))
        reasons = termination_reasons(e, self.thresholds)
        terminated = reasons != ""
        clip_end = self._time_out()
        info = {
            "termination_reason": reasons.astype(str),
            "is_success": clip_end & ~terminated,
            "clip_end": clip_end,
            "body_pos_err_m": e["body_pos_m"].mean(axis=1),
            "joint_pos_err_rad": e["joint_pos_rad"].mean(axis=1),
            "clip": self.clip.copy(), "frame": self.t.copy(),
        }
        return reward, terminated, info


class G1MotionTrackingEnv(TwinEnv):
    def __init__(self, motions, render_mode: str | None = None, **task_kwargs):
        super().__init__(G1TrackingTask(motions, num_envs=1, **task_kwargs),
                         render_mode=render_mode)


class G1MotionTrackingVectorEnv(TwinVectorEnv):
    def __init__(self, motions, num_envs: int = 1, render_mode: str | None = None,
                 **task_kwargs):
        super().__init__(G1TrackingTask(motions, num_envs=num_envs, **task_kwargs),
                         render_mode=render_mode)
