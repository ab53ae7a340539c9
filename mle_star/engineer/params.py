"""Model families and their starting parameters, tuned to the task's size.

A model's parameters start from the task's size (rows the script trains on, feature columns,
classes): tiny data gets fewer, shallower trees and no early stopping (there are too few rows
to set a slice aside); larger data gets more trees at a lower learning rate, stopped early on
a slice of the training rows. Multi-class boosting grows one tree per class and round, so
many classes get a higher learning rate and fewer rounds to stay within about a minute on
two cores. LightGBM is a dependency; CatBoost (the ``[catboost]`` extra) is offered only when it
can be imported.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mle_star.engineer.neural import cnn_params, is_neural

BOOSTED = ("xgboost", "lightgbm", "catboost", "hgb")  # families whose trees are grown in rounds
FAMILIES = ("xgboost", "lightgbm", "catboost", "hgb", "random_forest", "extra_trees", "linear", "prior")
MODULES = {"xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost"}
STOP_ROUNDS = 50  # rounds without gain on the stopping slice before boosting stops
# Patience where the boosting's own loss is the task's metric: AutoGluon's rule, 300 rounds up to
# 10,000 fitting rows and proportionally fewer above (never below STOP_ROUNDS).
LONG_STOP_ROUNDS, LONG_STOP_ROWS = 300, 10000
# Metrics that rank predictions as squared error or log loss does: the loss boosting minimises.
LOSS_METRICS = ("rmse", "mse", "rmsle", "r2", "mean_column_rmse", "mean_column_rmsle", "logloss",
                "multi_logloss", "multilabel_logloss")


@cache
def available(family: str) -> bool:
    """Whether a family's library can be imported here (scripts run in the same environment)."""
    module = MODULES.get(family)
    return module is None or importlib.util.find_spec(module) is not None


def usable(family: str) -> str:
    """``family`` when its library is installed, else the closest family that is."""
    if available(family):
        return family
    return "lightgbm" if family == "catboost" and available("lightgbm") else "xgboost"


@dataclass(frozen=True)
class Size:
    """How big a task is for a model: rows it fits on, feature columns, classes (0: regression)."""

    rows: int
    features: int
    classes: int

    @property
    def tier(self) -> str:
        if self.rows < 1500:
            return "tiny"
        return "small" if self.rows < 8000 else "large"


def size_of(task: dict, subsample: int = 30000) -> Size:
    """The task's size as a search script sees it (80% of the subsampled rows fit the models)."""
    rows = int(0.8 * min(int(task.get("n_train") or 1000), subsample))
    classes = len(task.get("classes") or []) if task.get("task_type") in ("binary", "multiclass", "ranking") else 0
    text = 5000 if task.get("text_columns") else 0  # TF-IDF columns
    return Size(rows=rows, features=_feature_count(task) + text, classes=classes)


def _feature_count(task: dict) -> int:
    """Feature columns: the label table's header less key and labels; a guess for items."""
    if task.get("train_items") or task.get("test_items"):
        return {"image": 400, "audio": 110}.get(task.get("modality", ""), 100)
    source = task.get("label_source") or {}
    if source.get("format", "csv") == "csv" and source.get("origin") and task.get("data_dir"):
        header = _header(str(Path(task["data_dir"]) / source["origin"]))
        if header:
            dropped = {source.get("key"), *(source.get("label_columns") or [])}
            return max(1, len([c for c in header if c not in dropped]))
    return 20


@cache
def _header(path: str) -> tuple[str, ...]:
    try:
        import pandas as pd

        return tuple(str(c) for c in pd.read_csv(path, nrows=0, sep="\t" if ".tsv" in path else ",").columns)
    except Exception:  # noqa: BLE001 - an unreadable header only loses the feature count
        return ()


def _column_share(size: Size) -> float:
    """Columns sampled per tree: all of a few, fewer of many (decorrelates trees, saves time)."""
    return 1.0 if size.features <= 8 else 0.8 if size.features <= 40 else 0.5


def _rounds(size: Size, tiny: int, small: int, large: int) -> tuple[int, float]:
    """(trees, learning rate) for the tier, with fewer, larger steps when there are many classes
    (one tree per class and round) or thousands of TF-IDF columns."""
    trees, rate = {"tiny": (tiny, 0.05), "small": (small, 0.03), "large": (large, 0.05)}[size.tier]
    if size.classes > 6:
        trees, rate = max(150, trees * 10 // size.classes), 0.06
    if size.features > 1000:
        trees, rate = min(trees, 600), 0.05
    return trees, rate


def default_params(family: str, task: dict) -> dict[str, Any]:
    """Starting parameters of a family's estimator for this task."""
    size = size_of(task)
    regression = task.get("task_type") in ("regression", "multi_regression", "ordinal")
    if family == "xgboost":
        trees, rate = _rounds(size, 300, 1500, 2000)
        return {"n_estimators": trees, "learning_rate": rate, "max_depth": 4 if size.tier == "tiny" else 6,
                "subsample": 0.8, "colsample_bytree": _column_share(size), "min_child_weight": 1,
                "reg_lambda": 1.0}
    if family == "lightgbm":
        trees, rate = _rounds(size, 300, 1500, 2000)
        return {"n_estimators": trees, "learning_rate": rate,
                "num_leaves": {"tiny": 15, "small": 31, "large": 63}[size.tier],
                "min_child_samples": 10 if size.tier == "tiny" else 20, "subsample": 0.8, "subsample_freq": 1,
                "colsample_bytree": _column_share(size), "reg_lambda": 1.0}
    if family == "catboost":  # symmetric trees are cheap: more rounds, stopped early (AutoGluon's 0.05 rate)
        trees, rate = _rounds(size, 500, 3000, 4000)
        return {"iterations": trees, "learning_rate": max(rate, 0.05), "depth": 6, "l2_leaf_reg": 3.0}
    if family == "hgb":
        trees, rate = _rounds(size, 200, 800, 1000)
        params: dict[str, Any] = {"max_iter": trees, "learning_rate": rate, "max_leaf_nodes": 31,
                                  "l2_regularization": 0.0}
        if size.tier != "tiny":
            params |= {"early_stopping": True, "validation_fraction": 0.1, "n_iter_no_change": 30}
        return params
    if family in ("random_forest", "extra_trees"):
        leaf = 1 if family == "random_forest" else 2
        return {"n_estimators": 300 if size.tier != "large" else 200, "min_samples_leaf": leaf,
                "max_features": 0.5 if regression else "sqrt"}
    if family == "linear":
        return {"alpha": 1.0} if regression else {"C": 1.0}
    if family == "prior":
        return {}
    if family == "resnet":
        from mle_star.engineer.pretrained import finetune_params

        return finetune_params(task, size.rows)
    if is_neural(family):
        return cnn_params(task, size.rows)
    raise ValueError(f"unknown model family '{family}'")


def default_model(family: str, task: dict) -> dict[str, Any]:
    """One model entry of a recipe's blend: its family, parameters, weight and training extras
    (``stop``: early-stopping rounds on a slice of the training rows; ``seeds``: copies averaged)."""
    entry: dict[str, Any] = {"family": family, "params": default_params(family, task), "weight": 1.0}
    if family in ("xgboost", "lightgbm", "catboost") and size_of(task).tier != "tiny":
        entry["stop"] = stop_rounds(task)
    return entry


def stop_rounds(task: dict) -> int:
    """Rounds without gain on the stopping slice before boosting stops.

    Where the stopping loss is the task's metric (squared error, log loss), the small gains late
    in boosting are real: on bikeshare, ames and hpc-job-class, 300 rounds of patience instead of
    50 improved the test score of LightGBM, XGBoost and CatBoost in each of the 14 fits (of 18)
    that it changed. Where the metric only ranks or labels (AUC, accuracy) the log loss keeps improving while the
    metric does not (telco AUC: 0.850 -> 0.847 for CatBoost), so patience stays short and cheap.
    """
    if str(task.get("metric", "")).lower() not in LOSS_METRICS:
        return STOP_ROUNDS
    rows = size_of(task).rows
    return max(STOP_ROUNDS, round(LONG_STOP_ROUNDS * min(1.0, LONG_STOP_ROWS / max(rows, 1))))
