"""The conditional edges: the merge break, the T outer and K inner loops, the R ensemble
rounds, and the fan-outs. Beside them, the time budget that can end a loop early."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Send

from mle_star import journal
from mle_star.config import Context
from mle_star.state import MLEStarState, PathState
from mle_star.tools.executor import final_workers
from mle_star.tools.judge import INNER

# -- the time budget -------------------------------------------------------------------------


def time_left(state: Mapping[str, Any]) -> float:
    return float(state.get("deadline", float("inf"))) - time.time()


ABLATION_RUNS = 4  # an ablation study runs the solution and about three variants


def solution_seconds(state: Mapping[str, Any]) -> float:
    """How long the path's current solution took to run (measured)."""
    best = journal.find(state.get("journal", []), state.get("best"))
    return float(best["duration"]) if best else 0.0


def final_seconds(task: Mapping[str, Any], ctx: Context, duration: float) -> float:
    """The final script's time: the searched solution's, scaled to every labelled row (the
    search subsampled them), for two fits (one for its validation score, one on every row) per
    ensemble member when an ensemble may win, ``final_workers`` fits at a time."""
    used = max(1, min(task.get("n_train") or 1, ctx.subsample_rows))
    scale = max(1.0, ((task.get("n_train") or 0) + (task.get("n_holdout") or 0)) / used)
    fits = 2 * (ctx.parallel_solutions if ctx.ensemble_rounds > 0 else 1)
    return duration * scale * fits / min(fits, final_workers(ctx))


BLEND_SECONDS = 3.0  # an ensemble round that blends saved predictions (measured: 0.3 to 1.5 s)


def saved_inner_predictions(state: Mapping[str, Any]) -> bool:
    """Did the path's current solution save its internal-validation predictions? Then an
    ensemble round blends them in seconds instead of running every member again."""
    best = journal.find(state.get("journal", []), state.get("best"))
    return bool(best and best["workdir"] and (Path(best["workdir"]) / "outputs" / INNER).is_file())


def reserve_seconds(state: Mapping[str, Any], ctx: Context, duration: float, rounds: int | None = None) -> float:
    """Time kept for the final script and ``rounds`` ensemble rounds (default: up to two; more
    rounds run only if time is left), from measured durations, plus a small margin."""
    done = [a["duration"] for a in journal.of_kind(state.get("journal", []), "ensemble") if a["workdir"]]
    # until one ran: a blend of saved predictions, else about one solution run
    per_round = max(done) if done else BLEND_SECONDS if saved_inner_predictions(state) else max(3.0, duration)
    rounds = min(ctx.ensemble_rounds, 2) if rounds is None else rounds
    return final_seconds(state["task"], ctx, duration) + rounds * per_round + 0.02 * ctx.time_limit + 3.0


def search_time_left(state: PathState, ctx: Context, runs: float = 1.0, rounds: int | None = None) -> bool:
    """May a search loop take another step of about ``runs`` solution runs? Only if, after it,
    the reserve for the ensemble and the final script is still there."""
    duration = solution_seconds(state)
    return time_left(state) > reserve_seconds(state, ctx, duration, rounds) + runs * duration


def ensemble_time_left(state: MLEStarState, ctx: Context) -> bool:
    """Another ensemble round (it blends saved predictions), and still time for the final script."""
    finals = [journal.find(state.get("journal", []), n) for n in state.get("finals", [])]
    duration = max((float(a["duration"]) for a in finals if a), default=0.0)
    rounds = [a["duration"] for a in journal.of_kind(state.get("journal", []), "ensemble") if a["workdir"]]
    per_round = max(rounds) if rounds else max(3.0, duration)
    return time_left(state) > final_seconds(state["task"], ctx, duration) + per_round + 5.0


# -- one solution path -----------------------------------------------------------------------

def fan_out_candidates(state: PathState) -> list[Send]:
    keep = {k: state[k] for k in ("path_id", "task", "run_dir", "deadline")}
    return [Send("init_coder", keep | {"index": i, "candidate": c}) for i, c in enumerate(state["candidates"])]


def merge_next(state: PathState, runtime: Runtime[Context]
               ) -> Literal["merger", "data_usage_checker", "ablation", "path_result"]:
    """After ranking and after each merge: merge the next candidate, or go on to step 4/5."""
    if not state.get("best"):
        return "path_result"
    if not state.get("merge_done") and search_time_left(state, runtime.context):
        return "merger"
    if runtime.context.check_data_usage:
        return "data_usage_checker"
    return start_outer_step(state, runtime)


def start_outer_step(state: PathState, runtime: Runtime[Context]) -> Literal["ablation", "path_result"]:
    """The next outer step: T of them, or more while the time limit leaves room (spare_time);
    the first one needs only time for its ablation and one refinement, so short limits get one."""
    ctx, t = runtime.context, state.get("outer_step", 0)
    if ctx.outer_loops == 0 or (t >= ctx.outer_loops and not ctx.spare_time):
        return "path_result"
    if t == 0:  # the first step is what the search is for: keep only the final script's time for it
        return "ablation" if search_time_left(state, ctx, runs=ABLATION_RUNS, rounds=0) else "path_result"
    return "ablation" if search_time_left(state, ctx, runs=ABLATION_RUNS + 1) else "path_result"


def after_extractor(state: PathState, runtime: Runtime[Context]) -> Literal["refiner_coder", "accept_refinement"]:
    return "refiner_coder" if state.get("code_block") and runtime.context.inner_loops > 0 else "accept_refinement"


def after_refiner_coder(state: PathState, runtime: Runtime[Context]
                        ) -> Literal["refiner_planner", "accept_refinement"]:
    ctx = runtime.context
    if state.get("inner_step", 0) < ctx.inner_loops and search_time_left(state, ctx):
        return "refiner_planner"
    return "accept_refinement"


# -- the whole run ---------------------------------------------------------------------------

def fan_out_paths(state: MLEStarState, runtime: Runtime[Context]) -> list[Send]:
    base = {"task": state["task"], "run_dir": state["run_dir"], "deadline": state["deadline"]}
    return [Send("solution_path", base | {"path_id": i}) for i in range(runtime.context.parallel_solutions)]


def start_ensemble_round(state: MLEStarState, runtime: Runtime[Context]) -> Literal["ensemble_planner", "submission"]:
    ctx = runtime.context
    finals = [journal.find(state.get("journal", []), n) for n in state.get("finals", [])]
    enough = len([a for a in finals if a and a["ok"]]) >= 2
    if enough and state.get("ensemble_round", 0) < ctx.ensemble_rounds and ensemble_time_left(state, ctx):
        return "ensemble_planner"
    return "submission"
