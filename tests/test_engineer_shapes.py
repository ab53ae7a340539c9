"""The offline engineer on a real task of every shape: its first solution runs under the
script contract, is judged by the agent on held-out rows it never saw, and beats a constant
prediction; its final script writes a submission the validator accepts."""

# ruff: noqa: F811 - pytest fixtures are imported by name
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_engineer_support import (  # noqa: F401 - fixtures
    better,
    code_of,
    judged,
    null_score,
    prepared,
    run_script,
    task_dirs,
)

from mle_star.prompts.roles import ModelCard
from mle_star.tools.scoring.submission import validate_submission

# Every shape, and the model family its first solution uses (the modality's first choice).
SHAPES = {
    "breast-cancer": "XGBoost gradient boosted trees",  # tabular, probability, AUC
    "diabetes": "XGBoost gradient boosted trees",  # tabular, one target, RMSE
    "wine": "XGBoost gradient boosted trees",  # tabular, class probabilities, log loss
    "digits-zip": "Regularised linear model (logistic / ridge)",  # images in a zip, labels, accuracy
    "digits-folder": "Regularised linear model (logistic / ridge)",  # image folders, class probabilities
    "pizza-json": "TF-IDF n-grams with logistic regression",  # JSON records with text, AUC
    "zipped-csv": "XGBoost gradient boosted trees",  # zipped table, RMSE
    "two-targets": "XGBoost gradient boosted trees",  # two regression targets, column-wise RMSLE
    "multilabel": "XGBoost gradient boosted trees",  # multi-label, mean column AUC
    "ordinal-qwk": "XGBoost gradient boosted trees",  # ordinal label under QWK
    "audio-wav": "XGBoost gradient boosted trees",  # WAV clips, AUC
    "map3": "Extremely randomized trees",  # ranked labels, MAP@3
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_first_solution_beats_a_constant_and_its_final_script_submits(name, task_dirs, tmp_path):
    data = prepared(task_dirs(name), tmp_path / "run")
    task = data.task
    if task["holdout_file"] and task["holdout_file"].endswith(".json") and task["test_file"]:
        held = json.loads(Path(data.views["search"][task["holdout_file"]]).read_text())[0]
        test = json.loads(Path(data.views["search"][task["test_file"]]).read_text())[0]
        assert set(held) == set(test)  # held-out records look exactly like test records
    code = code_of("init_coder", task, candidate=ModelCard(model_name=SHAPES[name]))
    run = run_script(code, data.views["search"], tmp_path / "search")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    verdict = judged(task, data, "candidate", run)
    null = null_score(task, data, tmp_path / "null")
    print(f"{name}: held-out {task['metric']} {verdict.score:.4f} vs constant {null:.4f} ({run.seconds:.1f} s)")
    assert verdict.ok and not verdict.untrusted, verdict.error
    assert better(task, verdict.score, null)
    assert (run.work / "inner_valid.npz").is_file()  # what an ensemble blends

    final = code_of("submission", task, code=code, score=verdict.score)
    assert "SUBSAMPLE = None" in final and "FINAL = True" in final
    run = run_script(final, data.views["full"], tmp_path / "final")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    assert run.printed is not None
    submission = validate_submission(run.work / "final" / "submission.csv",
                                     Path(task["data_dir"]) / task["sample_submission"], task["output"])
    assert len(submission) == task["n_test"]
    assert judged(task, data, "submission", run).ok


def test_every_metric_in_scripts_matches_the_agents(task_dirs, tmp_path):
    """The printed internal score uses the same metric code as the agent: scoring the script's
    own held-out predictions with its metric function gives the agent's score."""
    data = prepared(task_dirs("ordinal-qwk"), tmp_path / "run")
    code = code_of("init_coder", data.task, candidate=ModelCard(model_name="XGBoost"))
    assert "def qwk(" in code and "fit_thresholds" in code  # regression on the rating, tuned cut points
    run = run_script(code, data.views["search"], tmp_path / "search")
    verdict = judged(data.task, data, "candidate", run)
    assert verdict.ok, verdict.error
    preds = pd.read_csv(run.work / "valid_predictions.csv")
    assert set(preds["rating"].astype(str)) <= set(data.task["classes"])
