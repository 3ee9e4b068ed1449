"""Linear inverted pendulum (cart-table) preview control of the centre of mass (Kajita 2003).

The CoM at constant height ``z_c`` follows ``x''' = u`` (jerk input) per horizontal axis;
the ZMP is ``p = x - z_c / g * x''``. The preview controller (Katayama's servo form, with an
integral of the ZMP error) minimises ``sum Qe e^2 + R u^2`` and looks ``preview_s`` ahead in
the ZMP reference. Gains come from scipy's discrete algebraic Riccati solver; both axes
share them. Units: metres, seconds; arrays (T, 2) world xy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import solve_discrete_are

GRAVITY = 9.81


@dataclass(frozen=True)
class PreviewGains:
    """``u_k = -Gi sum(e) - Gx x_k - sum_j Gd[j] p_ref[k + j + 1]`` with the cart-table
    matrices ``A`` (3, 3), ``B`` (3,), ``C`` (3,)."""

    dt: float
    com_height_m: float
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    Gi: float
    Gx: np.ndarray
    Gd: np.ndarray  # (N,)


@lru_cache(maxsize=16)
def preview_gains(dt: float, com_height_m: float, preview_s: float = 1.6, qe: float = 1.0,
                  r: float = 1e-6) -> PreviewGains:
    A = np.array([[1.0, dt, dt ** 2 / 2], [0.0, 1.0, dt], [0.0, 0.0, 1.0]])
    B = np.array([dt ** 3 / 6, dt ** 2 / 2, dt])
    C = np.array([1.0, 0.0, -com_height_m / GRAVITY])
    # Augmented state [sum of ZMP error; x]: the integral makes the ZMP track with no offset.
    At = np.zeros((4, 4))
    At[0, 0] = 1.0
    At[0, 1:] = C @ A
    At[1:, 1:] = A
    Bt = np.concatenate([[C @ B], B])[:, None]
    Qt = np.zeros((4, 4))
    Qt[0, 0] = qe
    P = solve_discrete_are(At, Bt, Qt, np.array([[r]]))
    S = float(r + (Bt.T @ P @ Bt)[0, 0])
    K = (Bt.T @ P @ At) / S
    Gi, Gx = float(K[0, 0]), K[0, 1:].copy()
    Ac = At - Bt @ K
    It = np.array([[1.0], [0.0], [0.0], [0.0]])
    X = -Ac.T @ P @ It
    N = int(round(preview_s / dt))
    Gd = np.empty(N)
    Gd[0] = -Gi
    for j in range(1, N):
        Gd[j] = float((Bt.T @ X)[0, 0]) / S
        X = Ac.T @ X
    return PreviewGains(dt, com_height_m, A, B, C, Gi, Gx, Gd)


@dataclass(frozen=True)
class LipmTrajectory:
    """CoM position, velocity, acceleration and the resulting ZMP, (T, 2) each."""

    com: np.ndarray
    com_vel: np.ndarray
    com_acc: np.ndarray
    zmp: np.ndarray


def track_zmp(zmp_ref: np.ndarray, dt: float, com_height_m: float,
              preview_s: float = 1.6) -> LipmTrajectory:
    """CoM trajectory whose cart-table ZMP follows ``zmp_ref`` (T, 2); the reference is held
    at its last value beyond its end.

    The controller starts at rest above ``zmp_ref[0]`` a preview horizon (plus 0.4 s) before
    the first frame, with the reference held at ``zmp_ref[0]`` over that lead-in: a change
    the controller sees at once would otherwise be met with a burst of jerk (a ZMP transient
    of several cm at t = 0). The lead-in is dropped from the result.
    """
    g = preview_gains(float(dt), float(com_height_m), float(preview_s))
    N = g.Gd.size
    lead = N + int(round(0.4 / dt))
    T = zmp_ref.shape[0] + lead
    padded = np.concatenate([np.repeat(zmp_ref[:1], lead, axis=0), zmp_ref,
                             np.repeat(zmp_ref[-1:], N + 1, axis=0)])
    x = np.zeros((3, 2))
    x[0] = zmp_ref[0]
    err_sum = np.zeros(2)
    com, vel, acc, zmp = (np.empty((T, 2)) for _ in range(4))
    for k in range(T):
        com[k], vel[k], acc[k] = x
        zmp[k] = g.C @ x
        err_sum += zmp[k] - padded[k]
        u = -g.Gi * err_sum - g.Gx @ x - g.Gd @ padded[k + 1:k + 1 + N]
        x = g.A @ x + np.outer(g.B, u)
    return LipmTrajectory(com[lead:], vel[lead:], acc[lead:], zmp[lead:])
