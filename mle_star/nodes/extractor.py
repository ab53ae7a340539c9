"""Extractor (step 5): choose the code block c_t with the most impact that has not been
refined yet, and an initial plan p_0. The block must be an exact substring of s_t."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import journal
from mle_star.config import Context
from mle_star.nodes.ask import ask, settings
from mle_star.prompts.roles import EXTRACTOR, ExtractorInputs
from mle_star.state import PathState
from mle_star.telemetry import Recorder
from mle_star.tools.code import ReplyError


def extractor(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task, path = runtime.context, state["task"], state["path_id"]
    best = journal.get(state["journal"], state["best"])
    rec = Recorder("extractor", path)
    inputs = ExtractorInputs(task=task, settings=settings(ctx, path), code=best["code"], score=best["score"],
                             summaries=state.get("ablation_summaries", []),
                             refined_blocks=state.get("refined_blocks", []))
    try:
        target = ask(ctx, rec, EXTRACTOR, inputs)
    except ReplyError as exc:
        return rec.update(detail=f"no usable block: {exc}", code_block="", plan="", inner_step=0)
    return rec.update(detail=target.plan, code_block=target.code_block, plan=target.plan, inner_step=0,
                      stage_extra={"code_block": target.code_block})
