"""Always a valid submission: when no script yields one, the agent submits the prior it computes
itself, exits 3 ("valid but unsolved") and says so in the terminal, run.json and the report."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import task_record

from mle_star.examples import score_submission
from mle_star.tools.scoring.prior import compute_prior, prior_score, write_prior
from mle_star.tools.scoring.submission import validate_submission

LOOPS = ["--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "1",
         "--ensemble-rounds", "1", "--quiet"]


@pytest.mark.parametrize("task_name", ["bc_task", "diabetes_task"])
def test_a_run_whose_every_script_fails_submits_the_prior_and_exits_3(task_name, request, tmp_path):
    task = request.getfixturevalue(task_name)
    run_dir = tmp_path / "run"
    # 50 MB cannot even import pandas: every script the agent writes fails, as on a task it cannot decode
    done = subprocess.run([sys.executable, "-m", "mle_star.cli", "run", str(task), "--run-dir", str(run_dir),
                           *LOOPS, "--script-memory-gb", "0.05"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "mle-star: unsolved: no solution ran successfully" in done.stderr
    submission = run_dir / "final" / "submission.csv"
    meta = json.loads((task / "task.json").read_text())
    validate_submission(submission, task / "public" / "sample_submission.csv", meta["id_column"])
    record = json.loads((run_dir / "run.json").read_text())
    assert record["unsolved"].startswith("no solution ran successfully") and record["submission_path"]
    assert "Unsolved" in (run_dir / "report.md").read_text()
    graded = score_submission(task, submission)
    if meta["metric"] == "auc":  # a constant probability ranks nothing
        assert graded == pytest.approx(0.5)
    else:  # the training mean, which is what this task's naive sample holds too
        assert graded == pytest.approx(meta["null_score"], rel=0.01)
        train = pd.read_csv(task / "public" / "train.csv")["target"]
        assert pd.read_csv(submission)["target"].iloc[0] == pytest.approx(train.mean())


def test_the_prior_of_each_kind_is_what_its_metric_rewards():
    labels = pd.DataFrame({"y": ["a"] * 6 + ["b"] * 3 + ["c"]})
    spec = {"id_column": "id", "columns": ["a", "b", "c"], "kind": "class_probabilities", "label_columns": ["y"],
            "classes": ["a", "b", "c"], "positive_class": None}
    shares = compute_prior({"output": spec, "metric": "multi_logloss"}, labels).values  # type: ignore[arg-type]
    assert sum(shares.values()) == pytest.approx(1) and shares["a"] > shares["b"] > shares["c"] > 0
    spec = {**spec, "columns": ["y"], "kind": "label"}
    assert compute_prior({"output": spec, "metric": "accuracy"}, labels).values == {"y": "a"}  # type: ignore[arg-type]
    spec = {**spec, "kind": "ranked_labels"}
    assert compute_prior({"output": spec, "metric": "map@3"}, labels).values == {"y": "a b c"}  # type: ignore[arg-type]
    numbers = pd.DataFrame({"y": ["1", "2", "3", "100"]})
    spec = {**spec, "kind": "targets", "classes": []}
    assert compute_prior({"output": spec, "metric": "mae"}, numbers).values == {"y": 2.5}  # type: ignore[arg-type]
    assert compute_prior({"output": spec, "metric": "rmse"}, numbers).values == {"y": 26.5}  # type: ignore[arg-type]


def test_without_labels_the_prior_is_the_sample_itself(bc_task, tmp_path):
    task = task_record(bc_task, tmp_path / "run")
    task["label_source"] = None
    out = tmp_path / "submission.csv"
    what = write_prior(task, {"full": {}}, bc_task / "public" / "sample_submission.csv", out)
    assert "copy of the sample" in what
    assert out.read_bytes() == (bc_task / "public" / "sample_submission.csv").read_bytes()


def test_the_prior_is_scored_on_the_held_out_rows(diabetes_task, tmp_path):
    from mle_star.tools.execution.executor import run_data

    task = task_record(diabetes_task, tmp_path / "run")
    data = run_data(tmp_path / "run")
    score = prior_score(task, data["views"], data["answers"])
    answers = pd.read_csv(data["answers"])
    truth = answers[task["output"]["columns"][0]]
    assert score is not None and score == pytest.approx(((truth - truth.mean()) ** 2).mean() ** 0.5, rel=0.05)
