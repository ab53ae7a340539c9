"""The MLE-bench Lite mimics (mle_star/lite): each builds in its competition's public layout with
an answer key its grader reads, and a run on it ends with a valid submission the agent scored
itself, better than the sample's. The default run takes a fast subset; ``pytest -m lite`` all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mle_star.examples import score_submission
from mle_star.lite.common import _load, write_mimic

MIMICS = sorted(_load())
FAST = [s for s in ("tabular-playground-series-may-2022", "aptos2019-blindness-detection",
                    "the-icml-2013-whale-challenge-right-whale-redux", "denoising-dirty-documents",
                    "spooky-author-identification", "detecting-insults-in-social-commentary", "mlsp-2013-birds")
        if s in MIMICS]
LOOPS = ["--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "1",
         "--ensemble-rounds", "1", "--quiet"]


@pytest.mark.parametrize("slug", MIMICS)
def test_each_mimic_builds_with_a_sample_its_grader_accepts(slug, tmp_path):
    task = write_mimic(slug, tmp_path / slug)
    meta = json.loads((task / "task.json").read_text())
    assert (task / "public" / "description.md").is_file() and meta["null_score"] is not None
    samples = [p for p in (task / "public").iterdir() if "ample" in p.name or "submission" in p.name.lower()]
    assert samples, f"{slug}: no sample submission in public/"
    answers = pd.read_csv(task / "private" / "answers.csv", dtype=str)
    assert meta["id_column"] in answers and answers[meta["id_column"]].is_unique
    size = sum(p.stat().st_size for p in (task / "public").rglob("*") if p.is_file())
    assert size < 40 << 20, f"{slug}: public/ is {size >> 20} MB"


def _run(slug: str, root: Path) -> tuple[subprocess.CompletedProcess, Path, dict]:
    task = write_mimic(slug, root / slug)
    run_dir = root / f"{slug}-run"
    done = subprocess.run([sys.executable, "-m", "mle_star.cli", "run", str(task), "--run-dir", str(run_dir), *LOOPS],
                          capture_output=True, text=True, timeout=900)
    return done, run_dir, json.loads((task / "task.json").read_text())


def _check_solved(slug: str, root: Path) -> None:
    done, run_dir, meta = _run(slug, root)
    assert done.returncode == 0, f"{slug}: exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["task"]["scoring"] == "agent", f"{slug}: scores were {record['task']['scoring']}"
    score = score_submission(root / slug, run_dir / "final" / "submission.csv")
    better = score > meta["null_score"] if meta["higher_is_better"] else score < meta["null_score"]
    assert better, f"{slug}: {meta['metric']} {score:.4g}, the sample scores {meta['null_score']:.4g}"


@pytest.mark.parametrize("slug", FAST)
def test_a_fast_subset_is_solved_and_scored_by_the_agent(slug, tmp_path):
    _check_solved(slug, tmp_path)


@pytest.mark.lite
@pytest.mark.parametrize("slug", MIMICS)
def test_every_mimic_is_solved_and_scored_by_the_agent(slug, tmp_path):
    _check_solved(slug, tmp_path)


def test_a_sample_that_copies_test_columns_keeps_them_and_predicts_the_rest(tmp_path):
    """detecting-insults: the sample is ``Insult,Date,Comment`` with no id column; Date has
    blanks that repeat, Comment names each row. Comment is the id, Date is carried over."""
    from mle_star.tools.task.intake import read_task

    task = write_mimic("detecting-insults-in-social-commentary", tmp_path / "insults")
    spec = read_task(task / "public").output
    assert spec["id_column"] == "Comment"
    assert spec["columns"] == ["Insult"] and spec.get("copied") == ["Date"]
    assert spec.get("order") == ["Insult", "Date", "Comment"]
    # a real model is told which columns it copies rather than predicts
    from mle_star.prompts.roles import Settings, script_rules
    from mle_star.tools.task.dataview import prepare_run_data

    rules = script_rules(prepare_run_data(read_task(task / "public"), tmp_path / "run", seed=0).task, Settings())
    assert "- Date is not predicted: copy its values from the row with the same Comment" in rules
    assert "Insult, Date, Comment in this order" in rules


def test_labels_kept_as_lists_become_long_form_rows_split_by_recording(tmp_path):
    """mlsp-2013-birds: labels are ``rec_id,species,...`` lines ('?' for test), the sample's
    ids are rec_id*100+species. The intake builds the 0/1 rows; the split keeps recordings whole."""
    from mle_star.tools.task.dataview import prepare_run_data
    from mle_star.tools.task.intake import read_task

    task = write_mimic("mlsp-2013-birds", tmp_path / "birds")
    intake = read_task(task / "public")
    assert intake.label_source is not None and intake.label_source["origin"].endswith("rec_labels_test_hidden.txt")
    assert intake.scoring == "agent" and intake.n_labelled % 19 == 0
    train = intake.named_labels
    assert train is not None and intake.derived_test is not None
    assert (train["Id"] == train["rec_id"] * 100 + train["class"]).all()
    assert any(c.startswith("histogram_of_segments_") for c in train.columns)
    sample = pd.read_csv(task / "public" / "sample_submission.csv")
    assert intake.derived_test["Id"].tolist() == sample["Id"].tolist()
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    held = pd.read_csv(data.views["search"]["holdout.csv"])
    trained = pd.read_csv(data.views["search"][intake.label_source["file"]])
    assert "Probability" not in held and not set(held["rec_id"]) & set(trained["rec_id"])


def test_a_feature_table_whose_ids_name_photos_gets_both_and_the_readable_copy(tmp_path):
    """siim-isic: test.csv holds metadata, each id has train/<id>.dcm and jpeg/train/<id>.jpg.
    The rows stay a table and the JPEGs (not the DICOMs) are the items."""
    from mle_star.tools.task.intake import read_task

    intake = read_task(write_mimic("siim-isic-melanoma-classification", tmp_path / "siim") / "public")
    assert intake.test_file == "test.csv" and intake.modality == "image"
    assert intake.test_items is not None and intake.test_items["dir"] == "jpeg/test"
    assert intake.train_items is not None and intake.train_items["pattern"] == "{id}.jpg"
