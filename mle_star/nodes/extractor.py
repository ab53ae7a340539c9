"""Extractor (step 5): choose the code block c_t with the most impact that has not been
refined yet, and an initial plan p_0. The block must be an exact substring of s_t."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, task_prompt_fields
from mle_star.state import PathState
from mle_star.tools.code import ReplyError, clean_block, extract_json, replace_block


def parse_target(code: str, refined: list[str]):
    def parse(text: str) -> dict:
        value = extract_json(text)
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not value or not isinstance(value[0], dict):
            raise ReplyError('answer with [{"code_block": "...", "plan": "..."}]')
        block = clean_block(str(value[0].get("code_block", "")))
        plan = str(value[0].get("plan", "")).strip()
        if not plan:
            raise ReplyError("the plan is empty")
        replace_block(code, block, block)  # exact and unique, else ReplyError and a re-ask
        if block in refined:
            raise ReplyError("that block was already refined; choose another")
        return {"code_block": block, "plan": plan}

    return parse


def extractor(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task, best = runtime.context, state["task"], state["best"]
    rec = Recorder("extractor", state["path_id"])
    refined = state.get("refined_blocks", [])
    summaries = state.get("ablation_summaries", [])
    prompt = prompts.EXTRACTOR.format(code=best["code"], score=best["score"], summaries="\n\n".join(summaries),
                                      refined="\n\n".join(refined) or "(none)", **task_prompt_fields(task, ctx))
    try:
        target = ask(ctx, rec, "extractor", prompt,
                     {"task": public_task(task), "code": best["code"], "summaries": summaries,
                      "refined_blocks": refined}, parse_target(best["code"], refined))
    except ReplyError as exc:
        return rec.update(detail=f"no usable block: {exc}", code_block="", plan="", inner_step=0,
                          plan_history=[], inner_best=None)
    return rec.update(detail=target["plan"][:120], code_block=target["code_block"], plan=target["plan"],
                      inner_step=0, plan_history=[], inner_best=None)
