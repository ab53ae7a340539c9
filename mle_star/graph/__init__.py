"""The MLE-STAR graphs: ``build_graph()`` (uncompiled) and ``graph`` (compiled, no checkpointer)."""

from mle_star.graph.builder import build_graph, build_solution_path

graph = build_graph().compile(name="mle-star")

__all__ = ["build_graph", "build_solution_path", "graph"]
