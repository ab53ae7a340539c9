"""Task folders: every layout loads into facts; what would doom a run exits 2 with one line
before any script runs; the agent's validation split never lets labels reach the scripts."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest

from mle_star.cli import main
from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.intake import TaskError, read_task


def test_mle_bench_layout_derives_output_metric_and_labels(bc_task):
    task = read_task(bc_task)
    assert task.output["id_column"] == "id" and task.output["columns"] == ["malignant"]
    assert task.output["kind"] == "probability" and task.output["positive_class"] == "1"
    assert task.label_source["file"] == "train.csv" and task.label_source["label_columns"] == ["malignant"]
    assert (task.task_type, task.metric.name, task.metric.higher_is_better) == ("binary", "auc", True)
    assert (task.name, task.modality, task.scoring) == ("breast-cancer", "tabular", "agent")
    assert task.data_dir.endswith("public")


def test_prepared_competition_folder_is_taken_as_it_is(bc_task, tmp_path):
    competition = tmp_path / "my-competition"
    shutil.copytree(bc_task / "public", competition / "prepared" / "public")
    shutil.copytree(bc_task / "private", competition / "prepared" / "private")
    task = read_task(competition)
    assert task.name == "my-competition" and task.data_dir.endswith("prepared/public")
    assert read_task(competition / "prepared" / "public").name == "my-competition"


def test_flat_layout_and_overrides(bc_task, tmp_path):
    flat = tmp_path / "flat"
    shutil.copytree(bc_task / "public", flat)
    task = read_task(flat, metric="logloss")
    assert task.metric.name == "logloss" and task.metric.higher_is_better is False
    assert read_task(flat, metric="logloss", lower_is_better=False).metric.higher_is_better is True


def test_class_probability_columns(tmp_path):
    from mle_star.examples import write_example

    task = read_task(write_example("wine", tmp_path / "wine"))
    assert task.task_type == "multiclass" and task.metric.name == "multi_logloss"
    assert task.output["kind"] == "class_probabilities" and task.output["label_columns"] == ["cultivar"]
    assert task.classes == task.output["columns"] == ["cultivar_0", "cultivar_1", "cultivar_2"]


def test_the_split_hides_held_out_labels_from_the_scripts(bc_task, tmp_path):
    data = prepare_run_data(read_task(bc_task), tmp_path / "run", seed=7)
    search, full = data.views["search"], data.views["full"]
    train = pd.read_csv(search["train.csv"])
    held = pd.read_csv(search["holdout.csv"])
    answers = pd.read_csv(data.answers)
    original = pd.read_csv(bc_task / "public" / "train.csv")
    assert "malignant" not in held.columns and list(held.columns) == [c for c in original.columns if c != "malignant"]
    assert set(held["id"]) == set(answers["id"]) and not set(held["id"]) & set(train["id"])
    assert len(train) + len(held) == len(original) and abs(len(held) - 0.2 * len(original)) <= 2
    assert not set(original["id"].head(5)) & set(held["id"])  # rows shown in prompts are never held out
    # stratified: the held-out share of positives matches the whole
    assert abs(answers["malignant"].mean() - original["malignant"].mean()) < 0.02
    merged = answers.merge(original[["id", "malignant"]], on="id", suffixes=("", "_true"))
    assert (merged["malignant"] == merged["malignant_true"]).all()
    assert full["train.csv"] == str(bc_task / "public" / "train.csv") and "holdout.csv" not in full
    assert not str(data.answers).startswith(str(bc_task))  # answers live in the run, outside every view
    assert all(not p.startswith(str(tmp_path / "run" / "private")) for v in data.views.values() for p in v.values())
    # the same seed gives the same split, and a resumed run reads it back
    again = prepare_run_data(read_task(bc_task), tmp_path / "run", seed=7)
    assert again.views == data.views and pd.read_csv(again.answers).equals(answers)
    other = prepare_run_data(read_task(bc_task), tmp_path / "other", seed=8)
    assert set(pd.read_csv(other.answers)["id"]) != set(answers["id"])


def _broken(bc_task, tmp_path, change):
    task = tmp_path / "task"
    shutil.copytree(bc_task / "public", task)
    change(task)
    return task


def _set_train(task, edit):
    frame = pd.read_csv(task / "train.csv")
    edit(frame).to_csv(task / "train.csv", index=False)


CASES = [
    ("missing folder", lambda t: shutil.rmtree(t), "task folder not found"),
    ("no description", lambda t: (t / "description.md").unlink(), "no task description"),
    ("no sample submission", lambda t: (t / "sample_submission.csv").unlink(), "no sample_submission.csv"),
    ("malformed csv", lambda t: (t / "train.csv").write_bytes(b'id,malignant\n1,"unterminated\n2,3\n'),
     "cannot read train.csv"),
    ("one class", lambda t: _set_train(t, lambda f: f.assign(malignant=1)), "single class"),
    ("every label missing", lambda t: _set_train(t, lambda f: f.assign(malignant=float("nan"))),
     "every row's label"),
    ("too few rows", lambda t: _set_train(t, lambda f: f.head(6)), "only 6 labelled rows"),
    ("sample ids differ", lambda t: pd.read_csv(t / "sample_submission.csv").assign(id=lambda f: f["id"] + 10_000)
     .to_csv(t / "sample_submission.csv", index=False), "differ from those of test.csv"),
    ("escaping symlink", lambda t: os.symlink("/etc/passwd", t / "extra.csv"), "outside"),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(("label", "change", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error_before_any_script(bc_task, tmp_path, capsys, label, change, message):
    task = _broken(bc_task, tmp_path, change)
    with pytest.raises(TaskError, match=message):
        read_task(task)
    assert main(["run", str(task), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()  # nothing was created


def test_missing_labels_are_dropped_with_a_note(bc_task, tmp_path):
    task = _broken(bc_task, tmp_path, lambda t: _set_train(t, lambda f: f.assign(
        malignant=f["malignant"].where(f.index % 10 != 0))))
    intake = read_task(task)
    assert intake.dropped_labels == 46 and "46 labelled rows of train.csv have no label" in intake.notes[0]
    data = prepare_run_data(intake, tmp_path / "run", seed=1)
    train = pd.read_csv(data.views["search"]["train.csv"])
    assert train["malignant"].notna().all() and len(train) + data.task["n_holdout"] == 456 - 46
    assert pd.read_csv(data.answers)["malignant"].notna().all()


def test_an_unknown_metric_is_not_an_error(bc_task, tmp_path):
    task = _broken(bc_task, tmp_path, lambda t: (t / "description.md").write_text(
        "# Tumours\n\n## Evaluation\n\nSubmissions are scored with the Brier-adjusted hinge distance of our own "
        "design; lower is better.\n"))
    intake = read_task(task)
    assert not intake.metric.implemented and intake.metric.higher_is_better is False
    assert intake.scoring == "self_reported" and any("self-reported" in n for n in intake.notes)
    data = prepare_run_data(intake, tmp_path / "run", seed=1)
    assert data.answers == "" and "holdout.csv" not in data.views["search"]


@pytest.mark.bad_input
def test_unknown_metric_flag_exits_2(bc_task, tmp_path, capsys):
    assert main(["run", str(bc_task), "--metric", "banana", "--run-dir", str(tmp_path / "r")]) == 2
    assert "unknown metric 'banana'" in capsys.readouterr().err


@pytest.mark.bad_input
@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--num-candidates", "0", "num_candidates must be at least 1"),
    ("--script-timeout", "nan", "script_timeout must be a finite number"),
    ("--time-limit", "inf", "time_limit must be a finite number"),
    ("--time-limit", "-5", "time_limit must be at least 1"),
])
def test_bad_settings_exit_2(bc_task, tmp_path, capsys, flag, value, message):
    assert main(["run", str(bc_task), flag, value, "--run-dir", str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "r").exists()


@pytest.mark.bad_input
def test_an_unknown_sandbox_mode_is_refused_by_the_parser(bc_task, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(bc_task), "--sandbox", "chroot", "--run-dir", str(tmp_path / "r")])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.bad_input
def test_a_run_dir_that_is_not_a_run_is_refused_and_untouched(bc_task, tmp_path, capsys):
    precious = tmp_path / "my-notes"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    assert main(["run", str(bc_task), "--run-dir", str(precious)]) == 2
    assert "is not an mle-star run" in capsys.readouterr().err
    assert sorted(p.name for p in precious.iterdir()) == ["thesis.tex"]


@pytest.mark.bad_input
def test_resume_refuses_a_changed_task_folder(bc_task, tmp_path, capsys):
    task = _broken(bc_task, tmp_path, lambda t: None)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    fingerprint = read_task(task).fingerprint
    (run_dir / "cli.json").write_text(json.dumps({"inputs": {"task_dir": str(task), "run_dir": str(run_dir)},
                                                  "context": {}, "task_fingerprint": fingerprint}))
    (task / "train.csv").write_text((task / "train.csv").read_text() + "")  # same bytes, new mtime
    os.utime(task / "train.csv", (1, 1))
    assert main(["resume", str(run_dir)]) == 2
    assert "changed since this run started" in capsys.readouterr().err


SHAPES = [  # example, output kind, metric, task type, modality
    ("digits-zip", "label", "accuracy", "multiclass", "image"),
    ("digits-folder", "class_probabilities", "multi_logloss", "multiclass", "image"),
    ("pizza-json", "probability", "auc", "binary", "json"),
    ("zipped-csv", "targets", "rmse", "regression", "tabular"),
    ("two-targets", "targets", "mean_column_rmsle", "multi_regression", "tabular"),
    ("multilabel", "multilabel", "mean_column_auc", "multilabel", "tabular"),
    ("ordinal-qwk", "label", "qwk", "ordinal", "tabular"),
    ("audio-wav", "probability", "auc", "binary", "audio"),
    ("map3", "ranked_labels", "map@3", "ranking", "tabular"),
]


@pytest.mark.parametrize(("name", "kind", "metric", "task_type", "modality"), SHAPES, ids=[s[0] for s in SHAPES])
def test_every_task_shape_becomes_facts_and_a_split(tmp_path, name, kind, metric, task_type, modality):
    from mle_star.examples import write_example

    if name == "audio-wav":
        pytest.importorskip("pretty_midi")
    intake = read_task(write_example(name, tmp_path / name))
    assert (intake.output["kind"], intake.metric.name, intake.task_type, intake.modality) == (kind, metric, task_type,
                                                                                              modality)
    assert intake.scoring == "agent" and intake.label_source is not None
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    search = data.views["search"]
    source = intake.label_source
    assert data.task["holdout_file"] in search and source["file"] in search
    answers = pd.read_csv(data.answers)
    assert len(answers) == data.task["n_holdout"] > 0
    # no file the scripts see holds a held-out row's label: the split file lacks those keys,
    # the held-out file lacks the label columns, and a zipped original is not shown at all
    if source["format"] == "csv":
        train = pd.read_csv(search[source["file"]], dtype=str)
        held = pd.read_csv(search[data.task["holdout_file"]], dtype=str)
    else:
        train = pd.json_normalize(json.loads(open(search[source["file"]]).read()), max_level=1)
        held = pd.json_normalize(json.loads(open(search[data.task["holdout_file"]]).read()), max_level=1)
    assert not set(train[source["key"]]) & set(held[source["key"]])
    assert not set(source["label_columns"]) & set(held.columns)
    assert source["origin"] == source["file"] or source["origin"] not in search
    if intake.test_items:
        folder = search[intake.test_items["dir"]]
        assert len(os.listdir(folder)) == intake.test_items["n_files"] == intake.n_test


@pytest.mark.bad_input
def test_an_example_never_overwrites_a_folder(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert main(["example", "breast-cancer", str(tmp_path / "mine")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_a_metric_known_only_from_prose_is_read_by_the_model(bc_task, tmp_path):
    """mle-star does not implement the metric: the model names it and its direction (the
    offline engineer answers with the rule-based reading of the same words)."""
    from conftest import runtime, scripted

    from mle_star.nodes.prepare import prepare

    task = _broken(bc_task, tmp_path, lambda t: (t / "description.md").write_text(
        "# Tumours\n\n## Evaluation\n\nSubmissions are scored with the zebra distance between predicted and "
        "observed classes (a score of zero is perfect).\n"))
    reply = '```json\n{"metric": "zebra distance", "higher_is_better": false}\n```'
    out = prepare({"task_dir": str(task), "run_dir": str(tmp_path / "run")}, runtime(llm=scripted(reply)))
    read = out["run"]["task"]
    assert read["metric_title"] == "zebra distance" and read["lower_is_better"] is True
    assert read["scoring"] == "self_reported" and out["counts"]["model_calls"] == 1
    offline = prepare({"task_dir": str(task), "run_dir": str(tmp_path / "run2")}, runtime(model="offline"))
    assert offline["run"]["task"]["lower_is_better"] is True  # "zero is perfect": lower is better
