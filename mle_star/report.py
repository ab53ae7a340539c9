"""The run's record: run.json for machines and report.md for people."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mle_star import journal
from mle_star.config import Context
from mle_star.pricing import estimate_cost
from mle_star.report_html import render_html
from mle_star.tools.files import atomic_write

TASK_FIELDS = ("name", "modality", "task_type", "metric", "metric_title", "lower_is_better", "metric_implemented",
               "scoring", "id_column", "target_columns", "output", "label_source", "holdout_file", "test_file",
               "n_train", "n_holdout", "n_test", "text_columns", "data_dir", "notes")


STANDARD_COUNTS = ("model_calls", "candidates", "merges", "merges_accepted", "ablations", "outer_loops",
                   "inner_iterations", "refinements_accepted", "ensemble_rounds", "executions", "debug_rounds",
                   "leakage_checks", "leakage_found", "leakage_fixed", "submissions")


def run_record(state: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """Everything a machine needs to know about the run, derived from the journal."""
    task = state.get("task", {})
    entries = state.get("journal", [])
    finals = sorted((journal.get(entries, n) for n in state.get("finals", [])), key=lambda a: a["path_id"] or 0)
    counts = {key: 0 for key in STANDARD_COUNTS} | dict(state.get("counts", {}))
    paths = [{"path_id": a["path_id"], "initial_score": journal.lineage(entries, a["name"])[0]["score"],
              "final_score": a["score"], "name": a["name"]} for a in finals]
    return {
        "task": {k: task.get(k) for k in TASK_FIELDS},
        "metric": task.get("metric"),
        "lower_is_better": task.get("lower_is_better"),
        "best_score": state.get("best_score"),
        "best_solution": state.get("submitted"),
        "initial_best_scores": [p["initial_score"] for p in paths],
        "paths": paths,
        "ensemble": [{"plan": a["plan"], "score": a["score"] if a["ok"] else None, "name": a["name"]}
                     for a in journal.of_kind(entries, "ensemble")],
        "journal": [{k: v for k, v in a.items() if k != "code"} for a in entries],
        "submission_path": state.get("submission_path"),
        "solution_path": state.get("solution_path"),
        "error": state.get("error"),
        "config": ctx.to_dict(),
        "counts": counts,
        "usage": state.get("usage", {}),
        "models": state.get("models", {}),
        "sandbox": state.get("sandbox"),
        "fallback": state.get("fallback"),
        "cost": estimate_cost(state.get("usage", {}).get("by_model", {}), ctx.prices_file),
        "stages": state.get("stages", []),
        "wall_time": round(time.time() - state["started"], 1) if state.get("started") else None,
    }


def write_run_files(state: Mapping[str, Any], ctx: Context) -> dict:
    run_dir = Path(state["run_dir"])
    record = run_record(state, ctx)
    atomic_write(run_dir / "run.json", json.dumps(record, indent=1, default=str))
    atomic_write(run_dir / "report.md", render_markdown(record))
    atomic_write(run_dir / "report.html", render_html(record, run_dir))
    return record


def rewrite_report(run_dir: str | Path) -> Path:
    """Regenerate report.html (and report.md) from a run directory's run.json."""
    run_dir = Path(run_dir)
    record = json.loads((run_dir / "run.json").read_text())
    atomic_write(run_dir / "report.md", render_markdown(record))
    path = run_dir / "report.html"
    atomic_write(path, render_html(record, run_dir))
    return path


def render_markdown(r: dict) -> str:
    t = r["task"]
    direction = "lower" if r["lower_is_better"] else "higher"
    lines = [
        f"# mle-star run: {t['name']}",
        "",
        f"- task: {t['modality']} {t['task_type']}, {t['n_train']} training rows, {t['n_holdout']} held out by the "
        f"agent, {t['n_test']} test rows",
        f"- metric: {t['metric_title']} ({direction} is better); validation scores {t['scoring'].replace('_', '-')}",
        f"- sandbox: {r.get('sandbox')}",
        f"- best validation score: {r['best_score']} ({r['best_solution']})",
        f"- submission: {r['submission_path'] or 'none'}",
        f"- wall time: {r['wall_time']} s; model calls: {r['counts'].get('model_calls', 0)}; "
        f"tokens in/out: {r['usage'].get('input_tokens', 0)}/{r['usage'].get('output_tokens', 0)}; "
        f"estimated cost: ${r['cost']['total_usd']:.4f}" + (f" (unpriced: {', '.join(r['cost']['unpriced'])})"
                                                             if r['cost']['unpriced'] else ""),
        f"- models: {', '.join(sorted(set(r['models'].values()))) or 'n/a'}"
        + (f"; fallback: {r['fallback']}" if r.get("fallback") else ""),
    ]
    if r.get("error"):
        lines += ["", f"**Error:** {r['error']}"]
    if r.get("sandbox") and not str(r["sandbox"]).startswith("bwrap"):
        lines += ["", f"**WARNING: scripts ran without the bubblewrap sandbox:** {r['sandbox']}"]
    if t.get("notes"):
        lines += ["", "## What the intake noticed", ""] + [f"- {note}" for note in t["notes"]]
    lines += ["", "## Solution paths", "", "| path | initial best | final |", "| --- | --- | --- |"]
    lines += [f"| {p['path_id']} | {p['initial_score']} | {p['final_score']} |" for p in r["paths"]]
    if r["ensemble"]:
        lines += ["", "## Ensemble rounds", "", "| round | plan | score |", "| --- | --- | --- |"]
        lines += [f"| {i} | {e['plan'][:90]} | {e['score']} |" for i, e in enumerate(r["ensemble"])]
    lines += ["", "## Stages", "", "| node | path | duration s | score | detail |", "| --- | --- | --- | --- | --- |"]
    for s in r["stages"]:
        detail = str(s.get("detail", "")).replace("|", "/").replace("\n", " ")[:100]
        lines.append(f"| {s['node']} | {s['path'] if s['path'] is not None else ''} | {s['duration']} | {s['score']} | {detail} |")
    lines += ["", "## Counts", ""] + [f"- {k}: {v}" for k, v in sorted(r["counts"].items())]
    return "\n".join(lines) + "\n"
