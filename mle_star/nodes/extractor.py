"""Extractor (step 5): choose the code block c_t with the most impact that has not been
refined yet, and an initial plan p_0. The block must be an exact substring of s_t."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import journal
from mle_star.config import Context
from mle_star.nodes.ask import ask, settings
from mle_star.prompts.roles import EXTRACTOR, ExtractorInputs
from mle_star.state import OuterStepState
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError


def extractor(state: OuterStepState, runtime: Runtime[Context]) -> dict:
    ctx, task, path = runtime.context, state["run"]["task"], state["path_id"]
    best = journal.get(state["journal"], state["best"])
    rec = Recorder("extractor", path)
    refined = state.get("refined_blocks", [])
    tried = [a["plan"] for a in journal.of_kind(state["journal"], "refinement", path)]
    inputs = ExtractorInputs(task=task, settings=settings(ctx, path), code=best["code"], score=best["score"],
                             summaries=state.get("ablation_summaries", []), refined_blocks=refined,
                             tried_plans=tried)
    try:
        target = ask(ctx, rec, EXTRACTOR, inputs)
    except ReplyError as exc:
        if not refined:
            return rec.update(detail=f"no usable block: {exc}", code_block="", plan="", inner_step=0)
        # Every block was refined already: re-target the most impactful one, with fresh plans.
        rec.count("retargets")
        try:
            target = ask(ctx, rec, EXTRACTOR, inputs.model_copy(update={"refined_blocks": []}))
        except ReplyError as again:
            return rec.update(detail=f"no usable block: {again}", code_block="", plan="", inner_step=0)
    return rec.update(detail=target.plan, code_block=target.code_block, plan=target.plan, inner_step=0,
                      stage_extra={"code_block": target.code_block})
