"""Physical-consistency measures of a G1 ``RobotMotion`` on flat ground (numpy + MuJoCo FK).

- sole height: lowest point of each foot's contact spheres above z = 0 (negative =
  penetration), m;
- stance slide: a foot is in stance while its lowest point is within ``contact_height_m``
  of the floor; per stance interval, the largest horizontal distance of the sole centre
  from where it landed, m;
- ZMP: cart-table ZMP of the whole-body CoM, ``p = c_xy - c_z / g * c''_xy`` (the CoM from
  MuJoCo FK, accelerations by central differences), and its distance outside the support
  polygon (convex hull of the sole spheres of the stance feet), m; the same for the CoM's
  ground projection (static balance);
- self-penetration: the deepest overlap of two of the robot's own collision geoms (MuJoCo's
  contact distance; bodies that a joint connects do not collide), m, and the fraction of
  frames where it exceeds ``SELF_PENETRATION_TOL_M``: a reference that pushes a hand into
  the hip cannot be tracked without the links colliding.

Works on any G1 clip (procedural, holosoma, retargeted); units SI, world z-up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import mujoco
import numpy as np

from twin.motion.procedural.g1_body import FEET, g1_body
from twin.motion.robot_motion import RobotMotion
from twin.motion.rotations import quat_to_matrix
from twin.retarget.kinematics import qpos_addresses, robot_model

GRAVITY = 9.81
SELF_PENETRATION_TOL_M = 0.01


@dataclass(frozen=True)
class PhysicalReport:
    sole_min_z_m: float
    stance_slide_max_m: float
    zmp_outside_max_m: float
    zmp_outside_p95_m: float
    zmp_outside_frac: float
    com_outside_max_m: float
    stance_frac: float  # fraction of frames with at least one foot in stance
    flight_frames: int  # frames with no foot in stance
    self_penetration_max_m: float
    self_penetration_frac: float  # frames deeper than SELF_PENETRATION_TOL_M

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 5) for k, v in asdict(self).items()}


def _hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull of (N, 2) points (monotone chain)."""
    pts = np.unique(np.round(points, 9), axis=0)
    if len(pts) < 3:
        return pts
    cross = lambda o, a, b: (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in pts[::-1]:
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def distance_outside(point: np.ndarray, hull: np.ndarray) -> float:
    """Distance of ``point`` (2,) outside the convex polygon ``hull`` (K, 2); 0 inside."""
    if len(hull) < 3:
        return float(np.min(np.linalg.norm(hull - point, axis=1))) if len(hull) else np.inf
    a, b = hull, np.roll(hull, -1, axis=0)
    edge = b - a
    rel = point - a
    if np.all(edge[:, 0] * rel[:, 1] - edge[:, 1] * rel[:, 0] >= 0):
        return 0.0
    s = np.clip(np.sum(rel * edge, axis=1) / np.sum(edge * edge, axis=1), 0, 1)
    return float(np.min(np.linalg.norm(a + s[:, None] * edge - point, axis=1)))


def sole_points_w(motion: RobotMotion) -> dict[str, np.ndarray]:
    """(T, 4, 3) world positions of each foot's contact sphere centres."""
    body = g1_body()
    out = {}
    for foot in FEET:
        i = motion.body_index(foot)
        R = quat_to_matrix(motion.body_quat_wxyz[:, i])
        out[foot] = motion.body_pos_w[:, i, None] + np.einsum(
            "tij,kj->tki", R, body.sole_spheres_in_ankle)
    return out


def lowest_sole_height_m(motion: RobotMotion, frame: int = 0) -> float:
    """Height above the floor (z = 0) of the lowest sole point at ``frame``, m; negative
    when that point is in the floor."""
    r = g1_body().sole_radius_m
    return float(min(p[frame, :, 2].min() for p in sole_points_w(motion).values()) - r)


def com_and_self_penetration(motion: RobotMotion) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3) whole-body CoM and (T,) deepest self-penetration (m, >= 0) by MuJoCo FK and
    collision detection of the motion's root and joints (the robot model has no floor)."""
    model = robot_model(motion.robot)
    data = mujoco.MjData(model)
    adr = qpos_addresses(model, motion.joint_names)
    com = np.empty((motion.num_frames, 3))
    pen = np.zeros(motion.num_frames)
    for t in range(motion.num_frames):
        data.qpos[:3] = motion.root_pos_w[t]
        data.qpos[3:7] = motion.root_quat_wxyz[t]
        data.qpos[adr] = motion.joint_pos[t]
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        com[t] = data.subtree_com[1]
        mujoco.mj_collision(model, data)
        if data.ncon:
            pen[t] = max(0.0, -float(data.contact.dist[:data.ncon].min()))
    return com, pen


def com_trajectory(motion: RobotMotion) -> np.ndarray:
    """(T, 3) whole-body CoM by MuJoCo FK of the motion's root and joints."""
    return com_and_self_penetration(motion)[0]


def physical_report(motion: RobotMotion, contact_height_m: float = 0.01,
                    contact: dict[str, np.ndarray] | None = None) -> PhysicalReport:
    """Measure ``motion`` (see module docstring). ``contact`` (foot -> (T,) bool) overrides
    the height-based stance detection (e.g. a generator's planned contacts)."""
    body = g1_body()
    soles = sole_points_w(motion)
    r = body.sole_radius_m
    low = {f: soles[f][..., 2].min(axis=1) - r for f in FEET}
    stance = contact or {f: low[f] < contact_height_m for f in FEET}
    slide = 0.0
    for f in FEET:
        centre = soles[f].mean(axis=1)[:, :2]
        st = np.asarray(stance[f], dtype=bool)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], st.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            slide = max(slide, float(np.linalg.norm(centre[a:b] - centre[a], axis=1).max()))
    com, pen = com_and_self_penetration(motion)
    dt = 1.0 / motion.fps
    acc = np.gradient(np.gradient(com, dt, axis=0), dt, axis=0)
    zmp = com[:, :2] - com[:, 2:3] / GRAVITY * acc[:, :2]
    out_zmp, out_com = [], []
    any_stance = np.zeros(motion.num_frames, dtype=bool)
    for t in range(motion.num_frames):
        pts = [soles[f][t, :, :2] for f in FEET if stance[f][t]]
        if not pts:
            continue
        any_stance[t] = True
        hull = _hull(np.concatenate(pts))
        out_zmp.append(distance_outside(zmp[t], hull))
        out_com.append(distance_outside(com[t, :2], hull))
    out_zmp = np.array(out_zmp) if out_zmp else np.zeros(1)
    out_com = np.array(out_com) if out_com else np.zeros(1)
    return PhysicalReport(
        sole_min_z_m=float(min(v.min() for v in low.values())),
        stance_slide_max_m=slide,
        zmp_outside_max_m=float(out_zmp.max()),
        zmp_outside_p95_m=float(np.percentile(out_zmp, 95)),
        zmp_outside_frac=float(np.mean(out_zmp > 0.005)),
        com_outside_max_m=float(out_com.max()),
        stance_frac=float(any_stance.mean()),
        flight_frames=int((~any_stance).sum()),
        self_penetration_max_m=float(pen.max()),
        self_penetration_frac=float(np.mean(pen > SELF_PENETRATION_TOL_M)),
    )
