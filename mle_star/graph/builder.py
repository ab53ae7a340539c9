"""The whole MLE-STAR graph in one place.

Top level:   prepare -> Send x L -> solution_path -> ensemble (R rounds) -> submission -> finalize
One path:    retriever -> Send x M -> init_coder -> rank_candidates -> merger (loop, break rule)
             -> data_usage_checker -> [outer_step] x T -> path_result
Outer step:  ablation -> ablation_summarizer -> extractor
             -> [refiner_coder -> refiner_planner] x K -> accept_refinement   (Algorithm 2)
Every script runs through the run_and_debug subgraph (leakage check, execute, debug). The
routers (conditional edges) and the time budget are in ``mle_star.graph.routers``.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from mle_star.config import Context
from mle_star.graph.routers import (
    after_extractor,
    after_refiner_coder,
    fan_out_candidates,
    fan_out_paths,
    merge_next,
    start_ensemble_round,
    start_outer_step,
)
from mle_star.nodes.ablation import ablation_coder, ablation_summarizer
from mle_star.nodes.data_usage import data_usage_checker
from mle_star.nodes.ensembler import ensemble_planner, ensembler, gather_solutions
from mle_star.nodes.extractor import extractor
from mle_star.nodes.finalize import finalize
from mle_star.nodes.init_coder import init_coder
from mle_star.nodes.merger import merger, rank_candidates
from mle_star.nodes.prepare import prepare
from mle_star.nodes.refiner import accept_refinement, path_result, refiner_coder, refiner_planner
from mle_star.nodes.retriever import retriever
from mle_star.nodes.submission import submission
from mle_star.state import (
    MLEStarInput,
    MLEStarOutput,
    MLEStarState,
    OuterStepInput,
    OuterStepOutput,
    OuterStepState,
    PathInput,
    PathOutput,
    PathState,
)


def build_outer_step() -> StateGraph[OuterStepState, Context, OuterStepInput, OuterStepOutput]:
    """One outer step t (Algorithm 2): ablate s_t, summarise, extract c_t, refine it K times,
    keep the best. It owns the inner counter k; the path owns t."""
    g = StateGraph(OuterStepState, context_schema=Context, input_schema=OuterStepInput,
                   output_schema=OuterStepOutput)
    g.add_node("ablation", ablation_coder)
    g.add_node("ablation_summarizer", ablation_summarizer)
    g.add_node("extractor", extractor)
    g.add_node("refiner_coder", refiner_coder)
    g.add_node("refiner_planner", refiner_planner)
    g.add_node("accept_refinement", accept_refinement)

    g.add_edge(START, "ablation")
    g.add_edge("ablation", "ablation_summarizer")
    g.add_edge("ablation_summarizer", "extractor")
    g.add_conditional_edges("extractor", after_extractor)
    g.add_conditional_edges("refiner_coder", after_refiner_coder)
    g.add_edge("refiner_planner", "refiner_coder")
    g.add_edge("accept_refinement", END)
    return g


def build_solution_path() -> StateGraph[PathState, Context, PathInput, PathOutput]:
    g = StateGraph(PathState, context_schema=Context, input_schema=PathInput, output_schema=PathOutput)
    g.add_node("retriever", retriever)
    g.add_node("init_coder", init_coder)
    g.add_node("rank_candidates", rank_candidates)
    g.add_node("merger", merger)
    g.add_node("data_usage_checker", data_usage_checker)
    g.add_node("outer_step", build_outer_step().compile(name="outer_step"))
    g.add_node("path_result", path_result)

    g.add_edge(START, "retriever")
    g.add_conditional_edges("retriever", fan_out_candidates, ["init_coder"])
    g.add_edge("init_coder", "rank_candidates")
    g.add_conditional_edges("rank_candidates", merge_next)
    g.add_conditional_edges("merger", merge_next)
    g.add_conditional_edges("data_usage_checker", start_outer_step)
    g.add_conditional_edges("outer_step", start_outer_step)
    g.add_edge("path_result", END)
    return g


def build_graph() -> StateGraph[MLEStarState, Context, MLEStarInput, MLEStarOutput]:
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
    g.add_conditional_edges("gather_solutions", start_ensemble_round)
    g.add_edge("ensemble_planner", "ensembler")
    g.add_conditional_edges("ensembler", start_ensemble_round)
    g.add_edge("submission", "finalize")
    g.add_edge("finalize", END)
    return g
