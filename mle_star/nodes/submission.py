"""Submission (step 7): take the best solution (ensemble only if it beat every single one),
remove the subsampling, add test prediction, run it and validate ./final/submission.csv
against sample_submission.csv. If that fails, the next best solution is tried."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.models import OFFLINE
from mle_star.nodes.common import Recorder, ask, public_task, review, task_prompt_fields
from mle_star.nodes.run_debug import run_checked
from mle_star.state import MLEStarState
from mle_star.tools.code import ReplyError, extract_code
from mle_star.tools.metrics import is_better, ranked
from mle_star.tools.submission import InvalidSubmission, validate_submission


def final_candidates(state: MLEStarState) -> list[dict]:
    """Single solutions and ensemble rounds, best first; an ensemble must beat every single."""
    lower = state["task"]["lower_is_better"]
    singles = ranked([s for s in state.get("solutions", []) if s.get("ok")], lower)
    rounds = ranked([h for h in state.get("ensemble_history", []) if h.get("ok")], lower)
    if rounds and singles and is_better(rounds[0]["score"], singles[0]["score"], lower):
        return [rounds[0], *singles]
    return singles + rounds[:1]


def offline_solution(state: MLEStarState, ctx: Context, rec: Recorder) -> dict | None:
    """A runnable solution from the offline engineer, for when the model never yielded one."""
    offline = replace(ctx, model=OFFLINE, role_models="")
    card = {"model_name": "XGBoost gradient boosted trees", "example_code": ""}
    prompt = prompts.INIT_CODER.format(model_name=card["model_name"], example_code="", **task_prompt_fields(state["task"], ctx))
    try:
        code = ask(offline, rec, "init_coder", prompt, {"task": public_task(state["task"]), "candidate": card}, extract_code)
    except ReplyError:
        return None
    solution = run_checked(offline, rec, state, code, "fallback_offline")
    return solution if solution["ok"] else None


def submission(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["task"]
    rec = Recorder("submission")
    run_dir = Path(state["run_dir"])
    errors = []
    candidates = final_candidates(state)
    fallback = {}
    if not candidates and ctx.llm is None and any(m != OFFLINE for m in state.get("models", {}).values()):
        rescue = offline_solution(state, ctx, rec)
        if rescue is not None:
            candidates = [rescue]
            fallback = {"fallback": "the model produced no runnable solution; the offline engineer wrote this one"}
            ctx = replace(ctx, model=OFFLINE, role_models="")
            rec.count("offline_fallbacks")
    decision = review(ctx, {"kind": "submission", "candidates": [
        {"name": c["name"], "score": c["score"]} for c in candidates]})
    if decision["action"] == "skip":
        return rec.update(detail="skipped by the reviewer", error="the reviewer skipped the submission")
    if decision["action"] == "edit":  # the reviewer picked which solution to submit
        chosen = [c for c in candidates if c["name"] == decision.get("candidate")]
        candidates = chosen + [c for c in candidates if c not in chosen]
    for i, best in enumerate(candidates):
        prompt = prompts.SUBMISSION.format(code=best["code"], score=best["score"], **task_prompt_fields(task, ctx))
        try:
            code = ask(ctx, rec, "submission", prompt, {"task": public_task(task), "code": best["code"]}, extract_code)
        except ReplyError as exc:
            errors.append(f"{best['name']}: {exc}")
            continue
        result = run_checked(ctx, rec, state, code, "final" if i == 0 else f"final_{i}", kind="submission")
        produced = Path(result["workdir"]) / "final" / "submission.csv" if result["workdir"] else None
        try:
            if not result["ok"] or produced is None:
                raise InvalidSubmission(result["error"].strip().splitlines()[-1] if result["error"].strip() else "failed")
            validate_submission(produced, Path(task["data_dir"]) / task["sample_submission"], task["id_column"])
        except InvalidSubmission as exc:
            errors.append(f"{best['name']}: {exc}")
            continue
        final_dir = run_dir / "final"
        final_dir.mkdir(exist_ok=True)
        shutil.copyfile(produced, final_dir / "submission.csv")
        (final_dir / "solution.py").write_text(result["code"])
        rec.count("submissions")
        return rec.update(score=result["score"], detail=f"from {best['name']}", best=best | {"final_score": result["score"]},
                          **fallback,
                          submission_path=str(final_dir / "submission.csv"), solution_path=str(final_dir / "solution.py"),
                          best_score=best["score"])
    return rec.update(detail="no valid submission", error="no valid submission: " + "; ".join(errors) if errors
                      else "no solution ran successfully, so there is nothing to submit")
