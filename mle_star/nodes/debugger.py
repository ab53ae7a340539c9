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
    attempt = state.get("attempt", 0) + 1
    stop = ctx.debug_rounds + 1  # past the last round: _after_debugger ends the loop
    inputs = DebuggerInputs(task=state["task"], settings=settings(ctx, state.get("path_id")), code=state["code"],
                            error=state["result"]["error"], kind=state.get("kind", "candidate"))
    try:
        fixed = ask(ctx, rec, DEBUGGER, inputs)
    except ReplyError as exc:
        return rec.update(detail=f"debugger reply unusable: {exc}", attempt=stop)
    if fixed.strip() == state["code"].strip():
        rec.count("debug_unchanged")
        return rec.update(detail="the debugger returned the script unchanged; not re-running it", attempt=stop)
    return rec.update(detail=f"debug round {attempt}", code=fixed, attempt=attempt)
