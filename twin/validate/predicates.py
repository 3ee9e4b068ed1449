"""Task predicates about the scene's objects, measured on an executed plan.

Kinds (``Predicate.kind``; ``near`` and ``lifted`` are evaluated by ``metrics``):

- ``reach``: robot body ``body`` within ``distance_m`` of the surface of ``object``;
  measured: the smallest body-origin-to-surface distance (m) and when it first met it.
- ``at``: robot body ``body`` (default the root, ``pelvis``) within ``distance_m`` of a
  place: ``point`` [x, y] (horizontal distance) or [x, y, z], or ``object`` (horizontal
  distance to its centre); judged at the end unless ``when: any``.
- ``touch``: a contact between ``body`` (a robot body name, or a prefix ending in ``*``,
  e.g. ``right_hand_*``) and ``object`` (any scene body); measured: contact steps, the
  largest normal force (N), first contact time, and the smallest distance to the surface.
- ``moved``: ``object`` displaced by more than ``distance_m`` from where it started.
- ``not_touch``: no contact between ``body`` (default: any robot body) and ``object``
  during the whole run.

Each result says ``ok``, ``time_s`` (when it was first met; for ``not_touch`` the first
contact) and ``distance_m`` (the measured distance the verdict rests on), for the execution
and, under ``detail["reference"]``, for the plan's kinematic reference posed in the scene (its
contacts are its overlaps with the scene's bodies): a predicate the plan meets but the
execution does not failed in execution, not in planning. Surfaces are the
scene's primitive shapes (box, sphere, cylinder, capsule; a mesh counts by its centre)
posed by the replayed simulator state; the table is its top slab.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fnmatch import fnmatch

import numpy as np

from twin.rotations import quat_apply_inverse
from twin.scene.config import SceneConfig
from twin.validate.config import Predicate

SCENE_PREDICATE_KINDS = ("reach", "at", "touch", "moved", "not_touch")
ROOT_BODY = "pelvis"


@dataclass(frozen=True)
class Shape:
    """A primitive in its body's frame: ``type`` and MuJoCo half-sizes; ``offset_m`` is the
    geom centre in the body frame (the table top sits above the table body's origin)."""

    type: str
    size: tuple[float, ...]
    offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass
class PredicateResult:
    name: str
    kind: str
    ok: bool
    time_s: float | None
    distance_m: float | None
    threshold_m: float
    detail: dict

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("time_s", "distance_m"):
            if d[k] is not None:
                d[k] = round(float(d[k]), 4)
        return d


@dataclass
class PredicateStates:
    """What predicates read, per control step (T steps at ``fps``), world frame, SI units.

    ``body_pos_w``: robot bodies named by predicates, (T, 3) each; ``object_pos_w`` /
    ``object_quat_wxyz``: scene bodies with a shape, (T, 3) / (T, 4); ``contacts``: per step
    (body1, body2, normal force N); ``robot_bodies``: every robot body name.
    """

    fps: float
    body_pos_w: dict[str, np.ndarray]
    object_pos_w: dict[str, np.ndarray]
    object_quat_wxyz: dict[str, np.ndarray]
    shapes: dict[str, Shape]
    contacts: list[list[tuple[str, str, float]]]
    robot_bodies: frozenset[str]


def scene_shapes(scene: SceneConfig) -> dict[str, Shape]:
    """Shapes of the scene's objects and table, by body name."""
    shapes = {o.name: Shape(o.type, tuple(float(s) for s in o.size)) for o in scene.objects}
    if scene.table is not None:
        t = scene.table
        shapes["table"] = Shape("box", (t.half_size[0], t.half_size[1], t.thickness / 2),
                                (0.0, 0.0, t.height - t.thickness / 2))
    return shapes


def scene_body_names(scene: SceneConfig) -> list[str]:
    """Non-robot bodies a contact can name: objects, the table, drawers, the floor."""
    names = [o.name for o in scene.objects]
    if scene.table is not None:
        names.append("table")
    for d in scene.drawers:
        names += [d.name, f"{d.name}_drawer"]
    return names + ["world"]


def surface_distance(points_w: np.ndarray, pos_w: np.ndarray, quat_wxyz: np.ndarray,
                     shape: Shape) -> np.ndarray:
    """Distance (T,) from points (T, 3) to a shape's surface, 0 inside."""
    p = quat_apply_inverse(quat_wxyz, points_w - pos_w) - np.asarray(shape.offset_m)
    s = shape.size
    if shape.type == "box":
        q = np.abs(p) - np.asarray(s[:3])
        return np.linalg.norm(np.maximum(q, 0.0), axis=-1)
    if shape.type == "sphere":
        return np.maximum(np.linalg.norm(p, axis=-1) - s[0], 0.0)
    if shape.type == "cylinder":
        radial = np.maximum(np.linalg.norm(p[..., :2], axis=-1) - s[0], 0.0)
        axial = np.maximum(np.abs(p[..., 2]) - s[1], 0.0)
        return np.hypot(radial, axial)
    if shape.type == "capsule":
        z = np.clip(p[..., 2], -s[1], s[1])
        seg = p.copy()
        seg[..., 2] = p[..., 2] - z
        return np.maximum(np.linalg.norm(seg, axis=-1) - s[0], 0.0)
    return np.linalg.norm(p, axis=-1)  # mesh: its centre


def _bodies_of(pattern: str, robot_bodies: frozenset[str]) -> set[str]:
    if pattern.endswith("*"):
        return {b for b in robot_bodies if fnmatch(b, pattern)}
    return {pattern}


def check_scene_predicates(predicates: list[Predicate], robot_bodies: frozenset[str] | set[str],
                           scene: SceneConfig) -> None:
    """One clear error for a predicate that names an unknown body or object."""
    robot_bodies = frozenset(robot_bodies)
    shapes = scene_shapes(scene)
    others = scene_body_names(scene)
    for k, p in enumerate(predicates):
        if p.kind not in SCENE_PREDICATE_KINDS:
            continue
        where = f"predicates[{k}] ({p.name or p.kind})"
        body = p.body
        if p.kind == "at" and body is None:
            body = ROOT_BODY
        needs_body = p.kind in ("reach", "at", "touch")
        if needs_body and not body:
            raise ValueError(f"{where}: kind {p.kind!r} needs body: one of "
                             f"{sorted(robot_bodies)}")
        if body and not _bodies_of(body, robot_bodies) & robot_bodies:
            note = ""
            if "_hand_" in body and not any("_hand_" in b for b in robot_bodies):
                note = (" (the plan has no hand targets, so it runs on the G1 without Dex3-1 "
                        "hands)")
            raise ValueError(f"{where}: unknown body {body!r}{note}; expected a robot body "
                             f"(or a prefix ending in '*'): {sorted(robot_bodies)}")
        if p.kind in ("reach", "moved") and p.object not in shapes:
            raise ValueError(f"{where}: unknown object {p.object!r}; kind {p.kind!r} expects "
                             f"one of {sorted(shapes)}")
        if p.kind in ("touch", "not_touch") and p.object not in others:
            raise ValueError(f"{where}: unknown object {p.object!r}; kind {p.kind!r} expects "
                             f"one of {others}")
        if p.kind == "at":
            if p.object is None and (p.point is None or len(p.point) not in (2, 3)):
                raise ValueError(f"{where}: kind 'at' needs point: [x, y] or [x, y, z], or "
                                 f"object: one of {sorted(shapes)}")
            if p.object is not None and p.object not in shapes:
                raise ValueError(f"{where}: unknown object {p.object!r}; expected one of "
                                 f"{sorted(shapes)}")
        if p.when not in (None, "any", "end"):
            raise ValueError(f"{where}: when {p.when!r}; expected 'any' or 'end'")
        if p.distance_m < 0:
            raise ValueError(f"{where}: distance_m must be >= 0, got {p.distance_m}")


def predicate_bodies(predicates: list[Predicate]) -> list[str]:
    """Robot bodies whose positions the scene predicates read."""
    out = []
    for p in predicates:
        if p.kind in ("reach", "touch", "at"):
            b = p.body or ROOT_BODY
            if not b.endswith("*") and b not in out:
                out.append(b)
    return out


def _first(mask: np.ndarray, fps: float) -> float | None:
    idx = np.flatnonzero(mask)
    return None if idx.size == 0 else float((idx[0] + 1) / fps)


def _contact_steps(states: PredicateStates, bodies: set[str] | None, other: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(T,) contact flags and largest normal force between ``bodies`` and ``other``."""
    T = len(states.contacts)
    hit, force = np.zeros(T, dtype=bool), np.zeros(T)
    robot = states.robot_bodies
    for t, step in enumerate(states.contacts):
        for b1, b2, f in step:
            for a, b in ((b1, b2), (b2, b1)):
                if b == other and a in robot and (bodies is None or a in bodies):
                    hit[t] = True
                    force[t] = max(force[t], float(f))
    return hit, force


def _min_surface(states: PredicateStates, body: str, obj: str) -> np.ndarray | None:
    if body not in states.body_pos_w or obj not in states.shapes:
        return None
    return surface_distance(states.body_pos_w[body], states.object_pos_w[obj],
                            states.object_quat_wxyz[obj], states.shapes[obj])


def evaluate_predicate(p: Predicate, states: PredicateStates, name: str) -> PredicateResult:
    fps, d = states.fps, float(p.distance_m)
    when = p.when or ("end" if p.kind == "at" else "any")
    if p.kind == "reach":
        dist = _min_surface(states, p.body, p.object)
        met = dist <= d
        ok = bool(met[-1]) if when == "end" else bool(met.any())
        k = len(dist) - 1 if when == "end" else int(np.argmin(dist))
        return PredicateResult(name, p.kind, ok, _first(met, fps), float(dist[k]), d,
                               {"when": when, "min_distance_time_s": round((k + 1) / fps, 3)})
    if p.kind == "at":
        pos = states.body_pos_w[p.body or ROOT_BODY]
        if p.object is not None:
            target, horizontal = states.object_pos_w[p.object], True
        else:
            target, horizontal = np.asarray(p.point, float), len(p.point) == 2
        n = 2 if horizontal else 3
        dist = np.linalg.norm(pos[:, :n] - target[..., :n], axis=1)
        met = dist <= d
        ok = bool(met[-1]) if when == "end" else bool(met.any())
        k = len(dist) - 1 if when == "end" else int(np.argmin(dist))
        return PredicateResult(name, p.kind, ok, _first(met, fps), float(dist[k]), d,
                               {"when": when, "horizontal": horizontal,
                                "final_distance_m": round(float(dist[-1]), 4)})
    if p.kind == "moved":
        pos = states.object_pos_w[p.object]
        disp = np.linalg.norm(pos - pos[0], axis=1)
        met = disp > d
        ok = bool(met[-1]) if when == "end" else bool(met.any())
        k = len(disp) - 1 if when == "end" else int(np.argmax(disp))
        return PredicateResult(name, p.kind, ok, _first(met, fps), float(disp[k]), d,
                               {"when": when, "final_displacement_m": round(float(disp[-1]), 4)})
    bodies = None if not p.body else _bodies_of(p.body, states.robot_bodies)
    hit, force = _contact_steps(states, bodies, p.object)
    dist = None
    if p.body and not p.body.endswith("*"):
        s = _min_surface(states, p.body, p.object)
        dist = None if s is None else float(s.min())
    detail = {"contact_steps": int(hit.sum()), "max_normal_force_n": round(float(force.max(
        initial=0.0)), 3)}
    if p.kind == "touch":
        ok = bool(hit[-1]) if when == "end" else bool(hit.any())
        detail["when"] = when
        return PredicateResult(name, p.kind, ok, _first(hit, fps), dist, d, detail)
    # not_touch: never in contact; time_s is the first contact
    return PredicateResult(name, p.kind, not bool(hit.any()), _first(hit, fps), dist, d, detail)


def evaluate_scene_predicates(predicates: list[Predicate], states: PredicateStates
                              ) -> dict[str, PredicateResult]:
    out = {}
    for k, p in enumerate(predicates):
        if p.kind in SCENE_PREDICATE_KINDS:
            name = p.name or f"{p.kind}_{k}"
            out[name] = evaluate_predicate(p, states, name)
    return out


def _replay(backend, qpos: np.ndarray, bodies: list[str], objs: list[str],
            with_contacts: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Body positions, object poses (and contacts) of each full state in ``qpos`` (T, nq)."""
    ids_b = backend.body_index(bodies) if bodies else np.zeros(0, np.int64)
    ids_o = backend.body_index(objs) if objs else np.zeros(0, np.int64)
    T = len(qpos)
    pos_b, pos_o = np.zeros((T, len(bodies), 3)), np.zeros((T, len(objs), 3))
    quat_o = np.zeros((T, len(objs), 4))
    contacts: list[list[tuple[str, str, float]]] = []
    qvel = np.zeros((1, backend.get_qvel().shape[1]))
    for t in range(T):
        backend.set_state(qpos[t][None], qvel)
        if len(ids_b):
            pos_b[t] = backend.body_pos_w(ids_b)[0]
        if len(ids_o):
            pos_o[t] = backend.body_pos_w(ids_o)[0]
            quat_o[t] = backend.body_quat_wxyz(ids_o)[0]
        if with_contacts:
            contacts.append([(c.body1, c.body2, c.force_normal_n) for c in backend.contacts(0)])
    return pos_b, pos_o, quat_o, contacts


def _states(fps, bodies, objs, shapes, replayed, contacts, robot_bodies) -> PredicateStates:
    pos_b, pos_o, quat_o, _ = replayed
    return PredicateStates(
        fps=fps, body_pos_w={b: pos_b[:, i] for i, b in enumerate(bodies)},
        object_pos_w={o: pos_o[:, i] for i, o in enumerate(objs)},
        object_quat_wxyz={o: quat_o[:, i] for i, o in enumerate(objs)}, shapes=shapes,
        contacts=contacts, robot_bodies=robot_bodies)


def reference_qpos(backend, motion) -> np.ndarray:
    """Full states (T, nq) of the kinematic reference in the scene: the robot posed by the
    plan (root, body joints, hand joints), everything else at its initial pose."""
    q0 = backend.get_qpos()[0]
    qpos = np.repeat(q0[None], motion.num_frames, axis=0)
    root = backend.free_joint_qpos_index("pelvis")
    qpos[:, root[:3]] = motion.root_pos_w
    qpos[:, root[3:]] = motion.root_quat_wxyz
    qpos[:, backend.joint_qpos_index(motion.joint_names)] = motion.joint_pos
    if motion.hand_joint_pos is not None and all(
            n in backend.joint_names for n in motion.hand_joint_names):
        qpos[:, backend.joint_qpos_index(motion.hand_joint_names)] = motion.hand_joint_pos
    return qpos


def scene_predicate_states(log, motion, scene: str, predicates: list[Predicate]
                           ) -> tuple[PredicateStates, PredicateStates]:
    """(executed, reference) predicate states: the log's simulator states, and the plan's
    kinematic reference (contacts are its overlaps with the scene), replayed through the
    scene's model."""
    from twin.scene.config import load_scene_config
    from twin.sim import make_backend

    robot = "g1_dex3" if motion.hand_joint_pos is not None else "g1"
    cfg = load_scene_config(scene, [f"robot={robot}", "gains=stiff"])
    shapes = scene_shapes(cfg)
    bodies, objs = predicate_bodies(predicates), list(shapes)
    backend = make_backend(cfg)
    try:
        ref = _replay(backend, reference_qpos(backend, motion), bodies, objs, True)
        run = _replay(backend, log.qpos, bodies, objs, False)
    finally:
        backend.close()
    return (_states(log.fps, bodies, objs, shapes, run, log.contacts, log.robot_bodies),
            _states(motion.fps, bodies, objs, shapes, ref, ref[3], log.robot_bodies))


# ----------------------------------------------------------------------------- validate hooks
def robot_body_names(motion) -> frozenset[str]:
    """Body names of the robot model a plan executes on (G1, with Dex3-1 hands if it has
    hand targets)."""
    from twin.retarget.kinematics import body_names, robot_model

    robot = "g1_dex3" if motion.hand_joint_pos is not None else "g1"
    return frozenset(n for n in body_names(robot_model(robot)) if n and n != "world")


def legacy_predicates_only(cfg):
    """``cfg`` with only the predicates ``metrics`` evaluates (``near``, ``lifted``)."""
    from dataclasses import replace

    return replace(cfg, predicates=[p for p in cfg.predicates
                                    if p.kind not in SCENE_PREDICATE_KINDS])


def apply_scene_predicates(log, cfg, motion, metrics) -> dict[str, PredicateResult]:
    """Evaluate the scene predicates of ``cfg`` on ``log`` into ``metrics.predicates``;
    contacts with the objects a task is about (reach / touch / moved) are not unexpected."""
    scene_preds = [p for p in cfg.predicates if p.kind in SCENE_PREDICATE_KINDS]
    if not scene_preds:
        return {}
    states, ref_states = scene_predicate_states(log, motion, cfg.scene, cfg.predicates)
    results = evaluate_scene_predicates(cfg.predicates, states)
    for name, ref in evaluate_scene_predicates(cfg.predicates, ref_states).items():
        results[name].detail["reference"] = {"ok": ref.ok, "time_s": _round(ref.time_s),
                                             "distance_m": _round(ref.distance_m)}
    metrics.predicates.update({k: r.ok for k, r in results.items()})
    task_objects = {p.object for p in scene_preds if p.kind in ("reach", "touch", "moved")}
    for pair in list(metrics.unexpected_contacts):
        if pair.split("|")[-1] in task_objects:
            del metrics.unexpected_contacts[pair]
    return results


def _round(v: float | None) -> float | None:
    return None if v is None else round(float(v), 4)


def explain_predicate_reasons(reasons: list[str], results: dict[str, PredicateResult]
                              ) -> list[str]:
    """Add the measured value to each failed scene predicate's reason."""
    out = []
    for r in reasons:
        for name, res in results.items():
            if r == f"task predicate {name!r} not met":
                if res.kind == "not_touch":
                    r += (f" (contact at t = {res.time_s:.2f} s, "
                          f"{res.detail['contact_steps']} steps)")
                elif res.kind == "touch":
                    r += " (no contact)"
                elif res.distance_m is not None:
                    word = "displacement" if res.kind == "moved" else "distance"
                    cmp = "<=" if res.kind == "moved" else ">"
                    r += f" ({word} {res.distance_m:.3f} m {cmp} {res.threshold_m:.3f} m)"
                ref = res.detail.get("reference")
                if ref is not None:
                    r += ("; the plan itself meets it" + (
                        f" at t = {ref['time_s']:.2f} s" if ref["time_s"] is not None else "")
                          if ref["ok"] else "; the plan itself does not meet it either")
        out.append(r)
    return out


def scene_html(report: dict) -> str:
    """The report page's section on placement and scene predicates ('' when neither)."""
    import html

    out = []
    p = (report.get("input") or {}).get("placement")
    if p and p.get("mode") != "motion":
        x, y, yaw = p["robot_start_pose"]
        rows = [("mode", p["mode"]), ("robot start", f"({x:.3f}, {y:.3f}) m, yaw {yaw:.3f} rad")]
        if p["mode"] == "camera":
            f = p["fit"]
            rows += [("camera", p["camera"]),
                     ("pelvis path residual (rms / max)",
                      f"{f['path_residual_rms_m']:.3f} / {f['path_residual_max_m']:.3f} m"),
                     ("heading residual (rms / max)", (f"{f['heading_residual_rms_deg']:.2f} / "
                                                       f"{f['heading_residual_max_deg']:.2f} deg")),
                     ("gravity tilt (max)", f"{f['gravity_tilt_max_deg']:.2f} deg"),
                     (f"robot vs subject at the other end (anchor: {p['anchor']})",
                      f"{p['robot_vs_subject_other_end_m']:.3f} m"),
                     ("intrinsics", p.get("intrinsics_warning") or "agree")]
        out.append("<h2>Placement in the scene</h2><table>" + "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
            for k, v in rows) + "</table>")
    details = (report.get("metrics") or {}).get("predicate_details") or {}
    if details:
        def cell(ok: bool, time_s: float | None, distance_m: float | None) -> str:
            t, d = time_s, distance_m
            return (f"{'met' if ok else 'NOT met'}" + ("" if t is None else f" at {t:.2f} s")
                    + ("" if d is None else f", {d:.3f} m"))

        rows_html = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{html.escape(r['kind'])}</td>"
            f"<td>{r['threshold_m']:.3f} m</td><td>{cell(r['ok'], r['time_s'], r['distance_m'])}"
            f"</td><td>{cell(**r['detail']['reference']) if 'reference' in r['detail'] else ''}"
            "</td></tr>" for n, r in details.items())
        out.append("<h2>Task predicates</h2><table><tr><th>name</th><th>kind</th><th>d</th>"
                   "<th>executed</th><th>plan (kinematic)</th></tr>" + rows_html + "</table>")
    return "\n".join(out)
