"""Finalize: write run.json (machine-readable) and the reports (for a person) to the run dir."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.report import write_run_files
from mle_star.state import MLEStarState


def finalize(state: MLEStarState, runtime: Runtime[Context]) -> dict:
    write_run_files(state, runtime.context)
    return {}
