"""``mle-star bench``: grade the agent and a baseline side by side, on make_tasks.py output and on
MLE-bench prepared competitions with the user's own grader command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mle_star.bench import beats, write_tables
from mle_star.cli import main

GRADER = '''import json, sys
import pandas as pd
from sklearn.metrics import roc_auc_score
task, sub = sys.argv[1], sys.argv[2]
answers = pd.read_csv(f"{task}/private/answers.csv")
pred = pd.read_csv(sub)
merged = answers.merge(pred, on="id", suffixes=("", "_p"))
ok = len(merged) == len(answers) == len(pred)
print(json.dumps({"valid_submission": ok, "score": roc_auc_score(merged["malignant"], merged["malignant_p"]) if ok else None}))
sys.exit(0 if ok else 1)
'''
TINY = ["--preset", "quick", "--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1",
        "--parallel-solutions", "1", "--ensemble-rounds", "0", "--task-time-limit", "60"]  # a limit is filled


def test_bench_grades_agent_and_baseline_side_by_side(bc_task, tmp_path, capsys):
    tasks = tmp_path / "tasks"
    shutil.copytree(bc_task, tasks / "breast-cancer")
    (tasks / "grade.py").write_text(GRADER)
    assert main(["bench", str(tasks), "--out", str(tmp_path / "out"), *TINY]) == 0
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert len(rows) == 1 and rows[0]["valid"] and rows[0]["score"] > 0.95
    assert rows[0]["null_score"] == 0.5 and rows[0]["baseline"] > 0.9 and rows[0]["executions"] >= 4
    assert "| breast-cancer | auc |" in capsys.readouterr().out


def test_bench_takes_mle_bench_competitions_and_a_grader_command(bc_task, tmp_path):
    from mle_star.examples import write_mlebench_layout

    data = tmp_path / "mle-bench-data"
    write_mlebench_layout("breast-cancer", data)
    grader = tmp_path / "grade_sample.py"  # stands in for `mlebench grade-sample {submission} {competition}`
    grader.write_text(GRADER.replace('f"{task}/private/answers.csv"', 'sys.argv[3]'))
    template = f"{sys.executable} {grader} {{competition}} {{submission}} {data}/{{competition}}/prepared/private/answers.csv"
    assert main(["bench", str(data), "--out", str(tmp_path / "out"), "--grader", template, "--no-baseline", *TINY]) == 0
    (row,) = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert row["task"] == "breast-cancer" and row["valid"] and row["score"] > 0.95 and "baseline" not in row


def test_bench_needs_tasks(tmp_path, capsys):
    assert main(["bench", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no tasks in" in capsys.readouterr().err


def test_beats_respects_the_direction_and_missing_scores():
    assert beats(0.9, 0.8, True) and not beats(0.8, 0.9, True)
    assert beats(0.1, 0.2, False) and not beats(None, 0.2, False) and not beats(0.1, None, False)


def test_the_summary_is_a_true_median_with_the_timing_figures(tmp_path):
    """Eight tasks have no middle one: the median normalised score averages the two middle ones."""
    rows = [{"task": f"t{i}", "metric": "auc", "higher_is_better": True, "score": 0.9, "valid": True,
             "null_score": 0.5, "final_validation": 0.9, "wall_time": 10.0, "model_calls": 1, "executions": 1,
             "autogluon": 0.9, "normalised": value, "parallelism": 0.8 + i / 100, "machine_busy": 0.9,
             "graph_overhead_share": 0.0} for i, value in enumerate([0.99, 1.0, 1.02, 1.03, 0.98, 1.04, 1.05, 0.97])]
    write_tables(rows, tmp_path, {}, ("autogluon",))
    text = (tmp_path / "results.md").read_text()
    assert "Median normalised score (s - null) / (best baseline - null): 1.010" in text  # (1.0 + 1.02) / 2, not 1.02
    assert "Median script CPU seconds / (wall x cores): 0.835 (range 0.800 to 0.870)" in text
    assert "| parallelism | machine busy |" in text
    assert "mle-star beats autogluon (same wall time) on 0 of 8 tasks." in text  # ties are no wins
    assert "The single-XGBoost baseline: not run or no score." in text  # --no-baseline is no loss


def test_a_task_without_a_baseline_score_is_not_counted_as_a_loss(tmp_path):
    rows = [{"task": f"t{i}", "metric": "rmse", "higher_is_better": False, "score": 1.0, "valid": True,
             "null_score": 5.0, "final_validation": 1.0, "wall_time": 10.0, "model_calls": 1, "executions": 1,
             "baseline": baseline, "autogluon": ag} for i, (baseline, ag) in enumerate([(2.0, 0.5), (None, None)])]
    write_tables(rows, tmp_path, {}, ("autogluon",))
    text = (tmp_path / "results.md").read_text()
    assert "mle-star beats the single-XGBoost baseline on 1 of 1 tasks (1 more without its score)." in text
    assert "mle-star beats autogluon (same wall time) on 0 of 1 tasks (1 more without its score)." in text


@pytest.mark.bench
def test_bench_on_generated_tasks(tmp_path):
    """The benchmark on make_tasks.py output: ``MLE_STAR_BENCH_TASKS=DIR pytest -m bench`` (hours)."""
    tasks = os.environ.get("MLE_STAR_BENCH_TASKS")
    if not tasks or not Path(tasks, "grade.py").exists():
        pytest.skip("set MLE_STAR_BENCH_TASKS to a make_tasks.py output folder")
    subprocess.run([sys.executable, "-m", "mle_star.cli", "bench", tasks, "--out", str(tmp_path / "out")], check=True)
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert rows and all(r["valid"] for r in rows)
