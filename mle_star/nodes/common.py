"""What every role node shares: asking the model, counting, progress events, the runner."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from mle_star import prompts
from mle_star.config import Context
from mle_star.engineer.model import PAYLOAD_KEY
from mle_star.models import chat_model, invoke, model_id
from mle_star.state import add_numbers
from mle_star.tools.code import ReplyError
from mle_star.tools.reply_cache import open_cache
from mle_star.tools.runner import ScriptRunner

T = TypeVar("T")

def emit(event: dict) -> None:
    """Send a progress event on LangGraph's custom stream (no-op outside a graph run)."""
    try:
        from langgraph.config import get_stream_writer

        get_stream_writer()(event)
    except Exception:  # noqa: BLE001 - progress must never break a run
        pass


@dataclass
class Recorder:
    """Counts, token usage and one stage record for a node invocation."""

    node: str
    path: int | None = None
    started: float = field(default_factory=time.time)
    counts: Counter = field(default_factory=Counter)
    usage: dict[str, Any] = field(default_factory=dict)
    scripts: list[str] = field(default_factory=list)  # working directories this stage ran
    findings: list[dict] = field(default_factory=list)  # leakage found (and fixed or not)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def merge(self, counts: dict | None, usage: dict | None) -> None:
        self.counts.update(counts or {})
        self.usage = add_numbers(self.usage, usage)

    def model_call(self, role: str, reply: BaseMessage, model: str) -> None:
        meta = getattr(reply, "usage_metadata", None) or {}
        entry = {"calls": 1, "input_tokens": int(meta.get("input_tokens", 0)),
                 "output_tokens": int(meta.get("output_tokens", 0))}
        self.usage = add_numbers(self.usage, entry | {"by_role": {role: entry}, "by_model": {model: entry},
                                                      "max_input_tokens": entry["input_tokens"]})
        self.count("model_calls")

    def update(self, score: float | None = None, detail: str = "", stage_extra: dict | None = None,
               **updates: Any) -> dict:
        """The node's state update: its stage record, counters and usage, plus ``updates``."""
        stage = {"node": self.node, "path": self.path, "start": round(self.started, 3),
                 "duration": round(time.time() - self.started, 3), "score": score, "detail": detail,
                 **({"scripts": self.scripts} if self.scripts else {}),
                 **({"leakage": self.findings} if self.findings else {}), **(stage_extra or {})}
        emit({"event": "stage", **stage})
        return {"stages": [stage], "counts": dict(self.counts), "usage": self.usage, **updates}


def reply_text(reply: BaseMessage) -> str:
    content = reply.content
    if isinstance(content, list):  # Gemini and others may return content parts
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def ask(ctx: Context, rec: Recorder, role: str, prompt: str, payload: dict, parse: Callable[[str], T]) -> T:
    """Ask the role's model; parse the reply; re-ask (bounded) with the parse error if unusable."""
    model = chat_model(ctx, role)
    data = {"path_id": rec.path} | payload | {"role": role, "seed": ctx.seed, "subsample": ctx.subsample_rows,
                      "timeout": ctx.script_timeout}
    messages: list[BaseMessage] = [SystemMessage(prompts.SYSTEM),
                                   HumanMessage(prompt, additional_kwargs={PAYLOAD_KEY: data})]
    error: ReplyError | None = None
    name = model_id(ctx, role) if ctx.llm is None else type(model).__name__
    cache = open_cache(ctx.cache_path) if ctx.cache_path else None
    for _ in range(ctx.parse_retries + 1):
        key = cache.key(name, role, [{"type": m.type, "content": m.content, **m.additional_kwargs}
                                     for m in messages]) if cache else ""
        text = cache.get(key) if cache else None
        if text is not None:
            rec.count("cached_model_calls")
        else:
            reply = invoke(ctx, model, messages, on_retry=lambda exc: rec.count("model_retries"))
            rec.model_call(role, reply, name)
            text = reply_text(reply)
            if cache:
                cache.put(key, text)
        try:
            return parse(text)
        except ReplyError as exc:
            error = exc
            rec.count("reasks")
            messages += [AIMessage(text), HumanMessage(prompts.REASK.format(error=exc),
                                                       additional_kwargs={PAYLOAD_KEY: data | {"reask": str(exc)}})]
    raise ReplyError(f"{role}: {error}")


def runner(ctx: Context, run_dir: str, task: dict) -> ScriptRunner:
    return ScriptRunner(run_dir, task["data_dir"], timeout=ctx.script_timeout, max_parallel=ctx.max_parallel,
                        memory_gb=ctx.script_memory_gb)


def time_left(state: dict) -> float:
    return float(state.get("deadline", float("inf"))) - time.time()


def review(ctx: Context, request: dict) -> dict:
    """Human in the loop: pause the run with ``request`` when reviewing, return the decision.

    The person answers {"action": "accept"}, {"action": "edit", ...} or {"action": "skip"};
    without review (or with an unreadable answer) the decision is "accept".
    """
    if ctx.review != "plans":
        return {"action": "accept"}
    from langgraph.types import interrupt

    decision = interrupt(request)
    if isinstance(decision, str):
        decision = {"action": decision}
    if not isinstance(decision, dict) or decision.get("action") not in ("accept", "edit", "skip"):
        return {"action": "accept"}
    return decision


def search_time_left(state: dict, ctx: Context) -> bool:
    """May a search loop take another step? Only if, after it, there is still time for the
    ensemble and the final run (sized from how long the current best solution takes)."""
    duration = float((state.get("best") or {}).get("duration") or 0.0)
    reserve = 0.1 * ctx.time_limit + (2 * ctx.parallel_solutions + 2) * duration
    return time_left(state) > reserve + duration


def ensemble_time_left(state: dict, ctx: Context) -> bool:
    """Another ensemble round retrains every member; the final ensemble does so twice."""
    members = sum(float(s.get("duration") or 0.0) for s in state.get("solutions", []))
    return time_left(state) > 3 * members + 0.02 * ctx.time_limit


def task_prompt_fields(task: dict, ctx: Context | None = None) -> dict:
    """Fields every prompt shares, bounded so a long description cannot flood a prompt."""
    description = task["description"]
    if len(description) > 6000:
        description = description[:6000] + "\n... (description truncated)"
    return {
        "description": description,
        "data_files": ", ".join(task["data_files"]),
        "metric": task["metric"],
        "direction": "lower" if task["lower_is_better"] else "higher",
        "subsample": ctx.subsample_rows if ctx else 30000,
        "preview": task.get("preview", ""),
        "test_file": task["test_file"],
        "sample_submission": task["sample_submission"],
        "columns": ", ".join([task["id_column"], *task["target_columns"]]),
    }


def public_task(task: dict) -> dict:
    """Task facts for a model payload (the description travels in the prompt)."""
    return {k: v for k, v in task.items() if k not in ("description", "preview")}
