"""``twin eval policy``: N seeded closed-loop episodes of one task against one policy.

Episode ``i`` is reset with seed ``seed + i``, so any subset of episodes, on any worker,
process or Ray node, reproduces the same initial states. Each finished episode is appended
to ``OUT/episodes.jsonl`` (flushed), so an interrupted run resumes where it stopped:
episodes already recorded as ``ok`` or ``policy_error`` are skipped, ``infra_error`` ones
(server unreachable, connection lost, timeout) run again. ``OUT/summary.json`` holds the
success rate with its Wilson 95 % interval over the episodes that ran (``ok`` +
``policy_error``; infrastructure failures are reported apart), timing, and, when the policy
predicts video, the imagination-vs-execution motion similarity and its correlation with
success.

Policies: ``ws://HOST:PORT`` (openpi websocket), ``oracle`` (scripted, privileged),
``python:MODULE:FACTORY`` (a factory returning a ``Policy`` or a callable).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.evaluate.stats import point_biserial, wilson_interval
from twin.evaluate.tasks import load_task

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RECORD_FILE = "episodes.jsonl"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.json"


@dataclass
class EvalConfig:
    """One evaluation run (``twin eval policy KEY=VALUE...``).

    policy: ws://HOST:PORT (policy server), oracle (scripted) or python:MODULE:FACTORY
    task: task preset (configs/task/NAME.yaml), a YAML path or a registered env id
    episodes: episodes to run; null = the task preset's (>= 75)
    seed: episode i is reset with seed + i (>= 0)
    workers: local processes running episodes (>= 1)
    out: results folder (episodes.jsonl, summary.json); re-running resumes it
    video: write one video per episode under out/videos
    execute_steps: actions executed per predicted chunk; null = the preset's
    temporal_ensemble: average overlapping chunk predictions
    timeout_s: seconds to wait for one policy reply (> 0)
    connect_timeout_s: seconds to keep retrying a connection (>= 0)
    max_episode_steps: control steps per episode; null = the preset's
    env_kwargs: keyword arguments for the env (env_kwargs.KEY=VALUE)
    ray_address: a Ray cluster to spread episodes on; null = local
    motion_camera: camera compared with the policy's predicted video
    record: a LeRobot dataset folder recording every finished episode (success and termination
        as episode columns); null = none; needs workers=1 and no ray_address
    record_prompts: also record visual action prompts in record=
    obs_keys: send the observation under a stock server's keys: libero or droid (openpi's flat
        observation/... keys, twin.evaluate.interop); null = twin's nested observation
    action_order: twin's action element i is the policy's element action_order[i]; null = the
        obs_keys preset's (libero: [3,4,5,0,1,2,6]) or as returned
    action_gripper: the policy's gripper convention (open01, close01, signed_open, signed_close),
        converted to the task's; null = the obs_keys preset's (libero: signed_close) or the task's
    token: policy server token; null = $TWIN_POLICY_TOKEN or none (never written to out)
    """

    policy: str = "oracle"
    task: str = "panda_pick_cube"
    episodes: int | None = None
    seed: int = 0
    workers: int = 1
    out: str = "eval_out"
    video: bool = False
    execute_steps: int | None = None
    temporal_ensemble: bool = False
    timeout_s: float = 30.0
    connect_timeout_s: float = 30.0
    max_episode_steps: int | None = None
    env_kwargs: dict = field(default_factory=dict)
    ray_address: str | None = None
    motion_camera: str = "third_person"
    record: str | None = None
    record_prompts: bool = False
    obs_keys: str | None = None
    action_order: list[int] | None = None
    action_gripper: str | None = None
    token: str | None = None

    def key(self) -> dict:
        """What must match for a resumed run to extend an earlier one."""
        return {"policy": self.policy, "task": self.task, "seed": self.seed,
                "execute_steps": self.execute_steps, "env_kwargs": self.env_kwargs,
                "max_episode_steps": self.max_episode_steps}


def check_eval_config(cfg: EvalConfig) -> None:
    """``ConfigError`` naming the first bad value, before any episode runs."""
    from twin import checks
    from twin.errors import ConfigError

    if not isinstance(cfg.policy, str) or not (
            cfg.policy.startswith(("ws://", "wss://")) or cfg.policy == "oracle"
            or (cfg.policy.startswith("python:") and cfg.policy.count(":") >= 2)):
        raise ConfigError("policy", cfg.policy, "ws://HOST:PORT, oracle or "
                          "python:MODULE:FACTORY")
    if cfg.policy.startswith("python:"):
        resolve_factory(cfg.policy)
    if cfg.policy.startswith(("ws://", "wss://")):
        from websockets.exceptions import InvalidURI
        from websockets.uri import parse_uri

        try:
            if not parse_uri(cfg.policy).host:
                raise InvalidURI(cfg.policy, "no host")
        except InvalidURI as exc:
            raise ConfigError("policy", cfg.policy, f"ws://HOST:PORT ({exc})") from None
    load_task(cfg.task)  # unknown task: one line listing the presets
    if cfg.obs_keys is not None and cfg.obs_keys not in ("libero", "droid"):
        raise ConfigError("obs_keys", cfg.obs_keys, "libero, droid or null")
    if cfg.action_gripper is not None and cfg.action_gripper not in (
            "open01", "close01", "signed_open", "signed_close"):
        raise ConfigError("action_gripper", cfg.action_gripper,
                          "open01, close01, signed_open or signed_close")
    if cfg.record and (cfg.workers > 1 or cfg.ray_address):
        raise ConfigError("record", cfg.record, "a dataset folder with workers=1 and no "
                          "ray_address (one writer per dataset)")
    checks.integer("episodes", cfg.episodes, 1, optional=True)
    checks.integer("seed", cfg.seed, 0, 2**32 - 1)
    checks.integer("workers", cfg.workers, 1, 1024)
    checks.writable_dir("out", cfg.out)
    checks.integer("execute_steps", cfg.execute_steps, 1, optional=True)
    checks.integer("max_episode_steps", cfg.max_episode_steps, 1, optional=True)
    checks.number("timeout_s", cfg.timeout_s, 0, lo_open=True)
    checks.number("connect_timeout_s", cfg.connect_timeout_s, 0)
    if not isinstance(cfg.env_kwargs, dict):
        raise ConfigError("env_kwargs", cfg.env_kwargs, "a map (env_kwargs.KEY=VALUE)")
    if not isinstance(cfg.motion_camera, str) or not cfg.motion_camera:
        raise ConfigError("motion_camera", cfg.motion_camera, "a camera name")


# --- building blocks ----------------------------------------------------------------------
def make_env(cfg: EvalConfig):
    """The task's env (single, TimeLimit) wrapped in ``ActionChunk``."""
    import twin  # noqa: F401  (registers ids, sets MUJOCO_GL)
    from twin.policy.chunk import ActionChunk
    from twin.registration import make_with_user_kwargs

    preset = load_task(cfg.task)
    kwargs = {**preset.env_kwargs, **cfg.env_kwargs}
    steps = cfg.max_episode_steps or preset.max_episode_steps
    env = make_with_user_kwargs(preset.env_id, cfg.env_kwargs, max_episode_steps=steps,
                                disable_env_checker=True, **kwargs)
    if cfg.record:
        from twin.record.eval_hook import RecordEval

        env = RecordEval(env, cfg.record, policy=cfg.policy, base_seed=cfg.seed,
                         prompts=cfg.record_prompts)
    m = cfg.execute_steps or preset.execute_steps
    return ActionChunk(env, execute_steps=m, temporal_ensemble=cfg.temporal_ensemble,
                       keep_step_obs=True)


def make_policy(spec: str, env=None, cfg: EvalConfig | None = None):
    """A ``Policy`` from its spec string (see the module docstring)."""
    from twin.policy.callable import CallablePolicy

    if spec.startswith(("ws://", "wss://")):
        from twin.policy.websocket_client import WebsocketClientPolicy

        return WebsocketClientPolicy(spec, timeout_s=cfg.timeout_s if cfg else 30.0,
                                     connect_timeout_s=cfg.connect_timeout_s if cfg else 30.0,
                                     api_key=cfg.token if cfg else None)
    if spec == "oracle":
        from twin.policy.oracle import OraclePolicy

        if env is None:
            raise ValueError("the oracle policy needs the env (privileged state)")
        return OraclePolicy(env.unwrapped.task)
    if spec.startswith("python:"):
        factory = resolve_factory(spec)
        try:
            obj = factory()
        except Exception as exc:  # the user's factory failing is bad input, not a twin bug
            from twin.errors import InputError

            log.debug("policy factory %s failed", spec, exc_info=True)
            raise InputError(f"policy={spec}: the factory raised {type(exc).__name__}: {exc} "
                             "(TWIN_DEBUG=1 shows the traceback)") from exc
        return obj if hasattr(obj, "infer") else CallablePolicy(obj)
    raise ValueError(f"policy {spec!r}: expected ws://HOST:PORT, 'oracle' or "
                     "python:MODULE:FACTORY")


def resolve_factory(spec: str):
    """The callable a ``python:MODULE:FACTORY`` spec names (imported, not called)."""
    import importlib

    from twin.errors import ConfigError

    module, _, attr = spec[len("python:"):].rpartition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError("policy", spec, f"python:MODULE:FACTORY naming an importable "
                          f"factory ({type(exc).__name__}: {exc})") from None
    if not callable(factory):
        raise ConfigError("policy", spec, f"a callable factory ({attr} is a "
                          f"{type(factory).__name__})")
    return factory


def _probe_env(cfg: EvalConfig) -> None:
    """Build the env once: refused env_kwargs, and a video without the camera to film it,
    end here in one line."""
    from twin.errors import ConfigError

    env = make_env(cfg)
    try:
        space = getattr(env.unwrapped, "observation_space", None)
        images = space.spaces.get("images") if hasattr(space, "spaces") else None
        cams = sorted(images.spaces) if images is not None else []
        if cfg.video and cfg.motion_camera not in cams:
            raise ConfigError("motion_camera", cfg.motion_camera,
                              f"a camera of the env's observation for video=true (it has "
                              f"{cams or 'no images: check env_kwargs.obs_mode'})")
    finally:
        env.close()


def _frame(obs: dict, camera: str) -> np.ndarray | None:
    images = obs.get("images") if isinstance(obs, dict) else None
    return None if not images or camera not in images else np.asarray(images[camera])


def run_episode(env, policy, episode: int, seed: int, cfg: EvalConfig,
                video_dir: Path | None = None) -> dict[str, Any]:
    """One episode; never raises for policy or transport failures (they become records)."""
    from twin.evaluate.motion_similarity import motion_similarity
    from twin.policy.base import PolicyError, validate_policy_output
    from twin.policy.websocket_client import InfrastructureError

    rec: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "episode": episode,
                           "seed": seed, "task": cfg.task, "policy": cfg.policy}
    t_start = time.perf_counter()
    t_policy = t_env = 0.0
    steps = calls = 0
    ret = 0.0
    frames: list[np.ndarray] = []
    sims: list[float] = []
    info: dict = {}
    status, error = "ok", None
    try:
        policy.reset()
        obs, _ = env.reset(seed=seed)
        rec["instruction"] = str(obs.get("instruction", "")) if isinstance(obs, dict) else ""
        f0 = _frame(obs, cfg.motion_camera)
        if f0 is not None:
            frames.append(f0)
        action_dim = int(np.prod(env.unwrapped.action_space.shape))
        done = False
        while not done:
            t0 = time.perf_counter()
            out = validate_policy_output(policy.infer(obs), action_dim)
            t1 = time.perf_counter()
            calls += 1
            start_frame = len(frames) - 1
            # frames inside a chunk are needed for the video and for imagination vs
            # execution; otherwise the chunk renders its last observation only
            env.keep_step_obs = video_dir is not None or out.get("video") is not None
            obs, r, te, tr, info = env.step(out["actions"])
            t_env += time.perf_counter() - t1
            t_policy += t1 - t0
            n = len(info["step_rewards"])
            steps += n
            ret += r
            for o in info.get("step_obs", [obs]):  # without step_obs: the chunk's last
                f = _frame(o, cfg.motion_camera)
                if f is not None:
                    frames.append(f)
            if out.get("video") is not None and start_frame >= 0:
                executed = np.stack(frames[start_frame:])
                s = motion_similarity(out["video"], executed)
                if s is not None:
                    sims.append(s)
            done = te or tr
    except InfrastructureError as exc:
        status, error = "infra_error", str(exc)
    except (PolicyError, ValueError, TypeError) as exc:
        status, error = "policy_error", f"{type(exc).__name__}: {exc}"
    rec.update({
        "status": status,
        "success": bool(info.get("is_success", False)) if status == "ok" else False,
        "steps": steps, "policy_calls": calls, "return": float(ret),
        "termination": str(info.get("termination", "")) or ("time_limit" if steps else ""),
        "wall_s": time.perf_counter() - t_start, "policy_s": t_policy, "env_s": t_env,
        "motion_similarity": float(np.mean(sims)) if sims else None,
        "error": error, "video": None,
    })
    if video_dir is not None and frames and status != "infra_error":
        rec["video"] = _write_video(video_dir / f"episode_{episode:05d}.mp4", frames,
                                    env.unwrapped.metadata.get("render_fps", 20))
    return rec


def _write_video(path: Path, frames: list[np.ndarray], fps: int) -> str:
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        imageio.mimwrite(path, frames, fps=fps, macro_block_size=1)
    except Exception:  # no ffmpeg: keep the frames losslessly instead
        path = path.with_suffix(".npz")
        np.savez_compressed(path, frames=np.stack(frames), fps=fps)
    return str(path)


# --- workers ------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(cfg_dict: dict) -> None:
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cfg = EvalConfig(**cfg_dict)
    env = make_env(cfg)
    from twin.evaluate.interop import wrap_for_server

    policy = wrap_for_server(make_policy(cfg.policy, env, cfg), env, cfg.obs_keys,
                             cfg.action_order, cfg.action_gripper)
    _WORKER.update(cfg=cfg, env=env, policy=policy)


def _run_in_worker(episode: int) -> dict:
    cfg = _WORKER["cfg"]
    video_dir = Path(cfg.out) / "videos" if cfg.video else None
    return run_episode(_WORKER["env"], _WORKER["policy"], episode, cfg.seed + episode, cfg,
                       video_dir)


# --- the run ------------------------------------------------------------------------------
_RECORD_KEYS = ("success", "steps", "policy_calls", "wall_s", "policy_s", "env_s")


def load_records(out: Path) -> list[dict]:
    path = out / RECORD_FILE
    if not path.exists():
        return []
    records = []
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if line.strip():
            try:
                rec = json.loads(line)
            except (json.JSONDecodeError, RecursionError):  # a line cut by the interruption
                log.warning("%s:%d: skipping a truncated record", path, n)
                continue
            if not (isinstance(rec, dict) and type(rec.get("episode")) is int
                    and rec.get("status") in ("ok", "policy_error", "infra_error")
                    and all(k in rec for k in _RECORD_KEYS)):
                log.warning("%s:%d: skipping a line that is not an episode record", path, n)
                continue
            records.append(rec)
    return records


def _latest(records: list[dict]) -> dict[int, dict]:
    """The last record of each episode (a retried infra failure is superseded)."""
    out: dict[int, dict] = {}
    for r in records:
        out[int(r["episode"])] = r
    return out


def run_eval(cfg: EvalConfig, progress: bool = False) -> dict:
    """Run (or resume) an evaluation; returns the summary (also in OUT/summary.json)."""
    check_eval_config(cfg)
    preset = load_task(cfg.task)
    n = cfg.episodes if cfg.episodes is not None else preset.episodes
    if cfg.env_kwargs or cfg.video:  # before out/ holds a config that cannot run
        _probe_env(cfg)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / CONFIG_FILE
    if cfg_path.exists():
        try:
            old = json.loads(cfg_path.read_text(errors="replace"))
        except (json.JSONDecodeError, RecursionError) as exc:
            from twin.errors import InputError

            raise InputError(f"{cfg_path}: not a twin eval config ({type(exc).__name__}); "
                             "use another out= directory") from None
        if not isinstance(old, dict) or old.get("key") != json.loads(json.dumps(cfg.key())):
            held = old.get("key") if isinstance(old, dict) else type(old).__name__
            raise ValueError(f"{out} holds a different evaluation ({held}); use "
                             "another out= directory")
    saved = dataclasses.asdict(cfg)
    saved["token"] = None if cfg.token is None else "***"  # never write a secret
    cfg_path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "key": cfg.key(),
                                    "config": saved}, indent=2))
    done = {e for e, r in _latest(load_records(out)).items() if r["status"] != "infra_error"}
    todo = [e for e in range(n) if e not in done]
    t0 = time.perf_counter()
    with open(out / RECORD_FILE, "a+b") as fb:  # a line cut by an interruption ends here,
        fb.seek(0, 2)                            # so the next record starts on its own line
        if fb.tell() > 0:
            fb.seek(-1, 2)
            if fb.read(1) != b"\n":
                fb.write(b"\n")
    with open(out / RECORD_FILE, "a") as f:
        def write(rec: dict) -> None:
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if progress:
                log.info("episode %d seed %d: %s success=%s steps=%d", rec["episode"],
                         rec["seed"], rec["status"], rec["success"], rec["steps"])

        if todo and cfg.ray_address:
            from twin.evaluate.ray_runner import run_on_ray

            for rec in run_on_ray(cfg, todo):
                write(rec)
        elif todo and cfg.workers > 1:
            import multiprocessing as mp

            with ProcessPoolExecutor(cfg.workers, mp_context=mp.get_context("spawn"),
                                     initializer=_init_worker,
                                     initargs=(dataclasses.asdict(cfg),)) as pool:
                futures = [pool.submit(_run_in_worker, e) for e in todo]
                for fut in as_completed(futures):
                    write(fut.result())
        elif todo:
            _init_worker(dataclasses.asdict(cfg))
            try:
                for e in todo:
                    write(_run_in_worker(e))
            finally:
                _WORKER["policy"].close()
                _WORKER["env"].close()
                _WORKER.clear()
    summary = summarize(list(_latest(load_records(out)).values()), n, cfg)
    summary["wall_s_this_run"] = time.perf_counter() - t0
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    return summary


def summarize(records: list[dict], requested: int, cfg: EvalConfig) -> dict:
    records = [r for r in records if int(r["episode"]) < requested]
    ran = [r for r in records if r["status"] != "infra_error"]
    k = sum(bool(r["success"]) for r in ran)
    lo, hi = wilson_interval(k, len(ran))
    steps = sum(r["steps"] for r in ran)
    calls = sum(r["policy_calls"] for r in ran)
    sims = [(r["motion_similarity"], r["success"]) for r in ran
            if r.get("motion_similarity") is not None]
    return {
        "schema_version": SCHEMA_VERSION, "written_by": "twin.evaluate.runner",
        "task": cfg.task, "policy": cfg.policy, "seed": cfg.seed,
        "episodes_requested": requested, "episodes_ran": len(ran), "successes": k,
        "success_rate": k / len(ran) if ran else None, "wilson95": [lo, hi],
        "policy_errors": sum(r["status"] == "policy_error" for r in ran),
        "infra_errors": sum(r["status"] == "infra_error" for r in records),
        "missing": requested - len(records),
        "mean_steps": steps / len(ran) if ran else None,
        "env_ms_per_step": 1e3 * sum(r["env_s"] for r in ran) / max(steps, 1),
        "policy_ms_per_call": 1e3 * sum(r["policy_s"] for r in ran) / max(calls, 1),
        "episode_wall_s_mean": float(np.mean([r["wall_s"] for r in ran])) if ran else None,
        "motion_similarity": {
            "episodes": len(sims),
            "mean": float(np.mean([s for s, _ in sims])) if sims else None,
            "corr_with_success": point_biserial(np.array([s for s, _ in sims]),
                                                np.array([x for _, x in sims]))
            if sims else None,
        },
    }
