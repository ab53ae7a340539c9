"""Merger (step 3): sort the candidates by score, start from the best (s0) and merge the
next one in; keep the merge if it is at least as good, otherwise stop merging (the paper's
break rule). One merge per visit; the conditional edge loops back while merging goes on."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, search_time_left, task_prompt_fields
from mle_star.nodes.run_debug import run_checked
from mle_star.state import PathState, Solution
from mle_star.tools.code import ReplyError, extract_code
from mle_star.tools.metrics import is_better, ranked


def ranked_candidates(state: PathState) -> list[Solution]:
    """Runnable initial solutions, best first (stable for equal scores)."""
    ok = [s for s in sorted(state.get("initial", []), key=lambda s: s["name"]) if s["ok"]]
    return ranked(ok, state["task"]["lower_is_better"])


def merger(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["task"]
    rec = Recorder("merger", state["path_id"])
    ranked = ranked_candidates(state)
    if not ranked:
        return rec.update(detail="no initial solution ran", merge_done=True)
    best = state.get("best") or ranked[0]
    first = {"best": best, "initial_score": best["score"]} if not state.get("best") else {}
    index = state.get("merge_index") or 1
    if index >= len(ranked) or not search_time_left(state | {"best": best}, ctx):
        return rec.update(score=best["score"], detail="nothing left to merge", merge_done=True, **first)
    other = ranked[index]
    prompt = prompts.MERGER.format(base_code=best["code"], base_score=best["score"], candidate_code=other["code"],
                                   candidate_score=other["score"], **task_prompt_fields(task, ctx))
    try:
        code = ask(ctx, rec, "merger", prompt,
                   {"task": public_task(task), "base_code": best["code"], "candidate_code": other["code"]},
                   extract_code)
        merged = run_checked(ctx, rec, state, code, f"path{state['path_id']}/merge_{index}")
    except ReplyError as exc:
        return rec.update(detail=f"merge reply unusable: {exc}", merge_done=True, **first)
    rec.count("merges")
    if merged["ok"] and is_better(merged["score"], best["score"], task["lower_is_better"], strict=False):
        rec.count("merges_accepted")
        return rec.update(score=merged["score"], detail=f"merged {other['name']}: kept",
                          best=merged, merge_index=index + 1, **({"initial_score": best["score"]} if first else {}))
    return rec.update(score=merged["score"], detail=f"merged {other['name']}: worse, stop merging",
                      merge_done=True, **first)
