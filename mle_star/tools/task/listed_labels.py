"""Labels kept as lists in a text file, predicted in long form (mlsp-2013-birds).

Some tasks keep their labels as one line per recording, ``rec_id,label,label,...``, with ``?``
for the test recordings, and ask for one row per (recording, class) pair whose id encodes both:
``Id = rec_id * 100 + class``. Nothing in such a folder is a table of labelled rows, so the
intake builds one: every labelled recording times every class, 0/1, with the recording, the
class and any per-recording table of numbers (one row per recording, keyed like the list)
joined on, and the test rows the same way. The agent can then hold out whole recordings and
score scripts itself, and scripts see the task as an ordinary table.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

MAX_BYTES = 64 << 20  # a list or per-recording table larger than this is not read here
MULTIPLIERS = (10, 100, 1000, 10_000)
TRAIN_FILE, TEST_FILE = "mle_star_train_labels.csv", "mle_star_test.csv"


@dataclass
class ListedLabels:
    train: pd.DataFrame  # id, key, class, per-recording numbers, label (0/1)
    test: pd.DataFrame  # id, key, class, per-recording numbers: the sample's rows, in its order
    origin: str  # the list file, relative to the data folder
    key: str  # the recording column's name (the list's header, else "record")
    multiplier: int
    joined: list[str]  # the per-recording tables joined on, relative to the data folder


def _text_files(folder: Path, depth: int = 2) -> list[Path]:
    found: list[Path] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if len(rel.parts) <= depth + 1 and path.is_file() and path.suffix.lower() in (".txt", ".csv") \
                and path.stat().st_size <= MAX_BYTES and not path.name.startswith("."):
            found.append(path)
    return found


def _rows(path: Path) -> tuple[list[str] | None, list[list[str]]]:
    """(header or None, rows) of a comma-separated file whose rows may differ in length."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        rows = [[cell.strip() for cell in row] for row in csv.reader(fh) if row and any(c.strip() for c in row)]
    if rows and not rows[0][0].lstrip("-").isdigit():
        return rows[0], rows[1:]
    return None, rows


def _read_lists(path: Path) -> tuple[str, dict[int, set[int]], set[int]] | None:
    """(key name, labels of each labelled key, the keys marked '?') of a list file, or None."""
    header, rows = _rows(path)
    if len(rows) < 10 or not all(r[0].isdigit() for r in rows):
        return None
    labelled: dict[int, set[int]] = {}
    unknown: set[int] = set()
    for row in rows:
        rec, rest = int(row[0]), [c for c in row[1:] if c]
        if rec in labelled or rec in unknown:
            return None  # a key listed twice: not one line per recording
        if rest == ["?"]:
            unknown.add(rec)
        elif all(c.isdigit() for c in rest):
            labelled[rec] = {int(c) for c in rest}
        else:
            return None
    if not unknown or len(labelled) < 5:
        return None
    key = header[0] if header and header[0].replace("_", "").isalnum() else "record"
    return key, labelled, unknown


def _per_key_numbers(path: Path, key: str, keys: set[int]) -> pd.DataFrame | None:
    """A table with one row of at least two numbers per key (histogram_of_segments.txt), or None."""
    header, rows = _rows(path)
    if not header or header[0] != key or len(rows) < 5:
        return None
    width = max(len(r) for r in rows)
    if width < 3 or any(len(r) != width for r in rows):
        return None
    try:
        values = np.array([[float(c) for c in r] for r in rows])
    except ValueError:
        return None
    ids = values[:, 0]
    if not np.all(ids == np.round(ids)) or len(set(ids)) != len(ids) or not keys <= set(ids.astype(int)):
        return None
    stem = path.stem.split(".")[0]
    frame = pd.DataFrame(values[:, 1:], columns=[f"{stem}_{j}" for j in range(width - 1)])
    frame.insert(0, key, ids.astype(int))
    return frame


def find_listed_labels(folder: Path, sample: pd.DataFrame, id_column: str, prediction: str
                       ) -> ListedLabels | None:
    """The long-form labels of a folder whose labels are lists, or None when it is not one."""
    try:
        ids = pd.to_numeric(sample[id_column], errors="raise").to_numpy()
    except (ValueError, TypeError):
        return None
    if not len(ids) or not np.all(ids == np.round(ids)) or ids.min() < 0:
        return None
    ids = ids.astype(np.int64)
    files = _text_files(folder)
    for path in files:
        read = _read_lists(path)
        if read is None:
            continue
        key, labelled, unknown = read
        for m in MULTIPLIERS:
            keys, classes = ids // m, ids % m
            n_classes = int(classes.max()) + 1
            if set(keys.tolist()) != unknown or len(ids) != len(unknown) * n_classes \
                    or any(c >= n_classes for labels in labelled.values() for c in labels):
                continue
            return _build(folder, files, path, key, labelled, ids, m, n_classes, id_column, prediction)
    return None


def _build(folder: Path, files: list[Path], origin: Path, key: str, labelled: dict[int, set[int]],
           ids: np.ndarray, m: int, n_classes: int, id_column: str, prediction: str) -> ListedLabels:
    recs = np.repeat(np.array(sorted(labelled), dtype=np.int64), n_classes)
    classes = np.tile(np.arange(n_classes), len(labelled))
    train = pd.DataFrame({id_column: recs * m + classes, key: recs, "class": classes})
    test = pd.DataFrame({id_column: ids, key: ids // m, "class": ids % m})
    joined: list[str] = []
    every = set(labelled) | set((ids // m).tolist())
    for path in files:
        if path == origin:
            continue
        numbers = _per_key_numbers(path, key, every)
        if numbers is None:
            continue
        train = train.merge(numbers, on=key, how="left")
        test = test.merge(numbers, on=key, how="left")
        joined.append(str(path.relative_to(folder)))
    train[prediction] = [int(c in labelled[int(r)]) for r, c in zip(recs, classes, strict=True)]
    return ListedLabels(train=train, test=test, origin=str(origin.relative_to(folder)), key=key,
                        multiplier=m, joined=joined)
