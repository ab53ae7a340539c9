"""The run-and-debug loop every script goes through, as one reusable subgraph:

    leakage_checker -> execute -> (failed and rounds left) -> debugger -> leakage_checker ...

Each execution becomes an attempt in the journal; a debug round's parent is the attempt it
fixes. The subgraph is compiled without a checkpointer of its own: it runs inside a role
node, and a resumed run re-enters it cheaply because the runner reuses finished executions.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import Unpack

from mle_star.config import Context
from mle_star.journal import attempt
from mle_star.nodes.debugger import debugger
from mle_star.nodes.leakage import leakage_checker
from mle_star.state import Attempt, AttemptFields, AttemptKind, ExecState
from mle_star.telemetry import Recorder, emit
from mle_star.tools.execution.executor import make_executor, run_data
from mle_star.tools.execution.resources import final_workers, script_threads
from mle_star.tools.execution.runner import cpu_count
from mle_star.tools.scoring.judge import judge, outputs_for

CHECKED_KINDS = {"candidate", "merge", "data_usage", "refinement", "ensemble", "submission", "fallback"}
LONG_KINDS = {"ablation", "ensemble", "submission"}  # these retrain several models or all rows: twice the time


def execution_name(draft: Attempt) -> str:
    n = draft["debug_round"]
    return draft["name"] if n == 0 else f"{draft['name']}_debug{n}"


def execute(state: ExecState, runtime: Runtime[Context]) -> dict:
    ctx, run, draft = runtime.context, state["run"], state["draft"]
    name = execution_name(draft)
    rec = Recorder("execute", state.get("path_id"))
    emit({"event": "script_started", "name": name})
    kind, task = draft["kind"], run["task"]
    timeout = ctx.script_timeout * (2 if kind in LONG_KINDS else 1)
    if kind != "submission":  # search scripts never run past the run's deadline
        timeout = min(timeout, max(30.0, run["deadline"] - time.time()))
    view = "full" if kind == "submission" else "search"
    extra = state.get("extra_inputs") or {}
    views = None
    if extra:  # this script also sees extra entries (an ensemble: its members' saved predictions)
        entries = run_data(run["run_dir"])["views"][view] | extra
        view = f"{view}-{hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()[:12]}"
        views = {view: entries}
    threads = script_threads(ctx)
    workers = final_workers(ctx) if kind == "submission" else 1
    result = make_executor(ctx, run["run_dir"], views, threads, workers).run(draft["code"], name, view=view,
                                                                    timeout=timeout, outputs=outputs_for(kind, task))
    verdict = judge(task, run_data(run["run_dir"])["answers"], kind, result.ok, result.error,
                    result.printed_score, result.outputs, result.output_errors)
    rec.count("executions")
    rec.count("cached_executions", int(result.cached))
    if ctx.executor == "ray":  # Ray workers lost under this script (it was retried, visibly)
        rec.count("worker_deaths", getattr(result, "worker_deaths", 0))
    if not result.cached:
        rec.spent("scripts", result.duration)
        # measured CPU (rusage) where the executor can; else every thread busy for the whole run
        cpu = getattr(result, "cpu_seconds", None)
        rec.spent("script_core_seconds", cpu if cpu is not None else result.duration * min(threads * workers, cpu_count()))
    rec.count("untrusted_scripts", int(verdict.untrusted))
    emit({"event": "script_finished", "name": name, "score": verdict.score, "ok": verdict.ok,
          "duration": result.duration})
    previous = state.get("journal", [])
    parent = previous[-1]["name"] if draft["debug_round"] > 0 and previous else draft["parent"]
    entry = draft | Attempt(name=name, kind=kind, parent=parent, score=verdict.score, ok=verdict.ok,
                            workdir=result.record_dir, duration=result.duration, error=verdict.error,
                            score_source=verdict.source, printed_score=verdict.printed,
                            untrusted=verdict.untrusted, limit_hit=result.limit_hit)
    # the next debug round starts from this script with no leakage findings of its own yet
    return rec.update(score=verdict.score, detail=name, result={"ok": verdict.ok, "error": verdict.error},
                      journal=[entry], draft=draft | {"leakage": []})


def _check_first(state: ExecState, runtime: Runtime[Context]) -> str:
    return "leakage_checker" if runtime.context.check_leakage and state["draft"]["kind"] in CHECKED_KINDS else "execute"


def _after_execute(state: ExecState, runtime: Runtime[Context]) -> str:
    draft = state["draft"]
    if state["result"]["ok"] or draft["debug_round"] >= runtime.context.debug_rounds:
        return END
    if draft["kind"] != "submission" and time.time() >= state["run"]["deadline"]:
        return END  # past the deadline a search script is dropped, not debugged (rodent: 3 x 30 s over)
    return "debugger"


def _after_debugger(state: ExecState, runtime: Runtime[Context]) -> str:
    if state["draft"]["debug_round"] > runtime.context.debug_rounds:
        return END
    return _check_first(state, runtime)


def build_run_and_debug() -> StateGraph[ExecState, Context, ExecState, ExecState]:
    graph = StateGraph(ExecState, context_schema=Context)
    graph.add_node("leakage_checker", leakage_checker)
    graph.add_node("execute", execute)
    graph.add_node("debugger", debugger)
    graph.add_conditional_edges(START, _check_first, ["leakage_checker", "execute"])
    graph.add_edge("leakage_checker", "execute")
    graph.add_conditional_edges("execute", _after_execute, ["debugger", END])
    graph.add_conditional_edges("debugger", _after_debugger, ["leakage_checker", "execute", END])
    return graph


run_and_debug = build_run_and_debug().compile(checkpointer=False, name="run_and_debug")


def run_checked(ctx: Context, rec: Recorder, state: Mapping[str, Any], draft: Attempt,
                extra_inputs: dict[str, str] | None = None) -> tuple[Attempt, list[Attempt]]:
    """Run ``draft`` (an attempt not run yet: its name, kind, lineage and code) through the
    run-and-debug subgraph on the run of ``state``: (the last attempt, every attempt)."""
    path_id = state.get("path_id")
    out = run_and_debug.invoke(
        {"run": state["run"], "path_id": path_id, "draft": draft | {"path_id": path_id, "debug_round": 0},
         "journal": [], "extra_inputs": extra_inputs or {}},
        context=ctx,
    )
    rec.merge(out.get("counts"), out.get("usage"), out.get("timing"))
    attempts: list[Attempt] = out.get("journal", [])
    rec.scripts += [a["name"] for a in attempts]
    rec.findings += [f for a in attempts for f in a["leakage"] if f["status"] != "No Data Leakage"]
    return attempts[-1], attempts


def not_run(name: str, kind: AttemptKind, why: str, **fields: Unpack[AttemptFields]) -> Attempt:
    """The journal entry for an attempt whose script never ran (an unusable reply): no workdir."""
    entry = attempt(name, kind, **fields)
    entry["error"] = why
    return entry
