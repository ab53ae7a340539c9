"""What each script is given, the same rule on every executor: its resource limits, its
BLAS/OpenMP threads, how many fits a script that runs alone may run at once; and the one
error a Ray executor raises, declared here so that callers catch it without importing Ray."""

from __future__ import annotations

from dataclasses import replace

from mle_star.config import Context
from mle_star.tools.execution.runner import Limits, cpu_count, default_limits, threads_per_script


class RayUnavailable(RuntimeError):
    """``--executor ray`` cannot work: Ray is not installed or the cluster cannot be reached;
    ``str()`` is one line a person can act on."""


def limits(ctx: Context) -> Limits:
    base = default_limits(ctx.max_parallel)
    if ctx.script_memory_gb > 0:
        return replace(base, memory_bytes=int(ctx.script_memory_gb * 1024**3))
    return base


def script_threads(ctx: Context) -> int:
    """BLAS/OpenMP threads (= Ray CPUs) per script, the same rule on every executor."""
    return threads_per_script(ctx.max_parallel)


def final_workers(ctx: Context) -> int:
    """Fits the final script may run at once: it runs alone, so one per core (one thread each).
    A Ray task reserves its threads only, so there it fits one at a time."""
    return max(1, cpu_count() // script_threads(ctx)) if ctx.executor == "local" else 1
