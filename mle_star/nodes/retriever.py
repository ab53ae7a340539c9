"""Retriever (step 1): search the web (or the offline catalogue) and propose M candidate
models, each with example code, as a JSON list."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, task_prompt_fields
from mle_star.state import PathState
from mle_star.tools.code import ReplyError, extract_json
from mle_star.tools.search import search_models


def parse_candidates(limit: int):
    def parse(text: str) -> list[dict]:
        value = extract_json(text)
        if isinstance(value, dict):
            value = value.get("models") or value.get("candidates") or [value]
        if not isinstance(value, list):
            raise ReplyError("answer with a JSON list of {model_name, example_code}")
        models = [v for v in value if isinstance(v, dict) and str(v.get("model_name", "")).strip()]
        if not models:
            raise ReplyError("the JSON list holds no entry with a model_name")
        return [{"model_name": str(m["model_name"]), "example_code": str(m.get("example_code", ""))}
                for m in models[:limit]]

    return parse


def search_query(task: dict) -> str:
    """What to search for: the kind of problem, the data and the metric, in model-card words."""
    kind = "regression" if task["task_type"] == "regression" else f"{task['task_type']} classification"
    text = " text nlp documents tf-idf" if task.get("text_columns") else ""
    return f"kaggle winning {kind} models tabular numeric categorical{text} metric {task['metric']}"


def retriever(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["task"]
    rec = Recorder("retriever", state["path_id"])
    query = search_query(task)
    backend, results = search_models(query)
    shown = "\n\n".join(f"## {r['model_name']}\n{r['example_code']}" for r in results)
    prompt = prompts.RETRIEVER.format(search_results=shown, num_candidates=ctx.num_candidates,
                                      **task_prompt_fields(task, ctx))
    try:
        candidates = ask(ctx, rec, "retriever", prompt,
                         {"task": public_task(task), "num_candidates": ctx.num_candidates,
                          "path_id": state["path_id"], "search_results": results}, parse_candidates(ctx.num_candidates))
    except ReplyError as exc:  # the search results themselves are still good candidates
        candidates = [{"model_name": r["model_name"], "example_code": r["example_code"]}
                      for r in results[: ctx.num_candidates]]
        backend += f" (model reply unusable: {exc}; took the top search results)"
    rec.count("candidates", len(candidates))
    detail = f"{backend}: " + ", ".join(c["model_name"] for c in candidates)
    return rec.update(detail=detail, candidates=candidates, search_backend=backend)
