"""Refiner (step 5, inner loop). The coder rewrites c_t following plan p_k and the candidate
s_t[c_t -> new block] is run; the planner proposes p_{k+1} from the block and every earlier
(plan, score) pair. After K attempts the best candidate replaces s_t only if it improves."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import journal
from mle_star.budget import final_fits_in_time
from mle_star.config import Context
from mle_star.journal import attempt
from mle_star.nodes.ask import ask, settings
from mle_star.nodes.review import review
from mle_star.nodes.run_debug import run_checked
from mle_star.prompts.roles import (
    REFINER_CODER,
    REFINER_PLANNER,
    RefinerCoderInputs,
    RefinerPlannerInputs,
)
from mle_star.state import OuterStepState, PathState, PlanScore
from mle_star.telemetry import Recorder
from mle_star.tools.execution.executor import run_data
from mle_star.tools.model.code import ReplyError, extract_code, replace_block
from mle_star.tools.scoring.judge import clearly_better
from mle_star.tools.scoring.metrics import metric_of


def refiner_coder(state: OuterStepState, runtime: Runtime[Context]) -> dict:
    ctx, task, path = runtime.context, state["run"]["task"], state["path_id"]
    best = journal.get(state["journal"], state["best"])
    t, k = state.get("outer_step", 0), state.get("inner_step", 0)
    rec = Recorder("refiner_coder", path, t=t, k=k)
    rec.count("inner_iterations")
    block, plan = state["code_block"], state["plan"]
    name = f"path{path}/t{t}_k{k}_refine"
    draft = attempt(name, "refinement", path_id=path, parent=best["name"], target_block=block, t=t, k=k)
    decision = review(ctx, {"kind": "plan", "path": path, "outer_step": t, "inner_step": k,
                            "code_block": block, "plan": plan, "score": best["score"]})
    if decision["action"] == "skip":
        rec.count("plans_skipped")
        skipped = draft | {"error": "skipped by the reviewer", "plan": f"{plan} (skipped by the reviewer)"}
        return rec.update(detail=f"t={t} k={k}: skipped by the reviewer", inner_step=k + 1, journal=[skipped])
    if decision["action"] == "edit" and str(decision.get("plan", "")).strip():
        rec.count("plans_edited")
        plan = str(decision["plan"]).strip()
    try:
        new_block = ask(ctx, rec, REFINER_CODER, RefinerCoderInputs(task=task, settings=settings(ctx, path),
                                                                    code_block=block, plan=plan))
        candidate_code = replace_block(best["code"], block, new_block)
        extract_code(f"```python\n{candidate_code}\n```")  # must still be valid Python
    except ReplyError as exc:
        rec.count("refine_replies_unusable")
        failed = draft | {"error": str(exc), "plan": f"{plan} (not applied: {exc})"}
        return rec.update(detail=f"t={t} k={k}: {failed['plan']}", inner_step=k + 1, journal=[failed])
    candidate, attempts = run_checked(ctx, rec, state, draft | {"code": candidate_code, "plan": plan})
    return rec.update(score=candidate["score"] if candidate["ok"] else None, detail=f"t={t} k={k}: {plan}",
                      inner_step=k + 1, journal=attempts)


def refiner_planner(state: OuterStepState, runtime: Runtime[Context]) -> dict:
    ctx, task, path = runtime.context, state["run"]["task"], state["path_id"]
    best = journal.get(state["journal"], state["best"])
    rec = Recorder("refiner_planner", path)
    # every plan of this step, and those earlier steps tried on the same block (re-targeting)
    t = state.get("outer_step", 0)
    history = [PlanScore(plan=a["plan"], score=a["score"] if a["ok"] else None)
               for a in journal.of_kind(state["journal"], "refinement", path)
               if a.get("t") == t or a["target_block"] == state["code_block"]]
    inputs = RefinerPlannerInputs(task=task, settings=settings(ctx, path), code_block=state["code_block"],
                                  history=history, base_score=best["score"])
    try:
        plan = ask(ctx, rec, REFINER_PLANNER, inputs).strip()
    except ReplyError as exc:
        plan = f"{state['plan']} (planner reply unusable: {exc})"
    return rec.update(detail=plan, plan=plan)


def accept_refinement(state: OuterStepState, runtime: Runtime[Context]) -> dict:
    """s_{t+1} = the best of s_t and the K refined candidates (only an improvement counts)."""
    task, path = state["run"]["task"], state["path_id"]
    best = journal.get(state["journal"], state["best"])
    t = state.get("outer_step", 0)
    rec = Recorder("accept_refinement", path, t=t)
    rec.count("outer_loops")
    tried = [a for a in journal.of_kind(state["journal"], "refinement", path, t=t) if a["ok"]]
    metric = metric_of(task)
    affordable = [a for a in tried if final_fits_in_time(state, runtime.context, a)]
    inner_best = metric.best_of(affordable)
    refined = [*state.get("refined_blocks", [])] + ([state["code_block"]] if state.get("code_block") else [])
    if inner_best is None:
        why = (f"{len(tried)} refined solution(s) too slow for their final script to run in the time left"
               if tried else "no refinement ran")
        return rec.update(score=best["score"], detail=f"t={t}: {why}, kept s_t",
                          refined_blocks=refined, outer_step=t + 1)
    # better attempts whose final script would not fit in the time left: the report says so
    slow = [a for a in tried if a not in affordable and metric.better(a["score"], inner_best["score"])]
    slow_best = metric.best_of(slow)
    aside = (f" ({len(slow)} better attempt(s), best {slow_best['score']:.6g}, set aside: too slow "
             f"for their final script to run in the time left)") if slow_best else ""
    clear, se = clearly_better(task, run_data(state["run"]["run_dir"])["answers"], inner_best, best,
                               runtime.context.min_gain_se)
    if clear:
        rec.count("refinements_accepted")
        return rec.update(score=inner_best["score"],
                          detail=f"t={t}: improved {best['score']} -> {inner_best['score']}{aside}",
                          stage_extra={"from": best["name"], "to": inner_best["name"], "plan": inner_best["plan"]},
                          best=inner_best["name"], refined_blocks=refined, outer_step=t + 1)
    if metric.better(inner_best["score"], best["score"]):
        rec.count("refinements_within_noise")
        why = (f"{inner_best['score']:.6g} beats {best['score']:.6g} by less than {runtime.context.min_gain_se:g} "
               f"standard error(s) of their held-out difference ({se:.3g}): noise{aside}, kept s_t")
        return rec.update(score=best["score"], detail=f"t={t}: {why}", refined_blocks=refined, outer_step=t + 1)
    return rec.update(score=best["score"], detail=f"t={t}: no improvement over {best['score']}{aside}, kept s_t",
                      refined_blocks=refined, outer_step=t + 1)


def path_result(state: PathState) -> dict:
    """Hand this path's final solution to the parent graph."""
    path = state["path_id"]
    rec = Recorder("path_result", path)
    if not state.get("best"):
        return rec.update(detail="path produced no runnable solution")
    best = journal.get(state["journal"], state["best"])
    first = journal.lineage(state["journal"], best["name"])[0]
    return rec.update(score=best["score"], detail=f"s0 {first['score']} -> final {best['score']}",
                      finals=[best["name"]])
