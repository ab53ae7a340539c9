"""Ablation studies: the current solution and one variant per studied block, each run as its
own script in its own sub-folder, printing ``Ablation | <name> | <score>`` lines that the
summarizer (and so the extractor) reads."""

from __future__ import annotations

from copy import deepcopy

from mle_star.engineer.params import available, default_model
from mle_star.engineer.recipe import block_span, render_block
from mle_star.engineer.scripts import RUN_IN_FOLDER, literal


def ablation_variants(code: str, recipe: dict, task: dict, kinds: list[str]) -> list[tuple[str, str, str]]:
    """(name, old block, new block) for each studied kind: the block reset or switched."""
    variants = []
    for kind in kinds:
        old = block_span(code, kind)
        spec = recipe.get(kind)
        if old is None or spec is None:
            continue
        new_spec, label = ablated(kind, spec, task)
        if new_spec is None or new_spec == spec:
            continue
        variants.append((f"{kind}: {label}", old, render_block(kind, new_spec, task)))
    return variants


def ablated(kind: str, spec: dict, task: dict) -> tuple[dict | None, str]:
    """The variant of a block an ablation runs, and its label."""
    if kind == "load":
        return _ablated_load(spec)
    if kind == "features":
        return {k: False for k in spec}, "no feature engineering"
    if kind == "preprocess":
        plain = deepcopy(spec) | {"categorical": "ordinal", "tfidf_ngrams": 1, "char_ngrams": False,
                                  "tfidf_max_features": 5000}
        if plain != spec:
            return plain, "plainest encoding"
        return deepcopy(spec) | {"categorical": "onehot"}, "one-hot encoding instead of ordinal codes"
    if kind == "target":
        if spec.get("transform", "none") != "none":
            return {"transform": "none"}, "raw target (no transform)"
        if (task.get("target_min") or 0) >= 0:
            return {"transform": "log1p"}, "log1p target transform"
        return None, ""
    if kind == "model":
        first = spec["models"][0]
        plain = {"models": [default_model(first["family"], task)]}
        if plain != spec:
            return plain, f"single default {first['family']} model"
        other = other_family(first["family"], task)
        return {"models": [default_model(other, task)]}, f"{other} instead of {first['family']}"
    return None, ""


def other_family(family: str, task: dict) -> str:
    """The family an ablation compares a single default model against: the other leading
    boosting library for boosted trees, LightGBM for everything else (linear for LightGBM on
    items, whose features a linear model often reads as well)."""
    if family == "lightgbm":
        items = bool(task.get("train_items") or task.get("test_items"))
        return "linear" if items or task.get("text_columns") else "xgboost"
    return "lightgbm" if available("lightgbm") and family != "lightgbm" else \
        ("linear" if family != "linear" else "xgboost")


def _ablated_load(spec: dict) -> tuple[dict | None, str]:
    if spec.get("readable") is False:
        return None, ""
    if spec.get("items") == "image":
        if spec.get("hog"):
            return spec | {"hog": False}, "no gradient-orientation histograms"
        return spec | {"hog": True}, "with gradient-orientation histograms"
    if spec.get("items") == "audio":
        if spec.get("deltas"):
            return spec | {"deltas": False}, "no band-energy deltas"
        return spec | {"bands": max(4, int(spec.get("bands", 24)) // 3)}, "a third of the frequency bands"
    if spec.get("joins"):
        return spec | {"joins": []}, "without the joined tables"
    return None, ""


def render_ablation(base: str, variants: list[tuple[str, str, str]], timeout: float | None) -> str:
    """The study script; ``timeout`` bounds each run of it in seconds (None: no limit)."""
    rows = "\n".join(f"    ({name!r},\n     {literal(old)},\n     {literal(new)}),"
                     for name, old, new in variants)
    return f'''# Ablation study written by the mle-star offline engineer.
# Runs the current solution and one variant per studied block (that block replaced), each in
# its own sub-folder, and prints each variant's validation score.
import os
import re
import subprocess
import sys

BASE = {literal(base)}

VARIANTS = [
{rows}
]


{RUN_IN_FOLDER}

def score_of(code: str, folder: str) -> float | None:
    try:
        done = run_in_folder(folder, code, timeout={timeout!r})
    except subprocess.TimeoutExpired:
        return None
    found = re.findall(r"Final Validation Performance:\\s*(\\S+)", done.stdout)
    return float(found[-1]) if found else None


baseline = score_of(BASE, "ablation_baseline")
print(f"Ablation | baseline | {{baseline}}")
for i, (name, old, new) in enumerate(VARIANTS):
    assert BASE.count(old) == 1, f"block for {{name}} not found once"
    print(f"Ablation | {{name}} | {{score_of(BASE.replace(old, new, 1), f'ablation_{{i}}')}}")
print(f"Final Validation Performance: {{baseline}}")
'''
