"""Scripted oracle policies: they read privileged state (object poses) from the task and
emit ``ee_delta`` chunks in the task's configured convention.

They prove each task solvable and are the tests' reference. One phase machine covers the
pick, pick-and-place and drawer tasks; the task says what to do through
``task.privileged_state(env_id)`` (``kind``, grasp pose, place pose, pull/push vector;
optionally a side approach ``approach_dir``, a ``lift_dir`` and a ``place_yaw``).
Phases advance only on *measured* state at each ``infer`` call; within a chunk the actions
move a virtual end effector towards the current phase's waypoint.
"""

from __future__ import annotations

import numpy as np

from twin.controllers.ee_control import delta_between, gripper_command, rotation_to_matrix
from twin.policy.base import Policy

_DOWN = np.diag([1.0, -1.0, -1.0])  # tool z pointing down (world -z), base frame


def _rz(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _yaw_of(R: np.ndarray) -> float:
    """Yaw of a tool-down rotation R = Rz(yaw) _DOWN."""
    return float(np.arctan2(R[1, 0], R[0, 0]))


PLANS = {
    # "hover": above the pre-grasp point (the same point for top-down grasps, so it passes at
    # once); a side grasp reaches its pre-grasp point from above, not through other objects
    "pick": ("hover", "pregrasp", "descend", "close", "lift", "hold"),
    "pick_place": ("hover", "pregrasp", "descend", "close", "lift", "carry", "lower", "open",
                   "retreat", "hold"),
    "push": ("prepush", "contact", "push", "retreat", "hold"),
    "pull": ("pregrasp", "descend", "close", "pull", "open", "retreat", "hold"),
    # drawers: a closed gripper dropped between the handle bar and the drawer front, then
    # moved along the drawer's axis (pulls the bar to open, pushes the front to close)
    "hook_slide": ("prehook", "hook", "slide", "hold"),
}


class OraclePolicy(Policy):
    """Privileged scripted policy for one env (``env_id``) of a ``ManipulationTask``.

    Speeds: up to ``max_step_m`` per control step in free space, ``slow_step_m`` near
    contact, ``carry_step_m`` with a closed gripper; waits ``close_steps`` / ``open_steps``
    control steps for the gripper. ``plan_from_command``: see ``_plan_origin``.
    ``carry_step_m`` and ``plan_from_command`` left at None take the task's
    ``oracle_settings`` (a dict class attribute; the G1 tasks set both), else 0.02 / False.
    """

    def __init__(self, task, env_id: int = 0, chunk_size: int = 6, max_step_m: float = 0.03,
                 slow_step_m: float = 0.012, carry_step_m: float | None = None,
                 close_steps: int = 7, open_steps: int = 5,
                 approach_height_m: float = 0.08, lift_height_m: float = 0.1,
                 plan_from_command: bool | None = None):
        settings = getattr(task, "oracle_settings", {})
        self.task = task
        self.env_id = env_id
        self.chunk_size = chunk_size
        self.max_step_m = max_step_m
        self.slow_step_m = slow_step_m
        self.carry_step_m = (carry_step_m if carry_step_m is not None
                             else settings.get("carry_step_m", 0.02))
        self.close_steps = close_steps
        self.open_steps = open_steps
        self.approach = approach_height_m
        self.lift = lift_height_m
        self.control = task.control
        if plan_from_command is None:
            plan_from_command = settings.get("plan_from_command", False)
        # only meaningful when deltas apply to the controller's previous target
        self.plan_from_command = bool(plan_from_command) and self.control.delta_origin == "target"
        if self.control.mode != "ee_delta":
            raise ValueError(f"the oracle emits ee_delta actions; the task uses "
                             f"{self.control.mode!r}")
        self.metadata = {"policy": "oracle", "chunk_size": chunk_size}
        self.reset()

    def reset(self) -> None:
        self.phase = 0
        self.phase_start_step = 0
        self.anchor: np.ndarray | None = None
        self.yaw: float | None = None
        self.open_cmd = 1.0
        self.bias = np.zeros(3)  # static tracking error compensation (m, base frame)

    # --- phase logic ---------------------------------------------------------------------
    def _waypoint(self, name: str, s: dict) -> tuple[np.ndarray, float, float]:
        """(tcp position (base frame), slow?, open fraction) of a phase."""
        up = np.array([0.0, 0.0, 1.0])
        # the direction the tool moves into the grasp (top-down unless the task says, e.g. a
        # side grasp along the palm normal)
        approach_dir = s.get("approach_dir", -up)
        pregrasp = s.get("grasp_pos", np.zeros(3)) - s.get("approach_m", self.approach) * approach_dir
        if name == "hover":
            return pregrasp + s.get("hover_m", 0.0) * up, 0.0, 1.0
        if name == "pregrasp":
            return pregrasp, 0.0, 1.0
        if name == "descend":
            return s["grasp_pos"] + s.get("grasp_dz", -0.008) * up, 1.0, 1.0
        if name == "close":
            return self.anchor, 1.0, 0.0
        if name == "lift":
            return self.anchor + self.lift * s.get("lift_dir", up), 1.0, 0.0
        held = s.get("held_offset", np.zeros(3))  # place the object, not the tool centre
        if name == "carry":
            return s["place_pos"] + held + self.approach * up, 0.0, 0.0
        if name == "lower":
            return s["place_pos"] + held, 1.0, 0.0
        if name == "open":  # open just past the object: a full swing can fling it
            return self.anchor, 1.0, 0.8
        if name == "retreat":
            return self.anchor + self.lift * s.get("retreat_dir", up), 1.0, 1.0
        if name == "prepush":
            return s["push_start"] + self.approach * up, 0.0, 0.0
        if name == "contact":
            return s["push_start"], 1.0, 0.0
        if name == "push":
            return s["push_end"], 1.0, 0.0
        if name == "pull":
            return self.anchor + s["pull_vec"], 1.0, 0.0
        if name == "prehook":
            return s["hook_pos"] + self.approach * up, 0.0, 0.0
        if name == "hook":
            return s["hook_pos"], 1.0, 0.0
        if name == "slide":
            return s["slide_goal"], 1.0, 0.0
        return self.anchor, 1.0, self.open_cmd  # hold

    def _advance(self, s: dict) -> None:
        plan = PLANS[s["kind"]]
        held = s.get("held_offset")
        if (plan[self.phase] in ("lift", "carry", "lower") and held is not None
                and np.linalg.norm(held) > s.get("held_tol_m", 0.04)):  # dropped it: start over
            self.phase = 0
            self.phase_start_step = s["step"]
        for _ in range(len(plan)):
            name = plan[self.phase]
            if name == "hold":
                return
            wp, _, _ = self._waypoint(name, s)
            err = np.linalg.norm(wp - s["ee_pos"])
            yaw_err = abs(_wrap(_yaw_of(s["ee_rot"]) - self._phase_yaw(name, s)))
            waited = s["step"] - self.phase_start_step
            if name in ("close", "open"):
                done = waited >= (self.close_steps if name == "close" else self.open_steps)
            else:
                tol = 0.03 if name == "retreat" else 0.006
                done = err < tol and yaw_err < 0.08
            if not done:
                return
            self.phase += 1
            self.phase_start_step = s["step"]
            self.anchor = s["ee_pos"].copy()  # phases that hold or move relative start here

    def infer(self, obs: dict) -> dict:
        s = self.task.privileged_state(self.env_id)
        if self.yaw is None:
            self.yaw = self._pick_yaw(s)
        if self.anchor is None:
            self.anchor = s["ee_pos"].copy()
        self._advance(s)
        name = PLANS[s["kind"]][self.phase]
        wp, slow, open_frac = self._waypoint(name, s)
        vmax = self.slow_step_m if slow else self.max_step_m
        if open_frac < 0.5:  # carrying: gentler, so the object does not swing in the grasp
            vmax = min(vmax, self.carry_step_m)
        R_goal = _rz(self._phase_yaw(name, s)) @ _DOWN
        c = self.control
        pos, R, wp = self._plan_origin(s, wp)
        actions = np.zeros((self.chunk_size, 7))
        for k in range(self.chunk_size):
            d_pos = np.clip(wp - pos, -vmax, vmax)
            d_rot = delta_between(R[None], R_goal[None], "axis_angle", "base")[0]
            d_rot = d_rot * min(1.0, c.max_rotation_rad * 0.6 / max(np.linalg.norm(d_rot), 1e-9))
            dR = rotation_to_matrix(d_rot[None], "axis_angle")[0]
            R_next = dR @ R
            rot_cmd = delta_between(R[None], R_next[None], c.rotation, c.frame)[0]
            pos_cmd = d_pos if c.frame == "base" else R.T @ d_pos
            grip = gripper_command(np.array([open_frac]), c.gripper,
                                   np.array([self.open_cmd]), c.relative_gripper_step)[0]
            self.open_cmd = open_frac
            actions[k] = np.concatenate([rot_cmd, pos_cmd, [grip]])
            pos, R = pos + d_pos, R_next
        return {"actions": actions.astype(np.float32)}

    def _plan_origin(self, s: dict, wp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start position, start rotation, waypoint) of this chunk's virtual end effector.

        From the measured pose (default), each chunk's deltas add up to (waypoint - measured)
        on top of the controller's target, which leads the measured tool while the arm moves:
        an integrator that removes the static tracking error but overshoots by the lag (the
        G1 arm lags 2-3 cm behind its target at 1.2 cm/step, and its palm then shoved the can
        over). From the commanded target (``plan_from_command``), the command stops at the
        waypoint; the static error (servo sag and IK residual, up to ~1 cm on the G1 arm) is
        integrated separately into ``bias``, only once the command has arrived, so it never
        winds up in transit.
        """
        if not self.plan_from_command:
            return s["ee_pos"].copy(), s["ee_rot"].copy(), wp
        ctrl = self.task.controller
        target = ctrl.target_pos[self.env_id].copy()
        if np.linalg.norm(target - (wp + self.bias)) < 1e-3:
            self.bias += _SAG_GAIN * (wp - s["ee_pos"])
            n = np.linalg.norm(self.bias)
            self.bias *= min(1.0, _MAX_SAG_M / max(n, 1e-9))  # a sag, not a push into contact
        return target, ctrl.target_rot[self.env_id].copy(), wp + self.bias

    def _phase_yaw(self, name: str, s: dict) -> float:
        """Tool yaw of a phase: the grasp yaw, or from "lift" on the task's ``place_yaw``
        where it gives one (a round object turns with the hand about the tool z axis), as
        the equivalent yaw (modulo ``yaw_period``) nearest the grasp yaw."""
        if name not in _PLACE_PHASES or "place_yaw" not in s:
            return self.yaw
        period = s.get("yaw_period", np.pi / 2)
        return self.yaw + _wrap_period(s["place_yaw"] - self.yaw, period)

    def _pick_yaw(self, s: dict) -> float:
        """Tool yaw for the grasp: a quarter-turn multiple of the object's yaw, closest to
        the current tool yaw (fingers close across two faces)."""
        base = s.get("grasp_yaw", _yaw_of(s["ee_rot"]))
        cur = _yaw_of(s["ee_rot"])
        cands = base + s.get("yaw_period", np.pi / 2) * np.arange(-4, 5)
        return float(cands[np.argmin(np.abs([_wrap(c_ - cur) for c_ in cands]))])


# phases at the task's "place_yaw" when it gives one (turning while lifting: see g1_tasks)
_PLACE_PHASES = ("lift", "carry", "lower", "open", "retreat", "hold")
_SAG_GAIN = 0.7  # of the remaining static error added to the bias per chunk
_MAX_SAG_M = 0.015


def _wrap_period(a: float, period: float) -> float:
    return float((a + period / 2) % period - period / 2)


def _wrap(a: float) -> float:
    return float((a + np.pi) % (2 * np.pi) - np.pi)
