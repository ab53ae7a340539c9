"""The three tabular tasks from scikit-learn's bundled datasets (their files are kept byte-identical)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.examples.common import Example, _write_task_json

# ---------------------------------------------------------------- the tabular sklearn tasks
# Their output is kept byte-identical: tests and benchmarks elsewhere depend on these files.

_SKLEARN: dict[str, Example] = {
    "breast-cancer": Example(
        "load_breast_cancer", "Breast Cancer Wisconsin (Diagnostic)", "binary",
        "Submissions are evaluated on the **area under the ROC curve** (AUC) between the predicted "
        "probability that a tumour is malignant and the observed label. Higher is better.",
        "Predict whether a breast mass is malignant from 30 measurements of cell nuclei in a digitised "
        "fine-needle aspirate image (UCI, 1995)."),
    "diabetes": Example(
        "load_diabetes", "Diabetes Progression", "regression",
        "Submissions are evaluated on **root mean squared error** (RMSE). Lower is better.",
        "Predict a quantitative measure of diabetes progression one year after baseline from age, sex, "
        "body mass index, blood pressure and six blood serum measurements (Efron et al., 2004)."),
    "wine": Example(
        "load_wine", "Wine Cultivars", "multiclass",
        "Submissions are evaluated with **multi-class log loss**. Lower is better.",
        "Predict which of three cultivars a wine comes from, from 13 results of a chemical analysis (UCI)."),
}
_SKLEARN_META = {  # name: (shape, metric, higher_is_better, kind)
    "breast-cancer": ("tabular-binary", "auc", True, "probability"),
    "diabetes": ("tabular-regression", "rmse", False, "targets"),
    "wine": ("tabular-multiclass", "multi_logloss", False, "class_probabilities"),
}


def _load(example: Example) -> tuple[pd.DataFrame, pd.Series]:
    import sklearn.datasets

    loader: Callable = getattr(sklearn.datasets, example.loader)
    data = loader(as_frame=True, **({"scaled": False} if example.loader == "load_diabetes" else {}))
    X = data.frame.drop(columns=["target"])
    X.columns = [str(c).replace(" ", "_").replace("/", "_") for c in X.columns]
    return X, data.frame["target"]


def _write_sklearn(name: str, example: Example, out: Path, seed: int) -> None:
    (out / "public").mkdir(parents=True, exist_ok=True)
    (out / "private").mkdir(exist_ok=True)
    X, y = _load(example)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    n_test = len(X) // 5
    test_idx, train_idx = order[:n_test], order[n_test:]
    frame = X.copy()
    frame.insert(0, "id", np.arange(len(X)))
    target = "target"
    if example.kind == "binary":  # sklearn codes malignant as 0; predict malignancy
        y = (y == 0).astype(int)
        target = "malignant"
    if example.kind == "multiclass":
        y = y.map(lambda v: f"cultivar_{v}")
        target = "cultivar"
    frame[target] = y.to_numpy()
    train, test = frame.iloc[train_idx], frame.iloc[test_idx]
    train.to_csv(out / "public" / "train.csv", index=False)
    test.drop(columns=[target]).to_csv(out / "public" / "test.csv", index=False)
    answers = test[["id", target]]
    answers.to_csv(out / "private" / "answers.csv", index=False)
    sample = pd.DataFrame({"id": test["id"]})
    if example.kind == "multiclass":
        classes = sorted(train[target].unique())
        columns = classes
        for c in classes:
            sample[c] = round(float((train[target] == c).mean()), 6)
    else:
        columns = [target]
        sample[target] = round(float(train[target].mean()), 6)
    sample.to_csv(out / "public" / "sample_submission.csv", index=False)
    description = f"""# {example.title}

## Overview

{example.overview}

## Evaluation

{example.metric_text}

## Submission File

For each `id` in test.csv, predict {', '.join(f'`{c}`' for c in columns)}. The file must have a header
and exactly one row per test id, in the format of `sample_submission.csv`.

## Data

- `train.csv` - {len(train)} rows: `id`, {X.shape[1]} feature columns and the target `{target}`.
- `test.csv` - {len(test)} rows: `id` and the same feature columns.
- `sample_submission.csv` - a valid (naive) submission.

Data: scikit-learn's bundled copy (`sklearn.datasets.{example.loader}`).
"""
    (out / "description.md").write_text(description)
    (out / "public" / "description.md").write_text(description)
    shape, metric, higher, kind = _SKLEARN_META[name]
    _write_task_json(out, name, shape, metric, higher, kind, "id", list(map(str, columns)), [target],
                     f"scikit-learn sklearn.datasets.{example.loader}")


