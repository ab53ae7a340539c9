"""Evaluation metrics: names, direction, computation, and how to spot them in a description.

Scores stay in the metric's own units everywhere; ``Metric.better`` is the single place that
knows which way is up, so lower-is-better metrics are handled at every comparison.

What ``Metric.compute(truth, pred)`` expects (canonical arrays; ``mle_star.tools.scoring.held_out``
builds them from a prediction file):

=====================  ===========================================  ===============================
metric                 truth                                        pred
=====================  ===========================================  ===============================
auc                    (n,) 0/1                                     (n,) scores or probabilities
logloss                (n,) 0/1                                     (n,) P(positive), clipped 1e-15
multi_logloss          (n,) class index 0..C-1                      (n, C) probabilities; rows are
                                                                    rescaled to sum 1, then clipped
multilabel_logloss     (n, L) 0/1                                   (n, L) probabilities
mean_column_auc        (n, L) 0/1                                   (n, L) scores; constant truth
                                                                    columns are skipped
accuracy, macro_f1,    (n,) labels (any comparable values)          (n,) labels
micro_f1, weighted_f1
f1                     (n,) 0/1, 1 = positive class                 (n,) 0/1
qwk                    (n,) integer ratings                         (n,) integer ratings
rmse, mse, rmsle, mae, (n,) or (n, L) numbers                       same shape; with L > 1 the
medae, r2, mape, smape                                              per-column scores are averaged
mean_column_rmse/      (n, L) numbers                               (n, L) numbers
rmsle/mae
map@k / map            (n,) sets of true labels (or space-separated (n,) lists of labels, best
                       strings); usually one label per row          first; only the first k count
=====================  ===========================================  ===============================

mape is a fraction (sklearn), not a percentage; smape is Kaggle's percentage (0..200).

Over 600 lines because every metric, its aliases, its function and its reading from a
description stand in one table here: a new metric is one entry, found where the others are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_percentage_error,
    median_absolute_error,
    r2_score,
    roc_auc_score,
)
from typing_extensions import TypedDict

EPS = 1e-15  # Kaggle's probability clipping for log losses


class UnknownMetric(ValueError):
    pass


Scored = TypeVar("Scored", bound=Mapping[str, Any])  # anything with a score under a key


class MetricSpec(TypedDict):
    """A :class:`Metric` as plain values (JSON, checkpoints)."""

    name: str
    title: str
    higher_is_better: bool
    needs_proba: bool
    k: int | None
    implemented: bool


@dataclass(frozen=True)
class Metric:
    """A metric that knows its direction: the one place where "better" is decided."""

    name: str  # canonical id: "auc", "qwk", "map@3", ... or "custom"
    title: str  # human words, e.g. "quadratic weighted kappa"
    higher_is_better: bool
    needs_proba: bool  # predictions are probabilities/scores rather than labels/values
    k: int | None = None  # MAP@k cut-off
    implemented: bool = True  # False: mle-star cannot compute it; scripts self-report the score

    def better(self, new: float | None, old: float | None, strict: bool = True) -> bool:
        """True when ``new`` beats ``old``; a missing (or NaN) score never beats anything."""
        if new is None or _missing(new):
            return False
        if old is None or _missing(old):
            return True
        if strict:
            return new > old if self.higher_is_better else new < old
        return new >= old if self.higher_is_better else new <= old

    def ranked(self, items: Iterable[Scored], key: str = "score") -> list[Scored]:
        """The items with a score under ``key``, best first; equal scores keep their order."""
        scored = [item for item in items if not _missing(item.get(key))]
        return sorted(scored, key=lambda item: item[key], reverse=self.higher_is_better)

    def best_of(self, items: Iterable[Scored], key: str = "score") -> Scored | None:
        """The scored item with the best score (first wins ties); None if none is scored."""
        order = self.ranked(items, key)
        return order[0] if order else None

    def compute(self, truth: Any, pred: Any) -> float:
        """The score of canonical ``pred`` against ``truth`` (see the module table)."""
        if not self.implemented:
            raise NotImplementedError(f"mle-star cannot compute {self.title}")
        if self.name == "map" or self.name.startswith("map@"):
            return _mapk(truth, pred, self.k)
        return float(_FUNCTIONS[self.name](truth, pred))

    def with_direction(self, higher_is_better: bool) -> Metric:
        """The same metric with a user-chosen direction (e.g. ``--lower-is-better``)."""
        return replace(self, higher_is_better=higher_is_better)

    def spec(self) -> MetricSpec:
        """The metric as plain values, stored once in the task (``task["metric_spec"]``)."""
        return MetricSpec(name=self.name, title=self.title, higher_is_better=self.higher_is_better,
                          needs_proba=self.needs_proba, k=self.k, implemented=self.implemented)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Metric:
        return cls(spec["name"], spec["title"], bool(spec["higher_is_better"]), bool(spec["needs_proba"]),
                   spec.get("k"), bool(spec.get("implemented", True)))

    @classmethod
    def direction(cls, higher_is_better: bool) -> Metric:
        """Only a direction, for views that compare scores they did not compute (the terminal,
        the report, the benchmark table)."""
        return cls("score", "score", higher_is_better, needs_proba=False, implemented=False)


def _missing(score: float | None) -> bool:
    return score is None or (isinstance(score, float) and math.isnan(score))


# ---------------------------------------------------------------- computations


def _vector(x: Any) -> np.ndarray:
    """A 1-D array; a single-column matrix is accepted."""
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"expected one column of values, got shape {arr.shape}")
    return arr


def _matrix(x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def _same_shape(y: np.ndarray, p: np.ndarray) -> None:
    if y.shape != p.shape:
        raise ValueError(f"truth has shape {y.shape} but predictions have {p.shape}")


def _per_column(fn: Callable[[np.ndarray, np.ndarray], float]) -> Callable[[Any, Any], float]:
    """Score each column with ``fn`` and average, as Kaggle's column-wise metrics do."""

    def metric(truth: Any, pred: Any) -> float:
        y, p = _matrix(truth), _matrix(pred)
        _same_shape(y, p)
        return float(np.mean([fn(y[:, j], p[:, j]) for j in range(y.shape[1])]))

    return metric


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def _mse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((y - p) ** 2))


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(y - p)))


def _rmsle(y: np.ndarray, p: np.ndarray) -> float:
    if (y <= -1).any() or (p <= -1).any():
        raise ValueError("RMSLE needs values above -1 (clip predictions at 0)")
    return _rmse(np.log1p(y), np.log1p(p))


def _smape(y: np.ndarray, p: np.ndarray) -> float:
    denom = np.abs(y) + np.abs(p)
    ratio = np.divide(2 * np.abs(p - y), denom, out=np.zeros_like(denom), where=denom != 0)
    return float(100 * np.mean(ratio))


def _binary_logloss(truth: Any, pred: Any) -> float:
    y, p = _vector(truth).astype(float), np.clip(_vector(pred).astype(float), EPS, 1 - EPS)
    _same_shape(y, p)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _multi_logloss(truth: Any, pred: Any) -> float:
    y, probs = _vector(truth).astype(int), _matrix(pred)
    if len(y) != len(probs):
        raise ValueError(f"{len(y)} labels but {len(probs)} probability rows")
    if y.min() < 0 or y.max() >= probs.shape[1]:
        raise ValueError("a class index is outside the probability columns")
    probs = np.clip(probs / probs.sum(axis=1, keepdims=True), EPS, 1 - EPS)
    return float(-np.mean(np.log(probs[np.arange(len(y)), y])))


def _multilabel_logloss(truth: Any, pred: Any) -> float:
    y, p = _matrix(truth), _matrix(pred)
    _same_shape(y, p)
    return float(np.mean([_binary_logloss(y[:, j], p[:, j]) for j in range(y.shape[1])]))


def _mean_column_auc(truth: Any, pred: Any) -> float:
    """Mean ROC AUC over columns; a column whose truth is constant has no AUC and is skipped."""
    y, p = _matrix(truth), _matrix(pred)
    _same_shape(y, p)
    aucs = [roc_auc_score(y[:, j], p[:, j]) for j in range(y.shape[1]) if len(np.unique(y[:, j])) == 2]
    if not aucs:
        raise ValueError("every truth column holds one class only, so AUC is undefined")
    return float(np.mean(aucs))


def _qwk(truth: Any, pred: Any) -> float:
    """Quadratic weighted kappa over the contiguous rating range, as Kaggle computes it."""
    y, p = _vector(truth).astype(float), _vector(pred).astype(float)
    _same_shape(y, p)
    if not (np.all(y == np.round(y)) and np.all(p == np.round(p))):
        raise ValueError("quadratic weighted kappa needs integer ratings")
    y, p = y.astype(int), p.astype(int)
    low, high = min(y.min(), p.min()), max(y.max(), p.max())
    n = high - low + 1
    if n == 1:
        return 1.0
    observed = np.zeros((n, n))
    np.add.at(observed, (y - low, p - low), 1)
    expected = np.outer(np.bincount(y - low, minlength=n), np.bincount(p - low, minlength=n)) / len(y)
    idx = np.arange(n)
    weights = (idx[:, None] - idx[None, :]) ** 2 / (n - 1) ** 2
    denom = (weights * expected).sum()
    return 1.0 - float((weights * observed).sum() / denom) if denom else 1.0


def _label_set(item: Any) -> set[str]:
    if isinstance(item, str):
        return set(item.split())
    return {str(label) for label in item}


def _average_precision(actual: set[str], predicted: list[str], k: int | None) -> float:
    """Ben Hamner's apk: with one true label this is 1/rank if found in the top k, else 0."""
    if not actual:
        return 0.0
    top = predicted[:k] if k else predicted
    hits, total = 0, 0.0
    for i, label in enumerate(top):
        if label in actual and label not in top[:i]:
            hits += 1
            total += hits / (i + 1)
    return total / (min(len(actual), k) if k else len(actual))


def _mapk(truth: Iterable[Any], pred: Iterable[Any], k: int | None) -> float:
    actual = [_label_set(item) for item in truth]
    predicted = [item.split() if isinstance(item, str) else [str(x) for x in item] for item in pred]
    if len(actual) != len(predicted):
        raise ValueError(f"{len(actual)} truth rows but {len(predicted)} prediction rows")
    if not actual:
        raise ValueError("no rows to score")
    return float(np.mean([_average_precision(a, p, k) for a, p in zip(actual, predicted, strict=True)]))


def _sk(fn: Callable[..., float], **kwargs: Any) -> Callable[[Any, Any], float]:
    """An sklearn label metric on two 1-D arrays."""
    return lambda truth, pred: float(fn(_vector(truth), _vector(pred), **kwargs))


_FUNCTIONS: dict[str, Callable[[Any, Any], float]] = {
    "auc": lambda t, p: float(roc_auc_score(_vector(t), _vector(p))),
    "accuracy": _sk(accuracy_score),
    "f1": _sk(f1_score),
    "macro_f1": _sk(f1_score, average="macro"),
    "micro_f1": _sk(f1_score, average="micro"),
    "weighted_f1": _sk(f1_score, average="weighted"),
    "logloss": _binary_logloss,
    "multi_logloss": _multi_logloss,
    "multilabel_logloss": _multilabel_logloss,
    "mean_column_auc": _mean_column_auc,
    "qwk": _qwk,
    "rmse": _per_column(_rmse),
    "mse": _per_column(_mse),
    "rmsle": _per_column(_rmsle),
    "mae": _per_column(_mae),
    "medae": _per_column(median_absolute_error),
    "r2": _per_column(r2_score),
    "mape": _per_column(mean_absolute_percentage_error),
    "smape": _per_column(_smape),
    "mean_column_rmse": _per_column(_rmse),
    "mean_column_rmsle": _per_column(_rmsle),
    "mean_column_mae": _per_column(_mae),
}

# ---------------------------------------------------------------- registry

METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("auc", "area under the ROC curve", True, True),
        Metric("accuracy", "classification accuracy", True, False),
        Metric("f1", "F1 score (binary)", True, False),
        Metric("macro_f1", "macro-averaged F1", True, False),
        Metric("micro_f1", "micro-averaged F1", True, False),
        Metric("weighted_f1", "weighted-average F1", True, False),
        Metric("logloss", "binary log loss", False, True),
        Metric("multi_logloss", "multi-class log loss", False, True),
        Metric("multilabel_logloss", "mean column-wise log loss", False, True),
        Metric("mean_column_auc", "mean column-wise ROC AUC", True, True),
        Metric("qwk", "quadratic weighted kappa", True, False),
        Metric("rmse", "root mean squared error", False, False),
        Metric("mse", "mean squared error", False, False),
        Metric("rmsle", "root mean squared logarithmic error", False, False),
        Metric("mae", "mean absolute error", False, False),
        Metric("medae", "median absolute error", False, False),
        Metric("r2", "coefficient of determination", True, False),
        Metric("mape", "mean absolute percentage error", False, False),
        Metric("smape", "symmetric mean absolute percentage error", False, False),
        Metric("mean_column_rmse", "mean column-wise root mean squared error", False, False),
        Metric("mean_column_rmsle", "mean column-wise RMSLE", False, False),
        Metric("mean_column_mae", "mean column-wise mean absolute error", False, False),
        Metric("map", "mean average precision", True, False),
    ]
}

ALIASES: dict[str, str] = {
    "roc_auc": "auc", "rocauc": "auc", "auc_roc": "auc", "roc": "auc",
    "acc": "accuracy",
    "f1_binary": "f1", "binary_f1": "f1",
    "f1_macro": "macro_f1", "f1_micro": "micro_f1", "f1_weighted": "weighted_f1",
    "log_loss": "logloss", "binary_logloss": "logloss", "binary_crossentropy": "logloss",
    "mlogloss": "multi_logloss", "multiclass_logloss": "multi_logloss",
    "multi_class_logloss": "multi_logloss", "multi_log_loss": "multi_logloss",
    "categorical_crossentropy": "multi_logloss",
    "multilabel_log_loss": "multilabel_logloss", "mean_column_logloss": "multilabel_logloss",
    "column_auc": "mean_column_auc", "mean_columnwise_auc": "mean_column_auc",
    "kappa": "qwk", "quadratic_weighted_kappa": "qwk", "quadratic_kappa": "qwk",
    "mse_log": "rmsle", "median_absolute_error": "medae",
    "mcrmse": "mean_column_rmse", "mean_columnwise_rmse": "mean_column_rmse",
    "mean_columnwise_rmsle": "mean_column_rmsle", "mean_columnwise_mae": "mean_column_mae",
    "mapk": "map", "map@k": "map",
}


def map_at(k: int | None) -> Metric:
    """Mean average precision at ``k`` (None: every listed label counts)."""
    if k is None:
        return METRICS["map"]
    if k < 1:
        raise UnknownMetric(f"MAP@{k} needs k >= 1")
    return Metric(f"map@{k}", f"mean average precision at {k}", True, False, k=k)


def get_metric(name: str) -> Metric:
    """The metric called ``name`` (canonical or alias; ``map@5``/``map5`` for any k)."""
    key = re.sub(r"[\s-]+", "_", name.strip().lower())
    key = ALIASES.get(key, key)
    at_k = re.fullmatch(r"(?:map|mapk|map_at_|map@)_?(\d+)", key)
    if at_k:
        return map_at(int(at_k.group(1)))
    if key not in METRICS:
        known = sorted(METRICS) + ["map@k"]
        raise UnknownMetric(f"unknown metric '{name}' (known: {', '.join(known)})")
    return METRICS[key]


def metric_of(task: Mapping[str, Any]) -> Metric:
    """The metric of a task record: the one stored in it (``metric_spec``); a record written
    before there was one is read from its name, direction and description."""
    if task.get("metric_spec"):
        return Metric.from_spec(task["metric_spec"])
    if not task.get("metric_implemented", True):
        return custom_metric(task.get("description", "")).with_direction(not task["lower_is_better"])
    return get_metric(task["metric"]).with_direction(not task["lower_is_better"])


# ---------------------------------------------------------------- shape refinement

_REFINE: dict[str, dict[str, str]] = {
    "probability": {"multi_logloss": "logloss", "multilabel_logloss": "logloss", "mean_column_auc": "auc"},
    "class_probabilities": {"logloss": "multi_logloss", "multilabel_logloss": "multi_logloss", "auc": "mean_column_auc"},
    "multilabel": {"logloss": "multilabel_logloss", "multi_logloss": "multilabel_logloss", "auc": "mean_column_auc"},
}
_COLUMN_WISE = {"rmse": "mean_column_rmse", "rmsle": "mean_column_rmsle", "mae": "mean_column_mae"}


def refine(metric: Metric, kind: str, n_columns: int) -> Metric:
    """The variant of ``metric`` that fits the prediction shape; keeps a user-set direction.

    On class_probabilities, AUC becomes the one-vs-rest mean column AUC (sklearn's macro OvR).
    """
    name = _REFINE.get(kind, {}).get(metric.name, metric.name)
    if kind == "targets" and n_columns > 1:
        name = _COLUMN_WISE.get(name, name)
    if kind == "targets" and n_columns == 1:
        name = {v: k for k, v in _COLUMN_WISE.items()}.get(name, name)
    if name == metric.name:
        return metric
    return METRICS[name].with_direction(metric.higher_is_better)


# ---------------------------------------------------------------- reading the description

# (pattern, metric name, strong). Ordered: more specific phrases first. Weak patterns are
# only trusted inside the Evaluation section, since the words appear in ordinary prose too.
_RMSLE = r"root[- ]mean[- ]squared?[- ]log(?:arithmic)?[- ]error|\brmsle\b"
_RMSE = r"root[- ]mean[- ]squared?[- ](?:error|deviation)|\brmse\b"
_MAE = r"mean absolute error|\bmae\b"
_AUC = r"(?:roc[- ])?auc\b|area under the (?:roc |receiver operating characteristic )?curve"
_LOG_LOSS = r"log(?:arithmic)?[- ]?loss|cross[- ]?entropy|\blogloss\b"


def _column_wise(metric: str) -> str:
    """'column-wise X', 'mean of the X of each column', 'X ... averaged over the columns'."""
    return (
        rf"(?:column[- ]?wise|per[- ]column)\s+(?:mean\s+)?(?:{metric})"
        rf"|(?:mean|average)\s+of\s+(?:the\s+)?(?:individual\s+)?(?:{metric})s?\s+(?:of|over|for|across)\s+(?:each|every|all|the)\b[^.]{{0,30}}?\b(?:columns?|targets?|labels?|outputs?)"
        rf"|(?:{metric})[^.]{{0,80}}?(?:averaged|mean|average)[^.]{{0,20}}?(?:over|across)\s+(?:the\s+|all\s+|each\s+)?(?:\w+\s+)?(?:columns|targets|labels|outputs)"
    )


_PATTERNS: list[tuple[str, str, bool]] = [
    (r"quadratic(?:ally)?[- ]weighted[- ](?:cohen'?s[- ])?kappa|quadratic kappa|\bqwk\b", "qwk", True),
    (r"mean average precision\s*(?:@|at)\s*(?P<k>\d+)|\bmap\s*@\s*(?P<k2>\d+)", "map@k", True),
    (_column_wise(_AUC) + r"|individual aucs?\b|\bauc of each (?:predicted )?column", "mean_column_auc", True),
    (_column_wise(_RMSLE), "mean_column_rmsle", True),
    (r"\bmcrmse\b|" + _column_wise(_RMSE), "mean_column_rmse", True),
    (_column_wise(_MAE), "mean_column_mae", True),
    (_column_wise(_LOG_LOSS), "multilabel_logloss", True),
    (r"multi-?class (?:logarithmic |log[- ]?)loss|\bmlogloss\b|categorical cross[- ]?entropy"
     r"|(?:" + _LOG_LOSS + r")[^#]{0,400}?(?:for|of) (?:each|every) (?:class|category)", "multi_logloss", True),
    (_RMSLE, "rmsle", True),
    (r"(?<!weighted )(?:" + _LOG_LOSS + ")", "logloss", True),
    (r"micro[- ]?(?:averaged?[- ])?f1|f1[- ]micro|micro[- ]?(?:averaged?[- ])?f[- ]?score", "micro_f1", True),
    (r"macro[- ]?(?:averaged?[- ])?f1|f1[- ]macro|macro[- ]?(?:averaged?[- ])?f[- ]?score", "macro_f1", True),
    (r"weighted[- ]?(?:averaged?[- ])?f1|f1[- ]weighted", "weighted_f1", True),
    (_AUC, "auc", True),
    (r"(?<!mean )\bf1\b|(?<!mean )\bf1[- ]score|\bf-?score\b|\bf-measure\b", "f1", True),
    (r"symmetric mean absolute percentage error|\bsmape\b", "smape", True),
    (r"(?<!symmetric )mean absolute percentage error|\bmape\b", "mape", True),
    (r"(?<!weighted )" + _RMSE, "rmse", True),
    (r"(?<!weighted )(?<!root )mean[- ]squared[- ]error|\bmse\b", "mse", True),
    (r"median absolute error|\bmedae\b", "medae", True),
    (r"(?<!weighted )(?:" + _MAE + ")", "mae", True),
    (r"\br2\b|\br\^2\b|r-squared|coefficient of determination", "r2", True),
    (r"(?:classification|categori[sz]ation|prediction) accuracy|evaluated (?:on|by|using) (?:the )?accuracy", "accuracy", True),
    (r"\baccuracy\b", "accuracy", False),
    (r"\bkappa\b", "qwk", False),
]

# A match is ignored when the same text shows it is a different metric of that family.
_BLOCKERS: dict[str, str] = {
    "auc": r"precision[- ]recall|\bpr[- ]auc\b",
    "mean_column_auc": r"precision[- ]recall|\bpr[- ]auc\b",
    "map@k": r"\biou\b|intersection over union|bounding box",
}

_SECTION_TITLE = re.compile(r"(?:evaluation|scoring|metric)s?\b.*", re.I)
_PLAIN_END = re.compile(
    r"(?:submission (?:file|format)s?|timeline|prizes?|citation|acknowledg\w*|data(?:set)?(?: description)?|files)\b.*",
    re.I,
)


def _heading(line: str) -> tuple[int, str] | None:
    """(level, title) of a markdown heading, or level 0 for a bare or bold title line."""
    md = re.match(r"\s*(#{1,6})\s*(.*?)\s*#*\s*$", line)
    if md:
        return len(md.group(1)), md.group(2).strip("*_ :")
    bare = line.strip().strip("*_").strip().rstrip(":")
    if bare and len(bare.split()) <= 4 and not bare.endswith("."):
        return 0, bare
    return None


def evaluation_section(description: str) -> str | None:
    """The text under the description's Evaluation (or Metric/Scoring) heading, if any."""
    lines = description.splitlines()
    for i, line in enumerate(lines):
        head = _heading(line)
        if not head or not _SECTION_TITLE.fullmatch(head[1]):
            continue
        level, body = head[0], []
        for nxt in lines[i + 1 :]:
            sub = _heading(nxt)
            if sub and (_PLAIN_END.fullmatch(sub[1]) or (sub[0] and (level == 0 or sub[0] <= level))):
                break
            body.append(nxt)
        text = "\n".join(body).strip()
        if text:
            return text
    return None


def _match(pattern: str, name: str, chunk: str) -> Metric | None:
    found = re.search(pattern, chunk)
    if not found or (name in _BLOCKERS and re.search(_BLOCKERS[name], chunk)):
        return None
    if name == "map@k":
        return map_at(int(found.group("k") or found.group("k2")))
    return METRICS[name]


def detect_metric(description: str) -> Metric | None:
    """The metric a task description names, preferring its Evaluation section.

    Outside that section only strong phrases count ("classification accuracy", not "accuracy").
    """
    text = description.lower()
    section = evaluation_section(text)
    chunks = ([(section, False)] if section else []) + [(text, True)]
    for chunk, strong_only in chunks:
        for pattern, name, strong in _PATTERNS:
            if strong_only and not strong:
                continue
            metric = _match(pattern, name, chunk)
            if metric:
                return metric
    return None


_LOWER_SAYS = (
    r"lower (?:values?|scores?|numbers?)?\s*(?:is|are|indicates?|means?) better|(?:smaller|lower) is better"
    r"|the (?:lower|smaller) the better|minimi[sz]e|\b0(?:\.0)? (?:is|being|represents|indicates|means) (?:a )?perfect"
    r"|perfect (?:score|prediction)s? (?:is|are|of|would score) 0\b"
)
_HIGHER_SAYS = (
    r"higher (?:values?|scores?|numbers?)?\s*(?:is|are|indicates?|means?) better|(?:larger|higher|greater) is better"
    r"|the (?:higher|larger|greater) the better|maximi[sz]e|\b1(?:\.0)? (?:is|being|represents|indicates|means) (?:a )?perfect"
    r"|perfect (?:score|prediction)s? (?:is|are|of|would score) 1\b|\b100 ?% (?:is|being|means) perfect"
)
_LOWER_WORDS = (
    r"negative log[- ]likelihood|\berrors?\b|\bloss\b|\bdistances?\b|\bdeviations?\b|\bdivergence\b"
    r"|\bcost\b|\bpenalt(?:y|ies)\b|\bperplexity\b|\bwasserstein\b"
)
_HIGHER_WORDS = (
    r"\baccuracy\b|\bprecision\b|\brecall\b|\bf1\b|\bf-?(?:score|beta|measure)\b|\bcorrelation\b"
    r"|\bsimilarity\b|\bagreement\b|\bkappa\b|\bauc\b|area under|\biou\b|intersection over union|\bdice\b"
    r"|\bjaccard\b|\bgini\b|\bcoefficient\b|\br2\b|r-squared|\blikelihood\b|\bndcg\b|\butility\b"
    r"|\breward\b|\bprofit\b|\bbleu\b|\brouge\b|\bspearman\b|\bpearson\b"
)


def _earliest(lower: str, higher: str, text: str) -> bool | None:
    """True/False for whichever of the two patterns occurs first in ``text``; None if neither."""
    low, high = re.search(lower, text), re.search(higher, text)
    if low and high:
        return high.start() < low.start()
    return bool(high) if (low or high) else None


def guess_direction(description: str) -> bool | None:
    """True if the prose says higher is better, False if lower, None when it gives no clue.

    The Evaluation section is read first and the whole text only if it gives no clue. Within
    each, explicit statements ("lower is better", "minimize", "1 is perfect") win over the
    first telling word ("error", "loss" vs "accuracy", "AUC").
    """
    text = description.lower()
    section = evaluation_section(text)
    for chunk in [section, text] if section else [text]:
        for lower, higher in ((_LOWER_SAYS, _HIGHER_SAYS), (_LOWER_WORDS, _HIGHER_WORDS)):
            said = _earliest(lower, higher, chunk)
            if said is not None:
                return said
    return None


_TITLE_PATTERNS = [
    r"(?:evaluated|scored|judged|ranked|measured|assessed)\s+(?:based\s+)?(?:on|using|with|by|according to|against)\s+(?P<t>[^.,;:\n(]{3,120})",
    r"metric\s+(?:for\s+this\s+(?:competition|challenge|task)\s+|used\s+)?is\s+(?P<t>[^.,;:\n(]{3,120})",
]
_TITLE_CUT = re.compile(r"\s(?:between|which|where|that|computed|calculated|for each|on the|across|over|of your)\b.*")


def _metric_phrase(text: str) -> str | None:
    """A short name for the metric from sentences like 'Submissions are evaluated on X'."""
    plain = re.sub(r"[*_`]|\[([^\]]*)\]\([^)]*\)", r"\1", text)
    for pattern in _TITLE_PATTERNS:
        found = re.search(pattern, plain, flags=re.I)
        if not found:
            continue
        phrase = _TITLE_CUT.sub("", found.group("t")).strip()
        phrase = re.sub(r"^(?:the|a|an|their|its)\s+", "", phrase, flags=re.I)
        words = phrase.split()
        if words and words[0].lower() not in {"how", "whether", "what"}:
            return " ".join(words[:8])
    return None


def custom_metric(description: str) -> Metric:
    """A metric mle-star cannot compute: scripts report the score; the direction is guessed."""
    section = evaluation_section(description)
    title = _metric_phrase(section or description) or "the metric described in the task"
    guess = guess_direction(description)
    return Metric("custom", title, True if guess is None else guess, False, implemented=False)
