"""Submission (step 7): take the best solution (an ensemble unless a single one clearly beat
it), remove the subsampling, add test prediction, run it and validate ./final/submission.csv
against sample_submission.csv. If that fails, the next best solution is tried."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from langgraph.runtime import Runtime

from mle_star import journal
from mle_star.config import Context
from mle_star.journal import attempt
from mle_star.models import OFFLINE, model_id
from mle_star.nodes.ask import ask, settings
from mle_star.nodes.ensembler import members
from mle_star.nodes.review import review
from mle_star.nodes.run_debug import run_checked
from mle_star.prompts.roles import (
    INIT_CODER,
    SUBMISSION,
    InitCoderInputs,
    ModelCard,
    SubmissionInputs,
)
from mle_star.state import Attempt, MLEStarState
from mle_star.telemetry import Recorder
from mle_star.tools.execution.executor import run_data
from mle_star.tools.files import atomic_copy, atomic_write
from mle_star.tools.model.code import ReplyError
from mle_star.tools.scoring.judge import FINAL, clearly_better, sample_path
from mle_star.tools.scoring.metrics import metric_of
from mle_star.tools.scoring.prior import prior_score, write_prior


def final_candidates(state: MLEStarState, ctx: Context) -> list[Attempt]:
    """Single solutions and ensemble rounds, best first. The best ensemble round leads unless the
    best single beats it clearly (by more than ``min_gain_se`` standard errors of their held-out
    difference): a smaller gap is the held-out rows' noise, and a blend has the lower variance."""
    task = state["run"]["task"]
    metric = metric_of(task)
    singles = metric.ranked(a for a in members(state) if a["ok"])
    rounds = metric.ranked(a for a in journal.of_kind(state.get("journal", []), "ensemble") if a["ok"])
    if rounds and singles:
        single_wins, _se = clearly_better(task, run_data(state["run"]["run_dir"])["answers"], singles[0], rounds[0],
                                          ctx.min_gain_se)
        if not single_wins:
            return [rounds[0], *singles]
    return singles + rounds[:1]


def offline_solution(state: MLEStarState, ctx: Context, rec: Recorder) -> tuple[Attempt, list[Attempt]] | None:
    """A runnable solution from the offline engineer, for when the model never yielded one."""
    offline = replace(ctx, model=OFFLINE, role_models="")
    card = ModelCard(model_name="XGBoost gradient boosted trees")
    try:
        code = ask(offline, rec, INIT_CODER, InitCoderInputs(task=state["run"]["task"], settings=settings(ctx), candidate=card))
    except ReplyError:
        return None
    solution, attempts = run_checked(offline, rec, state, attempt("fallback_offline", "fallback", code=code,
                                                                  plan=card.model_name))
    return (solution, attempts) if solution["ok"] else None


def submission(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["run"]["task"]
    rec = Recorder("submission")
    run_dir = Path(state["run"]["run_dir"])
    errors: list[str] = []
    candidates = final_candidates(state, ctx)
    extra: dict = {}
    ran: list[Attempt] = []
    if not candidates and any(model_id(ctx, role) != OFFLINE for role in ("init_coder", "submission")):
        rescue = offline_solution(state, ctx, rec)
        if rescue is not None:
            candidates, ran = [rescue[0]], rescue[1]
            extra = {"fallback": "the model produced no runnable solution; the offline engineer wrote this one"}
            ctx = replace(ctx, model=OFFLINE, role_models="")
            rec.count("offline_fallbacks")
    decision = review(ctx, {"kind": "submission", "candidates": [
        {"name": c["name"], "score": c["score"]} for c in candidates]})
    if decision["action"] == "skip":
        return rec.update(detail="skipped by the reviewer", error="the reviewer skipped the submission", journal=ran)
    if decision["action"] == "edit":  # the reviewer picked which solution to submit
        chosen = [c for c in candidates if c["name"] == decision.get("candidate")]
        candidates = chosen + [c for c in candidates if c not in chosen]
    for i, best in enumerate(candidates):
        name = "final" if i == 0 else f"final_{i}"
        try:
            code = ask(ctx, rec, SUBMISSION, SubmissionInputs(task=task, settings=settings(ctx), code=best["code"],
                                                              score=best["score"]))
        except ReplyError as exc:
            errors.append(f"{best['name']}: {exc}")
            continue
        result, attempts = run_checked(ctx, rec, state, attempt(name, "submission", code=code,
                                                                parent=best["name"]))
        ran += attempts
        if not result["ok"]:  # the verdict covers running and a submission valid against the sample
            errors.append(f"{best['name']}: {result['error'].strip().splitlines()[-1] if result['error'].strip() else 'failed'}")
            continue
        final_dir = run_dir / "final"
        final_dir.mkdir(exist_ok=True)
        atomic_copy(Path(result["workdir"]) / "outputs" / FINAL, final_dir / "submission.csv")
        atomic_write(final_dir / "solution.py", result["code"])
        rec.count("submissions")
        return rec.update(score=best["score"], detail=f"from {best['name']}", submitted=best["name"], **extra,
                          submission_path=str(final_dir / "submission.csv"), solution_path=str(final_dir / "solution.py"),
                          best_score=best["score"], journal=ran)
    why = ("no script yielded a valid submission: " + "; ".join(errors) if errors
           else "no solution ran successfully")
    return rec.update(**prior_submission(state, run_dir, why), journal=ran)


def prior_submission(state: MLEStarState, run_dir: Path, why: str) -> dict:
    """The agent's own submission when no script gave one: valid, and honest that it is unsolved."""
    task = state["run"]["task"]
    data = run_data(str(run_dir))
    out = run_dir / "final" / "submission.csv"
    try:
        what = write_prior(task, data["views"], sample_path(task), out)
    except Exception as exc:  # noqa: BLE001 - even the prior failed: say so rather than submit garbage
        return {"detail": "no valid submission", "error": f"{why}; the prior submission failed too: {exc}"}
    score = prior_score(task, data["views"], data["answers"])
    note = f"{why}. final/submission.csv is {what}" + (
        f", scoring {score:.6g} on the held-out rows" if score is not None else "")
    return {"detail": "unsolved: the prior submission", "unsolved": note, "submission_path": str(out),
            "solution_path": "", "best_score": score, "score": score}
