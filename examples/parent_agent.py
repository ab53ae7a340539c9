"""A parent LangGraph agent that calls mle-star as one of its nodes.

The wrapper node maps the parent's state onto mle-star's small public input and maps the
public output back, so none of mle-star's internal keys (or their list reducers) leak into
the parent's state.

    python examples/parent_agent.py path/to/task
"""

from __future__ import annotations

import sys
from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from mle_star import Context
from mle_star.graph import graph as mle_star_graph


class ParentState(TypedDict, total=False):
    request: str  # what the user asked for
    task_dir: str  # where the task's data lives
    run_dir: str
    submission: str  # filled in by mle-star
    score: float | None
    answer: str


def plan(state: ParentState) -> dict:
    """Stand-in for the parent's own reasoning: decide that this needs an ML engineer."""
    return {"run_dir": state.get("run_dir") or "runs/from-parent"}


def solve_with_mle_star(state: ParentState, runtime: Runtime[Context]) -> dict:
    """Wrapper node: parent state -> mle-star input, mle-star output -> parent state."""
    out = mle_star_graph.invoke({"task_dir": state["task_dir"], "run_dir": state["run_dir"]},
                                context=runtime.context)
    return {"submission": out.get("submission_path", ""), "score": out.get("best_score")}


def report(state: ParentState) -> dict:
    if not state.get("submission"):
        return {"answer": "mle-star could not produce a submission."}
    return {"answer": f"Done: {state['submission']} (validation score {state['score']})."}


def build_parent() -> StateGraph:
    g = StateGraph(ParentState, context_schema=Context)
    g.add_node("plan", plan)
    g.add_node("mle_star", solve_with_mle_star)
    g.add_node("report", report)
    g.add_edge(START, "plan")
    g.add_edge("plan", "mle_star")
    g.add_edge("mle_star", "report")
    g.add_edge("report", END)
    return g


if __name__ == "__main__":
    parent = build_parent().compile()
    result = parent.invoke({"request": "build me a model", "task_dir": sys.argv[1]},
                           context=Context(num_candidates=2, outer_loops=1, inner_loops=2, ensemble_rounds=1))
    print(result["answer"])
