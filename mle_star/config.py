"""Run configuration: the paper's knobs, time limits and model choice.

One small dataclass, in the style of the LangGraph templates: every field has a default
(the paper's, where the paper gives one), can be set from the environment as
``MLE_STAR_<FIELD>`` and is passed to the graph as its runtime context.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any


def _cpu_count() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(kw_only=True)
class Context:
    """Everything a run can be tuned with. Field docs say why each exists."""

    model: str = field(
        default="auto",
        metadata={"doc": "Chat model: 'auto' (Gemini if GOOGLE_API_KEY is set, else offline), 'offline' "
                         "(the built-in engineer) or an init_chat_model id such as 'openai:gpt-4o'."},
    )
    role_models: str = field(
        default="", metadata={"doc": "Per-role overrides 'role=model_id,...' (e.g. a cheaper summarizer)."},
    )
    model_timeout: float = field(default=300.0, metadata={"doc": "Seconds one model call may take."})
    requests_per_second: float = field(
        default=0.0, metadata={"doc": "Client-side rate limit for model calls (0 = none), shared by all roles."},
    )
    model_retries: int = field(default=5, metadata={"doc": "Retries of a model call on 429/5xx/timeouts."})
    cache_path: str = field(
        default="", metadata={"doc": "SQLite file caching model replies across runs (empty: no cache)."},
    )
    prices_file: str = field(default="", metadata={"doc": "JSON price table overriding the built-in one."})
    retry_backoff: float = field(default=2.0, metadata={"doc": "First retry delay, seconds (doubles each time)."})
    num_candidates: int = field(default=4, metadata={"doc": "M: candidate models from the retriever."})
    outer_loops: int = field(default=4, metadata={"doc": "T: ablation-guided outer refinement steps."})
    inner_loops: int = field(default=4, metadata={"doc": "K: refinement attempts per target block."})
    parallel_solutions: int = field(default=2, metadata={"doc": "L: independent solution paths."})
    ensemble_rounds: int = field(default=5, metadata={"doc": "R: ensemble plan/implement rounds."})
    debug_rounds: int = field(default=3, metadata={"doc": "N: debugger attempts after a failed run."})
    parse_retries: int = field(default=2, metadata={"doc": "Re-asks when a reply cannot be parsed."})
    time_limit: float = field(default=24 * 3600.0, metadata={"doc": "Whole-run wall time, seconds."})
    script_timeout: float = field(default=1800.0, metadata={"doc": "One script's wall time, seconds."})
    script_memory_gb: float = field(default=0.0, metadata={"doc": "Address-space cap per script (0 = none)."})
    max_parallel: int = field(
        default_factory=_cpu_count,
        metadata={"doc": "Scripts running at once; default the CPU count so scripts never fight over cores."},
    )
    subsample_rows: int = field(default=30000, metadata={"doc": "Training rows used while searching."})
    seed: int = field(default=42, metadata={"doc": "Seed for the offline engineer and generated scripts."})
    check_leakage: bool = field(default=True, metadata={"doc": "Run the leakage checker before each run."})
    check_data_usage: bool = field(default=True, metadata={"doc": "Run the data-usage checker once per path."})
    run_dir: str = field(default="", metadata={"doc": "Where scripts, outputs and the report go."})
    review: str = field(
        default="", metadata={"doc": "'plans': pause (interrupt) before each refinement plan and before submission."},
    )
    llm: Any = field(
        default=None, repr=False, compare=False,
        metadata={"doc": "A LangChain chat model object for every role (embedding, tests); overrides model."},
    )

    def to_dict(self) -> dict[str, Any]:
        """The serialisable settings (everything but a chat model object)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "llm"}

    @classmethod
    def from_env(cls, **overrides: Any) -> Context:
        """Defaults, then ``MLE_STAR_*`` environment variables, then explicit overrides."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "llm":
                continue
            raw = os.environ.get(f"MLE_STAR_{f.name.upper()}")
            if raw is None:
                continue
            kind = type(getattr(cls(), f.name))
            if kind is bool:
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            else:
                values[f.name] = kind(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def validate(self) -> None:
        for name in ("num_candidates", "parallel_solutions", "max_parallel"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("outer_loops", "inner_loops", "ensemble_rounds", "debug_rounds", "parse_retries", "model_retries"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        from mle_star.models import parse_role_models

        parse_role_models(self.role_models)
        if self.review not in ("", "plans"):
            raise ValueError(f"unknown review mode '{self.review}' (known: plans)")
        if self.script_timeout <= 0 or self.time_limit <= 0:
            raise ValueError("time limits must be positive")
