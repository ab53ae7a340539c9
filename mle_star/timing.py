"""Where a run's wall time went: scripts, model calls, and the graph itself, and how busy the
machine's cores were: the scripts' CPU seconds / wall time / cores, and the share of the
cores' time the machine was busy at all (from /proc/stat, whoever used it)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from mle_star.tools.execution.runner import cpu_count


def cpu_clock() -> list[float] | None:
    """(busy, total) core-seconds of this process's CPUs since boot (Linux /proc/stat; else None)."""
    try:
        lines = open("/proc/stat").read().splitlines()
    except OSError:
        return None
    mine = {f"cpu{i}" for i in os.sched_getaffinity(0)} if hasattr(os, "sched_getaffinity") else None
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = total = 0.0
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or (mine is not None and name not in mine):
            continue
        values = [float(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
        total += sum(values)
        busy += sum(values) - values[3] - values[4]
    return [busy / tick, total / tick] if total else None


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
        cores = cpu_count()
    timing = state.get("timing", {})
    scripts, model = float(timing.get("scripts", 0.0)), float(timing.get("model_calls", 0.0))
    core_seconds = float(timing.get("script_core_seconds", scripts))  # CPU seconds where measured
    overhead = max(0.0, wall - busy_seconds(state.get("stages", [])))
    return {"wall": round(wall, 1), "scripts": round(scripts, 1), "script_core_seconds": round(core_seconds, 1),
            "model_calls": round(model, 1), "graph_overhead": round(overhead, 2),
            "graph_overhead_share": round(overhead / wall, 4), "cores": cores,
            "parallelism": round(min(1.0, core_seconds / (wall * cores)), 3),
            "machine_busy": machine_busy(state.get("started_cpu"))}


def machine_busy(started_cpu: list[float] | None) -> float | None:
    """The share of the cores' time the machine was busy since ``started_cpu`` (None: unknown,
    e.g. a run resumed after a reboot). On a quiet machine: the run's real parallelism."""
    now = cpu_clock()
    if not started_cpu or not now or now[1] - started_cpu[1] <= 0 or now[0] < started_cpu[0]:
        return None
    return round((now[0] - started_cpu[0]) / (now[1] - started_cpu[1]), 3)
