"""Solution recipes and the code they render to.

The offline engineer writes scripts in blocks. Each refinable block opens with a comment
``# mle-star block: <kind> <json>`` that records the choices it was written from and closes
with ``# end of <kind> block``. To a reader (or a real LLM) these are ordinary comments; to
the engineer they are how it reads back code it wrote, so it can refine a block it is given.
"""

from __future__ import annotations

import json
import re
from copy import deepcopy
from typing import Any

BLOCK_KINDS = ("features", "preprocess", "target", "model")
HEADER_RE = re.compile(r"^# mle-star block: (\w+) (\{.*\})\s*$", re.M)
TREE_FAMILIES = ("xgboost", "hgb", "random_forest", "extra_trees")
SPARSE_FAMILIES = ("xgboost", "linear")  # families that take TF-IDF matrices

Recipe = dict[str, dict[str, Any]]


def default_params(family: str, task_type: str) -> dict[str, Any]:
    if family == "xgboost":
        return {"n_estimators": 500, "learning_rate": 0.05, "max_depth": 6, "subsample": 0.8,
                "colsample_bytree": 0.8, "min_child_weight": 1, "reg_lambda": 1.0}
    if family == "hgb":
        return {"max_iter": 400, "learning_rate": 0.06, "max_leaf_nodes": 31, "l2_regularization": 0.0}
    if family in ("random_forest", "extra_trees"):
        leaf = 1 if family == "random_forest" else 2
        return {"n_estimators": 300, "min_samples_leaf": leaf,
                "max_features": "sqrt" if task_type != "regression" else 0.5}
    if family == "linear":
        return {"C": 1.0} if task_type != "regression" else {"alpha": 1.0}
    raise ValueError(f"unknown model family '{family}'")


def default_recipe(task: dict, family: str) -> Recipe:
    has_text = bool(task.get("text_columns"))
    regression = task["task_type"] == "regression"
    recipe: Recipe = {
        "features": {"date_parts": True, "count_encoding": False, "text_stats": has_text, "missing_count": False},
        "preprocess": {"categorical": "ordinal", "min_frequency": 5, "tfidf_max_features": 20000,
                       "tfidf_ngrams": 1, "char_ngrams": False},
        "model": {"models": [{"family": family, "params": default_params(family, task["task_type"]), "weight": 1.0}]},
    }
    if regression:
        positive = task.get("target_min") is not None and task["target_min"] >= 0
        recipe["target"] = {"transform": "log1p" if positive and task["metric"] == "rmsle" else "none"}
    return recipe


def parse_recipe(code: str) -> Recipe:
    """The block recipes a script carries; blocks without a readable header are skipped."""
    recipe: Recipe = {}
    for kind, raw in HEADER_RE.findall(code):
        try:
            recipe[kind] = json.loads(raw)
        except json.JSONDecodeError:
            continue
    return recipe


def block_span(code: str, kind: str) -> str | None:
    """The exact text of a block, header to end marker inclusive, or None."""
    match = re.search(rf"^# mle-star block: {kind} \{{.*?^# end of {kind} block\n", code, re.M | re.S)
    return match.group(0) if match else None


def block_kind(block: str) -> str | None:
    match = HEADER_RE.search(block)
    return match.group(1) if match else None


def _header(kind: str, spec: dict) -> str:
    return f"# mle-star block: {kind} {json.dumps(spec, sort_keys=True)}\n"


def _footer(kind: str) -> str:
    return f"# end of {kind} block\n"


# -- blocks ------------------------------------------------------------------------------------

def render_features(spec: dict) -> str:
    lines = [
        "def add_features(df: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:",
        '    """Feature engineering; any statistic is computed on the training frame `ref` only."""',
        "    df = df.copy()",
        "    text_like = [c for c in df.columns if c not in (ID, TARGET) and not pd.api.types.is_numeric_dtype(df[c])]",
    ]
    if spec.get("missing_count"):
        lines += ["    df['missing_count'] = df.drop(columns=[TARGET], errors='ignore').isna().sum(axis=1)"]
    if spec.get("date_parts"):
        lines += [
            "    for col in text_like:",
            "        sample = ref[col].dropna().astype(str).head(200)",
            "        if sample.empty or not sample.str.contains(r'\\d{1,4}[-/:]\\d{1,2}').mean() > 0.9:",
            "            continue",
            "        stamp = pd.to_datetime(df[col], errors='coerce')",
            "        for part in ('year', 'month', 'day', 'dayofweek', 'hour'):",
            "            df[f'{col}_{part}'] = getattr(stamp.dt, part)",
            "        df = df.drop(columns=[col])",
            "    text_like = [c for c in text_like if c in df.columns]",
        ]
    if spec.get("count_encoding"):
        lines += [
            "    for col in text_like:",
            "        counts = ref[col].astype(str).value_counts()",
            "        df[f'{col}_count'] = df[col].astype(str).map(counts).fillna(0).astype(float)",
        ]
    if spec.get("text_stats"):
        lines += [
            "    for col in text_like:",
            "        text = df[col].fillna('').astype(str)",
            "        if text.str.len().mean() < 30:",
            "            continue",
            "        df[f'{col}_chars'] = text.str.len()",
            "        df[f'{col}_words'] = text.str.split().str.len()",
            "        df[f'{col}_exclaims'] = text.str.count('!')",
            "        df[f'{col}_upper_share'] = text.str.count(r'[A-Z]') / (text.str.len() + 1)",
        ]
    if spec.get("numeric_products"):
        lines += [
            "    nums = [c for c in ref.columns if c not in (ID, TARGET) and pd.api.types.is_numeric_dtype(ref[c])]",
            "    nums = sorted(nums, key=lambda c: -abs(ref[c].corr(ref[TARGET])) if pd.api.types.is_numeric_dtype(ref[TARGET]) else 0)[:4]",
            "    for i, a in enumerate(nums):",
            "        for b in nums[i + 1:]:",
            "            df[f'{a}_x_{b}'] = df[a] * df[b]",
        ]
    lines += ["    return df"]
    return _header("features", spec) + "\n".join(lines) + "\n" + _footer("features")


def render_preprocess(spec: dict) -> str:
    ngrams = int(spec.get("tfidf_ngrams", 1))
    body = f'''def split_columns(X: pd.DataFrame) -> tuple[list, list, list]:
    """Numeric, categorical and free-text columns."""
    num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    other = [c for c in X.columns if c not in num]
    text = [c for c in other if X[c].astype(str).str.len().mean() >= 30 and X[c].nunique() > 0.3 * len(X)]
    return num, [c for c in other if c not in text], text


def make_preprocessor(family: str, num: list, cat: list, text: list):
    """Column transformer suited to the model family (trees: ordinal codes; linear: one-hot)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    trees = family in {TREE_FAMILIES!r}
    parts = []
    if num:
        if family in ("xgboost", "hgb"):
            parts.append(("num", "passthrough", num))
        elif trees:
            parts.append(("num", SimpleImputer(strategy="median"), num))
        else:
            parts.append(("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), num))
    if cat:
        if trees and {spec.get("categorical", "ordinal")!r} == "ordinal":
            parts.append(("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cat))
        else:
            parts.append(("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency={int(spec.get("min_frequency", 5))}), cat))
    if family in {SPARSE_FAMILIES!r} and {spec.get("text", True)!r}:
        for col in text:
            parts.append((f"words_{{col}}", TfidfVectorizer(max_features={int(spec.get("tfidf_max_features", 20000))}, ngram_range=(1, {ngrams}), min_df=2, sublinear_tf=True), col))
'''
    if spec.get("char_ngrams"):
        body += '''            parts.append((f"chars_{col}", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), max_features=30000, min_df=3, sublinear_tf=True), col))
'''
    body += '''    return ColumnTransformer(parts, sparse_threshold=0.3 if text and family in ''' + repr(SPARSE_FAMILIES) + ''' else 0.0)
'''
    return _header("preprocess", spec) + body + _footer("preprocess")


def render_target(spec: dict) -> str:
    transform = spec.get("transform", "none")
    forward, inverse = {
        "none": ("y", "z"),
        "log1p": ("np.log1p(y)", "np.expm1(z)"),
        "sqrt": ("np.sqrt(y)", "np.square(np.clip(z, 0, None))"),
    }[transform]
    body = f'''def encode_target(y: np.ndarray) -> np.ndarray:
    """Target as the models see it ({transform})."""
    return {forward}


def decode_target(z: np.ndarray) -> np.ndarray:
    return {inverse}
'''
    return _header("target", spec) + body + _footer("target")


_ESTIMATORS = {
    ("xgboost", False): ("from xgboost import XGBRegressor", "XGBRegressor", "tree_method='hist', n_jobs=THREADS, random_state=SEED"),
    ("xgboost", True): ("from xgboost import XGBClassifier", "XGBClassifier", "tree_method='hist', n_jobs=THREADS, random_state=SEED"),
    ("hgb", False): ("from sklearn.ensemble import HistGradientBoostingRegressor", "HistGradientBoostingRegressor", "random_state=SEED"),
    ("hgb", True): ("from sklearn.ensemble import HistGradientBoostingClassifier", "HistGradientBoostingClassifier", "random_state=SEED"),
    ("random_forest", False): ("from sklearn.ensemble import RandomForestRegressor", "RandomForestRegressor", "n_jobs=THREADS, random_state=SEED"),
    ("random_forest", True): ("from sklearn.ensemble import RandomForestClassifier", "RandomForestClassifier", "n_jobs=THREADS, random_state=SEED"),
    ("extra_trees", False): ("from sklearn.ensemble import ExtraTreesRegressor", "ExtraTreesRegressor", "n_jobs=THREADS, random_state=SEED"),
    ("extra_trees", True): ("from sklearn.ensemble import ExtraTreesClassifier", "ExtraTreesClassifier", "n_jobs=THREADS, random_state=SEED"),
    ("linear", False): ("from sklearn.linear_model import Ridge", "Ridge", ""),
    ("linear", True): ("from sklearn.linear_model import LogisticRegression", "LogisticRegression", "max_iter=3000"),
}


def render_model(spec: dict, task_type: str) -> str:
    classify = task_type != "regression"
    imports, entries = [], []
    for m in spec["models"]:
        imp, cls, fixed = _ESTIMATORS[(m["family"], classify)]
        if imp not in imports:
            imports.append(imp)
        args = ", ".join([f"{k}={v!r}" for k, v in sorted(m["params"].items())] + ([fixed] if fixed else []))
        entries.append(f"        ({m['family']!r}, {cls}({args}), {float(m.get('weight', 1.0))!r}),")
    body = ('def make_models() -> list:\n'
            '    """(family, estimator, blend weight) for every model in the blend."""\n'
            + "".join(f"    {imp}\n" for imp in imports) + "\n    return [\n" + "\n".join(entries) + "\n    ]\n")
    return _header("model", spec) + body + _footer("model")


# -- whole scripts -----------------------------------------------------------------------------

_METRIC_CODE = {
    "auc": "from sklearn.metrics import roc_auc_score\n    return roc_auc_score(y_true, pred)",
    "logloss": "from sklearn.metrics import log_loss\n    return log_loss(y_true, np.clip(pred, 1e-15, 1 - 1e-15), labels=[0, 1])",
    "multi_logloss": ("from sklearn.metrics import log_loss\n    p = np.clip(pred, 1e-15, 1 - 1e-15)\n"
                      "    return log_loss(y_true, p / p.sum(axis=1, keepdims=True), labels=list(range(len(CLASSES))))"),
    "accuracy": "return float(np.mean(y_true == to_labels(pred)))",
    "f1": "from sklearn.metrics import f1_score\n    return f1_score(y_true, to_labels(pred))",
    "macro_f1": "from sklearn.metrics import f1_score\n    return f1_score(y_true, to_labels(pred), average='macro')",
    "rmse": "return float(np.sqrt(np.mean((y_true - pred) ** 2)))",
    "rmsle": "return float(np.sqrt(np.mean((np.log1p(y_true) - np.log1p(np.clip(pred, 0, None))) ** 2)))",
    "mae": "return float(np.mean(np.abs(y_true - pred)))",
    "r2": "from sklearn.metrics import r2_score\n    return r2_score(y_true, pred)",
}


def render_solution(task: dict, recipe: Recipe, *, final: bool = False, subsample: int = 30000, seed: int = 42) -> str:
    """A complete, runnable solution script for ``task`` from ``recipe``."""
    t = task
    classes = t["classes"]
    regression = t["task_type"] == "regression"
    load_spec = {"subsample": None if final else subsample}
    head = f'''# Solution for task '{t["name"]}', written by the mle-star offline engineer.
# Metric: {t["metric"]} ({"lower" if t["lower_is_better"] else "higher"} is better).
import os
import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
SEED = {seed}
THREADS = int(os.environ.get("MLE_STAR_THREADS", "1"))
TARGET = {t["train_target"]!r}
ID = {t["id_column"]!r}
TASK_TYPE = {t["task_type"]!r}
CLASSES = {classes!r}
SUBMISSION_COLUMNS = {[t["id_column"], *t["target_columns"]]!r}
TREE_FAMILIES = {TREE_FAMILIES!r}

'''
    load = _header("load", load_spec) + 'train = pd.read_csv("./input/train.csv")\ntest = pd.read_csv("./input/test.csv")\n'
    if not final:
        load += (f"if len(train) > {subsample}:  # subsample for speed while searching\n"
                 f"    train = train.sample(n={subsample}, random_state=SEED).reset_index(drop=True)\n")
    load += _footer("load")
    labels = "" if regression else '''

def encode_labels(values: pd.Series) -> np.ndarray:
    index = {str(c): i for i, c in enumerate(CLASSES)}
    return values.astype(str).map(index).to_numpy()


def to_labels(pred: np.ndarray) -> np.ndarray:
    return (pred > 0.5).astype(int) if pred.ndim == 1 else pred.argmax(axis=1)
'''
    target_block = render_target(recipe.get("target", {"transform": "none"})) if regression else ""
    training = f'''

def score(y_true: np.ndarray, pred: np.ndarray) -> float:
    {_METRIC_CODE[t["metric"]]}


def predict(pipe, X: pd.DataFrame, present: np.ndarray) -> np.ndarray:
    if TASK_TYPE == "regression":
        return decode_target(pipe.predict(X))
    full = np.zeros((len(X), len(CLASSES)))
    full[:, present] = pipe.predict_proba(X)
    return full[:, 1] if TASK_TYPE == "binary" else full


def fit_predict(train_df: pd.DataFrame, frames: list) -> list:
    """Fit every model of the blend on train_df; blended predictions for each frame."""
    from sklearn.pipeline import make_pipeline

    X = add_features(train_df, train_df).drop(columns=[ID, TARGET], errors="ignore")
    others = [add_features(f, train_df)[X.columns] for f in frames]
    num, cat, text = split_columns(X)
    for frame in [X, *others]:
        frame[cat] = frame[cat].astype(object).fillna("__missing__").astype(str)
        frame[text] = frame[text].astype(object).fillna("").astype(str)
    if TASK_TYPE == "regression":
        y, present = encode_target(train_df[TARGET].to_numpy(dtype=float)), None
    else:
        codes = encode_labels(train_df[TARGET])
        present, y = np.unique(codes, return_inverse=True)  # models see contiguous labels
    outputs, total = [0.0] * len(frames), 0.0
    for family, estimator, weight in make_models():
        pipe = make_pipeline(make_preprocessor(family, num, cat, text), estimator)
        pipe.fit(X, y)
        for i, frame in enumerate(others):
            outputs[i] = outputs[i] + weight * predict(pipe, frame, present)
        total += weight
    return [out / total for out in outputs]

'''
    split = _header("validation", {"holdout": 0.2}) + '''if TASK_TYPE == "regression":
    stratify = None
else:
    stratify = encode_labels(train[TARGET])
    stratify = stratify if np.bincount(stratify).min(initial=2) >= 2 else None
train_part, valid_part = train_test_split(train, test_size=0.2, random_state=SEED, stratify=stratify)
(valid_pred,) = fit_predict(train_part, [valid_part])
y_valid = valid_part[TARGET].to_numpy(dtype=float) if TASK_TYPE == "regression" else encode_labels(valid_part[TARGET])
print(f"Final Validation Performance: {score(y_valid, valid_pred):.6f}")
''' + _footer("validation")
    script = (head + load + labels + "\n\n" + render_features(recipe["features"]) + "\n\n"
              + render_preprocess(recipe["preprocess"]) + "\n\n" + (target_block + "\n\n" if target_block else "")
              + render_model(recipe["model"], t["task_type"]) + training + split)
    if final:
        script += "\n" + render_submission(task)
    return script


def render_submission(task: dict) -> str:
    """Refit on all training rows, predict the test set, write ./final/submission.csv."""
    clip = "    values = np.clip(values, 0, None)\n" if task["metric"] in ("rmsle",) else ""
    if task["task_type"] == "regression":
        fill = f"    values = np.asarray(test_pred, dtype=float)\n{clip}    submission[SUBMISSION_COLUMNS[1]] = values\n"
    elif task["needs_proba"] and task["task_type"] == "multiclass":
        fill = "    for j, name in enumerate(CLASSES):\n        submission[str(name)] = test_pred[:, j]\n"
    elif task["needs_proba"]:
        fill = "    submission[SUBMISSION_COLUMNS[1]] = test_pred\n"
    else:
        fill = "    submission[SUBMISSION_COLUMNS[1]] = [CLASSES[i] for i in to_labels(test_pred)]\n"
    return (_header("submission", {}) + '''(test_pred,) = fit_predict(train, [test])


def write_submission(test_pred: np.ndarray) -> None:
    submission = pd.DataFrame({ID: test[ID].to_numpy()})
''' + fill + '''    os.makedirs("final", exist_ok=True)
    submission[SUBMISSION_COLUMNS].to_csv("final/submission.csv", index=False)


if __name__ == "__main__":
    write_submission(test_pred)
''' + _footer("submission"))


def render_block(kind: str, spec: dict, task_type: str) -> str:
    if kind == "features":
        return render_features(spec)
    if kind == "preprocess":
        return render_preprocess(spec)
    if kind == "target":
        return render_target(spec)
    if kind == "model":
        return render_model(spec, task_type)
    raise ValueError(f"not a refinable block: {kind}")


def complete(task: dict, recipe: Recipe, family: str = "xgboost") -> Recipe:
    """Fill any block a parsed recipe lacks from the defaults."""
    full = deepcopy(default_recipe(task, family))
    full.update({k: v for k, v in recipe.items() if k in BLOCK_KINDS})
    if task["task_type"] != "regression":
        full.pop("target", None)
    return full
