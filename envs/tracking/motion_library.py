"""A library of robot reference clips at the control rate, with adaptive sampling.

Clips (``RobotMotion``) are resampled to the env's control rate (linear for positions and
joint angles, slerp for orientations) and concatenated into flat frame arrays; a frame is
addressed by its global index. Episode starts are drawn per clip and per 1-second bin with
failure-weighted probabilities (BeyondMimic's adaptive sampling): bins where episodes keep
terminating are sampled more, with a uniform floor so that every bin stays in play; clips can
carry prior weights (``weight_clips``), e.g. to sample the few motion-capture clips more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fnmatch import fnmatchcase

import numpy as np

from twin.motion.robot_motion import RobotMotion
from twin.motion.rotations import quat_slerp

log = logging.getLogger(__name__)


class MotionLibraryError(ValueError):
    pass


@dataclass
class _Frames:
    joint_pos: np.ndarray  # (F, J)
    joint_vel: np.ndarray
    body_pos_w: np.ndarray  # (F, B, 3)
    body_quat_wxyz: np.ndarray  # (F, B, 4)
    body_lin_vel_w: np.ndarray
    body_ang_vel_w: np.ndarray
    hand_joint_pos: np.ndarray | None  # (F, H)


def resample_motion_arrays(m: RobotMotion, body_ids: np.ndarray, fps: float) -> _Frames:
    """Frames of ``m`` at ``fps`` for the selected bodies."""
    n_out = max(1, int(np.floor(m.duration_s * fps + 1e-9)) + 1) if m.num_frames > 1 else 1
    t_src = np.arange(n_out) / fps * m.fps
    i0 = np.clip(np.floor(t_src).astype(int), 0, m.num_frames - 1)
    i1 = np.clip(i0 + 1, 0, m.num_frames - 1)
    a = (t_src - i0)[:, None]

    def lerp(x):
        aa = a.reshape((-1,) + (1,) * (x.ndim - 1))
        return (1 - aa) * x[i0] + aa * x[i1]

    bq = m.body_quat_wxyz[:, body_ids]
    return _Frames(
        joint_pos=lerp(m.joint_pos), joint_vel=lerp(m.joint_vel),
        body_pos_w=lerp(m.body_pos_w[:, body_ids]),
        body_quat_wxyz=quat_slerp(bq[i0], bq[i1], a),
        body_lin_vel_w=lerp(m.body_lin_vel_w[:, body_ids]),
        body_ang_vel_w=lerp(m.body_ang_vel_w[:, body_ids]),
        hand_joint_pos=None if m.hand_joint_pos is None else lerp(m.hand_joint_pos),
    )


def clip_weight_matches(names: list[str], weights: dict[str, float]) -> dict[str, np.ndarray]:
    """pattern -> which of ``names`` it matches (``fnmatch``, case-sensitive; ``amp_*`` also
    matches the augmented copies ``amp_...__aug0``; weight 0: never sampled). A pattern that
    matches none, or a weight that is not a finite number >= 0, is refused."""
    out = {}
    for pattern, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w < np.inf:
            raise MotionLibraryError(f"clip_weights.{pattern}: {w!r}; expected a number >= 0 "
                                     f"(0: never sampled)")
        hit = np.array([fnmatchcase(n, str(pattern)) for n in names], dtype=bool)
        if not hit.any():
            raise MotionLibraryError(f"clip_weights.{pattern}: matches none of the "
                                     f"{len(names)} training clips (e.g. {names[0]!r})")
        out[str(pattern)] = hit
    return out


# Where a clip that a restored sampler state does not hold starts: unmeasured, so sampled.
# At 0 it draws only the uniform floor's share beside restored bins failing at 0.3-0.6 and is
# never measured (session 23: two new clips of 371 s drew under 1 % of the episode starts).
NEW_CLIP_FAILURE_RATE = 0.5


class MotionLibrary:
    """Clips for one robot at ``fps``; ``body_names`` are the bodies tracked (root first)."""

    def __init__(self, motions: list[RobotMotion], joint_names: tuple[str, ...],
                 body_names: tuple[str, ...], fps: float, bin_s: float = 1.0,
                 uniform_floor: float = 0.1, failure_ema: float = 0.1):
        if not motions:
            raise MotionLibraryError("motion library: no clips given")
        self.fps = float(fps)
        self.joint_names = tuple(joint_names)
        self.body_names = tuple(body_names)
        self.names: list[str] = []
        # what a clip is, for reports: its generator's category, else its name's first word
        self.families: list[str] = []
        parts: list[_Frames] = []
        for k, m in enumerate(motions):
            name = m.clip_name(f"clip{k}")
            self._check(m, name)
            if abs(m.fps - self.fps) > 1e-6:
                log.info("motion %s: resampled from %.3g to %.3g fps", name, m.fps, self.fps)
            jidx = np.array([m.joint_names.index(j) for j in self.joint_names])
            bidx = np.array([m.body_index(b) for b in self.body_names])
            f = resample_motion_arrays(m, bidx, self.fps)
            f.joint_pos, f.joint_vel = f.joint_pos[:, jidx], f.joint_vel[:, jidx]
            parts.append(f)
            self.names.append(name)
            self.families.append(str(m.source.get("category") or name.split("_")[0]))
        self.clip_len = np.array([p.joint_pos.shape[0] for p in parts], dtype=np.int64)
        self.clip_start = np.concatenate([[0], np.cumsum(self.clip_len)[:-1]]).astype(np.int64)
        cat = lambda key: np.concatenate([getattr(p, key) for p in parts])
        self.joint_pos, self.joint_vel = cat("joint_pos"), cat("joint_vel")
        self.body_pos_w, self.body_quat_wxyz = cat("body_pos_w"), cat("body_quat_wxyz")
        self.body_lin_vel_w, self.body_ang_vel_w = cat("body_lin_vel_w"), cat("body_ang_vel_w")
        hands = [p.hand_joint_pos for p in parts]
        self.hand_joint_pos = np.concatenate(hands) if all(h is not None for h in hands) else None
        # adaptive sampling state: failure rate per (clip, bin)
        self.bin_frames = max(1, int(round(bin_s * self.fps)))
        self.num_bins = np.maximum(1, -(-self.clip_len // self.bin_frames))
        self.bin_offset = np.concatenate([[0], np.cumsum(self.num_bins)[:-1]])
        self.failure_rate = np.zeros(int(self.num_bins.sum()))
        self.uniform_floor = uniform_floor
        self.failure_ema = failure_ema
        self.clip_weight = np.ones(len(self.clip_len))

    def _check(self, m: RobotMotion, name: str) -> None:
        missing = [j for j in self.joint_names if j not in m.joint_names]
        if missing:
            raise MotionLibraryError(f"motion {name}: joint_names lack {missing[:5]} "
                                     f"(+{max(0, len(missing) - 5)}); expected the robot's joints")
        missing_b = [b for b in self.body_names if b not in m.body_names]
        if missing_b:
            raise MotionLibraryError(f"motion {name}: body_names lack {missing_b}")

    @property
    def num_clips(self) -> int:
        return len(self.clip_len)

    @property
    def num_frames(self) -> int:
        return int(self.clip_len.sum())

    def frame(self, clip: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Global frame index of step ``t`` of ``clip``, held at the clip's last frame."""
        return self.clip_start[clip] + np.clip(t, 0, self.clip_len[clip] - 1)

    def weight_clips(self, weights: dict[str, float]) -> dict[str, int]:
        """Scale the sampling probability of every bin of the clips whose name matches a
        pattern (``clip_weight_matches``) by its weight; weights are not compounded: a clip
        matched by several patterns takes the last one's. Returns how many clips each
        pattern matched."""
        counts = {}
        weight = self.clip_weight.copy()
        for pattern, hit in clip_weight_matches(self.names, weights).items():
            weight[hit] = float(weights[pattern])
            counts[pattern] = int(hit.sum())
        if not weight.any():
            raise MotionLibraryError(f"clip_weights: {dict(weights)} leave no clip to sample; "
                                     "expected a weight > 0 for at least one")
        self.clip_weight = weight
        return counts

    def _start_weights(self, adaptive: bool) -> np.ndarray:
        """Unnormalised probability of an episode starting in each bin."""
        if adaptive:
            n = len(self.failure_rate)
            p = self.failure_rate + self.uniform_floor * (self.failure_rate.mean() + 1.0 / n)
        else:
            # uniform over frames: bins weighted by how many frames they hold
            p = np.concatenate([np.minimum(self.bin_frames, L - self.bin_frames * np.arange(nb))
                                for L, nb in zip(self.clip_len, self.num_bins)]).astype(float)
        return p * np.repeat(self.clip_weight, self.num_bins)

    def sample_start(self, rng: np.random.Generator, adaptive: bool = True) -> tuple[int, int]:
        """(clip, start step) for one episode."""
        p = self._start_weights(adaptive)
        b = int(rng.choice(len(p), p=p / p.sum()))
        clip = int(np.searchsorted(self.bin_offset, b, side="right") - 1)
        local_bin = b - self.bin_offset[clip]
        lo = local_bin * self.bin_frames
        hi = min(lo + self.bin_frames, self.clip_len[clip])
        return clip, int(rng.integers(lo, max(lo + 1, hi - 1)))

    def sampler_state(self) -> dict[str, np.ndarray]:
        """Each clip's per-bin failure rates by clip name: what a resumed run restores."""
        return {n: self.failure_rate[o:o + k].copy()
                for n, o, k in zip(self.names, self.bin_offset, self.num_bins)}

    def restore_sampler_state(self, state: dict[str, np.ndarray]) -> int:
        """Set the failure rates of the clips ``state`` holds with as many bins; a clip added
        or changed since starts at ``NEW_CLIP_FAILURE_RATE``. Returns how many were set."""
        restored = 0
        for n, o, k in zip(self.names, self.bin_offset, self.num_bins):
            rates = state.get(n)
            if rates is not None and len(rates) == k:
                self.failure_rate[o:o + k] = rates
                restored += 1
            else:
                self.failure_rate[o:o + k] = NEW_CLIP_FAILURE_RATE
        return restored

    def start_shares(self) -> dict[str, tuple[float, float]]:
        """Per clip family: the share of adaptive episode starts (clip weights included) and
        the mean bin failure rate, largest share first: where training is spent."""
        p = self._start_weights(adaptive=True)
        family = np.repeat(np.array(self.families), self.num_bins)
        out = {f: (float(p[family == f].sum() / p.sum()),
                   float(self.failure_rate[family == f].mean())) for f in set(self.families)}
        return dict(sorted(out.items(), key=lambda kv: -kv[1][0]))

    def record_episode_end(self, clip: int, t: int, failed: bool) -> None:
        """Update the failure rate of the bin where an episode ended."""
        b = self.bin_offset[clip] + min(t // self.bin_frames, self.num_bins[clip] - 1)
        self.failure_rate[b] += self.failure_ema * (float(failed) - self.failure_rate[b])
