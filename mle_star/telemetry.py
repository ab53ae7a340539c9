"""What a run records about itself: per-node stage records, counters, token usage, and
progress events on LangGraph's custom stream (the CLI and Studio show them)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage

from mle_star.state import add_numbers
from mle_star.steps import STEP


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
    t: int | None = None  # loop coordinates, typed for the views: outer step,
    k: int | None = None  # inner step,
    round: int | None = None  # ensemble round
    started: float = field(default_factory=time.time)
    counts: Counter = field(default_factory=Counter)
    usage: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)  # seconds in scripts and model calls
    scripts: list[str] = field(default_factory=list)  # journal names of the attempts this stage ran
    findings: list[dict] = field(default_factory=list)  # leakage found (and fixed or not)

    def __post_init__(self) -> None:
        if self.node not in STEP:
            raise ValueError(f"'{self.node}' is not a step of mle_star.steps.STEPS")

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def merge(self, counts: dict | None, usage: dict | None, timing: dict | None = None) -> None:
        self.counts.update(counts or {})
        self.usage = add_numbers(self.usage, usage)
        self.timing = add_numbers(self.timing, timing)

    def spent(self, what: str, seconds: float) -> None:
        """Seconds spent in ``what`` ("scripts", "model_calls"): where the run's wall time went."""
        self.timing = add_numbers(self.timing, {what: round(seconds, 3)})

    def model_call(self, role: str, reply: BaseMessage, model: str) -> None:
        meta = getattr(reply, "usage_metadata", None) or {}
        estimated = bool((getattr(reply, "response_metadata", None) or {}).get("estimated_usage"))
        entry = {"calls": 1, "input_tokens": int(meta.get("input_tokens", 0)),
                 "output_tokens": int(meta.get("output_tokens", 0)), "estimated_calls": int(estimated)}
        self.usage = add_numbers(self.usage, entry | {"by_role": {role: entry}, "by_model": {model: entry},
                                                      "max_input_tokens": entry["input_tokens"]})
        self.count("model_calls")

    def update(self, score: float | None = None, detail: str = "", stage_extra: dict | None = None,
               **updates: Any) -> dict:
        """The node's state update: its stage record, counters and usage, plus ``updates``."""
        at = {key: value for key, value in (("t", self.t), ("k", self.k), ("round", self.round)) if value is not None}
        stage = {"node": self.node, "path": self.path, **at, "start": round(self.started, 3),
                 "duration": round(time.time() - self.started, 3), "score": score, "detail": detail,
                 **({"scripts": self.scripts} if self.scripts else {}),
                 **({"leakage": self.findings} if self.findings else {}), **(stage_extra or {})}
        emit({"event": "stage", **stage})
        return {"stages": [stage], "counts": dict(self.counts), "usage": self.usage, "timing": self.timing,
                **updates}
