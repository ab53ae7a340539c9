"""Reading a Kaggle task folder: facts, not gates.

A task is a description, a sample submission (it defines the output) and any data: tables,
zipped tables, JSON records, folders or archives of images or audio clips. The intake refuses
only what cannot be a task (no folder, no description, no sample submission) or what would
doom every script (labels with one class, too few labelled rows, sample ids that differ from
the test ids); everything else becomes bounded facts for the prompts. It never loads a whole
large file: tables are read for their header, a few rows and the columns it needs.

Tables and records are read by :mod:`.reading`; examples that are files (items, labels in
file names, image targets) are found by :mod:`.items`.

Layouts: a flat folder, a folder with ``public/`` (and ``private/`` for grading, never read),
and MLE-bench's prepared competition (``<competition>/prepared/public``).

Over 600 lines because ``_read_task`` is one decision in order (sample, labels, items, metric,
modality), each step reading the facts of the one before; its helpers live in the two modules above.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from mle_star.state import Items, LabelSource, Modality, TaskType
from mle_star.tools.scoring.held_out import OutputSpec, as_strings
from mle_star.tools.scoring.metrics import (
    Metric,
    UnknownMetric,
    custom_metric,
    detect_metric,
    get_metric,
    refine,
)
from mle_star.tools.task.archives import (
    ArchiveError,
    archive_stem,
    bundle_archive,
    is_junk,
    unbundle,
)
from mle_star.tools.task.dialect import shown_name
from mle_star.tools.task.inventory import (
    AUDIO_EXT,
    IMAGE_EXT,
    Inventory,
    InventoryError,
    csv_facts,
    table_dialect,
    take_inventory,
)
from mle_star.tools.task.items import (
    find_items,
    folder_files,
    image_targets,
    item_modality,
    labels_in_names,
)
from mle_star.tools.task.listed_labels import TEST_FILE as LISTED_TEST
from mle_star.tools.task.listed_labels import TRAIN_FILE as LISTED_TRAIN
from mle_star.tools.task.listed_labels import find_listed_labels
from mle_star.tools.task.reading import (
    TaskError,
    columns_of,
    is_json,
    is_table,
    read_columns,
    read_records,
    read_table,
    records_frame,
    table_problem,
)

MIN_LABELLED = 10  # fewer labelled rows cannot be both trained on and validated
LABEL_READ_ROWS = 2_000_000  # label columns of larger tables are judged from this many rows
# sample_submission.csv, sampleSubmission.csv, en_sample_submission_2.csv.zip, submission_format.csv, .tsv
SAMPLE_NAME = re.compile(r"^([a-z]{2,3}[_\-])?(sample[_\- ]?submission|submission[_\-]format).*\.(csv|tsv)(\.zip|\.gz)?$",
                         re.I)
ROW_KEY = "\0row"  # find_label_source's key for a label table whose rows have no id
CompositeKey = tuple[str, tuple[str, str], str]  # (sample id column, the two test columns, separator)




@dataclass
class Intake:
    """Everything the intake learnt about a task folder (the run's data view comes later)."""

    name: str
    root: str
    data_dir: str
    description: str
    description_file: str
    sample: str  # relative to data_dir
    output: OutputSpec
    metric: Metric
    label_source: LabelSource | None
    test_file: str | None
    train_items: Items | None  # dir relative to data_dir, or an archive to extract
    test_items: Items | None
    archives: list[str]  # archives whose members scripts need (extracted once per run)
    modality: Modality
    task_type: TaskType
    classes: list[str]  # label values as strings (for class_probabilities: in column order)
    text_columns: list[str]
    target_min: float | None
    n_labelled: int
    n_test: int
    scoring: str
    inventory: Inventory
    fingerprint: str
    notes: list[str] = field(default_factory=list)
    dropped_labels: int = 0  # labelled rows without a label value (left out of the split)
    # the sample's ids join two columns of the test and training rows ("<sentence_id>_<token_id>"):
    # the run's data view adds the joined column to its copies of both tables
    composite_key: CompositeKey | None = None
    # the targets are images (inputs/targets/test folders and the pixel ids' base), predicted per pixel
    image_targets: dict[str, Any] | None = None
    # labels read off file names or class folders: the table the run's data view writes as
    # label_source["file"]; held-out items are shown under names that do not carry their label
    named_labels: pd.DataFrame | None = None
    # the label table has no id column: the run's data view numbers its rows in an added first
    # column of this name (the sample's id column), which the held-out rows keep
    row_key: str | None = None
    # the test rows built by the intake (listed labels): the run's data view writes it as test_file
    derived_test: pd.DataFrame | None = None


# -- the folder ------------------------------------------------------------------------------

def task_name(task_dir: str | Path) -> str:
    """The task's name: its folder, or the competition above ``public/`` / ``prepared/public``."""
    root = Path(task_dir).expanduser().resolve()
    if root.name == "public":
        root = root.parent.parent if root.parent.name == "prepared" else root.parent
    return root.name


def default_run_dir(task_dir: str | Path) -> str:
    import time

    return str(Path("runs") / f"{task_name(task_dir)}-{time.strftime('%Y%m%d-%H%M%S')}")


def data_folder(root: Path) -> Path:
    for candidate in (root / "prepared" / "public", root / "public"):
        if candidate.is_dir():
            return candidate
    return root


def _find_description(folder: Path) -> Path | None:
    for name in ("description.md", "description.txt", "README.md", "overview.md"):
        if (folder / name).is_file():
            return folder / name
    docs = sorted(p for p in folder.iterdir() if p.suffix in {".md", ".txt"} and p.is_file()
                  and not p.name.lower().startswith(("license", "readme_data")))
    return docs[0] if len(docs) == 1 else None


def _find_sample(folder: Path) -> Path | None:
    found = sorted(p for p in folder.iterdir() if p.is_file() and SAMPLE_NAME.match(p.name))
    return found[0] if found else None


def fingerprint(folder: Path, limit: int = 20_000) -> str:
    """A hash of the task's files (names, sizes, modification times): resume checks it."""
    digest = hashlib.sha256()
    count = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            digest.update(f"{path.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            count += 1
            if count >= limit:
                digest.update(b"...")
                return digest.hexdigest()
    return digest.hexdigest()


# -- the sample submission and the output it defines ---------------------------------------

def _sample_head(path: Path) -> pd.DataFrame:
    """The sample's first rows: its shape."""
    head = read_table(path, nrows=1000)
    if head.shape[1] < 2:
        raise TaskError(f"{path.name}: needs an id column and at least one prediction column")
    if head.empty:
        raise TaskError(f"{path.name} has no rows")
    return head


def _sample_ids(path: Path, id_column: str) -> np.ndarray:
    """All of the sample's ids (as strings, as written)."""
    ids = raw_strings(read_columns(path, [id_column], dtype=str, keep_default_na=False)[id_column])
    if len(set(ids)) != len(ids):
        raise TaskError(f"{path.name}: the ids in '{id_column}' are not unique")
    return ids


def sample_id_column(sample: Path, head: pd.DataFrame, folder: Path, test_file: str | None,
                     test_columns: list[str]) -> str:
    """The sample's id column: the one the test rows share (in any position), else the first.

    A sample column named like a test column is the id (the predictions are not in the test
    file); where several are, their values decide."""
    columns = [str(c) for c in head.columns]
    if not test_file or not test_columns:
        return columns[0]
    by_norm = {_norm(c): c for c in test_columns}
    shared = [c for c in columns if _norm(c) in by_norm]
    if len(shared) == 1:
        return shared[0]
    if len(shared) > 1:  # an id names one row: a column with blanks or repeats is a copied column (insults' Date)
        return max(shared, key=lambda c: (bool(head[c].notna().all() and head[c].is_unique),
                                          _overlap(head[c], folder / test_file, by_norm[_norm(c)]), c == columns[0]))
    for column in (c for c in columns if head[c].is_unique):  # no shared name: ids that are a test column's
        for test_column in test_columns[:20]:
            if _overlap(head[column], folder / test_file, test_column) > 0.9:
                return column
    composite = composite_key(head, folder / test_file, test_columns)
    if composite is not None:
        return composite[0]
    raise TaskError(f"no column of {sample.name} ({', '.join(columns)}) matches a column of {test_file} "
                    f"({', '.join(test_columns[:12])}{', ...' if len(test_columns) > 12 else ''}): "
                    "the sample's id column must name the test rows")


def copied_columns(head: pd.DataFrame, folder: Path, test_file: str | None, test_columns: list[str],
                   id_column: str) -> list[str]:
    """Sample columns besides the id that repeat a test column's values (detecting-insults'
    sample is ``Insult,Date,Comment``): they are carried over, not predicted. A test column
    left blank for the target (some layouts ship one) does not match the sample's values."""
    if not test_file:
        return []
    by_norm = {_norm(c): c for c in test_columns}
    others = [str(c) for c in head.columns if str(c) != id_column]
    copied = [c for c in others if _norm(c) in by_norm
              and _overlap(head[c], folder / test_file, by_norm[_norm(c)]) > 0.9]
    return copied if len(copied) < len(others) else []  # something must be left to predict


def composite_key(head: pd.DataFrame, test: Path, test_columns: list[str]) -> CompositeKey | None:
    """A sample id that joins two test columns, as token-level tasks write them ("12_3" for
    sentence 12, token 3): found on the first rows of both files."""
    rows = read_table(test, nrows=20_000, dtype=str, keep_default_na=False)
    candidates = [c for c in test_columns[:12] if c in rows.columns]
    for column in head.columns:
        probe = set(as_strings(head[column].dropna().astype(str).to_numpy()[:200]))
        for sep in ("_", "-", ":"):
            if not probe or not all(sep in v for v in probe):
                continue
            for a, b in itertools.permutations(candidates, 2):
                joined = set(rows[a] + sep + rows[b])
                if len(probe & joined) >= 0.9 * len(probe):
                    return str(column), (a, b), sep
    return None


def key_values(frame: pd.DataFrame, composite: CompositeKey | None) -> pd.DataFrame:
    """``frame`` with the joined key column added in front, where the ids join two columns."""
    if composite is None or composite[0] in frame.columns:
        return frame
    column, (a, b), sep = composite
    joined = frame[a].astype(str) + sep + frame[b].astype(str)
    return pd.concat([joined.rename(column), frame], axis=1)


def _overlap(values: pd.Series, test: Path, column: str) -> float:
    """Share of the sample's first values found in a test column."""
    try:
        known = set(as_strings(read_table(test, usecols=[column], dtype=str, keep_default_na=False)[column]))
    except TaskError:
        return 0.0
    probe = as_strings(values.dropna().astype(str).to_numpy())
    return float(np.mean([v in known for v in probe])) if len(probe) else 0.0


def raw_strings(values: pd.Series) -> np.ndarray:
    """Ids exactly as written (leading zeros kept): they name files."""
    return np.array([str(v).strip() for v in values], dtype=object)


def _norm(value: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(value).strip().lower())


# -- where the labels live -----------------------------------------------------------------

def _label_candidates(folder: Path, sample: Path) -> list[str]:
    """Tables and JSON files that may hold the training labels, most likely first."""
    names = [p.name for p in folder.iterdir() if p.is_file() and p != sample
             and (is_table(p.name) or is_json(p.name)) and "test" not in p.name.lower()
             and not SAMPLE_NAME.match(p.name)]

    def rank(name: str) -> tuple[int, str]:
        low = name.lower()
        return (0 if "train" in low else 1 if "label" in low else 2, name)

    return sorted(names, key=rank)


def _test_table(folder: Path) -> str | None:
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and "test" in p.name.lower()
                   and (is_table(p.name) or is_json(p.name)) and not SAMPLE_NAME.match(p.name))
    return names[0] if names else None


def find_label_source(folder: Path, sample: Path, id_column: str, predictions: list[str],
                      test_columns: list[str], composite: CompositeKey | None = None
                      ) -> tuple[str, str, list[str]] | None:
    """(file, key column, label columns) of the table/records holding the training labels.

    An unreadable candidate is skipped, unless it is named like the training table and nothing
    else holds the labels: then its problem is the task's."""
    unreadable: TaskError | None = None
    for name in _label_candidates(folder, sample):
        try:
            cols = columns_of(folder, name)
        except TaskError as exc:
            if unreadable is None and re.search(r"train|label", name, re.I):
                unreadable = exc
            continue
        if not cols:
            continue
        if composite and set(composite[1]) <= set(cols):  # the joined key is added to the rows
            cols = [composite[0], *cols]
        key = id_column if id_column in cols else next((c for c in cols if _norm(c) == _norm(id_column)), None)
        if all(p in cols for p in predictions):  # same names as the sample: the usual case
            if key is None and test_columns and is_table(name) and id_column not in cols:
                return name, ROW_KEY, predictions  # rows without ids: numbered by the run's data view
            return name, key or _id_like(cols), predictions
        extra = [c for c in cols if c not in test_columns and c != key] if test_columns else []
        if key and len(extra) == 1:  # train = test columns + the label (renamed in the sample)
            return name, key, extra
        if len(cols) == 2:  # a labels table: key, label
            key = key or cols[0]
            return name, key, [c for c in cols if c != key]
    if unreadable is not None:
        raise unreadable
    return None


def _other_data(folder: Path, known: set[str]) -> list[str]:
    """The folder's entries that might hold data besides ``known`` files (junk left out)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in known and not is_junk(p.name)
                  and not p.name.startswith(".") and p.suffix.lower() not in {".md", ".txt", ".pdf", ".html"})


def _id_like(cols: list[str]) -> str:
    return next((c for c in cols if re.search(r"(^|_)(id|name|key|code)$", c.lower())), cols[0])


# -- labels --------------------------------------------------------------------------------

def _label_values(folder: Path, source: str, key: str, labels: list[str], composite: CompositeKey | None = None,
                  row_key: str | None = None) -> tuple[pd.DataFrame, bool]:
    """The key and label columns (all rows, or the first LABEL_READ_ROWS of a huge table)."""
    path = folder / source
    if row_key is not None:
        frame = read_columns(path, labels, nrows=LABEL_READ_ROWS, low_memory=False)
        frame.insert(0, row_key, [str(i) for i in range(len(frame))])
        return frame, len(frame) == LABEL_READ_ROWS
    if is_table(source):
        joined = composite is not None and key == composite[0]
        columns = [*composite[1], *labels] if joined and composite else [key, *labels]
        frame = read_columns(path, columns, nrows=LABEL_READ_ROWS, low_memory=False,
                              **({"dtype": {c: str for c in composite[1]}} if joined and composite else {}))
        frame = key_values(frame, composite if joined else None)
        capped = len(frame) == LABEL_READ_ROWS
        return frame[[key, *labels]], capped
    frame = records_frame(read_records(path))
    missing = [c for c in [key, *labels] if c not in frame.columns]
    if missing:
        raise TaskError(f"{source}: records lack {', '.join(missing)}")
    return frame[[key, *labels]], False


def _binary(values: pd.Series) -> bool:
    present = set(as_strings(values.dropna().unique()))
    return 0 < len(present) <= 2 and present <= {"0", "1", "true", "false", "True", "False"}


def _spec(sample: pd.DataFrame, labels: pd.DataFrame | None, label_columns: list[str],
          metric_hint: Metric | None, id_column: str, copied: list[str] | None = None
          ) -> tuple[OutputSpec, list[str]]:
    """What the prediction columns hold, and the classes (label values, in column order)."""
    columns = [str(c) for c in sample.columns if str(c) != id_column and str(c) not in (copied or [])]
    values = sample[columns]
    spec = OutputSpec(id_column=id_column, columns=columns, kind="targets", label_columns=label_columns,
                      classes=[], positive_class=None, order=[str(c) for c in sample.columns])
    if copied:
        spec["copied"] = list(copied)
    y = labels[label_columns] if labels is not None else None
    if len(columns) == 1:
        col = values.iloc[:, 0]
        if not pd.api.types.is_numeric_dtype(col) and col.astype(str).str.contains(" ").mean() > 0.5:
            classes = sorted(set(as_strings(y.iloc[:, 0].dropna()))) if y is not None else []
            return _shaped(spec, {"kind": "ranked_labels", "classes": classes}), classes
        if y is None:
            kind = "probability" if pd.api.types.is_float_dtype(col) and col.between(0, 1).all() else "label"
            return _shaped(spec, {"kind": kind}), []
        truth = y.iloc[:, 0].dropna()
        numeric = pd.api.types.is_numeric_dtype(truth)
        many = truth.nunique() > 20
        if numeric and (many or (pd.api.types.is_float_dtype(truth) and truth.nunique() > 10)):
            return _shaped(spec, {"kind": "targets"}), []
        classes = sorted(set(as_strings(truth.unique())), key=_class_order)
        wants_proba = (metric_hint is not None and metric_hint.needs_proba) or (
            pd.api.types.is_float_dtype(col) and not col.isin([0.0, 1.0]).all())
        if len(classes) == 2 and wants_proba:
            positive = _positive(classes, columns[0])
            return _shaped(spec, {"kind": "probability", "classes": classes, "positive_class": positive}), classes
        return _shaped(spec, {"kind": "label", "classes": classes}), classes
    if y is not None and all(c in label_columns for c in columns):
        if all(_binary(y[c]) for c in columns):
            return _shaped(spec, {"kind": "multilabel"}), []
        return _shaped(spec, {"kind": "targets"}), []
    if y is not None and len(label_columns) == 1:  # one label column, one prediction column per class
        truth = sorted(set(as_strings(y.iloc[:, 0].dropna().unique())), key=_class_order)
        by_norm = {_norm(c): c for c in columns}
        if all(_norm(t) in by_norm for t in truth):
            classes = [next((t for t in truth if _norm(t) == _norm(c)), c) for c in columns]
        elif len(truth) == len(columns):  # e.g. labels 0..9, columns digit_0..digit_9: by order
            classes = truth
        else:
            raise TaskError(f"the sample's {len(columns)} prediction columns do not match the "
                            f"{len(truth)} label values of '{label_columns[0]}'")
        return _shaped(spec, {"kind": "class_probabilities", "classes": columns}), classes
    return _shaped(spec, {"kind": "targets" if y is None else "multilabel"}), []


def _shaped(spec: OutputSpec, changes: dict[str, Any]) -> OutputSpec:
    """``spec`` with some fields decided (the keys are OutputSpec's own, by construction)."""
    return cast(OutputSpec, {**spec, **changes})


def _class_order(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def _positive(classes: list[str], column: str) -> str:
    for name in ("1", "True", "true", "yes", "positive"):
        if name in classes:
            return name
    return next((c for c in classes if _norm(c) == _norm(column)), classes[-1])


# -- the whole intake ----------------------------------------------------------------------

_read: dict[tuple, Intake] = {}


def read_task(task_dir: str | Path, metric: str | None = None, lower_is_better: bool | None = None) -> Intake:
    """Validate a task folder and derive its facts; raises TaskError with a clear reason.

    Memoised by the folder's fingerprint: the CLI's check and the graph's prepare step read a
    large task once."""
    root = Path(task_dir).expanduser()
    if root.is_dir():
        key = (str(root.resolve()), metric, lower_is_better, fingerprint(data_folder(root.resolve())))
        if key not in _read:
            _read.clear()
            _read[key] = _intake_or_task_error(root, metric, lower_is_better)
        return _read[key]
    return _intake_or_task_error(root, metric, lower_is_better)


def _intake_or_task_error(root: Path, metric: str | None, lower_is_better: bool | None) -> Intake:
    """The intake, where any failure is a TaskError: the files are the task's, and a failure to
    read them is the user's to act on (a resume would only repeat it)."""
    try:
        return _read_task(root, metric, lower_is_better)
    except TaskError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line naming the folder, never a traceback
        raise TaskError(f"cannot read the task folder {root}: {table_problem(exc)}") from exc


def _read_task(root: Path, metric: str | None, lower_is_better: bool | None) -> Intake:
    if not root.exists():
        raise TaskError(f"task folder not found: {root}")
    if not root.is_dir():
        raise TaskError(f"task path is not a folder: {root}")
    root = root.resolve()
    folder = given = data_folder(root)
    bundled = bundle_archive(folder, lambda name: is_table(name) or is_json(name))
    if bundled is not None:  # a Kaggle download: the tables are inside one zip
        try:
            folder = unbundle(folder, bundled)
        except (ArchiveError, OSError) as exc:
            raise TaskError(f"cannot unpack {bundled.name}: {exc}") from None
    desc_path = _find_description(folder) or _find_description(root)
    if desc_path is None:
        raise TaskError(f"no task description (description.md or a single .md/.txt) in {root}")
    description = desc_path.read_text(encoding="utf-8", errors="replace")
    sample_path = _find_sample(folder)
    if sample_path is None:
        raise TaskError(f"no sample_submission.csv in {folder}: it defines the output")
    try:
        inventory = take_inventory(folder, exclude={desc_path.name} if desc_path.parent == folder else set())
    except InventoryError as exc:
        raise TaskError(str(exc)) from None
    notes: list[str] = [f"the task's tables are inside {bundled.name}: the run reads them unpacked from {folder}"
                        ] if bundled is not None else []
    sample = _sample_head(sample_path)
    test_file = _test_table(folder)
    test_columns = columns_of(folder, test_file) if test_file else []
    id_column = sample_id_column(sample_path, sample, folder, test_file, test_columns)
    composite = (composite_key(sample, folder / test_file, test_columns)
                 if test_file and id_column not in test_columns and not any(_norm(c) == _norm(id_column)
                                                                            for c in test_columns) else None)
    if composite:
        notes.append(f"the ids of {sample_path.name} join {composite[1][0]} and {composite[1][1]} of {test_file} "
                     f"with '{composite[2]}'; the copies scripts see of the test and training tables start with "
                     f"that '{id_column}' column")
    copied = copied_columns(sample, folder, test_file, test_columns, id_column)
    if copied:
        notes.append(f"{', '.join(copied)} in {sample_path.name} {'is a copy' if len(copied) == 1 else 'are copies'} "
                     f"of the test rows' {'column' if len(copied) == 1 else 'columns'}: submissions carry "
                     f"{'it' if len(copied) == 1 else 'them'} over unchanged; only the rest is predicted")
    predictions = [str(c) for c in sample.columns if str(c) != id_column and str(c) not in copied]
    sample_ids = _sample_ids(sample_path, id_column)
    if id_column != str(sample.columns[0]):
        notes.append(f"the id column of {sample_path.name} is '{id_column}' (column "
                     f"{list(sample.columns).index(id_column) + 1}); submissions keep the sample's column order")
    found = find_label_source(folder, sample_path, id_column, predictions, test_columns, composite)
    try:
        hint = get_metric(metric) if metric else detect_metric(description)
    except UnknownMetric as exc:
        raise TaskError(str(exc)) from None

    label_source: LabelSource | None = None
    labels: pd.DataFrame | None = None
    label_columns: list[str] = predictions
    dropped = 0
    row_key = None
    if found and found[1] == ROW_KEY:
        row_key = id_column
        found = (found[0], id_column, found[2])
        notes.append(f"{found[0]} has no '{id_column}' column: its copy numbers the rows (0, 1, ...) in an added "
                     f"first '{id_column}' column, which the held-out rows keep")
    if found:
        source, key, label_columns = found
        labels, capped = _label_values(folder, source, key, label_columns, composite, row_key)
        n_rows = len(labels) if not capped else _row_count(folder / source, len(labels))
        missing = labels[label_columns].isna().any(axis=1)
        dropped = int(missing.sum())
        if dropped == len(labels):
            raise TaskError(f"{source}: every row's label ({', '.join(label_columns)}) is missing")
        if dropped:
            notes.append(f"{dropped:,} labelled rows of {source} have no label value; they are left out of "
                         "the agent's validation split")
            labels = labels[~missing]
        fmt: Literal["csv", "json"] = "csv" if is_table(source) else "json"
        label_source = LabelSource(file=_shown_name(folder / source), origin=source, format=fmt, key=key,
                                   label_columns=label_columns, n_rows=n_rows)
    named = None if found else _labels_off_names(folder, id_column, predictions, sample_ids)
    if named is not None:
        frame, entry, how = named
        labels, label_columns = frame, [str(frame.columns[1])]
        name = next(n for n in ("train_labels.csv", "mle_star_train_labels.csv")
                    if not (folder / n).exists())
        label_source = LabelSource(file=name, origin=entry, format="csv", key=id_column,
                                   label_columns=label_columns, n_rows=len(frame))
        notes.append(f"the training labels are read off {how} in {entry}: {len(frame):,} items, "
                     f"{frame[label_columns[0]].nunique()} classes, shown as ./input/{name}")
    listed = (find_listed_labels(folder, pd.DataFrame({id_column: sample_ids}), id_column, predictions[0])
              if not found and named is None and len(predictions) == 1 else None)
    if listed is not None:
        labels, label_columns = listed.train, predictions
        label_source = LabelSource(file=LISTED_TRAIN, origin=listed.origin, format="csv", key=id_column,
                                   label_columns=label_columns, n_rows=len(listed.train))
        n_keys = listed.train[listed.key].nunique()
        notes.append(f"the training labels are the lists of {listed.origin} ('?' marks a test {listed.key}); the "
                     f"sample's ids are {listed.key} * {listed.multiplier} + class, so ./input/{LISTED_TRAIN} "
                     f"holds one 0/1 row per ({listed.key}, class) pair of the {n_keys:,} labelled {listed.key}s and "
                     f"./input/{LISTED_TEST} the test pairs" + (
                         f", each with the numbers of {', '.join(listed.joined)} joined on by {listed.key}"
                         if listed.joined else ""))
    pixels = None if found or named or listed else image_targets(folder, sample_ids)
    if pixels is not None:
        label_columns = predictions
        label_source = LabelSource(file=pixels["targets"], origin=pixels["targets"], format="csv", key=id_column,
                                   label_columns=label_columns, n_rows=pixels["n_images"])
        notes.append(f"the targets are images: {pixels['n_images']} images in {pixels['inputs']}/ have their target "
                     f"of the same name in {pixels['targets']}/; each test image in {pixels['test']}/ is predicted "
                     f"pixel by pixel, id <image>_<row>_<column> counted from {pixels['base']}, value = grey level "
                     "/ 255")
        test_file = None
    elif not found and not named and not listed:
        known = {sample_path.name, desc_path.name, *([test_file] if test_file else [])}
        if not _other_data(folder, known):
            raise TaskError(f"no training data in {folder}: only {', '.join(sorted(known - {desc_path.name}))}; "
                            f"the labels ('{predictions[0]}' in the sample) belong in a train table or in the "
                            "training items' file names")
        notes.append("the training labels could not be located; scripts find them and report their own scores")

    if pixels is not None:
        spec = OutputSpec(id_column=id_column, columns=predictions, kind="targets", label_columns=predictions,
                          classes=[], positive_class=None, order=[str(c) for c in sample.columns])
        classes: list[str] = []
        n_labelled = int(pixels["n_images"])
        if n_labelled < MIN_LABELLED:
            raise TaskError(f"only {n_labelled} training images with targets: at least {MIN_LABELLED} are needed")
    else:
        spec, classes = _spec(sample, labels, label_columns, hint, id_column, copied)
        n_labelled = len(labels) if labels is not None else 0
    if labels is not None:
        _check_labels(labels, spec, classes, label_columns, n_labelled)

    # where the items are: rows of a test table, or files in a folder / archive
    archives: list[str] = []
    test_items = train_items = None
    test_ids: list[str] | None = None
    test_key = next((c for c in test_columns if _norm(c) == _norm(id_column)), None)
    if listed is not None:
        test_file, test_ids = LISTED_TEST, list(sample_ids)
    elif test_file and composite is not None:
        test_ids = list(raw_strings(key_values(read_columns(folder / test_file, list(composite[1]), dtype=str,
                                                             keep_default_na=False), composite)[id_column]))
    elif test_file and test_key is not None:
        test_ids = list(raw_strings(read_columns(folder / test_file, [test_key], dtype=str,
                                                keep_default_na=False)[test_key]) if is_table(test_file)
                        else raw_strings(records_frame(read_records(folder / test_file))[test_key]))
    if test_ids is not None and test_file and len(test_columns) == 1 and listed is None:
        # a test table of ids only, next to image or audio folders (aptos, plant-pathology): the
        # items are the files those ids name, so the task is read from the files
        if find_items(folder, list(sample_ids), "test"):
            test_ids = None
    elif test_ids is not None and test_file and listed is None:
        # a test table of features whose ids also name image or audio files (siim-isic: the
        # patients' metadata and a photo per row): scripts get both, the rows and the items
        hit = find_items(folder, list(sample_ids), "test")
        if hit and PurePosixPath(hit[0]["pattern"]).suffix.lower() in IMAGE_EXT | AUDIO_EXT:
            test_items, archive = hit
            archives += [archive] if archive else []
    if test_ids is None:
        hit = find_items(folder, list(sample_ids), "test")
        if hit:
            test_items, archive = hit
            archives += [archive] if archive else []
            test_ids = list(sample_ids)  # every sample id has its file
            test_file = None
    if test_ids is not None and test_file and listed is None:
        repeated = pd.Series(as_strings(test_ids)).value_counts()
        repeated = repeated[repeated > 1]
        if len(repeated) > len(set(as_strings(test_ids))) / 2:  # long form: several rows per id, by design
            notes.append(f"{test_file} holds several rows per id ({len(test_ids):,} rows for "
                         f"{len(set(as_strings(test_ids))):,} ids); the submission has one row per sample id")
        elif len(repeated):  # a few repeated rows: a copy-paste slip that would make the submission ambiguous
            raise TaskError(f"{test_file}: {len(repeated):,} ids appear more than once (e.g. '{repeated.index[0]}'): "
                            "each test row needs its own id")
    if test_ids is None and found and named is None and pixels is None:
        known = {sample_path.name, desc_path.name, found[0]}
        if not _other_data(folder, known):
            raise TaskError(f"no test table in {folder}: nothing holds the ids of {sample_path.name} (e.g. "
                            f"'{sample_ids[0]}'); a test.csv (or test table) with a '{id_column}' column is needed")
    if named is not None:
        test_file = None  # the test rows are items too: the sample names them
    if label_source is not None and labels is not None and (not test_file or test_items) and listed is None:
        hit = find_items(folder, list(raw_strings(labels[label_source["key"]])), "train")
        if hit:
            train_items, archive = hit
            archives += [archive] if archive and archive not in archives else []
    if test_ids is not None and test_file and set(as_strings(test_ids)) != set(as_strings(sample_ids)):
        common = len(set(as_strings(test_ids)) & set(as_strings(sample_ids)))
        raise TaskError(f"the ids of {sample_path.name} differ from those of {test_file} ({len(sample_ids):,} in the "
                        f"sample, {len(test_ids):,} in the test rows, {common:,} in common)")

    chosen = _metric(hint, description, spec, metric, lower_is_better, notes)
    modality = "image" if pixels else _modality(folder, label_source, test_items or train_items, archives, inventory)
    items = test_items or train_items
    readable = (".wav", ".aif", ".aiff", ".aifc")
    first = items["pattern"].format(id=str(sample_ids[0])) if items else ""  # the file of an id ("x.aif")
    if modality == "audio" and items and not first.lower().endswith(readable) and \
            not any(f.lower().endswith(readable) for f in folder_files(folder / items["dir"], 5)
                    if (folder / items["dir"]).is_dir()):
        notes.append("the audio clips are neither WAV nor AIFF: the offline engineer cannot decode them and writes a "
                     "class-prior submission (a real model's scripts may decode them)")
    text_columns = [] if pixels else _text_columns(inventory, label_source, label_columns)
    target_min = (float(np.nanmin(labels[label_columns].to_numpy(dtype=float)))
                  if labels is not None and spec["kind"] == "targets" else None)
    scoring = "agent" if label_source is not None and chosen.implemented else "self_reported"
    if not chosen.implemented:
        notes.append(f"the metric ({chosen.title}) is not one mle-star implements: scores are self-reported")
    return Intake(
        name=task_name(root), root=str(root), data_dir=str(folder), description=description,
        description_file=desc_path.name, sample=sample_path.name, output=spec, metric=chosen,
        label_source=label_source, test_file=test_file, train_items=train_items, test_items=test_items,
        archives=archives, modality=modality, task_type=_task_type(spec, classes, chosen), classes=classes,
        text_columns=text_columns, target_min=target_min, n_labelled=n_labelled,
        n_test=len(test_ids) if test_ids is not None else len(sample_ids), scoring=scoring,
        inventory=inventory, fingerprint=fingerprint(given), notes=notes, dropped_labels=dropped,
        named_labels=named[0] if named is not None else listed.train if listed is not None else None,
        derived_test=listed.test if listed is not None else None, composite_key=composite, row_key=row_key,
        image_targets={k: v for k, v in pixels.items() if k != "n_images"} if pixels else None,
    )


def _labels_off_names(folder: Path, id_column: str, predictions: list[str], sample_ids: np.ndarray
                      ) -> tuple[pd.DataFrame, str, str] | None:
    """Labels in the items' names, when the sample's ids name the files of another folder/archive."""
    hit = find_items(folder, list(sample_ids), "test")
    if hit is None:
        return None
    items, _archive = hit
    return labels_in_names(folder, id_column, predictions, items["dir"])


def _shown_name(path: Path) -> str:
    """A table is shown to scripts unzipped, and as CSV when it is Parquet or Excel."""
    if not is_table(path.name):
        return path.name
    try:
        return shown_name(path.name, table_dialect(path))
    except InventoryError:
        return shown_name(path.name, None)


def _row_count(path: Path, at_least: int) -> int:
    try:
        return max(at_least, int(csv_facts(path).get("n_rows") or at_least))
    except Exception:  # noqa: BLE001 - a count is a fact for people, never a gate
        return at_least


def _check_labels(labels: pd.DataFrame, spec: OutputSpec, classes: list[str], label_columns: list[str],
                  n: int) -> None:
    if n < MIN_LABELLED:
        raise TaskError(f"only {n} labelled rows: at least {MIN_LABELLED} are needed to train and validate")
    if spec["kind"] in ("label", "probability", "class_probabilities", "ranked_labels") and len(classes) < 2:
        raise TaskError(f"the label '{label_columns[0]}' has a single class ({classes[0] if classes else 'none'}): "
                        "there is nothing to learn")
    if spec["kind"] == "multilabel":
        constant = [c for c in label_columns if labels[c].nunique() < 2]
        if len(constant) == len(label_columns):
            raise TaskError("every label column has a single value: there is nothing to learn")


def _metric(hint: Metric | None, description: str, spec: OutputSpec, name: str | None,
            lower_is_better: bool | None, notes: list[str]) -> Metric:
    found = hint or custom_metric(description)
    if hint is None and name is None:
        notes.append(f"no known metric in the description; scripts implement '{found.title}' themselves")
    if found.implemented:
        found = refine(found, spec["kind"], len(spec["columns"]))
    if lower_is_better is not None:
        found = found.with_direction(not lower_is_better)
    return found


def _task_type(spec: OutputSpec, classes: list[str], metric: Metric) -> TaskType:
    kind = spec["kind"]
    if kind == "targets":
        return "multi_regression" if len(spec["columns"]) > 1 else "regression"
    if kind == "multilabel":
        return "multilabel"
    if kind == "ranked_labels":
        return "ranking"
    if metric.name == "qwk":
        return "ordinal"
    return "binary" if len(classes) == 2 else "multiclass"


def _modality(folder: Path, source: LabelSource | None, items: Items | None, archives: list[str],
              inventory: Inventory) -> Modality:
    if items is not None:
        archive = next((a for a in archives if archive_stem(a) == items["dir"]), None)
        return item_modality(folder, items, archive) or "other"
    if source is None:
        return "other"
    if source["format"] == "json":
        return "json"
    facts = inventory.find(source["origin"])
    kinds = [c.get("kind") for c in (facts.details.get("column_facts", []) if facts else [])]
    return "text" if "text" in kinds else "tabular"


def _text_columns(inventory: Inventory, source: LabelSource | None, labels: list[str]) -> list[str]:
    if source is None:
        return []
    facts = inventory.find(source["origin"])
    if facts is None:
        return []
    if source["format"] == "json":
        return [k["key"] for k in facts.details.get("keys", []) if k.get("mean_len", 0) >= 30
                and k["key"] not in labels]
    return [c["name"] for c in facts.details.get("column_facts", []) if c.get("kind") == "text"
            and c["name"] not in labels]


def finite(value: float) -> bool:
    return value is not None and math.isfinite(value)
