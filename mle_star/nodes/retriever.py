"""Retriever (step 1): search the web (or the offline catalogue) and propose M candidate
models, each with example code."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.nodes.ask import ask, settings
from mle_star.prompts.roles import RETRIEVER, ModelCard, RetrieverInputs
from mle_star.state import PathState, Task
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError
from mle_star.tools.model.search import search_models

MODALITY_WORDS = {"tabular": "tabular numeric categorical", "text": "text nlp documents tf-idf tabular",
                  "json": "json records text nlp tf-idf", "image": "image vision cnn pixels",
                  "audio": "audio sound spectrogram signal", "other": ""}


def search_query(task: Task) -> str:
    """What to search for: the kind of problem, the data and the metric, in model-card words."""
    kind = task["task_type"].replace("_", " ")
    kind = kind if "regression" in kind else f"{kind} classification"
    text = " text" if task.get("text_columns") else ""
    return f"kaggle winning {kind} models {MODALITY_WORDS[task['modality']]}{text} metric {task['metric_title']}"


def retriever(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["run"]["task"]
    rec = Recorder("retriever", state["path_id"])
    workbench = task.get("workbench")
    # Cached pretrained models come first where the workbench can run them (torch is there) and
    # the task is one they are for (images, audio, text); a table's paths keep their trees.
    deep = task["modality"] != "tabular" or bool(task.get("text_columns"))
    weights = list(workbench["weights"]) if deep and workbench and workbench["packages"].get("torch") else []
    backend, results = search_models(search_query(task), weights=[dict(w) for w in weights])
    cards = [ModelCard(model_name=r["model_name"], example_code=r["example_code"]) for r in results]
    inputs = RetrieverInputs(task=task, settings=settings(ctx, state["path_id"]), search_results=cards,
                             num_candidates=ctx.num_candidates)
    try:
        candidates = ask(ctx, rec, RETRIEVER, inputs)
    except ReplyError as exc:  # the search results themselves are still good candidates
        candidates = cards[: ctx.num_candidates]
        backend += f" (model reply unusable: {exc}; took the top search results)"
    rec.count("candidates", len(candidates))
    detail = f"{backend}: " + ", ".join(c.model_name for c in candidates)
    return rec.update(detail=detail, candidates=[c.model_dump() for c in candidates])
