"""The run's time budget: how long scripts take (measured), what to keep for the ensemble and
the final script, and whether a loop may take another step or a slower solution may be kept."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mle_star import journal
from mle_star.config import Context
from mle_star.state import Attempt, MLEStarState
from mle_star.tools.execution.resources import final_workers
from mle_star.tools.scoring.judge import INNER


def time_left(state: Mapping[str, Any]) -> float:
    """Seconds until the run's deadline (a state without run facts has no deadline)."""
    return float(state.get("run", {}).get("deadline", float("inf"))) - time.time()


ABLATION_RUNS = 4  # an ablation study runs the solution and about three variants


def solution_seconds(state: Mapping[str, Any]) -> float:
    """How long the path's current solution took to run (measured)."""
    best = journal.find(state.get("journal", []), state.get("best"))
    return float(best["duration"]) if best else 0.0


def final_seconds(task: Mapping[str, Any], ctx: Context, duration: float) -> float:
    """The final script's time: the searched solution's, scaled to every labelled row (the
    search subsampled them), for two fits (one for its validation score, one on every row) per
    ensemble member when an ensemble may win, ``final_workers`` fits at a time."""
    used = max(1, min(task.get("n_train") or 1, ctx.subsample_rows))
    scale = max(1.0, ((task.get("n_train") or 0) + (task.get("n_holdout") or 0)) / used)
    fits = 2 * (ctx.parallel_solutions if ctx.ensemble_rounds > 0 else 1)
    return duration * scale * fits / min(fits, final_workers(ctx))


BLEND_SECONDS = 3.0  # an ensemble round that blends saved predictions (measured: 0.3 to 1.5 s)


def margin_seconds(ctx: Context) -> float:
    """Slack kept beyond every estimate (process start, the report, estimates' error)."""
    return 0.02 * ctx.time_limit + 3.0


def round_seconds(state: Mapping[str, Any]) -> float | None:
    """The longest ensemble round that ran (measured), or None before the first."""
    done = [a["duration"] for a in journal.of_kind(state.get("journal", []), "ensemble") if a["workdir"]]
    return max(done) if done else None


def saved_inner_predictions(state: Mapping[str, Any]) -> bool:
    """Did the path's current solution save its internal-validation predictions? Then an
    ensemble round blends them in seconds instead of running every member again."""
    best = journal.find(state.get("journal", []), state.get("best"))
    return bool(best and best["workdir"] and (Path(best["workdir"]) / "outputs" / INNER).is_file())


def reserve_seconds(state: Mapping[str, Any], ctx: Context, duration: float, rounds: int | None = None) -> float:
    """Time kept for the final script and ``rounds`` ensemble rounds (default: up to two; more
    rounds run only if time is left), from measured durations, plus a small margin."""
    per_round = round_seconds(state)
    if per_round is None:  # until one ran: a blend of saved predictions, else about one solution run
        per_round = BLEND_SECONDS if saved_inner_predictions(state) else max(3.0, duration)
    rounds = min(ctx.ensemble_rounds, 2) if rounds is None else rounds
    return final_seconds(state["run"]["task"], ctx, duration) + rounds * per_round + margin_seconds(ctx)


def search_time_left(state: Mapping[str, Any], ctx: Context, runs: float = 1.0, rounds: int | None = None) -> bool:
    """May a search loop take another step of about ``runs`` solution runs? Only if, after it,
    the reserve for the ensemble and the final script is still there."""
    duration = solution_seconds(state)
    return time_left(state) > reserve_seconds(state, ctx, duration, rounds) + runs * duration


def ensemble_time_left(state: MLEStarState, ctx: Context) -> bool:
    """Another ensemble round (it blends saved predictions), and still time for the final script."""
    finals = [journal.find(state.get("journal", []), n) for n in state.get("finals", [])]
    duration = max((float(a["duration"]) for a in finals if a), default=0.0)
    per_round = round_seconds(state)
    per_round = max(3.0, duration) if per_round is None else per_round
    return time_left(state) > final_seconds(state["run"]["task"], ctx, duration) + per_round + 5.0


def final_fits_in_time(state: Mapping[str, Any], ctx: Context, attempt: Attempt) -> bool:
    """Could ``attempt``, kept as the path's solution, still have its final script run in the time
    left? A refinement that makes the solution several times slower (three seeds of a large
    model) late in the run would push the final script past the limit."""
    return time_left(state) > final_seconds(state["run"]["task"], ctx, float(attempt["duration"])) + margin_seconds(ctx)

