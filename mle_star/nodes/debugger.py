"""Debugger (after each failed run): from the script and its bounded error, a fixed script.

A fix that changes nothing is not run again: the loop ends, as it would on an unusable reply.
"""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.nodes.ask import ask, settings
from mle_star.prompts.roles import DEBUGGER, DebuggerInputs
from mle_star.state import ExecState
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError


def debugger(state: ExecState, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context
    rec = Recorder("debugger", state.get("path_id"))
    rec.count("debug_rounds")
    draft = state["draft"]
    n = draft["debug_round"] + 1
    stop = draft | {"debug_round": ctx.debug_rounds + 1}  # past the last round: _after_debugger ends the loop
    inputs = DebuggerInputs(task=state["run"]["task"], settings=settings(ctx, state.get("path_id")),
                            code=draft["code"], error=state["result"]["error"], kind=draft["kind"])
    try:
        fixed = ask(ctx, rec, DEBUGGER, inputs)
    except ReplyError as exc:
        return rec.update(detail=f"debugger reply unusable: {exc}", draft=stop)
    if fixed.strip() == draft["code"].strip():
        rec.count("debug_unchanged")
        return rec.update(detail="the debugger returned the script unchanged; not re-running it", draft=stop)
    return rec.update(detail=f"debug round {n}", draft=draft | {"code": fixed, "debug_round": n})
