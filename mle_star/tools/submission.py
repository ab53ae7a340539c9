"""Checking a submission (or held-out prediction) file against the task's sample submission."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.tools.scoring import (
    InvalidPredictions,
    OutputSpec,
    as_strings,
    check_values,
    id_problem,
)

MAX_BYTES = 2 * 1024**3


class InvalidSubmission(InvalidPredictions):
    """A submission file that would not be accepted; the message is one line."""


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_regular_csv(path: Path, max_bytes: int) -> pd.DataFrame:
    """Read ``path`` only if it is a regular file of bounded size.

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
    with os.fdopen(fd, "rb") as handle:
        now = os.fstat(handle.fileno())
        if (now.st_ino, now.st_dev) != (before.st_ino, before.st_dev) or not stat.S_ISREG(now.st_mode):
            raise InvalidSubmission(f"{path.name} changed while it was being checked")
        if now.st_size > max_bytes:
            raise InvalidSubmission(f"{path.name} is {now.st_size} bytes, over the {max_bytes}-byte limit")
        try:
            return pd.read_csv(handle)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is invalid
            raise InvalidSubmission(f"cannot read {path.name}: {_first_line(exc)}") from None


def _read_sample(path: Path) -> pd.DataFrame:
    """The sample in its own dialect (a BOM, semicolons, decimal commas), as the intake read it."""
    from mle_star.tools.inventory import InventoryError, open_table

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
    ref = sample if isinstance(sample, pd.DataFrame) else _read_sample(Path(sample))
    full_spec = spec if isinstance(spec, dict) else None
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
