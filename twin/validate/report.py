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
REPORT_VERSION = 1


def build_report(go: bool, reasons: list[str], metrics: dict, info: dict) -> dict:
    return {"schema": REPORT_SCHEMA, "version": REPORT_VERSION, "writer": f"twin {twin.__version__}",
            "verdict": "go" if go else "no-go", "reasons": reasons, "input": info,
            "metrics": metrics}


def write_json(report: dict, out: Path) -> Path:
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=2))
    return path


def write_executed(log: ExecutionLog, out: Path) -> tuple[Path, Path]:
    """``executed.npz`` and ``executed.csv``: what the robot did at 50 Hz, G1 joint order."""
    t = np.arange(len(log.joint_pos)) / log.fps
    arrays = dict(schema=np.array("twin.executed_trajectory"), version=np.array(1),
                  fps=np.array(log.fps), time_s=t, joint_names=np.array(log.joint_names),
                  joint_pos=log.joint_pos, joint_target=log.joint_target,
                  root_pos_w=log.root_pos_w, root_quat_wxyz=log.root_quat_wxyz)
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


def _svg_plot(title: str, t: list[float], ys: list[float], unit: str, limit: float | None,
              w: int = 560, h: int = 160) -> str:
    if not t:
        return ""
    t_arr, y_arr = np.asarray(t), np.asarray(ys, dtype=float)
    ymax = max(float(np.nanmax(y_arr)) if y_arr.size else 1.0, limit or 0.0, 1e-6) * 1.1
    tmax = max(float(t_arr[-1]), 1e-6)
    px = 40 + (w - 50) * t_arr / tmax
    py = h - 20 - (h - 30) * y_arr / ymax
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py))
    lim = ""
    if limit is not None:
        ly = h - 20 - (h - 30) * limit / ymax
        lim = (f'<line x1="40" x2="{w - 10}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="#c33" '
               f'stroke-dasharray="4 3"/>')
    return (f'<figure><figcaption>{html.escape(title)} ({unit}); max {np.nanmax(y_arr):.3g}'
            f'</figcaption><svg width="{w}" height="{h}" role="img">'
            f'<rect x="40" y="10" width="{w - 50}" height="{h - 30}" fill="#fafafa" '
            f'stroke="#ccc"/>{lim}<polyline fill="none" stroke="#2a6" stroke-width="1.5" '
            f'points="{pts}"/><text x="40" y="{h - 4}" font-size="10">0 s</text>'
            f'<text x="{w - 40}" y="{h - 4}" font-size="10">{tmax:.1f} s</text>'
            f'<text x="2" y="16" font-size="10">{ymax:.3g}</text></svg></figure>')


def write_html(report: dict, out: Path, cfg) -> Path:
    m = report["metrics"]
    s = m["series"]
    th = cfg.thresholds
    colour = "#2a6" if report["verdict"] == "go" else "#c33"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in report["reasons"]) or "<li>none</li>"
    worst_margin = sorted(m["min_joint_limit_margin_rad"].items(), key=lambda kv: kv[1])[:6]
    worst_sat = sorted(m["torque_saturation_fraction"].items(), key=lambda kv: -kv[1])[:6]
    rows = lambda items, fmt: "".join(
        f"<tr><td>{html.escape(k)}</td><td>{fmt(v)}</td></tr>" for k, v in items)
    summary = [
        ("fall time", "none" if m["fall_time_s"] is None else f"{m['fall_time_s']:.2f} s"),
        ("body-local MPJPE", f"{m['mpjpe_local_mm']:.1f} mm"),
        ("global MPJPE", f"{m['mpjpe_global_mm']:.1f} mm"),
        ("joint error (mean)", f"{m['joint_error_rad']:.3f} rad"),
        ("root drift (max / final)", f"{m['root_drift_max_m']:.3f} / {m['root_drift_final_m']:.3f} m"),
        ("foot slip (mean / max)", f"{m['foot_slip_mean_m_s']:.3f} / {m['foot_slip_max_m_s']:.3f} m/s"),
        ("executed vs reference joint RMSE", f"{m['executed_vs_reference_joint_rmse_rad']:.3f} rad"),
        ("self-collisions", ", ".join(f"{k} ({v})" for k, v in m["self_collisions"].items()) or "none"),
        ("unexpected contacts", ", ".join(f"{k} ({v})" for k, v in m["unexpected_contacts"].items()) or "none"),
        ("task predicates", ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in m["predicates"].items()) or "none"),
        ("duration (reference / executed)", f"{m['duration_s']:.2f} / {m['executed_s']:.2f} s"),
    ]
    video = '<video src="video.mp4" controls width="480"></video>' if (out / "video.mp4").exists() else ""
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>twin validate</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto}}td{{padding:2px 10px}}
figure{{margin:8px 0}}</style></head><body>
<h1>Plan validation: <span style="color:{colour}">{report['verdict'].upper()}</span></h1>
<p>input: {html.escape(str(report['input'].get('input')))} ({html.escape(str(report['input'].get('kind')))}),
scene {html.escape(str(report['input'].get('scene')))}, controller {html.escape(str(report['input'].get('controller')))}</p>
<h2>Reasons</h2><ul>{reasons}</ul>{video}
<h2>Summary</h2><table>{rows(summary, str)}</table>
<h2>Tracking over time</h2>
{_svg_plot('body-local position error', s['time_s'], s['mpjpe_local_mm'], 'mm', th.mpjpe_local_mm)}
{_svg_plot('root drift', s['time_s'], s['root_drift_m'], 'm', th.root_drift_m)}
{_svg_plot('joint error', s['time_s'], s['joint_error_rad'], 'rad', None)}
{_svg_plot('pelvis height', s['time_s'], s['pelvis_height_m'], 'm', th.fall_pelvis_height_m)}
<h2>Joint-limit margins (smallest)</h2><table>{rows(worst_margin, lambda v: f'{v:.3f} rad')}</table>
<h2>Torque saturation (largest)</h2><table>{rows(worst_sat, lambda v: f'{100 * v:.1f} %')}</table>
<p>Files: report.json, executed.npz, executed.csv (50 Hz, G1 joint order).</p>
</body></html>"""
    path = out / "report.html"
    path.write_text(page)
    return path
