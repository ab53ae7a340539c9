"""Prepare: read the task folder into facts, lay out the run's data (the agent's validation
split, extracted archives), check the sandbox and the models, and set up the run directory."""

from __future__ import annotations

import time
from pathlib import Path

from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.models import OFFLINE, model_id
from mle_star.prompts import ROLES
from mle_star.state import MLEStarState
from mle_star.telemetry import Recorder, emit
from mle_star.tools.dataview import prepare_run_data
from mle_star.tools.intake import default_run_dir, read_task
from mle_star.tools.sandbox import probe


def prepare(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rec = Recorder("prepare")
    run_dir = str(Path(state.get("run_dir") or ctx.run_dir or default_run_dir(state["task_dir"])).resolve())
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    sandbox = probe(ctx.sandbox)  # raises SandboxUnavailable when 'bwrap' was required and cannot work
    if sandbox.warning:
        emit({"event": "notice", "text": f"WARNING: {sandbox.warning}"})
    intake = read_task(state["task_dir"], state.get("metric"), state.get("lower_is_better"))
    task = prepare_run_data(intake, run_dir, ctx.seed).task
    started = state.get("started") or time.time()
    models = {role: model_id(ctx, role) for role in ROLES}
    if ctx.model == "auto" and OFFLINE in models.values():
        emit({"event": "notice", "text": "no GOOGLE_API_KEY set: the offline engineer answers every role"})
    emit({"event": "task", "name": task["name"], "metric": task["metric_title"], "type": task["task_type"],
          "lower_is_better": task["lower_is_better"], "run_dir": run_dir, "modality": task["modality"],
          "scoring": task["scoring"]})
    for note in task["notes"]:
        emit({"event": "notice", "text": note})
    rec.count("sandboxed_runs" if sandbox.kind == "bwrap" else "unsandboxed_runs")
    return rec.update(detail=f"{task['modality']} {task['task_type']} task, metric {task['metric_title']}, "
                             f"scores {task['scoring']}; sandbox: {sandbox.describe()}",
                      task=task, run_dir=run_dir, started=started, deadline=started + ctx.time_limit,
                      metric=task["metric"], lower_is_better=task["lower_is_better"], models=models,
                      sandbox=sandbox.describe() + (f" - {sandbox.warning}" if sandbox.warning else ""))
