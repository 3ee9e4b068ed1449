"""The motion-tracking task's observation terms: each a small function of one control step's
``ObsInputs`` (the robot's measured state and the reference at each window offset, read
once per step by ``G1TrackingTask``), chosen and ordered by a typed
``TrackingObservationConfig`` (mjlab writes them as manager terms; we write them as
functions).

Three groups, concatenated in this order into one float32 vector:

- ``proprio``: (N, d) terms of the robot now (pelvis angular velocity and projected gravity
  in the pelvis frame, joint positions relative to default plus the encoder offset, joint
  velocities, last action);
- ``history``: the same proprio terms as observed ``history_steps`` control steps ago
  (1 = the previous observation; none by default), step by step; an episode's first
  observation repeats its present in every slot;
- ``reference``: (N, W, d) terms at each future offset of ``window_steps``, written offset
  by offset (all terms of +k, then all terms of the next offset);
- ``critic``: (N, d) privileged terms for an asymmetric critic (training only), after the
  actor's part.

The layout (``observation_layout``) names every slice: ``name``, ``hist[-k].name``,
``ref[+k].name`` and ``critic.name``; the shipped tracker's metadata stores it, so names and
order are fixed.

Training may corrupt the actor's part with additive uniform noise per term
(``obs_noise_half_ranges``; BeyondMimic's actor is trained so); the critic's part and every
evaluation see the true values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twin.rotations import (
    projected_gravity,
    quat_apply_inverse,
    quat_conjugate,
    quat_mul,
    quat_to_matrix,
)

# key bodies whose positions the reference terms give in the reference anchor's frame
OBS_KEY_BODIES = ("left_wrist_yaw_link", "right_wrist_yaw_link", "left_ankle_roll_link",
                  "right_ankle_roll_link", "left_elbow_link", "right_elbow_link")


@dataclass(frozen=True)
class ObsInputs:
    """What the observation terms read at one control step, for N envs (world frame, SI,
    quaternions wxyz). Joint arrays are in the task's body-joint order, body arrays in the
    motion library's key-body order; W = number of window offsets."""

    root_quat_wxyz: np.ndarray  # (N, 4) pelvis orientation
    root_lin_vel_w: np.ndarray  # (N, 3) pelvis linear velocity, world frame
    root_ang_vel_b: np.ndarray  # (N, 3) pelvis angular velocity, pelvis frame
    joint_pos_rad: np.ndarray  # (N, J) measured
    joint_vel: np.ndarray  # (N, J) rad/s
    default_joint_pos_rad: np.ndarray  # (J,)
    encoder_offset_rad: np.ndarray  # (N, J) added to the measured positions
    last_action: np.ndarray  # (N, J)
    body_pos_w: np.ndarray  # (N, B, 3) robot key bodies
    body_quat_wxyz: np.ndarray  # (N, B, 4)
    anchor: int  # index of the anchor (torso) body in B
    obs_body_idx: np.ndarray  # (K,) indices in B of ``key_bodies``
    ref_joint_pos_rad: np.ndarray  # (N, W, J) reference at each window offset
    ref_joint_vel: np.ndarray  # (N, W, J)
    ref_body_pos_w: np.ndarray  # (N, W, B, 3)
    ref_body_quat_wxyz: np.ndarray  # (N, W, B, 4)
    ref_anchor_lin_vel_w: np.ndarray  # (N, W, 3) m/s, the reference anchor's alone
    ref_anchor_ang_vel_w: np.ndarray  # (N, W, 3) rad/s


@dataclass(frozen=True)
class ObsDims:
    """Sizes the term widths depend on: J joints, K observed key bodies, B key bodies."""

    joints: int
    obs_bodies: int
    bodies: int


# How a term changes in the robot's left-right mirror image (``twin.train.symmetry``):
# vector: (x, -y, z); pseudovector (angular velocity): (-x, y, -z); joints: each joint takes
# its partner's value, negated for roll and yaw joints; rot6d: the rotation R becomes M R M
# (M = diag(1, -1, 1)); obs_bodies_vector / bodies_vector / bodies_rot6d: per key body (the
# observed ones or all), each body taking its partner's vector or rotation.
MIRROR_KINDS = ("vector", "pseudovector", "joints", "rot6d", "obs_bodies_vector",
                "bodies_vector", "bodies_rot6d")


@dataclass(frozen=True)
class ObsTerm:
    """One observation term: its width per env (per offset for reference terms), how it is
    computed, and how it mirrors (one of ``MIRROR_KINDS``)."""

    size: Callable[[ObsDims], int]
    fn: Callable[[ObsInputs], np.ndarray]
    mirror: str


# --- proprioception: (N, d) ------------------------------------------------------------
def base_ang_vel_b(x: ObsInputs) -> np.ndarray:
    return x.root_ang_vel_b


def projected_gravity_b(x: ObsInputs) -> np.ndarray:
    return projected_gravity(x.root_quat_wxyz)


def joint_pos_rel(x: ObsInputs) -> np.ndarray:
    return x.joint_pos_rad - x.default_joint_pos_rad + x.encoder_offset_rad


def joint_vel(x: ObsInputs) -> np.ndarray:
    return x.joint_vel


def last_action(x: ObsInputs) -> np.ndarray:
    return x.last_action


def base_lin_vel_b(x: ObsInputs) -> np.ndarray:
    """Pelvis linear velocity in the pelvis frame, m/s (a state estimate on hardware)."""
    return quat_apply_inverse(x.root_quat_wxyz, x.root_lin_vel_w)


# --- reference window: (N, W, d) -------------------------------------------------------
def _anchors(x: ObsInputs):
    a = x.anchor
    return (x.body_pos_w[:, a], x.body_quat_wxyz[:, a], x.ref_body_pos_w[:, :, a],
            x.ref_body_quat_wxyz[:, :, a])


def ref_joint_pos_rel(x: ObsInputs) -> np.ndarray:
    return x.ref_joint_pos_rad - x.default_joint_pos_rad


def ref_joint_vel(x: ObsInputs) -> np.ndarray:
    return x.ref_joint_vel


def ref_anchor_pos_in_robot_anchor(x: ObsInputs) -> np.ndarray:
    """Reference anchor position in the robot anchor's frame, m."""
    a_pos, a_quat, ra_pos, _ = _anchors(x)
    return quat_apply_inverse(a_quat[:, None], ra_pos - a_pos[:, None])


def ref_anchor_rot6d_in_robot_anchor(x: ObsInputs) -> np.ndarray:
    """First two columns (row-major) of the reference anchor's rotation in the robot
    anchor's frame."""
    _, a_quat, _, ra_quat = _anchors(x)
    rel = quat_to_matrix(quat_mul(quat_conjugate(a_quat)[:, None], ra_quat))[..., :2]
    n, w = rel.shape[:2]
    return rel.reshape(n, w, 6)


def ref_anchor_lin_vel_in_ref_anchor(x: ObsInputs) -> np.ndarray:
    """Reference anchor linear velocity in the reference anchor's own frame, m/s: the pace
    and direction the reference moves in, whatever the robot's drift from it."""
    _, _, _, ra_quat = _anchors(x)
    return quat_apply_inverse(ra_quat, x.ref_anchor_lin_vel_w)


def ref_anchor_ang_vel_in_ref_anchor(x: ObsInputs) -> np.ndarray:
    """Reference anchor angular velocity in the reference anchor's own frame, rad/s."""
    _, _, _, ra_quat = _anchors(x)
    return quat_apply_inverse(ra_quat, x.ref_anchor_ang_vel_w)


def ref_key_body_pos_in_ref_anchor(x: ObsInputs) -> np.ndarray:
    """Reference key-body positions in the reference anchor's frame, m (K x 3)."""
    _, _, ra_pos, ra_quat = _anchors(x)
    key = x.ref_body_pos_w[:, :, x.obs_body_idx] - ra_pos[:, :, None]
    key_b = quat_apply_inverse(ra_quat[:, :, None], key)
    n, w = key_b.shape[:2]
    return key_b.reshape(n, w, -1)


# --- privileged (critic only): (N, d) --------------------------------------------------
def _robot_anchor_rows(x: ObsInputs) -> np.ndarray:
    return np.repeat(x.body_quat_wxyz[:, x.anchor][:, None], x.body_pos_w.shape[1], 1)


def critic_body_pos_in_robot_anchor(x: ObsInputs) -> np.ndarray:
    aq = _robot_anchor_rows(x)
    body_b = quat_apply_inverse(aq, x.body_pos_w - x.body_pos_w[:, x.anchor][:, None])
    return body_b.reshape(len(body_b), -1)


def critic_body_rot6d_in_robot_anchor(x: ObsInputs) -> np.ndarray:
    aq = _robot_anchor_rows(x)
    rot_b = quat_to_matrix(quat_mul(quat_conjugate(aq), x.body_quat_wxyz))[..., :2]
    return rot_b.reshape(len(rot_b), -1)


PROPRIO_TERMS: dict[str, ObsTerm] = {
    "base_ang_vel_b": ObsTerm(lambda d: 3, base_ang_vel_b, "pseudovector"),
    "projected_gravity_b": ObsTerm(lambda d: 3, projected_gravity_b, "vector"),
    "joint_pos_rel": ObsTerm(lambda d: d.joints, joint_pos_rel, "joints"),
    "joint_vel": ObsTerm(lambda d: d.joints, joint_vel, "joints"),
    "last_action": ObsTerm(lambda d: d.joints, last_action, "joints"),
    # not in the default actor observation (DEFAULT_PROPRIO); BeyondMimic's actor reads it
    "base_lin_vel_b": ObsTerm(lambda d: 3, base_lin_vel_b, "vector"),
}
# reference lookahead, control steps ahead of now (0.02 ... 0.5 s at 50 Hz)
DEFAULT_WINDOW_STEPS = (1, 2, 5, 10, 25)
MAX_WINDOW_STEP = 250  # 5 s at 50 Hz
MAX_HISTORY_STEP = 50  # 1 s at 50 Hz
DEFAULT_PROPRIO = ("base_ang_vel_b", "projected_gravity_b", "joint_pos_rel", "joint_vel",
                   "last_action")
REFERENCE_TERMS: dict[str, ObsTerm] = {
    "joint_pos_rel": ObsTerm(lambda d: d.joints, ref_joint_pos_rel, "joints"),
    "joint_vel": ObsTerm(lambda d: d.joints, ref_joint_vel, "joints"),
    "anchor_pos_in_robot_anchor": ObsTerm(lambda d: 3, ref_anchor_pos_in_robot_anchor,
                                         "vector"),
    "anchor_rot6d_in_robot_anchor": ObsTerm(lambda d: 6, ref_anchor_rot6d_in_robot_anchor,
                                           "rot6d"),
    "key_body_pos_in_ref_anchor": ObsTerm(lambda d: 3 * d.obs_bodies,
                                          ref_key_body_pos_in_ref_anchor, "obs_bodies_vector"),
    # not in the default reference terms (DEFAULT_REFERENCE): the reference root velocity
    "anchor_lin_vel_in_ref_anchor": ObsTerm(lambda d: 3, ref_anchor_lin_vel_in_ref_anchor,
                                            "vector"),
    "anchor_ang_vel_in_ref_anchor": ObsTerm(lambda d: 3, ref_anchor_ang_vel_in_ref_anchor,
                                            "pseudovector"),
}
DEFAULT_REFERENCE = ("joint_pos_rel", "joint_vel", "anchor_pos_in_robot_anchor",
                     "anchor_rot6d_in_robot_anchor", "key_body_pos_in_ref_anchor")
CRITIC_TERMS: dict[str, ObsTerm] = {
    "base_lin_vel_b": ObsTerm(lambda d: 3, base_lin_vel_b, "vector"),
    "body_pos_in_robot_anchor": ObsTerm(lambda d: 3 * d.bodies, critic_body_pos_in_robot_anchor,
                                        "bodies_vector"),
    "body_rot6d_in_robot_anchor": ObsTerm(lambda d: 6 * d.bodies,
                                          critic_body_rot6d_in_robot_anchor, "bodies_rot6d"),
}


def terms_problem(terms, known) -> str | None:
    """What is wrong with ``terms`` as distinct names from ``known`` (None when nothing)."""
    unknown = [t for t in terms if t not in known]
    if unknown:
        return f"unknown terms {unknown}; expected some of {list(known)}"
    if len(set(terms)) != len(terms):
        return f"{list(terms)} names a term twice"
    return None


def _offsets_problem(steps, maximum: int, which: str, example: list[int],
                     empty_ok: bool) -> str | None:
    """What a list of control-step offsets must be (None when ``steps`` is one): integers,
    strictly increasing, each 1 ... ``maximum``; empty only when ``empty_ok``."""
    if (not steps and not empty_ok) or not all(
            isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in steps):
        return f"a {'' if empty_ok else 'non-empty '}list of integers (control steps {which})"
    if steps and (not all(a < b for a, b in zip([0, *steps], steps)) or steps[-1] > maximum):
        return f"increasing control steps {which}, 1 ... {maximum} (e.g. {example})"
    return None


def window_steps_problem(steps) -> str | None:
    """What a reference window must be, when ``steps`` is not one (None when it is):
    integers, strictly increasing, each 1 ... ``MAX_WINDOW_STEP`` control steps ahead."""
    return _offsets_problem(steps, MAX_WINDOW_STEP, "ahead", list(DEFAULT_WINDOW_STEPS),
                            empty_ok=False)


def history_steps_problem(steps) -> str | None:
    """What a proprio history must be, when ``steps`` is not one (None when it is): empty,
    or integers, strictly increasing, each 1 ... ``MAX_HISTORY_STEP`` control steps back."""
    return _offsets_problem(steps, MAX_HISTORY_STEP, "back", [1, 2, 3], empty_ok=True)


@dataclass(frozen=True)
class TrackingObservationConfig:
    """Which observation terms the tracking task concatenates, in order.

    window_steps: future reference offsets in control steps (1 = next step, 0.02 s at 50 Hz).
    proprio, reference, critic: term names from ``PROPRIO_TERMS``, ``REFERENCE_TERMS`` and
        ``CRITIC_TERMS``; ``critic=()`` leaves out the privileged part.
    history_steps: past offsets in control steps at which the proprio terms are read again
        (1 = the previous observation); () reads none.
    key_bodies: the key bodies ``key_body_pos_in_ref_anchor`` observes.
    """

    window_steps: tuple[int, ...] = DEFAULT_WINDOW_STEPS
    proprio: tuple[str, ...] = DEFAULT_PROPRIO
    reference: tuple[str, ...] = DEFAULT_REFERENCE
    critic: tuple[str, ...] = ()
    key_bodies: tuple[str, ...] = OBS_KEY_BODIES
    history_steps: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for field_name, known in (("proprio", PROPRIO_TERMS), ("reference", REFERENCE_TERMS),
                                  ("critic", CRITIC_TERMS)):
            problem = terms_problem(getattr(self, field_name), known)
            if problem:
                raise ValueError(f"observations.{field_name}: {problem}")
        problem = (window_steps_problem(self.window_steps)
                   if isinstance(self.window_steps, tuple) else "a tuple")
        if problem:
            raise ValueError(f"observations.window_steps: expected {problem}, got "
                             f"{self.window_steps!r}")
        problem = (history_steps_problem(self.history_steps)
                   if isinstance(self.history_steps, tuple) else "a tuple")
        if problem:
            raise ValueError(f"observations.history_steps: expected {problem}, got "
                             f"{self.history_steps!r}")

    @classmethod
    def default(cls, window_steps: tuple[int, ...] = DEFAULT_WINDOW_STEPS,
                critic_obs: bool = False,
                proprio: tuple[str, ...] | None = None,
                reference: tuple[str, ...] | None = None,
                history_steps: tuple[int, ...] = ()) -> TrackingObservationConfig:
        """The shipped layout with this window, with or without the privileged part;
        ``proprio`` / ``reference`` None = ``DEFAULT_PROPRIO`` / ``DEFAULT_REFERENCE``."""
        return cls(window_steps=tuple(int(k) for k in window_steps),
                   proprio=DEFAULT_PROPRIO if proprio is None else tuple(proprio),
                   reference=DEFAULT_REFERENCE if reference is None else tuple(reference),
                   critic=tuple(CRITIC_TERMS) if critic_obs else (),
                   history_steps=tuple(history_steps))


def term_of(name: str) -> ObsTerm:
    """The term a layout slice name (``name``, ``hist[-k].name``, ``ref[+k].name``,
    ``critic.name``) holds."""
    if name.startswith("critic."):
        return CRITIC_TERMS[name.removeprefix("critic.")]
    if name.startswith("ref["):
        return REFERENCE_TERMS[name.split("].", 1)[1]]
    return PROPRIO_TERMS[name.split("].", 1)[1] if name.startswith("hist[") else name]


def proprio_terms_of(layout: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """The proprio term names an actor layout (``TrackerMetadata.obs_layout``) reads."""
    return tuple(n for n, _ in layout if not n.startswith(("ref[", "hist[", "critic.")))


def history_steps_of(layout: tuple[tuple[str, int], ...]) -> tuple[int, ...]:
    """The control steps back at which an actor layout reads its proprio terms again."""
    steps = [int(n[len("hist[-"):n.index("]")]) for n, _ in layout if n.startswith("hist[")]
    return tuple(dict.fromkeys(steps))


def reference_terms_of(layout: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """The reference term names an actor layout reads, in order (each once, whatever the
    window)."""
    names = [n.split("].", 1)[1] for n, _ in layout if n.startswith("ref[")]
    return tuple(dict.fromkeys(names))


def observation_layout(cfg: TrackingObservationConfig, dims: ObsDims
                       ) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """(actor layout, critic layout): (name, width) per slice, in concatenation order."""
    actor = [(n, PROPRIO_TERMS[n].size(dims)) for n in cfg.proprio]
    for k in cfg.history_steps:
        actor += [(f"hist[-{k}].{n}", PROPRIO_TERMS[n].size(dims)) for n in cfg.proprio]
    for k in cfg.window_steps:
        actor += [(f"ref[+{k}].{n}", REFERENCE_TERMS[n].size(dims)) for n in cfg.reference]
    critic = [(f"critic.{n}", CRITIC_TERMS[n].size(dims)) for n in cfg.critic]
    return tuple(actor), tuple(critic)


# BeyondMimic's actor observation noise, U(-h, h) per term (its ranges; projected gravity,
# which its actor does not read, legged_gym's). Reference terms carry the prefix ``ref_``.
BEYONDMIMIC_OBS_NOISE: dict[str, float] = {
    "base_lin_vel_b": 0.5, "base_ang_vel_b": 0.2, "projected_gravity_b": 0.05,
    "joint_pos_rel": 0.01, "joint_vel": 0.5,
    "ref_anchor_pos_in_robot_anchor": 0.25, "ref_anchor_rot6d_in_robot_anchor": 0.05,
}


def obs_noise_half_ranges(layout: tuple[tuple[str, int], ...],
                          noise: dict[str, float]) -> np.ndarray:
    """(D,) half range of the additive uniform noise on each column of an actor ``layout``:
    ``noise[term]`` for a proprio term (now and at every history step), ``noise["ref_" +
    term]`` for a reference term (at every window offset), 0 elsewhere. Names of no
    observation term are refused; terms this layout does not read corrupt nothing."""
    terms = set(PROPRIO_TERMS) | {"ref_" + n for n in REFERENCE_TERMS}
    unknown = sorted(set(noise) - terms)
    if unknown:
        raise ValueError(f"obs_noise: {unknown} are not actor observation terms; expected "
                         f"some of {sorted(terms)}")
    bad = {k: v for k, v in noise.items() if not (np.isfinite(v) and v >= 0)}
    if bad:
        raise ValueError(f"obs_noise: half ranges must be finite and >= 0, got {bad}")
    cols = []
    for name, width in layout:
        if name.startswith("critic."):
            h = 0.0
        elif name.startswith("ref["):
            h = noise.get("ref_" + name.split("].", 1)[1], 0.0)
        elif name.startswith("hist["):
            h = noise.get(name.split("].", 1)[1], 0.0)
        else:
            h = noise.get(name, 0.0)
        cols.append(np.full(width, float(h)))
    return np.concatenate(cols) if cols else np.zeros(0)


def add_obs_noise(obs: np.ndarray, half_range: np.ndarray, rng: np.random.Generator) -> None:
    """Add U(-h, h) noise in place to the first ``len(half_range)`` (the actor's) columns of
    float32 observations ``obs`` (N, D)."""
    obs[:, :len(half_range)] += (rng.uniform(-1.0, 1.0, (len(obs), len(half_range)))
                                 * half_range).astype(np.float32)


def proprio_width(cfg: TrackingObservationConfig, dims: ObsDims) -> int:
    """Columns of the proprio terms (the first of every observation; one history step)."""
    return sum(PROPRIO_TERMS[n].size(dims) for n in cfg.proprio)


def compute_observation(cfg: TrackingObservationConfig, x: ObsInputs,
                        history: np.ndarray | None = None) -> np.ndarray:
    """(N, D) float32 observation: proprio terms, their ``history`` (N, len(history_steps),
    proprio width: the proprio columns observed that many steps back, in the config's
    order), the reference window offset by offset, then the critic terms (computed in
    float64, cast once)."""
    parts = [PROPRIO_TERMS[n].fn(x) for n in cfg.proprio]
    if cfg.history_steps:
        if history is None or history.shape[1] != len(cfg.history_steps):
            raise ValueError(f"observations.history_steps={list(cfg.history_steps)}: expected "
                             f"that many past proprio rows, got "
                             f"{None if history is None else history.shape}")
        parts.append(history.reshape(len(history), -1))
    if cfg.reference:
        window = np.concatenate([REFERENCE_TERMS[n].fn(x) for n in cfg.reference], axis=2)
        parts.append(window.reshape(len(window), -1))
    parts += [CRITIC_TERMS[n].fn(x) for n in cfg.critic]
    return np.concatenate(parts, axis=1).astype(np.float32)
