"""Rotation-vector <-> quaternion helpers."""

import numpy as np

from twin.motion.rotations import (
    axis_angle_to_matrix,
    quat_from_rotvec,
    quat_to_matrix,
    quat_to_rotvec,
)


def test_quat_from_rotvec_inverts_quat_to_rotvec_and_matches_rodrigues():
    rng = np.random.default_rng(0)
    v = rng.uniform(-1.5, 1.5, (50, 3))  # |v| < pi: quat_to_rotvec takes the short arc
    v[0] = 0.0
    v[1] = [1e-14, 0.0, 0.0]
    q = quat_from_rotvec(v)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(quat_to_rotvec(q), v, atol=1e-12)
    np.testing.assert_allclose(quat_to_matrix(q), axis_angle_to_matrix(v), atol=1e-12)
    np.testing.assert_allclose(quat_from_rotvec([0.0, 0.0, np.pi / 2]),
                               [np.sqrt(0.5), 0.0, 0.0, np.sqrt(0.5)], atol=1e-15)
