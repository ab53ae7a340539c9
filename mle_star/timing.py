"""Where a run's wall time went: scripts, model calls, and the graph itself, and how busy the
machine's cores were (script seconds / wall time / cores)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any


def busy_seconds(stages: list[dict]) -> float:
    """The union of the intervals during which some node was running."""
    intervals = sorted((s["start"], s["start"] + s["duration"]) for s in stages if s.get("duration") is not None)
    busy, end = 0.0, float("-inf")
    for start, stop in intervals:
        if stop <= end:
            continue
        busy += stop - max(start, end)
        end = stop
    return busy


def breakdown(state: Mapping[str, Any], cores: int | None = None) -> dict[str, float | int | None]:
    """Wall time, seconds in scripts and in model calls (summed over parallel work), the graph's
    own overhead (wall time when no node was running), and the effective parallelism."""
    started = state.get("started")
    if not started:
        return {}
    wall = max(time.time() - float(started), 1e-9)
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    timing = state.get("timing", {})
    scripts, model = float(timing.get("scripts", 0.0)), float(timing.get("model_calls", 0.0))
    core_seconds = float(timing.get("script_core_seconds", scripts))  # a script alone may use every core
    overhead = max(0.0, wall - busy_seconds(state.get("stages", [])))
    return {"wall": round(wall, 1), "scripts": round(scripts, 1), "script_core_seconds": round(core_seconds, 1),
            "model_calls": round(model, 1), "graph_overhead": round(overhead, 2),
            "graph_overhead_share": round(overhead / wall, 4), "cores": cores,
            "parallelism": round(min(1.0, core_seconds / (wall * cores)), 3)}
