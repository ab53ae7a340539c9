"""Leakage checker (before every execution): find the preprocessing block, judge whether
validation/test information leaks into training, and if so replace exactly that block with
a fixed one. A fix counts only if it changed the code, and it is checked once more."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.nodes.ask import ask, settings
from mle_star.prompts.roles import (
    LEAK,
    LEAKAGE_CHECKER,
    LEAKAGE_FIXER,
    LeakageFixInputs,
    LeakageInputs,
)
from mle_star.state import ExecState
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError, extract_code, replace_block


def leakage_checker(state: ExecState, runtime: Runtime[Context]) -> dict:
    ctx, draft, task = runtime.context, state["draft"], state["run"]["task"]
    code, findings = draft["code"], draft["leakage"]
    rec = Recorder("leakage_checker", state.get("path_id"))
    rec.count("leakage_checks")
    run_settings = settings(ctx, state.get("path_id"))
    try:
        verdict = ask(ctx, rec, LEAKAGE_CHECKER, LeakageInputs(task=task, settings=run_settings, code=code))
    except ReplyError as exc:
        return rec.update(detail=f"checker reply unusable: {exc}")
    finding = {"name": draft["name"], "status": verdict.leakage_status, "fixed": False}
    if verdict.leakage_status != LEAK:
        return rec.update(detail=verdict.leakage_status, draft=draft | {"leakage": [*findings, finding]})
    rec.count("leakage_found")
    finding["block"] = verdict.code_block
    try:
        fixed = ask(ctx, rec, LEAKAGE_FIXER,
                    LeakageFixInputs(task=task, settings=run_settings, code=code, code_block=verdict.code_block))
        new_code = replace_block(code, verdict.code_block, fixed)
        extract_code(f"```python\n{new_code}\n```")  # the fixed script must still parse
    except ReplyError as exc:
        finding["error"] = str(exc)
        return rec.update(detail="leakage found, not fixed", draft=draft | {"leakage": [*findings, finding]})
    if new_code.strip() == code.strip():
        finding["error"] = "the fix changed nothing"
        return rec.update(detail="leakage found, the fix changed nothing",
                          draft=draft | {"leakage": [*findings, finding]})
    rec.count("leakage_fixed")
    try:  # verify: the checker reads the fixed script once more
        again = ask(ctx, rec, LEAKAGE_CHECKER, LeakageInputs(task=task, settings=run_settings, code=new_code))
        finding["verified"] = again.leakage_status != LEAK
    except ReplyError:
        finding["verified"] = False
    finding |= {"fixed": True, "fixed_block": fixed}
    return rec.update(detail="leakage fixed" + ("" if finding["verified"] else " (the checker still objects)"),
                      draft=draft | {"code": new_code, "leakage": [*findings, finding]})
