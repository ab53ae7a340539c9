"""Task folders: both layouts load; bad input exits 2 with a one-line reason, no traceback."""

from __future__ import annotations

import shutil

import pytest

from mle_star.cli import main
from mle_star.tools.task import TaskError, load_task


def test_mle_bench_layout_derives_target_id_metric(bc_task):
    task = load_task(bc_task)
    assert (task.id_column, task.target_columns, task.train_target) == ("id", ["malignant"], "malignant")
    assert (task.task_type, task.metric, task.lower_is_better) == ("binary", "auc", False)
    assert task.name == "breast-cancer"
    assert task.data_dir.endswith("public")


def test_flat_layout_and_overrides(bc_task, tmp_path):
    flat = tmp_path / "flat"
    shutil.copytree(bc_task / "public", flat)
    task = load_task(flat, metric="logloss")
    assert task.metric == "logloss" and task.lower_is_better is True
    assert load_task(flat, metric="logloss", lower_is_better=False).lower_is_better is False


def test_multiclass_from_probability_columns(tmp_path):
    from mle_star.examples import write_example

    task = load_task(write_example("wine", tmp_path / "wine"))
    assert task.task_type == "multiclass" and task.metric == "multi_logloss"
    assert task.target_columns == task.classes == ["cultivar_0", "cultivar_1", "cultivar_2"]


def _broken(bc_task, tmp_path, change):
    task = tmp_path / "task"
    shutil.copytree(bc_task / "public", task)
    change(task)
    return task


CASES = [
    ("missing folder", lambda t: shutil.rmtree(t), "task folder not found"),
    ("no description", lambda t: (t / "description.md").unlink(), "no task description"),
    ("no data", lambda t: [p.unlink() for p in t.glob("*.csv")], "no data files"),
    ("no sample submission", lambda t: (t / "sample_submission.csv").unlink(), "no sample_submission.csv"),
    ("malformed csv", lambda t: (t / "train.csv").write_bytes(b'id,a\n1,"unterminated\n2,3\n'), "cannot read train.csv"),
    ("unknown metric", lambda t: (t / "description.md").write_text("# A task\n\nPredict things well.\n"), "names no known metric"),
]


@pytest.mark.parametrize(("label", "change", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error(bc_task, tmp_path, capsys, label, change, message):
    task = _broken(bc_task, tmp_path, change)
    with pytest.raises(TaskError, match=message):
        load_task(task)
    assert main(["run", str(task), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_metric_flag_exits_2(bc_task, tmp_path, capsys):
    assert main(["run", str(bc_task), "--metric", "banana", "--run-dir", str(tmp_path / "r")]) == 2
    assert "unknown metric 'banana'" in capsys.readouterr().err


def test_bad_loop_setting_exits_2(bc_task, tmp_path, capsys):
    assert main(["run", str(bc_task), "--num-candidates", "0", "--run-dir", str(tmp_path / "r")]) == 2
    assert "num_candidates must be at least 1" in capsys.readouterr().err
