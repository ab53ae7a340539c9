"""Ablation (step 5, outer loop): the ablation coder writes a study of 2-3 parts of s_t,
it is run, and the summarizer turns its output into a short summary for the extractor."""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime

from mle_star import journal
from mle_star.config import Context
from mle_star.journal import attempt
from mle_star.nodes.ask import ask, settings
from mle_star.nodes.run_debug import not_run, run_checked
from mle_star.prompts.roles import (
    ABLATION,
    ABLATION_SUMMARIZER,
    AblationInputs,
    AblationSummaryInputs,
)
from mle_star.state import OuterStepState
from mle_star.telemetry import Recorder
from mle_star.tools.execution.script_files import bounded
from mle_star.tools.model.code import ReplyError


def ablation_coder(state: OuterStepState, runtime: Runtime[Context]) -> dict:
    ctx, task, path = runtime.context, state["run"]["task"], state["path_id"]
    best = journal.get(state["journal"], state["best"])
    t = state.get("outer_step", 0)
    rec = Recorder("ablation", path, t=t)
    name = f"path{path}/t{t}_ablation"
    inputs = AblationInputs(task=task, settings=settings(ctx, path), code=best["code"], score=best["score"],
                            previous_summaries=state.get("ablation_summaries", []),
                            refined_blocks=state.get("refined_blocks", []))
    try:
        code = ask(ctx, rec, ABLATION, inputs)
    except ReplyError as exc:
        return rec.update(detail=f"reply unusable: {exc}", ablation_output="", ablation_code="",
                          journal=[not_run(name, "ablation", str(exc), path_id=path, parent=best["name"],
                                           t=t)])
    result, attempts = run_checked(ctx, rec, state, attempt(name, "ablation", code=code, parent=best["name"],
                                                            t=t))
    rec.count("ablations")
    output = _stdout(result["workdir"])
    if not result["ok"]:
        output += "\n" + result["error"]
    return rec.update(score=result["score"], detail=f"outer step {t}", ablation_output=bounded(output, 4000),
                      ablation_code=result["code"], journal=attempts)


def _stdout(workdir: str) -> str:
    path = Path(workdir) / "stdout.txt" if workdir else None
    return path.read_text(errors="replace") if path and path.exists() else ""


def ablation_summarizer(state: OuterStepState, runtime: Runtime[Context]) -> dict:
    ctx, task, path = runtime.context, state["run"]["task"], state["path_id"]
    rec = Recorder("ablation_summarizer", path)
    inputs = AblationSummaryInputs(task=task, settings=settings(ctx, path),
                                   code=bounded(state.get("ablation_code", ""), 6000),
                                   output=state.get("ablation_output", ""))
    try:
        summary = ask(ctx, rec, ABLATION_SUMMARIZER, inputs).strip()
    except ReplyError:
        summary = "The ablation study produced no usable summary."
    return rec.update(detail=summary, ablation_summaries=[*state.get("ablation_summaries", []), summary])
