"""report.html: one self-contained page a person opens in a browser.

The score over the run as an inline SVG plot (every candidate, merge, refinement and
ensemble round), what each stage tried and scored, the code diff of every accepted
refinement, leakage and data-usage findings, and time and tokens per role.
"""

from __future__ import annotations

import difflib
import html
from collections import defaultdict
from pathlib import Path

PLOTTED = {"init_coder": "#1f77b4", "merger": "#9467bd", "data_usage_checker": "#8c564b",
           "refiner_coder": "#2ca02c", "ensembler": "#ff7f0e", "submission": "#d62728"}
HIDDEN = {"execute", "leakage_checker", "debugger"}


def _esc(value: object) -> str:
    return html.escape(str(value))


def _fmt(score: object) -> str:
    return f"{score:.6g}" if isinstance(score, int | float) else "—"


def score_plot(record: dict, width: int = 860, height: int = 300) -> str:
    """SVG scatter of each scored stage over wall time, with the running best as a step line."""
    stages = [s for s in record["stages"] if s["node"] in PLOTTED and isinstance(s.get("score"), int | float)]
    if not stages:
        return "<p>No scored stages.</p>"
    t0 = min(s["start"] for s in record["stages"])
    xs = [s["start"] + s["duration"] - t0 for s in stages]
    ys = [s["score"] for s in stages]
    lo, hi = min(ys), max(ys)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.01 or 1.0
    lo, hi = lo - pad, hi + pad
    xmax = max(xs) or 1.0
    left, right, top, bottom = 70, 20, 20, 40

    def px(x: float) -> float:
        return left + (width - left - right) * x / xmax

    def py(y: float) -> float:
        return top + (height - top - bottom) * (hi - y) / (hi - lo)

    lower = bool(record["lower_is_better"])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="validation score over the run">',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
             'fill="#fafafa" stroke="#ccc"/>']
    for i in range(5):
        y = lo + (hi - lo) * i / 4
        parts.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" font-size="11" text-anchor="end">{y:.4g}</text>')
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#eee"/>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 8}" font-size="12" text-anchor="middle">'
                 f'seconds since start (metric {_esc(record["metric"])}, {"lower" if lower else "higher"} is better)</text>')
    best, line = None, []
    for x, s in sorted(zip(xs, stages, strict=True), key=lambda p: p[0]):
        y = s["score"]
        if s["node"] != "submission" and (best is None or (y < best if lower else y > best)):
            best = y
        if best is not None:
            line.append(f"{px(x):.1f},{py(best):.1f}")
    parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="#444" stroke-width="1.5" '
                 'stroke-dasharray="4 3"/>')
    for x, s in zip(xs, stages, strict=True):
        tip = f"{s['node']} (path {s['path']}): {_fmt(s['score'])} {s.get('detail', '')}"
        parts.append(f'<circle cx="{px(x):.1f}" cy="{py(s["score"]):.1f}" r="4" fill="{PLOTTED[s["node"]]}">'
                     f"<title>{_esc(tip[:200])}</title></circle>")
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{c}">&#9679;</span> {n}' for n, c in PLOTTED.items())
    return "".join(parts) + f'<p class="legend">{legend} &nbsp; <span>- - -</span> best so far</p>'


def _diff(run_dir: Path, record: dict, stage: dict) -> str:
    """The code change of an accepted refinement, from the scripts the journal points to."""
    by_name = {a["name"]: a for a in record.get("journal", [])}
    ends = [by_name.get(stage.get("from", "")), by_name.get(stage.get("to", ""))]
    paths = [Path(e["workdir"]) / "solution.py" for e in ends if e and e.get("workdir")]
    if len(paths) != 2 or not all(p.exists() for p in paths):
        return "<p>(scripts not found)</p>"
    old, new = paths
    lines = difflib.unified_diff(old.read_text().splitlines(), new.read_text().splitlines(),
                                 fromfile=str(old.relative_to(run_dir)) if old.is_relative_to(run_dir) else str(old),
                                 tofile=str(new.relative_to(run_dir)) if new.is_relative_to(run_dir) else str(new),
                                 lineterm="", n=2)
    rows = []
    for line in lines:
        cls = "add" if line.startswith("+") and not line.startswith("+++") else (
            "del" if line.startswith("-") and not line.startswith("---") else "")
        rows.append(f'<span class="{cls}">{_esc(line)}</span>')
    return "<pre class=\"diff\">" + "\n".join(rows) + "</pre>"


def render_html(record: dict, run_dir: str | Path) -> str:
    run_dir = Path(run_dir)
    t = record["task"]
    lower = record["lower_is_better"]
    counts, usage = record["counts"], record.get("usage", {})
    stages = [s for s in record["stages"] if s["node"] not in HIDDEN]
    t0 = min((s["start"] for s in record["stages"]), default=0.0)

    time_by_node: dict[str, float] = defaultdict(float)
    for s in stages:
        time_by_node[s["node"]] += s["duration"]
    roles = usage.get("by_role", {})

    out = [f"<h1>mle-star run: {_esc(t['name'])}</h1>",
           "<table class=\"kv\">",
           f"<tr><th>task</th><td>{_esc(t['modality'])} {_esc(t['task_type'])}, {t['n_train']} training / "
           f"{t['n_holdout']} held-out / {t['n_test']} test rows</td></tr>",
           f"<tr><th>scores</th><td>{_esc(t['scoring'].replace('_', '-'))}</td></tr>",
           f"<tr><th>sandbox</th><td>{_esc(record.get('sandbox'))}</td></tr>",
           f"<tr><th>metric</th><td>{_esc(record['metric'])} ({'lower' if lower else 'higher'} is better)</td></tr>",
           f"<tr><th>best validation score</th><td>{_fmt(record['best_score'])} ({_esc(record['best_solution'])})</td></tr>",
           f"<tr><th>initial best per path</th><td>{', '.join(_fmt(s) for s in record['initial_best_scores'])}</td></tr>",
           f"<tr><th>submission</th><td>{_esc(record['submission_path'] or 'none')}</td></tr>",
           f"<tr><th>wall time</th><td>{record['wall_time']} s</td></tr>",
           f"<tr><th>model calls / tokens in / out</th><td>{counts.get('model_calls', 0)} / "
           f"{usage.get('input_tokens', 0)} / {usage.get('output_tokens', 0)}</td></tr>",
           f"<tr><th>models</th><td>{_esc(', '.join(sorted(set(record.get('models', {}).values()))))}"
           f"{' — fallback: ' + _esc(record['fallback']) if record.get('fallback') else ''}</td></tr>",
           f"<tr><th>estimated cost</th><td>${record['cost']['total_usd']:.4f}"
           f"{' (unpriced: ' + _esc(', '.join(record['cost']['unpriced'])) + ')' if record['cost']['unpriced'] else ''}"
           "</td></tr>",
           "</table>"]
    if record.get("error"):
        out.append(f"<p class=\"error\">Error: {_esc(record['error'])}</p>")
    if record.get("sandbox") and not str(record["sandbox"]).startswith("bwrap"):
        out.append(f"<p class=\"error\">WARNING: scripts ran without the bubblewrap sandbox: "
                   f"{_esc(record['sandbox'])}</p>")
    if t.get("notes"):
        out.append("<h2>What the intake noticed</h2><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in t["notes"])
                   + "</ul>")
    out += ["<h2>Score over the run</h2>", score_plot(record)]

    out += ["<h2>Solution paths</h2><table><tr><th>path</th><th>initial best</th><th>final</th></tr>"]
    out += [f"<tr><td>{p['path_id']}</td><td>{_fmt(p['initial_score'])}</td><td>{_fmt(p['final_score'])}</td></tr>"
            for p in record["paths"]]
    out.append("</table>")

    accepted = [s for s in stages if s["node"] == "accept_refinement" and s.get("to")]
    out.append(f"<h2>Accepted refinements ({len(accepted)})</h2>")
    for s in accepted:
        out.append(f"<h3>path {s['path']}: {_esc(s['detail'])}</h3><p>{_esc(s.get('plan', ''))}</p>")
        out.append(_diff(run_dir, record, s))

    if record["ensemble"]:
        out.append("<h2>Ensemble rounds</h2><table><tr><th>round</th><th>plan</th><th>score</th></tr>")
        out += [f"<tr><td>{i}</td><td>{_esc(e['plan'])}</td><td>{_fmt(e['score'])}</td></tr>"
                for i, e in enumerate(record["ensemble"])]
        out.append("</table>")

    findings = [(s, f) for s in record["stages"] for f in s.get("leakage", [])]
    usage_notes = [s for s in stages if s["node"] == "data_usage_checker"]
    out.append("<h2>Checks</h2><ul>")
    out.append(f"<li>leakage checks: {counts.get('leakage_checks', 0)}, leakage found: "
               f"{counts.get('leakage_found', 0)}, fixed: {counts.get('leakage_fixed', 0)}</li>")
    out += [f"<li>leakage in {_esc(f['name'])}: {_esc(f['status'])}{' (fixed)' if f.get('fixed') else ''}</li>"
            for _, f in findings]
    out += [f"<li>data usage (path {s['path']}): {_esc(s['detail'])}</li>" for s in usage_notes]
    out.append(f"<li>debug rounds: {counts.get('debug_rounds', 0)}; executions: {counts.get('executions', 0)} "
               f"({counts.get('cached_executions', 0)} reused from cache)</li></ul>")

    by_model = usage.get("by_model", {})
    if by_model:
        out.append("<h2>Tokens and cost per model</h2><table><tr><th>model</th><th>calls</th><th>tokens in</th>"
                   "<th>tokens out</th><th>est. USD</th></tr>")
        out += [f"<tr><td>{_esc(m)}</td><td>{u.get('calls', 0)}</td><td>{u.get('input_tokens', 0)}</td>"
                f"<td>{u.get('output_tokens', 0)}</td><td>{record['cost']['by_model'].get(m, '—')}</td></tr>"
                for m, u in sorted(by_model.items())]
        out.append("</table>")
    out.append("<h2>Time and tokens per role</h2><table><tr><th>node / role</th><th>time s</th>"
               "<th>calls</th><th>tokens in</th><th>tokens out</th></tr>")
    for name in sorted(set(time_by_node) | set(roles)):
        r = roles.get(name, {})
        out.append(f"<tr><td>{_esc(name)}</td><td>{time_by_node.get(name, 0.0):.1f}</td><td>{r.get('calls', '')}</td>"
                   f"<td>{r.get('input_tokens', '')}</td><td>{r.get('output_tokens', '')}</td></tr>")
    out.append("</table>")

    out.append("<h2>Stages</h2><table><tr><th>t s</th><th>node</th><th>path</th><th>duration s</th>"
               "<th>score</th><th>detail</th></tr>")
    out += [f"<tr><td>{s['start'] - t0:.1f}</td><td>{_esc(s['node'])}</td><td>{'' if s['path'] is None else s['path']}</td>"
            f"<td>{s['duration']:.1f}</td><td>{_fmt(s['score'])}</td><td>{_esc(str(s.get('detail', ''))[:200])}</td></tr>"
            for s in stages]
    out.append("</table>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;"
             "font-size:13px;text-align:left;vertical-align:top}.kv th{background:#f4f4f4}"
             "pre.diff{background:#f8f8f8;padding:8px;font-size:12px;overflow-x:auto}.add{color:#070}"
             ".del{color:#a00}.error{color:#a00;font-weight:bold}.legend{font-size:12px}")
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>mle-star: {_esc(t['name'])}</title>"
            f"<style>{style}</style></head><body>" + "\n".join(out) + "</body></html>\n")
