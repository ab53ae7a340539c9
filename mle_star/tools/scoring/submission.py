"""Checking a submission (or held-out prediction) file against the task's sample submission."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from mle_star.tools.scoring.held_out import (
    InvalidPredictions,
    OutputSpec,
    as_strings,
    check_values,
    id_problem,
)

MAX_BYTES = 2 * 1024**3
# A sample larger than this (per-pixel and per-token tasks: millions of rows) is checked in
# chunks: memory holds one chunk and 8 bytes per id, never the whole file.
STREAM_BYTES = 64 << 20
CHUNK_ROWS = 250_000
_SAMPLE_IDS: dict[tuple, np.ndarray] = {}  # a sample's sorted id hashes, per file version


class InvalidSubmission(InvalidPredictions):
    """A submission file that would not be accepted; the message is one line."""


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _open_regular(path: Path, max_bytes: int) -> BinaryIO:
    """``path`` opened for reading, only if it is a regular file of bounded size.

    A script could leave a symlink (to a secret or /dev/zero) or a FIFO (which blocks the
    reader forever) where its output belongs, so the path is checked with lstat, opened
    without following links or blocking, and re-checked on the open descriptor.
    """
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise InvalidSubmission(f"{path} was not written") from None
    except OSError as exc:
        raise InvalidSubmission(f"cannot inspect {path.name}: {exc.strerror}") from None
    if stat.S_ISLNK(before.st_mode):
        raise InvalidSubmission(f"{path.name} is a symbolic link, not a regular file")
    if not stat.S_ISREG(before.st_mode):
        raise InvalidSubmission(f"{path.name} is not a regular file")
    if before.st_size > max_bytes:
        raise InvalidSubmission(f"{path.name} is {before.st_size} bytes, over the {max_bytes}-byte limit")
    if before.st_size == 0:
        raise InvalidSubmission(f"{path.name} is empty")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InvalidSubmission(f"cannot open {path.name}: {exc.strerror}") from None
    handle = os.fdopen(fd, "rb")
    now = os.fstat(handle.fileno())
    if (now.st_ino, now.st_dev) != (before.st_ino, before.st_dev) or not stat.S_ISREG(now.st_mode):
        handle.close()
        raise InvalidSubmission(f"{path.name} changed while it was being checked")
    if now.st_size > max_bytes:
        handle.close()
        raise InvalidSubmission(f"{path.name} is {now.st_size} bytes, over the {max_bytes}-byte limit")
    return handle


def _read_regular_csv(path: Path, max_bytes: int) -> pd.DataFrame:
    with _open_regular(path, max_bytes) as handle:
        try:
            return pd.read_csv(handle)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is invalid
            raise InvalidSubmission(f"cannot read {path.name}: {_first_line(exc)}") from None


def _read_sample(path: Path) -> pd.DataFrame:
    """The sample in its own dialect (a BOM, semicolons, decimal commas), as the intake read it."""
    from mle_star.tools.task.inventory import InventoryError, open_table

    try:
        return open_table(path, nrows=None)
    except InventoryError as exc:
        raise InvalidSubmission(f"cannot read the sample submission: {exc}") from None


def _generic_values(sub: pd.DataFrame, ref: pd.DataFrame, id_column: str) -> None:
    """Checks that need no output spec: no gaps, finite numbers, numbers where the sample has floats."""
    values = sub.drop(columns=[id_column])
    missing = values.columns[values.isna().any()].tolist()
    if missing:
        raise InvalidSubmission(f"column '{missing[0]}' has missing values")
    for column in values.columns:
        is_number = pd.api.types.is_numeric_dtype(values[column])
        if pd.api.types.is_float_dtype(ref[column]) and not is_number:
            raise InvalidSubmission(f"column '{column}' should be numeric like the sample's")
        if is_number and not np.isfinite(values[column].to_numpy(dtype=float)).all():
            raise InvalidSubmission(f"column '{column}' has infinite values")


def validate_submission(
    path: str | Path,
    sample: str | Path | pd.DataFrame,
    spec: OutputSpec | str | None = None,
    *,
    expected_ids: list[str] | None = None,
    max_bytes: int = MAX_BYTES,
) -> pd.DataFrame:
    """The submission frame, or InvalidSubmission with a one-line reason.

    ``spec`` is the task's OutputSpec, or (older callers) just the id column name; without it
    the id is the sample's first column and only kind-free checks run. ``expected_ids`` replaces
    the sample's ids, e.g. for predictions on held-out training rows.
    """
    path = Path(path)
    full_spec = spec if isinstance(spec, dict) else None
    if not isinstance(sample, pd.DataFrame) and expected_ids is None and Path(sample).stat().st_size > STREAM_BYTES:
        return _validate_in_chunks(path, Path(sample), spec, max_bytes)
    ref = sample if isinstance(sample, pd.DataFrame) else _read_sample(Path(sample))
    id_column = spec if isinstance(spec, str) else full_spec["id_column"] if full_spec else str(ref.columns[0])
    sub = _read_regular_csv(path, max_bytes)
    if sorted(map(str, sub.columns)) != sorted(map(str, ref.columns)):  # graders match columns by name
        raise InvalidSubmission(f"columns {list(sub.columns)} differ from the sample's {list(ref.columns)}")
    if id_column not in sub.columns:
        raise InvalidSubmission(f"there is no id column '{id_column}'")
    expected = as_strings(expected_ids if expected_ids is not None else ref[id_column])
    if len(sub) != len(expected):
        raise InvalidSubmission(f"{len(sub)} rows, expected {len(expected)}")
    problem = id_problem(sub[id_column], expected, id_column, "the submission")
    if problem:
        raise InvalidSubmission(problem)
    if full_spec is None:
        _generic_values(sub, ref, id_column)
        return sub
    absent = [c for c in full_spec["columns"] if c not in sub.columns]
    if absent:
        raise InvalidSubmission(f"column '{absent[0]}' is missing")
    try:
        check_values(sub, full_spec)
    except InvalidPredictions as exc:
        raise InvalidSubmission(str(exc)) from None
    return sub


def _id_hashes(ids: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False)


def _sample_id_hashes(sample: Path, id_column: str) -> np.ndarray:
    """The sample's ids as sorted 64-bit hashes, read in chunks (and kept for the file's version)."""
    from mle_star.tools.task.inventory import InventoryError, open_table

    info = sample.stat()
    key = (str(sample), info.st_size, info.st_mtime_ns, id_column)
    if key not in _SAMPLE_IDS:
        try:
            chunks = open_table(sample, nrows=None, chunksize=CHUNK_ROWS, usecols=[id_column])
            hashes = np.sort(np.concatenate([_id_hashes(as_strings(c[id_column])) for c in chunks]))
        except (InventoryError, ValueError) as exc:
            raise InvalidSubmission(f"cannot read the sample submission: {_first_line(exc)}") from None
        if len(_SAMPLE_IDS) >= 4:
            _SAMPLE_IDS.pop(next(iter(_SAMPLE_IDS)))
        _SAMPLE_IDS[key] = hashes
    return _SAMPLE_IDS[key]


def _validate_in_chunks(path: Path, sample: Path, spec: OutputSpec | str | None, max_bytes: int) -> pd.DataFrame:
    """validate_submission for a large sample, one chunk of rows at a time; returns the first
    rows (the callers of a test submission need only its verdict)."""
    from mle_star.tools.task.inventory import InventoryError, open_table

    try:
        ref = open_table(sample)  # the first rows: the columns and their types
    except InventoryError as exc:
        raise InvalidSubmission(f"cannot read the sample submission: {exc}") from None
    full_spec = spec if isinstance(spec, dict) else None
    id_column = spec if isinstance(spec, str) else full_spec["id_column"] if full_spec else str(ref.columns[0])
    hashes: list[np.ndarray] = []
    first: pd.DataFrame | None = None
    with _open_regular(path, max_bytes) as handle:
        try:
            for chunk in pd.read_csv(handle, chunksize=CHUNK_ROWS):
                if first is None:
                    if sorted(map(str, chunk.columns)) != sorted(map(str, ref.columns)):
                        raise InvalidSubmission(f"columns {list(chunk.columns)} differ from the sample's {list(ref.columns)}")
                    first = chunk.head(1000)
                if chunk[id_column].isna().any():
                    raise InvalidSubmission(f"{int(chunk[id_column].isna().sum())} rows of the submission have no "
                                            f"'{id_column}'")
                hashes.append(_id_hashes(as_strings(chunk[id_column])))
                if full_spec is None:
                    _generic_values(chunk, ref, id_column)
                else:
                    check_values(chunk, full_spec)
        except InvalidPredictions as exc:
            raise InvalidSubmission(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - any unreadable file is invalid
            raise InvalidSubmission(f"cannot read {path.name}: {_first_line(exc)}") from None
    if first is None:
        raise InvalidSubmission(f"{path.name} has no rows")
    expected = _sample_id_hashes(sample, id_column)
    got = np.sort(np.concatenate(hashes))
    if len(got) != len(expected):
        raise InvalidSubmission(f"{len(got)} rows, expected {len(expected)}")
    if (got[1:] == got[:-1]).any():
        raise InvalidSubmission(f"duplicate ids in '{id_column}' of the submission")
    if not np.array_equal(got, expected):
        extra = len(np.setdiff1d(got, expected, assume_unique=True))
        raise InvalidSubmission(f"the submission has {extra} ids that are not the sample's (and lacks as many)")
    return first
