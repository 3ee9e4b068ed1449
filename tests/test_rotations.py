"""Quaternion helpers against MuJoCo's own quaternion functions."""

import mujoco
import numpy as np

from twin.rotations import (
    projected_gravity,
    quat_apply,
    quat_apply_inverse,
    quat_from_yaw,
    quat_mul,
    quat_to_matrix,
    yaw_from_quat,
)


def _random_quats(n, seed=0):
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def test_against_mujoco():
    q, p = _random_quats(20), _random_quats(20, 1)
    v = np.random.default_rng(2).normal(size=(20, 3))
    for i in range(20):
        out = np.zeros(4)
        mujoco.mju_mulQuat(out, q[i], p[i])
        np.testing.assert_allclose(quat_mul(q[i], p[i]), out, atol=1e-12)
        rv = np.zeros(3)
        mujoco.mju_rotVecQuat(rv, v[i], q[i])
        np.testing.assert_allclose(quat_apply(q[i], v[i]), rv, atol=1e-12)
        m = np.zeros(9)
        mujoco.mju_quat2Mat(m, q[i])
        np.testing.assert_allclose(quat_to_matrix(q[i]), m.reshape(3, 3), atol=1e-12)
    np.testing.assert_allclose(quat_apply_inverse(q, quat_apply(q, v)), v, atol=1e-12)


def test_yaw_and_gravity():
    yaw = np.array([-2.0, 0.3, 1.5])
    np.testing.assert_allclose(yaw_from_quat(quat_from_yaw(yaw)), yaw, atol=1e-12)
    np.testing.assert_allclose(projected_gravity(quat_from_yaw(yaw)), [[0, 0, -1]] * 3, atol=1e-12)
    tilted = np.array([np.cos(0.25), np.sin(0.25), 0, 0])  # 0.5 rad about x
    np.testing.assert_allclose(projected_gravity(tilted), [0, -np.sin(0.5), -np.cos(0.5)],
                               atol=1e-12)
