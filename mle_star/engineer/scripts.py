"""Ablation and ensemble scripts the engineer writes around whole solutions.

Both embed the solutions they study as string literals and run each in isolation (a
subprocess per ablation variant; a fresh namespace per ensemble member), so they work on any
solution script that prints its score and, for ensembles, leaves ``valid_pred``/``y_valid``
(and ``test_pred`` in final mode) behind.
"""

from __future__ import annotations

import ast
from copy import deepcopy

from mle_star.engineer.recipe import block_span, default_params, render_block


def literal(text: str) -> str:
    """A readable Python literal for ``text``: a raw triple-quoted string when that is exact."""
    candidate = "r'''" + text + "'''"
    try:
        if ast.literal_eval(candidate) == text:
            return candidate
    except (SyntaxError, ValueError):
        pass
    return repr(text)


def ablation_variants(code: str, recipe: dict, task: dict, kinds: list[str]) -> list[tuple[str, str, str]]:
    """(name, old block, new block) for each studied kind: the block reset or switched."""
    variants = []
    for kind in kinds:
        old = block_span(code, kind)
        spec = recipe.get(kind)
        if old is None or spec is None:
            continue
        new_spec, label = _ablated(kind, spec, task)
        if new_spec is None or new_spec == spec:
            continue
        variants.append((f"{kind}: {label}", old, render_block(kind, new_spec, task["task_type"])))
    return variants


def _ablated(kind: str, spec: dict, task: dict) -> tuple[dict | None, str]:
    if kind == "features":
        plain = {k: False for k in spec}
        return plain, "no feature engineering"
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
        plain = {"models": [{"family": first["family"], "params": default_params(first["family"], task["task_type"]), "weight": 1.0}]}
        if plain != spec:
            return plain, f"single default {first['family']} model"
        other = "hgb" if first["family"] != "hgb" and not task.get("text_columns") else "linear"
        if other == first["family"]:
            other = "xgboost"
        return {"models": [{"family": other, "params": default_params(other, task["task_type"]), "weight": 1.0}]}, f"{other} instead of {first['family']}"
    return None, ""


def render_ablation(base: str, variants: list[tuple[str, str, str]], timeout: float) -> str:
    rows = "\n".join(f"    ({name!r},\n     {literal(old)},\n     {literal(new)}),"
                     for name, old, new in variants)
    return f'''# Ablation study written by the mle-star offline engineer.
# Runs the current solution and one variant per studied block (that block replaced),
# and prints each variant's validation score.
import re
import subprocess
import sys

BASE = {literal(base)}

VARIANTS = [
{rows}
]


def run(code: str, name: str) -> float | None:
    path = f"ablation_{{name}}.py"
    with open(path, "w") as fh:
        fh.write(code)
    try:
        done = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout={timeout!r})
    except subprocess.TimeoutExpired:
        return None
    found = re.findall(r"Final Validation Performance:\\s*(\\S+)", done.stdout)
    return float(found[-1]) if found else None


baseline = run(BASE, "baseline")
print(f"Ablation | baseline | {{baseline}}")
for i, (name, old, new) in enumerate(VARIANTS):
    assert BASE.count(old) == 1, f"block for {{name}} not found once"
    print(f"Ablation | {{name}} | {{run(BASE.replace(old, new, 1), str(i))}}")
print(f"Final Validation Performance: {{baseline}}")
'''


ENSEMBLE_PLANS = {
    "mean": "Average the members' validation predictions with equal weights.",
    "weighted": ("Fit non-negative blend weights that optimise the metric on validation predictions; "
                 "report the score of cross-fitted weights (each half of the validation rows is scored "
                 "with weights fit on the other half) so the score is not optimistic."),
    "rank_mean": "Average the members' predictions after converting each to ranks (suits AUC).",
    "best_two": "Average only the two members with the best individual validation scores.",
    "geometric": "Average the members' predictions in log space (geometric mean), suits positive targets and probabilities.",
}


def render_ensemble(members: list[str], plan: str, task: dict, final: bool) -> str:
    """Blend ``members`` (solution scripts, final-mode when ``final``) following ``plan``."""
    sources = ",\n".join(literal(m) for m in members)
    lower = task["lower_is_better"]
    return f'''# Ensemble written by the mle-star offline engineer.
# mle-star block: ensemble {{"plan": "{plan}"}}
# Plan: {ENSEMBLE_PLANS[plan]}
import contextlib
import io
import os

import numpy as np
import pandas as pd
from scipy.optimize import minimize

PLAN = {plan!r}
LOWER_IS_BETTER = {lower!r}
MEMBERS = [
{sources},
]

spaces = []
for i, source in enumerate(MEMBERS):
    space = {{"__name__": f"member_{{i}}"}}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, f"member_{{i}}", "exec"), space)
    spaces.append(space)
score = spaces[0]["score"]
y_valid = spaces[0]["y_valid"]
valid = [np.asarray(s["valid_pred"], dtype=float) for s in spaces]
member_scores = [score(y_valid, p) for p in valid]
for i, s in enumerate(member_scores):
    print(f"member {{i}}: {{s:.6f}}")


def combine(preds: list, weights: np.ndarray) -> np.ndarray:
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    if PLAN == "rank_mean":
        preds = [pd.Series(p.ravel()).rank(pct=True).to_numpy().reshape(p.shape) for p in preds]
    if PLAN == "geometric":
        return np.exp(sum(w * np.log(np.clip(p, 1e-9, None)) for w, p in zip(weights, preds)))
    return sum(w * p for w, p in zip(weights, preds))


def loss(weights: np.ndarray, rows: np.ndarray) -> float:
    value = score(y_valid[rows], combine([p[rows] for p in valid], np.abs(weights) + 1e-12))
    return value if LOWER_IS_BETTER else -value


def fit_weights(rows: np.ndarray) -> np.ndarray:
    start = np.full(len(valid), 1.0 / len(valid))
    found = minimize(loss, start, args=(rows,), method="Nelder-Mead", options={{"maxiter": 400, "xatol": 1e-4}})
    return np.abs(found.x) + 1e-12


rows = np.arange(len(y_valid))
if PLAN == "weighted":
    rng = np.random.default_rng(0)
    half = rng.permutation(rows)[: len(rows) // 2]
    other = np.setdiff1d(rows, half)
    blended = np.zeros_like(valid[0])
    blended[half] = combine([p[half] for p in valid], fit_weights(other))
    blended[other] = combine([p[other] for p in valid], fit_weights(half))
    weights = fit_weights(rows)
else:
    if PLAN == "best_two":
        order = np.argsort(member_scores) if LOWER_IS_BETTER else np.argsort(member_scores)[::-1]
        weights = np.zeros(len(valid))
        weights[order[:2]] = 1.0
    else:
        weights = np.ones(len(valid))
    blended = combine(valid, weights)
print("weights:", np.round(np.asarray(weights) / np.sum(weights), 4).tolist())
print(f"Final Validation Performance: {{score(y_valid, blended):.6f}}")
''' + (_ENSEMBLE_FINAL if final else "")


_ENSEMBLE_FINAL = '''
# mle-star block: submission {}
test_pred = combine([np.asarray(s["test_pred"], dtype=float) for s in spaces], weights)
if PLAN == "rank_mean" and spaces[0]["TASK_TYPE"] == "regression":
    raise SystemExit("rank averaging cannot produce regression values")
spaces[0]["write_submission"](test_pred)
'''
