"""The engineer's baseline for a task: its first single-model XGBoost solution in final mode
(every labelled row, ``./final/submission.csv``), the yardstick ``mle-star bench`` runs beside
the agent."""

from __future__ import annotations

from mle_star.engineer.recipe import default_recipe, render_solution


def baseline_script(task: dict, seed: int = 42) -> str:
    """The final-mode script of the default XGBoost recipe (same loader and features the agent starts from)."""
    return render_solution(dict(task), default_recipe(dict(task), "xgboost"), final=True, seed=seed)
