"""Merger (step 3): sort the candidates by score and start from the best (s0); merge the
next one in; keep the merge if it is at least as good, otherwise stop merging (the paper's
break rule). One merge per visit; a router loops back while merging goes on."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import journal
from mle_star.config import Context
from mle_star.journal import attempt
from mle_star.nodes.ask import ask, settings
from mle_star.nodes.run_debug import not_run, run_checked
from mle_star.prompts.roles import MERGER, MergerInputs
from mle_star.state import Attempt, PathState
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError
from mle_star.tools.scoring.metrics import metric_of


def ranked_candidates(state: PathState) -> list[Attempt]:
    """Runnable initial solutions, best first (stable for equal scores, by name)."""
    ok = sorted((a for a in journal.of_kind(state.get("journal", []), "candidate") if a["ok"]),
                key=lambda a: a["name"])
    return metric_of(state["run"]["task"]).ranked(ok)


def rank_candidates(state: PathState) -> dict:
    """s0 = the best initial solution."""
    rec = Recorder("rank_candidates", state["path_id"])
    order = ranked_candidates(state)
    if not order:
        return rec.update(detail="no initial solution ran", merge_done=True)
    shown = ", ".join(f"{a['name'].rsplit('/', 1)[-1]}={a['score']}" for a in order)
    return rec.update(score=order[0]["score"], detail=f"s0 = {order[0]['name']} ({shown})", best=order[0]["name"],
                      merge_index=1, merge_done=len(order) < 2)


def merger(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task, path = runtime.context, state["run"]["task"], state["path_id"]
    rec = Recorder("merger", path)
    order = ranked_candidates(state)
    index = state.get("merge_index", 1)
    best = journal.get(state["journal"], state["best"])
    other = order[index]
    inputs = MergerInputs(task=task, settings=settings(ctx, path), base_code=best["code"], base_score=best["score"],
                          candidate_code=other["code"], candidate_score=other["score"])
    name = f"path{path}/merge_{index}"
    try:
        code = ask(ctx, rec, MERGER, inputs)
    except ReplyError as exc:
        return rec.update(detail=f"merge reply unusable: {exc}", merge_done=True,
                          journal=[not_run(name, "merge", str(exc), path_id=path, parent=best["name"],
                                           plan=f"merge {other['name']}")])
    merged, attempts = run_checked(ctx, rec, state, attempt(name, "merge", code=code, parent=best["name"],
                                                            plan=f"merge {other['name']}"))
    rec.count("merges")
    done = index + 1 >= len(order)
    if merged["ok"] and metric_of(task).better(merged["score"], best["score"], strict=False):
        rec.count("merges_accepted")
        return rec.update(score=merged["score"], detail=f"merged {other['name']}: kept", best=merged["name"],
                          merge_index=index + 1, merge_done=done, journal=attempts)
    return rec.update(score=merged["score"], detail=f"merged {other['name']}: worse, stop merging",
                      merge_done=True, journal=attempts)
