"""Prepare: read and validate the task folder, derive its facts, set up the run directory."""

from __future__ import annotations

import time
from pathlib import Path

from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.models import OFFLINE, model_id
from mle_star.prompts import ROLES
from mle_star.state import MLEStarState, Task
from mle_star.telemetry import Recorder, emit
from mle_star.tools.preview import data_preview
from mle_star.tools.task import load_task, task_name


def default_run_dir(task_dir: str) -> str:
    return str(Path("runs") / f"{task_name(task_dir)}-{time.strftime('%Y%m%d-%H%M%S')}")


def prepare(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rec = Recorder("prepare")
    spec = load_task(state["task_dir"], state.get("metric"), state.get("lower_is_better")).to_dict()
    task = Task(**spec, preview=data_preview(spec["data_dir"]))  # type: ignore[typeddict-item]
    run_dir = str(Path(state.get("run_dir") or ctx.run_dir or default_run_dir(state["task_dir"])).resolve())
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    started = state.get("started") or time.time()
    models = {role: model_id(ctx, role) for role in ROLES}
    if ctx.model == "auto" and OFFLINE in models.values():
        emit({"event": "notice", "text": "no GOOGLE_API_KEY set: the offline engineer answers every role"})
    emit({"event": "task", "name": task["name"], "metric": task["metric"], "type": task["task_type"],
          "lower_is_better": task["lower_is_better"], "run_dir": run_dir})
    return rec.update(detail=f"{task['task_type']} task, metric {task['metric']}", task=task, run_dir=run_dir,
                      started=started, deadline=started + ctx.time_limit, metric=task["metric"],
                      lower_is_better=task["lower_is_better"], models=models)
