"""Data-usage checker (step 4, once per path on s0): does the solution use all provided
information? A revised script replaces s0 if it runs and scores at least as well."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, task_prompt_fields
from mle_star.nodes.run_debug import run_checked
from mle_star.state import PathState
from mle_star.tools.code import ReplyError, extract_code
from mle_star.tools.metrics import is_better

ALL_USED = "all the provided information is used"


def parse_usage(text: str) -> str | None:
    """None when the checker says everything is used, else the revised script."""
    if ALL_USED in text.lower() and "```" not in text:
        return None
    return extract_code(text)


def data_usage_checker(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task, best = runtime.context, state["task"], state["best"]
    rec = Recorder("data_usage_checker", state["path_id"])
    prompt = prompts.DATA_USAGE.format(code=best["code"], **task_prompt_fields(task, ctx))
    try:
        revised = ask(ctx, rec, "data_usage_checker", prompt, {"task": public_task(task), "code": best["code"]}, parse_usage)
    except ReplyError as exc:
        return rec.update(score=best["score"], detail=f"reply unusable: {exc}")
    if revised is None or revised == best["code"]:
        return rec.update(score=best["score"], detail="all the provided information is used")
    candidate = run_checked(ctx, rec, state, revised, f"path{state['path_id']}/data_usage")
    if candidate["ok"] and is_better(candidate["score"], best["score"], task["lower_is_better"], strict=False):
        rec.count("data_usage_revisions")
        return rec.update(score=candidate["score"], detail="revised to use more data", best=candidate)
    return rec.update(score=best["score"], detail="revision did not run or scored worse; kept s0")
