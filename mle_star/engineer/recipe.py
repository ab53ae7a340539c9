"""Solution recipes: the choices a script is written from, and reading them back from code.

The offline engineer writes scripts in blocks. Each refinable block opens with a comment
``# mle-star block: <kind> <json>`` that records the choices it was written from and closes
with ``# end of <kind> block``. To a reader (or a real LLM) these are ordinary comments; to
the engineer they are how it reads back code it wrote, so it can refine a block it is given.
"""

from __future__ import annotations

import json
import re
from copy import deepcopy
from typing import Any

from mle_star.engineer.blocks import (
    render_features,
    render_model,
    render_preprocess,
    render_target,
)
from mle_star.engineer.loaders import default_load, render_load
from mle_star.engineer.neural import NEURAL_MODALITIES, grid_spec, is_neural
from mle_star.engineer.params import default_model, default_params, usable
from mle_star.engineer.pretrained import FAMILY as FINETUNE
from mle_star.engineer.pretrained import grid as finetune_grid
from mle_star.engineer.shapes import shape_of

BLOCK_KINDS = ("load", "features", "preprocess", "target", "model")
HEADER_RE = re.compile(r"^# mle-star block: (\w+) (\{.*\})\s*$", re.M)
TABLE_MODALITIES = ("tabular", "text", "json")

Recipe = dict[str, dict[str, Any]]

__all__ = ["BLOCK_KINDS", "Recipe", "block_kind", "block_span", "complete", "default_params", "default_recipe",
           "parse_recipe", "render_block", "render_solution"]


def has_items(task: dict) -> bool:
    return bool(task.get("train_items") or task.get("test_items"))


def default_recipe(task: dict, family: str) -> Recipe:
    """The first recipe for a task: its modality's loader, plain features, one model."""
    has_text = bool(task.get("text_columns"))
    recipe: Recipe = {"load": default_load(task)}
    if not has_items(task):
        recipe["features"] = {"date_parts": True, "count_encoding": False, "text_stats": has_text,
                              "missing_count": False}
    recipe["preprocess"] = {"categorical": "ordinal", "min_frequency": 5, "tfidf_max_features": 20000,
                            "tfidf_ngrams": 1, "char_ngrams": False}
    if task["output"]["kind"] == "targets":
        positive = (task.get("target_min") or 0) >= 0
        log_metric = "rmsle" in task["metric"]
        recipe["target"] = {"transform": "log1p" if positive and log_metric else "none"}
    recipe["model"] = {"models": [default_model(usable(family), task)]}
    return with_grid(recipe, task)


def with_grid(recipe: Recipe, task: dict | None = None) -> Recipe:
    """The recipe with a pixel grid in its image/audio loader when a network is in the blend:
    the network reads the grid, the other models read it beside their own features. A fine-tuned
    ResNet gets a colour grid, and its pixels unscaled (it normalises them itself)."""
    load = recipe.get("load") or {}
    models = (recipe.get("model") or {}).get("models") or []
    families = [m.get("family", "") for m in models]
    network = next((f for f in families if is_neural(f)), None)
    if network and load.get("items") in NEURAL_MODALITIES \
            and load.get("readable", True) is not False and not load.get("grid"):
        grid = finetune_grid(task) if load["items"] == "image" and network == FINETUNE else grid_spec(load["items"])
        recipe = recipe | {"load": load | grid}
    if "resnet" in families and "preprocess" in recipe and not recipe["preprocess"].get("raw_pixels"):
        recipe = recipe | {"preprocess": recipe["preprocess"] | {"raw_pixels": True}}
    return recipe


def parse_recipe(code: str) -> Recipe:
    """The block recipes a script carries; blocks without a readable header are skipped."""
    recipe: Recipe = {}
    for kind, raw in HEADER_RE.findall(code):
        try:
            recipe[kind] = json.loads(raw)
        except json.JSONDecodeError:
            continue
    return recipe


def block_span(code: str, kind: str) -> str | None:
    """The exact text of a block, header to end marker inclusive, or None."""
    match = re.search(rf"^# mle-star block: {kind} \{{.*?^# end of {kind} block\n", code, re.M | re.S)
    return match.group(0) if match else None


def block_kind(block: str) -> str | None:
    match = HEADER_RE.search(block)
    return match.group(1) if match else None


def render_block(kind: str, spec: dict, task: dict) -> str:
    if kind == "load":
        return render_load(spec, task)
    if kind == "features":
        return render_features(spec)
    if kind == "preprocess":
        return render_preprocess(spec)
    if kind == "target":
        return render_target(spec)
    if kind == "model":
        return render_model(spec, shape_of(task).estimator)
    raise ValueError(f"not a refinable block: {kind}")


def complete(task: dict, recipe: Recipe, family: str = "xgboost") -> Recipe:
    """Fill any block a parsed recipe lacks from the defaults; drop blocks the task has no use for."""
    full = deepcopy(default_recipe(task, family))
    full.update({k: deepcopy(v) for k, v in recipe.items() if k in full})
    if recipe.get("load", {}).get("items") != full["load"].get("items"):  # a loader for another modality
        full["load"] = default_load(task)
    return full


def render_solution(task: dict, recipe: Recipe, *, final: bool = False, subsample: int = 30000,
                    seed: int = 42) -> str:
    """A complete, runnable solution script for ``task`` from ``recipe`` (see ``solution``)."""
    from mle_star.engineer.solution import render_solution as render

    full = with_grid(complete(task, recipe, _first_family(recipe)), task)
    return render(task, full, final=final, subsample=subsample, seed=seed)


def _first_family(recipe: Recipe) -> str:
    models = (recipe.get("model") or {}).get("models") or [{}]
    return models[0].get("family", "xgboost")
