"""Token-level text, laid out as the text-normalization challenges are: zipped tables of
(sentence_id, token_id, before[, class, after]) and a sample whose ids join two columns."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.intake import read_task

WORDS = "the a cat dog sat on mat house river blue green runs walked quickly".split()
NUMBERS = {str(i): w for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}
SHORT = {"Dr.": "doctor", "St.": "street", "Mr.": "mister", "km": "kilometers"}


def _tokens(rng: np.random.Generator, n_sentences: int) -> pd.DataFrame:
    rows = []
    for s in range(n_sentences):
        for t in range(int(rng.integers(4, 10))):
            r = rng.random()
            if r < 0.6:
                word = str(rng.choice(WORDS))
                rows.append((s, t, "PLAIN", word, word))
            elif r < 0.8:
                k = str(rng.choice(list(NUMBERS)))
                rows.append((s, t, "CARDINAL", k, NUMBERS[k]))
            else:
                k = str(rng.choice(list(SHORT)))
                rows.append((s, t, "ABBR", k, SHORT[k]))
        rows.append((s, t + 1, "PUNCT", ".", "."))
    return pd.DataFrame(rows, columns=["sentence_id", "token_id", "class", "before", "after"])


def token_task(root: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    train, test = _tokens(rng, 300), _tokens(rng, 60)
    public = root / "public"
    public.mkdir(parents=True)

    def zipped(name: str, frame: pd.DataFrame) -> None:
        with zipfile.ZipFile(public / f"{name}.zip", "w") as z:
            z.writestr(name, frame.to_csv(index=False))

    ids = test["sentence_id"].astype(str) + "_" + test["token_id"].astype(str)
    zipped("en_train.csv", train)
    zipped("en_test_2.csv", test.drop(columns=["class", "after"]))
    zipped("en_sample_submission_2.csv", pd.DataFrame({"id": ids, "after": test["before"]}))
    (public / "description.md").write_text("# Text normalization\nWrite each token as it is spoken. Submissions "
                                           "are evaluated on accuracy: the share of tokens exactly right.\n")
    pd.DataFrame({"id": ids, "after": test["after"]}).to_csv(root / "answers.csv", index=False)
    return root


def test_a_sample_id_that_joins_two_columns_keys_the_tables_and_sentences_stay_whole(tmp_path):
    intake = read_task(token_task(tmp_path / "tokens"))
    assert intake.sample == "en_sample_submission_2.csv.zip"  # a prefixed, zipped sample is still the sample
    assert intake.composite_key == ("id", ("sentence_id", "token_id"), "_")
    assert intake.label_source is not None and intake.label_source["key"] == "id"
    assert intake.output["kind"] == "label" and intake.metric.name == "accuracy"
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    search = data.views["search"]
    train, held = pd.read_csv(search["en_train.csv"]), pd.read_csv(search["holdout.csv"])
    assert list(train.columns[:3]) == ["id", "sentence_id", "token_id"]
    assert (train["id"] == train["sentence_id"].astype(str) + "_" + train["token_id"].astype(str)).all()
    assert not set(train["sentence_id"]) & set(held["sentence_id"])
    assert "after" not in held.columns and "class" not in held.columns
    test = pd.read_csv(search["en_test_2.csv"])
    assert test.columns[0] == "id" and len(test) == intake.n_test


def test_a_run_on_token_rows_beats_copying_the_input(tmp_path):
    task = token_task(tmp_path / "tokens")
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "mle_star.cli", "run", str(task), "--run-dir", str(run),
                           "--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1",
                           "--parallel-solutions", "1", "--ensemble-rounds", "1", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = pd.read_csv(task / "answers.csv", dtype=str, keep_default_na=False)
    submitted = pd.read_csv(run / "final" / "submission.csv", dtype=str, keep_default_na=False)
    sample = pd.read_csv(task / "public" / "en_sample_submission_2.csv.zip", dtype=str, keep_default_na=False)

    def accuracy(frame: pd.DataFrame) -> float:
        merged = answers.merge(frame, on="id", suffixes=("", "_pred"))
        assert len(merged) == len(answers)
        return float((merged["after"] == merged["after_pred"]).mean())

    assert accuracy(submitted) > accuracy(sample) + 0.1
    assert json.loads((run / "data" / "manifest.json").read_text())["split_group"] == "sentence_id"
