"""Prepare: read the task folder into facts, lay out the run's data (the agent's validation
split, extracted archives), check the sandbox, the workbench and the models, and set up the run
directory. The workbench (the scripts' Python, cores, memory, GPUs, cached weights, network) is
probed here, once per run and inside the sandbox, before any script; its facts become
``task["workbench"]``, which every role's inputs carry. A resumed run keeps these facts from
its checkpoint (the prompts stay the same, so the reply cache still answers); the CLI checks
again on resume that the interpreter still works."""

from __future__ import annotations

import time
import traceback
from dataclasses import replace
from pathlib import Path

from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.models import OFFLINE, model_id
from mle_star.nodes.ask import ask, settings
from mle_star.prompts import ROLES
from mle_star.prompts.roles import METRIC_READER, MetricReaderInputs
from mle_star.state import MLEStarState, RunFacts, Task
from mle_star.telemetry import Recorder, emit
from mle_star.timing import cpu_clock
from mle_star.tools.execution.environment import NETWORK_WARNING
from mle_star.tools.execution.machine_facts import summary
from mle_star.tools.execution.sandbox import Sandbox, probe
from mle_star.tools.execution.workbench import measure
from mle_star.tools.files import atomic_write
from mle_star.tools.model.code import ReplyError
from mle_star.tools.scoring.metrics import metric_of
from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.intake import Intake, TaskError, default_run_dir, read_task, table_problem


def read_metric(ctx: Context, rec: Recorder, task: Task) -> Task:
    """A metric mle-star does not implement: the model reads its name and direction from the
    description (the offline engineer answers with the rule-based reading)."""
    try:
        reading = ask(ctx, rec, METRIC_READER, MetricReaderInputs(task=task, settings=settings(ctx)))
    except ReplyError as exc:
        return task | {"notes": [*task["notes"], f"the metric reader's reply was unusable ({exc}); the direction "
                                                  "comes from the description's wording"]}
    read = replace(metric_of(task), title=reading.metric, higher_is_better=reading.higher_is_better)
    return task | {"metric_title": reading.metric, "lower_is_better": not reading.higher_is_better,
                   "metric_spec": read.spec(),
                   "notes": [*task["notes"], f"the model reads the metric as {reading.metric!r}, "
                                             f"{'higher' if reading.higher_is_better else 'lower'} is better"]}


def _run_data(intake: Intake, run_dir: str, seed: int) -> Task:
    """The run's data view. Splitting and copying only read the task's files, so a failure here is
    the task's: a one-line TaskError (exit 2, no resume hint), the traceback in error.log."""
    try:
        return prepare_run_data(intake, run_dir, seed).task
    except TaskError:
        raise
    except Exception as exc:  # noqa: BLE001
        atomic_write(Path(run_dir) / "error.log", traceback.format_exc())
        raise TaskError(f"cannot lay out the data of {intake.root}: {table_problem(exc)} (traceback in "
                        f"{Path(run_dir) / 'error.log'})") from exc


def prepare(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rec = Recorder("prepare")
    run_dir = str(Path(state.get("run_dir") or ctx.run_dir or default_run_dir(state["task_dir"])).resolve())
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    sandbox = probe(ctx.sandbox)  # raises SandboxUnavailable when 'bwrap' was required and cannot work
    if sandbox.warning:
        emit({"event": "notice", "text": f"WARNING: {sandbox.warning}"})
    workbench = measure(ctx, sandbox)  # WorkbenchError (exit 2) before any script when it cannot serve
    workbench.pop("others", None)  # hundreds of names: the listing's, not every state's and prompt's
    if ctx.script_network == "allow":
        emit({"event": "notice", "text": NETWORK_WARNING})
    intake = read_task(state["task_dir"], state.get("metric"), state.get("lower_is_better"))
    task = _run_data(intake, run_dir, ctx.seed) | {"workbench": workbench}
    if not task["metric_implemented"] and state.get("lower_is_better") is None:
        task = read_metric(ctx, rec, task)
    started = state.get("started") or time.time()
    started_cpu = state.get("started_cpu") or cpu_clock()
    models = {role: model_id(ctx, role) for role in ROLES}
    if ctx.model == "auto" and OFFLINE in models.values():
        emit({"event": "notice", "text": "no GOOGLE_API_KEY set: the offline engineer answers every role"})
    emit({"event": "notice", "text": f"workbench: {summary(workbench)}"})
    for note in workbench.get("notes", []):
        emit({"event": "notice", "text": f"WARNING: workbench: {note}"})
    emit({"event": "task", "name": task["name"], "metric": task["metric_title"], "type": task["task_type"],
          "lower_is_better": task["lower_is_better"], "run_dir": run_dir, "modality": task["modality"],
          "scoring": task["scoring"]})
    for note in task["notes"]:
        emit({"event": "notice", "text": note})
    rec.count("sandboxed_runs" if sandbox.kind == "bwrap" else "unsandboxed_runs")
    return rec.update(detail=f"{task['modality']} {task['task_type']} task, metric {task['metric_title']}, "
                             f"scores {task['scoring']}; sandbox: {sandbox.describe()}",
                      run=RunFacts(task=task, run_dir=run_dir, deadline=started + ctx.time_limit), run_dir=run_dir,
                      started=started, started_cpu=started_cpu or [], metric=task["metric"], lower_is_better=task["lower_is_better"], models=models,
                      sandbox=_contained(sandbox, ctx))


def _contained(sandbox: Sandbox, ctx: Context) -> str:
    """How scripts were contained, for run.json and the report (a shared network said loudly)."""
    text = sandbox.describe() + (f" - {sandbox.warning}" if sandbox.warning else "")
    if ctx.script_network == "allow":
        text = text.replace("; no network;", "; NETWORK SHARED WITH THE HOST;") + f" - {NETWORK_WARNING}"
    return text
