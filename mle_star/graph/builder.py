"""The whole MLE-STAR graph in one place.

Top level:   prepare -> Send x L -> solution_path -> ensemble (R rounds) -> submission -> finalize
One path:    retriever -> Send x M -> init_coder -> merger (loop, break rule) -> data_usage_checker
             -> [ablation -> ablation_summarizer -> extractor
                 -> [refiner_coder -> refiner_planner] x K -> accept_refinement] x T -> path_result
Every script runs through the run_and_debug subgraph (leakage check, execute, debug).
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from mle_star.config import Context
from mle_star.nodes.ablation import ablation_coder, ablation_summarizer
from mle_star.nodes.common import ensemble_time_left, search_time_left
from mle_star.nodes.data_usage import data_usage_checker
from mle_star.nodes.ensembler import ensemble_planner, ensembler, gather_solutions
from mle_star.nodes.extractor import extractor
from mle_star.nodes.finalize import finalize
from mle_star.nodes.init_coder import init_coder
from mle_star.nodes.merger import merger
from mle_star.nodes.prepare import prepare
from mle_star.nodes.refiner import accept_refinement, path_result, refiner_coder, refiner_planner
from mle_star.nodes.retriever import retriever
from mle_star.nodes.submission import submission
from mle_star.state import (
    MLEStarInput,
    MLEStarOutput,
    MLEStarState,
    PathInput,
    PathOutput,
    PathState,
)

# -- one solution path ---------------------------------------------------------------------------

def fan_out_candidates(state: PathState) -> list[Send]:
    keep = {k: state[k] for k in ("path_id", "task", "run_dir", "deadline")}
    return [Send("init_coder", keep | {"index": i, "candidate": c}) for i, c in enumerate(state["candidates"])]


def after_merger(state: PathState, runtime: Runtime[Context]) -> str:
    if not state.get("best"):
        return "path_result"
    if not state.get("merge_done"):
        return "merger"
    if runtime.context.check_data_usage:
        return "data_usage_checker"
    return start_outer_step(state, runtime)


def start_outer_step(state: PathState, runtime: Runtime[Context]) -> str:
    ctx = runtime.context
    if state.get("outer_step", 0) < ctx.outer_loops and search_time_left(state, ctx):
        return "ablation"
    return "path_result"


def after_extractor(state: PathState, runtime: Runtime[Context]) -> str:
    return "refiner_coder" if state.get("code_block") and runtime.context.inner_loops > 0 else "accept_refinement"


def after_refiner_coder(state: PathState, runtime: Runtime[Context]) -> str:
    ctx = runtime.context
    if state.get("inner_step", 0) < ctx.inner_loops and search_time_left(state, ctx):
        return "refiner_planner"
    return "accept_refinement"


def build_solution_path() -> StateGraph:
    g = StateGraph(PathState, context_schema=Context, input_schema=PathInput, output_schema=PathOutput)
    g.add_node("retriever", retriever)
    g.add_node("init_coder", init_coder)
    g.add_node("merger", merger)
    g.add_node("data_usage_checker", data_usage_checker)
    g.add_node("ablation", ablation_coder)
    g.add_node("ablation_summarizer", ablation_summarizer)
    g.add_node("extractor", extractor)
    g.add_node("refiner_coder", refiner_coder)
    g.add_node("refiner_planner", refiner_planner)
    g.add_node("accept_refinement", accept_refinement)
    g.add_node("path_result", path_result)

    g.add_edge(START, "retriever")
    g.add_conditional_edges("retriever", fan_out_candidates, ["init_coder"])
    g.add_edge("init_coder", "merger")
    g.add_conditional_edges("merger", after_merger, ["merger", "data_usage_checker", "ablation", "path_result"])
    g.add_conditional_edges("data_usage_checker", start_outer_step, ["ablation", "path_result"])
    g.add_edge("ablation", "ablation_summarizer")
    g.add_edge("ablation_summarizer", "extractor")
    g.add_conditional_edges("extractor", after_extractor, ["refiner_coder", "accept_refinement"])
    g.add_conditional_edges("refiner_coder", after_refiner_coder, ["refiner_planner", "accept_refinement"])
    g.add_edge("refiner_planner", "refiner_coder")
    g.add_conditional_edges("accept_refinement", start_outer_step, ["ablation", "path_result"])
    g.add_edge("path_result", END)
    return g


# -- the whole run -------------------------------------------------------------------------------

def fan_out_paths(state: MLEStarState, runtime: Runtime[Context]) -> list[Send]:
    base = {"task": state["task"], "run_dir": state["run_dir"], "deadline": state["deadline"]}
    return [Send("solution_path", base | {"path_id": i}) for i in range(runtime.context.parallel_solutions)]


def start_ensemble_round(state: MLEStarState, runtime: Runtime[Context]) -> str:
    ctx = runtime.context
    enough = len([s for s in state.get("solutions", []) if s.get("ok")]) >= 2
    if enough and state.get("ensemble_round", 0) < ctx.ensemble_rounds and ensemble_time_left(state, ctx):
        return "ensemble_planner"
    return "submission"


def build_graph() -> StateGraph:
    """The uncompiled MLE-STAR graph, for compiling with a checkpointer or embedding."""
    g = StateGraph(MLEStarState, context_schema=Context, input_schema=MLEStarInput, output_schema=MLEStarOutput)
    g.add_node("prepare", prepare)
    g.add_node("solution_path", build_solution_path().compile(name="solution_path"))
    g.add_node("gather_solutions", gather_solutions)
    g.add_node("ensemble_planner", ensemble_planner)
    g.add_node("ensembler", ensembler)
    g.add_node("submission", submission)
    g.add_node("finalize", finalize)

    g.add_edge(START, "prepare")
    g.add_conditional_edges("prepare", fan_out_paths, ["solution_path"])
    g.add_edge("solution_path", "gather_solutions")
    g.add_conditional_edges("gather_solutions", start_ensemble_round, ["ensemble_planner", "submission"])
    g.add_edge("ensemble_planner", "ensembler")
    g.add_conditional_edges("ensembler", start_ensemble_round, ["ensemble_planner", "submission"])
    g.add_edge("submission", "finalize")
    g.add_edge("finalize", END)
    return g
