"""Ensemble (step 6): over R rounds the ensemble planner proposes a plan (seeing every
earlier plan and score) and the ensembler implements it; the best round is kept."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, task_prompt_fields
from mle_star.nodes.run_debug import run_checked
from mle_star.state import MLEStarState
from mle_star.tools.code import ReplyError, extract_code, nonempty
from mle_star.tools.metrics import best_of


def _members(state: MLEStarState) -> list[dict]:
    return sorted(state.get("solutions", []), key=lambda s: s.get("path_id", 0))


def _shown(solutions: list[dict]) -> str:
    return "\n\n".join(f"## Solution {i + 1} (score {s['score']})\n```python\n{s['code']}\n```"
                       for i, s in enumerate(solutions))


def gather_solutions(state: MLEStarState) -> dict:
    """Fan-in of the L solution paths: one record of what each path ended with."""
    rec = Recorder("gather_solutions")
    members = _members(state)
    scores = ", ".join(f"path {s.get('path_id')}: {s['score']}" for s in members)
    best = best_of(members, state["task"]["lower_is_better"])
    return rec.update(score=best["score"] if best else None, detail=scores or "no path produced a solution")


def ensemble_planner(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["task"]
    rec = Recorder("ensemble_planner")
    history = [{"plan": h["plan"], "score": h["score"]} for h in state.get("ensemble_history", [])]
    members = _members(state)
    prompt = prompts.ENSEMBLE_PLANNER.format(
        solutions="\n".join(f"- solution {i + 1}: score {s['score']}" for i, s in enumerate(members)),
        history="\n".join(f"- plan: {h['plan']}\n  score: {h['score']}" for h in history) or "(none)",
        **task_prompt_fields(task, ctx))
    try:
        plan = ask(ctx, rec, "ensemble_planner", prompt,
                   {"task": public_task(task), "scores": [s["score"] for s in members], "history": history},
                   nonempty)
    except ReplyError:
        plan = "Average the solutions' validation predictions with equal weights."
    return rec.update(detail=plan[:120], ensemble_plan=plan)


def ensembler(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["task"]
    r = state.get("ensemble_round", 0)
    rec = Recorder("ensembler")
    members = _members(state)
    plan = state["ensemble_plan"]
    prompt = prompts.ENSEMBLER.format(solutions=_shown(members), plan=plan, **task_prompt_fields(task, ctx))
    history = list(state.get("ensemble_history", []))
    try:
        code = ask(ctx, rec, "ensembler", prompt,
                   {"task": public_task(task), "solutions": [s["code"] for s in members], "plan": plan}, extract_code)
        result = run_checked(ctx, rec, state, code, f"ensemble_r{r}", kind="ensemble")
    except ReplyError as exc:
        result = {"name": f"ensemble_r{r}", "code": "", "score": None, "ok": False, "error": str(exc)}
    rec.count("ensemble_rounds")
    history.append({"plan": plan, "score": result["score"] if result["ok"] else None, "name": result["name"],
                    "code": result["code"], "ok": result["ok"]} | ({"workdir": result["workdir"]} if result.get("workdir") else {}))
    return rec.update(score=result["score"], detail=f"round {r}: {plan[:80]}", ensemble_history=history,
                      ensemble_round=r + 1)
