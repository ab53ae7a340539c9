"""What a task's predictions look like inside a script, and the script code for each shape.

Every solution script works with one internal prediction array per row set, ``P``:

- class kinds (probability, class_probabilities, label, ranked_labels): (n, C) probabilities,
  column i standing for ``CLASSES[i]``;
- ordinal labels under QWK: (n, 1) scores on the rating scale, cut by tuned thresholds;
- targets: (n, T) values, one column per target; multilabel: (n, L) probabilities.

The truth ``y`` is encoded to match (class index, rating index, values, 0/1 matrix). The
functions here render the few script parts that depend on that shape (encoding the truth,
fitting one model, turning ``P`` into the submission's columns) and the metric, computed the
way ``mle_star.tools.scoring.metrics`` computes it, so a printed score means what the agent's means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mle_star.tools.scoring.held_out import sample_order
from mle_star.tools.scoring.metrics import METRICS, get_metric, refine

CLASS_KINDS = ("probability", "class_probabilities", "label", "ranked_labels")
LABEL_METRICS = {"accuracy", "f1", "macro_f1", "micro_f1", "weighted_f1", "qwk"}
REGRESSION_METRICS = {"rmse", "mse", "rmsle", "mae", "medae", "r2", "mape", "smape", "mean_column_rmse",
                      "mean_column_rmsle", "mean_column_mae"}
# A stand-in metric per output kind when the task's metric is one mle-star cannot compute,
# chosen to point the same way as the task's (guessed) direction: (lower is better, higher).
PROXIES = {
    "probability": ("logloss", "auc"),
    "class_probabilities": ("multi_logloss", "accuracy"),
    "label": ("error_rate", "accuracy"),
    "targets": ("rmse", "r2"),
    "multilabel": ("multilabel_logloss", "mean_column_auc"),
    "ranked_labels": ("map_error", "map@3"),
}


@dataclass(frozen=True)
class Shape:
    """The facts about a task's output that the script code depends on."""

    kind: str
    ordinal: bool  # a label scored by QWK: regression on the rating, thresholds tuned
    classes: list[str]
    positive: int | None  # index in classes of the positive class (probability kind, binary F1)
    ratings: list[float]  # the numeric value of each class (for QWK and numeric label metrics)
    n_columns: int
    metric: str  # the metric the script computes (a proxy when the task's is unknown)
    metric_title: str
    proxy: bool
    lower: bool
    k: int | None  # MAP@k cut-off

    @property
    def classify(self) -> bool:
        return self.kind in CLASS_KINDS and not self.ordinal

    @property
    def regress(self) -> bool:
        return self.kind == "targets" or self.ordinal

    @property
    def estimator(self) -> str:
        """Which estimators the models are: 'classifier' or 'regressor'."""
        return "classifier" if self.classify or self.kind == "multilabel" else "regressor"


def _is_number(text: str) -> bool:
    return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text) is not None


def positive_index(task: dict) -> int | None:
    """The positive class as the agent's scorer picks it: the spec's, '1'/'true'/'yes', else the last."""
    classes = [str(c) for c in task["classes"]]
    if not classes:
        return None
    wanted = task["output"].get("positive_class")
    if wanted is not None and str(wanted) in classes:
        return classes.index(str(wanted))
    for candidate in ("1", "true", "yes", "positive"):
        for i, value in enumerate(classes):
            if value.lower() == candidate:
                return i
    return classes.index(sorted(classes)[-1])


def shape_of(task: dict) -> Shape:
    """The Shape of a task (the Task record's output, metric and classes)."""
    kind = task["output"]["kind"]
    classes = [str(c) for c in task["classes"]]
    if kind in CLASS_KINDS and not classes:  # no labels located: the sample's columns are all we know
        classes = [str(c) for c in task["output"].get("classes") or []] or ["0", "1"]
    n_columns = len(task["output"]["columns"])
    lower = bool(task["lower_is_better"])
    if task.get("metric_implemented", True):
        metric = refine(get_metric(task["metric"]), kind, n_columns).name
        proxy = False
    else:
        metric = PROXIES[kind][0 if lower else 1]
        if kind == "targets" and n_columns > 1 and metric == "rmse":
            metric = "mean_column_rmse"
        proxy = True
    ordinal = kind == "label" and metric == "qwk"
    ratings = ([float(c) for c in classes] if classes and all(_is_number(c) for c in classes)
               else [float(i) for i in range(len(classes))])
    k = int(metric.split("@")[1]) if metric.startswith("map@") else None
    title = {"error_rate": "classification error rate", "map_error": "1 - mean average precision at 3"}.get(metric)
    if title is None:
        title = METRICS[metric].title if metric in METRICS else f"mean average precision at {k}"
    return Shape(kind=kind, ordinal=ordinal, classes=classes, positive=positive_index(task), ratings=ratings,
                 n_columns=n_columns, metric=metric, metric_title=title, proxy=proxy, lower=lower, k=k)


# -- constants and helpers every script carries ------------------------------------------------

AS_TEXT = '''def as_text(values) -> np.ndarray:
    """Ids and labels as strings, compared the way the agent compares them (3, 3.0 and '3' agree)."""
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            out.append(str(bool(v)))
        elif isinstance(v, (int, np.integer)):
            out.append(str(int(v)))
        elif isinstance(v, (float, np.floating)):
            out.append(str(int(v)) if float(v).is_integer() else repr(float(v)))
        else:
            text = str(v).strip()
            out.append(str(int(text.split(".")[0])) if re.fullmatch(r"[+-]?\\d+(?:\\.0*)?", text) else text)
    return np.array(out, dtype=object)
'''


def constants(shape: Shape, task: dict) -> str:
    """The shape's constants, with a comment a reader can follow."""
    out = task["output"]
    lines = [f"KIND = {shape.kind!r}  # what the prediction columns hold",
             f"COLUMNS = {list(out['columns'])!r}  # prediction columns, as in the sample submission",
             f"ORDER = {sample_order(out)!r}  # the sample's columns, in its order"]
    if shape.kind in CLASS_KINDS:
        note = ("CLASSES[i] is the label of prediction column COLUMNS[i]" if shape.kind == "class_probabilities"
                else "label values, in the order of the model's probability columns")
        lines.append(f"CLASSES = {shape.classes!r}  # {note}")
    if shape.kind == "probability":
        lines.append(f"POSITIVE = {shape.positive!r}  # index in CLASSES of the class whose probability is predicted")
    if shape.ordinal or shape.metric in LABEL_METRICS | REGRESSION_METRICS and shape.kind in CLASS_KINDS:
        lines.append(f"RATINGS = np.array({shape.ratings!r})  # each class's value on the rating scale")
    if shape.kind == "ranked_labels":
        lines.append(f"TOP_K = {shape.k or len(shape.classes)!r}  # labels listed per row, most likely first")
    if shape.kind == "targets":
        lines.append(f"NONNEGATIVE = {bool((task.get('target_min') or 0) >= 0)!r}  # every training target is >= 0")
    return "\n".join(lines) + "\n"


# -- the truth and one model's predictions -----------------------------------------------------

def encode_truth(shape: Shape) -> str:
    if shape.classify:
        return '''def encode_truth(frame: pd.DataFrame) -> np.ndarray:
    """Each row's class as an index into CLASSES."""
    index = {c: i for i, c in enumerate(CLASSES)}
    return np.array([index[v] for v in as_text(frame[LABELS[0]])])
'''
    if shape.ordinal:
        return '''def encode_truth(frame: pd.DataFrame) -> np.ndarray:
    """Each row's rating: its class's position in CLASSES, as a one-column matrix."""
    index = {c: i for i, c in enumerate(CLASSES)}
    return np.array([[float(index[v])] for v in as_text(frame[LABELS[0]])])
'''
    if shape.kind == "multilabel":
        return '''def encode_truth(frame: pd.DataFrame) -> np.ndarray:
    """A 0/1 matrix, one column per label."""
    return np.column_stack([np.isin(as_text(frame[c]), ["1", "True", "true"]).astype(float) for c in LABELS])
'''
    return '''def encode_truth(frame: pd.DataFrame) -> np.ndarray:
    """The target values, one column per target."""
    return frame[LABELS].to_numpy(dtype=float)
'''


def fit_model(shape: Shape) -> str:
    if shape.classify:
        return '''def fit_model(model, X, y: np.ndarray, frames: list) -> list:
    """Class probabilities (one column per class in CLASSES) for each frame."""
    present = np.unique(y)
    out = [np.zeros((f.shape[0], len(CLASSES))) for f in frames]
    if len(present) == 1:  # one class in the training rows: it gets all the probability
        for o in out:
            o[:, present[0]] = 1.0
        return out
    model.fit(X, np.searchsorted(present, y))  # models see contiguous class codes
    for o, f in zip(out, frames):
        o[:, present] = model.predict_proba(f)
    return out
'''
    if shape.kind == "multilabel":
        return '''def fit_model(model, X, y: np.ndarray, frames: list) -> list:
    """One binary model per label column; the probability of each label for each frame."""
    out = [np.zeros((f.shape[0], y.shape[1])) for f in frames]
    for j in range(y.shape[1]):
        if len(np.unique(y[:, j])) < 2:  # a label constant in the training rows
            for o in out:
                o[:, j] = y[0, j]
            continue
        fitted = clone(model).fit(X, y[:, j].astype(int))
        for o, f in zip(out, frames):
            o[:, j] = fitted.predict_proba(f)[:, 1]
    return out
'''
    transform = shape.kind == "targets"
    forward, inverse = ("encode_target(y[:, j])", "decode_target(fitted.predict(f))") if transform else \
        ("y[:, j]", "fitted.predict(f)")
    return f'''def fit_model(model, X, y: np.ndarray, frames: list) -> list:
    """One regression model per target column; predictions for each frame."""
    out = [np.zeros((f.shape[0], y.shape[1])) for f in frames]
    for j in range(y.shape[1]):
        fitted = clone(model).fit(X, {forward})
        for o, f in zip(out, frames):
            o[:, j] = {inverse}
    return out
'''


# -- from P to the submission's columns ------------------------------------------------------

def to_output(shape: Shape) -> str:
    head = 'def to_output(P: np.ndarray) -> dict:\n    """The prediction columns for the submission, from the model\'s predictions P."""\n'
    body = {
        "probability": "    return {COLUMNS[0]: np.clip(P[:, POSITIVE], 0.0, 1.0)}\n",
        "class_probabilities": ("    P = np.clip(P, 1e-6, 1.0)\n    P = P / P.sum(axis=1, keepdims=True)\n"
                                "    return {name: P[:, i] for i, name in enumerate(COLUMNS)}\n"),
        "label": "    return {COLUMNS[0]: np.array(CLASSES, dtype=object)[P.argmax(axis=1)]}\n",
        "targets": ("    P = np.clip(P, 0.0, None) if NONNEGATIVE else P\n"
                    "    return {name: P[:, j] for j, name in enumerate(COLUMNS)}\n"),
        "multilabel": "    return {name: np.clip(P[:, j], 0.0, 1.0) for j, name in enumerate(COLUMNS)}\n",
        "ranked_labels": ("    order = np.argsort(-P, axis=1, kind=\"stable\")[:, :TOP_K]\n"
                          "    return {COLUMNS[0]: [\" \".join(CLASSES[i] for i in row) for row in order]}\n"),
    }[shape.kind]
    if shape.ordinal:
        body = "    return {COLUMNS[0]: np.array(CLASSES, dtype=object)[decide(P[:, 0])]}\n"
    return head + body


THRESHOLDS = '''THRESHOLDS = None  # cut points between ratings, tuned on the internal validation rows


def decide(score: np.ndarray, cuts: np.ndarray | None = None) -> np.ndarray:
    """Class index of each continuous score: cut at the tuned thresholds (else at x.5)."""
    cuts = THRESHOLDS if cuts is None else cuts
    cuts = np.arange(len(CLASSES) - 1) + 0.5 if cuts is None else cuts
    return np.digitize(score, cuts)


def fit_thresholds(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Cut points that maximise quadratic weighted kappa, one at a time, a few sweeps."""
    cuts = np.arange(len(CLASSES) - 1) + 0.5
    truth = RATINGS[y[:, 0].astype(int)]
    for _ in range(3):
        for i in range(len(cuts)):
            low = cuts[i - 1] if i > 0 else score.min() - 1.0
            high = cuts[i + 1] if i + 1 < len(cuts) else score.max() + 1.0
            best, best_value = cuts[i], -np.inf
            for c in np.linspace(low, high, 42)[1:-1]:
                trial = cuts.copy()
                trial[i] = c
                value = qwk(truth, RATINGS[decide(score, trial)])
                if value > best_value:
                    best, best_value = c, value
            cuts[i] = best
    return cuts


def honest_threshold_score(y: np.ndarray, score: np.ndarray) -> float:
    """QWK with thresholds cross-fitted on two halves, so tuning does not flatter the score."""
    rows = np.random.default_rng(SEED).permutation(len(score))
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2:]]
    pred = np.zeros(len(score), dtype=int)
    for use, other in (halves, halves[::-1]):
        pred[use] = decide(score[use], fit_thresholds(y[other], score[other]))
    return qwk(RATINGS[y[:, 0].astype(int)], RATINGS[pred])
'''


# -- the metric --------------------------------------------------------------------------------

_COMPUTE = {
    "auc": ("roc_auc", '''    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(truth, pred))'''),
    "logloss": ("binary log loss", '''    p = np.clip(pred.astype(float), 1e-15, 1 - 1e-15)
    return float(-np.mean(truth * np.log(p) + (1 - truth) * np.log(1 - p)))'''),
    "multi_logloss": ("multi-class log loss", '''    p = pred / pred.sum(axis=1, keepdims=True)
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(np.log(p[np.arange(len(truth)), truth])))'''),
    "multilabel_logloss": ("mean column-wise log loss", '''    p = np.clip(pred.astype(float), 1e-15, 1 - 1e-15)
    return float(np.mean(-np.mean(truth * np.log(p) + (1 - truth) * np.log(1 - p), axis=0)))'''),
    "mean_column_auc": ("mean column-wise AUC", '''    from sklearn.metrics import roc_auc_score

    aucs = [roc_auc_score(truth[:, j], pred[:, j]) for j in range(truth.shape[1]) if len(np.unique(truth[:, j])) == 2]
    return float(np.mean(aucs))  # columns whose truth is constant have no AUC and are skipped'''),
    "accuracy": ("accuracy", "    return float(np.mean(truth == pred))"),
    "error_rate": ("error rate", "    return float(np.mean(truth != pred))"),
    "f1": ("F1", '''    from sklearn.metrics import f1_score

    return float(f1_score(truth, pred))'''),
    "macro_f1": ("macro F1", '''    from sklearn.metrics import f1_score

    return float(f1_score(truth, pred, average="macro"))'''),
    "micro_f1": ("micro F1", '''    from sklearn.metrics import f1_score

    return float(f1_score(truth, pred, average="micro"))'''),
    "weighted_f1": ("weighted F1", '''    from sklearn.metrics import f1_score

    return float(f1_score(truth, pred, average="weighted"))'''),
    "qwk": ("QWK", "    return qwk(truth, pred)"),
    "map": ("MAP", "    return mean_average_precision(truth, pred, None)"),
    "map_error": ("1 - MAP@3", "    return 1.0 - mean_average_precision(truth, pred, 3)"),
}
_COLUMN = {  # per-column regression errors, averaged over columns as Kaggle's column-wise metrics
    "rmse": "np.sqrt(np.mean((t - p) ** 2))",
    "mean_column_rmse": "np.sqrt(np.mean((t - p) ** 2))",
    "mse": "np.mean((t - p) ** 2)",
    "mae": "np.mean(np.abs(t - p))",
    "mean_column_mae": "np.mean(np.abs(t - p))",
    "rmsle": "np.sqrt(np.mean((np.log1p(t) - np.log1p(np.clip(p, 0, None))) ** 2))",
    "mean_column_rmsle": "np.sqrt(np.mean((np.log1p(t) - np.log1p(np.clip(p, 0, None))) ** 2))",
    "medae": "np.median(np.abs(t - p))",
    "r2": "1 - np.sum((t - p) ** 2) / np.sum((t - t.mean()) ** 2)",
    "mape": "np.mean(np.abs(t - p) / np.maximum(np.abs(t), np.finfo(float).eps))",
    "smape": ("100 * np.mean(np.divide(2 * np.abs(p - t), np.abs(t) + np.abs(p), "
              "out=np.zeros_like(t), where=(np.abs(t) + np.abs(p)) != 0))"),
}

QWK = '''def qwk(truth: np.ndarray, pred: np.ndarray) -> float:
    """Quadratic weighted kappa over the full rating range (as Kaggle computes it)."""
    truth, pred = np.round(truth).astype(int), np.round(pred).astype(int)
    low, high = min(truth.min(), pred.min()), max(truth.max(), pred.max())
    n = high - low + 1
    if n == 1:
        return 1.0
    observed = np.zeros((n, n))
    np.add.at(observed, (truth - low, pred - low), 1)
    expected = np.outer(np.bincount(truth - low, minlength=n), np.bincount(pred - low, minlength=n)) / len(truth)
    weights = (np.arange(n)[:, None] - np.arange(n)[None, :]) ** 2 / (n - 1) ** 2
    denominator = (weights * expected).sum()
    return 1.0 - float((weights * observed).sum() / denominator) if denominator else 1.0
'''

MAPK = '''def mean_average_precision(truth: list, pred: list, k: int | None) -> float:
    """MAP@k: with one true label a row scores 1/rank when it is among the first k, else 0."""
    total = 0.0
    for actual, guess in zip(truth, pred):
        top = guess[:k] if k else guess
        hits, score = 0, 0.0
        for i, label in enumerate(top):
            if label in actual and label not in top[:i]:
                hits += 1
                score += hits / (i + 1)
        total += score / (min(len(actual), k) if k else len(actual)) if actual else 0.0
    return total / len(truth)
'''


def _canonical(shape: Shape) -> str:
    """Body lines turning (y, P) into the metric's canonical (truth, pred), as the agent's scorer does."""
    m, kind = shape.metric, shape.kind
    label_metric = m in LABEL_METRICS or m == "error_rate"
    if kind == "probability":
        lines = ["    truth = (y == POSITIVE).astype(int)", "    pred = P[:, POSITIVE]"]
        if label_metric:
            lines.append("    pred = (pred > 0.5).astype(int)  # a label metric on a probability: threshold at 0.5")
        return "\n".join(lines)
    if kind == "multilabel":
        return "    truth, pred = y, P"
    if kind == "targets":
        if m == "qwk":
            return "    truth, pred = y[:, 0], np.round(P[:, 0])"
        return "    truth, pred = y, (np.clip(P, 0.0, None) if NONNEGATIVE else P)"
    if kind == "ranked_labels":
        return ("    truth = [{CLASSES[i]} for i in y]\n"
                "    pred = [[CLASSES[i] for i in row] for row in np.argsort(-P, axis=1, kind=\"stable\")[:, :TOP_K]]")
    if shape.ordinal:
        return "    truth, pred = RATINGS[y[:, 0].astype(int)], RATINGS[decide(P[:, 0])]"
    # class probabilities or labels from class probabilities
    if m == "multi_logloss":
        return "    truth, pred = y, np.clip(P, 1e-15, None)"
    if m == "mean_column_auc":
        return "    truth, pred = np.eye(len(CLASSES), dtype=int)[y], P"
    lines = ["    chosen = P.argmax(axis=1)"]
    if m == "qwk" or m in REGRESSION_METRICS:
        lines.append("    truth, pred = RATINGS[y], RATINGS[chosen]")
    elif m == "f1":
        lines.append(f"    truth, pred = (y == {shape.positive}).astype(int), (chosen == {shape.positive}).astype(int)")
    else:
        lines.append("    truth, pred = y, chosen")
    return "\n".join(lines)


def render_metric(shape: Shape) -> str:
    """``metric(y, P)`` for the task, with the helpers it needs."""
    m = shape.metric
    direction = "lower" if shape.lower else "higher"
    if m in _COLUMN:
        compute = ("    truth, pred = np.asarray(truth, dtype=float), np.asarray(pred, dtype=float)\n"
                   "    truth = truth.reshape(len(truth), -1)\n    pred = pred.reshape(len(pred), -1)\n"
                   "    return float(np.mean([_column(truth[:, j], pred[:, j]) for j in range(truth.shape[1])]))")
        helper = f"def _column(t: np.ndarray, p: np.ndarray) -> float:\n    return float({_COLUMN[m]})\n\n\n"
    else:
        key = "map" if m.startswith("map@") or m == "map" else m
        compute = _COMPUTE[key][1]
        if m.startswith("map@"):
            compute = f"    return mean_average_precision(truth, pred, {shape.k})"
        helper = ""
    extra = (QWK + "\n\n" if m == "qwk" or shape.ordinal else "") + (MAPK + "\n\n" if "map" in m else "")
    note = (f"    # The task's metric is not one mle-star can compute; {shape.metric_title} stands in for it "
            f"({direction} is better).\n") if shape.proxy else ""
    return (extra + helper + f'''def metric(y: np.ndarray, P: np.ndarray) -> float:
    """{shape.metric_title[0].upper() + shape.metric_title[1:]} ({direction} is better), computed as the agent computes it."""
{note}{_canonical(shape)}
{compute}
''')
