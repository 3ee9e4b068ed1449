"""Robot forward kinematics for reference motions: qpos tracks -> ``RobotMotion``.

Imports ``mujoco`` (an exception to "only twin/sim imports the simulator", accepted for
retargeting because mink needs an ``MjModel``); the model itself comes from
``twin.sim.mujoco_robot.robot_mjspec`` so that robot edits live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mujoco
import numpy as np

from twin.motion.robot_motion import RobotMotion
from twin.motion.rotations import angular_velocity_w, quat_make_continuous
from twin.robots import get
from twin.sim.mujoco_robot import robot_mjspec


@lru_cache(maxsize=4)
def robot_model(robot: str = "g1") -> mujoco.MjModel:
    """Compiled MjModel of a registered robot (stiff gains; kinematics only)."""
    spec = get(robot)
    return robot_mjspec(spec, "stiff" if "stiff" in spec.gain_profiles else None).compile()


def qpos_addresses(model: mujoco.MjModel, joint_names: tuple[str, ...]) -> np.ndarray:
    return np.array([model.joint(n).qposadr[0] for n in joint_names])


def joint_limits(robot: str, joint_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper position limits (rad) of ``joint_names`` in ``robot``'s model."""
    model = robot_model(robot)
    rng = np.array([model.joint(n).range for n in joint_names])
    return rng[:, 0], rng[:, 1]


def joint_axes_w(robot: str, joint_names: tuple[str, ...]) -> np.ndarray:
    """(J, 3) world axes of hinge joints at the model's reference pose (root at the origin,
    unrotated)."""
    model = robot_model(robot)
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    missing = [n for n in joint_names if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) < 0]
    if missing:
        raise KeyError(f"robot {robot!r} has no joints {missing[:4]}")
    return np.array([data.xaxis[model.joint(n).id] for n in joint_names])


def body_names(model: mujoco.MjModel) -> tuple[str, ...]:
    """All bodies but the world, in model order."""
    return tuple(model.body(i).name for i in range(1, model.nbody))


def robot_motion_from_qpos(
    robot: str,
    root_pos_w: np.ndarray,
    root_quat_wxyz: np.ndarray,
    joint_pos: np.ndarray,
    fps: float,
    *,
    hand_joint_names: tuple[str, ...] = (),
    hand_joint_pos: np.ndarray | None = None,
    hand_state: np.ndarray | None = None,
    human_joint_names: tuple[str, ...] = (),
    human_joint_pos_w: np.ndarray | None = None,
    source: dict | None = None,
) -> RobotMotion:
    """Fill body poses and velocities of every body by MuJoCo FK of ``robot``.

    ``joint_pos`` (T, J) is in ``get(robot).joint_names`` order; velocities are central
    finite differences (world frame).
    """
    spec = get(robot)
    model = robot_model(robot)
    data = mujoco.MjData(model)
    adr = qpos_addresses(model, spec.joint_names)
    T = joint_pos.shape[0]
    names = body_names(model)
    pos = np.empty((T, len(names), 3))
    quat = np.empty((T, len(names), 4))
    root_quat = quat_make_continuous(root_quat_wxyz / np.linalg.norm(
        root_quat_wxyz, axis=-1, keepdims=True), axis=0)
    for t in range(T):
        data.qpos[:3] = root_pos_w[t]
        data.qpos[3:7] = root_quat[t]
        data.qpos[adr] = joint_pos[t]
        mujoco.mj_kinematics(model, data)
        pos[t] = data.xpos[1:]
        quat[t] = data.xquat[1:]
    quat = quat_make_continuous(quat, axis=0)
    dt = 1.0 / fps
    grad = (lambda x: np.gradient(x, dt, axis=0)) if T > 1 else np.zeros_like
    return RobotMotion(
        fps=float(fps), robot=robot, joint_names=spec.joint_names, body_names=names,
        joint_pos=joint_pos, joint_vel=grad(joint_pos), root_pos_w=root_pos_w,
        root_quat_wxyz=root_quat, body_pos_w=pos, body_quat_wxyz=quat,
        body_lin_vel_w=grad(pos), body_ang_vel_w=angular_velocity_w(quat, fps),
        hand_joint_names=hand_joint_names if hand_joint_pos is not None else (),
        hand_joint_pos=hand_joint_pos, hand_state=hand_state,
        human_joint_names=human_joint_names if human_joint_pos_w is not None else (),
        human_joint_pos_w=human_joint_pos_w, source=dict(source or {}),
    )


def isaac_lab_body_order(model: mujoco.MjModel) -> tuple[int, ...]:
    """Body ids (world excluded) in Isaac Lab's order: breadth-first over the kinematic tree,
    children in file order (what Isaac Lab's articulation reports for an imported MJCF/URDF
    and what BeyondMimic's Isaac Lab exports store)."""
    children: dict[int, list[int]] = {}
    for b in range(2, model.nbody):
        children.setdefault(int(model.body_parentid[b]), []).append(b)
    order, frontier = [1], [1]
    while frontier:
        frontier = [c for b in frontier for c in children.get(b, [])]
        order += frontier
    return tuple(order)


@dataclass(frozen=True)
class LayoutMatch:
    """Which body/joint order an unnamed G1 clip uses, found by forward kinematics."""

    order: str                       # "mujoco" or "isaaclab"
    body_names: tuple[str, ...]      # the file's body columns, named
    joint_names: tuple[str, ...]     # the file's joint columns, named
    fk_error_m: dict[str, float]     # max body-position error per candidate order


def _hinge_joint_of(model: mujoco.MjModel, body: int) -> str | None:
    for j in range(model.body_jntadr[body], model.body_jntadr[body] + model.body_jntnum[body]):
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE:
            return model.joint(j).name
    return None


def detect_layout(robot: str, joint_pos: np.ndarray, body_pos_w: np.ndarray,
                  body_quat_wxyz: np.ndarray, *, tol_m: float = 0.01,
                  max_frames: int = 12) -> LayoutMatch | None:
    """Name the columns of an unnamed clip: try MuJoCo and Isaac Lab body/joint orders, run
    FK from the stored root pose and joint angles on up to ``max_frames`` frames, and keep
    the order that reproduces ``body_pos_w`` within ``tol_m``. None when none does (the
    errors of every candidate are in the returned value's absence; see ``layout_errors``).
    """
    match, _ = _match_layout(robot, joint_pos, body_pos_w, body_quat_wxyz, tol_m, max_frames)
    return match


def layout_errors(robot: str, joint_pos: np.ndarray, body_pos_w: np.ndarray,
                  body_quat_wxyz: np.ndarray, max_frames: int = 12) -> dict[str, float]:
    return _match_layout(robot, joint_pos, body_pos_w, body_quat_wxyz, 0.0, max_frames)[1]


def _match_layout(robot, joint_pos, body_pos_w, body_quat_wxyz, tol_m, max_frames):
    spec = get(robot)
    model = robot_model(robot)
    nb = model.nbody - 1
    errors: dict[str, float] = {}
    if body_pos_w.shape[1] != nb or joint_pos.shape[1] != len(spec.joint_names):
        return None, errors
    data = mujoco.MjData(model)
    T = joint_pos.shape[0]
    frames = np.unique(np.linspace(0, T - 1, min(T, max_frames)).round().astype(int))
    candidates = {"mujoco": tuple(range(1, model.nbody)), "isaaclab": isaac_lab_body_order(model)}
    best = None
    for order, bodies in candidates.items():
        joints = [_hinge_joint_of(model, b) for b in bodies]
        joint_names = tuple(j for j in joints if j is not None)
        if sorted(joint_names) != sorted(spec.joint_names):
            continue
        adr = qpos_addresses(model, joint_names)
        root = bodies.index(1)
        err = 0.0
        for t in frames:
            q = body_quat_wxyz[t, root]
            data.qpos[:3] = body_pos_w[t, root]
            data.qpos[3:7] = q / max(np.linalg.norm(q), 1e-9)
            data.qpos[adr] = joint_pos[t]
            mujoco.mj_kinematics(model, data)
            err = max(err, float(np.abs(data.xpos[list(bodies)] - body_pos_w[t]).max()))
        errors[order] = err
        if err <= tol_m and (best is None or err < errors[best.order]):
            best = LayoutMatch(order, tuple(model.body(b).name for b in bodies), joint_names,
                               errors)
    if best is not None:
        best = LayoutMatch(best.order, best.body_names, best.joint_names, dict(errors))
    return best, errors
