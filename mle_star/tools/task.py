"""Reading a Kaggle-style task folder into the facts every role needs.

A task folder holds a description (``description.md`` or a single .md/.txt) and data files,
either directly or in a ``public/`` sub-folder (MLE-bench layout). The target and id columns
come from ``sample_submission.csv``; the metric from the description unless overridden.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from mle_star.tools.metrics import Metric, UnknownMetric, detect_metric, get_metric
from mle_star.tools.preview import column_facts

DATA_SUFFIXES = {".csv", ".tsv", ".parquet", ".json", ".jsonl", ".txt", ".npy", ".npz", ".zip", ".gz"}


class TaskError(ValueError):
    """Bad task input; the message is one line a user can act on."""


@dataclass
class TaskSpec:
    name: str
    data_dir: str  # the public folder the agent may read
    description: str
    data_files: list[str]
    train_file: str
    test_file: str
    sample_submission: str
    id_column: str
    target_columns: list[str]  # submission columns other than the id
    train_target: str  # the label column in train.csv
    task_type: str  # binary | multiclass | regression
    metric: str
    lower_is_better: bool
    needs_proba: bool
    classes: list = field(default_factory=list)
    n_train: int = 0
    n_test: int = 0
    text_columns: list[str] = field(default_factory=list)
    target_min: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def task_name(task_dir: str | Path) -> str:
    """The task's name: its folder, or the folder above a bare ``public/``."""
    root = Path(task_dir).expanduser().resolve()
    return root.parent.name if root.name == "public" else root.name


def _find_description(folder: Path) -> Path | None:
    for name in ("description.md", "description.txt", "README.md"):
        if (folder / name).is_file():
            return folder / name
    docs = sorted(p for p in folder.iterdir() if p.suffix in {".md", ".txt"} and p.is_file())
    return docs[0] if len(docs) == 1 else None


def _read_csv(path: Path, **kwargs) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TaskError(f"cannot read {path.name}: {first}") from None


def load_task(
    task_dir: str | Path,
    metric: str | None = None,
    lower_is_better: bool | None = None,
) -> TaskSpec:
    """Validate a task folder and derive its facts; raises TaskError with a clear reason."""
    root = Path(task_dir).expanduser()
    if not root.exists():
        raise TaskError(f"task folder not found: {root}")
    if not root.is_dir():
        raise TaskError(f"task path is not a folder: {root}")
    data_dir = root / "public" if (root / "public").is_dir() else root
    desc_path = _find_description(data_dir) or _find_description(root)
    if desc_path is None:
        raise TaskError(f"no task description (description.md or a single .md/.txt) in {root}")
    description = desc_path.read_text(encoding="utf-8", errors="replace")
    data_files = sorted(
        p.name for p in data_dir.iterdir()
        if p.is_file() and p.suffix in DATA_SUFFIXES and p != desc_path and p.suffix != ".md"
        and not (p.suffix == ".txt" and p.name.lower().startswith(("description", "readme")))
    )
    if not any(f.endswith((".csv", ".tsv", ".parquet")) for f in data_files):
        raise TaskError(f"no data files (train.csv, test.csv, ...) in {data_dir}")
    for required in ("train.csv", "test.csv"):
        if required not in data_files:
            raise TaskError(f"missing {required} in {data_dir}")
    sample = next((f for f in data_files if f.startswith("sample_submission")), None)
    if sample is None:
        raise TaskError(f"no sample_submission.csv in {data_dir}: it defines the target and id columns")

    train = _read_csv(data_dir / "train.csv")
    test = _read_csv(data_dir / "test.csv")
    sub = _read_csv(data_dir / sample, nrows=5)
    if train.empty or test.empty:
        raise TaskError("train.csv and test.csv must both have rows")
    sub_cols = list(sub.columns)
    id_col = next((c for c in sub_cols if c in test.columns), None)
    if id_col is None:
        raise TaskError(f"{sample}: no column that is also in test.csv to serve as the id")
    targets = [c for c in sub_cols if c != id_col]
    if not targets:
        raise TaskError(f"{sample}: no prediction column besides the id '{id_col}'")
    label_cols = [c for c in train.columns if c not in test.columns]
    if len(targets) == 1 and targets[0] in train.columns:
        train_target = targets[0]
    elif len(label_cols) == 1:
        train_target = label_cols[0]
    else:
        raise TaskError(f"cannot tell the target column: train.csv has {label_cols or 'no'} extra columns")

    y = train[train_target]
    if len(targets) > 1:
        task_type, classes = "multiclass", targets
    elif pd.api.types.is_numeric_dtype(y) and y.nunique() > 20:
        task_type, classes = "regression", []
    elif y.nunique() == 2:
        task_type, classes = "binary", sorted(y.dropna().unique().tolist(), key=str)
    elif pd.api.types.is_float_dtype(y) and y.nunique() > 10:
        task_type, classes = "regression", []
    else:
        task_type, classes = "multiclass", sorted(y.dropna().unique().tolist(), key=str)

    try:
        found = get_metric(metric) if metric else detect_metric(description)
    except UnknownMetric as exc:
        raise TaskError(str(exc)) from None
    if found is None:
        raise TaskError("the description names no known metric: pass --metric NAME")
    found = _refine_metric(found, task_type)
    lower = (not found.higher_is_better) if lower_is_better is None else lower_is_better

    return TaskSpec(
        name=task_name(root),
        data_dir=str(data_dir.resolve()),
        description=description,
        data_files=data_files,
        train_file="train.csv",
        test_file="test.csv",
        sample_submission=sample,
        id_column=id_col,
        target_columns=targets,
        train_target=train_target,
        task_type=task_type,
        metric=found.name,
        lower_is_better=lower,
        needs_proba=found.needs_proba,
        classes=[c if isinstance(c, str) else c.item() if hasattr(c, "item") else c for c in classes],
        n_train=len(train),
        n_test=len(test),
        text_columns=[f["name"] for f in column_facts(test.head(2000)) if f["kind"] == "text"],
        target_min=float(y.min()) if task_type == "regression" else None,
    )


def _refine_metric(metric: Metric, task_type: str) -> Metric:
    """'log loss' in a multi-class task means the multi-class log loss, and vice versa."""
    if metric.name == "logloss" and task_type == "multiclass":
        return get_metric("multi_logloss")
    if metric.name == "multi_logloss" and task_type == "binary":
        return get_metric("logloss")
    return metric
