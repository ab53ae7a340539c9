"""The run-and-debug loop every script goes through, as one reusable subgraph:

    leakage_checker -> execute -> (failed and rounds left) -> debugger -> leakage_checker ...

It is compiled without a checkpointer of its own: it runs inside a role node, and a resumed
run re-enters it cheaply because the runner caches finished executions by content.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.nodes.common import Recorder, emit, runner, time_left
from mle_star.nodes.debugger import debugger
from mle_star.nodes.leakage import leakage_checker
from mle_star.state import ExecState, Solution

CHECKED_KINDS = {"solution", "ensemble", "submission"}  # ablation scripts are studies, not candidates


def execute(state: ExecState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    attempt = state.get("attempt", 0)
    name = state["name"] if attempt == 0 else f"{state['name']}_debug{attempt}"
    rec = Recorder("execute")
    emit({"event": "script_started", "name": name})
    timeout = ctx.script_timeout * (2 if state.get("kind") in ("ablation", "submission") else 1)
    if state.get("kind") != "submission":  # search scripts never run past the run's deadline
        timeout = min(timeout, max(30.0, time_left(state)))
    result = runner(ctx, state["run_dir"], state["task"]).run(state["code"], name, timeout=timeout)
    rec.count("executions")
    rec.count("cached_executions", int(result.cached))
    emit({"event": "script_finished", "name": name, "score": result.score, "ok": result.ok,
          "duration": result.duration})
    return rec.update(score=result.score, detail=name, result=result.to_dict() | {"error": "" if result.ok else result.error})


def _check_first(state: ExecState, runtime: Runtime[Context]) -> str:
    return "leakage_checker" if runtime.context.check_leakage and state.get("kind") in CHECKED_KINDS else "execute"


def _after_execute(state: ExecState, runtime: Runtime[Context]) -> str:
    if state["result"]["ok"] or state.get("attempt", 0) >= runtime.context.debug_rounds:
        return END
    return "debugger"


def _after_debugger(state: ExecState, runtime: Runtime[Context]) -> str:
    if state.get("attempt", 0) > runtime.context.debug_rounds:
        return END
    return _check_first(state, runtime)


def build_run_and_debug() -> StateGraph:
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


def run_checked(ctx: Context, rec: Recorder, state: dict, code: str, name: str, kind: str = "solution") -> Solution:
    """Run ``code`` through the run-and-debug subgraph; the final attempt as a Solution."""
    out = run_and_debug.invoke(
        {"task": state["task"], "run_dir": state["run_dir"], "name": name, "kind": kind, "code": code, "attempt": 0,
         "deadline": state.get("deadline", float("inf"))},
        context=ctx,
    )
    rec.merge(out.get("counts"), out.get("usage"))
    result = out["result"]
    rec.scripts.append(result["workdir"])
    rec.findings += [f for f in out.get("leakage", []) if f["status"] != "No Data Leakage"]
    return Solution(name=name, code=out["code"], score=result["score"], ok=bool(result["ok"]),
                    workdir=result["workdir"], duration=float(result["duration"]), error=result.get("error", ""),
                    **({"leakage": out["leakage"]} if out.get("leakage") else {}))
