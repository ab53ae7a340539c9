"""The run's record: run.json for machines, report.md and report.html for people.

``run_record`` derives everything from the journal; both reports are renderings of one
``facts.Story`` (the tree of scripts, the outer steps, the ensemble, failures and a summary)
read from run.json and the scripts' trusted records, so ``mle-star report RUN_DIR`` can
rewrite them from the run folder alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mle_star import journal
from mle_star.config import Context
from mle_star.pricing import estimate_cost
from mle_star.report.facts import read_story
from mle_star.report.markdown import render_markdown, render_story
from mle_star.report.page import Page, render_html
from mle_star.timing import breakdown
from mle_star.tools.files import atomic_write

TASK_FIELDS = ("name", "modality", "task_type", "metric", "metric_title", "lower_is_better", "metric_implemented",
               "scoring", "id_column", "target_columns", "output", "label_source", "holdout_file", "test_file",
               "n_train", "n_holdout", "n_test", "text_columns", "data_dir", "notes", "metric_spec")


STANDARD_COUNTS = ("model_calls", "candidates", "merges", "merges_accepted", "ablations", "outer_loops",
                   "inner_iterations", "refinements_accepted", "ensemble_rounds", "executions", "debug_rounds",
                   "leakage_checks", "leakage_found", "leakage_fixed", "submissions")


def run_record(state: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """Everything a machine needs to know about the run, derived from the journal."""
    task = state.get("run", {}).get("task", {})
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
        "unsolved": state.get("unsolved"),
        "config": ctx.to_dict(),
        "counts": counts,
        "usage": state.get("usage", {}),
        "models": state.get("models", {}),
        "sandbox": state.get("sandbox"),
        "workbench": task.get("workbench"),  # what scripts had, measured inside the sandbox
        "script_network": ctx.script_network,
        "fallback": state.get("fallback"),
        "cost": estimate_cost(state.get("usage", {}).get("by_model", {}), ctx.prices_file),
        "timing": state.get("timing", {}),
        "time": breakdown(state),  # wall time in scripts, model calls, the graph itself; parallelism
        "stages": state.get("stages", []),
        "wall_time": round(time.time() - state["started"], 1) if state.get("started") else None,
    }


def write_run_files(state: Mapping[str, Any], ctx: Context) -> dict:
    """run.json, report.md and report.html in the run folder (rewritten at the end of a run)."""
    run_dir = Path(state["run"]["run_dir"])
    record = run_record(state, ctx)
    atomic_write(run_dir / "run.json", json.dumps(record, indent=1, default=str))
    story = read_story(record, run_dir)
    atomic_write(run_dir / "report.md", render_story(story))
    atomic_write(run_dir / "report.html", Page(story).render())
    return record


def rewrite_report(run_dir: str | Path) -> Path:
    """Regenerate report.html (and report.md) from a run directory's run.json."""
    run_dir = Path(run_dir)
    record = json.loads((run_dir / "run.json").read_text())
    story = read_story(record, run_dir)
    atomic_write(run_dir / "report.md", render_story(story))
    path = run_dir / "report.html"
    atomic_write(path, Page(story).render())
    return path


__all__ = ["run_record", "write_run_files", "rewrite_report", "render_markdown", "render_html", "read_story"]
