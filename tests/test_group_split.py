"""The agent's held-out rows keep each group (a patient, a sentence) on one side of the split."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.intake import read_task


def test_rows_of_one_patient_are_all_trained_on_or_all_held_out(bc_task, tmp_path):
    task = tmp_path / "patients"
    shutil.copytree(bc_task, task)
    train = pd.read_csv(task / "public" / "train.csv")
    train.insert(1, "patient_id", [f"p{i // 4}" for i in range(len(train))])  # four scans per patient
    train.to_csv(task / "public" / "train.csv", index=False)
    test = pd.read_csv(task / "public" / "test.csv")
    test.insert(1, "patient_id", [f"q{i // 4}" for i in range(len(test))])
    test.to_csv(task / "public" / "test.csv", index=False)
    data = prepare_run_data(read_task(task), tmp_path / "run", seed=3)
    search = data.views["search"]
    trained = set(pd.read_csv(search["train.csv"])["patient_id"])
    held = set(pd.read_csv(search["holdout.csv"])["patient_id"])
    assert held and trained and not held & trained
    assert 0.1 < len(pd.read_csv(search["holdout.csv"])) / len(train) < 0.3
    assert any("whole 'patient_id' groups" in n for n in data.task["notes"])
    assert json.loads((tmp_path / "run" / "data" / "manifest.json").read_text())["split_group"] == "patient_id"


def test_a_group_column_whose_values_are_all_different_leaves_the_split_as_it_was(bc_task, tmp_path):
    task = tmp_path / "unique"
    shutil.copytree(bc_task, task)
    train = pd.read_csv(task / "public" / "train.csv")
    train.insert(1, "patient_id", [f"p{i}" for i in range(len(train))])
    train.to_csv(task / "public" / "train.csv", index=False)
    grouped = prepare_run_data(read_task(task), tmp_path / "run", seed=3)
    plain = prepare_run_data(read_task(bc_task), tmp_path / "plain", seed=3)
    ids = [set(pd.read_csv(d.views["search"]["holdout.csv"])["id"]) for d in (grouped, plain)]
    assert ids[0] == ids[1]
