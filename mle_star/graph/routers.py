"""The conditional edges: the merge break, the T outer and K inner loops, the R ensemble
rounds, and the fan-outs. Beside them, the time budget that can end a loop early."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Send

from mle_star import journal
from mle_star.config import Context
from mle_star.state import MLEStarState, PathState

# -- the time budget -------------------------------------------------------------------------


def time_left(state: Mapping[str, Any]) -> float:
    return float(state.get("deadline", float("inf"))) - time.time()


def search_time_left(state: PathState, ctx: Context) -> bool:
    """May a search loop take another step? Only if, after it, there is still time for the
    ensemble and the final run (sized from how long the current best solution takes)."""
    best = journal.find(state.get("journal", []), state.get("best"))
    duration = float(best["duration"]) if best else 0.0
    reserve = 0.1 * ctx.time_limit + (2 * ctx.parallel_solutions + 2) * duration
    return time_left(state) > reserve + duration


def ensemble_time_left(state: MLEStarState, ctx: Context) -> bool:
    """Another ensemble round retrains every member; the final ensemble does so twice."""
    finals = [journal.find(state.get("journal", []), n) for n in state.get("finals", [])]
    members = sum(float(a["duration"]) for a in finals if a)
    return time_left(state) > 3 * members + 0.02 * ctx.time_limit


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
    ctx = runtime.context
    if state.get("outer_step", 0) < ctx.outer_loops and search_time_left(state, ctx):
        return "ablation"
    return "path_result"


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
