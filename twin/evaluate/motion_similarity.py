"""Imagination vs execution: VideoVLA's motion similarity between a predicted video and the
video of what the robot then did.

Foreground keypoints (Shi-Tomasi corners) are tracked through each video with pyramidal
Lucas-Kanade (OpenCV); a track is foreground if it moves more than ``min_motion_px``. Each
track becomes its displacement trajectory (x_t - x_0, y_t - y_0 for t = 1..T-1, pixels in
a common frame size); imagined and executed tracks are matched one-to-one with the
Hungarian algorithm on cosine similarity, and the score is the mean cosine similarity of
the matched pairs, in [-1, 1]. Both videos are resampled to the same length and size first.
"""

from __future__ import annotations

import numpy as np


def _gray(video: np.ndarray, size: tuple[int, int]) -> list[np.ndarray]:
    import cv2

    out = []
    for f in np.asarray(video):
        f = np.ascontiguousarray(f[..., :3]).astype(np.uint8)
        if (f.shape[1], f.shape[0]) != size:
            f = cv2.resize(f, size, interpolation=cv2.INTER_AREA)
        out.append(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY))
    return out


def _resample(video: np.ndarray, length: int) -> np.ndarray:
    idx = np.round(np.linspace(0, len(video) - 1, length)).astype(int)
    return np.asarray(video)[idx]


def track_trajectories(video: np.ndarray, size: tuple[int, int] = (128, 128),
                       max_points: int = 200, min_motion_px: float = 1.0) -> np.ndarray:
    """(P, T-1, 2) displacement trajectories of the moving keypoints of a (T, H, W, 3) video."""
    import cv2

    frames = _gray(video, size)
    p0 = cv2.goodFeaturesToTrack(frames[0], maxCorners=max_points, qualityLevel=0.01,
                                 minDistance=3, blockSize=5)
    if p0 is None or len(frames) < 2:
        return np.zeros((0, max(len(frames) - 1, 0), 2))
    pts = p0.reshape(-1, 1, 2).astype(np.float32)
    start = pts[:, 0].copy()
    alive = np.ones(len(pts), dtype=bool)
    disp = []
    prev = frames[0]
    for f in frames[1:]:
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, f, pts, None, winSize=(15, 15), maxLevel=2,
                                              criteria=(cv2.TERM_CRITERIA_EPS
                                                        | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
        alive &= st.reshape(-1).astype(bool)
        pts = nxt
        disp.append(pts[:, 0] - start)
        prev = f
    traj = np.stack(disp, axis=1)[alive]  # (P, T-1, 2)
    moving = np.abs(traj).max(axis=(1, 2)) > min_motion_px
    return traj[moving]


def motion_similarity(imagined: np.ndarray, executed: np.ndarray,
                      size: tuple[int, int] = (128, 128), length: int | None = None
                      ) -> float | None:
    """Mean cosine similarity of Hungarian-matched foreground trajectories; None when either
    video has no moving keypoints (nothing to compare)."""
    from scipy.optimize import linear_sum_assignment

    imagined, executed = np.asarray(imagined), np.asarray(executed)
    if imagined.ndim != 4 or executed.ndim != 4:
        raise ValueError(f"videos must be (T, H, W, 3); got {imagined.shape} and "
                         f"{executed.shape}")
    T = length or min(len(imagined), len(executed))
    if T < 2:
        return None
    a = track_trajectories(_resample(imagined, T), size).reshape(-1, 2 * (T - 1))
    b = track_trajectories(_resample(executed, T), size).reshape(-1, 2 * (T - 1))
    if len(a) == 0 or len(b) == 0:
        return None
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    sim = a @ b.T
    rows, cols = linear_sum_assignment(-sim)
    return float(sim[rows, cols].mean())
