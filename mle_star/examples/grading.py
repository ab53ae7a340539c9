"""Grading a submission with a task's task.json, as MLE-bench's graders do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

# ---------------------------------------------------------------- grading


def _by_id(frame: pd.DataFrame, id_column: str, columns: list[str], ids: pd.Series, what: str) -> pd.DataFrame:
    absent = [c for c in [id_column, *columns] if c not in frame.columns]
    if absent:
        raise ValueError(f"{what} lacks the columns {absent}")
    keyed = frame.assign(**{id_column: frame[id_column].astype(str)}).set_index(id_column)
    if keyed.index.duplicated().any():
        raise ValueError(f"{what} has duplicate ids")
    missing = set(ids) - set(keyed.index)
    if missing:
        raise ValueError(f"{what} lacks {len(missing)} test ids, e.g. {sorted(missing)[0]}")
    return keyed.loc[ids, columns]


def _apk(actual: str, predicted: str, k: int) -> float:
    """Average precision at k with one true label: 1/rank of its first mention in the top k."""
    ranked = str(predicted).split()[:k]
    return 1 / (ranked.index(actual) + 1) if actual in ranked else 0.0


def score_submission(task_dir: str | Path, submission: pd.DataFrame | str | Path, meta: dict | None = None) -> float:
    """Grade ``submission`` against the task's private answers, with the metric in task.json."""
    from sklearn.metrics import accuracy_score, cohen_kappa_score, roc_auc_score

    task = Path(task_dir)
    meta = meta or json.loads((task / "task.json").read_text())
    idc, metric = meta["id_column"], meta["metric"]
    sub = submission if isinstance(submission, pd.DataFrame) else pd.read_csv(submission, dtype={idc: str})
    answers = pd.read_csv(task / "private" / "answers.csv", dtype={idc: str})
    if meta.get("positional"):  # no id column (detecting-insults): row i answers test row i
        if len(sub) != len(answers):
            raise ValueError(f"the submission has {len(sub)} rows; the test set has {len(answers)}")
        sub, answers = (f.assign(**{idc: [str(i) for i in range(len(f))]}) for f in (sub, answers))
    ids = answers[idc].astype(str)
    truth = answers.set_index(idc).loc[ids, meta["answer_columns"]]
    pred = _by_id(sub, idc, meta["prediction_columns"], ids, "the submission")
    if metric == "accuracy":
        return float(accuracy_score(truth.iloc[:, 0].astype(str), pred.iloc[:, 0].astype(str)))
    if metric == "qwk":
        return float(cohen_kappa_score(truth.iloc[:, 0].astype(int), pred.iloc[:, 0].astype(int), weights="quadratic"))
    if metric.startswith("map@"):
        k = int(metric[4:])
        return float(np.mean([_apk(str(a), p, k) for a, p in zip(truth.iloc[:, 0], pred.iloc[:, 0], strict=True)]))
    if metric == "multi_logloss":  # Kaggle: clip to [1e-15, 1 - 1e-15], rescale rows to sum 1
        p = np.clip(pred.to_numpy(float), 1e-15, 1 - 1e-15)
        p /= p.sum(axis=1, keepdims=True)
        column = {c: i for i, c in enumerate(meta["prediction_columns"])}
        rows = [column[str(v)] for v in truth.iloc[:, 0]]
        return float(-np.mean(np.log(p[np.arange(len(rows)), rows])))
    y, p = truth.to_numpy(float), pred.to_numpy(float)
    if metric == "logloss":  # binary: one probability column, clipped like Kaggle's
        q = np.clip(p[:, 0], 1e-15, 1 - 1e-15)
        return float(-np.mean(y[:, 0] * np.log(q) + (1 - y[:, 0]) * np.log(1 - q)))
    if metric in ("auc", "mean_column_auc"):
        return float(np.mean([roc_auc_score(y[:, j], p[:, j]) for j in range(y.shape[1])]))
    if metric in ("rmse", "mean_column_rmse"):
        return float(np.mean(np.sqrt(np.mean((y - p) ** 2, axis=0))))
    if metric in ("rmsle", "mean_column_rmsle"):
        p = np.maximum(p, 0)  # a negative prediction has no logarithm; score it as 0
        return float(np.mean(np.sqrt(np.mean((np.log1p(p) - np.log1p(y)) ** 2, axis=0))))
    raise ValueError(f"no grader for metric {metric!r}")




def grade(task_dir: str | Path, submission: str | Path) -> dict:
    """A grader for ``mle-star bench --grader``: validity against the sample, then the score."""
    from mle_star.tools.scoring.submission import InvalidSubmission, validate_submission

    try:
        validate_submission(submission, Path(task_dir) / "public" / "sample_submission.csv")
    except (InvalidSubmission, FileNotFoundError) as exc:
        return {"valid_submission": False, "score": None, "error": str(exc)}
    return {"valid_submission": True, "score": score_submission(task_dir, submission)}


