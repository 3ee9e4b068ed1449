"""Write the validation report: ``report.json`` (schema-versioned) and ``report.html``
(self-contained, plots as inline SVG), plus the executed trajectory files."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

import twin
from twin.validate.execute import ExecutionLog

REPORT_SCHEMA = "twin.validate_report"
REPORT_VERSION = 2  # 2: verdict go/caution/no-go/error, checks, thresholds


def build_report(verdict: str | bool, reasons: list[str], metrics: dict | None, info: dict,
                 checks: list | None = None, thresholds: dict | None = None,
                 plan_issues: list[dict] | None = None) -> dict:
    """The ``report.json`` object. ``verdict``: go | caution | no-go | error (a bool is read
    as go / no-go); ``checks``: every measured value with its caution and no-go thresholds."""
    if isinstance(verdict, bool):
        verdict = "go" if verdict else "no-go"
    from dataclasses import asdict, is_dataclass

    return {"schema": REPORT_SCHEMA, "version": REPORT_VERSION, "writer": f"twin {twin.__version__}",
            "verdict": verdict, "reasons": reasons, "input": info,
            "thresholds": thresholds or {},
            "checks": [asdict(c) if is_dataclass(c) else c for c in (checks or [])],
            "plan_issues": plan_issues or [], "metrics": metrics}


def error_report(exc: BaseException, info: dict, thresholds: dict | None = None) -> dict:
    """Verdict ``error``: validation could not run to a verdict; the reason is one line."""
    msg = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    if not isinstance(exc, (ValueError, KeyError, FileNotFoundError, ImportError)):
        msg = f"{type(exc).__name__}: {msg}"  # not a known input error: name the exception
    return build_report("error", [msg.splitlines()[0] if msg else type(exc).__name__],
                        None, info, thresholds=thresholds)


def write_json(report: dict, out: Path) -> Path:
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=2))
    return path


def write_executed(log: ExecutionLog, out: Path) -> tuple[Path, Path]:
    """``executed.npz`` and ``executed.csv``: what the robot did at 50 Hz, G1 joint order."""
    t = np.arange(len(log.joint_pos)) / log.fps
    arrays = {"schema": np.array("twin.executed_trajectory"), "version": np.array(1),
              "fps": np.array(log.fps), "time_s": t, "joint_names": np.array(log.joint_names),
              "joint_pos": log.joint_pos, "joint_target": log.joint_target,
              "root_pos_w": log.root_pos_w, "root_quat_wxyz": log.root_quat_wxyz}
    if log.hand_targets is not None:
        arrays.update(hand_joint_names=np.array(log.hand_joint_names),
                      hand_joint_target=log.hand_targets)
    npz = out / "executed.npz"
    np.savez_compressed(npz, **arrays)
    cols = ["time_s", "root_x", "root_y", "root_z", "root_qw", "root_qx", "root_qy", "root_qz"]
    cols += list(log.joint_names)
    table = [t[:, None], log.root_pos_w, log.root_quat_wxyz, log.joint_pos]
    if log.hand_targets is not None:
        cols += [f"{n}_target" for n in log.hand_joint_names]
        table.append(log.hand_targets)
    csv = out / "executed.csv"
    np.savetxt(csv, np.concatenate(table, axis=1), delimiter=",", header=",".join(cols),
               comments="", fmt="%.6f")
    return npz, csv


VERDICT_COLOURS = {"go": "#2a6", "caution": "#d80", "no-go": "#c33", "error": "#666"}
_TICK_STEPS_S = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)


def time_ticks(t_max_s: float, max_ticks: int = 10) -> list[float]:
    """Round tick times from 0 to ``t_max_s`` at the smallest step giving <= ``max_ticks``."""
    step = next((s for s in _TICK_STEPS_S if t_max_s / s <= max_ticks), _TICK_STEPS_S[-1])
    return [round(k * step, 3) for k in range(int(t_max_s / step + 1e-9) + 1)]


def _svg_plot(title: str, t: list[float], ys: list[float], unit: str, limit: float | None,
              caution: float | None = None, fall_s: float | None = None, w: int = 620,
              h: int = 180) -> str:
    """A line plot with a labelled time axis, labelled no-go (red) and caution (orange)
    lines, and the fall time marked."""
    if not t:
        return ""
    t_arr, y_arr = np.asarray(t, dtype=float), np.asarray(ys, dtype=float)
    x0, x1, y0, y1 = 50, w - 70, 10, h - 30  # plot box; the right margin holds line labels
    ymax = max(float(np.nanmax(y_arr)) if y_arr.size else 1.0, limit or 0.0, caution or 0.0,
               1e-6) * 1.1
    tmax = max(float(t_arr[-1]), 1e-6)
    X = lambda v: x0 + (x1 - x0) * v / tmax
    Y = lambda v: y1 - (y1 - y0) * v / ymax
    pts = " ".join(f"{X(a):.1f},{Y(b):.1f}" for a, b in zip(t_arr, y_arr))
    parts = [(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" '
              'fill="#fafafa" stroke="#ccc"/>')]
    for tick in time_ticks(tmax):
        parts.append(f'<line x1="{X(tick):.1f}" x2="{X(tick):.1f}" y1="{y1}" y2="{y1 + 4}" '
                     f'stroke="#888"/><text x="{X(tick):.1f}" y="{y1 + 15}" font-size="10" '
                     f'text-anchor="middle">{tick:g} s</text>')
    for v in (0.0, ymax / 2, ymax):
        parts.append(f'<text x="{x0 - 4}" y="{Y(v) + 3:.1f}" font-size="10" '
                     f'text-anchor="end">{v:.3g}</text>')
    for value, colour, label in ((limit, "#c33", "no-go"), (caution, "#d80", "caution")):
        if value is not None:
            parts.append(f'<line x1="{x0}" x2="{x1}" y1="{Y(value):.1f}" y2="{Y(value):.1f}" '
                         f'stroke="{colour}" stroke-dasharray="4 3"/><text x="{x1 + 4}" '
                         f'y="{Y(value) + 3:.1f}" font-size="10" fill="{colour}">{label} '
                         f'{value:g} {html.escape(unit)}</text>')
    if fall_s is not None:
        parts.append(f'<line x1="{X(fall_s):.1f}" x2="{X(fall_s):.1f}" y1="{y0}" y2="{y1}" '
                     f'stroke="#000" stroke-dasharray="2 2"/><text x="{X(fall_s) + 3:.1f}" '
                     f'y="{y0 + 10}" font-size="10">fall {fall_s:.2f} s</text>')
    parts.append(f'<polyline fill="none" stroke="#2a6" stroke-width="1.5" points="{pts}"/>')
    return (f'<figure><figcaption>{html.escape(title)} ({html.escape(unit)}); max '
            f'{np.nanmax(y_arr):.3g}</figcaption><svg width="{w}" height="{h}" role="img">'
            + "".join(parts) + '</svg></figure>')


def _fmt(v, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "fraction":
        return f"{100 * v:.1f} %"
    return f"{v:.3g} {unit}".strip()


def _checks_table(checks: list[dict]) -> str:
    head = ("<tr><th>check</th><th>measured</th><th>caution</th><th>no-go</th><th>status</th>"
            "<th>where</th><th>time</th></tr>")
    rows = []
    for c in checks:
        colour = VERDICT_COLOURS.get(c["status"], "#2a6")
        limit = _fmt(c["limit"], c["unit"])
        if c["limit"] is not None:
            limit = ("&gt; " if c["higher_is_worse"] else "&lt; ") + limit
        caution = _fmt(c["caution"], c["unit"])
        if c["caution"] is not None:
            caution = ("&gt; " if c["higher_is_worse"] else "&lt; ") + caution
        value = ("none" if c["value"] is None else _fmt(c["value"], c["unit"]))
        if c["unit"] == "met":
            value, limit = ("met" if c["value"] else "not met"), "not met"
        when = "" if c["time_s"] is None else f"{c['time_s']:.2f} s"
        rows.append(
            f'<tr><td>{html.escape(c["measure"])}</td><td>{value}</td><td>{caution}</td>'
            f'<td>{limit}</td><td style="color:{colour}">{c["status"]}</td>'
            f'<td>{html.escape(c["where"] or "")}</td><td>{when}</td></tr>')
    return f"<table>{head}{''.join(rows)}</table>"


def _bounds_text(thresholds: dict) -> str:
    b = thresholds.get("plan_checks") or {}
    return ", ".join(f"{k} {v:g}" for k, v in b.items()) or "none"


def write_html(report: dict, out: Path, cfg) -> Path:
    from twin.validate.predicates import scene_html

    verdict = report["verdict"]
    colour = VERDICT_COLOURS.get(verdict, "#666")
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in report["reasons"]) or "<li>none</li>"
    inp = report["input"]
    head = f"""<!doctype html><html><head><meta charset="utf-8"><title>twin validate</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}td,th{{padding:2px 10px;
text-align:left}}figure{{margin:8px 0}}</style></head><body>
<h1>Plan validation: <span style="color:{colour}">{verdict.upper()}</span></h1>
<p>input: {html.escape(str(inp.get('input')))} ({html.escape(str(inp.get('kind')))}),
scene {html.escape(str(inp.get('scene', cfg.scene)))}, controller
{html.escape(str(inp.get('controller', cfg.controller)))}</p>
<p>actuator model validated: {html.escape(str((inp.get('actuator_model') or {}).get(
    'description', 'n/a')))}</p>
<h2>Reasons</h2><ul>{reasons}</ul>"""
    m = report["metrics"]
    if m is None:  # error, or a plan refused before physics
        page = head + "<p>No simulation was run.</p></body></html>"
        path = out / "report.html"
        path.write_text(page)
        return path
    s = m["series"]
    th, ca = cfg.thresholds, cfg.caution
    worst_margin = sorted(m["min_joint_limit_margin_rad"].items(), key=lambda kv: kv[1])[:6]
    worst_sat = sorted(m["torque_saturation_fraction"].items(), key=lambda kv: -kv[1])[:6]
    rows = lambda items, fmt: "".join(
        f"<tr><td>{html.escape(k)}</td><td>{fmt(v)}</td></tr>" for k, v in items)
    summary = [
        ("fall time", "none" if m["fall_time_s"] is None else f"{m['fall_time_s']:.2f} s"),
        ("global MPJPE", f"{m['mpjpe_global_mm']:.1f} mm"),
        ("joint error (mean)", f"{m['joint_error_rad']:.3f} rad"),
        ("root drift (final)", f"{m['root_drift_final_m']:.3f} m"),
        ("executed vs reference joint RMSE", f"{m['executed_vs_reference_joint_rmse_rad']:.3f} rad"),
        ("duration (reference / executed / assessed)",
         f"{m['duration_s']:.2f} / {m['executed_s']:.2f} / {m['assessed_s']:.2f} s"),
    ]
    fall = m["fall_time_s"]
    video = ('<video src="video.mp4" controls width="480"></video><p>Robot in its colours; '
             'the reference plan as a translucent orange ghost.</p>'
             if (out / "video.mp4").exists() else "")
    page = head + f"""{video}
{scene_html(report)}
<h2>Checks and thresholds</h2>{_checks_table(report['checks'])}
<p>Values are measured up to the fall ({m['assessed_s']:.2f} s); a value past its caution
threshold makes the plan a caution, past its no-go threshold a no-go. Plausibility bounds
checked before simulating: {html.escape(_bounds_text(report.get('thresholds', {})))}.</p>
<h2>Summary</h2><table>{rows(summary, str)}</table>
<h2>Tracking over time</h2>
{_svg_plot('body-local position error', s['time_s'], s['mpjpe_local_mm'], 'mm', th.mpjpe_local_mm, ca.mpjpe_local_mm, fall)}
{_svg_plot('root drift', s['time_s'], s['root_drift_m'], 'm', th.root_drift_m, ca.root_drift_m, fall)}
{_svg_plot('joint error', s['time_s'], s['joint_error_rad'], 'rad', None, None, fall)}
{_svg_plot('pelvis height', s['time_s'], s['pelvis_height_m'], 'm', th.fall_pelvis_height_m, None, fall)}
<h2>Joint-limit margins (smallest)</h2><table>{rows(worst_margin, lambda v: f'{v:.3f} rad ({np.degrees(v):.1f} deg)')}</table>
<h2>Torque saturation (largest)</h2><table>{rows(worst_sat, lambda v: f'{100 * v:.1f} %')}</table>
<p>Files: report.json, executed.npz, executed.csv (50 Hz, G1 joint order).</p>
</body></html>"""
    path = out / "report.html"
    path.write_text(page)
    return path
