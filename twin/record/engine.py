"""The data engine: drive any twin env with any policy and keep the episodes worth training on.

``record(RecordConfig(...))`` is what ``twin record`` runs. Attempt ``k`` resets the env with
seed ``seed + k`` (and, on the G1 tracking envs, plays clip ``k mod clips``), runs the
policy (``twin.record.policies``: oracle, policy server, Python callable, random/zero,
tracker) with chunked execution, and records every executed control step as a frame:
cameras, extrinsics and visual action prompts for the stored state
(``twin.record.prompts.observation``), the action executed, reward and flags. An attempt
becomes the next dataset episode when it passes the filters (``only_success``,
``min_length``); its seed, attempt index, termination, policy and motion are stored as
episode columns of ``meta/episodes``.

Attempts are consumed in order, so the dataset is the same whether they ran here, on local
worker processes (``workers``) or on a Ray cluster (``ray_address``). ``meta/twin_progress.json``
holds the next attempt index (a resumed run continues the seed sequence: no episode is
recorded twice) and success counts over all attempts; ``README.md`` is the dataset card.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import TwinError
from twin.policy.websocket_client import InfrastructureError
from twin.record.features import FeatureSpec
from twin.record.recorder import _FrameBuilder, features_from_spaces

log = logging.getLogger(__name__)

PROGRESS_PATH = "meta/twin_progress.json"
PROGRESS_SCHEMA_VERSION = 1
TRACKING_ENVS = ("twin/G1MotionTracking-v0", "twin/G1Dex3MotionTracking-v0")
# episode columns the engine adds to meta/episodes (one schema for every episode)
EPISODE_COLUMNS = ("seed", "attempt", "termination", "policy", "motion")


class RecordInterrupted(TwinError, RuntimeError):
    """The policy server failed mid-recording; the finished episodes are kept."""


@dataclass
class RecordConfig:
    """One recording. ``env``: a registered id or an eval task preset (``configs/task``).

    ``episodes`` is the number of episodes the dataset should hold (a resumed run records
    the missing ones). ``max_attempts`` bounds the attempts of this run (default: 20 per
    missing episode with filters, else the missing count).
    """

    env: str = "twin/PandaReach-v0"  # registered id or eval task preset (configs/task)
    out: str = "record_out"  # dataset folder
    episodes: int = 10  # episodes the dataset should hold (a resumed run adds the missing)
    policy: str = "random"  # random, zero, oracle, ws://HOST:PORT, python:MODULE:FACTORY, tracker[:NAME]
    seed: int = 0  # attempt k is reset with seed + k
    cameras: list[str] | None = None  # camera names; null = every camera of the scene
    prompts: bool = False  # also record visual action prompts (skeleton, mask, depth, keypoints)
    size: int = 256  # square image side, pixels (even)
    task: str | None = None  # language instruction; null = the env's (or the env id)
    codec: str | None = None  # ffmpeg video encoder; null = LeRobot's AV1 (h264 fallback)
    render_profile: str | None = None  # full or fast; null = the env's
    depth_range: list[float] | None = None  # [near_m, far_m] for every depth prompt; null = per camera
    env_kwargs: dict = field(default_factory=dict)  # keyword arguments for the env
    max_episode_steps: int | None = None  # control steps per episode; null = the env's
    execute_steps: int | None = None  # actions executed per predicted chunk; null = the preset's
    only_success: bool = False  # keep successful episodes only
    min_length: int = 1  # shortest episode kept, frames
    max_attempts: int | None = None  # attempts this run at most; null = 20 per missing episode with filters
    resume: bool = False  # continue the dataset in out after its last attempt
    workers: int = 1  # local worker processes running attempts
    ray_address: str | None = None  # Ray cluster for the attempts (local = start one here)
    motions: str | None = None  # clips (file, folder, glob) for the G1 tracking envs
    timeout_s: float = 30.0  # policy server reply and connect timeout, seconds

    def key(self) -> dict:
        """What a resumed run must share with the recording it continues."""
        return {k: getattr(self, k) for k in (
            "env", "policy", "seed", "cameras", "prompts", "size", "task", "env_kwargs",
            "max_episode_steps", "execute_steps", "only_success", "min_length", "motions",
            "depth_range")}

    def check(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"episodes {self.episodes}: expected >= 1")
        if self.size < 2 or self.size % 2:
            raise ValueError(f"size {self.size}: must be a positive even number (video)")
        if self.min_length < 1:
            raise ValueError(f"min_length {self.min_length}: expected >= 1")
        if self.workers < 1:
            raise ValueError(f"workers {self.workers}: expected >= 1")
        if self.depth_range is not None and len(self.depth_range) != 2:
            raise ValueError(f"depth_range {self.depth_range}: expected [near_m, far_m]")


@dataclass
class Attempt:
    """One rollout. ``frames`` travel back from workers only for kept attempts."""

    attempt: int
    seed: int
    task: str
    success: bool
    termination: str
    length: int
    motion: str = ""
    rejected: str = ""  # "", "not_success", "too_short", "policy_error"
    frames: list[dict] | None = None

    @property
    def kept(self) -> bool:
        return not self.rejected


# --- one process's env, observer and policy ------------------------------------------------
def _action_names(task: Any, dim: int) -> tuple[str, ...]:
    """Element names of the action vector, from what the task says it executes."""
    control = getattr(task, "control", None)
    if control is not None and getattr(control, "mode", None) in ("ee_delta", "ee_abs"):
        d = "d" if control.mode == "ee_delta" else ""
        names = ([f"{d}rot_{control.rotation}_{a}" for a in "xyz"]
                 + [f"{d}pos_{a}" for a in "xyz"] + [f"gripper_{control.gripper}"])
        if len(names) == dim:
            return tuple(f"{n}@{control.frame}" if i < 6 else n for i, n in enumerate(names))
    for attr in ("arm", "body_joint_names", "joint_names"):
        names = getattr(task, attr, None)
        if names is not None and len(names) == dim:
            return tuple(str(n) for n in names)
    if control is not None and getattr(task, "arm_joint_names", None) is not None:
        names = tuple(task.arm_joint_names) + ("gripper",)
        if len(names) == dim:
            return names
    return tuple(f"action[{i}]" for i in range(dim))


def recording_features(observer: Any, action_space: Any, task: Any
                       ) -> tuple[dict[str, FeatureSpec], _FrameBuilder]:
    """The dataset features (every vector named) and the frame builder for frames made of
    ``observer.observe(...)`` output, the executed action and the step result."""
    kw = observer.recorder_kwargs()
    kw.pop("task_key", None)
    builder = _FrameBuilder(kw["camera_keys"], kw["state_key"], kw["extra_keys"],
                            kw["video_keys"])
    names = _action_names(task, int(np.prod(action_space.shape)))
    features = features_from_spaces(observer.space, action_space, action_names=names, **kw)
    features["next.reward"] = FeatureSpec("float32", (1,), ("reward",))
    features["next.done"] = FeatureSpec("bool", (1,), ("done",))
    features["next.success"] = FeatureSpec("bool", (1,), ("success",))
    return features, builder


class EpisodeRunner:
    """Builds the env, camera observer and policy of a ``RecordConfig`` in this process and
    runs attempts. Used by ``record`` and by every worker."""

    def __init__(self, cfg: RecordConfig) -> None:
        import gymnasium as gym

        import twin  # noqa: F401  (registers ids, sets MUJOCO_GL)
        from twin.evaluate.tasks import load_task
        from twin.record.policies import make_driver, tracker_name
        from twin.record.prompts import DepthEncoding
        from twin.record.prompts.observation import _Observer, _task_of

        self.cfg = cfg
        preset = load_task(cfg.env)
        self.env_id = preset.env_id
        kwargs = {**preset.env_kwargs, **cfg.env_kwargs}
        controller = None
        self.tracking = self.env_id in TRACKING_ENVS
        if self.tracking:
            if cfg.motions:
                kwargs["motions"] = cfg.motions
            if "motions" not in kwargs:
                raise ValueError(f"{self.env_id}: pass motions=FILE|DIR|GLOB (the clips to "
                                 "execute)")
            for k, v in (("dr", False), ("random_start", False), ("adaptive_sampling", False)):
                kwargs.setdefault(k, v)
            name = tracker_name(cfg.policy)
            if name is not None:
                from twin.controllers.tracking_policy import TrackingController
                from twin.envs.tracking.g1_tracking import tracker_task_kwargs

                controller = TrackingController.load(name)
                for k, v in tracker_task_kwargs(controller.metadata).items():
                    kwargs.setdefault(k, v)
        elif cfg.motions:
            raise ValueError(f"motions= is for the G1 tracking envs {list(TRACKING_ENVS)}, not "
                             f"{self.env_id}")
        needs_images = cfg.policy.startswith(("ws://", "wss://", "python:"))
        entry = str(gym.spec(self.env_id).entry_point)
        if not needs_images and ("obs_mode" in kwargs or ".manipulation." in entry):
            kwargs["obs_mode"] = "state"  # the recorder renders its own cameras
        if cfg.render_profile:
            kwargs["render_profile"] = cfg.render_profile
        steps = cfg.max_episode_steps or preset.max_episode_steps
        from twin.registration import make_with_user_kwargs

        self.env = make_with_user_kwargs(self.env_id, cfg.env_kwargs, max_episode_steps=steps,
                                         disable_env_checker=True, **kwargs)
        self.task = _task_of(self.env)
        if controller is not None and controller.metadata.obs_dim != \
                self.env.observation_space.shape[0]:
            raise ValueError(f"tracker {cfg.policy}: observation size "
                             f"{controller.metadata.obs_dim} != {self.env_id}'s "
                             f"{self.env.observation_space.shape[0]}")
        self.execute_steps = int(cfg.execute_steps or preset.execute_steps)
        depth = DepthEncoding(*cfg.depth_range) if cfg.depth_range else None
        self.observer = _Observer(self.task, cfg.cameras, cfg.size, cfg.size, cfg.prompts,
                                  depth, cfg.render_profile)
        self.features, self.builder = recording_features(self.observer, self.env.action_space,
                                                         self.task)
        self.fps = int(self.env.metadata.get("render_fps") or round(1 / self.task.control_dt))
        self.driver = make_driver(cfg.policy, self.env, timeout_s=cfg.timeout_s,
                                  controller=controller)
        self._act_dtype = self.env.action_space.dtype
        self._act_shape = tuple(self.env.action_space.shape)

    @property
    def robot_type(self) -> str | None:
        robot = getattr(getattr(self.task.backend, "scene", None), "robot", None)
        return getattr(robot, "name", None)

    def _instruction(self, obs: Any) -> str:
        if self.cfg.task:
            return self.cfg.task
        if isinstance(obs, dict) and "instruction" in obs:
            text = str(np.asarray(obs["instruction"]).reshape(-1)[0])
            if text:
                return text
        if self.tracking:
            return "follow the reference motion"
        return self.env_id

    def run(self, attempt: int, sink: Callable[[dict], None]) -> Attempt:
        """Run attempt ``attempt``, passing each frame to ``sink``; filters are applied."""
        from twin.policy.base import PolicyError

        cfg = self.cfg
        seed = cfg.seed + attempt
        motion = ""
        if self.tracking:
            lib = self.task.library
            clip = attempt % len(lib.names)
            self.task.fixed_clips = np.array([clip])
            motion = str(lib.names[clip])
        self.driver.reset(seed)
        obs, _ = self.env.reset(seed=seed)
        task = self._instruction(obs)
        steps, success, termination, rejected = 0, False, "", ""
        try:
            done = False
            while not done:
                chunk = np.asarray(self.driver(obs))
                for j in range(min(self.execute_steps, len(chunk))):
                    seen = self.observer.observe(obs, 0)
                    a = chunk[j].astype(self._act_dtype).reshape(self._act_shape)
                    obs, r, te, tr, info = self.env.step(a)
                    done = bool(te or tr)
                    success = bool(info.get("is_success", False))
                    sink(self.builder(seen, a, float(r), done, success))
                    steps += 1
                    if done:
                        termination = str(info.get("termination", "") or "") or (
                            "time_limit" if tr else "terminated")
                        break
        except (PolicyError, ValueError) as exc:
            log.warning("attempt %d (seed %d): policy error: %s", attempt, seed, exc)
            termination, rejected = "policy_error", "policy_error"
        if not rejected and cfg.only_success and not success:
            rejected = "not_success"
        if not rejected and steps < cfg.min_length:
            rejected = "too_short"
        return Attempt(attempt, seed, task, success, termination, steps, motion, rejected)

    def close(self) -> None:
        try:
            self.driver.close()
            self.observer.close()
        finally:
            self.env.close()


# --- where attempts run ---------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(cfg_dict: dict) -> None:
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    old = _WORKER.pop("runner", None)
    if old is not None:
        old.close()
    _WORKER["runner"] = EpisodeRunner(RecordConfig(**cfg_dict))
    _WORKER["cfg"] = cfg_dict


def _attempt_in_worker(attempt: int) -> Attempt:
    frames: list[dict] = []
    res = _WORKER["runner"].run(attempt, frames.append)
    res.frames = frames if res.kept else None
    return res


def _ordered(submit: Callable[[int], Any], result: Callable[[Any], Attempt], first: int,
             window: int) -> Iterator[Attempt]:
    """Attempts first, first+1, ... in order, ``window`` of them in flight."""
    pending: dict[int, Any] = {}
    k = first
    while True:
        while len(pending) < window:
            pending[k + len(pending)] = submit(k + len(pending))
        yield result(pending.pop(k))
        k += 1


def _pool_attempts(cfg: RecordConfig, first: int) -> Iterator[Attempt]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(cfg.workers, mp_context=mp.get_context("spawn"),
                             initializer=_init_worker,
                             initargs=(dataclasses.asdict(cfg),)) as pool:
        try:
            yield from _ordered(lambda k: pool.submit(_attempt_in_worker, k),
                                lambda f: f.result(), first, 2 * cfg.workers)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _ray_attempts(cfg: RecordConfig, first: int) -> Iterator[Attempt]:
    try:
        import ray
    except ImportError as exc:
        raise ImportError("ray_address was given but ray is not installed "
                          "(pip install 'ray[default]')") from exc
    if not ray.is_initialized():
        address = None if cfg.ray_address == "local" else cfg.ray_address
        ray.init(address=address, ignore_reinit_error=True, include_dashboard=False,
                 log_to_driver=False)
    cfg_dict = dataclasses.asdict(cfg)

    @ray.remote(num_cpus=1)
    def _remote(cfg_dict: dict, attempt: int) -> Attempt:
        from twin.record import engine  # noqa: PLW0406  (in the Ray worker process)

        if engine._WORKER.get("cfg") != cfg_dict:  # Ray reuses worker processes
            engine._init_worker(cfg_dict)
        return engine._attempt_in_worker(attempt)

    window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    yield from _ordered(lambda k: _remote.remote(cfg_dict, k), ray.get, first, window)


# --- progress, card -------------------------------------------------------------------------
def load_progress(root: Path) -> dict | None:
    path = Path(root) / PROGRESS_PATH
    return json.loads(path.read_text()) if path.exists() else None


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    tmp.replace(path)


def _saved_attempts(root: Path) -> list[int]:
    from twin.record.recovery import read_episode_rows

    return [int(r["attempt"]) for r in read_episode_rows(root) if r.get("attempt") is not None]


@dataclass
class RecordSummary:
    out: str
    episodes: int
    frames: int
    attempts: int
    successes: int
    rejected: dict[str, int]
    next_attempt: int
    wall_s: float
    setup_s: float = 0.0  # building env, renderers and policy (wall_s includes it)


def record(cfg: RecordConfig) -> RecordSummary:
    """Record (or resume) a dataset; see the module docstring."""
    from twin.record import LeRobotV3Writer, VideoEncoding, load_info
    from twin.record.card import write_card
    from twin.record.layout import INFO_PATH
    from twin.record.prompts.observation import PROMPTS_META_PATH

    cfg.check()
    root = Path(cfg.out)
    t0 = time.perf_counter()
    has_dataset = (root / INFO_PATH).exists()
    if has_dataset and not cfg.resume:
        n = load_info(root).total_episodes
        raise FileExistsError(f"{root}: already holds a dataset of {n} episodes; pass resume=true "
                              "to continue it, or choose another output directory")
    progress = load_progress(root) if has_dataset else None
    key = json.loads(json.dumps(cfg.key()))
    if progress is not None and progress.get("key") != key:
        diff = {k: (progress.get("key", {}).get(k), v) for k, v in key.items()
                if progress.get("key", {}).get(k) != v}
        raise ValueError(f"{root / PROGRESS_PATH}: this dataset was recorded with other "
                         f"settings (recorded, now): {diff}; use another output directory")
    if has_dataset and progress is None:
        raise ValueError(f"{root}: not recorded by twin record (no {PROGRESS_PATH}); resume it "
                         "with twin.record.LeRobotV3Writer(resume=True) instead")
    runner = EpisodeRunner(cfg)
    setup_s = time.perf_counter() - t0
    writer = None
    try:
        writer = LeRobotV3Writer(root, runner.fps, runner.features, runner.robot_type,
                                 resume=cfg.resume,
                                 video=VideoEncoding(codec=cfg.codec) if cfg.codec else None)
        prog = progress or {"schema_version": PROGRESS_SCHEMA_VERSION,
                            "writer": "twin.record.engine", "key": key, "env_id": runner.env_id,
                            "next_attempt": 0, "attempts": 0, "successes": 0,
                            "rejected": {}, "sessions": []}
        saved = _saved_attempts(root) if has_dataset else []
        first = max([prog["next_attempt"], *[a + 1 for a in saved]])
        missing = cfg.episodes - writer.num_episodes
        filtering = cfg.only_success or cfg.min_length > 1
        budget = cfg.max_attempts or (20 * missing if filtering else missing)
        session = {"started_unix_s": round(time.time(), 1), "first_attempt": first,
                   "workers": cfg.workers, "ray_address": cfg.ray_address}
        prog["sessions"].append(session)
        meta_path = root / PROMPTS_META_PATH
        _write_json(meta_path, runner.observer.metadata())
        if missing > 0:
            attempts = _attempts(cfg, runner, writer, first)
            try:
                _run_attempts(cfg, root, writer, attempts, budget, prog)
            except InfrastructureError as exc:
                raise RecordInterrupted(
                    f"{root}: stopped at attempt {prog['next_attempt']} ({exc}); the dataset "
                    f"keeps its {writer.num_episodes} finished episodes: re-run with resume=true "
                    "to continue") from exc
            finally:
                attempts.close()
        session["ended_unix_s"] = round(time.time(), 1)
        _write_json(root / PROGRESS_PATH, prog)
        write_card(root, cfg, runner, prog)
        info = writer.info
        return RecordSummary(str(root), info.total_episodes, info.total_frames,
                             prog["attempts"], prog["successes"], dict(prog["rejected"]),
                             prog["next_attempt"], time.perf_counter() - t0, setup_s)
    finally:
        if writer is not None:
            writer.finalize()
        runner.close()


def _run_attempts(cfg: RecordConfig, root: Path, writer: Any, attempts: Iterator,
                  budget: int, prog: dict) -> None:
    """Consume attempts until the dataset holds ``cfg.episodes`` or ``budget`` ran."""
    for _ in range(budget):
        res, buf = next(attempts)
        prog["attempts"] += 1
        prog["successes"] += int(res.success)
        if res.kept:
            writer.save_episode(res.task, res.success, buffer=buf, metadata={
                "seed": res.seed, "attempt": res.attempt,
                "termination": res.termination, "policy": cfg.policy,
                "motion": res.motion})
        else:
            writer.discard_episode(buf)
            prog["rejected"][res.rejected] = prog["rejected"].get(res.rejected,
                                                                  0) + 1
        prog["next_attempt"] = res.attempt + 1
        _write_json(root / PROGRESS_PATH, prog)
        log.info("attempt %d seed %d: %s, %d steps, success=%s -> %s",
                 res.attempt, res.seed, res.termination, res.length, res.success,
                 f"episode {writer.num_episodes - 1}" if res.kept
                 else res.rejected)
        if writer.num_episodes >= cfg.episodes:
            break


def _attempts(cfg: RecordConfig, runner: EpisodeRunner, writer: Any, first: int
              ) -> Iterator[tuple[Attempt, Any]]:
    """(attempt, episode buffer holding its frames) in attempt order."""
    if cfg.workers <= 1 and not cfg.ray_address:
        k = first
        while True:
            buf = writer.new_episode()
            try:
                res = runner.run(k, buf.add_frame)
            except BaseException:
                writer.discard_episode(buf)
                raise
            yield res, buf
            k += 1
    remote = _ray_attempts(cfg, first) if cfg.ray_address else _pool_attempts(cfg, first)
    try:
        for res in remote:
            buf = writer.new_episode()
            for f in res.frames or ():
                buf.add_frame(f)
            res.frames = None
            yield res, buf
    finally:
        remote.close()
