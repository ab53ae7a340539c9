"""The prior submission: what the agent submits itself when no script yielded a valid one.

MLE-STAR's promise is a valid submission for every task. When every script failed (the data
could not be decoded, the sandbox refused, the model wrote nothing that runs), the agent
computes the best answer that needs no model, in its own trusted process: the training labels'
class frequencies, majority class or mean, whichever the metric rewards; with no labels it
located, the sample submission itself. It is scored on the held-out rows like any solution,
so the report can say how far from solved the task is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.state import Task
from mle_star.tools.scoring.held_out import OutputSpec, as_strings, sample_order, score_predictions
from mle_star.tools.task.inventory import open_table


@dataclass(frozen=True)
class Prior:
    """The prior's values for one row, and how they were reached (one phrase for people)."""

    values: dict[str, object]
    how: str


def _labels(task: Task, views: dict[str, dict[str, str]]) -> pd.DataFrame | None:
    """The training labels (every labelled row), or None when the task has none the agent reads."""
    source = task.get("label_source")
    if not source or source.get("format") != "csv":
        return None
    path = views.get("full", {}).get(source["file"])
    if not path or not Path(path).is_file():
        return None
    try:
        frame = open_table(Path(path), nrows=None, usecols=source["label_columns"], dtype=str,
                           keep_default_na=True)
    except Exception:  # noqa: BLE001 - no prior from labels that cannot be read: the sample is the answer
        return None
    return frame.dropna()


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)


def _centre(values: np.ndarray, metric: str) -> tuple[float, str]:
    """The constant the metric rewards: median for absolute errors, geometric for log errors."""
    if "mae" in metric or "absolute" in metric:
        return float(np.median(values)), "the training median"
    if "rmsle" in metric or "msle" in metric:
        return float(np.expm1(np.mean(np.log1p(np.maximum(values, 0))))), "the training mean in log space"
    return float(np.mean(values)), "the training mean"


def compute_prior(task: Task, labels: pd.DataFrame | None) -> Prior | None:
    """The prior's values for every row, or None when the labels say nothing (use the sample)."""
    spec: OutputSpec = task["output"]
    kind, columns, metric = spec["kind"], spec["columns"], task["metric"]
    if labels is None or labels.empty or task.get("image_targets"):
        return None
    first = labels[spec["label_columns"][0]].astype(str)
    if kind == "label":
        top = Counter(as_strings(first)).most_common(1)[0][0]
        return Prior({columns[0]: top}, f"the most frequent training label ('{top}')")
    if kind == "probability":
        positive = spec.get("positive_class") or "1"
        rate = float((as_strings(first) == str(positive)).mean())
        return Prior({columns[0]: rate}, f"the training rate of '{positive}' ({rate:.3f})")
    if kind == "class_probabilities":
        counts = Counter(as_strings(first))
        total = sum(counts[c] for c in spec["classes"]) or 1
        shares: dict[str, object] = {col: (counts[cls] + 0.5) / (total + 0.5 * len(columns))  # never 0: log loss is infinite
                  for col, cls in zip(columns, spec["classes"], strict=False)}
        return Prior(shares, "the training class frequencies")
    if kind == "ranked_labels":
        ranked = [c for c, _ in Counter(as_strings(first)).most_common(10)]
        return Prior({columns[0]: " ".join(ranked)}, "the most frequent training labels, in order")
    if kind in ("targets", "multilabel"):
        values: dict[str, object] = {}
        how = "the training mean of each column"
        for column, label in zip(columns, spec["label_columns"], strict=True):
            numbers = _numbers(labels[label])
            if not len(numbers):
                return None
            values[column], how = _centre(numbers, metric) if kind == "targets" else (float(numbers.mean()), how)
        return Prior(values, how if len(columns) == 1 else how + " (per column)")
    return None


def _fill(ids: pd.DataFrame, prior: Prior, spec: OutputSpec) -> pd.DataFrame:
    frame = ids.copy()
    for column, value in prior.values.items():
        frame[column] = value
    return frame[[c for c in sample_order(spec) if c in frame.columns]]


def write_prior(task: Task, views: dict[str, dict[str, str]], sample: Path, out: Path) -> str:
    """Write the prior submission to ``out`` (the sample's ids and column order) and say what it is."""
    spec = task["output"]
    frame = open_table(sample, nrows=None, dtype=str, keep_default_na=False)
    prior = compute_prior(task, _labels(task, views))
    out.parent.mkdir(parents=True, exist_ok=True)
    if prior is None:
        frame.to_csv(out, index=False)
        return "a copy of the sample submission (no training labels to compute a prior from)"
    _fill(frame[[spec["id_column"]]], prior, spec).to_csv(out, index=False)
    return f"the prior: {prior.how}"


def prior_score(task: Task, views: dict[str, dict[str, str]], answers_path: str) -> float | None:
    """The prior's score on the agent's held-out rows (None when the agent holds none out)."""
    from mle_star.tools.scoring.metrics import metric_of
    from mle_star.tools.task.dataview import load_answers

    if task.get("scoring") != "agent" or not answers_path or not Path(answers_path).is_file():
        return None
    prior = compute_prior(task, _labels(task, views))
    if prior is None:
        return None
    answers = load_answers(answers_path)
    spec = task["output"]
    ids = answers[[spec["id_column"]]] if spec["id_column"] in answers else answers.iloc[:, :1]
    try:
        return float(score_predictions(metric_of(task), spec, answers, _fill(ids, prior, spec)))
    except Exception:  # noqa: BLE001 - a score is a nicety here; the submission is what matters
        return None
