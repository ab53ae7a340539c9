"""The refinable blocks of a solution script after loading: features, preprocess, target, model.

Each block is rendered from its recipe (a small JSON dict) and carries that recipe in its
header comment, so the engineer can read back and change exactly one block of a script.
"""

from __future__ import annotations

from mle_star.engineer.markers import footer, header
from mle_star.engineer.neural import CNN_CODE, estimator_entry, is_neural
from mle_star.engineer.pretrained import FAMILY as FINETUNE
from mle_star.engineer.pretrained import RESNET_CODE
from mle_star.engineer.pretrained import estimator_entry as finetuned_entry

TREE_FAMILIES = ("xgboost", "lightgbm", "catboost", "hgb", "random_forest", "extra_trees", "prior")
SPARSE_FAMILIES = ("xgboost", "lightgbm", "linear")  # families that take TF-IDF matrices
NAN_FAMILIES = ("xgboost", "lightgbm", "catboost", "hgb")  # families that handle missing numbers themselves


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
        if family in {NAN_FAMILIES!r}:
            parts.append(("num", "passthrough", num))
        elif trees:
            parts.append(("num", SimpleImputer(strategy="median"), num))
        else:
            parts.append(("num", make_pipeline(Clipped(), SimpleImputer(strategy="median", add_indicator=True),
                                               StandardScaler()), num))
    if cat:
        if family == "catboost" and {spec.get("categorical", "ordinal")!r} != "onehot":
            parts.append(("native_cat", "passthrough", cat))  # read as categories: see declare_categoricals
        elif trees and {spec.get("categorical", "ordinal")!r} == "ordinal":
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
    if spec.get("raw_pixels"):  # set where a fine-tuned network is in the blend (recipe.with_grid)
        body = body.replace("    parts = []\n", RAW_PIXELS, 1)
    return header("preprocess", spec) + body + footer("preprocess")


# A pretrained network normalises its pixels as ImageNet's were: it needs them as read, in [0, 1].
RAW_PIXELS = """    parts = []
    if family == "resnet" and num:  # the pretrained network scales the pixels itself, as ImageNet's were
        parts.append(("num", "passthrough", num))
        num = []
"""


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
    ("lightgbm", "regressor"): ("from lightgbm import LGBMRegressor", "LGBMRegressor", "n_jobs=THREADS, random_state=SEED, verbose=-1"),
    ("lightgbm", "classifier"): ("from lightgbm import LGBMClassifier", "LGBMClassifier", "n_jobs=THREADS, random_state=SEED, verbose=-1"),
    ("catboost", "regressor"): ("from catboost import CatBoostRegressor", "CatBoostRegressor", "thread_count=THREADS, random_seed=SEED, verbose=0, allow_writing_files=False"),
    ("catboost", "classifier"): ("from catboost import CatBoostClassifier", "CatBoostClassifier", "thread_count=THREADS, random_seed=SEED, verbose=0, allow_writing_files=False"),
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
    """``make_models()``; ``estimator`` is 'classifier' or 'regressor' (from the task's shape).

    A model with ``stop`` (early-stopping rounds) or ``seeds`` > 1 is wrapped in ``Bagged``
    (the script's training helper): copies fit with different seeds, averaged, each stopped
    early on a slice of its own training rows."""
    imports, entries = [], []
    for m in spec["models"]:
        neural = is_neural(m["family"])
        entry = finetuned_entry if m["family"] == FINETUNE else estimator_entry
        imp, cls, fixed = entry(estimator) if neural else _ESTIMATORS[(m["family"], estimator)]
        if imp not in imports:
            imports.append(imp)
        args = ", ".join([f"{k}={v!r}" for k, v in sorted(m["params"].items())] + ([fixed] if fixed else []))
        made = f"{cls}({args})"
        seeds, stop = int(m.get("seeds", 1)), int(m.get("stop", 0))
        if seeds > 1 or stop:
            made = f"Bagged({made}, seeds={seeds}, stop={stop})"
        entries.append(f"        ({m['family']!r}, {made}, {float(m.get('weight', 1.0))!r}),")
    families = {m["family"] for m in spec["models"]}
    network = CNN_CODE + "\n\n" if "cnn" in families else ""
    network += RESNET_CODE + "\n\n" if "resnet" in families else ""
    body = (network + 'def make_models() -> list:\n'
            '    """(family, estimator, blend weight) for every model in the blend."""\n'
            + "".join(f"    {imp}\n" for imp in imports) + "\n    return [\n" + "\n".join(entries) + "\n    ]\n")
    return header("model", spec) + body + footer("model")


BAGGED = '''class Clipped(BaseEstimator, TransformerMixin):
    """Numbers held to the central 99% of the training rows' values (columns with few distinct
    values keep their whole range): a linear model never extrapolates past what it was fit on.
    On ames a ridge member priced two houses of 4,700 and 5,600 sq ft at 1.0M and 2.3M (sold for
    160k and 185k); clipped, 0.91M and 0.83M, and its RMSLE went from 0.174 to 0.141."""

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.low_, self.high_ = np.nanpercentile(X, [0.5, 99.5], axis=0) if len(X) else (None, None)
        for j in range(X.shape[1]):
            seen = X[:, j][~np.isnan(X[:, j])]
            if len(np.unique(seen)) <= 10:
                self.low_[j], self.high_[j] = (seen.min(), seen.max()) if len(seen) else (np.nan, np.nan)
        return self

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return X if self.low_ is None else np.where(np.isnan(X), X, np.clip(X, self.low_, self.high_))


class Bagged(BaseEstimator):
    """An estimator averaged over `seeds` copies fit with different seeds. With `stop` > 0 each copy
    stops adding trees once `stop` rounds bring no gain on a 10% slice of its own training rows (a
    different slice per seed), never on the rows the script scores."""

    def __init__(self, estimator=None, seeds: int = 1, stop: int = 0):
        self.estimator, self.seeds, self.stop = estimator, seeds, stop

    def fit(self, X, y):
        self.fitted_ = []
        for s in range(self.seeds):
            model = clone(self.estimator)
            key = "random_seed" if "random_seed" in model.get_params() else "random_state"
            model.set_params(**{key: SEED + s})
            if self.stop and X.shape[0] >= 200:
                self.fitted_.append(fit_stopped(model, X, y, *stopping_slice(y, SEED + s), self.stop))
            else:
                self.fitted_.append(model.fit(X, y))
        return self

    def predict_proba(self, X) -> np.ndarray:
        return np.mean([m.predict_proba(X) for m in self.fitted_], axis=0)

    def predict(self, X) -> np.ndarray:
        return np.mean([m.predict(X) for m in self.fitted_], axis=0)


class Columns(list):
    """Column positions that survive clone(): CatBoost deep-copies its parameters and clone()
    wants the same object back, while CatBoost's fit takes only a list or an array."""

    def __deepcopy__(self, memo):
        return self


def declare_categoricals(model, preprocessor):
    """Tell CatBoost which matrix columns are the categories its preprocessor passed through as
    text: it encodes them itself with ordered target statistics, which ordinal codes lose."""
    span = preprocessor.output_indices_.get("native_cat")
    if span is not None and span.stop > span.start:
        inner = model.estimator if isinstance(model, Bagged) else model
        inner.set_params(cat_features=Columns(range(span.start, span.stop)))
    return model


def stopping_slice(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows to fit, rows to stop on): 10% set aside, every class kept among the fitted rows."""
    rows = np.random.default_rng(seed).permutation(len(y))
    fit, stop = rows[len(rows) // 10:], rows[: len(rows) // 10]
    if y.dtype.kind in "iub":  # class codes: a class seen only in the slice goes back to the fitted rows
        back = np.isin(y[stop], np.setdiff1d(y[stop], y[fit]))
        fit, stop = np.concatenate([fit, stop[back]]), stop[~back]
    return fit, stop


def fit_stopped(model, X, y: np.ndarray, fit: np.ndarray, stop: np.ndarray, rounds: int):
    """Fit a boosting model on `fit` rows, stopping once `rounds` rounds bring no gain on `stop` rows."""
    name = type(model).__name__
    if len(stop) == 0:
        return model.fit(X, y)
    if name.startswith("XGB"):
        return model.set_params(early_stopping_rounds=rounds).fit(X[fit], y[fit], eval_set=[(X[stop], y[stop])],
                                                                  verbose=False)
    if name.startswith("LGBM"):
        import lightgbm

        return model.fit(X[fit], y[fit], eval_set=[(X[stop], y[stop])],
                         callbacks=[lightgbm.early_stopping(rounds, verbose=False)])
    if name.startswith("CatBoost"):
        return model.fit(X[fit], y[fit], eval_set=(X[stop], y[stop]), early_stopping_rounds=rounds, verbose=False)
    return model.fit(X, y)  # a model without early stopping learns from every row
'''
