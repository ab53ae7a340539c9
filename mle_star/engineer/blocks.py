"""The refinable blocks of a solution script after loading: features, preprocess, target, model.

Each block is rendered from its recipe (a small JSON dict) and carries that recipe in its
header comment, so the engineer can read back and change exactly one block of a script.
"""

from __future__ import annotations

import json
from typing import Any

TREE_FAMILIES = ("xgboost", "hgb", "random_forest", "extra_trees", "prior")
SPARSE_FAMILIES = ("xgboost", "linear")  # families that take TF-IDF matrices


def header(kind: str, spec: dict) -> str:
    return f"# mle-star block: {kind} {json.dumps(spec, sort_keys=True)}\n"


def footer(kind: str) -> str:
    return f"# end of {kind} block\n"


def default_params(family: str, task_type: str) -> dict[str, Any]:
    regression = task_type in ("regression", "multi_regression", "ordinal")
    if family == "xgboost":
        return {"n_estimators": 400, "learning_rate": 0.06, "max_depth": 6, "subsample": 0.8,
                "colsample_bytree": 0.8, "min_child_weight": 1, "reg_lambda": 1.0}
    if family == "hgb":
        return {"max_iter": 300, "learning_rate": 0.06, "max_leaf_nodes": 31, "l2_regularization": 0.0}
    if family in ("random_forest", "extra_trees"):
        leaf = 1 if family == "random_forest" else 2
        return {"n_estimators": 300, "min_samples_leaf": leaf, "max_features": 0.5 if regression else "sqrt"}
    if family == "linear":
        return {"alpha": 1.0} if regression else {"C": 1.0}
    if family == "prior":
        return {}
    raise ValueError(f"unknown model family '{family}'")


# -- features ----------------------------------------------------------------------------------

def render_features(spec: dict) -> str:
    lines = [
        "def add_features(df: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:",
        '    """Feature engineering; any statistic is computed on the training frame `ref` only."""',
        "    df = df.copy()",
        "    text_like = [c for c in df.columns if c != KEY and c not in LABELS and not pd.api.types.is_numeric_dtype(df[c])]",
    ]
    if spec.get("missing_count"):
        lines += ["    df['missing_count'] = df.drop(columns=LABELS, errors='ignore').isna().sum(axis=1)"]
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
            "    target = ref[LABELS[0]] if pd.api.types.is_numeric_dtype(ref[LABELS[0]]) else None",
            "    nums = [c for c in ref.columns if c != KEY and c not in LABELS and c in df.columns",
            "            and pd.api.types.is_numeric_dtype(ref[c])]",
            "    nums = sorted(nums, key=lambda c: -abs(ref[c].corr(target)) if target is not None else 0)[:4]",
            "    for i, a in enumerate(nums):",
            "        for b in nums[i + 1:]:",
            "            df[f'{a}_x_{b}'] = df[a] * df[b]",
        ]
    lines += ["    return df"]
    return header("features", spec) + "\n".join(lines) + "\n" + footer("features")


# -- preprocess --------------------------------------------------------------------------------

def render_preprocess(spec: dict) -> str:
    ngrams = int(spec.get("tfidf_ngrams", 1))
    body = f'''def split_columns(X: pd.DataFrame) -> tuple[list, list, list]:
    """Numeric, categorical and free-text columns."""
    num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    other = [c for c in X.columns if c not in num]
    text = [c for c in other if X[c].astype(str).str.len().mean() >= 30 and X[c].nunique() > 0.3 * len(X)]
    return num, [c for c in other if c not in text], text


def make_preprocessor(family: str, num: list, cat: list, text: list):
    """Column transformer suited to the model family (trees: ordinal codes; linear: one-hot, scaled)."""
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
    body += ('''    return ColumnTransformer(parts, sparse_threshold=0.3 if text and family in ''' + repr(SPARSE_FAMILIES)
             + ''' else 0.0)
''')
    return header("preprocess", spec) + body + footer("preprocess")


# -- target transform (regression) -------------------------------------------------------------

def render_target(spec: dict) -> str:
    transform = spec.get("transform", "none")
    forward, inverse = {
        "none": ("y", "z"),
        "log1p": ("np.log1p(y)", "np.expm1(z)"),
        "sqrt": ("np.sqrt(y)", "np.square(np.clip(z, 0, None))"),
    }[transform]
    body = f'''def encode_target(y: np.ndarray) -> np.ndarray:
    """A target column as the models see it ({transform})."""
    return {forward}


def decode_target(z: np.ndarray) -> np.ndarray:
    return {inverse}
'''
    return header("target", spec) + body + footer("target")


# -- model -------------------------------------------------------------------------------------

_ESTIMATORS = {
    ("xgboost", "regressor"): ("from xgboost import XGBRegressor", "XGBRegressor", "tree_method='hist', n_jobs=THREADS, random_state=SEED"),
    ("xgboost", "classifier"): ("from xgboost import XGBClassifier", "XGBClassifier", "tree_method='hist', n_jobs=THREADS, random_state=SEED"),
    ("hgb", "regressor"): ("from sklearn.ensemble import HistGradientBoostingRegressor", "HistGradientBoostingRegressor", "random_state=SEED"),
    ("hgb", "classifier"): ("from sklearn.ensemble import HistGradientBoostingClassifier", "HistGradientBoostingClassifier", "random_state=SEED"),
    ("random_forest", "regressor"): ("from sklearn.ensemble import RandomForestRegressor", "RandomForestRegressor", "n_jobs=THREADS, random_state=SEED"),
    ("random_forest", "classifier"): ("from sklearn.ensemble import RandomForestClassifier", "RandomForestClassifier", "n_jobs=THREADS, random_state=SEED"),
    ("extra_trees", "regressor"): ("from sklearn.ensemble import ExtraTreesRegressor", "ExtraTreesRegressor", "n_jobs=THREADS, random_state=SEED"),
    ("extra_trees", "classifier"): ("from sklearn.ensemble import ExtraTreesClassifier", "ExtraTreesClassifier", "n_jobs=THREADS, random_state=SEED"),
    ("linear", "regressor"): ("from sklearn.linear_model import Ridge", "Ridge", ""),
    ("linear", "classifier"): ("from sklearn.linear_model import LogisticRegression", "LogisticRegression", "max_iter=3000"),
    ("prior", "regressor"): ("from sklearn.dummy import DummyRegressor", "DummyRegressor", "strategy='mean'"),
    ("prior", "classifier"): ("from sklearn.dummy import DummyClassifier", "DummyClassifier", "strategy='prior'"),
}


def render_model(spec: dict, estimator: str) -> str:
    """``make_models()``; ``estimator`` is 'classifier' or 'regressor' (from the task's shape)."""
    imports, entries = [], []
    for m in spec["models"]:
        imp, cls, fixed = _ESTIMATORS[(m["family"], estimator)]
        if imp not in imports:
            imports.append(imp)
        args = ", ".join([f"{k}={v!r}" for k, v in sorted(m["params"].items())] + ([fixed] if fixed else []))
        entries.append(f"        ({m['family']!r}, {cls}({args}), {float(m.get('weight', 1.0))!r}),")
    body = ('def make_models() -> list:\n'
            '    """(family, estimator, blend weight) for every model in the blend."""\n'
            + "".join(f"    {imp}\n" for imp in imports) + "\n    return [\n" + "\n".join(entries) + "\n    ]\n")
    return header("model", spec) + body + footer("model")
