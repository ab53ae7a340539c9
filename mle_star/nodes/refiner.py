"""Refiner (step 5, inner loop). The coder rewrites c_t following plan p_k and the candidate
s_t[c_t -> new block] is run; the planner proposes p_{k+1} from the block and every earlier
(plan, score) pair. After K attempts the best candidate replaces s_t only if it improves."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, review, task_prompt_fields
from mle_star.nodes.run_debug import run_checked
from mle_star.state import PathState
from mle_star.tools.code import ReplyError, clean_block, extract_code, nonempty, replace_block
from mle_star.tools.metrics import is_better


def _block(text: str) -> str:
    block = clean_block(text)
    if not block.strip():
        raise ReplyError("the refined code block is empty")
    return block


def refiner_coder(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task, best = runtime.context, state["task"], state["best"]
    t, k = state.get("outer_step", 0), state.get("inner_step", 0)
    rec = Recorder("refiner_coder", state["path_id"])
    block, plan = state["code_block"], state["plan"]
    history = list(state.get("plan_history", []))
    inner_best = state.get("inner_best")
    decision = review(ctx, {"kind": "plan", "path": state["path_id"], "outer_step": t, "inner_step": k,
                            "code_block": block, "plan": plan, "score": best["score"]})
    if decision["action"] == "skip":
        rec.count("plans_skipped")
        history.append({"plan": f"{plan} (skipped by the reviewer)", "score": None})
        return rec.update(detail=f"t={t} k={k}: skipped by the reviewer", plan_history=history, inner_step=k + 1)
    if decision["action"] == "edit" and str(decision.get("plan", "")).strip():
        rec.count("plans_edited")
        plan = str(decision["plan"]).strip()
    prompt = prompts.REFINER_CODER.format(code_block=block, plan=plan, **task_prompt_fields(task, ctx))
    try:
        new_block = ask(ctx, rec, "refiner_coder", prompt,
                        {"task": public_task(task), "code_block": block, "plan": plan}, _block)
        candidate_code = replace_block(best["code"], block, new_block)
        extract_code(f"```python\n{candidate_code}\n```")  # must still be valid Python
        candidate = run_checked(ctx, rec, state, candidate_code, f"path{state['path_id']}/t{t}_k{k}_refine")
        score = candidate["score"] if candidate["ok"] else None
    except ReplyError as exc:
        candidate, score = None, None
        rec.count("refine_replies_unusable")
        plan = f"{plan} (not applied: {exc})"
    rec.count("inner_iterations")
    history.append({"plan": plan, "score": score})
    if candidate is not None and candidate["ok"] and (
        inner_best is None or is_better(score, inner_best["score"], task["lower_is_better"])
    ):
        inner_best = candidate | {"plan": plan}
    return rec.update(score=score, detail=f"t={t} k={k}: {plan[:100]}", plan_history=history,
                      inner_best=inner_best, inner_step=k + 1)


def refiner_planner(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["task"]
    rec = Recorder("refiner_planner", state["path_id"])
    history = state.get("plan_history", [])
    shown = "\n".join(f"- plan: {h['plan']}\n  score: {h['score']}" for h in history)
    prompt = prompts.REFINER_PLANNER.format(code_block=state["code_block"], history=shown, score=state["best"]["score"],
                                            **task_prompt_fields(task, ctx))
    try:
        plan = ask(ctx, rec, "refiner_planner", prompt,
                   {"task": public_task(task), "code_block": state["code_block"], "history": history,
                    "base_score": state["best"]["score"]},
                   nonempty).strip()
    except ReplyError as exc:
        plan = f"{state['plan']} (planner reply unusable: {exc})"
    return rec.update(detail=plan[:120], plan=plan)



def accept_refinement(state: PathState, runtime: Runtime[Context]) -> dict:
    """s_{t+1} = the best of s_t and the K refined candidates (only an improvement counts)."""
    task, best = state["task"], state["best"]
    t = state.get("outer_step", 0)
    rec = Recorder("accept_refinement", state["path_id"])
    rec.count("outer_loops")
    inner_best = state.get("inner_best")
    refined = [*state.get("refined_blocks", [])] + ([state["code_block"]] if state.get("code_block") else [])
    if inner_best is not None and is_better(inner_best["score"], best["score"], task["lower_is_better"]):
        rec.count("refinements_accepted")
        return rec.update(score=inner_best["score"], detail=f"t={t}: improved {best['score']} -> {inner_best['score']}",
                          stage_extra={"from_script": best["workdir"], "to_script": inner_best["workdir"],
                                       "plan": inner_best.get("plan", "")},
                          best=inner_best | {"refined_from": best["name"]}, refined_blocks=refined, outer_step=t + 1)
    return rec.update(score=best["score"], detail=f"t={t}: no improvement, kept s_t",
                      refined_blocks=refined, outer_step=t + 1)


def path_result(state: PathState) -> dict:
    """Hand this path's final solution to the parent graph."""
    best = state.get("best")
    rec = Recorder("path_result", state["path_id"])
    if not best:
        return rec.update(detail="path produced no runnable solution")
    return rec.update(score=best["score"], detail=f"initial {state.get('initial_score')} -> final {best['score']}",
                      solutions=[best | {"path_id": state["path_id"], "initial_score": state.get("initial_score")}])
