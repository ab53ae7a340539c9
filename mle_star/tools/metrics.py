"""Evaluation metrics: names, direction, and how to spot them in a task description.

Scores are kept in the metric's own units everywhere; ``is_better`` is the single place
that knows which way is up, so lower-is-better metrics are handled at every comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    needs_proba: bool  # submission holds probabilities/scores rather than labels
    title: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("auc", True, True, "area under the ROC curve"),
        Metric("accuracy", True, False, "classification accuracy"),
        Metric("f1", True, False, "F1 score (binary)"),
        Metric("macro_f1", True, False, "macro-averaged F1"),
        Metric("logloss", False, True, "binary log loss"),
        Metric("multi_logloss", False, True, "multi-class log loss"),
        Metric("rmse", False, False, "root mean squared error"),
        Metric("rmsle", False, False, "root mean squared logarithmic error"),
        Metric("mae", False, False, "mean absolute error"),
        Metric("r2", True, False, "coefficient of determination"),
    ]
}

ALIASES = {
    "roc_auc": "auc", "rocauc": "auc", "acc": "accuracy", "log_loss": "logloss",
    "mlogloss": "multi_logloss", "multiclass_logloss": "multi_logloss", "f1_macro": "macro_f1",
    "mse_log": "rmsle",
}

# Ordered: more specific phrases first ("logarithmic error" before "log loss").
_PATTERNS: list[tuple[str, str]] = [
    (r"root mean squared? log(arithmic)? error|\brmsle\b", "rmsle"),
    (r"multi-?class (logarithmic |log )?loss|\bmlogloss\b", "multi_logloss"),
    (r"\blog(arithmic)? ?loss\b|cross[- ]entropy|\blogloss\b", "logloss"),
    (r"area under the (roc )?curve|\broc[- ]?auc\b|\bauc\b", "auc"),
    (r"macro[- ]?(averaged )?f1|f1[- ]macro", "macro_f1"),
    (r"\bf1\b", "f1"),
    (r"root mean squared? error|\brmse\b", "rmse"),
    (r"mean absolute error|\bmae\b", "mae"),
    (r"\br2\b|r-squared|coefficient of determination", "r2"),
    (r"\baccuracy\b", "accuracy"),
]


class UnknownMetric(ValueError):
    pass


def get_metric(name: str) -> Metric:
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in METRICS:
        raise UnknownMetric(f"unknown metric '{name}' (known: {', '.join(sorted(METRICS))})")
    return METRICS[key]


def detect_metric(description: str) -> Metric | None:
    """The metric a task description names, preferring its Evaluation section."""
    text = description.lower()
    match = re.search(r"#+\s*evaluation(.*?)(\n#+\s|\Z)", text, flags=re.S)
    for chunk in ([match.group(1)] if match else []) + [text]:
        for pattern, name in _PATTERNS:
            if re.search(pattern, chunk):
                return METRICS[name]
    return None


def is_better(new: float | None, old: float | None, lower_is_better: bool, strict: bool = True) -> bool:
    """True when ``new`` beats ``old``; a missing score never beats anything."""
    if new is None:
        return False
    if old is None:
        return True
    if strict:
        return new < old if lower_is_better else new > old
    return new <= old if lower_is_better else new >= old


def ranked(items: list[dict], lower_is_better: bool) -> list[dict]:
    """The items with a ``score``, best first; equal scores keep their order."""
    scored = [item for item in items if item.get("score") is not None]
    return sorted(scored, key=lambda item: item["score"], reverse=not lower_is_better)


def best_of(items: list[dict], lower_is_better: bool) -> dict | None:
    """The scored item with the best ``score`` (first wins ties); None if none scored."""
    order = ranked(items, lower_is_better)
    return order[0] if order else None
