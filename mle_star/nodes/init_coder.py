"""Initial coder (step 2): one complete solution script per candidate model, run and scored.
Fanned out with ``Send`` so the M candidates run concurrently (bounded by the runner)."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.journal import attempt
from mle_star.nodes.ask import ask, settings
from mle_star.nodes.run_debug import not_run, run_checked
from mle_star.prompts.roles import INIT_CODER, InitCoderInputs, ModelCard
from mle_star.state import CandidateInput
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError


def init_coder(state: CandidateInput, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["run"]["task"]
    card = ModelCard.model_validate(state["candidate"])
    path = state["path_id"]
    rec = Recorder("init_coder", path)
    name = f"path{path}/init_{state['index']}"
    try:
        code = ask(ctx, rec, INIT_CODER, InitCoderInputs(task=task, settings=settings(ctx, path), candidate=card))
        solution, attempts = run_checked(ctx, rec, state, attempt(name, "candidate", code=code,
                                                                  plan=card.model_name))
    except ReplyError as exc:
        solution = not_run(name, "candidate", str(exc), path_id=path, plan=card.model_name)
        attempts = [solution]
    return rec.update(score=solution["score"], detail=card.model_name, journal=attempts)
