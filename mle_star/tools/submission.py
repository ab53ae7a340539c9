"""Checking a submission.csv against the task's sample_submission.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


class InvalidSubmission(ValueError):
    pass


def validate_submission(submission: str | Path, sample: str | Path, id_column: str) -> pd.DataFrame:
    """Raise InvalidSubmission unless columns, ids, row count and values match the sample."""
    submission, sample = Path(submission), Path(sample)
    if not submission.is_file():
        raise InvalidSubmission(f"{submission} was not written")
    try:
        sub = pd.read_csv(submission)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is invalid
        raise InvalidSubmission(f"cannot read {submission.name}: {type(exc).__name__}") from None
    ref = pd.read_csv(sample)
    if list(sub.columns) != list(ref.columns):
        raise InvalidSubmission(f"columns {list(sub.columns)} differ from the sample's {list(ref.columns)}")
    if len(sub) != len(ref):
        raise InvalidSubmission(f"{len(sub)} rows, the sample has {len(ref)}")
    if sub[id_column].duplicated().any():
        raise InvalidSubmission(f"duplicate ids in column '{id_column}'")
    if set(sub[id_column].astype(str)) != set(ref[id_column].astype(str)):
        raise InvalidSubmission(f"the ids in '{id_column}' differ from the sample's")
    values = sub.drop(columns=[id_column])
    if values.isna().any().any():
        raise InvalidSubmission("the submission has missing values")
    numeric = values.select_dtypes("number")
    if not np.isfinite(numeric.to_numpy(dtype=float)).all():
        raise InvalidSubmission("the submission has infinite values")
    return sub
