"""The conditional edges: the merge break, the T outer steps of a path and the K inner steps
of an outer step, the R ensemble rounds, and the fan-outs. The time budget that can end a loop
early is ``mle_star.budget``."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime
from langgraph.types import Send

from mle_star import journal
from mle_star.budget import ABLATION_RUNS, ensemble_time_left, search_time_left
from mle_star.config import Context
from mle_star.state import MLEStarState, OuterStepState, PathState

# -- one solution path -----------------------------------------------------------------------


def fan_out_candidates(state: PathState) -> list[Send]:
    return [Send("init_coder", {"run": state["run"], "path_id": state["path_id"], "index": i, "candidate": c})
            for i, c in enumerate(state["candidates"])]


def merge_next(state: PathState, runtime: Runtime[Context]
               ) -> Literal["merger", "data_usage_checker", "outer_step", "path_result"]:
    """After ranking and after each merge: merge the next candidate, or go on to step 4/5."""
    if not state.get("best"):
        return "path_result"
    ctx = runtime.context
    # Merging one more candidate must leave the first outer step its time: the targeted
    # refinement is what MLE-STAR's search is for, so a short limit gets one rather than more merges.
    first_step = ABLATION_RUNS + 1 if ctx.outer_loops > 0 and ctx.inner_loops > 0 else 0
    if not state.get("merge_done") and search_time_left(state, ctx, runs=1 + first_step, rounds=0 if first_step
                                                        else None):
        return "merger"
    if runtime.context.check_data_usage:
        return "data_usage_checker"
    return start_outer_step(state, runtime)


def start_outer_step(state: PathState, runtime: Runtime[Context]) -> Literal["outer_step", "path_result"]:
    """The next outer step: T of them, or more while the time limit leaves room (spare_time);
    the first one needs only time for its ablation and one refinement, so short limits get one."""
    ctx, t = runtime.context, state.get("outer_step", 0)
    if ctx.outer_loops == 0 or (t >= ctx.outer_loops and not ctx.spare_time):
        return "path_result"
    if t == 0:  # the first step is what the search is for: keep only the final script's time for it
        return "outer_step" if search_time_left(state, ctx, runs=ABLATION_RUNS, rounds=0) else "path_result"
    return "outer_step" if search_time_left(state, ctx, runs=ABLATION_RUNS + 1) else "path_result"


# -- one outer step ------------------------------------------------------------------------------

def after_extractor(state: OuterStepState, runtime: Runtime[Context]) -> Literal["refiner_coder", "accept_refinement"]:
    return "refiner_coder" if state.get("code_block") and runtime.context.inner_loops > 0 else "accept_refinement"


def after_refiner_coder(state: OuterStepState, runtime: Runtime[Context]
                        ) -> Literal["refiner_planner", "accept_refinement"]:
    ctx = runtime.context
    if state.get("inner_step", 0) < ctx.inner_loops and search_time_left(state, ctx):
        return "refiner_planner"
    return "accept_refinement"


# -- the whole run ---------------------------------------------------------------------------

def fan_out_paths(state: MLEStarState, runtime: Runtime[Context]) -> list[Send]:
    return [Send("solution_path", {"run": state["run"], "path_id": i}) for i in range(runtime.context.parallel_solutions)]


def start_ensemble_round(state: MLEStarState, runtime: Runtime[Context]) -> Literal["ensemble_planner", "submission"]:
    ctx = runtime.context
    finals = [journal.find(state.get("journal", []), n) for n in state.get("finals", [])]
    enough = len([a for a in finals if a and a["ok"]]) >= 2
    if enough and state.get("ensemble_round", 0) < ctx.ensemble_rounds and ensemble_time_left(state, ctx):
        return "ensemble_planner"
    return "submission"
