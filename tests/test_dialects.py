"""Tables as people save them: every dialect is read as its writer meant it, and scripts see a
standard copy, so the agent's split, its scoring and a plain ``pd.read_csv`` agree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.dialect import Dialect, sniff
from mle_star.tools.task.intake import TaskError, read_task
from mle_star.tools.task.inventory import open_table, table_dialect

TABLES = ("train.csv", "test.csv", "sample_submission.csv")


def _copy(bc_task: Path, tmp_path: Path, name: str) -> Path:
    task = tmp_path / name
    shutil.copytree(bc_task, task)
    return task


def _rewrite(task: Path, write) -> None:
    """Rewrite each of the task's tables (and its answers, so grading stays consistent) with ``write``."""
    for name in TABLES:
        path = task / "public" / name
        write(pd.read_csv(path), path)


def _with_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A column of accented words, so that an encoding that is read wrong changes the data."""
    frame = frame.copy()
    if "mean_radius" in frame:
        frame["site"] = ["Zürich" if r > 14 else "Málaga" for r in frame["mean_radius"]]
    return frame


DIALECTS = {
    "bom": lambda f, p: p.write_bytes(b"\xef\xbb\xbf" + f.to_csv(index=False).encode()),
    "utf16": lambda f, p: p.write_bytes(_with_text(f).to_csv(index=False).encode("utf-16")),
    "cp1252-semicolon-decimal-comma": lambda f, p: p.write_bytes(
        _with_text(f).to_csv(index=False, sep=";", decimal=",").encode("cp1252")),
    "tab-in-csv": lambda f, p: f.to_csv(p, index=False, sep="\t"),
    "pipe": lambda f, p: f.to_csv(p, index=False, sep="|"),
    "crlf": lambda f, p: p.write_bytes(f.to_csv(index=False).replace("\n", "\r\n").encode()),
    "cr": lambda f, p: p.write_bytes(f.to_csv(index=False).replace("\n", "\r").encode()),
    "blank-trailing-lines": lambda f, p: p.write_text(f.to_csv(index=False) + "\n\n\n"),
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_gives_the_facts_and_split_of_the_plain_task(bc_task, tmp_path, dialect):
    plain = read_task(bc_task)
    task = _copy(bc_task, tmp_path, dialect)
    _rewrite(task, DIALECTS[dialect])
    intake = read_task(task)
    assert intake.output == plain.output
    assert intake.n_labelled == plain.n_labelled and intake.n_test == plain.n_test
    assert intake.classes == plain.classes and intake.metric.name == plain.metric.name
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    base = prepare_run_data(plain, tmp_path / "base", seed=0)
    for name in ("train.csv", "holdout.csv", "test.csv", "sample_submission.csv"):
        seen = pd.read_csv(data.views["search"][name])  # what a script's plain read_csv gets
        expected = pd.read_csv(base.views["search"][name])
        pd.testing.assert_frame_equal(seen[expected.columns], expected)
    answers = pd.read_csv(data.answers, dtype=str)
    assert answers.equals(pd.read_csv(base.answers, dtype=str))
    if dialect not in ("crlf", "blank-trailing-lines"):
        assert any("standard UTF-8 copy" in note for note in data.task["notes"])


def test_decimal_commas_and_grouped_thousands_become_numbers(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes("id;price;city\n1;1.234,5;Köln\n2;12,25;Paris\n3;7;Wien\n".encode("cp1252"))
    dialect = table_dialect(path)
    assert dialect == Dialect(encoding="cp1252", delimiter=";", decimal=",", thousands=".")
    frame = open_table(path, nrows=None)
    assert frame["price"].tolist() == [1234.5, 12.25, 7.0]
    assert frame["city"].tolist() == ["Köln", "Paris", "Wien"]


def test_commas_are_not_decimals_where_the_file_writes_decimal_points():
    text = b"id;a;b\n1;0.5;3,4\n2;1.5;5,6\n"
    assert sniff(text, "x.csv").decimal == "."


def test_a_quoted_newline_and_a_delimiter_inside_quotes_do_not_fool_the_sniffer():
    text = b'id,text,y\n1,"a; b; c\nd",0\n2,"e; f",1\n'
    assert sniff(text, "x.csv").delimiter == ","


def test_parquet_and_excel_tables_are_shown_to_scripts_as_csv(bc_task, tmp_path):
    pytest.importorskip("pyarrow")
    pytest.importorskip("openpyxl")
    task = _copy(bc_task, tmp_path, "formats")
    public = task / "public"
    pd.read_csv(public / "train.csv").to_parquet(public / "train.parquet", index=False)
    pd.read_csv(public / "test.csv").to_excel(public / "test.xlsx", index=False)
    (public / "train.csv").unlink()
    (public / "test.csv").unlink()
    intake = read_task(task)
    assert intake.label_source is not None and intake.label_source["file"] == "train.csv"
    assert intake.n_labelled == read_task(bc_task).n_labelled
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    assert {"train.csv", "test.csv"} <= set(data.views["search"])
    assert not {"train.parquet", "test.xlsx"} & set(data.views["search"])  # one name per table
    assert data.task["test_file"] == "test.csv"
    assert len(pd.read_csv(data.views["search"]["test.csv"])) == intake.n_test


@pytest.mark.parametrize("position", [1, 2])
def test_the_id_column_is_found_in_any_position_of_the_sample(bc_task, tmp_path, position):
    task = _copy(bc_task, tmp_path, f"id-at-{position}")
    sample = pd.read_csv(task / "public" / "sample_submission.csv")
    sample["extra"] = 0.5 if position == 2 else None
    columns = ["malignant", "id", "extra"] if position == 1 else ["malignant", "extra", "id"]
    if position == 1:
        sample = sample.drop(columns=["extra"])
        columns = ["malignant", "id"]
    sample[columns].to_csv(task / "public" / "sample_submission.csv", index=False)
    if position == 2:  # a second prediction column must also be in train: give it one
        train = pd.read_csv(task / "public" / "train.csv")
        train["extra"] = train["malignant"]
        train.to_csv(task / "public" / "train.csv", index=False)
    intake = read_task(task)
    assert intake.output["id_column"] == "id"
    assert intake.output["order"] == columns
    assert "id" not in intake.output["columns"]


def test_a_sample_whose_columns_match_no_test_column_names_both_files(bc_task, tmp_path):
    task = _copy(bc_task, tmp_path, "no-id")
    sample = pd.read_csv(task / "public" / "sample_submission.csv")
    sample.rename(columns={"id": "row"}).assign(row=lambda f: f["row"] + 100_000).to_csv(
        task / "public" / "sample_submission.csv", index=False)
    with pytest.raises(TaskError, match=r"no column of sample_submission.csv .* matches a column of test.csv"):
        read_task(task)


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the file is empty"),
    (b"id,a,malignant\n" + b"".join(b"%d,%d,%d\n" % (i, i, i % 2) for i in range(20)) + b"99,3,1,9,9\n",
     "line 22 has 5 fields where the rows before it have 3"),
])
def test_an_unreadable_train_table_is_named_in_words(bc_task, tmp_path, content, reason):
    task = _copy(bc_task, tmp_path, "broken")
    (task / "public" / "train.csv").write_bytes(content)
    with pytest.raises(TaskError) as caught:
        read_task(task)
    message = str(caught.value)
    assert "train.csv" in message and reason in message
    assert "Error" not in message  # no library exception names


def test_random_bytes_under_a_table_name_are_refused_and_latin1_text_is_not(bc_task, tmp_path):
    import random

    task = _copy(bc_task, tmp_path, "garbage")
    (task / "public" / "train.csv").write_bytes(random.Random(0).randbytes(8192))
    with pytest.raises(TaskError, match=r"cannot read train.csv: binary data"):
        read_task(task)
    assert sniff("id;Größe;Städte\n1;2,5;Zürich\n".encode("cp1252"), "t.csv").encoding == "cp1252"


def test_uci_question_marks_are_missing_values_in_the_scripts_copy(bc_task, tmp_path):
    task = _copy(bc_task, tmp_path, "uci")
    train = pd.read_csv(task / "public" / "train.csv").astype(object)
    train.loc[[3, 10, 40], "mean_texture"] = "?"
    train.to_csv(task / "public" / "train.csv", index=False)
    assert sniff((task / "public" / "train.csv").read_bytes(), "train.csv").missing == ("?",)
    data = prepare_run_data(read_task(task), tmp_path / "run", seed=0)
    shown = pd.read_csv(data.views["full"]["train.csv"])
    assert shown["mean_texture"].dtype == float and shown["mean_texture"].isna().sum() == 3
    assert any("'?' for a missing value" in note for note in data.task["notes"])


def test_a_train_table_without_ids_gets_numbered_rows_that_the_held_out_rows_keep(bc_task, tmp_path):
    task = _copy(bc_task, tmp_path, "no-train-id")
    train = pd.read_csv(task / "public" / "train.csv")
    train.drop(columns="id").to_csv(task / "public" / "train.csv", index=False)
    intake = read_task(task)
    assert intake.row_key == "id" and intake.label_source is not None and intake.label_source["key"] == "id"
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    shown = pd.read_csv(data.views["full"]["train.csv"])
    assert list(shown["id"]) == list(range(len(train))) and shown.columns[0] == "id"
    held = pd.read_csv(data.views["search"][data.task["holdout_file"]])
    answers = pd.read_csv(data.answers)
    assert "id" in held and set(held["id"]) == set(answers["id"])
    # the held-out rows are the rows of that number, so the answers are their true labels
    by_row = train["malignant"].to_numpy()
    assert all(by_row[i] == label for i, label in zip(answers["id"], answers["malignant"], strict=True))


def test_a_few_repeated_test_ids_are_refused_but_long_form_test_rows_are_not(bc_task, tmp_path):
    task = _copy(bc_task, tmp_path, "dup")
    test = pd.read_csv(task / "public" / "test.csv")
    pd.concat([test, test.head(3)]).to_csv(task / "public" / "test.csv", index=False)
    with pytest.raises(TaskError, match=r"test.csv: 3 ids appear more than once"):
        read_task(task)
    pd.concat([test, test]).to_csv(task / "public" / "test.csv", index=False)
    assert any("several rows per id" in note for note in read_task(task).notes)


def test_a_sample_saved_as_tsv_defines_the_output(bc_task, tmp_path):
    task = _copy(bc_task, tmp_path, "tsv-sample")
    sample = task / "public" / "sample_submission.csv"
    pd.read_csv(sample).to_csv(sample.with_suffix(".tsv"), sep="\t", index=False)
    sample.unlink()
    assert read_task(task).sample == "sample_submission.tsv"


@pytest.mark.parametrize(("gone", "message"), [
    ("test.csv", r"no test table in .*: nothing holds the ids of sample_submission.csv"),
    ("train.csv", r"no training data in .*: only sample_submission.csv, test.csv"),
])
def test_a_task_without_test_rows_or_training_data_is_refused(bc_task, tmp_path, gone, message):
    task = _copy(bc_task, tmp_path, "gone")
    (task / "public" / gone).unlink()
    with pytest.raises(TaskError, match=message):
        read_task(task)
