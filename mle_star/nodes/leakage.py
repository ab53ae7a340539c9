"""Leakage checker (runs before every execution): find the preprocessing block, judge
whether validation/test information leaks into training, and if so replace exactly that
block with a fixed one."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task
from mle_star.state import ExecState
from mle_star.tools.code import ReplyError, clean_block, extract_code, extract_json, replace_block

LEAK = "Yes Data Leakage"
NO_LEAK = "No Data Leakage"


def parse_verdict(code: str):
    """The checker's JSON verdict; a 'Yes' must name a block found exactly once in the code."""

    def parse(text: str) -> dict:
        value = extract_json(text)
        if isinstance(value, list) and value:
            value = value[0]
        if not isinstance(value, dict) or value.get("leakage_status") not in (LEAK, NO_LEAK):
            raise ReplyError(f'answer with {{"leakage_status": "{LEAK}" or "{NO_LEAK}", "code_block": ...}}')
        block = clean_block(str(value.get("code_block", "")))
        if value["leakage_status"] == LEAK:
            replace_block(code, block, block)  # raises unless an exact, unique substring
        return {"status": value["leakage_status"], "code_block": block}

    return parse


def leakage_checker(state: ExecState, runtime: Runtime[Context]) -> dict:
    ctx, code, task = runtime.context, state["code"], state["task"]
    rec = Recorder("leakage_checker")
    rec.count("leakage_checks")
    try:
        verdict = ask(ctx, rec, "leakage_checker", prompts.LEAKAGE_CHECKER.format(code=code),
                      {"task": public_task(task), "code": code}, parse_verdict(code))
    except ReplyError as exc:
        return rec.update(detail=f"checker reply unusable: {exc}")
    finding = {"name": state["name"], "status": verdict["status"], "fixed": False}
    if verdict["status"] == LEAK:
        rec.count("leakage_found")
        try:
            fixed = ask(ctx, rec, "leakage_fixer",
                        prompts.LEAKAGE_FIXER.format(code=code, code_block=verdict["code_block"]),
                        {"task": public_task(task), "code": code, "code_block": verdict["code_block"]},
                        lambda text: clean_block(text) if clean_block(text).strip() else extract_code(text))
            new_code = replace_block(code, verdict["code_block"], fixed)
            extract_code(f"```python\n{new_code}\n```")  # the fixed script must still parse
            finding |= {"fixed": True, "block": verdict["code_block"], "fixed_block": fixed}
            rec.count("leakage_fixed")
            return rec.update(detail="leakage fixed", code=new_code, leakage=[*state.get("leakage", []), finding])
        except ReplyError as exc:
            finding["error"] = str(exc)
    return rec.update(detail=verdict["status"], leakage=[*state.get("leakage", []), finding])
