"""Per-pixel and per-token samples have millions of rows: a submission is validated in chunks,
with the same verdicts as the whole-file check (here with the chunk sizes made tiny)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mle_star.tools.scoring import submission
from mle_star.tools.scoring.held_out import OutputSpec
from mle_star.tools.scoring.submission import InvalidSubmission, validate_submission

SPEC = OutputSpec(id_column="id", columns=["value"], kind="targets", label_columns=["value"], classes=[],
                  positive_class=None)
PROBABILITY = OutputSpec(id_column="id", columns=["value"], kind="probability", label_columns=["value"],
                         classes=["0", "1"], positive_class="1")


@pytest.fixture
def pixels(tmp_path, monkeypatch):
    monkeypatch.setattr(submission, "STREAM_BYTES", 1024)
    monkeypatch.setattr(submission, "CHUNK_ROWS", 97)
    ids = [f"{img}_{r}_{c}" for img in (1, 2) for r in range(1, 21) for c in range(1, 26)]  # 1,000 pixels
    sample = tmp_path / "sample_submission.csv"
    pd.DataFrame({"id": ids, "value": 1.0}).to_csv(sample, index=False)
    return tmp_path, sample, ids


def _write(folder, frame: pd.DataFrame):
    path = folder / "submission.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_good_submission_in_any_order_passes_in_chunks(pixels):
    folder, sample, ids = pixels
    frame = pd.DataFrame({"id": ids, "value": np.linspace(0, 1, len(ids))}).sample(frac=1, random_state=0)
    first = validate_submission(_write(folder, frame), sample, SPEC)
    assert list(first.columns) == ["id", "value"] and len(first) == 97  # only the first chunk is kept


@pytest.mark.parametrize("change, words", [
    (lambda f: f.drop(index=500), "999 rows, expected 1000"),
    (lambda f: f.assign(id=f["id"].where(f.index != 900, "3_1_1")), "ids that are not the sample's"),
    (lambda f: f.assign(id=f["id"].where(f.index != 900, f["id"][0])), "duplicate ids"),
    (lambda f: f.assign(value=f["value"].where(f.index != 950, np.nan)), "missing values"),
    (lambda f: f.rename(columns={"value": "target"}), "differ from the sample's"),
    (lambda f: f.head(0), "0 rows, expected 1000"),
])
def test_a_bad_row_in_any_chunk_is_named(pixels, change, words):
    folder, sample, ids = pixels
    frame = change(pd.DataFrame({"id": ids, "value": 0.5}))
    with pytest.raises(InvalidSubmission, match=words):
        validate_submission(_write(folder, frame), sample, SPEC)


def test_value_rules_hold_in_the_last_chunk_too(pixels):
    folder, sample, ids = pixels
    frame = pd.DataFrame({"id": ids, "value": 0.5})
    frame.loc[999, "value"] = 1.5
    with pytest.raises(InvalidSubmission, match="outside"):
        validate_submission(_write(folder, frame), sample, PROBABILITY)
