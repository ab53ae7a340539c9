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
                    "spooky-author-identification") if s in MIMICS]
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
    from mle_star.tools.intake import read_task

    task = write_mimic("detecting-insults-in-social-commentary", tmp_path / "insults")
    spec = read_task(task / "public").output
    assert spec["id_column"] == "Comment"
    assert spec["columns"] == ["Insult"] and spec.get("copied") == ["Date"]
    assert spec.get("order") == ["Insult", "Date", "Comment"]
