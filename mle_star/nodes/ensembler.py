"""Ensemble (step 6): over R rounds the ensemble planner proposes a plan (seeing every
earlier plan and score) and the ensembler implements it; the best round is kept."""

from __future__ import annotations

import shutil
from pathlib import Path

from langgraph.runtime import Runtime

from mle_star import journal
from mle_star.config import Context
from mle_star.journal import attempt
from mle_star.nodes.ask import ask, settings
from mle_star.nodes.run_debug import not_run, run_checked
from mle_star.prompts.roles import (
    ENSEMBLE_PLANNER,
    ENSEMBLER,
    EnsemblePlannerInputs,
    EnsemblerInputs,
)
from mle_star.state import Attempt, MLEStarState, PlanScore
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError
from mle_star.tools.scoring.judge import TEST, VALID
from mle_star.tools.scoring.metrics import metric_of


def members(state: MLEStarState) -> list[Attempt]:
    """Each path's final solution, in path order."""
    finals = [journal.get(state["journal"], name) for name in state.get("finals", [])]
    return sorted(finals, key=lambda a: a["path_id"] or 0)


def saved_predictions(run_dir: str, finals: list[Attempt]) -> str:
    """A folder holding each member's saved predictions (member_<i>/), for the ensemble script to
    blend without retraining; "" when a member saved none. Copied once: the files are small."""
    folder = Path(run_dir) / "data" / "members"
    for i, member in enumerate(finals):
        outputs = Path(member["workdir"]) / "outputs"
        target = folder / f"member_{i}"
        if not (outputs / VALID).is_file() and not (outputs / TEST).is_file():
            return ""
        if (target / ".from").is_file() and (target / ".from").read_text() == member["name"]:
            continue
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(outputs, target)
        (target / ".from").write_text(member["name"])
    return str(folder)


def ensemble_history(state: MLEStarState) -> list[PlanScore]:
    return [PlanScore(plan=a["plan"], score=a["score"] if a["ok"] else None)
            for a in journal.of_kind(state.get("journal", []), "ensemble")]


def gather_solutions(state: MLEStarState) -> dict:
    """Fan-in of the L solution paths: one record of what each path ended with."""
    rec = Recorder("gather_solutions")
    finals = members(state)
    scores = ", ".join(f"path {a['path_id']}: {a['score']}" for a in finals)
    best = metric_of(state["run"]["task"]).best_of(finals)
    return rec.update(score=best["score"] if best else None, detail=scores or "no path produced a solution")


def ensemble_planner(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["run"]["task"]
    rec = Recorder("ensemble_planner")
    inputs = EnsemblePlannerInputs(task=task, settings=settings(ctx), scores=[a["score"] for a in members(state)],
                                   history=ensemble_history(state))
    try:
        plan = ask(ctx, rec, ENSEMBLE_PLANNER, inputs)
    except ReplyError:
        plan = "Average the solutions' validation predictions with equal weights."
    return rec.update(detail=plan, ensemble_plan=plan)


def ensembler(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["run"]["task"]
    r = state.get("ensemble_round", 0)
    rec = Recorder("ensembler", round=r)
    rec.count("ensemble_rounds")
    finals = members(state)
    plan = state["ensemble_plan"]
    name = f"ensemble_r{r}"
    saved = saved_predictions(state["run"]["run_dir"], finals)
    inputs = EnsemblerInputs(task=task, settings=settings(ctx), solutions=[a["code"] for a in finals],
                             scores=[a["score"] for a in finals], plan=plan,
                             member_dirs=[f"members/member_{i}" for i in range(len(finals))] if saved else [])
    try:
        code = ask(ctx, rec, ENSEMBLER, inputs)
        draft = attempt(name, "ensemble", code=code, plan=plan, round=r,
                        parent=finals[0]["name"] if finals else None)
        result, attempts = run_checked(ctx, rec, state, draft, extra_inputs={"members": saved} if saved else None)
    except ReplyError as exc:
        result = not_run(name, "ensemble", str(exc), plan=plan, round=r)
        attempts = [result]
    return rec.update(score=result["score"], detail=f"round {r}: {plan}", ensemble_round=r + 1, journal=attempts)
