"""Scoring a prediction frame against held-out answers, for every output shape mle-star knows.

Scripts write predictions for held-out rows; the agent keeps the answers private and scores
them here, so a validation score never depends on a script computing its own metric.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, NotRequired

import numpy as np
import pandas as pd
from typing_extensions import TypedDict

from mle_star.tools.scoring.metrics import Metric, refine

Kind = Literal["label", "probability", "class_probabilities", "targets", "multilabel", "ranked_labels"]
KINDS: tuple[str, ...] = ("label", "probability", "class_probabilities", "targets", "multilabel", "ranked_labels")
PROBABILITY_KINDS = {"probability", "class_probabilities", "multilabel"}
NUMERIC_KINDS = PROBABILITY_KINDS | {"targets"}


class OutputSpec(TypedDict):
    id_column: str
    columns: list[str]  # prediction columns of sample_submission, in order (id excluded)
    # label: one column of class labels (strings or ints; ordinal for qwk)
    # probability: one column, probability of the positive class of a binary label
    # class_probabilities: one column per class; the column names are the class names
    # targets: one or more numeric regression columns
    # multilabel: one 0/1 probability column per label
    # ranked_labels: one column of space-separated labels, best first (MAP@k)
    kind: Kind
    # truth columns in the answers frame: one for label/probability/class_probabilities/
    # ranked_labels; one per prediction column (same order) for targets/multilabel
    label_columns: list[str]
    classes: list[str]  # class names as strings (label, probability, class_probabilities, ranked_labels)
    positive_class: str | None  # for probability: the positive class value, as a string
    order: NotRequired[list[str]]  # the sample's columns in its order (the id need not be first)
    copied: NotRequired[list[str]]  # sample columns that copy the test rows' own (not predicted)


def sample_order(spec: OutputSpec) -> list[str]:
    """The columns a submission is written with, in the sample's order."""
    return list(spec.get("order") or [spec["id_column"], *spec["columns"]])


class InvalidPredictions(ValueError):
    """Predictions that cannot be scored; the message is one line a user can act on."""


# Which canonical input each metric needs; refine() has already matched it to the shape.
LABEL_METRICS = {"accuracy", "f1", "macro_f1", "micro_f1", "weighted_f1", "qwk"}
REGRESSION_METRICS = {
    "rmse", "mse", "rmsle", "mae", "medae", "r2", "mape", "smape",
    "mean_column_rmse", "mean_column_rmsle", "mean_column_mae",
}
_INTEGER_TEXT = re.compile(r"[+-]?\d+(?:\.0*)?")


# ---------------------------------------------------------------- values as strings


def _text(value: Any) -> str:
    """One id or label as a string; integral numbers lose a '.0' so 3, 3.0 and '3.0' agree."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    if _INTEGER_TEXT.fullmatch(text):
        return str(int(text.split(".")[0]))
    return text


def as_strings(values: pd.Series | list[Any]) -> np.ndarray:
    """Ids or labels as comparable strings (see ``_text``); callers reject missing values first."""
    return np.array([_text(v) for v in values], dtype=object)


def _example(values: Any) -> str:
    first = next(iter(values))
    return f"'{first}'"


def id_problem(found: pd.Series, expected: np.ndarray, column: str, what: str) -> str | None:
    """Why the ids in ``found`` are not exactly ``expected`` (unique, none missing or extra)."""
    if found.isna().any():
        return f"{int(found.isna().sum())} rows of {what} have no '{column}'"
    ids = pd.Series(as_strings(found))
    dup = ids[ids.duplicated()]
    if len(dup):
        return f"duplicate ids in '{column}' of {what} (e.g. {_example(dup)})"
    wanted, present = set(expected), set(ids)
    missing, extra = [i for i in expected if i not in present], [i for i in ids if i not in wanted]
    if missing:
        return f"{what} lack {len(missing)} of the {len(wanted)} expected ids (e.g. {_example(missing)})"
    if extra:
        return f"{what} have {len(extra)} ids that are not expected (e.g. {_example(extra)})"
    return None


# ---------------------------------------------------------------- value checks


def _numbers(values: pd.Series, column: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[numbers.isna()]
    if len(bad):
        raise InvalidPredictions(f"column '{column}' has non-numeric values (e.g. {_example(bad)})")
    arr = numbers.to_numpy(dtype=float)
    if not np.isfinite(arr).all():
        raise InvalidPredictions(f"column '{column}' has infinite values")
    return arr


def check_values(frame: pd.DataFrame, spec: OutputSpec, *, known_labels: bool = True) -> None:
    """Raise InvalidPredictions unless the prediction columns hold values the kind allows.

    Probabilities must lie in [0, 1]; class-probability rows need not sum to 1 (they are
    rescaled, as Kaggle does) but must not be all zero; labels must be known classes when
    ``known_labels`` and the spec lists classes; ranked labels must be non-empty.
    """
    kind = spec["kind"]
    classes = set(as_strings(spec["classes"]))
    for column in spec["columns"]:
        values = frame[column]
        if values.isna().any():
            raise InvalidPredictions(f"column '{column}' has {int(values.isna().sum())} missing values")
        if kind in NUMERIC_KINDS or pd.api.types.is_numeric_dtype(values):
            numbers = _numbers(values, column)
            outside = numbers[(numbers < 0) | (numbers > 1)]
            if kind in PROBABILITY_KINDS and len(outside):
                raise InvalidPredictions(f"column '{column}' has probabilities outside [0, 1] (e.g. {outside[0]:g})")
        if kind == "ranked_labels" and (values.astype(str).str.strip() == "").any():
            raise InvalidPredictions(f"column '{column}' has empty label lists")
        if kind == "label" and known_labels and classes:
            unknown = [v for v in as_strings(values) if v not in classes]
            if unknown:
                raise InvalidPredictions(
                    f"column '{column}' has labels that are not known classes (e.g. {_example(unknown)}; "
                    f"classes: {', '.join(sorted(classes)[:10])})"
                )
    if kind == "class_probabilities":
        sums = frame[spec["columns"]].apply(pd.to_numeric).sum(axis=1).to_numpy()
        if (sums <= 0).any():
            raise InvalidPredictions("a row of class probabilities is all zero, so it cannot be rescaled")


def _require_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidPredictions(f"{what} lack column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}")


# ---------------------------------------------------------------- canonical arrays per kind


def _unsupported(metric: Metric, kind: str) -> InvalidPredictions:
    return InvalidPredictions(f"{metric.title} cannot score '{kind}' predictions")


def _positive_class(spec: OutputSpec, truth: np.ndarray) -> str:
    """The positive class: the spec's, else '1'/'true'/'yes', else the last class in sort order."""
    if spec.get("positive_class") is not None:
        return _text(spec["positive_class"])
    values = sorted(set(as_strings(spec["classes"])) or set(truth))
    for candidate in ("1", "true", "yes", "positive"):
        for value in values:
            if value.lower() == candidate:
                return value
    return values[-1]


def _ratings(truth: np.ndarray, pred: np.ndarray, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer ratings for qwk: numbers as they are (predictions rounded), else class order."""
    t_num = pd.to_numeric(pd.Series(truth), errors="coerce")
    p_num = pd.to_numeric(pd.Series(pred), errors="coerce")
    if t_num.notna().all() and p_num.notna().all():
        return t_num.to_numpy(dtype=float), np.round(p_num.to_numpy(dtype=float))
    order = {c: i for i, c in enumerate(as_strings(classes))}
    truth_s, pred_s = as_strings(truth), as_strings(pred)
    if order and all(v in order for v in [*truth_s, *pred_s]):
        return np.array([order[v] for v in truth_s]), np.array([order[v] for v in pred_s])
    raise InvalidPredictions("quadratic weighted kappa needs numeric ratings or an ordered class list covering every label")


def _label_pair(metric: Metric, spec: OutputSpec, truth: np.ndarray, pred: np.ndarray) -> tuple[Any, Any]:
    """Truth and predicted labels (strings) in the form a label metric needs."""
    if metric.name == "qwk":
        return _ratings(truth, pred, spec["classes"])
    if metric.name == "f1":
        positive = _positive_class(spec, truth)
        return (truth == positive).astype(int), (pred == positive).astype(int)
    return truth, pred


def _from_labels(metric: Metric, spec: OutputSpec, answers: pd.DataFrame, preds: pd.DataFrame) -> tuple[Any, Any]:
    truth = as_strings(answers[spec["label_columns"][0]])
    column = spec["columns"][0]
    if metric.name == "qwk":
        return _ratings(truth, preds[column].to_numpy(), spec["classes"])
    if metric.name in LABEL_METRICS:
        return _label_pair(metric, spec, truth, as_strings(preds[column]))
    if metric.name in REGRESSION_METRICS:  # numeric labels, e.g. an ordinal scored by RMSE
        return _numbers(answers[spec["label_columns"][0]], "answers"), _numbers(preds[column], column)
    raise _unsupported(metric, "label")


def _from_probability(metric: Metric, spec: OutputSpec, answers: pd.DataFrame, preds: pd.DataFrame) -> tuple[Any, Any]:
    truth = as_strings(answers[spec["label_columns"][0]])
    if len(set(truth)) > 2:
        raise InvalidPredictions(f"one probability column needs a binary label, but the answers have {len(set(truth))} classes")
    y = (truth == _positive_class(spec, truth)).astype(int)
    p = preds[spec["columns"][0]].to_numpy(dtype=float)
    if metric.name in {"auc", "logloss"} | REGRESSION_METRICS:
        return y, p
    if metric.name in LABEL_METRICS:  # a label metric on a probability: threshold as predict() does
        return y, (p > 0.5).astype(int)
    raise _unsupported(metric, "probability")


def _column_classes(spec: OutputSpec, truth: np.ndarray) -> list[str]:
    """The class each probability column stands for: its name, or the spec's class at that place."""
    names = list(as_strings(spec["columns"]))
    classes = list(as_strings(spec["classes"]))
    if not set(truth) <= set(names) and len(classes) == len(names) and set(truth) <= set(classes):
        return classes
    return names


def _from_class_probabilities(metric: Metric, spec: OutputSpec, answers: pd.DataFrame, preds: pd.DataFrame) -> tuple[Any, Any]:
    truth = as_strings(answers[spec["label_columns"][0]])
    classes = _column_classes(spec, truth)
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(truth) - set(index))
    if unknown:
        raise InvalidPredictions(f"the held-out label '{unknown[0]}' has no probability column")
    y = np.array([index[t] for t in truth])
    probs = preds[spec["columns"]].to_numpy(dtype=float)
    probs = probs / probs.sum(axis=1, keepdims=True)  # Kaggle rescales each row to sum 1
    if metric.name == "multi_logloss":
        return y, probs
    if metric.name == "mean_column_auc":  # one-vs-rest
        return np.eye(len(classes), dtype=int)[y], probs
    if metric.name in LABEL_METRICS:
        return _label_pair(metric, spec, truth, np.array(classes, dtype=object)[probs.argmax(axis=1)])
    raise _unsupported(metric, "class_probabilities")


def _truth_matrix(answers: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return np.column_stack([_numbers(answers[c], c) for c in columns])


def _from_targets(metric: Metric, spec: OutputSpec, answers: pd.DataFrame, preds: pd.DataFrame) -> tuple[Any, Any]:
    y = _truth_matrix(answers, spec["label_columns"])
    p = preds[spec["columns"]].to_numpy(dtype=float)
    if metric.name in REGRESSION_METRICS:
        return y, p
    if metric.name == "qwk" and y.shape[1] == 1:  # an ordinal target predicted as a number
        return y[:, 0], np.round(p[:, 0])
    raise _unsupported(metric, "targets")


def _from_multilabel(metric: Metric, spec: OutputSpec, answers: pd.DataFrame, preds: pd.DataFrame) -> tuple[Any, Any]:
    y = _truth_matrix(answers, spec["label_columns"])
    if not np.isin(y, (0, 1)).all():
        raise InvalidPredictions("multilabel answers must be 0 or 1")
    if metric.name in {"multilabel_logloss", "mean_column_auc"}:
        return y, preds[spec["columns"]].to_numpy(dtype=float)
    raise _unsupported(metric, "multilabel")


def _from_ranked_labels(metric: Metric, spec: OutputSpec, answers: pd.DataFrame, preds: pd.DataFrame) -> tuple[Any, Any]:
    if not (metric.name == "map" or metric.name.startswith("map@")):
        raise _unsupported(metric, "ranked_labels")
    truth = [set(str(v).split()) for v in answers[spec["label_columns"][0]]]
    return truth, [str(v).split() for v in preds[spec["columns"][0]]]


_BUILDERS = {
    "label": _from_labels,
    "probability": _from_probability,
    "class_probabilities": _from_class_probabilities,
    "targets": _from_targets,
    "multilabel": _from_multilabel,
    "ranked_labels": _from_ranked_labels,
}


def _check_spec(spec: OutputSpec) -> None:
    if spec["kind"] not in KINDS:
        raise InvalidPredictions(f"unknown output kind '{spec['kind']}' (known: {', '.join(KINDS)})")
    if not spec["columns"]:
        raise InvalidPredictions("the output spec names no prediction columns")
    per_column = spec["kind"] in {"targets", "multilabel"}
    wanted = len(spec["columns"]) if per_column else 1
    if len(spec["label_columns"]) != wanted:
        raise InvalidPredictions(f"'{spec['kind']}' output needs {wanted} answer column(s), the spec has {len(spec['label_columns'])}")


def score_predictions(metric: Metric, spec: OutputSpec, answers: pd.DataFrame, predictions: pd.DataFrame) -> float:
    """The metric's score of ``predictions`` against the held-out ``answers``.

    Rows are matched by id (compared as strings, any order); the metric is first refined to
    the output shape (e.g. log loss on class probabilities is multi-class log loss).
    Raises InvalidPredictions with a one-line reason when the frame cannot be scored.
    """
    metric, truth, pred = scoring_pair(metric, spec, answers, predictions)
    return compute_score(metric, truth, pred)


def scoring_pair(metric: Metric, spec: OutputSpec, answers: pd.DataFrame, predictions: pd.DataFrame
                 ) -> tuple[Metric, Any, Any]:
    """(the metric refined to the output shape, truth, predictions), rows in the answers' order:
    what ``metric.compute`` takes (resampling them is a bootstrap of the held-out score)."""
    if not metric.implemented:
        raise InvalidPredictions(f"mle-star cannot compute {metric.title}; the script must report its own score")
    _check_spec(spec)
    kind, id_column = spec["kind"], spec["id_column"]
    metric = refine(metric, kind, len(spec["columns"]))
    _require_columns(answers, [id_column, *spec["label_columns"]], "the answers")
    _require_columns(predictions, [id_column, *spec["columns"]], "the predictions")
    for column in spec["label_columns"]:
        if answers[column].isna().any():
            raise InvalidPredictions(f"the answers have missing labels in '{column}'")
    if answers[id_column].isna().any() or answers[id_column].duplicated().any():
        raise InvalidPredictions(f"the answers' ids in '{id_column}' are missing or repeated")
    expected = as_strings(answers[id_column])
    problem = id_problem(predictions[id_column], expected, id_column, "the predictions")
    if problem:
        raise InvalidPredictions(problem)
    position = {v: i for i, v in enumerate(as_strings(predictions[id_column]))}
    preds = predictions.iloc[[position[i] for i in expected]].reset_index(drop=True)
    answers = answers.reset_index(drop=True)
    check_values(preds, spec, known_labels=metric.name != "qwk")
    truth, pred = _BUILDERS[kind](metric, spec, answers, preds)
    return metric, truth, pred


def compute_score(metric: Metric, truth: Any, pred: Any) -> float:
    """``metric.compute``, with a one-line InvalidPredictions for what it cannot score."""
    try:
        score = metric.compute(truth, pred)
    except ValueError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidPredictions(f"cannot compute {metric.title}: {reason}") from None
    if not math.isfinite(score):
        raise InvalidPredictions(f"{metric.title} is not a finite number for these predictions")
    return score
