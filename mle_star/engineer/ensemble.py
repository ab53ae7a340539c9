"""Ensemble scripts: whole solution scripts as members, blended on shared validation rows.

Each member runs as its own script in ``member_<i>/`` (``input`` linked to the ensemble's).
The engineer's solutions leave ``inner_valid.npz`` behind: their predictions P for the
internal validation rows (the same rows in every member: same split code, seed and data),
those rows' labels, and P for the held-out and test rows. The ensemble fits its blend on the
internal validation predictions, scores the blend there (cross-fitted when weights are fit)
and writes the blended held-out/test predictions in the submission's columns. Members that
leave no such file (scripts the engineer did not write) are blended from their output files.
"""

from __future__ import annotations

from mle_star.engineer.scripts import RUN_IN_FOLDER, WRITE_PREDICTIONS, literal
from mle_star.engineer.shapes import (
    AS_TEXT,
    THRESHOLDS,
    Shape,
    constants,
    render_metric,
    shape_of,
    to_output,
)

ENSEMBLE_PLANS = {
    "mean": "Average the members' predictions with equal weights.",
    "weighted": ("Fit non-negative blend weights that optimise the metric on the shared internal-validation "
                 "predictions; report the score of cross-fitted weights (each half of those rows is scored "
                 "with weights fit on the other half) so the score is not optimistic."),
    "rank_mean": "Average the members' predictions after converting each to ranks (suits AUC).",
    "best_two": "Average only the two members with the best internal-validation scores.",
    "geometric": "Average the members' predictions in log space (geometric mean); suits probabilities and positive targets.",
}
WEIGHTING_PLANS = ("weighted", "best_two")  # plans that choose members / weights from validation


def plans_for(task: dict) -> list[str]:
    """The plans that make sense for the task's output, in the order the planner tries them."""
    shape = shape_of(task)
    plans = ["mean", "weighted", "best_two"]
    if shape.metric in ("auc", "mean_column_auc") and shape.kind in ("probability", "multilabel",
                                                                      "class_probabilities"):
        plans.insert(2, "rank_mean")
    if shape.kind in ("probability", "class_probabilities", "multilabel", "ranked_labels") or shape.classify or (
            shape.kind == "targets" and (task.get("target_min") or 0) > 0):
        plans.append("geometric")
    return plans


def _blend_code(shape: Shape) -> str:
    ordinal = shape.ordinal
    score_fn = "honest_threshold_score(y, blended[:, 0])" if ordinal else "metric(y, blended)"
    return f'''def combine(preds: list, weights) -> np.ndarray:
    """The weighted blend of the members' predictions, following the plan."""
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    if PLAN == "rank_mean":  # ranks within each row set, per column
        preds = [np.apply_along_axis(lambda c: pd.Series(c).rank(pct=True).to_numpy(), 0, p) for p in preds]
    if PLAN == "geometric":
        return np.exp(sum(w * np.log(np.clip(p, 1e-9, None)) for w, p in zip(weights, preds)))
    return sum(w * p for w, p in zip(weights, preds))


def loss(weights: np.ndarray, rows: np.ndarray) -> float:
    value = metric(y[rows], combine([p[rows] for p in valid], np.abs(weights) + 1e-12))
    return value if LOWER_IS_BETTER else -value


def fit_weights(rows: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    start = np.full(len(valid), 1.0 / len(valid))
    found = minimize(loss, start, args=(rows,), method="Nelder-Mead", options={{"maxiter": 400, "xatol": 1e-4}})
    return np.abs(found.x) + 1e-12


def blend_from_inner() -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(validation score, weights, blended held-out and test predictions) from the members' inner_valid.npz."""
{"    global THRESHOLDS" + chr(10) if ordinal else ""}    rows = np.arange(len(y))
    member_scores = [metric(y, p) for p in valid]
    for i, s in enumerate(member_scores):
        print(f"member {{i}}: {{s:.6f}}")
    if PLAN == "weighted":
        half = np.random.default_rng(SEED).permutation(rows)[: len(rows) // 2]
        other = np.setdiff1d(rows, half)
        blended = np.zeros_like(valid[0])
        blended[half] = combine([p[half] for p in valid], fit_weights(other))
        blended[other] = combine([p[other] for p in valid], fit_weights(half))
        weights = fit_weights(rows)
    else:
        weights = np.ones(len(valid))
        if PLAN == "best_two" and len(valid) > 2:
            order = np.argsort(member_scores) if LOWER_IS_BETTER else np.argsort(member_scores)[::-1]
            weights = np.zeros(len(valid))
            weights[order[:2]] = 1.0
        blended = combine(valid, weights)
    score = {score_fn}
{"    THRESHOLDS = fit_thresholds(y, blended[:, 0])" + chr(10) if ordinal else ""}    print("weights:", np.round(weights / np.sum(weights), 4).tolist())
    holdout_pred = combine(holdout, weights) if len(holdout[0]) else holdout[0]
    return score, weights, holdout_pred, combine(test, weights)
'''


_FALLBACK = '''def blend_outputs(folders: list, printed: list) -> None:
    """Members that left no inner_valid.npz: blend their output files row by row (by id)."""
    names = ["final/submission.csv"] if FINAL else ["valid_predictions.csv", "test_predictions.csv"]
    for name in names:
        frames = [pd.read_csv(os.path.join(f, name if os.path.exists(os.path.join(f, name)) else "test_predictions.csv"),
                              dtype={ID: str}) for f in folders]
        ids = frames[0][ID]
        aligned = [f.set_index(ID).loc[ids].reset_index() for f in frames]
        out = pd.DataFrame({ID: ids})
        for column in COLUMNS:
            values = [a[column] for a in aligned]
            if KIND in ("probability", "class_probabilities", "targets", "multilabel"):
                out[column] = np.mean([v.to_numpy(dtype=float) for v in values], axis=0)
            elif KIND == "ranked_labels":  # reciprocal-rank votes over the members' lists
                votes = [dict() for _ in range(len(ids))]
                for v in values:
                    for row, text in enumerate(v.astype(str)):
                        for rank, label in enumerate(text.split()):
                            votes[row][label] = votes[row].get(label, 0.0) + 1.0 / (rank + 1)
                out[column] = [" ".join(sorted(d, key=lambda k: -d[k])[:TOP_K]) for d in votes]
            else:  # labels: the majority vote (the first member breaks ties)
                stacked = pd.concat(values, axis=1).astype(str)
                out[column] = stacked.apply(lambda r: r.value_counts().index[0] if r.value_counts().iloc[0] > 1 else r.iloc[0], axis=1)
        os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
        out[[ID, *COLUMNS]].to_csv(name, index=False)
    known = [p for p in printed if p is not None]
    print("Note: some members left no shared validation predictions; the score is the mean of the members' own scores.")
    print(f"Final Validation Performance: {np.mean(known) if known else float('nan'):.6f}")
'''


def ensemble_plan(value: object) -> str:
    """A script's ``PLAN`` literal when it names a known blend, else the equal-weight mean."""
    return value if isinstance(value, str) and value in ENSEMBLE_PLANS else "mean"


def render_ensemble(members: list[str], plan: str, task: dict, final: bool, seed: int = 42,
                    timeout: float | None = None) -> str:
    """Blend ``members`` (solution scripts, final-mode when ``final``) following ``plan``."""
    shape = shape_of(task)
    sources = ",\n".join(literal(m) for m in members)
    shape_fns = "\n\n".join(p.rstrip("\n") + "\n" for p in
                            [AS_TEXT, to_output(shape), render_metric(shape)] + ([THRESHOLDS] if shape.ordinal else []))
    return f'''# Ensemble written by the mle-star offline engineer.
# mle-star block: ensemble {{"plan": "{plan}"}}
# Plan: {ENSEMBLE_PLANS[plan]}
# Each member runs as its own script in member_<i>/ and leaves inner_valid.npz (its predictions
# for the shared internal-validation rows, their labels, and its held-out/test predictions).
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd

SEED = {seed}
PLAN = {plan!r}
FINAL = {final!r}
LOWER_IS_BETTER = {shape.lower!r}
ID = {task["id_column"]!r}
{constants(shape, task)}MEMBERS = [
{sources},
]


{shape_fns}

{RUN_IN_FOLDER}

{_blend_code(shape)}

{_FALLBACK}

{WRITE_PREDICTIONS}

folders, printed = [], []
for i, source in enumerate(MEMBERS):
    done = run_in_folder(f"member_{{i}}", source, timeout={timeout!r})
    if done.returncode != 0:
        raise RuntimeError(f"ensemble member {{i}} failed (exit code {{done.returncode}}):\\n{{done.stderr[-3000:]}}")
    found = re.findall(r"Final Validation Performance:\\s*(\\S+)", done.stdout)
    printed.append(float(found[-1]) if found else None)
    folders.append(f"member_{{i}}")
inner = [os.path.join(f, "inner_valid.npz") for f in folders]
shared = all(os.path.exists(p) for p in inner)
if shared:
    data = [np.load(p) for p in inner]
    shared = all(d["y"].shape == data[0]["y"].shape and np.array_equal(d["y"], data[0]["y"]) for d in data)
if shared:
    y = data[0]["y"]
    valid = [d["valid"] for d in data]
    holdout = [d["holdout"] for d in data]
    test = [d["test"] for d in data]
    score, weights, holdout_pred, test_pred = blend_from_inner()
    if FINAL:
        write_predictions("final/submission.csv", data[0]["test_ids"], test_pred)
    else:
        write_predictions("test_predictions.csv", data[0]["test_ids"], test_pred)
        if len(data[0]["holdout_ids"]):
            write_predictions("valid_predictions.csv", data[0]["holdout_ids"], holdout_pred)
    print(f"Final Validation Performance: {{score:.6f}}")
else:
    blend_outputs(folders, printed)
'''
