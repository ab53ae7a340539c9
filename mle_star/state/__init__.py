"""All graph state, declared in one place.

``MLEStarState`` is the top-level run; ``PathState`` one of the L solution paths (steps 1-5);
``ExecState`` one guarded execution (leakage check -> run -> debug). Loop counters live here,
so every loop is bounded by state, never by the recursion limit. Scores are in the metric's
own units; ``mle_star.tools.metrics.is_better`` knows the direction.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired, TypedDict


def add_numbers(left: dict | None, right: dict | None) -> dict:
    """Merge two (nested) dicts of counters by summing their numeric leaves (``max_*`` keys
    keep the larger value)."""
    out: dict[str, Any] = dict(left or {})
    for key, value in (right or {}).items():
        if isinstance(value, dict):
            out[key] = add_numbers(out.get(key), value)
        elif isinstance(value, int | float) and isinstance(out.get(key), int | float):
            out[key] = max(out[key], value) if key.startswith("max_") else out[key] + value
        else:
            out[key] = value
    return out


class Solution(TypedDict):
    """A scored script: what the paper calls a solution s with its score h(s)."""

    name: str
    code: str
    score: float | None
    ok: bool
    workdir: str
    duration: float
    error: str
    leakage: NotRequired[list[dict]]


class PlanScore(TypedDict):
    plan: str
    score: float | None


class Telemetry(TypedDict, total=False):
    """Shared by every state: stages for run.json, counters and token usage."""

    stages: Annotated[list[dict], operator.add]
    counts: Annotated[dict[str, int], add_numbers]
    usage: Annotated[dict[str, Any], add_numbers]


# -- top level ---------------------------------------------------------------------------------

class MLEStarInput(TypedDict):
    """What a caller (CLI, Studio form, parent graph) provides."""

    task_dir: str
    run_dir: NotRequired[str]
    metric: NotRequired[str]
    lower_is_better: NotRequired[bool]


class MLEStarOutput(TypedDict, total=False):
    """What a caller gets back."""

    submission_path: str
    solution_path: str
    best_score: float | None
    metric: str
    lower_is_better: bool
    run_dir: str
    error: str


class MLEStarState(Telemetry, total=False):
    task_dir: str
    run_dir: str
    metric: str
    lower_is_better: bool
    task: dict
    models: dict[str, str]  # role -> model id
    fallback: str
    started: float
    deadline: float
    solutions: Annotated[list[Solution], operator.add]  # final solution of each path
    ensemble_round: int
    ensemble_history: list[dict]  # {plan, score, code, name}
    ensemble_plan: str
    best: Solution
    submission_path: str
    solution_path: str
    best_score: float | None
    error: str


# -- one solution path (steps 1-5) -------------------------------------------------------------

class PathInput(TypedDict):
    path_id: int
    task: dict
    run_dir: str
    deadline: float


class PathOutput(Telemetry, total=False):
    solutions: Annotated[list[Solution], operator.add]


class PathState(Telemetry, total=False):
    path_id: int
    task: dict
    run_dir: str
    deadline: float
    search_backend: str
    candidates: list[dict]  # retriever output: {model_name, example_code}
    initial: Annotated[list[Solution], operator.add]  # one per candidate (fan-in)
    merge_index: int
    merge_done: bool
    best: Solution  # s_t
    initial_score: float | None
    outer_step: int  # t
    ablation_summaries: list[str]
    ablation_output: str
    ablation_code: str
    refined_blocks: list[str]
    code_block: str  # c_t
    plan: str  # p_k
    inner_step: int  # k
    plan_history: list[PlanScore]
    inner_best: Solution | None
    solutions: Annotated[list[Solution], operator.add]


class CandidateInput(TypedDict):
    """What ``Send`` hands the initial coder for one candidate."""

    path_id: int
    task: dict
    run_dir: str
    deadline: float
    index: int
    candidate: dict


# -- one guarded execution ---------------------------------------------------------------------

class ExecState(Telemetry, total=False):
    task: dict
    run_dir: str
    deadline: float
    name: str
    kind: str  # solution | ablation | ensemble | submission
    code: str
    attempt: int
    result: dict
    leakage: list[dict]
