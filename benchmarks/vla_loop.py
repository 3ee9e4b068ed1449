"""Time per control step of the VLA evaluation loop, excluding the policy.

Replays scripted-oracle action chunks (precomputed, so the policy is not timed) through
``ActionChunk(gym.make("twin/PandaPickCube-v0", ...), 3)``: ee_delta actions, 20 Hz
control, render profile ``fast``; whole episodes, each started by its ``reset(seed)``. The
same episodes run twice: state only (``obs_mode="state"``, no cameras), then with the two
256x256 cameras (``obs_mode="rgb"``). The wall time of the loop is split into:

- physics: ``backend.step`` (``mj_step`` x decimation, controls in and state out);
- controller: ``EEController.compute`` (ee_delta -> target pose, then mink IK; the IK
  share is printed too);
- render: ``backend.render`` (both cameras);
- Gymnasium: the wrappers ``gym.make`` puts around twin's env (TimeLimit, OrderEnforcing),
  their own time in ``step`` and ``reset``;
- twin overhead: everything else. Per step: ``ActionChunk``, ``TwinEnv.step``, the
  ``BatchedTask.step`` driver with ``backend.diverged``, action checks, the per-step state
  read (``ManipulationTask.state``), the success predicate, reward and info, the
  observation dict. Per episode: the non-physics, non-render part of ``reset`` (object
  placement, ``set_state``'s ``mj_forward``, camera parameters), amortised over the steps.

Each pass over the episodes runs ``--repeats`` times; each line is the median over repeats.
The last two lines are twin's overhead / (physics + controller), state only and with
cameras (the loop the issue times); target <= 0.10.

Rendering: ``ActionChunk`` renders the cameras only for the observation it returns (the
chunk's last step, or the step where the episode ends), since nobody reads the others; so
with chunks of 3 the render time per control step is a third of two cameras' render.

Why the ratio with cameras is still above the state-only one: without a GPU, Mesa's
llvmpipe renders on the CPU (both cores), and its frame buffers, textures and JIT code
evict the CPU caches. The Python that runs after a render -- twin's code and the
controller alike -- does the same work but refills the caches first. Measured on the
2-core development machine (3 runs x 5 repeats, a training job paused meanwhile; this VM's
timings vary by 30 % between runs, so compare the two ratios of one run):

    ms per step           physics  controller  render  twin   twin / (physics + controller)
    state only            1.0-1.5  0.3-0.6     -       0.15-0.30  0.109 - 0.139
    with cameras          1.3      0.7         19      0.35-0.36  0.169 - 0.177
    (every step rendered,
     before deferral)     1.3-1.4  0.9-1.0     52-56   0.47       0.196 - 0.207

Per step inside a chunk (twin's part of ``TwinEnv.step``, median): state only 92-95 us at
every position; with cameras 274 us on the first step after a render (the previous chunk's
last), 175 us on the second, 250 us on the rendering one (render excluded). The same work,
slower for two steps after a render. It is not preemption: the thread CPU time of the
controller equals its wall time. It is not the image handling either: returning stored
images instead of rendering brings twin's overhead back to the state-only figure. GPU
rendering (EGL) should leave the CPU caches alone and the with-camera ratio near the
state-only one (not measured here: no GPU was lent to this project's sessions).

    python benchmarks/vla_loop.py [--steps 150] [--repeats 5] [--profile fast] [--size 256]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import twin  # noqa: F401  (MUJOCO_GL before mujoco)
from twin.policy.chunk import ActionChunk
from twin.policy.oracle import OraclePolicy

PHASES = ("step", "reset")


class _Timer:
    """Seconds spent in the wrapped callables, kept apart per loop phase."""

    phase = "step"  # set by the loop: which phase the time goes to

    def __init__(self):
        self.total = dict.fromkeys(PHASES, 0.0)

    def wrap(self, fn):
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.total[_Timer.phase] += time.perf_counter() - t0
        return timed


def _episodes(env_id: str, steps: int, chunk_steps: int) -> list:
    """(seed, [chunk, ...]) oracle episodes covering at least ``steps`` control steps, made in
    a state-only env (same dynamics, no rendering)."""
    env = ActionChunk(gym.make(env_id, obs_mode="state", disable_env_checker=True),
                      chunk_steps)
    policy = OraclePolicy(env.unwrapped.task)
    episodes, total, seed = [], 0, 0
    while total < steps:
        obs, _ = env.reset(seed=seed)
        policy.reset()
        chunks, done = [], False
        while not done and total < steps:
            chunks.append(policy.infer(obs)["actions"])
            obs, _, te, tr, info = env.step(chunks[-1])
            total += len(info["step_rewards"])
            done = te or tr
        episodes.append((seed, chunks))
        seed += 1
    env.close()
    return episodes


def _measure(env_id: str, obs_mode: str, profile: str, size: int, repeats: int,
             episodes: list, chunk_steps: int) -> tuple[dict, dict]:
    """Per-step times (s), medians over ``repeats`` passes over ``episodes``, and a
    description of the env that ran them."""
    env = ActionChunk(gym.make(env_id, obs_mode=obs_mode, render_profile=profile,
                               image_size=size, disable_env_checker=True), chunk_steps)
    task = env.unwrapped.task
    physics, controller, ik, render, gym_outer, twin_env = (_Timer() for _ in range(6))
    task.backend.step = physics.wrap(task.backend.step)
    task.controller.compute = controller.wrap(task.controller.compute)
    if task.ik is not None:
        task.ik.solve = ik.wrap(task.ik.solve)
    task.backend.render = render.wrap(task.backend.render)
    # Gymnasium's own time = (outermost gym wrapper) - (twin's env), inclusive times
    gym_wrappers = []
    w = env.env
    while w is not env.unwrapped:
        gym_wrappers.append(type(w).__name__)
        w = w.env
    for timer, obj in ((gym_outer, env.env), (twin_env, env.unwrapped)):
        obj.step = timer.wrap(obj.step)
        obj.reset = timer.wrap(obj.reset)
    env.reset(seed=0)  # first render: GL context and scene upload, not part of the loop
    env.step(episodes[0][1][0])

    rows = []
    timers = (physics, controller, ik, render, gym_outer, twin_env)
    for _ in range(repeats):
        for t in timers:
            t.total = dict.fromkeys(PHASES, 0.0)
        wall = dict.fromkeys(PHASES, 0.0)
        steps = 0
        for seed, chunks in episodes:
            _Timer.phase = "reset"
            t0 = time.perf_counter()
            env.reset(seed=seed)
            wall["reset"] += time.perf_counter() - t0
            _Timer.phase = "step"
            for c in chunks:
                t0 = time.perf_counter()
                _, _, _, _, info = env.step(c)
                wall["step"] += time.perf_counter() - t0
                steps += len(info["step_rewards"])
        row = {}
        for ph in PHASES:
            gym_own = gym_outer.total[ph] - twin_env.total[ph]
            inner = physics.total[ph] + controller.total[ph] + render.total[ph]
            row[f"twin_{ph}"] = (wall[ph] - gym_own - inner) / steps
        row.update(physics=sum(physics.total.values()) / steps,
                   controller=sum(controller.total.values()) / steps,
                   ik=sum(ik.total.values()) / steps,
                   render=sum(render.total.values()) / steps,
                   gym=sum(gym_outer.total[ph] - twin_env.total[ph] for ph in PHASES) / steps,
                   total=sum(wall.values()) / steps)
        row["twin"] = row["twin_step"] + row["twin_reset"]
        row["ratio"] = row["twin"] / (row["physics"] + row["controller"])
        row["gym_ratio"] = row["gym"] / (row["physics"] + row["controller"])
        rows.append(row)
    env.close()
    med = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
    cameras = (f"profile {profile}, {len(task.cameras)} cameras {size}x{size}"
               if obs_mode == "rgb" else "no cameras")
    about = {"steps": steps, "cameras": cameras, "gym_wrappers": ", ".join(gym_wrappers),
             "hz": 1 / task.control_dt, "decimation": task.decimation}
    return med, about


def _report(title: str, med: dict, about: dict) -> None:
    ms = {k: v * 1e3 for k, v in med.items()}
    print(f"{title} ({about['cameras']}):")
    print(f"  physics:     {ms['physics']:7.3f} ms/step  (mj_step x {about['decimation']})")
    print(f"  controller:  {ms['controller']:7.3f} ms/step  (ee_delta -> target, mink IK "
          f"{ms['ik']:.3f})")
    print(f"  render:      {ms['render']:7.3f} ms/step")
    print(f"  Gymnasium:   {ms['gym']:7.3f} ms/step  ({about['gym_wrappers']}; "
          f"/ (physics + controller) = {med['gym_ratio']:.3f})")
    print(f"  twin:        {ms['twin']:7.3f} ms/step  (in step {ms['twin_step']:.3f}, resets "
          f"{ms['twin_reset']:.3f} amortised)")
    print(f"  total:       {ms['total']:7.3f} ms/step")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env-id", default="twin/PandaPickCube-v0")
    p.add_argument("--steps", type=int, default=150, help="control steps per repeat")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--profile", default="fast")
    p.add_argument("--size", type=int, default=256)
    args = p.parse_args()
    chunk_steps = 3

    episodes = _episodes(args.env_id, args.steps, chunk_steps)
    state, about_state = _measure(args.env_id, "state", args.profile, args.size, args.repeats,
                                  episodes, chunk_steps)
    rgb, about_rgb = _measure(args.env_id, "rgb", args.profile, args.size, args.repeats,
                              episodes, chunk_steps)
    print(f"{args.env_id}: {about_rgb['steps']} steps in {len(episodes)} episodes per repeat, "
          f"{args.repeats} repeats, medians (control {about_rgb['hz']:.0f} Hz, decimation "
          f"{about_rgb['decimation']}, chunks of {chunk_steps})")
    _report("state only", state, about_state)
    _report("with cameras", rgb, about_rgb)
    print(f"twin overhead / (physics + controller), state only   = {state['ratio']:.3f}")
    print(f"twin overhead / (physics + controller), with cameras = {rgb['ratio']:.3f}  "
          f"(target <= 0.10)")


if __name__ == "__main__":
    main()
