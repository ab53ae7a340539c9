"""Data-usage checker (step 4, once per path on s0): does the solution use all provided
information? A revised script replaces s0 if it runs and scores at least as well."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import journal
from mle_star.config import Context
from mle_star.journal import attempt
from mle_star.nodes.ask import ask, settings
from mle_star.nodes.run_debug import run_checked
from mle_star.prompts.roles import DATA_USAGE_CHECKER, DataUsageInputs
from mle_star.state import PathState
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError
from mle_star.tools.scoring.metrics import metric_of


def data_usage_checker(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task, path = runtime.context, state["run"]["task"], state["path_id"]
    best = journal.get(state["journal"], state["best"])
    rec = Recorder("data_usage_checker", path)
    try:
        revised = ask(ctx, rec, DATA_USAGE_CHECKER, DataUsageInputs(task=task, settings=settings(ctx, path),
                                                                    code=best["code"]))
    except ReplyError as exc:
        return rec.update(score=best["score"], detail=f"reply unusable: {exc}")
    if revised is None:
        return rec.update(score=best["score"], detail="all the provided information is used")
    if revised.strip() == best["code"].strip():
        return rec.update(score=best["score"], detail="some files are unused but cannot be used; kept s0")
    candidate, attempts = run_checked(ctx, rec, state, attempt(f"path{path}/data_usage", "data_usage", code=revised,
                                                               parent=best["name"],
                                                               plan="use all the provided information"))
    if candidate["ok"] and metric_of(task).better(candidate["score"], best["score"], strict=False):
        rec.count("data_usage_revisions")
        return rec.update(score=candidate["score"], detail="revised to use more data", best=candidate["name"],
                          journal=attempts)
    return rec.update(score=best["score"], detail="revision did not run or scored worse; kept s0", journal=attempts)
