"""mle-star: the MLE-STAR machine-learning engineering agent as a LangGraph state machine.

    from mle_star import Context, build_graph   # uncompiled graph, for embedding
    from mle_star.graph import graph            # compiled graph (what langgraph.json serves)
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Context", "build_graph"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:  # lazy: `mle-star --help` should not import LangGraph
    if name == "Context":
        return importlib.import_module("mle_star.config").Context
    if name == "build_graph":
        return importlib.import_module("mle_star.graph.builder").build_graph
    raise AttributeError(name)
