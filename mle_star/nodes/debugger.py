"""Debugger (after each failed run): from the script and its bounded error, a fixed script."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, task_prompt_fields
from mle_star.state import ExecState
from mle_star.tools.code import ReplyError, extract_code


def debugger(state: ExecState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["task"]
    error = state["result"]["error"]
    rec = Recorder("debugger")
    rec.count("debug_rounds")
    attempt = state.get("attempt", 0) + 1
    prompt = prompts.DEBUGGER.format(code=state["code"], error=error, **task_prompt_fields(task, ctx))
    try:
        fixed = ask(ctx, rec, "debugger", prompt,
                    {"task": public_task(task), "code": state["code"], "error": error, "kind": state.get("kind")},
                    extract_code)
    except ReplyError as exc:
        # Nothing new to run: end the debug loop rather than re-run the same failing script.
        return rec.update(detail=f"debugger reply unusable: {exc}", attempt=ctx.debug_rounds)
    return rec.update(detail=f"debug round {attempt}", code=fixed, attempt=attempt)
