"""A whole solution script for any task, from a recipe.

The script follows ``mle_star.prompts.roles.script_rules``: it trains on the (subsampled)
labelled rows, scores an internal validation split with the task's metric, predicts the
held-out rows and the test rows and writes ``valid_predictions.csv`` / ``test_predictions.csv``
(search), or trains on every labelled row and writes ``final/submission.csv`` (final). It
also leaves ``inner_valid.npz`` behind — its internal-validation predictions and labels and
its held-out/test predictions — so an ensemble can fit blend weights on them: every script
draws the same internal split (same code, same seed, same rows).
"""

from __future__ import annotations

from mle_star.engineer.blocks import (
    BAGGED,
    TREE_FAMILIES,
    render_features,
    render_model,
    render_preprocess,
    render_target,
)
from mle_star.engineer.loaders import render_load
from mle_star.engineer.scripts import write_predictions_code
from mle_star.engineer.shapes import (
    AS_TEXT,
    THRESHOLDS,
    Shape,
    constants,
    encode_truth,
    fit_model,
    render_metric,
    shape_of,
    to_output,
)

INNER_FILE = "inner_valid.npz"


def _files(task: dict, final: bool) -> str:
    """Where the script's data is, as the run's data view shows it under ./input/."""
    source = task.get("label_source") or {}
    label_file = source.get("file") or _guess_label_file(task)
    key = source.get("key") or task["id_column"]
    labels = source.get("label_columns") or list(task["output"]["columns"])
    holdout = task.get("holdout_file") if task.get("scoring") == "agent" and not final else None
    lines = [
        f"LABELLED = {'./input/' + label_file!r}  # the labelled rows",
        f"HOLDOUT = {('./input/' + holdout) if holdout else None!r}  # held-out rows without labels (the agent scores them)",
        f"TEST = {('./input/' + task['test_file']) if task.get('test_file') else None!r}  # the test rows",
        f"SAMPLE = {'./input/' + task['sample_submission']!r}",
        f"KEY = {key!r}  # the column naming each labelled row",
        f"ID = {task['id_column']!r}  # the submission's id column",
        f"LABELS = {list(labels)!r}  # the label columns",
    ]
    items = task.get("train_items") or task.get("test_items")
    if items:  # one side's folder stands in for the other's when only one is given
        train_items = task.get("train_items") or items
        test_items = task.get("test_items") or items
        lines += [f"TRAIN_ITEMS = {('./input/' + train_items['dir'], train_items['pattern'])!r}  # folder, file of an id",
                  f"TEST_ITEMS = {('./input/' + test_items['dir'], test_items['pattern'])!r}"]
    return "\n".join(lines) + "\n"


def _guess_label_file(task: dict) -> str:
    """Labels the intake could not locate: the first training-like table."""
    files = [f for f in task["data_files"] if f.lower().endswith((".csv", ".json", ".jsonl", ".tsv", ".csv.zip"))
             and "sample" not in f.lower() and "test" not in f.lower()]
    trainish = [f for f in files if "train" in f.lower()]
    return (trainish or files or ["train.csv"])[0]


def _head(task: dict, shape: Shape, final: bool, subsample: int, seed: int) -> str:
    direction = "lower" if shape.lower else "higher"
    what = "the final submission: trains on every labelled row" if final else "a search solution"
    metric_line = f"# Metric: {shape.metric_title} ({direction} is better), on an internal validation split."
    if shape.proxy:
        metric_line = (f"# Metric: the task's metric ({task['metric_title']}) is not one mle-star computes; "
                       f"{shape.metric_title} stands in for it ({direction} is better).")
    return f'''# Solution for task '{task["name"]}' ({what}), written by the mle-star offline engineer.
# Data: {task["modality"]}; predictions: {shape.kind} ({", ".join(task["output"]["columns"][:6])}{", ..." if len(task["output"]["columns"]) > 6 else ""}).
{metric_line}
import json
import os
import re
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
SEED = {seed}
THREADS = int(os.environ.get("MLE_STAR_THREADS", "1"))
WORKERS = int(os.environ.get("MLE_STAR_WORKERS", "1"))  # fits this script may run at once (one core each)
FINAL = {final!r}  # True: train on every labelled row and write ./final/submission.csv
SUBSAMPLE = {None if final else subsample!r}  # at most this many labelled rows while searching
{_files(task, final)}{constants(shape, task)}TREE_FAMILIES = {TREE_FAMILIES!r}


{AS_TEXT}

{BAGGED}'''


def _fit_predict(has_features: bool, key_is_text: bool = False) -> str:
    add = ("    X = add_features(train_df, train_df)\n    others = [add_features(f, train_df) for f in frames]\n"
           if has_features else "    X, others = train_df, list(frames)\n")
    # an id that is the text itself (detecting-insults names rows by their Comment) is a feature too
    columns = ("    columns = [c for c in X.columns if c not in LABELS and c in others[-1].columns]  # the id is the text: "
               "kept\n" if key_is_text else
               "    columns = [c for c in X.columns if c != KEY and c not in LABELS and c in others[-1].columns]  # what "
               "test rows have\n")
    return f'''def fit_predict(train_df: pd.DataFrame, y: np.ndarray, frames: list) -> list:
    """Fit every model of the blend on the training rows; the blended predictions P for each frame."""
{add}{columns}    X, others = X[columns].copy(), [o.reindex(columns=columns) for o in others]
    if not columns:  # nothing to learn from: a constant feature, so the models predict the prior / the mean
        X, others = pd.DataFrame({{"bias": np.zeros(len(X))}}), [pd.DataFrame({{"bias": np.zeros(len(o))}}) for o in others]
    num, cat, text = split_columns(X)
    for frame in [X, *others]:
        frame[cat] = frame[cat].astype(object).where(frame[cat].notna(), "__missing__").astype(str)
        frame[text] = frame[text].astype(object).where(frame[text].notna(), "").astype(str)
    blended, total = None, 0.0
    for family, model, weight in make_models():
        preprocessor = make_preprocessor(family, num, cat, text)
        train_matrix = preprocessor.fit_transform(X)
        if family == "catboost":
            model = declare_categoricals(model, preprocessor)
        preds = fit_model(model, train_matrix, y, [preprocessor.transform(o) for o in others])
        blended = [weight * p for p in preds] if blended is None else [b + weight * p for b, p in zip(blended, preds)]
        total += weight
    return [b / total for b in blended]
'''


def _main(shape: Shape, task: dict) -> str:
    stratify = ("    counts = np.bincount(y)\n    stratify = y if counts[counts > 0].min() >= 2 else None\n"
                if shape.classify else "    stratify = None\n")
    score = ("score = honest_threshold_score(y[valid_rows], valid_pred[:, 0])\n"
             "THRESHOLDS = fit_thresholds(y[valid_rows], valid_pred[:, 0])  # used for the held-out and test rows\n"
             if shape.ordinal else "score = metric(y[valid_rows], valid_pred)\n")
    note = ("if 'UNREADABLE_NOTE' in globals():\n    print(UNREADABLE_NOTE)\n")
    proxy = ('print(f"Note: the validation score is {METRIC_NOTE}")\n' if shape.proxy else "")
    return f'''def inner_split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The internal validation split (20% of the labelled rows): the same in every script of this run."""
    rows = np.arange(len(y))
{stratify}    return train_test_split(rows, test_size=0.2, random_state=SEED, stratify=stratify)


{write_predictions_code(task)}

labelled, holdout, test = load_data()
y = encode_truth(labelled)
fit_rows, valid_rows = inner_split(y)
# the test rows come last even in the final script: a fit keeps only the columns they have
frames = [labelled.iloc[valid_rows]] + ([holdout] if holdout is not None else []) + [test]
refit = None
if FINAL and WORKERS > 1:  # the final script runs alone: the refit on every row beside the validation fit
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    refit = pool.submit(fit_predict, labelled, y, [test])
preds = fit_predict(labelled.iloc[fit_rows].reset_index(drop=True), y[fit_rows], frames)
valid_pred = preds[0]
{score}{note}{proxy}if FINAL:  # refit on every labelled row for the test predictions
    test_pred = refit.result()[0] if refit is not None else fit_predict(labelled, y, [test])[0]
    write_predictions("final/submission.csv", test[KEY], test_pred)
else:
    test_pred = preds[-1]
    write_predictions("test_predictions.csv", test[KEY], test_pred)
holdout_pred = preds[1] if holdout is not None else np.zeros((0,) + valid_pred.shape[1:])
if holdout is not None:
    write_predictions("valid_predictions.csv", holdout[KEY], holdout_pred)
np.savez("{INNER_FILE}", y=y[valid_rows], valid=valid_pred, holdout=holdout_pred, test=test_pred,
         holdout_ids=np.asarray(as_text(holdout[KEY]) if holdout is not None else [], dtype=str),
         test_ids=np.asarray(as_text(test[KEY]), dtype=str))
print(f"Final Validation Performance: {{score:.6f}}")
'''


def render_solution(task: dict, recipe: dict, *, final: bool = False, subsample: int = 30000, seed: int = 42) -> str:
    """A complete, runnable solution script for ``task`` from ``recipe``."""
    shape = shape_of(task)
    parts = [_head(task, shape, final, subsample, seed), render_load(recipe["load"], task)]
    if "features" in recipe:
        parts.append(render_features(recipe["features"]))
    parts.append(render_preprocess(recipe["preprocess"]))
    if "target" in recipe:
        parts.append(render_target(recipe["target"]))
    parts.append(render_model(recipe["model"], shape.estimator))
    parts.append(shape_code(shape, task))
    key = (task.get("label_source") or {}).get("key") or task["id_column"]
    parts.append(_fit_predict("features" in recipe, key in (task.get("text_columns") or [])))
    parts.append(_main(shape, task))
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts)


def shape_code(shape: Shape, task: dict) -> str:
    """The shape's functions: truth encoding, one model's fit, output columns, the metric."""
    parts = [encode_truth(shape), fit_model(shape), to_output(shape), render_metric(shape)]
    if shape.ordinal:
        parts.append(THRESHOLDS)
    if shape.proxy:
        parts.append(f"METRIC_NOTE = {('a stand-in: ' + shape.metric_title + ', because mle-star cannot compute ' + task['metric_title'])!r}\n")
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
