"""Rotation helpers in numpy: axis-angle, matrices, quaternions (w, x, y, z), slerp.

Quaternions are scalar-first (MuJoCo order) everywhere in twin; the only converters to a
foreign order are ``quat_xyzw_to_wxyz`` / ``quat_wxyz_to_xyzw``. All functions broadcast
over leading axes and work in float64.
"""

from __future__ import annotations

import numpy as np

from twin.rotations import quat_conjugate as quat_conj
from twin.rotations import quat_mul, quat_to_matrix  # noqa: F401  (re-exported)

# y-up world (x, y, z) -> z-up world (x, -z, y): +90 degrees about x.
R_ZUP_FROM_YUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """Rodrigues: (..., 3) rotation vectors (rad) -> (..., 3, 3) matrices."""
    aa = np.asarray(aa, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    small = angle < 1e-8
    axis = aa / np.where(small, 1.0, angle)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    a = angle[..., 0]
    c, s = np.cos(a), np.sin(a)
    C = 1.0 - c
    m = np.stack(
        [
            c + x * x * C, x * y * C - z * s, x * z * C + y * s,
            y * x * C + z * s, c + y * y * C, y * z * C - x * s,
            z * x * C - y * s, z * y * C + x * s, c + z * z * C,
        ],
        axis=-1,
    ).reshape(aa.shape[:-1] + (3, 3))
    # First-order expansion for tiny angles keeps the map smooth through zero.
    skew = np.zeros(aa.shape[:-1] + (3, 3))
    skew[..., 0, 1], skew[..., 0, 2] = -aa[..., 2], aa[..., 1]
    skew[..., 1, 0], skew[..., 1, 2] = aa[..., 2], -aa[..., 0]
    skew[..., 2, 0], skew[..., 2, 1] = -aa[..., 1], aa[..., 0]
    return np.where(small[..., None], np.eye(3) + skew, m)


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 4) unit quaternions (w, x, y, z), w >= 0."""
    m = np.asarray(m, dtype=np.float64)
    shp = m.shape[:-2]
    m = m.reshape(-1, 3, 3)
    q = np.empty((m.shape[0], 4))
    tr = np.trace(m, axis1=1, axis2=2)
    # Shepperd's method: pick the largest of w, x, y, z to divide by.
    cand = np.stack([tr, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1)
    k = np.argmax(cand, axis=1)
    for i in range(4):
        sel = k == i
        if not np.any(sel):
            continue
        r = m[sel]
        if i == 0:
            s = np.sqrt(1.0 + tr[sel]) * 2.0
            q[sel] = np.stack([0.25 * s, (r[:, 2, 1] - r[:, 1, 2]) / s,
                               (r[:, 0, 2] - r[:, 2, 0]) / s, (r[:, 1, 0] - r[:, 0, 1]) / s], 1)
        elif i == 1:
            s = np.sqrt(1.0 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2]) * 2.0
            q[sel] = np.stack([(r[:, 2, 1] - r[:, 1, 2]) / s, 0.25 * s,
                               (r[:, 0, 1] + r[:, 1, 0]) / s, (r[:, 0, 2] + r[:, 2, 0]) / s], 1)
        elif i == 2:
            s = np.sqrt(1.0 + r[:, 1, 1] - r[:, 0, 0] - r[:, 2, 2]) * 2.0
            q[sel] = np.stack([(r[:, 0, 2] - r[:, 2, 0]) / s, (r[:, 0, 1] + r[:, 1, 0]) / s,
                               0.25 * s, (r[:, 1, 2] + r[:, 2, 1]) / s], 1)
        else:
            s = np.sqrt(1.0 + r[:, 2, 2] - r[:, 0, 0] - r[:, 1, 1]) * 2.0
            q[sel] = np.stack([(r[:, 1, 0] - r[:, 0, 1]) / s, (r[:, 0, 2] + r[:, 2, 0]) / s,
                               (r[:, 1, 2] + r[:, 2, 1]) / s, 0.25 * s], 1)
    q *= np.where(q[:, :1] < 0, -1.0, 1.0)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q.reshape(shp + (4,))


def quat_to_rotvec(q: np.ndarray) -> np.ndarray:
    """(..., 4) unit quaternions (w, x, y, z) -> rotation vectors (rad), shortest arc."""
    q = np.asarray(q, dtype=np.float64)
    q = q * np.where(q[..., :1] < 0, -1.0, 1.0)
    v = q[..., 1:]
    s = np.linalg.norm(v, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., :1])
    scale = np.where(s < 1e-12, 2.0, angle / np.where(s < 1e-12, 1.0, s))
    return v * scale


def quat_from_rotvec(v: np.ndarray) -> np.ndarray:
    """(..., 3) rotation vectors (rad) -> (..., 4) unit quaternions (w, x, y, z)."""
    v = np.asarray(v, dtype=np.float64)
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    # sin(a/2)/a -> 1/2 as a -> 0
    k = np.where(angle < 1e-12, 0.5, np.sin(angle / 2) / np.where(angle < 1e-12, 1.0, angle))
    return np.concatenate([np.cos(angle / 2), v * k], axis=-1)


def quat_make_continuous(q: np.ndarray, axis: int = 0) -> np.ndarray:
    """Flip signs along ``axis`` (time) so consecutive quaternions have a positive dot."""
    q = np.moveaxis(np.array(q, dtype=np.float64), axis, 0)
    for t in range(1, q.shape[0]):
        flip = np.sum(q[t] * q[t - 1], axis=-1) < 0
        q[t][flip] *= -1.0
    return np.moveaxis(q, 0, axis)


def quat_slerp(q0: np.ndarray, q1: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Spherical interpolation between (..., 4) quaternions; ``frac`` broadcasts on (...)."""
    q0 = np.asarray(q0, dtype=np.float64)
    q1 = np.asarray(q1, dtype=np.float64)
    frac = np.asarray(frac, dtype=np.float64)[..., None]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.clip(np.abs(dot), -1.0, 1.0)
    theta = np.arccos(dot)
    sin_t = np.sin(theta)
    near = sin_t < 1e-6
    w0 = np.where(near, 1.0 - frac, np.sin((1.0 - frac) * theta) / np.where(near, 1.0, sin_t))
    w1 = np.where(near, frac, np.sin(frac * theta) / np.where(near, 1.0, sin_t))
    out = w0 * q0 + w1 * q1
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def quat_xyzw_to_wxyz(q_xyzw: np.ndarray) -> np.ndarray:
    return np.asarray(q_xyzw)[..., [3, 0, 1, 2]]


def quat_wxyz_to_xyzw(q_wxyz: np.ndarray) -> np.ndarray:
    return np.asarray(q_wxyz)[..., [1, 2, 3, 0]]


def angular_velocity_w(quat_wxyz: np.ndarray, fps: float) -> np.ndarray:
    """World-frame angular velocity (rad/s) of a (T, ..., 4) quaternion track, central
    differences (one-sided at the ends)."""
    q = quat_make_continuous(quat_wxyz, axis=0)
    T = q.shape[0]
    if T < 2:
        return np.zeros(q.shape[:-1] + (3,))
    nxt = np.concatenate([q[1:], q[-1:]], axis=0)
    prv = np.concatenate([q[:1], q[:-1]], axis=0)
    dt = np.full((T,), 2.0 / fps)
    dt[0] = dt[-1] = 1.0 / fps
    dq = quat_mul(nxt, quat_conj(prv))  # world-frame increment
    return quat_to_rotvec(dq) / dt.reshape((T,) + (1,) * (q.ndim - 1))
