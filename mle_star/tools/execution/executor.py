"""Where scripts run: local processes (the default) or Ray tasks on a cluster.

Every executor runs a script the same way (the runner's sandbox, limits and declared outputs)
and returns an ExecResult whose trusted record lives in the driver's run folder. The graph,
the model calls and the checkpoints always stay in the driver.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Protocol

from mle_star.config import Context
from mle_star.tools.execution.resources import limits
from mle_star.tools.execution.runner import ExecResult, ScriptRunner
from mle_star.tools.execution.sandbox import probe
from mle_star.tools.task.dataview import MANIFEST


class Executor(Protocol):
    def run(self, code: str, name: str, *, view: str = "search", timeout: float | None = None,
            outputs: tuple[str, ...] = (), salt: str = "") -> ExecResult: ...


def run_data(run_dir: str | Path) -> dict:
    """What prepare laid out for the run: its data views and where the answers are."""
    return json.loads((Path(run_dir) / "data" / MANIFEST).read_text())


def make_executor(ctx: Context, run_dir: str, extra_views: dict[str, dict[str, str]] | None = None,
                  threads: int | None = None, workers: int = 1) -> Executor:
    """The run's executor, from ``ctx.executor``; ``extra_views`` adds views for single scripts
    (an ensemble's view also holds its members' saved predictions); ``threads`` overrides the
    BLAS/OpenMP threads of a script (default: CPUs / max_parallel); ``workers`` tells a script
    that runs alone how many fits it may run at once (locally; a Ray task reserves its threads only)."""
    views = run_data(run_dir)["views"] | (extra_views or {})
    if ctx.executor == "ray":
        from mle_star.tools.execution.ray_executor import RayExecutor

        return RayExecutor(run_dir, views, ctx, threads=threads)
    from mle_star.tools.execution.environment import script_env

    return ScriptRunner(run_dir, views, sandbox=probe(ctx.sandbox), timeout=ctx.script_timeout,
                        max_parallel=ctx.max_parallel, limits=limits(ctx), threads=threads, workers=workers,
                        script_env=script_env(ctx))


def release(ctx: Context, run_dir: str | Path) -> None:
    """The end of a run (finished or not): a Ray run drops its copies and scratch on the nodes."""
    if ctx.executor == "ray" and sys.modules.get("ray") is not None:  # Ray was used (and is installed)
        from mle_star.tools.execution.ray_executor import release_run

        release_run(run_dir)
